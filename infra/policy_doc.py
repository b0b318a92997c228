"""Keep the tables of docs/policy.md equal to the code that enforces them.

``python -m infra.policy_doc`` rewrites every block between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; ``--check`` only reports a difference (exit 1), as the unit test does.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import chinese_calendar
import yaml
from aftersales.calendar_alerts import METRIC_NAMES
from aftersales.domain.calendar import CALENDAR_DIR, CalendarLayer
from aftersales.domain.deadlines import deadlines_for
from aftersales.domain.eligibility import REASON_CODES
from aftersales.domain.model import ClaimType, Outcome, Status
from aftersales.domain.policy import DeadlineKind, DurationUnit, Policy
from aftersales.domain.policy_floors import FIELD_RULES, Direction, deadline_direction
from aftersales.domain.transitions import TRANSITIONS, allowed_actions, initial_status, transition
from aftersales.policies import DEFAULT_POLICY_FILE, default_policy

DOC = Path(__file__).resolve().parent.parent / "docs" / "policy.md"
_BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n).*?(<!-- /generated:(?P=name) -->)", re.DOTALL)


def _per_type(value: Mapping[ClaimType, Status] | Mapping[ClaimType, Outcome]) -> str:
    """Group the types that lead to the same result: ``return_refund, exchange: x<br>refund_only: y``."""
    grouped: dict[str, list[str]] = {}
    for claim_type, result in value.items():
        grouped.setdefault(result.value, []).append(claim_type.value)
    return "<br>".join(f"{', '.join(types)}: `{result}`" for result, types in grouped.items())


def transitions_table() -> str:
    rows = [
        "| status | action | who may | leads to | outcome |",
        "|---|---|---|---|---|",
    ]
    for (status, action), rule in TRANSITIONS.items():
        roles = ", ".join(sorted(role.value for role in rule.roles))
        if rule.target is None:
            target = "(stays)"
        elif isinstance(rule.target, Mapping):
            target = _per_type(rule.target)
        else:
            target = f"`{rule.target.value}`"
        if rule.outcome is None:
            outcome = ""
        elif isinstance(rule.outcome, Mapping):
            outcome = _per_type(rule.outcome)
        else:
            outcome = f"`{rule.outcome.value}`"
        rows.append(f"| `{status.value}` | `{action.value}` | {roles} | {target} | {outcome} |")
    return "\n".join(rows)


_UNITS = {
    DurationUnit.MINUTES: "min",
    DurationUnit.HOURS: "h",
    DurationUnit.DAYS: "calendar days",
    DurationUnit.WORKING_DAYS: "working days",
}


def _reachable(claim_type: ClaimType) -> set[Status]:
    """Statuses a claim of this type can actually be in, so the doc does not list impossible stages."""
    seen = {initial_status(claim_type)}
    todo = list(seen)
    while todo:
        status = todo.pop()
        for action in allowed_actions(status, claim_type):
            role = min(TRANSITIONS[(status, action)].roles)
            target = transition(status, action, role, claim_type).target
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _opened_by(kind: DeadlineKind) -> str:
    stages: dict[Status, list[str]] = {}
    reachable = {claim_type: _reachable(claim_type) for claim_type in ClaimType}
    for status in Status:
        for claim_type in ClaimType:
            if status in reachable[claim_type] and kind in deadlines_for(status, claim_type):
                stages.setdefault(status, []).append(claim_type.value)
    parts = []
    for status, types in stages.items():
        possible = [t for t in ClaimType if status in reachable[t]]
        only = "" if len(types) == len(possible) else f" ({', '.join(types)})"
        parts.append(f"`{status.value}`{only}")
    return "<br>".join(parts) or "(not opened by a stage)"


def deadlines_table(policy: Policy) -> str:
    rows = [
        f"Policy version `{policy.version}`.",
        "",
        "| deadline | opened on entering | owed by | default | when missed | penalty | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in DeadlineKind:
        rule = policy.deadline(kind)
        amount = f"{rule.amount} {_UNITS[rule.unit]}"
        if rule.urgent_amount is not None:
            urgent = f"urgent {' / '.join(sorted(rule.urgent_types))}" if rule.urgent_types else "urgent"
            amount += f" ({urgent}: {rule.urgent_amount} {_UNITS[rule.unit]})"
        owner = rule.owner.value
        if rule.owner_by_type:
            owner += "".join(f"; {t.value}: {r.value}" for t, r in sorted(rule.owner_by_type.items()))
        penalty = "yes" if rule.penalty else "no"
        if rule.act_after_overdue_days:
            penalty += f" (outcome applied after {rule.act_after_overdue_days} charged days)"
        rows.append(
            f"| `{kind.value}` | {_opened_by(kind)} | {owner} | {amount} | "
            f"`{rule.on_expiry.value}` | {penalty} | {rule.source} |"
        )
    return "\n".join(rows)


def first_response_table(policy: Policy) -> str:
    """One row per claim type: every claim opens a first response where it starts (001 三(续)2)."""
    rule = policy.deadline(DeadlineKind.FIRST_RESPONSE)
    unit = _UNITS[rule.unit]
    rows = [
        "| claim type | opened on | owed by | within | urgent | met by | when missed | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for claim_type in ClaimType:
        start = initial_status(claim_type)
        if DeadlineKind.FIRST_RESPONSE not in deadlines_for(start, claim_type):
            continue
        urgent_applies = rule.urgent_amount is not None and (
            not rule.urgent_types or claim_type in rule.urgent_types
        )
        urgent = f"{rule.urgent_amount} {unit}" if urgent_applies else "same"
        rows.append(
            f"| `{claim_type.value}` | submit (`{start.value}`) | {rule.owner_for(claim_type).value} | "
            f"{rule.amount} {unit} | {urgent} | the merchant's or an agent's first action "
            f"(not an escalation) | `{rule.on_expiry.value}`: to the specialist | {rule.source} |"
        )
    return "\n".join(rows)


def calendar_layers_table() -> str:
    """The calendar layers in the order they are consulted, with the years each knows today."""
    library_years = sorted({d.year for d in chinese_calendar.constants.holidays})
    files = sorted(p.name for p in CALENDAR_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    years = {
        CalendarLayer.LIBRARY: f"{library_years[0]}–{library_years[-1]}",
        CalendarLayer.FILE: ", ".join(f"`{name}`" for name in files) or "none yet",
        CalendarLayer.PROVISIONAL: "any other year (the `holidays` package computes the dates)",
        CalendarLayer.WEEKDAYS: "a year no other layer knows",
    }
    where = {
        CalendarLayer.LIBRARY: "`chinesecalendar`: the State Council notices",
        CalendarLayer.FILE: "`aftersales/calendars/<year>.yaml`: a notice transcribed by ops",
        CalendarLayer.PROVISIONAL: "statutory holiday dates, days in lieu of weekend ones",
        CalendarLayer.WEEKDAYS: "Monday–Friday",
    }
    rows = [
        "| layer (recorded on the deadline) | from | years | make-up working days | warns |",
        "|---|---|---|---|---|",
    ]
    for layer in CalendarLayer:
        warns = "no" if layer.official else f"log warning + `{METRIC_NAMES[layer]}`"
        make_up = "yes" if layer.official else "no"
        rows.append(f"| `{layer.value}` | {where[layer]} | {years[layer]} | {make_up} | {warns} |")
    return "\n".join(rows)


def reason_codes_table() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {meaning} |" for code, meaning in REASON_CODES.items()]
    return "\n".join(rows)


# --- every number of the policy data names its source, or is a documented platform default ----------

_SEED_REF = re.compile(r"\b00[0-4] §")
_DEFAULTS_ROW = re.compile(r"^\| `(?P<path>[a-z_.]+)` \| (?P<value>[^|]+?) \| (?P<why>[^|]*?) \|$", re.M)
_SOURCED_BY_RULE = ("amount", "urgent_amount")  # a deadline's own numbers: its ``source`` covers them


def _numeric_leaves(node: yaml.Node, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        return [leaf for key, value in node.value for leaf in _numeric_leaves(value, (*path, key.value))]
    if isinstance(node, yaml.SequenceNode):
        return [
            leaf for i, value in enumerate(node.value) for leaf in _numeric_leaves(value, (*path, str(i)))
        ]
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")):
        return [(path, node)]
    return []


def platform_defaults(doc_text: str) -> dict[str, tuple[str, str]]:
    """The rows of the "Platform defaults" table of docs/policy.md: path → (value, why)."""
    section = doc_text.split("### Platform defaults", 1)[-1].split("\n## ", 1)[0]
    return {m["path"]: (m["value"].strip(), m["why"].strip()) for m in _DEFAULTS_ROW.finditer(section)}


def unsourced_numbers(policy_text: str, doc_text: str) -> list[str]:
    """Each number of a policy file that neither names a source document (``00x §…``) on its line (a
    deadline's ``source`` for its amounts) nor is a platform default listed, with its value and a
    reason, in docs/policy.md; and each listed default the file no longer has or has another value."""
    root = yaml.compose(policy_text)
    if root is None:
        return ["the policy file is empty"]
    data = yaml.safe_load(policy_text)
    lines = policy_text.splitlines()
    documented = platform_defaults(doc_text)
    problems: list[str] = []
    seen: set[str] = set()
    for path, node in _numeric_leaves(root):
        dotted = ".".join(path)
        seen.add(dotted)
        if path[0] == "deadlines" and len(path) == 3 and path[2] in _SOURCED_BY_RULE:
            marker = str(data["deadlines"][path[1]].get("source", ""))
        elif path[0] == "deadlines":
            marker = ""  # a flow mapping's line speaks for its source only
        else:
            line = lines[node.start_mark.line]
            marker = line.split("#", 1)[1] if "#" in line else ""
        default = "platform default" in marker or not _SEED_REF.search(marker)
        if not default:
            continue
        row = documented.get(dotted)
        if row is None:
            problems.append(
                f"{dotted} = {node.value}: name its source (00x §…) or document it as a platform default"
            )
        elif row[0] != node.value or not row[1]:
            problems.append(
                f"{dotted}: docs/policy.md says {row[0]!r} without a reason or with another value"
            )
    problems += [
        f"{path}: documented as a platform default but not in the policy" for path in documented.keys() - seen
    ]
    return problems


_DIRECTIONS = {
    Direction.AT_LEAST: "at least the platform's",
    Direction.AT_MOST: "at most the platform's",
    Direction.FEWER: "only entries the platform lists (fewer or none)",
    Direction.MORE: "every entry the platform lists (more allowed)",
    Direction.CAP: "any where the platform sets none; else none or at least the platform's",
    Direction.PAYER: "`buyer` → `negotiated` → `merchant`: never further left than the platform",
    Direction.OWN: "free: the layer's own",
    Direction.PLATFORM_ONLY: "refused (`platform_only`)",
}


def _floor_value(policy: Policy, path: str) -> str:
    value: object = policy
    for part in path.split("."):
        value = getattr(value, part)
    if isinstance(value, frozenset):
        return ", ".join(sorted(str(v) for v in value)) or "(none)"
    return "none" if value is None else str(value)


def floors_table(policy: Policy) -> str:
    """What a category or merchant layer may set, in which direction, against the seed's values."""
    rows = ["| field | a layer may set | platform seed | why |", "|---|---|---|---|"]
    for path, rule in FIELD_RULES.items():
        floor = _floor_value(policy, path) if rule.direction is not Direction.OWN else ""
        rows.append(f"| `{path}` | {_DIRECTIONS[rule.direction]} | {floor} | {rule.why} |")
    for kind in DeadlineKind:
        deadline = policy.deadline(kind)
        rule = deadline_direction(deadline)
        amount = f"{deadline.amount} {_UNITS[deadline.unit]}"
        path = f"deadlines.{kind.value}.amount"
        rows.append(f"| `{path}` | {_DIRECTIONS[rule.direction]} | {amount} | {rule.why} |")
    rows.append(
        "| `deadlines.*.unit`, `owner`, `on_expiry`, `penalty`, … | refused (`platform_only`) | | "
        "a layer changes a deadline's length only, in the platform's unit |"
    )
    rows.append(
        "| anything else (`auto_review_not_received`, any section added for the platform) "
        "| refused (`platform_only`) | | not listed here: the platform's alone |"
    )
    return "\n".join(rows)


def blocks() -> dict[str, Callable[[], str]]:
    return {
        "transitions": transitions_table,
        "deadlines": lambda: deadlines_table(default_policy()),
        "reason-codes": reason_codes_table,
        "first-response": lambda: first_response_table(default_policy()),
        "calendar-layers": calendar_layers_table,
        "floors": lambda: floors_table(default_policy()),
    }


def render(text: str) -> str:
    """``text`` with each generated block replaced by what the code says now."""
    makers = blocks()
    missing = set(makers) - {m.group("name") for m in _BLOCK.finditer(text)}
    if missing:
        raise ValueError(f"docs/policy.md lacks generated blocks: {', '.join(sorted(missing))}")

    def fill(match: re.Match[str]) -> str:
        return f"{match.group(1)}{makers[match.group('name')]()}\n{match.group(3)}"

    return _BLOCK.sub(fill, text)


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    rendered = render(current)
    if "--check" in argv:
        policy_text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
        for problem in unsourced_numbers(policy_text, current):
            print(f"default.yaml: {problem}", file=sys.stderr)
        if rendered != current:
            print("docs/policy.md is out of date: run python -m infra.policy_doc", file=sys.stderr)
            return 1
        return 1 if unsourced_numbers(policy_text, current) else 0
    DOC.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
