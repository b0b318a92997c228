"""Each carrier adapter with real-shaped deliveries: valid, wrong signature, stale timestamp, truncated
body, wrong content type, unknown status. Shapes: docs/webhooks.md (with their sources)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from aftersales.domain.parcels import ParcelStatus
from aftersales.logistics import BadPayload, BadSignature, adapter_for, aftership, kuaidi100, standard

from infra.local.carriers import build

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)
SECRET = "s3cret-salt"


def kuaidi100_push(state: str = "3", *, nu: str = "SF1234567890", com: str = "shunfeng") -> tuple[bytes, str]:
    param = json.dumps(
        {
            "status": "polling",
            "billstatus": "check",
            "message": "",
            "autoCheck": "0",
            "comOld": "",
            "comNew": "",
            "lastResult": {
                "message": "ok",
                "nu": nu,
                "ischeck": "1",
                "condition": "F00",
                "com": com,
                "status": "200",
                "state": state,
                "data": [
                    {
                        "time": "2026-11-21 10:15:00",
                        "ftime": "2026-11-21 10:15:00",
                        "context": "[杭州市]已签收,签收人凭取货码签收。",
                        "areaName": "浙江,杭州市",
                        "status": "签收",
                    },
                    {"time": "2026-11-20 08:00:00", "ftime": "2026-11-20 08:00:00", "context": "已揽收"},
                ],
            },
        },
        ensure_ascii=False,
    )
    return urlencode({"param": param, "sign": kuaidi100.sign(param, SECRET)}).encode(), param


FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


# --------------------------------------------------------------------------- Kuaidi100


def test_kuaidi100_valid_push_is_one_delivered_event_in_utc() -> None:
    raw, _ = kuaidi100_push()
    kuaidi100.verify(raw, FORM, SECRET)
    [event] = kuaidi100.parse(raw, FORM)
    assert (event.carrier, event.waybill, event.status) == ("sf", "SF1234567890", ParcelStatus.DELIVERED)
    assert event.occurred_at == datetime(2026, 11, 21, 2, 15, tzinfo=UTC)  # 10:15 Beijing
    assert event.location == "浙江,杭州市" and event.provider_event_id is None
    assert event.key.startswith("h:")  # no id from Kuaidi100: the hash of waybill, status, time


def test_kuaidi100_wrong_or_missing_sign_is_refused() -> None:
    raw, param = kuaidi100_push()
    with pytest.raises(BadSignature):
        kuaidi100.verify(raw, FORM, "another-salt")
    with pytest.raises(BadSignature):
        kuaidi100.verify(urlencode({"param": param}).encode(), FORM, SECRET)
    tampered = raw.replace(b"SF1234567890", b"SF1234567891")
    with pytest.raises(BadSignature):
        kuaidi100.verify(tampered, FORM, SECRET)


def test_kuaidi100_sign_is_case_insensitive_md5_upper() -> None:
    _raw, param = kuaidi100_push()
    lower = urlencode({"param": param, "sign": kuaidi100.sign(param, SECRET).lower()}).encode()
    kuaidi100.verify(lower, FORM, SECRET)


def test_kuaidi100_truncated_body_and_wrong_content_type() -> None:
    raw, _ = kuaidi100_push()
    truncated = raw[: len(raw) // 2]
    with pytest.raises((BadPayload, BadSignature)):
        kuaidi100.verify(truncated, FORM, SECRET)
    with pytest.raises(BadPayload):
        kuaidi100.parse(urlencode({"param": '{"lastResult": {"nu": "SF1'}).encode(), FORM)
    with pytest.raises(BadPayload) as refused:
        kuaidi100.verify(raw, JSON, SECRET)
    assert refused.value.code == "unsupported_media_type"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("0", ParcelStatus.IN_TRANSIT),
        ("1", ParcelStatus.PICKED_UP),
        ("2", ParcelStatus.EXCEPTION),
        ("3", ParcelStatus.DELIVERED),
        ("4", ParcelStatus.RETURNED_TO_SENDER),
        ("5", ParcelStatus.OUT_FOR_DELIVERY),
        ("6", ParcelStatus.RETURNED_TO_SENDER),
        ("14", ParcelStatus.EXCEPTION),
        ("304", ParcelStatus.DELIVERED),
    ],
)
def test_kuaidi100_states_map(state: str, status: ParcelStatus) -> None:
    raw, _ = kuaidi100_push(state)
    assert [e.status for e in kuaidi100.parse(raw, FORM)] == [status]


def test_kuaidi100_unknown_state_is_refused_and_not_yet_picked_up_is_nothing() -> None:
    raw, _ = kuaidi100_push("99")
    with pytest.raises(BadPayload) as refused:
        kuaidi100.parse(raw, FORM)
    assert refused.value.code == "unknown_status"
    assert kuaidi100.parse(kuaidi100_push("102")[0], FORM) == []  # 待揽收


# --------------------------------------------------------------------------- AfterShip


def aftership_body(
    tag: str = "Delivered", subtag: str = "Delivered_001", event: str = "tracking_update"
) -> bytes:
    return json.dumps(
        {
            "event": event,
            "event_id": "2c2e7d2e-0e55-4d6c-9c8f-0e1f5d9d3a41",
            "is_tracking_first_tag": True,
            "msg": {
                "id": "5b7658cec7c33c0e007de3c5",
                "tracking_number": "SF1234567890",
                "slug": "sf-express",
                "tag": tag,
                "subtag": subtag,
                "updated_at": "2026-11-21T02:20:00+00:00",
                "checkpoints": [
                    {
                        "checkpoint_time": "2026-11-20T08:00:00+08:00",
                        "location": "Shenzhen",
                        "tag": "InTransit",
                    },
                    {
                        "checkpoint_time": "2026-11-21T10:15:00+08:00",
                        "location": "Hangzhou, Zhejiang",
                        "message": "Signed for",
                        "tag": tag,
                        "subtag": subtag,
                    },
                ],
            },
            "ts": 1763691600,
        }
    ).encode()


def signed(raw: bytes) -> dict[str, str]:
    return {**JSON, "aftership-hmac-sha256": aftership.signature(raw, SECRET)}


def test_aftership_valid_webhook() -> None:
    raw = aftership_body()
    aftership.verify(raw, signed(raw), SECRET)
    [event] = aftership.parse(raw, signed(raw))
    assert (event.carrier, event.waybill, event.status) == ("sf", "SF1234567890", ParcelStatus.DELIVERED)
    assert event.occurred_at == datetime(2026, 11, 21, 2, 15, tzinfo=UTC)
    assert event.provider_event_id == "2c2e7d2e-0e55-4d6c-9c8f-0e1f5d9d3a41"
    assert event.location == "Hangzhou, Zhejiang"


def test_aftership_wrong_missing_or_reformatted_body_signature() -> None:
    raw = aftership_body()
    with pytest.raises(BadSignature):
        aftership.verify(raw, {**JSON, "aftership-hmac-sha256": aftership.signature(raw, "other")}, SECRET)
    with pytest.raises(BadSignature):
        aftership.verify(raw, JSON, SECRET)
    reformatted = json.dumps(json.loads(raw), indent=2).encode()  # same JSON, other bytes
    with pytest.raises(BadSignature):
        aftership.verify(reformatted, signed(raw), SECRET)


def test_aftership_truncated_body_and_wrong_content_type() -> None:
    raw = aftership_body()[:-20]
    aftership.verify(raw, signed(raw), SECRET)  # signed as sent: the signature is over what arrived
    with pytest.raises(BadPayload):
        aftership.parse(raw, signed(raw))
    with pytest.raises(BadPayload):
        aftership.verify(raw, {**signed(raw), "content-type": "text/plain"}, SECRET)


@pytest.mark.parametrize(
    ("tag", "subtag", "status"),
    [
        ("InTransit", "InTransit_002", ParcelStatus.PICKED_UP),
        ("InTransit", "InTransit_007", ParcelStatus.IN_TRANSIT),
        ("OutForDelivery", "OutForDelivery_001", ParcelStatus.OUT_FOR_DELIVERY),
        ("AvailableForPickup", "AvailableForPickup_001", ParcelStatus.OUT_FOR_DELIVERY),
        ("AttemptFail", "AttemptFail_001", ParcelStatus.EXCEPTION),
        ("Exception", "Exception_003", ParcelStatus.EXCEPTION),
        ("Exception", "Exception_011", ParcelStatus.RETURNED_TO_SENDER),
    ],
)
def test_aftership_tags_map(tag: str, subtag: str, status: ParcelStatus) -> None:
    raw = aftership_body(tag, subtag)
    assert [e.status for e in aftership.parse(raw, signed(raw))] == [status]


def test_aftership_unknown_tag_is_refused_other_events_are_nothing() -> None:
    raw = aftership_body("Teleported", "")
    with pytest.raises(BadPayload) as refused:
        aftership.parse(raw, signed(raw))
    assert refused.value.code == "unknown_status"
    assert aftership.parse(aftership_body(event="edd_revise"), JSON) == []
    assert aftership.parse(aftership_body("InfoReceived", "InfoReceived_001"), JSON) == []


# --------------------------------------------------------------------------- our own format


def ours(status: str = "delivered", **extra: object) -> bytes:
    event = {
        "event_id": "evt_0001",
        "waybill": "YT9876543210",
        "status": status,
        "occurred_at": "2026-11-21T10:15:00+08:00",
        "location": "Hangzhou",
        **extra,
    }
    return json.dumps({"events": [event]}).encode()


def sig(raw: bytes, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    return {**JSON, "x-aftersales-signature": standard.signature_header(int(at.timestamp()), raw, secret)}


def test_our_format_valid_delivery() -> None:
    raw = ours(reference="clm_0123")
    standard.verify(raw, sig(raw), SECRET, now=NOW)
    [event] = standard.parse(raw, sig(raw), carrier="yto")
    assert (event.carrier, event.waybill, event.status) == ("yto", "YT9876543210", ParcelStatus.DELIVERED)
    assert event.occurred_at == datetime(2026, 11, 21, 2, 15, tzinfo=UTC)
    assert (event.provider_event_id, event.reference, event.key) == ("evt_0001", "clm_0123", "id:evt_0001")


def test_our_format_wrong_signature_and_rotation() -> None:
    raw = ours()
    with pytest.raises(BadSignature):
        standard.verify(raw, sig(raw, secret="old"), SECRET, now=NOW)
    current = standard.signature(int(NOW.timestamp()), raw, SECRET)
    both = f"{sig(raw, secret='old')['x-aftersales-signature']},v1={current}"
    standard.verify(raw, {**JSON, "x-aftersales-signature": both}, SECRET, now=NOW)
    for header in ("", "v1=abc", "t=abc,v1=00", f"t={int(NOW.timestamp())}"):
        with pytest.raises(BadSignature):
            standard.verify(raw, {**JSON, "x-aftersales-signature": header}, SECRET, now=NOW)


def test_our_format_stale_or_future_timestamp_is_refused() -> None:
    raw = ours()
    standard.verify(raw, sig(raw, NOW - timedelta(seconds=300)), SECRET, now=NOW)
    for at in (NOW - timedelta(seconds=301), NOW + timedelta(seconds=301)):
        with pytest.raises(BadSignature) as refused:
            standard.verify(raw, sig(raw, at), SECRET, now=NOW)
        assert refused.value.code == "stale_signature"


def test_our_format_truncated_body_wrong_content_type_unknown_status() -> None:
    raw = ours()[:-5]
    with pytest.raises(BadPayload):
        standard.parse(raw, JSON, carrier="yto")
    with pytest.raises(BadPayload) as wrong_type:
        standard.verify(
            ours(), {**sig(ours()), "content-type": "application/x-www-form-urlencoded"}, SECRET, now=NOW
        )
    assert wrong_type.value.code == "unsupported_media_type"
    with pytest.raises(BadPayload) as unknown:
        standard.parse(ours("lost_in_space"), JSON, carrier="yto")
    assert unknown.value.code == "unknown_status"
    with pytest.raises(BadPayload):
        standard.parse(json.dumps({"events": []}).encode(), JSON, carrier="yto")
    with pytest.raises(BadPayload):
        standard.parse(ours(occurred_at="2026-11-21T10:15:00"), JSON, carrier="yto")  # no offset


def test_the_docs_worked_example_reproduces() -> None:
    """docs/webhooks.md: the same bytes, secret and timestamp give the signature printed there."""
    body = (
        b'{"events":[{"event_id":"evt_42","waybill":"SF1234567890","status":"delivered",'
        b'"occurred_at":"2026-11-21T10:15:00+08:00"}]}'
    )
    assert standard.signature(1763691300, body, "whsec_test_123") == (
        "1e0dfab89180211d5b67b7284d2383cc8484ad1617c66ede4df5a9904cd9a0dc"
    )


def test_the_local_carrier_builds_what_each_adapter_accepts() -> None:
    for carrier in ("kuaidi100", "aftership", "sf"):
        delivery = build(carrier, waybill="SF1234567890", status="picked_up", at=NOW, secret=SECRET)
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        adapter = adapter_for(carrier)
        adapter.verify(delivery.body, headers, SECRET, now=NOW)
        [event] = adapter.parse(delivery.body, headers, carrier=carrier)
        assert (event.carrier, event.waybill, event.status) == ("sf", "SF1234567890", ParcelStatus.PICKED_UP)
