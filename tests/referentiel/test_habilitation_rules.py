"""Habilitation rules with literal expectations (found by ``make mutation GROUPS=habilitations``):
the perimeter key that detects duplicates, which habilitations are pending, the journal's
snapshot, who holds the granting authority (R744-47, R744-48) and the exact refusals."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from referentiel.models import Agent, Departement, DirectionTerritoriale, Habilitation, Role
from referentiel.services import (
    approve_habilitation,
    approver_role,
    authority_label,
    grant_habilitation,
    holds_authority,
    needs_approval_to_widen,
    overlapping,
    refusal_to_approve,
    revoke_habilitation,
)
from siao_ofii.audit.models import AuditEvent
from tests.helpers import FROZEN_NOW

pytestmark = pytest.mark.django_db
TODAY = FROZEN_NOW.date()
DAY = datetime.timedelta(days=1)
OWN = "Personne n’approuve sa propre habilitation."
OTHER_PERSON = "La demande doit être approuvée par une autre personne que celle qui l’a faite."
BY_SIEGE = "Cette habilitation ne peut être approuvée que par le siège de l’OFII (R744-47)."
BY_PREFECTURE = "Cette habilitation ne peut être approuvée que par la préfecture du département (R744-48)."
MAY_NOT_ASK = "Vous ne pouvez pas demander cette habilitation."
ALREADY = ("Cet agent a déjà cette habilitation (en cours ou en attente) sur une période qui recouvre "
           "celle-ci : prolongez-la plutôt que de l’accorder une seconde fois.")


def dep(code):
    return Departement.objects.get(code=code)


def agent(email="nouvel.agent@demo.test"):
    return Agent.objects.create_user(email, "x-not-used-123")


def grant(who, role, by, codes=("69",), **kw):
    kw.setdefault("reason", "Décision n° 12")
    return grant_habilitation(agent=who, role=role, granted_by=by, departements=[dep(c) for c in codes], **kw)


def message(exc_info):
    return exc_info.value.messages


def test_perimeter_keys():
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    d69, d01 = dep("69"), dep("01")
    assert Habilitation(role=Role.SIEGE).compute_perimeter_key() == "national"
    assert Habilitation(role=Role.ADMIN).compute_perimeter_key() == "administration"
    assert Habilitation(role=Role.DT, dt=lyon).compute_perimeter_key() == f"dt:{lyon.pk}"
    low, high = sorted([d69.pk, d01.pk])
    assert Habilitation(role=Role.SIAO).compute_perimeter_key([d69, d01]) == f"dep:{low},{high}"
    hab = grant(agent(), Role.SIAO, None, codes=("69", "01"))
    assert hab.compute_perimeter_key() == f"dep:{low},{high}" == hab.perimeter_key


def test_pending_is_neither_approved_nor_revoked(demo):
    x = agent()
    active = grant(x, Role.SIAO, None)
    asked = grant_habilitation(agent=x, role=Role.DT, granted_by=demo["admin"], reason="r",
                               dt=DirectionTerritoriale.objects.get(name="DT Lyon"))
    withdrawn = grant_habilitation(agent=x, role=Role.SIEGE, granted_by=demo["admin"], reason="r")
    revoke_habilitation(withdrawn, revoked_by=demo["admin"])
    assert asked.approved_at is None and active.approved_at is not None
    assert list(Habilitation.objects.filter(agent=x).pending()) == [asked]


def test_journal_snapshot_of_a_grant(demo):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox/140.0")
    request.user = demo["admin"]
    x = agent()
    hab = grant(x, Role.SIAO, demo["admin"], valid_from=TODAY, valid_until=TODAY + 90 * DAY, request=request)
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.actor_email, event.object_id, event.ip_address) == (
        "habilitation_granted", "admin@demo.test", str(hab.pk), "203.0.113.9")
    assert event.details == {
        "agent": "nouvel.agent@demo.test", "role": "SIAO", "perimetre": "69", "valid_from": "2026-11-24",
        "valid_until": "2027-02-22", "granted_by": "admin@demo.test", "designated_by": "", "approved_by": "admin@demo.test",
        "etat": "active",
    }
    grant(agent("installe@demo.test"), Role.SIAO, None, valid_from=TODAY, valid_until=TODAY + DAY)
    details = AuditEvent.objects.latest("pk").details
    assert (details["granted_by"], details["approved_by"], details["designated_by"]) == ("", "", "")


def test_the_prefecture_designates_dna_agents_of_its_departement_at_once(demo):
    pref = demo["prefecture.69"]
    colleague = agent("prefecture2.69@demo.test")
    grant(colleague, Role.PREFECTURE, None)
    x = agent()
    hab = grant(x, Role.SIAO_DNA, pref, designated_by=colleague)
    assert (hab.approved_by, hab.designated_by) == (pref, colleague)
    assert AuditEvent.objects.latest("pk").details["designated_by"] == "prefecture2.69@demo.test"
    # Not for another département, and not another role.
    with pytest.raises(ValidationError) as exc:
        grant(agent("ain@demo.test"), Role.SIAO_DNA, pref, codes=("01",))
    assert message(exc) == [MAY_NOT_ASK]
    with pytest.raises(ValidationError) as exc:
        grant(agent("siao@demo.test"), Role.SIAO, pref)
    assert message(exc) == [MAY_NOT_ASK]
    # An administrator only asks; the prefecture approves and thereby designates.
    asked = grant(agent("demande@demo.test"), Role.SIAO_DNA, demo["admin"])
    assert asked.approved_at is None
    assert refusal_to_approve(demo["admin"], asked) == BY_PREFECTURE
    assert refusal_to_approve(pref, asked) is None
    # The départements being approved (e.g. edited in the admin form) are the ones checked.
    assert refusal_to_approve(pref, asked, departements=[dep("01")]) == BY_PREFECTURE
    approved = approve_habilitation(asked, approved_by=pref)
    assert (approved.approved_by, approved.designated_by) == (pref, pref)


def test_who_holds_the_authority():
    pref = agent("pref@demo.test")
    grant(pref, Role.PREFECTURE, None, codes=("69",))
    assert holds_authority(pref, Role.SIAO_DNA, [dep("69")]) is True
    assert holds_authority(pref, Role.SIAO_DNA, [dep("69"), dep("01")]) is False
    assert holds_authority(pref, Role.SIAO_DNA, []) is False
    assert holds_authority(None, Role.SIAO_DNA, [dep("69")]) is False
    assert holds_authority(agent(), Role.SIAO_DNA, [dep("69")]) is False
    assert holds_authority(pref, Role.DT) is False
    assert (approver_role(Role.SIAO), approver_role(Role.DT), approver_role(Role.SIAO_DNA)) == (
        Role.ADMIN, Role.SIEGE, Role.PREFECTURE)
    assert authority_label(Role.SIAO) == "un autre administrateur"


def test_refusals_to_approve(demo):
    admin, siege = demo["admin"], demo["siege"]
    lyon = DirectionTerritoriale.objects.get(name="DT Lyon")
    x = agent()
    dt_request = grant_habilitation(agent=x, role=Role.DT, granted_by=admin, reason="r", dt=lyon)
    assert refusal_to_approve(x, dt_request) == OWN
    assert refusal_to_approve(admin, dt_request) == OTHER_PERSON  # four-eyes
    other_admin = agent("admin2@demo.test")
    grant(other_admin, Role.ADMIN, None, codes=())
    assert refusal_to_approve(other_admin, dt_request) == BY_SIEGE
    assert refusal_to_approve(siege, dt_request) is None
    # The requester of a role that is not four-eyes is refused only for lack of authority.
    dna = grant(agent("dna@demo.test"), Role.SIAO_DNA, admin)
    assert refusal_to_approve(admin, dna) == BY_PREFECTURE
    # An administrator's request for themselves: another administrator approves.
    own_siao = grant(other_admin, Role.SIAO, other_admin)
    assert own_siao.approved_at is None
    assert refusal_to_approve(other_admin, own_siao) == OWN
    assert refusal_to_approve(admin, own_siao) is None


def test_duplicates_are_refused_with_the_reason(demo):
    admin = demo["admin"]
    x = agent()
    first = grant(x, Role.SIAO, admin, valid_from=TODAY, valid_until=TODAY + 90 * DAY)
    assert not overlapping(first).exists()  # a habilitation does not overlap itself
    with pytest.raises(ValidationError) as exc:
        grant(x, Role.SIAO, admin, valid_from=TODAY + 10 * DAY, valid_until=TODAY + 20 * DAY)
    assert message(exc) == [ALREADY]
    # Another role on the same départements, a period after it, or after a revocation: allowed.
    grant(x, Role.SIAO_DNA, None, valid_from=TODAY, valid_until=TODAY + 90 * DAY, designated_by=demo["prefecture.69"])
    later = grant(x, Role.SIAO, admin, valid_from=TODAY + 91 * DAY, valid_until=TODAY + 120 * DAY)
    grant(x, Role.SIAO, admin, valid_from=TODAY - 30 * DAY, valid_until=TODAY - DAY)
    revoke_habilitation(first, revoked_by=admin)
    revoke_habilitation(later, revoked_by=admin)
    grant(x, Role.SIAO, admin, valid_from=TODAY, valid_until=TODAY + 90 * DAY)
    # Another agent: not a duplicate.
    grant(agent("autre@demo.test"), Role.SIAO, admin, valid_from=TODAY, valid_until=TODAY + 90 * DAY)
    with pytest.raises(ValidationError) as exc:
        grant(agent("sans.droit@demo.test"), Role.SIAO, demo["siao.69"])
    assert message(exc) == [MAY_NOT_ASK]


def test_who_lengthens_a_habilitation_alone(demo):
    admin, pref = demo["admin"], demo["prefecture.69"]
    x = agent()
    siao = grant(x, Role.SIAO, None)
    dna = grant(x, Role.SIAO_DNA, None, designated_by=pref)
    dt = grant_habilitation(agent=x, role=Role.DT, granted_by=None, reason="r",
                            dt=DirectionTerritoriale.objects.get(name="DT Lyon"))
    assert needs_approval_to_widen(siao, None) is False
    assert needs_approval_to_widen(siao, admin) is False
    assert needs_approval_to_widen(siao, x) is True  # own habilitation
    assert needs_approval_to_widen(dt, admin) is True  # four-eyes role
    assert needs_approval_to_widen(dna, admin) is True  # not the prefecture
    assert needs_approval_to_widen(dna, pref) is False  # the prefecture of 69
