"""sla_tick against moto: every automatic row of POLICY §4, penalties (§5), the escalation ladder (§6),
and the guarantees: reads only what is due, restartable after a crash, safe when runs overlap."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aftersales import claims, sla, workflow
from aftersales.clock import iso, parse_instant
from aftersales.domain import changes
from aftersales.domain import deadlines as dl
from aftersales.domain import sla as rules
from aftersales.domain.actions import input_for
from aftersales.domain.claim import Actor
from aftersales.domain.model import Action, ClaimRequest, ClaimType, Order, OrderLine, Reason, Role
from aftersales.domain.policy import DeadlineKind as K
from aftersales.domain.policy import PenaltyRule
from aftersales.events import RecordingPublisher
from aftersales.policies import default_policy
from aftersales.store import Repository, VersionConflict, default_repository
from aftersales.store.mapping import deadline_to_item, item_to_claim, item_to_deadline
from aftersales.store.models import DeadlineItem

from infra.local.sample_data import bulk_claim_item

MONDAY = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, an ordinary working week
BUYER = Actor(Role.BUYER, "buyer-1")
MERCHANT = Actor(Role.MERCHANT, "staff-1", "m-1")
SYSTEM = Actor.system("test")
AMOUNT = 12_990  # one of two coats paid 259.80 together
DAILY = 65  # 0.5 % of 129.90, rounded half-up
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class World:
    """Claims driven through ``claims.act`` to the stage a test needs, and the tick run against them."""

    def __init__(self, repo: Repository):
        self.repo = repo
        self.events = RecordingPublisher()
        self._ids = itertools.count(1)

    def claim(
        self, at: datetime, type_: ClaimType = ClaimType.RETURN_REFUND, reason: Reason | None = None
    ) -> str:
        order_id = f"ord-{next(self._ids)}"
        line = OrderLine("L1", "SKU-1", "Wool coat", "apparel", 2, 25_980)
        order = Order(order_id, "buyer-1", "m-1", at - 10 * DAY, at - DAY, (line,))
        self.repo.put_order(order, source="test", now=at)
        reason = reason or (Reason.SERVICE if type_ is ClaimType.COMPLAINT else Reason.QUALITY_DEFECT)
        quantity = 0 if type_ is ClaimType.COMPLAINT else 1
        request = ClaimRequest(order_id, "L1", quantity, type_, reason)
        return claims.submit(request, BUYER, at, repo=self.repo).claim_id

    def act(self, claim_id: str, actor: Actor, action: Action, at: datetime, **payload: Any) -> None:
        claims.act(claim_id, actor, action, input_for(action, **payload), at, repo=self.repo)

    def to_inspection(self, claim_id: str, at: datetime) -> None:
        self.act(claim_id, MERCHANT, Action.APPROVE, at)
        self.act(claim_id, BUYER, Action.SHIP_RETURN, at)
        self.act(claim_id, SYSTEM, Action.RETURN_DELIVERED, at)

    def to_refund(self, claim_id: str, at: datetime) -> None:
        self.to_inspection(claim_id, at)
        self.act(claim_id, MERCHANT, Action.INSPECT_PASS, at)

    def tick(self, at: datetime, **kw: Any) -> sla.TickReport:
        return sla.run_tick(at, repo=self.repo, publisher=self.events, **kw)

    def record(self, claim_id: str) -> Any:
        return self.repo.get_claim_record(claim_id)

    def status(self, claim_id: str) -> str:
        return str(self.record(claim_id).claim.status)

    def deadline(self, claim_id: str, kind: K) -> DeadlineItem:
        return next(d for d in self.record(claim_id).deadlines if d.kind == kind.value)

    def due(self, claim_id: str, kind: K) -> datetime:
        return parse_instant(self.deadline(claim_id, kind).deadline_at)

    def ledger(self, claim_id: str, kind: K) -> list[int]:
        return [int(p.amount_fen) for p in self.record(claim_id).penalties if p.kind == kind.value]

    def actions(self, claim_id: str, action: Action) -> int:
        return sum(1 for t in self.record(claim_id).timeline if t.action == action.value)

    def replace_deadline(self, claim_id: str, kind: K, change: Callable[[dl.Deadline], dl.Deadline]) -> None:
        """What an ops pause / a liability finding does to a deadline, written as the item would be."""
        item = self.deadline(claim_id, kind)
        changed = deadline_to_item(
            claim_id, change(item_to_deadline(item)), shards=self.repo.settings.due_shards
        )
        changed.save()

    def of(self, detail_type: str, claim_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e.detail
            for e in self.events.of(detail_type)
            if claim_id is None or e.detail["claim_id"] == claim_id
        ]


@pytest.fixture
def world(aws: None) -> World:
    return World(default_repository())


@pytest.fixture
def task_failures(world: World) -> list[dict[str, Any]]:
    """SendTaskFailure calls the tick makes (moto answers InvalidToken for the made-up tokens)."""
    seen: list[dict[str, Any]] = []
    client = workflow._stepfunctions(world.repo.settings.region)
    client.meta.events.register(
        "before-parameter-build.sfn.SendTaskFailure", lambda params, **_: seen.append(dict(params))
    )
    return seen


# --------------------------------------------------------------------------- POLICY §4 rows


def test_open_deadlines_are_in_the_due_index_and_leave_it_when_met(world: World) -> None:
    cid = world.claim(MONDAY)
    review = world.deadline(cid, K.REVIEW_DECISION)
    assert review.due_pk and review.due_pk.startswith("due#") and review.due_at == review.deadline_at
    world.act(cid, MERCHANT, Action.APPROVE, MONDAY + MINUTE)
    met = world.deadline(cid, K.REVIEW_DECISION)
    assert met.due_pk is None and met.due_at is None and met.met_at
    assert world.deadline(cid, K.RETURN_SHIPMENT).due_pk


def test_a_review_the_merchant_let_lapse_is_auto_approved_and_the_waiting_task_fails(
    world: World, task_failures: list[dict[str, Any]]
) -> None:
    cid = world.claim(MONDAY)
    assert world.repo.save_task_token(cid, "token-review", "pending_review")
    due = world.due(cid, K.REVIEW_DECISION)
    # The merchant did not respond within 24 h either: that lapse escalated first, and the run waits on.
    assert world.tick(world.due(cid, K.FIRST_RESPONSE) + MINUTE).escalations == 1
    assert world.record(cid).claim.task_token == "token-review" and not task_failures

    assert world.tick(due).overdue == 0  # due is not yet overdue (strictly after, POLICY §5)
    report = world.tick(due + MINUTE)

    assert report.auto_decisions == 1 and report.lag_seconds == [60.0]
    assert world.status(cid) == "awaiting_return_shipment"
    timeline = world.record(cid).timeline[-1]
    assert (timeline.action, timeline.actor_id) == ("auto_approve", "sla_tick")
    assert world.record(cid).claim.task_token is None
    assert [f["error"] for f in task_failures] == ["Deadline.review_decision"]
    assert [e["action"] for e in world.of("claim.auto_decided", cid)] == ["auto_approve"]
    assert [e["deadline"] for e in world.of("claim.overdue", cid)] == ["first_response", "review_decision"]
    # Nothing left to do for that deadline, however often the tick runs.
    assert world.tick(due + 2 * MINUTE).due == 0
    assert world.actions(cid, Action.AUTO_APPROVE) == 1


def test_a_buyer_who_never_ships_forfeits_the_claim(world: World) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, MERCHANT, Action.APPROVE, MONDAY)
    world.tick(world.due(cid, K.RETURN_SHIPMENT) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.outcome) == ("closed", "forfeited")
    assert world.ledger(cid, K.RETURN_SHIPMENT) == []  # the buyer owes it: no penalty


def test_a_lapsed_inspection_charges_three_days_then_is_auto_accepted(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)

    for day in range(2):
        report = world.tick(due + day * DAY + MINUTE)
        assert (report.penalty_days, report.auto_decisions) == (1, 0)
        assert world.status(cid) == "awaiting_inspection"
        # Due again at the next day boundary, not before.
        assert world.deadline(cid, K.INSPECTION).due_at == iso(due + (day + 1) * DAY)
        assert world.tick(due + (day + 1) * DAY - MINUTE).due == 0

    report = world.tick(due + 2 * DAY + MINUTE)
    assert (report.penalty_days, report.auto_decisions) == (1, 1)
    assert world.status(cid) == "awaiting_refund"
    assert world.ledger(cid, K.INSPECTION) == [DAILY, DAILY, DAILY]
    assert world.record(cid).claim.penalty_total_fen == 3 * DAILY
    assert [e["day"] for e in world.of("penalty.accrued", cid)] == [1, 2, 3]
    assert world.deadline(cid, K.INSPECTION).due_pk is None


def test_goods_the_buyer_does_not_confirm_are_auto_confirmed(world: World) -> None:
    cid = world.claim(MONDAY, ClaimType.EXCHANGE)
    world.to_inspection(cid, MONDAY)
    world.act(cid, MERCHANT, Action.INSPECT_PASS, MONDAY)
    world.act(cid, MERCHANT, Action.SHIP_REPLACEMENT, MONDAY)
    world.act(cid, SYSTEM, Action.OUTBOUND_DELIVERED, MONDAY)
    world.tick(world.due(cid, K.BUYER_CONFIRMATION) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.outcome) == ("closed", "exchanged")


def test_a_repair_quote_left_unanswered_is_declined_and_a_late_ship_back_escalates(
    world: World, task_failures: list[dict[str, Any]]
) -> None:
    cid = world.claim(MONDAY, ClaimType.REPAIR, Reason.PAID_REPAIR)
    world.to_inspection(cid, MONDAY)
    world.act(cid, MERCHANT, Action.QUOTE_REPAIR, MONDAY, quote_fen=8800)
    assert world.repo.save_task_token(cid, "token-quote", "awaiting_quote_acceptance")
    world.tick(world.due(cid, K.QUOTE_ANSWER) - MINUTE)
    assert world.status(cid) == "awaiting_quote_acceptance"  # not before the 7 days are up
    world.tick(world.due(cid, K.QUOTE_ANSWER) + MINUTE)
    claim = world.record(cid).claim
    # The goods are still with the merchant: declining sends them back at the buyer's cost.
    assert (claim.status, claim.outcome) == ("awaiting_return_to_buyer", None)
    assert claim.ship_back_payer == "buyer"
    assert [f["error"] for f in task_failures] == ["Deadline.quote_answer"]
    world.tick(world.due(cid, K.RETURN_TO_BUYER) - MINUTE)
    assert world.record(cid).claim.escalation_level == "agent"
    world.tick(world.due(cid, K.RETURN_TO_BUYER) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.escalation_level) == ("awaiting_return_to_buyer", "specialist")
    assert world.deadline(cid, K.RETURN_TO_BUYER).escalated_at is not None


def test_a_rejection_not_appealed_in_time_closes_the_claim(world: World) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, MERCHANT, Action.REJECT, MONDAY, reason="worn")
    world.tick(world.due(cid, K.APPEAL) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.outcome) == ("closed", "rejected")
    assert world.actions(cid, Action.APPEAL_LAPSED) == 1


def test_late_complaint_answers_escalate_one_step_each_and_only_once(world: World) -> None:
    cid = world.claim(MONDAY, ClaimType.COMPLAINT)
    first, opinion = world.due(cid, K.FIRST_RESPONSE), world.due(cid, K.COMPLAINT_OPINION)

    world.tick(first + MINUTE)
    assert world.record(cid).claim.escalation_level == "specialist"
    assert world.deadline(cid, K.FIRST_RESPONSE).escalated_at is not None
    assert world.deadline(cid, K.FIRST_RESPONSE).due_pk is None  # out of the index, still open
    world.tick(first + 2 * MINUTE)
    assert world.actions(cid, Action.ESCALATE) == 1

    world.tick(opinion + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.escalation_level) == ("awaiting_opinion", "supervisor")
    assert [e["level"] for e in world.of("claim.escalated", cid)] == ["specialist", "supervisor"]


def test_a_late_repair_answer_escalates_without_deciding(world: World) -> None:
    cid = world.claim(MONDAY, ClaimType.REPAIR)
    world.act(cid, MERCHANT, Action.EXTEND, MONDAY + HOUR, due_at=MONDAY + 5 * DAY, reason="parts")
    world.tick(world.due(cid, K.REPAIR_ANSWER) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.escalation_level) == ("pending_review", "specialist")


@pytest.mark.parametrize("claim_type", [t for t in ClaimType if t is not ClaimType.COMPLAINT])
def test_a_first_response_the_merchant_misses_goes_to_the_specialist(
    world: World, claim_type: ClaimType
) -> None:
    reason = Reason.DAMAGED_IN_TRANSIT if claim_type is ClaimType.REFUND_ONLY else None
    cid = world.claim(MONDAY, claim_type, reason)
    first = world.deadline(cid, K.FIRST_RESPONSE)
    assert (first.owner, parse_instant(first.deadline_at)) == ("merchant", MONDAY + DAY)
    assert world.tick(MONDAY + DAY).escalations == 0  # due, not yet late
    world.tick(MONDAY + DAY + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.escalation_level) == ("pending_review", "specialist")
    assert [e["level"] for e in world.of("claim.escalated", cid)] == ["specialist"]
    assert world.tick(MONDAY + DAY + 2 * MINUTE).escalations == 0  # once per lapse


def test_a_first_response_in_time_is_met_and_never_escalates(world: World) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, MERCHANT, Action.EXTEND, MONDAY + HOUR, due_at=MONDAY + 5 * DAY, reason="checking stock")
    assert world.deadline(cid, K.FIRST_RESPONSE).met_at is not None
    world.tick(MONDAY + 2 * DAY)
    assert world.actions(cid, Action.ESCALATE) == 0


def test_a_late_dispute_step_takes_the_claim_from_mediation_to_arbitration(
    world: World, task_failures: list[dict[str, Any]]
) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, MERCHANT, Action.REJECT, MONDAY, reason="worn")
    world.act(cid, BUYER, Action.DISPUTE, MONDAY)
    assert world.repo.save_task_token(cid, "token-mediation", "in_mediation")
    world.tick(world.due(cid, K.CLASSIFY_DISPUTE) + MINUTE)  # a late classification only tells the team
    assert world.status(cid) == "in_mediation" and not task_failures
    world.tick(world.due(cid, K.MEDIATION_PLAN) + MINUTE)
    claim = world.record(cid).claim
    assert (claim.status, claim.escalation_level) == ("in_arbitration", "arbitration")
    assert world.actions(cid, Action.ESCALATE) == 1
    assert len(task_failures) == 1 and task_failures[0]["error"].startswith("Deadline.")
    assert all(d.due_pk is None for d in world.record(cid).deadlines)


def test_a_missed_follow_up_visit_only_reminds(world: World) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, BUYER, Action.CANCEL, MONDAY)
    version = world.record(cid).claim.version
    report = world.tick(world.due(cid, K.FOLLOW_UP_VISIT) + MINUTE)
    assert report.reminders == 1
    assert world.record(cid).claim.version == version
    assert len(world.of("claim.reminder", cid)) == 1
    assert world.tick(world.due(cid, K.FOLLOW_UP_VISIT) + 2 * MINUTE).due == 0


def test_a_deadline_whose_stage_moved_on_is_closed_not_acted_on(world: World) -> None:
    cid = world.claim(MONDAY)
    world.act(cid, MERCHANT, Action.APPROVE, MONDAY)
    # A leftover open review deadline (e.g. written by an older version) for a stage already left.
    leftover = deadline_to_item(cid, dl.open_deadline(K.REVIEW_DECISION, default_policy(), MONDAY), shards=4)
    leftover.save()
    report = world.tick(world.due(cid, K.REVIEW_DECISION) + MINUTE)
    assert (report.closed, report.auto_decisions) == (1, 0)
    assert world.deadline(cid, K.REVIEW_DECISION).met_at is not None
    assert world.status(cid) == "awaiting_return_shipment"


# --------------------------------------------------------------------------- POLICY §5 penalties


def test_refund_penalty_counts_calendar_days_over_a_weekend_and_a_holiday(world: World) -> None:
    start = datetime(2026, 9, 18, 2, 0, tzinfo=UTC)  # a Friday; Mid-Autumn and National Day ahead
    cid = world.claim(start)
    world.to_refund(cid, start)
    due = world.due(cid, K.REFUND)
    assert due.date() < datetime(2026, 10, 1, tzinfo=UTC).date()  # 7 working days end before the holiday

    for day in range(9):  # the breach, then every day through the holiday and its weekend
        world.tick(due + day * DAY + MINUTE)
    world.tick(due + 8 * DAY + 2 * MINUTE)  # a second run the same day charges nothing more

    assert world.ledger(cid, K.REFUND) == [DAILY] * 9
    claim = world.record(cid).claim
    assert claim.penalty_total_fen == 9 * DAILY
    assert (claim.status, claim.escalation_level) == ("awaiting_refund", "specialist")
    assert world.actions(cid, Action.ESCALATE) == 1  # at the breach only; then it keeps accruing

    world.act(cid, SYSTEM, Action.REFUND_SUCCEEDED, due + 8 * DAY + 3 * MINUTE)
    assert world.tick(due + 20 * DAY).penalty_days == 0  # the stage is done: no more days
    assert world.ledger(cid, K.REFUND) == [DAILY] * 9


def test_a_refund_stage_entered_again_charges_its_own_days(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_refund(cid, MONDAY)
    first_due = world.due(cid, K.REFUND)
    world.tick(first_due + MINUTE)  # day 1 of the first refund deadline
    world.act(cid, SYSTEM, Action.REFUND_FAILED, first_due + 2 * MINUTE)
    world.act(cid, Actor(Role.OPS, "ops-1"), Action.RETRY_REFUND, first_due + 3 * MINUTE)
    second_due = world.due(cid, K.REFUND)
    assert second_due > first_due

    world.tick(second_due + MINUTE)
    world.tick(second_due + DAY + MINUTE)

    record = world.record(cid)
    assert sorted(p.sk for p in record.penalties) == [
        "PEN#refund#01#0001",
        "PEN#refund#02#0001",
        "PEN#refund#02#0002",
    ]
    assert record.claim.penalty_total_fen == 3 * DAILY


def test_penalties_stop_at_the_cap(world: World) -> None:
    # A policy capping at 1.7 % of the amount (221 fen) stands in for the default 100 %, which
    # takes 200 days (one transaction each) to reach; the arithmetic is the same.
    capped = default_policy().model_copy(update={"penalty": PenaltyRule(cap_basis_points=170)})
    cid = world.claim(MONDAY)
    world.to_refund(cid, MONDAY)
    due = world.due(cid, K.REFUND)
    world.tick(due + MINUTE, policies=lambda claim: capped)
    report = world.tick(
        due + 30 * DAY, policies=lambda claim: capped
    )  # a run long after charges every missed day, up to the cap
    assert world.ledger(cid, K.REFUND) == [DAILY, DAILY, DAILY, 221 - 3 * DAILY]
    assert report.penalties_fen == 221 - DAILY
    assert world.record(cid).claim.penalty_total_fen == 221
    assert world.deadline(cid, K.REFUND).due_pk is None  # capped: nothing more to come back for
    assert world.deadline(cid, K.REFUND).met_at is None  # but the refund is still owed
    assert world.tick(due + 31 * DAY).due == 0


def test_an_extension_asked_in_time_moves_the_breach(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    world.act(cid, MERCHANT, Action.EXTEND, MONDAY, due_at=due + 2 * DAY, reason="waiting for the lab")
    assert world.tick(due + DAY).due == 0
    world.tick(due + 2 * DAY + MINUTE)
    assert world.ledger(cid, K.INSPECTION) == [DAILY]


def test_no_penalty_and_no_expiry_while_paused(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    world.tick(due + MINUTE)  # day 1 charged at the breach
    world.replace_deadline(cid, K.INSPECTION, lambda d: dl.pause(d, due + 2 * MINUTE))
    assert world.deadline(cid, K.INSPECTION).due_pk is None

    assert world.tick(due + 5 * DAY).due == 0
    assert world.ledger(cid, K.INSPECTION) == [DAILY]
    assert world.status(cid) == "awaiting_inspection"

    world.replace_deadline(cid, K.INSPECTION, lambda d: dl.resume(d, due + 5 * DAY))
    resumed_due = world.due(cid, K.INSPECTION)
    assert resumed_due == due + 5 * DAY - 2 * MINUTE  # the paused time is given back
    world.tick(resumed_due + DAY + MINUTE)  # day 2 of the clock that counts
    assert world.ledger(cid, K.INSPECTION) == [DAILY, DAILY]
    assert world.status(cid) == "awaiting_inspection"


def test_no_penalty_when_the_buyer_caused_the_delay_but_the_outcome_still_comes(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    world.replace_deadline(cid, K.INSPECTION, lambda d: dataclasses.replace(d, buyer_caused_delay=True))
    for day in range(3):
        world.tick(due + day * DAY + MINUTE)
    assert world.ledger(cid, K.INSPECTION) == []
    assert world.record(cid).claim.penalty_total_fen == 0
    assert world.status(cid) == "awaiting_refund"  # auto-accepted after the same three overdue days


def test_a_penalty_day_makes_a_concurrent_change_re_read_instead_of_losing_the_total(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    stale = world.record(cid)  # the merchant's request read the claim...
    world.tick(due + MINUTE)  # ...the tick charges day 1 (nothing else changes on the claim)...
    claim, deadlines = item_to_claim(stale.claim), [item_to_deadline(item) for item in stale.deadlines]
    passed = changes.decide(
        claim, deadlines, MERCHANT, Action.INSPECT_PASS, None, default_policy(), due + 2 * MINUTE
    )
    with pytest.raises(VersionConflict):  # ...so writing the claim as it was read is refused
        world.repo.commit_change(passed)
    world.act(cid, MERCHANT, Action.INSPECT_PASS, due + 2 * MINUTE)  # act re-reads and succeeds
    assert world.record(cid).claim.penalty_total_fen == sum(world.ledger(cid, K.INSPECTION)) == DAILY


# --------------------------------------------------------------------------- bounded and restartable


def _mixed_world(world: World) -> tuple[dict[str, str], datetime]:
    """One claim per kind of handling, all due at ``at``: auto-decision, escalation, penalty, reminder."""
    ids = {
        "review": world.claim(MONDAY),
        "complaint": world.claim(MONDAY, ClaimType.COMPLAINT),
        "refund": world.claim(MONDAY),
        "inspection": world.claim(MONDAY),
        "closed": world.claim(MONDAY),
    }
    world.to_refund(ids["refund"], MONDAY)
    world.to_inspection(ids["inspection"], MONDAY)
    world.act(ids["closed"], BUYER, Action.CANCEL, MONDAY)
    at = (
        max(world.due(ids["refund"], K.REFUND), world.due(ids["inspection"], K.INSPECTION)) + 2 * DAY + MINUTE
    )
    return ids, at


def _assert_applied_once(world: World, ids: dict[str, str]) -> None:
    assert world.status(ids["review"]) == "awaiting_return_shipment"
    assert world.actions(ids["review"], Action.AUTO_APPROVE) == 1
    complaint = world.record(ids["complaint"]).claim
    assert (complaint.escalation_level, world.actions(ids["complaint"], Action.ESCALATE)) == ("supervisor", 2)
    refund = world.record(ids["refund"])
    assert len(world.ledger(ids["refund"], K.REFUND)) == 3
    assert world.actions(ids["refund"], Action.ESCALATE) == 1
    assert refund.claim.penalty_total_fen == sum(world.ledger(ids["refund"], K.REFUND))
    inspection = item_to_deadline(world.deadline(ids["inspection"], K.INSPECTION))
    days = rules.overdue_days(inspection, inspection.met_at or MONDAY)  # met by the auto-accept
    assert days >= 3 and world.ledger(ids["inspection"], K.INSPECTION) == [DAILY] * days
    assert world.status(ids["inspection"]) == "awaiting_refund"
    assert world.record(ids["inspection"]).claim.penalty_total_fen == days * DAILY
    assert len(world.of("claim.reminder", ids["closed"])) <= 1


class Crash(BaseException):
    """The Lambda dying mid-run (timeout, out of memory): nothing after it runs."""


@pytest.mark.parametrize("crash_after_writes", [1, 3, 6, 9])
def test_a_rerun_after_a_crash_midway_applies_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, crash_after_writes: int
) -> None:
    ids, at = _mixed_world(world)
    writes = itertools.count(1)
    for name in ("commit", "record_penalty_day", "reindex_deadline"):
        original = getattr(world.repo, name)

        def crashing(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            result = _original(*args, **kwargs)
            if next(writes) == crash_after_writes:
                raise Crash
            return result

        monkeypatch.setattr(world.repo, name, crashing)
    with pytest.raises(Crash):
        world.tick(at)
    monkeypatch.undo()

    world.tick(at)
    world.tick(at + MINUTE)
    _assert_applied_once(world, ids)


@pytest.mark.parametrize("interleave_at_read", [1, 3, 5, 7])
def test_two_overlapping_runs_apply_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, interleave_at_read: int
) -> None:
    """Run B starts and finishes while run A holds a read from before B's changes (the worst case of
    overlapping): A then acts on stale data, and every one of its writes must find that out."""
    ids, at = _mixed_world(world)
    reads = itertools.count(1)
    a_repo = Repository(world.repo.settings)
    original = a_repo.claim_item  # the tick's read of a due claim (its deadline comes from the index)

    def read_then_let_b_run(claim_id: str) -> Any:
        record = original(claim_id)
        if next(reads) == interleave_at_read:
            sla.run_tick(at, repo=default_repository(), publisher=world.events)  # run B, unpatched repo
        return record

    monkeypatch.setattr(a_repo, "claim_item", read_then_let_b_run)
    sla.run_tick(at, repo=a_repo, publisher=world.events)
    world.tick(at + MINUTE)
    _assert_applied_once(world, ids)
    escalations = [e["level"] for e in world.of("claim.escalated", ids["complaint"])]
    assert sorted(escalations) == ["specialist", "supervisor"]  # events only for writes a run won
    assert len(world.of("claim.auto_decided", ids["review"])) == 1


def test_a_run_stops_within_its_budget_and_the_next_continues(world: World) -> None:
    ids, at = _mixed_world(world)
    calls = itertools.count()
    first = world.tick(at, budget=lambda: 3.0 - next(calls))  # room for a couple of deadlines
    assert not first.complete and 0 < first.due < 6
    rest = world.tick(at)
    assert rest.complete
    world.tick(at + MINUTE)
    _assert_applied_once(world, ids)


# --------------------------------------------------------------------------- stale index entries
# The tick takes each deadline from the (eventually consistent) due index and reads only the claim item;
# a change that lands between the index read and the action must win.


def _change_after_index_read(
    world: World, monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]
) -> None:
    original = world.repo.deadlines_due
    done: list[bool] = []

    def page_then_change(shard: int, now: datetime, *, limit: int = 100) -> list[DeadlineItem]:
        page = original(shard, now, limit=limit)
        if page and not done:
            done.append(True)
            change()
        return page

    monkeypatch.setattr(world.repo, "deadlines_due", page_then_change)


def test_a_review_decided_after_the_index_read_is_not_auto_approved(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = world.claim(MONDAY)
    due = world.due(cid, K.REVIEW_DECISION)
    _change_after_index_read(
        world, monkeypatch, lambda: world.act(cid, MERCHANT, Action.REJECT, due, note="no")
    )
    report = world.tick(due + MINUTE)
    assert (report.auto_decisions, report.closed) == (0, 0)
    assert world.actions(cid, Action.AUTO_APPROVE) == 0 and world.status(cid) == "rejected"


def test_an_extension_landing_after_the_index_read_charges_nothing_and_decides_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    asked = lambda: world.act(  # noqa: E731 - asked in time, committed while the tick reads the index
        cid, MERCHANT, Action.EXTEND, due - MINUTE, due_at=due + 5 * DAY, reason="waiting for the lab"
    )
    _change_after_index_read(world, monkeypatch, asked)
    report = world.tick(due + 3 * DAY + MINUTE)  # three days would be charged, then auto-accepted
    assert (report.penalty_days, report.auto_decisions, report.overdue) == (0, 0, 0)
    assert world.ledger(cid, K.INSPECTION) == [] and world.status(cid) == "awaiting_inspection"
    assert world.due(cid, K.INSPECTION) == due + 5 * DAY


@pytest.mark.parametrize("kind", [K.REVIEW_DECISION, K.FIRST_RESPONSE])
def test_a_pause_landing_after_the_index_read_stops_the_outcome_and_the_escalation(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: K
) -> None:
    cid = world.claim(MONDAY, ClaimType.COMPLAINT if kind is K.FIRST_RESPONSE else ClaimType.RETURN_REFUND)
    due, before = world.due(cid, kind), world.status(cid)
    # A pause written as the item alone (no claim version change): only the deadline shows it.
    pause = lambda: world.replace_deadline(cid, kind, lambda d: dl.pause(d, due - MINUTE))  # noqa: E731
    _change_after_index_read(world, monkeypatch, pause)
    world.tick(due + MINUTE)
    acted = [e for t in ("claim.overdue", "claim.auto_decided", "claim.escalated") for e in world.of(t, cid)]
    assert [e for e in acted if e["deadline"] == kind.value] == []
    assert world.status(cid) == before and world.actions(cid, Action.AUTO_APPROVE) == 0
    assert world.deadline(cid, kind).escalated_at is None


def test_a_stale_entry_after_a_crash_charges_no_day_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run charged day 1 and died before re-indexing; another run holds the entry as it was before
    (no counters): it charges nothing again (it finds the day in the ledger) and finishes the move."""
    cid = world.claim(MONDAY)
    world.to_inspection(cid, MONDAY)
    due = world.due(cid, K.INSPECTION)
    stale = world.deadline(cid, K.INSPECTION)  # the entry as a lagging index would still return it
    monkeypatch.setattr(world.repo, "reindex_deadline", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        world.tick(due + MINUTE)
    monkeypatch.undo()
    assert world.ledger(cid, K.INSPECTION) == [DAILY] and world.deadline(cid, K.INSPECTION).charged_days == 1
    report = sla.TickReport()
    visit = sla.handle_due(stale, due + 2 * MINUTE, world.repo, report, claims.policy_for)
    assert [e.detail_type for e in visit] == ["claim.overdue"]  # no penalty.accrued
    assert world.ledger(cid, K.INSPECTION) == [DAILY] and report.penalty_days == 0
    assert world.tick(due + 3 * MINUTE).due == 0  # re-indexed to day 2 by that visit
    world.tick(due + DAY + MINUTE)
    assert world.ledger(cid, K.INSPECTION) == [DAILY, DAILY]
    assert world.record(cid).claim.penalty_total_fen == 2 * DAILY


def test_a_penalty_visit_reads_the_entry_and_the_claim_only(world: World) -> None:
    cid = world.claim(MONDAY)
    world.to_refund(cid, MONDAY)
    due = world.due(cid, K.REFUND)
    world.tick(due + MINUTE)  # day 1 and the escalation
    items: list[int] = []

    def after(parsed: dict[str, Any], **_: Any) -> None:
        items.append(len(parsed.get("Items", [])) + (1 if parsed.get("Item") else 0))

    events = world.repo.connection.connection.client.meta.events
    events.register("after-call.dynamodb", after, unique_id="count-items")
    try:
        report = world.tick(due + DAY + MINUTE)  # day 2: a penalty day and the move to day 3
    finally:
        events.unregister("after-call.dynamodb", unique_id="count-items")
    assert (report.due, report.penalty_days) == (1, 1)
    assert sum(items) == 2  # the due entry (with its counters) and the claim item
    assert world.ledger(cid, K.REFUND) == [DAILY, DAILY]


# --------------------------------------------------------------------------- reads only what is due


def test_a_run_reads_only_the_due_deadlines_and_never_scans(world: World) -> None:
    from aftersales.store.models import ClaimItem

    policy = default_policy()
    shards = world.repo.settings.due_shards
    now = MONDAY + 10 * DAY
    # 10 000 open claims waiting for review (not due: only their deadline items, which are all the
    # index holds), and 50 closed claims whose follow-up visit is due.
    # The due ones are reminders because moto deep-copies the whole table on every TransactWriteItems
    # (seconds each at this size): the reads are what this test counts, and they are the same.
    with ClaimItem.batch_write() as batch:
        for n in range(10_050):
            cid = f"clm_{n:032x}"
            due = n >= 10_000
            started = MONDAY if due else now - timedelta(hours=1)
            if due:  # the tick never reads a claim that is not due: its deadline stands for it
                batch.save(bulk_claim_item(cid, started, "closed"))
            kind = K.FOLLOW_UP_VISIT if due else K.REVIEW_DECISION
            batch.save(deadline_to_item(cid, dl.open_deadline(kind, policy, started), shards=shards))

    # The claims' policy version is read once per process and kept (it never changes): read it
    # before counting, so the count is the tick's own.
    from aftersales import policy_layers
    from aftersales.domain.policy import PLATFORM, LayerRef

    policy_layers.pinned([LayerRef(PLATFORM, 1)], repo=world.repo)
    calls: list[tuple[str, str | None]] = []
    items: dict[str, int] = {}

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("IndexName")))

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        key = f"{calls[-1][0]}:{calls[-1][1]}"
        items[key] = items.get(key, 0) + len(parsed.get("Items", [])) + (1 if parsed.get("Item") else 0)

    events = world.repo.connection.connection.client.meta.events
    events.register("before-parameter-build.dynamodb", before)
    events.register("after-call.dynamodb", after)

    report = world.tick(now)

    assert (report.due, report.reminders) == (50, 50)
    assert all(name != "Scan" for name, _ in calls)
    index_queries = [c for c in calls if c == ("Query", "due-index")]
    assert len(index_queries) == shards  # one page per shard
    assert items["Query:due-index"] == 50  # exactly the due deadlines
    claim_reads = [c for c in calls if c == ("GetItem", None)]
    assert len(claim_reads) == 50  # one consistent read of each due claim's item
    assert items["GetItem:None"] == 50  # the claim item alone: the deadline came with the index entry
    assert ("Query", None) not in calls  # no claim partition is read
    print(f"10k claims, 50 due: {len(calls)} calls, {len(index_queries)} index queries, items read {items}")


