import pytest
from django.core.cache import cache

from referentiel.models import Departement, Organisation
from siao_ofii.api import services
from siao_ofii.api.models import Scope


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the per-client counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def make_token(demo):
    """``make_token(role, codes=(), dt_of=None, scopes=[...], **kw) -> (client, token)``: a client
    made by the installation (no approval step; the granting rules are tested on their own)."""

    def make(role, codes=(), *, dt_of=None, scopes=tuple(Scope), created_by=None, **kw):
        org, _ = Organisation.objects.get_or_create(name="SI de test", defaults={"kind": Organisation.Kind.SIAO})
        dt = demo[dt_of].habilitations.get(role="DT").dt if dt_of else None
        return services.create_client(organisation=org, name=f"client {role} {codes or dt_of}", scopes=scopes,
                                      role=role, created_by=created_by, reason="convention d’interconnexion",
                                      departements=Departement.objects.filter(code__in=codes), dt=dt, **kw)

    return make


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
