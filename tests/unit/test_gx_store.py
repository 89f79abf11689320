"""Great Expectations' file store survives a ``kill -9`` at its worst moment.

GX writes its JSON files in place; a run killed mid-write used to leave a suite file no
later run could read, so every ingest after it failed (seen on CI in the kill test).
Here a real process is killed with SIGKILL while a store file is being written, and the
next run must load, with every stored file readable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.config import settings
from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.unit

KILLED_MID_WRITE = """
import os, signal, sys
import ingestion.validation as v
from ingestion.config import settings
from ingestion.landing import ingest

real_fsync, seen = os.fsync, []
def fsync_then_die(fd):  # the suite's bytes are written over the stored one, not yet renamed
    seen.append(fd)
    if len(seen) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    real_fsync(fd)
os.fsync = fsync_then_die
ingest(settings(), ["police"])
"""


def _readable(gx_root: Path) -> list[str]:
    bad = []
    for path in (gx_root / "gx").rglob("*.json"):
        if "data_docs" in path.parts:
            continue
        try:
            assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
        except (ValueError, AssertionError):
            bad.append(str(path))
    return bad


def test_a_run_killed_while_gx_writes_leaves_the_next_run_working(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_DATA_DIR", str(tmp_path / "data"))
    cfg = settings()
    cfg.ensure_dirs()
    from ingestion.landing import ingest

    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
    assert [r.status for r in ingest(cfg, ["police"])] == ["loaded"]  # the store exists and holds a suite
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", police_rows(4, month="04"))
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, "1"], env={**os.environ},
                            capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert killed.returncode == -signal.SIGKILL, f"the run was not killed mid-write: {killed.stderr[-2000:]}"
    assert _readable(cfg.gx_root) == []
    again = subprocess.run([sys.executable, "-c", "from ingestion.config import settings\n"
                            "from ingestion.landing import ingest\n"
                            "print([r.status for r in ingest(settings(), ['police'])])"],
                           env={**os.environ}, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert again.returncode == 0, again.stderr[-3000:]
    assert "['loaded']" in again.stdout
    assert _readable(cfg.gx_root) == []
    results = list((cfg.gx_root / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert sorted(p.relative_to(cfg.gx_root / "gx" / "uncommitted" / "validations").parts[1] for p in results) \
        == ["kmp_zdarzenia_2025-03.csv", "kmp_zdarzenia_2025-04.csv"]


def test_an_unreadable_gx_configuration_is_set_aside_and_made_again(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestion.landing import ingest

    monkeypatch.setenv("KSP_DATA_DIR", str(tmp_path / "data"))
    cfg = settings()
    cfg.ensure_dirs()
    yml = cfg.gx_root / "gx" / "great_expectations.yml"
    yml.parent.mkdir(parents=True)
    yml.write_text("config_version: 4\nstores:\n  expectations_store: [\n", encoding="utf-8")  # cut short
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
    with caplog.at_level("WARNING", logger="ingestion.validation"):
        assert [r.status for r in ingest(cfg, ["police"])] == ["loaded"]
    assert "great_expectations.yml was unreadable" in caplog.text
    assert yml.with_name("great_expectations.yml.unreadable").exists()
    assert "AtomicFilesystemStoreBackend" in yml.read_text(encoding="utf-8")
