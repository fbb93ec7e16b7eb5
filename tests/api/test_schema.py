"""The OpenAPI description is generated without warning and is valid OpenAPI 3 (issue 14,
acceptance: "the OpenAPI schema is generated in CI")."""

import yaml
from django.core.management import call_command


def test_schema_generates_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["jeton"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "<identifiant>.<secret>"}
    push = schema["paths"]["/api/v1/departements/{code}/listes/{period}/"]["post"]
    assert set(push["requestBody"]["content"]) == {
        "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"}
    assert {"202", "401", "403", "404", "413", "422", "428", "429"} <= set(push["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in push["parameters"])
    assert list(push["responses"]["404"]["content"]) == ["application/problem+json"]
