"""Issue 10, point 8: every refusal is journaled (403 for a role without the capability, 404 for
an object behind a parent the agent may see but that does not hold it)."""

import pytest
from django.urls import reverse

from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from exchanges.models import ListState
from tests.helpers import login

pytestmark = pytest.mark.django_db


def test_403_for_a_role_without_the_capability_is_journaled(client, demo):
    login(client, demo["siao.69"])
    response = client.get(reverse("audit_list"))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access_denied")
    assert event.actor == demo["siao.69"]
    assert event.details["path"] == reverse("audit_list") and event.details["status"] == 403


def test_403_in_the_admin_is_journaled(client, demo):
    login(client, demo["dt.lyon"])
    url = reverse("admin:referentiel_habilitation_changelist")
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.filter(action="access_denied", actor=demo["dt.lyon"], details__path=url).exists()


def test_row_of_another_list_behind_ones_own_list_is_journaled(client, demo):
    mine = make_list("69", "2026-11", uploaded_by=demo["siao.69"], state=ListState.DRAFT, version=2)
    other = make_list("69", "2026-10", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], start=20)
    foreign_row = other.rows.first()
    login(client, demo["siao.69"])
    response = client.get(reverse("exchanges:row_edit", kwargs={"pk": mine.pk, "row_pk": foreign_row.pk}))
    assert response.status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.PERIMETER_DENIED)
    assert event.actor == demo["siao.69"] and event.object_id == str(foreign_row.pk)
    assert event.departement == "69"
