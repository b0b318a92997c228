"""The lock files agree with pyproject.toml and the template, and the packaging checks can fail."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from infra.deploy import packaging
from infra.local.template import load_template
from infra.package import artifact_paths, lambda_target, requirements_file

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "dev.txt"
RUNTIME = ROOT / "functions" / "requirements.txt"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line):
            pins[_norm(match.group(1))] = match.group(2)
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_dependency_of_pyproject_is_pinned_in_the_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    assert wanted - set(_pins(LOCK)) == set(), "run: make lock"


def test_the_runtime_requirements_are_the_locked_versions_of_the_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, lock = _pins(RUNTIME), _pins(LOCK)
    assert _names(project["dependencies"]) <= set(runtime), "run: make lock"
    assert {name: lock.get(name) for name in runtime} == runtime, "run: make lock"
    assert "tzdata" in runtime


def test_the_runtime_requirements_are_for_the_templates_lambda_runtime() -> None:
    platform, python = lambda_target(load_template(ROOT / "template.yaml"))
    header = RUNTIME.read_text(encoding="utf-8").splitlines()[1]
    arch = platform.removeprefix("manylinux2014_")
    assert f"--python-version {python}" in header and f"--python-platform {arch}-manylinux2014" in header
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^LAMBDA_PYTHON\s+:= {re.escape(python)}$", makefile, re.M)
    assert re.search(rf"^LAMBDA_PLATFORM\s+:= {arch}-manylinux2014$", makefile, re.M)


def test_the_code_imports_its_dependencies_and_a_build_without_them_is_caught(tmp_path: Path) -> None:
    code = ROOT / "functions"
    imports = packaging.third_party_imports(code)
    assert {"pydantic", "pynamodb", "aws_lambda_powertools", "boto3", "yaml", "chinese_calendar"} <= imports
    bare = tmp_path / "functions"
    shutil.copytree(code, bare, ignore=shutil.ignore_patterns("__pycache__"))
    assert packaging.missing_modules(bare, imports) == sorted(imports)
    answer = packaging.import_handlers(bare, packaging.handler_modules(ROOT))
    assert answer.returncode != 0 and "ModuleNotFoundError" in answer.stderr


def test_code_without_requirements_cannot_be_packaged(tmp_path: Path) -> None:
    code_dirs, _ = artifact_paths(load_template(ROOT / "template.yaml"))
    (tmp_path / "functions").mkdir()
    with pytest.raises(SystemExit, match="make lock"):
        requirements_file(tmp_path, code_dirs)
