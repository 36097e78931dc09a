"""House rules on dependencies: pyproject.toml lists every package the code imports, pinned as requirements.lock.

No database: the imports are read with `ast` from every Python file of the project (apps, config, tests, bench,
fixtures), including `import_module("…")` and `pytest.importorskip("…")` calls, and mapped to the installed
distributions that provide them.
"""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", ".pgdata", "static", "staticfiles", "artifacts", "node_modules"}
# Folders whose imports only the `fixtures` extra has to satisfy (the demo build scripts).
FIXTURE_ONLY = {"fixtures"}
# Tests, benchmarks and lint tooling may use the `dev` extra.
DEV_OK = {"tests", "bench"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    return {_norm(r.split("==")[0].strip()): r.split("==")[1].split()[0] for r in requirements if "==" in r}


def _imports() -> dict[str, set[str]]:
    """Top-level third-party module → the top-level folders importing it."""
    local = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    local |= {p.stem for p in ROOT.glob("*.py")}
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in SKIP:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "importorskip")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top and top not in sys.stdlib_module_names and top not in local and top != "__future__":
                    found.setdefault(top, set()).add(parts[0] if len(parts) > 1 else "")
    return found


def test_pyproject_lists_every_imported_package_pinned_as_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _pins(project["dependencies"])
    extras = {name: _pins(reqs) for name, reqs in project.get("optional-dependencies", {}).items()}
    lock = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines())
    providers = packages_distributions()
    problems = []
    for module, folders in sorted(_imports().items()):
        distributions = {_norm(d) for d in providers.get(module, [])}
        if not distributions:
            problems.append(f"{module}: imported in {sorted(folders)} but not installed")
            continue
        allowed = dict(runtime)
        if folders <= FIXTURE_ONLY | DEV_OK:
            allowed |= extras.get("dev", {})
        if folders <= FIXTURE_ONLY:
            allowed |= extras.get("fixtures", {})
        listed = distributions & set(allowed)
        if not listed:
            problems.append(f"{module} ({', '.join(sorted(distributions))}): imported in {sorted(folders)}, not listed")
        for distribution in listed:
            if lock.get(distribution) != allowed[distribution]:
                problems.append(f"{distribution}=={allowed[distribution]} but the lock has {lock.get(distribution)}")
    assert not problems, "\n".join(problems)


def test_every_pin_in_pyproject_is_the_locked_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines())
    pins = _pins(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        pins |= _pins(extra)
    assert {name: version for name, version in pins.items() if lock.get(name) != version} == {}
