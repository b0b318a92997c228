"""What every API handler does before routing: refuse oversize bodies, identify the caller."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales.claims import Actor
from aftersales.config import get_settings
from aftersales.observability import logger

from .auth import actor_from_event
from .errors import PayloadTooLarge, Unauthenticated, domain_error_response

PUBLIC_PATHS = frozenset({"/openapi.json"})


def _body_bytes(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8"))


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Size limit, then authentication, then the resolver; the actor is in ``app.context["actor"]``."""
    try:
        limit = get_settings().max_body_bytes
        if _body_bytes(event) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes", details={"max_bytes": limit})
        claim_id = (event.get("pathParameters") or {}).get("claim_id")
        if claim_id:
            logger.set_correlation_id(claim_id)
        if event.get("rawPath") not in PUBLIC_PATHS:
            app.append_context(actor=actor_from_event(event))  # type: ignore[no-untyped-call]
    except (PayloadTooLarge, Unauthenticated) as error:
        return _raw(error)
    return app.resolve(event, context)


def _raw(error: PayloadTooLarge | Unauthenticated) -> dict[str, Any]:
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
