"""Real-shaped API Gateway HTTP API (v2) events, built from the fixture in this folder."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS = Path(__file__).parent
_TEMPLATE = json.loads((EVENTS / "http_api_request.json").read_text())


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def http_event(
    method: str,
    path: str,
    *,
    route: str,
    claims: dict[str, Any] | None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``route`` is the API's route key path, e.g. ``/claims/{claim_id}/shipment``; ``claims`` the
    verified JWT claims (None: no authorizer context, as for a public route)."""
    event = copy.deepcopy(_TEMPLATE)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = urlencode(query or {})
    event["queryStringParameters"] = dict(query) if query else None
    if not event["queryStringParameters"]:
        event.pop("queryStringParameters")
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    event["pathParameters"] = path_params or None
    if not path_params:
        event.pop("pathParameters")
    if claims is None:
        event["requestContext"].pop("authorizer")
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    event["body"] = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if event["body"] is None:
        event.pop("body")
    return event
