"""SQS consumer of carrier events (``aftersales.carrier_events``): Powertools ``BatchProcessor`` with a
pydantic record model, partial batch responses. A record that fails (its body not an event, or its
handling) is reported alone and comes back after the visibility timeout; after five receives it is
in the dead-letter queue (docs/operations.md). The other records of the batch are done."""

from __future__ import annotations

from typing import Any

from aftersales import carrier_events, clock
from aftersales.logistics import ParcelEvent
from aftersales.observability import logger, metrics, tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json


class ParcelEventRecord(SqsRecordModel):
    body: Json[ParcelEvent]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=ParcelEventRecord)


def record_handler(record: ParcelEventRecord) -> str:
    handled = carrier_events.handle(record.body, clock.now())
    metrics.add_metric(name=f"CarrierEvents_{handled.outcome}", unit=MetricUnit.Count, value=1)
    return handled.outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(
        name="CarrierEventsReceived", unit=MetricUnit.Count, value=len(event.get("Records") or [])
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
