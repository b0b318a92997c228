"""The stack's alarms and its dashboard, generated from template.yaml's own resources.

``python -m infra.deploy.monitoring`` rewrites the block between the ``generated:monitoring`` marker
lines at the end of the template's Resources (``--check``: report a stale block, exit 1; a unit test
does the same). Adding a resource needs no edit here:

- every ``AWS::Serverless::Function`` gets an errors and a throttles alarm and its lines on the
  dashboard (a function with a ``Condition`` gets alarms under that condition, and no dashboard line:
  the dashboard's text cannot refer to a resource that may not exist);
- every ``AWS::SQS::Queue`` whose logical id ends in ``DeadLetterQueue`` gets a depth alarm and a line;
- the HTTP API, the claim state machine and sla_tick's metrics (``functions/sla_tick/app.py``) and the
  business figures (``aftersales.business_metrics``) have fixed alarms and widgets.

Every alarm notifies ``AlarmTopic`` (subscribe e-mail with the ``AlarmEmail`` parameter). Thresholds
are platform defaults, explained in docs/deploy.md.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.local.template import FUNCTION_TYPE, HTTP_API_TYPE, STATE_MACHINE_TYPE, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BEGIN = "  # --- generated:monitoring (python -m infra.deploy.monitoring) ---\n"
END = "  # --- /generated:monitoring ---\n"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
DLQ_SUFFIX = "DeadLetterQueue"
TOPIC = "AlarmTopic"
NAMESPACE = "AfterSales"  # aftersales.observability.METRICS_NAMESPACE
PERIOD = 300


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _service() -> list[dict[str, Any]]:
    return [{"Name": "service", "Value": {"Ref": "AWS::StackName"}}]


def _alarm(name: str, description: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": _sub("${AWS::StackName}-" + name),
            "AlarmDescription": description,
            "AlarmActions": [{"Ref": TOPIC}],
            "OKActions": [{"Ref": TOPIC}],
            "TreatMissingData": "notBreaching",
            **props,
        },
    }


def _any(namespace: str, metric: str, dimensions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Fires on any occurrence in one five-minute period."""
    return {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": dimensions,
        "Statistic": "Sum",
        "Period": PERIOD,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        **extra,
    }


def _kebab(logical_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id.removesuffix("Function")).lower()


