"""Business figures go out as one EMF record each, under the stack's service dimension."""

from __future__ import annotations

import json

import pytest
from aftersales import business_metrics


def _records(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_scorecard_counters_and_refunds_become_metrics(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    business_metrics.count({"claims_closed": 1, "refunds": 1, "claims_opened": 0, "not_a_metric": 3})
    business_metrics.refund_paid(13190)
    records = _records(capsys.readouterr().out)
    values = {k: v for r in records for k, v in r.items() if k not in ("_aws", "service")}
    assert values == {
        "ClaimsClosed": [1.0],
        "ClaimsRefunded": [1.0],
        "RefundsPaid": [1.0],
        "RefundsPaidFen": [13190.0],
    }
    namespaces = {m["Namespace"] for r in records for m in r["_aws"]["CloudWatchMetrics"]}  # type: ignore[index]
    assert namespaces == {"AfterSales"}
    assert {r["service"] for r in records} == {business_metrics.SERVICE}


def test_nothing_is_written_when_metrics_are_disabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    business_metrics.count({"claims_opened": 1})
    business_metrics.refund_paid(100)
    assert _records(capsys.readouterr().out) == []
