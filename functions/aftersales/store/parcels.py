"""Storage of carrier events and parcel tracks (``aftersales.carrier_events`` is the only caller).

Under the waybill's partition ``WAYBILL#<carrier>#<no>``: the ``WAYBILL`` item (which claim, and the
parcel's current status) and one ``PEVT#<event key>`` item per carrier event received, written once.
Under the claim's partition: one ``PARCEL#<event time>#<event key>`` track entry per event applied,
so the claim's one Query (``Repository.get_claim_record``) reads its parcel track too.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.clock import iso
from aftersales.domain.parcels import Leg, ParcelStatus, rank
from aftersales.logistics.model import ParcelEvent

from .models import CarrierEventItem, ParcelTrackItem, WaybillItem, claim_pk, waybill_pk

APPLIED = "applied"
PARKED = "parked"


def get_waybill(carrier: str, waybill: str) -> WaybillItem | None:
    for item in WaybillItem.query(
        waybill_pk(carrier, waybill), WaybillItem.sk == "WAYBILL", consistent_read=True
    ):
        return item
    return None


def receive(event: ParcelEvent, now: datetime) -> tuple[CarrierEventItem, bool]:
    """Store the event once. Returns the stored item and whether this call stored it (False: the
    event was received before; its ``state`` says whether it was applied)."""
    item = CarrierEventItem(
        waybill_pk(event.carrier, event.waybill),
        f"PEVT#{event.key}",
        carrier=event.carrier,
        waybill=event.waybill,
        event_key=event.key,
        status=event.status.value,
        occurred_at=iso(event.occurred_at),
        received_at=iso(now),
        event=event.model_dump_json(),
        state=PARKED,
    )
    try:
        item.save(condition=CarrierEventItem.sk.does_not_exist())
        return item, True
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    stored = CarrierEventItem.get(item.pk, item.sk, consistent_read=True)
    return stored, False


def parked_events(carrier: str, waybill: str) -> list[CarrierEventItem]:
    """The waybill's events not applied yet, oldest event first."""
    found = [
        item
        for item in CarrierEventItem.query(
            waybill_pk(carrier, waybill),
            CarrierEventItem.sk.startswith("PEVT#"),
            consistent_read=True,
        )
        if isinstance(item, CarrierEventItem) and item.state != APPLIED
    ]
    return sorted(found, key=lambda item: (item.occurred_at, item.event_key))


def as_event(item: CarrierEventItem) -> ParcelEvent:
    return ParcelEvent.model_validate_json(item.event)


def advance(waybill: WaybillItem, event: ParcelEvent) -> bool:
    """Move the parcel's status up to the event's, only upwards (a condition on the stored rank, so
    concurrent events cannot move it back). Returns whether this event holds the parcel's status
    now: True too when a retry of this same event finds its own earlier write."""
    new_rank = rank(event.status)
    if new_rank is None:
        return False
    try:
        waybill.update(
            actions=[
                WaybillItem.parcel_status.set(event.status.value),
                WaybillItem.parcel_rank.set(new_rank),
                WaybillItem.parcel_status_at.set(iso(event.occurred_at)),
                WaybillItem.parcel_event_key.set(event.key),
            ],
            condition=WaybillItem.parcel_rank.does_not_exist() | (WaybillItem.parcel_rank < new_rank),
        )
        return True
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    current = get_waybill(waybill.carrier, waybill.waybill)
    return current is not None and current.parcel_event_key == event.key


def record_track(
    claim_id: str, leg: Leg, event: ParcelEvent, now: datetime, *, advanced: bool, actions: list[str]
) -> ParcelTrackItem:
    item = ParcelTrackItem(
        claim_pk(claim_id),
        f"PARCEL#{iso(event.occurred_at)}#{event.key}",
        claim_id=claim_id,
        leg=leg.value,
        carrier=event.carrier,
        waybill=event.waybill,
        status=event.status.value,
        occurred_at=iso(event.occurred_at),
        received_at=iso(now),
        location=event.location,
        description=event.description,
        event_key=event.key,
        advanced=advanced,
        actions=actions,
    )
    item.save()  # same key on a retry: the same entry again
    return item


def mark_applied(item: CarrierEventItem, claim_id: str, now: datetime) -> None:
    item.update(
        actions=[
            CarrierEventItem.state.set(APPLIED),
            CarrierEventItem.claim_id.set(claim_id),
            CarrierEventItem.applied_at.set(iso(now)),
        ]
    )


def parcel_status(waybill: WaybillItem) -> ParcelStatus | None:
    return ParcelStatus(waybill.parcel_status) if waybill.parcel_status else None
