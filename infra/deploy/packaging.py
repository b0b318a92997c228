"""Both packaging paths, built and imported: ``make package`` and what ``sam build`` does.

``sam build`` copies each function's ``CodeUri`` and installs the ``requirements.txt`` it finds there
(aws-lambda-builders: ``pip install -r`` with the Lambda platform's wheels); ``make package``
(``infra.package``) installs the same file's pins into a copy of the code. For each path:

1. build for the template's Lambda runtime (python3.13, ``manylinux2014_aarch64`` binary wheels):
   every pin must have a wheel for it, and every third-party module the code imports must be in the
   build (those wheels cannot be imported on this machine);
2. build the same pins for this machine's Python and platform, and import every handler of the
   template from the build alone (``python -S -I``: no site-packages, no environment paths).

``python -m infra.deploy.packaging`` (part of ``make deploy-check``) prints what it built and exits 1
on the first path that fails.
"""

from __future__ import annotations

import ast
import platform as host
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from infra.local.template import load, load_template
from infra.package import REPO_ROOT, _steps, artifact_paths, lambda_target, pip_install, requirements_file

# (repository, output directory, target, wheel directory) → the built code directories
Builder = Callable[[Path, Path, tuple[str, str], Path], list[Path]]


def build_with_make_package(root: Path, out: Path, target: tuple[str, str], wheels: Path) -> list[Path]:
    for _ in _steps(root, out, target, wheels):
        pass
    code_dirs, _ = artifact_paths(load_template(root / "template.yaml"))
    return [out / code for code in sorted(code_dirs)]


def build_like_sam(root: Path, out: Path, target: tuple[str, str], wheels: Path) -> list[Path]:
    """What ``sam build`` leaves in ``.aws-sam/build/<Function>/``, once per code directory."""
    code_dirs, _ = artifact_paths(load_template(root / "template.yaml"))
    platform, python = target
    built = []
    for code in sorted(code_dirs):
        copy = out / Path(code).name
        shutil.copytree(root / code, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if (copy / "requirements.txt").is_file():  # sam build installs nothing without it
            pip_install(copy / "requirements.txt", copy, platform, python, deps=True, wheels=wheels)
        built.append(copy)
    return built


def host_target() -> tuple[str, str]:
    machine = host.machine()
    return f"manylinux2014_{machine}", f"{sys.version_info.major}.{sys.version_info.minor}"


def third_party_imports(code_dir: Path) -> set[str]:
    """Top-level modules the code imports that are neither its own nor the standard library's."""
    own = {p.name for p in code_dir.iterdir() if p.is_dir()} | {p.stem for p in code_dir.glob("*.py")}
    found: set[str] = set()
    for path in code_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in own and m not in sys.stdlib_module_names and m != "__future__"}


def missing_modules(build: Path, modules: Iterable[str]) -> list[str]:
    def present(module: str) -> bool:
        return (
            (build / module).is_dir() or any(build.glob(f"{module}.py")) or any(build.glob(f"{module}.*.so"))
        )

    return sorted(m for m in modules if not present(m))


def import_handlers(build: Path, modules: Iterable[str]) -> subprocess.CompletedProcess[str]:
    """Import each handler module from ``build`` only, in a fresh interpreter without site-packages."""
    script = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(build)!r}]\n"
        f"for name in {sorted(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print('imported', len(sys.modules), 'modules')\n"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], capture_output=True, text=True, env=env, timeout=300
    )


def handler_modules(root: Path) -> set[str]:
    return {function.module for function in load(root / "template.yaml").functions.values()}


def rehearse(root: Path = REPO_ROOT) -> list[str]:
    """Problems of each packaging path (empty: both build and import)."""
    problems: list[str] = []
    template = load_template(root / "template.yaml")
    code_dirs, _ = artifact_paths(template)
    wanted = set().union(*(third_party_imports(root / c) for c in code_dirs)) | {"tzdata"}
    modules = handler_modules(root)
    paths: dict[str, Builder] = {"make package": build_with_make_package, "sam build": build_like_sam}
    requirements = requirements_file(root, code_dirs)
    targets = {"Lambda": lambda_target(template), "this machine": host_target()}
    with tempfile.TemporaryDirectory() as scratch:
        # One download per target from the package index; both paths then install from it.
        wheels = {where: Path(scratch) / f"wheels-{where.replace(' ', '-')}" for where in targets}
        for where, (platform, python) in targets.items():
            try:
                pip_install(requirements, wheels[where], platform, python, download=True)
            except SystemExit as exc:
                return [f"the pinned requirements for {where}: {exc}"]
        for name, build in paths.items():
            for where, target in targets.items():
                out = Path(scratch) / f"{name.replace(' ', '-')}-{where.replace(' ', '-')}"
                try:
                    code = build(root, out, target, wheels[where])
                except SystemExit as exc:
                    problems.append(f"{name} for {where}: {exc}")
                    continue
                platform, python = target
                print(f"{name} for {where} (python{python}, {platform}): built {len(code)} code directory")
                for built in code:
                    if where == "Lambda":
                        if missing := missing_modules(built, wanted):
                            problems.append(f"{name} for Lambda: {built.name} lacks {', '.join(missing)}")
                    else:
                        answer = import_handlers(built, modules)
                        if answer.returncode:
                            tail = (answer.stderr.strip().splitlines() or ["?"])[-1]
                            problems.append(f"{name}: a handler does not import from {built.name}: {tail}")
                        else:
                            print(f"  {len(modules)} handlers: {answer.stdout.strip()}")
    return problems


def main() -> int:
    problems = rehearse()
    for problem in problems:
        print(f"FAILED {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
