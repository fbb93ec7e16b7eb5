"""Issue 13 point 4: in the row-edit form each message is tied to its field (aria-describedby to
ids that exist, aria-invalid on fields in error)."""

import re

from django.urls import reverse

from exchanges.models import ListState
from tests.factories import make_list
from tests.helpers import login


def _inputs(page):
    return {m.group(1): m.group(0) for m in re.finditer(r'<(?:input|select)[^>]*\bid="(id_[a-z_]+)"[^>]*>', page)}


def test_errors_are_tied_to_their_field(client, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=1)
    row = ml.rows.get()
    row.errors = [{"column": "Date de naissance", "field": "birth_date", "message": "date impossible « 31/02/1990 »"}]
    row.warnings = [{"column": "NOM", "field": "last_name", "message": "même personne qu’à la ligne 7"}]
    row.raw = {"birth_date": "31/02/1990"}
    row.save()
    page = login(client, demo["siao.69"]).get(reverse("exchanges:row_edit", args=[ml.pk, row.pk])).content.decode()
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    inputs = _inputs(page)
    for name, tag in inputs.items():
        for ref in re.findall(r'aria-describedby="([^"]+)"', tag):
            assert set(ref.split()) <= ids, f"{name}: aria-describedby vers un id absent ({ref})"
    birth = inputs["id_birth_date"]
    assert 'aria-invalid="true"' in birth
    described = re.search(r'aria-describedby="([^"]+)"', birth).group(1).split()
    messages = {i: re.search(rf'id="{i}">([^<]*)<', page).group(1) for i in described}
    assert "date impossible « 31/02/1990 »" in messages.values()
    assert "Valeur lue dans le fichier : « 31/02/1990 »" in messages.values()
    last_name = inputs["id_last_name"]
    assert "aria-invalid" not in last_name  # a warning is not an error
    ref = re.search(r'aria-describedby="([^"]+)"', last_name).group(1)
    assert re.search(rf'id="{ref}">même personne qu’à la ligne 7<', page)
    assert "aria-invalid" not in inputs["id_first_name"] and "aria-describedby" not in inputs["id_first_name"]


def test_form_errors_after_post_are_tied_too(client, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=1)
    row = ml.rows.get()
    url = reverse("exchanges:row_edit", args=[ml.pk, row.pk])
    data = {"last_name": "X" * 200, "first_name": "A", "birth_date": "01/01/1990", "sex": "M", "status": "DA",
            "shelter_address": "1 rue A", "entry_date": "01/10/2026"}
    page = login(client, demo["siao.69"]).post(url, data).content.decode()
    tag = _inputs(page)["id_last_name"]
    assert 'aria-invalid="true"' in tag
    ref = re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    assert all(f'id="{i}"' in page for i in ref.split())
