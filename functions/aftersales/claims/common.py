"""What the claim service's use cases share: the policy of a claim, reading one in scope, metrics."""

from __future__ import annotations

from aftersales import business_metrics, policy_layers
from aftersales.domain import scorecard
from aftersales.domain.changes import Change
from aftersales.domain.claim import Actor, Claim, in_scope
from aftersales.domain.policy import Policy
from aftersales.service_errors import NotFound
from aftersales.store import ClaimRecord, Repository
from aftersales.store.mapping import item_to_claim

MAX_ATTEMPTS = 4  # a lost race is re-read and re-decided this many times before answering 409


def policy_for(claim: Claim, repo: Repository | None = None) -> Policy:
    """The policy that governs a claim: the exact platform, category and merchant layer versions it
    opened under (``claim.policy_layers``), never today's; each version is read once per process."""
    return policy_layers.for_claim(claim, repo=repo)


def record_in_scope(repo: Repository, claim_id: str, actor: Actor) -> tuple[ClaimRecord, Claim]:
    """The claim's stored record and the claim, if ``actor`` may see it; else ``NotFound``."""
    record = repo.get_claim_record(claim_id)
    claim = item_to_claim(record.claim) if record is not None else None
    if record is None or claim is None or not in_scope(claim, actor):
        raise NotFound("no such claim", details={"claim_id": claim_id})
    return record, claim


def count(change: Change) -> None:
    """The service-wide business metrics of a committed change. Its scorecard counters were written
    in the change's own transaction (``Repository.commit_change``), exactly once."""
    business_metrics.count(scorecard.change_counts(change))
