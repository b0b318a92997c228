"""Every error the API returns, in one shape ``{"code", "message", "details"}``, mapped in one place.

| status | when |
|---|---|
| 400 | malformed JSON, not UTF-8, nested too deep (``malformed_json``), bad path id (``invalid_id``),
|     | bad cursor, missing or malformed Idempotency-Key (``idempotency_key_required``), bad filter |
| 401 | no token, or a token without exactly one after-sales role (``unauthenticated``) |
| 403 | the claim is yours to see but your role may not take that action (``forbidden_action``) |
| 404 | no such claim / order / route, or not yours (``not_found``, ``order_not_found``) |
| 405 | the path exists, the method does not (``method_not_allowed``, with ``Allow``) |
| 409 | illegal transition, lost race after retries, waybill in use, already rated, request in flight |
| 413 | body over the size limit (``payload_too_large``) |
| 415 | a body that is not ``application/json`` (``unsupported_media_type``) |
| 422 | schema validation (``validation_error``), ineligible claim (its reason code), bad amount,
|     | a rule refusing the request (e.g. ``extension_not_later``), Idempotency-Key reused with
|     | another body (``idempotency_key_reused``) |
| 500 | a fault of ours (``internal_error``): never for bad input |
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from aftersales.domain.errors import (
    DomainError,
    Forbidden,
    IllegalTransition,
    Ineligible,
    InvalidEvidence,
    InvalidMoney,
    InvalidOrder,
    StateConflict,
)
from aftersales.observability import logger
from aftersales.service_errors import BadRequest, Conflict, NotFound, UnknownOrder
from aftersales.store.cursor import InvalidCursor


class Unauthenticated(DomainError):
    code = "unauthenticated"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class MalformedJson(DomainError):
    code = "malformed_json"


class InvalidId(DomainError):
    code = "invalid_id"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


class MethodNotAllowed(DomainError):
    """``details.allow``: the methods the path has; also sent as the ``Allow`` header."""

    code = "method_not_allowed"


_STATUS: list[tuple[type[DomainError], int]] = [
    (Unauthenticated, 401),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (MethodNotAllowed, 405),
    (MalformedJson, 400),
    (InvalidId, 400),
    (NotFound, 404),
    (UnknownOrder, 404),
    (Forbidden, 403),
    (IllegalTransition, 409),
    (StateConflict, 409),
    (Conflict, 409),
    (BadRequest, 400),
    (InvalidOrder, 400),
    (InvalidEvidence, 400),
    (InvalidCursor, 400),
    (Ineligible, 422),
    (InvalidMoney, 422),
    (DomainError, 422),  # any other rule refusing the request
]


def unsupported_media_type() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "request bodies are JSON: send Content-Type: application/json",
        details={"supported": ["application/json"]},
    )


def no_route(method: str, path: str) -> DomainError:
    """``404 not_found`` for a path the API does not have, ``405`` for a method the path lacks."""
    from .openapi import allowed_methods  # the route table of the whole API

    allow = allowed_methods(path)
    if allow and method.upper() not in allow:
        return MethodNotAllowed(f"{path} allows {', '.join(allow)}", details={"allow": allow})
    return NotFound("no such resource")


def status_for(error: DomainError) -> int:
    return next(status for cls, status in _STATUS if isinstance(error, cls))


def error_response(status: int, code: str, message: str, details: Any = None) -> Response[str]:
    body = {"code": code, "message": message, "details": details or {}}
    return Response(status_code=status, content_type="application/json", body=json.dumps(body, default=str))


def domain_error_response(error: DomainError) -> Response[str]:
    response = error_response(status_for(error), error.code, error.message, error.details)
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join((error.details or {}).get("allow", []))
    return response


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the offending input (it may hold personal data)."""
    return [
        {"loc": list(item.get("loc", ())), "type": item.get("type"), "msg": item.get("msg")}
        for item in error.errors()
    ]


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain(error: DomainError) -> Response[str]:
        if status_for(error) >= 500:
            logger.error("domain error", extra={"code": error.code})
        return domain_error_response(error)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _validation(error: RequestValidationError) -> Response[str]:
        errors = _validation_errors(error)
        if any(item["type"] == "json_invalid" for item in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        if any(item["loc"][:2] == ["header", "idempotency-key"] for item in errors):
            # Without a usable key the request cannot be made safe to retry: refused before the body.
            return error_response(
                400,
                "idempotency_key_required",
                "send an Idempotency-Key header of 8-128 visible ASCII characters",
                {"errors": [item for item in errors if item["loc"][:1] == ["header"]]},
            )
        return error_response(
            422, "validation_error", "the request does not match the schema", {"errors": errors}
        )

    @app.exception_handler(IdempotencyValidationError)  # type: ignore[untyped-decorator]
    def _key_reused(_: IdempotencyValidationError) -> Response[str]:
        return error_response(
            422, "idempotency_key_reused", "this Idempotency-Key was already used with a different body"
        )

    @app.exception_handler(IdempotencyAlreadyInProgressError)  # type: ignore[untyped-decorator]
    def _in_flight(_: IdempotencyAlreadyInProgressError) -> Response[str]:
        return error_response(
            409, "idempotency_in_progress", "a request with this Idempotency-Key is in flight"
        )

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return domain_error_response(unsupported_media_type())

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[str]:
        event = app.current_event
        return domain_error_response(no_route(event.http_method, event.path))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _fault(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")
