"""Versioned publication (issue 16): every successful build publishes an immutable,
citable version; readers of an old version or of the current file always see a
complete one while a new build publishes; ``ksp versions`` lists them; old versions
are pruned by the keep rule, and what a killed publication left is reaped."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.config import Settings
from ingestion.landing import ingest
from tests.builders import ledger_rows, police_csv, police_rows
from warehouse.build import build
from warehouse.publish import list_versions, prune_versions, reap_temporary, versions_dir

pytestmark = pytest.mark.integration
KSP = str(Path(sys.executable).parent / "ksp")


def _snapshot(path: Path) -> dict[str, int]:
    """Rows per published table, and the version the file says it is."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select schema_name || '.' || table_name from duckdb_tables() "
                             "where schema_name = 'marts' order by 1").fetchall()
        rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in tables}
        rows["version"] = con.execute("select version_id from meta.build_info").fetchone()[0]
        return rows
    finally:
        con.close()


def test_versions_are_complete_immutable_listed_and_pruned(cfg: Settings) -> None:
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    ingest(cfg, ["police"])
    build(cfg)
    [first] = list_versions(cfg)
    first_file = Path(first["path"]) / cfg.published_path.name
    before = _snapshot(first_file)
    assert before["version"] == first["version_id"]
    assert before["marts.fct_incident"] == 5 == first["tables"]["marts.fct_incident"]
    assert first["files"][cfg.published_path.name]["sha256"] == hashlib.sha256(first_file.read_bytes()).hexdigest()
    assert [d["file_name"] for d in first["deliveries"]] == ["kmp_zdarzenia_2025-03.csv"]
    assert first["dbt_tests"]["counts"].get("pass", 0) > 50 and "fail" not in first["dbt_tests"]["counts"]
    citation = yaml.safe_load((Path(first["path"]) / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["version"] == first["version_id"]
    assert citation["commit"] == first["project"]["commit"]
    assert not os.access(first_file, os.W_OK) or os.geteuid() == 0  # read-only (root ignores the bits)
    assert first_file.stat().st_mode & 0o222 == 0

    # readers of the old version and of the current file while the next build publishes
    seen: list[dict[str, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(_snapshot(first_file))
                seen.append(_snapshot(cfg.published_path))
            except BaseException as e:  # every failure to read is the finding
                errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", police_rows(7, month="04"))
        ingest(cfg, ["police"])
        build(cfg)
    finally:
        done.set()
        reader.join()
    assert not errors, errors[:3]
    second = list_versions(cfg)[0]
    complete = {first["version_id"]: before, second["version_id"]: _snapshot(cfg.published_path)}
    assert len(seen) > 2
    for snap in seen:  # every read found one whole version, never a mix or a half
        assert snap == complete[snap["version"]], snap
    assert _snapshot(first_file) == before  # the old version's rows are unchanged
    assert complete[second["version_id"]]["marts.fct_incident"] == 12

    listed = json.loads(subprocess.run([KSP, "versions", "--json"], env={**os.environ,
                                       "KSP_DATA_DIR": str(cfg.data_dir)}, capture_output=True, text=True,
                                       check=True).stdout)
    assert [v["version_id"] for v in listed] == [second["version_id"], first["version_id"]]
    text = subprocess.run([KSP, "versions"], env={**os.environ, "KSP_DATA_DIR": str(cfg.data_dir)},
                          capture_output=True, text=True, check=True).stdout
    assert second["build_id"] in text and "2 deliveries" in text
    assert f"{second['version_id']}  (current)" in text and f"{first['version_id']}  (current)" not in text

    # restoring the first version: every reader of the current file sees it again, audited
    env = {**os.environ, "KSP_DATA_DIR": str(cfg.data_dir), "KSP_OPERATOR": "inżynier dyżurny"}
    restored = subprocess.run([KSP, "restore-version", first["version_id"], "--reason", "April's build was wrong"],
                              env=env, capture_output=True, text=True, check=True).stdout
    assert first["version_id"] in restored and second["version_id"] in restored
    assert _snapshot(cfg.published_path) == before
    assert [v["current"] for v in list_versions(cfg)] == [False, True]
    assert ledger_rows(cfg, "select version_id, replaced_version, restored_by, reason from ops.version_restores") \
        == [(first["version_id"], second["version_id"], "inżynier dyżurny", "April's build was wrong")]
    wrong = subprocess.run([KSP, "restore-version", "20990101T000000Z-nonesuch", "--reason", "typo"], env=env,
                           capture_output=True, text=True)
    assert wrong.returncode == 2 and "no kept version '20990101T000000Z-nonesuch'" in wrong.stderr
    assert first["version_id"] in wrong.stderr  # it names what is kept
    subprocess.run([KSP, "restore-version", second["version_id"], "--reason", "fixed"], env=env, check=True,
                   capture_output=True)
    assert _snapshot(cfg.published_path)["version"] == second["version_id"]

    # the keep rule: the newest one only; a reader holding the old one open keeps reading it
    holder = duckdb.connect(str(first_file), read_only=True)
    try:
        deleted = prune_versions(dataclasses.replace(cfg, keep_versions=1, keep_version_days=0))
        assert [p.name for p in deleted] == [first["version_id"]]
        assert holder.execute("select count(*) from marts.fct_incident").fetchone()[0] == 5
    finally:
        holder.close()
    assert [v["version_id"] for v in list_versions(cfg)] == [second["version_id"]]
    assert _snapshot(cfg.published_path)["version"] == second["version_id"]  # the current file stays

    # a version folder a killed publication was writing is reaped, one being written is not
    left = versions_dir(cfg) / ".20260101T000000Z-deadbeef0000.tmp"
    busy = versions_dir(cfg) / ".20260101T000000Z-running00000.tmp"
    left.mkdir()
    busy.mkdir()
    reaped = reap_temporary(cfg, running={"running00000"})
    assert left in reaped and not left.exists() and busy.exists()
