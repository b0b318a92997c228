"""``aftersales ops``: inspect claims, overdue deadlines and workflow runs; redrive dead letters.

Every command works against the local stack (its ``.local-stack/stack.json``) or a deployed one
(``--stack NAME``, standard AWS credentials and region; ``--endpoint-url`` for another endpoint).
``infra.ops`` finds the stack's resources once (``target.resolve``) and reads them into plain data
(``gather``, ``dlq``); the commands here only print it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Column, Table

from infra.cli.calendar import calendar_app
from infra.ops.dlq import redrive_dlqs
from infra.ops.gather import (
    EXECUTION_STATUSES,
    gather_claim,
    gather_executions,
    gather_overdue,
    gather_policy,
    gather_scorecard,
)
from infra.ops.target import OpsError, Target, resolve

ops_app = typer.Typer(
    help="Inspect claims, overdue deadlines and workflow runs; redrive dead letters.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Dead-letter queues of the stack.", no_args_is_help=True)
ops_app.add_typer(dlq_app, name="dlq")
ops_app.add_typer(calendar_app, name="calendar")

err = Console(stderr=True)


# --- the commands --------------------------------------------------------------------------------------

StateDir = Annotated[
    Path | None, typer.Option("--state-dir", help="The local stack's directory (default: .local-stack).")
]
EndpointUrl = Annotated[
    str | None, typer.Option("--endpoint-url", help="AWS endpoint (e.g. a moto server); default: AWS.")
]
StackName = Annotated[
    str | None, typer.Option("--stack", help="CloudFormation stack name (default: the local stack).")
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION / profile).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]


def _target(
    state_dir: Path | None, endpoint_url: str | None, stack: str | None, region: str | None
) -> Target:
    try:
        return resolve(state_dir=state_dir, endpoint_url=endpoint_url, stack=stack, region=region)
    except OpsError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _table(title: str, *columns: str) -> Table:
    # Ids and instants wrap rather than lose characters: ops copy them into the next command.
    return Table(
        *(Column(c, overflow="fold") for c in columns),
        title=title,
        title_justify="left",
        header_style="bold",
        box=None,
    )


def _short(instant: str | None) -> str:
    """``2026-11-22T23:20:43.661000Z`` → ``2026-11-22 23:20:43`` (tables only; JSON keeps it all)."""
    return (instant or "").replace("T", " ").replace("Z", "").split(".")[0]


@contextlib.contextmanager
def _aws_errors() -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        _fail(f"AWS refused: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("pynamodb"):
            _fail(f"reading the claims table failed: {exc}")
        raise


@ops_app.command("claim")
def claim_command(
    claim_id: Annotated[str, typer.Argument(help="The claim id (also its workflow run's name).")],
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Show a claim: status, timeline, deadlines, penalties and its Step Functions run."""
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        detail = gather_claim(target, claim_id)
    if detail is None:
        _fail(f"no claim {claim_id} in stack {target.stack_name}")
    if as_json:
        _print_json({"target": target.describe(), **detail})
        return
    out = Console()
    claim = detail["claim"]
    out.print(
        f"[bold]{claim['claim_id']}[/bold]  {claim['type']} · {claim['reason']}  "
        f"[bold]{claim['status']}[/bold]" + (f" / {claim['outcome']}" if claim["outcome"] else ""),
        highlight=False,
    )
    out.print(
        f"order {claim['order_id']} line {claim['line_id']} × {claim['quantity']} "
        f"· buyer {claim['buyer_id']} "
        f"· merchant {claim['merchant_id']} · ¥{claim['amount']} · escalation {claim['escalation_level']} "
        f"· v{claim['version']} · policy {claim['policy_version']}",
        highlight=False,
    )
    timeline = _table("Timeline", "at", "who", "action", "from → to", "note")
    for entry in detail["timeline"]:
        who = f"{entry['actor']['role']} {entry['actor']['id']}"
        timeline.add_row(
            _short(entry["at"]),
            who,
            entry["action"],
            f"{entry['from'] or '-'} → {entry['to']}",
            entry["note"] or "",
        )
    out.print(timeline)
    deadlines = _table("Deadlines", "deadline", "owner", "due", "on expiry", "penalty", "calendar", "state")
    for d in detail["deadlines"]:
        state = "open" if d["open"] else f"met {_short(d['met_at'])}"
        deadlines.add_row(
            d["kind"],
            d["owner"],
            _short(d["due_at"]),
            d["on_expiry"],
            "yes" if d["penalty"] else "",
            _calendar_cell(d["calendar"]),
            state,
        )
    out.print(deadlines if detail["deadlines"] else "[dim]no deadlines[/dim]")
    penalties = detail["penalties"]
    if penalties["days"]:
        table = _table(f"Penalties: ¥{penalties['total']}", "deadline", "day", "amount (¥)", "accrued")
        for day in penalties["days"]:
            table.add_row(day["deadline"], str(day["day"]), day["amount"], _short(day["at"]))
        out.print(table)
    else:
        out.print("penalties: none")
    if detail.get("parcels"):
        parcels = _table(
            "Parcel track", "at", "leg", "carrier", "waybill", "status", "applied", "moved the claim"
        )
        for p in detail["parcels"]:
            parcels.add_row(
                _short(p["at"]),
                p["leg"],
                p["carrier"],
                p["waybill"],
                p["status"],
                "yes"
                if p["advanced"]
                else ("alert" if p["status"] == "exception" else "late: recorded only"),
                ", ".join(p["actions"]),
            )
        out.print(parcels)
    run = detail["execution"]
    if run is None:
        out.print("[yellow]no workflow run for this claim[/yellow]")
        return
    history = _table(
        f"Workflow run: {run['status']} (started {_short(run['started_at'])})",
        "#",
        "at",
        "event",
        "state",
        "error",
    )
    for event in run["events"]:
        history.add_row(
            str(event["id"]),
            _short(event["at"]),
            event["type"] or "",
            event["state"] or "",
            event["error"] or "",
        )
    out.print(history)


