"""What a change adds to the scorecard counters, and the figures of summed counters (pure rules)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from aftersales.domain import changes
from aftersales.domain import deadlines as dl
from aftersales.domain.actions import input_for
from aftersales.domain.claim import Actor, Claim
from aftersales.domain.model import Action, ClaimType, Order, OrderLine, Reason, Role, Status
from aftersales.domain.policy import DeadlineKind
from aftersales.domain.scorecard import (
    BUCKET_BOUNDS,
    bucket,
    change_counts,
    figures,
    order_counts,
    percentile,
    stat_day,
    total,
)
from aftersales.policies import default_policy
from hypothesis import given
from hypothesis import strategies as st

from tests.support import claims

POLICY = default_policy()
OPENED = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
MERCHANT = Actor(Role.MERCHANT, "staff-1", "m-1")
BUYER = Actor(Role.BUYER, "buyer-1")
OPS = Actor(Role.OPS, "ops-1")
SYSTEM = Actor.system("sla_tick")


def a_claim(claim_type: ClaimType = ClaimType.RETURN_REFUND, **kw: object) -> Claim:
    return claims.a_claim(OPENED, claim_type=claim_type, product="SKU-1", **kw)


def opened_deadlines(claim: Claim) -> list[dl.Deadline]:
    return [
        dl.open_deadline(kind, POLICY, OPENED, claim_type=claim.claim_type)
        for kind in dl.deadlines_for(claim.status, claim.claim_type)
    ]


def decided(claim: Claim, actor: Actor, action: Action, after: timedelta, **fields: object) -> dict[str, int]:
    change = changes.decide(
        claim, opened_deadlines(claim), actor, action, input_for(action, **fields), POLICY, OPENED + after
    )
    return change_counts(change)


def test_opening_a_claim_counts_it_by_type_and_a_return_as_a_return() -> None:
    order = Order(
        "ord-1", "buyer-1", "m-1", OPENED, OPENED, (OrderLine("L1", "SKU-1", "Coat", "apparel", 1, 100),)
    )
    from aftersales.domain.eligibility import check_eligibility
    from aftersales.domain.model import ClaimRequest

    request = ClaimRequest("ord-1", "L1", 1, ClaimType.EXCHANGE, Reason.SIZE_COLOR_MISMATCH)
    eligibility = check_eligibility(request, order, [], POLICY, OPENED + timedelta(hours=1))
    change = changes.open_claim(
        "clm_1", request, order, eligibility, POLICY, BUYER, OPENED + timedelta(hours=1)
    )
    assert change.claim.product == "SKU-1"
    assert change_counts(change) == {"claims_opened": 1, "type_exchange": 1, "returns": 1}


def test_the_merchants_first_answer_is_its_first_response_time_and_closes_the_deadline_on_time() -> None:
    counts = decided(a_claim(), MERCHANT, Action.APPROVE, timedelta(minutes=90))
    assert counts["fr_n"] == 1 and counts[f"fr_b{BUCKET_BOUNDS.index(7200)}"] == 1
    assert counts["dl_first_response_n"] == counts["dl_review_decision_n"] == 1
    assert "dl_first_response_late" not in counts and counts["mdl_n"] == 2


def test_a_message_answers_the_buyer_without_leaving_the_stage() -> None:
    counts = decided(a_claim(), MERCHANT, Action.MESSAGE, timedelta(hours=30), note="looking")
    assert counts == {
        "dl_first_response_n": 1,
        "dl_first_response_late": 1,  # 30 h after a 24 h deadline
        "mdl_n": 1,
        "mdl_late": 1,
        "fr_n": 1,
        f"fr_b{BUCKET_BOUNDS.index(172800)}": 1,
    }


def test_a_cancel_or_an_automatic_outcome_closes_the_deadline_but_is_no_first_response() -> None:
    cancelled = decided(a_claim(), BUYER, Action.CANCEL, timedelta(minutes=5))
    assert "fr_n" not in cancelled and cancelled["claims_closed"] == 1 and cancelled["handle_n"] == 1
    automatic = decided(a_claim(), SYSTEM, Action.AUTO_APPROVE, timedelta(days=3))
    assert "fr_n" not in automatic and automatic["dl_first_response_late"] == 1


def test_a_complaint_answered_by_the_platform_is_not_the_merchants_first_response() -> None:
    complaint = a_claim(ClaimType.COMPLAINT, status=Status.AWAITING_OPINION, reason=Reason.SERVICE)
    counts = decided(complaint, OPS, Action.GIVE_OPINION, timedelta(hours=2), opinion="resolved")
    assert "fr_n" not in counts and "mdl_n" not in counts
    assert counts["dl_first_response_n"] == counts["dl_complaint_opinion_n"] == 1


def test_closing_counts_handling_time_refund_and_penalties_paid() -> None:
    claim = a_claim(status=Status.AWAITING_REFUND, penalty_total_fen=195)
    counts = decided(claim, SYSTEM, Action.REFUND_SUCCEEDED, timedelta(days=4), refund={"amount_fen": 1})
    assert counts["claims_closed"] == counts["refunds"] == counts["handle_n"] == 1
    assert counts[f"handle_b{BUCKET_BOUNDS.index(432000)}"] == 1 and counts["penalty_fen"] == 195


def test_disputes_escalations_and_ratings() -> None:
    rejected = a_claim(status=Status.REJECTED)
    assert decided(rejected, BUYER, Action.DISPUTE, timedelta(hours=1), reason="no")["disputes"] == 1
    assert decided(a_claim(), OPS, Action.ESCALATE, timedelta(hours=1)) == {"escalations": 1}
    closed = a_claim(status=Status.CLOSED)
    rating = {
        "response_speed": 5,
        "resolution": 4,
        "attitude": 3,
        "convenience": 2,
        "timeliness": 1,
        "comment": "x",
    }
    counts = decided(closed, BUYER, Action.RATE, timedelta(days=9), rating=rating)
    assert counts["rate_response_speed_sum"] == 5 and counts["rate_timeliness_sum"] == 1
    assert counts["rate_attitude_n"] == 1 and "rate_comment_n" not in counts


def test_an_order_adds_its_lines_sold_for_the_merchant_and_each_product() -> None:
    lines = (
        OrderLine("L1", "SKU-1", "Coat", "apparel", 2, 100),
        OrderLine("L2", "SKU-1", "Coat", "apparel", 1, 100),
        OrderLine("L3", "", "Gift card", "digital", 1, 100),
    )
    order = Order("o", "b", "m", OPENED, None, lines)
    assert order_counts(order) == {
        None: {"lines_sold": 3},
        "SKU-1": {"lines_sold": 2},
        "Gift card": {"lines_sold": 1},
    }


def test_a_change_counts_on_its_shanghai_day() -> None:
    assert stat_day(datetime(2026, 11, 16, 16, 30, tzinfo=UTC)) == date(2026, 11, 17)


def test_figures_of_summed_counters() -> None:
    counters = total(
        [
            {"claims_opened": 3, "lines_sold": 40, "claims_closed": 2, "refunds": 1, "type_complaint": 1},
            {
                "claims_opened": 1,
                "disputes": 1,
                "mdl_n": 4,
                "mdl_late": 1,
                "dl_refund_n": 2,
                "dl_refund_late": 1,
            },
            {"rate_attitude_sum": 9, "rate_attitude_n": 2, "penalty_fen": 195, "fr_b4": 3, "fr_b9": 1},
        ]
    )
    f = figures(counters)
    assert (f.claims, f.lines_sold, f.after_sales_rate, f.refund_rate) == (4, 40, 0.1, 0.5)
    assert (f.dispute_rate, f.complaint_rate) == (0.25, 0.25)
    assert f.merchant_on_time.rate == 0.75 and f.on_time["refund"].rate == 0.5
    assert set(f.on_time) == {"refund"}
    assert f.satisfaction["attitude"].average == 4.5 and f.satisfaction["resolution"].average is None
    assert f.first_response.count == 4
    assert (
        f.first_response.median_seconds == BUCKET_BOUNDS[4]
        and f.first_response.p90_seconds == BUCKET_BOUNDS[9]
    )
    assert f.penalties_paid_fen == 195
    empty = figures({})
    assert (
        empty.lines_sold is None
        and empty.after_sales_rate is None
        and empty.first_response.median_seconds is None
    )


@given(st.floats(min_value=0, max_value=1e8, allow_nan=False))
def test_a_duration_falls_in_the_first_bucket_whose_bound_it_does_not_exceed(seconds: float) -> None:
    index = bucket(seconds)
    if index < len(BUCKET_BOUNDS):
        assert seconds <= BUCKET_BOUNDS[index]
    if index > 0:
        assert seconds > BUCKET_BOUNDS[index - 1]


@given(
    st.lists(st.integers(min_value=0, max_value=90 * 86400), min_size=1, max_size=200),
    st.sampled_from([50, 90, 99]),
)
def test_the_histogram_percentile_is_the_bound_of_the_exact_nearest_rank_sample(
    samples: list[int], percent: int
) -> None:
    histogram: dict[int, int] = {}
    for s in samples:
        histogram[bucket(s)] = histogram.get(bucket(s), 0) + 1
    exact = sorted(samples)[math.ceil(percent * len(samples) / 100) - 1]
    bound = next((b for b in BUCKET_BOUNDS if exact <= b), None)
    assert percentile(histogram, percent) == bound


def test_deadline_kinds_are_counted_by_their_value() -> None:
    claim = a_claim(status=Status.AWAITING_INSPECTION)
    counts = decided(claim, MERCHANT, Action.INSPECT_PASS, timedelta(days=10))
    assert counts[f"dl_{DeadlineKind.INSPECTION.value}_late"] == 1
