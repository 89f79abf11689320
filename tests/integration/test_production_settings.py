"""docker-compose.yml's settings and commands, run natively against this machine's
PostgreSQL (there is no Docker engine here): the init service's command migrates a
fresh metadata database on PostgreSQL, and an ingestion DAG runs with its metadata
there. PostgreSQL is a service of this machine and of CI: unreachable, this fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_compose_init_command_and_an_ingest_run_on_postgresql(tmp_path: Path, postgres_metadata_db: str) -> None:
    metadata_db = postgres_metadata_db
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    shared = compose["x-ksp"]["environment"]
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert shared["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
    init_command = compose["services"]["init"]["command"]

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env["PATH"],
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "KSP_DATA_DIR": str(tmp_path / "data"),
    })
    init = subprocess.run(["bash", "-c", init_command], env=env, capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr[-3000:]

    police_csv(tmp_path / "data" / "inbox" / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    run = subprocess.run(["airflow", "dags", "test", "ingest_police"], env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]

    import psycopg2

    con = psycopg2.connect(metadata_db.replace("postgresql+psycopg2", "postgresql"))
    with con.cursor() as cur:
        cur.execute("select state from dag_run where dag_id = 'ingest_police'")
        assert cur.fetchall() == [("success",)]
        cur.execute("select slots from slot_pool where pool = 'duckdb_writer'")
        assert cur.fetchall() == [(1,)]
    con.close()
    ledger = duckdb.connect(str(tmp_path / "data" / "ops" / "ledger.duckdb"), read_only=True)
    assert ledger.execute("select status, rows_loaded from ops.load_ledger").fetchall() == [("loaded", 5)]
    ledger.close()
