"""What both benchmarks share: a private AWS environment (moto) and the service table."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO_ROOT / "functions"
if str(FUNCTIONS_DIR) not in sys.path:  # the handlers' packages (review.app, ...), as pytest's pythonpath
    sys.path.insert(0, str(FUNCTIONS_DIR))

from aftersales.process import reset_process_state  # noqa: E402  (after the path above)

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "aftersales-bench",
    "IDEMPOTENCY_TABLE_NAME": "aftersales-idempotency-bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "AfterSalesBench",
    "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF lines on the console
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# Unset so that the service's own defaults apply (DUE_SHARDS: 16, as deployed) and nothing leaks in.
UNSET = (
    "STATE_MACHINE_ARN",
    "EVENT_BUS_NAME",
    "DUE_SHARDS",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "MOTO_PORT",
)


@contextmanager
def environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set the bench environment (restored on exit), with a clock file the handlers read."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="aftersales-bench-") as tmp:
        for name in UNSET:
            os.environ.pop(name, None)
        os.environ.update(ENV)
        os.environ["AFTERSALES_CLOCK_FILE"] = str(Path(tmp) / "clock")
        os.environ.update(extra or {})
        reset_process_state()
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            reset_process_state()


def set_clock(at: datetime) -> None:
    Path(os.environ["AFTERSALES_CLOCK_FILE"]).write_text(at.isoformat().replace("+00:00", "Z"))


@contextmanager
def aws(config: Any = None) -> Iterator[None]:
    """moto, with the service table created from the pynamodb models (what the template declares)."""
    with mock_aws(config=config):
        from aftersales.store import default_repository

        reset_process_state()
        default_repository().create_table()  # the table named by TABLE_NAME
        yield


def target(name: str, goal: str, measured: str, met: bool, gap: str) -> dict[str, Any]:
    """A row of the results' targets table (``bench/run.py``): the gap is shown only when missed."""
    return {"target": name, "goal": goal, "measured": measured, "pass": met, "gap": "" if met else gap}
