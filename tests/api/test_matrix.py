"""Every endpoint × every scope × inside / outside the perimeter (issue 14: "every endpoint is
in the permission matrix for every scope"). Fails if an endpoint of the API is missing here.

A token holds exactly one scope and the habilitation that scope needs (SIAO 69 for list:*, DT
Lyon for extract:read and return:write, SIAO_DNA 69 for return:read). Expected: the endpoint's
own scope → its success status inside the perimeter (69) and 404 outside (75); any other scope
→ 403, before any lookup."""

import pytest
from django.core.files.base import ContentFile
from django.urls import get_resolver, reverse

from exchanges.extracts.services import relative_path
from exchanges.models import Extract, ListState, ReturnArchive, ReturnFile, ReturnState
from exchanges.returns.services import relative_path as return_path
from referentiel.models import Departement, Role
from siao_ofii.api.models import Scope
from siao_ofii.privatefiles.storage import private_storage
from tests.exchanges import samples
from tests.exchanges_returns.helpers import minimal
from tests.factories import make_list

from .conftest import bearer

PUBLIC = {"schema", "reference", "integrators"}
RETURN_CSV = minimal([["TESTOVA", "Irina", "01/02/1990", "08/11/2026"]])
ROW = {"last_name": "NOM", "first_name": "Prénom", "birth_date": "01/01/1990", "sex": "M", "status": "DA",
       "shelter_address": "1 rue de la Paix, 69001 Lyon", "entry_date": "01/10/2026"}


class E:
    def __init__(self, method, scope, ok, kwargs, body=None, content_type="application/json"):
        self.method, self.scope, self.ok, self.kwargs = method, scope, ok, kwargs
        self.body, self.content_type = body, content_type


ENDPOINTS = {
    "list_push": E("post", Scope.LIST_WRITE, 202, lambda w, dep: {"code": dep, "period": "2026-11"},
                   body=samples.csv_bytes(samples.GOOD), content_type="text/csv"),
    "list_index": E("get", Scope.LIST_READ, 200, None),
    "list_detail": E("get", Scope.LIST_READ, 200, lambda w, dep: {"pk": w[f"draft_{dep}"]}),
    "list_row": E("put", Scope.LIST_WRITE, 200, lambda w, dep: {"pk": w[f"draft_{dep}"], "line": 2}, body=ROW),
    "list_validate": E("post", Scope.LIST_WRITE, 200, lambda w, dep: {"pk": w[f"draft_{dep}"]}),
    "list_correction": E("post", Scope.LIST_WRITE, 201, lambda w, dep: {"pk": w[f"validated_{dep}"]},
                         body={"reason": "rectification demandée par la personne"}),
    "extract_index": E("get", Scope.EXTRACT_READ, 200, None),
    "extract_file": E("get", Scope.EXTRACT_READ, 200, lambda w, dep: {"pk": w[f"extract_{dep}"]}),
    "extract_password": E("post", Scope.EXTRACT_READ, 200, lambda w, dep: {"pk": w[f"extract_{dep}"]}),
    "return_push": E("post", Scope.RETURN_WRITE, 202, lambda w, dep: {"code": dep, "period": "2026-11"},
                     body=RETURN_CSV, content_type="text/csv"),
    "return_detail": E("get", Scope.RETURN_WRITE, 200, lambda w, dep: {"pk": w[f"return_file_{dep}"]}),
    "return_archive_index": E("get", Scope.RETURN_READ, 200, None),
    "return_archive_file": E("get", Scope.RETURN_READ, 200, lambda w, dep: {"pk": w[f"return_archive_{dep}"]}),
    "return_archive_password": E("post", Scope.RETURN_READ, 200,
                                 lambda w, dep: {"pk": w[f"return_archive_{dep}"]}),
}

