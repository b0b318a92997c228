"""The claim service: every change to a claim goes through here, whoever makes it (the API, workflow
steps, carrier events, sla_tick). Rules are decided by the pure domain (``aftersales.domain.changes``);
this package reads, asks the domain, and writes the result in one conditional transaction.

- ``submit``: a buyer opens a claim;
- ``act``: an action through the transition table (and the waiting workflow run resumed);
- ``queries``: what a caller may read.
"""

from aftersales.domain.claim import Claim

from .act import ActResult, ClaimChanged, act, annotate, park, resume_parked
from .common import MAX_ATTEMPTS, policy_for
from .queries import ClaimDetail, detail, list_for, overdue, read
from .submit import new_claim_id, open_claim, submit

__all__ = [
    "MAX_ATTEMPTS",
    "ActResult",
    "Claim",
    "ClaimChanged",
    "ClaimDetail",
    "act",
    "annotate",
    "detail",
    "list_for",
    "new_claim_id",
    "open_claim",
    "overdue",
    "park",
    "policy_for",
    "read",
    "resume_parked",
    "submit",
]
