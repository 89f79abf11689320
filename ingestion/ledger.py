"""The load ledger, the quarantine and the landing views, in ``ops/ledger.duckdb``.

The ledger is what makes ingestion exactly-once per content and what decides which
landed Parquet files are visible: the view ``landing.<source>`` lists exactly the
current deliveries, and it is replaced in the same transaction that records a load.
A Parquet file written by a load that died before that commit is never read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.core import LINEAGE_COLUMNS, Reject, Source

DDL = """
create schema if not exists ops;
create schema if not exists landing;
create table if not exists ops.load_ledger (
    delivery_id   varchar primary key,   -- sha256 of the file name and the delivered bytes
    source        varchar not null,
    file_name     varchar not null,
    period_key    varchar,
    revision      integer,
    status        varchar not null,      -- loaded | refused
    rows_read     integer,
    rows_loaded   integer,
    rows_rejected integer,
    landing_path  varchar,
    kept_path     varchar,               -- archive/ or refused/ copy of the delivered bytes
    rule          varchar,
    message       varchar,
    received_at   timestamptz not null,
    finished_at   timestamptz not null
);
-- set by the retention purge when the kept bytes were deleted (ingestion/operations.py)
alter table ops.load_ledger add column if not exists purged_at timestamptz;
create table if not exists ops.quarantine (
    delivery_id    varchar not null,
    source         varchar not null,
    file_name      varchar not null,
    line_no        integer not null,
    rule           varchar not null,
    column_name    varchar,
    detail         varchar,
    raw_values     json,
    quarantined_at timestamptz not null
);
create table if not exists ops.builds (
    build_id     varchar primary key,
    started_at   timestamptz not null,
    finished_at  timestamptz,
    status       varchar not null,     -- running | success | failed
    message      varchar,
    published_at timestamptz
);
-- what dbt did with each node (model, seed, test) in a build, from its run_results.json
create table if not exists ops.build_nodes (
    build_id       varchar not null,
    attempt        integer not null,
    unique_id      varchar not null,
    resource_type  varchar not null,
    name           varchar not null,
    status         varchar not null,   -- success | error | skipped | pass | fail | warn
    execution_s    double,
    message        varchar,
    primary key (build_id, attempt, unique_id)
);
create or replace view ops.current_deliveries as
select *
from ops.load_ledger
where status = 'loaded'
qualify row_number() over (
    partition by source, period_key order by revision desc, received_at desc
) = 1;
"""


def init(con: duckdb.DuckDBPyConnection, sources: Iterable[Source], data_dir: Path) -> None:
    """Create the ledger's tables if missing and point every landing view at the current
    deliveries under this data root (views list absolute paths: a moved data root is
    picked up the next time the ledger is opened for writing)."""
    con.execute(DDL)
    for source in sources:
        refresh_landing_view(con, source, data_dir)


def lookup(con: duckdb.DuckDBPyConnection, delivery_id: str) -> dict[str, Any] | None:
    cur = con.execute("select * from ops.load_ledger where delivery_id = ?", [delivery_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def refresh_landing_view(con: duckdb.DuckDBPyConnection, source: Source, data_dir: Path) -> None:
    """Point ``landing.<source>`` at the Parquet files of the current deliveries only."""
    paths = [str((data_dir / r[0]).absolute()) for r in con.execute(
        "select landing_path from ops.current_deliveries where source = ? order by period_key",
        [source.name]).fetchall()]
    cols = (*source.columns, *LINEAGE_COLUMNS)
    if paths:
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        select = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in cols)
        body = f"select {select} from read_parquet([{listed}], union_by_name = true)"
    else:
        select = ", ".join(f'cast(null as {t}) as "{c}"' for c, t in cols)
        body = f"select {select} where false"
    con.execute(f'create or replace view landing."{source.name}" as {body}')


def record(con: duckdb.DuckDBPyConnection, entry: dict[str, Any]) -> None:
    keys = list(entry)
    con.execute(
        f"insert into ops.load_ledger ({', '.join(keys)}) values ({', '.join('?' * len(keys))})",
        [entry[k] for k in keys],
    )


def quarantine(con: duckdb.DuckDBPyConnection, *, delivery_id: str, source: str, file_name: str,
               rejects: Iterable[Reject], at: datetime) -> None:
    rows = [
        (delivery_id, source, file_name, r.line, r.rule, r.column, r.detail,
         json.dumps(r.raw, ensure_ascii=False, default=str), at)
        for r in rejects
    ]
    if rows:
        con.executemany("insert into ops.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
