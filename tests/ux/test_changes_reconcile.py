"""Issue 13 point 6: arrivals, departures and the difference shown for a month always add up,
against the current validated version of the previous month, even when it came late."""

from django.urls import reverse

from exchanges.extracts.services import build_for_list, overview
from exchanges.models import Extract, ListState
from exchanges.services import derive, workflow
from referentiel.models import Departement
from tests.factories import make_list
from tests.helpers import login


def _processed_draft(period, rows, start, agent):
    ml = make_list("69", period, uploaded_by=agent, state=ListState.DRAFT, rows=rows, start=start)
    derive.derive(ml)  # what process_list does after reading the file
    ml.save()
    return ml


def test_month_validated_before_a_late_previous_month_reconciles(client, demo):
    agent = demo["siao.69"]
    dep69 = Departement.objects.filter(code="69")
    october = _processed_draft("2026-10", 10, 0, agent)  # key-0 … key-9
    november = workflow.validate_list(_processed_draft("2026-11", 50, 2, agent), agent)  # key-2 … key-51
    extract, _ = build_for_list(november.pk)
    (m,) = overview(dep69, "2026-11")
    assert m.row_delta is None and extract.new_count == 50  # nothing to compare with yet

    workflow.validate_list(october, agent)  # the late October list arrives
    page = login(client, demo["siege"]).get(reverse("exchanges:extract_dashboard") + "?period=2026-11").content.decode()
    assert "+40 personnes" in page and "42 arrivées, 2 sorties" in page
    assert "50 arrivées" not in page
    (m,) = overview(dep69, "2026-11")
    assert (m.row_delta, m.arrivals, m.departures) == (40, 42, 2)  # key-0 and key-1 left, 42 arrived
    assert m.arrivals - m.departures == m.monthly_list.row_count - october.row_count
    extract = Extract.objects.get(pk=extract.pk)
    assert (extract.new_count, extract.left_count) == (42, 2)


def test_no_previous_list_says_so_instead_of_a_difference(client, demo):
    agent = demo["siao.69"]
    november = workflow.validate_list(_processed_draft("2026-11", 5, 0, agent), agent)
    (m,) = overview(Departement.objects.filter(code="69"), "2026-11")
    assert m.monthly_list.pk == november.pk and m.row_delta is None
    page = login(client, demo["siege"]).get(reverse("exchanges:extract_dashboard") + "?period=2026-11").content.decode()
    assert "Aucune liste validée du mois précédent à comparer" in page
