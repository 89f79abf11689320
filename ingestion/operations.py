"""Calendar-bound operations: freshness checks, delivery deadlines, retention purge.

Each function is what one scheduled DAG runs (``dags/check_*``, ``dags/purge_*``); each
is idempotent and raises :class:`LateData` when the city's calendar was not met, so
Airflow retries it (the delivery may still arrive) and, after the last retry, alerts.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from ingestion.config import Settings

log = logging.getLogger(__name__)


class LateData(RuntimeError):
    """An expected delivery has not landed by its deadline, or a source is stale."""


# --------------------------------------------------------------------------- deadlines


def previous_month(day: date) -> str:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def survey_wave_due(day: date) -> str:
    """The wave a check on ``day`` expects: from July the year's spring wave (``2025W``,
    ``ankieta_2025_wiosna``), before July the previous year's autumn wave (``2024J``)."""
    return f"{day.year}W" if day.month >= 7 else f"{day.year - 1}J"


def _ledger_ro(cfg: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(cfg.ledger_path), read_only=True)


def landed_periods(cfg: Settings, source: str) -> set[str]:
    if not cfg.ledger_path.exists():
        return set()
    con = _ledger_ro(cfg)
    try:
        return {r[0] for r in con.execute(
            "select period_key from ops.current_deliveries where source = ?", [source]).fetchall()}
    finally:
        con.close()


def expect_periods(cfg: Settings, expected: dict[str, str]) -> dict[str, str]:
    """Raise :class:`LateData` unless every ``source -> period_key`` has a current delivery."""
    missing = {s: p for s, p in expected.items() if p not in landed_periods(cfg, s)}
    if missing:
        raise LateData("not delivered by the deadline: " + ", ".join(
            f"{s} for {p} (expected in inbox/{s}/)" for s, p in sorted(missing.items())))
    log.info("all expected deliveries landed: %s", expected)
    return expected


def expect_recent_snapshots(cfg: Settings, sources: list[str], today: date) -> dict[str, str]:
    """Raise :class:`LateData` unless each register has a snapshot dated within the allowed age."""
    max_age = int(os.environ.get("KSP_CAMERA_INVENTORY_MAX_AGE_DAYS", "35"))
    latest: dict[str, str] = {}
    for source in sources:
        dated = sorted(p for p in landed_periods(cfg, source) if len(p) == 10)
        latest[source] = dated[-1] if dated else "never"
    stale = {s: d for s, d in latest.items() if d == "never" or (today - date.fromisoformat(d)).days > max_age}
    if stale:
        raise LateData(f"camera registers older than {max_age} days on {today}: " + ", ".join(
            f"{s} (latest snapshot {d})" for s, d in sorted(stale.items())))
    return latest


# --------------------------------------------------------------------------- freshness


@dataclass(frozen=True)
class Freshness:
    source: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: str | None
    age_hours: float | None


def source_freshness(cfg: Settings) -> list[Freshness]:
    """``dbt source freshness`` on the landed tables (thresholds in each ``_<source>__sources.yml``)."""
    from ingestion.pipeline import run_dbt

    target = cfg.data_dir / "dbt" / "freshness"
    proc = run_dbt(cfg, "source", "freshness", "--output", str(target / "sources.json"))
    results_path = target / "sources.json"
    if not results_path.exists():
        raise RuntimeError(f"dbt source freshness did not run:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    results = json.loads(results_path.read_text())["results"]
    out = [Freshness(r["unique_id"].rsplit(".", 1)[-1], r["status"], r.get("max_loaded_at"),
                     round(r["max_loaded_at_time_ago_in_s"] / 3600, 1)
                     if r.get("max_loaded_at_time_ago_in_s") is not None else None)
           for r in results]
    return sorted(out, key=lambda f: f.source)


def check_freshness(cfg: Settings) -> list[dict[str, Any]]:
    """Raise :class:`LateData` when a source is past its ``error_after``; warn in the log."""
    results = source_freshness(cfg)
    for f in results:
        (log.warning if f.status != "pass" else log.info)(
            "freshness %-14s %-5s last landed %s (%s h ago)", f.source, f.status, f.max_loaded_at, f.age_hours)
    stale = [f for f in results if f.status in {"error", "runtime error"}]
    if stale:
        raise LateData("stale sources: " + ", ".join(
            f"{f.source} (last landed {f.max_loaded_at or 'never'})" for f in stale))
    return [f.__dict__ for f in results]


# --------------------------------------------------------------------------- retention


def purge_personal_data(cfg: Settings, now: datetime | None = None) -> dict[str, int]:
    """Delete raw personal data older than ``KSP_RETENTION_DAYS``; keep what it proved.

    Delivered bytes (``archive/``, ``refused/``, streamed SOS hours) carry names in free
    text, and a refused ANPR file may carry plates. After the retention period the
    files are deleted and the ledger says when (``purged_at``); quarantined rows keep
    their line, rule and column, but lose their raw values. Landed Parquet is already
    scrubbed at the door and stays. Running it twice changes nothing.
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=cfg.retention_days)
    counts = {"files_deleted": 0, "quarantine_rows_cleared": 0, "stream_files_deleted": 0}
    from ingestion.pipeline import _open_ledger

    con = _open_ledger(cfg)
    try:
        rows = con.execute(
            "select delivery_id, kept_path from ops.load_ledger "
            "where finished_at < ? and kept_path is not null and purged_at is null", [cutoff]).fetchall()
        con.execute("begin transaction")
        for delivery_id, kept in rows:
            for p in (cfg.from_stored(kept), cfg.from_stored(kept + ".reason.txt")):
                if p.exists():
                    p.unlink()
                    counts["files_deleted"] += p.suffix != ".txt"
            con.execute("update ops.load_ledger set purged_at = ? where delivery_id = ?", [now, delivery_id])
        cleared = con.execute(
            "update ops.quarantine set raw_values = null where quarantined_at < ? and raw_values is not null",
            [cutoff]).fetchone()
        counts["quarantine_rows_cleared"] = int(cleared[0]) if cleared else 0
        con.execute("commit")
    finally:
        con.close()
    for f in cfg.stream_dir.rglob("*.jsonl") if cfg.stream_dir.exists() else ():
        if datetime.fromtimestamp(f.stat().st_mtime, UTC) < cutoff:
            f.unlink()
            counts["stream_files_deleted"] += 1
    log.info("retention purge (older than %s): %s", cutoff.date(), counts)
    return counts
