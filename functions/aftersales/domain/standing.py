"""How the platform judges a merchant and its products (POLICY §7): the 金牌售后 badge (001 §四(二)2)
and a product's return-rate risk warning (001 §四(三)2). Pure rules over summed day counters
(``domain.scorecard``); the thresholds are the policy's platform-only ``merchant_standing``.

Every comparison is made on the integer counts, never on rounded rates, so a threshold is met exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .errors import DomainError
from .policy import BadgeRule, RiskRule
from .scorecard import Counters, figures
from .timestamps import EARLIEST

BASIS = 10_000


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def trailing(as_of: date, days: int) -> Period:
    """The ``days`` days ending with ``as_of``."""
    return Period(as_of - timedelta(days=days - 1), as_of)


# --------------------------------------------------------------------------- the badge


@dataclass(frozen=True)
class Badge:
    held: bool
    window: Period
    unmet: tuple[str, ...]  # the checks that failed (empty when held)


def badge(window_counters: Counters, window: Period, rule: BadgeRule) -> Badge:
    """金牌售后 for the rolling window: enough claims, a fast median first response, the merchant's
    deadlines met on time, and few disputes. Earned while every check holds, lost when one fails."""
    c = window_counters
    claims, disputes = c.get("claims_opened", 0), c.get("disputes", 0)
    deadlines, late = c.get("mdl_n", 0), c.get("mdl_late", 0)
    median = figures(c).first_response.median_seconds
    checks = {
        "min_claims": claims >= rule.min_claims,
        "first_response": median is not None and median <= rule.max_median_first_response_minutes * 60,
        "on_time": deadlines > 0 and (deadlines - late) * BASIS >= rule.min_on_time_basis_points * deadlines,
        "disputes": disputes * BASIS <= rule.max_dispute_basis_points * claims,
    }
    unmet = tuple(name for name, ok in checks.items() if not ok)
    return Badge(not unmet, window, unmet)


def badge_window(as_of: date, rule: BadgeRule) -> Period:
    return trailing(as_of, rule.window_days)


# --------------------------------------------------------------------------- product risk


@dataclass(frozen=True)
class RiskPeriods:
    window: Period
    baseline: Period  # the days just before the window


def risk_periods(as_of: date, rule: RiskRule) -> RiskPeriods:
    window = trailing(as_of, rule.window_days)
    return RiskPeriods(window, trailing(window.first - timedelta(days=1), rule.baseline_days))


@dataclass(frozen=True)
class RiskVerdict:
    fires: bool
    reason: str  # why (not): "jump", "small_sample", "no_volume", "within_baseline"
    window_returns: int
    window_lines_sold: int
    baseline_returns: int
    baseline_lines_sold: int


def risk(window: Counters, baseline: Counters, rule: RiskRule) -> RiskVerdict:
    """Does the product's return rate over the window exceed the baseline's by the policy's factor?
    Never on a small sample (fewer returns than ``min_returns``) or without order volume."""
    rw, lw = window.get("returns", 0), window.get("lines_sold", 0)
    rb, lb = baseline.get("returns", 0), baseline.get("lines_sold", 0)
    if rw < rule.min_returns:
        reason = "small_sample"
    elif lw < rule.min_lines_sold or lb < rule.min_lines_sold:
        reason = "no_volume"
    # rw / lw > factor% × rb / lb, cross-multiplied so it is exact
    elif rw * lb * 100 > rule.factor_percent * rb * lw:
        reason = "jump"
    else:
        reason = "within_baseline"
    return RiskVerdict(reason == "jump", reason, rw, lw, rb, lb)


class EpisodeStep(StrEnum):
    RAISE = "raise"  # a new episode: warn once
    END = "end"  # the rate is back within its baseline: the next jump is a new episode


def episode_step(active: bool, verdict: RiskVerdict) -> EpisodeStep | None:
    """What an evaluation does to the product's warning: raise it once per episode, end an episode
    once the rate is back within the baseline (a small sample neither raises nor ends one)."""
    if verdict.fires and not active:
        return EpisodeStep.RAISE
    if active and verdict.reason == "within_baseline":
        return EpisodeStep.END
    return None


# --------------------------------------------------------------------------- the period asked for


class InvalidPeriod(DomainError):
    code = "invalid_period"


def scorecard_period(first: date | None, last: date | None, today: date, max_days: int) -> Period:
    """The days a scorecard covers: ``first`` to ``last`` inclusive; by default the 30 days ending
    today (or ending ``last``). Longer than ``max_days`` is refused (``range_too_long``), so one
    scorecard's reads are bounded by days, never by claims; so is a day before the platform's
    earliest (2000-01-01, as order times: ``implausible_period``). Days to come are empty."""
    last = last or today
    for name, day in (("from", first), ("to", last)):
        if day is not None and day < EARLIEST.date():
            raise InvalidPeriod(
                f"{name} must not be before {EARLIEST:%Y-%m-%d}",
                code="implausible_period",
                details={"parameter": name, "earliest": EARLIEST.date().isoformat()},
            )
    first = first or last - timedelta(days=min(DEFAULT_DAYS, max_days) - 1)
    if first > last:
        raise InvalidPeriod(
            "from must not be after to", details={"from": first.isoformat(), "to": last.isoformat()}
        )
    period = Period(first, last)
    if period.days > max_days:
        raise InvalidPeriod(
            f"a scorecard covers at most {max_days} days",
            code="range_too_long",
            details={"days": period.days, "max_days": max_days},
        )
    return period


DEFAULT_DAYS = 30
