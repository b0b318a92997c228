"""The prices in ``bench/prices.toml``, each with its source page and the date it was read."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parent / "prices.toml"


@dataclass(frozen=True)
class Price:
    name: str
    usd: float
    unit: str
    source: str
    read_on: str


@dataclass(frozen=True)
class Prices:
    region: str
    items: dict[str, Price]
    aws_call_ms: float
    aws_call_ms_source: str

    def __getitem__(self, name: str) -> float:
        return self.items[name].usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "aws_call_ms": self.aws_call_ms,
            "aws_call_ms_source": self.aws_call_ms_source,
            "prices": {n: vars(p) for n, p in self.items.items()},
        }


def load(path: Path = PRICES_FILE) -> Prices:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assumptions = data.pop("assumptions")
    region = data.pop("region")
    items = {}
    for name, entry in data.items():
        missing = {"usd", "unit", "source", "read_on"} - set(entry)
        if missing:
            raise ValueError(f"{path.name}: [{name}] lacks {', '.join(sorted(missing))}")
        items[name] = Price(name, float(entry["usd"]), entry["unit"], entry["source"], entry["read_on"])
    return Prices(region, items, float(assumptions["aws_call_ms"]), assumptions["aws_call_ms_source"])
