"""The local gateway behaves like API Gateway (HTTP API, payload 2.0) in front of fake handlers."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from infra.local import gateway as gw
from infra.local.gateway import LocalGateway, Request, Router
from infra.local.template import Route
from infra.local.tokens import LocalIssuer

EXAMPLE = json.loads((Path(__file__).parents[1] / "events" / "apigw_v2_example.json").read_text())
NOW = 1_741_000_000.123

ROUTES = [
    Route("GET", "/claims/{id}", "ClaimsApi", auth_required=True, authorizer="Cognito"),
    Route("GET", "/claims/search", "ClaimsApi", auth_required=True, authorizer="Cognito"),
    Route("POST", "/claims/{id}/cancel", "ClaimsApi", auth_required=True, authorizer="Cognito"),
    Route("POST", "/claims", "SubmitClaim", auth_required=True, authorizer="Cognito"),
    Route("ANY", "/files/{proxy+}", "Files", auth_required=False),
    Route("POST", "/webhooks/logistics/{carrier}", "Webhook", auth_required=False),
    Route(
        "GET", "/ops/scorecard", "Ops", auth_required=True, authorizer="Cognito", scopes=("aftersales/ops",)
    ),
]


class Recorder:
    """A fake handler: remembers every event and answers what it is told to."""

    def __init__(self, answer=None):
        self.events = []
        self.contexts = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": '{"ok": true}'}

    def __call__(self, event, context):
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer(event) if callable(self.answer) else self.answer

    @property
    def event(self):
        return self.events[-1]


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return LocalIssuer.from_key_file(tmp_path_factory.mktemp("keys") / "jwt-key.pem")


@pytest.fixture
def handlers():
    return {name: Recorder() for name in ("ClaimsApi", "SubmitClaim", "Files", "Webhook", "Ops")}


@pytest.fixture
def gateway(handlers, issuer):
    server = gw.start(ROUTES, handlers, port=0, verifier=issuer.verify, clock=lambda: NOW)
    yield server
    server.stop()


@pytest.fixture
def buyer(issuer):
    return issuer.mint("buyer", "buyer-42")


def call(gateway, method, path, body=None, headers=None):
    """(status, headers, body bytes) for one request through the gateway's socket."""
    request = urllib.request.Request(gateway.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


# --- routing ------------------------------------------------------------------------------------------


def test_path_parameters_are_decoded_and_the_raw_path_kept(gateway, handlers, buyer):
    status, _, _ = call(gateway, "GET", "/claims/CLM%20001", headers=auth(buyer))

    assert status == 200
    event = handlers["ClaimsApi"].event
    assert event["routeKey"] == "GET /claims/{id}"
    assert event["rawPath"] == "/claims/CLM%20001"
    assert event["pathParameters"] == {"id": "CLM 001"}


def test_a_literal_segment_wins_over_a_path_parameter(gateway, handlers, buyer):
    call(gateway, "GET", "/claims/search", headers=auth(buyer))
    event = handlers["ClaimsApi"].event
    assert event["routeKey"] == "GET /claims/search"
    assert "pathParameters" not in event


def test_a_greedy_parameter_takes_the_rest_of_the_path_for_any_method(gateway, handlers):
    status, _, _ = call(gateway, "DELETE", "/files/a/b/c.pdf")
    assert status == 200
    event = handlers["Files"].event
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.pdf"}
    assert event["requestContext"]["http"]["method"] == "DELETE"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("DELETE", "/claims/C-1"), ("GET", "/claims/C-1/cancel"), ("GET", "/files/")],
)
def test_an_unknown_route_is_404_not_found(gateway, handlers, buyer, method, path):
    status, headers, body = call(gateway, method, path, headers=auth(buyer))
    assert status == 404
    assert json.loads(body) == {"code": "not_found", "message": "Not Found", "details": {}}
    assert headers["apigw-requestid"]
    assert not any(h.events for h in handlers.values())


def test_query_strings_are_decoded_and_repeated_keys_comma_joined(gateway, handlers, buyer):
    call(gateway, "GET", "/claims/C-1?status=open&status=closed&empty=&q=a%2Bb+c", headers=auth(buyer))

    event = handlers["ClaimsApi"].event
    assert event["rawQueryString"] == "status=open&status=closed&empty=&q=a%2Bb+c"
    assert event["queryStringParameters"] == {"status": "open,closed", "empty": "", "q": "a+b c"}


