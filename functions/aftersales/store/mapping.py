"""Conversions between stored items and the domain's plain data."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.expressions.operand import Path

from aftersales.clock import iso, parse_instant
from aftersales.domain.calendar import CalendarLayer
from aftersales.domain.claim import Claim, PenaltyDay, Shipment, TimelineEntry, WaybillRegistration
from aftersales.domain.deadlines import Deadline
from aftersales.domain.model import (
    ClaimType,
    EscalationLevel,
    ExistingClaim,
    Order,
    OrderLine,
    Outcome,
    PartKind,
    Payer,
    Reason,
    Role,
    Status,
)
from aftersales.domain.parcels import Leg, ParcelStatus, TrackEntry
from aftersales.domain.policy import DeadlineKind, Layer, LayerKind, LayerRef, LayerVersion, OnExpiry
from aftersales.domain.standing import RiskPeriods, RiskVerdict

from .models import (
    POLICY_HEADS_PK,
    ClaimItem,
    ClaimRefItem,
    DeadlineItem,
    LayerRefMap,
    LinesCountedItem,
    MerchantStatItem,
    OrderItem,
    OrderLineMap,
    ParcelTrackItem,
    PenaltyDayItem,
    PolicyHeadItem,
    PolicyVersionItem,
    RiskWarningItem,
    RunSyncItem,
    ShipmentMap,
    TableItem,
    TimelineItem,
    WaybillItem,
    claim_pk,
    order_pk,
    policy_pk,
    waybill_pk,
)


def due_shard(claim_id: str, shards: int) -> str:
    """The due-index partition of a claim's deadlines: a stable hash, so writes spread over ``shards``."""
    return f"due#{zlib.crc32(claim_id.encode()) % shards}"


def run_sync_item(claim: Claim, *, check_at: datetime, marked_at: datetime, shards: int) -> RunSyncItem:
    """The mark "this claim's run is not yet seen to follow its change", due for a check at ``check_at``
    on the sparse sync-index (the shard hash is the due-index's)."""
    return RunSyncItem(
        claim_pk(claim.claim_id),
        "RUNSYNC",
        claim_id=claim.claim_id,
        claim_version=claim.version,
        status=claim.status.value,
        marked_at=iso(marked_at),
        sync_pk="sync#" + due_shard(claim.claim_id, shards).split("#", 1)[1],
        sync_at=iso(check_at),
    )


def _opt_time(value: str | None) -> datetime | None:
    return parse_instant(value) if value else None


def _opt_iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


def order_to_item(order: Order, *, source: str, now: datetime) -> OrderItem:
    return OrderItem(
        order_pk(order.order_id),
        "ORDER",
        order_id=order.order_id,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        paid_at=iso(order.paid_at),
        delivered_at=_opt_iso(order.delivered_at),
        lines=[
            OrderLineMap(  # type: ignore[no-untyped-call]
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                category=line.category,
                quantity=line.quantity,
                paid_fen=line.paid_fen,
                part_kind=line.part_kind.value,
            )
            for line in order.lines
        ],
        buyer_phone=order.buyer_phone or None,
        shipping_address=order.shipping_address or None,
        source=source,
        imported_at=iso(now),
    )


def item_to_order(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id,
        buyer_id=item.buyer_id,
        merchant_id=item.merchant_id,
        paid_at=parse_instant(item.paid_at),
        delivered_at=_opt_time(item.delivered_at),
        lines=tuple(
            OrderLine(
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                category=line.category,
                quantity=int(line.quantity),
                paid_fen=int(line.paid_fen),
                part_kind=PartKind(line.part_kind),
            )
            for line in item.lines
        ),
        buyer_phone=item.buyer_phone or "",
        shipping_address=item.shipping_address or "",
    )


def ref_to_existing(item: ClaimRefItem) -> ExistingClaim:
    return ExistingClaim(
        claim_id=item.claim_id,
        line_id=item.line_id,
        quantity=int(item.quantity),
        status=Status(item.status),
        outcome=Outcome(item.outcome) if item.outcome else None,
    )


