"""Request bodies. Unknown fields are refused (``extra="forbid"``); amounts are yuan strings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from aftersales.domain.model import ClaimType, PartKind, Reason
from aftersales.domain.policy import DeadlineKind

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Carrier = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
WaybillNo = Annotated[str, StringConstraints(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Yuan = Annotated[str, StringConstraints(min_length=1, max_length=16)]  # parsed by money.parse_yuan
Text = Annotated[str, StringConstraints(max_length=2000)]
Reasoning = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Score = Annotated[int, Field(ge=1, le=5, strict=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitClaim(Strict):
    order_id: Id
    line_id: Annotated[str, StringConstraints(max_length=64)] = ""  # a complaint may name no line
    quantity: Annotated[int, Field(ge=0, le=10_000, strict=True)]
    type: ClaimType
    reason: Reason
    description: Text = ""
    evidence_keys: Annotated[
        list[Annotated[str, StringConstraints(max_length=256)]], Field(max_length=10)
    ] = []
    urgent: bool = False


class Note(Strict):
    note: Text | None = None
    reason: Text | None = None


class Shipment(Strict):
    carrier: Carrier
    waybill: WaybillNo
    note: Text | None = None
    shipping_fee: Yuan | None = None  # what the buyer paid to ship a return; refunded if merchant-liable
    # The carrier's receipt (an evidence upload key), needed when the fee is above the policy's threshold.
    receipt_key: Annotated[str, StringConstraints(max_length=256)] | None = None


class Message(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class Rating(Strict):
    response_speed: Score
    resolution: Score
    attitude: Score
    convenience: Score
    timeliness: Score
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class EvidenceUpload(Strict):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    content_type: Literal["image/jpeg", "image/png", "video/mp4", "application/pdf"]


class Decision(Strict):
    decision: Literal["approve", "reject"]
    reason: Text = ""

    @model_validator(mode="after")
    def _reject_needs_reason(self) -> Decision:
        if self.decision == "reject" and not self.reason.strip():
            raise ValueError("a rejection must give a reason")
        return self


class Inspection(Strict):
    passed: bool
    findings: Text = ""
    liability: Literal["merchant", "buyer", "carrier"] | None = None


class Repair(Strict):
    """Either a quote for a paid repair, or the repair completed (with the outbound parcel)."""

    quote: Yuan | None = None
    completed: bool = False
    carrier: Carrier | None = None
    waybill: WaybillNo | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> Repair:
        if (self.quote is None) == (not self.completed):
            raise ValueError("give either a quote or completed=true")
        if (self.carrier is None) != (self.waybill is None):
            raise ValueError("give carrier and waybill together")
        return self


class Extension(Strict):
    due_at: AwareDatetime
    reason: Reasoning
    deadline: DeadlineKind | None = None


class ClockPause(Strict):
    """Force majeure stops the claim's clock: why, and until when if known (else until ops resume it)."""

    reason: Reasoning
    until: AwareDatetime | None = None


class BuyerDelay(Strict):
    """A finding that the buyer caused the delay of a merchant deadline (002 §5.3.2)."""

    reason: Reasoning
    deadline: DeadlineKind | None = None  # default: every open deadline that would charge a penalty


class Escalation(Strict):
    reason: Text = ""


class Ruling(Strict):
    outcome: Literal["refund", "dismiss"]
    refund_amount: Yuan | None = None  # default: the claimed amount
    payer: Literal["merchant", "platform"] = "merchant"
    reason: Reasoning


class OrderLineIn(Strict):
    line_id: Id
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=10_000, strict=True)]
    paid_amount: Yuan
    part_kind: PartKind = PartKind.UNIT


class OrderIn(Strict):
    buyer_id: Id
    merchant_id: Id
    paid_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=200)]
    buyer_phone: Annotated[str, StringConstraints(max_length=32)] = ""
    shipping_address: Annotated[str, StringConstraints(max_length=300)] = ""


class OrderDeliveredDetail(OrderIn):
    """The ``detail`` of an EventBridge ``order.delivered`` event: the order with its id."""

    order_id: Id
