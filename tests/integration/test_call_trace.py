"""The handler call trace sees what a handler really calls, and the IAM table catches a call it lacks."""

from __future__ import annotations

from typing import Any

from infra.deploy import permissions
from infra.deploy.trace import tracing
from infra.local.template import load_template

from .conftest import Api, Context, claim_body


def test_trace_attributes_calls_to_the_handler_that_made_them(api: Api) -> None:
    from order_events.app import lambda_handler

    from tests.events.builder import load

    with tracing() as trace:
        lambda_handler(load("order_delivered.json"), Context())
        api.submit(claim_body(order_id="ord-ev-1", quantity=1))
    assert trace.calls["order_events"] == {
        ("dynamodb:Query", "ClaimsTable"),
        ("dynamodb:PutItem", "ClaimsTable"),
        ("dynamodb:UpdateItem", "ClaimsTable"),  # a new order's lines sold, on the scorecards
    }
    submit = trace.calls["submit_claim"]
    assert ("dynamodb:PutItem", "IdempotencyTable") in submit
    # a transaction needs the item action of each of its parts, on the claims table
    assert {("dynamodb:PutItem", "ClaimsTable"), ("dynamodb:UpdateItem", "ClaimsTable")} <= submit


def test_a_call_missing_from_the_table_is_reported(monkeypatch: Any) -> None:
    traced = {"order_events": {("dynamodb:Query", "ClaimsTable"), ("dynamodb:Scan", "ClaimsTable")}}
    problems = permissions.unlisted_calls(traced, load_template(permissions_template()))
    assert problems == ["OrderEventsFunction (order_events) called dynamodb:Scan on ClaimsTable"]


def test_calls_outside_any_handler_are_not_recorded(api: Api) -> None:
    from aftersales.store import default_repository

    with tracing() as trace:
        default_repository().get_claim("C-none")
    assert dict(trace.calls) == {}


def permissions_template() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "template.yaml")
