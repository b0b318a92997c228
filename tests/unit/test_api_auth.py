import pytest
from aftersales.api.auth import actor_from_event
from aftersales.api.errors import Unauthenticated
from aftersales.domain.model import Role


def _event(claims: dict[str, object]) -> dict[str, object]:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"sub": "u", "cognito:groups": "[buyer]"}, Role.BUYER),
        ({"sub": "u", "cognito:groups": ["buyer", "ops"]}, Role.OPS),
        ({"sub": "u", "custom:role": "merchant", "custom:merchant_id": "m1"}, Role.MERCHANT),
    ],
)
def test_role_from_groups_or_claim(claims: dict[str, object], role: Role) -> None:
    assert actor_from_event(_event(claims)).role is role


def test_merchant_id_is_required_for_merchants() -> None:
    with pytest.raises(Unauthenticated):
        actor_from_event(_event({"sub": "u", "cognito:groups": "[merchant]"}))
