"""Local stand-in for API Gateway (HTTP API, payload format 2.0) in front of in-process handlers.

It serves exactly the routes of the template, verifies bearer tokens the way the JWT authorizer does,
hands each handler a real-shaped v2.0 event and turns its Lambda proxy response back into HTTP, with
API Gateway's own answers where API Gateway answers by itself (401, 403, 404, 413, 500). Those carry
the service's error shape (``code`` added to API Gateway's ``message``); on AWS they have ``message``
only, as HTTP APIs cannot customise them (docs/api.md).

    gateway = LocalGateway(app.routes, handlers, port=0).start()
    ...  # call gateway.url
    gateway.stop()
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from infra.local import tokens
from infra.local.moto_env import LOCAL_ACCOUNT_ID, LocalLambdaContext
from infra.local.template import DEFAULT_ROUTE, Route

LOG = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
# Returns the token's claims or raises (any exception means "Unauthorized").
Verifier = Callable[[str], Mapping[str, Any]]

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# Connections the kernel holds while the accept loop catches up. socketserver's default of 5 resets
# clients in a burst of 20; API Gateway takes bursts in the thousands. 128 is werkzeug's (and so the
# moto server's) backlog; the kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 128
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
LOCAL_API_ID = "localapi"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Content types whose bodies API Gateway hands over as text; everything else arrives base64-encoded.
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/yaml")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


_GATEWAY_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 413: "payload_too_large"}


def message(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> GatewayResponse:
    """One of API Gateway's own answers, ``{"message": "..."}``, with the service's ``code``."""
    code = _GATEWAY_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    body = json.dumps({"code": code, "message": text, "details": {}}).encode()
    return GatewayResponse(status, [("content-type", "application/json"), *headers], body)


def default_context(function: str) -> LocalLambdaContext:
    return LocalLambdaContext(function)


# --- routing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    segments: tuple[str, ...]

    def match(self, method: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """(specificity, path parameters) if this route serves the request, else None."""
        if self.route.method not in (method, "ANY"):
            return None
        method_rank = 1 if self.route.method == method else 0
        if self.route.path == DEFAULT_ROUTE:
            return (0, method_rank), {}
        params: dict[str, str] = {}
        ranks: list[int] = []
        for i, pattern in enumerate(self.segments):
            if pattern.startswith("{") and pattern.endswith("+}"):
                rest = segments[i:]
                if not rest or rest == [""]:
                    return None
                params[pattern[1:-2]] = unquote("/".join(rest))
                # A greedy route loses to any route that names the path fully.
                return (1, 0, *ranks, 0, method_rank), params
            if i >= len(segments):
                return None
            if pattern.startswith("{") and pattern.endswith("}"):
                if not segments[i]:
                    return None
                params[pattern[1:-1]] = unquote(segments[i])
                ranks.append(1)
            elif unquote(segments[i]) == pattern:
                ranks.append(2)
            else:
                return None
        if len(segments) != len(self.segments):
            return None
        return (1, 1, *ranks, method_rank), params


class Router:
    """API Gateway HTTP API route selection: the most specific route wins, ``$default`` last."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        self._compiled = [_CompiledRoute(r, tuple(r.path.split("/")[1:])) for r in self.routes]
        seen: dict[str, Route] = {}
        for route in self.routes:
            if route.route_key in seen:
                raise ValueError(
                    f"route {route.route_key} is served by both {seen[route.route_key].function} "
                    f"and {route.function}"
                )
            seen[route.route_key] = route
            if route.payload_format_version != "2.0":
                raise ValueError(f"{route.route_key}: only payload format 2.0 is served locally")

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        segments = raw_path.split("/")[1:]
        best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
        for compiled in self._compiled:
            found = compiled.match(method, segments)
            if found is not None and (best is None or found[0] > best[0]):
                best = (found[0], compiled.route, found[1])
        return None if best is None else (best[1], best[2])


