"""The 金牌售后 badge and the product risk warning as pure rules over day counters."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from aftersales.domain.policy import BadgeRule, RiskRule
from aftersales.domain.scorecard import BUCKET_BOUNDS, total
from aftersales.domain.standing import (
    EpisodeStep,
    InvalidPeriod,
    Period,
    badge,
    badge_window,
    episode_step,
    risk,
    risk_periods,
    scorecard_period,
)
from aftersales.policies import default_policy
from hypothesis import given
from hypothesis import strategies as st

STANDING = default_policy().merchant_standing
BADGE, RISK = STANDING.badge, STANDING.risk
FAST = f"fr_b{BUCKET_BOUNDS.index(3600)}"  # answered within the hour
SLOW = f"fr_b{BUCKET_BOUNDS.index(8 * 3600)}"


def good_day() -> dict[str, int]:
    return {"claims_opened": 2, FAST: 2, "fr_n": 2, "mdl_n": 4}


def bad_day() -> dict[str, int]:
    return {"claims_opened": 2, SLOW: 2, "fr_n": 2, "mdl_n": 4, "mdl_late": 2, "disputes": 1}


def test_the_badge_is_earned_and_lost_as_the_window_moves() -> None:
    """Thirty good days earn it; as bad days enter the rolling window it is lost, on the day the
    window's figures fall below a threshold; once they leave it, it is earned again."""
    start = date(2026, 9, 1)
    days = {start + timedelta(days=i): good_day() for i in range(30)}
    days |= {start + timedelta(days=30 + i): bad_day() for i in range(16)}
    days |= {start + timedelta(days=46 + i): good_day() for i in range(30)}

    def held(as_of: date) -> tuple[bool, tuple[str, ...]]:
        window = badge_window(as_of, BADGE)
        verdict = badge(total(c for d, c in days.items() if window.first <= d <= window.last), window, BADGE)
        return verdict.held, verdict.unmet

    assert held(start + timedelta(days=29)) == (True, ())
    assert held(start + timedelta(days=30))[0] is True  # one bad day in 30: still within every threshold
    lost = next(i for i in range(30, 76) if not held(start + timedelta(days=i))[0])
    assert 30 < lost < 46
    assert set(held(start + timedelta(days=40))[1]) == {"on_time", "disputes"}  # median still fast
    assert set(held(start + timedelta(days=45))[1]) == {"first_response", "on_time", "disputes"}
    assert held(start + timedelta(days=75)) == (True, ())  # the bad days have left the window
    assert held(start + timedelta(days=5))[1] == ()  # 12 claims by then: enough
    assert held(start + timedelta(days=3))[1] == ("min_claims",)  # 8 claims: too few to judge


def test_the_badges_thresholds_are_met_exactly_at_the_bound() -> None:
    rule = BadgeRule(min_claims=20, min_on_time_basis_points=9500, max_dispute_basis_points=500)
    window = Period(date(2026, 11, 1), date(2026, 11, 30))
    base = {"claims_opened": 20, "fr_n": 20, FAST: 20, "mdl_n": 20}
    assert badge(base | {"mdl_late": 1, "disputes": 1}, window, rule).held  # 95 %, 5 %: on the bound
    assert badge(base | {"mdl_late": 2}, window, rule).unmet == ("on_time",)
    assert badge(base | {"disputes": 2}, window, rule).unmet == ("disputes",)
    two_hours = {"claims_opened": 20, "fr_n": 20, f"fr_b{BUCKET_BOUNDS.index(7200)}": 20, "mdl_n": 20}
    assert badge(two_hours, window, rule).held  # 001 §三(一)2(1): within 2 hours
    assert badge(base | {"fr_n": 0, FAST: 0}, window, rule).unmet == ("first_response",)


@given(
    claims=st.integers(1, 500),
    disputes=st.integers(0, 500),
    deadlines=st.integers(1, 500),
    late=st.integers(0, 500),
    on_time_bp=st.integers(0, 10_000),
    dispute_bp=st.integers(0, 10_000),
)
def test_the_badges_rates_against_a_fraction_reference(
    claims: int, disputes: int, deadlines: int, late: int, on_time_bp: int, dispute_bp: int
) -> None:
    disputes, late = min(disputes, claims), min(late, deadlines)
    rule = BadgeRule(min_claims=1, min_on_time_basis_points=on_time_bp, max_dispute_basis_points=dispute_bp)
    counters = {"claims_opened": claims, "disputes": disputes, "mdl_n": deadlines, "mdl_late": late, FAST: 1}
    verdict = badge(counters, Period(date(2026, 11, 1), date(2026, 11, 1)), rule)
    assert ("on_time" not in verdict.unmet) == (
        Fraction(deadlines - late, deadlines) >= Fraction(on_time_bp, 10_000)
    )
    assert ("disputes" not in verdict.unmet) == (Fraction(disputes, claims) <= Fraction(dispute_bp, 10_000))


