"""The claim lifecycle as one table: every allowed (status, action), who may take it, where it leads.

Everything that moves a claim, whether the API, the state machine, a carrier event or sla_tick, asks
``transition`` first. The table is data so it can be printed, diagrammed and tested row by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import Forbidden, IllegalTransition
from .model import Action, ClaimType, Outcome, Role, Status

A, S, T, O = Action, Status, ClaimType, Outcome  # noqa: E741
BUYER, MERCHANT, OPS, SYSTEM = Role.BUYER, Role.MERCHANT, Role.OPS, Role.SYSTEM

MAX_REOPENS = 1  # a buyer not satisfied with a repair may reopen it once (POLICY §7, 002 §4.4)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    target: Status | Mapping[ClaimType, Status] | None  # None: the status stays (escalate, extend, rate)
    outcome: Outcome | Mapping[ClaimType, Outcome] | None = None

    def applies_to(self, claim_type: ClaimType) -> bool:
        # A per-type outcome limits the row too: confirming a return_refund is illegal, not a KeyError.
        parts = (self.target, self.outcome)
        return all(not isinstance(part, Mapping) or claim_type in part for part in parts)


def _rule(
    roles: set[Role],
    target: Status | Mapping[ClaimType, Status] | None = None,
    outcome: Outcome | Mapping[ClaimType, Outcome] | None = None,
) -> Rule:
    return Rule(frozenset(roles), target, outcome)


_AFTER_APPROVAL = {
    T.RETURN_REFUND: S.AWAITING_RETURN_SHIPMENT,
    T.EXCHANGE: S.AWAITING_RETURN_SHIPMENT,
    T.REPAIR: S.AWAITING_RETURN_SHIPMENT,
    T.REFUND_ONLY: S.AWAITING_REFUND,
}
_AFTER_REVIEW_REJECTION = dict.fromkeys(_AFTER_APPROVAL, S.REJECTED)
_AFTER_INSPECTION = {
    T.RETURN_REFUND: S.AWAITING_REFUND,
    T.EXCHANGE: S.AWAITING_REPLACEMENT_SHIPMENT,
    T.REPAIR: S.REPAIRING,
}
_CONFIRMED = {T.EXCHANGE: O.EXCHANGED, T.REPAIR: O.REPAIRED}

TRANSITIONS: dict[tuple[Status, Action], Rule] = {
    (S.PENDING_REVIEW, A.APPROVE): _rule({MERCHANT, OPS}, _AFTER_APPROVAL),
    (S.PENDING_REVIEW, A.AUTO_APPROVE): _rule({SYSTEM}, _AFTER_APPROVAL),
    # SYSTEM: the workflow's automatic review rejects by policy (domain.review), with a reason code.
    (S.PENDING_REVIEW, A.REJECT): _rule({MERCHANT, OPS, SYSTEM}, _AFTER_REVIEW_REJECTION),
    (S.PENDING_REVIEW, A.CANCEL): _rule({BUYER}, S.CLOSED, O.CANCELLED),
    (S.PENDING_REVIEW, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.PENDING_REVIEW, A.EXTEND): _rule({MERCHANT}),
    (S.AWAITING_RETURN_SHIPMENT, A.SHIP_RETURN): _rule({BUYER, SYSTEM}, S.RETURN_IN_TRANSIT),
    (S.AWAITING_RETURN_SHIPMENT, A.FORFEIT): _rule({SYSTEM}, S.CLOSED, O.FORFEITED),
    (S.AWAITING_RETURN_SHIPMENT, A.CANCEL): _rule({BUYER}, S.CLOSED, O.CANCELLED),
    (S.RETURN_IN_TRANSIT, A.RETURN_DELIVERED): _rule({SYSTEM, MERCHANT}, S.AWAITING_INSPECTION),
    (S.RETURN_IN_TRANSIT, A.ESCALATE): _rule({OPS, SYSTEM}),  # a parcel that stops moving
    (S.AWAITING_INSPECTION, A.INSPECT_PASS): _rule({MERCHANT, OPS}, _AFTER_INSPECTION),
    (S.AWAITING_INSPECTION, A.AUTO_ACCEPT_INSPECTION): _rule({SYSTEM}, _AFTER_INSPECTION),
    (S.AWAITING_INSPECTION, A.INSPECT_FAIL): _rule({MERCHANT}, S.REJECTED),
    (S.AWAITING_INSPECTION, A.QUOTE_REPAIR): _rule({MERCHANT}, {T.REPAIR: S.AWAITING_QUOTE_ACCEPTANCE}),
    (S.AWAITING_INSPECTION, A.EXTEND): _rule({MERCHANT}),
    (S.AWAITING_INSPECTION, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.AWAITING_QUOTE_ACCEPTANCE, A.ACCEPT_QUOTE): _rule({BUYER}, S.REPAIRING),
    # A declined quote (or its lapse) sends the unrepaired goods back over the outbound leg.
    (S.AWAITING_QUOTE_ACCEPTANCE, A.DECLINE_QUOTE): _rule({BUYER, SYSTEM}, S.AWAITING_RETURN_TO_BUYER),
    (S.AWAITING_RETURN_TO_BUYER, A.SHIP_BACK): _rule({MERCHANT, OPS}, S.OUTBOUND_IN_TRANSIT),
    (S.AWAITING_RETURN_TO_BUYER, A.EXTEND): _rule({MERCHANT}),
    (S.AWAITING_RETURN_TO_BUYER, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.REPAIRING, A.COMPLETE_REPAIR): _rule({MERCHANT}, S.OUTBOUND_IN_TRANSIT),
    (S.REPAIRING, A.EXTEND): _rule({MERCHANT}),
    (S.REPAIRING, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.SHIP_REPLACEMENT): _rule({MERCHANT, OPS}, S.OUTBOUND_IN_TRANSIT),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.EXTEND): _rule({MERCHANT}),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.OUTBOUND_IN_TRANSIT, A.OUTBOUND_DELIVERED): _rule({SYSTEM, BUYER}, S.AWAITING_BUYER_CONFIRMATION),
    (S.OUTBOUND_IN_TRANSIT, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.AWAITING_BUYER_CONFIRMATION, A.CONFIRM): _rule({BUYER}, S.CLOSED, _CONFIRMED),
    (S.AWAITING_BUYER_CONFIRMATION, A.AUTO_CONFIRM): _rule({SYSTEM}, S.CLOSED, _CONFIRMED),
    (S.AWAITING_BUYER_CONFIRMATION, A.REOPEN): _rule({BUYER}, {T.REPAIR: S.AWAITING_RETURN_SHIPMENT}),
    (S.AWAITING_REFUND, A.REFUND_SUCCEEDED): _rule({SYSTEM}, S.CLOSED, O.REFUNDED),
    (S.AWAITING_REFUND, A.REFUND_FAILED): _rule({SYSTEM}, S.REFUND_FAILED),
    (S.AWAITING_REFUND, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.REFUND_FAILED, A.RETRY_REFUND): _rule({OPS}, S.AWAITING_REFUND),
    (S.REJECTED, A.DISPUTE): _rule({BUYER}, S.IN_MEDIATION),
    (S.REJECTED, A.CONFIRM): _rule({BUYER}, S.CLOSED, O.REJECTED),
    (S.REJECTED, A.APPEAL_LAPSED): _rule({SYSTEM}, S.CLOSED, O.REJECTED),
    (S.IN_MEDIATION, A.ESCALATE): _rule({OPS, SYSTEM}, S.IN_ARBITRATION),
    (S.IN_MEDIATION, A.RULING_REFUND): _rule({OPS}, S.AWAITING_REFUND),
    (S.IN_MEDIATION, A.RULING_DISMISS): _rule({OPS}, S.CLOSED, O.REJECTED),
    (S.IN_ARBITRATION, A.RULING_REFUND): _rule({OPS}, S.AWAITING_REFUND),
    (S.IN_ARBITRATION, A.RULING_DISMISS): _rule({OPS}, S.CLOSED, O.REJECTED),
    (S.AWAITING_OPINION, A.GIVE_OPINION): _rule({OPS}, S.CLOSED, O.RESOLVED),
    (S.AWAITING_OPINION, A.ESCALATE): _rule({OPS, SYSTEM}),
    (S.AWAITING_OPINION, A.CANCEL): _rule({BUYER}, S.CLOSED, O.CANCELLED),
    (S.CLOSED, A.RATE): _rule({BUYER}),
}
# A message (a question, an answer, an update) keeps the stage; any party may write one while the claim
# is open. Written by the merchant or an agent, it is a response to the claim (deadlines_met_by).
TRANSITIONS.update(
    {(status, A.MESSAGE): _rule({BUYER, MERCHANT, OPS}) for status in S if not status.is_final}
)
# Ops findings on an open claim's clock: a force-majeure pause (and its end), and that a delay is the
# buyer's. They change deadlines, not the stage.
for _finding in (A.PAUSE_CLOCK, A.RESUME_CLOCK, A.FIND_BUYER_DELAY):
    TRANSITIONS.update({(status, _finding): _rule({OPS}) for status in S if not status.is_final})


@dataclass(frozen=True)
class Transition:
    source: Status
    action: Action
    target: Status
    outcome: Outcome | None

    @property
    def changes_status(self) -> bool:
        return self.source is not self.target


def initial_status(claim_type: ClaimType) -> Status:
    """Complaints wait for the platform's written opinion; everything else for the merchant's review."""
    return S.AWAITING_OPINION if claim_type is T.COMPLAINT else S.PENDING_REVIEW


def allowed_actions(status: Status, claim_type: ClaimType, role: Role | None = None) -> list[Action]:
    """Actions that may be taken now, in table order; only ``role``'s when a role is given."""
    return [
        action
        for (source, action), rule in TRANSITIONS.items()
        if source is status and rule.applies_to(claim_type) and (role is None or role in rule.roles)
    ]


