"""Publication: the marts copied into a new read-only file, swapped in atomically."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from ingestion import ledger
from ingestion.config import Settings
from ingestion.duck import connect

PUBLISHED_SCHEMAS = ("marts",)
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
    return reaped


def publish(cfg: Settings, build_id: str) -> datetime:
    """Copy the marts into a new file and swap it in atomically.

    Readers open ``published/ksp.duckdb`` read-only; a rename replaces it in one step,
    so a reader sees the old or the new warehouse, never a half-built one, and an
    open reader keeps its old copy until it closes. Only marts are published: staging
    and intermediate layers stay with the data engineers; beside them, ``meta`` holds the
    build's id and time and the deliveries' record (status, rules, counts) for reports.
    """
    target = cfg.published_path
    tmp = _temporary(cfg, build_id)
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
        # what the reports say about deliveries (refused, quarantined): readers open this file only
        con.execute(f"attach '{cfg.ledger_path}' as ledger (read_only)")
        ledger.copy_delivery_record(con, "ledger")
        con.execute("detach ledger")
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(tmp, target)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return now