def deadline_to_item(claim_id: str, deadline: Deadline, *, shards: int) -> DeadlineItem:
    """An open deadline carries the due-index keys; a met one does not, so it leaves the index."""
    item = DeadlineItem(
        claim_pk(claim_id),
        f"DL#{deadline.kind.value}",
        claim_id=claim_id,
        kind=deadline.kind.value,
        owner=deadline.owner.value,
        started_at=iso(deadline.started_at),
        deadline_at=iso(deadline.due_at),
        on_expiry=deadline.on_expiry.value,
        penalty=deadline.penalty,
        source=deadline.source,
        policy_version=deadline.policy_version,
        calendar_fallback=deadline.calendar_fallback,
        calendar_layer=deadline.calendar_layer.value if deadline.calendar_layer else None,
        extension_reason=deadline.extension_reason,
        paused_since=_opt_iso(deadline.paused_since),
        paused_seconds=deadline.paused_seconds,
        met_at=_opt_iso(deadline.met_at),
        buyer_caused_delay=deadline.buyer_caused_delay,
        instance=deadline.instance,
        escalated_at=_opt_iso(deadline.escalated_at),
    )
    # A paused deadline cannot expire, so it stays out of the due index until it resumes.
    if deadline.is_open and deadline.paused_since is None:
        item.due_pk = due_shard(claim_id, shards)
        item.due_at = iso(deadline.due_at)
    return item


def _calendar_layer(item: DeadlineItem) -> CalendarLayer | None:
    """Items written before layers were recorded only say whether Monday-Friday stood in."""
    if item.calendar_layer:
        return CalendarLayer(item.calendar_layer)
    return CalendarLayer.WEEKDAYS if item.calendar_fallback else None


def item_to_deadline(item: DeadlineItem) -> Deadline:
    return Deadline(
        kind=DeadlineKind(item.kind),
        owner=Role(item.owner),
        started_at=parse_instant(item.started_at),
        due_at=parse_instant(item.deadline_at),
        on_expiry=OnExpiry(item.on_expiry),
        penalty=bool(item.penalty),
        source=item.source,
        policy_version=item.policy_version,
        calendar_layer=_calendar_layer(item),
        extension_reason=item.extension_reason,
        paused_since=_opt_time(item.paused_since),
        paused_seconds=int(item.paused_seconds or 0),
        met_at=_opt_time(item.met_at),
        buyer_caused_delay=bool(item.buyer_caused_delay),
        instance=int(item.instance or 1),
        escalated_at=_opt_time(item.escalated_at),
    )


# --------------------------------------------------------------------------- claims


def _shipment_to_map(shipment: Shipment | None) -> ShipmentMap | None:
    if shipment is None:
        return None
    value = ShipmentMap(carrier=shipment.carrier, waybill=shipment.waybill, at=iso(shipment.at))  # type: ignore[no-untyped-call]
    if shipment.fee_fen is not None:
        value.fee_fen = shipment.fee_fen
    return value


def _map_to_shipment(value: ShipmentMap | None) -> Shipment | None:
    if value is None:
        return None
    fee = getattr(value, "fee_fen", None)
    return Shipment(value.carrier, value.waybill, parse_instant(value.at), None if fee is None else int(fee))


