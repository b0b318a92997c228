"""Every AWS call the service's code makes, counted with botocore event hooks, and what DynamoDB bills
for it in on-demand capacity units, sized from the real items.

``Meter`` registers its hooks on every botocore client created while it is installed (boto3's and
pynamodb's alike: it wraps ``botocore.session.Session.create_client``), so it must be installed before
the handlers build their clients (``reset_process_state`` after installing). A call is attributed to
the handler invocation it runs in (``Meter.invocation``, a context variable); calls outside any
invocation (the benchmark's own reads) are not recorded.

DynamoDB capacity (on-demand, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):

- an item's size is the sum of its attribute names and values (``item_size``);
- a write costs 1 write unit per started KB of the larger of the item before and after it (a failed
  condition costs the same), a transactional write twice that; a ConditionCheck in a transaction is
  priced as a transactional write of the checked item;
- each global secondary index whose key the item has, before or after, costs one more write of the
  projected item per started KB (two when the write moves the item's index key: a delete and a put);
- a read costs 1 read unit per started 4 KB (GetItem, BatchGetItem: per item; Query: of the items it
  returns, at least 1), half of it when eventually consistent, twice it in a transaction.

The item before a write is read with a private, unmetered client (``GetItem``, consistent) just
before the call, and the item after it just after: the benchmarks play one story at a time.
"""

from __future__ import annotations

import contextvars
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import botocore.session

Item = Mapping[str, Any]  # DynamoDB's typed attribute map: {"pk": {"S": "CLAIM#1"}, ...}

_CURRENT: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("bench_invocation", default=None)
_PRIVATE = threading.local()  # set while the meter reads an item for itself

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
CLAIM_ID = re.compile(r"clm_[0-9a-f]{32}")
KB, READ_UNIT = 1024, 4096


def value_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one typed value (names of map entries included)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode("utf-8"))
    if kind == "N":
        digits = Decimal(str(raw)).normalize().as_tuple().digits  # significant digits only
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


@dataclass
class Call:
    service: str
    operation: str
    request_bytes: int = 0
    response_bytes: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    items_written: int = 0
    items_read: int = 0
    table_names: tuple[str, ...] = ()
    messages: int = 0  # SQS messages sent, EventBridge entries put
    failed: bool = False
    seconds: float = 0.0  # the round trip to the endpoint (moto, on loopback)
    claim_ids: frozenset[str] = frozenset()  # the claims the request names (keys, ARNs, event details)


@dataclass
class Invocation:
    """One handler invocation: its function, its wall time in this process, the calls it made."""

    function: str
    seconds: float = 0.0
    calls: list[Call] = field(default_factory=list)
    route: str | None = None  # an API invocation's route key
    metering_seconds: float = 0.0  # the meter's own reads of the items a write changes

    @property
    def own_seconds(self) -> float:
        """Time in the handler's own code: the wall time less the AWS round trips and the meter."""
        return max(0.0, self.seconds - self.metering_seconds - sum(c.seconds for c in self.calls))


@dataclass(frozen=True)
class _Table:
    keys: tuple[str, ...]
    indexes: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...]  # keys, projection, non-key attrs


