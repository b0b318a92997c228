"""The claim lifecycle, row by row: what each role may do in each status, and everything refused.

``SPEC`` is the lifecycle written out again by hand from POLICY.md, so a change to the table that was not
meant shows up here as a difference, not as a test that silently follows the code.
"""

from collections import deque

import pytest
from aftersales.domain.errors import Forbidden, IllegalTransition
from aftersales.domain.model import Action, ClaimType, Outcome, Role, Status
from aftersales.domain.transitions import (
    MAX_REOPENS,
    TRANSITIONS,
    allowed_actions,
    initial_status,
    merchant_ships,
    transition,
)

A, S, OUT = Action, Status, Outcome
RR, RO, EX, RP, CO = (
    ClaimType.RETURN_REFUND,
    ClaimType.REFUND_ONLY,
    ClaimType.EXCHANGE,
    ClaimType.REPAIR,
    ClaimType.COMPLAINT,
)
ALL = (RR, RO, EX, RP, CO)
BUYER, MERCHANT, OPS, SYSTEM = Role
STAY = None  # the status does not change (escalate, extend, rate)

# (status, action): (roles, {claim type: (target, outcome)})
SPEC: dict[tuple[Status, Action], tuple[set[Role], dict[ClaimType, tuple[Status | None, Outcome | None]]]] = {
    (S.PENDING_REVIEW, A.APPROVE): (
        {MERCHANT, OPS},
        {
            RR: (S.AWAITING_RETURN_SHIPMENT, None),
            EX: (S.AWAITING_RETURN_SHIPMENT, None),
            RP: (S.AWAITING_RETURN_SHIPMENT, None),
            RO: (S.AWAITING_REFUND, None),
        },
    ),
    (S.PENDING_REVIEW, A.AUTO_APPROVE): (
        {SYSTEM},
        {
            RR: (S.AWAITING_RETURN_SHIPMENT, None),
            EX: (S.AWAITING_RETURN_SHIPMENT, None),
            RP: (S.AWAITING_RETURN_SHIPMENT, None),
            RO: (S.AWAITING_REFUND, None),
        },
    ),
    (S.PENDING_REVIEW, A.REJECT): (
        {MERCHANT, OPS, SYSTEM},
        dict.fromkeys((RR, RO, EX, RP), (S.REJECTED, None)),
    ),
    (S.PENDING_REVIEW, A.CANCEL): ({BUYER}, dict.fromkeys(ALL, (S.CLOSED, OUT.CANCELLED))),
    (S.PENDING_REVIEW, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.PENDING_REVIEW, A.EXTEND): ({MERCHANT}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_RETURN_SHIPMENT, A.SHIP_RETURN): (
        {BUYER, SYSTEM},
        dict.fromkeys(ALL, (S.RETURN_IN_TRANSIT, None)),
    ),
    (S.AWAITING_RETURN_SHIPMENT, A.FORFEIT): ({SYSTEM}, dict.fromkeys(ALL, (S.CLOSED, OUT.FORFEITED))),
    (S.AWAITING_RETURN_SHIPMENT, A.CANCEL): ({BUYER}, dict.fromkeys(ALL, (S.CLOSED, OUT.CANCELLED))),
    (S.RETURN_IN_TRANSIT, A.RETURN_DELIVERED): (
        {SYSTEM, MERCHANT},
        dict.fromkeys(ALL, (S.AWAITING_INSPECTION, None)),
    ),
    (S.RETURN_IN_TRANSIT, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_INSPECTION, A.INSPECT_PASS): (
        {MERCHANT, OPS},
        {RR: (S.AWAITING_REFUND, None), EX: (S.AWAITING_REPLACEMENT_SHIPMENT, None), RP: (S.REPAIRING, None)},
    ),
    (S.AWAITING_INSPECTION, A.AUTO_ACCEPT_INSPECTION): (
        {SYSTEM},
        {RR: (S.AWAITING_REFUND, None), EX: (S.AWAITING_REPLACEMENT_SHIPMENT, None), RP: (S.REPAIRING, None)},
    ),
    (S.AWAITING_INSPECTION, A.INSPECT_FAIL): ({MERCHANT}, dict.fromkeys(ALL, (S.REJECTED, None))),
    (S.AWAITING_INSPECTION, A.QUOTE_REPAIR): ({MERCHANT}, {RP: (S.AWAITING_QUOTE_ACCEPTANCE, None)}),
    (S.AWAITING_INSPECTION, A.EXTEND): ({MERCHANT}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_INSPECTION, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_QUOTE_ACCEPTANCE, A.ACCEPT_QUOTE): ({BUYER}, dict.fromkeys(ALL, (S.REPAIRING, None))),
    (S.AWAITING_QUOTE_ACCEPTANCE, A.DECLINE_QUOTE): (
        {BUYER, SYSTEM},
        dict.fromkeys(ALL, (S.AWAITING_RETURN_TO_BUYER, None)),
    ),
    (S.AWAITING_RETURN_TO_BUYER, A.SHIP_BACK): (
        {MERCHANT, OPS},
        dict.fromkeys(ALL, (S.OUTBOUND_IN_TRANSIT, None)),
    ),
    (S.AWAITING_RETURN_TO_BUYER, A.EXTEND): ({MERCHANT}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_RETURN_TO_BUYER, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.REPAIRING, A.COMPLETE_REPAIR): ({MERCHANT}, dict.fromkeys(ALL, (S.OUTBOUND_IN_TRANSIT, None))),
    (S.REPAIRING, A.EXTEND): ({MERCHANT}, dict.fromkeys(ALL, (STAY, None))),
    (S.REPAIRING, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.SHIP_REPLACEMENT): (
        {MERCHANT, OPS},
        dict.fromkeys(ALL, (S.OUTBOUND_IN_TRANSIT, None)),
    ),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.EXTEND): ({MERCHANT}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_REPLACEMENT_SHIPMENT, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.OUTBOUND_IN_TRANSIT, A.OUTBOUND_DELIVERED): (
        {SYSTEM, BUYER},
        dict.fromkeys(ALL, (S.AWAITING_BUYER_CONFIRMATION, None)),
    ),
    (S.OUTBOUND_IN_TRANSIT, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_BUYER_CONFIRMATION, A.CONFIRM): (
        {BUYER},
        {EX: (S.CLOSED, OUT.EXCHANGED), RP: (S.CLOSED, OUT.REPAIRED)},
    ),
    (S.AWAITING_BUYER_CONFIRMATION, A.AUTO_CONFIRM): (
        {SYSTEM},
        {EX: (S.CLOSED, OUT.EXCHANGED), RP: (S.CLOSED, OUT.REPAIRED)},
    ),
    (S.AWAITING_BUYER_CONFIRMATION, A.REOPEN): ({BUYER}, {RP: (S.AWAITING_RETURN_SHIPMENT, None)}),
    (S.AWAITING_REFUND, A.REFUND_SUCCEEDED): ({SYSTEM}, dict.fromkeys(ALL, (S.CLOSED, OUT.REFUNDED))),
    (S.AWAITING_REFUND, A.REFUND_FAILED): ({SYSTEM}, dict.fromkeys(ALL, (S.REFUND_FAILED, None))),
    (S.AWAITING_REFUND, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.REFUND_FAILED, A.RETRY_REFUND): ({OPS}, dict.fromkeys(ALL, (S.AWAITING_REFUND, None))),
    (S.REJECTED, A.DISPUTE): ({BUYER}, dict.fromkeys(ALL, (S.IN_MEDIATION, None))),
    (S.REJECTED, A.CONFIRM): ({BUYER}, dict.fromkeys(ALL, (S.CLOSED, OUT.REJECTED))),
    (S.REJECTED, A.APPEAL_LAPSED): ({SYSTEM}, dict.fromkeys(ALL, (S.CLOSED, OUT.REJECTED))),
    (S.IN_MEDIATION, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (S.IN_ARBITRATION, None))),
    (S.IN_MEDIATION, A.RULING_REFUND): ({OPS}, dict.fromkeys(ALL, (S.AWAITING_REFUND, None))),
    (S.IN_MEDIATION, A.RULING_DISMISS): ({OPS}, dict.fromkeys(ALL, (S.CLOSED, OUT.REJECTED))),
    (S.IN_ARBITRATION, A.RULING_REFUND): ({OPS}, dict.fromkeys(ALL, (S.AWAITING_REFUND, None))),
    (S.IN_ARBITRATION, A.RULING_DISMISS): ({OPS}, dict.fromkeys(ALL, (S.CLOSED, OUT.REJECTED))),
    (S.AWAITING_OPINION, A.GIVE_OPINION): ({OPS}, dict.fromkeys(ALL, (S.CLOSED, OUT.RESOLVED))),
    (S.AWAITING_OPINION, A.ESCALATE): ({OPS, SYSTEM}, dict.fromkeys(ALL, (STAY, None))),
    (S.AWAITING_OPINION, A.CANCEL): ({BUYER}, dict.fromkeys(ALL, (S.CLOSED, OUT.CANCELLED))),
    (S.CLOSED, A.RATE): ({BUYER}, dict.fromkeys(ALL, (STAY, None))),
}
# Any party may write a message on an open claim; it keeps the stage. Closed claims take none.
SPEC.update(
    {
        (status, A.MESSAGE): ({BUYER, MERCHANT, OPS}, dict.fromkeys(ALL, (STAY, None)))
        for status in S
        if status is not S.CLOSED
    }
)
for finding in (A.PAUSE_CLOCK, A.RESUME_CLOCK, A.FIND_BUYER_DELAY):  # ops findings on the clock
    SPEC.update(
        {
            (status, finding): ({OPS}, dict.fromkeys(ALL, (STAY, None)))
            for status in S
            if status is not S.CLOSED
        }
    )

