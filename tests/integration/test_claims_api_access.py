"""Roles: a buyer sees only own claims, a merchant only its merchant's; anything else is 404; no role 401."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BUYER, MERCHANT, NO_ROLE, OPS, OTHER_BUYER, OTHER_MERCHANT, Api


@pytest.mark.parametrize("who", [BUYER, MERCHANT, OPS], ids=["owner", "merchant", "ops"])
def test_those_in_scope_can_read(api: Api, claim: dict[str, Any], who: dict[str, Any]) -> None:
    assert api.call("GET", f"/claims/{claim['claim_id']}", as_=who).status == 200


@pytest.mark.parametrize("who", [OTHER_BUYER, OTHER_MERCHANT], ids=["other-buyer", "other-merchant"])
def test_others_get_404_on_read_and_act(api: Api, claim: dict[str, Any], who: dict[str, Any]) -> None:
    read = api.call("GET", f"/claims/{claim['claim_id']}", as_=who)
    assert (read.status, read.body["code"]) == (404, "not_found")
    action = "cancel" if who is OTHER_BUYER else "decision"
    body = {} if who is OTHER_BUYER else {"decision": "approve"}
    acted = api.act(claim["claim_id"], action, body, as_=who)
    assert (acted.status, acted.body["code"]) == (404, "not_found")
    assert api.call("GET", f"/claims/{claim['claim_id']}", as_=BUYER).body["claim"]["version"] == 1


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        (BUYER, "POST", "decision", {"decision": "approve"}),
        (BUYER, "GET", "/ops/claims", None),
        (BUYER, "GET", "/merchant/claims", None),
        (MERCHANT, "POST", "cancel", {}),
        (MERCHANT, "GET", "/claims", None),
        (MERCHANT, "POST", "ruling", {"outcome": "dismiss", "reason": "x"}),
        (OPS, "POST", "shipment", {"carrier": "sf", "waybill": "SF123456"}),
    ],
)
def test_routes_of_another_role_are_404(
    api: Api, claim: dict[str, Any], who: dict[str, Any], method: str, path: str, body: Any
) -> None:
    target = path if path.startswith("/") else f"/claims/{claim['claim_id']}/{path}"
    answer = api.call(method, target, as_=who, body=body)
    assert (answer.status, answer.body["code"]) == (404, "not_found")


def test_buyer_cannot_import_orders(api: Api) -> None:
    answer = api.call("PUT", "/ops/orders/x-1", as_=BUYER, body={})
    assert (answer.status, answer.body["code"]) == (404, "not_found")


def test_someone_elses_order_is_unknown(api: Api, order: dict[str, Any]) -> None:
    from .conftest import claim_body

    answer = api.submit(claim_body(), as_=OTHER_BUYER)
    assert (answer.status, answer.body["code"]) == (404, "order_not_found")


@pytest.mark.parametrize(
    "claims",
    [None, NO_ROLE, {"sub": "x", "cognito:groups": "[admins]"}, {"sub": "x", "cognito:groups": "[merchant]"}],
    ids=["no-authorizer", "no-role", "unknown-role", "merchant-without-merchant-id"],
)
def test_no_role_is_401(api: Api, claims: dict[str, Any] | None) -> None:
    answer = api.call("GET", "/claims", as_=claims)
    assert (answer.status, answer.body["code"]) == (401, "unauthenticated")


def test_contact_details_are_masked_for_those_who_do_not_need_them(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    own = api.call("GET", f"/claims/{claim_id}", as_=BUYER).body
    assert own["contact"]["phone"] == "13812345678"
    merchant = api.call("GET", f"/claims/{claim_id}", as_=MERCHANT).body
    assert merchant["contact"] == {"phone": "138****5678", "address": "浙江省杭州市****"}
    assert merchant["claim"]["description"] == "seam torn, call me on 138****5678"
    ops = api.call("GET", f"/claims/{claim_id}", as_=OPS).body
    assert ops["contact"]["phone"] == "138****5678"


def test_logs_carry_no_phone_number(
    api: Api, claim: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    api.call("GET", f"/claims/{claim['claim_id']}", as_=MERCHANT)
    api.act(claim["claim_id"], "decision", {"decision": "approve"}, as_=MERCHANT)
    assert "13812345678" not in capsys.readouterr().out
