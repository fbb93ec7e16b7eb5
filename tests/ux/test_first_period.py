"""Issue 13 point 5: months before a département's (or the platform's) first month of
transmission are neutral, not "Manquante", and nobody is chased for them."""

import datetime

from django.urls import reverse

from exchanges.extracts.services import MISSING, NOT_STARTED, missing_departements, overview, submission_state
from referentiel.models import Departement, PlatformSettings
from tests.helpers import login

AFTER_DEADLINE = datetime.date(2026, 11, 20)


def test_state_before_the_first_month_is_neutral():
    assert submission_state("2026-10", None, False, AFTER_DEADLINE, first_period="2026-11") == NOT_STARTED
    assert submission_state("2026-11", None, False, AFTER_DEADLINE, first_period="2026-11") == MISSING
    assert submission_state("2026-11", None, False, AFTER_DEADLINE) == MISSING


def test_departement_first_period_and_platform_default(db):
    Departement.objects.filter(code="69").update(first_period="2026-12")
    deps = Departement.objects.filter(code__in=["01", "69"]).order_by("code")
    states = {m.departement.code: m.state for m in overview(deps, "2026-11", today=AFTER_DEADLINE)}
    assert states == {"01": MISSING, "69": NOT_STARTED}
    settings = PlatformSettings.load()
    settings.first_period = "2026-12"
    settings.save()
    states = {m.departement.code: m.state for m in overview(deps, "2026-11", today=AFTER_DEADLINE)}
    assert states == {"01": NOT_STARTED, "69": NOT_STARTED}
    assert not missing_departements("2026-11").exists()
    assert missing_departements("2026-12").filter(code="01").exists()


def test_dashboard_shows_it_neutral(client, demo):
    Departement.objects.filter(code="01").update(first_period="2099-01")
    page = login(client, demo["dt.lyon"]).get(reverse("exchanges:extract_dashboard")).content.decode()
    row = page.split('id="dep-01"')[1].split("</tr>")[0]
    assert "Avant le premier mois" in row and "fr-badge--no-icon" in row and "Manquante" not in row
