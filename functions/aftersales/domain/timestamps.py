"""Plausible order times. Platform defaults (docs/policy.md §9): nothing on this platform was paid before
2000-01-01, and nothing happens later than now plus five minutes of clock skew between systems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .errors import DomainError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)


class ImplausibleTimestamp(DomainError):
    code = "implausible_timestamp"


def require_plausible(field: str, at: datetime, now: datetime) -> None:
    """Refuse ``at`` before ``EARLIEST`` or after ``now + CLOCK_SKEW``."""
    latest = now + CLOCK_SKEW
    if not EARLIEST <= at <= latest:
        raise ImplausibleTimestamp(
            f"{field} must lie between {EARLIEST:%Y-%m-%d} and now (plus {CLOCK_SKEW.seconds // 60} min)",
            details={"field": field, "earliest": EARLIEST.isoformat(), "latest": latest.isoformat()},
        )
