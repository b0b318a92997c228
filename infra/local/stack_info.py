"""What a running local stack publishes, and how other processes see it.

``aftersales local up`` writes ``<state_dir>/stack.json`` (a ``StackInfo``) so that other commands
(``aftersales local advance|seed``, ``demo``, ``ops``) find its endpoints, its state machines and its
manual clock; ``RemoteStack`` is that view from another process. Nothing here imports moto: reading a
stack costs a file and a few HTTP calls, not the stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".local-stack"
DEFAULT_STACK_NAME = "aftersales"
STATE_FILE = "stack.json"
# Dummy credentials: moto accepts anything, and real ones must never reach the local endpoint.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class StackError(RuntimeError):
    """The local stack cannot start (or is not running); the message says what to do."""


# --- the manual clock ------------------------------------------------------------------------------


def write_instant(path: Path, at: datetime) -> None:
    # Write-then-rename: a handler reading the clock never sees half a timestamp.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(at.astimezone(UTC).isoformat().replace("+00:00", "Z"), encoding="utf-8")
    tmp.replace(path)


def read_instant(path: Path) -> datetime:
    from aftersales.clock import parse_instant

    return parse_instant(path.read_text(encoding="utf-8"))


def scheduled_event(at: datetime, rule_arn: str) -> dict[str, Any]:
    """What EventBridge's schedule hands the function (in the rule's account and region)."""
    region, account = rule_arn.split(":")[3:5]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


# --- the state file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    endpoint_url: str
    stack_name: str
    region: str
    clock: str
    clock_file: str | None
    state_machines: dict[str, str]  # logical id → executable ARN
    functions: dict[str, str]  # logical id → function name in moto
    scheduled: list[str]  # logical ids of the functions with a schedule
    routes: list[str]
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def read(cls, state_dir: Path | None = None) -> StackInfo:
        path = (state_dir or DEFAULT_STATE_DIR) / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StackError("no local stack is running here: start one with `make local`") from None
        info = cls(**data)
        if not _pid_alive(info.pid):
            raise StackError(
                f"the local stack recorded in {path} (pid {info.pid}) is gone: start one with `make local`"
            )
        return info

    def publish(self, state_dir: Path) -> None:
        """Write the state file (write-then-rename: a reader never sees half of it)."""
        state = state_dir / STATE_FILE
        tmp = state.with_name(f".{state.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(state)


def unpublish(state_dir: Path, pid: int) -> None:
    """Remove the state file if the stack of ``pid`` wrote it (a newer stack may have replaced it)."""
    state = state_dir / STATE_FILE
    with contextlib.suppress(FileNotFoundError):
        if json.loads(state.read_text(encoding="utf-8")).get("pid") == pid:
            state.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- a stack running in another process ---------------------------------------------------------------


@dataclass
class TickResult:
    function: str
    at: datetime
    result: Any


class RemoteStack:
    """The stack ``aftersales local up`` runs, seen from another process through its stack.json."""

    def __init__(self, info: StackInfo) -> None:
        self._info = info

    @classmethod
    def find(cls, state_dir: Path | None = None) -> RemoteStack:
        return cls(StackInfo.read(state_dir))

    def info(self) -> StackInfo:
        return self._info

    @property
    def api_url(self) -> str:
        return self._info.api_url

    def now(self) -> datetime:
        if self._info.clock_file:
            return read_instant(Path(self._info.clock_file))
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> list[TickResult]:
        """Move the stack's manual clock, then run its scheduled functions through moto's Lambda API
        (they run in the stack's process, like any invoke)."""
        if not self._info.clock_file:
            raise StackError("the running stack uses the real clock: restart it with --clock manual")
        clock_file = Path(self._info.clock_file)
        write_instant(clock_file, read_instant(clock_file) + delta)
        return self.tick()

    def tick(self) -> list[TickResult]:
        from infra.local.moto_env import LOCAL_ACCOUNT_ID

        lam = boto3.client(
            "lambda",
            endpoint_url=self._info.endpoint_url,
            region_name=self._info.region,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        results = []
        for logical in self._info.scheduled:
            at = self.now()
            name = self._info.functions.get(logical, logical)
            event = scheduled_event(at, f"arn:aws:events:{self._info.region}:{LOCAL_ACCOUNT_ID}:rule/{name}")
            response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"null")
            if response.get("FunctionError"):
                error = f"{payload.get('errorType')}: {payload.get('errorMessage')}"
                raise StackError(f"{logical} failed: {error}")
            results.append(TickResult(logical, at, payload))
        return results
