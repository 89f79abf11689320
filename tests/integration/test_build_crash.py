"""A real ``kill -9`` of ``ksp build`` while dbt runs: dbt dies with it (no orphan keeps
the warehouse locked), and the next build marks the killed one failed, deletes what a
killed publication left, rebuilds and publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from ingestion.ledger import pid_alive
from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.integration
KSP = str(Path(sys.executable).parent / "ksp")


def _children(pid: int) -> list[tuple[int, str]]:
    """``(pid, command line)`` of the processes whose parent is ``pid``."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append((int(proc.name), cmdline))
    return out


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout:g} s for {what}")


def test_kill_9_of_ksp_build_takes_dbt_with_it_and_the_next_build_cleans_up(cfg: Settings) -> None:
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    ingest(cfg, ["police"])
    env = {**os.environ, "KSP_DATA_DIR": str(cfg.data_dir)}

    build = subprocess.Popen([KSP, "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    dbt_pid = None
    try:
        [(dbt_pid, cmdline)] = _wait_for(
            lambda: [c for c in _children(build.pid) if " build " in c[1] and "dbt" in c[1]], 120,
            "ksp build to start dbt")
        # dbt is at work on the warehouse (it holds the write lock) when the parent dies
        _wait_for(lambda: cfg.warehouse_path.exists(), 120, "dbt to open the warehouse")
        time.sleep(2)
        assert build.poll() is None and pid_alive(dbt_pid), "the build ended before the kill: nothing proved"
        os.kill(build.pid, signal.SIGKILL)  # the parent only, as an OOM killer or `kill -9 <pid>` would
        build.wait()
        _wait_for(lambda: not pid_alive(dbt_pid), 10, f"the dbt child {dbt_pid} ({cmdline}) to die with ksp build")
    finally:
        if dbt_pid is not None and pid_alive(dbt_pid):  # without the fix: the orphan, ended here
            os.kill(dbt_pid, signal.SIGKILL)
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)

    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    [(killed_id, status, pid)] = con.execute("select build_id, status, pid from ops.builds").fetchall()
    con.close()
    assert (status, pid) == ("running", build.pid)  # what the kill left

    # a publication killed before its rename leaves its copy of the marts beside the published file
    cfg.published_path.parent.mkdir(parents=True, exist_ok=True)
    leftover = cfg.published_path.with_name(f".{cfg.published_path.name}.{killed_id}.tmp")
    leftover.write_bytes(b"\0" * 4096)
    leftover.with_name(leftover.name + ".wal").write_bytes(b"\0" * 512)
    unrelated = cfg.published_path.with_name("notes.tmp")
    unrelated.write_text("not ours")

    again = subprocess.run([KSP, "build"], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"build {killed_id} was abandoned (process {build.pid} " in again.stderr

    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    rows = con.execute("select build_id, status, message from ops.builds order by started_at").fetchall()
    con.close()
    assert rows[0][:2] == (killed_id, "failed")
    assert rows[0][2].startswith(f"abandoned: its process {build.pid} on ")
    assert rows[1][1] == "success" and rows[1][2].startswith("manual run")
    assert not leftover.exists() and not leftover.with_name(leftover.name + ".wal").exists()
    assert unrelated.exists()
    assert cfg.published_path.exists()
