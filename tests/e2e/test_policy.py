"""Policy layers over HTTP against the local stack: concurrent saves of one merchant's layer all land,
a claim records the versions it opened under, and ``aftersales ops policy`` shows them."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli.main import app
from infra.local.demo import OPS, ApiClient, Reply
from infra.local.stack import LocalStack
from tests.support.local_stack import opened_return

pytestmark = pytest.mark.e2e


def _patches(platform: dict[str, Any]) -> list[dict[str, Any]]:
    """Eight saves, each of another value, all more generous than the platform layer as it is now
    (other tests of the stack may have saved it): none may be lost."""
    return [
        {"no_reason_return_days": platform["no_reason_return_days"] + 3},
        {"quality_window_days": platform["quality_window_days"] + 5},
        {"max_claims_per_line": platform["max_claims_per_line"] + 1},
        {"warranty": {"unit_months": platform["warranty"]["unit_months"] + 6}},
        {"penalty": {"rate_basis_points_per_day": platform["penalty"]["rate_basis_points_per_day"] + 10}},
        {"auto_approve_below_fen": platform["auto_approve_below_fen"] + 1000},
        {"return_address": "杭州市余杭区 仓库 7 号"},
        {
            "deadlines": {
                "return_shipment": {"amount": platform["deadlines"]["return_shipment"]["amount"] + 2}
            }
        },
    ]


def _save(api: ApiClient, who: tuple[str, str, str | None], patch: dict[str, Any], n: int) -> Reply:
    return api.call(
        "PUT",
        "/merchant/policy",
        {"policy": patch, "note": f"save {n}"},
        who=who,
        headers={"idempotency-key": f"policy-{uuid.uuid4().hex}"},
    )


def _sets(patch: dict[str, Any], sets: dict[str, Any]) -> bool:
    return all(
        _sets(value, sets.get(key, {})) if isinstance(value, dict) else sets.get(key) == value
        for key, value in patch.items()
    )


def test_concurrent_saves_all_land_and_a_new_claim_gets_them(stack: LocalStack, api: ApiClient) -> None:
    merchant_id = f"m-pol-{uuid.uuid4().hex[:8]}"
    staff = ("merchant", "staff-pol", merchant_id)
    platform = api.call("GET", "/ops/policy/platform", who=OPS).body["policy"]
    patches = _patches(platform)
    with ThreadPoolExecutor(len(patches)) as pool:
        replies = list(pool.map(lambda n: _save(api, staff, patches[n], n), range(len(patches))))
    assert [r.status for r in replies] == [200] * len(patches), [r.body for r in replies]
    assert sorted(r.body["version"] for r in replies) == list(range(1, len(patches) + 1))

    page = api.call("GET", "/merchant/policy/versions?limit=100", who=staff).body
    newest = page["versions"][0]
    assert newest["version"] == len(patches)
    assert all(_sets(patch, newest["sets"]) for patch in patches), newest["sets"]  # nothing lost
    assert api.call("GET", "/merchant/policy/versions/1", who=staff).status == 200

    claim = opened_return(stack, api, merchant=merchant_id)
    merchant_ref = claim["policy_layers"][-1]
    assert (merchant_ref["layer"], merchant_ref["owner"]) == ("merchant", merchant_id)
    assert merchant_ref["version"] == len(patches)
    as_merchant = api.call("GET", f"/claims/{claim['claim_id']}", who=staff).body["claim"]
    assert as_merchant["policy_layers"][-1]["href"] == f"/merchant/policy/versions/{len(patches)}"

    floor = platform["no_reason_return_days"]
    below = _save(api, staff, {"no_reason_return_days": floor - 1}, 99)
    assert below.status == 422 and below.body["details"]["violations"][0]["floor"] == floor

    runner = CliRunner()
    here = ["--state-dir", str(stack.state_dir)]
    listed = runner.invoke(app, ["ops", "policy", "--json", *here], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    labels = [row["label"] for row in json.loads(listed.stdout)["layers"]]
    assert f"merchant-{merchant_id}@{len(patches)}" in labels and any(
        x.startswith("platform@") for x in labels
    )
    versions = runner.invoke(
        app, ["ops", "policy", "--layer", f"merchant:{merchant_id}", *here], env={"COLUMNS": "200"}
    )
    assert versions.exit_code == 0, versions.output
    assert "staff-pol" in versions.output and "save 0" in versions.output
    effective = runner.invoke(app, ["ops", "policy", "--merchant", merchant_id, "--json", *here])
    assert effective.exit_code == 0, effective.output
    shown = json.loads(effective.stdout)["effective"]
    assert shown["policy"]["no_reason_return_days"] == floor + 3
    assert shown["set_by"]["no_reason_return_days"]["owner"] == merchant_id
    bad = runner.invoke(app, ["ops", "policy", "--layer", "shop:x", *here])
    assert bad.exit_code == 2
