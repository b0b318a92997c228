"""Settings read from the environment once per cold start and validated there, not at import time."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aftersales.process import per_process


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    idempotency_table_name: str = Field(min_length=1)
    evidence_bucket: str = ""
    state_machine_arn: str = ""
    event_bus_name: str = ""  # the service's EventBridge bus; empty: events are recorded, not sent
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None  # the local stack's endpoint; None on AWS
    due_shards: int = Field(default=16, ge=1, le=1000)
    # Shards of a merchant's scorecard day item (decision 0050): concurrent claims of one merchant
    # write different items in their transactions, so they rarely conflict.
    stat_shards: int = Field(default=4, ge=1, le=64)
    # sla_tick at scale (docs/sla.md): the schedule queues one message per group of due-index shards on
    # this queue and a worker per message handles its group; unset or 0 workers: the schedule's own run
    # handles every shard.
    sla_work_queue_url: str = ""
    sla_workers: int = Field(default=0, ge=0, le=1000)
    # How long a claim change may wait for its workflow run to follow before the reconciler checks
    # the run (platform default, docs/policy.md §9).
    run_sync_grace_seconds: int = Field(default=120, ge=10, le=3600)
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    evidence_url_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # The one claim that names the caller's role (docs/decisions/0025): Cognito groups unless the
    # deployment declares its custom:role attribute read-only for app clients.
    role_claim: Literal["cognito:groups", "custom:role"] = "cognito:groups"
    merchant_id_claim: str = Field(default="custom:merchant_id", min_length=1)
    max_json_depth: int = Field(default=32, ge=2, le=256)
    # How long a process reuses the current policy layer versions it read for new claims (decision
    # 0045): a save is used by every new claim at most this long after it. 0: read them every time.
    policy_heads_max_age_seconds: int = Field(default=30, ge=0, le=3600)


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: a deployment error, never a client's."""


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


@per_process
def get_settings() -> Settings:
    """The settings of this process, read and validated on first use."""
    raw = {
        "table_name": _env("TABLE_NAME"),
        "idempotency_table_name": _env("IDEMPOTENCY_TABLE_NAME"),
        "evidence_bucket": _env("EVIDENCE_BUCKET"),
        "state_machine_arn": _env("STATE_MACHINE_ARN"),
        "event_bus_name": _env("EVENT_BUS_NAME"),
        "region": _env("AWS_REGION") or _env("AWS_DEFAULT_REGION"),
        "dynamodb_endpoint": _env("AWS_ENDPOINT_URL_DYNAMODB") or _env("AWS_ENDPOINT_URL"),
        "due_shards": _env("DUE_SHARDS"),
        "stat_shards": _env("STAT_SHARDS"),
        "sla_work_queue_url": _env("SLA_WORK_QUEUE_URL"),
        "sla_workers": _env("SLA_WORKERS"),
        "run_sync_grace_seconds": _env("RUN_SYNC_GRACE_SECONDS"),
        "max_body_bytes": _env("MAX_BODY_BYTES"),
        "policy_heads_max_age_seconds": _env("POLICY_HEADS_MAX_AGE_SECONDS"),
        "idempotency_ttl_seconds": _env("IDEMPOTENCY_TTL_SECONDS"),
        "role_claim": _env("ROLE_CLAIM"),
        "merchant_id_claim": _env("MERCHANT_ID_CLAIM"),
    }
    try:
        return Settings.model_validate({key: value for key, value in raw.items() if value is not None})
    except ValidationError as exc:
        raise ConfigurationError(f"invalid environment: {exc}") from exc
