"""The one event model every adapter normalises to, and the errors adapters raise."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, field_validator

from aftersales.domain.errors import DomainError
from aftersales.domain.parcels import ParcelStatus, event_key

CarrierCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
Waybill = Annotated[str, StringConstraints(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]

# Courier codes of the aggregators (Kuaidi100 ``com``, AfterShip ``slug``) → the carrier codes buyers
# and merchants give with a waybill (``POST /claims/{id}/shipment``). Codes not listed pass unchanged.
COURIER_CODES = {
    "shunfeng": "sf",
    "sf-express": "sf",
    "yuantong": "yto",
    "yto": "yto",
    "zhongtong": "zto",
    "zto-express": "zto",
    "shentong": "sto",
    "sto": "sto",
    "yunda": "yunda",
    "jd": "jd",
    "jingdong": "jd",
    "ems": "ems",
    "china-ems": "ems",
    "jtexpress": "jtexpress",
}


def carrier_code(courier: str) -> str:
    code = courier.strip().lower()
    return COURIER_CODES.get(code, code)


class BadSignature(DomainError):
    """Missing, malformed, wrong or stale signature: 401."""

    code = "bad_signature"


class BadPayload(DomainError):
    """A body the format does not allow (wrong content type, not the documented shape, an unknown
    status): 400. Carriers retry on 5xx only, so a 400 is an answer, not a retry."""

    code = "bad_payload"


class ParcelEvent(BaseModel):
    """One thing that happened to one parcel, as the consumer receives it from the queue."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    carrier: CarrierCode
    waybill: Waybill
    status: ParcelStatus
    occurred_at: AwareDatetime
    provider_event_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    location: Annotated[str, StringConstraints(max_length=200)] = ""
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    # Our own format only: the claim the shipper quotes on the label (a return the carrier picks up
    # before the buyer has told us its waybill).
    reference: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    source: str = ""  # the webhook it came through (its carrier path segment)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def key(self) -> str:
        return event_key(self.provider_event_id, self.waybill, self.status, self.occurred_at)


def headers_of(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Header names lower-cased (API Gateway v2 already does; tests and other callers may not)."""
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def media_type(headers: Mapping[str, str]) -> str:
    """``application/json`` for ``Application/JSON; charset=utf-8``."""
    return re.split(r"[;\s]", headers.get("content-type", "").strip().lower(), maxsplit=1)[0]


def require_media_type(headers: Mapping[str, str], wanted: str) -> None:
    got = media_type(headers)
    if got != wanted:
        raise BadPayload(
            f"expected Content-Type {wanted}, got {got or 'none'}",
            code="unsupported_media_type",
            details={"expected": wanted},
        )
