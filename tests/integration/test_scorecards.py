"""Merchant scorecards from the pre-aggregated day counters, checked against figures computed from the
claims' own timelines and deadlines (a plain reference written here, not from the counters); exact
under interleaved claims of one merchant, lost races and replayed transactions; the product risk
warning raised once per episode."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aftersales import claims, orders
from aftersales.domain.actions import input_for
from aftersales.domain.calendar import SHANGHAI
from aftersales.domain.claim import Actor, Claim, TimelineEntry
from aftersales.domain.deadlines import Deadline
from aftersales.domain.model import Action, ClaimRequest, ClaimType, Order, OrderLine, Reason, Role
from aftersales.events import RecordingPublisher
from aftersales.store import default_repository
from aftersales.store.mapping import item_to_claim, item_to_deadline, item_to_entry, item_to_order
from botocore.client import BaseClient

from .conftest import MERCHANT, OPS, Api

M = "m-1"
MONTH_START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def _buyer(n: int) -> Actor:
    return Actor(Role.BUYER, f"buyer-{n}")


def _merchant() -> Actor:
    return Actor(Role.MERCHANT, "staff-1", merchant_id=M)


def _ops() -> Actor:
    return Actor(Role.OPS, "ops-1")


SYSTEM = Actor.system("refund")
PRODUCTS = [("SKU-A", "Wool coat"), ("SKU-B", "Kettle")]


def _order(n: int, at: datetime, sku: str, title: str, lines: int = 1) -> Order:
    """Order ``n``: paid two days before ``at``, delivered the day before."""
    return Order(
        order_id=f"ord-{n}",
        buyer_id=f"buyer-{n}",
        merchant_id=M,
        paid_at=at - timedelta(days=2),
        delivered_at=at - timedelta(days=1),
        lines=tuple(
            OrderLine(f"L{i + 1}", sku if i == 0 else f"{sku}-ACC", title, "apparel", 1, 10_000)
            for i in range(lines)
        ),
    )


def _act(claim_id: str, actor: Actor, action: Action, at: datetime, **fields: Any) -> None:
    claims.act(claim_id, actor, action, input_for(action, **fields), at)


def _refund(claim_id: str, at: datetime) -> None:
    _act(claim_id, SYSTEM, Action.REFUND_SUCCEEDED, at, refund={"amount_fen": 10_000})


RATING = {"response_speed": 5, "resolution": 4, "attitude": 5, "convenience": 3, "timeliness": 4}


def _story(kind: int, claim_id: str, opened: datetime, n: int) -> None:
    """Six kinds of claim, at different speeds: refunded returns (some rated), refund-only, rejected and
    disputed then ruled, complaints answered by ops, cancelled before any answer, a message first."""
    hours = [0.5, 1.5, 3, 7, 30][n % 5]  # the merchant's first answer; 30 h misses the 24 h deadline
    answer = opened + timedelta(hours=hours)
    buyer = _buyer(n)
    if kind == 0:
        _act(claim_id, _merchant(), Action.APPROVE, answer)
        _act(claim_id, buyer, Action.SHIP_RETURN, answer + timedelta(hours=5), carrier="sf", waybill=f"SF{n}")
        _act(claim_id, _merchant(), Action.RETURN_DELIVERED, answer + timedelta(days=2))
        inspect_at = answer + timedelta(days=2, hours=3 + (100 if n % 4 == 0 else 0))  # some inspect late
        _act(claim_id, _merchant(), Action.INSPECT_PASS, inspect_at)
        _refund(claim_id, inspect_at + timedelta(hours=1))
        if n % 12 == 0:
            _act(
                claim_id,
                buyer,
                Action.RATE,
                inspect_at + timedelta(hours=2),
                rating={**RATING, "attitude": n % 5 + 1},
            )
    elif kind == 1:
        _act(claim_id, _merchant(), Action.APPROVE, answer)
        _refund(claim_id, answer + timedelta(hours=2))
    elif kind == 2:
        _act(claim_id, _merchant(), Action.REJECT, answer, reason="worn")
        _act(claim_id, buyer, Action.DISPUTE, answer + timedelta(hours=4), reason="not worn")
        _act(claim_id, _ops(), Action.RULING_REFUND, answer + timedelta(hours=5))
        _refund(claim_id, answer + timedelta(hours=6))
    elif kind == 3:
        _act(claim_id, _ops(), Action.GIVE_OPINION, answer, opinion="the courier was late")
    elif kind == 4:
        _act(claim_id, buyer, Action.CANCEL, opened + timedelta(minutes=20), reason="changed my mind")
    else:
        _act(claim_id, _merchant(), Action.MESSAGE, answer, note="we are looking into it")
        _act(claim_id, _merchant(), Action.APPROVE, answer + timedelta(days=1))


REQUESTS = {
    0: (ClaimType.RETURN_REFUND, Reason.QUALITY_DEFECT),
    1: (ClaimType.REFUND_ONLY, Reason.MISSING_ITEM),
    2: (ClaimType.RETURN_REFUND, Reason.NO_REASON),
    3: (ClaimType.COMPLAINT, Reason.SERVICE),
    4: (ClaimType.EXCHANGE, Reason.SIZE_COLOR_MISMATCH),
    5: (ClaimType.REFUND_ONLY, Reason.NOT_RECEIVED),
}


def _seed_month(count: int = 18) -> list[str]:
    """A month of mixed claims on two products, plus orders nobody claims on (the volume)."""
    ids = []
    for n in range(count):
        opened = MONTH_START + timedelta(hours=17 * n + 3)
        sku, title = PRODUCTS[n % 2]
        order = _order(n, opened, sku, title, lines=1 + n % 2)
        orders.import_order(order, source="test", now=opened - timedelta(hours=1))
        claim_type, reason = REQUESTS[n % 6]
        line = "" if claim_type is ClaimType.COMPLAINT else "L1"
        quantity = 0 if claim_type is ClaimType.COMPLAINT else 1
        request = ClaimRequest(order.order_id, line, quantity, claim_type, reason)
        claim = claims.submit(request, _buyer(n), opened)
        _story(n % 6, claim.claim_id, opened, n)
        ids.append(claim.claim_id)
    for n in range(count, count + 10):
        at = MONTH_START + timedelta(days=n % 28, hours=5)
        sku, title = PRODUCTS[n % 2]
        orders.import_order(_order(n, at, sku, title), source="test", now=at)
    return ids


# --------------------------------------------------------------------------- the reference


BOUNDS = (300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 432000, 604800,
          864000, 1296000, 2592000, 5184000)  # fmt: skip
RESPONDERS = {"merchant", "ops"}
NOT_A_RESPONSE = {"escalate", "pause_clock", "resume_clock", "find_buyer_delay"}


def _bound(seconds: float) -> int | None:
    return next((b for b in BOUNDS if seconds <= b), None)


def _pct(samples: list[float], percent: int) -> int | None:
    """Nearest rank on the exact samples, reported as the bound of the bucket holding it."""
    if not samples:
        return None
    ordered = sorted(samples)
    return _bound(ordered[math.ceil(percent * len(ordered) / 100) - 1])


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _in(at: datetime, first: date, last: date) -> bool:
    return first <= at.astimezone(SHANGHAI).date() <= last


@dataclass
class Tally:
    """What the reference counts, as it walks the stored claims."""

    first: date
    last: date
    c: Counter[str] = field(default_factory=Counter)
    fr: list[float] = field(default_factory=list)
    handling: list[float] = field(default_factory=list)
    ratings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    on_time: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def timeline(self, claim: Claim, entries: list[TimelineEntry]) -> None:
        """Opened, first answered (the merchant's or an agent's response, unless a change of status by
        someone else came first), closed, disputed, rated: each on the day of its entry."""
        answered = False
        for entry in entries:
            inside = _in(entry.at, self.first, self.last)
            if entry.action == "submit":
                self.c["claims"] += inside
                self.c[f"type_{claim.claim_type.value}"] += inside
                continue
            responder = entry.actor_role in RESPONDERS and entry.action not in NOT_A_RESPONSE
            if not answered and (responder or entry.from_status != entry.to_status):
                answered = True
                if responder and claim.claim_type is not ClaimType.COMPLAINT and inside:
                    self.fr.append((entry.at - claim.created_at).total_seconds())
            if inside:
                self.entry(claim, entry)

    def entry(self, claim: Claim, entry: TimelineEntry) -> None:
        if (
            entry.to_status.value == "closed"
            and entry.from_status is not None
            and entry.from_status.value != "closed"
        ):
            self.c["closed"] += 1
            self.handling.append((entry.at - claim.created_at).total_seconds())
            self.c["refunds"] += entry.action == "refund_succeeded"
        self.c["disputes"] += entry.action == "dispute"
        if entry.action == "rate":
            for dim, score in entry.details["rating"].items():
                if dim != "comment":
                    self.ratings[dim].append(int(score))

    def deadline(self, deadline: Deadline) -> None:
        if deadline.met_at is None or not _in(deadline.met_at, self.first, self.last):
            return
        late = int(deadline.met_at > deadline.due_at)
        for key in [deadline.kind.value] + (["*"] if deadline.owner is Role.MERCHANT else []):
            self.on_time[key][0] += 1
            self.on_time[key][1] += late


def _lines_sold(order_ids: list[str], first: date, last: date, product: str | None) -> int:
    lines = 0
    for order_id in order_ids:
        stored = default_repository().get_order(order_id)
        assert stored is not None
        order = item_to_order(stored.order)
        if _in(order.paid_at, first, last):
            lines += sum(1 for line in order.lines if product is None or line.sku == product)
    return lines


def reference(
    claim_ids: list[str], order_ids: list[str], first: date, last: date, product: str | None = None
) -> dict[str, Any]:
    """The scorecard of the claims' stored timelines, deadlines and the imported orders."""
    tally = Tally(first, last)
    for claim_id in claim_ids:
        record = default_repository().get_claim_record(claim_id)
        assert record is not None
        claim = item_to_claim(record.claim)
        if product is None or claim.product == product:
            tally.timeline(
                claim, sorted((item_to_entry(i) for i in record.timeline), key=lambda e: e.claim_version)
            )
            for item in record.deadlines:
                tally.deadline(item_to_deadline(item))
    return _figures(tally, _lines_sold(order_ids, first, last, product))