def test_a_jump_in_returns_fires_and_a_small_sample_does_not() -> None:
    baseline = {"returns": 2, "lines_sold": 40}
    assert risk({"returns": 5, "lines_sold": 40}, baseline, RISK).reason == "jump"
    assert (
        risk({"returns": 4, "lines_sold": 4}, {"returns": 0, "lines_sold": 400}, RISK).reason
        == "small_sample"
    )
    assert risk({"returns": 4, "lines_sold": 40}, baseline, RISK).fires is False
    assert (
        risk({"returns": 8, "lines_sold": 40}, {"returns": 8, "lines_sold": 40}, RISK).reason
        == "within_baseline"
    )
    assert risk({"returns": 8, "lines_sold": 10}, baseline, RISK).reason == "no_volume"
    assert risk({"returns": 8, "lines_sold": 40}, {}, RISK).reason == "no_volume"


@given(
    rw=st.integers(0, 300),
    lw=st.integers(1, 3000),
    rb=st.integers(0, 300),
    lb=st.integers(1, 3000),
    factor=st.integers(101, 1000),
)
def test_the_risk_comparison_against_a_fraction_reference(
    rw: int, lw: int, rb: int, lb: int, factor: int
) -> None:
    rule = RiskRule(factor_percent=factor, min_returns=1, min_lines_sold=1)
    verdict = risk({"returns": rw, "lines_sold": lw}, {"returns": rb, "lines_sold": lb}, rule)
    jump = rw >= 1 and Fraction(rw, lw) > Fraction(factor, 100) * Fraction(rb, lb)
    assert verdict.fires == jump


def test_a_warning_is_raised_once_per_episode_and_ended_when_the_rate_is_back() -> None:
    jump = risk({"returns": 9, "lines_sold": 40}, {"returns": 1, "lines_sold": 40}, RISK)
    calm = risk({"returns": 5, "lines_sold": 40}, {"returns": 5, "lines_sold": 40}, RISK)
    small = risk({"returns": 1, "lines_sold": 40}, {"returns": 5, "lines_sold": 40}, RISK)
    assert episode_step(False, jump) is EpisodeStep.RAISE
    assert episode_step(True, jump) is None  # already raised: once
    assert episode_step(True, small) is None  # a small sample says nothing either way
    assert episode_step(True, calm) is EpisodeStep.END
    assert episode_step(False, calm) is None


def test_the_risk_window_and_its_baseline_are_consecutive() -> None:
    periods = risk_periods(date(2026, 11, 30), RISK)
    assert (periods.window.first, periods.window.last, periods.window.days) == (
        date(2026, 11, 24),
        date(2026, 11, 30),
        7,
    )
    assert periods.baseline.last == date(2026, 11, 23) and periods.baseline.days == 28


def test_a_scorecards_period_is_bounded() -> None:
    today = date(2026, 11, 30)
    assert scorecard_period(None, None, today, 92) == Period(date(2026, 11, 1), today)
    assert scorecard_period(date(2026, 9, 1), date(2026, 11, 30), today, 92).days == 91
    with pytest.raises(InvalidPeriod) as too_long:
        scorecard_period(date(2026, 8, 1), today, today, 92)
    assert too_long.value.code == "range_too_long" and too_long.value.details["max_days"] == 92
    with pytest.raises(InvalidPeriod) as reversed_:
        scorecard_period(today, date(2026, 11, 1), today, 92)
    assert reversed_.value.code == "invalid_period"
    for first, last in ((date(1999, 12, 31), None), (None, date(1, 1, 1))):
        with pytest.raises(InvalidPeriod) as implausible:
            scorecard_period(first, last, today, 92)
        assert implausible.value.code == "implausible_period"
    assert scorecard_period(None, date(9999, 12, 31), today, 92).days == 30  # days to come: empty


def test_the_standing_is_platform_only_data_with_its_defaults() -> None:
    assert STANDING.scorecard_max_days == 92
    assert BADGE.max_median_first_response_minutes == 120  # 001 §三(一)2(1)
    assert (RISK.window_days, RISK.baseline_days, RISK.factor_percent) == (7, 28, 200)