def _calendar_cell(calendar: dict[str, Any] | None) -> str:
    """``library`` / ``file`` as is; a provisional or Monday-Friday count stands out."""
    if calendar is None:
        return "clock"
    return calendar["layer"] if calendar["official"] else f"[yellow]{calendar['layer']}[/yellow]"


@ops_app.command("overdue")
def overdue_command(
    limit: Annotated[int, typer.Option(help="At most this many deadlines.", min=1, max=1000)] = 50,
    at: Annotated[
        str | None, typer.Option("--at", help="Overdue at this ISO instant (default: the stack's now).")
    ] = None,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Open deadlines past due, earliest first (read from the due index, never a scan)."""
    from aftersales.clock import parse_instant

    try:
        now = parse_instant(at) if at else None
    except ValueError:
        _fail(f"--at: not an ISO instant: {at!r} (e.g. 2026-11-20T10:00:00Z)", 2)
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = gather_overdue(target, limit=limit, now=now)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    rows = result["overdue"]
    table = _table(
        f"Overdue at {_short(result['now'])}: {len(rows)} (* accrues a penalty)",
        "claim",
        "deadline",
        "owner",
        "overdue",
        "on expiry",
        "calendar",
        "status",
    )
    table.columns[0].no_wrap = True
    for r in rows:
        table.add_row(
            r["claim_id"],
            r["deadline"] + (" *" if r["penalty"] else ""),
            r["owner"],
            f"{r['overdue_hours']} h",
            r["on_expiry"],
            _calendar_cell(r["calendar"]),
            r["status"] or "?",
        )
    Console().print(table if rows else f"nothing overdue at {result['now']}", highlight=False)


@ops_app.command("policy")
def policy_command(
    layer: Annotated[
        str | None,
        typer.Option("--layer", help="One layer's versions: platform, category:<category>, merchant:<id>."),
    ] = None,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help="The policy this merchant's new claims get.")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="With --merchant: for a line of this category.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.", min=1, max=1000)] = 50,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Policy layers and their versions (who saved each, when, why), or a merchant's effective policy."""
    if category and not merchant:
        _fail("--category needs --merchant", 2)
    target = _target(state_dir, endpoint_url, stack, region)
    try:
        with _aws_errors():
            result = gather_policy(target, layer=layer, merchant=merchant, category=category, limit=limit)
    except ValueError as exc:
        _fail(str(exc), 2)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    if merchant:
        _print_effective(result)
        return
    rows = result.get("versions", result.get("layers", []))
    title = f"Versions of {layer}, newest first" if layer else "Policy layers (newest version of each)"
    table = _table(title, "layer", "version", "saved by", "saved at", "sets", "note")
    for row in rows:
        layer_name = row["layer"] + (f":{row['owner']}" if row["owner"] else "")
        sets = ", ".join(_paths(row["sets"])) if row["layer"] != "platform" else "(the whole policy)"
        table.add_row(
            layer_name, str(row["version"]), row["saved_by"], _short(row["saved_at"]), sets, row["note"]
        )
    empty = "no policy layer saved yet: the first claim or policy read seeds the platform from default.yaml"
    Console().print(table if rows else empty, highlight=False)


def _paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            found += _paths(value, f"{prefix}{key}.")
        else:
            found.append(f"{prefix}{key}={json.dumps(value, ensure_ascii=False)}")
    return found


def _print_effective(result: dict[str, Any]) -> None:
    effective = result["effective"]
    if effective is None:
        Console().print("no policy layer saved yet: new claims get default.yaml (platform v1)")
        return
    table = _table(f"Policy {effective['version']} for merchant {result['merchant_id']}", "value", "set by")
    for path, ref in effective["set_by"].items():
        value: Any = effective["policy"]
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        owner = f":{ref['owner']}" if ref["owner"] else ""
        table.add_row(
            f"{path} = {json.dumps(value, ensure_ascii=False)}", f"{ref['layer']}{owner} v{ref['version']}"
        )
    Console().print(table, highlight=False)


@ops_app.command("executions")
def executions_command(
    status: Annotated[
        str | None, typer.Option(help=f"Only runs in this status: {', '.join(EXECUTION_STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.", min=1, max=1000)] = 50,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Runs of the claim workflow (one per claim, named after it), newest first."""
    if status is not None and status.upper() not in EXECUTION_STATUSES:
        _fail(f"--status must be one of {', '.join(EXECUTION_STATUSES)}", 2)
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = gather_executions(target, status=status.upper() if status else None, limit=limit)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    rows = result["executions"]
    which = f"{status.upper()} " if status else ""
    title = f"{len(rows)} {which}runs of {target.state_machine_arn.rsplit(':', 1)[-1]}"
    table = _table(title, "claim", "status", "started", "stopped")
    for r in rows:
        table.add_row(r["claim_id"], r["status"], _short(r["started_at"]), _short(r["stopped_at"]))
    Console().print(table, highlight=False)


@dlq_app.command("redrive")
def dlq_redrive_command(
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Move the messages of every dead-letter queue of the stack back to their source queue."""
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = redrive_dlqs(target)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    out = Console()
    if not result["dlqs"]:
        out.print(f"stack {target.stack_name} has no dead-letter queues: nothing to redrive")
        return
    table = _table("Dead letters", "queue", "messages", "moved", "left", "back to")
    for r in result["dlqs"]:
        moved = "move task " + str(r["task"]) if r["task"] else str(r["moved"])
        left = "" if r["left"] is None else str(r["left"])
        table.add_row(
            r["queue"], str(r["messages"]), moved, left, ", ".join(u.rsplit("/", 1)[-1] for u in r["sources"])
        )
    out.print(table, highlight=False)


@ops_app.command("merchant")
def merchant_command(
    merchant_id: Annotated[str, typer.Argument(help="The merchant id.")],
    first: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: 30 days before --to).")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today).")] = None,
    products: Annotated[int, typer.Option("--products", min=0, max=100, help="Products to list.")] = 10,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Show a merchant's scorecard (Shanghai days) and its 金牌售后 badge."""
    from aftersales.domain.errors import DomainError

    days = _day(first, "--from"), _day(last, "--to")  # a bad day is refused before any AWS call
    target = _target(state_dir, endpoint_url, stack, region)
    try:
        with _aws_errors():
            card = gather_scorecard(target, merchant_id, *days, products=products)
    except DomainError as exc:
        _fail(f"{exc.message} ({exc.code})")
    if as_json:
        _print_json({"target": target.describe(), **card})
        return
    _print_scorecard(Console(), card)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} must be a day, YYYY-MM-DD (got {value!r})", code=2)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def duration_text(seconds: int | None) -> str:
    """A histogram bound (seconds) for people: ``≤ 5 min``, ``≤ 2 h``, ``≤ 3 d``."""
    if seconds is None:
        return "-"
    hours = seconds / 3600
    return (
        f"≤ {seconds // 60} min" if hours < 1 else f"≤ {hours:g} h" if hours < 48 else f"≤ {hours / 24:g} d"
    )


