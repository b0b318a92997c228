"""What every API handler does before routing: refuse oversize bodies, identify the caller."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales.config import get_settings
from aftersales.domain.claim import Actor
from aftersales.domain.errors import DomainError
from aftersales.domain.model import Role
from aftersales.observability import logger
from aftersales.service_errors import NotFound

from .auth import actor_from_event
from .errors import PayloadTooLarge, Unauthenticated, domain_error_response

PUBLIC_PATHS = frozenset({"/openapi.json"})
# Whole route families of one role: refused before the body is even validated, as if absent.
ROLE_PREFIXES = {"/ops/": Role.OPS, "/merchant/": Role.MERCHANT}


def _body_bytes(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8"))


class InvalidBody(DomainError):
    code = "validation_error"


def _require_object_body(event: dict[str, Any]) -> None:
    """Request bodies are JSON objects. (The resolver would take a one-element array for its object.)
    Text that is not JSON is left to the resolver, which answers ``malformed_json``."""
    body = event.get("body")
    if not body or event.get("isBase64Encoded"):
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return
    if not isinstance(parsed, dict):
        raise InvalidBody("the request body must be a JSON object")


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Size limit, then authentication, then the resolver; the actor is in ``app.context["actor"]``."""
    try:
        limit = get_settings().max_body_bytes
        if _body_bytes(event) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes", details={"max_bytes": limit})
        _require_object_body(event)
        claim_id = (event.get("pathParameters") or {}).get("claim_id")
        if claim_id:
            logger.set_correlation_id(claim_id)
        path = str(event.get("rawPath") or "")
        if path not in PUBLIC_PATHS:
            actor = actor_from_event(event)
            if any(
                path.startswith(prefix) and actor.role is not role for prefix, role in ROLE_PREFIXES.items()
            ):
                raise NotFound("no such resource")
            app.append_context(actor=actor)  # type: ignore[no-untyped-call]
    except (PayloadTooLarge, Unauthenticated, NotFound, InvalidBody) as error:
        return _raw(error)
    return app.resolve(event, context)


def _raw(error: DomainError) -> dict[str, Any]:
    response = domain_error_response(error)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }


def current_actor(router: Router | APIGatewayHttpResolver) -> Actor:
    actor = router.context.get("actor")
    if not isinstance(actor, Actor):
        raise Unauthenticated("a signed-in user is required")
    return actor
