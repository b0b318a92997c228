"""All-in cost per 1,000,000 claims, per story, next to a Wait-state-per-deadline design.

Each story is played over HTTP on the local stack (``bench.local_stack``: moto server, the real
template, ASL and handlers behind the local gateway): the buyer opens the claim with ``POST /claims``,
people act through the API routes, carriers post their webhooks (→ SQS → the consumer), a lapsed
deadline is the clock moving past it and sla_tick running. After each step the benchmark waits until
the workflow run waits at the claim's new status (or has ended), so each story's count is exact.

What is counted, per story (everything the service's handlers do, seen by botocore event hooks):

- Step Functions transitions: ``StateEntered`` events of the claim's execution (what Standard bills);
- Lambda requests: every handler invocation (API, workflow steps, the queue consumer, the webhook),
  and GB-seconds: each invocation's own time in this process (its wall time less the round trips to
  moto and the meter's own reads) plus ``aws_call_ms`` per AWS call it makes (``prices.toml``), rounded
  up to the millisecond, times its MemorySize from template.yaml;
- DynamoDB read and write request units from the real item sizes (``bench.aws_meter``);
- SQS requests: the webhook's sends, plus the event source mapping's receive and delete of each
  message (Lambda polls on our behalf: two more requests a message at one message a batch);
- EventBridge events: the entries the handlers put; HTTP API requests: the story's requests.

sla_tick runs every minute whether or not anything is due: its idle run (measured first, on the same
stack) is a fixed cost per month, not per claim, and is subtracted from each story's ticks; what the
tick spends on the story's own deadlines stays in the story.

The Wait-state design is derived, not run: ``bench.wait_design`` explains the state machine a team
would build without the due index and prices its extra states from each story's deadlines.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench import prices as price_file
from bench import wait_design
from bench.aws_meter import Invocation
from bench.harness import target
from bench.local_stack import MeteredStack, Player, StoryFailed, deadlines_of, metered_stack

MILLION = 1_000_000
BASELINE = "refund_only"
MAX_HAPPY_RETURN_TRANSITIONS = 12
MAX_HAPPY_RETURN_USD = 300.0
MIN_SAVING_VS_WAIT = 2.0
SCHEDULED = {"SlaTickFunction"}

SHIP = {"carrier": "sf", "waybill": "fresh"}
Step = tuple[Any, ...]
APPROVE: Step = ("act", "merchant", "decision", {"decision": "approve"})
SHIP_BACK: Step = ("act", "buyer", "shipment", SHIP)
RECEIVED: Step = ("act", "merchant", "return-received", {})
INSPECTED: Step = ("act", "merchant", "inspection", {"passed": True})
OUT_AND_CONFIRMED: tuple[Step, ...] = (("act", "buyer", "received", {}), ("act", "buyer", "accept", {}))


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    claim: dict[str, Any]
    steps: tuple[Step, ...]
    outcome: str
    delivered: bool = True
    quick: bool = False


def _claim(line: str, type_: str, reason: str, quantity: int = 1) -> dict[str, Any]:
    return {"line_id": line, "quantity": quantity, "type": type_, "reason": reason, "description": "bench"}


STORIES: tuple[Story, ...] = (
    Story("refund_only", "refund_only, not received, no sign-for: auto-approved, refunded",
          _claim("L2", "refund_only", "not_received"), (), "refunded", delivered=False),
    Story("complaint", "complaint: an agent gives the platform's opinion",
          _claim("", "complaint", "service", quantity=0),
          (("act", "ops", "opinion", {"opinion": "agent retrained"}),), "resolved"),
    Story("return_refund", "return_refund: approve, ship, received, inspected, refunded",
          _claim("L1", "return_refund", "quality_defect"), (APPROVE, SHIP_BACK, RECEIVED, INSPECTED),
          "refunded", quick=True),
    Story("carrier_return", "return_refund, carrier-driven: pick-up, transit, delivery as webhooks (SQS)",
          _claim("L1", "return_refund", "quality_defect"),
          (APPROVE, ("carrier", "picked_up", "sf", True), ("carrier", "in_transit", "sf", False),
           ("carrier", "delivered", "kuaidi100", False), INSPECTED), "refunded"),
    Story("exchange", "exchange: approve, return leg, inspect, replacement out, received, confirmed",
          _claim("L1", "exchange", "size_color_mismatch"),
          (APPROVE, SHIP_BACK, RECEIVED, INSPECTED, ("act", "merchant", "replacement", SHIP),
           *OUT_AND_CONFIRMED), "exchanged"),
    Story("repair", "repair in warranty: approve, return leg, inspect, repaired and back, confirmed",
          _claim("L2", "repair", "quality_defect"),
          (APPROVE, SHIP_BACK, RECEIVED, INSPECTED,
           ("act", "merchant", "repair", {"completed": True, **SHIP}), *OUT_AND_CONFIRMED), "repaired"),
    Story("dispute", "dispute: rejected, mediation, arbitration ruling, refunded",
          _claim("L1", "return_refund", "not_as_described"),
          (("act", "merchant", "decision", {"decision": "reject", "reason": "as shown"}),
           ("act", "buyer", "dispute", {"note": "photos attached"}),
           ("act", "ops", "escalate", {"reason": "no agreement in mediation"}),
           ("act", "ops", "ruling", {"outcome": "refund", "payer": "merchant", "reason": "misleading"})),
          "refunded"),
    Story("forfeit", "forfeit: approved, the buyer never ships (sla_tick lapses the deadline)",
          _claim("L1", "return_refund", "quality_defect"), (APPROVE, ("lapse", "return_shipment")),
          "forfeited"),
    Story("overdue", "overdue: inspection 3 days late, penalties accrue, accepted automatically, refunded",
          _claim("L1", "return_refund", "quality_defect"),
          (APPROVE, SHIP_BACK, RECEIVED, ("lapse", "inspection"), ("later", 1), ("later", 1)), "refunded"),
)  # fmt: skip


# --------------------------------------------------------------------------- playing


def _own(invocations: list[Invocation], claim_id: str) -> list[Invocation]:
    """The story's share of the scheduled runs: a tick also handles other claims' deadlines that fall
    due while the clock moves (earlier stories' claims). Their calls (those naming another claim) are
    left out, and the run's time with them, in proportion."""
    kept = []
    for invocation in invocations:
        if invocation.function not in SCHEDULED or not invocation.calls:
            kept.append(invocation)
            continue
        calls = [c for c in invocation.calls if not c.claim_ids or claim_id in c.claim_ids]
        share = Invocation(
            invocation.function, invocation.seconds * len(calls) / len(invocation.calls), calls
        )
        share.metering_seconds = invocation.metering_seconds * len(calls) / len(invocation.calls)
        kept.append(share)
    return kept


def _play(stack: MeteredStack, story: Story) -> dict[str, Any]:
    player = Player(stack)
    order_id = player.order(delivered=story.delivered)
    stack.meter.take()  # the order import is not the claim's
    claim_id = player.submit(order_id, story.claim)
    player.settle(claim_id)
    for step in story.steps:
        kind, *args = step
        if kind == "act":
            player.act(claim_id, *args)
        elif kind == "carrier":
            status, webhook, label = args
            player.carrier(claim_id, status, webhook, label=label)
        elif kind == "lapse":
            player.lapse(claim_id, args[0])
        else:
            player.later(timedelta(days=args[0]))
        player.settle(claim_id)
    claim = player.settle(claim_id)
    invocations = _own(stack.meter.take(), claim_id)
    if claim is None or (claim.status, claim.outcome) != ("closed", story.outcome):
        got = (claim.status, claim.outcome) if claim else None
        raise StoryFailed(f"story {story.key} ended as {got}, expected closed / {story.outcome}")
    history = player.history(claim_id)
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    return {
        "claim_id": claim_id,
        "invocations": invocations,
        "states_entered": entered,
        "http_requests": player.requests,
        "ticks": player.ticks,
        "deadlines": deadlines_of(claim_id),
    }


# Played once first, not counted, so no story pays a cold start: the carrier-driven return calls every
# function the stories do; the quick run, which plays only return_refund, warms up on that one.
WARM_UP = {False: "carrier_return", True: "return_refund"}


def _idle_tick(stack: MeteredStack, runs_n: int) -> dict[str, Any]:
    """A scheduled run with nothing due (the median of ``runs_n``): the fixed cost of a minute."""
    runs = []
    for _ in range(runs_n):
        stack.meter.take()
        stack.tick()
        runs.append([i for i in stack.meter.take() if i.function in SCHEDULED])
    runs.sort(key=lambda r: sum(i.seconds for i in r))
    return _usage(runs[len(runs) // 2], stack, prices=None)


# --------------------------------------------------------------------------- usage and cost


def billed_seconds(invocation: Invocation, aws_call_ms: float) -> float:
    """Lambda's billed duration for one invocation on AWS: its own time here plus ``aws_call_ms`` per
    AWS call, rounded up to the millisecond."""
    ms = invocation.own_seconds * 1000 + aws_call_ms * len(invocation.calls)
    return math.ceil(ms) / 1000


def _usage(
    invocations: list[Invocation], stack: MeteredStack, prices: price_file.Prices | None
) -> dict[str, Any]:
    aws_call_ms = prices.aws_call_ms if prices else price_file.load().aws_call_ms

    def gb_of(invocation: Invocation) -> float:
        return billed_seconds(invocation, aws_call_ms) * stack.memory_mb(invocation.function) / 1024

    calls = [c for i in invocations for c in i.calls]
    dynamodb = [c for c in calls if c.service == "dynamodb"]
    sqs_sent = sum(c.messages for c in calls if c.service == "sqs" and c.operation.startswith("SendMessage"))
    return {
        "lambda_requests": len(invocations),
        "lambda_by_function": dict(sorted(Counter(i.function for i in invocations).items())),
        "gb_seconds": sum(gb_of(i) for i in invocations),
        "step_gb_seconds": sum(gb_of(i) for i in invocations if i.function in wait_design.WORKFLOW_STEPS),
        "own_seconds": sum(i.own_seconds for i in invocations),
        "aws_calls": len(calls),
        "calls_by_operation": dict(sorted(Counter(f"{c.service}:{c.operation}" for c in calls).items())),
        "dynamodb_calls": len(dynamodb),
        "read_units": sum(c.read_units for c in dynamodb),
        "write_units": sum(c.write_units for c in dynamodb),
        "index_write_units": sum(c.index_write_units for c in dynamodb),
        "sqs_requests": sum(1 for c in calls if c.service == "sqs") + 2 * sqs_sent,
        "sqs_messages": sqs_sent,
        "eventbridge_events": sum(c.messages for c in calls if c.service == "events"),
        "stepfunctions_calls": sum(1 for c in calls if c.service == "stepfunctions"),
    }


def _minus_idle_ticks(usage: dict[str, Any], idle: dict[str, Any], ticks: int) -> dict[str, Any]:
    """The story's usage without the fixed cost of the ticks it waited for (they run anyway)."""
    out = dict(usage)
    for key in ("lambda_requests", "gb_seconds", "step_gb_seconds", "aws_calls", "dynamodb_calls",
                "read_units", "write_units",
                "index_write_units", "eventbridge_events", "stepfunctions_calls"):  # fmt: skip
        out[key] = max(0, usage[key] - ticks * idle[key])
    by_fn = dict(usage["lambda_by_function"])
    for fn in SCHEDULED & set(by_fn):
        by_fn[fn] = max(0, by_fn[fn] - ticks)
    out["lambda_by_function"] = {k: v for k, v in by_fn.items() if v}
    return out


def cost_per_million(
    usage: dict[str, Any], transitions: int, http: int, prices: price_file.Prices
) -> dict[str, float]:
    """US$ per 1,000,000 claims, by item."""
    dollars = {
        "step_functions": transitions * prices["step_functions_transition"],
        "lambda_requests": usage["lambda_requests"] * prices["lambda_request"],
        "lambda_duration": usage["gb_seconds"] * prices["lambda_gb_second"],
        "dynamodb_reads": usage["read_units"] * prices["dynamodb_read_request_unit"],
        "dynamodb_writes": (usage["write_units"] + usage["index_write_units"])
        * prices["dynamodb_write_request_unit"],
        "sqs": usage["sqs_requests"] * prices["sqs_request"],
        "eventbridge": usage["eventbridge_events"] * prices["eventbridge_event"],
        "http_api": http * prices["http_api_request"],
    }
    per_million = {k: round(v * MILLION, 2) for k, v in dollars.items()}
    per_million["total"] = round(sum(dollars.values()) * MILLION, 2)
    return per_million


def run(quick: bool = False) -> dict[str, Any]:
    prices = price_file.load()
    stories = [s for s in STORIES if s.quick or not quick]
    rows = []
    with metered_stack() as stack:
        _play(stack, next(s for s in STORIES if s.key == WARM_UP[quick]))  # cold starts are not the claims'
        idle = _idle_tick(stack, 1 if quick else 3)
        for story in stories:
            played = _play(stack, story)
            measured = _usage(played["invocations"], stack, prices)
            usage = _minus_idle_ticks(measured, idle, played["ticks"])
            transitions = len(played["states_entered"])
            cost = cost_per_million(usage, transitions, played["http_requests"], prices)
            naive = wait_design.derive(played["states_entered"], played["deadlines"], usage, stack)
            naive_cost = cost_per_million(
                naive["usage"], naive["transitions"], played["http_requests"], prices
            )
            rows.append({
                "story": story.key,
                "title": story.title,
                "outcome": story.outcome,
                "transitions": transitions,
                "states_entered": played["states_entered"],
                "http_requests": played["http_requests"],
                "ticks": played["ticks"],
                "deadlines": played["deadlines"],
                "usage": usage,
                "usd_per_million": cost,
                "wait_design": {**naive, "usd_per_million": naive_cost},
                "saving_vs_wait": round(naive_cost["total"] / cost["total"], 2) if cost["total"] else None,
            })  # fmt: skip
    idle_cost = {
        "per_run_usd": round(
            idle["lambda_requests"] * prices["lambda_request"]
            + idle["gb_seconds"] * prices["lambda_gb_second"]
            + idle["read_units"] * prices["dynamodb_read_request_unit"]
            + (idle["write_units"] + idle["index_write_units"]) * prices["dynamodb_write_request_unit"],
            8,
        ),
    }
    idle_cost["per_month_usd"] = round(idle_cost["per_run_usd"] * 60 * 24 * 30, 2)
    return {
        "targets": targets(rows),
        "baseline": BASELINE if any(r["story"] == BASELINE for r in rows) else rows[0]["story"],
        "prices": prices.as_dict(),
        "idle_tick": {**idle, **idle_cost},
        "stories": rows,
    }


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    happy = next(r for r in rows if r["story"] == "return_refund")
    over = happy["transitions"] - MAX_HAPPY_RETURN_TRANSITIONS
    cost = happy["usd_per_million"]
    usd = cost["total"]
    ours = sum(r["usd_per_million"]["total"] for r in rows)
    theirs = sum(r["wait_design"]["usd_per_million"]["total"] for r in rows)
    ratio = theirs / ours if ours else 0.0
    sfn_ratio = sum(r["wait_design"]["transitions"] for r in rows) / max(
        1, sum(r["transitions"] for r in rows)
    )
    writes = happy["usage"]["write_units"] + happy["usage"]["index_write_units"]
    return [
        target(
            "happy-path return_refund transitions",
            f"<= {MAX_HAPPY_RETURN_TRANSITIONS}",
            str(happy["transitions"]),
            over <= 0,
            f"{over} over: fewer states between the waits",
        ),
        target(
            "happy-path return_refund, all-in US$ per 1M claims",
            f"<= {MAX_HAPPY_RETURN_USD:.0f}",
            f"{usd:.2f}",
            usd <= MAX_HAPPY_RETURN_USD,
            f"${usd - MAX_HAPPY_RETURN_USD:.2f} over: Step Functions ${cost['step_functions']:.0f} "
            f"({happy['transitions']} transitions) leaves "
            f"${MAX_HAPPY_RETURN_USD - cost['step_functions']:.0f} "
            f"for the rest, and DynamoDB writes alone are ${cost['dynamodb_writes']:.0f} ({writes:g} WRU: "
            "each change is one transaction of 5-7 items, doubled, plus their index writes). Closing it "
            "needs both: about 3 transitions fewer (e.g. Refund ending the run itself when it closes "
            "the claim) and fewer items per change (the run mark and the met deadlines rewritten in "
            "every transaction)",
        ),
        target(
            "Wait-state design ÷ this design, same stories (sum of all-in US$)",
            f">= {MIN_SAVING_VS_WAIT:.1f}×",
            f"{ratio:.2f}× (transitions alone {sfn_ratio:.2f}×)",
            ratio >= MIN_SAVING_VS_WAIT,
            f"{MIN_SAVING_VS_WAIT - ratio:.2f}× short: the Wait-state design takes {sfn_ratio:.2f}× the "
            "transitions, but DynamoDB, Lambda and API costs are the same in both designs and dilute it; "
            "fewer writes per change here (see above) would raise the ratio",
        ),
    ]


# --------------------------------------------------------------------------- rendering


def render(section: dict[str, Any]) -> list[str]:
    p = section["prices"]
    rows = section["stories"]
    lines = [
        "## All-in cost per 1,000,000 claims (local stack, priced at AWS list prices)",
        "",
        "Each story played over HTTP on the local stack (moto server, the real template, ASL and handlers,",
        "carrier webhooks through SQS); every AWS call counted with botocore event hooks, DynamoDB capacity",
        "from the real item sizes (on-demand; transactions double; GSI writes counted). Prices:",
        f"`bench/prices.toml` ({p['region']}). Lambda duration: each invocation's own time in this process",
        f"plus {p['aws_call_ms']:.0f} ms per AWS call ({p['aws_call_ms_source']}), at the function's",
        "MemorySize in template.yaml. The idle sla_tick (a fixed cost per minute, "
        f"${section['idle_tick']['per_month_usd']:.2f} a month) is left out of the stories.",
        "",
        "| story | transitions | Lambda req. | GB-s | DynamoDB RRU | WRU (+GSI) | SQS | EventBridge "
        "| HTTP API | US$ / 1M claims | Wait-state design US$ / 1M | × cheaper |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        u, c, w = r["usage"], r["usd_per_million"], r["wait_design"]
        lines.append(
            f"| {r['title']} | {r['transitions']} | {u['lambda_requests']} | {u['gb_seconds']:.3f} | "
            f"{u['read_units']:g} | {u['write_units']:g} (+{u['index_write_units']:g}) | "
            f"{u['sqs_requests']} | "
            f"{u['eventbridge_events']} | {r['http_requests']} | **{c['total']:,.2f}** | "
            f"{w['usd_per_million']['total']:,.2f} ({w['transitions']} transitions) | "
            f"{r['saving_vs_wait']:.2f}× |"
        )
    lines += [
        "",
        "Where each story's dollars go (US$ per 1M claims):",
        "",
        "| story | Step Functions | Lambda requests | Lambda GB-s | DynamoDB reads | DynamoDB writes | SQS "
        "| EventBridge | HTTP API |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c = r["usd_per_million"]
        lines.append(
            f"| {r['story']} | {c['step_functions']:,.2f} | {c['lambda_requests']:,.2f} | "
            f"{c['lambda_duration']:,.2f} | {c['dynamodb_reads']:,.2f} | {c['dynamodb_writes']:,.2f} | "
            f"{c['sqs']:,.2f} | {c['eventbridge']:,.2f} | {c['http_api']:,.2f} |"
        )
    lines += [
        "",
        "Not in these figures: the stories pass no real time while a stage waits, so the one-day wait",
        "timeouts never fire here. On AWS each full day a claim waits in one stage adds 3 transitions",
        "(`Resync`, `NextStage`, the wait again): US$ 75 per 1M claims per waiting day.",
        "",
        *wait_design.render_notes(rows),
        "",
        "Prices used:",
        "",
    ]
    lines += [
        f"- {name}: ${v['usd']:.10g} per {v['unit']} ({v['source']}, read {v['read_on']})"
        for name, v in p["prices"].items()
    ]
    return lines
