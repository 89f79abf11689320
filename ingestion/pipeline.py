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
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter, time_ns
from typing import Any, NamedTuple

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
    reject_rules: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if self.status == "loaded":
            rules = ", ".join(f"{rule} x{n}" for rule, n in sorted(self.reject_rules.items()))
            return (f"{self.source}/{self.file_name}: loaded {self.rows_loaded} of {self.rows_read} "
                    f"rows, {self.rows_rejected} quarantined" + (f" ({rules})" if rules else ""))
        if self.status == "refused":
            return f"{self.source}/{self.message}"
        return f"{self.source}/{self.file_name}: {self.status}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    """The delivery's identity: its file name and its bytes.

    The same file delivered again is a no-op; the same bytes under another name (an
    unchanged inventory snapshot on a new date) are a new delivery of another period.
    """
    h = hashlib.sha256(path.name.encode("utf-8") + b"\0")
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _open_ledger(cfg: Settings):
    cfg.ensure_dirs()
    con = connect(cfg.ledger_path, cfg)
    ledger.init(con, SOURCES.values(), cfg.data_dir)
    return con


BATCH_ROWS = 250_000  # rows validated together: bounds memory, amortises GX's per-run cost


@dataclass
class _Pending:
    path: Path
    delivery_id: str
    received_at: datetime
    name: Any  # FileName
    parsed: Any  # Parsed


def ingest(cfg: Settings, sources: list[str] | None = None, *,
           timings: dict[str, float] | None = None) -> list[LoadResult]:
    """Process every delivery waiting for the given sources (all by default), once.

    Files are parsed one by one; their rows are validated by Great Expectations in
    batches of up to ``BATCH_ROWS`` and each batch becomes visible in one transaction.
    ``timings``, if given, receives the seconds spent parsing, validating and landing.
    """
    clock = timings if timings is not None else {}
    for phase in ("parse", "validate", "land"):
        clock.setdefault(phase, 0.0)
    names = sources or sorted(SOURCES)
    con = _open_ledger(cfg)
    results: list[LoadResult] = []
    try:
        for name in names:
            source = SOURCES[name]
            received = cfg.received_dir / name
            inbox.claim(cfg.inbox_dir / name, received, settle_seconds=0)
            batch: list[_Pending] = []
            rows = 0
            seen: dict[str, str] = {}
            for path in inbox.pending(received):
                t0 = perf_counter()
                item = _prepare(cfg, con, source, path, seen, results)
                clock["parse"] += perf_counter() - t0
                if item is None:
                    continue
                batch.append(item)
                rows += len(item.parsed.frame)
                if rows >= BATCH_ROWS:
                    results += _land_batch(cfg, con, source, batch, clock)
                    batch, rows = [], 0
            if batch:
                results += _land_batch(cfg, con, source, batch, clock)
            from ingestion.validation import publish_data_docs

            if any(r.source == name and r.status != "duplicate" for r in results):
                publish_data_docs(cfg.gx_root)
    finally:
        con.close()
    for r in results:
        log.info(r.line())
    return results


def _prepare(cfg: Settings, con: Any, source: Source, path: Path, seen: dict[str, str],
             results: list[LoadResult]) -> _Pending | None:
    """Hash and parse one claimed delivery; duplicates and refusals are settled here."""
    delivery_id = _sha256(path)
    received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    previous = ledger.lookup(con, delivery_id)
    if previous is not None or delivery_id in seen:
        kept = cfg.from_stored(previous["kept_path"]) if previous is not None else None
        if previous is not None and not previous.get("purged_at") and not kept.exists():
            # an earlier run died between its commit and the move: finish the move
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, kept)
        else:
            path.unlink()
        _cleanup_claim_dir(path)
        when = (f"{previous['status']} at {previous['finished_at']:%Y-%m-%d %H:%M} UTC" if previous
                else f"delivered as {seen[delivery_id]} in this run")
        results.append(LoadResult(source.name, path.name, "duplicate", delivery_id=delivery_id,
                                  message=f"same bytes as the delivery {when}; nothing changed"))
        return None
    seen[delivery_id] = path.name
    try:
        name = source.match(path)
        parsed = source.parse(path)
        if parsed.rows_read == 0:
            raise RefusedDelivery(path.name, "no_rows", "the file has a header but no records")
        from ingestion.validation import validate_file_rules

        validate_file_rules(parsed, source=source.name, file=path.name, expectations_dir=cfg.expectations_dir)
    except RefusedDelivery as refusal:
        results.append(_refuse(cfg, con, source, path, delivery_id, received_at, refusal))
        return None
    return _Pending(path, delivery_id, received_at, name, parsed)


def _land_batch(cfg: Settings, con: Any, source: Source, batch: list[_Pending],
                clock: dict[str, float]) -> list[LoadResult]:
    """Validate a batch's rows with GX, then land every file of it in one transaction."""
    from ingestion.validation import validate_rows

    t0 = perf_counter()
    row_rejects = validate_rows([b.parsed for b in batch], files=[b.path.name for b in batch], source=source.name,
                                expectations_dir=cfg.expectations_dir, gx_root=cfg.gx_root)
    t1 = perf_counter()
    clock["validate"] += t1 - t0
    results: list[LoadResult] = []
    landed: list[tuple[_Pending, list[Any], Path, Path, int]] = []
    now = datetime.now(UTC)
    for item, found in zip(batch, row_rejects, strict=True):
        parsed, path = item.parsed, item.path
        rejects = sorted([*parsed.rejects, *found], key=lambda r: r.line)
        lines = {r.line for r in rejects}
        if len(lines) / parsed.rows_read > cfg.max_reject_share:
            worst = max({r.rule for r in rejects}, key=lambda rule: sum(r.rule == rule for r in rejects))
            first = rejects[0]
            refusal = RefusedDelivery(
                path.name, "reject_share",
                f"{len(lines)} of {parsed.rows_read} rows break row rules (> {cfg.max_reject_share:.0%}); most "
                f"common rule '{worst}', first at line {first.line}: {first.rule} {first.detail}", line=first.line)
            results.append(_refuse(cfg, con, source, path, item.delivery_id, item.received_at, refusal))
            continue
        good = parsed.frame[~parsed.frame["_line"].isin(lines)]
        short = item.delivery_id[:12]
        target = cfg.landing_dir / source.name / f"{item.name.period_key}__r{item.name.revision}__{short}.parquet"
        _write_parquet(con, source, good, target, delivery_id=item.delivery_id, file_name=path.name,
                       period_key=item.name.period_key, at=now)
        landed.append((item, rejects, target, cfg.archive_dir / source.name / f"{short}__{path.name}", len(good)))
    if not landed:
        return results
    con.execute("begin transaction")
    try:
        for item, rejects, target, archive, n_good in landed:
            ledger.record(con, {
                "delivery_id": item.delivery_id, "source": source.name, "file_name": item.path.name,
                "period_key": item.name.period_key, "revision": item.name.revision, "status": "loaded",
                "rows_read": item.parsed.rows_read, "rows_loaded": n_good,
                "rows_rejected": len({r.line for r in rejects}), "landing_path": cfg.to_stored(target),
                "kept_path": cfg.to_stored(archive), "rule": None, "message": None,
                "received_at": item.received_at, "finished_at": now,
            })
            ledger.quarantine(con, delivery_id=item.delivery_id, source=source.name, file_name=item.path.name,
                              rejects=rejects, at=now)
        ledger.refresh_landing_view(con, source, cfg.data_dir)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for item, rejects, _target, archive, n_good in landed:
        archive.parent.mkdir(parents=True, exist_ok=True)
        os.replace(item.path, archive)
        _cleanup_claim_dir(item.path)
        results.append(LoadResult(source.name, item.path.name, "loaded", item.parsed.rows_read, n_good,
                                  len({r.line for r in rejects}), delivery_id=item.delivery_id,
                                  reject_rules=dict(Counter(r.rule for r in rejects))))
    clock["land"] += perf_counter() - t1
    return results


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


