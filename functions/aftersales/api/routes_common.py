"""Shared by the route modules: which route performs which actions for which roles (one table), and
running one action to answer with the updated claim."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales import claims, clock
from aftersales.domain.actions import ActionInput
from aftersales.domain.claim import Actor
from aftersales.domain.model import Action, Role, Status
from aftersales.service_errors import NotFound

from .http import current_actor
from .views import claim_view

A = Action
BUYER, MERCHANT, OPS = Role.BUYER, Role.MERCHANT, Role.OPS


@dataclass(frozen=True)
class ActionRoute:
    roles: frozenset[Role]
    actions: frozenset[Action]


def _route(roles: set[Role], actions: set[Action]) -> ActionRoute:
    return ActionRoute(frozenset(roles), frozenset(actions))


# ``POST /claims/{claim_id}/<name>``: who may call it and the actions it performs. Every action the
# transition table lets a person take is performed by one of these (tests/unit/test_action_routes.py),
# so no claim view offers an action nobody can take.
ACTION_ROUTES: dict[str, ActionRoute] = {
    "shipment": _route({BUYER}, {A.SHIP_RETURN}),
    "cancel": _route({BUYER}, {A.CANCEL}),
    "accept": _route({BUYER}, {A.ACCEPT_QUOTE, A.CONFIRM}),
    "dispute": _route({BUYER}, {A.DISPUTE, A.DECLINE_QUOTE, A.REOPEN}),
    "received": _route({BUYER}, {A.OUTBOUND_DELIVERED}),
    "rating": _route({BUYER}, {A.RATE}),
    "decision": _route({MERCHANT, OPS}, {A.APPROVE, A.REJECT}),
    "return-received": _route({MERCHANT}, {A.RETURN_DELIVERED}),
    "inspection": _route({MERCHANT, OPS}, {A.INSPECT_PASS, A.INSPECT_FAIL}),
    "repair": _route({MERCHANT}, {A.QUOTE_REPAIR, A.COMPLETE_REPAIR}),
    "replacement": _route({MERCHANT, OPS}, {A.SHIP_REPLACEMENT, A.SHIP_BACK}),
    "extension": _route({MERCHANT}, {A.EXTEND}),
    "escalate": _route({OPS}, {A.ESCALATE}),
    "ruling": _route({OPS}, {A.RULING_REFUND, A.RULING_DISMISS}),
    "opinion": _route({OPS}, {A.GIVE_OPINION}),
    "refund-retry": _route({OPS}, {A.RETRY_REFUND}),
    "messages": _route({BUYER, MERCHANT, OPS}, {A.MESSAGE}),
    "pause": _route({OPS}, {A.PAUSE_CLOCK}),
    "unpause": _route({OPS}, {A.RESUME_CLOCK}),
    "buyer-delay": _route({OPS}, {A.FIND_BUYER_DELAY}),
}


def perform(
    router: Router,
    route: str,
    claim_id: str,
    action: Action | Callable[[Status], Action],
    given: ActionInput | None = None,
    *,
    via: Callable[..., claims.ActResult] = claims.act,
) -> dict[str, Any]:
    """``route`` (a key of ``ACTION_ROUTES``) performs ``action`` for the caller, if the caller's role
    may call it, through ``via`` (the claim service, or a use case built on it: a shipment applies
    carrier events that were waiting for its waybill); the answer is the claim after the change."""
    spec = ACTION_ROUTES[route]
    actor = require_role(router, *spec.roles)

    def checked(status: Status) -> Action:
        taken = action if isinstance(action, Action) else action(status)
        if taken not in spec.actions:  # a route performing what its row does not say: our bug
            raise RuntimeError(f"{route} does not perform {taken}")
        return taken

    # claims.act resumes the waiting workflow run itself when this change cleared its token.
    result = via(claim_id, actor, checked, given, clock.now())
    return claim_view(result.claim, actor)


def require_role(router: Router, *roles: Role) -> Actor:
    """Routes of another role do not exist for the caller: 404, like a claim that is not theirs."""
    actor = current_actor(router)
    if actor.role not in roles:
        raise NotFound("no such resource")
    return actor
