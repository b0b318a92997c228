"""What every moto-backed run shares (tests, benchmarks, the local stack): moto's configuration, the
service's tables, the Lambda context handlers get, and waiting for something that happens in another
thread."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

# Step Functions executes the ASL; Lambda never needs Docker (invokes run in-process: lambda_dispatch).
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"
POLL_TIMEOUT = 30.0  # a loaded machine runs workflow threads slowly; only a failing wait uses it all
T = TypeVar("T")


class LocalLambdaContext(LambdaContext):
    """Powertools' own ``LambdaContext``, filled in as Lambda would; the timeout is reported through
    ``get_remaining_time_in_millis``, never enforced."""

    def __init__(
        self,
        function_name: str,
        invoked_function_arn: str | None = None,
        aws_request_id: str | None = None,
        *,
        memory_limit_in_mb: int = 128,
        timeout_seconds: int = 30,
        function_version: str = "$LATEST",
    ):
        self._function_name = function_name
        self._function_version = function_version
        self._invoked_function_arn = invoked_function_arn or function_arn(function_name)
        self._memory_limit_in_mb = memory_limit_in_mb
        self._aws_request_id = aws_request_id or str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"
        self.timeout_seconds = timeout_seconds
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def function_arn(name: str, *, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT_ID) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def create_idempotency_table(dynamodb: Any, table_name: str) -> None:
    """The Powertools idempotency table, as the template declares it."""
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def poll(
    probe: Callable[[], T | None], *, what: str, timeout: float = POLL_TIMEOUT, interval: float = 0.05
) -> T:
    """The first truthy value of ``probe()``; fails after ``timeout`` instead of sleeping blindly."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)  # the other thread (a run, a server) moves on meanwhile
