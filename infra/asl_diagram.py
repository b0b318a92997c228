"""Draw statemachine/claim.asl.json as a Mermaid flowchart and keep docs/workflow.md's copy current.

``python -m infra.asl_diagram`` rewrites the block between ``<!-- generated:asl-diagram -->`` and
``<!-- /generated:asl-diagram -->``; ``--check`` only reports a difference (exit 1), as the unit test does.
Edges: ``Next``/``Default`` plain, a Choice branch labelled with the status it matches, a Catch dotted and
labelled with its errors (``States.ALL`` as "failure"). Retries are not drawn.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASL = ROOT / "statemachine" / "claim.asl.json"
DOC = ROOT / "docs" / "workflow.md"
_BLOCK = re.compile(r"(<!-- generated:asl-diagram -->\n).*?(<!-- /generated:asl-diagram -->)", re.DOTALL)


def mermaid(definition: dict[str, Any]) -> str:
    lines = ["flowchart TD", f"    start((start)) --> {definition['StartAt']}"]
    for name, state in definition["States"].items():
        kind = state["Type"]
        if kind == "Choice":
            lines.append(f"    {name}{{{name}}}")
            for choice in state["Choices"]:
                lines.append(f"    {name} -- {choice['StringEquals']} --> {choice['Next']}")
            if "Default" in state:
                lines.append(f"    {name} -- other --> {state['Default']}")
            continue
        if kind in ("Succeed", "Fail"):
            lines.append(f"    {name}(({name}))")
            continue
        waits = state.get("Resource", "").endswith(".waitForTaskToken")
        lines.append(f"    {name}[/{name}/]" if waits else f"    {name}[{name}]")
        if "Next" in state:
            lines.append(f"    {name} --> {state['Next']}")
        for catch in state.get("Catch", []):
            errors = ", ".join("failure" if e == "States.ALL" else e for e in catch["ErrorEquals"])
            lines.append(f"    {name} -. {errors} .-> {catch['Next']}")
    return "\n".join(lines) + "\n"


def rendered() -> str:
    return "```mermaid\n" + mermaid(json.loads(ASL.read_text(encoding="utf-8"))) + "```\n"


def updated(doc: str) -> str:
    if not _BLOCK.search(doc):
        raise ValueError(f"{DOC.name} has no generated:asl-diagram block")
    return _BLOCK.sub(lambda m: m.group(1) + rendered() + m.group(2), doc)


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    fresh = updated(current)
    if "--check" in argv:
        if fresh != current:
            print(f"{DOC} is out of date: run python -m infra.asl_diagram", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
