"""What every API handler does before routing, so that no input reaches a handler it could break:

1. the body: at most ``MAX_BODY_BYTES`` (413); a body is ``application/json`` (the media type matched
   case-insensitively, ``charset`` utf-8 if given; no ``Content-Type`` is read as JSON; anything else,
   ``+json`` suffixes included, is 415); UTF-8, at most ``max_json_depth`` deep, JSON per RFC 8259
   (no ``NaN``) and an object (400 / 422). The event handed on carries the body as text with a
   canonical ``content-type``;
2. path parameters: ids of 1-64 characters from ``[A-Za-z0-9_.:-]``, not starting with a dot (400);
3. the caller: one after-sales role from the verified token (401); a route family of another role
   is 404, as if absent;
4. the ``$default`` route (every request no other route serves, on AWS and locally): ``404
   not_found`` or ``405 method_not_allowed`` with ``Allow``, in the API's error shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales.config import get_settings
from aftersales.domain.claim import Actor
from aftersales.domain.errors import DomainError
from aftersales.domain.model import Role
from aftersales.observability import logger
from aftersales.service_errors import NotFound

from .auth import actor_from_event
from .errors import (
    InvalidId,
    MalformedJson,
    PayloadTooLarge,
    Unauthenticated,
    domain_error_response,
    no_route,
    unsupported_media_type,
)
from .schemas import ID_MAX_LENGTH, ID_PATTERN

PUBLIC_PATHS = frozenset({"/openapi.json"})
# Whole route families of one role: refused before the body is even validated, as if absent.
ROLE_PREFIXES = {"/ops/": Role.OPS, "/merchant/": Role.MERCHANT}
DEFAULT_ROUTE = "$default"
JSON_MEDIA_TYPE = "application/json"
PATH_ID = re.compile(ID_PATTERN)


class InvalidBody(DomainError):
    code = "validation_error"


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedJson("the body is not valid base64") from exc
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: the bytes were not UTF-8
        raise MalformedJson("the body is not UTF-8") from exc


def _check_media_type(headers: dict[str, Any]) -> None:
    content_type = str(headers.get("content-type") or "").strip()
    if not content_type:
        return
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise unsupported_media_type()
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise unsupported_media_type()


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _normalise_body(event: dict[str, Any], max_bytes: int, max_depth: int) -> None:
    """Refuse what the resolver or a handler could trip over; leave the body as checked JSON text."""
    if not event.get("body"):
        return
    headers = event.setdefault("headers", {})
    _check_media_type(headers)
    raw = _raw_body(event)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes", details={"max_bytes": max_bytes})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJson("the body is not UTF-8") from exc
    if json_depth(text) > max_depth:
        raise MalformedJson(
            f"the body nests deeper than {max_depth} levels", details={"max_depth": max_depth}
        )
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
        # A string with an escaped lone surrogate ("\\ud800") cannot be stored or sent on.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedJson("the request body is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise InvalidBody("the request body must be a JSON object")
    event["body"], event["isBase64Encoded"] = text, False
    headers["content-type"] = JSON_MEDIA_TYPE


def _check_path_ids(event: dict[str, Any]) -> None:
    for name, value in (event.get("pathParameters") or {}).items():
        if not isinstance(value, str) or len(value) > ID_MAX_LENGTH or not PATH_ID.match(value):
            raise InvalidId(
                f"{name} must be 1-64 characters of letters, digits and _.:- (not starting with a dot)",
                details={"parameter": name},
            )


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The checks above, then the resolver; the actor is in ``app.context["actor"]``."""
    try:
        if event.get("routeKey") == DEFAULT_ROUTE:
            http = (event.get("requestContext") or {}).get("http") or {}
            raise no_route(str(http.get("method") or ""), str(event.get("rawPath") or "/"))
        settings = get_settings()
        _normalise_body(event, settings.max_body_bytes, settings.max_json_depth)
        _check_path_ids(event)
        claim_id = (event.get("pathParameters") or {}).get("claim_id")
        if claim_id:
            logger.set_correlation_id(claim_id)
        path = str(event.get("rawPath") or "")
        if path not in PUBLIC_PATHS:
            actor = actor_from_event(event)
            if any(
                path.startswith(prefix) and actor.role is not role for prefix, role in ROLE_PREFIXES.items()
            ):
                raise NotFound("no such resource")
            app.append_context(actor=actor)  # type: ignore[no-untyped-call]
    except DomainError as error:
        return _raw(error)
    return app.resolve(event, context)


def _raw(error: DomainError) -> dict[str, Any]:
    response = domain_error_response(error)
    headers = {"Content-Type": "application/json"}
    headers.update({name: str(value) for name, value in response.headers.items() if name != "Content-Type"})
    return {
        "statusCode": response.status_code,
        "headers": headers,
        "body": response.body,
        "isBase64Encoded": False,
    }


def current_actor(router: Router | APIGatewayHttpResolver) -> Actor:
    actor = router.context.get("actor")
    if not isinstance(actor, Actor):
        raise Unauthenticated("a signed-in user is required")
    return actor
