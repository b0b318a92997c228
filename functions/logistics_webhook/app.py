"""``POST /webhooks/logistics/{carrier}`` (no JWT): a carrier's signed delivery, verified over the raw
body and queued; 202 at once. 401 bad signature, 404 unknown carrier, 400 malformed body or wrong
content type, 413 too large. Kuaidi100 also reads its own acknowledgement fields in the answer."""

from __future__ import annotations

import base64
import json
from typing import Any

from aftersales import clock
from aftersales.api.errors import PayloadTooLarge
from aftersales.config import get_settings
from aftersales.domain.errors import DomainError
from aftersales.logistics import BadPayload, BadSignature, kuaidi100
from aftersales.logistics.intake import UnknownCarrier, accept
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

STATUS = {BadSignature: 401, UnknownCarrier: 404, BadPayload: 400, PayloadTooLarge: 413}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    carrier = str((event.get("pathParameters") or {}).get("carrier") or "")
    try:
        raw = _raw_body(event)
        accepted = accept(carrier, raw, event.get("headers") or {}, clock.now())
    except tuple(STATUS) as error:
        assert isinstance(error, DomainError)
        logger.info("carrier delivery refused", extra={"carrier": carrier[:32], "code": error.code})
        body = {"code": error.code, "message": error.message, "details": error.details}
        status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
        return _answer(status, carrier, body, ok=False)
    return _answer(202, carrier, {"accepted": len(accepted.events)}, ok=True)


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    limit = get_settings().max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes", details={"max_bytes": limit})
    return raw


def _answer(status: int, carrier: str, body: dict[str, Any], *, ok: bool) -> dict[str, Any]:
    if carrier == "kuaidi100":
        body = {**kuaidi100.acknowledgement(ok, "成功" if ok else str(body.get("message"))), **body}
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }
