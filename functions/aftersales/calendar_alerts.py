"""Say so when a deadline was counted without the State Council's notice for a year on the way.

The domain records the calendar layer on each deadline (``domain.calendar.CalendarLayer``); the service
calls ``report_unofficial_calendars`` after committing the deadlines it opened, so that ops see a
warning in the logs and a metric (``DeadlinesOnProvisionalCalendar`` / ``DeadlinesOnWeekdayFallback``,
dimension ``kind``) and can add the year's calendar file before merchants are held to a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from aftersales.domain.calendar import CalendarLayer
from aftersales.domain.deadlines import Deadline
from aftersales.observability import METRICS_NAMESPACE, SERVICE, logger

METRIC_NAMES = {
    CalendarLayer.PROVISIONAL: "DeadlinesOnProvisionalCalendar",
    CalendarLayer.WEEKDAYS: "DeadlinesOnWeekdayFallback",
}


def report_unofficial_calendars(claim_id: str, deadlines: Iterable[Deadline], opened_at: datetime) -> int:
    """Warn once for each deadline opened at ``opened_at`` on a provisional or Monday-Friday calendar.

    Deadlines opened earlier (met or extended by this change) were reported when they opened. Returns
    how many were reported. Never raises: the claim change is already committed.
    """
    reported = 0
    for deadline in deadlines:
        layer = deadline.calendar_layer
        if layer is None or layer.official or not deadline.is_open or deadline.started_at != opened_at:
            continue
        reported += 1
        try:
            logger.warning(
                "deadline computed on an unofficial calendar",
                extra={
                    "claim_id": claim_id,
                    "deadline": deadline.kind.value,
                    "calendar_layer": layer.value,
                    "due_at": deadline.due_at.isoformat(),
                    "calendar": layer.description,
                },
            )
            with single_metric(
                name=METRIC_NAMES[layer],
                unit=MetricUnit.Count,
                value=1,
                namespace=METRICS_NAMESPACE,
                default_dimensions={"service": SERVICE},
            ) as metric:
                metric.add_dimension(name="kind", value=deadline.kind.value)
        except Exception:
            logger.exception("calendar warning not emitted", extra={"claim_id": claim_id})
    return reported
