"""The repository: the only code that talks to the DynamoDB table.

Every change to a claim is one ``TransactWrite`` (``commit``): the claim, put on the condition that its
stored ``version`` is still the one read (pynamodb ``VersionAttribute``), plus its timeline entry and
the deadlines and references the change touches. A lost race raises ``VersionConflict`` and writes
nothing; the caller re-reads and re-decides (``aftersales.claims``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from aftersales.clock import iso
from aftersales.config import Settings, get_settings
from aftersales.domain import scorecard
from aftersales.domain.changes import Change
from aftersales.domain.model import Order, product_key
from aftersales.domain.penalties import PenaltyAccrual
from aftersales.domain.policy import Layer, LayerKind, LayerRef, LayerVersion
from aftersales.domain.standing import RiskPeriods, RiskVerdict
from aftersales.process import per_process
from aftersales.service_errors import Conflict

from .cursor import decode_cursor, encode_cursor
from .mapping import (
    STAT_PREFIX,
    RiskWarning,
    StatDay,
    StatWrite,
    claim_ref,
    claim_to_item,
    deadline_to_item,
    entry_to_item,
    item_to_layer_version,
    item_to_risk_warning,
    layer_version_items,
    lines_counted_item,
    merchant_pk,
    order_to_item,
    policy_version_key,
    product_pk,
    raw_to_stat_day,
    risk_state_key,
    risk_warning_item,
    run_sync_item,
    stat_shard,
    stat_writes,
    waybill_to_item,
)
from .models import (
    POLICY_HEADS_PK,
    ClaimItem,
    ClaimRefItem,
    DeadlineItem,
    LinesCountedItem,
    OrderItem,
    ParcelTrackItem,
    PenaltyDayItem,
    PolicyHeadItem,
    PolicyVersionItem,
    RiskStateItem,
    RiskWarningItem,
    RunSyncItem,
    TableItem,
    TimelineItem,
    WaybillItem,
    bound,
    claim_pk,
    order_pk,
    policy_pk,
    table_connection,
    waybill_pk,
)

P = ParamSpec("P")
R = TypeVar("R")


class VersionConflict(Exception):
    """Someone else changed the claim (or the order) since it was read. Nothing was written."""


class WaybillInUse(Conflict):
    code = "waybill_in_use"


@dataclass
class ClaimRecord:
    """One claim's whole partition, read consistently."""

    claim: ClaimItem
    timeline: list[TimelineItem]
    deadlines: list[DeadlineItem]
    penalties: list[PenaltyDayItem]
    parcels: list[ParcelTrackItem] = field(default_factory=list)  # carrier events, oldest first


@dataclass
class OrderRecord:
    order: OrderItem
    claims: list[ClaimRefItem]


@dataclass
class ClaimWrite:
    """Everything one change to a claim writes, all or nothing.

    ``claim`` is the item as read, already changed; it is put on condition that the stored version is
    still the one read (a new claim: that none exists). ``order`` (new claims only) is bumped on its own
    version so two submits on one order serialize.
    """

    claim: ClaimItem
    timeline: TimelineItem
    deadlines: list[DeadlineItem] = field(default_factory=list)
    claim_ref: ClaimRefItem | None = None
    waybill: WaybillItem | None = None
    run_sync: RunSyncItem | None = None  # the run must follow this change: the reconciler checks it
    order: OrderItem | None = None
    stats: list[StatWrite] = field(default_factory=list)  # what the change adds to the scorecards


@dataclass
class Page:
    claims: list[ClaimItem]
    cursor: str | None


@dataclass
class PolicyPage:
    versions: list[LayerVersion]  # layer versions, or layer heads (the newest version of each layer)
    cursor: str | None


def _on_own_table(method: Callable[P, R]) -> Callable[P, R]:
    """Run a repository method with the models bound to that repository's table."""

    @wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        repo = args[0]
        assert isinstance(repo, Repository)
        with repo.bound():
            return method(*args, **kwargs)

    return run


