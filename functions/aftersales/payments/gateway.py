"""The refund gateway port. A gateway must be idempotent on ``RefundRequest.idempotency_key``: the same
key twice pays once and answers with the first receipt. Failures raise ``RefundGatewayError``, which the
state machine retries by name (``Refund`` step) before recording ``refund_failed``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class RefundGatewayError(Exception):
    """The gateway did not pay (unreachable, declined, timed out). Safe to retry with the same key."""


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