def _figures(tally: Tally, lines: int) -> dict[str, Any]:
    c, fr, handling, ratings, on_time = tally.c, tally.fr, tally.handling, tally.ratings, tally.on_time
    returns = c["type_return_refund"] + c["type_exchange"]

    def kind(n: int, late: int) -> dict[str, Any]:
        return {"count": n, "late": late, "rate": _ratio(n - late, n)}

    return {
        "claims": c["claims"],
        "lines_sold": lines or None,
        "after_sales_rate": _ratio(c["claims"], lines),
        "claims_closed": c["closed"],
        "refund_rate": _ratio(c["refunds"], c["closed"]),
        "first_response": {"count": len(fr), "median_seconds": _pct(fr, 50), "p90_seconds": _pct(fr, 90)},
        "handling": {
            "count": len(handling),
            "median_seconds": _pct(handling, 50),
            "p90_seconds": _pct(handling, 90),
        },
        "on_time": {k: kind(*v) for k, v in sorted(on_time.items()) if k != "*"},
        "merchant_on_time": kind(*on_time["*"]),
        "disputes": c["disputes"],
        "dispute_rate": _ratio(c["disputes"], c["claims"]),
        "complaints": c["type_complaint"],
        "complaint_rate": _ratio(c["type_complaint"], c["claims"]),
        "returns": returns,
        "satisfaction": {
            dim: {
                "count": len(ratings[dim]),
                "average": round(sum(ratings[dim]) / len(ratings[dim]), 2) if ratings[dim] else None,
            }
            for dim in ("response_speed", "resolution", "attitude", "convenience", "timeliness")
        },
        "penalties_paid": "0.00",
    }


