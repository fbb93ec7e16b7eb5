"""The SIAO pages through the test client: upload → report → fix → validate, perimeter,
OFII-only warnings, query counts."""

import io

import openpyxl
import pytest
from django.urls import reverse

from exchanges.models import ListRow, ListState, MonthlyList
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.exchanges import samples
from tests.factories import make_list
from tests.helpers import assert_constant_queries, login


def post_file(client, data, name="liste.csv", code="69", period="2026-11"):
    return client.post(reverse("exchanges:upload", args=[code]),
                       {"period": period, "file": _named(data, name)})


def _named(data, name):
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.fixture
def siao(client, demo):
    return login(client, demo["siao.69"])


def test_upload_report_fix_validate(siao, demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(siao, samples.csv_bytes(samples.GOOD + samples.BAD))
    ml = MonthlyList.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchanges:processing", args=[ml.pk])
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD, object_id=str(ml.pk)).exists()
    status = siao.get(reverse("exchanges:status", args=[ml.pk])).json()
    assert status["done"] and status["progress"] == 100 and status["next"] == reverse("exchanges:detail", args=[ml.pk])
    page = siao.get(reverse("exchanges:detail", args=[ml.pk]) + "?type=errors").content.decode()
    assert "date impossible « 31/02/1990 »" in page and "<td>5</td><td>MARTIN Paul</td><td>Date de naissance</td>" in page
    assert "<td>6</td><td>— Sans</td><td>Sexe</td>" in page
    assert 'disabled aria-describedby="validate-help"' in page
    # Validation refused while errors remain.
    response = siao.post(reverse("exchanges:validate", args=[ml.pk]), follow=True)
    assert "ligne(s) en erreur" in response.content.decode()
    assert MonthlyList.objects.get(pk=ml.pk).state == ListState.DRAFT
    # Fix row 5 in the browser, delete row 6's problems by fixing it too.
    row5 = ml.rows.get(line_number=5)
    form = siao.get(reverse("exchanges:row_edit", args=[ml.pk, row5.pk])).content.decode()
    assert "Valeur lue dans le fichier : « 31/02/1990 »" in form
    data = {"last_name": "MARTIN", "first_name": "Paul", "birth_date": "28/02/1990", "sex": "M", "status": "DA",
            "shelter_address": "5 rue Sala, 69002 Lyon", "entry_date": "01/11/2026"}
    response = siao.post(reverse("exchanges:row_edit", args=[ml.pk, row5.pk]), data)
    assert response.status_code == 302
    row6 = ml.rows.get(line_number=6)
    bad = dict(data, last_name="", status="DA")
    response = siao.post(reverse("exchanges:row_edit", args=[ml.pk, row6.pk]), bad)
    assert response["Location"] == reverse("exchanges:row_edit", args=[ml.pk, row6.pk])  # still an error
    response = siao.post(reverse("exchanges:row_edit", args=[ml.pk, row6.pk]), {"remove": "1"})
    assert response.status_code == 302 and not ml.rows.filter(line_number=6).exists()
    ml.refresh_from_db()
    assert ml.error_count == 0 and ml.row_count == 4
    response = siao.post(reverse("exchanges:validate", args=[ml.pk]), follow=True)
    assert "Liste validée" in response.content.decode()
    ml.refresh_from_db()
    assert ml.state == ListState.VALIDATED and ml.validated_by == demo["siao.69"]
    assert AuditEvent.objects.filter(action=AuditAction.LIST_VALIDATED, object_id=str(ml.pk)).exists()
    assert AuditEvent.objects.filter(action=AuditAction.LIST_CORRECTED, object_id=str(ml.pk)).count() == 3
    my = siao.get(reverse("exchanges:my_lists")).content.decode()
    assert "Validée" in my and "Validée et transmise à l’OFII" in my and "il reste" not in my


def test_refused_file_shows_form_error(siao):
    response = post_file(siao, b"\xd0\xcf\x11\xe0" + b"\x01" * 100, name="liste.xlsx")
    assert response.status_code == 200 and "Excel 97-2003" in response.content.decode()
    assert not MonthlyList.objects.exists()
    # A macro workbook renamed .xlsx is refused by content.
    xlsx = samples.xlsx_bytes(samples.GOOD)
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in src.namelist():
            z.writestr(n, src.read(n))
        z.writestr("xl/vbaProject.bin", b"x")
    response = post_file(siao, out.getvalue(), name="liste.xlsx")
    assert "macros" in response.content.decode() and not MonthlyList.objects.exists()