# --------------------------------------------------------------------------- the handler


def test_the_handler_takes_now_from_the_clock_and_reports(world: World, clock: Any) -> None:
    from sla_tick.app import lambda_handler

    from tests.integration.conftest import Context

    cid = world.claim(MONDAY)
    clock.set(world.due(cid, K.REVIEW_DECISION) + MINUTE)
    result = lambda_handler({"source": "aws.scheduler"}, Context())
    assert result["auto_decisions"] == 1 and result["complete"] is True
    assert world.status(cid) == "awaiting_return_shipment"


def test_events_go_to_the_service_bus_in_batches_of_ten(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from aftersales.config import get_settings
    from aftersales.events import EventBridgePublisher, _events_client, default_publisher, event

    boto3.client("events").create_event_bus(Name="aftersales-test-events")
    monkeypatch.setenv("EVENT_BUS_NAME", "aftersales-test-events")
    get_settings.cache_clear()
    _events_client.cache_clear()
    publisher = default_publisher()
    assert isinstance(publisher, EventBridgePublisher)
    sizes: list[int] = []
    _events_client("us-east-1").meta.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **_: sizes.append(len(params["Entries"]))
    )
    publisher.publish([event("claim.overdue", MONDAY, claim_id=f"clm_{n}") for n in range(23)])
    assert sizes == [10, 10, 3]
    get_settings.cache_clear()
    _events_client.cache_clear()


