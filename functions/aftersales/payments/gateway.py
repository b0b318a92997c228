"""The refund gateway port. A gateway must be idempotent on ``RefundRequest.idempotency_key``: the same
key twice pays once and answers with the first receipt. Failures raise ``RefundGatewayError``, which the
state machine retries by name (``Refund`` step) before recording ``refund_failed``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class RefundGatewayError(Exception):
    """The refund was not confirmed (unreachable, timed out, an outage): money may or may not have
    moved, so every retry uses the same key and the gateway pays at most once."""


class RefundDeclined(RefundGatewayError):
    """The gateway refused the refund and says no money moved (a closed account, a limit): retrying
    with the same key would only replay the refusal, so the next attempt gets a new key."""


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    claim_id: str
    order_id: str
    buyer_id: str
    amount_fen: int


@dataclass(frozen=True)
class RefundReceipt:
    idempotency_key: str
    amount_fen: int
    reference: str  # the gateway's id of the payment
    paid_at: str
    replayed: bool = False  # True when this key had already paid: nothing was paid this time


class RefundGateway(Protocol):
    def refund(self, request: RefundRequest) -> RefundReceipt: ...


def default_gateway() -> RefundGateway:
    """The gateway of this deployment. Only the sandbox exists so far; a real provider plugs in here."""
    from .sandbox import SandboxGateway

    return SandboxGateway()