ALLOWED = [
    pytest.param(
        status, action, role, claim_type, target, outcome, id=f"{status}-{action}-{role}-{claim_type}"
    )
    for (status, action), (roles, by_type) in SPEC.items()
    for role in sorted(roles)
    for claim_type, (target, outcome) in by_type.items()
]
WRONG_ROLE = [
    pytest.param(status, action, role, claim_type, id=f"{status}-{action}-{role}")
    for (status, action), (roles, by_type) in SPEC.items()
    for role in sorted(set(Role) - roles)
    for claim_type in list(by_type)[:1]
]
NOT_IN_TABLE = [
    pytest.param(status, action, id=f"{status}-{action}")
    for status in Status
    for action in Action
    if (status, action) not in TRANSITIONS
]
WRONG_TYPE = [
    pytest.param(status, action, claim_type, id=f"{status}-{action}-{claim_type}")
    for (status, action), (_, by_type) in SPEC.items()
    for claim_type in ALL
    if claim_type not in by_type
]


def test_the_table_has_exactly_the_rows_of_the_spec():
    assert set(TRANSITIONS) == set(SPEC)
    for key, rule in TRANSITIONS.items():
        roles, by_type = SPEC[key]
        assert rule.roles == roles, key
        assert {t for t in ClaimType if rule.applies_to(t)} == set(by_type), key


