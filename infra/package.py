"""``make package``: a deployable build of template.yaml in ``build/``, without ``sam build``.

``build/`` mirrors the repository's layout, so ``build/template.yaml`` (a copy of template.yaml)
finds its code at the same relative paths: ``CodeUri: functions/`` is ``build/functions/`` = the
functions' code plus the runtime dependencies pinned in ``functions/requirements.txt`` (generated
from the lock file by ``make lock``; ``sam build`` reads the same file), installed as wheels for the
template's Lambda runtime and architecture (python3.13 on arm64 → manylinux2014_aarch64, cp313).
``sam deploy --template-file build/template.yaml`` or ``aws cloudformation package`` zip and upload
it as they would ``sam build``'s output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.local.template import FUNCTION_TYPE, STATE_MACHINE_TYPE, load_template

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def _local(uri: Any) -> str | None:
    return uri if isinstance(uri, str) and not uri.startswith("s3://") else None


def artifact_paths(template: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(code directories, other files) the template names by local path."""
    code: set[str] = set()
    files: set[str] = set()
    globals_uri = _local(((template.get("Globals") or {}).get("Function") or {}).get("CodeUri"))
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == FUNCTION_TYPE:
            uri = _local(props.get("CodeUri")) or globals_uri
        elif kind == "AWS::Serverless::LayerVersion":
            uri = _local(props.get("ContentUri"))
        else:
            uri = None
        if uri:
            code.add(uri)
        elif kind in (STATE_MACHINE_TYPE, "AWS::Serverless::HttpApi", "AWS::Serverless::Api") and (
            uri := _local(props.get("DefinitionUri"))
        ):
            files.add(uri)
    return code, files


def lambda_target(template: dict[str, Any]) -> tuple[str, str]:
    """(pip platform tag, python version) of the functions' runtime."""
    function = (template.get("Globals") or {}).get("Function") or {}
    runtime = str(function.get("Runtime") or "python3.13")
    architecture = (function.get("Architectures") or ["x86_64"])[0]
    return PLATFORMS[architecture], runtime.removeprefix("python")


def requirements_file(root: Path, code_dirs: set[str]) -> Path:
    """The one ``requirements.txt`` of the functions' code (what ``sam build`` installs)."""
    files = {(root / code / "requirements.txt") for code in code_dirs}
    if len(files) != 1 or not (path := files.pop()).is_file():
        raise SystemExit("every function's CodeUri needs the same requirements.txt: run `make lock`")
    return path


def pip_install(
    requirements: Path,
    target: Path,
    platform: str,
    python: str,
    *,
    deps: bool = False,
    wheels: Path | None = None,
    download: bool = False,
) -> None:
    """Install pinned requirements as binary wheels for a Lambda platform into ``target`` (or, with
    ``download``, only fetch them there); ``wheels``: from that directory only, not from an index."""
    pip = subprocess.run(
        [
            sys.executable, "-m", "pip", "download" if download else "install", "--quiet",
            "--disable-pip-version-check", "--platform", platform, "--implementation", "cp",
            "--python-version", python, "--only-binary=:all:", "-r", str(requirements),
            *(["--dest", str(target)] if download else ["--no-compile", "--target", str(target)]),
            *([] if deps else ["--no-deps"]),
            *(["--no-index", "--find-links", str(wheels)] if wheels else []),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    # pip compares the target with this venv's packages and reports "conflicts" that do not concern
    # Lambda: show its output only when it fails.
    if pip.returncode:
        raise SystemExit(f"pip install failed:\n{pip.stdout}{pip.stderr}")


def _inside(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise SystemExit(f"{relative}: outside the repository; package it by hand")
    return path


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _steps(
    root: Path, out: Path, runtime: tuple[str, str] | None = None, wheels: Path | None = None
) -> Iterator[str]:
    """Build ``out``; ``runtime`` (pip platform, python version) overrides the template's,
    ``wheels`` is a directory to install from instead of the package index."""
    template_path = root / "template.yaml"
    template = load_template(template_path)
    code_dirs, files = artifact_paths(template)
    platform, python = runtime or lambda_target(template)
    requirements = requirements_file(root, code_dirs)

    shutil.rmtree(out, ignore_errors=True)
    deps = out / "deps"
    yield f"installing {requirements.relative_to(root)} for python{python} on {platform}"
    # Exactly the lock's versions: the file pins the whole closure, so nothing else is resolved.
    pip_install(requirements, deps, platform, python, wheels=wheels)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "bin")
    for relative in sorted(code_dirs):
        source = _inside(root, relative)
        target = out / source.relative_to(root)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(deps, target, dirs_exist_ok=True, ignore=ignore)
        size = _size(target)
        if size > LAMBDA_UNZIPPED_LIMIT:
            raise SystemExit(f"{relative}: {size / 2**20:.0f} MB unzipped, over Lambda's 250 MB")
        yield f"{out.name}/{target.relative_to(out)}: code + dependencies, {size / 2**20:.1f} MB unzipped"
    for relative in sorted(files):
        source = _inside(root, relative)
        (out / source.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, out / source.relative_to(root))
        yield f"{out.name}/{source.relative_to(root)}"
    # Same relative paths under build/: the template needs no rewriting (and keeps its short-form tags).
    shutil.copy2(template_path, out / "template.yaml")
    shutil.rmtree(deps)
    yield f"{out.name}/template.yaml: `sam deploy --guided --template-file build/template.yaml`"


def main() -> None:
    out = REPO_ROOT / "build"
    for step in _steps(REPO_ROOT, out):
        print(step, flush=True)


if __name__ == "__main__":
    main()
