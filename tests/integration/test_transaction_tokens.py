"""Every claim transaction carries a ClientRequestToken derived from the change (claim, version written),
so DynamoDB recognises an SDK retry of a transaction that did commit. moto ignores the token
(docs/moto.md): these tests pin what is sent, and what a token reused for other content means."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aftersales.store.repository import request_token
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from .conftest import MERCHANT, Api


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    original = BaseClient._make_api_call

    def capture(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            sent.append(params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", capture)
    yield sent


def _claim_token(params: dict[str, Any]) -> str:
    return str(params["ClientRequestToken"])


def _writes_a_claim(params: dict[str, Any]) -> bool:
    """Not the policy layer's seed, written the first time a claim needs it."""
    puts = [item["Put"]["Item"] for item in params["TransactItems"] if "Put" in item]
    return any(put["pk"]["S"].startswith("CLAIM#") for put in puts)


def test_each_change_sends_the_token_of_the_claim_and_the_version_it_writes(
    api: Api, order: dict[str, Any], transactions: list[dict[str, Any]]
) -> None:
    claim_id = api.submit({**_body(order)}).body["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    tokens = [_claim_token(p) for p in transactions if _writes_a_claim(p)]
    assert tokens == [request_token(claim_id, 1), request_token(claim_id, 2)]
    assert all(len(t) <= 36 for t in tokens)  # DynamoDB's limit


def test_the_same_change_always_gets_the_same_token_and_another_change_another() -> None:
    assert request_token("C-1", 3) == request_token("C-1", 3)
    assert len({request_token("C-1", 3), request_token("C-1", 4), request_token("C-2", 3)}) == 3
    assert request_token("C-1", "P#inspection#1#2026-11-20") != request_token("C-1", 3)


def test_a_token_reused_for_other_content_is_a_lost_race_and_the_action_is_re_decided(
    api: Api, order: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers of one claim version send one token: DynamoDB answers the second with
    IdempotentParameterMismatch (not a cancelled transaction). The writer must re-read, as after any
    lost race, instead of failing the caller."""
    claim_id = api.submit(_body(order)).body["claim_id"]
    original = BaseClient._make_api_call
    mismatches = []

    def first_write_loses(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and not mismatches:
            mismatches.append(params["ClientRequestToken"])
            error = {"Error": {"Code": "IdempotentParameterMismatchException", "Message": "token reused"}}
            raise ClientError(error, operation)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", first_write_loses)
    approved = api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    assert mismatches == [request_token(claim_id, 2)]
    assert approved.status == 200 and approved.body["status"] == "awaiting_return_shipment"


def _body(order: dict[str, Any]) -> dict[str, Any]:
    from .conftest import claim_body

    return claim_body(order_id=order["order_id"], quantity=1)
