"""Point some generated requests at data that exists, so the fuzzer gets past ``404`` to the rules.

``FUZZ_CLAIM_IDS`` and ``FUZZ_ORDER_ID`` (set by tests/e2e/test_fuzz.py) name seeded claims and an
order. Only values that were already schema-valid are replaced: a negative case stays negative. The
choice hashes the generated value (crc32), so a run with the same seed sends the same requests.
"""

from __future__ import annotations

import os
import re
import zlib
from typing import Any

import schemathesis

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")


def _pick(value: str, choices: list[str]) -> str | None:
    """Two requests in three go to seeded data."""
    digest = zlib.crc32(value.encode("utf-8", "surrogatepass"))
    return choices[digest % len(choices)] if choices and digest % 3 else None


def _valid(value: Any) -> bool:
    return isinstance(value, str) and _ID.match(value) is not None


@schemathesis.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    claims = [c for c in os.environ.get("FUZZ_CLAIM_IDS", "").split(",") if c]
    if (
        path_parameters
        and _valid(path_parameters.get("claim_id"))
        and (chosen := _pick(path_parameters["claim_id"], claims))
    ):
        path_parameters["claim_id"] = chosen
    return path_parameters


@schemathesis.hook
def map_body(context: schemathesis.HookContext, body: Any) -> Any:
    order = os.environ.get("FUZZ_ORDER_ID")
    operation = context.operation
    if (
        order
        and operation is not None
        and (operation.method.upper(), operation.path) == ("POST", "/claims")
        and isinstance(body, dict)
        and _valid(body.get("order_id"))
        and _pick(body["order_id"], [order])
    ):
        body["order_id"] = order
    return body