def test_mapping_step(siao, django_capture_on_commit_callbacks):
    header = list(samples.HEADER_FR)
    header[6] = "Arrivé(e) au CHU le"
    with django_capture_on_commit_callbacks(execute=True):
        post_file(siao, samples.csv_bytes(samples.GOOD, header))
    ml = MonthlyList.objects.get()
    response = siao.get(reverse("exchanges:processing", args=[ml.pk]))
    assert response["Location"] == reverse("exchanges:mapping", args=[ml.pk])
    page = siao.get(response["Location"]).content.decode()
    assert "Colonne contenant : Date d’entrée" in page and "Arrivé(e) au CHU le" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = siao.post(reverse("exchanges:mapping", args=[ml.pk]), {"entry_date": "6"})
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT and ml.row_count == 3 and ml.error_count == 0


def test_perimeter_siao_75_cannot_see_upload_or_validate_69(client, demo, django_capture_on_commit_callbacks):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    login(client, demo["siao.75"])
    assert client.get(reverse("exchanges:detail", args=[ml.pk])).status_code == 404
    assert client.get(reverse("exchanges:rows", args=[ml.pk])).status_code == 404
    assert client.post(reverse("exchanges:validate", args=[ml.pk])).status_code == 404
    assert client.post(reverse("exchanges:upload", args=["69"]),
                       {"period": "2026-11", "file": _named(samples.csv_bytes(samples.GOOD), "l.csv")}).status_code == 404
    assert MonthlyList.objects.get(pk=ml.pk).state == ListState.DRAFT and MonthlyList.objects.count() == 1
    # detail, rows, validate (the list) and upload (the département): four refusals, all on 69.
    denied = AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED, actor=demo["siao.75"])
    assert sorted(denied.values_list("details__path", flat=True)) == sorted([
        reverse("exchanges:detail", args=[ml.pk]), reverse("exchanges:rows", args=[ml.pk]),
        reverse("exchanges:validate", args=[ml.pk]), reverse("exchanges:upload", args=["69"])])
    assert set(denied.values_list("departement", flat=True)) == {"69"}
    page = client.get(reverse("exchanges:my_lists")).content.decode()
    assert 'id="departement-75"' in page and 'id="departement-69"' not in page


@pytest.mark.parametrize("account", ["dt.lyon", "prefecture.69", "siege", "admin"])
def test_non_siao_cannot_upload(client, demo, account):
    login(client, demo[account])
    response = client.post(reverse("exchanges:upload", args=["69"]),
                           {"period": "2026-11", "file": _named(samples.csv_bytes(samples.GOOD), "l.csv")})
    assert response.status_code == 403 and not MonthlyList.objects.exists()


def test_ofii_warnings_never_shown_to_siao(siao, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=1)
    ListRow.objects.filter(monthly_list=ml).update(
        ofii_warnings=[{"kind": "other_departement", "column": "", "message": "SECRET-OFII autre département"}])
    for url in (reverse("exchanges:detail", args=[ml.pk]), reverse("exchanges:rows", args=[ml.pk]),
                reverse("exchanges:row_edit", args=[ml.pk, ml.rows.get().pk])):
        assert "SECRET-OFII" not in siao.get(url).content.decode()


def test_template_download_has_drop_downs(siao):
    response = siao.get(reverse("exchanges:template"))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb["Liste"]
    assert [c.value for c in ws[1]][:5] == ["Nom", "Prénom", "Date de naissance", "Sexe", "Statut"]
    formulas = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert formulas["D2:D5001"] == '"F,M"' and "Protection subsidiaire" in formulas["E2:E5001"]
    # The template filled in is accepted as is.
    from exchanges.services.parsing import match_headers
    assert match_headers([c.value for c in ws[1]])[1] == []


def test_query_counts_do_not_grow(siao, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=3)
    ListRow.objects.filter(monthly_list=ml).update(errors=[{"column": "Nom", "field": "last_name", "message": "x"}])
    counter = {"n": 100}

    def grow():
        extra = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=5,
                          start=counter["n"])
        ListRow.objects.filter(monthly_list=extra).update(monthly_list=ml, errors=[{"column": "Nom", "message": "y"}])
        extra.delete()
        counter["n"] += 10
        make_list("69", f"2026-0{counter['n'] // 100 % 9 + 1}", uploaded_by=demo["siao.69"], rows=1,
                  state=ListState.SUPERSEDED, version=counter["n"])

    for url in (reverse("exchanges:detail", args=[ml.pk]), reverse("exchanges:rows", args=[ml.pk]),
                reverse("exchanges:my_lists")):
        assert_constant_queries(lambda u=url: siao.get(u), grow)
