"""Policy layers in the table (moto): saved as immutable versions through the API, checked against the
platform's floors, and pinned on every claim: a claim keeps the versions it opened under through
sla_tick, the workflow's review step and its views, whatever is saved after."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from aftersales import claims, policy_layers, sla
from aftersales.clock import parse_instant
from aftersales.domain.policy import PLATFORM, Layer, LayerKind, LayerRef
from aftersales.events import RecordingPublisher
from aftersales.process import reset_process_state
from aftersales.store import Repository, default_repository
from aftersales.store.mapping import claim_to_item, item_to_claim

from tests.integration.conftest import MERCHANT, OPS, OTHER_MERCHANT, START, Answer, Api, Clock, claim_body

pytestmark = pytest.mark.usefixtures("order")

MINUTE = timedelta(minutes=1)
M1 = Layer(LayerKind.MERCHANT, "m-1")
_keys = itertools.count(1)


def _save(
    api: Api,
    policy: dict[str, Any],
    *,
    as_: dict[str, Any] = MERCHANT,
    path: str = "/merchant/policy",
    key: str | None = None,
    note: str = "",
) -> Answer:
    headers = {"Idempotency-Key": key or f"policy-{next(_keys):06d}"}
    return api.call("PUT", path, as_=as_, body={"policy": policy, "note": note}, headers=headers)


def _open(api: Api, **overrides: Any) -> dict[str, Any]:
    answer = api.submit(claim_body(**overrides), key=f"claim-{next(_keys):06d}")
    assert answer.status == 201, answer.body
    return answer.body  # type: ignore[no-any-return]


def _approve(api: Api, claim_id: str) -> None:
    answer = api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    assert answer.status == 200, answer.body


def _due(claim_id: str, kind: str) -> Any:
    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    return parse_instant(next(d for d in record.deadlines if d.kind == kind).deadline_at)


def _status(claim_id: str) -> tuple[str, str | None]:
    claim = default_repository().get_claim(claim_id)
    assert claim is not None
    return claim.status, claim.outcome


def test_a_longer_return_window_governs_only_claims_opened_after_it_through_sla_tick(
    api: Api, clock: Clock
) -> None:
    before = _open(api)
    saved = _save(
        api, {"deadlines": {"return_shipment": {"amount": 6}}}, note="six working days to ship back"
    )
    assert saved.status == 200, saved.body
    assert (saved.body["layer"], saved.body["owner"], saved.body["version"]) == ("merchant", "m-1", 1)
    after = _open(api)
    assert before["policy_layers"] == [{"layer": "platform", "owner": None, "version": 1, "href": None}]
    assert [(ref["layer"], ref["version"]) for ref in after["policy_layers"]] == [
        ("platform", 1),
        ("merchant", 1),
    ]
    assert after["policy_version"] == "platform@1+merchant-m-1@1"

    for claim in (before, after):
        _approve(api, claim["claim_id"])
    old_due = _due(before["claim_id"], "return_shipment")
    new_due = _due(after["claim_id"], "return_shipment")
    assert new_due > old_due
    assert new_due - old_due >= timedelta(days=3)  # three working days more

    tick = sla.run_tick(old_due + MINUTE, repo=default_repository(), publisher=RecordingPublisher())
    assert tick.errors == 0
    assert _status(before["claim_id"]) == ("closed", "forfeited")  # the old rule: 3 working days
    assert _status(after["claim_id"]) == ("awaiting_return_shipment", None)

    reset_process_state()  # a cold start in between: the claim still loads its own versions
    sla.run_tick(new_due - MINUTE, repo=default_repository(), publisher=RecordingPublisher())
    assert _status(after["claim_id"]) == ("awaiting_return_shipment", None)
    sla.run_tick(new_due + MINUTE, repo=default_repository(), publisher=RecordingPublisher())
    assert _status(after["claim_id"]) == ("closed", "forfeited")


def test_the_review_step_decides_by_the_threshold_the_claim_opened_under(api: Api) -> None:
    from aftersales import clock, workflow_steps

    before = _open(api)
    assert _save(api, {"auto_approve_below_fen": 50_000}).status == 200  # 500.00 yuan
    after = _open(api)
    review = workflow_steps.review_claim  # what the workflow's Review step decides
    assert review(before["claim_id"], clock.now())["status"] == "pending_review"
    assert review(after["claim_id"], clock.now())["status"] == "awaiting_return_shipment"
    # and a later tightening (ops lower it back) does not reach the claim opened under 500.00
    assert _save(api, {"auto_approve_below_fen": None}).body["version"] == 2
    detail = api.call("GET", f"/claims/{after['claim_id']}", as_=MERCHANT).body
    approved = next(e for e in detail["timeline"] if e["action"] == "auto_approve")
    assert approved["policy_version"] == "platform@1+merchant-m-1@1"


def test_going_below_a_floor_is_refused_with_the_floor_named(api: Api) -> None:
    answer = _save(api, {"no_reason_return_days": 5, "deadlines": {"inspection": {"amount": 5}}})
    assert answer.status == 422
    assert answer.body["code"] == "below_platform_floor"
    fields = {v["field"]: v for v in answer.body["details"]["violations"]}
    assert fields["no_reason_return_days"]["floor"] == 7 and fields["no_reason_return_days"]["asked"] == 5
    assert fields["deadlines.inspection.amount"]["floor"] == 3  # the merchant owes it: never longer
    assert fields["deadlines.inspection.amount"]["rule"] == "at_most"
    excluded = _save(api, {"no_reason_excluded_categories": ["fresh_food", "apparel"]})
    assert excluded.status == 422
    [violation] = excluded.body["details"]["violations"]
    assert violation["field"] == "no_reason_excluded_categories" and "apparel" in violation["asked"]
    platform_only = _save(api, {"deadlines": {"complaint_opinion": {"amount": 1}}})
    assert (platform_only.status, platform_only.body["code"]) == (422, "platform_only")
    schema = _save(api, {"no_reason_return_days": "a week"})
    assert (schema.status, schema.body["code"]) == (422, "invalid_policy")
    versions = api.call("GET", "/merchant/policy/versions", as_=MERCHANT).body
    assert versions["versions"] == []  # nothing refused was written


def test_concurrent_saves_of_one_layer_both_land_as_consecutive_versions(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second writer reads the head, the first commits in between; the second's conditional write
    fails, and it is applied again on top of the first's version."""
    repo = default_repository()
    real_heads = Repository.policy_heads
    interleaved = {"done": False}

    def heads_with_a_rival(self: Repository, layers: Any) -> Any:
        found = real_heads(self, layers)
        if M1 in layers and not interleaved["done"]:
            interleaved["done"] = True
            policy_layers.save(M1, {"quality_window_days": 30}, saved_by="staff-2", now=START, repo=repo)
        return found

    monkeypatch.setattr(Repository, "policy_heads", heads_with_a_rival)
    answer = _save(api, {"no_reason_return_days": 10})
    monkeypatch.undo()
    assert answer.status == 200, answer.body
    assert answer.body["version"] == 2
    page = api.call("GET", "/merchant/policy/versions", as_=MERCHANT).body
    assert [(v["version"], v["saved_by"]) for v in page["versions"]] == [(2, "staff-1"), (1, "staff-2")]
    assert page["versions"][0]["sets"] == {"no_reason_return_days": 10, "quality_window_days": 30}
    effective = api.call("GET", "/merchant/policy", as_=MERCHANT).body
    assert (
        effective["policy"]["quality_window_days"] == 30
        and effective["policy"]["no_reason_return_days"] == 10
    )
    assert effective["set_by"]["quality_window_days"]["version"] == 2
    assert effective["set_by"]["warranty.unit_months"]["layer"] == "platform"


