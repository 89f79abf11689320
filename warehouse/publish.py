"""Publication: the marts copied into a new read-only file, kept as an immutable,
citable version and swapped in atomically as the current one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion import ledger
from ingestion.config import Settings
from ingestion.duck import connect

PUBLISHED_SCHEMAS = ("marts",)
MANIFEST = "MANIFEST.json"
CITATION = "CITATION.cff"
log = logging.getLogger("ksp")


def _temporary(cfg: Settings, build_id: str) -> Path:
    """Where a build's copy of the marts is written before it is renamed into place."""
    target = cfg.published_path
    return target.with_name(f".{target.name}.{build_id}.tmp")


def reap_temporary(cfg: Settings, running: Collection[str]) -> list[Path]:
    """Delete what killed publications left beside the published file: the temporary
    copies (``.ksp.duckdb.<build>.tmp``, a copy of every mart) and their ``.wal``, of
    every build not in ``running``. Returns what was deleted."""
    target = cfg.published_path
    prefix = f".{target.name}."
    reaped = []
    for path in sorted(target.parent.glob(f"{prefix}*.tmp*")):
        build_id, _, rest = path.name.removeprefix(prefix).partition(".")
        if rest not in ("tmp", "tmp.wal") or build_id in running:
            continue
        path.unlink(missing_ok=True)
        log.warning("deleted %s, left by a publication that did not finish", path)
        reaped.append(path)
    # a version folder being written (``versions/.<time>-<build>.tmp``) when its build was killed
    root = versions_dir(cfg)
    for path in sorted(root.glob(".*.tmp")) if root.exists() else []:
        build_id = path.name.removesuffix(".tmp").rsplit("-", 1)[-1]
        if build_id in running:
            continue
        shutil.rmtree(path, ignore_errors=True)
        log.warning("deleted %s, left by a publication that did not finish", path)
        reaped.append(path)
    return reaped


def versions_dir(cfg: Settings) -> Path:
    """``published/versions/``: one folder per published build, never written again."""
    return cfg.published_path.parent / "versions"


def version_id(published_at: datetime, build_id: str) -> str:
    """A version's id: the publication time (UTC, sortable) and the build."""
    return f"{published_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{build_id}"


