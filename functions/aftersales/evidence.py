"""Evidence uploads: the client PUTs photos and videos straight to the private bucket with a short-lived
presigned URL; the service only hands out URLs under the buyer's own prefix."""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from aftersales import claims
from aftersales.config import Settings, get_settings
from aftersales.domain.claim import Actor, evidence_prefix
from aftersales.process import per_process


@per_process
def _s3(region: str) -> Any:
    return boto3.client("s3", region_name=region)


def upload_url(
    claim_id: str, actor: Actor, *, filename: str, content_type: str, settings: Settings | None = None
) -> dict[str, Any]:
    """A presigned PUT under the claim's buyer's prefix, for a claim ``actor`` may see."""
    settings = settings or get_settings()
    claim = claims.read(claim_id, actor)
    key = f"{evidence_prefix(claim.buyer_id)}{claim_id}/{uuid.uuid4().hex[:12]}-{filename}"
    url = _s3(settings.region).generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.evidence_bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=settings.evidence_url_seconds,
    )
    return {"key": key, "upload_url": url, "method": "PUT", "expires_in": settings.evidence_url_seconds}