def resources(template: dict[str, Any]) -> dict[str, Any]:
    found = template["Resources"]
    functions = {k: v for k, v in found.items() if v.get("Type") == FUNCTION_TYPE}
    dlqs = sorted(
        k for k, v in found.items() if v.get("Type") == "AWS::SQS::Queue" and k.endswith(DLQ_SUFFIX)
    )
    (api,) = [k for k, v in found.items() if v.get("Type") == HTTP_API_TYPE]
    (machine,) = [k for k, v in found.items() if v.get("Type") == STATE_MACHINE_TYPE]
    api_dims = [{"Name": "ApiId", "Value": {"Ref": api}}]
    out: dict[str, Any] = {
        "ApiServerErrorRateAlarm": _alarm(
            "api-5xx-rate",
            "More than 1 % of API requests answered 5xx in 2 of the last 3 five-minute periods.",
            Metrics=[
                {
                    "Id": "errors",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/ApiGateway",
                            "MetricName": "5xx",
                            "Dimensions": api_dims,
                        },
                        "Period": PERIOD,
                        "Stat": "Sum",
                    },
                },
                {
                    "Id": "requests",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/ApiGateway",
                            "MetricName": "Count",
                            "Dimensions": api_dims,
                        },
                        "Period": PERIOD,
                        "Stat": "Sum",
                    },
                },
                {
                    "Id": "rate",
                    "Expression": "IF(requests > 0, 100 * errors / requests, 0)",
                    "Label": "5xx %",
                    "ReturnData": True,
                },
            ],
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        ),
        "ApiLatencyP99Alarm": _alarm(
            "api-latency-p99",
            "API p99 latency above ApiLatencyP99Ms for 15 minutes.",
            Namespace="AWS/ApiGateway",
            MetricName="Latency",
            Dimensions=api_dims,
            ExtendedStatistic="p99",
            Period=PERIOD,
            EvaluationPeriods=3,
            Threshold={"Ref": "ApiLatencyP99Ms"},
            ComparisonOperator="GreaterThanThreshold",
        ),
    }
    for logical, resource in functions.items():
        dims = [{"Name": "FunctionName", "Value": {"Ref": logical}}]
        condition = {"Condition": resource["Condition"]} if "Condition" in resource else {}
        for metric in ("Errors", "Throttles"):
            alarm = _alarm(
                f"{_kebab(logical)}-{metric.lower()}",
                f"{logical}: {metric.lower()} in the last five minutes (its logs say why).",
                **_any("AWS/Lambda", metric, dims),
            )
            out[f"{logical}{metric}Alarm"] = {**condition, **alarm}
    machine_dims = [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
    for metric, what in (("ExecutionsFailed", "failed"), ("ExecutionsTimedOut", "timed-out")):
        out[f"ClaimRuns{metric.removeprefix('Executions')}Alarm"] = _alarm(
            f"claim-runs-{what}",
            f"Claim workflow runs {what} (`aftersales ops executions --status ...`).",
            **_any("AWS/States", metric, machine_dims),
        )
    out["SlaTickErrorsAlarm"] = _alarm(
        "sla-tick-deadline-errors",
        "sla_tick could not handle a due deadline (its log has the claim id).",
        **_any(NAMESPACE, "SlaTickErrors", _service()),
    )
    out["ClaimRunRepairsAlarm"] = _alarm(
        "claim-run-repairs",
        "The reconciler repaired claim runs (a failed start or a lost task completion): "
        "each one healed, but something upstream is failing (docs/operations.md, reconciler).",
        **_any(NAMESPACE, "RunsReconciled", _service()),
    )
    out["ClaimRunEndedWhileOpenAlarm"] = _alarm(
        "claim-run-ended-while-open",
        "A claim's workflow run ended while the claim is open: ops must act "
        "(event claim.run_ended, the claim's timeline; docs/operations.md).",
        **_any(NAMESPACE, "RunsEndedWhileOpen", _service()),
    )
    out["SlaTickIncompleteAlarm"] = _alarm(
        "sla-tick-behind",
        "sla_tick ran out of time on every run for 15 minutes: it is falling behind (ops overdue).",
        **{
            **_any(NAMESPACE, "SlaTickIncomplete", _service()),
            "EvaluationPeriods": 3,
            "Threshold": 4,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    )
    out["SlaTickNotRunningAlarm"] = _alarm(
        "sla-tick-not-running",
        "No sla_tick run reported for 10 minutes: deadlines are not being enforced.",
        **{
            **_any(NAMESPACE, "SlaTickIncomplete", _service()),
            "Statistic": "SampleCount",
            "EvaluationPeriods": 2,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
        },
    )
    out["DueToActionLagAlarm"] = _alarm(
        "sla-due-to-action-lag",
        "A due deadline waited more than 5 minutes for sla_tick to act on it, twice in a row.",
        **{
            **_any(NAMESPACE, "DueToActionLag", _service()),
            "Statistic": "Maximum",
            "EvaluationPeriods": 2,
            "Threshold": 300,
        },
    )
    for queue in dlqs:
        out[f"{queue}DepthAlarm"] = _alarm(
            f"{_kebab(queue)}-depth",
            f"{queue} holds messages: read them, fix the cause, redrive or replay them (docs/deploy.md).",
            **{
                **_any(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
                ),
                "Statistic": "Maximum",
            },
        )
    dashboard_functions = [k for k, v in functions.items() if "Condition" not in v]
    out["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": _sub("${AWS::StackName}"),
            "DashboardBody": _sub(_dashboard_json(_dashboard(api, machine, dashboard_functions, dlqs))),
        },
    }
    return out


def _widget(title: str, metrics: list[list[Any]], *, stat: str = "Sum", **extra: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "stat": stat,
            "period": PERIOD,
            "view": "timeSeries",
            "metrics": metrics,
            **extra,
        },
    }