def publish(cfg: Settings, build_id: str) -> datetime:
    """Copy the marts into a new file, keep it as an immutable version and swap it in
    atomically as the current one.

    Readers open ``published/ksp.duckdb`` (the current version) or
    ``published/versions/<id>/ksp.duckdb`` (a cited one) read-only. The new file is
    complete before anything points at it: its version folder appears by one rename
    (with its ``MANIFEST.json`` and ``CITATION.cff``), then one rename replaces the
    current file, so a reader sees the old or the new warehouse, never a half-built
    one, and an open reader keeps its copy until it closes. The version and the current
    file are one file on disk (a hard link), so a version costs no second copy. Only
    marts are published: staging and intermediate layers stay with the data engineers;
    beside them, ``meta`` holds the build's id, time and version and the deliveries'
    record (status, rules, counts) for reports. Old versions beyond the settings'
    keep rule are deleted afterwards (:func:`prune_versions`).
    """
    target = cfg.published_path
    tmp = _temporary(cfg, build_id)
    tmp.unlink(missing_ok=True)
    now = datetime.now(UTC)
    vid = version_id(now, build_id)
    con = connect(tmp, cfg, spatial=True)
    try:
        con.execute(f"attach '{cfg.warehouse_path}' as wh (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'wh' "
            f"and schema_name in ({', '.join('?' * len(PUBLISHED_SCHEMAS))}) order by 1, 2",
            list(PUBLISHED_SCHEMAS)).fetchall()
        for schema, table in tables:
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as select * from wh."{schema}"."{table}"')
        con.execute("create schema if not exists meta")
        con.execute("create table meta.build_info as select ? as build_id, ? as published_at, ? as version_id",
                    [build_id, now, vid])
        # what the reports say about deliveries (refused, quarantined): readers open this file only
        con.execute(f"attach '{cfg.ledger_path}' as ledger (read_only)")
        ledger.copy_delivery_record(con, "ledger")
        tests = ledger.build_test_results(con, build_id, "ledger")
        con.execute("detach ledger")
        con.execute("detach wh")
        con.execute("checkpoint")
        manifest = _manifest(con, vid, build_id, now, tests)
    finally:
        con.close()
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    manifest["files"] = {target.name: {"bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}}
    _keep_version(cfg, tmp, vid, manifest)
    os.replace(tmp, target)
    prune_versions(cfg, now=now)
    return now


def _manifest(con: Any, vid: str, build_id: str, now: datetime, tests: list[tuple[str, str]]) -> dict[str, Any]:
    """What a version holds and what made it: the build, the project's commit, the
    deliveries (by hash) it was built from, the rows of every table and dbt's tests."""
    tables = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
              for s, t in con.execute("select schema_name, table_name from duckdb_tables() "
                                      "where schema_name in ('marts') order by 1, 2").fetchall()}
    deliveries = [
        {"source": src, "file_name": name, "period": period, "revision": rev, "sha256": did, "rows_loaded": rows}
        for did, src, name, period, rev, rows in con.execute(
            "select delivery_id, source, file_name, period_key, revision, rows_loaded from meta.deliveries "
            "where is_current order by source, period_key, file_name").fetchall()]
    counts: dict[str, int] = {}
    for _, status in tests:
        counts[status] = counts.get(status, 0) + 1
    return {
        "version_id": vid,
        "build_id": build_id,
        "published_at": now.isoformat(),
        "project": {"name": "Kraków Safety Data Platform", **_commit()},
        "tables": tables,
        "deliveries": deliveries,
        "dbt_tests": {"counts": counts, "results": [{"name": n, "status": st} for n, st in tests]},
    }


def _commit() -> dict[str, Any]:
    """The project's commit (``KSP_PROJECT_COMMIT`` in an image without git), and whether
    the working tree differed from it: a version built from uncommitted code says so."""
    if os.environ.get("KSP_PROJECT_COMMIT"):
        return {"commit": os.environ["KSP_PROJECT_COMMIT"], "dirty": False}
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, check=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _citation(manifest: dict[str, Any]) -> str:
    """``CITATION.cff`` (Citation File Format 1.2.0) for one version."""
    project = manifest["project"]
    released = manifest["published_at"][:10]
    return "\n".join([
        "cff-version: 1.2.0",
        'message: "If you use these data, please cite this version of the published marts."',
        "type: dataset",
        f'title: "Kraków Safety Data Platform: spatial-security marts, version {manifest["version_id"]}"',
        f'version: "{manifest["version_id"]}"',
        f'date-released: "{released}"',
        "authors:",
        '  - name: "Kraków Safety Data Platform (Urząd Miasta Krakowa, Wydział Bezpieczeństwa)"',
        f'commit: "{project["commit"]}"',
        "abstract: >-",
        f"  Published marts of build {manifest['build_id']}: {len(manifest['tables'])} tables built from "
        f"{len(manifest['deliveries'])} deliveries (listed with their SHA-256 in MANIFEST.json).",
        "keywords:",
        "  - CCTV",
        "  - crime displacement",
        "  - Kraków",
        "",
    ])


def _keep_version(cfg: Settings, published: Path, vid: str, manifest: dict[str, Any]) -> Path:
    """``versions/<id>/``: the published file (a hard link, read-only), its manifest and
    citation, appearing by one rename so a listed version is always complete."""
    root = versions_dir(cfg)
    staging = root / f".{vid}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    os.chmod(published, 0o444)
    os.link(published, staging / cfg.published_path.name)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (staging / CITATION).write_text(_citation(manifest), encoding="utf-8")
    final = root / vid
    staging.rename(final)
    return final


def list_versions(cfg: Settings) -> list[dict[str, Any]]:
    """Every kept version's manifest, newest first (``ksp versions``); ``current`` marks
    the one readers of ``published/ksp.duckdb`` open (the same file on disk)."""
    root = versions_dir(cfg)
    out = []
    for folder in sorted((p for p in root.iterdir() if not p.name.startswith(".")), reverse=True) \
            if root.exists() else []:
        path = folder / MANIFEST
        if path.exists():
            out.append({**json.loads(path.read_text(encoding="utf-8")), "path": str(folder),
                        "current": _is_current(cfg, folder / cfg.published_path.name)})
    return out


def _is_current(cfg: Settings, file: Path) -> bool:
    try:
        return os.path.samefile(file, cfg.published_path)
    except FileNotFoundError:
        return False


class UnknownVersion(LookupError):
    """No kept version has this id (pruned, or mistyped)."""


def restore_version(cfg: Settings, vid: str, *, reason: str, by: str) -> dict[str, Any]:
    """Make a kept version the current published warehouse again, atomically, with an
    audit record (``ops.version_restores``): a build that published wrong marts is
    undone for every reader and report at once, without a rebuild.

    The version's file is checked against the checksum its manifest recorded, then a
    hard link to it replaces ``published/ksp.duckdb`` by one rename (an open reader keeps
    the file it has). The next build publishes a new version as usual: hold or retract
    the delivery that made the bad one first (``docs/operations.md``).
    """
    folder = versions_dir(cfg) / vid
    manifest_path = folder / MANIFEST
    if not vid or vid.startswith(".") or not manifest_path.exists():
        known = ", ".join(v["version_id"] for v in list_versions(cfg)) or "none"
        raise UnknownVersion(f"no kept version '{vid}' in {versions_dir(cfg)} (kept: {known})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    file = folder / cfg.published_path.name
    recorded = manifest["files"][cfg.published_path.name]["sha256"]
    if _sha256(file) != recorded:
        raise RuntimeError(f"{file}: its checksum is not the one its manifest recorded ({recorded[:12]}…): "
                           "the version was changed on disk and is not restored")
    replaced = next((v["version_id"] for v in list_versions(cfg) if v["current"]), None)
    tmp = cfg.published_path.with_name(f".restore-{vid}.tmp")
    tmp.unlink(missing_ok=True)
    os.link(file, tmp)
    os.replace(tmp, cfg.published_path)
    con = ledger.open_for_writing(cfg)
    try:
        con.execute("insert into ops.version_restores values (?, ?, ?, ?, ?)",
                    [vid, replaced, datetime.now(UTC), by, reason])
    finally:
        con.close()
    return {"version_id": vid, "replaced_version": replaced, "build_id": manifest["build_id"]}


def prune_versions(cfg: Settings, *, now: datetime | None = None) -> list[Path]:
    """Delete versions beyond the keep rule: a version stays if it is among the newest
    ``keep_versions`` or younger than ``keep_version_days``; the current one always
    stays. A reader who still has a deleted version open keeps reading it (the file
    lives on until closed). Returns the deleted folders."""
    now = now or datetime.now(UTC)
    root = versions_dir(cfg)
    if not root.exists():
        return []
    folders = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    cutoff = now - timedelta(days=cfg.keep_version_days)
    deleted = []
    for i, folder in enumerate(folders):
        try:
            published = datetime.strptime(folder.name.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue  # not a version folder: leave it alone
        if i < max(1, cfg.keep_versions) or published >= cutoff:
            continue
        shutil.rmtree(folder)
        log.info("deleted published version %s (beyond the newest %d and older than %g days)",
                 folder.name, cfg.keep_versions, cfg.keep_version_days)
        deleted.append(folder)
    return deleted
