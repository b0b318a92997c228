"""The ops commands read a stack without importing the stack that runs one (moto, the template)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("moto", "samtranslator", "infra.local.stack", "infra.local.lambda_dispatch")


def test_ops_imports_neither_moto_nor_the_local_stack():
    probe = f"import sys, infra.cli.ops; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
