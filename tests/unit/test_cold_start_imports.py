"""A handler's import loads only what every invocation needs: the X-Ray SDK, the libraries it would
patch, and the readers of files a process reads at most once are loaded later (bench/coldstart.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HANDLERS = sorted(path.parent.name for path in FUNCTIONS.glob("*/app.py"))
NOT_AT_IMPORT = ("aws_xray_sdk", "requests", "holidays", "yaml")


def _loaded_after_import(handler: str) -> list[str]:
    code = (
        f"import json, sys\nimport {handler}.app\n"
        f"print(json.dumps([m for m in {list(NOT_AT_IMPORT)!r} if m in sys.modules]))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(FUNCTIONS),
        "LAMBDA_TASK_ROOT": str(FUNCTIONS),  # as in Lambda: tracing on
        "AWS_LAMBDA_FUNCTION_NAME": handler,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_a_handler_leaves_the_tracing_sdk_and_file_readers_unloaded(handler: str) -> None:
    assert _loaded_after_import(handler) == []


def test_the_deferred_tracer_builds_powertools_tracer_on_the_first_invocation_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aftersales.observability import DeferredTracer

    tracer = DeferredTracer(service="test", disabled=True)
    calls: list[Any] = []

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        calls.append(event)
        return {"echo": event["n"]}

    assert tracer._tracer is None  # decorating built nothing
    assert handler({"n": 1}, None) == {"echo": 1}
    built = tracer._tracer
    assert built is not None
    assert handler({"n": 2}, None) == {"echo": 2}
    assert tracer._tracer is built
    assert calls == [{"n": 1}, {"n": 2}]
    assert handler.__name__ == "handler"
