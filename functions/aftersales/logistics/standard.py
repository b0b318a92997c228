"""The service's own webhook format, for every carrier without an adapter of its own.

``POST`` ``application/json`` ``{"events": [...]}`` (at most 100), each event: ``event_id``,
``waybill``, ``status`` (one of ours), ``occurred_at`` (ISO 8601 with offset), optional ``location``,
``description``, ``reference`` (the claim id printed on a return label). Header
``X-Aftersales-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``; several ``v1``
may be given while a secret is rotated. Refused when |now − t| > 300 s, so a captured delivery cannot
be replayed later. The recipe with a worked example: docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from aftersales import clock
from aftersales.domain.parcels import ParcelStatus

from .model import BadPayload, BadSignature, ParcelEvent, Waybill, require_media_type

CONTENT_TYPE = "application/json"
SIGNATURE_HEADER = "x-aftersales-signature"
TOLERANCE_SECONDS = 300
MAX_EVENTS = 100


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    waybill: Waybill
    status: str
    occurred_at: AwareDatetime
    location: Annotated[str, StringConstraints(max_length=200)] = ""
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    reference: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    events: Annotated[list[_Event], Field(min_length=1, max_length=MAX_EVENTS)]


def signature(timestamp: int, raw: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()


def signature_header(timestamp: int, raw: bytes, secret: str) -> str:
    return f"t={timestamp},v1={signature(timestamp, raw, secret)}"


def verify(raw: bytes, headers: Mapping[str, str], secret: str, *, now: datetime | None = None) -> None:
    require_media_type(headers, CONTENT_TYPE)
    header = headers.get(SIGNATURE_HEADER, "")
    if not header:
        raise BadSignature("no X-Aftersales-Signature header")
    parts = [part.strip().split("=", 1) for part in header.split(",")]
    timestamps = [value for key, value in (p for p in parts if len(p) == 2) if key == "t"]
    given = [value for key, value in (p for p in parts if len(p) == 2) if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not given:
        raise BadSignature("X-Aftersales-Signature must be t=<unix seconds>,v1=<hex>")
    timestamp = int(timestamps[0])
    at = (now or clock.now()).timestamp()
    if abs(at - timestamp) > TOLERANCE_SECONDS:
        raise BadSignature(
            f"the signature's timestamp is more than {TOLERANCE_SECONDS} s from now",
            code="stale_signature",
            details={"tolerance_seconds": TOLERANCE_SECONDS},
        )
    expected = signature(timestamp, raw, secret).encode()
    if not any(hmac.compare_digest(expected, value.lower().encode()) for value in given):
        raise BadSignature("X-Aftersales-Signature does not match the body")


def parse(raw: bytes, headers: Mapping[str, str], *, carrier: str = "") -> list[ParcelEvent]:
    require_media_type(headers, CONTENT_TYPE)
    try:
        body = _Body.model_validate(json.loads(raw))
    except ValueError as exc:  # ValidationError is a ValueError
        raise BadPayload(_summary(exc)) from None
    known = {status.value for status in ParcelStatus}
    unknown = sorted({event.status for event in body.events} - known)
    if unknown:
        raise BadPayload(
            f"unknown status {', '.join(unknown)}; use one of {', '.join(sorted(known))}",
            code="unknown_status",
            details={"status": unknown},
        )
    return [
        ParcelEvent(
            carrier=carrier,
            waybill=event.waybill,
            status=ParcelStatus(event.status),
            occurred_at=event.occurred_at,
            provider_event_id=event.event_id,
            location=event.location,
            description=event.description,
            reference=event.reference,
            source=carrier,
        )
        for event in body.events
    ]


def _summary(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return f"{where}: {first['msg']}"
    return "the body is not JSON"