class Repository:
    """The single table of ``settings`` (and its endpoint: the local stack's, or AWS's). Each instance
    has its own connection; model operations inside its methods go to its table only."""

    def __init__(
        self, settings: Settings, *, access_key_id: str | None = None, secret_access_key: str | None = None
    ):
        self.settings = settings
        self.connection = table_connection(
            settings.table_name,
            region=settings.region,
            host=settings.dynamodb_endpoint,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )

    @contextmanager
    def bound(self) -> Iterator[None]:
        """Model operations in this block go to this repository's table (tools, tests, the sandbox)."""
        with bound(self.connection):
            yield

    def create_table(self) -> None:
        """Create the single table with its indexes (tests, benchmarks; the template does it on AWS)."""
        with self.bound():
            TableItem.create_table(wait=True)

    # ----------------------------------------------------------------- orders

    @_on_own_table
    def get_order(self, order_id: str) -> OrderRecord | None:
        """The order and the claims already made on it, read consistently."""
        order: OrderItem | None = None
        refs: list[ClaimRefItem] = []
        for item in TableItem.query(order_pk(order_id), consistent_read=True):
            if isinstance(item, OrderItem):
                order = item
            elif isinstance(item, ClaimRefItem):
                refs.append(item)
        return OrderRecord(order, refs) if order else None

    @_on_own_table
    def put_order(self, order: Order, *, source: str, now: datetime) -> OrderItem:
        """Create or replace an order's trusted facts (the claims on it stay). A new order's lines
        sold go on the scorecards with it; a replaced one is not counted again."""
        for _ in range(3):
            item = order_to_item(order, source=source, now=now)
            existing = self.get_order(order.order_id)
            chunks = self._line_counts(order)
            try:
                if existing:
                    item.version = existing.order.version
                    item.save()
                else:
                    with TransactWrite(connection=ClaimItem._get_connection().connection) as tx:
                        tx.save(item)  # on condition that no version is stored: that the order is new
                        self._count_lines(tx, order, 0, chunks[0])
            except Exception as exc:
                if _is_condition_failure(exc) or _is_cancelled(exc):
                    continue
                raise
            # An order of many products needs more than one transaction: each further part is
            # counted once (its mark), and a re-import finishes what a crash left undone.
            for index in range(0 if existing else 1, len(chunks)):
                try:
                    with TransactWrite(connection=ClaimItem._get_connection().connection) as tx:
                        self._count_lines(tx, order, index, chunks[index])
                except TransactWriteError as exc:
                    if not _is_cancelled(exc):
                        raise
            return item
        raise Conflict("the order changed while it was being imported; try again")

    def _line_counts(self, order: Order) -> list[list[StatWrite]]:
        """The order's lines-sold updates, in parts that fit a transaction beside the order and a mark."""
        titles = {product_key(line.sku, line.title) or "": line.title for line in order.lines}
        writes = stat_writes(
            order.merchant_id,
            scorecard.order_counts(order),
            scorecard.stat_day(order.paid_at),
            stat_shard(order.order_id, self.settings.stat_shards),
            titles=titles,
        )
        step = _LINE_COUNTS_PER_TX
        return [writes[start : start + step] for start in range(0, len(writes), step)] or [[]]

    @staticmethod
    def _count_lines(tx: TransactWrite, order: Order, index: int, writes: list[StatWrite]) -> None:
        tx.save(lines_counted_item(order.order_id, index), condition=LinesCountedItem.sk.does_not_exist())
        for stat, actions in writes:
            tx.update(stat, actions=actions)

    # ----------------------------------------------------------------- claims

    @_on_own_table
    def get_claim(self, claim_id: str) -> ClaimItem | None:
        for item in ClaimItem.query(claim_pk(claim_id), ClaimItem.sk == "CLAIM", consistent_read=True):
            return item
        return None

    @_on_own_table
    def claim_item(self, claim_id: str) -> ClaimItem | None:
        """The claim item alone, read consistently (GetItem: one item, whatever the partition holds)."""
        try:
            return ClaimItem.get(claim_pk(claim_id), "CLAIM", consistent_read=True)
        except ClaimItem.DoesNotExist:
            return None

    @_on_own_table
    def get_claim_record(self, claim_id: str) -> ClaimRecord | None:
        """Claim, timeline (oldest first), deadlines and penalty days in one consistent Query."""
        claim: ClaimItem | None = None
        timeline: list[TimelineItem] = []
        deadlines: list[DeadlineItem] = []
        penalties: list[PenaltyDayItem] = []
        parcels: list[ParcelTrackItem] = []
        for item in TableItem.query(claim_pk(claim_id), consistent_read=True):
            if isinstance(item, ClaimItem):
                claim = item
            elif isinstance(item, TimelineItem):
                timeline.append(item)
            elif isinstance(item, DeadlineItem):
                deadlines.append(item)
            elif isinstance(item, PenaltyDayItem):
                penalties.append(item)
            elif isinstance(item, ParcelTrackItem):
                parcels.append(item)
        return ClaimRecord(claim, timeline, deadlines, penalties, parcels) if claim else None

    @_on_own_table
    def get_claims(self, claim_ids: Iterable[str]) -> list[ClaimItem]:
        """Claims by id, in the order asked, missing ones left out (BatchGetItem, 100 keys a call)."""
        wanted = list(dict.fromkeys(claim_ids))
        found: dict[str, ClaimItem] = {}
        table = self.settings.table_name
        for start in range(0, len(wanted), 100):
            keys: list[Any] = [{"pk": claim_pk(c), "sk": "CLAIM"} for c in wanted[start : start + 100]]
            while keys:
                answer = self.connection.batch_get_item(keys)
                for raw in answer.get("Responses", {}).get(table, []):
                    item = ClaimItem.from_raw_data(raw)
                    found[item.claim_id] = item
                keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return [found[claim_id] for claim_id in wanted if claim_id in found]

    @_on_own_table
    def commit_change(
        self,
        change: Change,
        *,
        extra_deadlines: Sequence[DeadlineItem] = (),
        order: OrderItem | None = None,
        now: datetime | None = None,
    ) -> None:
        """Write a domain ``Change`` (see ``commit``). ``extra_deadlines``: stored deadline items to
        write with it, unless the change writes a deadline of the same kind. ``order`` (a new claim):
        the order it is opened on, bumped on its version so two submits on one order serialize."""
        claim = change.claim
        deadlines = [
            deadline_to_item(claim.claim_id, d, shards=self.settings.due_shards) for d in change.deadlines
        ]
        planned = {item.sk for item in deadlines}
        deadlines += [item for item in extra_deadlines if item.sk not in planned]
        if order is not None and now is not None:
            order.imported_at = order.imported_at or iso(now)
        self.commit(
            ClaimWrite(
                claim=claim_to_item(claim, read_version=change.read_version),
                timeline=entry_to_item(change.entry),
                deadlines=deadlines,
                claim_ref=claim_ref(claim) if change.changes_status or change.read_version is None else None,
                waybill=waybill_to_item(change.waybill) if change.waybill else None,
                order=order,
                run_sync=self._run_sync(change),
                stats=self._stats(change),
            )
        )

    def _stats(self, change: Change) -> list[StatWrite]:
        """What the change adds to its merchant's and its product's scorecard, in its transaction."""
        counts = scorecard.change_counts(change)
        claim = change.claim
        scopes: dict[str | None, dict[str, int]] = {None: counts}
        if claim.product:
            scopes[claim.product] = counts
        shard = stat_shard(claim.claim_id, self.settings.stat_shards)
        return stat_writes(claim.merchant_id, scopes, scorecard.stat_day(change.entry.at), shard)

    def _run_sync(self, change: Change) -> RunSyncItem | None:
        """A new claim (its run is started next), a new status or a cleared task token: the run must
        move, and until it is seen to, the claim is on the reconciler's list."""
        if change.read_version is not None and not change.changes_status and not change.cleared_task_token:
            return None
        at = change.entry.at
        return run_sync_item(
            change.claim,
            check_at=at + timedelta(seconds=self.settings.run_sync_grace_seconds),
            marked_at=at,
            shards=self.settings.due_shards,
        )

    @_on_own_table
    def commit(self, write: ClaimWrite) -> None:
        """Write one claim change atomically. ``VersionConflict``: lost a race, nothing written;
        ``WaybillInUse``: the waybill is registered to another claim."""
        # DynamoDB reports a cancellation per item in the order the transaction sends them: pynamodb
        # sends every put before every update, so that is the order kept here.
        puts: list[str] = []
        updates: list[str] = []
        try:
            with TransactWrite(
                connection=ClaimItem._get_connection().connection,
                client_request_token=request_token(write.claim.claim_id, int(write.claim.version or 0) + 1),
            ) as tx:
                tx.save(write.claim)
                puts.append("claim")
                tx.save(write.timeline, condition=TimelineItem.sk.does_not_exist())
                puts.append("timeline")
                for deadline in write.deadlines:
                    tx.save(deadline)
                    puts.append("deadline")
                if write.claim_ref is not None:
                    tx.save(write.claim_ref)
                    puts.append("claim_ref")
                if write.order is not None:
                    tx.update(write.order, actions=[OrderItem.imported_at.set(write.order.imported_at)])
                    updates.append("order")
                if write.run_sync is not None:
                    tx.save(write.run_sync)
                    puts.append("run_sync")
                for stat, actions in write.stats:
                    tx.update(stat, actions=actions)
                    updates.append("stat")
                if write.waybill is not None:
                    tx.save(
                        write.waybill,
                        condition=WaybillItem.pk.does_not_exist()
                        | (WaybillItem.claim_id == write.waybill.claim_id),
                    )
                    puts.append("waybill")
        except TransactWriteError as exc:
            codes = _cancellation_codes(exc)
            operations = puts + updates
            if "waybill" in operations and codes.get(operations.index("waybill")) == "ConditionalCheckFailed":
                raise WaybillInUse(
                    "this waybill is already registered to another claim",
                    details={"carrier": write.waybill.carrier if write.waybill else None},
                ) from exc
            if exc.cause_response_code in ("TransactionCanceledException", _TOKEN_REUSED):
                raise VersionConflict(str(codes)) from exc
            raise

    @_on_own_table
    def save_task_token(self, claim_id: str, token: str, stage: str) -> bool:
        """Store the waiting workflow's callback token on the claim, if the claim is still in ``stage``.

        Returns False when the claim has already left ``stage`` (the caller completes the task at once).
        Bumps the version like any change, so a concurrent action re-reads and clears the token.
        """
        for _ in range(5):
            claim = self.get_claim(claim_id)
            if claim is None or claim.status != stage:
                return False
            claim.task_token, claim.task_stage = token, stage
            try:
                claim.save()
            except Exception as exc:
                if not _is_condition_failure(exc):
                    raise
                continue
            # The run waits at the claim's status with its token stored: in step with every change
            # up to this version (a later change writes a newer mark, which this leaves alone).
            self.clear_run_sync(claim_id, up_to_version=int(claim.version or 0))
            return True
        raise Conflict("the claim kept changing while its task token was stored")

    @_on_own_table
    def clear_run_sync(self, claim_id: str, *, up_to_version: int) -> bool:
        """Delete the claim's run mark if it was written by a change at or before ``up_to_version``.
        Returns whether one was deleted."""
        mark = RunSyncItem(claim_pk(claim_id), "RUNSYNC")
        try:
            mark.delete(condition=RunSyncItem.claim_version <= up_to_version)
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise
            return False
        return True

    @_on_own_table
    def reschedule_run_sync(self, mark: RunSyncItem, check_at: datetime) -> bool:
        """Check the claim's run again at ``check_at``, unless a newer change replaced the mark."""
        try:
            mark.update(
                actions=[RunSyncItem.sync_at.set(iso(check_at)), RunSyncItem.checks.add(1)],
                condition=RunSyncItem.claim_version == mark.claim_version,
            )
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise
            return False
        return True

    @_on_own_table
    def runs_to_check(self, shard: int, now: datetime, *, limit: int = 100) -> list[RunSyncItem]:
        """Marks of one sync-index shard due for a check at ``now``, oldest first (the reconciler)."""
        results = TableItem.sync_index.query(f"sync#{shard}", TableItem.sync_at <= iso(now), limit=limit)
        return [item for item in results if isinstance(item, RunSyncItem)]

    @_on_own_table
    def record_penalty_day(
        self,
        claim: ClaimItem,
        accrual: PenaltyAccrual,
        deadline: DeadlineItem,
        now: datetime,
        *,
        read_due_at: str,
        charged_fen: int,
    ) -> bool:
        """Write one overdue day once (condition: not exists), add it to the claim's total and to the
        deadline's counters (``charged_days``/``charged_fen``), all in one transaction.

        Only while the deadline is where sla_tick read it: still due at ``read_due_at`` with the counters
        it read (``deadline.charged_days``; absent: absent), so a deadline met, extended or paused since,
        or a stale read of the counters, charges nothing. Returns False when nothing was written. The
        claim's version is bumped without being checked, so concurrent actions on the claim re-read
        rather than overwrite the total.
        """
        day = PenaltyDayItem(
            claim_pk(claim.claim_id),
            accrual.ledger_key,
            claim_id=claim.claim_id,
            kind=deadline.kind,
            day=accrual.day,
            amount_fen=accrual.amount_fen,
            accrued_at=iso(now),
        )
        counted = (
            DeadlineItem.charged_days.does_not_exist()
            if deadline.charged_days is None
            else DeadlineItem.charged_days == deadline.charged_days
        )
        try:
            with TransactWrite(
                connection=ClaimItem._get_connection().connection,
                client_request_token=request_token(claim.claim_id, accrual.ledger_key),
            ) as tx:
                tx.save(day, condition=PenaltyDayItem.sk.does_not_exist())
                tx.update(
                    claim,
                    actions=[ClaimItem.penalty_total_fen.add(accrual.amount_fen)],
                    add_version_condition=False,
                )
                tx.update(
                    deadline,
                    actions=[
                        DeadlineItem.charged_days.set(accrual.day),
                        DeadlineItem.charged_fen.set(charged_fen + accrual.amount_fen),
                    ],
                    condition=(DeadlineItem.due_at == read_due_at) & counted,
                )
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _cancellation_codes(exc).values():
                return False
            raise
        deadline.charged_days, deadline.charged_fen = accrual.day, charged_fen + accrual.amount_fen
        return True

    @_on_own_table
    def penalty_days(self, claim_id: str, prefix: str) -> list[PenaltyDayItem]:
        """One deadline's recorded penalty days (sort keys under ``prefix``), read consistently."""
        query = PenaltyDayItem.query(
            claim_pk(claim_id), PenaltyDayItem.sk.startswith(prefix), consistent_read=True
        )
        return list(query)

    @_on_own_table
    def reindex_deadline(
        self, item: DeadlineItem, *, read_due_at: str, due_at: datetime | None, met_at: datetime | None = None
    ) -> bool:
        """Move an open deadline in the due index, or out of it (``due_at`` None; ``met_at`` closes it).

        Only if it is still where sla_tick read it (``read_due_at``): False when someone else moved, met
        or closed it first, so two overlapping ticks cannot both handle one due entry.
        """
        actions: list[Any] = (
            [DeadlineItem.due_at.set(iso(due_at))]
            if due_at is not None
            else [DeadlineItem.due_pk.remove(), DeadlineItem.due_at.remove()]
        )
        if met_at is not None:
            actions.append(DeadlineItem.met_at.set(iso(met_at)))
        try:
            item.update(actions=actions, condition=DeadlineItem.due_at == read_due_at)
        except Exception as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    @_on_own_table
    def waybill(self, carrier: str, waybill: str) -> WaybillItem | None:
        """The claim a parcel belongs to (carrier events look it up)."""
        for item in WaybillItem.query(waybill_pk(carrier, waybill), consistent_read=True):
            return item
        return None

    # ----------------------------------------------------------------- listings

    @_on_own_table
    def list_buyer_claims(self, buyer_id: str, *, status: str | None, cursor: str | None, limit: int) -> Page:
        """A buyer's claims, newest first, optionally of one status."""
        partition = f"BUYER#{buyer_id}"
        start = decode_cursor(cursor, partition_attr="gsi_buyer_pk", partition_value=partition)
        results = TableItem.buyer_index.query(
            partition,
            scan_index_forward=False,
            filter_condition=(ClaimItem.status == status) if status else None,
            limit=limit,
            last_evaluated_key=start,
        )
        return self._page(results, limit)

    @_on_own_table
    def list_merchant_claims(
        self, merchant_id: str, *, status: str | None, cursor: str | None, limit: int
    ) -> Page:
        """A merchant's claims grouped by status, oldest first within a status (work queue order)."""
        partition = f"MERCHANT#{merchant_id}"
        start = decode_cursor(cursor, partition_attr="gsi_merchant_pk", partition_value=partition)
        condition = TableItem.gsi_merchant_sk.startswith(f"{status}#") if status else None
        results = TableItem.merchant_index.query(partition, condition, limit=limit, last_evaluated_key=start)
        return self._page(results, limit)

    @staticmethod
    def _page(results: Any, limit: int) -> Page:
        claims = [item for item in results if isinstance(item, ClaimItem)]
        last = results.last_evaluated_key if len(claims) >= limit else None
        return Page(claims, encode_cursor(last))

    @_on_own_table
    def deadlines_due(self, shard: int, now: datetime, *, limit: int = 100) -> list[DeadlineItem]:
        """Open deadlines of one due-index shard that are due at ``now``, earliest first (sla_tick)."""
        results = TableItem.due_index.query(f"due#{shard}", TableItem.due_at <= iso(now), limit=limit)
        return [item for item in results if isinstance(item, DeadlineItem)]

    @_on_own_table
    def overdue_deadlines(self, now: datetime, *, limit: int) -> list[DeadlineItem]:
        """Due deadlines across every shard, earliest first."""
        found: list[DeadlineItem] = []
        for shard in range(self.settings.due_shards):
            found.extend(self.deadlines_due(shard, now, limit=limit))
        return sorted(found, key=lambda item: item.due_at or "")[:limit]

    # ----------------------------------------------------------------- scorecards

    def stat_days(self, merchant_id: str, first: date, last: date) -> list[StatDay]:
        """Every counter item of a merchant's days ``first`` to ``last``, its products' too: one range
        Query (paged), whose cost follows the days and products, never the claims."""
        return self._stat_range(merchant_pk(merchant_id), first, last)

    def product_stat_days(self, merchant_id: str, product: str, first: date, last: date) -> list[StatDay]:
        """One product's counter items over ``first`` to ``last`` (its own partition)."""
        return self._stat_range(product_pk(merchant_id, product), first, last)

    @_on_own_table
    def _stat_range(self, pk: str, first: date, last: date) -> list[StatDay]:
        low, high = f"{STAT_PREFIX}{first.isoformat()}", f"{STAT_PREFIX}{last.isoformat()}#~"
        found: list[StatDay] = []
        start: dict[str, Any] | None = None
        while True:
            answer = self.connection.query(
                pk, range_key_condition=TableItem.sk.between(low, high), exclusive_start_key=start
            )
            found += [raw_to_stat_day(raw) for raw in answer.get("Items", [])]
            start = answer.get("LastEvaluatedKey")
            if not start:
                return found

    # ----------------------------------------------------------------- product risk

    @_on_own_table
    def risk_state(self, merchant_id: str, product: str) -> RiskStateItem | None:
        pk, sk = risk_state_key(merchant_id, product)
        for item in RiskStateItem.query(pk, RiskStateItem.sk == sk, consistent_read=True):
            return item
        return None

    # ----------------------------------------------------------------- policy layers

    @_on_own_table
    def policy_heads(self, layers: Sequence[Layer]) -> dict[Layer, LayerVersion]:
        """The newest version of each layer that has one: one consistent BatchGetItem (a save is
        seen at once by the next read)."""
        keys: list[Any] = [{"pk": POLICY_HEADS_PK, "sk": layer.key} for layer in dict.fromkeys(layers)]
        table = self.settings.table_name
        found: dict[Layer, LayerVersion] = {}
        while keys:
            answer = self.connection.batch_get_item(keys, consistent_read=True)
            for raw in answer.get("Responses", {}).get(table, []):
                head = item_to_layer_version(PolicyHeadItem.from_raw_data(raw))
                found[head.ref.layer] = head
            keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return found

    @_on_own_table
    def policy_version(self, ref: LayerRef) -> LayerVersion | None:
        """One saved layer version (immutable: callers may cache it forever)."""
        for item in PolicyVersionItem.query(
            policy_pk(ref.layer.key), PolicyVersionItem.sk == policy_version_key(ref.version)
        ):
            return item_to_layer_version(item)
        return None

    @_on_own_table
    def save_policy_version(self, saved: LayerVersion) -> None:
        """Write a new layer version and move the layer's head to it, all or nothing, on condition
        that the version does not exist and the head holds the version before it (none for the
        first). Two concurrent saves of one layer: one wins, the other gets ``VersionConflict``."""
        version, head = layer_version_items(saved)
        number = saved.ref.version
        head_before = (
            PolicyHeadItem.pk.does_not_exist() if number == 1 else PolicyHeadItem.layer_version == number - 1
        )
        try:
            with TransactWrite(
                connection=PolicyVersionItem._get_connection().connection,
                client_request_token=request_token(f"policy:{saved.ref.layer.key}", number),
            ) as tx:
                tx.save(version, condition=PolicyVersionItem.pk.does_not_exist())
                tx.save(head, condition=head_before)
        except TransactWriteError as exc:
            if exc.cause_response_code in ("TransactionCanceledException", _TOKEN_REUSED):
                raise VersionConflict(f"{saved.ref.label}: {_cancellation_codes(exc)}") from exc
            raise

    @_on_own_table
    def policy_versions(self, layer: Layer, *, cursor: str | None, limit: int) -> PolicyPage:
        """A layer's versions, newest first."""
        partition = policy_pk(layer.key)
        start = decode_cursor(cursor, partition_attr="pk", partition_value=partition)
        results = PolicyVersionItem.query(
            partition,
            PolicyVersionItem.sk.startswith("V#"),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
        )
        found = [item_to_layer_version(item) for item in results]
        last = results.last_evaluated_key if len(found) >= limit else None
        return PolicyPage(found, encode_cursor(last))

    @_on_own_table
    def policy_layers(self, kind: LayerKind | None, *, cursor: str | None, limit: int) -> PolicyPage:
        """The layers that have a version (their heads), in key order, optionally of one kind."""
        start = decode_cursor(cursor, partition_attr="pk", partition_value=POLICY_HEADS_PK)
        condition = PolicyHeadItem.sk.startswith(kind.value) if kind else None
        results = PolicyHeadItem.query(POLICY_HEADS_PK, condition, limit=limit, last_evaluated_key=start)
        found = [item_to_layer_version(item) for item in results]
        last = results.last_evaluated_key if len(found) >= limit else None
        return PolicyPage(found, encode_cursor(last))

    @_on_own_table
    def raise_risk(
        self,
        merchant_id: str,
        product: str,
        read: RiskStateItem | None,
        verdict: RiskVerdict,
        periods: RiskPeriods,
        now: datetime,
    ) -> RiskWarning | None:
        """Open the product's next warning episode and list it, if the state is still the one read
        with no episode open: None when another evaluation raised it first (so it is raised once)."""
        pk, sk = risk_state_key(merchant_id, product)
        episode = int(read.episode) + 1 if read is not None else 1
        listed = risk_warning_item(merchant_id, product, episode, verdict, periods, now)
        unchanged = (
            RiskStateItem.pk.does_not_exist()
            if read is None
            else (RiskStateItem.episode == read.episode) & (RiskStateItem.active == False)  # noqa: E712
        )
        state = RiskStateItem(pk, sk)
        try:
            with TransactWrite(connection=ClaimItem._get_connection().connection) as tx:
                tx.update(
                    state,
                    actions=[
                        TableItem.item_type.set(RiskStateItem),
                        RiskStateItem.merchant_id.set(merchant_id),
                        RiskStateItem.product.set(product),
                        RiskStateItem.active.set(True),
                        RiskStateItem.episode.set(episode),
                        RiskStateItem.listing_sk.set(listed.sk),
                        RiskStateItem.notified.set(False),
                    ],
                    condition=unchanged,
                )
                tx.save(listed, condition=RiskWarningItem.sk.does_not_exist())
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return None
            raise
        return item_to_risk_warning(listed)

    @_on_own_table
    def end_risk(self, read: RiskStateItem, now: datetime) -> bool:
        """Close the open episode read (the rate is back within its baseline); False if it moved on."""
        try:
            with TransactWrite(connection=ClaimItem._get_connection().connection) as tx:
                tx.update(
                    read,
                    actions=[RiskStateItem.active.set(False)],
                    condition=(RiskStateItem.episode == read.episode) & (RiskStateItem.active == True),  # noqa: E712
                )
                if read.listing_sk:
                    tx.update(
                        RiskWarningItem("RISK", read.listing_sk),
                        actions=[RiskWarningItem.ended_at.set(iso(now))],
                        condition=RiskWarningItem.sk.exists(),
                    )
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    @_on_own_table
    def mark_risk_notified(self, merchant_id: str, product: str, episode: int) -> None:
        pk, sk = risk_state_key(merchant_id, product)
        try:
            RiskStateItem(pk, sk).update(
                actions=[RiskStateItem.notified.set(True)], condition=RiskStateItem.episode == episode
            )
        except Exception as exc:
            if not _is_condition_failure(exc):
                raise

    @_on_own_table
    def risk_warning(self, listing_sk: str) -> RiskWarning | None:
        for item in RiskWarningItem.query("RISK", RiskWarningItem.sk == listing_sk, consistent_read=True):
            return item_to_risk_warning(item)
        return None

    @_on_own_table
    def list_risks(self, *, cursor: str | None, limit: int) -> tuple[list[RiskWarning], str | None]:
        """Risk-warning episodes, newest first."""
        start = decode_cursor(cursor, partition_attr="pk", partition_value="RISK")
        results = RiskWarningItem.query(
            "RISK", scan_index_forward=False, limit=limit, last_evaluated_key=start
        )
        items = [item_to_risk_warning(item) for item in results]
        last = results.last_evaluated_key if len(items) >= limit else None
        return items, encode_cursor(last)


