"""The API fuzzed with schemathesis against a running server (issue 14, acceptance): every
operation of the OpenAPI description, a bounded number of generated requests each, with a valid
token: no 5xx, and every answer conforms to the description (status, content type, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from referentiel.models import Role
from siao_ofii.api.models import Scope

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fuzz_every_operation(live_server, client, make_token, settings):
    settings.API_RATE_LIMIT = "100000/min"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    _, token = make_token(Role.SIAO, ["69"], scopes=list(Scope))
    raw = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14
    seen = []
    for operation in operations:
        @hsettings(max_examples=EXAMPLES, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=CHECKS)
            seen.append(response.status_code)

        run()
    assert seen and max(seen) < 500
