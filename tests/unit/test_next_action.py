"""What happens next: one sentence, the owner, the due time and the rule behind it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aftersales.domain.deadlines import Deadline, deadlines_for
from aftersales.domain.model import Action, ClaimType, Outcome, Role, Status
from aftersales.domain.next_action import NextAction, next_action
from aftersales.domain.policy import DeadlineKind, OnExpiry
from aftersales.domain.transitions import allowed_actions
from aftersales.policies import default_policy, load_policy

K = DeadlineKind
POLICY = default_policy()
STARTED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 in Beijing


def deadline(kind: DeadlineKind, due_at: datetime = DUE, **changes: object) -> Deadline:
    rule = POLICY.deadline(kind)
    made = Deadline(
        kind=kind,
        owner=rule.owner,
        started_at=STARTED,
        due_at=due_at,
        on_expiry=rule.on_expiry,
        penalty=rule.penalty,
        source=rule.source,
        policy_version=POLICY.version,
    )
    return replace(made, **changes)


def test_inspection_names_the_merchant_the_due_time_the_consequence_and_the_penalty():
    result = next_action(Status.AWAITING_INSPECTION, ClaimType.RETURN_REFUND, [deadline(K.INSPECTION)])
    assert result.summary == (
        "The merchant must inspect the returned goods by 2026-11-25 18:00 (Beijing time); if not, the "
        "inspection is accepted automatically and a 0.5 % daily penalty applies."
    )
    assert result.owner is Role.MERCHANT
    assert result.due_at == DUE
    assert result.rule == "002 §5.1.3"
    assert result.on_expiry is OnExpiry.AUTO_ACCEPT_INSPECTION
    assert result.deadline is K.INSPECTION
    assert result.penalty is True


def test_actions_are_those_the_table_allows_each_role_now():
    result = next_action(Status.AWAITING_INSPECTION, ClaimType.REPAIR, [deadline(K.INSPECTION)])
    assert result.actions[Role.MERCHANT] == allowed_actions(
        Status.AWAITING_INSPECTION, ClaimType.REPAIR, Role.MERCHANT
    )
    assert Action.QUOTE_REPAIR in result.actions[Role.MERCHANT]
    assert result.actions[Role.SYSTEM] == [Action.AUTO_ACCEPT_INSPECTION, Action.ESCALATE]
    assert result.actions[Role.BUYER] == [Action.MESSAGE]  # anyone may write on an open claim
    closed = next_action(Status.CLOSED, ClaimType.REPAIR, [], outcome=Outcome.REPAIRED)
    assert Role.MERCHANT not in closed.actions  # roles with nothing to do are left out


def test_review_without_penalty_says_what_happens_if_the_merchant_is_silent():
    result = next_action(Status.PENDING_REVIEW, ClaimType.RETURN_REFUND, [deadline(K.REVIEW_DECISION)])
    assert result.summary == (
        "The merchant must approve or reject the request by 2026-11-25 18:00 (Beijing time); if not, "
        "the request is approved automatically."
    )
    assert result.penalty is False
    assert result.rule == POLICY.deadline(K.REVIEW_DECISION).source


def test_buyer_deadlines_carry_no_penalty_and_name_the_buyer():
    result = next_action(Status.AWAITING_RETURN_SHIPMENT, ClaimType.EXCHANGE, [deadline(K.RETURN_SHIPMENT)])
    assert result.owner is Role.BUYER
    assert result.summary == (
        "The buyer must ship the goods back by 2026-11-25 18:00 (Beijing time); if not, the claim closes "
        "and the buyer forfeits it."
    )


def test_the_earliest_open_deadline_of_the_stage_wins():
    first_response = deadline(K.FIRST_RESPONSE, DUE - timedelta(hours=48), owner=Role.OPS)
    opinion = deadline(K.COMPLAINT_OPINION)
    result = next_action(Status.AWAITING_OPINION, ClaimType.COMPLAINT, [opinion, first_response])
    assert result.deadline is K.FIRST_RESPONSE
    assert result.summary.startswith("The platform must respond to the claim by 2026-11-23 18:00")

    met = replace(first_response, met_at=STARTED)
    assert (
        next_action(Status.AWAITING_OPINION, ClaimType.COMPLAINT, [opinion, met]).deadline
        is K.COMPLAINT_OPINION
    )


@pytest.mark.parametrize("claim_type", [t for t in ClaimType if t is not ClaimType.COMPLAINT])
def test_a_new_claim_first_waits_for_the_merchant_to_respond(claim_type):
    respond = deadline(K.FIRST_RESPONSE, STARTED + timedelta(hours=24), owner=Role.MERCHANT)
    decide = deadline(K.REPAIR_ANSWER if claim_type is ClaimType.REPAIR else K.REVIEW_DECISION)
    result = next_action(Status.PENDING_REVIEW, claim_type, [decide, respond])
    assert (result.deadline, result.owner) == (K.FIRST_RESPONSE, Role.MERCHANT)
    assert result.summary == (
        "The merchant must respond to the claim by 2026-11-21 18:00 (Beijing time); if not, the claim "
        "is escalated."
    )
    answered = next_action(Status.PENDING_REVIEW, claim_type, [decide, replace(respond, met_at=STARTED)])
    assert answered.deadline is decide.kind


def test_deadlines_of_other_stages_are_ignored():
    stale = deadline(K.REVIEW_DECISION, DUE - timedelta(days=3))
    result = next_action(Status.AWAITING_REFUND, ClaimType.REFUND_ONLY, [stale, deadline(K.REFUND)])
    assert result.deadline is K.REFUND
    assert result.summary.startswith("The merchant must refund the buyer by")


def test_a_repair_request_is_answered_not_auto_approved():
    assert deadlines_for(Status.PENDING_REVIEW, ClaimType.REPAIR) == (K.FIRST_RESPONSE, K.REPAIR_ANSWER)
    result = next_action(Status.PENDING_REVIEW, ClaimType.REPAIR, [deadline(K.REPAIR_ANSWER)])
    assert result.summary.startswith("The merchant must answer the repair request by")
    assert result.summary.endswith("if not, the claim is escalated.")


@pytest.mark.parametrize(
    ("claim_type", "goods"), [(ClaimType.REPAIR, "repaired"), (ClaimType.EXCHANGE, "replacement")]
)
def test_buyer_confirmation_names_the_goods(claim_type, goods):
    result = next_action(Status.AWAITING_BUYER_CONFIRMATION, claim_type, [deadline(K.BUYER_CONFIRMATION)])
    assert result.summary == (
        f"The buyer must confirm the {goods} goods by 2026-11-25 18:00 (Beijing time); if not, the goods "
        "are confirmed automatically and the claim closes."
    )


def test_a_late_deadline_says_so_when_now_is_given():
    late = next_action(
        Status.REPAIRING, ClaimType.REPAIR, [deadline(K.REPAIR_COMPLETION)], now=DUE + timedelta(hours=1)
    )
    assert late.summary == (
        "The merchant was due to finish the repair by 2026-11-25 18:00 (Beijing time) and is late; the "
        "claim is escalated and a 0.5 % daily penalty applies."
    )
    on_time = next_action(Status.REPAIRING, ClaimType.REPAIR, [deadline(K.REPAIR_COMPLETION)], now=DUE)
    assert "must finish the repair" in on_time.summary


def test_an_extension_shows_its_reason():
    extended = deadline(K.REPAIR_COMPLETION, extension_reason="spare part on back-order")
    result = next_action(Status.REPAIRING, ClaimType.REPAIR, [extended])
    assert "2026-11-25 18:00 (Beijing time), extended because: spare part on back-order;" in result.summary


def test_a_paused_deadline_says_the_clock_is_stopped():
    paused = deadline(K.INSPECTION, paused_since=datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    result = next_action(Status.AWAITING_INSPECTION, ClaimType.RETURN_REFUND, [paused])
    assert result.summary == (
        "The merchant must inspect the returned goods; the deadline is paused since 2026-11-21 10:00 "
        "(Beijing time) and resumes with the time left."
    )


def test_no_penalty_is_quoted_when_the_buyer_caused_the_delay():
    result = next_action(
        Status.AWAITING_INSPECTION, ClaimType.RETURN_REFUND, [deadline(K.INSPECTION, buyer_caused_delay=True)]
    )
    assert result.penalty is False
    assert "penalty" not in result.summary


def test_the_penalty_rate_quoted_is_the_claims_policy():
    policy = load_policy({"version": "merchant-m1@1", "penalty": {"rate_basis_points_per_day": 25}})
    result = next_action(Status.AWAITING_REFUND, ClaimType.RETURN_REFUND, [deadline(K.REFUND)], policy=policy)
    assert "a 0.25 % daily penalty applies" in result.summary


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [
        (Outcome.REFUNDED, "the buyer was refunded"),
        (Outcome.EXCHANGED, "the goods were exchanged"),
        (Outcome.REPAIRED, "the goods were repaired"),
        (Outcome.REJECTED, "the claim was rejected"),
        (Outcome.FORFEITED, "the buyer did not ship the goods back in time"),
        (Outcome.CANCELLED, "the buyer cancelled it"),
        (Outcome.QUOTE_DECLINED, "the buyer declined the repair quote"),
        (Outcome.RESOLVED, "the platform gave its written opinion"),
    ],
)
def test_a_closed_claim_says_how_it_ended(outcome, ending):
    result = next_action(Status.CLOSED, ClaimType.RETURN_REFUND, [], outcome=outcome)
    assert result.summary == f"The claim is closed: {ending}."
    assert (result.owner, result.due_at, result.rule, result.on_expiry) == (None, None, None, None)
    assert result.actions == {Role.BUYER: [Action.RATE]}


def test_every_outcome_has_an_ending():
    for outcome in Outcome:
        assert next_action(Status.CLOSED, ClaimType.REPAIR, [], outcome=outcome).summary.startswith(
            "The claim is closed: "
        )


def test_a_closed_claim_mentions_the_follow_up_visit_still_owed():
    result = next_action(
        Status.CLOSED, ClaimType.REPAIR, [deadline(K.FOLLOW_UP_VISIT)], outcome=Outcome.REPAIRED
    )
    assert result.summary == (
        "The claim is closed: the goods were repaired; the platform will follow up with the buyer by "
        "2026-11-25 18:00 (Beijing time)."
    )
    assert result.owner is Role.OPS
    assert result.rule == "004 §三.4"


@pytest.mark.parametrize(
    ("status", "claim_type", "owner"),
    [
        (Status.RETURN_IN_TRANSIT, ClaimType.RETURN_REFUND, None),
        (Status.OUTBOUND_IN_TRANSIT, ClaimType.EXCHANGE, None),
        (Status.AWAITING_QUOTE_ACCEPTANCE, ClaimType.REPAIR, Role.BUYER),
        (Status.REFUND_FAILED, ClaimType.RETURN_REFUND, Role.OPS),
        (Status.IN_ARBITRATION, ClaimType.RETURN_REFUND, Role.OPS),
    ],
)
def test_stages_without_a_deadline_still_say_what_is_awaited(status, claim_type, owner):
    result = next_action(status, claim_type, [])
    assert result.owner is owner
    assert result.due_at is None
    assert result.summary.endswith(".")
    assert result.actions


def test_a_stage_whose_deadline_is_missing_names_who_can_move_it():
    result = next_action(Status.PENDING_REVIEW, ClaimType.RETURN_REFUND, [])
    assert result.owner is Role.MERCHANT
    assert result.summary == "Waiting for the merchant to act; no deadline is set."


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_every_status_and_type_gets_one_sentence(status, claim_type):
    open_ = [deadline(kind) for kind in deadlines_for(status, claim_type)]
    result = next_action(status, claim_type, open_, outcome=Outcome.RESOLVED if status.is_final else None)
    assert isinstance(result, NextAction)
    assert result.summary[0].isupper()
    assert result.summary.endswith(".")
    assert "None" not in result.summary
    if open_ and not status.is_final:
        assert result.due_at == DUE
        assert result.rule
