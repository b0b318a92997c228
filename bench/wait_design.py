"""The design DESIGN.md argues against, priced on the same stories: a Wait state per deadline.

Without the due index and sla_tick, the state machine itself must enforce every deadline. Each waiting
stage with a deadline becomes a race (the usual Step Functions pattern: a Parallel state whose first
branch to fail ends it)::

    Arm<Stage>    Task: compute each deadline's due instant (working-day calendar, pauses, extensions)
    Race<Stage>   Parallel
      ├─ Await<Stage>      (waitForTaskToken, as today) → Won (Fail: ends the race)
      └─ per deadline: Timer<kind> (Wait until due) → Lapse<kind> (Task: the outcome) → Lapsed (Fail)
    NextStage     (Catch → the same Choice as today)

so, next to this design's states, each race adds ``Arm``, ``Race`` and the ``Fail`` that ends it, and
each deadline its ``Timer`` (3 + deadlines transitions, whichever branch wins); a deadline that lapses
without ending its stage (first response) adds its ``Lapse`` task and a Choice back to the race (2);
each penalty day after a lapse is a Wait, an accrual task and a Choice (3); an extension or a pause
cancels and re-arms the race (``Arm``, ``Race``, ``Fail`` and the deadline's ``Timer``: 4).
It adds Lambda requests too: ``Arm`` per race and
the ``Lapse`` task per lapse (sla_tick applies those here), each priced at this story's mean GB-s per
workflow-step invocation.

Why derived, not run: its Wait states wait for real time (days, in moto too), and their count follows
mechanically from each story's deadlines, which the story stores (``bench.local_stack.deadlines_of``).
Which kinds end a stage is read from the real ASL (the ``Deadline.<kind>`` catches). Everything else is
the same as measured here, except that it is credited with no secondary-index writes at all (it has no
due index to keep): the comparison errs in its favour.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from bench.harness import REPO_ROOT
from bench.local_stack import MeteredStack

ASL = REPO_ROOT / "statemachine" / "claim.asl.json"
WORKFLOW_STEPS = {"ReviewFunction", "RefundFunction", "AwaitStageFunction"}


@cache
def stage_deadlines() -> frozenset[str]:
    """The deadline kinds that end a waiting stage: those the ASL catches as ``Deadline.<kind>``."""
    states = json.loads(ASL.read_text(encoding="utf-8"))["States"]
    return frozenset(
        error.removeprefix("Deadline.")
        for state in states.values()
        for catch in state.get("Catch", [])
        for error in catch["ErrorEquals"]
        if error.startswith("Deadline.")
    )


def derive(
    states_entered: list[str], stored: dict[str, Any], usage: dict[str, Any], stack: MeteredStack
) -> dict[str, Any]:
    deadlines = stored["deadlines"]
    enders = stage_deadlines()
    races = sum(1 for d in deadlines if d["kind"] in enders)
    timers = len(deadlines)
    side_lapses = sum(1 for d in deadlines if d["lapsed"] and d["kind"] not in enders)
    lapses = sum(1 for d in deadlines if d["lapsed"])
    penalty_days = max(0, stored["penalty_days"] - 1)
    rearms = sum(int(d["extended"]) + 2 * int(d["paused"]) for d in deadlines)
    extra = 3 * races + timers + 2 * side_lapses + 3 * penalty_days + 4 * rearms
    extra_lambdas = races + lapses + penalty_days + rearms
    steps = sum(n for fn, n in usage["lambda_by_function"].items() if fn in WORKFLOW_STEPS)
    mean_gb_s = usage["step_gb_seconds"] / steps if steps else 0.0
    naive_usage = {
        **usage,
        "lambda_requests": usage["lambda_requests"] + extra_lambdas,
        "gb_seconds": usage["gb_seconds"] + extra_lambdas * mean_gb_s,
        "index_write_units": 0,
    }
    return {
        "method": "derived from the story's deadlines (bench/wait_design.py)",
        "transitions": len(states_entered) + extra,
        "extra_transitions": extra,
        "races": races,
        "timers": timers,
        "lapses": lapses,
        "penalty_days_after_first": penalty_days,
        "rearms": rearms,
        "extra_lambda_requests": extra_lambdas,
        "usage": naive_usage,
    }


def render_notes(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "The Wait-state design (derived from each story's stored deadlines, see `bench/wait_design.py`): "
        "each waiting stage with a deadline becomes a Parallel race of the callback against a Wait per "
        "deadline (Arm task, Parallel, a Fail to end it, a Wait per deadline), plus the re-arms and "
        "penalty-day loops; it is credited with no secondary-index writes.",
        "",
        "| story | races | timers (deadlines) | lapses | extra transitions | extra Lambda requests "
        "| transitions: this design → Wait-state |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        w = r["wait_design"]
        lines.append(
            f"| {r['story']} | {w['races']} | {w['timers']} | {w['lapses']} | {w['extra_transitions']} | "
            f"{w['extra_lambda_requests']} | {r['transitions']} → {w['transitions']} |"
        )
    return lines