def transition(
    status: Status,
    action: Action,
    role: Role,
    claim_type: ClaimType,
    *,
    reopen_count: int = 0,
    unrepaired: bool = False,
) -> Transition:
    """Where ``action`` by ``role`` takes a ``claim_type`` claim in ``status``, or a domain error.

    ``unrepaired``: the goods on their way back are a declined quote's, so confirming them closes the
    claim ``quote_declined`` and there is no repair to reopen.
    ``IllegalTransition`` names the current status and the actions allowed in it; ``Forbidden`` means
    the action is legal now but not for this role.
    """
    rule = TRANSITIONS.get((status, action))
    if (
        rule is None
        or not rule.applies_to(claim_type)
        or (action is A.REOPEN and (reopen_count >= MAX_REOPENS or unrepaired))
    ):
        allowed = [a for a in allowed_actions(status, claim_type) if not (unrepaired and a is A.REOPEN)]
        raise IllegalTransition(
            f"cannot {action.value} a {claim_type.value} claim that is {status.value}; "
            f"allowed now: {', '.join(a.value for a in allowed) or 'nothing'}",
            details={"status": status.value, "action": action.value, "allowed": [a.value for a in allowed]},
        )
    if role not in rule.roles:
        raise Forbidden(
            f"a {role.value} may not {action.value} this claim",
            details={"status": status.value, "action": action.value, "role": role.value},
        )
    target = rule.target[claim_type] if isinstance(rule.target, Mapping) else (rule.target or status)
    outcome = rule.outcome[claim_type] if isinstance(rule.outcome, Mapping) else rule.outcome
    if unrepaired and outcome is O.REPAIRED:
        outcome = O.QUOTE_DECLINED
    return Transition(status, action, target, outcome)


def buyer_accepts(status: Status) -> Action:
    """What "accept" means for the buyer now: the repair quote, or the goods (closing the claim)."""
    return A.ACCEPT_QUOTE if status is S.AWAITING_QUOTE_ACCEPTANCE else A.CONFIRM


def merchant_ships(status: Status) -> Action:
    """What the merchant's shipment to the buyer is now: the unrepaired goods back, or a replacement."""
    return A.SHIP_BACK if status is S.AWAITING_RETURN_TO_BUYER else A.SHIP_REPLACEMENT


def buyer_refuses(status: Status) -> Action:
    """What "refuse" means for the buyer now: decline the quote, reopen the repair, or dispute."""
    return {S.AWAITING_QUOTE_ACCEPTANCE: A.DECLINE_QUOTE, S.AWAITING_BUYER_CONFIRMATION: A.REOPEN}.get(
        status, A.DISPUTE
    )
