"""Issue 10, point 5: no silent takeover through the administration (TOTP secrets hidden, no
device added or changed by an administrator, only an audited reset; e-mail of a habilitated
agent frozen, the old address told of any change)."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from referentiel.models import Agent
from siao_ofii.audit.models import AuditEvent
from tests.helpers import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dt_device(demo):
    return TOTPDevice.objects.create(user=demo["dt.lyon"], name="téléphone", confirmed=True)


def test_admin_never_sees_a_totp_secret(client, demo, dt_device):
    login(client, demo["admin"])
    config = client.get(reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": dt_device.pk}))
    assert config.status_code == 403
    qrcode = client.get(reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": dt_device.pk}))
    assert qrcode.status_code == 403
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[dt_device.pk]))
    assert change.status_code == 200
    page = change.content.decode()
    assert dt_device.key not in page and "secret=" not in page


def test_admin_cannot_add_or_change_a_device(client, demo, dt_device):
    login(client, demo["admin"])
    known_key = "3132333435363738393031323334353637383930"
    response = client.post(reverse("admin:otp_totp_totpdevice_add"), {
        "user": demo["dt.paris"].pk, "name": "mon téléphone", "confirmed": "on", "key": known_key,
        "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "throttling_failure_count": 0,
    })
    assert response.status_code == 403
    assert not TOTPDevice.objects.filter(user=demo["dt.paris"], key=known_key).exists()
    response = client.post(reverse("admin:otp_totp_totpdevice_change", args=[dt_device.pk]), {
        "user": demo["dt.lyon"].pk, "name": "x", "confirmed": "on", "key": known_key,
        "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "throttling_failure_count": 0,
    })
    assert response.status_code == 403
    dt_device.refresh_from_db()
    assert dt_device.key != known_key


def test_reset_of_the_second_factor_is_audited_and_the_agent_re_enrols(client, demo, dt_device, mailoutbox):
    login(client, demo["admin"])
    response = client.post(reverse("admin:otp_totp_totpdevice_changelist"),
                           {"action": "reset_second_factor", "_selected_action": [dt_device.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=demo["dt.lyon"]).exists()
    event = AuditEvent.objects.get(action="otp_reset")
    assert event.actor == demo["admin"] and event.object_id == str(demo["dt.lyon"].pk)
    assert [m.to for m in mailoutbox] == [["dt.lyon@demo.test"]]
    # At the next login the agent enrols a new application (QR code shown to them only).
    client.logout()
    client.force_login(Agent.objects.get(pk=demo["dt.lyon"].pk))
    page = client.get(reverse("second_factor")).content.decode()
    assert "<svg" in page


def _agent_post(agent, **changes):
    data = {"email": agent.email, "first_name": agent.first_name, "last_name": agent.last_name,
            "organisation": agent.organisation_id or "", "is_active": "on",
            "habilitations-TOTAL_FORMS": "0", "habilitations-INITIAL_FORMS": "0",
            "habilitations-MIN_NUM_FORMS": "0", "habilitations-MAX_NUM_FORMS": "1000"}
    data.update(changes)
    return data


def test_email_of_a_habilitated_agent_is_frozen(client, demo, mailoutbox):
    login(client, demo["admin"])
    dt = demo["dt.lyon"]
    client.post(reverse("admin:referentiel_agent_change", args=[dt.pk]),
                _agent_post(dt, email="pirate@example.org"))
    assert Agent.objects.get(pk=dt.pk).email == "dt.lyon@demo.test"
    client.post(reverse("password_reset"), {"email": "pirate@example.org"})
    assert mailoutbox == []


def test_email_change_is_journaled_and_the_old_address_told(client, demo, mailoutbox):
    login(client, demo["admin"])
    agent = demo["nohab"]
    old = agent.email
    response = client.post(reverse("admin:referentiel_agent_change", args=[agent.pk]),
                           _agent_post(agent, email="nouvelle.adresse@example.org"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Agent.objects.get(pk=agent.pk).email == "nouvelle.adresse@example.org"
    assert [m.to for m in mailoutbox] == [[old]]
    assert "nouvelle.adresse@example.org" in mailoutbox[0].body
    event = AuditEvent.objects.filter(object_type="referentiel.Agent", object_id=str(agent.pk)).latest("id")
    assert event.details["changes"]["email"] == {"old": old, "new": "nouvelle.adresse@example.org"}
