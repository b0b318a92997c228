"""Cognito pre-token generation (event version ``V2_0``): put the merchant id into the access token.

Cognito puts custom attributes (``custom:merchant_id``) only into ID tokens. With this trigger
attached to the user pool, the access token carries them too, as ``merchant_id`` (and ``role`` from
``custom:role``, when set), which ``aftersales.api.auth`` reads like the ID token's claims. Groups are
in access tokens already (``cognito:groups``). A ``V1_0`` event can change only the ID token, which
has the attributes anyway: it is returned as it came.
"""

from __future__ import annotations

from typing import Any

from aftersales.observability import logger

# user attribute → access-token claim
CLAIMS = {"custom:merchant_id": "merchant_id", "custom:role": "role"}


def access_token_claims(attributes: dict[str, Any]) -> dict[str, str]:
    return {claim: str(attributes[attr]) for attr, claim in CLAIMS.items() if attributes.get(attr)}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not str(event.get("version", "")).startswith("2"):
        return event
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    claims = access_token_claims(attributes)
    if claims:
        response = event.setdefault("response", {}) or {}
        event["response"] = response
        details = response.get("claimsAndScopeOverrideDetails") or {}
        access = details.get("accessTokenGeneration") or {}
        access["claimsToAddOrOverride"] = {**(access.get("claimsToAddOrOverride") or {}), **claims}
        details["accessTokenGeneration"] = access
        response["claimsAndScopeOverrideDetails"] = details
    return event