# --- the event ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # "/claims/1?x=y" as on the request line
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as the JWT authorizer passes them on: every value a string, arrays as ``[a b]``."""
    return {key: _claim_text(value) for key, value in claims.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_claim_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))


def build_event(
    request: Request,
    route: Route,
    path_parameters: Mapping[str, str],
    *,
    request_id: str,
    now: float,
    jwt: Mapping[str, Any] | None = None,
    stage: str = "$default",
    api_id: str = LOCAL_API_ID,
    account_id: str = LOCAL_ACCOUNT_ID,
    domain_name: str | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for one request."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        elif name in headers:
            headers[name] = f"{headers[name]},{value}"  # duplicate headers are comma-joined in 2.0
        else:
            headers[name] = value
    domain = headers.get("host") or domain_name or "localhost"
    headers.setdefault("host", domain)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}")

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query

    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(":", 1)[0].split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": stage,
        "time": _clf_time(now),
        "timeEpoch": int(now * 1000),
    }
    if jwt is not None:
        context["authorizer"] = {"jwt": dict(jwt)}
    event["requestContext"] = context

    event.update(_body_fields(request.body, headers.get("content-type")))
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


def _body_fields(body: bytes, content_type: str | None) -> dict[str, Any]:
    """``body`` and ``isBase64Encoded``: text types as text, anything else (or invalid UTF-8) base64."""
    if not body:
        return {"isBase64Encoded": False}
    if _is_text(content_type):
        try:
            return {"body": body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def _clf_time(now: float) -> str:
    t = time.gmtime(now)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


# --- the response -------------------------------------------------------------------------------------


class BadIntegrationResponse(ValueError):
    """The handler's return value is not a Lambda proxy response API Gateway can use."""


def to_http_response(result: Any) -> GatewayResponse:
    """Turn a handler's return value into HTTP as API Gateway does for payload format 2.0."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        # Anything else that is valid JSON becomes a 200 with the JSON as body.
        try:
            text = json.dumps(result)
        except (TypeError, ValueError) as exc:
            raise BadIntegrationResponse(f"the response is not JSON: {exc}") from exc
        return GatewayResponse(200, [("content-type", "application/json")], text.encode())

    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadIntegrationResponse(f"statusCode must be an HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_text(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise BadIntegrationResponse(f"body must be a string, got {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadIntegrationResponse("isBase64Encoded is set but the body is not base64") from exc
    else:
        payload = body.encode("utf-8")
    return GatewayResponse(status, headers, payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- the gateway --------------------------------------------------------------------------------------


class LocalGateway:
    """The HTTP API for ``routes``, calling ``handlers[route.function]`` in-process."""

    def __init__(
        self,
        routes: Iterable[Route],
        handlers: Mapping[str, Handler],
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        verifier: Verifier | None = None,
        context_factory: Callable[[str], Any] = default_context,
        stage: str = "$default",
        api_id: str = LOCAL_API_ID,
        account_id: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.router = Router(routes)
        self.handlers = handlers
        self.host = host
        self.port = port
        self.verifier: Verifier = verifier or tokens.verify
        self.context_factory = context_factory
        self.stage = stage
        self.api_id = api_id
        self.account_id = account_id
        self.clock = clock
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._foreground = False

    # -- serving one request (no sockets: unit-testable as it is) --

    def handle(self, request: Request) -> GatewayResponse:
        request_id = _request_id()
        response = self._respond(request, request_id)
        return _with_request_id(response, request_id)

    def _respond(self, request: Request, request_id: str) -> GatewayResponse:
        if len(request.body) > MAX_BODY_BYTES:
            return message(413, "Request Entity Too Large")
        found = self.router.match(request.method, request.raw_path)
        if found is None:
            return message(404, "Not Found")
        route, path_parameters = found

        jwt_context: dict[str, Any] | None = None
        if route.auth_required:
            authorized = self._authorize(route, request)
            if isinstance(authorized, GatewayResponse):
                return authorized
            jwt_context = authorized

        now = self.clock()
        event = build_event(
            request,
            route,
            path_parameters,
            request_id=request_id,
            now=now,
            jwt=jwt_context,
            stage=self.stage,
            api_id=self.api_id,
            account_id=self.account_id,
            domain_name=self._domain(),
        )
        handler = self.handlers.get(route.function)
        if handler is None:
            LOG.error("no handler for %s (route %s)", route.function, route.route_key)
            return message(500, "Internal Server Error")
        try:
            # A context of its own per invocation, as on Lambda (context-local log keys and the like).
            result = contextvars.copy_context().run(handler, event, self.context_factory(route.function))
            return to_http_response(result)
        except BadIntegrationResponse as exc:
            LOG.error("%s returned a response API Gateway rejects: %s", route.function, exc)
        except Exception:
            LOG.exception("%s raised on %s", route.function, route.route_key)
        return message(500, "Internal Server Error")

    def _authorize(self, route: Route, request: Request) -> dict[str, Any] | GatewayResponse:
        header = route.identity_source.removeprefix("$request.header.").lower()
        token = next((v for k, v in request.headers if k.lower() == header), None)
        if not token:
            return _unauthorized("no token")
        try:
            claims = dict(self.verifier(token))
        except Exception as exc:
            # The reason goes back in www-authenticate like API Gateway's; the token is never logged.
            reason = getattr(exc, "reason", None) or "the token is invalid"
            LOG.info("401 on %s: %s", route.route_key, reason)
            return _unauthorized(reason)
        scopes = None
        if route.scopes:
            granted = str(claims.get("scope", claims.get("scp", ""))).split()
            if not set(granted) & set(route.scopes):
                return message(403, "Forbidden")
            scopes = granted
        return {"claims": stringify_claims(claims), "scopes": scopes}

    def _domain(self) -> str:
        return f"{self.host}:{self.bound_port}" if self._server else self.host

    # -- the server --

    @property
    def bound_port(self) -> int:
        if self._server is None:
            raise RuntimeError("the gateway is not listening")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.bound_port}"

    def listen(self) -> LocalGateway:
        """Bind the socket (port 0 picks a free one); ``start`` or ``serve_forever`` then serve it."""
        if self._server is None:
            self._server = _Server((self.host, self.port), _request_handler_for(self))
        return self

    def start(self) -> LocalGateway:
        """Serve in a background thread (once; calling it again is a no-op); the socket is bound on return."""
        if self._thread is not None:
            return self
        self.listen()
        server = self._server
        assert server is not None
        # A short poll keeps stop() quick; an idle wake-up every 0.1 s costs nothing measurable.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="local-gateway", daemon=True
        )
        self._thread.start()
        LOG.info("gateway listening on %s (%d routes)", self.url, len(self.router.routes))
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop`` (from another thread) or Ctrl-C."""
        self.listen()
        server = self._server
        assert server is not None
        LOG.info("gateway listening on %s (%d routes)", self.url, len(self.router.routes))
        self._foreground = True
        try:
            server.serve_forever()
        finally:
            self._foreground = False
            server.server_close()
            self._server = None

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        if thread is not None:
            server.shutdown()
            thread.join()
            server.server_close()
        elif self._foreground:
            server.shutdown()  # serve_forever closes the socket on its way out
            return
        else:
            server.server_close()  # bound by listen() but never served
        self._server = self._thread = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    routes: Iterable[Route], handlers: Mapping[str, Handler], *, port: int = 0, **options: Any
) -> LocalGateway:
    """A gateway serving in a background thread (port 0: a free port, see ``.url``)."""
    return LocalGateway(routes, handlers, port=port, **options).start()


