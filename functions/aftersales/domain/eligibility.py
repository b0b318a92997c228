"""May this claim be opened? (POLICY §2.) Either an ``Eligibility`` or ``Ineligible`` with a stable code.

The order is the proof of purchase (002 §7.4): nothing here asks the buyer for a receipt. Amounts come
from the order line, never from the request. That the order belongs to the buyer is checked before
this (the API answers 404), so a refusal here never reveals someone else's order.

Periods are counted in whole Beijing days from the day after sign-for, the way the 7-day no-reason
rule is counted (it ends at 24:00 of the 7th day): a buyer who signs at 23:00 loses no day.
"""

from __future__ import annotations

import calendar as _months
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .calendar import SHANGHAI
from .errors import Ineligible
from .fees import repair_payer, shipping_payer
from .model import (
    REASONS_BY_TYPE,
    ClaimRequest,
    ClaimType,
    ExistingClaim,
    Order,
    OrderLine,
    PartKind,
    Payer,
    Reason,
)
from .policy import Policy

# Stable reason codes: the API returns them as ``code``; apps translate them. Never rename one.
ORDER_MISMATCH = "order_mismatch"
REASON_NOT_ALLOWED_FOR_TYPE = "reason_not_allowed_for_type"
LINE_NOT_FOUND = "line_not_found"
INVALID_QUANTITY = "invalid_quantity"
TOO_MANY_CLAIMS = "too_many_claims"
QUANTITY_EXCEEDS_AVAILABLE = "quantity_exceeds_available"
NOT_DELIVERED = "not_delivered"
CATEGORY_EXCLUDED_FROM_NO_REASON = "category_excluded_from_no_reason"
NO_REASON_WINDOW_EXPIRED = "no_reason_window_expired"
QUALITY_WINDOW_EXPIRED = "quality_window_expired"
WARRANTY_EXPIRED = "warranty_expired"

# Every code with its meaning, in the order the checks run (docs/policy.md is generated from this).
REASON_CODES: dict[str, str] = {
    ORDER_MISMATCH: "the request names another order than the one it is judged against",
    REASON_NOT_ALLOWED_FOR_TYPE: "the reason does not fit the claim type (e.g. no_reason for a repair)",
    LINE_NOT_FOUND: "the order has no such line (a complaint may name no line at all)",
    INVALID_QUANTITY: "quantity below 1, or not 0 for a complaint (complaints claim no goods)",
    TOO_MANY_CLAIMS: "the line already has the maximum number of claims (any status, any outcome)",
    QUANTITY_EXCEEDS_AVAILABLE: "more units than bought minus those held by the line's other claims",
    NOT_DELIVERED: "the goods have not been signed for yet, and the claim needs them delivered",
    CATEGORY_EXCLUDED_FROM_NO_REASON: "the category is excluded from the 7-day no-reason return",
    NO_REASON_WINDOW_EXPIRED: "the 7-day no-reason window after sign-for is over",
    QUALITY_WINDOW_EXPIRED: "the window for quality / transit / wrong-item claims after sign-for is over",
    WARRANTY_EXPIRED: "a free warranty repair was asked for after the warranty ended (paid_repair is open)",
}

# Reasons for which a refund-only claim may precede the sign-for record: the parcel never came, or the
# carrier's record is what the buyer disputes.
_NO_DELIVERY_NEEDED = frozenset({Reason.NOT_RECEIVED, Reason.MISSING_ITEM})


@dataclass(frozen=True)
class Eligibility:
    """What the claim is entitled to, decided from the order and the policy, stamped with its version."""

    line_id: str
    quantity: int
    amount_fen: int  # from the order line; 0 for a complaint
    shipping_payer: Payer
    repair_payer: Payer  # Payer.NONE unless the claim is a repair
    in_warranty: bool | None  # None unless the claim is a repair
    warranty_ends_at: datetime | None
    window_ends_at: datetime | None  # None: no time limit applies (complaints, undelivered refund-only)
    policy_version: str


