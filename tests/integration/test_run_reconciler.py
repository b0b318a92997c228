"""Crashes between "claim committed" and "run advanced", with the real ASL running in moto, and the
reconciler (``aftersales.reconciler``, run by sla_tick) bringing every claim and run back in step:
the start failed, SendTaskSuccess was lost, the wait step never stored its token, the run ended
while the claim is open. Each repair happens once: a second pass finds nothing to do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aftersales import workflow
from aftersales.domain.model import Action
from aftersales.events import RecordingPublisher
from aftersales.reconciler import RUN_ENDED, ReconcileReport, reconcile_runs
from aftersales.store import Repository, default_repository
from aftersales.store.models import RunSyncItem, claim_pk

from infra.local.moto_env import poll
from tests.integration.test_claim_workflow import BUYER, MERCHANT, act, claim_of, put_order, submit
from tests.support.workflow import START, ClaimWorkflow, claim_workflow, timeline

__all__ = ["claim_workflow"]  # the fixture

AFTER_GRACE = START + timedelta(minutes=3)  # the marks are due 2 minutes after the change


def reconcile(at: Any = AFTER_GRACE, publisher: RecordingPublisher | None = None) -> ReconcileReport:
    return reconcile_runs(at, repo=default_repository(), publisher=publisher or RecordingPublisher())


def mark_of(claim_id: str) -> RunSyncItem | None:
    with default_repository().bound():
        for item in RunSyncItem.query(claim_pk(claim_id), RunSyncItem.sk == "RUNSYNC", consistent_read=True):
            return item
    return None


def confirmed(claim_id: str) -> None:
    """The run confirmed it is in step: its mark is gone (deleted just after the token is stored)."""
    poll(lambda: mark_of(claim_id) is None or None, what=f"{claim_id}'s run mark to be cleared")


def fail_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Make ``owner.name`` raise on its first call only; returns the calls made."""
    original = getattr(owner, name)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(f"{name}: connection reset")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return calls


def reconciled(claim_id: str) -> list[tuple[str, str, str]]:
    return [entry for entry in timeline(claim_id) if entry[0] == "reconciler"]


