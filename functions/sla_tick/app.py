"""Every minute (EventBridge Scheduler): get the deadlines that are due acted on (``aftersales.sla``),
then bring claims and their workflow runs back in step (``aftersales.reconciler``) with the time left.

With a work queue and ``SLA_WORKERS`` set (the template), the due index's shards are split into that
many groups and one message per group is queued: a worker (``sla_worker``) handles each group with its
own time budget. Without them this run handles every shard itself.
"""

from __future__ import annotations

from typing import Any

from aftersales import clock, sla_fanout
from aftersales.events import default_publisher
from aftersales.observability import logger, metrics, tracer
from aftersales.reconciler import reconcile_runs
from aftersales.sla import record_metrics, run_tick
from aftersales.store import default_repository
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

# Stop taking new deadlines this long before the Lambda timeout: one deadline's writes must finish.
SAFETY_MARGIN_MS = 10_000


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now, repo, publisher = clock.now(), default_repository(), default_publisher()
    settings = repo.settings

    def budget() -> float:
        return (context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) / 1000

    if settings.sla_work_queue_url and settings.sla_workers:
        work = sla_fanout.plan(now, shards=settings.due_shards, workers=settings.sla_workers)
        sla_fanout.fan_out(work, queue_url=settings.sla_work_queue_url, region=settings.region)
        metrics.add_metric(name="SlaWorkQueued", unit=MetricUnit.Count, value=len(work))
        result: dict[str, Any] = {"queued": len(work), "shard_groups": [list(w.shards) for w in work]}
        logger.info("sla tick queued", extra=result)
    else:
        report = run_tick(now, repo=repo, publisher=publisher, budget=budget)
        record_metrics(report)
        result = report.as_dict()
        logger.info("sla tick done", extra=result)
    runs = reconcile_runs(now, repo=repo, publisher=publisher, budget=budget)
    metrics.add_metric(name="RunsReconciled", unit=MetricUnit.Count, value=runs.repairs)
    metrics.add_metric(name="RunsEndedWhileOpen", unit=MetricUnit.Count, value=runs.ended_while_open)
    metrics.add_metric(name="RunSyncWaiting", unit=MetricUnit.Count, value=runs.waiting)
    metrics.add_metric(name="RunSyncErrors", unit=MetricUnit.Count, value=runs.errors)
    logger.info("claim runs reconciled", extra=runs.as_dict())
    return {**result, "runs": runs.as_dict()}
