"""Keep the tables of docs/policy.md equal to the code that enforces them.

``python -m infra.policy_doc`` rewrites every block between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; ``--check`` only reports a difference (exit 1), as the unit test does.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from aftersales.domain.deadlines import deadlines_for
from aftersales.domain.eligibility import REASON_CODES
from aftersales.domain.model import ClaimType, Outcome, Status
from aftersales.domain.policy import DeadlineKind, DurationUnit, Policy
from aftersales.domain.transitions import TRANSITIONS, allowed_actions, initial_status, transition
from aftersales.policies import default_policy

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
            amount += f" (urgent: {rule.urgent_amount} {_UNITS[rule.unit]})"
        penalty = "yes" if rule.penalty else "no"
        if rule.act_after_overdue_days:
            penalty += f" (outcome applied after {rule.act_after_overdue_days} charged days)"
        rows.append(
            f"| `{kind.value}` | {_opened_by(kind)} | {rule.owner.value} | {amount} | "
            f"`{rule.on_expiry.value}` | {penalty} | {rule.source} |"
        )
    return "\n".join(rows)


def reason_codes_table() -> str:
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {meaning} |" for code, meaning in REASON_CODES.items()]
    return "\n".join(rows)


def blocks() -> dict[str, Callable[[], str]]:
    return {
        "transitions": transitions_table,
        "deadlines": lambda: deadlines_table(default_policy()),
        "reason-codes": reason_codes_table,
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
        if rendered != current:
            print("docs/policy.md is out of date: run python -m infra.policy_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
