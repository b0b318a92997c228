"""The single table (DESIGN §4) as pynamodb models. One base model carries the keys and the GSI keys;
each item kind is a subclass told apart by the ``item_type`` discriminator, so a Query over one claim's
partition returns claim, timeline entries, deadlines and penalty days as their own classes.

Keys:
  order            ORDER#<id>               ORDER
  lines counted    ORDER#<id>               LINES#<part>       (its lines sold are on the scorecards)
  claim reference  ORDER#<id>               CLAIM#<claim id>   (what eligibility needs, kept in step)
  claim            CLAIM#<id>               CLAIM
  timeline entry   CLAIM#<id>               EVT#<iso ts>#<version:06d>[-<suffix>]
  deadline         CLAIM#<id>               DL#<kind>
  penalty day      CLAIM#<id>               PEN#<kind>#<instance:02d>#<day:04d>
  waybill          WAYBILL#<carrier>#<no>   WAYBILL            (+ the parcel's current status)
  carrier event    WAYBILL#<carrier>#<no>   PEVT#<event key>    (dedupe; parked until a claim has the waybill)
  parcel track     CLAIM#<id>               PARCEL#<event at>#<event key>
  merchant stats   MERCHANT#<id>            STAT#<yyyy-mm-dd>#<scope: * or P:product>#<shard>
  product stats    PRODUCT#<merchant>#<p>   STAT#<yyyy-mm-dd>#<shard>   (one product's days: risk)
  risk state       PRODUCT#<merchant>#<p>   RISK
  risk listing     RISK                     <raised at>#<merchant>#<product>
  run check        CLAIM#<id>               RUNSYNC            (only while the run is not confirmed in step)
  policy version   POLICY#<layer key>       V#<version:06d>    (immutable; Layer.key: platform, merchant-m1)
  policy head      POLICY#HEADS             <layer key>        (a copy of the layer's newest version)
GSIs:
  buyer-index      gsi_buyer_pk = BUYER#<id>        created_at                  (claims)
  merchant-index   gsi_merchant_pk = MERCHANT#<id>  gsi_merchant_sk = <status>#<created_at>  (claims)
  due-index        due_pk = due#<shard>             due_at (ISO, only while the deadline is open)
  sync-index       sync_pk = sync#<shard>           sync_at (ISO: when to check the claim's run)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.constants import (
    ATTR_DEFINITIONS,
    GLOBAL_SECONDARY_INDEXES,
    INDEX_NAME,
    KEY_SCHEMA,
    LOCAL_SECONDARY_INDEXES,
    TABLE_NAME,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

BUYER_INDEX = "buyer-index"
MERCHANT_INDEX = "merchant-index"
DUE_INDEX = "due-index"
SYNC_INDEX = "sync-index"


def claim_pk(claim_id: str) -> str:
    return f"CLAIM#{claim_id}"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def waybill_pk(carrier: str, waybill: str) -> str:
    return f"WAYBILL#{carrier}#{waybill}"


class BuyerIndex(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = BUYER_INDEX
        projection = AllProjection()

    gsi_buyer_pk = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class MerchantIndex(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = MERCHANT_INDEX
        projection = AllProjection()

    gsi_merchant_pk = UnicodeAttribute(hash_key=True)
    gsi_merchant_sk = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = DUE_INDEX
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class SyncIndex(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = SYNC_INDEX
        projection = AllProjection()

    sync_pk = UnicodeAttribute(hash_key=True)
    sync_at = UnicodeAttribute(range_key=True)


# The table the models talk to in this context: set by the ``Repository`` performing the operation
# (``bound``), so two repositories on two tables (ops reading a deployed stack, tests) never share one.
_CONNECTION: ContextVar[TableConnection | None] = ContextVar("aftersales_table", default=None)


@contextmanager
def bound(connection: TableConnection) -> Iterator[None]:
    """Model operations in this block go to ``connection``'s table."""
    token = _CONNECTION.set(connection)
    try:
        yield
    finally:
        _CONNECTION.reset(token)


class TableItem(Model):
    """Every item of the table. Which table: the one ``bound`` in this context, else the process's
    default repository's (a Lambda has one table); never a class-wide setting."""

    class Meta:
        table_name = "aftersales"
        region = "us-east-1"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = DiscriminatorAttribute()

    # GSI keys live on the base so the indexes can be declared once; each is set only where it applies.
    gsi_buyer_pk = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    gsi_merchant_pk = UnicodeAttribute(null=True)
    gsi_merchant_sk = UnicodeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    sync_pk = UnicodeAttribute(null=True)
    sync_at = UnicodeAttribute(null=True)

    buyer_index = BuyerIndex()
    merchant_index = MerchantIndex()
    due_index = DueIndex()
    sync_index = SyncIndex()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        connection = _CONNECTION.get()
        if connection is None:
            from .repository import default_repository  # the store's own default, built once

            connection = default_repository().connection
        return connection


