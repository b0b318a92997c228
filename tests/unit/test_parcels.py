"""The parcel rules: status order, what a claim waits for, which actions an event takes it through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aftersales.domain.model import Action, ClaimType, Role, Status
from aftersales.domain.parcels import (
    WAITS_FOR,
    Leg,
    ParcelStatus,
    advances,
    claim_actions,
    event_key,
    is_alert,
)
from aftersales.domain.transitions import transition
from hypothesis import given
from hypothesis import strategies as st

P = ParcelStatus


def test_progress_only_moves_up_and_exception_never_moves_it() -> None:
    assert advances(None, P.PICKED_UP) and advances(P.PICKED_UP, P.DELIVERED)
    assert not advances(P.DELIVERED, P.IN_TRANSIT)  # the late in_transit
    assert not advances(P.DELIVERED, P.DELIVERED)
    assert not advances(P.IN_TRANSIT, P.EXCEPTION) and not advances(None, P.EXCEPTION)
    assert advances(P.DELIVERED, P.RETURNED_TO_SENDER) and not advances(P.RETURNED_TO_SENDER, P.DELIVERED)
    assert is_alert(P.EXCEPTION) and is_alert(P.RETURNED_TO_SENDER) and not is_alert(P.DELIVERED)


@pytest.mark.parametrize(
    ("leg", "parcel", "claim", "actions"),
    [
        (Leg.RETURN, P.PICKED_UP, Status.AWAITING_RETURN_SHIPMENT, [Action.SHIP_RETURN]),
        (Leg.RETURN, P.IN_TRANSIT, Status.AWAITING_RETURN_SHIPMENT, [Action.SHIP_RETURN]),
        (
            Leg.RETURN,
            P.DELIVERED,
            Status.AWAITING_RETURN_SHIPMENT,
            [Action.SHIP_RETURN, Action.RETURN_DELIVERED],
        ),
        (Leg.RETURN, P.IN_TRANSIT, Status.RETURN_IN_TRANSIT, []),
        (Leg.RETURN, P.DELIVERED, Status.RETURN_IN_TRANSIT, [Action.RETURN_DELIVERED]),
        (Leg.RETURN, P.DELIVERED, Status.AWAITING_INSPECTION, []),  # the merchant said so first
        (Leg.RETURN, P.RETURNED_TO_SENDER, Status.AWAITING_RETURN_SHIPMENT, []),
        (Leg.RETURN, P.RETURNED_TO_SENDER, Status.RETURN_IN_TRANSIT, []),
        (Leg.RETURN, P.EXCEPTION, Status.RETURN_IN_TRANSIT, []),
        (Leg.OUTBOUND, P.OUT_FOR_DELIVERY, Status.OUTBOUND_IN_TRANSIT, []),
        (Leg.OUTBOUND, P.DELIVERED, Status.OUTBOUND_IN_TRANSIT, [Action.OUTBOUND_DELIVERED]),
        (Leg.OUTBOUND, P.DELIVERED, Status.AWAITING_BUYER_CONFIRMATION, []),
        (Leg.OUTBOUND, P.DELIVERED, Status.RETURN_IN_TRANSIT, []),  # the other leg's stage
    ],
)
def test_claim_actions(leg: Leg, parcel: ParcelStatus, claim: Status, actions: list[Action]) -> None:
    assert claim_actions(leg, parcel, claim) == actions


@pytest.mark.parametrize("claim_type", [ClaimType.RETURN_REFUND, ClaimType.EXCHANGE, ClaimType.REPAIR])
def test_every_carrier_action_is_a_legal_system_transition(claim_type: ClaimType) -> None:
    for (_, status), (_, action) in WAITS_FOR.items():
        if status is Status.OUTBOUND_IN_TRANSIT and claim_type is ClaimType.RETURN_REFUND:
            continue
        moved = transition(status, action, Role.SYSTEM, claim_type)
        assert moved.changes_status


def test_event_key_is_the_provider_id_or_a_stable_hash() -> None:
    at = datetime(2026, 11, 21, 2, 15, tzinfo=UTC)
    assert event_key("abc", "SF1", P.DELIVERED, at) == "id:abc"
    beijing = at.astimezone(datetime.now().astimezone().tzinfo)
    assert event_key(None, "SF1", P.DELIVERED, at) == event_key(None, "SF1", P.DELIVERED, beijing)
    assert event_key(None, "SF1", P.DELIVERED, at) != event_key(
        None, "SF1", P.DELIVERED, at + timedelta(seconds=1)
    )
    assert event_key(None, "SF1", P.DELIVERED, at) != event_key(None, "SF1", P.IN_TRANSIT, at)


_AFTER_ACTION = {
    Action.SHIP_RETURN: Status.RETURN_IN_TRANSIT,
    Action.RETURN_DELIVERED: Status.AWAITING_INSPECTION,
    Action.OUTBOUND_DELIVERED: Status.AWAITING_BUYER_CONFIRMATION,
}


def _replay(events: list[ParcelStatus], claim: Status, leg: Leg) -> tuple[ParcelStatus | None, Status]:
    """What the consumer does, without storage: advance the parcel, act on the events that advance it."""
    parcel: ParcelStatus | None = None
    for status in events:
        if not advances(parcel, status):
            continue
        parcel = status
        for action in claim_actions(leg, status, claim):
            claim = _AFTER_ACTION[action]
    return parcel, claim


NOT_SENT_BACK = [s for s in ParcelStatus if s is not ParcelStatus.RETURNED_TO_SENDER]


@given(st.lists(st.sampled_from(NOT_SENT_BACK), max_size=8), st.randoms())
def test_any_order_of_the_same_events_ends_the_same(events: list[ParcelStatus], rnd: Any) -> None:
    """Reordering (SQS is not FIFO) changes nothing: the parcel and the claim end where the furthest
    status takes them. (A return to sender ranks last: whether the delivery came before it is exactly
    what order decides, so it is left out.)"""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    for start in (Status.AWAITING_RETURN_SHIPMENT, Status.RETURN_IN_TRANSIT):
        assert _replay(events, start, Leg.RETURN) == _replay(shuffled, start, Leg.RETURN)
