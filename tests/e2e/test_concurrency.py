"""Conflicting requests at once against the local stack: nothing acknowledged is lost, nothing refused
leaves a trace, and every workflow run ends up waiting where its claim is.

Ten claims, two hundred requests released together (merchant approve/reject, buyer cancel, ops
escalate, buyer shipments drawing on a small pool of waybills shared by all claims). Each request
carries a tag of its own (its note or reason), so its timeline entry, if any, can be found.
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import string
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.demo import BUYER, MERCHANT, OPS, ApiClient
from infra.local.stack import LocalStack
from tests.support.local_stack import submitted_return

pytestmark = pytest.mark.e2e

CLAIMS = 10
SHARED_WAYBILLS = 5
LADDER = ["agent", "specialist", "supervisor", "mediation", "arbitration"]
REFUSALS = {"illegal_transition", "waybill_in_use", "conflict"}
SETTLE_SECONDS = 60.0
ASL = Path(__file__).parents[2] / "statemachine" / "claim.asl.json"


@dataclass(frozen=True)
class Call:
    claim_id: str
    who: tuple[str, str, str | None]
    action: str  # the route's last segment
    body: dict[str, Any]
    tag: str
    waybill: str | None = None


@dataclass
class Answer:
    call: Call
    status: int | None = None
    body: Any = None
    error: str | None = None  # a connection-level failure (reset, refused, timeout)


def _tagged(kind: str) -> str:
    # Letters only: free text is shown to ops with anything like a phone number masked.
    return f"{kind}-" + "".join(random.choices(string.ascii_lowercase, k=12))


def _calls(pending: list[str], approved: list[str], waybills: list[str]) -> list[Call]:
    """Twenty calls per claim. Pending claims race review decisions against cancels, escalations and
    early shipments; approved claims race shipments on shared waybills against cancels and escalations."""
    calls: list[Call] = []
    n = 0

    def add(claim_id: str, who: Any, action: str, count: int, body: Callable[[str], dict[str, Any]]) -> None:
        nonlocal n
        for _ in range(count):
            tag = _tagged(action)
            payload = body(tag)
            calls.append(Call(claim_id, who, action, payload, tag, payload.get("waybill")))
            n += 1

    def ship(tag: str) -> dict[str, Any]:
        return {"carrier": "sf", "waybill": waybills[n % len(waybills)], "note": tag}

    for claim_id in pending:
        add(claim_id, MERCHANT, "decision", 5, lambda t: {"decision": "approve", "reason": t})
        add(claim_id, MERCHANT, "decision", 4, lambda t: {"decision": "reject", "reason": t})
        add(claim_id, BUYER, "cancel", 3, lambda t: {"note": t})
        add(claim_id, OPS, "escalate", 4, lambda t: {"reason": t})
        add(claim_id, BUYER, "shipment", 4, ship)
    for claim_id in approved:
        add(claim_id, BUYER, "shipment", 10, ship)
        add(claim_id, BUYER, "cancel", 3, lambda t: {"note": t})
        add(claim_id, OPS, "escalate", 4, lambda t: {"reason": t})
        add(claim_id, MERCHANT, "decision", 3, lambda t: {"decision": "approve", "reason": t})
    return calls


def _send(api: ApiClient, call: Call, start: threading.Barrier) -> Answer:
    """One request on a connection of its own, released with all the others."""
    answer = Answer(call)
    host, port = api.base_url.removeprefix("http://").split(":")
    headers = {"content-type": "application/json", "authorization": f"Bearer {api.token(call.who)}"}
    start.wait()
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(
            "POST", f"/claims/{call.claim_id}/{call.action}", json.dumps(call.body), headers=headers
        )
        response = connection.getresponse()
        raw = response.read()
        answer.status, answer.body = response.status, json.loads(raw) if raw else None
    except OSError as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    return answer


def _submit(api: ApiClient, stack: LocalStack) -> str:
    return submitted_return(stack, api, prefix="race")


# --- where each run should be ---------------------------------------------------------------------


def _await_states() -> dict[str, str]:
    """The state machine's waiting state for each claim status (its ``stage`` parameter)."""
    states = json.loads(ASL.read_text())["States"]
    found = {}
    for name, state in states.items():
        stage = (state.get("Parameters") or {}).get("Payload", {}).get("stage")
        if state.get("Resource", "").endswith(".waitForTaskToken") and stage:
            found[stage] = name
    return found


def _run_out_of_step(stack: LocalStack, claim_id: str, status: str, awaiting: dict[str, str]) -> str | None:
    """None when the claim's run is where its status says (waiting at that stage with its token on
    the claim, or succeeded once closed); otherwise what is wrong."""
    from aftersales.store import default_repository

    sfn = stack.client("stepfunctions")
    [machine] = stack.state_machines.values()
    arn = machine.replace(":stateMachine:", ":execution:") + f":{claim_id}"
    run = sfn.describe_execution(executionArn=arn)["status"]
    events = sfn.get_execution_history(executionArn=arn)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    if status == "closed":
        return None if run == "SUCCEEDED" and entered[-1] == "Closed" else f"{run} at {entered[-1]}"
    claim = default_repository().get_claim(claim_id)
    assert claim is not None
    expected = awaiting[status]
    if run != "RUNNING" or entered[-1] != expected:
        return f"{run} at {entered[-1]}, expected RUNNING at {expected}"
    if not claim.task_token or claim.task_stage != status:
        return f"no task token stored for {status} (stage {claim.task_stage})"
    return None


