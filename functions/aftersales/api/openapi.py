"""One OpenAPI document for the whole HTTP API: the routes of both API functions (``claims_api`` and
``submit_claim``), the bearer-JWT security scheme, and every status each route can answer with the
error schema. Served at ``GET /openapi.json``, committed as ``docs/openapi.json``
(``python -m infra.openapi_doc`` writes it; a test fails when either drifts from the template).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import OPENAPI_PATH
from . import responses as bodies
from .schemas import ID_MAX_LENGTH, ID_PATTERN

TITLE = "After-sales claims API"
VERSION = "1.0"
ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH, "pattern": ID_PATTERN}

# Every error code by status (the table of aftersales.api.errors and docs/api.md).
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: (
        "malformed_json",
        "invalid_id",
        "idempotency_key_required",
        "invalid_cursor",
        "invalid_evidence_key",
        "filter_required",
        "duplicate_line_id",
        "delivered_before_paid",
    ),
    401: ("unauthenticated",),
    403: ("forbidden_action",),
    404: ("not_found", "order_not_found"),
    409: (
        "illegal_transition",
        "conflict",
        "waybill_in_use",
        "already_rated",
        "not_parked",
        "idempotency_in_progress",
        "version_conflict",
    ),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: (
        "validation_error",
        "idempotency_key_reused",
        "implausible_timestamp",
        "invalid_amount",
        "invalid_period",
        "range_too_long",
        "implausible_period",
        "refund_exceeds_claim",
        "extension_not_later",
        "line_not_found",
        "quantity_exceeds_available",
        "invalid_policy",
        "below_platform_floor",
        "platform_only",
        "and every eligibility code of docs/api.md",
    ),
}
_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, an invalid id or cursor, a missing Idempotency-Key",
    401: "No valid token, or not exactly one after-sales role",
    403: "The claim is yours to see, but your role may not take this action",
    404: "No such resource, or not yours",
    409: "The claim's state does not allow it, or a concurrent change won",
    413: "The body is larger than 64 KB",
    415: "The body is not application/json",
    422: "The request does not match the schema, or a rule refuses it",
}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "stable, machine-readable"},
        "message": {"type": "string", "description": "for people"},
        "details": {"type": "object", "additionalProperties": True},
    },
}
# API Gateway's own 401 carries only a message; every other answer has the full shape.
_UNAUTHORIZED_SCHEMA = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "code": {"type": "string", "const": "unauthenticated"},
        "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": True},
    },
}
_BASE = (400, 401, 404, 422)
_BODY = (413, 415)
_ACTION = (403, 409)


def _statuses(method: str, path: str, has_body: bool) -> tuple[int, ...]:
    statuses = [*_BASE, *(_BODY if has_body else ())]
    if method == "post" and path.startswith("/claims/"):
        statuses += _ACTION
    if (method, path) == ("post", "/claims") or (method == "put" and "/policy" in path):
        statuses.append(409)
    return tuple(sorted(statuses))


def _error_response(status: int) -> dict[str, Any]:
    schema = "Unauthorized" if status == 401 else "Error"
    code = ERROR_CODES[status][0]
    description = f"{_DESCRIPTIONS[status]}. Codes: {', '.join(ERROR_CODES[status])}."
    if status == 401:
        description += (
            " On AWS, a token the JWT authorizer refuses is answered by API Gateway itself with"
            ' {"message": "Unauthorized"} and a WWW-Authenticate header, without a code.'
        )
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"},
                "example": {"code": code, "message": _DESCRIPTIONS[status], "details": {}},
            }
        },
    }


@cache
def _resolver() -> APIGatewayHttpResolver:
    """A resolver holding every route of the API, for its description only."""
    from . import routes_buyer, routes_merchant, routes_ops, routes_policy, submit

    resolver = APIGatewayHttpResolver(enable_validation=True)
    for router in (
        routes_buyer.router,
        routes_merchant.router,
        routes_ops.router,
        routes_policy.router,
        submit.router,
    ):
        serving = router.api_resolver  # include_router points the router here; it keeps serving its app
        resolver.include_router(router)
        router.api_resolver = serving
    return resolver


@cache
def _document() -> str:
    doc = (
        _resolver()
        .get_openapi_schema(title=TITLE, version=VERSION)
        .model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    doc["info"]["description"] = (
        "Returns, refunds, exchanges, repairs, complaints and disputes. Every error is "
        '{"code", "message", "details"}; see docs/api.md.'
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = _ERROR_SCHEMA
    schemas["Unauthorized"] = _UNAUTHORIZED_SCHEMA
    components["securitySchemes"] = {
        "bearerJwt": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Cognito ID token; the role is its cognito:groups (docs/api.md).",
        }
    }
    doc["security"] = [{"bearerJwt": []}]
    models: list[type[BaseModel]] = [
        bodies.ClaimPage,
        bodies.ClaimDetail,
        bodies.EvidenceUploadUrl,
        bodies.OrderImported,
        bodies.PolicyLayerVersion,
        bodies.PolicyVersionPage,
        bodies.EffectivePolicy,
        bodies.Scorecard,
        bodies.RiskPage,
    ]
    _, definitions = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}"
    )
    schemas.update(definitions.get("$defs", {}))
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    model = bodies.response_model(method, path).__name__
                    response["content"] = {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}
                    }
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "version":
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999}
                elif parameter["in"] == "path":
                    parameter["schema"] = {**parameter["schema"], **ID_SCHEMA}
            responses = operation["responses"]
            responses.pop("422", None)
            for status in _statuses(method, path, "requestBody" in operation):
                responses[str(status)] = _error_response(status)
            operation["responses"] = dict(sorted(responses.items()))
    doc["paths"][OPENAPI_PATH] = {
        "get": {
            "summary": "This document",
            "operationId": "openapi",
            "security": [],
            "responses": {
                "200": {"description": "The OpenAPI document", "content": {"application/json": {}}}
            },
        }
    }
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def document() -> dict[str, Any]:
    return copy.deepcopy(json.loads(_document()))


def document_json() -> str:
    return _document()


@cache
def _path_patterns() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    patterns = []
    for path, operations in json.loads(_document())["paths"].items():
        regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"
        patterns.append((re.compile(regex), tuple(method.upper() for method in operations)))
    return tuple(patterns)


def allowed_methods(path: str) -> list[str]:
    """The methods the API serves on ``path`` (empty: no such path)."""
    found = {method for pattern, methods in _path_patterns() if pattern.match(path) for method in methods}
    return sorted(found)
