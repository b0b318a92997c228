"""sla_tick as a service: act on every deadline that is due, reading only what is due.

Each open deadline is one item in the sparse, write-sharded due index (``due#<shard>``, ``due_at``).
A run queries each of its shards (all, or a worker's group: ``aftersales.sla_fanout``) for
``due_at <= now`` (never a Scan) and reads two items per due deadline, the index entry (the whole
deadline) and the claim item. Then, in the domain's terms (POLICY §4, §5, §6), it:

- accrues the overdue days of a merchant-owed penalty deadline (one ledger item per day, written once),
  and re-indexes the deadline to the next day boundary until the stage is done or the cap is reached;
- applies the automatic outcome (auto-approve, forfeit, auto-accept inspection, auto-confirm, close the
  appeal window) through ``claims.act``, and fails the waiting workflow task with ``Deadline.<kind>``;
- escalates a late answer one step up the ladder, once per lapse;
- or, for a reminder, only tells the listeners.

Once-only, across crashes and overlapping runs: every effect is a conditional write. An automatic
outcome is a transition, so a second attempt is illegal; an outcome or an escalation is taken only
while the deadline is still due where the index entry said (and an escalation moves it); a penalty day
is written on condition it does not exist and the deadline is where it was read; moving the deadline
in the index is conditional on where it was read. Events go out only for writes this run won.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aftersales import claims
from aftersales.clock import iso, parse_instant
from aftersales.domain import deadlines as dl
from aftersales.domain import penalties
from aftersales.domain import sla as rules
from aftersales.domain.actions import ActionInput
from aftersales.domain.claim import Actor, Claim
from aftersales.domain.errors import IllegalTransition
from aftersales.domain.model import Action, ClaimType, Status
from aftersales.domain.policy import DeadlineKind, Policy
from aftersales.domain.sla import Step
from aftersales.events import Event, Publisher, event
from aftersales.observability import logger
from aftersales.service_errors import Conflict
from aftersales.store import ClaimRecord, Repository
from aftersales.store.mapping import item_to_claim, item_to_deadline, item_to_penalty_day
from aftersales.store.models import ClaimItem, DeadlineItem

ACTOR = Actor.system("sla_tick")
PAGE_SIZE = 100  # due entries read per query; a shard with more is queried again after handling these
EVENT_BATCH = 10
PolicyOf = Callable[[Claim], Policy]


@dataclass
class TickReport:
    due: int = 0  # due-index entries read
    overdue: int = 0  # overdue deadlines this run acted on
    penalty_days: int = 0
    penalties_fen: int = 0
    auto_decisions: int = 0
    escalations: int = 0
    reminders: int = 0
    closed: int = 0  # deadlines of a stage already left: closed, not acted on
    skipped: int = 0  # already handled by someone else, or no longer due
    errors: int = 0
    lag_seconds: list[float] = field(default_factory=list)  # due time → action, per action
    complete: bool = True  # False: stopped for the time budget; the next run continues

    @property
    def actions(self) -> int:
        return self.auto_decisions + self.escalations + self.reminders

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "overdue": self.overdue,
            "penalty_days": self.penalty_days,
            "penalties_fen": self.penalties_fen,
            "auto_decisions": self.auto_decisions,
            "escalations": self.escalations,
            "reminders": self.reminders,
            "closed": self.closed,
            "skipped": self.skipped,
            "errors": self.errors,
            "max_lag_seconds": max(self.lag_seconds, default=0.0),
            "complete": self.complete,
        }


def record_metrics(report: TickReport) -> None:
    """The run's metrics (Powertools, namespace ``AfterSales``): one set per run, scheduled or worker."""
    from aws_lambda_powertools.metrics import MetricUnit

    from aftersales.observability import metrics

    metrics.add_metric(name="OverdueDeadlines", unit=MetricUnit.Count, value=report.overdue)
    metrics.add_metric(name="PenaltiesAccruedFen", unit=MetricUnit.Count, value=report.penalties_fen)
    metrics.add_metric(name="PenaltyDaysAccrued", unit=MetricUnit.Count, value=report.penalty_days)
    metrics.add_metric(name="SlaActionsTaken", unit=MetricUnit.Count, value=report.actions)
    metrics.add_metric(name="SlaTickErrors", unit=MetricUnit.Count, value=report.errors)
    metrics.add_metric(name="SlaTickIncomplete", unit=MetricUnit.Count, value=0 if report.complete else 1)
    for lag in report.lag_seconds[:100]:  # EMF takes at most 100 values per metric
        metrics.add_metric(name="DueToActionLag", unit=MetricUnit.Seconds, value=lag)


