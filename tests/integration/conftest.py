"""Shared integration fixtures: a warehouse built from the simulator's demo-scale city,
once per session, for the tests of the analytic marts (real ingestion, real dbt build,
real DuckDB), and a fresh Airflow metadata database on this machine's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ingestion.config import Settings, settings


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from ingestion.pipeline import build, ingest
    from ingestion.simulate import install_places, simulate

    root = tmp_path_factory.mktemp("demo-warehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(root / "data"))
        cfg = settings()
        cfg.ensure_dirs()
        simulate(cfg, root / "sim", scale="demo", seed=1, faults=False, progress=False)
        install_places(cfg, root / "sim")
        for source_dir in (root / "sim" / "inbox").iterdir():
            target = cfg.inbox_dir / source_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for f in source_dir.iterdir():
                f.rename(target / f.name)
        ingest(cfg)
        build(cfg)
    return cfg


PG = os.environ.get("KSP_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_metadata_db() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for Airflow's metadata, dropped afterwards
    (PostgreSQL is a service of this machine and of CI: unreachable, the test fails)."""
    import psycopg2

    name = f"ksp_airflow_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'create database "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        admin.cursor().execute(f'drop database if exists "{name}" with (force)')
        admin.close()
