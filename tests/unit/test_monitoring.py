"""The template's alarms and dashboard: current with the template, complete, and fed by real metrics."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import monitoring
from infra.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def _alarms(resources: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v.get("Type") == "AWS::CloudWatch::Alarm"}


def _dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return dict(json.loads(body))


def _metric_names(resources: dict[str, Any], namespace: str) -> set[str]:
    names = set()
    for alarm in _alarms(resources).values():
        if alarm["Properties"].get("Namespace") == namespace:
            names.add(alarm["Properties"]["MetricName"])
    for widget in _dashboard(resources)["widgets"]:
        names.update(m[1] for m in widget["properties"]["metrics"] if m and m[0] == namespace)
    return names


def test_the_generated_block_is_current(template: dict[str, Any]) -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert monitoring.updated(text, template) == text, "run: python -m infra.deploy.monitoring"


def test_every_function_has_errors_and_throttles_alarms_under_its_condition(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    alarms = _alarms(resources)
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for metric in ("Errors", "Throttles"):
            (alarm,) = [
                a
                for a in alarms.values()
                if a["Properties"].get("MetricName") == metric
                and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": logical}}]
            ]
            assert alarm.get("Condition") == resource.get("Condition"), logical


def test_every_alarm_notifies_the_topic_and_e_mail_is_a_parameter(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for name, alarm in _alarms(resources).items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert "AWS::StackName" in alarm["Properties"]["AlarmName"]["Fn::Sub"], name
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_the_issue_s_figures_are_alarmed(template: dict[str, Any]) -> None:
    alarms = {a["Properties"].get("MetricName") for a in _alarms(template["Resources"]).values()}
    assert {
        "Latency",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "SlaTickErrors",
        "SlaTickIncomplete",
    } <= alarms
    assert {"DueToActionLag", "ApproximateNumberOfMessagesVisible"} <= alarms
    rate = template["Resources"]["ApiServerErrorRateAlarm"]["Properties"]["Metrics"]
    assert [m["MetricStat"]["Metric"]["MetricName"] for m in rate if "MetricStat" in m] == ["5xx", "Count"]


def test_the_dashboard_shows_operations_and_business_figures(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    shown = _metric_names(resources, "AfterSales")
    assert {
        "ClaimsOpened",
        "ClaimsClosed",
        "PenaltiesAccruedFen",
        "RefundsPaidFen",
        "DueToActionLag",
    } <= shown
    text = json.dumps(_dashboard(resources))
    unconditional = [
        k
        for k, v in resources.items()
        if v.get("Type") == "AWS::Serverless::Function" and "Condition" not in v
    ]
    assert all(f"${{{f}}}" in text for f in unconditional)
    assert "${OrderEventsDeadLetterQueue.QueueName}" in text and "${ClaimStateMachine}" in text


def test_every_custom_metric_is_one_the_code_emits(template: dict[str, Any]) -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "functions").rglob("*.py"))
    for name in _metric_names(template["Resources"], "AfterSales"):
        assert re.search(rf'"{name}"', source), f"no code emits the metric {name}"


def test_a_new_dead_letter_queue_gets_its_alarm_and_dashboard_line(template: dict[str, Any]) -> None:
    extended = copy.deepcopy(template)
    extended["Resources"]["CarrierEventsDeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    resources = monitoring.resources(extended)
    alarm = resources["CarrierEventsDeadLetterQueueDepthAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["CarrierEventsDeadLetterQueue", "QueueName"]}
    assert "${CarrierEventsDeadLetterQueue.QueueName}" in json.dumps(_dashboard(resources))