def test_a_save_that_keeps_losing_the_race_is_a_409_version_conflict(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aftersales.store import VersionConflict

    assert api.call("GET", "/merchant/policy", as_=MERCHANT).status == 200  # the platform is seeded

    def always_lost(self: Repository, saved: Any) -> None:
        raise VersionConflict("someone else saved first")

    monkeypatch.setattr(Repository, "save_policy_version", always_lost)
    answer = _save(api, {"no_reason_return_days": 10})
    assert (answer.status, answer.body["code"]) == (409, "version_conflict")


def test_a_save_is_once_per_idempotency_key(api: Api) -> None:
    first = _save(api, {"no_reason_return_days": 10}, key="same-key-0001")
    again = _save(api, {"no_reason_return_days": 10}, key="same-key-0001")
    assert first.body == again.body and first.body["version"] == 1
    other = _save(api, {"no_reason_return_days": 12}, key="same-key-0001")
    assert (other.status, other.body["code"]) == (422, "idempotency_key_reused")
    assert len(api.call("GET", "/merchant/policy/versions", as_=MERCHANT).body["versions"]) == 1
    missing = api.call("PUT", "/merchant/policy", as_=MERCHANT, body={"policy": {"no_reason_return_days": 9}})
    assert (missing.status, missing.body["code"]) == (400, "idempotency_key_required")


def test_versions_are_paginated_newest_first_and_each_is_readable(api: Api) -> None:
    for days in (8, 9, 10):
        assert _save(api, {"no_reason_return_days": days}).status == 200
    first = api.call("GET", "/merchant/policy/versions", as_=MERCHANT, query={"limit": "2"}).body
    assert [v["version"] for v in first["versions"]] == [3, 2] and first["next_cursor"]
    rest = api.call(
        "GET", "/merchant/policy/versions", as_=MERCHANT, query={"limit": "2", "cursor": first["next_cursor"]}
    ).body
    assert [v["version"] for v in rest["versions"]] == [1] and rest["next_cursor"] is None
    one = api.call("GET", "/merchant/policy/versions/2", as_=MERCHANT).body
    assert one["sets"] == {"no_reason_return_days": 9} and one["href"] == "/merchant/policy/versions/2"
    assert api.call("GET", "/merchant/policy/versions/9", as_=MERCHANT).status == 404
    assert api.call("GET", "/merchant/policy/versions/0", as_=MERCHANT).status == 422
    theirs = api.call("GET", "/merchant/policy/versions", as_=OTHER_MERCHANT).body
    assert theirs["versions"] == []  # another merchant's layer is its own
    ops_view = api.call("GET", "/ops/policy/merchants/m-1/versions/3", as_=OPS).body
    assert ops_view["sets"] == {"no_reason_return_days": 10}
    assert ops_view["href"] == "/ops/policy/merchants/m-1/versions/3"
    assert api.call("GET", "/merchant/policy", as_=OPS).status == 404  # not an ops route


def test_ops_manage_the_platform_and_category_layers_and_a_raised_floor_wins(api: Api) -> None:
    assert _save(api, {"no_reason_return_days": 8}).status == 200  # the merchant: 8 > 7
    refused = _save(api, {"no_reason_return_days": 10}, as_=OPS, path="/ops/policy/platform")
    assert refused.status == 200, refused.body
    assert refused.body["version"] == 2 and refused.body["label"] == "platform@2"
    category = _save(api, {"quality_window_days": 20}, as_=OPS, path="/ops/policy/categories/apparel")
    assert category.status == 200 and category.body["label"] == "category-apparel@1"
    # the merchant's 8 days are now below the platform's 10: the platform's value applies
    claim = _open(api)
    assert claim["policy_version"] == "platform@2+category-apparel@1+merchant-m-1@1"
    policy = claims.policy_for(item_to_claim(default_repository().get_claim(claim["claim_id"])))  # type: ignore[arg-type]
    assert policy.no_reason_return_days == 10 and policy.quality_window_days == 20
    layers = api.call("GET", "/ops/policy/layers", as_=OPS).body
    assert [v["label"] for v in layers["versions"]] == ["category-apparel@1", "merchant-m-1@1", "platform@2"]
    platform = api.call("GET", "/ops/policy/platform/versions", as_=OPS).body
    assert [(v["version"], v["saved_by"]) for v in platform["versions"]] == [(2, "ops-1"), (1, "seed")]
    assert "default.yaml" in platform["versions"][1]["note"]
    # ops too stay within the schema: a deadline's amount without a source is refused for the platform
    bad = _save(api, {"deadlines": {"refund": {"amount": 5}}}, as_=OPS, path="/ops/policy/platform")
    assert (bad.status, bad.body["code"]) == (422, "invalid_policy")


def test_a_claim_stored_before_layers_were_recorded_maps_to_the_seeds(api: Api) -> None:
    """``policy_version: platform-2026.11+merchant-example@1``, no ``policy_layers``: the shipped files
    it was decided under are now version 1 of their layers."""
    claim_id = _open(api)["claim_id"]
    repo = default_repository()
    item = repo.get_claim(claim_id)
    assert item is not None
    legacy = item_to_claim(item)
    import dataclasses

    legacy = dataclasses.replace(
        legacy, merchant_id="example", policy_layers=(), policy_version="platform-2026.11+merchant-example@1"
    )
    stored = claim_to_item(legacy, read_version=int(item.version))
    stored.policy_layers = None
    with repo.bound():
        stored.save()
    reset_process_state()
    policy = claims.policy_for(item_to_claim(repo.get_claim(claim_id)))  # type: ignore[arg-type]
    assert policy.version == "platform@1+merchant-example@1"
    assert policy.no_reason_return_days == 15  # merchant-example.yaml, as the claim was decided
    detail = api.call("GET", f"/claims/{claim_id}", as_=OPS).body
    assert [ref["href"] for ref in detail["claim"]["policy_layers"]] == [
        "/ops/policy/platform/versions/1",
        "/ops/policy/merchants/example/versions/1",
    ]


def test_resolving_the_current_versions_at_submit_costs_one_read_cold_and_none_warm(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _save(api, {"no_reason_return_days": 9}).status == 200  # seeds the platform layer too
    reset_process_state()
    reads: list[Any] = []
    real_heads, real_version = Repository.policy_heads, Repository.policy_version
    monkeypatch.setattr(
        Repository,
        "policy_heads",
        lambda s, layers: reads.append([x.key for x in layers]) or real_heads(s, layers),
    )
    monkeypatch.setattr(
        Repository, "policy_version", lambda s, r: reads.append(r.label) or real_version(s, r)
    )
    first = _open(api)
    # one BatchGetItem for the claim's three layers, whose heads carry their content
    assert reads == [["platform", "category-apparel", "merchant-m-1"]]
    _open(api)
    assert len(reads) == 1  # warm: none
    _open(api, line_id="L2", reason="quality_defect", type="repair")
    assert reads[1:] == [["category-appliance"]]  # only the layer this process had not read yet
    claim = item_to_claim(default_repository().get_claim(first["claim_id"]))  # type: ignore[arg-type]
    claims.policy_for(claim)
    assert len(reads) == 2  # the versions a claim opened under are kept for its later decisions


def test_the_seed_is_written_once_as_platform_version_1(api: Api) -> None:
    repo = default_repository()
    assert repo.policy_version(LayerRef(PLATFORM, 1)) is None
    _open(api)
    seed = repo.policy_version(LayerRef(PLATFORM, 1))
    assert seed is not None and seed.saved_by == "seed"
    reset_process_state()
    _open(api)
    assert [v.ref.version for v in repo.policy_versions(PLATFORM, cursor=None, limit=10).versions] == [1]
