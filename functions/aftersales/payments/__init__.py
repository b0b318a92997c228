"""Refunds: the gateway port the refund Lambda pays through, and the sandbox gateway behind it."""

from .gateway import RefundGateway, RefundGatewayError, RefundReceipt, RefundRequest, default_gateway

__all__ = ["RefundGateway", "RefundGatewayError", "RefundReceipt", "RefundRequest", "default_gateway"]
