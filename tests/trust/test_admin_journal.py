"""Issue 10, point 7: every change made in the administration is journaled with its old and new
values, for every model the administration shows (a model registered without a case here fails)."""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.urls import reverse

from siao_ofii.audit.models import AuditEvent
from tests.admin_objects import admin_object
from tests.helpers import login

pytestmark = pytest.mark.django_db


class _FormParser(HTMLParser):
    """The fields a browser would submit from the admin change form."""

    def __init__(self):
        super().__init__()
        self.data, self.in_form, self.select, self.textarea = [], False, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.data.append((self.select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.data.append((self.textarea[0], self.textarea[1].lstrip("\n")))
            self.textarea = None


def _form_data(html):
    parser = _FormParser()
    parser.feed(html)
    data = {}
    for name, value in parser.data:
        data.setdefault(name, []).append(value)
    return data


def _other_dt(obj, demo):
    from referentiel.models import DirectionTerritoriale

    return str(DirectionTerritoriale.objects.exclude(pk=obj.dt_id).order_by("name").first().pk)


# model label → (field changed through the change form, new value as posted); None: the model
# cannot be changed in the administration (the test checks the refusal and journals the one
# operation that is allowed instead).
EDITS = {
    "referentiel.Region": ("name", lambda o, d: "Région modifiée"),
    "referentiel.FormerRegion": ("name", lambda o, d: "Ancienne région modifiée"),
    "referentiel.DirectionTerritoriale": ("city", lambda o, d: "Villeurbanne"),
    "referentiel.Departement": ("dt", _other_dt),
    "referentiel.Organisation": ("email", lambda o, d: "contact.modifie@example.org"),
    "referentiel.Agent": ("first_name", lambda o, d: "Prénom modifié"),
    "referentiel.Habilitation": ("valid_until", lambda o, d: (o.valid_until - __import__("datetime").timedelta(
        days=10)).isoformat()),
    "referentiel.PlatformSettings": ("retention_months", lambda o, d: "36"),
    "django_celery_beat.PeriodicTask": ("description", lambda o, d: "Description modifiée"),
    "django_celery_beat.CrontabSchedule": ("minute", lambda o, d: "17"),
    "django_celery_beat.IntervalSchedule": ("every", lambda o, d: "42"),
    "django_celery_beat.SolarSchedule": ("latitude", lambda o, d: "48.85"),
    "django_celery_beat.ClockedSchedule": ("clocked_time_1", lambda o, d: "10:30:00", "T09:30"),  # Paris → UTC
    "otp_totp.TOTPDevice": None,  # reset action only
    "audit.AuditEvent": None,  # the journal itself: never changed
    "axes.AccessAttempt": None,  # read-only: deletion (unlocks an account) is journaled
    "axes.AccessLog": None,
    "axes.AccessFailureLog": None,
    "api.ApiClient": None,  # read-only: revoked by an action, never edited nor deleted
}


def _entry(obj):
    return AuditEvent.objects.filter(object_type=obj._meta.label, object_id=str(obj.pk)).order_by("-id").first()


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_change_is_journaled_with_old_and_new_values(client, demo, model):
    label = model._meta.label
    assert label in EDITS, f"{label} est dans l’administration sans cas de journalisation dans ce test"
    obj = admin_object(model, demo)
    login(client, demo["admin"])
    change_url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    data = _form_data(page.content.decode())
    if EDITS[label] is None:
        before, row = AuditEvent.objects.count(), model_to_dict(obj)
        response = client.post(change_url, data)
        assert response.status_code in (200, 302, 403)  # refused, or read-only fields: nothing to save
        assert model_to_dict(model._base_manager.get(pk=obj.pk)) == row
        assert AuditEvent.objects.exclude(action="access_denied").count() == before
        if label == "audit.AuditEvent":
            return
        if label == "api.ApiClient":
            changelist = reverse("admin:api_apiclient_changelist")
            assert client.post(changelist, {"action": "revoke", "_selected_action": [obj.pk]}).status_code == 302
            entry = AuditEvent.objects.filter(action="admin_changed", object_type=label,
                                              object_id=str(obj.pk)).get()
            assert entry.actor == demo["admin"] and entry.details["changes"]["revoked_at"]["old"] == ""
            assert entry.details["changes"]["revoked_at"]["new"]
            return
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        action = "reset_second_factor" if label == "otp_totp.TOTPDevice" else "delete_selected"
        payload = {"action": action, "_selected_action": [obj.pk], "post": "yes"}
        assert client.post(changelist, payload).status_code == 302
        assert not model._base_manager.filter(pk=obj.pk).exists()
        entry = _entry(obj)
        assert entry is not None and entry.details["operation"] == "delete", label
        assert all(c["new"] == "" for c in entry.details["changes"].values())
        assert any(c["old"] not in ("", None) for c in entry.details["changes"].values())
        if label == "otp_totp.TOTPDevice":
            assert entry.details["changes"]["key"] == {"old": "•••", "new": ""}
            assert obj.key not in str(entry.details)
        return
    field, new_value, *expected = EDITS[label]
    value = new_value(obj, demo)
    data[field] = [value]
    response = client.post(change_url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = _entry(obj)
    assert entry is not None, f"aucune entrée du journal pour {label}"
    assert entry.actor == demo["admin"]
    name = field.removesuffix("_1")
    change = entry.details["changes"][name]
    assert change["old"] != change["new"]
    assert (expected[0] if expected else value) in str(change["new"]), change


def test_moving_a_departement_to_another_dt_names_both(client, demo):
    from referentiel.models import Departement, DirectionTerritoriale

    login(client, demo["admin"])
    dep = Departement.objects.get(code="2A")
    url = reverse("admin:referentiel_departement_change", args=[dep.pk])
    data = _form_data(client.get(url).content.decode())
    data["dt"] = [str(DirectionTerritoriale.objects.get(name="DT Marseille").pk)]
    assert client.post(url, data).status_code == 302
    entry = _entry(dep)
    assert entry.departement == "2A"
    assert entry.details["changes"]["dt"]["old"] == ""
    assert entry.details["changes"]["dt"]["new"].startswith("DT Marseille")


def test_periodic_task_actions_are_journaled(client, demo):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(enabled=True).order_by("pk").first()
    login(client, demo["admin"])
    response = client.post(reverse("admin:django_celery_beat_periodictask_changelist"),
                           {"action": "disable_tasks", "_selected_action": [task.pk]})
    assert response.status_code == 302
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
    assert _entry(task).details["changes"]["enabled"] == {"old": True, "new": False}
