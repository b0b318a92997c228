"""Workflow cost: state transitions and Lambda invocations per claim story, on the real ASL in moto.

Each story is played the way production plays it: the claim is opened and its run started (what
``POST /claims`` does), people and carriers act through ``claims.act`` (which resumes the waiting run),
and a lapsed deadline arrives as sla_tick's ``Deadline.<kind>`` failure. Transitions are counted from
``GetExecutionHistory`` (one per ``StateEntered`` event, what Step Functions Standard bills); Lambda
invocations are the state machine's task calls, recorded by the in-process dispatcher.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from bench.harness import aws, environment, set_clock
from infra.local.lambda_dispatch import inprocess_lambdas
from infra.local.moto_env import MOTO_CONFIG
from infra.local.sample_data import put_coat_and_kettle_order
from infra.local.workflow import ClaimWorkflow, create_claim_state_machine, handlers

PRICE_PER_1000_TRANSITIONS_USD = 0.025  # Step Functions Standard, us-east-1 list price
BASELINE = "refund_only"
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing


Step = tuple[str, str, str, dict[str, Any]]  # the stage the run waits at, who, action, payload


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    claim_type: str
    reason: str
    line_id: str
    delivered: bool
    play: Callable[[ClaimWorkflow, str], None]
    outcome: str


def _people() -> dict[str, Any]:
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Role

    return {
        "buyer": Actor(Role.BUYER, "buyer-1"),
        "merchant": Actor(Role.MERCHANT, "staff-1", merchant_id="m-1"),
        "ops": Actor(Role.OPS, "ops-1"),
        "carrier": Actor.system("logistics_events"),
        "sla_tick": Actor.system("sla_tick"),
    }


def _act(claim_id: str, who: str, action: str, **payload: Any) -> None:
    from aftersales import claims
    from aftersales.domain.actions import input_for
    from aftersales.domain.model import Action

    claims.act(claim_id, _people()[who], Action(action), input_for(Action(action), **payload), START)


def _steps(*steps: Step) -> Callable[[ClaimWorkflow, str], None]:
    """Each step in order: wait until the run waits at the stage, then act."""

    def play(wf: ClaimWorkflow, claim_id: str) -> None:
        for stage, who, action, payload in steps:
            wf.waiting_at(claim_id, stage)
            if "waybill" in payload:  # a waybill belongs to one claim
                payload = {**payload, "waybill": f"{payload['waybill']}-{claim_id}"}
            _act(claim_id, who, action, **payload)

    return play


def _forfeit(wf: ClaimWorkflow, claim_id: str) -> None:
    from aftersales import claims
    from aftersales.domain.model import Action
    from aftersales.domain.policy import DeadlineKind

    wf.waiting_at(claim_id, "pending_review")
    _act(claim_id, "merchant", "approve")
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    # What sla_tick does when the return_shipment deadline lapses.
    claims.act(
        claim_id,
        _people()["sla_tick"],
        Action.FORFEIT,
        None,
        START,
        lapsed_deadline=DeadlineKind.RETURN_SHIPMENT,
    )


APPROVE: Step = ("pending_review", "merchant", "approve", {})
SHIP_BACK: tuple[Step, ...] = (
    (
        "awaiting_return_shipment",
        "buyer",
        "ship_return",
        {"carrier": "sf", "waybill": "SF1", "fee_fen": 1200},
    ),
    ("return_in_transit", "carrier", "return_delivered", {}),
)
INSPECTED: Step = ("awaiting_inspection", "merchant", "inspect_pass", {})
DELIVERED_AND_CONFIRMED: tuple[Step, ...] = (
    ("outbound_in_transit", "carrier", "outbound_delivered", {}),
    ("awaiting_buyer_confirmation", "buyer", "confirm", {}),
)

STORIES = (
    Story("refund_only", "refund_only: auto-approved, refunded", "refund_only", "not_received", "L2", False,
          _steps(), "refunded"),
    Story("complaint", "complaint: opinion given", "complaint", "service", "", True,
          _steps(("awaiting_opinion", "ops", "give_opinion", {"opinion": "agent retrained"})), "resolved"),
    Story("return_refund", "return_refund: approve, ship, deliver, inspect, refund", "return_refund",
          "quality_defect", "L1", True, _steps(APPROVE, *SHIP_BACK, INSPECTED), "refunded"),
    Story("exchange", "exchange: approve, return leg, inspect, replacement out, confirm", "exchange",
          "size_color_mismatch", "L1", True,
          _steps(APPROVE, *SHIP_BACK, INSPECTED,
                 ("awaiting_replacement_shipment", "merchant", "ship_replacement",
                  {"carrier": "sf", "waybill": "SF2"}),
                 *DELIVERED_AND_CONFIRMED), "exchanged"),
    Story("repair", "repair in warranty: approve, return leg, inspect, repair, back, confirm", "repair",
          "quality_defect", "L2", True,
          _steps(APPROVE, *SHIP_BACK, INSPECTED,
                 ("repairing", "merchant", "complete_repair", {"carrier": "sf", "waybill": "SF3"}),
                 *DELIVERED_AND_CONFIRMED), "repaired"),
    Story("dispute_arbitration", "return_refund rejected, disputed, mediation, arbitration ruling, refund",
          "return_refund", "not_as_described", "L1", True,
          _steps(("pending_review", "merchant", "reject", {"reason": "worn"}),
                 ("rejected", "buyer", "dispute", {"note": "never worn"}),
                 ("in_mediation", "ops", "escalate", {}),
                 ("in_arbitration", "ops", "ruling_refund", {"refund_fen": 6000, "payer": "merchant"})),
          "refunded"),
    Story("forfeit", "return_refund approved, buyer never ships, forfeited (sla_tick lapse)", "return_refund",
          "quality_defect", "L1", True, _forfeit, "forfeited"),
)  # fmt: skip


def _open(story: Story) -> str:
    """What ``POST /claims`` does: open the claim, then start its run (named after the claim)."""
    from aftersales import claims, workflow
    from aftersales.domain.model import ClaimRequest, ClaimType, Reason

    order_id = f"ord-{story.key}"
    put_coat_and_kettle_order(order_id, delivered=story.delivered, source="bench", now=START)
    quantity = 0 if story.claim_type == "complaint" else 1
    request = ClaimRequest(
        order_id, story.line_id, quantity, ClaimType(story.claim_type), Reason(story.reason)
    )
    claim = claims.submit(request, _people()["buyer"], START)
    workflow.start_claim_run(claim.claim_id, {"type": claim.claim_type.value, "status": claim.status.value})
    return claim.claim_id


def _measure(wf: ClaimWorkflow, story: Story) -> dict[str, Any]:
    from aftersales.store import default_repository

    before = len(wf.lambdas.calls)
    claim_id = _open(story)
    story.play(wf, claim_id)
    execution = wf.finished(claim_id)
    claim = default_repository().get_claim(claim_id)
    ended = (execution["status"], claim.status if claim else None, claim.outcome if claim else None)
    if ended != ("SUCCEEDED", "closed", story.outcome):
        raise RuntimeError(f"story {story.key} ended as {ended}, expected closed / {story.outcome}")
    history = wf.history(claim_id)
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    calls = Counter(c.function_name.removeprefix("aftersales-") for c in wf.lambdas.calls[before:])
    return {
        "story": story.key,
        "title": story.title,
        "claim_type": story.claim_type,
        "outcome": story.outcome,
        "transitions": len(entered),
        "states_entered": entered,
        "task_failures": sum(1 for e in history if e["type"] == "TaskFailed"),
        "lambda_invocations": sum(calls.values()),
        "lambda_by_function": dict(sorted(calls.items())),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Every story once (the quick run plays them all too: they are small)."""
    with environment(), aws(MOTO_CONFIG):
        import os

        from aftersales.process import reset_process_state

        set_clock(START)
        sfn = boto3.client("stepfunctions")
        os.environ["STATE_MACHINE_ARN"] = create_claim_state_machine(sfn)
        reset_process_state()
        with inprocess_lambdas(handlers()) as lambdas:
            wf = ClaimWorkflow(sfn, os.environ["STATE_MACHINE_ARN"], lambdas)
            rows = [_measure(wf, story) for story in STORIES]
    base = next(r for r in rows if r["story"] == BASELINE)
    for row in rows:
        row["ratio_vs_baseline"] = round(row["transitions"] / base["transitions"], 2)
        row["lambda_ratio_vs_baseline"] = round(row["lambda_invocations"] / base["lambda_invocations"], 2)
        row["usd_per_million_claims"] = round(
            row["transitions"] * 1_000_000 / 1000 * PRICE_PER_1000_TRANSITIONS_USD, 2
        )
    return {
        "targets": targets(rows),
        "baseline": BASELINE,
        "price_per_1000_transitions_usd": PRICE_PER_1000_TRANSITIONS_USD,
        "stories": rows,
    }


