"""Where the stack is: its resources found once, the clients and the repository to read them.

The local stack of a state directory by default (its ``stack.json``), or a deployed stack by name
(``--stack``; standard AWS credentials and region; ``--endpoint-url`` for another endpoint).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from infra.local.stack_info import DEFAULT_STACK_NAME, LOCAL_CREDENTIALS, StackError, StackInfo, read_instant

CLAIM_TABLE = "ClaimsTable"
CLAIM_STATE_MACHINE = "ClaimStateMachine"
DEFAULT_DUE_SHARDS = 16
QUEUE_TYPE = "AWS::SQS::Queue"


class OpsError(RuntimeError):
    """The command cannot do its job; the message says what to do."""


# --- where is the stack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One stack's resources and how to reach them."""

    stack_name: str
    region: str
    endpoint_url: str | None  # None: AWS itself
    table_name: str
    state_machine_arn: str
    due_shards: int = DEFAULT_DUE_SHARDS
    queues: dict[str, str] = field(default_factory=dict)  # logical id → queue URL
    clock_file: str | None = None  # the local stack's manual clock

    @property
    def local(self) -> bool:
        """An endpoint on this machine is moto: it gets dummy credentials, never real ones."""
        return _is_local(self.endpoint_url)

    def client(self, service: str) -> Any:
        return _client(service, self.endpoint_url, self.region)

    def now(self) -> datetime:
        """The stack's time: the local manual clock when it has one."""
        if self.clock_file and Path(self.clock_file).exists():
            return read_instant(Path(self.clock_file))
        return datetime.now(UTC)

    def describe(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "region": self.region, "endpoint_url": self.endpoint_url}


def _is_local(endpoint_url: str | None) -> bool:
    host = urlparse(endpoint_url).hostname if endpoint_url else None
    return host in {"127.0.0.1", "localhost", "::1"}


def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    credentials: dict[str, str] = {}
    if _is_local(endpoint_url):
        credentials = {
            "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **credentials)  # type: ignore[call-overload]


NO_STACK_HINT = (
    "start one here with `make local` (or `aftersales local up`), "
    "or point at a deployed one with `--stack NAME` (and `--region`)"
)


def resolve(
    *,
    state_dir: Path | None = None,
    endpoint_url: str | None = None,
    stack: str | None = None,
    region: str | None = None,
) -> Target:
    """The local stack of ``state_dir`` by default; ``--stack``/``--endpoint-url``: that stack in
    CloudFormation (resources by logical id, so any stack name and any generated names work)."""
    clock_file: str | None = None
    state_machine: str | None = None
    if stack is None and endpoint_url is None:
        try:
            info = StackInfo.read(state_dir)
        except StackError as exc:
            raise OpsError(f"{exc}; or point at a deployed stack with `--stack NAME`") from None
        endpoint_url, stack, region = info.endpoint_url, info.stack_name, info.region
        clock_file = info.clock_file
        # The local stack runs its own copy of the machine (moto cannot execute CloudFormation's).
        state_machine = info.state_machines.get(CLAIM_STATE_MACHINE)
    stack = stack or DEFAULT_STACK_NAME
    region = (
        region or boto3.session.Session().region_name or ("us-east-1" if _is_local(endpoint_url) else None)
    )
    if not region:
        raise OpsError("no AWS region: give --region or set AWS_REGION")
    where = endpoint_url or f"AWS {region}"
    cfn = _client("cloudformation", endpoint_url, region)
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise OpsError(f"no stack {stack!r} at {where}: {NO_STACK_HINT}") from None
        raise OpsError(f"cannot read stack {stack!r} at {where}: {exc}") from None
    except NoCredentialsError:
        raise OpsError("no AWS credentials: configure them (aws configure, AWS_PROFILE)") from None
    except (BotoCoreError, NoRegionError) as exc:
        raise OpsError(f"cannot reach {where}: {exc}; {NO_STACK_HINT}") from None
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    missing = [name for name in (CLAIM_TABLE, CLAIM_STATE_MACHINE) if name not in physical]
    if missing:
        raise OpsError(f"stack {stack!r} at {where} is not an aftersales stack: no {', '.join(missing)}")
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in described.get("Parameters") or []}
    queues = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == QUEUE_TYPE and r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    return Target(
        stack_name=stack,
        region=region,
        endpoint_url=endpoint_url,
        table_name=physical[CLAIM_TABLE],
        state_machine_arn=state_machine or physical[CLAIM_STATE_MACHINE],
        due_shards=int(parameters.get("DueShards") or DEFAULT_DUE_SHARDS),
        queues=queues,
        clock_file=clock_file,
    )


@contextlib.contextmanager
def repository(target: Target) -> Iterator[Any]:
    """The service's repository on the target's table (its own connection: nothing process-wide)."""
    from aftersales.config import Settings
    from aftersales.store import Repository

    settings = Settings(
        table_name=target.table_name,
        idempotency_table_name="-",  # not read by ops
        state_machine_arn=target.state_machine_arn,
        region=target.region,
        dynamodb_endpoint=target.endpoint_url,
        due_shards=target.due_shards,
    )
    credentials = (
        {
            "access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
        if target.local
        else {}
    )
    yield Repository(settings, **credentials)
