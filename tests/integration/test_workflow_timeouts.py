"""A wait that times out re-reads the claim and re-enters the stage its status says (``Resync``).

The real ASL with every ``TimeoutSeconds`` cut to 2 s (moto waits in real time), run in moto with the
real handlers: a lost wake-up is repaired, a stage nobody acted on is entered again with a fresh token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aftersales import workflow, workflow_steps
from aftersales.domain.model import Action

from infra.local.workflow import FUNCTIONS, function_arn, load_definition, poll
from tests.support.workflow import ClaimWorkflow, claim_workflow

from .test_claim_workflow import MERCHANT, act, claim_of, put_order, submit

__all__ = ["claim_workflow"]

SHORT = 2


@pytest.fixture
def short_waits(claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClaimWorkflow]:
    from aftersales.process import reset_process_state

    definition = load_definition({key: function_arn(fn) for key, fn in FUNCTIONS.items()})
    for state in definition["States"].values():
        if "TimeoutSeconds" in state:
            state["TimeoutSeconds"] = SHORT
    arn = claim_workflow.sfn.create_state_machine(
        name="aftersales-claim-short-waits",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/test",
        type="STANDARD",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    reset_process_state()
    put_order()
    yield ClaimWorkflow(claim_workflow.sfn, arn, claim_workflow.lambdas)
    # These runs would time out and re-sync every 2 s for ever, in moto's threads: stop them. A
    # stopped run's pending wait still times out once, logging an error: let it, while this test's
    # log capture is on, rather than on the console later.
    stopped = 0
    for execution in claim_workflow.sfn.list_executions(stateMachineArn=arn)["executions"]:
        if execution["status"] == "RUNNING":
            claim_workflow.sfn.stop_execution(executionArn=execution["executionArn"])
            stopped += 1
    if stopped:
        time.sleep(SHORT + 0.5)


def test_a_lost_wake_up_is_repaired_when_the_wait_times_out(
    short_waits: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim_id = submit("return_refund", "not_as_described")
    short_waits.waiting_at(claim_id, "pending_review")
    lost: list[Any] = []
    monkeypatch.setattr(workflow, "complete_task", lambda token, output: lost.append(output))
    assert act(claim_id, MERCHANT, Action.APPROVE) == "awaiting_return_shipment"
    monkeypatch.undo()
    assert lost, "the approval's wake-up was dropped"

    token = short_waits.waiting_at(claim_id, "awaiting_return_shipment")
    entered = short_waits.states_entered(claim_id)
    assert entered[-4:] == ["Review", "Resync", "NextStage", "AwaitReturnShipment"]
    assert claim_of(claim_id).task_token == token


def test_a_stage_nobody_acted_on_is_entered_again_with_a_fresh_token(short_waits: ClaimWorkflow) -> None:
    claim_id = submit("return_refund", "not_as_described")
    first = short_waits.waiting_at(claim_id, "pending_review")

    def entered_again() -> str | None:
        token = claim_of(claim_id).task_token
        return token if token and token != first else None

    second = poll(entered_again, what="a fresh token after the timeout", timeout=SHORT + 15)
    assert short_waits.states_entered(claim_id)[-3:] == ["Resync", "NextStage", "AwaitMerchantDecision"]
    assert act(claim_id, MERCHANT, Action.APPROVE) == "awaiting_return_shipment"  # resumes the new wait
    assert short_waits.waiting_at(claim_id, "awaiting_return_shipment") != second


def test_resync_sends_a_parked_claim_back_to_ops_with_its_failure(short_waits: ClaimWorkflow) -> None:
    claim_id = submit("return_refund", "not_as_described")
    short_waits.waiting_at(claim_id, "pending_review")
    from aftersales.clock import now

    workflow_steps.park(claim_id, "token-of-a-lost-run", {"Error": "KeyError"}, now())
    assert workflow_steps.resync(claim_id) == {
        "claim_id": claim_id,
        "status": workflow_steps.PARKED,
        "failure": {"Error": "KeyError"},
    }
