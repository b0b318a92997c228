"""Carrier deliveries through the real webhook handler, SQS (moto) and the real consumer: duplicates,
out-of-order events, an unknown waybill that becomes known, a poison record in a batch of ten,
alerts, and the manual route racing the carrier. The queue is polled the way Lambda's event source
mapping does (receive up to ten, invoke, delete all but the reported failures), since moto's own
mapping delivers one record at a time and ignores partial failures (docs/moto.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aftersales import carrier_events
from aftersales.clock import iso
from aftersales.events import RecordingPublisher
from aftersales.logistics import ParcelEvent, intake
from aftersales.store import default_repository
from aws_lambda_powertools.utilities import parameters

from infra.local.carriers import build
from tests.events.builder import http_event
from tests.integration.conftest import BUYER, MERCHANT, OPS, Api, Clock, Context

SECRETS = {"kuaidi100": "k100-salt", "sf": "sf-secret"}
MAX_RECEIVES = 5


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="carrier-events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    queue = sqs.create_queue(
        QueueName="carrier-events", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"}
    )["QueueUrl"]
    ssm = boto3.client("ssm")
    for carrier, secret in SECRETS.items():
        ssm.put_parameter(Name=f"/aftersales-test/carriers/{carrier}", Value=secret, Type="SecureString")
    monkeypatch.setenv("CARRIER_EVENTS_QUEUE_URL", queue)
    monkeypatch.setenv("CARRIER_SECRETS_PATH", "/aftersales-test/carriers")
    parameters.clear_caches()
    intake._sqs.cache_clear()
    yield {"queue": queue, "dlq": dlq}
    parameters.clear_caches()
    intake._sqs.cache_clear()


def post(carrier: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    from logistics_webhook.app import lambda_handler

    event = http_event(
        "POST",
        f"/webhooks/logistics/{carrier}",
        route="/webhooks/logistics/{carrier}",
        claims=None,
        raw_body=raw.decode(),
        headers=headers,
        path_params={"carrier": carrier},
    )
    answer = lambda_handler(event, Context())
    return answer["statusCode"], json.loads(answer["body"])


def deliver(
    clock: Clock, carrier: str, waybill: str, status: str, *, ago: timedelta = timedelta(0), **extra: Any
) -> None:
    delivery = build(
        carrier,
        waybill=waybill,
        status=status,
        at=clock.at - ago,
        secret=SECRETS[carrier],
        sent_at=clock.at,
        **extra,
    )
    code, body = post(carrier, delivery.body, delivery.headers)
    assert code == 202, body


def poll(queue: str, *, batch: int = 10) -> dict[str, Any]:
    """One poll of the event source mapping: receive, invoke the consumer, delete what succeeded."""
    from logistics_events.app import lambda_handler

    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=batch, AttributeNames=["All"], MessageAttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return {"received": 0, "failed": []}
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]
    try:
        answer = lambda_handler({"Records": records}, Context())
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    except Exception:  # every record failed: the whole batch comes back
        failed = {r["messageId"] for r in records}
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return {"received": len(messages), "failed": sorted(failed)}


def drain(queue: str) -> None:
    while poll(queue)["received"]:
        pass


def approved_and_shipped(api: Api, claim_id: str, waybill: str = "SF1000000001") -> None:
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    shipped = api.act(claim_id, "shipment", {"carrier": "sf", "waybill": waybill}, as_=BUYER)
    assert shipped.status == 200, shipped.body


def detail(api: Api, claim_id: str) -> dict[str, Any]:
    answer = api.call("GET", f"/claims/{claim_id}", as_=OPS)
    assert answer.status == 200
    return answer.body


def test_a_kuaidi100_delivery_moves_the_return_and_starts_inspection_at_delivery_time(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    clock.advance(days=2)
    deliver(clock, "kuaidi100", "SF1000000001", "delivered", ago=timedelta(hours=3))
    drain(queues["queue"])

    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_inspection"
    [inspection] = [d for d in seen["deadlines"] if d["kind"] == "inspection" and d["open"]]
    assert inspection["started_at"] == iso(clock.at - timedelta(hours=3))
    [track] = seen["parcels"]
    assert (track["leg"], track["status"], track["advanced"], track["actions"]) == (
        "return",
        "delivered",
        True,
        ["return_delivered"],
    )
    assert seen["timeline"][-1]["actor"] == {"role": "system", "id": "carrier"}


def test_a_duplicate_delivery_changes_nothing(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    for _ in range(3):  # the carrier retries the same push
        deliver(clock, "sf", "SF1000000001", "delivered", event_id="evt-same")
    drain(queues["queue"])
    seen = detail(api, claim_id)
    assert len(seen["parcels"]) == 1
    assert [e["action"] for e in seen["timeline"]].count("return_delivered") == 1
    assert seen["claim"]["version"] == 4  # submit, approve, ship, delivered


def test_a_late_in_transit_after_delivered_is_recorded_never_applied(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    deliver(clock, "sf", "SF1000000001", "delivered", event_id="e-2")
    deliver(clock, "sf", "SF1000000001", "in_transit", ago=timedelta(hours=5), event_id="e-1")
    drain(queues["queue"])
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_inspection"
    assert [(p["status"], p["advanced"]) for p in seen["parcels"]] == [
        ("in_transit", False),
        ("delivered", True),
    ]
    waybill = default_repository().waybill("sf", "SF1000000001")
    assert waybill is not None and waybill.parcel_status == "delivered"


def test_events_for_an_unknown_waybill_are_kept_and_applied_when_the_buyer_gives_it(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    deliver(clock, "sf", "SF1000000002", "picked_up", ago=timedelta(days=2), event_id="p-1")
    deliver(clock, "kuaidi100", "SF1000000002", "delivered", ago=timedelta(hours=1))
    drain(queues["queue"])
    assert detail(api, claim_id)["claim"]["status"] == "awaiting_return_shipment"  # parked, not lost
    assert queues and not boto3.client("sqs").receive_message(QueueUrl=queues["dlq"]).get("Messages")

    shipped = api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF1000000002"}, as_=BUYER)
    assert shipped.status == 200
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_inspection"
    assert [p["status"] for p in seen["parcels"]] == ["picked_up", "delivered"]
    assert [e["action"] for e in seen["timeline"]][-2:] == ["ship_return", "return_delivered"]


def test_a_label_reference_lets_the_carrier_pick_up_a_return_nobody_registered(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    deliver(clock, "sf", "SF1000000003", "picked_up", reference=claim_id)
    drain(queues["queue"])
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "return_in_transit"
    assert seen["claim"]["return_shipment"]["waybill"] == "SF1000000003"


def test_a_poison_record_in_a_batch_of_ten_goes_to_the_dlq_without_holding_back_nine(
    api: Api, order: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    sqs = boto3.client("sqs")
    for n in range(9):  # nine parked events for nine waybills
        deliver(clock, "sf", f"SF20000000{n:02d}", "in_transit", event_id=f"ok-{n}")
    sqs.send_message(QueueUrl=queues["queue"], MessageBody='{"carrier": "sf", "waybill": ')
    first = poll(queues["queue"])
    assert first["received"] == 10 and len(first["failed"]) == 1
    repo_events = [default_repository().waybill("sf", f"SF20000000{n:02d}") for n in range(9)]
    assert repo_events == [None] * 9  # no claim has them: parked
    from aftersales.store import parcels

    assert all(parcels.parked_events("sf", f"SF20000000{n:02d}") for n in range(9))
    for _ in range(MAX_RECEIVES):
        poll(queues["queue"])
    dead = sqs.receive_message(QueueUrl=queues["dlq"], MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ['{"carrier": "sf", "waybill": ']
    assert poll(queues["queue"])["received"] == 0


def test_exception_alerts_ops_on_the_timeline_and_the_bus_once(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    bus = RecordingPublisher()
    parcel = ParcelEvent(
        carrier="sf",
        waybill="SF1000000001",
        status="exception",
        occurred_at=clock.at,
        provider_event_id="x-1",
    )
    for _ in range(2):
        carrier_events.handle(parcel, clock.at, publisher=bus)
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "return_in_transit"
    assert [e["action"] for e in seen["timeline"]].count("parcel_exception") == 1
    [alert] = bus.of("parcel.alert")
    assert alert.detail["claim_id"] == claim_id and alert.detail["status"] == "exception"


def test_the_merchant_first_then_the_carrier_is_a_no_op_for_the_carrier(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    assert api.act(claim_id, "return-received", {}, as_=MERCHANT).status == 200
    deliver(clock, "sf", "SF1000000001", "delivered")
    assert poll(queues["queue"])["failed"] == []
    seen = detail(api, claim_id)
    assert [e["action"] for e in seen["timeline"]].count("return_delivered") == 1
    assert seen["parcels"][0]["actions"] == []
    # and the carrier first makes the person's route a 409
    again = api.act(claim_id, "return-received", {}, as_=MERCHANT)
    assert again.status == 409


@pytest.mark.parametrize(
    ("carrier", "mutate", "status", "code"),
    [
        (
            "sf",
            lambda d: (d.body, {**d.headers, "X-Aftersales-Signature": "t=1,v1=00"}),
            401,
            "stale_signature",
        ),
        ("kuaidi100", lambda d: (d.body.replace(b"sign=", b"sign=0"), d.headers), 401, "bad_signature"),
        ("sf", lambda d: (d.body, {"Content-Type": "text/plain"}), 400, "unsupported_media_type"),
        ("dhl", lambda d: (d.body, d.headers), 404, "unknown_carrier"),
    ],
)
def test_the_webhook_refuses(
    clock: Clock, queues: dict[str, str], carrier: str, mutate: Any, status: int, code: str
) -> None:
    delivery = build(
        carrier, waybill="SF1000000001", status="delivered", at=clock.at, secret=SECRETS.get(carrier, "x")
    )
    raw, headers = mutate(delivery)
    answer = post(carrier, raw, headers)
    assert (answer[0], answer[1]["code"]) == (status, code)
    assert poll(queues["queue"])["received"] == 0  # nothing queued


def test_the_webhook_answers_kuaidi100_in_its_own_words(clock: Clock, queues: dict[str, str]) -> None:
    delivery = build(
        "kuaidi100", waybill="SF1000000001", status="delivered", at=clock.at, secret=SECRETS["kuaidi100"]
    )
    code, body = post("kuaidi100", delivery.body, delivery.headers)
    assert code == 202 and body["result"] is True and body["returnCode"] == "200"


def test_a_crash_after_the_claim_moved_is_retried_without_moving_it_twice(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aftersales.store import parcels

    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    real = parcels.mark_applied
    crashes = iter([True])

    def crash_once(*args: Any, **kwargs: Any) -> None:
        if next(crashes, False):
            raise ConnectionError("the function died after moving the claim")
        real(*args, **kwargs)

    monkeypatch.setattr(parcels, "mark_applied", crash_once)
    deliver(clock, "sf", "SF1000000001", "delivered", event_id="once")
    assert len(poll(queues["queue"])["failed"]) == 1  # reported failed: SQS delivers it again
    assert detail(api, claim_id)["claim"]["status"] == "awaiting_inspection"
    drain(queues["queue"])
    seen = detail(api, claim_id)
    assert [e["action"] for e in seen["timeline"]].count("return_delivered") == 1
    [track] = seen["parcels"]
    assert track["advanced"] is True
    assert parcels.parked_events("sf", "SF1000000001") == []


def test_a_replacement_delivered_to_the_buyer_awaits_their_confirmation(
    api: Api, order: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    from tests.integration.conftest import claim_body

    submitted = api.submit(claim_body(type="exchange", reason="size_color_mismatch"), key="key-exchange-1")
    assert submitted.status == 201, submitted.body
    claim_id = submitted.body["claim_id"]
    approved_and_shipped(api, claim_id, waybill="SF1000000010")
    deliver(clock, "sf", "SF1000000010", "delivered", event_id="back-1")
    drain(queues["queue"])
    assert api.act(claim_id, "inspection", {"passed": True}, as_=MERCHANT).status == 200
    shipped = api.act(claim_id, "replacement", {"carrier": "yto", "waybill": "YT1000000011"}, as_=MERCHANT)
    assert shipped.status == 200, shipped.body
    assert detail(api, claim_id)["claim"]["status"] == "outbound_in_transit"
    parcel = ParcelEvent(
        carrier="yto",
        waybill="YT1000000011",
        status="delivered",
        occurred_at=clock.at,
        provider_event_id="o-2",
    )
    assert carrier_events.handle(parcel, clock.at).actions == ["outbound_delivered"]
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_buyer_confirmation"
    assert {p["leg"] for p in seen["parcels"]} == {"return", "outbound"}


def test_an_unreachable_bus_does_not_undo_the_alert(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    class DownBus:
        def publish(self, events: Any) -> None:
            raise ConnectionError("EventBridge is unreachable")

    claim_id = claim["claim_id"]
    approved_and_shipped(api, claim_id)
    parcel = ParcelEvent(
        carrier="sf",
        waybill="SF1000000001",
        status="returned_to_sender",
        occurred_at=clock.at,
        provider_event_id="r",
    )
    assert carrier_events.handle(parcel, clock.at, publisher=DownBus()).outcome == "applied"
    assert carrier_events.handle(parcel, clock.at, publisher=DownBus()).outcome == "duplicate"
    actions = [e["action"] for e in detail(api, claim_id)["timeline"]]
    assert actions.count("parcel_returned_to_sender") == 1


def test_two_appliers_of_one_event_move_the_claim_once(
    api: Api, claim: dict[str, Any], clock: Clock, queues: dict[str, str]
) -> None:
    """The buyer's shipment hook and the consumer can both find the same event parked."""
    from aftersales.store import parcels

    claim_id = claim["claim_id"]
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    parcel = ParcelEvent(
        carrier="sf",
        waybill="SF1000000004",
        status="delivered",
        occurred_at=clock.at,
        provider_event_id="twice",
    )
    assert carrier_events.handle(parcel, clock.at).outcome == "parked"
    [seen_by_one] = parcels.parked_events("sf", "SF1000000004")
    [seen_by_other] = parcels.parked_events("sf", "SF1000000004")
    assert (
        api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF1000000004"}, as_=BUYER).status == 200
    )
    waybill = parcels.get_waybill("sf", "SF1000000004")
    assert waybill is not None
    repo = default_repository()
    bus = RecordingPublisher()
    for item in (seen_by_one, seen_by_other):  # both had read it as parked
        carrier_events._apply(item, waybill, clock.at, repo, bus)
    seen = detail(api, claim_id)
    assert seen["claim"]["status"] == "awaiting_inspection"
    assert [e["action"] for e in seen["timeline"]].count("return_delivered") == 1
    assert len(seen["parcels"]) == 1
