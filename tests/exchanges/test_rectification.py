"""Rectification after validation (CESEDA R.744-52): a new version, with a mandatory reason,
shown in the history (SIAO) and on the DT's page of the département."""

import pytest
from django.urls import reverse

from exchanges import periods
from exchanges.models import ListState, MonthlyList
from exchanges.services import workflow
from siao_ofii.audit.models import AuditAction, AuditEvent
from tests.factories import make_list
from tests.helpers import login

REASON = "Rectification demandée par la personne : date d’entrée (article R.744-52)"


def test_correction_needs_a_reason(demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2)
    for blank in ("", "   "):
        with pytest.raises(workflow.WorkflowError, match="Indiquez le motif de la correction"):
            workflow.start_correction(ml, user=demo["siao.69"], reason=blank)
    assert MonthlyList.objects.count() == 1
    draft = workflow.start_correction(ml, user=demo["siao.69"], reason=REASON)
    assert (draft.version, draft.state, draft.correction_reason) == (2, ListState.DRAFT, REASON)


def test_rectification_through_the_pages_is_a_new_version_with_its_reason(client, demo):
    # The DT's page shows the last 12 months: the list is of the current month, whatever today is.
    ml = make_list("69", periods.current(), uploaded_by=demo["siao.69"], validated_by=demo["siao.69"], rows=2)
    login(client, demo["siao.69"])
    body = client.get(reverse("exchanges:detail", args=[ml.pk])).content.decode()
    assert 'name="reason"' in body and "required" in body
    response = client.post(reverse("exchanges:correct", args=[ml.pk]), {"reason": ""}, follow=True)
    assert "Indiquez le motif de la correction" in response.content.decode()
    assert MonthlyList.objects.count() == 1
    response = client.post(reverse("exchanges:correct", args=[ml.pk]), {"reason": REASON})
    draft = MonthlyList.objects.get(version=2)
    assert response["Location"] == reverse("exchanges:detail", args=[draft.pk])
    workflow.validate_list(draft, demo["siao.69"])
    history = client.get(reverse("exchanges:my_lists")).content.decode()
    assert REASON in history
    assert REASON in client.get(reverse("exchanges:detail", args=[draft.pk])).content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.LIST_CORRECTED, details__step="new_version",
                                     details__from_version=1).exists()
    client.logout()
    login(client, demo["dt.lyon"])
    assert REASON in client.get(reverse("exchanges:extract_departement", args=["69"])).content.decode()
