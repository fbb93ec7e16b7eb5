"""Issue 13 point 13: readable 405 and CSRF pages, and the idle-expiry notice on the login page
with the configured duration."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.factories import make_list
from tests.helpers import login


def test_get_on_a_post_only_url_is_a_french_page_keeping_allow(client, demo):
    ml = make_list("69", "2026-11", uploaded_by=demo["siao.69"], validated_by=demo["siao.69"])
    response = login(client, demo["siao.69"]).get(reverse("exchanges:correct", args=[ml.pk]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    page = response.content.decode()
    assert "<h1>Action impossible depuis cette adresse</h1>" in page and 'lang="fr"' in page
    assert "Retour à l’accueil" in page


def test_csrf_failure_page_is_french_and_styled(demo):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "siao.69@demo.test", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Formulaire expiré</h1>" in page and "Rien n’a été enregistré" in page
    assert "/static/dsfr/" in page or "dsfr" in page  # the site's layout, not Django's bare page
    assert "CSRF verification failed" not in page and "Forbidden" not in page


@pytest.mark.parametrize("minutes", [30, 45])
def test_login_page_states_the_configured_idle_timeout(client, settings, minutes):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = minutes
    page = client.get(reverse("login")).content.decode()
    assert f"La session se ferme après {minutes} minutes d’inactivité." in page
    assert "Session expirée" not in page


def test_idle_expiry_is_announced_once_on_the_login_page(client, demo, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 45
    login(client, demo["siao.69"])
    assert client.get(reverse("exchanges:my_lists")).status_code == 200
    Session.objects.all().delete()  # what the idle expiry does on the server; the browser keeps its cookie
    response = client.get(reverse("exchanges:my_lists"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    page = client.get(response["Location"]).content.decode()
    assert 'id="session-expired"' in page and "fermée après 45 minutes d’inactivité" in page
    assert 'id="session-expired"' not in client.get(reverse("login")).content.decode()  # once


def test_no_expiry_notice_after_logout_or_first_visit(client, demo):
    assert 'id="session-expired"' not in client.get(reverse("login")).content.decode()
    login(client, demo["siao.69"])
    client.post(reverse("logout"))
    client.get(reverse("exchanges:my_lists"))
    assert 'id="session-expired"' not in client.get(reverse("login")).content.decode()
