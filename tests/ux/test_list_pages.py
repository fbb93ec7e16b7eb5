"""Issue 13 point 3: the report names the person, explains line numbers, months read as words,
no countdown once validated, and validation goes through a recap of what is sent and to whom."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from exchanges.models import ListRow, ListState, MonthlyList
from siao_ofii.audit.models import AuditEvent
from tests.factories import make_list
from tests.helpers import login

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOV_2 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)


@pytest.fixture
def siao(client, demo):
    return login(client, demo["siao.69"])


def _draft_with_issue(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=2)
    row = ml.rows.get(line_number=3)
    row.errors = [{"column": "Sexe", "field": "sex", "message": "sexe inconnu « X »"}]
    row.save()
    ListRow.objects.filter(pk=ml.rows.get(line_number=2).pk).update(
        warnings=[{"column": "NOM", "field": "last_name", "message": "à vérifier"}])
    MonthlyList.objects.filter(pk=ml.pk).update(error_count=1, warning_count=1)
    ml.refresh_from_db()
    return ml


def test_anomalies_name_the_person_and_explain_line_numbers(siao, demo):
    ml = _draft_with_issue(demo)
    page = siao.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert "<td>3</td><td>NOM1 Prénom1</td><td>Sexe</td>" in page
    assert '<th scope="col">Ligne du fichier</th><th scope="col">Personne</th>' in page
    assert "la ligne 1 est celle des titres de colonnes" in page


def test_history_months_in_words_and_no_countdown_once_validated(siao, demo, monkeypatch):
    from exchanges.services import workflow

    monkeypatch.setattr(workflow, "current_period", lambda today=None: "2026-11")
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"])
    make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], start=10)
    my = siao.get(reverse("exchanges:my_lists")).content.decode()
    assert ">novembre 2026</td>" in my and ">octobre 2026</td>" in my and ">2026-11<" not in my
    assert "il reste" not in my and "Validée et transmise à l’OFII" in my
    detail = siao.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert "il reste" not in detail and "liste validée dans les délais" in detail


@time_machine.travel(NOV_2, tick=False)
def test_draft_still_counts_down_validated_does_not(demo):
    from exchanges.views import deadline_status

    draft = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    assert deadline_status(draft) == ("il reste 8 jours et 14 heures", False)  # to 10 November 23:59 Paris
    done = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], start=5)
    assert deadline_status(done) == ("liste validée dans les délais", False)
    done.is_late = True
    assert deadline_status(done) == ("liste validée en retard", True)


@time_machine.travel(datetime.datetime(2026, 11, 11, 9, 0, tzinfo=PARIS), tick=False)
def test_recap_says_late_after_the_tenth(demo):
    from exchanges.services import workflow

    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT)
    recap = workflow.validation_recap(ml)
    assert recap["late"] is True and recap["version"] == 1 and recap["dt"].name == "DT Lyon"


def test_validate_shows_a_recap_and_writes_nothing(siao, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, rows=3)
    MonthlyList.objects.filter(pk=ml.pk).update(warning_count=1, report={"ada_count": 2})
    events = AuditEvent.objects.count()
    response = siao.get(reverse("exchanges:validate", args=[ml.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>3</strong> ligne(s) transmise(s) pour novembre 2026 (version 1)" in page
    assert "<strong>1</strong> ligne(s) avec un avertissement restant" in page
    assert "2 demandeur(s) d’asile hébergé(s) depuis plus d’un mois" in page
    assert "<strong>DT Lyon</strong> (direction territoriale de l’OFII) et le <strong>siège de l’OFII</strong>" in page
    assert "10 novembre 2026" in page
    assert 'id="validate-form"' in page
    ml.refresh_from_db()
    assert ml.state == ListState.DRAFT and AuditEvent.objects.count() == events
    detail = siao.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert f'id="validate-action" href="{reverse("exchanges:validate", args=[ml.pk])}"' in detail
    assert '<form method="post" action="' + reverse("exchanges:validate", args=[ml.pk]) not in detail
