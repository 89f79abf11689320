"""Shared integration fixtures: a warehouse built from the session's simulated demo city,
once per session, for the tests of the analytic marts (real ingestion, real dbt build,
real DuckDB)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingestion.config import Settings, settings


@pytest.fixture(scope="session")
def demo_warehouse(demo_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's demo city ingested and built: a data root with published marts."""
    from ingestion.landing import ingest
    from simulator import install_places
    from warehouse.build import build

    root = tmp_path_factory.mktemp("demo-warehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(root / "data"))
        cfg = settings()
        cfg.ensure_dirs()
        install_places(cfg, demo_city)
        shutil.copytree(demo_city / "inbox", cfg.inbox_dir, dirs_exist_ok=True)
        ingest(cfg)
        build(cfg)
    return cfg
