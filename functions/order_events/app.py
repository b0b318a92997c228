"""EventBridge ``order.delivered`` from the order system: store the order's trusted facts."""

from __future__ import annotations

from typing import Any

from aftersales import clock, orders
from aftersales.api.schemas import OrderDeliveredDetail
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = OrderDeliveredDetail.model_validate(event.get("detail") or {})
    stored = orders.import_order(detail.to_order(detail.order_id), source="order.delivered", now=clock.now())
    logger.info("order stored", extra={"order_id": stored.order_id})
    return {"order_id": stored.order_id, "version": stored.version}
