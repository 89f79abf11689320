"""A failed dbt test in the build stops everything downstream of it and publishes
nothing (real ``dag.test()``, real dbt, real DuckDB)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from tests.builders import dbt_project_copy, police_csv, police_rows
from warehouse.build import build
from warehouse.dbt import write_manifest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_failed_test_stops_its_dependants_and_the_publication(cfg: Settings, airflow_db: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    project, c = dbt_project_copy(tmp_path, monkeypatch)
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    ingest(c, ["police"])
    published = build(c)["build_id"]
    # then a data test that every police record breaks: no new delivery to hold explains
    # the failure (tests/integration/test_isolation.py: when one does, it is held instead)
    (project / "tests" / "assert_no_police_incident_in_march.sql").write_text(
        "select * from {{ ref('stg_police__incidents') }} where month(occurred_local) = 3\n")
    write_manifest(c, force=True)

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(REPO / "dags" / "build_warehouse.py"))
    assert not bag.import_errors
    run = bag.dags["build_warehouse"].test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}

    assert run.state == "failed"
    assert states["dbt_build"] == "failed"
    assert states["publish_warehouse"] == "upstream_failed"
    assert states["record_failed_build"] == "failed"
    pub = duckdb.connect(str(c.published_path), read_only=True)
    assert pub.execute("select build_id from meta.build_info").fetchall() == [(published,)]  # unchanged
    pub.close()
    con = duckdb.connect(str(c.ledger_path), read_only=True)
    [(status, message)] = con.execute("select status, message from ops.builds where build_id <> ?",
                                      [published]).fetchall()
    assert status == "failed"
    assert "test assert_no_police_incident_in_march: fail" in message, message  # what broke, by name
    assert "with no delivery new since the last published build" in message, message
    # what dbt did with each node, per attempt (the task retries once)
    nodes = dict(con.execute("select name, status from ops.build_nodes where attempt = 1 and build_id <> ? and "
                             "resource_type in ('model', 'test')", [published]).fetchall())
    attempts = con.execute("select count(distinct attempt) from ops.build_nodes where build_id <> ?",
                           [published]).fetchone()[0]
    con.close()
    assert nodes["assert_no_police_incident_in_march"] == "fail"
    for downstream in ("int_police_incidents_located", "int_offences_classified", "mart_camera_incidents_monthly",
                       "mart_district_safety"):
        assert nodes[downstream] == "skipped", downstream
    assert nodes["stg_survey__responses"] == "success"  # unrelated nodes still build
    assert attempts == 2