def table_connection(
    table_name: str,
    *,
    region: str,
    host: str | None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> TableConnection:
    """A connection to ``table_name`` that knows the single table's keys and indexes (as pynamodb
    builds for a model's own table)."""
    schema = TableItem._get_schema()
    meta = MetaTable(
        {
            TABLE_NAME: table_name,
            KEY_SCHEMA: schema["key_schema"],
            ATTR_DEFINITIONS: schema["attribute_definitions"],
            GLOBAL_SECONDARY_INDEXES: [
                {INDEX_NAME: index["index_name"], KEY_SCHEMA: index["key_schema"]}
                for index in schema["global_secondary_indexes"]
            ],
            LOCAL_SECONDARY_INDEXES: [],
        }
    )
    return TableConnection(
        table_name,
        region=region,
        host=host,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        meta_table=meta,
    )


class OrderLineMap(MapAttribute[str, Any]):
    line_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    title = UnicodeAttribute()
    category = UnicodeAttribute()
    quantity = NumberAttribute()
    paid_fen = NumberAttribute()
    part_kind = UnicodeAttribute(default="unit")


class OrderItem(TableItem, discriminator="order"):
    order_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    paid_at = UnicodeAttribute()
    delivered_at = UnicodeAttribute(null=True)
    lines = ListAttribute(of=OrderLineMap)
    buyer_phone = UnicodeAttribute(null=True)
    shipping_address = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="import")
    imported_at = UnicodeAttribute(null=True)
    # Bumped by every claim submitted on the order: two submits racing on one order cannot both pass
    # the per-line quantity and count checks.
    version = VersionAttribute()


class ClaimRefItem(TableItem, discriminator="claim_ref"):
    """A claim as seen from its order: what eligibility counts (quantity held, status, outcome)."""

    claim_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    quantity = NumberAttribute()
    status = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)


class ShipmentMap(MapAttribute[str, Any]):
    carrier = UnicodeAttribute()
    waybill = UnicodeAttribute()
    at = UnicodeAttribute()
    fee_fen = NumberAttribute(null=True)  # return shipping the buyer declared (refunded if merchant-liable)


class LayerRefMap(MapAttribute[str, Any]):
    kind = UnicodeAttribute()  # domain.policy.LayerKind
    owner = UnicodeAttribute(default="")  # the category or merchant; empty for the platform
    version = NumberAttribute()


class ClaimItem(TableItem, discriminator="claim"):
    claim_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    category = UnicodeAttribute(null=True)  # of the claimed line: picks the category policy override
    claim_type = UnicodeAttribute(attr_name="type")
    reason = UnicodeAttribute()
    quantity = NumberAttribute()
    description = UnicodeAttribute(default="")
    urgent = BooleanAttribute(default=False)
    evidence_keys = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute()  # what the claimed units cost the buyer (from the order)
    refund_fen = NumberAttribute(null=True)  # set by a ruling that refunds a different amount
    refund_payer = UnicodeAttribute(null=True)
    shipping_payer = UnicodeAttribute()
    repair_payer = UnicodeAttribute(null=True)
    quote_fen = NumberAttribute(null=True)
    ship_back_payer = UnicodeAttribute(null=True)  # set by a declined quote
    liability = UnicodeAttribute(null=True)
    policy_version = UnicodeAttribute()
    policy_layers = ListAttribute(of=LayerRefMap, null=True)  # absent on claims stored before layers
    version = VersionAttribute()
    escalation_level = UnicodeAttribute(default="agent")
    reopen_count = NumberAttribute(default=0)
    penalty_total_fen = NumberAttribute(default=0)
    refund_seq = NumberAttribute(default=0)
    refund_declined = BooleanAttribute(default=False)  # the last attempt was refused: its key is spent
    task_token = UnicodeAttribute(null=True)
    task_stage = UnicodeAttribute(null=True)
    parked_reason = UnicodeAttribute(null=True)
    rma_number = UnicodeAttribute(null=True)  # return authorisation, issued on approval of a return leg
    return_address = UnicodeAttribute(null=True)  # personal/merchant data: masked in views and logs
    updated_at = UnicodeAttribute()
    return_shipment = ShipmentMap(null=True)  # type: ignore[no-untyped-call]
    outbound_shipment = ShipmentMap(null=True)  # type: ignore[no-untyped-call]
    rating = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]
    product = UnicodeAttribute(null=True)  # the claimed line's SKU or title (scorecards per product)


