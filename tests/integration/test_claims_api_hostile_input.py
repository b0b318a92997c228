"""What a fuzzer or an attacker sends gets a 4xx with a code, never a 5xx, and changes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.events.builder import http_event

from .conftest import BUYER, OPS, Api, Context, claim_body, order_body


def _send(event: dict[str, Any], *, submit: bool = False) -> tuple[int, dict[str, Any], dict[str, str]]:
    from claims_api.app import lambda_handler as claims_api
    from submit_claim.app import lambda_handler as submit_claim

    result = (submit_claim if submit else claims_api)(event, Context())
    return result["statusCode"], json.loads(result["body"]), result.get("headers") or {}


def _submit_event(*, raw_body: str, content_type: str | None = "application/json", **extra: Any) -> dict:
    headers = {"Idempotency-Key": "k-hostile-1"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    event = http_event("POST", "/claims", route="/claims", claims=BUYER, raw_body=raw_body, headers=headers)
    if content_type is None:
        event["headers"].pop("content-type", None)
    event.update(extra)
    return event


def _no_claims(api: Api) -> None:
    assert api.call("GET", "/claims", as_=BUYER).body["claims"] == []


@pytest.mark.parametrize("depth", [33, 1000, 30_000])
def test_deeply_nested_json_is_400_before_parsing(api: Api, order: dict[str, Any], depth: int) -> None:
    body = '{"order_id": ' + "[" * depth + "]" * depth + "}"
    status, answer, _ = _send(_submit_event(raw_body=body), submit=True)
    assert (status, answer["code"]) == (400, "malformed_json")
    _no_claims(api)


def test_brackets_inside_strings_do_not_count_as_depth(api: Api, order: dict[str, Any]) -> None:
    body = json.dumps(claim_body(description="[[[[" * 40 + "{" * 40))
    status, answer, _ = _send(_submit_event(raw_body=body), submit=True)
    assert status == 201, answer


@pytest.mark.parametrize(
    "event_change",
    [
        {
            "body": base64.b64encode(
                b'{"order_id": "\\xff\\xfe"}'.replace(b"\\xff\\xfe", b"\xff\xfe")
            ).decode(),
            "isBase64Encoded": True,
        },
        {"body": "not base64 at all!", "isBase64Encoded": True},
        {"body": '{"order_id": "\\ud800"}'},  # an escaped lone surrogate
        {"body": '{"quantity": NaN}'},
        {"body": '{"quantity": ' + "9" * 5000 + "}"},
    ],
    ids=["latin-bytes", "bad-base64", "lone-surrogate", "nan", "huge-int"],
)
def test_bodies_that_are_not_utf8_json_are_400(
    api: Api, order: dict[str, Any], event_change: dict[str, Any]
) -> None:
    status, answer, _ = _send(_submit_event(raw_body="{}", **event_change), submit=True)
    assert (status, answer["code"]) == (400, "malformed_json"), answer
    _no_claims(api)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
    ],
)
def test_bodies_that_are_not_json_are_415(api: Api, order: dict[str, Any], content_type: str) -> None:
    status, answer, _ = _send(
        _submit_event(raw_body=json.dumps(claim_body()), content_type=content_type), submit=True
    )
    assert (status, answer["code"]) == (415, "unsupported_media_type")
    assert answer["details"] == {"supported": ["application/json"]}
    _no_claims(api)


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json; Charset=UTF-8", 'application/json;charset="utf-8"', None],
)
def test_json_media_type_is_matched_case_insensitively(
    api: Api, order: dict[str, Any], content_type: str | None
) -> None:
    status, answer, _ = _send(
        _submit_event(raw_body=json.dumps(claim_body()), content_type=content_type), submit=True
    )
    assert status == 201, answer


def test_a_json_body_base64_encoded_by_the_gateway_is_read(api: Api, order: dict[str, Any]) -> None:
    encoded = base64.b64encode(json.dumps(claim_body()).encode()).decode()
    status, answer, _ = _send(_submit_event(raw_body=encoded, isBase64Encoded=True), submit=True)
    assert status == 201, answer


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("TRACE", "/claims", 405, "GET, POST"),
        ("DELETE", "/claims/clm_1", 405, "GET"),
        ("GET", "/claims/clm_1/cancel", 405, "POST"),
        ("PATCH", "/ops/orders/ord-1", 405, "PUT"),
        ("GET", "/nothing/here", 404, None),
        ("BREW", "/nothing", 404, None),
    ],
)
def test_the_default_route_answers_404_or_405_with_allow(
    api: Api, method: str, path: str, status: int, allow: str | None
) -> None:
    event = http_event(method, path, route="$default", claims=None)
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    got, answer, headers = _send(event)
    assert (got, answer["code"]) == (status, "method_not_allowed" if allow else "not_found")
    assert headers.get("Allow") == allow


@pytest.mark.parametrize("order_id", ["../", "..", ".hidden", "a" * 65, "a/b", "ord 1", "ord%2f", "订单"])
def test_order_ids_outside_the_safe_pattern_are_400(api: Api, order_id: str) -> None:
    event = http_event(
        "PUT",
        f"/ops/orders/{order_id}",
        route="/ops/orders/{order_id}",
        claims=OPS,
        body=order_body(),
        path_params={"order_id": order_id},
    )
    status, answer, _ = _send(event)
    assert (status, answer["code"], answer["details"]) == (400, "invalid_id", {"parameter": "order_id"})


def test_claim_ids_outside_the_safe_pattern_are_400(api: Api) -> None:
    event = http_event(
        "GET", "/claims/x", route="/claims/{claim_id}", claims=BUYER, path_params={"claim_id": "x" * 300}
    )
    status, answer, _ = _send(event)
    assert (status, answer["code"]) == (400, "invalid_id")


@pytest.mark.parametrize(
    "times",
    [
        {"paid_at": "1970-01-01T00:00:00Z"},
        {"paid_at": "1999-12-31T23:59:59Z", "delivered_at": None},
        {"paid_at": "2027-11-20T02:00:00Z", "delivered_at": None},  # a year after the clock
        {"delivered_at": "2026-11-20T02:06:00Z"},  # six minutes ahead: past the skew allowed
    ],
)
def test_implausible_order_times_are_422(api: Api, times: dict[str, Any]) -> None:
    answer = api.call("PUT", "/ops/orders/ord-1", as_=OPS, body=order_body(**times))
    assert (answer.status, answer.body["code"]) == (422, "implausible_timestamp"), answer.body
    assert api.call("GET", "/claims/anything", as_=BUYER).status == 404


def test_a_delivery_within_the_clock_skew_is_accepted(api: Api) -> None:
    answer = api.call(
        "PUT", "/ops/orders/ord-1", as_=OPS, body=order_body(delivered_at="2026-11-20T02:04:00Z")
    )
    assert answer.status == 200, answer.body
