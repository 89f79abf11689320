"""Retention: raw personal data is deleted after ``KSP_RETENTION_DAYS``; what it proved stays.

What the daily ``purge_personal_data`` DAG runs. Ingestion owns the raw bytes it kept
(``archive/``, ``refused/``, the streamed SOS hours) and the quarantine's raw values,
so their deletion lives beside the ledger that records it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from ingestion import ledger
from ingestion.config import Settings

log = logging.getLogger(__name__)


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
    con = ledger.open_for_writing(cfg)
    try:
        rows = ledger.kept_before(con, cutoff)
        con.execute("begin transaction")
        for delivery_id, kept in rows:
            for p in (cfg.from_stored(kept), cfg.from_stored(kept + ".reason.txt")):
                if p.exists():
                    p.unlink()
                    counts["files_deleted"] += p.suffix != ".txt"
            ledger.mark_purged(con, delivery_id, now)
        counts["quarantine_rows_cleared"] = ledger.clear_quarantined_values(con, cutoff)
        con.execute("commit")
    finally:
        con.close()
    for f in cfg.stream_dir.rglob("*.jsonl") if cfg.stream_dir.exists() else ():
        if datetime.fromtimestamp(f.stat().st_mtime, UTC) < cutoff:
            f.unlink()
            counts["stream_files_deleted"] += 1
    log.info("retention purge (older than %s): %s", cutoff.date(), counts)
    return counts
