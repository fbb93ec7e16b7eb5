"""Rights of access and rectification (CESEDA R.744-52): OFII headquarters finds a person across
départements and months and exports everything held on them, as PDF and CSV (opened here)."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from exchanges.models import ListRow, ListState
from meetings.models import AgendaItem, Category, Decision, Meeting
from meetings.services.agenda import record_outcome
from referentiel.models import Departement
from siao_ofii.audit.models import AuditAction, AuditEvent
from siao_ofii.audit.services import record
from siao_ofii.rights import services
from tests.factories import make_list
from tests.helpers import login

BIRTH = datetime.date(1985, 3, 4)


def _person(ml, line, last, first, birth=BIRTH, sex="F"):
    row = ListRow.objects.filter(monthly_list=ml).order_by("line_number")[line]
    row.last_name, row.first_name, row.birth_date, row.sex = last, first, birth, sex
    row.identity_key = f"ndiaye-{birth.isoformat()}-{first[:3]}"
    row.save()
    return row


@pytest.fixture
def world(demo):
    oct69 = make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=3, start=0)
    nov69 = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=3, start=10)
    old75 = make_list("75", "2026-11", uploaded_by=demo["siao.75"], state=ListState.SUPERSEDED, rows=2, start=20)
    r1 = _person(oct69, 0, "N’DIAYE", "Marie-Claire")
    r2 = _person(nov69, 1, "Ndiaye", "marie claire")
    r3 = _person(old75, 0, "NDIAYE", "Marie Clàire")
    _person(nov69, 2, "NDIAYE", "Marie-Claire", birth=datetime.date(1985, 3, 5))  # another birth date
    _person(oct69, 1, "NDIAYE", "Awa")  # same name and date, another first name
    meeting = Meeting.objects.create(
        departement=Departement.objects.get(code="69"), place="Préfecture",
        starts_at=timezone.make_aware(datetime.datetime(2026, 11, 17, 14)), created_by=demo["prefecture.69"])
    item = AgendaItem.objects.create(meeting=meeting, identity_key=r2.identity_key, list_row=r2, on_current_list=True,
                                     category=Category.ASYLUM_SEEKER)
    record_outcome(demo["dt.lyon"], item, decision=Decision.DNA, comment="Proposition CADA Villeurbanne")
    record(AuditAction.NOMINATIVE_READ, actor=demo["dt.lyon"], obj=meeting, departement="69", view="agenda")
    record(AuditAction.NOMINATIVE_READ, actor=demo["siao.75"], obj=old75, departement="75", page="lignes")
    record(AuditAction.NOMINATIVE_READ, actor=demo["siao.75"], obj=make_list(
        "75", "2026-10", uploaded_by=demo["siao.75"], rows=1, start=40), departement="75", page="unrelated")
    return {"rows": [r1, r2, r3], "meeting": meeting}


def _search(client, **data):
    return client.post(reverse("rights:search"), data)


def test_search_across_departements_months_versions_and_spellings(client, demo, world):
    login(client, demo["siege"])
    response = _search(client, nom="ndiaye", prenom="MARIE CLAIRE", naissance="1985-03-04")
    assert response.status_code == 200
    persons = response.context["persons"]
    assert len(persons) == 1
    assert sorted(r.pk for r in persons[0].rows) == sorted(r.pk for r in world["rows"])
    assert persons[0].departements == ["69", "75"] and persons[0].periods == ["2026-10", "2026-11"]
    # without the first name: both first names of that name and date, as two persons
    persons = _search(client, nom="N'Diaye", prenom="", naissance="04/03/1985").context["persons"]
    assert sorted(len(p.rows) for p in persons) == [1, 3]
    events = AuditEvent.objects.filter(action=AuditAction.RIGHTS_SEARCH, actor=demo["siege"]).order_by("id")
    assert [e.details for e in events] == [
        {"persons": 1, "rows": 3, "first_name_given": True}, {"persons": 2, "rows": 4, "first_name_given": False}]
    assert "NDIAYE" not in str([e.details for e in events]).upper()  # no name in the journal


def test_search_form_errors_in_french(client, demo, world):
    login(client, demo["siege"])
    body = _search(client, nom="", prenom="", naissance="31/02/1985").content.decode()
    assert "Date de naissance invalide : format JJ/MM/AAAA." in body and "Ce champ est obligatoire." in body
    assert not AuditEvent.objects.filter(action=AuditAction.RIGHTS_SEARCH).exists()


def _export(client, fmt):
    persons = _search(client, nom="NDIAYE", prenom="Marie-Claire", naissance="1985-03-04").context["persons"]
    return client.post(reverse("rights:export"), {"nom": "NDIAYE", "prenom": "Marie-Claire", "naissance": "1985-03-04",
                                                  "personne": persons[0].token, "format": fmt})


def test_export_csv_holds_rows_items_outcomes_and_journal(client, demo, world):
    login(client, demo["siege"])
    response = _export(client, "csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") if r]
    by_section = {}
    for r in lines:
        if r[0] != "Rubrique":
            by_section.setdefault(r[0], []).append(r)
    rows = by_section["Lignes des listes mensuelles"]
    assert sorted((r[1], r[2], r[6], r[8]) for r in rows) == [
        ("69", "2026-10", "N’DIAYE", "04/03/1985"), ("69", "2026-11", "Ndiaye", "04/03/1985"),
        ("75", "2026-11", "NDIAYE", "04/03/1985")]
    assert {r[4] for r in rows} == {"Validée", "Remplacée par une version plus récente"}
    assert "Awa" not in text and "05/03/1985" not in text  # the other persons are not exported
    outcomes = by_section["Suites données"]
    assert [(o[3], o[7]) for o in outcomes] == [("Orientation vers le DNA", "Proposition CADA Villeurbanne")]
    assert len(by_section["Points d’ordre du jour des commissions"]) == 1
    journal = by_section["Journal : consultations et actions sur ces listes, commissions et suites"]
    readers = {(j[2], j[3]) for j in journal}
    assert ("dt.lyon@demo.test", "Consultation de données nominatives") in readers  # read the agenda
    assert ("siao.75@demo.test", "Consultation de données nominatives") in readers  # read the 75 list
    assert len([j for j in journal if j[2] == "siao.75@demo.test"]) == 1  # not the unrelated list
    event = AuditEvent.objects.get(action=AuditAction.RIGHTS_EXPORT)
    assert event.details == {"format": "csv", "rows": 3, "items": 1, "outcomes": 1, "journal": len(journal),
                             "departements": ["69", "75"]}


def test_export_pdf_opened(client, demo, world):
    login(client, demo["siege"])
    response = _export(client, "pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    assert "R.744-52" in text
    for expected in ("N’DIAYE", "Ndiaye", "04/03/1985", "2026-10", "75", "Orientation vers le DNA",
                     "Proposition CADA Villeurbanne", "dt.lyon@demo.test", "siao.75@demo.test"):
        assert expected in text, expected
    assert "Awa" not in text
    assert AuditEvent.objects.get(action=AuditAction.RIGHTS_EXPORT).details["format"] == "pdf"


def test_only_headquarters(demo, world):
    for account in ("dt.lyon", "siao.69", "prefecture.69", "admin", "siao-dna.69"):
        with pytest.raises(PermissionDenied):
            services.search(demo[account], last_name="NDIAYE", birth_date=BIRTH)