HABILITATION = {
    Scope.LIST_WRITE: dict(role=Role.SIAO, codes=["69"]),
    Scope.LIST_READ: dict(role=Role.SIAO, codes=["69"]),
    Scope.EXTRACT_READ: dict(role=Role.DT, dt_of="dt.lyon"),
    Scope.RETURN_WRITE: dict(role=Role.DT, dt_of="dt.lyon"),
    # Designated by the prefecture of 69 (R744-48), as a person would be.
    Scope.RETURN_READ: dict(role=Role.SIAO_DNA, codes=["69"], created_by="prefecture.69"),
}


def test_every_endpoint_is_in_the_matrix():
    names = {p.name for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api"
             for p in p.url_patterns if p.name}
    assert names - PUBLIC == set(ENDPOINTS), sorted(names - PUBLIC ^ set(ENDPOINTS))
    assert set(HABILITATION) == set(Scope)


@pytest.fixture
def world(demo):
    w = {}
    for code, siao, dt in (("69", "siao.69", "dt.lyon"), ("75", "siao.75", "dt.paris")):
        dep = Departement.objects.get(code=code)
        w[f"draft_{code}"] = make_list(code, "2026-11", uploaded_by=demo[siao], state=ListState.DRAFT).pk
        validated = make_list(code, "2026-10", uploaded_by=demo[siao], validated_by=demo[siao], start=20)
        w[f"validated_{code}"] = validated.pk
        extract = Extract(departement=dep, period="2026-10", version=1, monthly_list=validated,
                          file_path=relative_path(code, "2026-10", 1), size=4, sha256="0" * 64, row_count=1)
        extract.set_password("Mot-De-Passe-De-Test")
        extract.save()
        private_storage().save(extract.file_path, ContentFile(b"PK\x05\x06"))
        w[f"extract_{code}"] = extract.pk
        rf = ReturnFile.objects.create(departement=dep, period="2026-10", state=ReturnState.STORED,
                                       uploaded_by=demo[dt], row_count=1, progress=100)
        archive = ReturnArchive(departement=dep, period="2026-10", version=1, return_file=rf,
                                file_path=return_path(code, "2026-10", 1), size=4, sha256="0" * 64, row_count=1)
        archive.set_password("Mot-De-Passe-De-Test")
        archive.save()
        private_storage().save(archive.file_path, ContentFile(b"PK\x05\x06"))
        w[f"return_file_{code}"], w[f"return_archive_{code}"] = rf.pk, archive.pk
    return w


def _call(client, name, endpoint, world, token, dep):
    kwargs = endpoint.kwargs(world, dep) if endpoint.kwargs else {}
    url = reverse(f"api:{name}", kwargs=kwargs)
    extra = {**bearer(token), "HTTP_IDEMPOTENCY_KEY": f"{name}-{dep}"}
    if endpoint.method == "get":
        return getattr(client, endpoint.method)(url, **extra)
    body = endpoint.body
    if body is not None and endpoint.content_type == "application/json":
        return getattr(client, endpoint.method)(url, data=body, content_type="application/json", **extra)
    if body is None:
        return getattr(client, endpoint.method)(url, **extra)
    return getattr(client, endpoint.method)(url, data=body, content_type=endpoint.content_type, **extra)


@pytest.mark.parametrize("scope", list(Scope), ids=str)
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_matrix(client, demo, make_token, world, name, scope, django_capture_on_commit_callbacks):
    endpoint = ENDPOINTS[name]
    hab = dict(HABILITATION[scope])
    if "created_by" in hab:
        hab["created_by"] = demo[hab["created_by"]]
    _, token = make_token(scopes=[scope], **hab)
    with django_capture_on_commit_callbacks(execute=True):
        inside = _call(client, name, endpoint, world, token, "69")
    if scope != endpoint.scope:
        assert inside.status_code == 403, inside.content
        assert inside["Content-Type"] == "application/problem+json"
        return
    assert inside.status_code == endpoint.ok, inside.content
    if endpoint.kwargs is None:  # a listing: the perimeter filters it
        body = inside.json()
        assert body and {item["departement"] for item in body} == {"69"}
        return
    outside = _call(client, name, endpoint, world, token, "75")
    assert outside.status_code == 404, outside.content
