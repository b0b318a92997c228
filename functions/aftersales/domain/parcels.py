"""Parcels: the rules that turn carrier events into claim actions (DESIGN §8).

A parcel travels one leg of a claim: the **return** (buyer → merchant) or the **outbound** leg
(replacement or repaired goods, merchant → buyer). Its progress is a small ordered scale; an event
below the parcel's current rank is recorded on its track but moves nothing (a late ``in_transit``
after ``delivered``). ``exception`` has no rank: it alerts ops and leaves the parcel where it was.
``returned_to_sender`` ranks above ``delivered``: a parcel on its way back must not count as
delivered to the receiver by a later event.

Pure: no AWS, no storage. ``claim_actions`` says what a claim in a given status does with an event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from .model import Action, Status


class ParcelStatus(StrEnum):
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class Leg(StrEnum):
    RETURN = "return"  # buyer → merchant (the WaybillItem's direction)
    OUTBOUND = "outbound"  # merchant → buyer: a replacement, or the repaired goods


RANK: dict[ParcelStatus, int] = {
    ParcelStatus.PICKED_UP: 1,
    ParcelStatus.IN_TRANSIT: 2,
    ParcelStatus.OUT_FOR_DELIVERY: 3,
    ParcelStatus.DELIVERED: 4,
    ParcelStatus.RETURNED_TO_SENDER: 5,
}
ALERTS = frozenset({ParcelStatus.EXCEPTION, ParcelStatus.RETURNED_TO_SENDER})


@dataclass(frozen=True)
class TrackEntry:
    """One carrier event on a claim's parcel track."""

    leg: Leg
    carrier: str
    waybill: str
    status: ParcelStatus
    occurred_at: datetime
    received_at: datetime
    location: str = ""
    description: str = ""
    advanced: bool = False  # False: behind the parcel's state when it arrived, recorded only
    actions: tuple[str, ...] = ()  # the claim actions it took


# What the claim waits for from the parcel of each leg, by claim status: the status the parcel must
# reach, and the action that moves the claim on.
WAITS_FOR: dict[tuple[Leg, Status], tuple[ParcelStatus, Action]] = {
    (Leg.RETURN, Status.AWAITING_RETURN_SHIPMENT): (ParcelStatus.PICKED_UP, Action.SHIP_RETURN),
    (Leg.RETURN, Status.RETURN_IN_TRANSIT): (ParcelStatus.DELIVERED, Action.RETURN_DELIVERED),
    (Leg.OUTBOUND, Status.OUTBOUND_IN_TRANSIT): (ParcelStatus.DELIVERED, Action.OUTBOUND_DELIVERED),
}
# Where each of those actions leaves the claim (the transition table says the same; checked by a test).
_AFTER = {
    Action.SHIP_RETURN: Status.RETURN_IN_TRANSIT,
    Action.RETURN_DELIVERED: Status.AWAITING_INSPECTION,
    Action.OUTBOUND_DELIVERED: Status.AWAITING_BUYER_CONFIRMATION,
}


def rank(status: ParcelStatus) -> int | None:
    return RANK.get(status)


def advances(current: ParcelStatus | None, new: ParcelStatus) -> bool:
    """Whether ``new`` moves a parcel now at ``current`` forward. Unranked statuses never do."""
    new_rank = RANK.get(new)
    if new_rank is None:
        return False
    current_rank = RANK.get(current) if current is not None else None
    return current_rank is None or new_rank > current_rank


def reached(status: ParcelStatus, wanted: ParcelStatus) -> bool:
    """A parcel at ``status`` has reached ``wanted`` (delivered implies picked up). A parcel on its way
    back to the sender reaches nothing a claim waits for: it is an alert for ops."""
    if status is ParcelStatus.RETURNED_TO_SENDER:
        return False
    have, need = RANK.get(status), RANK.get(wanted)
    return have is not None and need is not None and have >= need


def claim_actions(leg: Leg, status: ParcelStatus, claim_status: Status) -> list[Action]:
    """The actions, in order, that a parcel event at ``status`` takes a claim in ``claim_status``
    through. A return parcel already delivered when its claim still waits for the shipment gives
    both steps; a claim that waits for nothing from this leg (a manual route came first) gives none."""
    actions: list[Action] = []
    current = claim_status
    while (waiting := WAITS_FOR.get((leg, current))) is not None:
        wanted, action = waiting
        if not reached(status, wanted):
            break
        actions.append(action)
        current = _AFTER[action]
    return actions


def is_alert(status: ParcelStatus) -> bool:
    return status in ALERTS


def event_key(
    provider_event_id: str | None, waybill: str, status: ParcelStatus, occurred_at: datetime
) -> str:
    """What makes a carrier event unique (with its carrier): the provider's event id, or for carriers
    that send none a hash of waybill, status and event time (a re-sent push hashes the same)."""
    if provider_event_id:
        return f"id:{provider_event_id}"
    digest = hashlib.sha256(
        f"{waybill}|{status.value}|{occurred_at.astimezone(UTC).isoformat()}".encode()
    ).hexdigest()
    return f"h:{digest[:32]}"
