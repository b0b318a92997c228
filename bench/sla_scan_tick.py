"""The tick a team without the due index would write: Scan the whole table for deadline items that are
due, then handle each one exactly as sla_tick does (``sla.handle_due``: the claim item, the conditional
writes). Only how the due deadlines are found differs, so the reads compared are the finding's.

A Scan reads (and DynamoDB charges for) every item of the table, whatever its filter keeps: the items
read are its ``ScannedCount``, not the items it returns.
"""

from __future__ import annotations

from datetime import datetime

from aftersales import claims, sla
from aftersales.clock import iso
from aftersales.events import Event, Publisher
from aftersales.store import Repository
from aftersales.store.models import DeadlineItem


def run_scan_tick(now: datetime, *, repo: Repository, publisher: Publisher) -> sla.TickReport:
    """Every deadline due at ``now``, found by scanning the table page by page (1 MB each)."""
    report = sla.TickReport()
    events: list[Event] = []
    with repo.bound():
        # pynamodb adds the item type to the filter: deadline items whose due time has come
        found = list(DeadlineItem.scan(filter_condition=DeadlineItem.due_at <= iso(now)))
    for item in found:
        report.due += 1
        events += sla.handle_due(item, now, repo, report, claims.policy_for)
    publisher.publish(events)
    return report
