"""Opaque pagination cursors: a DynamoDB LastEvaluatedKey as url-safe base64 JSON, checked on the way in."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aftersales.domain.errors import DomainError

MAX_CURSOR_CHARS = 2048


class InvalidCursor(DomainError):
    code = "invalid_cursor"


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, partition_attr: str, partition_value: str) -> dict[str, Any] | None:
    """The key to resume from. A cursor is only valid for the listing (index partition) that issued it,
    so a caller cannot page through someone else's claims by editing one."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor is too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this service issued") from exc
    if not isinstance(key, dict) or not all(
        isinstance(name, str)
        and isinstance(value, dict)
        and set(value) == {"S"}
        and isinstance(value["S"], str)
        for name, value in key.items()
    ):
        raise InvalidCursor("cursor is not one this service issued")
    if key.get(partition_attr, {}).get("S") != partition_value:
        raise InvalidCursor("cursor belongs to another listing")
    return key