# --------------------------------------------------------------------------- tests


def test_a_seeded_months_scorecard_equals_the_figures_of_its_timelines(api: Api) -> None:
    claim_ids = _seed_month()
    order_ids = [f"ord-{n}" for n in range(28)]
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    answer = api.call("GET", f"/ops/merchants/{M}/scorecard", as_=OPS, query=query)
    assert answer.status == 200, answer.body
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    expected = reference(claim_ids, order_ids, first, last)
    assert answer.body["figures"] == expected
    # the mix really exercises the figures
    figures = answer.body["figures"]
    assert figures["claims"] == 18 and figures["disputes"] == 3 and figures["complaints"] == 3
    assert 0 < figures["merchant_on_time"]["late"] < figures["merchant_on_time"]["count"]
    assert figures["first_response"]["median_seconds"] < figures["first_response"]["p90_seconds"]
    assert figures["satisfaction"]["attitude"]["count"] == 2
    # per product
    products = {p["product"]: p for p in answer.body["products"]}
    assert set(products) >= {"SKU-A", "SKU-B"}
    assert products["SKU-A"]["title"] == "Wool coat"
    assert products["SKU-A"]["figures"] == reference(claim_ids, order_ids, first, last, product="SKU-A")
    # the merchant reads its own, the same
    mine = api.call("GET", "/merchant/scorecard", as_=MERCHANT, query=query)
    assert mine.status == 200 and mine.body["figures"] == expected
    # a part of the month: its own figures, from the same counters
    half = api.call(
        "GET", "/merchant/scorecard", as_=MERCHANT, query={"from": "2026-11-08", "to": "2026-11-20"}
    )
    assert half.body["figures"] == reference(claim_ids, order_ids, date(2026, 11, 8), date(2026, 11, 20))


