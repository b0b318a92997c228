"""Real answers match the OpenAPI document: success bodies their route's schema, errors the Error schema."""

from __future__ import annotations

from typing import Any

from aftersales.api import openapi
from jsonschema import Draft202012Validator

from .conftest import BUYER, MERCHANT, OPS, Api, claim_body

DOC = openapi.document()


def _check(answer: Any, method: str, route: str) -> None:
    responses = DOC["paths"][route][method]["responses"]
    assert str(answer.status) in responses, f"{answer.status} is not documented for {method} {route}"
    schema = responses[str(answer.status)]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": DOC["components"]}).validate(answer.body)


def test_every_answer_of_a_claims_life_matches_the_document(api: Api, order: dict[str, Any]) -> None:
    submitted = api.submit(claim_body())
    _check(submitted, "post", "/claims")
    claim_id = submitted.body["claim_id"]
    _check(api.call("GET", "/claims", as_=BUYER), "get", "/claims")
    _check(api.call("GET", "/merchant/claims", as_=MERCHANT), "get", "/merchant/claims")
    _check(api.call("GET", "/ops/claims", as_=OPS, query={"merchant_id": "m-1"}), "get", "/ops/claims")
    _check(api.call("GET", f"/claims/{claim_id}", as_=MERCHANT), "get", "/claims/{claim_id}")
    _check(
        api.act(claim_id, "evidence", {"filename": "a.jpg", "content_type": "image/jpeg"}, as_=BUYER),
        "post",
        "/claims/{claim_id}/evidence",
    )
    _check(
        api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT),
        "post",
        "/claims/{claim_id}/decision",
    )
    _check(
        api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF12345678"}, as_=BUYER),
        "post",
        "/claims/{claim_id}/shipment",
    )
    _check(api.call("GET", f"/claims/{claim_id}", as_=BUYER), "get", "/claims/{claim_id}")
    # errors
    _check(api.act(claim_id, "cancel", as_=BUYER), "post", "/claims/{claim_id}/cancel")  # 409
    _check(
        api.act(claim_id, "inspection", {"passed": "maybe"}, as_=MERCHANT),
        "post",
        "/claims/{claim_id}/inspection",
    )
    _check(api.call("GET", "/claims/clm_nope", as_=BUYER), "get", "/claims/{claim_id}")
    _check(api.call("GET", "/claims", as_={"sub": "x"}), "get", "/claims")
    _check(api.call("PUT", "/ops/orders/ord-2", as_=OPS, body={"lines": []}), "put", "/ops/orders/{order_id}")
