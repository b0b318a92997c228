"""The optional Cognito pre-token-generation trigger puts the merchant id into access tokens."""

from __future__ import annotations

import copy
from typing import Any

from aftersales.api.auth import actor_from_claims
from aftersales.domain.model import Role
from token_claims.app import lambda_handler

from tests.integration.conftest import Context


def _event(version: str, attributes: dict[str, str]) -> dict[str, Any]:
    return {
        "version": version,
        "triggerSource": "TokenGeneration_Authentication",
        "userPoolId": "eu-central-1_EXAMPLE",
        "userName": "staff-1",
        "request": {
            "userAttributes": {"sub": "staff-1", **attributes},
            "groupConfiguration": {"groupsToOverride": ["merchant"]},
            "scopes": ["aws.cognito.signin.user.admin"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def test_v2_event_adds_merchant_id_to_the_access_token_and_auth_reads_it() -> None:
    answer = lambda_handler(_event("2", {"custom:merchant_id": "m-1"}), Context())
    added = answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"][
        "claimsToAddOrOverride"
    ]
    assert added == {"merchant_id": "m-1"}
    access_token = {"sub": "staff-1", "cognito:groups": "[merchant]", **added}
    # The stack sets MERCHANT_ID_CLAIM to the trigger's claim when it deploys the trigger.
    actor = actor_from_claims(access_token, merchant_id_claim="merchant_id")
    assert (actor.role, actor.merchant_id) == (Role.MERCHANT, "m-1")


def test_a_user_without_the_attributes_gets_no_claims_and_v1_events_pass_unchanged() -> None:
    buyer = _event("2", {})
    assert lambda_handler(copy.deepcopy(buyer), Context()) == buyer
    legacy = _event("1", {"custom:merchant_id": "m-1"})
    assert lambda_handler(copy.deepcopy(legacy), Context()) == legacy


def test_the_role_attribute_is_carried_too() -> None:
    answer = lambda_handler(_event("2", {"custom:role": "ops"}), Context())
    details = answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert details["claimsToAddOrOverride"] == {"role": "ops"}
