"""One OpenAPI document for the whole HTTP API, equal to the template's routes and the committed copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aftersales.api import openapi
from openapi_spec_validator import validate

from infra import openapi_doc
from infra.local import template

REPO = Path(__file__).resolve().parents[2]
DOC = openapi.document()
OPERATIONS = [(method.upper(), path, op) for path, ops in DOC["paths"].items() for method, op in ops.items()]


def test_the_document_is_valid_openapi() -> None:
    validate(DOC)


def test_the_committed_copy_is_the_served_document() -> None:
    assert openapi_doc.main(["--check"]) == 0


def _serves(route: template.Route, method: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(route.path)) + "$"
    concrete = re.sub(r"\{[^/]+\}", "x", path)
    return route.method in (method, "ANY") and re.match(pattern, concrete) is not None


def test_every_template_route_is_described_and_every_described_route_is_served() -> None:
    # Carrier webhooks are another interface (signed, per-carrier formats): docs/webhooks.md.
    routes = [
        r
        for r in template.load(REPO / "template.yaml").routes
        if r.path != template.DEFAULT_ROUTE and not r.path.startswith("/webhooks/")
    ]
    served_by = {}
    for method, path, _ in OPERATIONS:
        # The most specific template route wins, as in API Gateway: literal segments first.
        candidates = [r for r in routes if _serves(r, method, path)]
        assert candidates, f"{method} {path} is described but no template route serves it"
        served_by[(method, path)] = max(candidates, key=lambda r: r.path.count("{") * -1)
    for route in routes:
        assert any(_serves(route, m, p) for m, p, _ in OPERATIONS), f"{route.route_key} is not described"
    assert served_by[("POST", "/claims")].function == "SubmitClaimFunction"
    assert {r.function for r in served_by.values()} == {"SubmitClaimFunction", "ClaimsApiFunction"}


def test_bearer_jwt_secures_everything_but_the_document_itself() -> None:
    assert DOC["components"]["securitySchemes"]["bearerJwt"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": DOC["components"]["securitySchemes"]["bearerJwt"]["description"],
    }
    assert DOC["security"] == [{"bearerJwt": []}]
    assert DOC["paths"]["/openapi.json"]["get"]["security"] == []


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_operation_lists_its_errors_with_the_error_schema(
    method: str, path: str, operation: dict
) -> None:
    responses = operation["responses"]
    if path == "/openapi.json":
        assert set(responses) == {"200"}
        return
    expected = {"400", "401", "404", "422"}
    if "requestBody" in operation:
        expected |= {"413", "415"}
    if method == "POST" and path.startswith("/claims/"):
        expected |= {"403", "409"}
    assert expected <= set(responses)
    assert [s for s in responses if s.startswith("2")], "no success response"
    for status in expected:
        schema = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert schema == (
            "#/components/schemas/Unauthorized" if status == "401" else "#/components/schemas/Error"
        )
        assert (
            responses[status]["content"]["application/json"]["example"]["code"]
            in openapi.ERROR_CODES[int(status)]
        )
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and parameter["name"] == "version":  # a policy layer version
            assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 999_999}
        elif parameter["in"] == "path":
            assert parameter["schema"]["maxLength"] == 64


def test_submitting_a_claim_is_described_with_its_header_and_201() -> None:
    operation = DOC["paths"]["/claims"]["post"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert (header["name"], header["required"]) == ("idempotency-key", True)
    assert "201" in operation["responses"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("SubmitClaim")


def test_allowed_methods_come_from_the_document() -> None:
    assert openapi.allowed_methods("/claims") == ["GET", "POST"]
    assert openapi.allowed_methods("/claims/clm_1/ruling") == ["POST"]
    assert openapi.allowed_methods("/claims/clm_1/x/y") == []
