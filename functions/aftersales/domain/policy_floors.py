"""What a category or merchant layer may set, and the platform's floors it may never go below.

A layer above the platform's may be more generous to the buyer than the platform, never less
(DESIGN §10; issue 14: "no shorter no-reason window than 7 days, no excluded category the law does
not exclude"). Each field a layer may set has one direction (``FIELD_RULES``; a deadline's direction
follows who owes it, ``deadline_direction``); every other field is the platform's alone, including
any section added later (a field not listed here is refused, never silently allowed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import DomainError
from .model import Payer, Role
from .policy import DeadlineRule, Policy, leaf_paths


class Direction(StrEnum):
    AT_LEAST = "at_least"  # more is more generous: a window, a warranty, a penalty, a buyer's deadline
    AT_MOST = "at_most"  # less is more generous: a deadline the merchant owes
    FEWER = "fewer"  # a subset of the platform's list: excluded or special categories
    MORE = "more"  # a superset of the platform's list: reasons approved automatically
    CAP = "cap"  # none (no limit) or at least the platform's; free where the platform sets none
    PAYER = "payer"  # the merchant may take a cost on, never put one on the buyer
    OWN = "own"  # the layer's own data, no floor (its return address)
    PLATFORM_ONLY = "platform_only"


@dataclass(frozen=True)
class FieldRule:
    direction: Direction
    why: str  # the rule in words, with its source


FIELD_RULES: dict[str, FieldRule] = {
    "no_reason_return_days": FieldRule(
        Direction.AT_LEAST, "7-day no-reason return is a floor (001 §二.1; 002 §2.1)"
    ),
    "no_reason_excluded_categories": FieldRule(
        Direction.FEWER, "only categories the platform excludes may be excluded (001 §三(续)(2); 002 §5.1.1)"
    ),
    "quality_window_days": FieldRule(Direction.AT_LEAST, "a longer quality window only helps the buyer"),
    "special_categories": FieldRule(
        Direction.FEWER, "a special category moves costs the merchant owes to negotiation (002 §6.3)"
    ),
    "max_claims_per_line": FieldRule(
        Direction.AT_LEAST, "a lower cap would refuse claims the platform allows"
    ),
    "warranty.unit_months": FieldRule(Direction.AT_LEAST, "statutory warranty is a floor (001 §二.2)"),
    "warranty.part_months": FieldRule(Direction.AT_LEAST, "statutory warranty is a floor (001 §二.2)"),
    "warranty.consumable_months": FieldRule(Direction.AT_LEAST, "statutory warranty is a floor (001 §二.2)"),
    "penalty.rate_basis_points_per_day": FieldRule(Direction.AT_LEAST, "0.5 % a day is a floor (002 §5.3.1)"),
    "penalty.cap_basis_points": FieldRule(Direction.AT_LEAST, "a lower cap would owe the buyer less"),
    "auto_approve_below_fen": FieldRule(
        Direction.AT_LEAST, "a merchant may approve more claims on amount alone"
    ),
    "auto_approve_reasons": FieldRule(Direction.MORE, "a merchant may approve more reasons automatically"),
    "max_return_shipping_fen": FieldRule(
        Direction.CAP,
        "a merchant's policy may cap refunded return shipping (POLICY §3), never below the platform's cap",
    ),
    "return_shipping_receipt_above_fen": FieldRule(
        Direction.CAP,
        "a merchant's policy may ask for the receipt (POLICY §3), never below the platform's threshold",
    ),
    "declined_quote_ship_back_payer": FieldRule(
        Direction.PAYER, "the merchant may pay the ship-back of a declined quote, never put it on the buyer"
    ),
    "return_address": FieldRule(Direction.OWN, "where the merchant's returns go"),
}
# Of a deadline, a layer sets only how long it is (and says why); unit, owner and outcome are the
# platform's, so lengths compare in one unit.
DEADLINE_FIELDS = frozenset({"amount", "urgent_amount", "source"})
_PAYER_RANK = {Payer.BUYER: 0, Payer.NEGOTIATED: 1, Payer.MERCHANT: 2}


@dataclass(frozen=True)
class Violation:
    field: str  # dotted path, e.g. ``deadlines.return_shipment.amount``
    code: str  # ``below_platform_floor`` or ``platform_only``
    rule: str  # the direction, e.g. ``at_least``
    floor: Any  # the platform's value (JSON-able)
    asked: Any
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "rule": self.rule,
            "floor": self.floor,
            "asked": self.asked,
            "why": self.why,
        }


class BelowPlatformFloor(DomainError):
    """A layer asked for something less generous than the platform, or for a field it may not set.
    ``code`` is the first violation's; ``details.violations`` lists every one."""

    code = "below_platform_floor"


