"""The demo: the stories a newcomer needs to see, as data, played over HTTP against a local stack.

Each story imports its own order (ops), submits a claim (buyer) and then plays its steps: people
acting through the API with local JWTs, or the clock moving past a deadline (which runs sla_tick).
A story passes when the claim ends in the status and outcome it names (and the penalty, if any).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from infra.local import tokens

BUYER = ("buyer", "demo-buyer", None)
OTHER_BUYER = ("buyer", "demo-buyer-2", None)
MERCHANT = ("merchant", "demo-staff", "demo-merchant")
OPS = ("ops", "demo-ops", None)
PEOPLE = {"buyer": BUYER, "merchant": MERCHANT, "ops": OPS}
SETTLE_TIMEOUT = 20.0  # seconds for the workflow to reach a story's end


class Clock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> Any: ...


@dataclass(frozen=True)
class Act:
    """Someone calls ``POST /claims/{id}/<action>``."""

    who: str  # buyer | merchant | ops
    action: str
    body: dict[str, Any] = field(default_factory=dict)
    says: str = ""


@dataclass(frozen=True)
class Lapse:
    """Time passes until ``deadline`` is overdue by ``overdue`` (then sla_tick runs)."""

    deadline: str
    overdue: timedelta = timedelta(minutes=1)
    says: str = ""


@dataclass(frozen=True)
class Later:
    """More time passes (one day at a time, a tick each day)."""

    delta: timedelta
    says: str = ""


@dataclass(frozen=True)
class Carrier:
    """A carrier posts a signed delivery about the story's return parcel (``infra.local.carriers``).
    ``webhook``: kuaidi100, aftership, or a carrier on our own format; ``label``: the event quotes the
    claim id printed on the return label (a pick-up before anyone told us the waybill)."""

    status: str
    webhook: str = "sf"
    label: bool = False
    says: str = ""


Step = Act | Lapse | Later | Carrier


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    claim: dict[str, Any]
    steps: tuple[Step, ...]
    status: str = "closed"
    outcome: str | None = None
    penalty: str | None = None  # the total, in yuan, when the story is about a penalty


SHIP = {"carrier": "sf", "waybill": "fresh"}
SHIP_BACK = Act("buyer", "shipment", SHIP, "The buyer ships the goods back")
RECEIVED = Act("merchant", "return-received", {}, "The parcel reaches the merchant")
APPROVE = Act("merchant", "decision", {"decision": "approve"}, "The merchant approves")


def _claim(line: str, type_: str, reason: str, description: str = "") -> dict[str, Any]:
    return {"line_id": line, "quantity": 1, "type": type_, "reason": reason, "description": description}


STORIES: tuple[Story, ...] = (
    Story(
        "no-reason-return",
        "A no-reason return within 7 days, refunded",
        _claim("L1", "return_refund", "no_reason", "changed my mind"),
        (
            APPROVE,
            SHIP_BACK,
            RECEIVED,
            Act("merchant", "inspection", {"passed": True, "findings": "unworn"}, "Inspection passes"),
        ),
        outcome="refunded",
    ),
    Story(
        "carrier-return",
        "A return the carrier carries from pick-up to delivery, inspected and refunded",
        _claim("L1", "return_refund", "no_reason", "wrong colour"),
        (
            APPROVE,
            Carrier("picked_up", "sf", label=True, says="SF picks the parcel up at the buyer's door"),
            Carrier("in_transit", "sf", says="SF: in transit"),
            Carrier("delivered", "kuaidi100", says="Kuaidi100: delivered to the merchant"),
            Act("merchant", "inspection", {"passed": True, "findings": "as new"}, "Inspection passes"),
        ),
        outcome="refunded",
    ),
    Story(
        "merchant-silent",
        "The merchant never answers: approved automatically",
        _claim("L1", "return_refund", "quality_defect", "seam torn"),
        (Lapse("review_decision", says="The merchant lets the review deadline pass"),),
        status="awaiting_return_shipment",
    ),
    Story(
        "buyer-never-ships",
        "The buyer never ships the return: the claim is forfeited",
        _claim("L1", "return_refund", "no_reason"),
        (APPROVE, Lapse("return_shipment", says="The buyer lets the shipping deadline pass")),
        outcome="forfeited",
    ),
    Story(
        "late-inspection",
        "The inspection is three days late: 0.5 % per day, then accepted automatically",
        _claim("L1", "return_refund", "quality_defect", "zip broken"),
        (
            APPROVE,
            SHIP_BACK,
            RECEIVED,
            Lapse("inspection", says="The merchant does not inspect in time: day 1 overdue"),
            Later(timedelta(days=1), "Day 2 overdue"),
            Later(timedelta(days=1), "Day 3 overdue: the goods are accepted for the merchant"),
        ),
        outcome="refunded",
        penalty="1.95",  # 3 × 0.5 % of 129.90
    ),
    Story(
        "exchange",
        "An exchange for another size",
        _claim("L1", "exchange", "size_color_mismatch", "too small"),
        (
            APPROVE,
            SHIP_BACK,
            RECEIVED,
            Act("merchant", "inspection", {"passed": True}, "Inspection passes"),
            Act("merchant", "replacement", SHIP, "Replacement shipped"),
            Act("buyer", "received", {}, "The buyer has the replacement"),
            Act("buyer", "accept", {}, "The buyer confirms"),
        ),
        outcome="exchanged",
    ),
    Story(
        "warranty-repair",
        "A kettle repaired under warranty",
        _claim("L2", "repair", "quality_defect", "does not heat"),
        (
            APPROVE,
            SHIP_BACK,
            RECEIVED,
            Act("merchant", "inspection", {"passed": True, "findings": "thermostat"}, "Fault confirmed"),
            Act(
                "merchant",
                "repair",
                {"completed": True, "carrier": "sf", "waybill": "fresh"},
                "Repaired and shipped back",
            ),
            Act("buyer", "received", {}, "The buyer has the kettle"),
            Act("buyer", "accept", {}, "The buyer confirms the repair"),
        ),
        outcome="repaired",
    ),
    Story(
        "dispute",
        "A rejected claim taken to mediation, then arbitration, and refunded",
        _claim("L1", "return_refund", "not_as_described", "colour differs from photos"),
        (
            Act("merchant", "decision", {"decision": "reject", "reason": "as shown"}, "The merchant rejects"),
            Act("buyer", "dispute", {"note": "photos attached"}, "The buyer disputes: mediation"),
            Act("ops", "escalate", {"reason": "no agreement in mediation"}, "Ops escalates to arbitration"),
            Act(
                "ops",
                "ruling",
                {"outcome": "refund", "payer": "merchant", "reason": "listing photos misleading"},
                "Arbitration rules for the buyer",
            ),
        ),
        outcome="refunded",
    ),
)


def demo_order(buyer: str, merchant: str, now: datetime) -> dict[str, Any]:
    """An order delivered yesterday: a coat (apparel) and a kettle (appliance, a unit under warranty)."""

    def z(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "buyer_id": buyer,
        "merchant_id": merchant,
        "paid_at": z(now - timedelta(days=4)),
        "delivered_at": z(now - timedelta(days=1)),
        "lines": [
            {"line_id": "L1", "sku": "COAT-M", "title": "Wool coat", "category": "apparel", "quantity": 1,
             "paid_amount": "129.90"},
            {"line_id": "L2", "sku": "KETTLE", "title": "Kettle", "category": "appliance", "quantity": 1,
             "paid_amount": "89.00", "part_kind": "unit"},
        ],
        "buyer_phone": "13800000000",
        "shipping_address": "上海市浦东新区 1 号",
    }  # fmt: skip


# --- HTTP ---------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any


class ApiClient:
    """A tiny JSON client for the local gateway, minting a token per person."""

    def __init__(self, base_url: str, key_file: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_file = key_file
        self._tokens: dict[tuple[str, str, str | None], str] = {}

    def token(self, who: tuple[str, str, str | None]) -> str:
        if who not in self._tokens:
            self._tokens[who] = tokens.mint(*who, key_file=self.key_file)
        return self._tokens[who]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: tuple[str, str, str | None] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"content-type": "application/json", **(headers or {})}
        bearer = token or (self.token(who) if who else None)
        if bearer:
            sent["authorization"] = f"Bearer {bearer}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        return Reply(status, json.loads(raw) if raw else None)


# --- running a story ----------------------------------------------------------------------------------


@dataclass
class StoryResult:
    story: Story
    claim_id: str | None = None
    detail: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def seed_order(api: ApiClient, order_id: str, now: datetime, buyer: str = BUYER[1]) -> Reply:
    return api.call("PUT", f"/ops/orders/{order_id}", demo_order(buyer, str(MERCHANT[2]), now), who=OPS)


def play(story: Story, api: ApiClient, clock: Clock, *, run_id: str | None = None) -> StoryResult:
    result = StoryResult(story)
    started = time.monotonic()
    try:
        _play(story, api, clock, result, run_id or uuid.uuid4().hex[:8])
    except _StoryFailed as exc:
        result.problems.append(str(exc))
    result.seconds = time.monotonic() - started
    return result


class _StoryFailed(Exception):
    pass


def _expect(reply: Reply, status: int, what: str) -> Any:
    if reply.status != status:
        raise _StoryFailed(f"{what}: HTTP {reply.status} {json.dumps(reply.body, ensure_ascii=False)}")
    return reply.body


def _play(story: Story, api: ApiClient, clock: Clock, result: StoryResult, run_id: str) -> None:
    order_id = f"demo-{story.key}-{run_id}"
    _expect(seed_order(api, order_id, clock.now()), 200, "importing the order")
    submitted = api.call(
        "POST",
        "/claims",
        {"order_id": order_id, **story.claim},
        who=BUYER,
        headers={"idempotency-key": f"demo-{story.key}-{run_id}"},
    )
    claim_id = result.claim_id = _expect(submitted, 201, "submitting the claim")["claim_id"]

    for step in story.steps:
        if isinstance(step, Act):
            body = dict(step.body)
            if "waybill" in body:  # a waybill belongs to one claim: a fresh one per run
                body["waybill"] = f"SF{uuid.uuid4().int % 10**12:012d}"
            reply = api.call("POST", f"/claims/{claim_id}/{step.action}", body, who=PEOPLE[step.who])
            _expect(reply, 200, f"{step.who} {step.action}")
        elif isinstance(step, Carrier):
            from infra.local import carriers

            code, answer = carriers.push(
                clock,
                step.webhook,
                waybill=f"SF{uuid.uuid5(uuid.NAMESPACE_URL, claim_id).int % 10**12:012d}",
                status=step.status,
                reference=claim_id if step.label else None,
            )
            if code != 202:
                raise _StoryFailed(f"carrier {step.webhook} {step.status}: HTTP {code} {answer}")
        elif isinstance(step, Lapse):
            due = _open_deadline(api, claim_id, step.deadline)
            clock.advance(max(due - clock.now(), timedelta(0)) + step.overdue)
        else:
            clock.advance(step.delta)

    result.detail = _settle(api, claim_id, story)
    claim = result.detail["claim"]
    if (claim["status"], claim["outcome"]) != (story.status, story.outcome):
        result.problems.append(
            f"ended {claim['status']}/{claim['outcome']}, expected {story.status}/{story.outcome}"
        )
    if story.penalty is not None and result.detail["penalties"]["total"] != story.penalty:
        result.problems.append(f"penalty {result.detail['penalties']['total']}, expected {story.penalty}")


def _open_deadline(api: ApiClient, claim_id: str, kind: str) -> datetime:
    from aftersales.clock import parse_instant

    detail = _expect(api.call("GET", f"/claims/{claim_id}", who=OPS), 200, "reading the claim")
    for deadline in detail["deadlines"]:
        if deadline["kind"] == kind and deadline["open"]:
            return parse_instant(deadline["due_at"])
    raise _StoryFailed(f"no open {kind} deadline (status {detail['claim']['status']})")


def _settle(api: ApiClient, claim_id: str, story: Story) -> dict[str, Any]:
    """The claim once the workflow has done what it does on its own (refunds run asynchronously)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        detail: dict[str, Any] = _expect(api.call("GET", f"/claims/{claim_id}", who=OPS), 200, "reading")
        claim = detail["claim"]
        if (claim["status"], claim["outcome"]) == (story.status, story.outcome):
            return detail
        if time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def run(
    api: ApiClient,
    clock: Clock,
    stories: Sequence[Story] = STORIES,
    *,
    on_result: Callable[[StoryResult | ScorecardResult], None] | None = None,
) -> list[StoryResult | ScorecardResult]:
    """Every story, then the merchant's scorecard after them (``scorecard_after``)."""
    run_id = uuid.uuid4().hex[:8]
    results: list[StoryResult | ScorecardResult] = []
    first_day = shanghai_day(clock.now())
    before = _scorecard(api, first_day, first_day)
    for story in stories:
        result = play(story, api, clock, run_id=run_id)
        if on_result:
            on_result(result)
        results.append(result)
    card = scorecard_after(api, clock, before, first_day, [r for r in results if isinstance(r, StoryResult)])
    if on_result:
        on_result(card)
    results.append(card)
    return results


