"""A bounded schemathesis pass (every check) against the local stack, as buyer, merchant and ops.

Each role runs, on its own routes, the coverage phase (boundary and negative values, missing headers,
other methods) and the fuzzing phase; a fixed seed and example budget keep it deterministic and
around a minute in all (the refusal of other roles' routes is tested in tests/integration). Any 5xx,
schema violation, undocumented status or missing 405 fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from infra.local import demo
from infra.local.demo import BUYER, MERCHANT, OPS, ApiClient
from infra.local.stack import LocalStack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
FUZZ_EXAMPLES = 10

# The routes each role works on.
OWN_ROUTES = {
    "buyer": r"^/claims(/\{claim_id\}(/(shipment|cancel|accept|dispute|received|rating|evidence))?)?$",
    "merchant": r"^/(merchant/claims|merchant/policy(/versions(/\{version\})?)?|claims/\{claim_id\}/"
    r"(decision|return-received|inspection|repair|replacement|extension))$",
    "ops": r"^/(ops/.*|openapi\.json|claims/\{claim_id\}/(escalate|ruling|resume))$",
}
WHO = {"buyer": BUYER, "merchant": MERCHANT, "ops": OPS}


@pytest.fixture(scope="module")
def seeded(stack: LocalStack) -> dict[str, str]:
    """An order of the demo buyer and merchant, and two claims on it."""
    api = ApiClient(stack.api_url)
    order_id = f"ord-fuzz-{uuid.uuid4().hex[:6]}"
    assert demo.seed_order(api, order_id, stack.now()).status == 200
    claims = []
    for line, reason in (("L1", "no_reason"), ("L2", "quality_defect")):
        reply = api.call(
            "POST",
            "/claims",
            {"order_id": order_id, "line_id": line, "quantity": 1, "type": "return_refund", "reason": reason},
            who=BUYER,
            headers={"idempotency-key": f"fuzz-{uuid.uuid4().hex}"},
        )
        assert reply.status == 201, reply.body
        claims.append(reply.body["claim_id"])
    return {"FUZZ_ORDER_ID": order_id, "FUZZ_CLAIM_IDS": ",".join(claims)}


def _run(stack: LocalStack, token: str, env: dict[str, str], *args: str) -> str:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack.api_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        *args,
    ]
    done = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    print(output)  # shown with -s, or on failure
    assert done.returncode == 0, output
    return output


@pytest.mark.parametrize("role", ["buyer", "merchant", "ops"])
def test_the_api_holds_under_fuzzing(stack: LocalStack, seeded: dict[str, str], role: str) -> None:
    token = ApiClient(stack.api_url).token(WHO[role])
    output = _run(
        stack,
        token,
        seeded,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--include-path-regex",
        OWN_ROUTES[role],
    )
    found = re.search(r"(\d+) generated, (\d+) passed", output)
    assert found is not None, output
    generated, passed = map(int, found.groups())
    assert generated == passed > 0, output
