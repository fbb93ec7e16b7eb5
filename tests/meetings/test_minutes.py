import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from meetings.models import Decision, OutcomeState
from meetings.services.agenda import EVERYONE, add_free_item, build_agenda, record_outcome
from meetings.services.minutes import minutes_pdf, minutes_xlsx
from referentiel.models import Agent, Organisation


@pytest.fixture
def held_meeting(demo, make_meeting, validated_list):
    validated_list("2026-11", rows=3, facts={0: {"last_name": "DURAND"}, 1: {"last_name": "=HYPERLINK(\"http://x\")"}})
    meeting = make_meeting()
    meeting.invited_organisations.set([Organisation.objects.get(name="OFII — DT Lyon")])
    meeting.invited_agents.set(Agent.objects.filter(email="siao.69@demo.test"))
    build_agenda(demo["dt.lyon"], meeting, EVERYONE)
    items = {i.identity_key: i for i in meeting.items.all()}
    lyon = Organisation.objects.get(name="OFII — DT Lyon")
    record_outcome(demo["dt.lyon"], items["key-0"], decision=Decision.DNA, responsible_organisation=lyon,
                   comment="Place CADA proposée à Villeurbanne")
    record_outcome(demo["dt.lyon"], items["key-1"], decision=Decision.CPH, state=OutcomeState.DONE)
    add_free_item(meeting, text="Bilan des places DNA vacantes")
    return meeting


def _pdf_text(content):
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())  # table cells wrap lines


def test_minutes_pdf_nominative_for_the_departement(demo, held_meeting):
    content = minutes_pdf(demo["dt.lyon"], held_meeting)
    assert content.startswith(b"%PDF")
    text = _pdf_text(content)
    assert "Compte rendu de la commission" in text
    assert "OFII — DT Lyon" in text and "Sofia Rhône" in text  # attendees
    assert "DURAND" in text and "Orientation vers le DNA" in text
    assert "Place CADA proposée" in text
    assert "Bilan des places DNA vacantes" in text


def test_minutes_without_nominative_part_outside_the_perimeter(demo, held_meeting):
    text = _pdf_text(minutes_pdf(demo["dt.paris"], held_meeting))
    assert "DURAND" not in text and "Place CADA" not in text
    assert "ne figurent pas" in text
    assert "Orientation vers le DNA" in text  # counts per decision stay
    wb = load_workbook(io.BytesIO(minutes_xlsx(demo["dt.paris"], held_meeting)))
    assert wb.sheetnames == ["Commission"]
    assert not any("DURAND" in str(c.value) for row in wb["Commission"].iter_rows() for c in row)


def test_minutes_xlsx_opened_and_formulas_neutralised(demo, held_meeting):
    # The prefecture's minutes carry no priority (ADA conclusion, length of stay: disclosure.py).
    header = [c.value for c in load_workbook(io.BytesIO(minutes_xlsx(demo["prefecture.69"], held_meeting)))["Situations"][1]]
    assert header[:3] == ["Catégorie", "Nom", "Prénom"]
    wb = load_workbook(io.BytesIO(minutes_xlsx(demo["dt.lyon"], held_meeting)))
    assert wb.sheetnames == ["Commission", "Situations"]
    ws = wb["Situations"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Catégorie", "Priorité", "Nom", "Prénom"]
    names = [ws.cell(row=r, column=3).value for r in range(2, ws.max_row + 1)]
    assert "DURAND" in names
    injected = [ws.cell(row=r, column=3) for r in range(2, ws.max_row + 1)
                if "HYPERLINK" in str(ws.cell(row=r, column=3).value)]
    assert len(injected) == 1
    assert injected[0].data_type == "s" and injected[0].value.startswith("'=")
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    info = {r[0].value: r[1].value for r in wb["Commission"].iter_rows(max_col=2) if r[0].value}
    assert info["Commission SIAO–OFII"] == "69 — Rhône"
    assert "OFII — DT Lyon" in info["Organisations invitées"]
