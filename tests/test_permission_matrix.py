"""Every URL of the project, for every account: see tests/matrix/."""

import importlib
import pkgutil

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests import matrix
from tests.helpers import login
from tests.matrix.base import ACCOUNTS, LOGIN

ROUTES = []
for mod in pkgutil.iter_modules(matrix.__path__):
    if mod.name != "base":
        ROUTES.extend(importlib.import_module(f"tests.matrix.{mod.name}").ROUTES)

# Named URLs that are deliberately outside the matrix, with the reason.
EXCLUDED = {
    "oidc_authentication_init": "only with OIDC_ENABLED; tested in test_auth",
    "oidc_authentication_callback": "only with OIDC_ENABLED; tested in test_auth",
    "oidc_logout": "only with OIDC_ENABLED",
}


def _names(resolver, namespace=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            if p.namespace == "admin":
                continue  # walked model by model in test_admin_matrix
            yield from _names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield namespace + p.name


def test_every_named_url_is_in_the_matrix():
    covered = {r.name for r in ROUTES}
    missing = sorted(set(_names(get_resolver())) - covered - set(EXCLUDED))
    assert not missing, f"URL absentes de la matrice des permissions : {missing}"


def _do(client, route, ctx):
    url = reverse(route.name, kwargs=route.kwargs(ctx))
    if route.query:
        url = f"{url}?{route.query}"
    return getattr(client, route.method)(url, route.data(ctx))


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_matrix(client, demo, route, account, matrix_context):
    if account != "anonymous":
        login(client, demo[account])
    response = _do(client, route, matrix_context)
    expected = route.expected(account)
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code == expected, (
            f"{route.id} as {account}: {response.status_code}, attendu {expected}"
        )


ADMIN_MODELS = list(admin.site._registry)
# Models on which even an administrator may not add an object in the administration.
NO_ADD = {"referentiel.Departement", "referentiel.PlatformSettings", "audit.AuditEvent", "otp_totp.TOTPDevice",
          "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("view", ["changelist", "change", "add"])
@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m._meta.label)
def test_admin_matrix(client, demo, model, view, account):
    """Every admin page of every model (list, change form of an object, add form) for every account."""
    from tests.admin_objects import admin_object

    obj = admin_object(model, demo)  # also makes the single PlatformSettings row exist
    args = [obj.pk] if view == "change" else []
    if account != "anonymous":
        login(client, demo[account])
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    response = client.get(url)
    if account == "admin":
        expected = 403 if view == "add" and model._meta.label in NO_ADD else 200
        assert response.status_code == expected, (url, response.status_code)
    elif account == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 403, (url, response.status_code)


def test_admin_requires_second_factor(client, demo):
    login(client, demo["admin"], verified=False)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/second-facteur/")
