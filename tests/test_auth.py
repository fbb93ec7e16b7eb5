import base64
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from referentiel.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from siao_ofii.audit.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def _login(client, email, password=DEFAULT_DEMO_PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_required_everywhere_by_default(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_lockout_after_failures(client, demo):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, "siao.75@demo.test", "mauvais")
        assert response.status_code in (200, 429)
    response = _login(client, "siao.75@demo.test")  # even the right password is refused now
    assert response.status_code == 429
    assert "bloqué" in response.content.decode()
    # Another account from the same address is not locked.
    assert _login(client, "siao.69@demo.test").status_code == 302


@pytest.mark.parametrize("address", ["a" * 300 + "@example.fr", "b" * 244 + "@example.fr"])
def test_an_overlong_address_is_a_form_error_not_a_server_error(client, address):
    """django-axes stores the attempted username in a 255-character column: an address over the
    254 characters SMTP allows (311 and 255 here) is refused by the form, before any attempt
    is recorded (it was a DataError on PostgreSQL, a 500)."""
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": address, "password": "x" * 5000})
    assert response.status_code == 200
    assert f"au plus 254 caractères (actuellement {len(address)})" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert AccessAttempt.objects.count() == 0


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"username": "jean.dupont", "password": "x"}, "username", "Saisissez une adresse e-mail valide."),
    ({"username": "", "password": "x"}, "username", "Ce champ est obligatoire."),
    ({"username": "jean@demo.test", "password": ""}, "password", "Ce champ est obligatoire."),
])
def test_login_field_errors_are_shown_next_to_the_field(client, data, field, message):
    """The form is ``novalidate``: the server's message is the only one the agent sees."""
    page = client.post(reverse("login"), data).content.decode()
    assert f'<p class="fr-error-text" id="id_{field}_error">{message}</p>' in page


def test_session_idle_expiry_settings():
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_TIMEOUT_MINUTES * 60 == 30 * 60
    # The expiry is pushed back by IdleSessionRefreshMiddleware, at most once a minute.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


def test_idle_session_expires(client, demo):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    _login(client, "siao.69@demo.test")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get(reverse("home"))
    expiry = Session.objects.get(session_key=key).expire_date
    assert abs((expiry - timezone.now()) - datetime.timedelta(minutes=30)) < datetime.timedelta(minutes=1)
    # 31 minutes without a request: the session is gone.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(minutes=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_headquarters_must_enrol_and_pass_totp(client, demo):
    response = _login(client, "siege@demo.test")
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith("/connexion/second-facteur/")
    page = client.get(response["Location"])
    assert "QR" in page.content.decode() and page.context["enrolling"]
    # Showing the enrolment page stores nothing (issue 15: a GET writes nothing).
    assert not TOTPDevice.objects.filter(user=demo["siege"]).exists()
    key = base64.b32decode(page.context["secret"].replace(" ", ""))
    assert client.get(response["Location"]).context["secret"] == page.context["secret"]  # stable
    wrong = f"{(totp(key) + 1) % 1_000_000:06d}"
    response = client.post(reverse("second_factor"), {"token": wrong})
    assert response.status_code == 200 and "pas valide" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.OTP_FAILURE).exists()
    assert not TOTPDevice.objects.filter(user=demo["siege"]).exists()
    response = client.post(reverse("second_factor"), {"token": f"{totp(key):06d}", "next": "/journal/"})
    assert response.status_code == 302 and response["Location"] == "/journal/"
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.get(user=demo["siege"]).confirmed


def test_second_factor_next_is_not_an_open_redirect(client, demo):
    _login(client, "siege@demo.test")
    key = base64.b32decode(client.get(reverse("second_factor")).context["secret"].replace(" ", ""))
    response = client.post(reverse("second_factor"),
                           {"token": f"{totp(key):06d}", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_siao_agent_needs_no_second_factor(client, demo):
    _login(client, "siao.69@demo.test")
    assert client.get(reverse("home")).status_code == 200


def test_password_reset_email_in_french_without_secret(client, demo):
    response = client.post(reverse("password_reset"), {"email": "siao.69@demo.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "nouveau mot de passe" in message.subject
    assert "/mot-de-passe/nouveau/" in message.body
    assert DEFAULT_DEMO_PASSWORD not in message.body
    # Unknown address: same answer, no e-mail (no account enumeration).
    client.post(reverse("password_reset"), {"email": "inconnu@demo.test"})
    assert len(mail.outbox) == 1


def test_oidc_backend_matches_existing_agents_only(demo, settings):
    settings.OIDC_RP_CLIENT_ID = "id"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_CREATE_USER = False
    from referentiel.models import Agent, Habilitation
    from referentiel.oidc import AgentOIDCBackend

    backend = AgentOIDCBackend()
    claims = {"email_verified": True}
    backend.get_userinfo = lambda access_token, id_token, payload: claims
    assert list(backend.filter_users_by_claims({"email": "SIAO.69@demo.test"})) == [demo["siao.69"]]
    assert not backend.filter_users_by_claims({"email": "inconnu@demo.test"}).exists()
    assert not backend.filter_users_by_claims({}).exists()
    before = (Agent.objects.count(), Habilitation.objects.count())
    claims.update(email="inconnu@demo.test")
    assert backend.get_or_create_user("token", "id", {}) is None
    claims.update(email="siao.69@demo.test")
    assert backend.get_or_create_user("token", "id", {}) == demo["siao.69"]
    assert (Agent.objects.count(), Habilitation.objects.count()) == before


def _deploy_env(**extra):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="siao_ofii.settings",
        DEBUG="false",
        SECRET_KEY=base64.b64encode(os.urandom(48)).decode(),
        ALLOWED_HOSTS="siao-ofii.exemple.gouv.fr",
        ARCHIVE_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        DATABASE_URL="sqlite:////tmp/deploy-check.sqlite3",
    )
    env.update(extra)
    return env


def test_production_refuses_to_start_without_secrets():
    env = _deploy_env()
    env.pop("SECRET_KEY")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


OIDC_SCRIPT = """
import django, os
django.setup()
from django.core.management import call_command
call_command('migrate', verbosity=0)
from django.test import Client
c = Client()
login = c.get('/connexion/')
auth = c.get('/oidc/authenticate/')
print(login.status_code, 'ProConnect' in login.content.decode(), auth.status_code, auth['Location'].split('?')[0])
"""


def test_oidc_login_is_switched_on_by_environment_only(tmp_path):
    env = _deploy_env(
        DATABASE_URL=f"sqlite:///{tmp_path}/oidc.sqlite3",
        OIDC_ENABLED="true", OIDC_RP_CLIENT_ID="client", OIDC_RP_CLIENT_SECRET="secret",
        OIDC_OP_AUTHORIZATION_ENDPOINT="https://proconnect.example/authorize",
        OIDC_OP_TOKEN_ENDPOINT="https://proconnect.example/token", OIDC_OP_USER_ENDPOINT="https://proconnect.example/userinfo",
        OIDC_OP_JWKS_ENDPOINT="https://proconnect.example/jwks", SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="testserver",
        STATIC_MANIFEST="false",
    )
    result = subprocess.run([sys.executable, "-c", OIDC_SCRIPT], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True)
    assert result.stdout.split() == ["200", "True", "302", "https://proconnect.example/authorize"], result.stderr[-2000:]
    assert not settings.OIDC_ENABLED  # and off by default