class Meter:
    """``with Meter().installed() as meter:``, then ``meter.wrap(name, handler)`` or
    ``with meter.invocation(name):``; ``meter.take()`` returns what was recorded."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._tables: dict[tuple[str | None, str], _Table] = {}
        self._private: Any = None
        self._endpoint: str | None = None
        self.enabled = True  # off: the hooks do nothing (timing runs without the meter's own reads)

    # -- attribution --

    @contextmanager
    def invocation(self, function: str) -> Iterator[Invocation]:
        record = Invocation(function)
        token = _CURRENT.set(record)
        started = time.perf_counter()
        try:
            yield record
        finally:
            record.seconds = time.perf_counter() - started
            _CURRENT.reset(token)
            with self._lock:
                self.invocations.append(record)

    def wrap(self, function: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def metered(event: Any, context: Any) -> Any:
            with self.invocation(function) as record:
                if isinstance(event, dict) and "routeKey" in event:
                    record.route = str(event["routeKey"])
                return handler(event, context)

        return metered

    def take(self) -> list[Invocation]:
        """The invocations recorded since the last take."""
        with self._lock:
            taken, self.invocations = self.invocations, []
        return taken

    # -- installation --

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        original = botocore.session.Session.create_client
        meter = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            if not getattr(_PRIVATE, "on", False):
                meter._register(client)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]

    def _register(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-parameter-build.*.*", self._before_params)
        events.register("before-call.*.*", self._before_call)
        events.register("after-call.*.*", self._after_call)
        if client.meta.service_model.service_name == "dynamodb":
            self._endpoint = client.meta.endpoint_url

    # -- hooks --

    def _before_params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.enabled or _CURRENT.get() is None or getattr(_PRIVATE, "on", False):
            return
        service = model.service_model.service_name
        named = frozenset(CLAIM_ID.findall(json.dumps(params, default=str)))
        context["bench_call"] = Call(service, model.name, claim_ids=named)
        context["bench_params"] = params
        if service == "dynamodb":
            started = time.perf_counter()
            context["bench_before"] = [self._image(t, k) for t, k, _, _ in _writes(model.name, params, self)]
            _CURRENT.get().metering_seconds += time.perf_counter() - started  # type: ignore[union-attr]

    def _before_call(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call: Call | None = context.get("bench_call")
        if call is not None:
            body = params.get("body") or b""
            call.request_bytes = len(body.encode() if isinstance(body, str) else body)
            context["bench_started"] = time.perf_counter()

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        call: Call | None = context.get("bench_call")
        current = _CURRENT.get()
        if call is None or current is None:
            return
        call.seconds = time.perf_counter() - context.get("bench_started", time.perf_counter())
        call.response_bytes = len(getattr(http_response, "content", b"") or b"")
        call.failed = "Error" in parsed
        if call.service == "dynamodb":
            started = time.perf_counter()
            self._size_dynamodb(call, context["bench_params"], parsed, context["bench_before"])
            current.metering_seconds += time.perf_counter() - started
        elif call.service == "sqs":
            call.messages = len(context.get("bench_params", {}).get("Entries", [])) or 1
        elif call.service == "events":
            call.messages = len(parsed.get("Entries", [])) or 1
        current.calls.append(call)

    # -- DynamoDB sizing --

    def _size_dynamodb(
        self, call: Call, params: dict[str, Any], parsed: dict[str, Any], before: list[Item | None]
    ) -> None:
        op = call.operation
        writes = _writes(op, params, self)
        call.table_names = tuple(sorted({t for t, _, _, _ in writes} | set(_read_tables(op, params))))
        for (table, key, new_item, transactional), old in zip(writes, before, strict=True):
            after = (
                new_item
                if new_item is not None
                else (None if op == "DeleteItem" else self._image(table, key))
            )
            if op == "TransactWriteItems" and call.failed:
                after = old  # cancelled: nothing changed, each item still priced
            size = max(item_size(old), item_size(after))
            call.write_units += write_units(size) * (2 if transactional else 1)
            call.items_written += 1
            if not call.failed:
                call.index_write_units += self._index_writes(table, old, after)
        call.read_units, call.items_read = _read_cost(op, params, parsed)

    def _index_writes(self, table: str, old: Item | None, new: Item | None) -> int:
        units = 0
        shape = self._table(table)
        for keys, projection, non_key in shape.indexes:
            had = old is not None and all(k in old for k in keys)
            has = new is not None and all(k in new for k in keys)
            if not had and not has:
                continue
            if had and has and old is not None and new is not None:
                if all(old[k] == new[k] for k in keys) and _projected(
                    old, shape, keys, projection, non_key
                ) == (_projected(new, shape, keys, projection, non_key)):
                    continue  # nothing the index holds changed: no index write
                moved = any(old[k] != new[k] for k in keys)
                size = max(
                    item_size(_projected(old, shape, keys, projection, non_key)),
                    item_size(_projected(new, shape, keys, projection, non_key)),
                )
                units += write_units(size) * (2 if moved else 1)
                continue
            present = new if has else old
            assert present is not None
            units += write_units(item_size(_projected(present, shape, keys, projection, non_key)))
        return units

    def _table(self, name: str) -> _Table:
        key = (self._endpoint, name)
        if key not in self._tables:
            table = self._client().describe_table(TableName=name)["Table"]
            keys = tuple(k["AttributeName"] for k in table["KeySchema"])
            indexes = tuple(
                (
                    tuple(k["AttributeName"] for k in index["KeySchema"]),
                    index["Projection"]["ProjectionType"],
                    tuple(index["Projection"].get("NonKeyAttributes", ())),
                )
                for index in table.get("GlobalSecondaryIndexes", [])
            )
            self._tables[key] = _Table(keys, indexes)
        return self._tables[key]

    def _image(self, table: str, key: Item) -> Item | None:
        item = self._client().get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def _client(self) -> Any:
        if self._private is None:
            _PRIVATE.on = True
            try:
                self._private = botocore.session.get_session().create_client(
                    "dynamodb", endpoint_url=self._endpoint, region_name="us-east-1"
                )
            finally:
                _PRIVATE.on = False
        return self._private

    def key_of(self, table: str, item: Item) -> dict[str, Any]:
        return {k: item[k] for k in self._table(table).keys}


def _projected(
    item: Item, shape: _Table, keys: tuple[str, ...], projection: str, non_key: tuple[str, ...]
) -> Item:
    if projection == "ALL":
        return item
    wanted = set(shape.keys) | set(keys) | (set(non_key) if projection == "INCLUDE" else set())
    return {k: v for k, v in item.items() if k in wanted}


def _writes(op: str, params: Mapping[str, Any], meter: Meter) -> list[tuple[str, Item, Item | None, bool]]:
    """(table, key, the item written when known, transactional) for each item the call writes."""
    if op == "PutItem":
        return [
            (params["TableName"], meter.key_of(params["TableName"], params["Item"]), params["Item"], False)
        ]
    if op in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], None, False)]
    if op == "BatchWriteItem":
        out: list[tuple[str, Item, Item | None, bool]] = []
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    out.append((table, meter.key_of(table, item), item, False))
                else:
                    out.append((table, request["DeleteRequest"]["Key"], None, False))
        return out
    if op == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems", []):
            ((kind, body),) = entry.items()
            table = body["TableName"]
            if kind == "Put":
                out.append((table, meter.key_of(table, body["Item"]), body["Item"], True))
            elif kind == "ConditionCheck":
                out.append((table, body["Key"], None, True))
            else:
                out.append((table, body["Key"], None, True))
        return out
    return []


def _read_tables(op: str, params: Mapping[str, Any]) -> list[str]:
    if op in ("GetItem", "Query", "Scan"):
        return [params["TableName"]]
    if op == "BatchGetItem":
        return list(params.get("RequestItems", {}))
    if op == "TransactGetItems":
        return [e["Get"]["TableName"] for e in params.get("TransactItems", [])]
    return []


def _read_cost(op: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> tuple[float, int]:
    consistent = bool(params.get("ConsistentRead"))
    if op == "GetItem":
        item = parsed.get("Item")
        return read_units(item_size(item), consistent=consistent), int(bool(item))
    if op in ("Query", "Scan"):
        items = parsed.get("Items", [])
        return read_units(sum(item_size(i) for i in items), consistent=consistent), len(items)
    if op == "BatchGetItem":
        units, found = 0.0, 0
        for table, request in params.get("RequestItems", {}).items():
            got = parsed.get("Responses", {}).get(table, [])
            found += len(got)
            per_item = [item_size(i) for i in got] + [0] * max(0, len(request.get("Keys", [])) - len(got))
            units += sum(read_units(s, consistent=bool(request.get("ConsistentRead"))) for s in per_item)
        return units, found
    if op == "TransactGetItems":
        got = [r.get("Item") for r in parsed.get("Responses", [])]
        return sum(2 * read_units(item_size(i), consistent=True) for i in got), sum(1 for i in got if i)
    if op in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"):
        return 0.0, 0
    return 0.0, 0
