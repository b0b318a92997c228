"""AfterShip tracking webhook (``tracking_update``).

``POST`` ``application/json``; header ``aftership-hmac-sha256`` = base64 of HMAC-SHA256 of the raw body
with the webhook secret. ``event_id`` identifies the webhook event; ``msg`` is the tracking, its
``tag`` the delivery status and ``checkpoints`` the track, oldest first. Other events (``edd_revise``,
``tracking_pending_time``) say nothing about where the parcel is and are acknowledged and dropped.
Sources and the tag table: docs/webhooks.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aftersales.domain.parcels import ParcelStatus

from .model import BadPayload, BadSignature, ParcelEvent, carrier_code, require_media_type

CONTENT_TYPE = "application/json"
SIGNATURE_HEADER = "aftership-hmac-sha256"
S = ParcelStatus

# msg.tag → our status; None: nothing for the claim yet.
TAGS: dict[str, ParcelStatus | None] = {
    "Pending": None,
    "InfoReceived": None,  # the shipper told the carrier; not picked up yet
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AvailableForPickup": S.OUT_FOR_DELIVERY,  # at a pick-up point, waiting for the receiver
    "AttemptFail": S.EXCEPTION,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
    "Expired": S.EXCEPTION,  # no news for 30 days
}
# Sub-tags that say more than their tag.
SUBTAGS: dict[str, ParcelStatus] = {
    "InTransit_002": S.PICKED_UP,  # acceptance scan
    "Exception_010": S.RETURNED_TO_SENDER,  # returning to sender
    "Exception_011": S.RETURNED_TO_SENDER,  # returned to sender
}


def signature(raw: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def verify(raw: bytes, headers: Mapping[str, str], secret: str, *, now: datetime | None = None) -> None:
    require_media_type(headers, CONTENT_TYPE)
    given = headers.get(SIGNATURE_HEADER, "").strip()
    if not given:
        raise BadSignature(f"no {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(signature(raw, secret).encode(), given.encode()):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")


def parse(raw: bytes, headers: Mapping[str, str], *, carrier: str = "") -> list[ParcelEvent]:
    require_media_type(headers, CONTENT_TYPE)
    try:
        body = json.loads(raw)
        kind, msg = body["event"], body["msg"]
        if not isinstance(msg, dict):
            raise TypeError("msg")
    except (ValueError, KeyError, TypeError):
        raise BadPayload("not an AfterShip webhook (event, msg)") from None
    if kind != "tracking_update":
        return []
    tag, subtag = str(msg.get("tag") or ""), str(msg.get("subtag") or "")
    if tag not in TAGS:
        raise BadPayload(f"unknown AfterShip tag {tag!r}", code="unknown_status", details={"tag": tag})
    status = SUBTAGS.get(subtag) or TAGS[tag]
    if status is None:
        return []
    checkpoints = [c for c in msg.get("checkpoints") or [] if isinstance(c, dict)]
    newest: dict[str, Any] = checkpoints[-1] if checkpoints else {}
    try:
        return [
            ParcelEvent(
                carrier=carrier_code(str(msg.get("slug") or "aftership")),
                waybill=str(msg["tracking_number"]),
                status=status,
                occurred_at=_when(newest, msg, body),
                provider_event_id=str(body["event_id"]) if body.get("event_id") else None,
                location=str(newest.get("location") or newest.get("city") or "")[:200],
                description=str(newest.get("message") or "")[:500],
                source="aftership",
            )
        ]
    except (KeyError, ValueError) as exc:
        raise BadPayload(f"not a valid AfterShip tracking: {str(exc).splitlines()[0]}") from None


def _when(checkpoint: Mapping[str, Any], msg: Mapping[str, Any], body: Mapping[str, Any]) -> datetime:
    """The newest checkpoint's time, else the tracking's update time, else the webhook's ``ts``."""
    for text in (checkpoint.get("checkpoint_time"), msg.get("updated_at")):
        if text:
            value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(body["ts"]), UTC)