def _waybill_owners(stack: LocalStack) -> dict[str, str]:
    ddb = stack.client("dynamodb")
    owners: dict[str, str] = {}
    pages = ddb.get_paginator("scan").paginate(
        TableName=stack.physical["ClaimsTable"],
        FilterExpression="begins_with(pk, :w) AND sk = :s",  # the waybill items, not their carrier events
        ExpressionAttributeValues={":w": {"S": "WAYBILL#"}, ":s": {"S": "WAYBILL"}},
    )
    for page in pages:
        for item in page["Items"]:
            owners[item["waybill"]["S"]] = item["claim_id"]["S"]
    return owners


# --- the race -----------------------------------------------------------------------------------------


def test_two_hundred_conflicting_requests_lose_nothing_and_leave_no_trace(
    stack: LocalStack, api: ApiClient
) -> None:
    with ThreadPoolExecutor(max_workers=CLAIMS) as pool:
        claim_ids = list(pool.map(lambda _: _submit(api, stack), range(CLAIMS)))
        pending, approved = claim_ids[: CLAIMS // 2], claim_ids[CLAIMS // 2 :]
        approvals = pool.map(
            lambda c: api.call("POST", f"/claims/{c}/decision", {"decision": "approve"}, who=MERCHANT),
            approved,
        )
        assert [reply.status for reply in approvals] == [200] * len(approved)
    waybills = [f"SF{uuid.uuid4().int % 10**12:012d}" for _ in range(SHARED_WAYBILLS)]
    calls = _calls(pending, approved, waybills)
    assert len(calls) >= 200
    for who in {c.who for c in calls}:
        api.token(who)  # minted before the race, not inside it

    start = threading.Barrier(len(calls))
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(lambda c: _send(api, c, start), calls))

    failed = [(a.call.action, a.error or a.status, a.body) for a in answers if a.error or a.status >= 500]
    assert not failed, f"{len(failed)} requests reset or answered 5xx: {failed[:5]}"
    refused = [a for a in answers if a.status >= 400]
    unexpected = [(a.call, a.status, a.body) for a in refused if a.body.get("code") not in REFUSALS]
    assert not unexpected, unexpected
    accepted = [a for a in answers if 200 <= a.status < 300]
    assert accepted and refused

    awaiting = _await_states()
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        details = {c: api.call("GET", f"/claims/{c}", who=OPS).body for c in claim_ids}
        out_of_step = {
            c: problem
            for c, d in details.items()
            if (problem := _run_out_of_step(stack, c, d["claim"]["status"], awaiting))
        }
        if not out_of_step or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not out_of_step, out_of_step

    # The stack is shared with the other e2e tests: only this race's waybills are its business.
    owners = {waybill: owner for waybill, owner in _waybill_owners(stack).items() if waybill in waybills}
    for claim_id, detail in details.items():
        claim, timeline = detail["claim"], detail["timeline"]
        mine = [a for a in answers if a.call.claim_id == claim_id]

        # The timeline is one unbroken chain from submit to the claim's status.
        assert timeline[0]["action"] == "submit"
        for before, after in itertools.pairwise(timeline):
            assert after["from"] == before["to"], timeline
        assert timeline[-1]["to"] == claim["status"]

        tags = Counter(
            tag
            for entry in timeline
            for tag in (entry["note"], entry["details"].get("reason"))
            if tag and tag.split("-")[0] in {"decision", "cancel", "escalate", "shipment"}
        )
        for answer in mine:
            expected = 1 if answer.status < 300 else 0
            assert tags[answer.call.tag] == expected, (answer.call, answer.status, answer.body)
        changed = [e for e in timeline[1:] if e["action"] != "approve" or e["details"].get("reason")]
        assert len(changed) == len([a for a in mine if a.status < 300]), timeline

        escalations = sum(1 for a in mine if a.call.action == "escalate" and a.status < 300)
        assert claim["escalation_level"] == LADDER[min(escalations, len(LADDER) - 1)]
        if any(a.call.action == "cancel" and a.status < 300 for a in mine):
            assert (claim["status"], claim["outcome"]) == ("closed", "cancelled")
        shipped = [a.call.waybill for a in mine if a.call.action == "shipment" and a.status < 300]
        assert len(shipped) <= 1
        if shipped:
            assert claim["return_shipment"]["waybill"] == shipped[0]
            assert owners[shipped[0]] == claim_id
        else:
            assert claim["return_shipment"] is None

    # A waybill belongs to at most one claim, and only to the one whose shipment was accepted.
    holders = Counter(
        d["claim"]["return_shipment"]["waybill"] for d in details.values() if d["claim"]["return_shipment"]
    )
    assert all(count == 1 for count in holders.values()), holders
    assert set(owners) == set(holders)
