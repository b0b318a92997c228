"""Business events on the service's EventBridge bus (``claim.overdue``, ``penalty.accrued``, ...), for
notifications and anything else that listens. Publishing is a port: ``EventBridgePublisher`` sends
PutEvents in batches of 10 (the API's limit); ``RecordingPublisher`` keeps them in memory when no bus
is configured (tests, and the local stack without EventBridge).

Events are sent after the change they describe is committed, so a listener never hears of a change
that did not happen. Each carries an ``event_key`` that is the same on a re-send: listeners dedupe on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import boto3

from aftersales.clock import iso
from aftersales.config import Settings, get_settings
from aftersales.observability import logger
from aftersales.process import per_process

SOURCE = "aftersales"
MAX_BATCH = 10  # PutEvents accepts at most 10 entries per call
MAX_SEND_ATTEMPTS = 3


@dataclass(frozen=True)
class Event:
    detail_type: str  # e.g. "claim.overdue"
    detail: dict[str, Any]
    at: datetime


class Publisher(Protocol):
    def publish(self, events: Iterable[Event]) -> None: ...


@dataclass
class RecordingPublisher:
    """Keeps what would have been sent; ``of(detail_type)`` for assertions."""

    events: list[Event] = field(default_factory=list)

    def publish(self, events: Iterable[Event]) -> None:
        self.events.extend(events)

    def of(self, detail_type: str) -> list[Event]:
        return [event for event in self.events if event.detail_type == detail_type]


@per_process
def _events_client(region: str) -> Any:
    return boto3.client("events", region_name=region)


class EventBridgePublisher:
    def __init__(self, bus_name: str, region: str):
        self.bus_name = bus_name
        self.region = region

    def publish(self, events: Iterable[Event]) -> None:
        entries = [self._entry(event) for event in events]
        for start in range(0, len(entries), MAX_BATCH):
            self._send(entries[start : start + MAX_BATCH])

    def _entry(self, event: Event) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, separators=(",", ":"), default=str),
            "EventBusName": self.bus_name,
            "Time": event.at,
        }

    def _send(self, batch: list[dict[str, Any]]) -> None:
        # PutEvents can fail some entries of a batch (throttling): resend only those, a few times.
        for _ in range(MAX_SEND_ATTEMPTS):
            answer = _events_client(self.region).put_events(Entries=batch)
            if not answer.get("FailedEntryCount"):
                return
            batch = [
                entry
                for entry, result in zip(batch, answer["Entries"], strict=True)
                if result.get("ErrorCode")
            ]
        # A notification is not worth failing the change it reports: the timeline has it anyway.
        logger.error(
            "events not published",
            extra={"count": len(batch), "detail_types": sorted({entry["DetailType"] for entry in batch})},
        )


def default_publisher(settings: Settings | None = None) -> Publisher:
    """The service bus when one is configured, else an in-memory recorder."""
    settings = settings or get_settings()
    if settings.event_bus_name:
        return EventBridgePublisher(settings.event_bus_name, settings.region)
    return RecordingPublisher()


def event(detail_type: str, at: datetime, **detail: Any) -> Event:
    return Event(detail_type, {"at": iso(at), **detail}, at)
