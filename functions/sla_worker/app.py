"""SQS consumer of sla_tick's work (``aftersales.sla_fanout``): each message names a group of due-index
shards; ``sla.run_tick`` handles the deadlines due there, within this invocation's own time budget.

A message whose handling raises (the table unreachable) is reported alone and comes back after the
visibility timeout; after two receives it is in the dead-letter queue. Handling a group twice, or while
another worker handles it, acts on nothing twice (every effect is a conditional write). A run cut short
by its budget is not a failure: the next minute's worker continues (``SlaTickIncomplete``).
"""

from __future__ import annotations

from typing import Any

from aftersales import clock
from aftersales.events import default_publisher
from aftersales.observability import logger, metrics, tracer
from aftersales.sla import record_metrics, run_tick
from aftersales.sla_fanout import ShardWork
from aftersales.store import default_repository
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

SAFETY_MARGIN_MS = 10_000  # stop taking deadlines this long before the timeout, as the schedule's run

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    work = ShardWork.from_json(record.body)
    now = clock.now()  # what is due when the worker runs (a redelivered message is later than ``at``)

    def budget() -> float:
        return (lambda_context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) / 1000

    repo, publisher = default_repository(), default_publisher()
    report = run_tick(now, repo=repo, publisher=publisher, budget=budget, shards=work.shards)
    record_metrics(report)
    delay = max((now - work.at).total_seconds(), 0.0)  # queued → started: a backlog shows here
    metrics.add_metric(name="SlaWorkDelay", unit=MetricUnit.Seconds, value=delay)
    result = {"group": work.group, "groups": work.groups, "shards": list(work.shards), **report.as_dict()}
    logger.info("sla work done", extra=result)
    return result


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim ids
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