def _plain(value: Any) -> Any:
    """Details as stored: datetimes as ISO instants, enums as their values, tuples as lists."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def item_to_claim(item: ClaimItem) -> Claim:
    rating = item.rating.as_dict() if item.rating is not None else None  # type: ignore[no-untyped-call]
    return Claim(
        claim_id=item.claim_id,
        order_id=item.order_id,
        line_id=item.line_id,
        buyer_id=item.buyer_id,
        merchant_id=item.merchant_id,
        category=item.category,
        claim_type=ClaimType(item.claim_type),
        reason=Reason(item.reason),
        quantity=int(item.quantity),
        status=Status(item.status),
        amount_fen=int(item.amount_fen),
        shipping_payer=Payer(item.shipping_payer),
        repair_payer=Payer(item.repair_payer or Payer.NONE),
        policy_version=item.policy_version,
        created_at=parse_instant(item.created_at or item.updated_at),
        updated_at=parse_instant(item.updated_at),
        version=int(item.version or 0),
        description=item.description or "",
        urgent=bool(item.urgent),
        evidence_keys=tuple(str(key) for key in item.evidence_keys or ()),
        outcome=Outcome(item.outcome) if item.outcome else None,
        refund_fen=_opt_int(item.refund_fen),
        refund_payer=item.refund_payer,
        ship_back_payer=Payer(item.ship_back_payer) if item.ship_back_payer else None,
        quote_fen=_opt_int(item.quote_fen),
        liability=item.liability,
        escalation_level=EscalationLevel(item.escalation_level or EscalationLevel.AGENT),
        reopen_count=int(item.reopen_count or 0),
        penalty_total_fen=int(item.penalty_total_fen or 0),
        refund_seq=int(item.refund_seq or 0),
        refund_declined=bool(item.refund_declined),
        task_token=item.task_token,
        task_stage=item.task_stage,
        parked_reason=item.parked_reason,
        rma_number=item.rma_number,
        return_address=item.return_address,
        return_shipment=_map_to_shipment(item.return_shipment),
        outbound_shipment=_map_to_shipment(item.outbound_shipment),
        rating=dict(rating) if rating is not None else None,
        policy_layers=tuple(_map_to_layer_ref(ref) for ref in item.policy_layers or ()),
        product=item.product,
    )


def _map_to_layer_ref(ref: LayerRefMap) -> LayerRef:
    return LayerRef(Layer(LayerKind(ref.kind), ref.owner or ""), int(ref.version))


def _layer_ref_to_map(ref: LayerRef) -> LayerRefMap:
    return LayerRefMap(kind=ref.layer.kind.value, owner=ref.layer.owner, version=ref.version)  # type: ignore[no-untyped-call]


def layer_version_items(saved: LayerVersion) -> tuple[PolicyVersionItem, PolicyHeadItem]:
    """The immutable version item and the layer's head item pointing at it (same content)."""
    layer, number = saved.ref.layer, saved.ref.version
    fields: dict[str, Any] = {
        "layer_kind": layer.kind.value,
        "layer_owner": layer.owner,
        "layer_version": number,
        "content": json.dumps(saved.content, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        "saved_by": saved.saved_by,
        "saved_at": iso(saved.saved_at),
        "note": saved.note,
    }
    return (
        PolicyVersionItem(policy_pk(layer.key), policy_version_key(number), **fields),
        PolicyHeadItem(POLICY_HEADS_PK, layer.key, **fields),
    )


def policy_version_key(number: int) -> str:
    return f"V#{number:06d}"


def item_to_layer_version(item: PolicyVersionItem | PolicyHeadItem) -> LayerVersion:
    layer = Layer(LayerKind(item.layer_kind), item.layer_owner or "")
    return LayerVersion(
        LayerRef(layer, int(item.layer_version)),
        json.loads(item.content),
        item.saved_by,
        parse_instant(item.saved_at),
        item.note or "",
    )


def claim_to_item(claim: Claim, *, read_version: int | None) -> ClaimItem:
    """The item to put for ``claim``; pynamodb conditions the put on ``read_version`` (None: new) and
    stores ``read_version + 1``, which is ``claim.version``."""
    created = iso(claim.created_at)
    item = ClaimItem(
        claim_pk(claim.claim_id),
        "CLAIM",
        claim_id=claim.claim_id,
        order_id=claim.order_id,
        line_id=claim.line_id,
        buyer_id=claim.buyer_id,
        merchant_id=claim.merchant_id,
        category=claim.category,
        claim_type=claim.claim_type.value,
        reason=claim.reason.value,
        quantity=claim.quantity,
        description=claim.description,
        urgent=claim.urgent,
        evidence_keys=list(claim.evidence_keys),
        status=claim.status.value,
        outcome=claim.outcome.value if claim.outcome else None,
        amount_fen=claim.amount_fen,
        refund_fen=claim.refund_fen,
        refund_payer=claim.refund_payer,
        shipping_payer=claim.shipping_payer.value,
        repair_payer=claim.repair_payer.value,
        quote_fen=claim.quote_fen,
        ship_back_payer=claim.ship_back_payer.value if claim.ship_back_payer else None,
        liability=claim.liability,
        policy_version=claim.policy_version,
        escalation_level=claim.escalation_level.value,
        reopen_count=claim.reopen_count,
        penalty_total_fen=claim.penalty_total_fen,
        refund_seq=claim.refund_seq,
        refund_declined=claim.refund_declined,
        task_token=claim.task_token,
        task_stage=claim.task_stage,
        parked_reason=claim.parked_reason,
        rma_number=claim.rma_number,
        return_address=claim.return_address,
        created_at=created,
        updated_at=iso(claim.updated_at),
        return_shipment=_shipment_to_map(claim.return_shipment),
        outbound_shipment=_shipment_to_map(claim.outbound_shipment),
        rating=dict(claim.rating) if claim.rating is not None else None,
        policy_layers=[_layer_ref_to_map(ref) for ref in claim.policy_layers] or None,
        product=claim.product,
        gsi_buyer_pk=f"BUYER#{claim.buyer_id}",
        gsi_merchant_pk=f"MERCHANT#{claim.merchant_id}",
        gsi_merchant_sk=f"{claim.status.value}#{created}",
    )
    if read_version is not None:
        item.version = read_version
    return item


def timeline_key(at: datetime, claim_version: int) -> str:
    # The version in the key makes every change's entry unique and keeps same-instant entries in order.
    return f"EVT#{iso(at)}#{claim_version:06d}"


def entry_to_item(entry: TimelineEntry) -> TimelineItem:
    return TimelineItem(
        claim_pk(entry.claim_id),
        timeline_key(entry.at, entry.claim_version),
        claim_id=entry.claim_id,
        at=iso(entry.at),
        actor_role=entry.actor_role,
        actor_id=entry.actor_id,
        action=entry.action,
        from_status=entry.from_status.value if entry.from_status else None,
        to_status=entry.to_status.value,
        policy_version=entry.policy_version,
        claim_version=entry.claim_version,
        note=entry.note,
        details=_plain(entry.details) or None,
    )


def item_to_entry(item: TimelineItem) -> TimelineEntry:
    details = item.details.as_dict() if item.details is not None else {}  # type: ignore[no-untyped-call]
    return TimelineEntry(
        claim_id=item.claim_id,
        at=parse_instant(item.at),
        actor_role=item.actor_role,
        actor_id=item.actor_id,
        action=item.action,
        from_status=Status(item.from_status) if item.from_status else None,
        to_status=Status(item.to_status),
        policy_version=item.policy_version,
        claim_version=int(item.claim_version),
        note=item.note,
        details=dict(details),
    )


def item_to_track_entry(item: ParcelTrackItem) -> TrackEntry:
    return TrackEntry(
        leg=Leg(item.leg),
        carrier=item.carrier,
        waybill=item.waybill,
        status=ParcelStatus(item.status),
        occurred_at=parse_instant(item.occurred_at),
        received_at=parse_instant(item.received_at),
        location=item.location or "",
        description=item.description or "",
        advanced=bool(item.advanced),
        actions=tuple(str(action) for action in item.actions or ()),
    )


def item_to_penalty_day(item: PenaltyDayItem) -> PenaltyDay:
    return PenaltyDay(
        ledger_key=item.sk,
        kind=item.kind,
        day=int(item.day),
        amount_fen=int(item.amount_fen),
        accrued_at=parse_instant(item.accrued_at),
    )


def waybill_to_item(registration: WaybillRegistration) -> WaybillItem:
    return WaybillItem(
        waybill_pk(registration.carrier, registration.waybill),
        "WAYBILL",
        carrier=registration.carrier,
        waybill=registration.waybill,
        claim_id=registration.claim_id,
        direction=registration.direction,
        registered_at=iso(registration.registered_at),
    )


def claim_ref(claim: Claim) -> ClaimRefItem:
    """The claim as its order sees it (what eligibility counts)."""
    return ClaimRefItem(
        order_pk(claim.order_id),
        claim_pk(claim.claim_id),
        claim_id=claim.claim_id,
        line_id=claim.line_id,
        quantity=claim.quantity,
        status=claim.status.value,
        outcome=claim.outcome.value if claim.outcome else None,
    )


# --------------------------------------------------------------------------- scorecard counters

MERCHANT_SCOPE = "*"
STAT_PREFIX = "STAT#"


def merchant_pk(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def product_pk(merchant_id: str, product: str) -> str:
    return f"PRODUCT#{merchant_id}#{product}"


def stat_shard(key: str, shards: int) -> int:
    """The shard of a claim's (or an order's) counters: stable, so its retries land on the same item,
    and spread, so concurrent claims of one merchant rarely share an item in their transactions."""
    return zlib.crc32(key.encode()) % shards


StatWrite = tuple[MerchantStatItem, list[Any]]  # an item and the update actions adding to it


def stat_writes(
    merchant_id: str,
    scopes: Mapping[str | None, Mapping[str, int]],
    day: date,
    shard: int,
    *,
    titles: Mapping[str, str] | None = None,
) -> list[StatWrite]:
    """The counter updates of one change (or order): the merchant's (scope None) and each product's,
    on that day's shard; a product's counters also go to its own partition, where its risk reads them."""
    writes: list[StatWrite] = []
    for product, counts in scopes.items():
        if not counts:
            continue
        scope = MERCHANT_SCOPE if product is None else f"P:{product}"
        keys = [(merchant_pk(merchant_id), f"{STAT_PREFIX}{day.isoformat()}#{scope}#{shard}")]
        if product is not None:
            keys.append((product_pk(merchant_id, product), f"{STAT_PREFIX}{day.isoformat()}#{shard}"))
        title = (titles or {}).get(product or "")
        for pk, sk in keys:
            actions: list[Any] = [
                TableItem.item_type.set(MerchantStatItem),
                MerchantStatItem.merchant_id.set(merchant_id),
                MerchantStatItem.day.set(day.isoformat()),
                MerchantStatItem.scope.set(scope),
                MerchantStatItem.shard.set(shard),
            ]
            if title:
                actions.append(MerchantStatItem.title.set(title))
            actions += [Path(name).add(amount) for name, amount in sorted(counts.items())]
            writes.append((MerchantStatItem(pk, sk), actions))
    return writes


_STAT_FIELDS = {"pk", "sk", "item_type", "merchant_id", "day", "scope", "shard", "title"}


@dataclass(frozen=True)
class StatDay:
    """One stored shard of a day's counters, read raw."""

    day: date
    product: str | None  # None: the merchant's own counters
    counters: dict[str, int]
    title: str | None = None


def raw_to_stat_day(raw: Mapping[str, Any]) -> StatDay:
    """A stat item as DynamoDB returns it (every attribute, the counters among them)."""
    plain = {name: next(iter(value.values())) for name, value in raw.items()}
    scope = str(plain.get("scope", MERCHANT_SCOPE))
    counters = {name: int(value) for name, value in plain.items() if name not in _STAT_FIELDS}
    return StatDay(
        day=date.fromisoformat(str(plain["day"])),
        product=None if scope == MERCHANT_SCOPE else scope.removeprefix("P:"),
        counters=counters,
        title=str(plain["title"]) if plain.get("title") else None,
    )


def lines_counted_item(order_id: str, part: int) -> LinesCountedItem:
    return LinesCountedItem(order_pk(order_id), f"LINES#{part}", order_id=order_id)


# --------------------------------------------------------------------------- product risk


def risk_state_key(merchant_id: str, product: str) -> tuple[str, str]:
    return product_pk(merchant_id, product), "RISK"


def risk_warning_item(
    merchant_id: str, product: str, episode: int, verdict: RiskVerdict, periods: RiskPeriods, now: datetime
) -> RiskWarningItem:
    raised = iso(now)
    return RiskWarningItem(
        "RISK",
        f"{raised}#{merchant_id}#{product}",
        merchant_id=merchant_id,
        product=product,
        episode=episode,
        raised_at=raised,
        window_first=periods.window.first.isoformat(),
        window_last=periods.window.last.isoformat(),
        window_returns=verdict.window_returns,
        window_lines_sold=verdict.window_lines_sold,
        baseline_returns=verdict.baseline_returns,
        baseline_lines_sold=verdict.baseline_lines_sold,
    )


@dataclass(frozen=True)
class RiskWarning:
    merchant_id: str
    product: str
    episode: int
    raised_at: datetime
    ended_at: datetime | None
    window_first: date
    window_last: date
    window_returns: int
    window_lines_sold: int
    baseline_returns: int
    baseline_lines_sold: int


def item_to_risk_warning(item: RiskWarningItem) -> RiskWarning:
    return RiskWarning(
        merchant_id=item.merchant_id,
        product=item.product,
        episode=int(item.episode),
        raised_at=parse_instant(item.raised_at),
        ended_at=_opt_time(item.ended_at),
        window_first=date.fromisoformat(item.window_first),
        window_last=date.fromisoformat(item.window_last),
        window_returns=int(item.window_returns),
        window_lines_sold=int(item.window_lines_sold),
        baseline_returns=int(item.baseline_returns),
        baseline_lines_sold=int(item.baseline_lines_sold),
    )
