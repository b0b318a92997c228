"""Shared by the route modules: run one action and answer with the updated claim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales import claims, clock
from aftersales.domain.actions import ActionInput
from aftersales.domain.claim import Actor
from aftersales.domain.model import Action, Role, Status
from aftersales.service_errors import NotFound

from .http import current_actor
from .views import claim_view


def perform(
    router: Router,
    claim_id: str,
    action: Action | Callable[[Status], Action],
    given: ActionInput | None = None,
) -> dict[str, Any]:
    actor = current_actor(router)
    # claims.act resumes the waiting workflow run itself when this change cleared its token.
    result = claims.act(claim_id, actor, action, given, clock.now())
    return claim_view(result.claim, actor)


def require_role(router: Router, *roles: Role) -> Actor:
    """Routes of another role do not exist for the caller: 404, like a claim that is not theirs."""
    actor = current_actor(router)
    if actor.role not in roles:
        raise NotFound("no such resource")
    return actor
