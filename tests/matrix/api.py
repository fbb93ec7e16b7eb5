"""API /api/v1/ (issue 14) for the session accounts: a person's session never opens the API
(bearer tokens only, hence no CSRF surface): 401 for every account, anonymous included. The
schema, the reference page and the integrators' page are public (no personal data).

The API's own matrix (every endpoint × every scope × inside/outside the perimeter) is
tests/api/test_matrix.py."""

from .base import ACCOUNTS, Route

UNAUTHORIZED = 401
EVERYONE_401 = {a: UNAUTHORIZED for a in ACCOUNTS}
EVERYONE_200 = {a: 200 for a in ACCOUNTS}

ROUTES = [
    Route("api:schema", expect=EVERYONE_200),
    Route("api:reference", expect=EVERYONE_200),
    Route("api:integrators", expect=EVERYONE_200),
    Route("api:list_push", method="post", expect=EVERYONE_401, kwargs=lambda c: {"code": "69", "period": "2026-11"}),
    Route("api:list_index", expect=EVERYONE_401),
    Route("api:list_detail", expect=EVERYONE_401, kwargs=lambda c: {"pk": 1}),
    Route("api:list_row", method="put", expect=EVERYONE_401, kwargs=lambda c: {"pk": 1, "line": 2}),
    Route("api:list_validate", method="post", expect=EVERYONE_401, kwargs=lambda c: {"pk": 1}),
    Route("api:list_correction", method="post", expect=EVERYONE_401, kwargs=lambda c: {"pk": 1}),
    Route("api:extract_index", expect=EVERYONE_401),
    Route("api:extract_file", expect=EVERYONE_401, kwargs=lambda c: {"pk": c["extract_69"]}),
    Route("api:extract_password", method="post", expect=EVERYONE_401, kwargs=lambda c: {"pk": c["extract_69"]}),
    Route("api:return_push", method="post", expect=EVERYONE_401, kwargs=lambda c: {"code": "69", "period": "2026-11"}),
    Route("api:return_detail", expect=EVERYONE_401, kwargs=lambda c: {"pk": c["return_file_69"]}),
    Route("api:return_archive_index", expect=EVERYONE_401),
    Route("api:return_archive_file", expect=EVERYONE_401, kwargs=lambda c: {"pk": c["return_archive_69"]}),
    Route("api:return_archive_password", method="post", expect=EVERYONE_401,
          kwargs=lambda c: {"pk": c["return_archive_69"]}),
]