def _print_scorecard(out: Console, card: dict[str, Any]) -> None:
    period, badge, f = card["period"], card["badge"], card["figures"]
    mark = (
        "[green]held[/green]" if badge["held"] else f"[yellow]not held[/yellow] ({', '.join(badge['unmet'])})"
    )
    out.print(
        f"[bold]{card['merchant_id']}[/bold]  {period['from']} → {period['to']} ({period['days']} days)",
        highlight=False,
    )
    out.print(f"{badge['name']}: {mark}  (window {badge['window']['from']} → {badge['window']['to']})")
    figures = _table("Scorecard", "figure", "value")
    rows = [
        ("claims", str(f["claims"])),
        ("order lines sold", "-" if f["lines_sold"] is None else str(f["lines_sold"])),
        ("after-sales rate", _rate(f["after_sales_rate"])),
        ("refund rate (of closed)", _rate(f["refund_rate"])),
        (
            "first response median / p90",
            f"{duration_text(f['first_response']['median_seconds'])} / "
            f"{duration_text(f['first_response']['p90_seconds'])}  (n={f['first_response']['count']})",
        ),
        (
            "handling median",
            f"{duration_text(f['handling']['median_seconds'])}  (n={f['handling']['count']})",
        ),
        (
            "merchant deadlines on time",
            f"{_rate(f['merchant_on_time']['rate'])}  (n={f['merchant_on_time']['count']})",
        ),
        ("dispute rate", _rate(f["dispute_rate"])),
        ("complaint rate", _rate(f["complaint_rate"])),
        ("penalties paid", f"¥{f['penalties_paid']}"),
    ]
    rows += [
        (f"satisfaction: {dim}", "-" if r["average"] is None else f"{r['average']:.2f} / 5  (n={r['count']})")
        for dim, r in f["satisfaction"].items()
    ]
    for row in rows:
        figures.add_row(*row)
    out.print(figures)
    on_time = _table("On time, per deadline", "deadline", "closed", "late", "on time")
    for kind, row in f["on_time"].items():
        on_time.add_row(kind, str(row["count"]), str(row["late"]), _rate(row["rate"]))
    out.print(on_time if f["on_time"] else "[dim]no deadline closed in the period[/dim]")
    products = _table(
        f"Products ({len(card['products'])} of {card['products_total']})",
        "product",
        "title",
        "claims",
        "lines sold",
        "after-sales rate",
        "returns",
        "first response median",
    )
    for p in card["products"]:
        pf = p["figures"]
        products.add_row(
            p["product"],
            p["title"] or "",
            str(pf["claims"]),
            "-" if pf["lines_sold"] is None else str(pf["lines_sold"]),
            _rate(pf["after_sales_rate"]),
            str(pf["returns"]),
            duration_text(pf["first_response"]["median_seconds"]),
        )
    out.print(products if card["products"] else "[dim]no product activity in the period[/dim]")
