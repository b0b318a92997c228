"""``aftersales``: run the service locally, mint local tokens, demo it, operate it."""

from __future__ import annotations

import enum
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infra.local import tokens

app = typer.Typer(help="After-sales claims service: local stack, demo and ops tools.", no_args_is_help=True)
local_app = typer.Typer(
    help="Run the whole service on this machine (moto, no AWS account).", no_args_is_help=True
)
ops_app = typer.Typer(
    help="Inspect claims and executions, redrive dead letters, read scorecards.", no_args_is_help=True
)
app.add_typer(local_app, name="local")
app.add_typer(ops_app, name="ops")

# Notes go to stderr so that stdout carries only what a script captures (a token, JSON).
err = Console(stderr=True)

NOT_AVAILABLE_EXIT = 2
_LOOSE = {"allow_extra_args": True, "ignore_unknown_options": True}


class Role(enum.StrEnum):
    buyer = "buyer"
    merchant = "merchant"
    ops = "ops"


def _not_available(what: str) -> None:
    err.print(f"[yellow]not available yet:[/yellow] {what}")
    raise typer.Exit(NOT_AVAILABLE_EXIT)


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


@local_app.command("up", context_settings=_LOOSE)
def local_up() -> None:
    """Start moto, create the stack from template.yaml and serve the HTTP API on 127.0.0.1:3000."""
    _not_available("local up (the local stack builder is not wired in yet)")


@local_app.command("seed", context_settings=_LOOSE)
def local_seed() -> None:
    """Load demo orders into the running local stack."""
    _not_available("local seed (needs the running local stack)")


@local_app.command("advance", context_settings=_LOOSE)
def local_advance() -> None:
    """Move the local clock forward so deadlines fall due."""
    _not_available("local advance (needs the local stack's controllable clock)")


@app.command("demo", context_settings=_LOOSE)
def demo() -> None:
    """Walk one claim from submission to refund against the local stack."""
    _not_available("demo (needs the running local stack)")


@ops_app.command("claim", context_settings=_LOOSE)
def ops_claim() -> None:
    """Show a claim, its timeline and its Step Functions execution."""
    _not_available("ops claim (needs the claim store)")


@ops_app.command("redrive", context_settings=_LOOSE)
def ops_redrive() -> None:
    """Move dead letters back to their queue."""
    _not_available("ops redrive (needs the queues)")


@ops_app.command("scorecard", context_settings=_LOOSE)
def ops_scorecard() -> None:
    """A merchant's after-sales scorecard."""
    _not_available("ops scorecard (needs the merchant statistics)")


if __name__ == "__main__":
    app()
