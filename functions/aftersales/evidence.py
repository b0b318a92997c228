"""Evidence uploads: the client PUTs photos and videos straight to the private bucket with a short-lived
presigned URL; the service only hands out URLs under the buyer's own prefix."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import boto3

from aftersales.claims import evidence_prefix
from aftersales.config import Settings


@cache
def _s3(region: str) -> Any:
    return boto3.client("s3", region_name=region)


def upload_url(
    settings: Settings, *, buyer_id: str, claim_id: str, filename: str, content_type: str
) -> dict[str, Any]:
    key = f"{evidence_prefix(buyer_id)}{claim_id}/{uuid.uuid4().hex[:12]}-{filename}"
    url = _s3(settings.region).generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.evidence_bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=settings.evidence_url_seconds,
    )
    return {"key": key, "upload_url": url, "method": "PUT", "expires_in": settings.evidence_url_seconds}
