"""Request bodies. Unknown fields are refused (``extra="forbid"``); amounts are yuan strings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from aftersales.domain import actions
from aftersales.domain.model import Action, ClaimRequest, ClaimType, Order, OrderLine, PartKind, Reason
from aftersales.domain.money import parse_yuan
from aftersales.domain.policy import DeadlineKind

# Every id, in bodies and in paths: no slashes, no leading dot, nothing a key or a log could trip on.
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$"
ID_MAX_LENGTH = 64
Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
Carrier = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
WaybillNo = Annotated[str, StringConstraints(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Yuan = Annotated[str, StringConstraints(min_length=1, max_length=16)]  # parsed by money.parse_yuan
Text = Annotated[str, StringConstraints(max_length=2000)]
Reasoning = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Score = Annotated[int, Field(ge=1, le=5, strict=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use, not at import


def example(**body: Any) -> ConfigDict:
    """A strict model's config with one example body for the OpenAPI document."""
    return ConfigDict(extra="forbid", defer_build=True, json_schema_extra={"examples": [body]})


class SubmitClaim(Strict):
    model_config = example(
        order_id="ord-1",
        line_id="L1",
        quantity=1,
        type="return_refund",
        reason="quality_defect",
        description="seam torn",
        evidence_keys=[],
    )

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

    def to_request(self) -> ClaimRequest:
        return ClaimRequest(**{**self.model_dump(), "evidence_keys": tuple(self.evidence_keys)})


class Note(Strict):
    model_config = example(reason="changed my mind")

    note: Text | None = None
    reason: Text | None = None

    def to_input(self) -> actions.Reasoned:
        return actions.Reasoned(note=self.note, reason=self.reason)


class Shipment(Strict):
    model_config = example(carrier="sf", waybill="SF1234567890")

    carrier: Carrier
    waybill: WaybillNo
    note: Text | None = None
    shipping_fee: Yuan | None = None  # what the buyer paid to ship a return; refunded if merchant-liable
    # The carrier's receipt (an evidence upload key), needed when the fee is above the policy's threshold.
    receipt_key: Annotated[str, StringConstraints(max_length=256)] | None = None

    def to_input(self) -> actions.ShipmentInput:
        fee = parse_yuan(self.shipping_fee) if self.shipping_fee else None
        return actions.ShipmentInput(
            carrier=self.carrier,
            waybill=self.waybill,
            note=self.note,
            fee_fen=fee,
            receipt_key=self.receipt_key,
        )


class Message(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]

    def to_input(self) -> actions.ActionInput:
        return actions.ActionInput(note=self.text)


class Rating(Strict):
    model_config = example(
        response_speed=5, resolution=4, attitude=5, convenience=3, timeliness=4, comment="ok"
    )

    response_speed: Score
    resolution: Score
    attitude: Score
    convenience: Score
    timeliness: Score
    comment: Annotated[str, StringConstraints(max_length=500)] = ""

    def to_input(self) -> actions.RatingInput:
        return actions.RatingInput(rating=self.model_dump())


class EvidenceUpload(Strict):
    model_config = example(filename="seam.jpg", content_type="image/jpeg")

    filename: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    content_type: Literal["image/jpeg", "image/png", "video/mp4", "application/pdf"]


class Decision(Strict):
    model_config = example(decision="reject", reason="worn")

    decision: Literal["approve", "reject"]
    reason: Text = ""

    @model_validator(mode="after")
    def _reject_needs_reason(self) -> Decision:
        if self.decision == "reject" and not self.reason.strip():
            raise ValueError("a rejection must give a reason")
        return self

    @property
    def action(self) -> Action:
        return Action.APPROVE if self.decision == "approve" else Action.REJECT

    def to_input(self) -> actions.Reasoned:
        return (
            actions.Approval(reason=self.reason)
            if self.decision == "approve"
            else actions.Reasoned(reason=self.reason)
        )


class Inspection(Strict):
    model_config = example(passed=True, findings="seam torn", liability="merchant")

    passed: bool
    findings: Text = ""
    liability: Literal["merchant", "buyer", "carrier"] | None = None

    @property
    def action(self) -> Action:
        return Action.INSPECT_PASS if self.passed else Action.INSPECT_FAIL

    def to_input(self) -> actions.InspectionInput:
        return actions.InspectionInput(findings=self.findings, liability=self.liability)


class Repair(Strict):
    """Either a quote for a paid repair, or the repair completed (with the outbound parcel)."""

    model_config = example(quote="80.00")

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

    @property
    def action(self) -> Action:
        return Action.QUOTE_REPAIR if self.quote is not None else Action.COMPLETE_REPAIR

    def to_input(self) -> actions.ActionInput:
        if self.quote is not None:
            return actions.QuoteInput(quote_fen=parse_yuan(self.quote))
        return actions.ShipmentInput(carrier=self.carrier, waybill=self.waybill)


