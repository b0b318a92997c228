"""What each function's code calls on AWS, and whether its IAM policy grants exactly that.

``CALLS`` lists, per function of template.yaml, the IAM actions its handler's code needs and the
resource each acts on: a logical id, ``<table>/index`` (a query on a secondary index) or
``<bucket>/<prefix>`` (objects under that prefix). It is kept true two ways:

- every test run traces the calls the handlers really make (``infra.deploy.trace``, turned on in
  ``tests/conftest.py``) and fails on one that is not listed here;
- ``make deploy-check`` compares it with each function's role in the translated template, both ways:
  an action the code needs and the role lacks fails the deploy rehearsal, and so does one the role
  grants and no code uses (least privilege: no Scan, no write to the whole bucket).

A few entries are on paths the tests do not reach or cannot see; each says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Grant = tuple[str, str]  # (action, resource)

_CLAIMS_READ = {("dynamodb:Query", "ClaimsTable")}
_CLAIM_WRITE = {("dynamodb:PutItem", "ClaimsTable")}  # claims.act's transaction puts the claim
_STATS = {("dynamodb:UpdateItem", "ClaimsTable")}  # scorecard counters, order bump, penalty total
_RESUME = {("states:SendTaskSuccess", "ClaimStateMachine")}

CALLS: dict[str, set[Grant]] = {
    "SubmitClaimFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | {
        ("dynamodb:BatchGetItem", "ClaimsTable"),  # the current policy layer heads, one call
        # Powertools idempotency: GetItem when the conditional put does not return the old record
        ("dynamodb:GetItem", "IdempotencyTable"),
        ("dynamodb:PutItem", "IdempotencyTable"),
        ("dynamodb:UpdateItem", "IdempotencyTable"),
        ("dynamodb:DeleteItem", "IdempotencyTable"),
        ("states:StartExecution", "ClaimStateMachine"),
        ("events:PutEvents", "ServiceEventBus"),  # a product's risk warning (claims.risk)
    },
    "ClaimsApiFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | _RESUME
    | {
        ("dynamodb:BatchGetItem", "ClaimsTable"),
        ("dynamodb:Query", "ClaimsTable/index"),
        # Powertools idempotency of policy saves (PUT .../policy)
        ("dynamodb:GetItem", "IdempotencyTable"),
        ("dynamodb:PutItem", "IdempotencyTable"),
        ("dynamodb:UpdateItem", "IdempotencyTable"),
        ("dynamodb:DeleteItem", "IdempotencyTable"),
        # presigned evidence uploads act with this role; signing makes no call, so no trace shows it
        ("s3:PutObject", "EvidenceBucket/evidence/"),
        ("events:PutEvents", "ServiceEventBus"),  # a shipment applies parked carrier events: alerts
    },
    "LogisticsWebhookFunction": {
        ("sqs:SendMessage", "CarrierEventsQueue"),
        # the operator creates the secrets (SecureStrings) under the stack's path: no template resource
        ("ssm:GetParametersByPath", "parameter/${AWS::StackName}/carriers"),
    },
    "LogisticsEventsFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | _RESUME
    | {
        ("dynamodb:GetItem", "ClaimsTable"),  # a duplicate carrier event reads the stored one
        ("events:PutEvents", "ServiceEventBus"),
    },
    "OrderEventsFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS  # a new order's lines sold
    | {
        # Lambda sends an event the function kept failing on to its dead-letter queue with this role
        ("sqs:SendMessage", "OrderEventsDeadLetterQueue"),
    },
    "ReviewFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | _RESUME  # an automatic decision resumes its own step at once
    | {("dynamodb:DeleteItem", "ClaimsTable")},  # waiting for the merchant clears the run mark
    "RefundFunction": _CLAIMS_READ | _CLAIM_WRITE | _STATS,
    "AwaitStageFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _RESUME
    | {("dynamodb:DeleteItem", "ClaimsTable")},  # storing the token clears the claim's run mark
    "SlaTickFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | _RESUME  # an escalation that changes the status resumes the run (claims.act)
    | {
        ("dynamodb:Query", "ClaimsTable/index"),
        ("events:PutEvents", "ServiceEventBus"),
        ("states:SendTaskFailure", "ClaimStateMachine"),
        ("sqs:SendMessage", "SlaWorkQueue"),  # one message per shard group (SLA_WORKERS > 0)
        ("dynamodb:GetItem", "ClaimsTable"),  # the due claim's item (SLA_WORKERS 0: the run handles all)
        # the reconciler (aftersales.reconciler): run marks, the run's state, its repairs
        ("dynamodb:DeleteItem", "ClaimsTable"),
        ("states:DescribeExecution", "ClaimStateMachine"),  # granted on its executions
        ("states:GetExecutionHistory", "ClaimStateMachine"),
        ("states:StartExecution", "ClaimStateMachine"),
    },
    # one group of due-index shards (aftersales.sla): the claim item, penalty days, moves, outcomes
    "SlaWorkerFunction": _CLAIMS_READ
    | _CLAIM_WRITE
    | _STATS
    | _RESUME  # an escalation that changes the status resumes the run (claims.act)
    | {
        ("dynamodb:GetItem", "ClaimsTable"),  # the due claim's item
        ("dynamodb:Query", "ClaimsTable/index"),
        ("events:PutEvents", "ServiceEventBus"),
        ("states:SendTaskFailure", "ClaimStateMachine"),
    },
    "TokenClaimsFunction": set(),
}

# Roles SAM attaches to every function: logs to CloudWatch, traces to X-Ray.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    # SAM's SQS event source: receive and delete on the mapped queue only
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def _named_resources(cfn: Mapping[str, Any]) -> dict[str, str]:
    """Fixed names (``${AWS::StackName}-claim``) → logical id, for ARNs a policy builds from a name."""
    found = {}
    for logical, resource in (cfn.get("Resources") or {}).items():
        for key in ("StateMachineName", "Name", "QueueName", "TableName", "TopicName"):
            value = (resource.get("Properties") or {}).get(key)
            text = value.get("Fn::Sub") if isinstance(value, Mapping) else None
            if isinstance(text, str):
                found[text] = logical
    return found


def resource_key(value: Any, names: Mapping[str, str]) -> str:
    """A policy statement's resource as a ``CALLS`` resource: a logical id, ``X/index``, ``X/prefix/``."""
    if value == "*":
        return "*"
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(value, Mapping) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        arg = value["Fn::Sub"]
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        if ":ssm:" in text:  # a parameter path the template does not create: named by its path
            return "parameter/" + text.split(":parameter/", 1)[1]
        for suffix, name in names.items():
            # a state machine's executions (``…:execution:<name>:*``) count as the state machine
            if text.endswith((":" + suffix, "/" + suffix, ":" + suffix + ":*")):
                return name
        match = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.*)?", text)
        if match:
            return _with_path(match.group(1), match.group(2) or "")
        # SAM policy templates: "...:table/${tableName}" with {"tableName": {"Ref": "X"}}
        for variable, ref in variables.items():
            if f"${{{variable}}}" in text and isinstance(ref, Mapping) and "Ref" in ref:
                return _with_path(str(ref["Ref"]), text.split(f"${{{variable}}}", 1)[1])
    return f"<unknown resource {value!r}>"