# Counter updates of one order per transaction, with the order and the part's mark (100 at most).
_LINE_COUNTS_PER_TX = 90

# Another writer committed the same claim version first, with its own content, within DynamoDB's
# ten-minute token window: the same lost race as a cancelled transaction.
_TOKEN_REUSED = "IdempotentParameterMismatchException"


def request_token(claim_id: str, change: int | str) -> str:
    """The transaction's ``ClientRequestToken``, derived from the change (the claim and the version it
    writes, or the penalty day it records): when the SDK retries a transaction that did commit (a
    timeout), DynamoDB recognises it and answers success instead of failing its version condition.
    A UUID, to fit the token's 36 characters whatever the claim id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aftersales:claim:{claim_id}:{change}"))


def _cancellation_codes(exc: TransactWriteError) -> dict[int, str]:
    reasons = exc.cancellation_reasons or []
    return {index: reason.code for index, reason in enumerate(reasons) if reason is not None}


def _is_cancelled(exc: Exception) -> bool:
    return isinstance(exc, TransactWriteError) and exc.cause_response_code == "TransactionCanceledException"


def _is_condition_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


@per_process
def _repository(settings: Settings) -> Repository:
    return Repository(settings)


def default_repository() -> Repository:
    """The process-wide repository, bound to this process's settings on first use."""
    return _repository(get_settings())