def check_eligibility(
    request: ClaimRequest,
    order: Order,
    existing: Sequence[ExistingClaim],
    policy: Policy,
    now: datetime,
) -> Eligibility:
    """Decide whether ``request`` may become a claim ``now``; raise ``Ineligible`` with a code if not.

    ``existing`` holds the order's claims so far (any line, any status); only those on the requested
    line count.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if request.order_id != order.order_id:
        raise Ineligible("the claim names a different order", code=ORDER_MISMATCH)
    if request.reason not in REASONS_BY_TYPE[request.type]:
        allowed = sorted(r.value for r in REASONS_BY_TYPE[request.type])
        raise Ineligible(
            f"{request.reason.value} is not a reason for a {request.type.value} claim; "
            f"allowed: {', '.join(allowed)}",
            code=REASON_NOT_ALLOWED_FOR_TYPE,
            details={"type": request.type.value, "reason": request.reason.value, "allowed": allowed},
        )
    if request.type is ClaimType.COMPLAINT:
        return _complaint(request, order, existing, policy)

    line = _line(request, order)
    _check_claim_count(line, existing, policy)
    amount_fen = _amount(line, request.quantity, _held(line, existing))
    category = line.category
    delivered_at = order.delivered_at
    ship = shipping_payer(request.type, request.reason, category, policy)

    if request.type is ClaimType.REPAIR:
        return _repair(request, line, amount_fen, delivered_at, policy, now, ship)

    if request.reason is Reason.NO_REASON and category in policy.no_reason_excluded_categories:
        raise Ineligible(
            f"{category} goods cannot be returned without a reason; a quality problem still can be",
            code=CATEGORY_EXCLUDED_FROM_NO_REASON,
            details={"category": category},
        )
    if delivered_at is None:
        if request.type is ClaimType.REFUND_ONLY and request.reason in _NO_DELIVERY_NEEDED:
            return _eligible(request, line, amount_fen, ship, policy, window_ends_at=None)
        raise Ineligible("the goods have not been signed for yet", code=NOT_DELIVERED)

    ends = _days_after_sign_for(delivered_at, policy.window_days(request.type, request.reason))
    if now >= ends:
        no_reason = request.reason is Reason.NO_REASON
        raise Ineligible(
            f"the {'7-day no-reason' if no_reason else 'quality'} window ended at {_iso(ends)}",
            code=NO_REASON_WINDOW_EXPIRED if no_reason else QUALITY_WINDOW_EXPIRED,
            details={"window_ends_at": _iso(ends)},
        )
    return _eligible(request, line, amount_fen, ship, policy, window_ends_at=ends)


def add_months(day: date, months: int) -> date:
    """Calendar months; a day the target month lacks clamps to its last day (31 Jan + 1 → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _months.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def warranty_months(line: OrderLine, policy: Policy) -> int:
    """Whole unit 12 months, parts and consumables 3 months by default (001 §二.2)."""
    months = {
        PartKind.UNIT: policy.warranty.unit_months,
        PartKind.PART: policy.warranty.part_months,
        PartKind.CONSUMABLE: policy.warranty.consumable_months,
    }
    return months[line.part_kind]


def warranty_ends_at(delivered_at: datetime, months: int) -> datetime:
    """24:00 Beijing time of the sign-for date plus ``months`` calendar months."""
    signed = delivered_at.astimezone(SHANGHAI).date()
    return _end_of_local_day(add_months(signed, months))


def _days_after_sign_for(delivered_at: datetime, days: int) -> datetime:
    """24:00 Beijing time of the ``days``-th day after sign-for (the count starts the next day)."""
    signed = delivered_at.astimezone(SHANGHAI).date()
    return _end_of_local_day(signed + timedelta(days=days))


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(request: ClaimRequest, order: Order) -> OrderLine:
    line = order.line(request.line_id)
    if line is None:
        raise Ineligible(
            f"order {order.order_id} has no line {request.line_id}",
            code=LINE_NOT_FOUND,
            details={"line_id": request.line_id},
        )
    return line


def _check_claim_count(line: OrderLine, existing: Sequence[ExistingClaim], policy: Policy) -> None:
    """Every claim on the line counts, whatever became of it: the cap stops claim spamming."""
    count = sum(1 for claim in existing if claim.line_id == line.line_id)
    if count >= policy.max_claims_per_line:
        raise Ineligible(
            f"line {line.line_id} already has {count} claim(s); the limit is {policy.max_claims_per_line}",
            code=TOO_MANY_CLAIMS,
            details={"claims": count, "max": policy.max_claims_per_line},
        )


def _held(line: OrderLine, existing: Sequence[ExistingClaim]) -> int:
    """Units taken by the line's claims still in play; cancelled/rejected/forfeited ones gave theirs back."""
    return sum(c.quantity for c in existing if c.line_id == line.line_id and c.holds_quantity)


def _amount(line: OrderLine, quantity: int, held: int) -> int:
    """The paid amount of these units, counted on top of the units already held.

    A line claimed in several parts then adds up to exactly what was paid: the claim that completes the
    line absorbs the rounding instead of leaving the buyer a fen short.
    """
    if quantity < 1:
        raise Ineligible("quantity must be at least 1", code=INVALID_QUANTITY)
    available = max(line.quantity - held, 0)
    if quantity > available:
        raise Ineligible(
            f"only {available} of {line.quantity} unit(s) of line {line.line_id} can still be claimed",
            code=QUANTITY_EXCEEDS_AVAILABLE,
            details={"requested": quantity, "available": available, "bought": line.quantity},
        )
    return line.amount_for(held + quantity) - line.amount_for(held)


def _complaint(
    request: ClaimRequest, order: Order, existing: Sequence[ExistingClaim], policy: Policy
) -> Eligibility:
    """A complaint needs no delivery and has no window; it claims no goods and no money."""
    if request.quantity != 0:
        raise Ineligible("a complaint claims no goods: quantity must be 0", code=INVALID_QUANTITY)
    if request.line_id:
        _check_claim_count(_line(request, order), existing, policy)
    return Eligibility(
        line_id=request.line_id,
        quantity=0,
        amount_fen=0,
        shipping_payer=Payer.NONE,
        repair_payer=Payer.NONE,
        in_warranty=None,
        warranty_ends_at=None,
        window_ends_at=None,
        policy_version=policy.version,
    )


def _repair(
    request: ClaimRequest,
    line: OrderLine,
    amount_fen: int,
    delivered_at: datetime | None,
    policy: Policy,
    now: datetime,
    ship: Payer,
) -> Eligibility:
    """Warranty runs from delivery; a defect out of warranty is refused with paid repair suggested."""
    if delivered_at is None:
        raise Ineligible("the goods have not been signed for yet", code=NOT_DELIVERED)
    ends = warranty_ends_at(delivered_at, warranty_months(line, policy))
    in_warranty = now < ends
    if request.reason is Reason.QUALITY_DEFECT and not in_warranty:
        raise Ineligible(
            f"the warranty ended at {_iso(ends)}; a paid repair (reason paid_repair) can still be requested",
            code=WARRANTY_EXPIRED,
            details={"warranty_ends_at": _iso(ends), "suggested_reason": Reason.PAID_REPAIR.value},
        )
    return Eligibility(
        line_id=line.line_id,
        quantity=request.quantity,
        amount_fen=amount_fen,
        shipping_payer=ship,
        repair_payer=repair_payer(
            request.reason, in_warranty, special_category=line.category in policy.special_categories
        ),
        in_warranty=in_warranty,
        warranty_ends_at=ends,
        window_ends_at=ends if request.reason is Reason.QUALITY_DEFECT else None,
        policy_version=policy.version,
    )


def _eligible(
    request: ClaimRequest,
    line: OrderLine,
    amount_fen: int,
    ship: Payer,
    policy: Policy,
    *,
    window_ends_at: datetime | None,
) -> Eligibility:
    return Eligibility(
        line_id=line.line_id,
        quantity=request.quantity,
        amount_fen=amount_fen,
        shipping_payer=ship,
        repair_payer=Payer.NONE,
        in_warranty=None,
        warranty_ends_at=None,
        window_ends_at=window_ends_at,
        policy_version=policy.version,
    )