def _request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA=".
    return base64.b64encode(os.urandom(10)).decode("ascii")


def _with_request_id(response: GatewayResponse, request_id: str) -> GatewayResponse:
    return GatewayResponse(
        response.status, [*response.headers, ("apigw-requestid", request_id)], response.body
    )


def _unauthorized(reason: str) -> GatewayResponse:
    description = reason.replace('"', "'")
    challenge = f'Bearer scope="" error="invalid_token" error_description="{description}"'
    return message(401, "Unauthorized", [("www-authenticate", challenge)])


class _BodyTooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    """One connection to the gateway; ``gateway`` is set per server by ``_request_handler_for``."""

    gateway: LocalGateway
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm a keep-alive client waits a
    # delayed ACK (~40 ms) for every response.
    disable_nagle_algorithm = True
    server_version = "aftersales-local-gateway"
    sys_version = ""

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, BREW, ...) is routed too, as API Gateway does: no 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except _BodyTooLarge:
            # Like API Gateway: refuse without reading the rest, and drop the connection.
            self.close_connection = True
            self._send(_with_request_id(message(413, "Request Entity Too Large"), _request_id()), close=True)
            LOG.info("%s %s -> 413 (body over %d bytes)", self.command, self.path, MAX_BODY_BYTES)
            return
        request = Request(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        response = self.gateway.handle(request)
        self._send(response)
        LOG.info(
            "%s %s -> %d (%.0f ms)",
            self.command,
            request.raw_path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: GatewayResponse, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        if close:
            self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s - " + format, self.client_address[0], *args)


for _method in METHODS:
    setattr(_GatewayRequestHandler, f"do_{_method}", _GatewayRequestHandler._serve)


def _request_handler_for(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    return type("_Handler", (_GatewayRequestHandler,), {"gateway": gateway})
