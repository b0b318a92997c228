"""The template's queues: every SQS-fed function reports partial batch failures, its queue hides a
message for at least 6 × the function's timeout, gives up after a set number of receives into a
dead-letter queue (carrier events: five; sla_tick's shard work: two, later ticks queue the same groups
again), and that queue has an alarm on its depth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_TIMEOUT = TEMPLATE["Globals"]["Function"]["Timeout"]


def _sqs_sources() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "SQS":
                found.append((name, resource["Properties"], event["Properties"]))
    return found


def _ref(value: Any) -> str:
    """The logical id in ``!GetAtt X.Arn`` / ``!Ref X``."""
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return str(value["Ref"])


RECEIVES = {"LogisticsEventsFunction": 5, "SlaWorkerFunction": 2}


def test_the_carrier_consumer_and_the_sla_workers_are_fed_by_queues() -> None:
    assert sorted(name for name, _, _ in _sqs_sources()) == sorted(RECEIVES)


@pytest.mark.parametrize(("function", "props", "source"), _sqs_sources(), ids=lambda v: str(v)[:30])
def test_queue_settings(function: str, props: dict[str, Any], source: dict[str, Any]) -> None:
    assert "ReportBatchItemFailures" in source["FunctionResponseTypes"]
    queue = RESOURCES[_ref(source["Queue"])]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * props.get("Timeout", GLOBAL_TIMEOUT)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == RECEIVES[function]
    dlq_id = _ref(queue["RedrivePolicy"]["deadLetterTargetArn"])
    dlq = RESOURCES[dlq_id]["Properties"]
    assert dlq["MessageRetentionPeriod"] > queue.get("MessageRetentionPeriod", 345600)
    alarms = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and any(_ref(d["Value"]) == dlq_id for d in r["Properties"].get("Dimensions", []))
    ]
    assert [(a["MetricName"], a["Threshold"], a["ComparisonOperator"]) for a in alarms] == [
        ("ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")
    ]


def test_the_webhook_route_has_no_jwt() -> None:
    events = RESOURCES["LogisticsWebhookFunction"]["Properties"]["Events"]
    [route] = [e["Properties"] for e in events.values() if e["Type"] == "HttpApi"]
    assert (route["Method"], route["Path"], route["Auth"]["Authorizer"]) == (
        "POST",
        "/webhooks/logistics/{carrier}",
        "NONE",
    )