def _with_path(logical: str, path: str) -> str:
    if path.startswith("/index/"):
        return f"{logical}/index"
    if path in ("", "/*"):
        return logical if path == "" else f"{logical}/"
    return f"{logical}/{path.strip('/*')}/"


def granted(cfn: Mapping[str, Any], function: str) -> tuple[set[Grant], list[str]]:
    """(action, resource) pairs the function's role allows, and problems that need no comparison."""
    resources = cfn["Resources"]
    role_ref = resources[function]["Properties"].get("Role")
    role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, Mapping) else None
    if role_id is None or role_id not in resources:
        return set(), [f"{function}: its role is not created by the template"]
    role = resources[role_id]["Properties"]
    problems = [
        f"{function}: managed policy {arn} grants more than the code needs"
        for arn in role.get("ManagedPolicyArns") or []
        if arn not in ALLOWED_MANAGED_POLICIES
    ]
    names = _named_resources(cfn)
    grants: set[Grant] = set()
    for statement in _statements(role):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        for action in actions:
            if "*" in action:
                problems.append(f"{function}: wildcard action {action}")
            for resource in _as_list(statement.get("Resource")):
                grants.add((action, resource_key(resource, names)))
    return grants, problems


def _statements(role: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for policy in role.get("Policies") or []:
        yield from _as_list((policy.get("PolicyDocument") or {}).get("Statement"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def check(cfn: Mapping[str, Any], calls: Mapping[str, set[Grant]] = CALLS) -> list[str]:
    """Every function's role grants exactly what ``calls`` says its code needs."""
    problems = []
    functions = [k for k, v in cfn["Resources"].items() if v.get("Type") == "AWS::Lambda::Function"]
    for function in functions:
        if function not in calls:
            problems.append(f"{function}: no entry in infra/deploy/permissions.py CALLS")
            continue
        grants, found = granted(cfn, function)
        problems += found
        for action, resource in sorted(calls[function] - grants):
            problems.append(f"{function}: needs {action} on {resource}, not granted")
        for action, resource in sorted(grants - calls[function]):
            problems.append(f"{function}: grants {action} on {resource}, never called")
    return problems


def handler_functions(template: Mapping[str, Any]) -> dict[str, str]:
    """Handler directory (``claims_api``) → function logical id, from the SAM template."""
    found = {}
    for logical, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            handler = str(resource["Properties"]["Handler"])
            found[handler.split(".", 1)[0]] = logical
    return found


def unlisted_calls(traced: Mapping[str, set[Grant]], template: Mapping[str, Any]) -> list[str]:
    """Calls a trace saw (by handler directory) that ``CALLS`` does not list for that function."""
    functions = handler_functions(template)
    problems = []
    for handler, calls in sorted(traced.items()):
        function = functions.get(handler, handler)
        for action, resource in sorted(calls - CALLS.get(function, set())):
            problems.append(f"{function} ({handler}) called {action} on {resource}")
    return problems
