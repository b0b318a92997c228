"""docs/workflow.md shows the state machine as it is, and the machine routes every status."""

from __future__ import annotations

import json

from aftersales.domain.model import Status
from aftersales.workflow_steps import PARKED

from infra import asl_diagram


def test_docs_workflow_md_shows_the_current_state_machine() -> None:
    doc = asl_diagram.DOC.read_text(encoding="utf-8")
    assert asl_diagram.updated(doc) == doc, "run: python -m infra.asl_diagram"


def test_next_stage_routes_every_claim_status_and_parked_and_nothing_else() -> None:
    definition = json.loads(asl_diagram.ASL.read_text(encoding="utf-8"))
    routed = {choice["StringEquals"] for choice in definition["States"]["NextStage"]["Choices"]}
    assert routed == {status.value for status in Status} | {PARKED}


def test_every_lambda_task_retries_lambda_service_errors_and_catches_the_rest() -> None:
    definition = json.loads(asl_diagram.ASL.read_text(encoding="utf-8"))
    lambda_errors = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"}
    for name, state in definition["States"].items():
        if state["Type"] != "Task":
            continue
        retried = [r for r in state["Retry"] if lambda_errors <= set(r["ErrorEquals"])]
        assert retried and (retried[0]["IntervalSeconds"], retried[0]["BackoffRate"]) == (2, 2), name
        assert retried[0]["MaxAttempts"] == 6, name
        if name != "ParkForOps":  # the last resort: its own failure fails the run, visibly
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
