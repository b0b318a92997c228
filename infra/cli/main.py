"""``aftersales``: run the service locally, mint local tokens, demo it, operate it."""

from __future__ import annotations

import enum
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.cli.ops import ops_app
from infra.local import demo, tokens
from infra.local.stack import (
    DEFAULT_API_PORT,
    DEFAULT_MOTO_PORT,
    DEFAULT_TEMPLATE,
    LocalStack,
    PortInUse,
    parse_duration,
)
from infra.local.stack_info import RemoteStack, StackError

app = typer.Typer(help="After-sales claims service: local stack, demo and ops tools.", no_args_is_help=True)
local_app = typer.Typer(
    help="Run the whole service on this machine (moto, no AWS account).", no_args_is_help=True
)
app.add_typer(local_app, name="local")
app.add_typer(ops_app, name="ops")

# Notes go to stderr so that stdout carries only what a script captures (a token, JSON).
err = Console(stderr=True)


class ClockMode(enum.StrEnum):
    manual = "manual"
    real = "real"


class Role(enum.StrEnum):
    buyer = "buyer"
    merchant = "merchant"
    ops = "ops"


@local_app.command("token")
def local_token(
    role: Annotated[Role, typer.Option(help="Who the token speaks for.", case_sensitive=False)],
    sub: Annotated[str, typer.Option(help="The user id (the token's subject).")],
    merchant_id: Annotated[
        str | None, typer.Option("--merchant-id", help="The merchant the user acts for (merchant role).")
    ] = None,
    ttl: Annotated[
        int, typer.Option(help="Seconds the token stays valid.", min=1)
    ] = tokens.DEFAULT_TTL_SECONDS,
    key: Annotated[
        Path | None,
        typer.Option(help="Signing key file (default: $AFTERSALES_JWT_KEY or .local-stack/jwt-key.pem)."),
    ] = None,
) -> None:
    """Print a bearer token the local gateway accepts."""
    try:
        token = tokens.mint(role.value, sub, merchant_id, ttl, key_file=key)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    sys.stdout.write(token + "\n")
    expires = datetime.fromtimestamp(tokens.verify(token, key_file=key)["exp"], UTC)
    who = f"{role.value} {sub}" + (f" (merchant {merchant_id})" if merchant_id else "")
    err.print(f"[green]token for {who}[/green], expires {expires:%Y-%m-%dT%H:%M:%SZ}", highlight=False)


def _stack_or_exit(state_dir: Path | None) -> RemoteStack:
    try:
        return RemoteStack.find(state_dir)
    except StackError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


StateDir = Annotated[
    Path | None, typer.Option("--state-dir", help="Where the running stack keeps stack.json and its clock.")
]


