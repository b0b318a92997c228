"""Carrier events move parcels, and parcels move claims (DESIGN §8).

``handle`` takes one normalised event from the queue:

1. store it once under its waybill (``store.parcels.receive``): a duplicate (same carrier and event
   key) finds it applied and changes nothing;
2. find the claim by waybill. None yet: the event stays **parked** under the waybill until a claim
   registers that waybill (``ship``, the shipment actions' way in, applies them) — or, for a
   return the carrier picked up before the buyer told us its waybill, until the event's ``reference``
   (the claim id on the label) registers it;
3. apply every parked event of the waybill, oldest first: advance the parcel's status (only upwards),
   record it on the claim's parcel track, and when the parcel reaches what the claim waits for
   (``domain.parcels``), move the claim through ``claims.act`` as the system. ``exception`` and
   ``returned_to_sender`` alert ops: a timeline entry and ``parcel.alert`` on the service bus.

Whichever comes second of a carrier event and a person's manual route (``/shipment``,
``/return-received``, ``/received``) finds the stage passed: for the carrier that is a no-op.
Every step can run again after a crash without doing anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aftersales import claims
from aftersales.clock import iso
from aftersales.domain.actions import ActionInput, DeliveryInput, ShipmentInput
from aftersales.domain.claim import Actor
from aftersales.domain.errors import DomainError, IllegalTransition
from aftersales.domain.model import Action, Status
from aftersales.domain.parcels import Leg, claim_actions, is_alert
from aftersales.events import Event, Publisher, default_publisher, event
from aftersales.logistics.model import ParcelEvent
from aftersales.observability import logger
from aftersales.service_errors import NotFound
from aftersales.store import Repository, default_repository, parcels
from aftersales.store.models import CarrierEventItem, WaybillItem

CARRIER = Actor.system("carrier")
ALERT_EVENT = "parcel.alert"


@dataclass
class Handled:
    """What became of one event: ``duplicate``, ``parked`` or ``applied`` (with the claim actions
    the waybill's events took)."""

    outcome: str
    claim_id: str | None = None
    actions: list[str] = field(default_factory=list)


def handle(
    parcel: ParcelEvent,
    now: datetime,
    *,
    repo: Repository | None = None,
    publisher: Publisher | None = None,
) -> Handled:
    repo = repo or default_repository()
    with repo.bound():
        item, _ = parcels.receive(parcel, now)
        if item.state == parcels.APPLIED:
            logger.info("duplicate carrier event", extra={"event_key": parcel.key, "claim_id": item.claim_id})
            return Handled("duplicate", item.claim_id)
        waybill = parcels.get_waybill(parcel.carrier, parcel.waybill)
    if waybill is None and parcel.reference:
        _register_by_reference(parcel, now, repo)  # its shipment action applies the parked events
        with repo.bound():
            waybill = parcels.get_waybill(parcel.carrier, parcel.waybill)
    if waybill is None:
        logger.info(
            "carrier event parked: no claim has this waybill yet",
            extra={"carrier": parcel.carrier, "event_key": parcel.key},
        )
        return Handled("parked")
    actions = apply_parked(parcel.carrier, parcel.waybill, now, repo=repo, publisher=publisher)
    return Handled("applied", waybill.claim_id, actions)


def ship(
    claim_id: str,
    actor: Actor,
    action: Action | Callable[[Status], Action],
    given: ActionInput | None,
    now: datetime,
    *,
    repo: Repository | None = None,
) -> claims.ActResult:
    """A shipment action (the buyer's return, a replacement, repaired goods) through ``claims.act``;
    then the carrier events that arrived for its waybill before it was registered apply. The shipment
    is committed either way: events left parked are applied by the waybill's next event."""
    repo = repo or default_repository()
    result = claims.act(claim_id, actor, action, given, now, repo=repo)
    if isinstance(given, ShipmentInput) and given.carrier and given.waybill:
        try:
            apply_parked(given.carrier, given.waybill, now, repo=repo)
        except Exception:
            logger.exception("parked carrier events not applied", extra={"claim_id": claim_id})
    return result


def apply_parked(
    carrier: str,
    waybill_no: str,
    now: datetime,
    *,
    repo: Repository | None = None,
    publisher: Publisher | None = None,
) -> list[str]:
    """Apply the waybill's events not applied yet, oldest first; returns the claim actions taken."""
    repo = repo or default_repository()
    with repo.bound():
        waybill = parcels.get_waybill(carrier, waybill_no)
        pending = parcels.parked_events(carrier, waybill_no) if waybill is not None else []
    taken: list[str] = []
    for item in pending:
        assert waybill is not None
        taken += _apply(item, waybill, now, repo, publisher)
    return taken


def _apply(
    item: CarrierEventItem, waybill: WaybillItem, now: datetime, repo: Repository, publisher: Publisher | None
) -> list[str]:
    parcel = parcels.as_event(item)
    leg = Leg(waybill.direction)
    with repo.bound():
        advanced = parcels.advance(waybill, parcel)
    actions = _move_claim(waybill.claim_id, leg, parcel, now, repo) if advanced else []
    if is_alert(parcel.status):
        _alert(waybill.claim_id, leg, parcel, now, repo, publisher or default_publisher())
    with repo.bound():
        parcels.record_track(waybill.claim_id, leg, parcel, now, advanced=advanced, actions=actions)
        parcels.mark_applied(item, waybill.claim_id, now)
    logger.info(
        "carrier event applied",
        extra={
            "claim_id": waybill.claim_id,
            "status": parcel.status.value,
            "advanced": advanced,
            "actions": actions,
        },
    )
    return actions


def _move_claim(claim_id: str, leg: Leg, parcel: ParcelEvent, now: datetime, repo: Repository) -> list[str]:
    try:
        claim = claims.read(claim_id, CARRIER, repo=repo)
    except NotFound:
        logger.warning("waybill names a claim that does not exist", extra={"claim_id": claim_id})
        return []
    shipment = claim.return_shipment if leg is Leg.RETURN else claim.outbound_shipment
    if shipment is not None and shipment.waybill != parcel.waybill:
        return []  # an earlier parcel of the claim (a reopened repair ships again)
    taken: list[str] = []
    for action in claim_actions(leg, parcel.status, claim.status):
        try:
            claims.act(claim_id, CARRIER, action, _payload(action, parcel, now), now, repo=repo)
        except IllegalTransition:
            # Someone moved the claim first (a manual route, or this event applied a moment ago).
            logger.info("claim stage already passed", extra={"claim_id": claim_id, "action": action.value})
            break
        taken.append(action.value)
    return taken


def _payload(action: Action, parcel: ParcelEvent, now: datetime) -> ActionInput:
    note = f"{parcel.source or parcel.carrier}: {parcel.status.value}"
    if action is Action.SHIP_RETURN:
        return ShipmentInput(carrier=parcel.carrier, waybill=parcel.waybill, note=note)
    if action in (Action.RETURN_DELIVERED, Action.OUTBOUND_DELIVERED):
        # The next stage's clock (the merchant's inspection) starts when the goods arrived, never later
        # than now (a carrier's clock may run ahead).
        return DeliveryInput(delivered_at=parcel.occurred_at, note=note)
    return ActionInput(note=note)


def _register_by_reference(parcel: ParcelEvent, now: datetime, repo: Repository) -> None:
    """A return picked up before the buyer gave its waybill: the label's reference names the claim."""
    assert parcel.reference is not None
    try:
        claims.act(
            parcel.reference,
            CARRIER,
            Action.SHIP_RETURN,
            _payload(Action.SHIP_RETURN, parcel, now),
            now,
            repo=repo,
        )
    except DomainError as error:  # no such claim, not waiting for a return, waybill taken
        logger.info(
            "carrier reference does not take the waybill; event parked",
            extra={"reference": parcel.reference, "code": error.code},
        )


def _alert(
    claim_id: str, leg: Leg, parcel: ParcelEvent, now: datetime, repo: Repository, publisher: Publisher
) -> None:
    """A parcel in trouble: one timeline entry (the claim's status stays) and one bus event, once."""
    noted = claims.annotate(
        claim_id,
        CARRIER,
        f"parcel_{parcel.status.value}",
        now,
        note=parcel.description or None,
        details={
            "leg": leg.value,
            "carrier": parcel.carrier,
            "waybill": parcel.waybill,
            "status": parcel.status.value,
            "occurred_at": iso(parcel.occurred_at),
            "location": parcel.location,
        },
        once_key=parcel.key,
        repo=repo,
    )
    if noted is None:
        return  # alerted already (a retry after a crash)
    alert = event(
        ALERT_EVENT,
        now,
        claim_id=claim_id,
        leg=leg.value,
        carrier=parcel.carrier,
        waybill=parcel.waybill,
        status=parcel.status.value,
        claim_status=noted.status.value,
        event_key=f"{claim_id}:{parcel.key}",
    )
    _publish(publisher, [alert])
    logger.warning("parcel alert", extra={"claim_id": claim_id, "status": parcel.status.value})


def _publish(publisher: Publisher, alerts: list[Event]) -> None:
    """The alert is on the timeline already; a bus that cannot be reached must not undo the event."""
    try:
        publisher.publish(alerts)
    except Exception:
        logger.exception("parcel alert not published; it is on the claim's timeline")
