"""A full disk during a build, for real: the warehouse (and then the ledger too) on a
small tmpfs. The failure names the cause, the free space where the build writes, and a
failure record that cannot be written does not hide it (real dbt, real DuckDB)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings, settings
from ingestion.landing import ingest
from tests.builders import police_csv, police_rows
from warehouse.build import BuildFailed, build

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A tmpfs of ``request.param`` bytes (1 MB by default): a dbt build of the warehouse needs more."""
    mount = tmp_path / "small"
    mount.mkdir()
    size = getattr(request, "param", 1 << 20)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs CAP_SYS_ADMIN here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _loaded(c: Settings) -> None:
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(50))
    [result] = ingest(c)
    assert result.status == "loaded"


def test_a_full_warehouse_disk_is_named_as_the_cause(cfg: Settings, small_disk: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_WAREHOUSE_PATH", str(small_disk / "warehouse" / "ksp.duckdb"))
    c = settings()
    _loaded(c)
    with pytest.raises(BuildFailed) as failed:
        build(c)
    first = str(failed.value).splitlines()[0]
    assert first.startswith("disk full (No space left on device): warehouse ") and "MB free of 1.0 MB" in first
    con = duckdb.connect(str(c.ledger_path), read_only=True)
    [(status, message)] = con.execute("select status, message from ops.builds").fetchall()
    con.close()
    assert status == "failed" and message.startswith("disk full"), message
    assert not c.published_path.exists()


@pytest.mark.parametrize("small_disk", [4 << 20], indirect=True)  # the ledger fits, the warehouse does not
def test_a_failure_record_the_full_disk_refuses_does_not_hide_the_cause(
        cfg: Settings, small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_WAREHOUSE_PATH", str(small_disk / "warehouse" / "ksp.duckdb"))
    monkeypatch.setenv("KSP_LEDGER_PATH", str(small_disk / "ops" / "ledger.duckdb"))
    c = settings()
    _loaded(c)
    with pytest.raises(Exception) as failed:
        build(c)
    text = str(failed.value) + "\n".join(getattr(failed.value, "__notes__", []))
    assert "No space left on device" in text, text
    assert "recording this failure in the ledger failed too" in text, text
