"""Refunds: the gateway port the refund Lambda pays through, and the sandbox gateway behind it."""

from .gateway import (
    RefundDeclined,
    RefundGateway,
    RefundGatewayError,
    RefundReceipt,
    RefundRequest,
    default_gateway,
)

__all__ = [
    "RefundDeclined",
    "RefundGateway",
    "RefundGatewayError",
    "RefundReceipt",
    "RefundRequest",
    "default_gateway",
]
