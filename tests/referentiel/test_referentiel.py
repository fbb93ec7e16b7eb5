import csv
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from referentiel import annex1
from referentiel.models import Departement, DirectionTerritoriale, Organisation

pytestmark = pytest.mark.django_db

ANNEX_SEED = Path(os.environ.get(
    "INSTRUCTION_TEXT", Path(settings.BASE_DIR).parent / "shared" / "seeds" / "000_234791748a08fb7b.txt"))


def test_101_departements_with_insee_codes():
    codes = set(Departement.objects.values_list("code", flat=True))
    expected = {f"{i:02d}" for i in range(1, 96) if i != 20} | {"2A", "2B", "971", "972", "973", "974", "976"}
    assert codes == expected
    assert len(codes) == 101
    assert "20" not in codes


def test_insee_ordering():
    codes = list(Departement.objects.values_list("code", flat=True))
    assert codes[:3] == ["01", "02", "03"]
    assert codes[18:22] == ["19", "2A", "2B", "21"]
    assert codes[-5:] == ["971", "972", "973", "974", "976"]


def test_every_annex_row_is_mapped_to_the_dt_it_names():
    with open(annex1.FIXTURE, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    deps = {d.code: d for d in Departement.objects.select_related("dt")}
    for row in rows:
        written = row["dt_annexe_1"].replace("DT Strasgourg", "DT Strasbourg")
        dep = deps[row["code"]]
        assert (dep.dt.name if dep.dt else "") == written, row["code"]


@pytest.mark.parametrize(
    "code,dt",
    [("69", "DT Lyon"), ("01", "DT Lyon"), ("07", "DT Lyon"), ("42", "DT Lyon"), ("75", "DT Paris"),
     ("91", "DT Créteil"), ("94", "DT Créteil"), ("78", "DT Montrouge"), ("92", "DT Montrouge"),
     ("67", "DT Strasbourg"), ("68", "DT Strasbourg"), ("03", "DT Clermont-Ferrand"), ("90", "DT Besançon"),
     ("83", "DT Nice"), ("85", "DT Nantes")],
)
def test_sample_of_annex_mapping(code, dt):
    assert Departement.objects.get(code=code).dt.name == dt


def test_annex_typo_is_fixed():
    assert not DirectionTerritoriale.objects.filter(name__icontains="Strasgourg").exists()
    assert DirectionTerritoriale.objects.get(name="DT Strasbourg").departements.count() == 2


def test_fixture_matches_the_instruction_text():
    """Each metropolitan row of the fixture appears in Annex 1 of the seed text, with its DT."""
    try:
        text = open(ANNEX_SEED, encoding="utf-8").read()
    except FileNotFoundError:
        # The instruction's text is not part of the repository (it lives in shared/ beside it).
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI : texte source absent ({ANNEX_SEED}), la comparaison avec l’annexe 1 est obligatoire.")
        pytest.skip(f"TEXTE SOURCE ABSENT ({ANNEX_SEED}) : comparaison avec le texte de l’annexe 1 non faite")
    annex = text[text.index("AURA Auvergne DT Clermont"):]
    for row in csv.DictReader(open(annex1.FIXTURE, encoding="utf-8"), delimiter=";"):
        if row["dt_annexe_1"]:
            code = row["code"].lstrip("0")
            assert f"{row['dt_annexe_1']} {code} " in annex, row


def test_departements_without_dt_are_corsica_and_overseas():
    assert set(Departement.objects.without_dt().values_list("code", flat=True)) == {
        "2A", "2B", "971", "972", "973", "974", "976"}


def test_regions_new_and_former_names():
    rhone = Departement.objects.select_related("region", "former_region").get(code="69")
    assert rhone.region.name == "Auvergne-Rhône-Alpes"
    assert rhone.former_region.name == "Rhône-Alpes"
    assert rhone.prefecture_town == "Lyon"


def test_organisations():
    assert Organisation.objects.filter(kind="SIAO").count() == 101
    assert Organisation.objects.filter(kind="PREFECTURE").count() == 101
    assert Organisation.objects.filter(kind="DT").count() == DirectionTerritoriale.objects.count()
    assert Organisation.objects.filter(kind="SIEGE").count() == 1


def test_reload_is_idempotent_and_keeps_an_administrators_dt_choice():
    corse = Departement.objects.get(code="2A")
    corse.dt = DirectionTerritoriale.objects.get(name="DT Marseille")
    corse.save()
    counts = dict(Departement=Departement.objects.count(), Organisation=Organisation.objects.count())
    call_command("load_referentiel", stdout=open("/dev/null", "w"))
    assert Departement.objects.count() == counts["Departement"]
    assert Organisation.objects.count() == counts["Organisation"]
    assert Departement.objects.get(code="2A").dt.name == "DT Marseille"
    annex1.load(apps.get_model, reset_dt=True)
    assert Departement.objects.get(code="2A").dt is None
