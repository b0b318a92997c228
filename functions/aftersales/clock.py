"""The one source of "now". A manual clock file lets the local stack and tests move time forward."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

CLOCK_FILE_ENV = "AFTERSALES_CLOCK_FILE"


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant (``Z`` or an offset) as an aware UTC datetime; naive input counts as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now() -> datetime:
    """Aware UTC now: the instant in ``$AFTERSALES_CLOCK_FILE`` when that file exists, else real time."""
    path = os.environ.get(CLOCK_FILE_ENV)
    if path:
        clock_file = Path(path)
        if clock_file.exists():
            return parse_instant(clock_file.read_text(encoding="utf-8"))
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """Aware datetime → ``2026-11-22T10:00:00Z`` (microseconds kept only when present)."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")
