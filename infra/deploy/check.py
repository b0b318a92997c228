"""``make deploy-check``: a deploy rehearsal of template.yaml that needs no AWS account.

Each check returns the problems it finds (empty: it passes); ``main`` runs them all and exits 1 on
any. What they catch is what would roll a first deployment back, break a second stack in the same
account, or fail in its first month, where moto (and so the local stack) accepts it silently:

- ``translate``: the SAM transform, offline (aws-sam-translator), as CloudFormation would run it;
- ``lint``: cfn-lint on the translated template with each state machine's ASL inlined as its
  ``Definition``, so cfn-lint's Step Functions schema checks the real definition;
- ``substitutions``: every ``${Name}`` in an ASL file has a ``DefinitionSubstitutions`` entry, and
  every entry is used;
- ``waits``: every transition names a state; every callback wait has ``TimeoutSeconds`` and catches
  ``States.Timeout``; every Lambda task retries ``Lambda.ClientExecutionTimeoutException`` with the
  other Lambda service errors;
- ``permissions``: each function's role grants exactly the calls its code makes (``permissions.py``);
- ``account_limits``: no fixed reserved concurrency (Lambda refuses one that leaves under 100
  unreserved; new accounts have 10 in all), explicit names that include the stack name and fit their
  service's length limit (two stacks in one region must not collide);
- ``operability``: scheduled functions do not retry or queue stale ticks (``EventInvokeConfig``),
  every function logs to a declared log group with a retention, EventBridge rules on the default bus
  filter on ``source`` and have a dead-letter queue, the code directories have the ``requirements.txt``
  ``sam build`` needs, with ``tzdata``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.deploy import permissions
from infra.local.template import FUNCTION_TYPE, STATE_MACHINE_TYPE, load_template, translate

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "aftersales"
LAMBDA_RETRIED = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
}
# Explicit names: the property and the longest name the service takes.
NAME_LIMITS = {
    "AWS::Scheduler::Schedule": ("Name", 64),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", 80),
    "AWS::Lambda::Function": ("FunctionName", 64),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255),
    "AWS::CloudWatch::Dashboard": ("DashboardName", 255),
    "AWS::Events::EventBus": ("Name", 256),
    "AWS::DynamoDB::Table": ("TableName", 255),
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::IAM::Role": ("RoleName", 64),
}
MAX_SCHEDULED_EVENT_AGE = 300  # a tick older than this is worth less than the next one


@dataclass
class Rehearsal:
    """Everything the checks read: the SAM template, its translation, and the ASL files it names."""

    root: Path
    sam: dict[str, Any]
    cfn: dict[str, Any]
    asl: dict[str, tuple[str, dict[str, Any]]]  # state machine logical id → (text, definition)
    stack_name: str = STACK_NAME

    @classmethod
    def load(cls, root: Path = ROOT, *, stack_name: str = STACK_NAME) -> Rehearsal:
        template = root / "template.yaml"
        sam = load_template(template)
        return cls(root, sam, translate(template), _asl_files(sam, root), stack_name)

    @classmethod
    def of(cls, sam: dict[str, Any], root: Path = ROOT, **asl_override: dict[str, Any]) -> Rehearsal:
        """For tests: a (changed) SAM template, translated from a copy next to the real code."""
        import tempfile

        with tempfile.TemporaryDirectory(dir=root) as scratch:
            path = Path(scratch) / "template.yaml"
            path.write_text(json.dumps(_relative(sam, Path(scratch).name)), encoding="utf-8")
            cfn = translate(path)
        asl = _asl_files(sam, root)
        for logical, definition in asl_override.items():
            asl[logical] = (json.dumps(definition), definition)
        return cls(root, sam, cfn, asl)

    def functions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical, resource in self.sam["Resources"].items():
            if resource.get("Type") == FUNCTION_TYPE:
                yield logical, resource


def _relative(sam: dict[str, Any], scratch: str) -> dict[str, Any]:
    """Point the template copy's local paths back at the repository (it lives one level down)."""
    sam = copy.deepcopy(sam)
    globals_ = (sam.get("Globals") or {}).get("Function") or {}
    if isinstance(globals_.get("CodeUri"), str):
        globals_["CodeUri"] = f"../{globals_['CodeUri']}"
    for resource in sam["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"../{props[key]}"
    return sam


def _asl_files(sam: Mapping[str, Any], root: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    for logical, resource in sam["Resources"].items():
        uri = (resource.get("Properties") or {}).get("DefinitionUri")
        if resource.get("Type") == STATE_MACHINE_TYPE and isinstance(uri, str):
            text = (root / uri).read_text(encoding="utf-8")
            found[logical] = (text, json.loads(text))
    return found


# --------------------------------------------------------------------------- the checks


def check_lint(r: Rehearsal) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    cfn = copy.deepcopy(r.cfn)
    for logical, (_, definition) in r.asl.items():
        props = cfn["Resources"][logical]["Properties"]
        props.pop("DefinitionString", None)
        props["Definition"] = definition
    matches = lint(json.dumps(cfn), config=ManualArgs(regions=["us-east-1"]))
    return [f"cfn-lint {m.rule.id}: {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


def check_substitutions(r: Rehearsal) -> list[str]:
    problems = []
    for logical, (text, _) in r.asl.items():
        used = set(re.findall(r"\$\{([^}]+)\}", text))
        given = set(r.sam["Resources"][logical]["Properties"].get("DefinitionSubstitutions") or {})
        problems += [
            f"{logical}: ${{{n}}} in the ASL has no DefinitionSubstitutions entry"
            for n in sorted(used - given)
        ]
        problems += [
            f"{logical}: DefinitionSubstitutions {n} is not used by the ASL" for n in sorted(given - used)
        ]
    return problems


def check_waits(r: Rehearsal) -> list[str]:
    problems = []
    for logical, (_, definition) in r.asl.items():
        names = {name for name, _ in _all_states(definition)}
        for name, state in _all_states(definition):
            resource = str(state.get("Resource", ""))
            where = f"{logical}.{name}"
            targets = [state.get("Next"), state.get("Default")]
            targets += [c.get("Next") for c in state.get("Catch", []) + state.get("Choices", [])]
            problems += [f"{where}: goes to {t}, which is no state" for t in targets if t and t not in names]
            if resource.endswith(".waitForTaskToken"):
                if not any(k in state for k in ("TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds")):
                    problems.append(f"{where}: a callback wait without TimeoutSeconds waits up to a year")
                caught = [e for c in state.get("Catch", []) for e in c["ErrorEquals"] if e != "States.ALL"]
                if "States.Timeout" not in caught:
                    problems.append(f"{where}: no Catch on States.Timeout to re-read the claim")
            if resource.startswith("arn:aws:states:::lambda:invoke"):
                retried = {e for r_ in state.get("Retry", []) for e in r_["ErrorEquals"]}
                if missing := sorted(LAMBDA_RETRIED - retried):
                    problems.append(f"{where}: Retry does not cover {', '.join(missing)}")
    return problems


def _all_states(definition: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, state in (definition.get("States") or {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _all_states(branch)
        if "Iterator" in state or "ItemProcessor" in state:
            yield from _all_states(state.get("ItemProcessor") or state["Iterator"])


def check_permissions(r: Rehearsal) -> list[str]:
    return permissions.check(r.cfn)


def check_account_limits(r: Rehearsal) -> list[str]:
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for logical, resource in r.cfn["Resources"].items():
        props = resource.get("Properties") or {}
        reserved = (
            props.get("ReservedConcurrentExecutions")
            if resource.get("Type") == "AWS::Lambda::Function"
            else None
        )
        if isinstance(reserved, int | str) and int(reserved) > 0:
            problems.append(
                f"{logical}: ReservedConcurrentExecutions {reserved} is fixed; new accounts have 10 in all "
                "and Lambda keeps 100 unreserved: make it a parameter that defaults to none"
            )
        key, limit = NAME_LIMITS.get(str(resource.get("Type")), (None, 0))
        if key is None or key not in props:
            continue
        name = props[key]
        if not _mentions_stack_name(name):
            problems.append(
                f"{logical}: {key} {name!r} is the same in every stack: derive it from the stack name"
            )
            continue
        text = _sub_text(name).replace("${AWS::StackName}", r.stack_name)
        if (other := seen.setdefault((str(resource["Type"]), text), logical)) != logical:
            problems.append(f"{logical}: {key} {text!r} is also {other}'s")
        if len(re.sub(r"\$\{[^}]+\}", "", text)) > limit:
            problems.append(f"{logical}: {key} is over {limit} characters for stack {r.stack_name!r}")
    return problems


def _mentions_stack_name(value: Any) -> bool:
    return "AWS::StackName" in json.dumps(value)


def _sub_text(value: Any) -> str:
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        arg = value["Fn::Sub"]
        return str(arg if isinstance(arg, str) else arg[0])
    if isinstance(value, Mapping) and value.get("Ref") == "AWS::StackName":
        return "${AWS::StackName}"
    return str(value)


def _scheduled_problems(logical: str, props: Mapping[str, Any]) -> list[str]:
    """A scheduled function is invoked asynchronously: Lambda's own retries must be off."""
    events = (props.get("Events") or {}).values()
    if not any(e.get("Type") in ("Schedule", "ScheduleV2") for e in events):
        return []
    problems = []
    config = props.get("EventInvokeConfig") or {}
    if config.get("MaximumRetryAttempts") != 0:
        problems.append(f"{logical}: scheduled, so EventInvokeConfig MaximumRetryAttempts must be 0")
    age = config.get("MaximumEventAgeInSeconds")
    if not isinstance(age, int) or age > MAX_SCHEDULED_EVENT_AGE:
        problems.append(
            f"{logical}: scheduled, so EventInvokeConfig MaximumEventAgeInSeconds ≤ {MAX_SCHEDULED_EVENT_AGE}"
        )
    return problems


def check_operability(r: Rehearsal) -> list[str]:
    problems = []
    resources = r.cfn["Resources"]
    for logical, resource in r.functions():
        props = resource.get("Properties") or {}
        problems += _scheduled_problems(logical, props)
        group = ((props.get("LoggingConfig") or {}).get("LogGroup")) or {}
        target = group.get("Ref") if isinstance(group, Mapping) else None
        declared = resources.get(target or "", {})
        if declared.get("Type") != "AWS::Logs::LogGroup" or "RetentionInDays" not in (
            declared.get("Properties") or {}
        ):
            problems.append(
                f"{logical}: LoggingConfig.LogGroup must name a template log group with RetentionInDays"
            )
        for name, event in (props.get("Events") or {}).items():
            if event.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                continue
            event_props = event.get("Properties") or {}
            if "EventBusName" not in event_props and "source" not in (event_props.get("Pattern") or {}):
                problems.append(f"{logical}.{name}: a rule on the default bus must filter on source")
            if "DeadLetterConfig" not in event_props:
                problems.append(
                    f"{logical}.{name}: the rule has no DeadLetterConfig; undeliverable events are lost"
                )
    code_dirs = {
        str(p.get("CodeUri") or ((r.sam.get("Globals") or {}).get("Function") or {}).get("CodeUri"))
        for _, f in r.functions()
        for p in [f.get("Properties") or {}]
    }
    for code in sorted(code_dirs):
        requirements = r.root / code / "requirements.txt"
        if not requirements.is_file():
            problems.append(
                f"{code}: no requirements.txt: sam build would ship the code without its dependencies"
            )
        elif not re.search(r"^tzdata==", requirements.read_text(encoding="utf-8"), re.M):
            problems.append(
                f"{requirements.relative_to(r.root)}: no tzdata; zoneinfo must not rely on the runtime"
            )
    return problems


CHECKS: dict[str, Callable[[Rehearsal], list[str]]] = {
    "lint": check_lint,
    "substitutions": check_substitutions,
    "waits": check_waits,
    "permissions": check_permissions,
    "account_limits": check_account_limits,
    "operability": check_operability,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy.check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=STACK_NAME, help="the stack name to check name lengths with")
    args = parser.parse_args(argv)
    try:
        rehearsal = Rehearsal.load(stack_name=args.stack_name)
    except Exception as exc:  # the SAM transform's own message says what is wrong
        print(f"translate: FAILED\n  {exc}")
        return 1
    print("translate: ok")
    failed = 0
    for name, check in CHECKS.items():
        problems = check(rehearsal)
        print(f"{name}: {'ok' if not problems else 'FAILED'}")
        for problem in problems:
            print(f"  {problem}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