def _refuse(cfg: Settings, con: Any, source: Source, path: Path, delivery_id: str, received_at: datetime,
            refusal: RefusedDelivery) -> LoadResult:
    """Keep the bytes in ``refused/`` with a reason file and record the refusal in the ledger."""
    now = datetime.now(UTC)
    refused_path = cfg.refused_dir / source.name / f"{delivery_id[:12]}__{path.name}"
    ledger.record(con, {
        "delivery_id": delivery_id, "source": source.name, "file_name": path.name,
        "period_key": None, "revision": None, "status": "refused", "rows_read": None,
        "rows_loaded": 0, "rows_rejected": None, "landing_path": None,
        "kept_path": cfg.to_stored(refused_path), "rule": refusal.rule, "message": str(refusal),
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
    return {**os.environ, **cfg.dbt_env()}


def run_dbt(cfg: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment as a child process (it releases every lock on exit)."""
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [str(dbt), "--no-use-colors", *args, "--project-dir", str(cfg.dbt_project_dir),
           "--target-path", str(cfg.data_dir / "dbt" / "target"),
           "--log-path", str(cfg.data_dir / "dbt" / "logs")]
    return subprocess.run(cmd, env=dbt_env(cfg), text=True, capture_output=True, check=False)


def model_docs(cfg: Settings) -> Path:
    """dbt's documentation site for the warehouse as one self-contained HTML file:
    every model, column, test, exposure and the lineage graph, with the catalog read
    from the built warehouse (run after a build)."""
    proc = run_dbt(cfg, "docs", "generate", "--static")
    if proc.returncode:
        raise BuildFailed(f"dbt docs generate failed:\n{_dbt_failures(proc.stdout + proc.stderr)}")
    return cfg.data_dir / "dbt" / "target" / "static_index.html"


class BuildFailed(RuntimeError):
    """dbt build failed; the published warehouse is left as it was."""


def start_build(cfg: Settings) -> str:
    """Record a build as running in ``ops.builds``; returns its id."""
    cfg.ensure_dirs()
    ensure_spatial_installed(cfg)
    build_id = uuid.uuid4().hex[:12]
    con = _open_ledger(cfg)
    try:
        con.execute("insert into ops.builds values (?, ?, null, 'running', null, null)",
                    [build_id, datetime.now(UTC)])
    finally:
        con.close()
    return build_id


def finish_build(cfg: Settings, build_id: str, status: str, message: str,
                 published_at: datetime | None = None) -> None:
    con = _open_ledger(cfg)
    try:
        con.execute("update ops.builds set finished_at = ?, status = ?, message = ?, "
                    "published_at = ? where build_id = ?",
                    [datetime.now(UTC), status, message, published_at, build_id])
    finally:
        con.close()


def source_selector(source: str) -> str:
    """dbt's selector for a changed landing table: its source and everything built on it."""
    return f"source:{source}.{source}+"


def plan_build(cfg: Settings, changed_sources: list[str]) -> dict[str, Any]:
    """What the build DAG must rebuild for these changed landing tables.

    Only the dbt nodes downstream of the changed sources (dbt's own selector
    ``source:<s>.<s>+``), unless a full build is due: nothing was named (a manual run),
    no build has succeeded since the dbt project last changed (``manifest.json`` is
    newer), or the last build failed (its models may be half-built).
    """
    if not cfg.dbt_manifest_path.exists():
        raise FileNotFoundError(
            f"dbt's parsed project {cfg.dbt_manifest_path} is missing: run `make setup` (or `ksp manifest`)")
    build_id = start_build(cfg)
    con = _open_ledger(cfg)
    try:
        last = con.execute(
            "select status, started_at from ops.builds where status in ('success', 'failed') "
            "order by started_at desc limit 1").fetchone()
    finally:
        con.close()
    manifest_changed = last is None or (
        datetime.fromtimestamp(cfg.dbt_manifest_path.stat().st_mtime, UTC) > last[1])
    reason = ("manual run" if not changed_sources else "first build" if last is None
              else "last build failed" if last[0] != "success"
              else "dbt project changed" if manifest_changed or not cfg.warehouse_path.exists() else "")
    plan = {"build_id": build_id, "changed_sources": changed_sources, "full": bool(reason),
            "reason": reason or f"only what depends on {', '.join(changed_sources)}",
            "select": None if reason else [source_selector(s) for s in changed_sources]}
    log.info("build %s plan: %s (dbt --select %s)", build_id, plan["reason"],
             " ".join(plan["select"] or ["(all)"]))
    return plan


def build(cfg: Settings) -> dict[str, Any]:
    """``dbt build`` of the whole project, then publish (``ksp build``)."""
    build_id = start_build(cfg)
    status, message, published_at = "failed", "", None
    try:
        message = run_build(cfg, build_id)
        published_at = publish(cfg, build_id)
        status = "success"
    except BuildFailed as e:
        message = str(e)
        raise
    except BaseException as e:  # record the failure, then let it propagate
        message = f"{type(e).__name__}: {e}"
        raise
    finally:
        finish_build(cfg, build_id, status, message, published_at)
    return {"build_id": build_id, "status": status, "published_path": str(cfg.published_path)}


def run_build(cfg: Settings, build_id: str, select: list[str] | None = None, attempt: int = 1) -> str:
    """One ``dbt build`` process over the selected nodes (all without a selection).

    One process, not one per node: DuckDB has a single writer, so per-node processes
    could never run side by side and each paid dbt's start-up (docs/architecture.md).
    dbt's own graph order still holds: a failed model or test skips everything
    downstream of it. What dbt did with every node goes to ``ops.build_nodes``.
    Returns dbt's summary line; raises ``BuildFailed`` naming the failed nodes.
    """
    target = cfg.data_dir / "dbt" / "target"
    (target / "run_results.json").unlink(missing_ok=True)
    proc = run_dbt(cfg, "build", *(["--select", *select] if select else []))
    output = proc.stdout + proc.stderr
    log.info("dbt build output:\n%s", output)
    nodes = _record_nodes(cfg, build_id, attempt, target / "run_results.json")
    if proc.returncode == 0:
        return _dbt_summary(output)
    raise BuildFailed(failure_summary(build_id, nodes) + _dbt_failures(output))


class NodeResult(NamedTuple):
    """What dbt did with one node of a build (a row of ``ops.build_nodes``)."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str


def failure_summary(build_id: str, nodes: list[NodeResult]) -> str:
    """The failed nodes of a build and how many were skipped below them (log, ledger, mail)."""
    failed = [f"{n.resource_type} {n.name}: {n.status} {n.message}".rstrip()
              for n in nodes if n.status in ("error", "fail")]
    skipped = sum(n.status == "skipped" for n in nodes)
    return (f"dbt build failed (build {build_id}); the published warehouse is unchanged.\n"
            + ("\n".join(failed) + f"\n{skipped} node(s) downstream skipped\n" if failed else ""))


def recorded_nodes(cfg: Settings, build_id: str) -> list[NodeResult]:
    """The node results of a build's last attempt, as ``ops.build_nodes`` keeps them."""
    con = _open_ledger(cfg)
    try:
        rows = con.execute(
            "select unique_id, resource_type, name, status, coalesce(message, '') from ops.build_nodes "
            "where build_id = ? qualify attempt = max(attempt) over () order by unique_id",
            [build_id]).fetchall()
    finally:
        con.close()
    return [NodeResult(*r) for r in rows]


def _record_nodes(cfg: Settings, build_id: str, attempt: int, run_results: Path) -> list[NodeResult]:
    """Keep dbt's per-node results of this attempt in ``ops.build_nodes``."""
    import json

    if not run_results.exists():  # dbt stopped before running anything (e.g. a compilation error)
        return []
    rows = []
    for r in json.loads(run_results.read_text())["results"]:
        uid = r["unique_id"]
        kind, _project, *rest = uid.split(".")
        name = rest[-1] if kind == "unit_test" else rest[0]  # a data test's id ends in a hash
        rows.append((build_id, attempt, uid, kind, name, r["status"], r.get("execution_time"),
                     (r.get("message") or "")[:2000]))
    con = _open_ledger(cfg)
    try:
        con.execute("delete from ops.build_nodes where build_id = ? and attempt = ?", [build_id, attempt])
        con.executemany("insert into ops.build_nodes values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()
    return [NodeResult(r[2], r[3], r[4], r[5], r[7]) for r in rows]


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


# --------------------------------------------------------------------------- replay


def replay(cfg: Settings, *, source: str | None = None, file_name: str | None = None,
           include_quarantined: bool = False) -> list[LoadResult]:
    """Run refused deliveries (and, optionally, loaded ones with quarantined rows) again.

    Use it after fixing a parser, a suite or the taxonomy: the kept bytes go back to
    ``received/`` and through the whole path; the earlier outcome is kept in
    ``ops.replays``. A delivery that now loads supersedes nothing it should not: the
    ledger's period rules apply as for any delivery.
    """
    con = _open_ledger(cfg)
    try:
        con.execute("""create table if not exists ops.replays (
            delivery_id varchar, source varchar, file_name varchar, previous_status varchar, rule varchar,
            message varchar, rows_rejected integer, replayed_at timestamptz)""")
        statuses = ["refused", "loaded"] if include_quarantined else ["refused"]
        rows = con.execute(
            "select delivery_id, source, file_name, status, kept_path from ops.load_ledger "
            f"where status in ({', '.join('?' * len(statuses))}) "
            "and (? is null or source = ?) and (? is null or file_name = ?) "
            "and (status = 'refused' or rows_rejected > 0) order by finished_at",
            [*statuses, source, source, file_name, file_name]).fetchall()
        now = datetime.now(UTC)
        sources = set()
        con.execute("begin transaction")
        try:
            for delivery_id, src, name, _status, kept in rows:
                con.execute("insert into ops.replays select delivery_id, source, file_name, status, rule, message, "
                            "rows_rejected, ? from ops.load_ledger where delivery_id = ?", [now, delivery_id])
                con.execute("delete from ops.quarantine where delivery_id = ?", [delivery_id])
                con.execute("delete from ops.load_ledger where delivery_id = ?", [delivery_id])
                target = cfg.received_dir / src / f"replay-{time_ns()}" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(cfg.from_stored(kept), target)
                sources.add(src)
            for src in sources:
                ledger.refresh_landing_view(con, SOURCES[src], cfg.data_dir)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        for _delivery_id, _src, _name, status, kept in rows:
            if status == "refused":
                cfg.from_stored(kept).unlink(missing_ok=True)
                cfg.from_stored(kept + ".reason.txt").unlink(missing_ok=True)
    finally:
        con.close()
    return ingest(cfg, sorted(sources)) if sources else []
