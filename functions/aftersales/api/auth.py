"""Who is calling, from the JWT claims the HTTP API's authorizer verified
(``requestContext.authorizer.jwt.claims``).

One claim is authoritative for the role, chosen by the deployment (``ROLE_CLAIM``):

- ``cognito:groups`` (the default): Cognito groups, which only an administrator can change;
- ``custom:role``: only for a user pool whose app clients cannot write that attribute (a deployment
  that says so by setting the template's ``RoleClaim`` parameter).

Every other role-like claim (``custom:role`` under groups, ``role``, ``groups``, ...) is ignored. A
token naming more than one after-sales role is refused: it is never given the most privileged one.
A merchant's id comes from ``MERCHANT_ID_CLAIM`` (``custom:merchant_id``), and only for a caller
whose authoritative role is merchant: it never makes anyone a merchant (docs/decisions/0025).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aftersales.config import get_settings
from aftersales.domain.claim import Actor
from aftersales.domain.model import Role

from .errors import Unauthenticated
from .schemas import ID_MAX_LENGTH, ID_PATTERN

_ROLES = {role.value: role for role in Role if role in (Role.BUYER, Role.MERCHANT, Role.OPS)}
_MERCHANT_ID = re.compile(ID_PATTERN)


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


def role_of(claims: Mapping[str, Any], role_claim: str) -> Role:
    """The one after-sales role named by ``role_claim``; other groups (e.g. ``admins``) are ignored."""
    named = {_ROLES[name] for name in _as_list(claims.get(role_claim)) if name in _ROLES}
    if not named:
        raise Unauthenticated("the token carries no after-sales role")
    if len(named) > 1:
        names = ", ".join(sorted(role.value for role in named))
        raise Unauthenticated(f"the token names more than one after-sales role ({names}); use one per user")
    return named.pop()


def actor_from_claims(
    claims: Mapping[str, Any],
    *,
    role_claim: str = "cognito:groups",
    merchant_id_claim: str = "custom:merchant_id",
) -> Actor:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("a signed-in user is required")
    role = role_of(claims, role_claim)
    if role is not Role.MERCHANT:
        return Actor(role, subject, None)
    merchant_id = claims.get(merchant_id_claim)
    if (
        not isinstance(merchant_id, str)
        or len(merchant_id) > ID_MAX_LENGTH
        or not _MERCHANT_ID.match(merchant_id)
    ):
        raise Unauthenticated(f"a merchant token must carry {merchant_id_claim}")
    return Actor(role, subject, merchant_id)


def actor_from_event(event: Mapping[str, Any]) -> Actor:
    settings = get_settings()
    return actor_from_claims(
        jwt_claims(event), role_claim=settings.role_claim, merchant_id_claim=settings.merchant_id_claim
    )
