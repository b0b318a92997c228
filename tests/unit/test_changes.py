"""The claim rules as pure functions over a domain ``Claim``: what each action sets, records and writes,
without storage. (The same rules run through moto in tests/integration.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aftersales.domain import actions, changes
from aftersales.domain import deadlines as dl
from aftersales.domain.actions import InvalidInput, input_for
from aftersales.domain.claim import Actor, Claim, in_scope
from aftersales.domain.errors import DomainError, IllegalTransition, InvalidOrder
from aftersales.domain.model import (
    Action,
    ClaimType,
    EscalationLevel,
    Order,
    OrderLine,
    Outcome,
    Payer,
    Role,
    Status,
)
from aftersales.domain.orders import check_order
from aftersales.domain.policy import DeadlineKind
from aftersales.domain.transitions import buyer_accepts, buyer_refuses
from aftersales.policies import default_policy

from tests.support import claims

POLICY = default_policy()
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
BUYER = Actor(Role.BUYER, "buyer-1")
MERCHANT = Actor(Role.MERCHANT, "staff-1", "m-1")
OPS = Actor(Role.OPS, "ops-1")
SYSTEM = Actor.system("test")


def a_claim(status: Status = Status.PENDING_REVIEW, claim_type: ClaimType = ClaimType.RETURN_REFUND, **kw):
    return claims.a_claim(NOW, status=status, claim_type=claim_type, **{"version": 3, **kw})


def decide(claim: Claim, actor: Actor, action: Action, given=None, deadlines=(), at: datetime = NOW):
    return changes.decide(claim, list(deadlines), actor, action, given, POLICY, at)


def opened(kind: DeadlineKind, instance: int = 1) -> dl.Deadline:
    return replace(dl.open_deadline(kind, POLICY, NOW), instance=instance)


# --------------------------------------------------------------------------- scope


def test_buyers_see_their_own_claims_merchants_their_merchants_ops_and_system_all():
    claim = a_claim()
    assert in_scope(claim, BUYER) and not in_scope(claim, Actor(Role.BUYER, "buyer-2"))
    assert in_scope(claim, MERCHANT) and not in_scope(claim, Actor(Role.MERCHANT, "s", "m-2"))
    assert not in_scope(claim, Actor(Role.MERCHANT, "s", None))
    assert in_scope(claim, OPS) and in_scope(claim, SYSTEM)


# --------------------------------------------------------------------------- every change


def test_a_change_bumps_the_version_and_records_who_did_what_under_which_policy():
    change = decide(a_claim(), MERCHANT, Action.APPROVE, actions.Approval(reason="ok", note="fine"))
    assert (change.read_version, change.claim.version) == (3, 4)
    entry = change.entry
    assert (entry.actor_role, entry.actor_id, entry.action) == ("merchant", "staff-1", "approve")
    assert (entry.from_status, entry.to_status) == (Status.PENDING_REVIEW, Status.AWAITING_RETURN_SHIPMENT)
    assert (entry.claim_version, entry.note, entry.details["reason"]) == (4, "fine", "ok")
    assert entry.policy_version == POLICY.version and change.claim.updated_at == NOW


def test_leaving_a_status_meets_its_deadlines_opens_the_next_stage_and_takes_the_token():
    review = opened(DeadlineKind.REVIEW_DECISION)
    earlier = replace(dl.meet(opened(DeadlineKind.RETURN_SHIPMENT), NOW), instance=1)
    claim = a_claim(task_token="tok", task_stage="pending_review", parked_reason="boom")
    change = decide(claim, MERCHANT, Action.APPROVE, deadlines=[review, earlier])
    met, new = change.deadlines
    assert (met.kind, met.met_at) == (DeadlineKind.REVIEW_DECISION, NOW)
    assert (new.kind, new.instance, new.is_open) == (DeadlineKind.RETURN_SHIPMENT, 2, True)
    assert change.cleared_task_token == "tok"
    assert (change.claim.task_token, change.claim.task_stage, change.claim.parked_reason) == (
        None,
        None,
        None,
    )


def test_an_action_that_keeps_the_status_keeps_the_token_and_the_deadlines():
    claim = a_claim(task_token="tok")
    change = decide(claim, OPS, Action.ESCALATE, deadlines=[opened(DeadlineKind.REVIEW_DECISION)])
    assert (change.deadlines, change.cleared_task_token, change.claim.task_token) == ((), None, "tok")
    assert change.claim.status is Status.PENDING_REVIEW and not change.changes_status


def test_an_illegal_action_is_refused_before_anything_is_decided():
    with pytest.raises(IllegalTransition):
        decide(a_claim(Status.CLOSED, outcome=Outcome.REFUNDED), MERCHANT, Action.APPROVE)


# --------------------------------------------------------------------------- what actions set


def test_approving_a_return_issues_the_return_authorisation_to_the_policys_address_by_default():
    change = decide(a_claim(), MERCHANT, Action.APPROVE)
    assert change.claim.rma_number and change.claim.return_address == POLICY.return_address
    assert change.entry.details["shipping_payer"] == "merchant"
    named = decide(a_claim(), MERCHANT, Action.APPROVE, actions.Approval(return_address="Dock 4"))
    assert named.claim.return_address == "Dock 4"


def test_the_return_parcel_is_registered_with_its_declared_fee_and_a_replacement_without():
    claim = a_claim(Status.AWAITING_RETURN_SHIPMENT)
    shipped = decide(
        claim,
        BUYER,
        Action.SHIP_RETURN,
        input_for(Action.SHIP_RETURN, carrier="sf", waybill="SF1", fee_fen=1200),
    )
    assert shipped.claim.return_shipment is not None and shipped.claim.return_shipment.fee_fen == 1200
    assert shipped.waybill is not None
    assert (shipped.waybill.direction, shipped.waybill.claim_id) == ("return", "clm_1")
    assert shipped.entry.details == {"fee_fen": 1200, "carrier": "sf", "waybill": "SF1"}

    replacement = a_claim(Status.AWAITING_REPLACEMENT_SHIPMENT, ClaimType.EXCHANGE)
    out = decide(
        replacement,
        MERCHANT,
        Action.SHIP_REPLACEMENT,
        actions.ShipmentInput(carrier="sf", waybill="SF2", fee_fen=900),
    )
    assert out.claim.outbound_shipment is not None and out.claim.outbound_shipment.fee_fen is None
    assert out.waybill is not None and out.waybill.direction == "outbound"


def test_a_repair_completed_without_a_parcel_registers_no_waybill():
    repairing = a_claim(Status.REPAIRING, ClaimType.REPAIR)
    change = decide(repairing, MERCHANT, Action.COMPLETE_REPAIR)
    assert change.waybill is None and change.claim.outbound_shipment is None


def test_a_ruling_refunds_the_claimed_amount_by_default_less_if_ruled_never_more():
    mediation = a_claim(Status.IN_ARBITRATION)
    assert decide(mediation, OPS, Action.RULING_REFUND).claim.refund_fen == 12_990
    less = decide(
        mediation, OPS, Action.RULING_REFUND, actions.RulingInput(refund_fen=5_000, payer="platform")
    )
    assert (less.claim.refund_fen, less.claim.refund_payer) == (5_000, "platform")
    with pytest.raises(DomainError) as refused:
        decide(mediation, OPS, Action.RULING_REFUND, actions.RulingInput(refund_fen=12_991))
    assert refused.value.code == "refund_exceeds_claim"


def test_a_refund_retry_reuses_the_failed_attempts_key_unless_the_gateway_declined():
    inspected = decide(a_claim(Status.AWAITING_INSPECTION, refund_seq=0), MERCHANT, Action.INSPECT_PASS)
    assert inspected.claim.refund_seq == 1
    assert inspected.entry.details["idempotency_key"] == "clm_1#1"
    unconfirmed = decide(
        inspected.claim, SYSTEM, Action.REFUND_FAILED, actions.RefundFailure(failure="Timeout")
    )
    retried = decide(unconfirmed.claim, OPS, Action.RETRY_REFUND)
    assert retried.claim.refund_seq == 1  # maybe paid: the same key pays at most once
    assert retried.entry.details["idempotency_key"] == "clm_1#1"
    refused = actions.RefundFailure(failure="RefundDeclined", declined=True)
    declined = decide(retried.claim, SYSTEM, Action.REFUND_FAILED, refused)
    assert declined.claim.refund_declined and declined.entry.details["declined"] is True
    again = decide(declined.claim, OPS, Action.RETRY_REFUND)
    assert (again.claim.refund_seq, again.claim.refund_declined) == (2, False)  # nothing moved: a new key


def test_the_escalation_ladder_climbs_one_step_at_a_time_and_stops_at_arbitration():
    claim, seen = a_claim(), []
    for _ in range(6):
        claim = decide(claim, OPS, Action.ESCALATE).claim
        seen.append(claim.escalation_level)
    assert seen == [
        EscalationLevel.SPECIALIST,
        EscalationLevel.SUPERVISOR,
        EscalationLevel.MEDIATION,
        EscalationLevel.ARBITRATION,
        EscalationLevel.ARBITRATION,
        EscalationLevel.ARBITRATION,
    ]
    disputed = decide(a_claim(Status.REJECTED), BUYER, Action.DISPUTE, actions.Reasoned(reason="never worn"))
    assert disputed.claim.escalation_level is EscalationLevel.MEDIATION
    assert disputed.entry.details["reason"] == "never worn"


def test_a_claim_is_rated_once():
    closed = a_claim(Status.CLOSED, outcome=Outcome.REFUNDED)
    rated = decide(closed, BUYER, Action.RATE, actions.RatingInput(rating={"resolution": 5}))
    assert rated.claim.rating == {"resolution": 5}
    with pytest.raises(changes.AlreadyRated):
        decide(rated.claim, BUYER, Action.RATE, actions.RatingInput(rating={"resolution": 1}))


def test_a_quote_and_an_inspection_record_their_facts():
    inspecting = a_claim(Status.AWAITING_INSPECTION, ClaimType.REPAIR)
    quoted = decide(inspecting, MERCHANT, Action.QUOTE_REPAIR, actions.QuoteInput(quote_fen=8_000))
    assert (quoted.claim.quote_fen, quoted.entry.details) == (8_000, {"quote_fen": 8_000})
    passed = decide(
        a_claim(Status.AWAITING_INSPECTION),
        MERCHANT,
        Action.INSPECT_PASS,
        actions.InspectionInput(findings="torn", liability="merchant"),
    )
    assert passed.claim.liability == "merchant"
    assert passed.entry.details == {"liability": "merchant", "findings": "torn", "idempotency_key": "clm_1#1"}


def test_a_declined_quote_sends_the_goods_back_at_the_policys_payer_and_closes_quote_declined():
    quoted = a_claim(Status.AWAITING_QUOTE_ACCEPTANCE, ClaimType.REPAIR, quote_fen=8_000)
    for actor in (BUYER, SYSTEM):  # the buyer declines, or the quote_answer deadline lapses
        declined = decide(quoted, actor, Action.DECLINE_QUOTE, deadlines=[opened(DeadlineKind.QUOTE_ANSWER)])
        assert (declined.claim.status, declined.claim.outcome) == (Status.AWAITING_RETURN_TO_BUYER, None)
        assert declined.claim.ship_back_payer is Payer.BUYER
        assert declined.entry.details == {"ship_back_payer": "buyer"}
        opened_now = [d for d in declined.deadlines if d.is_open]
        assert [(d.kind, d.owner) for d in opened_now] == [(DeadlineKind.RETURN_TO_BUYER, Role.MERCHANT)]
        assert [d.kind for d in declined.deadlines if not d.is_open] == [DeadlineKind.QUOTE_ANSWER]

    merchant_pays = POLICY.model_copy(update={"declined_quote_ship_back_payer": Payer.MERCHANT})
    by_policy = changes.decide(quoted, [], BUYER, Action.DECLINE_QUOTE, None, merchant_pays, NOW)
    assert by_policy.claim.ship_back_payer is Payer.MERCHANT

    back = declined.claim
    shipped = decide(back, MERCHANT, Action.SHIP_BACK, actions.ShipmentInput(carrier="sf", waybill="SF9"))
    assert shipped.claim.status is Status.OUTBOUND_IN_TRANSIT
    assert shipped.waybill is not None and shipped.waybill.direction == "outbound"
    assert shipped.claim.outbound_shipment is not None and shipped.claim.outbound_shipment.waybill == "SF9"
    arrived = decide(shipped.claim, SYSTEM, Action.OUTBOUND_DELIVERED)
    assert arrived.claim.status is Status.AWAITING_BUYER_CONFIRMATION
    with pytest.raises(IllegalTransition):
        decide(arrived.claim, BUYER, Action.REOPEN)  # nothing was repaired
    for actor, action in ((BUYER, Action.CONFIRM), (SYSTEM, Action.AUTO_CONFIRM)):
        closed = decide(arrived.claim, actor, action)
        assert (closed.claim.status, closed.claim.outcome) == (Status.CLOSED, Outcome.QUOTE_DECLINED)
        assert closed.transition is not None and closed.transition.outcome is Outcome.QUOTE_DECLINED


def test_a_repaired_parcel_still_closes_repaired():
    waiting = a_claim(Status.AWAITING_BUYER_CONFIRMATION, ClaimType.REPAIR)
    assert decide(waiting, BUYER, Action.CONFIRM).claim.outcome is Outcome.REPAIRED


def test_reopening_a_repair_counts_and_reissues_the_authorisation():
    waiting = a_claim(Status.AWAITING_BUYER_CONFIRMATION, ClaimType.REPAIR, rma_number="RMA-OLD")
    reopened = decide(waiting, BUYER, Action.REOPEN)
    assert reopened.claim.reopen_count == 1 and reopened.claim.rma_number != "RMA-OLD"


def test_an_extension_moves_the_merchants_open_deadline_of_the_stage():
    review = opened(DeadlineKind.REVIEW_DECISION)
    later = review.due_at + timedelta(days=2)
    change = decide(
        a_claim(),
        MERCHANT,
        Action.EXTEND,
        actions.ExtensionInput(due_at=later, reason="stock check"),
        [review],
    )
    (moved,) = change.deadlines
    assert (moved.due_at, moved.extension_reason) == (later, "stock check")
    assert change.entry.details["extended"] == [{"deadline": "review_decision", "due_at": later}]
    with pytest.raises(DomainError) as none_open:
        decide(a_claim(), MERCHANT, Action.EXTEND, actions.ExtensionInput(due_at=later, reason="x"), [])
    assert none_open.value.code == "no_deadline_to_extend"


# --------------------------------------------------------------------------- inputs


def test_an_action_refuses_an_input_of_another_kind_and_drops_what_it_does_not_take():
    with pytest.raises(InvalidInput):
        decide(a_claim(Status.AWAITING_INSPECTION), MERCHANT, Action.QUOTE_REPAIR, actions.ActionInput())
    confirm = a_claim(Status.AWAITING_BUYER_CONFIRMATION, ClaimType.EXCHANGE)
    change = decide(confirm, BUYER, Action.CONFIRM, actions.Reasoned(reason="fine", note="thanks"))
    assert change.entry.note == "thanks" and "reason" not in change.entry.details


def test_inputs_from_plain_fields_refuse_unknown_and_missing_ones():
    assert input_for(Action.QUOTE_REPAIR, quote_fen=100) == actions.QuoteInput(quote_fen=100)
    with pytest.raises(InvalidInput):
        input_for(Action.APPROVE, refund_fen=1)
    with pytest.raises(InvalidInput):
        input_for(Action.QUOTE_REPAIR)
    with pytest.raises(InvalidInput):
        actions.ShipmentInput(carrier="sf")


# --------------------------------------------------------------------------- runs parked for ops


def test_a_parked_run_is_resumed_once_with_its_token():
    parked = changes.park(a_claim(), "tok", "Lambda.Unknown", NOW)
    assert (parked.claim.task_stage, parked.claim.parked_reason, parked.claim.version) == (
        "parked",
        "Lambda.Unknown",
        4,
    )
    assert parked.entry.action == "park_for_ops" and parked.entry.actor_id == "workflow"
    resumed = changes.resume(parked.claim, OPS, NOW)
    assert resumed.cleared_task_token == "tok" and resumed.claim.task_token is None
    assert resumed.entry.details == {"parked_for": "Lambda.Unknown"}
    with pytest.raises(changes.NotParked):
        changes.resume(resumed.claim, OPS, NOW)


# --------------------------------------------------------------------------- the rest


def test_what_the_buyers_accept_and_refuse_mean_in_each_status():
    assert buyer_accepts(Status.AWAITING_QUOTE_ACCEPTANCE) is Action.ACCEPT_QUOTE
    assert buyer_accepts(Status.AWAITING_BUYER_CONFIRMATION) is Action.CONFIRM
    assert buyer_refuses(Status.AWAITING_QUOTE_ACCEPTANCE) is Action.DECLINE_QUOTE
    assert buyer_refuses(Status.AWAITING_BUYER_CONFIRMATION) is Action.REOPEN
    assert buyer_refuses(Status.REJECTED) is Action.DISPUTE


def test_an_order_with_repeated_lines_or_delivered_before_paid_is_refused():
    line = OrderLine("L1", "SKU", "Coat", "apparel", 1, 100)
    order = Order("o", "b", "m", NOW, NOW + timedelta(days=1), (line,))
    assert check_order(order, NOW + timedelta(days=2)) is order
    with pytest.raises(InvalidOrder) as repeated:
        check_order(replace(order, lines=(line, line)), NOW + timedelta(days=2))
    assert repeated.value.code == "duplicate_line_id"
    with pytest.raises(InvalidOrder) as early:
        check_order(replace(order, delivered_at=NOW - timedelta(seconds=1)), NOW + timedelta(days=2))
    assert early.value.code == "delivered_before_paid"