# --- the merchant's scorecard after the stories -------------------------------------------------------


@dataclass
class ScorecardResult:
    """The demo merchant's scorecard over the days the stories covered, and what it must show: each
    story's claim counted once, each refunded story's refund once."""

    card: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def shanghai_day(at: datetime) -> date:
    from aftersales.domain.scorecard import stat_day

    return stat_day(at)


def _scorecard(api: ApiClient, first: date, last: date) -> dict[str, Any] | None:
    first = max(first, last - timedelta(days=91))  # one scorecard covers at most 92 days
    reply = api.call("GET", f"/merchant/scorecard?from={first}&to={last}&products=5", who=MERCHANT)
    return reply.body if reply.status == 200 else None


def scorecard_after(
    api: ApiClient, clock: Clock, before: dict[str, Any] | None, first: date, played: Sequence[StoryResult]
) -> ScorecardResult:
    """The scorecard now, against the one read before the stories: the claims and refunds they added."""
    result = ScorecardResult(_scorecard(api, first, shanghai_day(clock.now())))
    if result.card is None or before is None:
        result.problems.append("the merchant's scorecard could not be read")
        return result
    now, then = result.card["figures"], before["figures"]
    submitted = sum(1 for r in played if r.claim_id)
    refunded = sum(1 for r in played if r.ok and r.story.outcome == "refunded")
    if now["claims"] - then["claims"] != submitted:
        result.problems.append(f"{now['claims'] - then['claims']} claims counted, {submitted} submitted")
    if now["claims_closed"] - then["claims_closed"] < refunded or not now["first_response"]["count"]:
        result.problems.append("closed claims or first responses missing from the scorecard")
    return result


