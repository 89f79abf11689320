"""A warehouse built from the simulator's demo-scale city, once per session, for the
tests of the analytic marts (real ingestion, real dbt build, real DuckDB)."""

from __future__ import annotations

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
