"""The after-sales vocabulary: claim types, reasons, statuses, roles, and the plain data they describe.

Money is integer fen, time is aware UTC datetimes. Nothing here talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ClaimType(StrEnum):
    RETURN_REFUND = "return_refund"
    REFUND_ONLY = "refund_only"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    COMPLAINT = "complaint"

    @property
    def ships_goods_back(self) -> bool:
        """Types whose goods travel back to the merchant before the claim resolves."""
        return self in (ClaimType.RETURN_REFUND, ClaimType.EXCHANGE, ClaimType.REPAIR)


class Reason(StrEnum):
    QUALITY_DEFECT = "quality_defect"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    SIZE_COLOR_MISMATCH = "size_color_mismatch"
    NO_REASON = "no_reason"
    MISSING_ITEM = "missing_item"
    NOT_RECEIVED = "not_received"
    PAID_REPAIR = "paid_repair"
    # complaint subjects
    SERVICE = "service"
    LOGISTICS = "logistics"
    PAYMENT = "payment"
    ACCOUNT = "account"
    FALSE_ADVERTISING = "false_advertising"

    @property
    def is_merchant_fault(self) -> bool:
        """Reasons the buyer did not cause (POLICY §2, §3): the merchant pays shipping, no 7-day limit."""
        return self in MERCHANT_FAULT_REASONS


MERCHANT_FAULT_REASONS = frozenset(
    {
        Reason.QUALITY_DEFECT,
        Reason.NOT_AS_DESCRIBED,
        Reason.DAMAGED_IN_TRANSIT,
        Reason.WRONG_ITEM,
        Reason.SIZE_COLOR_MISMATCH,
        Reason.MISSING_ITEM,
        Reason.NOT_RECEIVED,
    }
)

# Which reasons each claim type accepts (POLICY §1).
REASONS_BY_TYPE: dict[ClaimType, frozenset[Reason]] = {
    ClaimType.RETURN_REFUND: frozenset(
        {
            Reason.QUALITY_DEFECT,
            Reason.NOT_AS_DESCRIBED,
            Reason.DAMAGED_IN_TRANSIT,
            Reason.WRONG_ITEM,
            Reason.SIZE_COLOR_MISMATCH,
            Reason.NO_REASON,
        }
    ),
    ClaimType.REFUND_ONLY: frozenset({Reason.MISSING_ITEM, Reason.NOT_RECEIVED, Reason.DAMAGED_IN_TRANSIT}),
    ClaimType.EXCHANGE: frozenset({Reason.QUALITY_DEFECT, Reason.SIZE_COLOR_MISMATCH, Reason.WRONG_ITEM}),
    ClaimType.REPAIR: frozenset({Reason.QUALITY_DEFECT, Reason.PAID_REPAIR}),
    ClaimType.COMPLAINT: frozenset(
        {Reason.SERVICE, Reason.LOGISTICS, Reason.PAYMENT, Reason.ACCOUNT, Reason.FALSE_ADVERTISING}
    ),
}


class Status(StrEnum):
    PENDING_REVIEW = "pending_review"
    AWAITING_RETURN_SHIPMENT = "awaiting_return_shipment"
    RETURN_IN_TRANSIT = "return_in_transit"
    AWAITING_INSPECTION = "awaiting_inspection"
    AWAITING_REFUND = "awaiting_refund"
    REFUND_FAILED = "refund_failed"
    AWAITING_REPLACEMENT_SHIPMENT = "awaiting_replacement_shipment"
    AWAITING_QUOTE_ACCEPTANCE = "awaiting_quote_acceptance"
    AWAITING_RETURN_TO_BUYER = "awaiting_return_to_buyer"  # a declined quote: the goods go back unrepaired
    REPAIRING = "repairing"
    OUTBOUND_IN_TRANSIT = "outbound_in_transit"
    AWAITING_BUYER_CONFIRMATION = "awaiting_buyer_confirmation"
    REJECTED = "rejected"
    IN_MEDIATION = "in_mediation"
    IN_ARBITRATION = "in_arbitration"
    AWAITING_OPINION = "awaiting_opinion"
    CLOSED = "closed"

    @property
    def is_final(self) -> bool:
        return self is Status.CLOSED


class Outcome(StrEnum):
    """Why a closed claim closed."""

    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REPAIRED = "repaired"
    REJECTED = "rejected"
    FORFEITED = "forfeited"
    CANCELLED = "cancelled"
    QUOTE_DECLINED = "quote_declined"
    RESOLVED = "resolved"


class Role(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    OPS = "ops"
    SYSTEM = "system"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    AUTO_APPROVE = "auto_approve"
    CANCEL = "cancel"
    SHIP_RETURN = "ship_return"
    FORFEIT = "forfeit"
    RETURN_DELIVERED = "return_delivered"
    INSPECT_PASS = "inspect_pass"
    INSPECT_FAIL = "inspect_fail"
    AUTO_ACCEPT_INSPECTION = "auto_accept_inspection"
    QUOTE_REPAIR = "quote_repair"
    ACCEPT_QUOTE = "accept_quote"
    DECLINE_QUOTE = "decline_quote"
    COMPLETE_REPAIR = "complete_repair"
    SHIP_REPLACEMENT = "ship_replacement"
    SHIP_BACK = "ship_back"
    OUTBOUND_DELIVERED = "outbound_delivered"
    CONFIRM = "confirm"
    AUTO_CONFIRM = "auto_confirm"
    REOPEN = "reopen"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    RETRY_REFUND = "retry_refund"
    DISPUTE = "dispute"
    APPEAL_LAPSED = "appeal_lapsed"
    ESCALATE = "escalate"
    RULING_REFUND = "ruling_refund"
    RULING_DISMISS = "ruling_dismiss"
    GIVE_OPINION = "give_opinion"
    EXTEND = "extend"
    RATE = "rate"
    MESSAGE = "message"
    PAUSE_CLOCK = "pause_clock"  # force majeure: the claim's deadlines stop running
    RESUME_CLOCK = "resume_clock"
    FIND_BUYER_DELAY = "find_buyer_delay"  # a finding that the buyer caused a delay (002 §5.3.2)


class EscalationLevel(StrEnum):
    """POLICY §6, lowest first."""

    AGENT = "agent"
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"
    MEDIATION = "mediation"
    ARBITRATION = "arbitration"

    def next(self) -> EscalationLevel:
        ladder = list(EscalationLevel)
        return ladder[min(ladder.index(self) + 1, len(ladder) - 1)]


class PartKind(StrEnum):
    """What the warranty covers: the whole unit (1 year) or a part / consumable (3 months)."""

    UNIT = "unit"
    PART = "part"
    CONSUMABLE = "consumable"


class Payer(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    NEGOTIATED = "negotiated"
    NONE = "none"


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    title: str
    category: str
    quantity: int
    paid_fen: int  # what the buyer paid for the whole line, after discounts
    part_kind: PartKind = PartKind.UNIT

    def amount_for(self, quantity: int) -> int:
        """Paid amount for ``quantity`` units of this line, in fen; the last unit absorbs rounding."""
        if quantity >= self.quantity:
            return self.paid_fen
        return self.paid_fen * quantity // self.quantity


def product_key(sku: str | None, title: str | None = None) -> str | None:
    """A product, as scorecards count it: its SKU, or its line title where the order gave no SKU."""
    key = (sku or title or "").strip()
    return key or None


@dataclass(frozen=True)
class Order:
    """The trusted order facts a claim is judged against; never taken from the buyer's request."""

    order_id: str
    buyer_id: str
    merchant_id: str
    paid_at: datetime
    delivered_at: datetime | None  # when the buyer signed for the goods
    lines: tuple[OrderLine, ...]
    buyer_phone: str = ""
    shipping_address: str = ""

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


@dataclass(frozen=True)
class ExistingClaim:
    """What eligibility needs to know of the claims already made on an order line."""

    claim_id: str
    line_id: str
    quantity: int
    status: Status
    outcome: Outcome | None = None

    @property
    def holds_quantity(self) -> bool:
        """Cancelled, rejected and forfeited claims give their quantity back to the line."""
        return not (
            self.status is Status.CLOSED
            and self.outcome in (Outcome.CANCELLED, Outcome.REJECTED, Outcome.FORFEITED)
        )


@dataclass(frozen=True)
class ClaimRequest:
    """What the buyer asks for. Amounts are not part of it: they come from the order."""

    order_id: str
    line_id: str
    quantity: int
    type: ClaimType
    reason: Reason
    description: str = ""
    urgent: bool = False
    evidence_keys: tuple[str, ...] = field(default_factory=tuple)