# --- printing -----------------------------------------------------------------------------------------


def render(result: StoryResult | ScorecardResult) -> Any:
    """A rich renderable: the story's timeline as the claim recorded it (or the scorecard)."""
    if isinstance(result, ScorecardResult):
        return render_scorecard(result)
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    story = result.story
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("when (UTC)")
    table.add_column("who")
    table.add_column("what")
    table.add_column("status")
    table.add_column("note", overflow="fold")
    detail = result.detail or {}
    for entry in detail.get("timeline", []):
        actor = entry["actor"]
        table.add_row(
            entry["at"].replace("T", " ").rstrip("Z"),
            f"{actor['role']} {actor['id']}",
            entry["action"],
            f"{entry['from'] or '—'} → {entry['to']}",
            entry.get("note") or "",
        )
    parts: list[Any] = [table]
    penalties = detail.get("penalties") or {}
    if penalties.get("days"):
        days = ", ".join(f"{d.get('amount', d)}" for d in penalties["days"])
        parts.append(Text(f"penalties: ¥{penalties['total']} (per day: {days})", style="yellow"))
    claim = detail.get("claim") or {}
    verdict = (
        Text(f"✔ {claim.get('status')}/{claim.get('outcome')} as expected", style="green")
        if result.ok
        else Text("✘ " + "; ".join(result.problems), style="red")
    )
    parts.append(verdict)
    title = f"{story.title}  [dim]{result.claim_id or ''} · {result.seconds:.1f} s[/dim]"
    return Panel(Group(*parts), title=title, title_align="left", border_style="green" if result.ok else "red")


