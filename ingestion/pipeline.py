"""The operations behind both the Airflow tasks and the ``ksp`` command.

``ingest`` takes every waiting delivery through parse → validate → land → ledger;
``build`` runs dbt on the warehouse and then publishes a read-only copy. These
functions hold DuckDB's single write lock only for as long as they run; Airflow
serialises them through the one-slot ``duckdb_writer`` pool (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion import inbox, ledger
from ingestion.config import Settings
from ingestion.core import LINEAGE_COLUMNS, RefusedDelivery, Source
from ingestion.duck import connect, ensure_spatial_installed
from ingestion.sources import SOURCES

log = logging.getLogger("ksp")


@dataclass
class LoadResult:
    """What happened to one delivery; printed by ``ksp ingest`` and in task logs."""

    source: str
    file_name: str
    status: str  # loaded | refused | duplicate
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    delivery_id: str = ""

    def line(self) -> str:
        if self.status == "loaded":
            return (f"{self.source}/{self.file_name}: loaded {self.rows_loaded} of {self.rows_read} "
                    f"rows, {self.rows_rejected} quarantined")
        if self.status == "refused":
            return f"{self.source}/{self.message}"
        return f"{self.source}/{self.file_name}: {self.status}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _open_ledger(cfg: Settings):
    cfg.ensure_dirs()
    con = connect(cfg.ledger_path, cfg)
    ledger.init(con, SOURCES.values())
    return con


def ingest(cfg: Settings, sources: list[str] | None = None) -> list[LoadResult]:
    """Process every delivery waiting for the given sources (all by default), once."""
    names = sources or sorted(SOURCES)
    con = _open_ledger(cfg)
    results: list[LoadResult] = []
    try:
        for name in names:
            source = SOURCES[name]
            received = cfg.received_dir / name
            inbox.claim(cfg.inbox_dir / name, received, settle_seconds=0)
            for path in inbox.pending(received):
                result = ingest_file(cfg, con, source, path)
                log.info(result.line())
                results.append(result)
    finally:
        con.close()
    return results


def ingest_file(cfg: Settings, con: Any, source: Source, path: Path) -> LoadResult:
    """Land one claimed delivery, or refuse it; either way the bytes are kept and ledgered."""
    delivery_id = _sha256(path)
    short = delivery_id[:12]
    received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    previous = ledger.lookup(con, delivery_id)
    if previous is not None:
        kept = Path(previous["kept_path"])
        if not kept.exists():  # the earlier run died between its commit and the move
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, kept)
        else:
            path.unlink()
        _cleanup_claim_dir(path)
        return LoadResult(source.name, path.name, "duplicate", delivery_id=delivery_id,
                          message=f"same bytes as the delivery {previous['status']} at "
                                  f"{previous['finished_at']:%Y-%m-%d %H:%M} UTC; nothing changed")

    archive_path = cfg.archive_dir / source.name / f"{short}__{path.name}"
    refused_path = cfg.refused_dir / source.name / f"{short}__{path.name}"
    try:
        name = source.match(path)
        parsed = source.parse(path)
        from ingestion.validation import validate

        outcome = validate(parsed, source=source.name, file=path.name,
                           expectations_dir=cfg.expectations_dir)
        rejects = sorted([*parsed.rejects, *outcome.rejects], key=lambda r: r.line)
        rejected_lines = {r.line for r in rejects}
        if parsed.rows_read and len(rejected_lines) / parsed.rows_read > cfg.max_reject_share:
            worst = max({r.rule for r in rejects}, key=lambda rule: sum(r.rule == rule for r in rejects))
            first = rejects[0]
            raise RefusedDelivery(
                path.name, "reject_share",
                f"{len(rejected_lines)} of {parsed.rows_read} rows break row rules "
                f"(> {cfg.max_reject_share:.0%}); most common rule '{worst}', first at line "
                f"{first.line}: {first.rule} {first.detail}", line=first.line)
    except RefusedDelivery as refusal:
        return _refuse(cfg, con, source, path, delivery_id, received_at, refused_path, refusal)

    good = parsed.frame[~parsed.frame["_line"].isin(rejected_lines)]
    now = datetime.now(UTC)
    landing_path = cfg.landing_dir / source.name / f"{name.period_key}__r{name.revision}__{short}.parquet"
    _write_parquet(con, source, good, landing_path, delivery_id=delivery_id, file_name=path.name,
                   period_key=name.period_key, at=now)
    con.execute("begin transaction")
    try:
        ledger.record(con, {
            "delivery_id": delivery_id, "source": source.name, "file_name": path.name,
            "period_key": name.period_key, "revision": name.revision, "status": "loaded",
            "rows_read": parsed.rows_read, "rows_loaded": len(good),
            "rows_rejected": len(rejected_lines), "landing_path": str(landing_path),
            "kept_path": str(archive_path), "rule": None, "message": None,
            "received_at": received_at, "finished_at": now,
        })
        ledger.quarantine(con, delivery_id=delivery_id, source=source.name, file_name=path.name,
                          rejects=rejects, at=now)
        ledger.refresh_landing_view(con, source)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, archive_path)
    _cleanup_claim_dir(path)
    return LoadResult(source.name, path.name, "loaded", parsed.rows_read, len(good),
                      len(rejected_lines), delivery_id=delivery_id)


def _write_parquet(con: Any, source: Source, frame: Any, target: Path, *, delivery_id: str,
                   file_name: str, period_key: str, at: datetime) -> None:
    """Write the typed landing copy atomically (temporary file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    con.register("_landing_frame", frame)
    try:
        casts = [f'cast("{c}" as {t}) as "{c}"' for c, t in source.columns]
        lineage = {
            "_line": 'cast("_line" as integer)',
            "_delivery_id": "?",
            "_source_file": "?",
            "_period_key": "?",
            "_ingested_at": "cast(? as timestamptz)",
        }
        select = ", ".join([*casts, *(f'{expr} as "{c}"' for c, expr in lineage.items())])
        assert [c for c, _ in LINEAGE_COLUMNS] == list(lineage)
        con.execute(
            f"copy (select {select} from _landing_frame order by _line) to '{tmp}' "
            "(format parquet, compression zstd)",
            [delivery_id, file_name, period_key, at],
        )
    finally:
        con.unregister("_landing_frame")
    os.replace(tmp, target)


def _refuse(cfg: Settings, con: Any, source: Source, path: Path, delivery_id: str,
            received_at: datetime, refused_path: Path, refusal: RefusedDelivery) -> LoadResult:
    now = datetime.now(UTC)
    ledger.record(con, {
        "delivery_id": delivery_id, "source": source.name, "file_name": path.name,
        "period_key": None, "revision": None, "status": "refused", "rows_read": None,
        "rows_loaded": 0, "rows_rejected": None, "landing_path": None,
        "kept_path": str(refused_path), "rule": refusal.rule, "message": str(refusal),
        "received_at": received_at, "finished_at": now,
    })
    refused_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, refused_path)
    refused_path.with_name(refused_path.name + ".reason.txt").write_text(str(refusal) + "\n",
                                                                         encoding="utf-8")
    _cleanup_claim_dir(path)
    return LoadResult(source.name, path.name, "refused", message=str(refusal),
                      delivery_id=delivery_id)


