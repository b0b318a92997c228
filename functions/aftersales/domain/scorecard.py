"""Merchant scorecards (POLICY §7; 001 §三(二)1, 003 §7.2.2): what each committed change adds to the
merchant's and the product's day counters, and the figures computed from summed counters.

Counters are plain ``{name: int}``. A change adds to the counters of the Shanghai day it happened on;
the store writes them in the change's own transaction, so each committed change counts exactly once
(decision 0050). Times are kept as histograms of fixed buckets (``BUCKET_BOUNDS``): a median or p90 is
reported as the upper bound of the bucket holding that rank (decision 0051).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from .calendar import SHANGHAI
from .changes import Change
from .deadlines import Deadline
from .model import Action, ClaimType, Order, Outcome, Role, Status, product_key
from .policy import DeadlineKind

Counters = Mapping[str, int]

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
# Upper bounds (seconds) of the time histograms; a time above the last falls in an open-ended bucket.
BUCKET_BOUNDS: tuple[int, ...] = (
    5 * _MINUTE,
    15 * _MINUTE,
    30 * _MINUTE,
    _HOUR,
    2 * _HOUR,
    4 * _HOUR,
    8 * _HOUR,
    12 * _HOUR,
    _DAY,
    2 * _DAY,
    3 * _DAY,
    5 * _DAY,
    7 * _DAY,
    10 * _DAY,
    15 * _DAY,
    30 * _DAY,
    60 * _DAY,
)
# The buyer's satisfaction rating, 1-5 on each (POLICY §7; 002 §9.1).
RATING_DIMENSIONS = ("response_speed", "resolution", "attitude", "convenience", "timeliness")
# Claims that send goods back to the merchant for a refund or an exchange: a product's returns.
RETURN_TYPES = frozenset({ClaimType.RETURN_REFUND, ClaimType.EXCHANGE})
_RESPONDERS = frozenset({Role.MERCHANT.value, Role.OPS.value})


def stat_day(at: datetime) -> date:
    """The day a change counts on: the Shanghai date, as merchants read their day."""
    return at.astimezone(SHANGHAI).date()


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration: the first bound it does not exceed (the last: open-ended)."""
    return next((i for i, bound in enumerate(BUCKET_BOUNDS) if seconds <= bound), len(BUCKET_BOUNDS))


# --------------------------------------------------------------------------- what a change adds


def change_counts(change: Change) -> dict[str, int]:
    """What one committed change adds to its merchant's (and its product's) counters."""
    counts: dict[str, int] = {}
    if change.read_version is None:
        counts |= _opened(change)
    for deadline in change.deadlines:
        if deadline.met_at is not None:  # opened, extended or paused ones count when they close
            _closed_deadline(counts, change, deadline)
    if change.transition is not None:
        _transition(counts, change)
    return {name: value for name, value in counts.items() if value}


def _opened(change: Change) -> dict[str, int]:
    claim_type = change.claim.claim_type
    counts = {"claims_opened": 1, f"type_{claim_type.value}": 1}
    return counts | ({"returns": 1} if claim_type in RETURN_TYPES else {})


def _closed_deadline(counts: dict[str, int], change: Change, deadline: Deadline) -> None:
    """A deadline this change closed: on time or late, per kind and for the merchant's; the merchant's
    (or an agent's) first answer to the claim is also its first-response time."""
    assert deadline.met_at is not None
    late = 1 if deadline.met_at > deadline.due_at else 0
    _add(counts, f"dl_{deadline.kind.value}_n", 1)
    _add(counts, f"dl_{deadline.kind.value}_late", late)
    if deadline.owner is Role.MERCHANT:
        _add(counts, "mdl_n", 1)
        _add(counts, "mdl_late", late)
    if (
        deadline.kind is DeadlineKind.FIRST_RESPONSE
        and deadline.instance == 1
        and deadline.owner is Role.MERCHANT
        and change.entry.actor_role in _RESPONDERS
    ):
        _add(counts, "fr_n", 1)
        _add(counts, f"fr_b{bucket((deadline.met_at - change.claim.created_at).total_seconds())}", 1)


def _transition(counts: dict[str, int], change: Change) -> None:
    claim, moved = change.claim, change.transition
    assert moved is not None
    if moved.changes_status and moved.target is Status.CLOSED:
        counts |= {"claims_closed": 1, "handle_n": 1, "penalty_fen": claim.penalty_total_fen}
        _add(counts, f"handle_b{bucket((change.entry.at - claim.created_at).total_seconds())}", 1)
        if moved.outcome is Outcome.REFUNDED:
            counts["refunds"] = 1
    if moved.action is Action.DISPUTE:
        counts["disputes"] = 1
    if moved.action is Action.ESCALATE:
        counts["escalations"] = 1
    if moved.action is Action.RATE and claim.rating:
        for dim in RATING_DIMENSIONS:
            score = claim.rating.get(dim)
            if isinstance(score, int) and not isinstance(score, bool):
                counts |= {f"rate_{dim}_sum": score, f"rate_{dim}_n": 1}


