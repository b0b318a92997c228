"""Carriers on the local stack: their webhook secrets in moto's SSM, and a carrier you can play.

``create_secrets`` runs at ``aftersales local up`` (the template cannot create SecureStrings, and on
AWS the operator does it: docs/webhooks.md). ``push`` builds a real-shaped delivery in the carrier's
format, signs it with the stack's secret and posts it to the local gateway, as the carrier would:
``aftersales local carrier push --carrier kuaidi100 --waybill SF123 --status delivered``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import boto3
from aftersales.logistics import aftership, kuaidi100, standard

# Local secrets only: each carrier the local stack knows. Any other carrier gets 404, as on AWS.
LOCAL_SECRETS = {
    "kuaidi100": "local-kuaidi100-salt",
    "aftership": "local-aftership-webhook-secret",
    "sf": "local-sf-secret",
    "yto": "local-yto-secret",
    "jd": "local-jd-secret",
}
SECRETS_PATH_VARIABLE = "CARRIER_SECRETS_PATH"
BEIJING = ZoneInfo("Asia/Shanghai")
KUAIDI100_STATE = {
    "picked_up": "1",
    "in_transit": "0",
    "out_for_delivery": "5",
    "delivered": "3",
    "exception": "2",
    "returned_to_sender": "6",
}
AFTERSHIP_TAG = {
    "picked_up": ("InTransit", "InTransit_002"),
    "in_transit": ("InTransit", "InTransit_001"),
    "out_for_delivery": ("OutForDelivery", "OutForDelivery_001"),
    "delivered": ("Delivered", "Delivered_001"),
    "exception": ("Exception", "Exception_001"),
    "returned_to_sender": ("Exception", "Exception_011"),
}
KUAIDI100_COM = {"sf": "shunfeng", "yto": "yuantong", "zto": "zhongtong", "jd": "jd", "ems": "ems"}
AFTERSHIP_SLUG = {"sf": "sf-express", "yto": "yto", "zto": "zto-express", "jd": "jd", "ems": "china-ems"}


def create_secrets(env: dict[str, str], endpoint_url: str, region: str) -> None:
    """One SecureString per local carrier under the template's ``CARRIER_SECRETS_PATH``."""
    path = env.get(SECRETS_PATH_VARIABLE)
    if not path:
        return  # a template without the carrier webhook
    ssm = boto3.client("ssm", endpoint_url=endpoint_url, region_name=region)
    for carrier, secret in LOCAL_SECRETS.items():
        ssm.put_parameter(Name=f"{path}/{carrier}", Value=secret, Type="SecureString", Overwrite=True)


def secret_of(carrier: str, *, endpoint_url: str, region: str, stack_name: str) -> str:
    ssm = boto3.client(
        "ssm",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = f"/{stack_name}/carriers/{carrier}"
    try:
        return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return "not-a-known-carrier"  # the webhook answers 404 for it, which is what the caller sees


@dataclass(frozen=True)
class Delivery:
    """One carrier push: where it goes, its body and headers, signed."""

    carrier: str
    body: bytes
    headers: dict[str, str]


def build(
    carrier: str,
    *,
    waybill: str,
    status: str,
    at: datetime,
    secret: str,
    courier: str = "sf",
    location: str = "浙江省杭州市",
    reference: str | None = None,
    event_id: str | None = None,
    sent_at: datetime | None = None,
) -> Delivery:
    """A real-shaped delivery of ``carrier``'s format (``kuaidi100``, ``aftership``, else ours)."""
    description = f"{status.replace('_', ' ')} at {location}"
    if carrier == "kuaidi100":
        local = at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        param = json.dumps(
            {
                "status": "polling",
                "billstatus": "check" if status == "delivered" else "update",
                "message": "",
                "lastResult": {
                    "message": "ok",
                    "nu": waybill,
                    "ischeck": "1" if status == "delivered" else "0",
                    "com": KUAIDI100_COM.get(courier, courier),
                    "status": "200",
                    "state": KUAIDI100_STATE[status],
                    "condition": "F00",
                    "data": [{"time": local, "ftime": local, "context": description, "areaName": location}],
                },
            },
            ensure_ascii=False,
        )
        body = urlencode({"param": param, "sign": kuaidi100.sign(param, secret)}).encode()
        return Delivery(carrier, body, {"Content-Type": kuaidi100.CONTENT_TYPE})
    if carrier == "aftership":
        tag, subtag = AFTERSHIP_TAG[status]
        body = json.dumps(
            {
                "event": "tracking_update",
                "event_id": event_id or str(uuid.uuid4()),
                "is_tracking_first_tag": True,
                "msg": {
                    "id": uuid.uuid4().hex,
                    "tracking_number": waybill,
                    "slug": AFTERSHIP_SLUG.get(courier, courier),
                    "tag": tag,
                    "subtag": subtag,
                    "updated_at": _iso(at),
                    "checkpoints": [
                        {
                            "checkpoint_time": at.astimezone(BEIJING).isoformat(),
                            "location": location,
                            "message": description,
                            "tag": tag,
                            "subtag": subtag,
                        }
                    ],
                },
                "ts": int(at.timestamp()),
            },
            ensure_ascii=False,
        ).encode()
        return Delivery(
            carrier,
            body,
            {
                "Content-Type": aftership.CONTENT_TYPE,
                "aftership-hmac-sha256": aftership.signature(body, secret),
            },
        )
    event: dict[str, Any] = {
        "event_id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "waybill": waybill,
        "status": status,
        "occurred_at": _iso(at),
        "location": location,
        "description": description,
    }
    if reference:
        event["reference"] = reference
    body = json.dumps({"events": [event]}, ensure_ascii=False).encode()
    signed = standard.signature_header(int((sent_at or at).timestamp()), body, secret)
    return Delivery(carrier, body, {"Content-Type": standard.CONTENT_TYPE, "X-Aftersales-Signature": signed})


def post(api_url: str, delivery: Delivery) -> tuple[int, Any]:
    """POST the delivery to the stack's webhook route; the status and the decoded answer."""
    request = urllib.request.Request(
        f"{api_url}/webhooks/logistics/{delivery.carrier}",
        data=delivery.body,
        headers=delivery.headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def push(
    stack: Any, carrier: str, *, waybill: str, status: str, ago: timedelta = timedelta(0), **extra: Any
) -> tuple[int, Any]:
    """Build, sign with the running stack's secret, and post (``stack``: a Local- or RemoteStack)."""
    info = stack.info()
    secret = secret_of(
        carrier, endpoint_url=info.endpoint_url, region=info.region, stack_name=info.stack_name
    )
    now = stack.now()
    delivery = build(
        carrier, waybill=waybill, status=status, at=now - ago, secret=secret, sent_at=now, **extra
    )
    return post(info.api_url, delivery)


def _iso(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
