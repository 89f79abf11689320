"""The layout's import rule (docs/architecture.md): each package imports only the
packages below it, and nothing of the platform imports the simulator.

Read from the source with ``ast``, so that an import hidden inside a function (the
platform imports lazily to keep DAG parsing cheap) counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("ingestion", "warehouse", "serving", "orchestration", "simulator")
# what each folder may import of the platform's own packages (docs/architecture.md, "The layout")
ALLOWED: dict[str, set[str]] = {
    "ingestion": set(),
    "warehouse": {"ingestion"},
    "serving": {"ingestion", "warehouse"},
    "orchestration": {"ingestion", "warehouse", "serving"},
    "dags": {"ingestion", "warehouse", "serving", "orchestration"},
    "simulator": {"ingestion", "warehouse", "serving", "orchestration"},
}

pytestmark = pytest.mark.unit


def platform_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, top-level package)`` of every import of a first-party package in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in FIRST_PARTY]
    return found


def violations(root: Path) -> list[str]:
    out = []
    for folder, allowed in ALLOWED.items():
        for path in sorted((root / folder).rglob("*.py")):
            for line, package in platform_imports(path):
                if package != folder and package not in allowed:
                    out.append(f"{path.relative_to(root)}:{line} imports {package} "
                               f"({folder} may import {', '.join(sorted(allowed)) or 'no other package'})")
    return out


def test_every_package_imports_only_the_packages_below_it() -> None:
    assert violations(REPO) == []


def test_every_platform_package_is_under_the_rule() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages - {"tests", "bench"} == set(FIRST_PARTY) - {"dags"}
    assert set(FIRST_PARTY) <= set(ALLOWED)


def test_the_rule_catches_an_import_across_the_allowed_direction(tmp_path: Path) -> None:
    """An ingestion module importing the simulator or serving, even inside a function, fails."""
    for folder in ALLOWED:
        (tmp_path / folder).mkdir()
    (tmp_path / "ingestion" / "landing.py").write_text(
        "from ingestion import ledger\n\n\ndef f():\n    from simulator import simulate\n"
        "    import serving.reports\n")
    (tmp_path / "warehouse" / "build.py").write_text("from ingestion.config import Settings\n")
    assert violations(tmp_path) == [
        "ingestion/landing.py:5 imports simulator (ingestion may import no other package)",
        "ingestion/landing.py:6 imports serving (ingestion may import no other package)",
    ]
