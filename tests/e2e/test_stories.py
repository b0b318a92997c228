"""The local stack over real HTTP with real JWTs: the demo's stories, and the gateway's refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from infra.local import demo, tokens
from infra.local.demo import BUYER, OPS, OTHER_BUYER, ApiClient
from infra.local.stack import LocalStack
from tests.support.local_stack import submitted_return

pytestmark = pytest.mark.e2e

TICKED = {"merchant-silent", "buyer-never-ships", "late-inspection"}


@pytest.mark.parametrize("story", demo.STORIES, ids=lambda s: s.key)
def test_story_ends_as_told(story: demo.Story, stack: LocalStack, api: ApiClient) -> None:
    if story.key in TICKED and not stack.scheduled:
        pytest.skip("template.yaml schedules no function yet (sla_tick): lapses cannot act")
    result = demo.play(story, api, stack)
    assert result.ok, result.problems
    claim = result.detail["claim"] if result.detail else {}
    assert (claim["status"], claim["outcome"]) == (story.status, story.outcome)
    if story.penalty is not None:
        assert result.detail is not None and result.detail["penalties"]["total"] == story.penalty


def test_the_claim_run_is_the_real_state_machine_named_after_the_claim(
    stack: LocalStack, api: ApiClient
) -> None:
    result = demo.play(demo.STORIES[0], api, stack)
    assert result.ok, result.problems
    sfn = stack.client("stepfunctions")
    [arn] = stack.state_machines.values()
    execution = sfn.describe_execution(
        executionArn=arn.replace(":stateMachine:", ":execution:") + f":{result.claim_id}"
    )
    assert execution["status"] == "SUCCEEDED"
    assert stack.lambdas is not None and stack.lambdas.calls_to(stack.physical["RefundFunction"])


def _submitted_claim(stack: LocalStack, api: ApiClient) -> str:
    return submitted_return(stack, api)


def test_a_forged_token_is_refused_401(stack: LocalStack, api: ApiClient, tmp_path) -> None:
    # Same claims, signed by a key the gateway has never seen.
    forged = tokens.mint("ops", "intruder", key_file=tmp_path / "other-key.pem")
    reply = api.call("GET", "/ops/claims", token=forged)
    assert reply.status == 401
    assert reply.body == {"code": "unauthenticated", "message": "Unauthorized", "details": {}}
    assert api.call("GET", "/claims").status == 401  # no token at all


def test_an_expired_token_is_refused_401(stack: LocalStack, api: ApiClient) -> None:
    expired = tokens.mint("buyer", BUYER[1], ttl=60, now=1_000_000)
    assert api.call("GET", "/claims", token=expired).status == 401


def test_another_buyers_claim_is_not_found_404(stack: LocalStack, api: ApiClient) -> None:
    claim_id = _submitted_claim(stack, api)
    assert api.call("GET", f"/claims/{claim_id}", who=BUYER).status == 200
    reply = api.call("GET", f"/claims/{claim_id}", who=OTHER_BUYER)
    assert reply.status == 404
    assert claim_id not in str(reply.body.get("message", ""))
    # Nor can the other buyer act on it.
    assert api.call("POST", f"/claims/{claim_id}/cancel", {}, who=OTHER_BUYER).status == 404


def test_routes_the_template_does_not_name_are_404_or_405_with_codes(
    stack: LocalStack, api: ApiClient
) -> None:
    unknown = api.call("GET", "/admin", who=OPS)
    assert (unknown.status, unknown.body["code"]) == (404, "not_found")
    assert api.call("GET", "/admin").status == 404  # the default route needs no token
    wrong_method = api.call("DELETE", "/claims", who=OPS)
    assert (wrong_method.status, wrong_method.body["code"]) == (405, "method_not_allowed")
    assert wrong_method.body["details"] == {"allow": ["GET", "POST"]}


def test_advancing_the_clock_moves_what_handlers_see(stack: LocalStack, api: ApiClient) -> None:
    before = stack.now()
    stack.advance(timedelta(hours=5))
    assert stack.now() - before == timedelta(hours=5)
    claim_id = _submitted_claim(stack, api)
    created = api.call("GET", f"/claims/{claim_id}", who=OPS).body["claim"]["created_at"]
    assert created == stack.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw(stack: LocalStack, api: ApiClient, method: str, path: str, body: bytes, headers: dict[str, str]):
    import http.client
    import json as _json
    from urllib.parse import urlsplit

    where = urlsplit(stack.api_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    token = api.token(BUYER)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {token}", **headers})
    response = conn.getresponse()
    status, answer, allow = (
        response.status,
        _json.loads(response.read() or b"null"),
        response.getheader("Allow"),
    )
    conn.close()
    return status, answer, allow


@pytest.mark.parametrize(
    ("method", "body", "content_type", "status", "code"),
    [
        (
            "POST",
            b'{"order_id": ' + b"[" * 1000 + b"]" * 1000 + b"}",
            "application/json",
            400,
            "malformed_json",
        ),
        ("POST", b'{"order_id": "\xff\xfe"}', "application/json", 400, "malformed_json"),
        ("POST", b"order_id=1", "text/plain", 415, "unsupported_media_type"),
        ("POST", b"<claim/>", "application/xml", 415, "unsupported_media_type"),
        ("POST", b"\x00\x01", "application/octet-stream", 415, "unsupported_media_type"),
        ("POST", b"{}", "application/vnd.api+json", 415, "unsupported_media_type"),
        (
            "POST",
            b'{"order_id": "nope", "quantity": 1, "type": "return_refund", "reason": "no_reason"}',
            "APPLICATION/JSON; Charset=UTF-8",
            404,
            "order_not_found",
        ),
        ("TRACE", b"", "application/json", 405, "method_not_allowed"),
    ],
    ids=["deep", "not-utf8", "text", "xml", "octet", "vnd-json", "upper-case-json", "trace"],
)
def test_hostile_requests_over_http_get_a_coded_4xx(
    stack: LocalStack, api: ApiClient, method: str, body: bytes, content_type: str, status: int, code: str
) -> None:
    headers = {"Content-Type": content_type, "Idempotency-Key": f"hostile-{uuid.uuid4().hex}"}
    got, answer, allow = _raw(stack, api, method, "/claims", body, headers)
    assert (got, answer["code"]) == (status, code), answer
    assert set(answer) == {"code", "message", "details"}
    if method == "TRACE":
        assert allow == "GET, POST"