def test_a_claim_whose_run_never_started_gets_it_started_once(
    claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = claim_workflow
    put_order()
    starts = fail_once(monkeypatch, workflow, "start_claim_run")
    claim_id = submit("return_refund", "quality_defect")  # committed; the start failed and was logged
    assert claim_of(claim_id).status == "pending_review"
    assert mark_of(claim_id) is not None
    assert reconcile(START + timedelta(seconds=90)).checked == 0  # within the grace: not yet due

    first = reconcile()
    assert (first.checked, first.repaired) == (1, {"start_run": 1})
    wf.waiting_at(claim_id, "pending_review")  # the started run stored its token: the mark is gone
    confirmed(claim_id)
    again = reconcile(AFTER_GRACE + timedelta(hours=1))
    assert (again.checked, again.repairs) == (0, 0)
    assert len(starts) == 2  # the failed one and the reconciler's

    act(claim_id, MERCHANT, Action.APPROVE)
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    assert wf.states_entered(claim_id).count("Review") == 1
    assert reconciled(claim_id) == [("reconciler", "run_reconciled", "pending_review")]


def test_a_lost_task_completion_is_sent_again_and_the_run_moves_on_once(
    claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    confirmed(claim_id)
    sends = fail_once(monkeypatch, workflow, "complete_task")
    act(claim_id, MERCHANT, Action.APPROVE)  # committed, token cleared; SendTaskSuccess lost
    claim = claim_of(claim_id)
    assert (claim.status, claim.task_token) == ("awaiting_return_shipment", None)
    assert wf.states_entered(claim_id)[-1] == "Review"  # the run still waits there, for the merchant

    first = reconcile()
    assert first.repaired == {"resume_run": 1}
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    confirmed(claim_id)
    assert reconcile(AFTER_GRACE + timedelta(hours=1)).repairs == 0
    assert len(sends) == 2

    act(claim_id, BUYER, Action.SHIP_RETURN, carrier="sf", waybill="SF1000001", fee_fen=1200)
    wf.waiting_at(claim_id, "return_in_transit")
    entered = wf.states_entered(claim_id)
    assert (entered.count("Review"), entered.count("AwaitMerchantDecision")) == (1, 0)
    assert entered.count("AwaitReturnShipment") == 1
    assert reconciled(claim_id) == [("reconciler", "run_reconciled", "awaiting_return_shipment")]


def test_a_wait_step_that_never_stored_its_token_gets_it_stored(
    claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = claim_workflow
    put_order()
    original = Repository.save_task_token
    lost: list[str] = []

    def crashes_before_storing(self: Repository, claim_id: str, token: str, stage: str) -> bool:
        if not lost:
            lost.append(stage)  # the step answered but the write never happened
            return True
        return original(self, claim_id, token, stage)

    monkeypatch.setattr(Repository, "save_task_token", crashes_before_storing)
    claim_id = submit("return_refund", "quality_defect")
    poll(lambda: lost or None, what="the wait step answering")
    assert lost == ["pending_review"] and claim_of(claim_id).task_token is None

    assert reconcile().repaired == {"store_token": 1}
    token = wf.waiting_at(claim_id, "pending_review")
    confirmed(claim_id)
    assert reconcile(AFTER_GRACE + timedelta(hours=1)).repairs == 0
    act(claim_id, MERCHANT, Action.APPROVE)  # the stored token resumes the run as usual
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    assert claim_of(claim_id).task_token != token


def test_a_token_never_stored_and_the_claim_moved_on_resumes_the_run(
    claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = claim_workflow
    put_order()
    original = Repository.save_task_token
    lost: list[str] = []

    def crashes_before_storing(self: Repository, claim_id: str, token: str, stage: str) -> bool:
        lost.append(stage)
        return True

    monkeypatch.setattr(Repository, "save_task_token", crashes_before_storing)
    claim_id = submit("return_refund", "quality_defect")
    poll(lambda: lost or None, what="the wait step answering")
    monkeypatch.setattr(Repository, "save_task_token", original)
    act(claim_id, MERCHANT, Action.APPROVE)  # no token on the claim: nothing resumes the run
    assert reconcile().repaired == {"resume_run": 1}
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    confirmed(claim_id)
    entered = wf.states_entered(claim_id)
    assert (entered.count("Review"), entered.count("AwaitMerchantDecision")) == (1, 0)


def test_a_run_that_ended_while_the_claim_is_open_alerts_ops_once(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    wf.sfn.stop_execution(executionArn=wf.execution_arn(claim_id), error="Ops.Stopped")
    act(claim_id, MERCHANT, Action.APPROVE)  # the run is stopped: it does not move on
    # moto ends a stopped run only once its waiting task is completed (docs/moto.md)
    poll(lambda: wf.status(claim_id) == "ABORTED" or None, what="the run stopped")

    bus = RecordingPublisher()
    report = reconcile(publisher=bus)
    assert (report.ended_while_open, report.repairs) == (1, 0), report.as_dict()
    [alert] = bus.of(RUN_ENDED)
    assert alert.detail["claim_id"] == claim_id
    assert alert.detail["status"] == "awaiting_return_shipment"
    assert alert.detail["run_status"] == "ABORTED"
    confirmed(claim_id)
    assert reconcile(AFTER_GRACE + timedelta(hours=1), publisher=bus).checked == 0
    assert len(bus.of(RUN_ENDED)) == 1
    assert reconciled(claim_id) == [("reconciler", "run_ended_while_open", "awaiting_return_shipment")]


def test_a_closed_claim_whose_run_finished_is_in_step(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, BUYER, Action.CANCEL)
    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    report = reconcile()
    assert (report.in_step, report.repairs, report.ended_while_open) == (1, 0, 0)
    confirmed(claim_id)


def test_sla_tick_runs_the_reconciler_and_reports_its_repairs(
    claim_workflow: ClaimWorkflow, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from sla_tick.app import lambda_handler

    from tests.integration.conftest import Context

    wf = claim_workflow
    put_order()
    fail_once(monkeypatch, workflow, "start_claim_run")
    claim_id = submit("return_refund", "quality_defect")
    clock_file = tmp_path / "clock"
    clock_file.write_text(AFTER_GRACE.isoformat().replace("+00:00", "Z"))
    monkeypatch.setenv("AFTERSALES_CLOCK_FILE", str(clock_file))

    result = lambda_handler({"source": "aws.scheduler"}, Context())
    assert result["runs"]["repaired"] == {"start_run": 1} and result["runs"]["complete"] is True
    wf.waiting_at(claim_id, "pending_review")
    confirmed(claim_id)
    # the next minute finds the run in step: nothing to check, nothing repaired
    clock_file.write_text((AFTER_GRACE + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"))
    assert lambda_handler({"source": "aws.scheduler"}, Context())["runs"]["checked"] == 0