class TimelineItem(TableItem, discriminator="event"):
    claim_id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor_role = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute()
    policy_version = UnicodeAttribute()
    claim_version = NumberAttribute()
    note = UnicodeAttribute(null=True)
    details = MapAttribute[str, Any](null=True)  # type: ignore[no-untyped-call]


class DeadlineItem(TableItem, discriminator="deadline"):
    """``domain.deadlines.Deadline`` stored. ``deadline_at`` is the due time; ``due_pk``/``due_at`` (the
    sparse due-index keys) are present only while the deadline is open."""

    claim_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    owner = UnicodeAttribute()
    started_at = UnicodeAttribute()
    deadline_at = UnicodeAttribute()
    on_expiry = UnicodeAttribute()
    penalty = BooleanAttribute(default=False)
    source = UnicodeAttribute()
    policy_version = UnicodeAttribute()
    calendar_fallback = BooleanAttribute(default=False)  # kept for readers of older items: layer weekdays
    calendar_layer = UnicodeAttribute(null=True)  # domain.calendar.CalendarLayer; absent on older items
    extension_reason = UnicodeAttribute(null=True)
    paused_since = UnicodeAttribute(null=True)
    paused_seconds = NumberAttribute(default=0)
    met_at = UnicodeAttribute(null=True)
    buyer_caused_delay = BooleanAttribute(default=False)
    escalated_at = UnicodeAttribute(null=True)  # sla_tick escalated this lapse (once)
    instance = NumberAttribute(default=1)  # the n-th deadline of this kind on the claim
    # The penalty days recorded for this instance and their sum, kept with the ledger (written in each
    # day's transaction) so sla_tick reads them from the due index instead of the claim's ledger. Absent:
    # none recorded since the item was last written whole (sla_tick then reads the ledger).
    charged_days = NumberAttribute(null=True)
    charged_fen = NumberAttribute(null=True)


class PenaltyDayItem(TableItem, discriminator="penalty_day"):
    claim_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    day = NumberAttribute()
    amount_fen = NumberAttribute()
    accrued_at = UnicodeAttribute()


class WaybillItem(TableItem, discriminator="waybill"):
    carrier = UnicodeAttribute()
    waybill = UnicodeAttribute()
    claim_id = UnicodeAttribute()
    direction = UnicodeAttribute()  # "return" (buyer → merchant) or "outbound" (merchant → buyer)
    registered_at = UnicodeAttribute()
    # The parcel's progress from carrier events (domain.parcels): only ever moves up the ranks.
    parcel_status = UnicodeAttribute(null=True)
    parcel_rank = NumberAttribute(null=True)
    parcel_status_at = UnicodeAttribute(null=True)
    parcel_event_key = UnicodeAttribute(null=True)  # the event that set it (a retried event knows it did)


class CarrierEventItem(TableItem, discriminator="carrier_event"):
    """One carrier event as received, under its waybill (``PEVT#<event key>``), written once: a
    duplicate finds it. ``state`` is ``parked`` until a claim has the waybill, then ``applied``."""

    carrier = UnicodeAttribute()
    waybill = UnicodeAttribute()
    event_key = UnicodeAttribute()
    status = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    received_at = UnicodeAttribute()
    event = UnicodeAttribute()  # the normalised event as JSON, to apply it later
    state = UnicodeAttribute(default="parked")
    claim_id = UnicodeAttribute(null=True)
    applied_at = UnicodeAttribute(null=True)


class ParcelTrackItem(TableItem, discriminator="parcel_track"):
    """A carrier event on the claim's parcel track (``GET /claims/{id}``, ``ops claim``)."""

    claim_id = UnicodeAttribute()
    leg = UnicodeAttribute()  # return | outbound
    carrier = UnicodeAttribute()
    waybill = UnicodeAttribute()
    status = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    received_at = UnicodeAttribute()
    location = UnicodeAttribute(default="")
    description = UnicodeAttribute(default="")
    event_key = UnicodeAttribute()
    advanced = BooleanAttribute(default=False)  # False: behind the parcel's state, recorded only
    actions = ListAttribute(of=UnicodeAttribute, default=list)  # claim actions it took


