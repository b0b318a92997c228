"""Every action a claim view offers a person (``next_action.your_actions``) has a route that performs it
for that person's role, and every route of the action table is served."""

from __future__ import annotations

import itertools

import pytest
from aftersales.api.routes_common import ACTION_ROUTES
from aftersales.domain.model import ClaimType, Outcome, Role, Status
from aftersales.domain.next_action import next_action
from aftersales.domain.transitions import allowed_actions

PEOPLE = (Role.BUYER, Role.MERCHANT, Role.OPS)


def _offered() -> set[tuple[Status, ClaimType, Role, str]]:
    offered = set()
    for status, claim_type in itertools.product(Status, ClaimType):
        outcome = Outcome.REFUNDED if status is Status.CLOSED else None
        shown = next_action(status, claim_type, [], outcome=outcome)
        for role in PEOPLE:
            offered |= {(status, claim_type, role, action.value) for action in shown.actions.get(role, [])}
    return offered


OFFERED = sorted(_offered())


def test_views_offer_people_actions_at_all():
    assert len(OFFERED) > 40  # the enumeration below is not vacuous


@pytest.mark.parametrize(("status", "claim_type", "role", "action"), OFFERED)
def test_each_offered_action_has_a_route_for_that_role(status, claim_type, role, action):
    routes = [name for name, spec in ACTION_ROUTES.items() if role in spec.roles and action in spec.actions]
    assert routes, f"{role} is offered {action} on a {status} {claim_type} claim, but no route performs it"


def test_every_route_of_the_table_is_served():
    from claims_api.app import app

    served = {route.path for route in app._static_routes + app._dynamic_routes if route.method == "POST"}
    assert {f"/claims/<claim_id>/{name}" for name in ACTION_ROUTES} <= served


@pytest.mark.parametrize("name", sorted(ACTION_ROUTES))
def test_every_route_performs_only_actions_its_roles_may_take_somewhere(name):
    spec = ACTION_ROUTES[name]
    for action in spec.actions:
        takers = {
            role
            for status, claim_type in itertools.product(Status, ClaimType)
            for role in spec.roles
            if action in allowed_actions(status, claim_type, role)
        }
        assert takers, f"{name} offers {action}, which none of {sorted(spec.roles)} may ever take"