class Extension(Strict):
    model_config = example(due_at="2026-11-30T02:00:00Z", reason="public holiday", deadline="review_decision")

    due_at: AwareDatetime
    reason: Reasoning
    deadline: DeadlineKind | None = None

    def to_input(self) -> actions.ExtensionInput:
        return actions.ExtensionInput(due_at=self.due_at, reason=self.reason, deadline=self.deadline)


class ClockPause(Strict):
    """Force majeure stops the claim's clock: why, and until when if known (else until ops resume it)."""

    reason: Reasoning
    until: AwareDatetime | None = None

    def to_input(self) -> actions.ClockPauseInput:
        return actions.ClockPauseInput(reason=self.reason, until=self.until)


class BuyerDelay(Strict):
    """A finding that the buyer caused the delay of a merchant deadline (002 §5.3.2)."""

    reason: Reasoning
    deadline: DeadlineKind | None = None  # default: every open deadline that would charge a penalty

    def to_input(self) -> actions.BuyerDelayInput:
        return actions.BuyerDelayInput(reason=self.reason, deadline=self.deadline)


class Escalation(Strict):
    model_config = example(reason="vip buyer")

    reason: Text = ""

    def to_input(self) -> actions.ActionInput:
        return actions.ActionInput(note=self.reason)


class Opinion(Strict):
    opinion: Annotated[str, StringConstraints(min_length=1, max_length=2000)]

    def to_input(self) -> actions.OpinionInput:
        return actions.OpinionInput(opinion=self.opinion)


class Ruling(Strict):
    model_config = example(outcome="refund", refund_amount="100.00", payer="platform", reason="partly worn")

    outcome: Literal["refund", "dismiss"]
    refund_amount: Yuan | None = None  # default: the claimed amount
    payer: Literal["merchant", "platform"] = "merchant"
    reason: Reasoning

    @property
    def action(self) -> Action:
        return Action.RULING_DISMISS if self.outcome == "dismiss" else Action.RULING_REFUND

    def to_input(self) -> actions.ActionInput:
        if self.outcome == "dismiss":
            return actions.ActionInput(note=self.reason)
        refund_fen = parse_yuan(self.refund_amount) if self.refund_amount is not None else None
        return actions.RulingInput(refund_fen=refund_fen, payer=self.payer, note=self.reason)


class OrderLineIn(Strict):
    line_id: Id
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=10_000, strict=True)]
    paid_amount: Yuan
    part_kind: PartKind = PartKind.UNIT


class OrderIn(Strict):
    model_config = example(
        buyer_id="buyer-1",
        merchant_id="m-1",
        paid_at="2026-11-15T02:00:00Z",
        delivered_at="2026-11-18T02:00:00Z",
        lines=[
            {
                "line_id": "L1",
                "sku": "SKU-1",
                "title": "Wool coat",
                "category": "apparel",
                "quantity": 2,
                "paid_amount": "259.80",
                "part_kind": "unit",
            }
        ],
        buyer_phone="13812345678",
        shipping_address="浙江省杭州市西湖区文三路 100 号",
    )

    buyer_id: Id
    merchant_id: Id
    paid_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=200)]
    buyer_phone: Annotated[str, StringConstraints(max_length=32)] = ""
    shipping_address: Annotated[str, StringConstraints(max_length=300)] = ""

    def to_order(self, order_id: str) -> Order:
        """The order's trusted facts (checked by ``orders.check_order``)."""
        return Order(
            order_id=order_id,
            buyer_id=self.buyer_id,
            merchant_id=self.merchant_id,
            paid_at=self.paid_at,
            delivered_at=self.delivered_at,
            lines=tuple(
                OrderLine(
                    line_id=line.line_id,
                    sku=line.sku,
                    title=line.title,
                    category=line.category,
                    quantity=line.quantity,
                    paid_fen=parse_yuan(line.paid_amount),
                    part_kind=line.part_kind,
                )
                for line in self.lines
            ),
            buyer_phone=self.buyer_phone,
            shipping_address=self.shipping_address,
        )


class OrderDeliveredDetail(OrderIn):
    """The ``detail`` of an EventBridge ``order.delivered`` event: the order with its id."""

    order_id: Id


class PolicySave(Strict):
    """A save of a policy layer: the values to change (a partial policy, merged into the layer's
    newest version; ``null`` removes a value so the layer below applies again) and why."""

    model_config = example(
        # The statutory 7 days, as the seed: the fuzz pass sends this example to the shared local
        # stack's layers, and it must not change what other tests' claims get.
        policy={"no_reason_return_days": 7},
        note="the statutory 7-day no-reason window",
    )

    policy: Annotated[dict[str, Any], Field(min_length=1, max_length=64)]
    note: Annotated[str, StringConstraints(max_length=500)] = ""
