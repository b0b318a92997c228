"""The sandbox refund gateway: pays nothing, records each refund as a REFUND item in the table.

Idempotency: the item is written on condition it does not exist (key ``REFUND#<idempotency key>``);
a retry with the same key reads the first receipt back instead of paying again.

Fault injection (tests, demos, the local stack): the ``SANDBOX#payments`` / ``CONTROL`` item's
``fail_next`` counts the refund calls still to fail unconfirmed (``RefundGatewayError``: an outage),
``decline_next`` those still to be refused (``RefundDeclined``: no money moved); each failing call
decrements its counter atomically. Set them with ``SandboxGateway.fail_next_refunds(n)`` and
``decline_next_refunds(n)`` (``n`` large: failing for good; 0: healthy).
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from aftersales.clock import iso, now
from aftersales.observability import logger
from aftersales.store.models import RefundItem, SandboxControlItem, claim_pk

from .gateway import RefundDeclined, RefundGatewayError, RefundReceipt, RefundRequest

CONTROL_KEY = ("SANDBOX#payments", "CONTROL")


class SandboxGateway:
    def refund(self, request: RefundRequest) -> RefundReceipt:
        paid = self._paid(request)
        if paid is not None:
            logger.info("refund already paid for this key", extra={"claim_id": request.claim_id})
            return paid
        if self._consume(SandboxControlItem.decline_next):
            raise RefundDeclined("sandbox: injected refusal, nothing paid")
        if self._consume(SandboxControlItem.fail_next):
            raise RefundGatewayError("sandbox: injected refund failure")
        at = now()
        item = RefundItem(
            claim_pk(request.claim_id),
            f"REFUND#{request.idempotency_key}",
            claim_id=request.claim_id,
            idempotency_key=request.idempotency_key,
            amount_fen=request.amount_fen,
            reference=f"sandbox-{request.idempotency_key}",
            paid_at=iso(at),
        )
        try:
            item.save(condition=RefundItem.sk.does_not_exist())
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise RefundGatewayError(f"sandbox: {exc}") from exc
            paid = self._paid(request)  # a concurrent attempt with the same key won the write
            if paid is None:
                raise
            return paid
        return _receipt(item, replayed=False)

    @staticmethod
    def _paid(request: RefundRequest) -> RefundReceipt | None:
        key = f"REFUND#{request.idempotency_key}"
        for item in RefundItem.query(claim_pk(request.claim_id), RefundItem.sk == key, consistent_read=True):
            return _receipt(item, replayed=True)
        return None

    @staticmethod
    def _consume(counter: Any) -> bool:
        control = SandboxControlItem(*CONTROL_KEY)
        try:
            control.update(actions=[counter.add(-1)], condition=counter > 0)
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def fail_next_refunds(count: int) -> None:
        """Make the next ``count`` refund calls fail unconfirmed (0: none)."""
        SandboxControlItem(*CONTROL_KEY).update(actions=[SandboxControlItem.fail_next.set(count)])

    @staticmethod
    def decline_next_refunds(count: int) -> None:
        """Make the next ``count`` refund calls be refused, nothing paid (0: none)."""
        SandboxControlItem(*CONTROL_KEY).update(actions=[SandboxControlItem.decline_next.set(count)])

    @staticmethod
    def refunds_of(claim_id: str) -> list[RefundItem]:
        return list(RefundItem.query(claim_pk(claim_id), RefundItem.sk.startswith("REFUND#")))


def _receipt(item: RefundItem, *, replayed: bool) -> RefundReceipt:
    return RefundReceipt(
        idempotency_key=item.idempotency_key,
        amount_fen=int(item.amount_fen),
        reference=item.reference,
        paid_at=item.paid_at,
        replayed=replayed,
    )
