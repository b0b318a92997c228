"""What each action brings: one typed input per action, instead of a free-form payload.

``INPUTS`` says which input an action takes; an action not listed takes the bare ``ActionInput`` (a
note). ``input_for`` builds the right one from plain fields (workflow steps, tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from .errors import DomainError
from .model import Action
from .policy import DeadlineKind


class InvalidInput(DomainError):
    code = "invalid_action_input"


@dataclass(frozen=True, kw_only=True)
class ActionInput:
    """Every action may carry a note for the timeline."""

    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Reasoned(ActionInput):
    """Reject, cancel, dispute: the reason goes on the timeline."""

    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Approval(Reasoned):
    return_address: str | None = None  # default: the policy's return address


@dataclass(frozen=True, kw_only=True)
class ShipmentInput(ActionInput):
    """A parcel handed to a carrier. A repair may be completed without one (collected in person)."""

    carrier: str | None = None
    waybill: str | None = None
    fee_fen: int | None = None  # return shipping the buyer declared
    receipt_key: str | None = None  # the carrier's receipt for it (an evidence upload of the buyer)

    def __post_init__(self) -> None:
        if (self.carrier is None) != (self.waybill is None):
            raise InvalidInput("give carrier and waybill together")
        if self.fee_fen is not None and self.fee_fen < 0:
            raise InvalidInput("a shipping fee cannot be negative")


@dataclass(frozen=True, kw_only=True)
class DeliveryInput(ActionInput):
    """A parcel delivered. ``delivered_at`` (a carrier's delivery time) starts the next stage's clock,
    the merchant's inspection; never later than now. None: now (a person says it arrived)."""

    delivered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class InspectionInput(ActionInput):
    findings: str | None = None
    liability: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteInput(ActionInput):
    quote_fen: int


@dataclass(frozen=True, kw_only=True)
class RulingInput(ActionInput):
    refund_fen: int | None = None  # default: the claimed amount
    payer: str = "merchant"


@dataclass(frozen=True, kw_only=True)
class ExtensionInput(ActionInput):
    due_at: datetime
    reason: str
    deadline: DeadlineKind | None = None  # default: every open merchant deadline of the stage


@dataclass(frozen=True, kw_only=True)
class RatingInput(ActionInput):
    rating: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RefundPaid(ActionInput):
    refund: Mapping[str, Any] = field(default_factory=dict)  # amounts and idempotency key, for the timeline


@dataclass(frozen=True, kw_only=True)
class RefundFailure(ActionInput):
    failure: str = ""
    declined: bool = False  # the gateway said no money moved


@dataclass(frozen=True, kw_only=True)
class ClockPauseInput(ActionInput):
    """Force majeure stops the claim's clock, until ``until`` or until ops resume it."""

    reason: str
    until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class BuyerDelayInput(ActionInput):
    """A finding that the buyer caused a merchant deadline's delay (002 §5.3.2)."""

    reason: str
    deadline: DeadlineKind | None = None  # default: every open deadline that would charge a penalty


@dataclass(frozen=True, kw_only=True)
class OpinionInput(ActionInput):
    """The platform's written opinion on a complaint (001 §二.3)."""

    opinion: str


INPUTS: dict[Action, type[ActionInput]] = {
    Action.APPROVE: Approval,
    Action.REJECT: Reasoned,
    Action.CANCEL: Reasoned,
    Action.DISPUTE: Reasoned,
    Action.SHIP_RETURN: ShipmentInput,
    Action.SHIP_REPLACEMENT: ShipmentInput,
    Action.SHIP_BACK: ShipmentInput,
    Action.COMPLETE_REPAIR: ShipmentInput,
    Action.RETURN_DELIVERED: DeliveryInput,
    Action.OUTBOUND_DELIVERED: DeliveryInput,
    Action.INSPECT_PASS: InspectionInput,
    Action.INSPECT_FAIL: InspectionInput,
    Action.QUOTE_REPAIR: QuoteInput,
    Action.RULING_REFUND: RulingInput,
    Action.EXTEND: ExtensionInput,
    Action.RATE: RatingInput,
    Action.REFUND_SUCCEEDED: RefundPaid,
    Action.REFUND_FAILED: RefundFailure,
    Action.GIVE_OPINION: OpinionInput,
    Action.PAUSE_CLOCK: ClockPauseInput,
    Action.FIND_BUYER_DELAY: BuyerDelayInput,
}


def input_type(action: Action) -> type[ActionInput]:
    return INPUTS.get(action, ActionInput)


def input_for(action: Action, **values: Any) -> ActionInput:
    """The action's input from plain fields; unknown fields or missing required ones are refused."""
    kind = input_type(action)
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidInput(f"{action.value} takes no {', '.join(unknown)}", details={"fields": unknown})
    try:
        return kind(**values)
    except TypeError as exc:
        raise InvalidInput(f"{action.value}: {exc}") from exc


def checked_input(action: Action, given: ActionInput | None) -> ActionInput:
    """The input ``action`` takes, from ``given`` (none: the defaults, where the input has them).

    ``given`` may carry more than the action takes (a buyer's "refuse" gives a reason, which only a
    dispute records): what the action does not take is dropped; what it needs and ``given`` lacks is
    refused.
    """
    kind = input_type(action)
    if given is None:
        return input_for(action)
    if type(given) is kind:
        return given
    shared = {f.name: getattr(given, f.name) for f in fields(kind) if hasattr(given, f.name)}
    try:
        return kind(**shared)
    except TypeError:
        raise InvalidInput(f"{action.value} takes {kind.__name__}, not {type(given).__name__}") from None