@local_app.command("up")
def local_up(
    port: Annotated[int, typer.Option(help="HTTP API port (0: any free port).")] = DEFAULT_API_PORT,
    moto_port: Annotated[int, typer.Option(help="moto (AWS endpoint) port (0: any).")] = DEFAULT_MOTO_PORT,
    clock: Annotated[ClockMode, typer.Option(help="manual: time moves only on `local advance`.")] = (
        ClockMode.manual
    ),
    tick_every: Annotated[
        float | None, typer.Option(help="Seconds between scheduled runs (real clock; default: the schedule).")
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show the handlers' logs.")] = False,
    template: Annotated[Path, typer.Option(help="The SAM template.")] = DEFAULT_TEMPLATE,
    state_dir: StateDir = None,
) -> None:
    """Start moto, create the stack from template.yaml and serve the HTTP API on 127.0.0.1:3000."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    stack = LocalStack(
        template,
        api_port=port,
        moto_port=moto_port,
        clock=clock.value,
        state_dir=state_dir,
        tick_every=tick_every,
        handler_log_level="INFO" if verbose else "WARNING",
    )
    stopping = threading.Event()
    # SIGTERM (docker stop, kill) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with err.status("starting moto and creating the stack from template.yaml…"):
            stack.start()
    except PortInUse as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        stack.stop()
        raise typer.Exit(130) from None
    try:
        _print_started(stack)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        err.print("stopping…")
        stack.stop()
        err.print("[green]stopped[/green]")


def _print_started(stack: LocalStack) -> None:
    info = stack.info()
    out = Console()
    out.print(f"[bold green]aftersales is running[/bold green] at [bold]{info.api_url}[/bold]")
    out.print(f"AWS endpoint (moto): {info.endpoint_url}   stack: {info.stack_name}")
    clock_note = (
        f"manual, now {stack.now():%Y-%m-%d %H:%M:%SZ} — move it with `aftersales local advance 3d`"
        if info.clock == "manual"
        else "real; scheduled functions run on their schedule"
    )
    out.print(f"clock: {clock_note}")
    table = Table("route", "function", "auth", box=None, header_style="bold")
    assert stack.app is not None
    for route in stack.app.routes:
        table.add_row(route.route_key, route.function, "JWT" if route.auth_required else "none")
    out.print(table)
    out.print(
        "Try it:\n"
        "  aftersales local seed\n"
        "  TOKEN=$(aftersales local token --role buyer --sub demo-buyer)\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {info.api_url}/claims\n'
        "  make demo        # in another terminal: every story, end to end\n"
        "Ctrl-C stops everything."
    )


@local_app.command("advance")
def local_advance(
    duration: Annotated[str, typer.Argument(help="How far to move the clock: 3d, 12h, 90m, 1d12h.")],
    state_dir: StateDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Move the running stack's manual clock forward, then run sla_tick once."""
    try:
        delta = parse_duration(duration)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    stack = _stack_or_exit(state_dir)
    try:
        results = stack.advance(delta)
    except StackError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    now = stack.now()
    if as_json:
        ticks = [{"function": r.function, "result": r.result} for r in results]
        payload = {"now": iso_z(now), "ticks": ticks}
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    Console().print(f"clock moved {duration} → [bold]{now:%Y-%m-%d %H:%M:%SZ}[/bold]")
    if not results:
        err.print("[yellow]the template schedules no function: nothing ran[/yellow]")
    for r in results:
        Console().print(f"{r.function}: {json.dumps(r.result)}")


carrier_app = typer.Typer(
    help="Play a carrier: signed webhook deliveries to the local stack.", no_args_is_help=True
)
local_app.add_typer(carrier_app, name="carrier")


class ParcelStatusOption(enum.StrEnum):
    picked_up = "picked_up"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"
    returned_to_sender = "returned_to_sender"


@carrier_app.command("push")
def carrier_push(
    carrier: Annotated[
        str, typer.Option(help="The webhook: kuaidi100, aftership, or a carrier on our format (sf, yto, jd).")
    ],
    waybill: Annotated[str, typer.Option(help="The parcel's waybill number.")],
    status: Annotated[ParcelStatusOption, typer.Option(help="What happened to the parcel.")],
    courier: Annotated[
        str, typer.Option(help="The courier an aggregator reports (kuaidi100, aftership).")
    ] = "sf",
    reference: Annotated[
        str | None,
        typer.Option(
            help="Our format: the claim id on the return label (picked up before the waybill is known)."
        ),
    ] = None,
    ago: Annotated[str, typer.Option(help="How long ago it happened (stack time): 0s, 2h, 1d.")] = "0s",
    state_dir: StateDir = None,
) -> None:
    """Sign and post a real-shaped delivery, as the carrier would; prints the webhook's answer."""
    from infra.local import carriers

    stack = _stack_or_exit(state_dir)
    code, answer = carriers.push(
        stack,
        carrier,
        waybill=waybill,
        status=status.value,
        ago=parse_duration(ago),
        courier=courier,
        reference=reference,
    )
    Console().print(f"{code} {json.dumps(answer, ensure_ascii=False)}", highlight=False)
    raise typer.Exit(0 if code == 202 else 1)


@local_app.command("seed")
def local_seed(
    state_dir: StateDir = None,
    buyer: Annotated[str, typer.Option(help="The buyer the demo orders belong to.")] = demo.BUYER[1],
) -> None:
    """Import demo orders (delivered yesterday) into the running local stack, as ops would."""
    stack = _stack_or_exit(state_dir)
    api = demo.ApiClient(stack.api_url)
    table = Table("order", "buyer", "merchant", "lines", box=None, header_style="bold")
    for n in (1, 2, 3):
        order_id = f"ord-demo-{n}"
        reply = demo.seed_order(api, order_id, stack.now(), buyer)
        if reply.status != 200:
            err.print(f"[red]importing {order_id} failed:[/red] HTTP {reply.status} {reply.body}")
            raise typer.Exit(1)
        table.add_row(order_id, buyer, str(demo.MERCHANT[2]), "L1 wool coat 129.90 · L2 kettle 89.00")
    Console().print(table)
    Console().print(
        "Submit a claim:\n"
        f"  TOKEN=$(aftersales local token --role buyer --sub {buyer})\n"
        f'  curl -X POST {stack.api_url}/claims -H "Authorization: Bearer $TOKEN" '
        '-H "Idempotency-Key: try-0001" \\\n'
        '       -d \'{"order_id": "ord-demo-1", "line_id": "L1", "quantity": 1, '
        '"type": "return_refund", "reason": "no_reason"}\''
    )


@app.command("demo")
def demo_command(
    story: Annotated[
        list[str] | None, typer.Option(help=f"Only these stories: {', '.join(s.key for s in demo.STORIES)}.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Play every story against the running local stack (or a private one it starts); exit 0 if all pass."""
    chosen = [s for s in demo.STORIES if not story or s.key in story]
    if story and len(chosen) != len(set(story)):
        err.print(f"[red]unknown story[/red]; choose from {', '.join(s.key for s in demo.STORIES)}")
        raise typer.Exit(2)
    out = Console()
    own: LocalStack | None = None
    try:
        stack: LocalStack | RemoteStack = RemoteStack.find(state_dir)
        if stack.info().clock != "manual":
            raise StackError("the running stack uses the real clock")
        out.print(f"playing against the running stack at {stack.api_url}")
    except StackError as why:
        out.print(f"[dim]{why}: starting a private stack on free ports[/dim]")
        own = LocalStack(api_port=0, moto_port=0, publish=False, state_dir=_private_state_dir())
        with err.status("starting a local stack…"):
            own.start()
        stack = own
    try:
        api = demo.ApiClient(stack.api_url)
        results = demo.run(api, stack, chosen, on_result=lambda r: out.print(demo.render(r)))
    finally:
        if own is not None:
            own.stop()
    passed = sum(r.ok for r in results)
    style = "green" if passed == len(results) else "red"
    out.print(f"[bold {style}]{passed} of {len(results)} stories ended as expected[/bold {style}]")
    raise typer.Exit(0 if passed == len(results) else 1)


def _private_state_dir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="aftersales-demo-"))


def iso_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    app()