def test_without_a_query_string_there_are_no_query_parameters(gateway, handlers, buyer):
    call(gateway, "GET", "/claims/C-1", headers=auth(buyer))
    event = handlers["ClaimsApi"].event
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event


def test_headers_are_lowercased_repeated_ones_comma_joined_and_cookies_split_out(gateway, handlers):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.bound_port, timeout=10)
    conn.putrequest("POST", "/webhooks/logistics/sf")
    conn.putheader("X-Carrier-Tag", "a")
    conn.putheader("x-carrier-tag", "b")
    conn.putheader("Cookie", "session=abc; locale=zh-CN")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", "2")
    conn.endheaders(b"{}")
    assert conn.getresponse().status == 200
    conn.close()

    event = handlers["Webhook"].event
    assert event["headers"]["x-carrier-tag"] == "a,b"
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["session=abc", "locale=zh-CN"]
    assert "cookie" not in event["headers"]
    assert event["pathParameters"] == {"carrier": "sf"}


# --- bodies -------------------------------------------------------------------------------------------


def test_a_json_body_arrives_as_text(gateway, handlers):
    payload = json.dumps({"waybill": "SF123", "note": "已签收"}).encode()
    call(gateway, "POST", "/webhooks/logistics/sf", payload, {"Content-Type": "application/json"})

    event = handlers["Webhook"].event
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"waybill": "SF123", "note": "已签收"}