MAX_HAPPY_RETURN_TRANSITIONS = 12  # issue 16's target for the happy-path return_refund


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    happy = next(r for r in rows if r["story"] == "return_refund")
    over = happy["transitions"] - MAX_HAPPY_RETURN_TRANSITIONS
    return [
        {
            "target": "happy-path return_refund transitions",
            "goal": f"<= {MAX_HAPPY_RETURN_TRANSITIONS}",
            "measured": str(happy["transitions"]),
            "pass": over <= 0,
            "gap": "" if over <= 0 else f"{over} over: fewer states between the waits",
        }
    ]


def render(wf: dict[str, Any]) -> list[str]:
    base = wf["baseline"]
    lines = [
        "## Workflow cost per claim (Step Functions Standard)",
        "",
        "The real ASL (`statemachine/claim.asl.json`) executed by moto, its Lambda tasks running the real",
        "handlers in-process (`infra/local/workflow.py`). Transitions = `StateEntered` events in the",
        "execution history (what Standard bills; waiting costs nothing; a retry would add one). Price:",
        f"${wf['price_per_1000_transitions_usd']} per 1,000 transitions (list price, indicative; Lambda,",
        "DynamoDB and the free tier are not included).",
        "",
        f"| story | transitions | × {base} | Lambda invocations | × {base} | Step Functions $ / 1M claims |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in wf["stories"]:
        by_fn = ", ".join(f"{fn} {n}" for fn, n in row["lambda_by_function"].items())
        lines.append(
            f"| {row['title']} | {row['transitions']} | {row['ratio_vs_baseline']:.2f}× | "
            f"{row['lambda_invocations']} ({by_fn}) | {row['lambda_ratio_vs_baseline']:.2f}× | "
            f"${row['usd_per_million_claims']:,.0f} |"
        )
    return lines