def test_the_scorecard_reads_only_the_merchants_day_items_with_one_range_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_month(4)
    calls: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def spy(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    answer = api.call(
        "GET", "/merchant/scorecard", as_=MERCHANT, query={"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert answer.status == 200
    dynamo = [(op, p) for op, p in calls if "TableName" in p and p["TableName"] == "aftersales-test"]
    assert [op for op, _ in dynamo] == ["Query"]  # no Scan, no read of a claim
    assert dynamo[0][1]["ExpressionAttributeValues"][":0"] == {"S": f"MERCHANT#{M}"}


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, 422, "invalid_period"),
        ({"from": "2026-01-01", "to": "2026-11-30"}, 422, "range_too_long"),
        ({"from": "yesterday"}, 422, None),
        ({"products": "500"}, 422, None),
    ],
)
def test_a_bad_period_is_refused_with_its_code(
    api: Api, query: dict[str, str], status: int, code: str | None
) -> None:
    answer = api.call("GET", "/merchant/scorecard", as_=MERCHANT, query=query)
    assert answer.status == status and answer.body["code"] and answer.body["message"]
    if code:
        assert answer.body["code"] == code


def test_other_roles_have_no_scorecard_routes(api: Api) -> None:
    from .conftest import BUYER as BUYER_TOKEN

    assert api.call("GET", "/merchant/scorecard", as_=OPS).status == 404
    assert api.call("GET", f"/ops/merchants/{M}/scorecard", as_=MERCHANT).status == 404
    assert api.call("GET", "/ops/risk", as_=BUYER_TOKEN).status == 404


# --------------------------------------------------------------------------- exactly once


def _counts(day: date, product: str | None = None) -> dict[str, int]:
    from aftersales.domain.scorecard import total

    days = default_repository().stat_days(M, day, day)
    return total(d.counters for d in days if d.product == product)


