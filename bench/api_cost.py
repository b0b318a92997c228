"""API cost per request and latency, on the local stack (local-stack figures, loopback only).

Every route of the HTTP API is called through the local gateway (``bench.local_stack``: the real
handlers, moto server behind them) the way a client calls it, and every AWS call the handler makes is
counted with botocore event hooks (``bench.aws_meter``): DynamoDB calls and their read and write
request units from the real item sizes, Step Functions calls, and the bytes sent to and received from
AWS per request. An action route (``POST /claims/{claim_id}/{action}``) is shown per action.

Then ``POST /claims`` and ``GET /claims/{claim_id}`` are timed from the client at 1 and 8 concurrent
clients, a fixed number of requests each, over loopback. These are local-stack figures: moto answers
in-process on the same two cores, so they compare requests with each other, not with AWS.
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.aws_meter import Invocation
from bench.harness import target
from bench.local_stack import MeteredStack, Player, StoryFailed, metered_stack
from infra.local.demo import Reply

GET_CLAIM = "GET /claims/{claim_id}"
POST_CLAIMS = "POST /claims"
MAX_GET_QUERIES = 1
MAX_SUBMIT_CALLS = 5
# The stack's first claim also seeds the policy layers (once per table); a new process reads the
# layers' heads once (then every 30 s); the target is judged on both of the others.
FIRST_SUBMIT = f"{POST_CLAIMS} (the table's first: seeds the policy layers)"
COLD_SUBMIT = f"{POST_CLAIMS} (a new process: reads the policy heads)"
LATENCY_REQUESTS = {True: 4, False: 64}  # per route and concurrency level: quick, full
CONCURRENCY = (1, 8)
CLAIM = {"line_id": "L1", "quantity": 1, "type": "return_refund", "reason": "quality_defect"}


def _exercise(stack: MeteredStack) -> list[tuple[str, Invocation]]:
    """One call of every route (each action of a return's story), each metered on its own."""
    player = Player(stack)
    seen: list[tuple[str, Invocation]] = []

    statuses: dict[str, int] = {}

    def one(label: str, request: Callable[[], Any]) -> Any:
        stack.meter.take()
        result = request()
        if isinstance(result, Reply):
            statuses[label] = result.status
        api = [i for i in stack.meter.take() if i.route is not None]
        seen.extend((label, i) for i in api)
        return result

    from aftersales.process import reset_process_state

    order_id = one("PUT /ops/orders/{order_id}", player.order)
    player.settle(one(FIRST_SUBMIT, lambda: player.submit(order_id, CLAIM)))
    cold, warm = player.order(), player.order()
    reset_process_state()  # the next request meets a cold start
    player.settle(one(COLD_SUBMIT, lambda: player.submit(cold, CLAIM)))
    claim_id = one(POST_CLAIMS, lambda: player.submit(warm, CLAIM))
    player.settle(claim_id)
    for who in ("buyer", "merchant", "ops"):
        one(f"{GET_CLAIM} ({who})", functools.partial(player.call, "GET", f"/claims/{claim_id}", who=who))
    one("GET /claims (buyer)", lambda: player.call("GET", "/claims", who="buyer"))
    one("GET /merchant/claims", lambda: player.call("GET", "/merchant/claims", who="merchant"))
    one("GET /ops/claims", lambda: player.call("GET", "/ops/claims?merchant_id=demo-merchant", who="ops"))
    one("GET /openapi.json", lambda: player.api.call("GET", "/openapi.json"))
    refused = {label: status for label, status in statuses.items() if status >= 300}
    if refused:
        raise StoryFailed(f"routes answered with errors: {refused}")
    for who, action, body in (
        ("merchant", "decision", {"decision": "approve"}),
        ("buyer", "shipment", {"carrier": "sf", "waybill": "fresh"}),
        ("merchant", "return-received", {}),
        ("merchant", "inspection", {"passed": True}),
    ):
        one(
            f"POST /claims/{{claim_id}}/{{action}} ({action})",
            functools.partial(player.act, claim_id, who, action, body),
        )
        player.settle(claim_id)
        if action == "shipment":  # a carrier's webhook: verified, queued (the consumer's work is the claim's)
            one("POST /webhooks/logistics/{carrier}", lambda: player.carrier(claim_id, "in_transit", "sf"))
    return seen


COUNTED = ("dynamodb", "stepfunctions")


def _idempotency(tables: tuple[str, ...]) -> bool:
    return any("Idempotency" in t for t in tables)


def _ops(row: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in row["dynamodb_by_operation"].items())


def _summarise(seen: list[tuple[str, Invocation]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[Invocation]] = defaultdict(list)
    for label, invocation in seen:
        grouped[label].append(invocation)
    rows = []
    for label, invocations in grouped.items():
        n = len(invocations)
        calls = [c for i in invocations for c in i.calls]
        dynamodb = [c for c in calls if c.service == "dynamodb"]
        ops: dict[str, int] = defaultdict(int)
        for c in dynamodb:
            ops[c.operation] += 1
        rows.append({
            "route": label,
            "requests": n,
            "dynamodb_calls": len(dynamodb) / n,
            "dynamodb_by_operation": {k: v / n for k, v in sorted(ops.items())},
            "idempotency_table_calls": sum(1 for c in dynamodb if _idempotency(c.table_names)) / n,
            "read_units": sum(c.read_units for c in dynamodb) / n,
            "write_units": sum(c.write_units + c.index_write_units for c in dynamodb) / n,
            "stepfunctions_calls": sum(1 for c in calls if c.service == "stepfunctions") / n,
            "other_calls": sorted({f"{c.service}:{c.operation}" for c in calls if c.service not in COUNTED}),
            "bytes_sent": sum(c.request_bytes for c in calls) / n,
            "bytes_received": sum(c.response_bytes for c in calls) / n,
        })  # fmt: skip
    return rows


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _timed(concurrency: int, requests: list[Callable[[], int]]) -> dict[str, Any]:
    """Run ``requests`` on ``concurrency`` client threads; each one's latency as the client sees it."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    queue = list(requests)

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                request = queue.pop()
            started = time.perf_counter()
            status = request()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status >= 300:
                    failures.append(status)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "failures": len(failures),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "requests_per_second": round(len(latencies) / wall, 1),
    }


def _read(player: Player, claim_id: str) -> Callable[[], int]:
    return lambda: player.call("GET", f"/claims/{claim_id}", who="buyer").status


def _latency(stack: MeteredStack, quick: bool) -> list[dict[str, Any]]:
    player = Player(stack)
    n = LATENCY_REQUESTS[quick]
    rows = []
    claim_ids: list[str] = []
    for concurrency in CONCURRENCY:
        orders = [player.order() for _ in range(n)]

        def submit(order_id: str) -> Callable[[], int]:
            def go() -> int:
                reply = player.api.call(
                    "POST", "/claims", {"order_id": order_id, **CLAIM}, who=("buyer", "demo-buyer", None),
                    headers={"idempotency-key": f"lat-{order_id}"},
                )  # fmt: skip
                if reply.status == 201:
                    claim_ids.append(str(reply.body["claim_id"]))
                return reply.status

            return go

        rows.append({"route": POST_CLAIMS, **_timed(concurrency, [submit(o) for o in orders])})
    stack.meter.take()
    for concurrency in CONCURRENCY:
        reads = [_read(player, c) for c in (claim_ids * 2)[:n]]
        rows.append({"route": GET_CLAIM, **_timed(concurrency, reads)})
    stack.meter.take()
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    with metered_stack() as stack:
        routes = _summarise(_exercise(stack))
        stack.meter.enabled = False  # timed without the meter's own reads of each written item
        latency = _latency(stack, quick)
        all_routes = sorted(r.route_key for r in stack.app.routes) if stack.app else []
    return {"targets": targets(routes), "routes": routes, "latency": latency, "all_routes": all_routes}


def targets(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gets = [r for r in routes if r["route"].startswith(GET_CLAIM)]
    worst_get = max(gets, key=lambda r: r["dynamodb_calls"])
    get_queries = worst_get["dynamodb_by_operation"].get("Query", 0)
    get_ok = worst_get["dynamodb_calls"] == MAX_GET_QUERIES and get_queries == MAX_GET_QUERIES
    submits = [next(r for r in routes if r["route"] == label) for label in (POST_CLAIMS, COLD_SUBMIT)]
    return [
        target(
            f"{GET_CLAIM}: DynamoDB calls (every role)",
            "1 Query",
            f"{worst_get['dynamodb_calls']:g} ({_ops(worst_get)})",
            get_ok,
            f"{worst_get['dynamodb_calls'] - 1:g} over: the claim's partition, then the order's for the "
            "buyer's contact (phone, address) the view shows or masks. Closing it: a copy of the contact in "
            "the claim's partition, written by submit and refreshed whenever the order is imported again "
            "(the order's facts can change after the claim), i.e. personal data kept in a second place",
        ),
        *(_submit_target(submit) for submit in submits),
    ]  # fmt: skip


def _submit_target(submit: dict[str, Any]) -> dict[str, Any]:
    calls = submit["dynamodb_calls"]
    over = calls - MAX_SUBMIT_CALLS
    return target(
        f"{submit['route']}: DynamoDB calls, idempotency table included",
        f"<= {MAX_SUBMIT_CALLS}",
        f"{calls:g} ({_ops(submit)}; idempotency {submit['idempotency_table_calls']:g})",
        over <= 0,
        f"{over:g} over: idempotency put and update (2), the order's partition (1), the claim's "
        "transaction (1), a return's product risk check (2: the product's day counters, its warning "
        "state)"
        + (", the policy heads (1)" if "BatchGetItem" in submit["dynamodb_by_operation"] else "")
        + ". Closing it: the risk check off the request path (e.g. in the workflow's Review step, which "
        "runs right after submit) leaves 4, 5 in a new process",
    )


def render(section: dict[str, Any]) -> list[str]:
    lines = [
        "## API cost per request (local stack)",
        "",
        "One request per route through the local gateway to the real handler; every AWS call counted with",
        "botocore event hooks (DynamoDB capacity from the real item sizes, transactions doubled, GSI writes",
        "counted); bytes are those sent to / received from AWS for the request.",
        "",
        "| route | DynamoDB calls | by operation | idempotency table | RRU | WRU | Step Functions calls "
        "| other AWS calls | bytes to AWS | bytes from AWS |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in section["routes"]:
        ops = ", ".join(f"{k} {v:g}" for k, v in r["dynamodb_by_operation"].items())
        lines.append(
            f"| {r['route']} | {r['dynamodb_calls']:g} | {ops} | {r['idempotency_table_calls']:g} | "
            f"{r['read_units']:g} | {r['write_units']:g} | {r['stepfunctions_calls']:g} | "
            f"{', '.join(r['other_calls'])} | {r['bytes_sent']:,.0f} | {r['bytes_received']:,.0f} |"
        )
    lines += [
        "",
        "Latency as the client sees it, **local-stack figures** (loopback, moto in the same process on a",
        "shared machine; the runs' own workflow steps compete for the same cores): only for comparing",
        "requests and concurrency levels with each other within this run.",
        "",
        "| route | clients | requests | failures | p50 ms | p99 ms | mean ms | requests / s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in section["latency"]:
        lines.append(
            f"| {r['route']} | {r['concurrency']} | {r['requests']} | {r['failures']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['mean_ms']} | {r['requests_per_second']} |"
        )
    return lines