def render_scorecard(result: ScorecardResult) -> Any:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    card = result.card or {}
    f, badge, period = card.get("figures") or {}, card.get("badge") or {}, card.get("period") or {}
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value")

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f} %"

    from infra.cli.ops import duration_text as hours

    if f:
        fr, on_time = f["first_response"], f["merchant_on_time"]
        rows = [
            ("claims · closed", f"{f['claims']} · {f['claims_closed']}"),
            (
                "after-sales rate (per line sold)",
                f"{pct(f['after_sales_rate'])} of {f['lines_sold'] or '—'} lines",
            ),
            ("refund rate (of closed)", pct(f["refund_rate"])),
            ("first response median · p90", f"{hours(fr['median_seconds'])} · {hours(fr['p90_seconds'])}"),
            ("handling median", hours(f["handling"]["median_seconds"])),
            ("merchant deadlines on time", f"{pct(on_time['rate'])} of {on_time['count']}"),
            ("dispute rate · complaint rate", f"{pct(f['dispute_rate'])} · {pct(f['complaint_rate'])}"),
            ("penalties paid", f"¥{f['penalties_paid']}"),
            ("金牌售后", "held" if badge.get("held") else f"not held ({', '.join(badge.get('unmet', []))})"),
        ]
        for row in rows:
            table.add_row(*row)
        for product in card.get("products", []):
            pf = product["figures"]
            table.add_row(f"  {product['product']}", f"{pf['claims']} claims, {pf['returns']} returns")
    verdict = (
        Text("✔ every story's claim counted once", style="green")
        if result.ok
        else Text("✘ " + "; ".join(result.problems), style="red")
    )
    title = (
        f"The merchant's scorecard after the stories  [dim]{period.get('from')} → {period.get('to')}[/dim]"
    )
    return Panel(
        Group(table, verdict), title=title, title_align="left", border_style="green" if result.ok else "red"
    )
