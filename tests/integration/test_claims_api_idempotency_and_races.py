"""Idempotent submit, and two writers racing on one claim version."""

from __future__ import annotations

from typing import Any

import pytest
from aftersales.domain.errors import IllegalTransition

from .conftest import BUYER, MERCHANT, Api, claim_body


def test_same_key_same_body_returns_the_first_claim(api: Api, order: dict[str, Any]) -> None:
    first = api.submit(claim_body(), key="retry-key-1")
    again = api.submit(claim_body(), key="retry-key-1")
    assert first.status == again.status == 201
    assert again.body["claim_id"] == first.body["claim_id"]
    listed = api.call("GET", "/claims", as_=BUYER).body["claims"]
    assert [c["claim_id"] for c in listed] == [first.body["claim_id"]]


def test_same_key_other_body_is_422(api: Api, order: dict[str, Any]) -> None:
    api.submit(claim_body(), key="retry-key-2")
    other = api.submit(claim_body(description="different"), key="retry-key-2")
    assert (other.status, other.body["code"]) == (422, "idempotency_key_reused")


def test_keys_are_per_buyer(api: Api, order: dict[str, Any]) -> None:
    from .conftest import OPS, OTHER_BUYER, order_body

    api.call("PUT", "/ops/orders/ord-b2", as_=OPS, body=order_body(buyer_id="buyer-2"))
    mine = api.submit(claim_body(), key="shared-key-1")
    theirs = api.submit(claim_body(order_id="ord-b2"), key="shared-key-1", as_=OTHER_BUYER)
    assert theirs.status == 201 and theirs.body["claim_id"] != mine.body["claim_id"]


def test_a_refused_submit_can_be_corrected_under_the_same_key(api: Api, order: dict[str, Any]) -> None:
    refused = api.submit(claim_body(quantity=9), key="fix-me-0001")
    assert (refused.status, refused.body["code"]) == (422, "quantity_exceeds_available")
    fixed = api.submit(claim_body(quantity=1), key="fix-me-0001")
    assert fixed.status == 201


def test_two_writers_on_one_version_one_wins_the_other_re_decides(api: Api, claim: dict[str, Any]) -> None:
    """The merchant approves while the buyer's cancel, read at the same version, commits first. The
    approval's write fails its version condition, it re-reads, finds the claim closed: 409."""
    from aftersales import claims, clock
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Action, Role
    from aftersales.store import Repository, default_repository

    claim_id = claim["claim_id"]
    real = default_repository()

    class RacingRepository(Repository):
        raced = False

        def get_claim_record(self, wanted: str):  # type: ignore[no-untyped-def]
            record = super().get_claim_record(wanted)
            if not RacingRepository.raced:
                RacingRepository.raced = True  # the other writer commits between our read and our write
                claims.act(wanted, Actor(Role.BUYER, "buyer-1"), Action.CANCEL, None, clock.now(), repo=real)
            return record

    racing = RacingRepository(real.settings)
    merchant = Actor(Role.MERCHANT, "staff-1", "m-1")
    with pytest.raises(IllegalTransition):
        claims.act(claim_id, merchant, Action.APPROVE, None, clock.now(), repo=racing)

    detail = api.call("GET", f"/claims/{claim_id}", as_=BUYER).body
    assert detail["claim"]["status"] == "closed" and detail["claim"]["version"] == 2
    assert [e["action"] for e in detail["timeline"]] == ["submit", "cancel"]


def test_a_lost_race_on_a_still_legal_action_retries_and_keeps_both_entries(
    api: Api, claim: dict[str, Any]
) -> None:
    """Ops escalates while the merchant approves from the same version: the approval retries from a
    fresh read and commits on top; neither timeline entry is lost."""
    from aftersales import claims, clock
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Action, Role
    from aftersales.store import Repository, default_repository

    claim_id = claim["claim_id"]
    real = default_repository()
    reads = []

    class RacingRepository(Repository):
        def get_claim_record(self, wanted: str):  # type: ignore[no-untyped-def]
            record = super().get_claim_record(wanted)
            reads.append(record.claim.version if record else None)
            if len(reads) == 1:
                claims.act(wanted, Actor(Role.OPS, "ops-1"), Action.ESCALATE, None, clock.now(), repo=real)
            return record

    result = claims.act(
        claim_id,
        Actor(Role.MERCHANT, "staff-1", "m-1"),
        Action.APPROVE,
        None,
        clock.now(),
        repo=RacingRepository(real.settings),
    )
    assert reads == [1, 2]
    assert result.claim.status == "awaiting_return_shipment" and result.claim.version == 3
    detail = api.call("GET", f"/claims/{claim_id}", as_=MERCHANT).body
    assert [e["action"] for e in detail["timeline"]] == ["submit", "escalate", "approve"]


def test_a_status_change_clears_the_task_token_and_returns_it_once(api: Api, claim: dict[str, Any]) -> None:
    from aftersales import claims, clock
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Action, Role
    from aftersales.store import default_repository

    repo = default_repository()
    assert repo.save_task_token(claim["claim_id"], "token-1", "pending_review") is True
    assert repo.save_task_token(claim["claim_id"], "token-x", "awaiting_inspection") is False
    result = claims.act(
        claim["claim_id"], Actor(Role.MERCHANT, "s", "m-1"), Action.APPROVE, None, clock.now()
    )
    assert result.cleared_task_token == "token-1"
    stored = repo.get_claim(claim["claim_id"])
    assert stored is not None and stored.task_token is None