def test_a_binary_body_arrives_base64_encoded(gateway, handlers):
    payload = bytes(range(256))
    call(gateway, "POST", "/webhooks/logistics/sf", payload, {"Content-Type": "application/octet-stream"})

    event = handlers["Webhook"].event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_a_form_body_arrives_base64_encoded_as_on_http_apis(gateway, handlers):
    call(
        gateway,
        "POST",
        "/webhooks/logistics/sf",
        b"a=1&b=2",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    event = handlers["Webhook"].event
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"a=1&b=2"


def test_a_request_without_body_has_no_body_field(gateway, handlers):
    call(gateway, "DELETE", "/files/x")
    event = handlers["Files"].event
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_a_base64_response_body_is_sent_as_bytes(gateway, handlers):
    handlers["Files"].answer = {
        "statusCode": 200,
        "headers": {"content-type": "application/pdf"},
        "body": base64.b64encode(b"%PDF-\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    status, headers, body = call(gateway, "GET", "/files/label.pdf")
    assert (status, headers["content-type"], body) == (200, "application/pdf", b"%PDF-\x00\xff")


def test_a_body_over_10_mb_is_413_and_never_reaches_the_handler(gateway, handlers):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.bound_port, timeout=10)
    conn.putrequest("POST", "/webhooks/logistics/sf")
    conn.putheader("Content-Length", str(gw.MAX_BODY_BYTES + 1))
    conn.endheaders()  # the body is never sent: the gateway answers from the headers alone
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {
        "code": "payload_too_large",
        "message": "Request Entity Too Large",
        "details": {},
    }
    conn.close()
    assert handlers["Webhook"].events == []


def test_a_body_of_exactly_10_mb_is_accepted(handlers, issuer):
    gateway = LocalGateway(ROUTES, handlers, verifier=issuer.verify)
    body = b"x" * gw.MAX_BODY_BYTES
    response = gateway.handle(
        Request("POST", "/webhooks/logistics/sf", [("content-type", "text/plain")], body)
    )
    assert response.status == 200


# --- the authorizer -----------------------------------------------------------------------------------


def test_a_valid_token_puts_its_claims_in_the_event_as_api_gateway_does(gateway, handlers, issuer):
    token = issuer.mint("merchant", "m-user-7", merchant_id="M-100")

    status, _, _ = call(
        gateway, "POST", "/claims/C-1/cancel", b"{}", {**auth(token), "Content-Type": "application/json"}
    )

    assert status == 200
    jwt = handlers["ClaimsApi"].event["requestContext"]["authorizer"]["jwt"]
    claims = jwt["claims"]
    assert claims["sub"] == "m-user-7"
    assert claims["custom:merchant_id"] == "M-100"
    # API Gateway hands every claim over as a string, arrays as "[a b]".
    assert claims["cognito:groups"] == "[merchant]"
    assert claims["exp"].isdigit()
    assert jwt["scopes"] is None


def test_a_token_without_bearer_prefix_is_accepted(gateway, handlers, buyer):
    status, _, _ = call(gateway, "GET", "/claims/C-1", headers={"Authorization": buyer})
    assert status == 200


def test_no_token_is_401_unauthorized(gateway, handlers):
    status, headers, body = call(gateway, "GET", "/claims/C-1")
    assert status == 401
    assert json.loads(body) == {"code": "unauthenticated", "message": "Unauthorized", "details": {}}
    assert headers["www-authenticate"].startswith("Bearer")
    assert handlers["ClaimsApi"].events == []


def test_an_expired_token_is_401(gateway, handlers, issuer):
    token = issuer.mint("buyer", "b-1", ttl=60, now=NOW - 3600)
    status, headers, body = call(gateway, "GET", "/claims/C-1", headers=auth(token))
    assert status == 401
    assert json.loads(body) == {"code": "unauthenticated", "message": "Unauthorized", "details": {}}
    assert "expired" in headers["www-authenticate"]
    assert handlers["ClaimsApi"].events == []


def test_a_forged_token_is_401(gateway, handlers, tmp_path):
    forger = LocalIssuer.from_key_file(tmp_path / "forger.pem")
    status, _, body = call(gateway, "GET", "/claims/C-1", headers=auth(forger.mint("ops", "o-1")))
    assert status == 401
    assert json.loads(body) == {"code": "unauthenticated", "message": "Unauthorized", "details": {}}
    assert handlers["ClaimsApi"].events == []


def test_a_token_for_another_audience_is_401(gateway, handlers, issuer):
    token = LocalIssuer(issuer.key, audience="another-app").mint("buyer", "b-1")
    status, headers, _ = call(gateway, "GET", "/claims/C-1", headers=auth(token))
    assert status == 401
    assert "audience" in headers["www-authenticate"]
    assert handlers["ClaimsApi"].events == []


def test_a_route_without_authorizer_needs_no_token_and_has_no_authorizer_context(gateway, handlers):
    status, _, _ = call(
        gateway, "POST", "/webhooks/logistics/sf", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 200
    assert "authorizer" not in handlers["Webhook"].event["requestContext"]


def test_a_route_with_scopes_is_403_for_a_token_without_them(gateway, handlers, issuer):
    status, _, body = call(gateway, "GET", "/ops/scorecard", headers=auth(issuer.mint("ops", "o-1")))
    assert status == 403
    assert json.loads(body) == {"code": "forbidden", "message": "Forbidden", "details": {}}
    assert handlers["Ops"].events == []


def test_a_route_with_scopes_passes_the_granted_scopes(gateway, handlers, issuer):
    token = issuer.mint("ops", "o-1", scopes=["aftersales/ops", "openid"])
    status, _, _ = call(gateway, "GET", "/ops/scorecard", headers=auth(token))
    assert status == 200
    assert handlers["Ops"].event["requestContext"]["authorizer"]["jwt"]["scopes"] == [
        "aftersales/ops",
        "openid",
    ]


def test_the_gateway_uses_the_local_key_file_by_default(tmp_path, monkeypatch, handlers):
    monkeypatch.setenv("AFTERSALES_JWT_KEY", str(tmp_path / "default.pem"))
    from infra.local import tokens

    gateway = LocalGateway(ROUTES, handlers)
    token = tokens.mint("buyer", "b-1")
    assert gateway.handle(Request("GET", "/claims/C-1", [("authorization", f"Bearer {token}")])).status == 200


# --- responses ----------------------------------------------------------------------------------------


def test_status_headers_and_cookies_come_back(gateway, handlers):
    handlers["Webhook"].answer = {
        "statusCode": 202,
        "headers": {"content-type": "application/json", "x-request-count": 3},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": '{"accepted": true}',
    }
    status, headers, body = call(gateway, "POST", "/webhooks/logistics/sf", b"{}")
    assert status == 202
    assert headers["x-request-count"] == "3"
    assert headers.get_all("set-cookie") == ["a=1; Path=/", "b=2"]
    assert json.loads(body) == {"accepted": True}


@pytest.mark.parametrize(
    ("answer", "body"),
    [({"accepted": True}, {"accepted": True}), ("plain", "plain"), ([1, 2], [1, 2])],
)
def test_a_return_value_without_status_code_is_a_200_json_response(gateway, handlers, answer, body):
    handlers["Webhook"].answer = lambda _event: answer
    status, headers, raw = call(gateway, "POST", "/webhooks/logistics/sf", b"{}")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(raw) == body


def test_a_handler_exception_is_500_and_logged(gateway, handlers, caplog):
    handlers["Webhook"].answer = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="infra.local.gateway"):
        status, _, body = call(gateway, "POST", "/webhooks/logistics/sf", b"{}")
    assert status == 500
    assert json.loads(body) == {"code": "internal_error", "message": "Internal Server Error", "details": {}}
    assert any("Webhook" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "answer",
    [{"statusCode": "200"}, {"statusCode": 99}, {"statusCode": 200, "body": {"not": "a string"}}],
)
def test_a_malformed_proxy_response_is_500(gateway, handlers, answer):
    handlers["Webhook"].answer = answer
    status, _, body = call(gateway, "POST", "/webhooks/logistics/sf", b"{}")
    assert status == 500
    assert json.loads(body) == {"code": "internal_error", "message": "Internal Server Error", "details": {}}


def test_a_route_whose_function_has_no_handler_is_500(issuer, buyer):
    gateway = LocalGateway(ROUTES, {}, verifier=issuer.verify)
    response = gateway.handle(Request("GET", "/claims/C-1", [("authorization", buyer)]))
    assert response.status == 500
    assert response.json() == {"code": "internal_error", "message": "Internal Server Error", "details": {}}


def test_the_handler_gets_a_lambda_context_for_its_function(gateway, handlers):
    call(gateway, "DELETE", "/files/x")
    context = handlers["Files"].contexts[-1]
    assert context.function_name == "Files"
    assert context.aws_request_id
    assert context.get_remaining_time_in_millis() > 0


# --- the event's shape --------------------------------------------------------------------------------


def _full_request(gateway, issuer):
    token = issuer.mint("buyer", "buyer-42")
    conn = http.client.HTTPConnection("127.0.0.1", gateway.bound_port, timeout=10)
    body = json.dumps({"note": "ordered the wrong size by mistake"}).encode()
    conn.request(
        "POST",
        "/claims/CLM-20250301-0001/cancel?reason=changed_mind&notify=sms&notify=push",
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Cookie": "session=abc123; locale=zh-CN",
            "User-Agent": "aftersales-app/3.2.0",
        },
    )
    assert conn.getresponse().status == 200
    conn.close()


def test_the_event_has_the_keys_of_a_real_api_gateway_v2_event(gateway, handlers, issuer):
    _full_request(gateway, issuer)
    event = handlers["ClaimsApi"].event

    assert set(event) == set(EXAMPLE)
    context, example_context = event["requestContext"], EXAMPLE["requestContext"]
    assert set(context) == set(example_context)
    assert set(context["http"]) == set(example_context["http"])
    assert set(context["authorizer"]["jwt"]) == set(example_context["authorizer"]["jwt"])
    assert set(example_context["authorizer"]["jwt"]["claims"]) <= set(context["authorizer"]["jwt"]["claims"])
    assert all(isinstance(v, str) for v in context["authorizer"]["jwt"]["claims"].values())
    for key in ("version", "routeKey", "queryStringParameters", "pathParameters", "body", "cookies"):
        assert event[key] == EXAMPLE[key], key
    assert context["routeKey"] == "POST /claims/{id}/cancel"
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/claims/CLM-20250301-0001/cancel"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["http"]["userAgent"] == "aftersales-app/3.2.0"
    assert context["time"] == "03/Mar/2025:11:06:40 +0000"
    assert context["timeEpoch"] == 1_741_000_000_123
    assert context["requestId"]


def test_the_event_parses_with_powertools_models(gateway, handlers, issuer):
    _full_request(gateway, issuer)
    model = APIGatewayProxyEventV2Model.model_validate(handlers["ClaimsApi"].event)
    assert model.pathParameters == {"id": "CLM-20250301-0001"}
    assert model.requestContext.authorizer.jwt.claims["sub"] == "buyer-42"
    APIGatewayProxyEventV2Model.model_validate(EXAMPLE)


def test_a_powertools_http_resolver_serves_behind_the_gateway(issuer):
    resolver = APIGatewayHttpResolver()

    @resolver.post("/claims/<claim_id>/cancel")
    def cancel(claim_id: str):
        claims = resolver.current_event.request_context.authorizer.jwt_claim
        return {"cancelled": claim_id, "by": claims["sub"]}

    handler = resolver.resolve
    with gw.start(ROUTES, {"ClaimsApi": handler}, port=0, verifier=issuer.verify) as gateway:
        status, _, body = call(
            gateway, "POST", "/claims/C-9/cancel", b"{}", auth(issuer.mint("buyer", "b-5"))
        )
    assert status == 200
    assert json.loads(body) == {"cancelled": "C-9", "by": "b-5"}


# --- the router on its own ----------------------------------------------------------------------------


def test_the_default_route_catches_what_nothing_else_matches():
    router = Router([Route("ANY", "$default", "Fallback", False), Route("GET", "/a", "A", False)])
    assert router.match("GET", "/a")[0].function == "A"
    route, params = router.match("PATCH", "/whatever/else")
    assert (route.function, route.route_key, params) == ("Fallback", "$default", {})


def test_an_exact_method_wins_over_any_on_the_same_path():
    router = Router([Route("ANY", "/a/{x}", "Any", False), Route("GET", "/a/{x}", "Get", False)])
    assert router.match("GET", "/a/1")[0].function == "Get"
    assert router.match("POST", "/a/1")[0].function == "Any"


def test_a_route_served_twice_is_refused():
    with pytest.raises(ValueError, match="GET /a"):
        Router([Route("GET", "/a", "A", False), Route("GET", "/a", "B", False)])


def test_payload_format_1_0_is_refused():
    with pytest.raises(ValueError, match=r"2\.0"):
        Router([Route("GET", "/a", "A", False, payload_format_version="1.0")])


def test_after_stop_the_port_refuses_connections(handlers, issuer):
    gateway = gw.start(ROUTES, handlers, port=0, verifier=issuer.verify)
    assert gateway.start() is gateway  # starting twice is harmless
    port = gateway.bound_port
    gateway.stop()
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()


def test_a_burst_of_concurrent_connections_is_served_without_a_reset():
    """Clients that connect together all get an answer: the kernel queues them while the accept loop
    catches up (socketserver's backlog of 5 reset some of 20)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    burst = 128
    route = Route("GET", "/ping", "Ping", auth_required=False)
    with gw.start([route], {"Ping": lambda event, context: {"statusCode": 200, "body": "pong"}}) as gateway:
        start = threading.Barrier(burst)

        def ping(_: int) -> str:
            start.wait()
            connection = http.client.HTTPConnection("127.0.0.1", gateway.bound_port, timeout=30)
            try:
                connection.request("GET", "/ping")
                response = connection.getresponse()
                return f"{response.status} {response.read().decode()}"
            except OSError as exc:
                return type(exc).__name__
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=burst) as pool:
            answers = list(pool.map(ping, range(burst)))
    assert answers == ["200 pong"] * burst


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_any_method_is_routed_like_api_gateway_not_a_501_page(handlers, issuer, method):
    routes = [*ROUTES, Route("ANY", gw.DEFAULT_ROUTE, "ClaimsApi", auth_required=False)]
    handlers["ClaimsApi"].answer = {"statusCode": 405, "body": '{"code": "method_not_allowed"}'}
    with gw.start(routes, handlers, port=0, verifier=issuer.verify, clock=lambda: NOW) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.bound_port, timeout=10)
        conn.request(method, "/claims")
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (405, {"code": "method_not_allowed"})
        conn.close()
    assert handlers["ClaimsApi"].event["routeKey"] == "$default"
    assert handlers["ClaimsApi"].event["requestContext"]["http"]["method"] == method