def _dashboard(api: str, machine: str, functions: list[str], dlqs: list[str]) -> dict[str, Any]:
    custom = [NAMESPACE]
    svc = ["service", "${AWS::StackName}"]
    api_metric = ["AWS/ApiGateway"]
    lam = ["AWS/Lambda"]
    states = ["AWS/States"]
    widgets = [
        _widget(
            "API: requests and 5xx rate (%)",
            [
                [*api_metric, "Count", "ApiId", f"${{{api}}}", {"id": "requests"}],
                [*api_metric, "5xx", "ApiId", f"${{{api}}}", {"id": "errors", "visible": False}],
                [
                    {
                        "expression": "IF(requests > 0, 100 * errors / requests, 0)",
                        "label": "5xx %",
                        "yAxis": "right",
                    }
                ],
            ],
        ),
        _widget("API: p99 latency (ms)", [[*api_metric, "Latency", "ApiId", f"${{{api}}}"]], stat="p99"),
        _widget("Lambda errors", [[*lam, "Errors", "FunctionName", f"${{{f}}}"] for f in functions]),
        _widget("Lambda throttles", [[*lam, "Throttles", "FunctionName", f"${{{f}}}"] for f in functions]),
        _widget(
            "Claim runs",
            [
                [*states, m, "StateMachineArn", f"${{{machine}}}"]
                for m in (
                    "ExecutionsStarted",
                    "ExecutionsSucceeded",
                    "ExecutionsFailed",
                    "ExecutionsTimedOut",
                )
            ],
        ),
        _widget(
            "sla_tick: errors, incomplete runs, actions, overdue",
            [
                [*custom, m, *svc]
                for m in ("SlaTickErrors", "SlaTickIncomplete", "SlaActionsTaken", "OverdueDeadlines")
            ],
        ),
        _widget(
            "Reconciler: claim runs repaired, ended while open, waiting, errors",
            [
                [*custom, m, *svc]
                for m in ("RunsReconciled", "RunsEndedWhileOpen", "RunSyncWaiting", "RunSyncErrors")
            ],
        ),
        _widget(
            "sla_tick: due-to-action lag (s)",
            [
                [*custom, "DueToActionLag", *svc, {"stat": "p99"}],
                [*custom, "DueToActionLag", *svc, {"stat": "Maximum"}],
            ],
        ),
        _widget(
            "Claims opened and closed",
            [
                [*custom, m, *svc]
                for m in ("ClaimsOpened", "ClaimsClosed", "ClaimsRefunded", "Disputes", "Escalations")
            ],
        ),
        _widget(
            "Penalties accrued and refunds paid (fen)",
            [
                [*custom, "PenaltiesAccruedFen", *svc],
                [*custom, "RefundsPaidFen", *svc],
                [*custom, "RefundsPaid", *svc, {"yAxis": "right"}],
            ],
        ),
        _widget(
            "Dead-letter queues: messages",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{q}.QueueName}}"]
                for q in dlqs
            ],
            stat="Maximum",
        ),
    ]
    return {"widgets": widgets}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the dashboard's JSON) as literal blocks; no anchors (CloudFormation)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def _dashboard_json(body: dict[str, Any]) -> str:
    """One widget per line: readable in the template, and a diff shows which widget changed."""
    return '{"widgets": [\n' + ",\n".join(json.dumps(w) for w in body["widgets"]) + "\n]}\n"


def render(template: dict[str, Any]) -> str:
    # Only functions, queues, the API and the machine are read: the block's own alarms change nothing.
    body = yaml.dump(resources(template), Dumper=_Dumper, sort_keys=False, width=110)
    return BEGIN + "".join(f"  {line}\n" if line else "\n" for line in body.splitlines()) + END


def updated(text: str, template: dict[str, Any]) -> str:
    if not _BLOCK.search(text):
        raise ValueError("template.yaml has no generated:monitoring block")
    return _BLOCK.sub(lambda _: render(template), text)


def main(argv: list[str]) -> int:
    current = TEMPLATE.read_text(encoding="utf-8")
    fresh = updated(current, load_template(TEMPLATE))
    if "--check" in argv:
        if fresh != current:
            print(
                "template.yaml's monitoring block is stale: run python -m infra.deploy.monitoring",
                file=sys.stderr,
            )
            return 1
        return 0
    TEMPLATE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
