"""Cold start: each handler's import time next to ``import boto3``, and the deployment package's size.

Import time is what Python itself reports (``python -X importtime``): the cumulative time of the
top-level imports a fresh process makes for ``import <function>.app``, after a marker written just
before it, so the interpreter's own start-up is left out. Each handler and ``import boto3`` are
measured in alternating fresh processes (median of ``RUNS``), in the environment Lambda gives the
function: ``LAMBDA_TASK_ROOT`` set, the template's variables, tracing on (``Tracing: Active``). The
X-Ray SDK is loaded by the first traced invocation, not at import (``aftersales.observability``): its
import is measured on its own, after boto3, and reported beside the handlers.

The package is what ``make package`` builds (``build/functions``: the code plus the lock's wheels
for the Lambda platform), measured unzipped and as a deflate zip, the way ``sam deploy`` uploads it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.harness import FUNCTIONS_DIR, REPO_ROOT, target

RUNS = 5
QUICK_RUNS = 1  # --quick stays under a minute in total: one process each
MAX_RATIO_TO_BOTO3 = 2.0  # issue 16's target
MARK = "-- measured from here --"
LAMBDA_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
    "TABLE_NAME": "aftersales-claims",
    "IDEMPOTENCY_TABLE_NAME": "aftersales-idempotency",
    "EVIDENCE_BUCKET": "aftersales-evidence",
    "DUE_SHARDS": "16",
    "EVENT_BUS_NAME": "aftersales-events",
    "POWERTOOLS_SERVICE_NAME": "aftersales",
    "POWERTOOLS_METRICS_NAMESPACE": "AfterSales",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "TZ": "UTC",
}


def handlers() -> list[str]:
    return sorted(path.parent.name for path in FUNCTIONS_DIR.glob("*/app.py"))


def import_ms(statement: str, prelude: str = "") -> float:
    """Milliseconds ``statement`` spends importing in a fresh process (after ``prelude``)."""
    code = f"{prelude}\nimport sys\nsys.stderr.write({MARK!r} + '\\n')\n{statement}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
        **LAMBDA_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": statement.split()[-1].split(".")[0],
        "PYTHONPATH": str(FUNCTIONS_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=FUNCTIONS_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.splitlines()
    measured = lines[lines.index(MARK) + 1 :]
    total_us = 0
    for line in measured:
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # top level: no indent
            total_us += int(cumulative)
    return total_us / 1000


def _median_pair(statement: str, runs: int) -> tuple[float, float]:
    """(median ms of ``statement``, median ms of ``import boto3``), alternating processes."""
    own, boto = [], []
    for _ in range(runs):
        own.append(import_ms(statement))
        boto.append(import_ms("import boto3"))
    return statistics.median(own), statistics.median(boto)


def package_size() -> dict[str, Any]:
    built = REPO_ROOT / "build" / "functions"
    if not built.is_dir():
        return {"measured": False, "why": "build/functions missing: run `make package` first"}
    files = [path for path in built.rglob("*") if path.is_file()]
    unzipped = sum(path.stat().st_size for path in files)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "functions.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, path.relative_to(built))
        zipped = archive.stat().st_size
    return {"measured": True, "files": len(files), "unzipped_bytes": unzipped, "zipped_bytes": zipped}


def run(quick: bool = False) -> dict[str, Any]:
    runs = QUICK_RUNS if quick else RUNS
    rows: list[dict[str, Any]] = []
    for name in handlers():
        own, boto = _median_pair(f"import {name}.app", runs)
        rows.append(
            {
                "handler": name,
                "import_ms": round(own, 1),
                "boto3_ms": round(boto, 1),
                "ratio_to_boto3": round(own / boto, 2),
            }
        )
    xray = statistics.median(
        import_ms("import aws_xray_sdk.core", prelude="import boto3") for _ in range(runs)
    )
    return {
        "runs": runs,
        "handlers": rows,
        "xray_sdk_after_boto3_ms": round(xray, 1),
        "package": package_size(),
        "targets": targets(rows),
    }


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    worst = max(rows, key=lambda row: row["ratio_to_boto3"])
    over = worst["ratio_to_boto3"] - MAX_RATIO_TO_BOTO3
    failing = ", ".join(r["handler"] for r in rows if r["ratio_to_boto3"] > MAX_RATIO_TO_BOTO3)
    return [
        target(
            "every handler's import time / `import boto3`",
            f"<= {MAX_RATIO_TO_BOTO3:g}×",
            f"{worst['ratio_to_boto3']:.2f}× (worst: {worst['handler']})",
            over <= 0,
            f"{over:.2f}× over ({failing}). What they still import is on every request's path: the "
            "claim service and its domain, pydantic, and Powertools' event handler with its OpenAPI "
            "validation (the API functions) or its batch utilities and asyncio (the SQS consumers). "
            "Closing it needs fewer modules per function: a code directory per function holding only "
            "its own routes, models and use cases, instead of the one package every function shares",
        )
    ]


def render(section: dict[str, Any]) -> list[str]:
    lines = [
        "## Cold start: import time per handler",
        "",
        f"Median of {section['runs']} fresh processes each (`python -X importtime`, cumulative time of",
        "the imports `import <function>.app` makes), alternating with `import boto3` in fresh processes",
        "of the same run; Lambda's environment (tracing on). Ratios are what carries over.",
        "",
        "| handler | import ms | `import boto3` ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    for row in section["handlers"]:
        own, boto3, ratio = row["import_ms"], row["boto3_ms"], row["ratio_to_boto3"]
        lines.append(f"| {row['handler']} | {own:.0f} | {boto3:.0f} | {ratio:.2f}× |")
    boto = statistics.median(row["boto3_ms"] for row in section["handlers"])
    lines += [
        "",
        f"The X-Ray SDK (`aws_xray_sdk.core`, after boto3) takes {section['xray_sdk_after_boto3_ms']:.0f} ms "
        f"({section['xray_sdk_after_boto3_ms'] / boto:.2f}× `import boto3`). It is loaded by the first",
        "traced invocation rather than at import, and never where tracing is off (locally, in tests).",
        "",
    ]
    package = section["package"]
    if package["measured"]:
        lines.append(
            f"Deployment package (`build/functions`, one for every function): {package['files']:,} files, "
            f"{package['unzipped_bytes'] / 2**20:.1f} MB unzipped (Lambda's limit: 250 MB), "
            f"{package['zipped_bytes'] / 2**20:.1f} MB zipped."
        )
    else:
        lines.append(f"Deployment package: not measured ({package['why']}).")
    return lines