def deadline_direction(rule: DeadlineRule) -> FieldRule:
    """A deadline the buyer owes may only get longer, one the merchant owes only shorter; one the
    platform's agents owe (for any claim type) is the platform's."""
    owners = {rule.owner, *rule.owner_by_type.values()}
    if owners == {Role.BUYER}:
        return FieldRule(Direction.AT_LEAST, "the buyer may be given more time, never less")
    if owners == {Role.MERCHANT}:
        return FieldRule(Direction.AT_MOST, "the merchant may promise to be faster, never slower")
    return FieldRule(Direction.PLATFORM_ONLY, "owed by the platform's agents: the platform sets it")


def rule_for(path: str, platform: Policy) -> FieldRule:
    parts = path.split(".")
    if parts[0] == "deadlines" and len(parts) == 3:
        kind, name = parts[1], parts[2]
        rule = platform.deadlines.get(kind)  # type: ignore[call-overload]
        if rule is None or name not in DEADLINE_FIELDS:
            return FieldRule(Direction.PLATFORM_ONLY, "of a deadline a layer sets only its amount")
        if name == "source":
            return FieldRule(Direction.OWN, "why the layer sets this deadline")
        return deadline_direction(rule)
    return FIELD_RULES.get(path, FieldRule(Direction.PLATFORM_ONLY, "set by the platform only"))


def _value(policy: Policy, path: str) -> Any:
    value: Any = policy
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part)
    return value


def _holds(direction: Direction, floor: Any, asked: Any) -> bool:
    checks: dict[Direction, Callable[[Any, Any], bool]] = {
        Direction.AT_LEAST: lambda f, a: a >= f,
        Direction.AT_MOST: lambda f, a: a <= f,
        Direction.FEWER: lambda f, a: set(a) <= set(f),
        Direction.MORE: lambda f, a: set(a) >= set(f),
        Direction.CAP: lambda f, a: f is None or (a is not None and a >= f) or a is None,
        Direction.PAYER: lambda f, a: a in _PAYER_RANK and _PAYER_RANK[a] >= _PAYER_RANK.get(f, 0),
        Direction.OWN: lambda f, a: True,
        Direction.PLATFORM_ONLY: lambda f, a: False,
    }
    return checks[direction](floor, asked)


def _json(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(str(item) for item in value)
    if isinstance(value, StrEnum):
        return value.value
    return value


def _urgent_floor(platform: Policy, path: str) -> Any:
    """A deadline's urgent amount compares with the platform's urgent amount, else its amount."""
    rule = _value(platform, path.rsplit(".", 1)[0])
    return rule.urgent_amount if rule.urgent_amount is not None else rule.amount


def violations(platform: Policy, layered: Policy, layer: Mapping[str, Any]) -> list[Violation]:
    """Every value ``layer`` (a category's or merchant's partial policy) sets that the platform's
    floors refuse, judged on ``layered`` (the platform with the layer merged, schema-valid)."""
    found = []
    for path in leaf_paths(layer):
        rule = rule_for(path, platform)
        if rule.direction is Direction.PLATFORM_ONLY:
            found.append(
                Violation(path, "platform_only", rule.direction, None, _asked(layer, path), rule.why)
            )
            continue
        urgent = path.endswith(".urgent_amount")
        floor = _urgent_floor(platform, path) if urgent else _value(platform, path)
        asked = _value(layered, path)
        if not _holds(rule.direction, floor, asked):
            found.append(
                Violation(path, "below_platform_floor", rule.direction, _json(floor), _json(asked), rule.why)
            )
    return found


def _asked(layer: Mapping[str, Any], path: str) -> Any:
    value: Any = layer
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def check_layer(platform: Policy, layered: Policy, layer: Mapping[str, Any]) -> None:
    """Raise ``BelowPlatformFloor`` naming every field, its floor and the value asked."""
    found = violations(platform, layered, layer)
    if found:
        first = found[0]
        raise BelowPlatformFloor(
            f"{first.field}: {first.why} (platform: {first.floor}, asked: {first.asked})",
            code=first.code,
            details={"violations": [v.as_dict() for v in found]},
        )


def without(layer: Mapping[str, Any], paths: Iterator[str] | list[str]) -> dict[str, Any]:
    """``layer`` without the values at ``paths`` (a stored layer a later platform floor overrules)."""
    result: dict[str, Any] = {
        key: (dict(value) if isinstance(value, Mapping) else value) for key, value in layer.items()
    }
    for path in paths:
        *parents, last = path.split(".")
        node: Any = result
        for part in parents:
            node[part] = dict(node.get(part) or {})
            node = node[part]
        node.pop(last, None)
    return _prune(result)


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    pruned = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            inner = _prune(dict(value))
            if inner:
                pruned[key] = inner
        else:
            pruned[key] = value
    return pruned
