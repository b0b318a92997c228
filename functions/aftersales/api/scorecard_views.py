"""What merchants and ops see of a scorecard, a badge and the product risk listing. Rates are ratios
(0..1, four decimals) or null when their denominator is 0; times are seconds, the upper bound of the
histogram bucket holding the median or p90 (docs/api.md, "Scorecards"); money as yuan strings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aftersales.clock import iso
from aftersales.domain.money import format_fen
from aftersales.domain.scorecard import Figures
from aftersales.domain.standing import Badge, Period
from aftersales.scorecards import RiskPage, Scorecard
from aftersales.store.mapping import RiskWarning


def _period(period: Period) -> dict[str, Any]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat(), "days": period.days}


def figures_view(figures: Figures) -> dict[str, Any]:
    view = asdict(figures)
    view["penalties_paid"] = format_fen(view.pop("penalties_paid_fen"))
    return view


def badge_view(badge: Badge) -> dict[str, Any]:
    return {
        "name": "金牌售后",
        "held": badge.held,
        "window": _period(badge.window),
        "unmet": list(badge.unmet),
    }


def scorecard_view(card: Scorecard) -> dict[str, Any]:
    return {
        "merchant_id": card.merchant_id,
        "period": _period(card.period),
        "figures": figures_view(card.figures),
        "badge": badge_view(card.badge),
        "products": [
            {"product": p.product, "title": p.title, "figures": figures_view(p.figures)}
            for p in card.products
        ],
        "products_total": card.products_total,
    }


def risk_view(warning: RiskWarning) -> dict[str, Any]:
    return {
        "merchant_id": warning.merchant_id,
        "product": warning.product,
        "episode": warning.episode,
        "raised_at": iso(warning.raised_at),
        "ended_at": iso(warning.ended_at) if warning.ended_at else None,
        "active": warning.ended_at is None,
        "window": {"from": warning.window_first.isoformat(), "to": warning.window_last.isoformat()},
        "window_returns": warning.window_returns,
        "window_lines_sold": warning.window_lines_sold,
        "baseline_returns": warning.baseline_returns,
        "baseline_lines_sold": warning.baseline_lines_sold,
    }


def risk_page_view(page: RiskPage) -> dict[str, Any]:
    return {"items": [risk_view(w) for w in page.warnings], "next_cursor": page.cursor}
