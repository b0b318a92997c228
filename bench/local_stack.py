"""The local stack (``infra/local``: moto server, the real template, ASL and handlers, the HTTP gateway)
with every handler metered (``bench.aws_meter``), and what the cost benchmarks do on it: import an
order, call the API as a person, post a carrier's webhook, let a deadline lapse, wait for the run."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.aws_meter import Meter
from bench.harness import FUNCTIONS_DIR  # noqa: F401  (puts functions/ on the path)
from infra.local import carriers
from infra.local.demo import BUYER, MERCHANT, OPS, ApiClient, Reply, demo_order
from infra.local.stack import LocalStack

START = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing
PEOPLE = {"buyer": BUYER, "merchant": MERCHANT, "ops": OPS}
SETTLE_SECONDS = 30.0


class MeteredStack(LocalStack):
    """A local stack whose handlers each run inside a meter invocation (API, workflow, queue, schedule)."""

    def __init__(self, meter: Meter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.meter = meter

    def _import_handlers(self) -> dict[str, Any]:
        return {logical: self.meter.wrap(logical, h) for logical, h in super()._import_handlers().items()}

    def memory_mb(self, logical: str) -> int:
        """The function's MemorySize as the template sets it (Globals, or its own)."""
        assert self.app is not None
        own = self._function_props(logical).get("MemorySize")
        if own is not None:
            return int(own)
        globals_ = (self.app.template.get("Globals") or {}).get("Function") or {}
        return int(globals_.get("MemorySize") or 128)


@contextmanager
def metered_stack() -> Iterator[MeteredStack]:
    """A fresh local stack on free loopback ports, its meter installed before any client exists."""
    saved = dict(os.environ)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    meter = Meter()
    with tempfile.TemporaryDirectory(prefix="aftersales-bench-stack-") as tmp, meter.installed():
        stack = MeteredStack(
            meter,
            api_port=0,
            moto_port=0,
            clock="manual",
            state_dir=Path(tmp),
            start_at=START,
            publish=False,
            # moto's backends outlive a stack in this process: each stack gets resources of its own
            stack_name=f"aftersales-bench-{uuid.uuid4().hex[:6]}",
        )
        try:
            with stack:
                yield stack
        finally:
            os.environ.clear()
            os.environ.update(saved)


class Player:
    """Plays a claim's story over HTTP against a metered stack, one step at a time."""

    def __init__(self, stack: MeteredStack) -> None:
        self.stack = stack
        self.api = ApiClient(stack.api_url)
        self.requests = 0  # HTTP API requests the story made (API routes and carrier webhooks)
        self.ticks = 0

    # -- setup, not metered --

    def order(self, *, delivered: bool = True) -> str:
        order_id = f"bench-{uuid.uuid4().hex[:10]}"
        body = demo_order(BUYER[1], str(MERCHANT[2]), self.stack.now())
        if not delivered:
            body.pop("delivered_at")
        reply = self.api.call("PUT", f"/ops/orders/{order_id}", body, who=OPS)
        _expect(reply, 200, "importing the order")
        return order_id

    # -- the story's own requests --

    def call(self, method: str, path: str, body: Any = None, *, who: str, **kw: Any) -> Reply:
        self.requests += 1
        return self.api.call(method, path, body, who=PEOPLE[who], **kw)

    def submit(self, order_id: str, claim: dict[str, Any]) -> str:
        reply = self.call(
            "POST", "/claims", {"order_id": order_id, **claim}, who="buyer",
            headers={"idempotency-key": f"key-{order_id}"},
        )  # fmt: skip
        return str(_expect(reply, 201, "submitting the claim")["claim_id"])

    def act(self, claim_id: str, who: str, route: str, body: dict[str, Any] | None = None) -> None:
        body = dict(body or {})
        if body.get("waybill") == "fresh":
            body["waybill"] = f"SF{uuid.uuid4().int % 10**12:012d}"
        _expect(self.call("POST", f"/claims/{claim_id}/{route}", body, who=who), 200, f"{who} {route}")

    def carrier(self, claim_id: str, status: str, webhook: str = "sf", *, label: bool = False) -> None:
        """The carrier posts an event for the claim's return parcel to its webhook (→ SQS → consumer)."""
        self.requests += 1
        code, answer = carriers.push(
            self.stack, webhook, waybill=waybill_of(claim_id), status=status,
            reference=claim_id if label else None,
        )  # fmt: skip
        if code != 202:
            raise StoryFailed(f"carrier {webhook} {status}: HTTP {code} {answer}")

    def lapse(self, claim_id: str, kind: str, overdue: timedelta = timedelta(minutes=1)) -> None:
        """Let the open ``kind`` deadline pass: the clock moves past it and the schedules run once."""
        due = open_deadline(claim_id, kind)
        self.stack.advance(max(due - self.stack.now(), timedelta(0)) + overdue)
        self.ticks += 1

    def later(self, delta: timedelta) -> None:
        self.stack.advance(delta)
        self.ticks += 1

    # -- waiting for the workflow, not metered --

    def settle(self, claim_id: str) -> Any:
        """Wait until the run waits at the claim's status with its token stored, or has ended."""
        from aftersales.store import default_repository

        repo = default_repository()
        sfn = self.stack.client("stepfunctions")
        arn = _execution_arn(claim_id)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            claim = repo.get_claim(claim_id)
            if claim is not None and claim.task_token and claim.task_stage == claim.status:
                return claim
            if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                return repo.get_claim(claim_id)
            time.sleep(0.02)
        raise StoryFailed(f"{claim_id}: the run did not settle in {SETTLE_SECONDS:.0f} s")

    def history(self, claim_id: str) -> list[dict[str, Any]]:
        sfn = self.stack.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": _execution_arn(claim_id), "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]


class StoryFailed(RuntimeError):
    pass


def _expect(reply: Reply, status: int, what: str) -> Any:
    if reply.status != status:
        raise StoryFailed(f"{what}: HTTP {reply.status} {reply.body}")
    return reply.body


def waybill_of(claim_id: str) -> str:
    return f"SF{uuid.uuid5(uuid.NAMESPACE_URL, claim_id).int % 10**12:012d}"


def _execution_arn(claim_id: str) -> str:
    from aftersales.workflow import execution_arn

    return execution_arn(os.environ["STATE_MACHINE_ARN"], claim_id)


def open_deadline(claim_id: str, kind: str) -> datetime:
    from aftersales.clock import parse_instant
    from aftersales.store import default_repository

    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    for deadline in record.deadlines:
        if deadline.kind == kind and not deadline.met_at and not deadline.escalated_at:
            return parse_instant(deadline.deadline_at)
    raise StoryFailed(f"{claim_id}: no open {kind} deadline")


def deadlines_of(claim_id: str) -> dict[str, Any]:
    """The claim's deadlines as stored (kind; met; lapsed: closed after it was due or escalated;
    extended; paused) and
    the penalty days accrued on it."""
    from aftersales.clock import parse_instant
    from aftersales.store import default_repository

    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    return {
        "penalty_days": len(record.penalties),
        "deadlines": [
            {
                "kind": d.kind,
                "met": bool(d.met_at),
                # closed after its due instant (sla_tick applied the outcome), or escalated as late
                "lapsed": bool(d.escalated_at)
                or bool(d.met_at and parse_instant(d.met_at) > parse_instant(d.deadline_at)),
                "extended": bool(d.extension_reason),
                "paused": bool(d.paused_seconds) or bool(d.paused_since),
            }
            for d in record.deadlines
        ],
    }
