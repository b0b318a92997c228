"""The role comes from one authoritative claim; extra role-like claims never raise privileges."""

from typing import Any

import pytest
from aftersales.api.auth import actor_from_claims, actor_from_event
from aftersales.api.errors import Unauthenticated
from aftersales.domain.model import Role
from hypothesis import given
from hypothesis import strategies as st


def _event(claims: dict[str, object]) -> dict[str, object]:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"sub": "u", "cognito:groups": "[buyer]"}, Role.BUYER),
        ({"sub": "u", "cognito:groups": ["ops"]}, Role.OPS),
        ({"sub": "u", "cognito:groups": "[merchant staff]", "custom:merchant_id": "m1"}, Role.MERCHANT),
        ({"sub": "u", "cognito:groups": "[buyer admins]"}, Role.BUYER),  # other groups are not roles
    ],
)
def test_role_from_cognito_groups(claims: dict[str, object], role: Role) -> None:
    assert actor_from_claims(claims).role is role


@pytest.mark.parametrize(
    "extra",
    [
        {"custom:role": "ops"},
        {"role": "ops"},
        {"custom:role": "merchant", "custom:merchant_id": "m-1"},
        {"role": "merchant", "merchant_id": "m-1"},
        {"groups": ["ops"]},
        {"custom:merchant_id": "m-1"},
    ],
    ids=["custom-role-ops", "role-ops", "custom-role-merchant", "role-merchant", "groups", "merchant-id"],
)
def test_a_buyer_stays_a_buyer_whatever_else_the_token_says(extra: dict[str, object]) -> None:
    actor = actor_from_claims({"sub": "b-1", "cognito:groups": "[buyer]", **extra})
    assert (actor.role, actor.merchant_id) == (Role.BUYER, None)


def test_custom_role_alone_is_no_role_unless_the_deployment_trusts_it() -> None:
    claims = {"sub": "u", "custom:role": "merchant", "custom:merchant_id": "m1"}
    with pytest.raises(Unauthenticated):
        actor_from_claims(claims)
    trusted = actor_from_claims(claims, role_claim="custom:role")
    assert (trusted.role, trusted.merchant_id) == (Role.MERCHANT, "m1")
    # ...and then groups are not consulted at all.
    both = {"sub": "u", "custom:role": "buyer", "cognito:groups": "[ops]"}
    assert actor_from_claims(both, role_claim="custom:role").role is Role.BUYER


@pytest.mark.parametrize("groups", ["[buyer ops]", ["merchant", "ops"], "buyer,merchant"])
def test_two_roles_are_refused_never_the_most_privileged(groups: object) -> None:
    with pytest.raises(Unauthenticated, match="more than one"):
        actor_from_claims({"sub": "u", "cognito:groups": groups, "custom:merchant_id": "m1"})


@pytest.mark.parametrize("merchant_id", [None, "", "../m-2", "m" * 65, 7])
def test_a_merchant_needs_a_well_formed_merchant_id(merchant_id: object) -> None:
    claims: dict[str, Any] = {"sub": "u", "cognito:groups": "[merchant]"}
    if merchant_id is not None:
        claims["custom:merchant_id"] = merchant_id
    with pytest.raises(Unauthenticated):
        actor_from_claims(claims)


def test_the_plain_merchant_id_claim_is_not_the_tenant() -> None:
    with pytest.raises(Unauthenticated):
        actor_from_claims({"sub": "u", "cognito:groups": "[merchant]", "merchant_id": "m1"})


@given(
    extra=st.dictionaries(
        st.sampled_from(["custom:role", "role", "roles", "custom:merchant_id", "merchant_id", "scope"]),
        st.one_of(st.sampled_from(["ops", "merchant", "[ops]", "ops merchant"]), st.text(max_size=8)),
    )
)
def test_no_extra_claim_changes_a_buyer(extra: dict[str, str]) -> None:
    actor = actor_from_claims({**extra, "sub": "b-1", "cognito:groups": "[buyer]"})
    assert (actor.role, actor.id, actor.merchant_id) == (Role.BUYER, "b-1", None)


def test_the_event_is_read_with_the_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from aftersales.config import get_settings

    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "i")
    monkeypatch.setenv("ROLE_CLAIM", "custom:role")
    get_settings.cache_clear()
    try:
        claims = {"sub": "u", "custom:role": "ops", "cognito:groups": "[buyer]"}
        assert actor_from_event(_event(claims)).role is Role.OPS
    finally:
        get_settings.cache_clear()
