"""Tokens with extra claims never raise a role; contact data in free text is masked for everyone but
its author; no handler logs or traces a phone, an address or a token in clear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from .conftest import BUYER, MERCHANT, OPS, Api, claim_body

PHONE = "13812345678"
DOTTED = "138.1234.5678"
ADDRESS = "浙江省杭州市西湖区文三路 100 号"
SECRETS = (PHONE, "1234", "文三路", "zhang@example.com")

FORGED = {
    "custom-role-ops": {**BUYER, "custom:role": "ops"},
    "role-ops": {**BUYER, "role": "ops"},
    "custom-role-merchant": {**BUYER, "custom:role": "merchant", "custom:merchant_id": "m-1"},
    "merchant-id-only": {**BUYER, "custom:merchant_id": "m-1"},
}


@pytest.mark.parametrize("token", FORGED.values(), ids=FORGED.keys())
def test_a_buyer_token_with_role_claims_stays_a_buyer(api: Api, claim: dict[str, Any], token: dict) -> None:
    claim_id = claim["claim_id"]
    for path in ("/ops/claims", "/merchant/claims"):
        refused = api.call("GET", path, as_=token, query={"merchant_id": "m-1"})
        assert (refused.status, refused.body["code"]) == (404, "not_found")
    decision = api.act(claim_id, "decision", {"decision": "approve"}, as_=token)
    assert (decision.status, decision.body["code"]) == (404, "not_found")
    detail = api.call("GET", f"/claims/{claim_id}", as_=token).body
    assert detail["next_action"]["your_actions"] == ["cancel", "message"]  # a buyer's actions, no ops ones
    assert api.call("GET", f"/claims/{claim_id}", as_=OPS).body["claim"]["status"] == "pending_review"


def test_a_token_with_two_roles_is_refused(api: Api, claim: dict[str, Any]) -> None:
    answer = api.call("GET", "/ops/claims", as_={"sub": "x", "cognito:groups": "[buyer ops]"})
    assert (answer.status, answer.body["code"]) == (401, "unauthenticated")


def _closed_rated_claim_with_contact_data_in_every_text(api: Api) -> str:
    claim_id = api.submit(
        claim_body(
            description=f"call {DOTTED} or mail zhang@example.com",
            type="exchange",
            reason="size_color_mismatch",
        )
    ).body["claim_id"]
    api.act(
        claim_id,
        "decision",
        {"decision": "reject", "reason": "worn, merchant line 0571-8888 1234"},
        as_=MERCHANT,
    )
    api.act(claim_id, "dispute", {"reason": f"ring +86 138 1234 5678, I live at {ADDRESS}"}, as_=BUYER)
    api.act(claim_id, "ruling", {"outcome": "dismiss", "reason": "no defect"}, as_=OPS)
    scores = {"response_speed": 1, "resolution": 1, "attitude": 1, "convenience": 1, "timeliness": 1}
    rated = api.act(claim_id, "rating", {**scores, "comment": f"138/1234/5678 {ADDRESS}"}, as_=BUYER)
    assert rated.status == 200, rated.body
    return claim_id


def test_buyer_text_is_masked_for_merchant_and_ops_and_clear_for_the_buyer(api: Api, order: dict) -> None:
    claim_id = _closed_rated_claim_with_contact_data_in_every_text(api)
    for viewer in (MERCHANT, OPS):
        seen = json.dumps(api.call("GET", f"/claims/{claim_id}", as_=viewer).body, ensure_ascii=False)
        for secret in ("1234 5678", DOTTED, "138/1234/5678", "文三路", "zhang@example.com"):
            assert secret not in seen, (viewer, secret)
        assert "138****5678" in seen and "浙江省杭州市****" in seen
        assert "worn" in seen and "no defect" in seen  # only the data is hidden
    mine = json.dumps(api.call("GET", f"/claims/{claim_id}", as_=BUYER).body, ensure_ascii=False)
    for own in (DOTTED, "+86 138 1234 5678", "138/1234/5678", ADDRESS, "zhang@example.com"):
        assert own in mine
    assert "0571-8888 1234" not in mine  # the merchant's text is masked for the buyer
    merchant_view = json.dumps(api.call("GET", f"/claims/{claim_id}", as_=MERCHANT).body, ensure_ascii=False)
    assert "0571-8888 1234" in merchant_view  # its own text, as written


class _Subsegment:
    def __init__(self, recorded: list[Any]) -> None:
        self.recorded = recorded

    def put_metadata(self, key: str, value: Any, namespace: str = "") -> None:
        self.recorded.append(("metadata", key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self.recorded.append(("annotation", key, value))


class _Provider:
    def __init__(self) -> None:
        self.recorded: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[_Subsegment]:
        yield _Subsegment(self.recorded)


def test_no_handler_logs_or_traces_contact_data_or_the_token(
    api: Api, order: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aftersales.observability import tracer

    provider = _Provider()
    monkeypatch.setattr(tracer.powertools_tracer, "provider", provider)
    capsys.readouterr()
    claim_id = _closed_rated_claim_with_contact_data_in_every_text(api)
    for viewer in (BUYER, MERCHANT, OPS):
        assert api.call("GET", f"/claims/{claim_id}", as_=viewer).status == 200
    api.call(
        "POST", "/claims", as_=BUYER, raw_body='{"order_id": ', headers={"Idempotency-Key": "k-log-0001"}
    )
    api.call(
        "GET",
        "/claims/clm_missing",
        as_=BUYER,
        headers={"Authorization": "Bearer eyJsecret.token.value"},
    )

    logs = capsys.readouterr()
    traced = json.dumps(provider.recorded, ensure_ascii=False, default=str)
    assert ("annotation", "Service", "aftersales") in provider.recorded  # the tracer did run
    assert not [entry for entry in provider.recorded if entry[0] == "metadata"]
    for text in (logs.out + logs.err, traced):
        for secret in (PHONE, "1234 5678", DOTTED, "文三路", "zhang@example.com", "eyJsecret"):
            assert secret not in text
