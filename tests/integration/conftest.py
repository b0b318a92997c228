"""moto-backed AWS, the real tables and handlers, and an API client speaking API Gateway v2 events."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aftersales.process import reset_process_state
from moto import mock_aws

from infra.local.moto_env import LocalLambdaContext, create_idempotency_table
from tests.events.builder import http_event

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing

BUYER = {"sub": "buyer-1", "cognito:groups": "[buyer]"}
OTHER_BUYER = {"sub": "buyer-2", "cognito:groups": "[buyer]"}
MERCHANT = {"sub": "staff-1", "cognito:groups": "[merchant]", "custom:merchant_id": "m-1"}
OTHER_MERCHANT = {"sub": "staff-9", "cognito:groups": "[merchant]", "custom:merchant_id": "m-9"}
OPS = {"sub": "ops-1", "cognito:groups": "[ops]"}
NO_ROLE = {"sub": "someone"}

ROUTES = [
    "/claims/{claim_id}/return-received",
    "/claims/{claim_id}/{action}",
    "/claims/{claim_id}",
    "/ops/orders/{order_id}",
]


def Context() -> LocalLambdaContext:
    return LocalLambdaContext("aftersales-test", aws_request_id="req-1", memory_limit_in_mb=256)


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class Clock:
    def __init__(self, path: Path):
        self.path = path
        self.set(START)

    def set(self, at: datetime) -> None:
        self.at = at
        self.path.write_text(at.isoformat().replace("+00:00", "Z"))

    def advance(self, **delta: float) -> datetime:
        self.set(self.at + timedelta(**delta))
        return self.at


def _route_of(path: str) -> tuple[str, dict[str, str]]:
    parts = path.strip("/").split("/")
    if parts[0] == "claims" and len(parts) >= 2:
        params = {"claim_id": parts[1]}
        return "/claims/{claim_id}" + ("/" + parts[2] if len(parts) > 2 else ""), params
    if parts[:2] == ["ops", "orders"] and len(parts) == 3:
        return "/ops/orders/{order_id}", {"order_id": parts[2]}
    return path, {}


class Api:
    """Calls the real handlers in-process with API Gateway v2 events, as the HTTP API would."""

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: dict[str, Any] | None,
        body: Any = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        from claims_api.app import lambda_handler as claims_api
        from submit_claim.app import lambda_handler as submit_claim

        route, params = _route_of(path)
        event = http_event(
            method,
            path,
            route=route,
            claims=as_,
            body=body,
            raw_body=raw_body,
            headers=headers,
            query=query,
            path_params=params,
        )
        handler = submit_claim if (method, path) == ("POST", "/claims") else claims_api
        result = handler(event, Context())
        text = result.get("body") or ""
        return Answer(result["statusCode"], json.loads(text) if text else None, result.get("headers") or {})

    def submit(
        self, body: dict[str, Any], *, key: str = "key-00000001", as_: dict[str, Any] = BUYER
    ) -> Answer:
        return self.call("POST", "/claims", as_=as_, body=body, headers={"Idempotency-Key": key})

    def act(self, claim_id: str, action: str, body: Any = None, *, as_: dict[str, Any]) -> Answer:
        return self.call("POST", f"/claims/{claim_id}/{action}", as_=as_, body={} if body is None else body)


def order_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "buyer_id": "buyer-1",
        "merchant_id": "m-1",
        "paid_at": "2026-11-15T02:00:00Z",
        "delivered_at": "2026-11-18T02:00:00Z",
        "lines": [
            {
                "line_id": "L1",
                "sku": "SKU-1",
                "title": "Wool coat",
                "category": "apparel",
                "quantity": 2,
                "paid_amount": "259.80",
            },
            {
                "line_id": "L2",
                "sku": "SKU-2",
                "title": "Kettle",
                "category": "appliance",
                "quantity": 1,
                "paid_amount": "129.90",
                "part_kind": "unit",
            },
        ],
        "buyer_phone": "13812345678",
        "shipping_address": "浙江省杭州市西湖区文三路 100 号",
    }
    body.update(overrides)
    return body


def claim_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "order_id": "ord-1",
        "line_id": "L1",
        "quantity": 1,
        "type": "return_refund",
        "reason": "quality_defect",
        "description": "seam torn, call me on 13812345678",
    }
    body.update(overrides)
    return body


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": "aftersales-test",
        "IDEMPOTENCY_TABLE_NAME": "aftersales-idempotency-test",
        "EVIDENCE_BUCKET": "aftersales-evidence-test",
        "DUE_SHARDS": "4",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "AfterSalesTest",
        "AFTERSALES_CLOCK_FILE": str(tmp_path / "clock"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("STATE_MACHINE_ARN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    reset_process_state()  # each test is a fresh cold start
    with mock_aws():
        from aftersales.store import default_repository

        default_repository().create_table()
        create_idempotency_table(boto3.client("dynamodb"), "aftersales-idempotency-test")
        boto3.client("s3").create_bucket(Bucket="aftersales-evidence-test")
        yield
    reset_process_state()  # each test is a fresh cold start


@pytest.fixture
def clock(aws: None, tmp_path: Path) -> Clock:
    return Clock(tmp_path / "clock")


@pytest.fixture
def api(aws: None, clock: Clock) -> Api:
    return Api()


@pytest.fixture
def order(api: Api) -> dict[str, Any]:
    answer = api.call("PUT", "/ops/orders/ord-1", as_=OPS, body=order_body())
    assert answer.status == 200, answer.body
    return answer.body


@pytest.fixture
def claim(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    answer = api.submit(claim_body())
    assert answer.status == 201, answer.body
    return answer.body


CLAIM_ID = re.compile(r"^clm_[0-9a-f]{32}$")
