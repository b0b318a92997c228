"""Kuaidi100 (快递100) subscription push.

The push is ``POST`` ``application/x-www-form-urlencoded`` with ``param`` (the JSON below) and
``sign`` = upper-case hex MD5 of ``param`` + the ``salt`` given when the waybill was subscribed
(our secret for ``kuaidi100``). ``param.lastResult`` is the whole track, newest checkpoint first;
``lastResult.state`` is the parcel's current state. Kuaidi100 expects the JSON acknowledgement
``{"result": true, "returnCode": "200", "message": "..."}`` and pushes again later on anything else.
Times are Beijing time without an offset. Sources and the state table: docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from aftersales.domain.parcels import ParcelStatus

from .model import BadPayload, BadSignature, ParcelEvent, carrier_code, require_media_type

CONTENT_TYPE = "application/x-www-form-urlencoded"
BEIJING = ZoneInfo("Asia/Shanghai")
S = ParcelStatus

# lastResult.state → our status; None: nothing for the claim yet (ordered, awaiting pick-up).
STATES: dict[str, ParcelStatus | None] = {
    "0": S.IN_TRANSIT,  # 在途
    "1": S.PICKED_UP,  # 揽收
    "2": S.EXCEPTION,  # 疑难
    "3": S.DELIVERED,  # 签收
    "4": S.RETURNED_TO_SENDER,  # 退签: signed for by the sender after a return
    "5": S.OUT_FOR_DELIVERY,  # 派件
    "6": S.RETURNED_TO_SENDER,  # 退回: on its way back to the sender
    "7": S.IN_TRANSIT,  # 转投 / 转单: handed to another courier
    "8": S.IN_TRANSIT,  # 清关
    "10": S.IN_TRANSIT,  # 待清关
    "11": S.IN_TRANSIT,  # 清关中
    "12": S.IN_TRANSIT,  # 已清关
    "13": S.EXCEPTION,  # 清关异常
    "14": S.EXCEPTION,  # 拒签: the receiver refused it
    # resultv2 sub-states
    "101": None,  # 已下单
    "102": None,  # 待揽收
    "103": S.PICKED_UP,  # 已揽收
    "1001": S.IN_TRANSIT,  # 到达派件城市
    "1002": S.IN_TRANSIT,  # 干线
    "1003": S.IN_TRANSIT,  # 转递
    "501": S.OUT_FOR_DELIVERY,  # 投柜或驿站: waiting for the receiver at a locker or station
    "301": S.DELIVERED,  # 本人签收
    "302": S.DELIVERED,  # 派件异常后签收
    "303": S.DELIVERED,  # 代签
    "304": S.DELIVERED,  # 投柜或站签收
}


def acknowledgement(ok: bool, message: str) -> dict[str, Any]:
    """The answer Kuaidi100 reads: ``result`` true stops its retries."""
    return {"result": ok, "returnCode": "200" if ok else "400", "message": message}


def _form(raw: bytes) -> tuple[str, str]:
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        raise BadPayload("the body is not a form") from None
    params, signs = fields.get("param", []), fields.get("sign", [])
    if len(params) != 1 or len(signs) > 1:
        raise BadPayload("the form needs exactly one param")
    return params[0], signs[0] if signs else ""


def verify(raw: bytes, headers: Mapping[str, str], secret: str, *, now: datetime | None = None) -> None:
    """``sign`` == MD5(param + salt), upper-case hex, compared in constant time."""
    require_media_type(headers, CONTENT_TYPE)
    param, sign = _form(raw)
    if not sign:
        raise BadSignature("no sign in the push")
    expected = hashlib.md5((param + secret).encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    if not hmac.compare_digest(expected.encode(), sign.strip().upper().encode()):
        raise BadSignature("the push's sign does not match")


def sign(param: str, salt: str) -> str:
    """What Kuaidi100 sends as ``sign`` (tests and the local carrier use it)."""
    return hashlib.md5((param + salt).encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def parse(raw: bytes, headers: Mapping[str, str], *, carrier: str = "") -> list[ParcelEvent]:
    require_media_type(headers, CONTENT_TYPE)
    param, _ = _form(raw)
    try:
        body = json.loads(param)
        result = body["lastResult"]
        number, com, state = str(result["nu"]), str(result.get("com") or ""), str(result["state"])
        checkpoints = result.get("data") or []
    except (ValueError, KeyError, TypeError):
        raise BadPayload("param is not a Kuaidi100 push (lastResult.nu, .state)") from None
    if state not in STATES:
        raise BadPayload(
            f"unknown Kuaidi100 state {state!r}", code="unknown_status", details={"state": state}
        )
    status = STATES[state]
    if status is None:
        return []
    if not checkpoints or not isinstance(checkpoints, list) or not isinstance(checkpoints[0], dict):
        raise BadPayload("the push has no checkpoint (lastResult.data)")
    newest = checkpoints[0]  # Kuaidi100 lists the track newest first
    try:
        local = datetime.strptime(str(newest.get("ftime") or newest["time"]), "%Y-%m-%d %H:%M:%S")
        return [
            ParcelEvent(
                carrier=carrier_code(com) if com else "kuaidi100",
                waybill=number,
                status=status,
                occurred_at=local.replace(tzinfo=BEIJING),
                location=str(newest.get("areaName") or "")[:200],
                description=str(newest.get("context") or "")[:500],
                source="kuaidi100",
            )
        ]
    except (KeyError, ValueError) as exc:
        raise BadPayload(f"the push's newest checkpoint is not valid: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
