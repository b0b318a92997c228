"""Domain errors. Each carries a stable machine-readable ``code`` the API returns as is."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused something. ``code`` is stable; ``message`` is for people."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}


class InvalidMoney(DomainError):
    code = "invalid_amount"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class StateConflict(DomainError):
    """The action is legal in this status, but the claim's state refuses it (already rated, not parked)."""

    code = "state_conflict"


class Forbidden(DomainError):
    """The actor's role may not take this action (the API turns it into 404 or 403 as it sees fit)."""

    code = "forbidden_action"


class Ineligible(DomainError):
    """The claim cannot be opened; ``code`` is one of ``eligibility.REASON_CODES``."""

    code = "ineligible"


class InvalidOrder(DomainError):
    """Order facts that contradict themselves (the API answers 400: the sender's data is wrong)."""

    code = "invalid_order"


class InvalidEvidence(DomainError):
    """An evidence key that is not an upload of the claim's buyer (the API answers 400)."""

    code = "invalid_evidence_key"


class PolicyError(DomainError):
    code = "invalid_policy"
