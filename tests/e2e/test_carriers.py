"""Carriers over real HTTP against the local stack: signed deliveries through the webhook route, the
template's queue and event source mapping, the consumer; the claim moves; refusals; dead letters."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli.main import app
from infra.cli.ops import redrive_dlqs, resolve
from infra.local import carriers
from infra.local.demo import BUYER, MERCHANT, OPS, ApiClient
from infra.local.stack import LocalStack
from tests.support.local_stack import submitted_return

pytestmark = pytest.mark.e2e
runner = CliRunner()
WIDE = {"COLUMNS": "200"}
CARRIER_PUSH = ["local", "carrier", "push", "--carrier", "jd"]


def _shipped_return(stack: LocalStack, api: ApiClient, waybill: str) -> str:
    claim_id = submitted_return(stack, api)
    assert (
        api.call("POST", f"/claims/{claim_id}/decision", {"decision": "approve"}, who=MERCHANT).status == 200
    )
    shipped = api.call(
        "POST", f"/claims/{claim_id}/shipment", {"carrier": "sf", "waybill": waybill}, who=BUYER
    )
    assert shipped.status == 200, shipped.body
    return claim_id


def _detail(api: ApiClient, claim_id: str) -> dict[str, Any]:
    reply = api.call("GET", f"/claims/{claim_id}", who=OPS)
    assert reply.status == 200
    return dict(reply.body)


def test_signed_deliveries_move_the_claim(stack: LocalStack, api: ApiClient) -> None:
    waybill = f"SF{uuid.uuid4().int % 10**12:012d}"
    claim_id = _shipped_return(stack, api, waybill)
    code, answer = carriers.push(
        stack, "aftership", waybill=waybill, status="out_for_delivery", ago=timedelta(hours=2)
    )
    assert (code, answer) == (202, {"accepted": 1})
    code, answer = carriers.push(
        stack, "kuaidi100", waybill=waybill, status="delivered", ago=timedelta(hours=1)
    )
    assert code == 202 and answer["result"] is True
    seen = _detail(api, claim_id)  # moto delivers to the consumer inside the send
    assert seen["claim"]["status"] == "awaiting_inspection"
    assert [(p["status"], p["advanced"]) for p in seen["parcels"]] == [
        ("out_for_delivery", True),
        ("delivered", True),
    ]
    # A late, re-sent in-transit scan is recorded and moves nothing.
    carriers.push(stack, "sf", waybill=waybill, status="in_transit", ago=timedelta(days=1))
    seen = _detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_inspection"
    assert seen["parcels"][0]["status"] == "in_transit" and seen["parcels"][0]["advanced"] is False

    # Ops see the same track, and the local carrier command plays one more scan.
    said = runner.invoke(app, ["ops", "claim", claim_id, "--state-dir", str(stack.state_dir)], env=WIDE)
    assert said.exit_code == 0, said.output
    assert "Parcel track" in said.stdout and "late: recorded only" in said.stdout
    pushed = runner.invoke(
        app,
        [*CARRIER_PUSH, "--waybill", waybill, "--status", "delivered", "--state-dir", str(stack.state_dir)],
        env=WIDE,
    )
    assert pushed.exit_code == 0 and pushed.stdout.startswith("202"), pushed.output


def test_forged_stale_and_unknown_deliveries_are_refused(stack: LocalStack) -> None:
    info = stack.info()
    forged = carriers.build("sf", waybill="SF0000000001", status="delivered", at=stack.now(), secret="guess")
    assert carriers.post(info.api_url, forged)[0] == 401
    secret = carriers.LOCAL_SECRETS["sf"]
    stale = carriers.build(
        "sf",
        waybill="SF0000000001",
        status="delivered",
        at=stack.now() - timedelta(minutes=10),
        secret=secret,
    )
    code, body = carriers.post(info.api_url, stale)
    assert (code, body["code"]) == (401, "stale_signature")
    unknown = carriers.build("dhl", waybill="SF0000000001", status="delivered", at=stack.now(), secret="x")
    assert carriers.post(info.api_url, unknown)[0] == 404


def test_a_poison_message_ends_in_the_dead_letter_queue_and_ops_can_redrive_it(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    queue = stack.physical["CarrierEventsQueue"]
    dlq = stack.physical["CarrierEventsDeadLetterQueue"]
    try:
        sqs.send_message(QueueUrl=queue, MessageBody="not an event")
        for n in range(8):  # moto re-delivers a failed message only when the next one arrives
            carriers.push(stack, "sf", waybill=f"SF9{n:011d}", status="in_transit")
            if _count(sqs, dlq):
                break
        assert _count(sqs, dlq) == 1
        report = redrive_dlqs(resolve(state_dir=stack.state_dir))
        [row] = [r for r in report["dlqs"] if r["url"] == dlq]
        assert (row["messages"], row["moved"]) == (1, 1)
    finally:
        for url in (queue, dlq):
            sqs.purge_queue(QueueUrl=url)
        time.sleep(0.1)


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