def run_tick(
    now: datetime,
    *,
    repo: Repository,
    publisher: Publisher,
    budget: Callable[[], float] | None = None,
    policies: PolicyOf = claims.policy_for,
    shards: Sequence[int] | None = None,
) -> TickReport:
    """Handle every deadline due at ``now`` in the due-index ``shards`` (default: all of them) while
    ``budget()`` (seconds left) stays positive, under the policy ``policies`` gives each claim (the one
    it was opened under).

    Shards are visited starting from one that rotates with the minute, so a run cut short by its budget
    does not always leave the same shards for later.
    """
    report = TickReport()
    outbox: list[Event] = []
    visit = list(range(repo.settings.due_shards)) if shards is None else list(shards)
    first = int(now.timestamp() // 60) % max(len(visit), 1)
    try:
        for shard in visit[first:] + visit[:first]:
            if not _drain_shard(shard, now, repo, report, outbox, publisher, budget, policies):
                report.complete = False
                break
    finally:
        # Whatever happens, tell the listeners about the changes already committed.
        _flush(publisher, outbox)
    return report


def _out_of_time(budget: Callable[[], float] | None) -> bool:
    return budget is not None and budget() <= 0


def _drain_shard(
    shard: int,
    now: datetime,
    repo: Repository,
    report: TickReport,
    outbox: list[Event],
    publisher: Publisher,
    budget: Callable[[], float] | None,
    policies: PolicyOf,
) -> bool:
    """Handle one shard's due deadlines, a page at a time. False when the budget ran out."""
    seen: set[tuple[str, str]] = set()
    while True:
        if _out_of_time(budget):
            return False
        page = repo.deadlines_due(shard, now, limit=PAGE_SIZE)
        fresh = [item for item in page if (item.claim_id, item.kind) not in seen]
        for item in fresh:
            if _out_of_time(budget):
                return False
            seen.add((item.claim_id, item.kind))
            report.due += 1
            try:
                outbox.extend(handle_due(item, now, repo, report, policies))
            except Exception:
                # One broken claim must not hold up the rest; it stays due and is retried next run.
                report.errors += 1
                logger.exception("due deadline not handled", extra={"claim_id": item.claim_id})
            if len(outbox) >= EVENT_BATCH:
                _flush(publisher, outbox)
        # A full page may hide more; entries handled above have left the range or are in ``seen``
        # (the index is eventually consistent, and a deadline re-indexed to exactly ``now`` reappears).
        if len(page) < PAGE_SIZE or not fresh:
            return True


def _flush(publisher: Publisher, outbox: list[Event]) -> None:
    if outbox:
        batch, outbox[:] = list(outbox), []
        try:
            publisher.publish(batch)
        except Exception:
            logger.exception("events not published", extra={"count": len(batch)})


# --------------------------------------------------------------------------- one due deadline


def handle_due(
    item: DeadlineItem, now: datetime, repo: Repository, report: TickReport, policies: PolicyOf
) -> list[Event]:
    """Act on one due-index entry. Returns the events of the changes this call committed.

    Two items are read: the entry itself (the whole deadline, projected by the index, eventually
    consistent) and the claim item (consistent). The entry may be stale, so every effect is written on
    condition that the stored deadline is still due where the entry says (``due_at``, and for a penalty
    day the counters read): one met, extended or paused since the index was read is never acted on.
    """
    claim = repo.claim_item(item.claim_id)
    read_due_at = item.due_at
    if claim is None or read_due_at is None or parse_instant(read_due_at) > now:
        report.skipped += 1  # no claim, or re-indexed later since the page was read
        return []
    deadline = item_to_deadline(item)
    status, claim_type = Status(claim.status), ClaimType(claim.claim_type)
    if not deadline.is_open or deadline.paused_since is not None:
        # Not expirable; its index keys are left over (written outside ``deadline_to_item``).
        repo.reindex_deadline(item, read_due_at=read_due_at, due_at=None)
        report.skipped += 1
        return []
    if deadline.kind not in dl.deadlines_for(status, claim_type):
        # The stage has moved on: the deadline was met in substance. Close it, never act on it (a
        # change that met it already took it out of the index: then the condition fails, nothing moves).
        if repo.reindex_deadline(item, read_due_at=read_due_at, due_at=None, met_at=now):
            report.closed += 1
        else:
            report.skipped += 1
        return []
    if not dl.is_overdue(deadline, now):
        report.skipped += 1  # due exactly now: overdue from the next instant, the next run
        return []
    return _handle_overdue(claim, item, deadline, now, repo, report, policies)


def _charged(
    item: DeadlineItem, deadline: dl.Deadline, claim: ClaimItem, repo: Repository
) -> tuple[int, int]:
    """(days, fen) already charged for this deadline: its counters, kept with the ledger. Without them
    (never charged, or the item was rewritten whole by a claim change since) the ledger is read, unless
    the claim has never been charged at all."""
    if item.charged_days is not None:
        return int(item.charged_days), int(item.charged_fen or 0)
    if not claim.penalty_total_fen:
        return 0, 0
    prefix = penalties.penalty_ledger_prefix(deadline.kind, deadline.instance)
    ledger = repo.penalty_days(str(item.claim_id), prefix)
    return rules.charged(deadline, map(item_to_penalty_day, ledger))


def _handle_overdue(
    claim_item: ClaimItem,
    stored: DeadlineItem,
    deadline: dl.Deadline,
    now: datetime,
    repo: Repository,
    report: TickReport,
    policies: PolicyOf,
) -> list[Event]:
    claim = item_to_claim(claim_item)
    kind = deadline.kind
    policy = policies(claim)
    days_overdue = rules.overdue_days(deadline, now)
    read_due_at = str(stored.due_at)
    lag = (now - parse_instant(read_due_at)).total_seconds()
    facts = {"claim_id": claim.claim_id, "deadline": kind.value, "merchant_id": claim.merchant_id}
    events: list[Event] = []

    charged = _charged(stored, deadline, claim_item, repo) if penalties.applies(deadline) else (0, 0)
    if penalties.applies(deadline):
        accruals = penalties.accruals_due(
            deadline,
            claim.amount_fen,
            policy,
            now,
            already_accrued_days=charged[0],
            already_accrued_fen=charged[1],
        )
        for accrual in accruals:
            if not repo.record_penalty_day(
                claim_item, accrual, stored, now, read_due_at=read_due_at, charged_fen=charged[1]
            ):
                # Recorded already, or the deadline moved or was met since it was read: another run is
                # on it, or there is nothing to do. This visit stops; the entry, if still due, returns.
                return _won(events, False, facts, now, days_overdue, report)
            charged = (accrual.day, charged[1] + accrual.amount_fen)
            report.penalty_days += 1
            report.penalties_fen += accrual.amount_fen
            events.append(
                event(
                    "penalty.accrued",
                    now,
                    **facts,
                    day=accrual.day,
                    amount_fen=accrual.amount_fen,
                    event_key=f"{claim.claim_id}:{accrual.ledger_key}",
                )
            )
    next_accrual = penalties.next_accrual_at(deadline, charged[0], base_fen=claim.amount_fen, policy=policy)
    plan = rules.lapse(
        deadline,
        policy.deadline(kind),
        now,
        next_accrual=next_accrual,
        escalated=stored.escalated_at is not None,
    )
    if plan.step is Step.DECIDE and plan.action is not None:
        events += _decide(claim.claim_id, kind, plan.action, read_due_at, now, repo, report, facts, lag)
        return _won(events, False, facts, now, days_overdue, report)
    if plan.step is Step.ESCALATE:
        events += _escalate(
            claim.claim_id, kind, read_due_at, plan.come_back_at, now, repo, report, facts, lag
        )
        return _won(events, False, facts, now, days_overdue, report)
    if plan.step is Step.WAIT:
        moved = repo.reindex_deadline(stored, read_due_at=read_due_at, due_at=plan.come_back_at)
        return _won(events, moved, facts, now, days_overdue, report)
    # A reminder: nothing changes on the claim, the listeners are told once.
    moved = repo.reindex_deadline(stored, read_due_at=read_due_at, due_at=None)
    if moved:
        report.reminders += 1
        report.lag_seconds.append(lag)
        events.append(event("claim.reminder", now, **facts, event_key=f"{claim.claim_id}:{kind}:remind"))
    return _won(events, moved, facts, now, days_overdue, report)


def _decide(
    claim_id: str,
    kind: DeadlineKind,
    action: Action,
    read_due_at: str,
    now: datetime,
    repo: Repository,
    report: TickReport,
    facts: dict[str, Any],
    lag: float,
) -> list[Event]:
    """Apply the automatic outcome, while the deadline is still due where it was read; a second attempt
    (overlapping run, re-run) finds it illegal or the deadline gone."""
    try:
        # ``lapsed_deadline``: the waiting workflow task is failed with ``Deadline.<kind>`` (not succeeded),
        # so the run takes the step that reads where the automatic outcome left the claim.
        result = claims.act(
            claim_id,
            ACTOR,
            action,
            ActionInput(note=f"the {kind} deadline lapsed"),
            now,
            repo=repo,
            lapsed_deadline=kind,
            lapsed_due_at=read_due_at,
        )
    except (IllegalTransition, Conflict):
        report.skipped += 1
        return []
    report.auto_decisions += 1
    report.lag_seconds.append(lag)
    return [
        event(
            "claim.auto_decided",
            now,
            **facts,
            action=action.value,
            status=result.claim.status.value,
            outcome=result.claim.outcome.value if result.claim.outcome else None,
            event_key=f"{claim_id}:{kind}:{action}",
        )
    ]


def _escalate(
    claim_id: str,
    kind: DeadlineKind,
    read_due_at: str,
    come_back_at: datetime | None,
    now: datetime,
    repo: Repository,
    report: TickReport,
    facts: dict[str, Any],
    lag: float,
) -> list[Event]:
    """Escalate once per lapse: the escalation and the deadline marked escalated (and re-indexed to the
    next penalty day, or out of the index) are one transaction on the claim version ``claims.act`` reads,
    taken only while the deadline is still due at ``read_due_at``. A second run finds it moved."""

    def escalated(record: ClaimRecord) -> list[DeadlineItem]:
        stored = _deadline_of(record, kind.value)
        if stored is None:
            return []
        stored.escalated_at = iso(now)
        if come_back_at is not None:
            stored.due_at = iso(come_back_at)
        else:
            stored.due_pk, stored.due_at = None, None
        return [stored]

    try:
        result = claims.act(
            claim_id,
            ACTOR,
            Action.ESCALATE,
            ActionInput(note=f"the {kind} deadline lapsed"),
            now,
            repo=repo,
            deadline_writes=escalated,
            lapsed_deadline=kind,  # in mediation → arbitration changes the status: Deadline.<kind>
            lapsed_due_at=read_due_at,
        )
    except (IllegalTransition, Conflict):
        report.skipped += 1
        return []
    report.escalations += 1
    report.lag_seconds.append(lag)
    return [
        event(
            "claim.escalated",
            now,
            **facts,
            level=result.claim.escalation_level.value,
            status=result.claim.status.value,
            event_key=f"{claim_id}:{kind}:escalate",
        )
    ]


def _won(
    events: list[Event], moved: bool, facts: dict[str, Any], now: datetime, days: int, report: TickReport
) -> list[Event]:
    """The events of a visit: ``claim.overdue`` first, but only if this run changed something (an
    overlapping run that lost every write stays silent)."""
    if not events and not moved:
        report.skipped += 1
        return []
    report.overdue += 1
    key = f"{facts['claim_id']}:{facts['deadline']}:{days}"
    return [event("claim.overdue", now, **facts, overdue_days=days, event_key=key), *events]


def _deadline_of(record: ClaimRecord | None, kind: str) -> DeadlineItem | None:
    if record is None:
        return None
    return next((item for item in record.deadlines if item.kind == kind), None)
