"""A real ``kill -9`` in the middle of a load leaves nothing half-visible, and the next run
finishes the job with the same result as an uninterrupted one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings, settings
from simulator import simulate

pytestmark = pytest.mark.integration


def _state(cfg: Settings) -> dict[str, tuple[int, int]]:
    """Per source: rows visible in the landing view, and rows the current deliveries say they loaded."""
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    try:
        out = {}
        for source in ("police", "city_guard", "interventions"):
            visible = con.execute(f"select count(*) from landing.{source}").fetchone()[0]
            ledgered = con.execute("select coalesce(sum(rows_loaded), 0) from ops.current_deliveries "
                                   "where source = ?", [source]).fetchone()[0]
            out[source] = (visible, int(ledgered))
        return out
    finally:
        con.close()


def _ingest(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(Path(sys.executable).parent / "ksp"), "ingest", "--source", "police",
                             "--source", "city_guard", "--source", "interventions"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_kill_9_mid_load_then_rerun(tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    simulate(settings(), sim, scale="demo", seed=21, start="2025-01", end="2025-12", progress=False)
    data = tmp_path / "data"
    env = {**os.environ, "KSP_DATA_DIR": str(data)}
    cfg_env = os.environ.get("KSP_DATA_DIR")
    os.environ["KSP_DATA_DIR"] = str(data)
    try:
        cfg = settings()
        for source in ("police", "city_guard", "interventions"):
            shutil.copytree(sim / "inbox" / source, cfg.inbox_dir / source)
        delivered = sum(1 for _ in cfg.inbox_dir.glob("*/*"))
        kills = 0
        for delay in (6.0, 9.0, 12.0):  # after imports (~5 s), at different points of the load
            proc = _ingest(env)
            time.sleep(delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
            if cfg.ledger_path.exists():
                for source, (visible, ledgered) in _state(cfg).items():
                    assert visible == ledgered, f"{source}: {visible} rows visible, ledger says {ledgered}"
        assert kills >= 1, "the load finished before any kill: the test proves nothing"
        final = subprocess.run([str(Path(sys.executable).parent / "ksp"), "ingest", "--source", "police",
                                "--source", "city_guard", "--source", "interventions"],
                               env=env, capture_output=True, text=True)
        assert final.returncode == 0, final.stderr[-3000:]
        after_crashes = _state(cfg)
        kept = sum(1 for _ in cfg.archive_dir.glob("*/*")) + sum(1 for _ in cfg.refused_dir.glob("*/*.csv"))
        assert kept == delivered and not list(cfg.received_dir.glob("*/*/*")) and not list(cfg.inbox_dir.glob("*/*"))
    finally:
        if cfg_env is None:
            os.environ.pop("KSP_DATA_DIR", None)
        else:
            os.environ["KSP_DATA_DIR"] = cfg_env

    # the same deliveries loaded without interruption give the same result
    clean = tmp_path / "clean"
    os.environ["KSP_DATA_DIR"] = str(clean)
    try:
        cfg2 = settings()
        for source in ("police", "city_guard", "interventions"):
            shutil.copytree(sim / "inbox" / source, cfg2.inbox_dir / source)
        assert _ingest({**os.environ}).wait() == 0
        assert _state(cfg2) == after_crashes
    finally:
        if cfg_env is None:
            os.environ.pop("KSP_DATA_DIR", None)
        else:
            os.environ["KSP_DATA_DIR"] = cfg_env
