"""The webhook's one service call: authenticate a carrier's delivery, normalise it, enqueue it.

No DynamoDB here: the request path only reads the carriers' secrets (SSM Parameter Store, cached by
Powertools for ``SECRETS_MAX_AGE``) and sends to the queue; ``logistics_events`` does the rest. A
carrier is known when it has a secret under ``$CARRIER_SECRETS_PATH`` (``<path>/<carrier>``,
SecureString); any other name is a 404.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters

from aftersales.config import ConfigurationError
from aftersales.observability import logger
from aftersales.process import per_process
from aftersales.service_errors import NotFound

from . import adapter_for
from .model import ParcelEvent, headers_of

SECRETS_MAX_AGE = 300  # seconds; a rotated or new carrier secret is used within five minutes
CARRIER_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
SQS_BATCH = 10  # SendMessageBatch takes at most ten entries


class UnknownCarrier(NotFound):
    code = "unknown_carrier"


@dataclass(frozen=True)
class Accepted:
    carrier: str
    events: list[ParcelEvent]


@per_process
def _sqs(region: str | None) -> Any:
    return boto3.client("sqs", region_name=region)


@per_process
def _secrets() -> parameters.SSMProvider:
    """The secrets' provider (its own client and cache), built once per process like every client."""
    return parameters.SSMProvider()


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def carrier_secret(carrier: str) -> str:
    if not CARRIER_NAME.match(carrier):
        raise UnknownCarrier("no such carrier", details={"carrier": carrier[:32]})
    path = _setting("CARRIER_SECRETS_PATH").rstrip("/")
    secrets = _secrets().get_multiple(path, decrypt=True, max_age=SECRETS_MAX_AGE, recursive=False)
    secret = secrets.get(carrier) if isinstance(secrets, Mapping) else None
    if not secret:
        raise UnknownCarrier("no such carrier", details={"carrier": carrier})
    return str(secret)


def accept(carrier: str, raw: bytes, headers: Mapping[str, str], now: datetime) -> Accepted:
    """Verify (401 ``BadSignature``), parse (400 ``BadPayload``), enqueue; ``UnknownCarrier`` (404)."""
    headers = headers_of(headers)
    secret = carrier_secret(carrier)
    adapter = adapter_for(carrier)
    adapter.verify(raw, headers, secret, now=now)
    events: list[ParcelEvent] = adapter.parse(raw, headers, carrier=carrier)
    enqueue(events)
    logger.info("carrier delivery accepted", extra={"carrier": carrier, "events": len(events)})
    return Accepted(carrier, events)


def enqueue(events: list[ParcelEvent]) -> None:
    url = _setting("CARRIER_EVENTS_QUEUE_URL")
    client = _sqs(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    for start in range(0, len(events), SQS_BATCH):
        batch = events[start : start + SQS_BATCH]
        answer = client.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": e.model_dump_json()} for i, e in enumerate(batch)],
        )
        if answer.get("Failed"):
            # The carrier gets a 5xx and sends again; what was queued is deduplicated downstream.
            raise RuntimeError(f"{len(answer['Failed'])} carrier events not queued: {answer['Failed'][0]}")
