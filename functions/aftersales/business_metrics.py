"""Business figures for the dashboard (claims opened and closed, refunds paid), as CloudWatch EMF.

Each figure is written at once as its own EMF record (``single_metric``), so any handler can count
without flushing a shared ``Metrics``; ``POWERTOOLS_METRICS_DISABLED`` (the local stack) turns them
off.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from aftersales.observability import METRICS_NAMESPACE, SERVICE

# The claim's scorecard counters (``claims._count``) that are also service-wide metrics.
COUNTER_METRICS = {
    "claims_opened": "ClaimsOpened",
    "claims_closed": "ClaimsClosed",
    "refunds": "ClaimsRefunded",
    "disputes": "Disputes",
    "escalations": "Escalations",
}


def _emit(name: str, unit: MetricUnit, value: float) -> None:
    if is_metrics_disabled():  # single_metric itself does not ask
        return
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE},
    ):
        pass


def count(counters: Mapping[str, int]) -> None:
    for key, value in counters.items():
        if key in COUNTER_METRICS and value:
            _emit(COUNTER_METRICS[key], MetricUnit.Count, value)


def refund_paid(amount_fen: int) -> None:
    _emit("RefundsPaid", MetricUnit.Count, 1)
    _emit("RefundsPaidFen", MetricUnit.Count, amount_fen)
