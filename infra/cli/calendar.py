"""``aftersales ops calendar``: check a year's calendar file (aftersales/calendars) before it ships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from aftersales.domain.calendar import CALENDAR_DIR, library_year
from aftersales.domain.calendar_file import CalendarFileError, load_calendar_file
from rich.console import Console
from rich.table import Table

calendar_app = typer.Typer(help="Calendar files: one year's holiday notice each.", no_args_is_help=True)


@calendar_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="The file, e.g. functions/aftersales/calendars/2027.yaml.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")] = False,
) -> None:
    """Check a calendar file and print its days off and make-up working days to compare with the notice.

    Exits 1 listing every problem; 2 when the file cannot be read.
    """
    if not file.is_file():
        Console(stderr=True).print(f"[red]no such file: {file}[/red]")
        raise typer.Exit(2)
    expected = int(file.stem) if file.stem.isdigit() else None
    try:
        year = load_calendar_file(file, expected_year=expected)
    except CalendarFileError as exc:
        if as_json:
            print(
                json.dumps({"file": str(file), "valid": False, "problems": exc.problems}, ensure_ascii=False)
            )
        else:
            err = Console(stderr=True)
            err.print(f"[red]{file}: {exc.message}[/red]")
            for problem in exc.problems:
                err.print(f"  - {problem}")
        raise typer.Exit(1) from exc
    shadowed = library_year(year.year) is not None
    summary = {
        "file": str(file),
        "valid": True,
        "year": year.year,
        "source": year.source,
        "days_off": sorted(d.isoformat() for d in year.days_off),
        "working_days": sorted(d.isoformat() for d in year.working_days),
        # The library is consulted first: a file for a year it already knows is never used.
        "library_has_year": shadowed,
        "in_calendar_dir": file.resolve().parent == CALENDAR_DIR,
    }
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    out = Console()
    out.print(f"[green]{file}: valid[/green] — {year.year}, {year.source}")
    table = Table("date", "weekday", "kind")
    rows = [(d, "day off") for d in year.days_off] + [(d, "make-up working day") for d in year.working_days]
    for day, kind in sorted(rows):
        table.add_row(day.isoformat(), f"{day:%a}", kind)
    out.print(table)
    out.print(f"{len(year.days_off)} days off, {len(year.working_days)} make-up working days")
    if shadowed:
        out.print(
            f"[yellow]chinesecalendar already knows {year.year}: its data is used, not this file[/yellow]"
        )
