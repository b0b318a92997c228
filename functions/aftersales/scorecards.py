"""Merchant scorecards, the 金牌售后 badge and the product risk listing (POLICY §7), read from the
pre-aggregated day counters only: one range Query per merchant over the days asked, whatever the
number of claims (decision 0050)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from aftersales import policy_layers
from aftersales.domain import scorecard, standing
from aftersales.domain.scorecard import Figures
from aftersales.domain.standing import Badge, Period
from aftersales.store import Repository, default_repository
from aftersales.store.mapping import RiskWarning, StatDay


@dataclass(frozen=True)
class ProductScore:
    product: str
    title: str | None
    figures: Figures


@dataclass(frozen=True)
class Scorecard:
    merchant_id: str
    period: Period
    figures: Figures
    badge: Badge  # over the badge's rolling window ending with the period's last day
    products: list[ProductScore]  # the busiest first, at most ``product_limit``
    products_total: int


def merchant_scorecard(
    merchant_id: str,
    first: date | None,
    last: date | None,
    now: datetime,
    *,
    product_limit: int = 20,
    repo: Repository | None = None,
) -> Scorecard:
    """The merchant's figures over ``first``..``last`` (Shanghai days; default the last 30 days), per
    product too, and its badge for the rolling window ending on ``last``."""
    repo = repo or default_repository()
    rules = policy_layers.platform_policy(repo=repo).merchant_standing  # platform-only
    period = standing.scorecard_period(first, last, scorecard.stat_day(now), rules.scorecard_max_days)
    window = standing.badge_window(period.last, rules.badge)
    days = repo.stat_days(merchant_id, min(period.first, window.first), period.last)
    own = [d for d in days if d.product is None]
    badge = standing.badge(_total(own, window), window, rules.badge)
    products = _products([d for d in days if d.product is not None], period)
    return Scorecard(
        merchant_id=merchant_id,
        period=period,
        figures=scorecard.figures(_total(own, period)),
        badge=badge,
        products=products[:product_limit],
        products_total=len(products),
    )


def _within(day: StatDay, period: Period) -> bool:
    return period.first <= day.day <= period.last


def _total(days: list[StatDay], period: Period) -> dict[str, int]:
    return scorecard.total(d.counters for d in days if _within(d, period))


def _products(days: list[StatDay], period: Period) -> list[ProductScore]:
    by_product: dict[str, list[StatDay]] = defaultdict(list)
    for day in days:
        if day.product is not None and _within(day, period):
            by_product[day.product].append(day)
    scores = [
        ProductScore(
            product,
            next((d.title for d in found if d.title), None),
            scorecard.figures(scorecard.total(d.counters for d in found)),
        )
        for product, found in by_product.items()
    ]
    return sorted(scores, key=lambda s: (-s.figures.claims, -(s.figures.lines_sold or 0), s.product))


@dataclass(frozen=True)
class RiskPage:
    warnings: list[RiskWarning]
    cursor: str | None


def risk_warnings(*, cursor: str | None, limit: int, repo: Repository | None = None) -> RiskPage:
    """Product risk-warning episodes, the newest first."""
    warnings, next_cursor = (repo or default_repository()).list_risks(cursor=cursor, limit=limit)
    return RiskPage(warnings, next_cursor)
