"""Settings for the whole test run."""

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest

from infra.deploy.permissions import unlisted_calls
from infra.deploy.trace import tracing
from infra.local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"

# moto gives every test fresh AWS state, so every test builds new botocore sessions, and each new
# session parsed the same service-model JSON again (most of a test's setup time). The models are
# read-only data: one loader per search path serves the whole run.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)


@pytest.fixture(scope="session", autouse=True)
def aws_calls_within_policy() -> Iterator[None]:
    """Every AWS call a handler makes in any test must be one its function's policy is built for
    (``infra/deploy/permissions.py``, compared with the template by ``make deploy-check``).
    ``AFTERSALES_CALL_TRACE=<path>`` also writes what was seen, per handler."""
    with tracing() as trace:
        yield
    dump = os.environ.get("AFTERSALES_CALL_TRACE")
    if dump:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(f"{dump}.{worker}.json").write_text(json.dumps({h: sorted(c) for h, c in trace.calls.items()}))
    unlisted = unlisted_calls(trace.calls, load_template(TEMPLATE))
    assert not unlisted, "handlers called AWS beyond infra/deploy/permissions.py CALLS: " + "; ".join(
        unlisted
    )
