"""Who is calling, from the JWT claims the HTTP API's authorizer verified
(``requestContext.authorizer.jwt.claims``). The token carries ``sub``, a role (Cognito group
``buyer`` | ``merchant`` | ``ops``, or a ``custom:role``/``role`` claim) and, for merchant staff,
``custom:merchant_id``. Several roles: the most privileged wins (ops, then merchant, then buyer)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aftersales.domain.claim import Actor
from aftersales.domain.model import Role

from .errors import Unauthenticated

_ROLE_ORDER = (Role.OPS, Role.MERCHANT, Role.BUYER)


def _as_list(value: Any) -> list[str]:
    """API Gateway flattens list claims to ``"[a b]"``; accept that, a list, or ``"a,b"``."""
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,\[\]\"]+", value) if part]
    return []


def jwt_claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    return claims if isinstance(claims, Mapping) else {}


def actor_from_event(event: Mapping[str, Any]) -> Actor:
    claims = jwt_claims(event)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("a signed-in user is required")
    named = set(_as_list(claims.get("cognito:groups"))) | set(
        _as_list(claims.get("custom:role") or claims.get("role"))
    )
    role = next((role for role in _ROLE_ORDER if role.value in named), None)
    if role is None:
        raise Unauthenticated("the token carries no after-sales role")
    merchant_id = claims.get("custom:merchant_id") or claims.get("merchant_id")
    if role is Role.MERCHANT and not merchant_id:
        raise Unauthenticated("a merchant token must carry merchant_id")
    return Actor(role, subject, str(merchant_id) if merchant_id else None)
