"""``python -m bench.run [--quick] [--only NAME]`` (``make bench``): run the benchmark sections and write
bench/results.{md,json}.

Each section is a module of ``bench/`` with ``run(quick) -> dict`` and ``render(dict) -> list[str]``; its
dict carries ``targets`` (what issue 16 asks of it, measured, pass or fail and by how much), summarised
in one table at the top. A full run writes ``bench/results.md`` and ``bench/results.json`` (committed);
``--quick`` (smaller tables) or ``--only`` writes ``bench/results-quick.*`` instead, so a partial check
never replaces the committed figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # before any handler module builds its logger

from bench import api_cost, coldstart, sla_scale, workflow_cost
from bench.harness import REPO_ROOT

BENCH_DIR = Path(__file__).resolve().parent
SECTIONS: dict[str, ModuleType] = {
    "workflow_cost": workflow_cost,
    "sla_scale": sla_scale,
    "api_cost": api_cost,
    "coldstart": coldstart,
}


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.rstrip()

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    dirty = [path for path in changed if not path.startswith("bench/results")]
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "moto": metadata.version("moto"),
        "boto3": metadata.version("boto3"),
        "pynamodb": metadata.version("pynamodb"),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_uncommitted": dirty,
    }


def _targets(results: dict[str, Any]) -> list[str]:
    rows = [(name, t) for name in results["sections"] for t in results[name].get("targets", [])]
    if not rows:
        return []
    lines = [
        "## Targets",
        "",
        "| section | target | goal | measured | result | gap and what would close it |",
        "|---|---|---:|---:|---|---|",
    ]
    for name, t in rows:
        verdict = "pass" if t["pass"] else "**fail**"
        lines.append(f"| {name} | {t['target']} | {t['goal']} | {t['measured']} | {verdict} | {t['gap']} |")
    passed = sum(1 for _, t in rows if t["pass"])
    return [*lines, "", f"{passed} of {len(rows)} targets pass.", ""]


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks" + (" (quick)" if results["quick"] else ""),
        "",
        f"- date: {results['date']}",
        f"- command: `{results['command']}`",
        f"- machine: nproc {m['nproc']}, Python {m['python']}, {m['platform']}; moto {m['moto']}, "
        f"boto3 {m['boto3']}, pynamodb {m['pynamodb']}",
        f"- code: commit {m['git_commit']}"
        + (
            f", with uncommitted changes in {', '.join(m['git_uncommitted'])}" if m["git_uncommitted"] else ""
        ),
        f"- runtime: {results['runtime_seconds']:.0f} s",
        "",
        "Everything runs on moto in one process (shared, noisy machine): counts are exact; times are only",
        "compared as ratios within this run.",
        "",
        *_targets(results),
    ]
    for name in results["sections"]:
        lines += [*SECTIONS[name].render(results[name]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller tables, results-quick.*")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only this section")
    args = parser.parse_args(argv)
    names = args.only or list(SECTIONS)
    partial = args.quick or bool(args.only)

    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "TZ=UTC .venv/bin/python -m bench.run" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
        "quick": args.quick,
        "machine": machine(),
        "sections": names,
    }
    for name in names:
        print(f"{name} ...", flush=True)
        results[name] = SECTIONS[name].run(args.quick)
    results["runtime_seconds"] = round(time.perf_counter() - started, 1)
    stem = "results-quick" if partial else "results"
    markdown = render(results)
    (BENCH_DIR / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (BENCH_DIR / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown)
    print(f"written: bench/{stem}.md, bench/{stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