# --------------------------------------------------------------------------- fan-out to shard workers


def _work_queue(monkeypatch: pytest.MonkeyPatch, workers: int) -> str:
    import boto3
    from aftersales.process import reset_process_state

    url = boto3.client("sqs").create_queue(QueueName="aftersales-test-sla-work")["QueueUrl"]
    monkeypatch.setenv("SLA_WORK_QUEUE_URL", url)
    monkeypatch.setenv("SLA_WORKERS", str(workers))
    reset_process_state()
    return str(url)


def _deliveries(url: str) -> list[dict[str, Any]]:
    """What the queue holds, as the SQS events Lambda's poller would hand the worker (one record each)."""
    import boto3

    sqs, events = boto3.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in batch:
            record = {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
            record |= {"attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"]}
            record |= {
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1",
            }
            events.append({"Records": [record]})
    return events


def test_the_schedule_queues_its_shard_groups_and_each_worker_handles_one(
    world: World, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_tick.app import lambda_handler as schedule
    from sla_worker.app import lambda_handler as worker

    from tests.integration.conftest import Context

    url = _work_queue(monkeypatch, workers=3)
    ids = [world.claim(MONDAY) for _ in range(6)]
    clock.set(world.due(ids[0], K.REVIEW_DECISION) + MINUTE)

    queued = schedule({"source": "aws.scheduler"}, Context())
    groups = queued["shard_groups"]
    assert queued["queued"] == 3 and sorted(s for g in groups for s in g) == [0, 1, 2, 3]  # each shard once
    assert all(world.status(cid) == "pending_review" for cid in ids)  # the schedule itself acted on none

    deliveries = _deliveries(url)
    assert len(deliveries) == 3
    for delivery in deliveries + deliveries:  # every message delivered twice (a worker retried)
        assert worker(delivery, Context()) == {"batchItemFailures": []}
    assert all(world.status(cid) == "awaiting_return_shipment" for cid in ids)
    assert all(world.actions(cid, Action.AUTO_APPROVE) == 1 for cid in ids)


def test_a_work_message_that_is_not_one_fails_alone(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from aftersales.sla_fanout import ShardWork
    from sla_worker.app import lambda_handler as worker

    from tests.integration.conftest import Context

    url = _work_queue(monkeypatch, workers=2)
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody='{"shards": []}')
    boto3.client("sqs").send_message(
        QueueUrl=url, MessageBody=ShardWork(MONDAY, 0, 1, (0, 1, 2, 3)).to_json()
    )
    bad, good = _deliveries(url)
    both = {"Records": bad["Records"] + good["Records"]}
    failed = worker(both, Context())["batchItemFailures"]
    assert failed == [{"itemIdentifier": bad["Records"][0]["messageId"]}]  # back to the queue, then the DLQ


def test_four_workers_each_take_a_quarter_of_the_due_deadlines_and_calls_and_none_twice(aws: None) -> None:
    """400 due deadlines over 16 shards, 4 workers (shard groups): each handles its share once; a second
    round of the same four (retried workers, or an overlapping tick) handles none again. These ids hash
    evenly; random ids spread binomially (the bench measures 1 000 random ones)."""
    from aftersales.config import get_settings
    from aftersales.sla_fanout import shard_groups
    from aftersales.store.models import ClaimItem

    repo = Repository(get_settings().model_copy(update={"due_shards": 16}))
    now, due = MONDAY + 10 * DAY, 400
    with repo.bound(), ClaimItem.batch_write() as batch:
        for n in range(due + 100):  # 100 open claims not yet due
            cid = f"clm_{n:032x}"
            is_due = n < due
            batch.save(bulk_claim_item(cid, MONDAY, "closed" if is_due else "pending_review"))
            kind, started = (K.FOLLOW_UP_VISIT, MONDAY) if is_due else (K.REVIEW_DECISION, now - HOUR)
            batch.save(deadline_to_item(cid, dl.open_deadline(kind, default_policy(), started), shards=16))

    calls: list[int] = [0]
    client_events = repo.connection.connection.client.meta.events
    client_events.register("before-parameter-build.dynamodb", lambda **_: calls.__setitem__(0, calls[0] + 1))
    publisher = RecordingPublisher()
    shares, call_shares = [], []
    for group in shard_groups(16, 4):
        calls[0] = 0
        report = sla.run_tick(now, repo=repo, publisher=publisher, shards=group)
        shares.append(report.reminders)
        call_shares.append(calls[0])
    assert sum(shares) == due
    assert all(abs(share - due / 4) <= 0.1 * due / 4 for share in shares), shares
    assert all(abs(c - sum(call_shares) / 4) <= 0.1 * sum(call_shares) / 4 for c in call_shares), call_shares
    for group in shard_groups(16, 4):  # the same four again
        assert sla.run_tick(now, repo=repo, publisher=publisher, shards=group).reminders == 0
    reminded = [e.detail["claim_id"] for e in publisher.of("claim.reminder")]
    assert len(reminded) == len(set(reminded)) == due


def test_a_worker_overlapping_another_tick_of_its_group_applies_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A of group g holds a claim read while the next tick's workers (every group, B among them)
    run to the end; every write A then makes on stale data must find out."""
    from aftersales.sla_fanout import shard_groups

    ids, at = _mixed_world(world)
    a_repo = Repository(world.repo.settings)
    original, reads = a_repo.claim_item, itertools.count(1)

    def read_then_let_the_next_tick_run(claim_id: str) -> Any:
        claim = original(claim_id)
        if next(reads) == 1:
            for group in shard_groups(world.repo.settings.due_shards, 2):
                sla.run_tick(at, repo=default_repository(), publisher=world.events, shards=group)
        return claim

    monkeypatch.setattr(a_repo, "claim_item", read_then_let_the_next_tick_run)
    for group in shard_groups(world.repo.settings.due_shards, 2):
        sla.run_tick(at, repo=a_repo, publisher=world.events, shards=group)
    world.tick(at + MINUTE)
    _assert_applied_once(world, ids)
    assert len(world.of("claim.auto_decided", ids["review"])) == 1
