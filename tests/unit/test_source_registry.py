"""Adding a source is five files (docs/adding-a-source.md): this holds every source to
them, so a source missing its suite, its staging folder or its DAG fails here, by name,
instead of at its first delivery.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml

from ingestion.sources import NAMES

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.unit


def test_the_source_list_is_the_parser_modules() -> None:
    modules = sorted(p.stem for p in (REPO / "ingestion" / "sources").glob("*.py") if not p.stem.startswith("_"))
    assert list(NAMES) == modules
    for name in NAMES:  # each module is named as the source it defines
        assert importlib.import_module(f"ingestion.sources.{name}").SOURCE.name == name


@pytest.mark.parametrize("source", NAMES)
def test_every_source_has_its_suite(source: str) -> None:
    suite = REPO / "expectations" / f"{source}.json"
    assert suite.is_file(), f"{source}: no Great Expectations suite {suite.relative_to(REPO)}"


def test_every_suite_has_its_source() -> None:
    assert sorted(p.stem for p in (REPO / "expectations").glob("*.json")) == list(NAMES)


@pytest.mark.parametrize("source", NAMES)
def test_every_source_has_a_staging_folder_declaring_it_with_freshness(source: str) -> None:
    folder = REPO / "dbt" / "models" / "staging" / source
    declared = [s for f in sorted(folder.glob("*.yml"))
                for s in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("sources", [])]
    [declaration] = [s for s in declared if s["name"] == source] or [None]
    assert declaration, f"{source}: no dbt source '{source}' in {folder.relative_to(REPO)}/*.yml"
    # the build plan selects `source:<source>.<source>+` (warehouse.build.source_selector)
    assert source in {t["name"] for t in declaration["tables"]}
    assert declaration.get("freshness", {}).get("error_after"), f"{source}: no freshness threshold"
    assert list(folder.glob(f"stg_{source}__*.sql")), f"{source}: no staging model in {folder.relative_to(REPO)}"


@pytest.mark.parametrize("source", NAMES)
def test_every_source_has_its_ingest_dag(source: str) -> None:
    path = REPO / "dags" / f"ingest_{source}.py"
    assert path.is_file(), f"{source}: no DAG file {path.relative_to(REPO)}"
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "ingest_dag"]
    assert [c.args[0].value for c in calls] == [source]