class RefundItem(TableItem, discriminator="refund"):
    """One refund paid by the sandbox gateway, keyed ``CLAIM#<id>`` / ``REFUND#<idempotency key>`` and
    written once (condition: not exists), so a retried refund never pays twice."""

    claim_id = UnicodeAttribute()
    idempotency_key = UnicodeAttribute()
    amount_fen = NumberAttribute()
    reference = UnicodeAttribute()
    paid_at = UnicodeAttribute()


class SandboxControlItem(TableItem, discriminator="sandbox_control"):
    """Fault injection for the sandbox refund gateway (``SANDBOX#payments`` / ``CONTROL``): the next
    ``fail_next`` refund calls fail. Lives in the table so tests and the local stack steer it without
    touching code."""

    fail_next = NumberAttribute(default=0)
    decline_next = NumberAttribute(default=0)


class MerchantStatItem(TableItem, discriminator="merchant_stat"):
    """One shard of one day's scorecard counters, of a merchant (``scope`` ``*``) or of one of its
    products (``P:<product>``). The counters (``domain.scorecard``) are number attributes of their
    own names beside these, added to in the claim change's transaction; read raw
    (``Repository.stat_days``)."""

    merchant_id = UnicodeAttribute()
    day = UnicodeAttribute()
    scope = UnicodeAttribute()
    shard = NumberAttribute()
    title = UnicodeAttribute(null=True)  # the product's line title, as an order gave it


class LinesCountedItem(TableItem, discriminator="lines_counted"):
    """A part of an order's lines sold is on the scorecards (``ORDER#<id>`` / ``LINES#<part>``):
    written with it, on condition that it is not there yet, so each part counts once."""

    order_id = UnicodeAttribute()


class RiskStateItem(TableItem, discriminator="risk_state"):
    """A product's risk warning state (``PRODUCT#<merchant>#<product>`` / ``RISK``): whether an
    episode is open, and which; raised once per episode on a conditional write."""

    merchant_id = UnicodeAttribute()
    product = UnicodeAttribute()
    active = BooleanAttribute(default=False)
    episode = NumberAttribute(default=0)
    listing_sk = UnicodeAttribute(null=True)  # the open episode's item in the ``RISK`` listing
    notified = BooleanAttribute(default=False)  # its event was published


class RiskWarningItem(TableItem, discriminator="risk_warning"):
    """One risk-warning episode in the ops listing (``RISK`` / ``<raised at>#<merchant>#<product>``)."""

    merchant_id = UnicodeAttribute()
    product = UnicodeAttribute()
    episode = NumberAttribute()
    raised_at = UnicodeAttribute()
    ended_at = UnicodeAttribute(null=True)
    window_first = UnicodeAttribute()
    window_last = UnicodeAttribute()
    window_returns = NumberAttribute()
    window_lines_sold = NumberAttribute()
    baseline_returns = NumberAttribute()
    baseline_lines_sold = NumberAttribute()


class RunSyncItem(TableItem, discriminator="run_sync"):
    """A claim change the workflow run must follow and has not yet been seen to (the reconciler's
    work list, ``aftersales.reconciler``). Written in the claim change's transaction; deleted once
    the run stores its next task token, or by the reconciler once claim and run agree."""

    claim_id = UnicodeAttribute()
    claim_version = NumberAttribute()  # the claim change that needs the run to move
    status = UnicodeAttribute()  # the claim's status after that change
    marked_at = UnicodeAttribute()
    checks = NumberAttribute(default=0)  # reconciler passes that found the run not yet in step


class PolicyVersionItem(TableItem, discriminator="policy_version"):
    """One immutable version of one policy layer (``domain.policy.LayerVersion``), written once
    (condition: it does not exist). ``content`` is the layer's partial policy as JSON text."""

    layer_kind = UnicodeAttribute()
    layer_owner = UnicodeAttribute(default="")
    layer_version = NumberAttribute()
    content = UnicodeAttribute()
    saved_by = UnicodeAttribute()
    saved_at = UnicodeAttribute()
    note = UnicodeAttribute(default="")


class PolicyHeadItem(TableItem, discriminator="policy_head"):
    """The newest version of a layer, copied into one partition (``POLICY#HEADS``): the current
    versions of a claim's three layers are one BatchGetItem, and ops list the layers with one Query.
    Moved only on condition that it still holds the version before."""

    layer_kind = UnicodeAttribute()
    layer_owner = UnicodeAttribute(default="")
    layer_version = NumberAttribute()
    content = UnicodeAttribute()
    saved_by = UnicodeAttribute()
    saved_at = UnicodeAttribute()
    note = UnicodeAttribute(default="")


def policy_pk(layer_key: str) -> str:
    return f"POLICY#{layer_key}"


POLICY_HEADS_PK = "POLICY#HEADS"
