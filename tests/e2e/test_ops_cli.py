"""``aftersales ops`` against the running local stack: what ops staff see of a claim and its run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli.main import app
from infra.local import demo
from infra.local.demo import ApiClient
from infra.local.moto_env import poll as wait_until
from infra.local.stack import REPO_ROOT, LocalStack, write_instant
from tests.support.local_stack import opened_return, submitted_return

pytestmark = pytest.mark.e2e

runner = CliRunner()


def ops(*args: str) -> Any:
    result = runner.invoke(app, ["ops", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


def ops_json(*args: str) -> Any:
    return json.loads(ops(*args, "--json").stdout)


def at_endpoint(stack: LocalStack) -> list[str]:
    """Point at the stack as at a deployed one: its AWS endpoint and CloudFormation stack name."""
    return ["--endpoint-url", stack.endpoint_url, "--stack", stack.stack_name]


def asl_states() -> set[str]:
    def walk(states: dict[str, Any]) -> Iterator[str]:
        for name, state in states.items():
            yield name
            for branch in state.get("Branches", []) + ([state["Iterator"]] if "Iterator" in state else []):
                yield from walk(branch["States"])

    definition = json.loads((REPO_ROOT / "statemachine" / "claim.asl.json").read_text())
    return set(walk(definition["States"]))


def test_ops_claim_shows_the_claim_its_timeline_and_its_run(stack: LocalStack, api: ApiClient) -> None:
    claim_id = submitted_return(stack, api)
    # The run's Review step leaves the claim to the merchant and waits there: its history says so.
    detail = wait_until(
        lambda: (
            (d := ops_json("claim", claim_id, *at_endpoint(stack)))["execution"]
            and "Review" in d["execution"]["states"]
            and d
        ),
        what="the claim's run to enter its review",
    )

    assert detail["claim"]["claim_id"] == claim_id
    assert detail["claim"]["status"] == "pending_review"
    assert detail["claim"]["amount"] == "129.90"
    assert [(e["action"], e["to"]) for e in detail["timeline"]] == [("submit", "pending_review")]
    assert [d["kind"] for d in detail["deadlines"] if d["open"]] == ["first_response", "review_decision"]
    review = next(d for d in detail["deadlines"] if d["kind"] == "review_decision")
    assert review["calendar"]["layer"] in ("library", "provisional")  # which year the stack's clock is in
    assert detail["penalties"] == {"total": "0.00", "days": []}
    run = detail["execution"]
    assert run["arn"].endswith(f":execution:aftersales-claim:{claim_id}")
    assert run["status"] == "RUNNING"
    assert run["events"][0]["type"] == "ExecutionStarted"
    assert run["states"][0] == "Review"
    assert set(run["states"]) <= asl_states()
    # Ops never see the buyer's contact details in full.
    assert "*" in detail["contact"]["phone"]


def test_ops_claim_prints_tables_and_refuses_an_unknown_claim(stack: LocalStack, api: ApiClient) -> None:
    claim_id = submitted_return(stack, api)
    wait_until(lambda: ops_json("claim", claim_id, *at_endpoint(stack))["execution"], what="the run")

    shown = ops("claim", claim_id, "--state-dir", str(stack.state_dir)).stdout
    for heading in ("Timeline", "Deadlines", "Workflow run: RUNNING", "review_decision", "Review"):
        assert heading in shown

    unknown = runner.invoke(app, ["ops", "claim", "clm_nobody", "--state-dir", str(stack.state_dir)])
    assert unknown.exit_code == 1
    assert "no claim clm_nobody" in unknown.stderr


def test_ops_overdue_lists_the_lapsed_deadline_once_time_has_passed(
    stack: LocalStack, api: ApiClient
) -> None:
    claim_id = submitted_return(stack, api)
    before = ops_json("overdue", "--state-dir", str(stack.state_dir), "--limit", "1000")
    assert claim_id not in {row["claim_id"] for row in before["overdue"]}

    # The clock alone, without sla_tick: what ops see between a deadline lapsing and the next tick.
    write_instant(stack.clock_file, stack.now() + timedelta(days=3))
    after = ops_json("overdue", "--state-dir", str(stack.state_dir), "--limit", "1000")

    first, row = [r for r in after["overdue"] if r["claim_id"] == claim_id]
    assert (first["deadline"], first["on_expiry"], first["calendar"]) == ("first_response", "escalate", None)
    assert (row["deadline"], row["owner"], row["on_expiry"]) == (
        "review_decision",
        "merchant",
        "auto_approve",
    )
    assert row["overdue_hours"] > 0 and row["calendar"]["layer"] in ("library", "provisional")
    assert after["now"] == stack.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [r["due_at"] for r in after["overdue"]] == sorted(r["due_at"] for r in after["overdue"])


def test_ops_executions_lists_the_claims_run_by_status(stack: LocalStack, api: ApiClient) -> None:
    claim_id = submitted_return(stack, api)
    running = wait_until(
        lambda: (
            (r := ops_json("executions", "--status", "RUNNING", "--limit", "1000", *at_endpoint(stack)))
            and claim_id in {e["claim_id"] for e in r["executions"]}
            and r
        ),
        what="the claim's run among the running ones",
    )
    assert {e["status"] for e in running["executions"]} == {"RUNNING"}
    assert claim_id not in {
        e["claim_id"]
        for e in ops_json("executions", "--status", "SUCCEEDED", *at_endpoint(stack))["executions"]
    }


def test_ops_dlq_redrive_reports_each_dead_letter_queue(stack: LocalStack) -> None:
    report = ops_json("dlq", "redrive", "--state-dir", str(stack.state_dir))
    for dlq in report["dlqs"]:  # a fresh stack has no dead letters
        assert (dlq["messages"], dlq["moved"], dlq["left"]) == (0, 0, 0)
        assert dlq["sources"]
    if not report["dlqs"]:
        said = ops("dlq", "redrive", "--state-dir", str(stack.state_dir))
        assert "no dead-letter queues" in said.stdout


def test_ops_without_the_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ops", "overdue", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "make local" in result.stderr


def test_ops_merchant_shows_the_scorecard_and_the_badge(stack: LocalStack, api: ApiClient) -> None:
    """A merchant of its own: two orders, two claims, one answered; the command prints what
    ``GET /ops/merchants/{id}/scorecard`` answers, as a table and as JSON."""
    merchant = f"m-{uuid.uuid4().hex[:8]}"
    staff = ("merchant", "staff-x", merchant)
    claim_ids = []
    for _ in range(2):
        claim_ids.append(opened_return(stack, api, prefix=f"ord-{merchant}", merchant=merchant)["claim_id"])
    answered = api.call("POST", f"/claims/{claim_ids[0]}/decision", {"decision": "approve"}, who=staff)
    assert answered.status == 200, answered.body

    card = ops_json("merchant", merchant, *at_endpoint(stack))
    figures = card["figures"]
    assert figures["claims"] == 2 and figures["first_response"]["count"] == 1
    assert card["badge"]["held"] is False and "min_claims" in card["badge"]["unmet"]
    assert [p["product"] for p in card["products"]] == ["COAT-M", "KETTLE"]  # the kettle: sold, not claimed
    own = api.call("GET", f"/ops/merchants/{merchant}/scorecard", who=demo.OPS)
    assert own.status == 200 and own.body["figures"] == figures
    table = ops("merchant", merchant, *at_endpoint(stack)).stdout
    assert merchant in table and "金牌售后: not held" in table and "COAT-M" in table
    bad = runner.invoke(app, ["ops", "merchant", merchant, "--from", "2026-13-01"])
    assert bad.exit_code == 2 and "--from must be a day" in bad.output
