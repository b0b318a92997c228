"""Every minute (EventBridge Scheduler): act on the deadlines that are due (``aftersales.sla``), then
bring claims and their workflow runs back in step (``aftersales.reconciler``) with the time left."""

from __future__ import annotations

from typing import Any

from aftersales import clock
from aftersales.events import default_publisher
from aftersales.observability import logger, metrics, tracer
from aftersales.reconciler import reconcile_runs
from aftersales.sla import run_tick
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

    def budget() -> float:
        return (context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) / 1000

    report = run_tick(now, repo=repo, publisher=publisher, budget=budget)
    metrics.add_metric(name="OverdueDeadlines", unit=MetricUnit.Count, value=report.overdue)
    metrics.add_metric(name="PenaltiesAccruedFen", unit=MetricUnit.Count, value=report.penalties_fen)
    metrics.add_metric(name="PenaltyDaysAccrued", unit=MetricUnit.Count, value=report.penalty_days)
    metrics.add_metric(name="SlaActionsTaken", unit=MetricUnit.Count, value=report.actions)
    metrics.add_metric(name="SlaTickErrors", unit=MetricUnit.Count, value=report.errors)
    metrics.add_metric(name="SlaTickIncomplete", unit=MetricUnit.Count, value=0 if report.complete else 1)
    for lag in report.lag_seconds[:100]:  # EMF takes at most 100 values per metric
        metrics.add_metric(name="DueToActionLag", unit=MetricUnit.Seconds, value=lag)
    result = report.as_dict()
    logger.info("sla tick done", extra=result)
    runs = reconcile_runs(now, repo=repo, publisher=publisher, budget=budget)
    metrics.add_metric(name="RunsReconciled", unit=MetricUnit.Count, value=runs.repairs)
    metrics.add_metric(name="RunsEndedWhileOpen", unit=MetricUnit.Count, value=runs.ended_while_open)
    metrics.add_metric(name="RunSyncWaiting", unit=MetricUnit.Count, value=runs.waiting)
    metrics.add_metric(name="RunSyncErrors", unit=MetricUnit.Count, value=runs.errors)
    logger.info("claim runs reconciled", extra=runs.as_dict())
    return {**result, "runs": runs.as_dict()}