def _cleanup_claim_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.parent.rmdir()


# --------------------------------------------------------------------------- build


def dbt_env(cfg: Settings) -> dict[str, str]:
    """The environment dbt runs in: every path through ``env_var()`` in profiles.yml."""
    env = dict(os.environ)
    env.update({
        "KSP_WAREHOUSE_PATH": str(cfg.warehouse_path),
        "KSP_LEDGER_PATH": str(cfg.ledger_path),
        "KSP_DUCKDB_EXTENSION_DIR": str(cfg.extension_dir),
        "KSP_REFERENCE_DIR": str(cfg.reference_dir),
        "DBT_PROFILES_DIR": str(cfg.dbt_project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    return env


def run_dbt(cfg: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment as a child process (it releases every lock on exit)."""
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [str(dbt), "--no-use-colors", *args, "--project-dir", str(cfg.dbt_project_dir),
           "--target-path", str(cfg.data_dir / "dbt" / "target"),
           "--log-path", str(cfg.data_dir / "dbt" / "logs")]
    return subprocess.run(cmd, env=dbt_env(cfg), text=True, capture_output=True, check=False)


class BuildFailed(RuntimeError):
    """dbt build failed; the published warehouse is left as it was."""


def build(cfg: Settings) -> dict[str, Any]:
    """``dbt build`` (models and tests) on the warehouse, then publish it for readers."""
    cfg.ensure_dirs()
    ensure_spatial_installed(cfg)
    build_id = uuid.uuid4().hex[:12]
    con = _open_ledger(cfg)
    con.execute("insert into ops.builds values (?, ?, null, 'running', null, null)",
                [build_id, datetime.now(UTC)])
    con.close()
    status, message, published_at = "failed", "", None
    try:
        proc = run_dbt(cfg, "build")
        output = proc.stdout + proc.stderr
        log.info("dbt build output:\n%s", output)
        if proc.returncode == 0:
            published_at = publish(cfg, build_id)
            status, message = "success", _dbt_summary(output)
        else:
            message = _dbt_failures(output)
    except BaseException as e:  # record the failure, then let it propagate
        message = f"{type(e).__name__}: {e}"
        raise
    finally:
        con = _open_ledger(cfg)
        con.execute("update ops.builds set finished_at = ?, status = ?, message = ?, "
                    "published_at = ? where build_id = ?",
                    [datetime.now(UTC), status, message, published_at, build_id])
        con.close()
    if status != "success":
        raise BuildFailed(f"dbt build failed (build {build_id}); the published warehouse is "
                          f"unchanged.\n{message}")
    return {"build_id": build_id, "status": status, "published_path": str(cfg.published_path)}


def _dbt_summary(output: str) -> str:
    lines = [ln for ln in output.splitlines() if "Done. PASS=" in ln]
    return lines[-1].split("Done. ", 1)[1] if lines else output[-500:]


def _dbt_failures(output: str) -> str:
    keep = ("ERROR", "FAIL ", "Error", "error", "Got ", "Done. PASS=")
    lines = [ln.strip() for ln in output.splitlines() if any(k in ln for k in keep)]
    return "\n".join(lines[-30:]) or output[-3000:]


PUBLISHED_SCHEMAS = ("marts",)


def publish(cfg: Settings, build_id: str) -> datetime:
    """Copy the marts into a new file and swap it in atomically.

    Readers open ``published/ksp.duckdb`` read-only; a rename replaces it in one step,
    so a reader sees the old or the new warehouse, never a half-built one, and an
    open reader keeps its old copy until it closes. Only marts are published: staging
    and intermediate layers stay with the data engineers.
    """
    target = cfg.published_path
    tmp = target.with_name(f".{target.name}.{build_id}.tmp")
    tmp.unlink(missing_ok=True)
    now = datetime.now(UTC)
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
        con.execute("create table meta.build_info as select ? as build_id, ? as published_at",
                    [build_id, now])
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(tmp, target)
    shutil.rmtree(tmp.with_suffix(".tmp.wal"), ignore_errors=True)
    return now