@pytest.mark.parametrize(("status", "action", "role", "claim_type", "target", "outcome"), ALLOWED)
def test_every_allowed_row_leads_where_the_spec_says(status, action, role, claim_type, target, outcome):
    moved = transition(status, action, role, claim_type)
    assert moved.source is status
    assert moved.action is action
    assert moved.target is (target or status)
    assert moved.outcome is outcome
    assert moved.changes_status is (target is not None and target is not status)
    assert action in allowed_actions(status, claim_type, role)


@pytest.mark.parametrize(("status", "action", "role", "claim_type"), WRONG_ROLE)
def test_a_role_not_in_the_row_is_forbidden(status, action, role, claim_type):
    with pytest.raises(Forbidden) as caught:
        transition(status, action, role, claim_type)
    assert caught.value.code == "forbidden_action"
    assert caught.value.details == {"status": status.value, "action": action.value, "role": role.value}
    assert action not in allowed_actions(status, claim_type, role)


def _assert_illegal(status, action, claim_type, role, **kwargs):
    with pytest.raises(IllegalTransition) as caught:
        transition(status, action, role, claim_type, **kwargs)
    error = caught.value
    allowed = [a.value for a in allowed_actions(status, claim_type)]
    assert error.code == "illegal_transition"
    assert error.details == {"status": status.value, "action": action.value, "allowed": allowed}
    assert status.value in error.message
    assert all(a in error.message for a in allowed)
    if not allowed:
        assert "nothing" in error.message


@pytest.mark.parametrize(("status", "action"), NOT_IN_TABLE)
def test_every_pair_not_in_the_table_is_illegal_for_every_type_and_role(status, action):
    for claim_type in ClaimType:
        for role in Role:
            _assert_illegal(status, action, claim_type, role)


@pytest.mark.parametrize(("status", "action", "claim_type"), WRONG_TYPE)
def test_a_row_limited_to_some_types_is_illegal_for_the_others(status, action, claim_type):
    for role in Role:
        _assert_illegal(status, action, claim_type, role)


def test_illegal_is_reported_before_forbidden():
    # A merchant trying to confirm a refund_only claim hears it is illegal, not that they lack rights.
    _assert_illegal(S.AWAITING_BUYER_CONFIRMATION, A.CONFIRM, RO, MERCHANT)


def test_a_repair_may_be_reopened_once_only():
    assert MAX_REOPENS == 1
    first = transition(S.AWAITING_BUYER_CONFIRMATION, A.REOPEN, BUYER, RP, reopen_count=0)
    assert first.target is S.AWAITING_RETURN_SHIPMENT
    for count in (1, 2):
        _assert_illegal(S.AWAITING_BUYER_CONFIRMATION, A.REOPEN, RP, BUYER, reopen_count=count)


def test_the_reopen_limit_does_not_touch_other_actions():
    confirmed = transition(S.AWAITING_BUYER_CONFIRMATION, A.CONFIRM, BUYER, RP, reopen_count=1)
    assert confirmed.outcome is OUT.REPAIRED


