"""Keep ``docs/openapi.json`` equal to the document the API serves at ``GET /openapi.json``.

``python -m infra.openapi_doc`` writes it; ``--check`` only reports a difference (exit 1), as the unit
test does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aftersales.api import openapi

DOC = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def main(argv: list[str]) -> int:
    served = openapi.document_json()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text() != served:
            print(f"{DOC} differs from the served document: run python -m infra.openapi_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(served)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
