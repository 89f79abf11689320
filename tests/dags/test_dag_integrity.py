"""Every DAG imports, is documented and owned, retries, and parses fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.sources import SOURCES

pytestmark = pytest.mark.dags
DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(DAGS))


def test_every_file_imports_with_one_dag(bag) -> None:
    assert bag.import_errors == {}
    files = sorted(p.name for p in DAGS.glob("*.py"))
    assert sorted(Path(s.file).name for s in bag.dagbag_stats) == files
    assert all(s.dag_num == 1 for s in bag.dagbag_stats), "one DAG per file"
    from ingestion.sources import SOURCES

    assert set(bag.dag_ids) == {f"ingest_{s}" for s in SOURCES} | {"build_warehouse"}


def test_parse_time_per_dag_file(bag) -> None:
    print("\nDAG file parse times:")
    for s in bag.dagbag_stats:
        print(f"  {Path(s.file).name:<28} {s.duration.total_seconds() * 1000:8.1f} ms")
    assert all(s.duration.total_seconds() < 1.0 for s in bag.dagbag_stats)


@pytest.mark.parametrize("dag_id", [f"ingest_{s}" for s in SOURCES] + ["build_warehouse"])
def test_owner_retries_tags_docs_and_no_cycles(bag, dag_id: str) -> None:
    dag = bag.dags[dag_id]
    dag.check_cycle()
    assert dag.owner and dag.owner != "airflow"
    assert dag.tags
    assert dag.doc_md and "Triggered by" in dag.doc_md and "Ask" in dag.doc_md
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.retries >= 1
        # every task here writes a DuckDB file: all of them share the one-slot pool
        assert task.pool == "duckdb_writer"


def test_data_aware_wiring(bag) -> None:
    from ingestion.triggers import InboxArrivalTrigger

    for source in SOURCES:
        dag = bag.dags[f"ingest_{source}"]
        [asset] = dag.timetable.asset_condition.objects
        assert asset.name == f"inbox_{source}"
        [watcher] = asset.watchers
        assert isinstance(watcher.trigger, InboxArrivalTrigger)
        [outlet] = dag.tasks[0].outlets
        assert outlet.name == f"landed_{source}"
    build = bag.dags["build_warehouse"]
    names = {a.name for a in build.timetable.asset_condition.objects}
    assert names == {f"landed_{s}" for s in SOURCES}