def test_goods_sent_back_after_a_declined_quote_close_quote_declined_and_cannot_be_reopened():
    for action, role in ((A.CONFIRM, BUYER), (A.AUTO_CONFIRM, SYSTEM)):
        back = transition(S.AWAITING_BUYER_CONFIRMATION, action, role, RP, unrepaired=True)
        assert (back.target, back.outcome) == (S.CLOSED, OUT.QUOTE_DECLINED)
    with pytest.raises(IllegalTransition) as refused:
        transition(S.AWAITING_BUYER_CONFIRMATION, A.REOPEN, BUYER, RP, unrepaired=True)
    assert "reopen" not in refused.value.details["allowed"]
    assert "confirm" in refused.value.details["allowed"]
    # The rest of the outbound leg is the same as a repaired parcel's.
    delivered = transition(S.OUTBOUND_IN_TRANSIT, A.OUTBOUND_DELIVERED, SYSTEM, RP, unrepaired=True)
    assert delivered.target is S.AWAITING_BUYER_CONFIRMATION


def test_the_merchants_shipment_to_the_buyer_is_the_goods_back_or_a_replacement():
    assert merchant_ships(S.AWAITING_RETURN_TO_BUYER) is A.SHIP_BACK
    assert merchant_ships(S.AWAITING_REPLACEMENT_SHIPMENT) is A.SHIP_REPLACEMENT
    # Anywhere else the action is refused by the table with the status's allowed actions.
    assert merchant_ships(S.REPAIRING) is A.SHIP_REPLACEMENT


def test_allowed_actions_follow_table_order_and_filter_by_role():
    assert allowed_actions(S.PENDING_REVIEW, RR) == [
        A.APPROVE,
        A.AUTO_APPROVE,
        A.REJECT,
        A.CANCEL,
        A.ESCALATE,
        A.EXTEND,
        A.MESSAGE,
        A.PAUSE_CLOCK,
        A.RESUME_CLOCK,
        A.FIND_BUYER_DELAY,
    ]
    assert allowed_actions(S.PENDING_REVIEW, RR, BUYER) == [A.CANCEL, A.MESSAGE]
    assert allowed_actions(S.AWAITING_INSPECTION, RP, MERCHANT) == [
        A.INSPECT_PASS,
        A.INSPECT_FAIL,
        A.QUOTE_REPAIR,
        A.EXTEND,
        A.MESSAGE,
    ]
    assert A.MESSAGE not in allowed_actions(S.CLOSED, RP)
    assert A.QUOTE_REPAIR not in allowed_actions(S.AWAITING_INSPECTION, RR)


def test_complaints_start_awaiting_the_opinion_and_everything_else_in_review():
    assert initial_status(CO) is S.AWAITING_OPINION
    for claim_type in (RR, RO, EX, RP):
        assert initial_status(claim_type) is S.PENDING_REVIEW


def _reachable(claim_type: ClaimType) -> set[Status]:
    seen = {initial_status(claim_type)}
    queue = deque(seen)
    while queue:
        status = queue.popleft()
        for action in allowed_actions(status, claim_type):
            roles = TRANSITIONS[(status, action)].roles
            target = transition(status, action, next(iter(roles)), claim_type, reopen_count=0).target
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


REACHABLE = {claim_type: _reachable(claim_type) for claim_type in ClaimType}


def test_every_status_is_reachable_from_the_start_of_some_type():
    assert set().union(*REACHABLE.values()) == set(Status)


def test_each_type_reaches_the_stages_its_story_needs():
    assert S.AWAITING_REPLACEMENT_SHIPMENT in REACHABLE[EX]
    assert S.AWAITING_QUOTE_ACCEPTANCE in REACHABLE[RP]
    assert S.AWAITING_RETURN_SHIPMENT not in REACHABLE[RO]
    assert REACHABLE[CO] == {S.AWAITING_OPINION, S.CLOSED}


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_every_non_final_status_a_type_reaches_has_a_way_forward_to_closed(claim_type):
    for status in REACHABLE[claim_type] - {S.CLOSED}:
        onward = [
            a
            for a in allowed_actions(status, claim_type)
            if transition(status, a, next(iter(TRANSITIONS[(status, a)].roles)), claim_type).changes_status
        ]
        assert onward, f"{claim_type}: {status} is a dead end"
        assert S.CLOSED in _reachable_from(status, claim_type), f"{claim_type}: {status} never closes"


def _reachable_from(start: Status, claim_type: ClaimType) -> set[Status]:
    seen, queue = {start}, deque([start])
    while queue:
        status = queue.popleft()
        for action in allowed_actions(status, claim_type):
            role = next(iter(TRANSITIONS[(status, action)].roles))
            target = transition(status, action, role, claim_type).target
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def test_closed_is_final_and_only_takes_a_rating():
    assert S.CLOSED.is_final
    assert not any(s.is_final for s in Status if s is not S.CLOSED)
    for claim_type in ClaimType:
        assert allowed_actions(S.CLOSED, claim_type) == [A.RATE]