def test_interleaved_claims_of_one_merchant_and_lost_races_lose_no_count(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every claim of the merchant lands on the same counter items (one shard): claim B commits between
    claim A's read and A's commit, and A's first commit is cancelled as a hot-item conflict; A re-reads
    and commits once. Both are counted, once each."""
    from botocore.exceptions import ClientError

    monkeypatch.setenv("STAT_SHARDS", "1")
    from aftersales.process import reset_process_state

    reset_process_state()
    opened = MONTH_START
    ids = []
    for n in range(2):
        order = _order(n, opened, "SKU-A", "Wool coat")
        orders.import_order(order, source="test", now=opened)
        ids.append(
            claims.submit(
                ClaimRequest(order.order_id, "L1", 1, ClaimType.RETURN_REFUND, Reason.QUALITY_DEFECT),
                _buyer(n),
                opened,
            ).claim_id
        )
    original = BaseClient._make_api_call
    state = {"raced": False, "conflicts": 0}

    def interleave(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and not state["raced"]:
            state["raced"] = True
            _act(ids[1], _merchant(), Action.APPROVE, opened + timedelta(hours=2))  # B commits first
            state["conflicts"] += 1
            error = {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "TransactionConflict"}],
            }
            raise ClientError(error, operation)  # A's first attempt: cancelled, nothing written
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", interleave)
    _act(ids[0], _merchant(), Action.APPROVE, opened + timedelta(hours=1))
    monkeypatch.setattr(BaseClient, "_make_api_call", original)
    day = opened.astimezone(SHANGHAI).date()
    counts = _counts(day)
    assert state["conflicts"] == 1
    assert counts["claims_opened"] == 2 and counts["fr_n"] == 2 and counts["dl_first_response_n"] == 2
    assert _counts(day, "SKU-A")["fr_n"] == 2


def test_a_replayed_transaction_and_a_retried_request_count_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SDK retry of a committed transaction (its answer lost) is sent again as is: the claim's
    version condition cancels it whole, counters included. A retried request with the same
    Idempotency-Key, and a repeated action refused as illegal, add nothing either."""
    from .conftest import START

    orders.import_order(_order(1, START, "SKU-A", "Wool coat"), source="test", now=START)
    body = {
        "order_id": "ord-1",
        "line_id": "L1",
        "quantity": 1,
        "type": "return_refund",
        "reason": "quality_defect",
    }
    buyer_token = {"sub": "buyer-1", "cognito:groups": "[buyer]"}
    first = api.submit(body, key="again-0001", as_=buyer_token)
    again = api.submit(body, key="again-0001", as_=buyer_token)
    assert first.status == again.status == 201 and first.body["claim_id"] == again.body["claim_id"]
    claim_id = first.body["claim_id"]
    original = BaseClient._make_api_call
    replays: list[str] = []

    def replay(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        answer = original(client, operation, params)
        if operation == "TransactWriteItems":
            try:
                original(client, operation, params)
            except client.exceptions.TransactionCanceledException:
                replays.append("cancelled")
        return answer

    monkeypatch.setattr(BaseClient, "_make_api_call", replay)
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    monkeypatch.setattr(BaseClient, "_make_api_call", original)
    assert api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT).status == 409
    assert replays == ["cancelled"]
    counts = _counts(START.astimezone(SHANGHAI).date())
    assert counts["claims_opened"] == 1
    assert counts["fr_n"] == 1 and counts["dl_first_response_n"] == 1 and counts["mdl_n"] == 2


def test_an_order_imported_again_counts_its_lines_once(api: Api) -> None:
    order = _order(1, MONTH_START, "SKU-A", "Wool coat", lines=2)
    orders.import_order(order, source="test", now=MONTH_START)
    orders.import_order(order, source="test", now=MONTH_START + timedelta(hours=1))
    day = order.paid_at.astimezone(SHANGHAI).date()
    assert _counts(day)["lines_sold"] == 2
    assert _counts(day, "SKU-A")["lines_sold"] == 1


# --------------------------------------------------------------------------- product risk


RISK_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _bulk_order(order_id: str, sku: str, paid_at: datetime, lines: int = 40) -> None:
    """One order of ``lines`` lines of one product (each its own line, so each may be returned)."""
    order = Order(
        order_id=order_id,
        buyer_id="buyer-r",
        merchant_id=M,
        paid_at=paid_at,
        delivered_at=paid_at + timedelta(days=1),
        lines=tuple(OrderLine(f"L{i}", sku, "Kettle", "appliance", 1, 12_900) for i in range(lines)),
    )
    orders.import_order(order, source="test", now=paid_at + timedelta(days=1))


def _returns(order_id: str, lines: range, first_at: datetime) -> None:
    for k, i in enumerate(lines):
        request = ClaimRequest(order_id, f"L{i}", 1, ClaimType.RETURN_REFUND, Reason.QUALITY_DEFECT)
        claims.submit(request, Actor(Role.BUYER, "buyer-r"), first_at + timedelta(hours=k))


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> RecordingPublisher:
    recorder = RecordingPublisher()
    monkeypatch.setattr("aftersales.events.default_publisher", lambda *_: recorder)
    return recorder


def test_a_products_return_jump_warns_once_and_a_small_sample_never(
    api: Api, published: RecordingPublisher
) -> None:
    """SKU-R: 2 returns of 40 lines in its baseline weeks, then 8 of 40 in the last week: the 5th
    return of the week crosses twice the baseline rate with enough sample, and warns; the next three
    find the episode open and add nothing. SKU-S: no return in its baseline, 4 of 40 this week, under
    the minimum sample: never."""
    _bulk_order("ord-r-base", "SKU-R", RISK_AT - timedelta(days=20))
    _returns("ord-r-base", range(2), RISK_AT - timedelta(days=18))
    _bulk_order("ord-r-week", "SKU-R", RISK_AT - timedelta(days=3))
    _returns("ord-r-week", range(8), RISK_AT - timedelta(days=1))
    _bulk_order("ord-s-base", "SKU-S", RISK_AT - timedelta(days=20))
    _bulk_order("ord-s-week", "SKU-S", RISK_AT - timedelta(days=3))
    _returns("ord-s-week", range(4), RISK_AT - timedelta(days=1))

    warned = published.of("product.risk_warning")
    assert [e.detail["product"] for e in warned] == ["SKU-R"]
    detail = warned[0].detail
    assert (detail["window_returns"], detail["window_lines_sold"]) == (5, 40)
    assert (detail["baseline_returns"], detail["baseline_lines_sold"]) == (2, 40)
    assert detail["event_key"] == f"risk:{M}:SKU-R:1"
    listed = api.call("GET", "/ops/risk", as_=OPS, query={"limit": "10"})
    assert listed.status == 200
    assert [(w["product"], w["episode"], w["active"]) for w in listed.body["items"]] == [("SKU-R", 1, True)]
    state = default_repository().risk_state(M, "SKU-R")
    assert state is not None and state.notified


def test_the_risk_listing_pages_newest_first(api: Api, published: RecordingPublisher) -> None:
    for n, sku in enumerate(["SKU-1", "SKU-2", "SKU-3"]):
        at = RISK_AT + timedelta(hours=n)
        _bulk_order(f"ord-{sku}-base", sku, at - timedelta(days=20))
        _bulk_order(f"ord-{sku}-week", sku, at - timedelta(days=3))
        _returns(f"ord-{sku}-week", range(5), at - timedelta(days=1, hours=-n * 6))
    first = api.call("GET", "/ops/risk", as_=OPS, query={"limit": "2"})
    assert [w["product"] for w in first.body["items"]] == ["SKU-3", "SKU-2"] and first.body["next_cursor"]
    rest = api.call("GET", "/ops/risk", as_=OPS, query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert [w["product"] for w in rest.body["items"]] == ["SKU-1"] and rest.body["next_cursor"] is None
    bad = api.call("GET", "/ops/risk", as_=OPS, query={"cursor": "not-a-cursor"})
    assert bad.status == 400 and bad.body["code"] == "invalid_cursor"


def test_a_warning_whose_event_was_lost_is_sent_again_by_the_next_return(
    api: Api, monkeypatch: pytest.MonkeyPatch, published: RecordingPublisher
) -> None:
    """The episode is raised, then the process dies before its event is sent: the next return of the
    product finds it raised and not notified, and sends it (same event key); none after that."""
    from aftersales.claims import risk

    real = risk._publish
    calls = {"n": 0}

    def crash_once(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the process died")
        real(*args)

    monkeypatch.setattr(risk, "_publish", crash_once)
    _bulk_order("ord-r-base", "SKU-R", RISK_AT - timedelta(days=20))
    _bulk_order("ord-r-week", "SKU-R", RISK_AT - timedelta(days=3))
    _returns("ord-r-week", range(7), RISK_AT - timedelta(days=1))
    keys = [e.detail["event_key"] for e in published.of("product.risk_warning")]
    assert keys == [f"risk:{M}:SKU-R:1"]