def order_counts(order: Order) -> dict[str | None, dict[str, int]]:
    """What an order adds when it is first imported: its lines sold, for the merchant (key None) and
    for each product."""
    counts: dict[str | None, dict[str, int]] = {None: {"lines_sold": len(order.lines)}}
    for line in order.lines:
        key = product_key(line.sku, line.title)
        if key is not None:
            _add(counts.setdefault(key, {}), "lines_sold", 1)
    return counts


def _add(counts: dict[str, int], name: str, amount: int) -> None:
    counts[name] = counts.get(name, 0) + amount


def total(days: Iterable[Counters]) -> dict[str, int]:
    """Counters summed over day (and shard) items."""
    summed: dict[str, int] = {}
    for counters in days:
        for name, value in counters.items():
            _add(summed, name, int(value))
    return summed


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Times:
    count: int
    median_seconds: int | None  # upper bound of the bucket holding the median; None: no sample, or beyond
    p90_seconds: int | None  # the last bound (see ``BUCKET_BOUNDS``)


@dataclass(frozen=True)
class OnTime:
    count: int  # deadlines closed in the period
    late: int
    rate: float | None


@dataclass(frozen=True)
class Rating:
    count: int
    average: float | None


@dataclass(frozen=True)
class Figures:
    claims: int
    lines_sold: int | None  # None: no order volume known for the period
    after_sales_rate: float | None  # claims per order line sold
    claims_closed: int
    refund_rate: float | None  # closed claims that ended in a refund, per closed claim
    first_response: Times  # the merchant's first response to its claims, from the claim's opening
    handling: Times  # from opening to closing
    on_time: dict[str, OnTime]  # per deadline kind closed in the period
    merchant_on_time: OnTime  # every deadline the merchant owes
    disputes: int
    dispute_rate: float | None  # claims taken to a platform dispute, per claim opened
    complaints: int
    complaint_rate: float | None  # complaint claims, per claim opened
    returns: int
    satisfaction: dict[str, Rating]
    penalties_paid_fen: int


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percentile(histogram: Mapping[int, int], percent: int) -> int | None:
    """Nearest rank: the bound of the bucket that holds the ``ceil(percent % of n)``-th smallest
    sample. None without samples, or when that rank lies in the open-ended bucket."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank = -(-percent * n // 100)
    seen = 0
    for index in range(len(BUCKET_BOUNDS) + 1):
        seen += histogram.get(index, 0)
        if seen >= rank:
            return BUCKET_BOUNDS[index] if index < len(BUCKET_BOUNDS) else None
    return None


def _times(counters: Counters, prefix: str) -> Times:
    histogram = {i: counters.get(f"{prefix}_b{i}", 0) for i in range(len(BUCKET_BOUNDS) + 1)}
    return Times(sum(histogram.values()), percentile(histogram, 50), percentile(histogram, 90))


def _on_time(n: int, late: int) -> OnTime:
    return OnTime(n, late, ratio(n - late, n))


def figures(counters: Counters) -> Figures:
    """The scorecard of summed counters."""
    c = {name: int(value) for name, value in counters.items()}
    claims, lines, closed = c.get("claims_opened", 0), c.get("lines_sold", 0), c.get("claims_closed", 0)
    complaints = c.get(f"type_{ClaimType.COMPLAINT.value}", 0)
    kinds = sorted(k.value for k in DeadlineKind if c.get(f"dl_{k.value}_n"))
    return Figures(
        claims=claims,
        lines_sold=lines or None,
        after_sales_rate=ratio(claims, lines),
        claims_closed=closed,
        refund_rate=ratio(c.get("refunds", 0), closed),
        first_response=_times(c, "fr"),
        handling=_times(c, "handle"),
        on_time={k: _on_time(c[f"dl_{k}_n"], c.get(f"dl_{k}_late", 0)) for k in kinds},
        merchant_on_time=_on_time(c.get("mdl_n", 0), c.get("mdl_late", 0)),
        disputes=c.get("disputes", 0),
        dispute_rate=ratio(c.get("disputes", 0), claims),
        complaints=complaints,
        complaint_rate=ratio(complaints, claims),
        returns=c.get("returns", 0),
        satisfaction={dim: _rating(c, dim) for dim in RATING_DIMENSIONS},
        penalties_paid_fen=c.get("penalty_fen", 0),
    )


def _rating(c: Mapping[str, int], dim: str) -> Rating:
    n = c.get(f"rate_{dim}_n", 0)
    return Rating(n, round(c.get(f"rate_{dim}_sum", 0) / n, 2) if n else None)
