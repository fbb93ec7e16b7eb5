"""OFII pages: perimeter, downloads and password reveals (audited), states, constant queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from exchanges.services import derive
from exchanges import periods
from exchanges.extracts.services import build_for_list
from exchanges.models import LateSubmission, ListState
from referentiel.models import Habilitation
from referentiel.services import revoke_habilitation
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from tests.helpers import assert_constant_queries, login, stored_bytes

PERIOD = "2026-11"  # the month of FROZEN_NOW (tests/conftest.py), after its deadline


def _extract(demo, code="69", period=PERIOD, rows=3, **kw):
    ml = make_list(code, period, uploaded_by=demo["siao.69"], rows=rows, **kw)
    extract, _ = build_for_list(ml.pk)
    return extract


def _download(client, extract):
    return client.get(reverse("exchanges:extract_download", args=[extract.pk]))


def test_dt_downloads_its_departement_with_audit(client, demo):
    extract = _extract(demo)
    login(client, demo["dt.lyon"])
    response = _download(client, extract)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="SIAO_069_' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == stored_bytes(extract.file_path)
    event = AuditEvent.objects.get(action=AuditAction.DOWNLOAD)
    assert event.actor == demo["dt.lyon"] and event.departement == "69" and event.object_id == str(extract.pk)
    assert extract.reveal_password() not in str(event.details)


@pytest.mark.parametrize("account", ["dt.lyon", "siao.69", "siao-dna.69", "prefecture.69", "admin"])
def test_outside_perimeter_is_404_and_audited(client, demo, account):
    extract = _extract(demo, "75")
    login(client, demo[account])
    assert _download(client, extract).status_code == 404
    response = client.post(reverse("exchanges:extract_password", args=[extract.pk]))
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED, actor=demo[account], departement="75")
    assert denied.count() == 2
    assert not AuditEvent.objects.filter(action__in=[AuditAction.DOWNLOAD, AuditAction.PASSWORD_REVEAL]).exists()


def test_headquarters_downloads_everything_including_no_dt(client, demo):
    login(client, demo["siege"])
    for code in ("69", "75", "2A", "971"):
        assert _download(client, _extract(demo, code)).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, actor=demo["siege"]).count() == 4


def test_revoked_habilitation_loses_access_at_once(client, demo):
    extract = _extract(demo)
    login(client, demo["dt.lyon"])
    assert _download(client, extract).status_code == 200
    hab = Habilitation.objects.active().get(agent=demo["dt.lyon"], role="DT")
    revoke_habilitation(hab, revoked_by=demo["admin"], reason="départ")
    # The next request already has no habilitation left: no capability, 403 (before any lookup).
    response = _download(client, extract)
    assert response.status_code == 403
    assert client.post(reverse("exchanges:extract_password", args=[extract.pk])).status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, actor=demo["dt.lyon"]).count() == 1


def test_password_reveal_is_a_post_shown_in_page_and_audited(client, demo):
    extract = _extract(demo)
    password = extract.reveal_password()
    login(client, demo["dt.lyon"])
    page = client.get(reverse("exchanges:extract_departement", args=["69"])).content.decode()
    assert password not in page
    url = reverse("exchanges:extract_password", args=[extract.pk])
    assert url in page  # the form posts there; the URL holds no secret
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="archive-password">{password}<' in body
    assert "no-store" in response["Cache-Control"]
    assert "7-Zip" in body and "Keka" in body
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_REVEAL)
    assert event.actor == demo["dt.lyon"] and event.object_id == str(extract.pk)
    assert password not in str(event.details) and password not in event.object_repr


def test_departement_page_shows_history_and_help(client, demo):
    extract = _extract(demo)
    login(client, demo["siege"])
    _download(client, extract)
    login(client, demo["dt.lyon"])
    _download(client, extract)
    client.post(reverse("exchanges:extract_password", args=[extract.pk]))
    page = client.get(reverse("exchanges:extract_departement", args=["69"])).content.decode()
    assert "Comment ouvrir l’archive" in page and "Explorateur de fichiers" in page
    history = page.split('id="download-history"')[1]
    assert "siege@demo.test" in history and "dt.lyon@demo.test" in history
    assert history.count("Téléchargement") == 2 and "Affichage du mot de passe" in history
    assert extract.file_name in page


def test_no_dt_departement_flagged_for_headquarters_only(client, demo):
    _extract(demo, "2A")
    login(client, demo["siege"])
    page = client.get(reverse("exchanges:extract_departement", args=["2A"])).content.decode()
    assert 'id="sans-dt"' in page
    dashboard = client.get(reverse("exchanges:extract_dashboard"), {"dt": "sans"}).content.decode()
    assert 'id="dep-2A"' in dashboard and 'id="dep-2B"' in dashboard and 'id="dep-69"' not in dashboard
    assert "Sans DT — siège uniquement" in dashboard
    login(client, demo["dt.lyon"])
    assert client.get(reverse("exchanges:extract_departement", args=["2A"])).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.PERIMETER_DENIED, departement="2A").exists()


def test_dashboard_perimeter_states_and_filters(client, demo):
    on_time = _extract(demo, "69", rows=4)
    validated_at = timezone.make_aware(datetime.datetime.combine(periods.deadline(PERIOD), datetime.time(9)))
    type(on_time.monthly_list).objects.filter(pk=on_time.monthly_list_id).update(validated_at=validated_at)
    previous = make_list("69", periods.previous(PERIOD), uploaded_by=demo["siao.69"], rows=6)
    derive.rederive_following(previous)  # what validating the previous month after this one does
    late = make_list("42", PERIOD, uploaded_by=demo["siao.69"], rows=2)
    late.is_late = True
    late.save()
    make_list("01", PERIOD, uploaded_by=demo["siao.69"], rows=2, state=ListState.DRAFT)
    login(client, demo["dt.lyon"])
    page = client.get(reverse("exchanges:extract_dashboard")).content.decode()
    rows = {code: page.split(f'id="dep-{code}"')[1].split("</tr>")[0] for code in ("01", "07", "42", "69")}
    assert 'id="dep-75"' not in page and 'id="dep-2A"' not in page
    assert "Validée dans les délais" in rows["69"] and "Télécharger" in rows["69"] and "-2 personnes" in rows["69"]
    assert "Validée en retard" in rows["42"]
    # Frozen on 24 November, after the 10th: the lists not validated are missing, not awaited.
    assert "Manquante" in rows["01"] and "Manquante" in rows["07"]
    assert "En attente" not in rows["01"] and "En attente" not in rows["07"]
    # A DT agent cannot widen the perimeter with the headquarters filters.
    page = client.get(reverse("exchanges:extract_dashboard"), {"dt": "sans", "region": "1"}).content.decode()
    assert 'id="dep-69"' in page and 'id="dep-2A"' not in page
    login(client, demo["siege"])
    dt_lyon = demo["dt.lyon"].habilitations.get().dt
    page = client.get(reverse("exchanges:extract_dashboard"), {"dt": dt_lyon.pk}).content.decode()
    assert page.count('<tr id="dep-') == dt_lyon.departements.count()
    region = dt_lyon.departements.get(code="69").region
    page = client.get(reverse("exchanges:extract_dashboard"), {"region": region.pk}).content.decode()
    assert page.count('<tr id="dep-') == region.departements.count()


def test_submission_states():
    from exchanges.extracts.services import LATE, MISSING, ON_TIME, AWAITING, submission_state
    from exchanges.models import MonthlyList

    on_time = MonthlyList(validated_at=datetime.datetime(2026, 11, 9, 12, tzinfo=datetime.UTC))
    after = MonthlyList(validated_at=datetime.datetime(2026, 11, 12, 12, tzinfo=datetime.UTC))
    assert submission_state("2026-11", on_time, False, datetime.date(2026, 11, 20)) == ON_TIME
    assert submission_state("2026-11", after, False, datetime.date(2026, 11, 20)) == LATE
    # Recorded missing by the sweep of the 10th at 23:55, then validated before midnight: on time
    # (instruction II.A.4, "au plus tard le 10"); see tests/exchanges/test_deadline.py.
    just_in_time = MonthlyList(validated_at=datetime.datetime(2026, 11, 10, 22, 58, tzinfo=datetime.UTC))
    assert submission_state("2026-11", just_in_time, True, datetime.date(2026, 11, 20)) == ON_TIME
    flagged = MonthlyList(validated_at=datetime.datetime(2026, 11, 9, 12, tzinfo=datetime.UTC), is_late=True)
    assert submission_state("2026-11", flagged, False, datetime.date(2026, 11, 20)) == LATE
    assert submission_state("2026-11", None, False, datetime.date(2026, 11, 10)) == AWAITING
    assert submission_state("2026-11", None, False, datetime.date(2026, 11, 11)) == MISSING
    assert submission_state("2026-11", None, True, datetime.date(2026, 11, 10)) == MISSING


def test_dashboard_constant_queries(client, demo):
    login(client, demo["siege"])
    codes = iter(["01", "02", "03", "04", "05", "06"])

    def grow():
        code = next(codes)
        _extract(demo, code, rows=2)
        make_list(code, periods.previous(PERIOD), uploaded_by=demo["siao.69"], rows=1)
        LateSubmission.objects.create(departement_id=_dep(code), period=PERIOD)

    assert_constant_queries(lambda: client.get(reverse("exchanges:extract_dashboard")), grow)


def _dep(code):
    from referentiel.models import Departement

    return Departement.objects.get(code=code).pk


def test_departement_page_constant_queries(client, demo):
    login(client, demo["dt.lyon"])
    months = iter(range(1, 6))

    def grow():
        extract = _extract(demo, "69", periods.add_months(PERIOD, -next(months)), rows=2)
        _download(client, extract)

    grow()  # a non-empty history first: an empty page skips the query of its rows
    assert_constant_queries(lambda: client.get(reverse("exchanges:extract_departement", args=["69"])), grow)
