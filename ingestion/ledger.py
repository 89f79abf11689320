"""The load ledger, the quarantine, the build records and the landing views, in
``ops/ledger.duckdb``: the one module that reads or writes the ``ops`` schema.

The ledger is what makes ingestion exactly-once per content and what decides which
landed Parquet files are visible: the view ``landing.<source>`` lists exactly the
current deliveries, and it is replaced in the same transaction that records a load.
A Parquet file written by a load that died before that commit is never read. The
warehouse's builds and dbt's per-node results are recorded here too, and every other
package (landing, build, calendar checks, status) goes through these functions, so
the store has one owner and its schema one place to change.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ingestion import privacy
from ingestion.core import LINEAGE_COLUMNS, Reject, Source
from ingestion.duck import connect, fetch_dicts

log = logging.getLogger("ksp")

if TYPE_CHECKING:
    from ingestion.config import Settings

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
-- set by the retention purge when the kept bytes were deleted (ingestion/retention.py)
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
-- the process working on a running build (null while it waits between Airflow tasks), so
-- that the next build can tell a build whose process was killed (reap_abandoned_builds)
alter table ops.builds add column if not exists pid integer;
alter table ops.builds add column if not exists host varchar;
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
-- the current deliveries when a build's dbt round started: what it read (the last round's)
create table if not exists ops.build_inputs (
    build_id    varchar not null,
    delivery_id varchar not null
);
-- the earlier outcome of every delivery run again by `ksp replay`
create table if not exists ops.replays (
    delivery_id     varchar,
    source          varchar,
    file_name       varchar,
    previous_status varchar,
    rule            varchar,
    message         varchar,
    rows_rejected   integer,
    replayed_at     timestamptz
);
-- every published version made current again by hand (`ksp restore-version`)
create table if not exists ops.version_restores (
    version_id       varchar not null,
    replaced_version varchar,
    restored_at      timestamptz not null,
    restored_by      varchar not null,
    reason           varchar not null
);
-- deliveries taken out of the current view: held by the build they broke (isolation,
-- warehouse/build.py) or retracted by hand (`ksp retract`); a row is never deleted, a
-- release (`ksp release`) sets its released_* columns, so this is the audit record
create table if not exists ops.withheld (
    delivery_id    varchar not null,
    source         varchar not null,
    file_name      varchar not null,
    kind           varchar not null,     -- held | retracted
    reason         varchar not null,
    build_id       varchar,              -- the build whose failure held it
    withheld_by    varchar not null,
    withheld_at    timestamptz not null,
    released_at    timestamptz,
    released_by    varchar,
    release_reason varchar
);
-- the keys operators' pseudonyms were made with, by id (privacy.key_id, never the key):
-- one is current (retired_at null); a load under any other key is refused, so a lost or
-- changed key cannot silently change every pseudonym (`ksp pseudonym-key` rotates)
create table if not exists ops.pseudonym_keys (
    key_id        varchar primary key,
    registered_at timestamptz not null,
    registered_by varchar not null,
    reason        varchar not null,
    retired_at    timestamptz
);
alter table ops.load_ledger add column if not exists pseudonym_key_id varchar;
create or replace view ops.current_deliveries as
select *
from ops.load_ledger
where status = 'loaded'
  and delivery_id not in (select delivery_id from ops.withheld where released_at is null)
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


class LedgerBusy(RuntimeError):
    """Another process held the ledger's write lock for longer than we would wait."""


_LOCK_HOLDER = re.compile(r"PID (\d+)")


def open_for_writing(cfg: Settings, *, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """The ledger opened for writing, its tables created and its landing views pointed
    at this data root. Hold it only as long as the write takes: DuckDB has one writer.

    A second writer (an ingest while a build records its nodes, two DAG tasks) waits
    with backoff up to ``wait_seconds`` (``KSP_WRITER_WAIT_SECONDS``), saying who holds
    the lock, instead of failing on DuckDB's raw lock error."""
    from ingestion.sources import SOURCES

    cfg.ensure_dirs()
    wait = cfg.writer_wait_seconds if wait_seconds is None else wait_seconds
    deadline, pause = time.monotonic() + wait, 0.2
    while True:
        try:
            con = connect(cfg.ledger_path, cfg)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            holder = _LOCK_HOLDER.search(str(e))
            who = f"process {holder.group(1)}" if holder else "another process"
            if time.monotonic() + pause > deadline:
                raise LedgerBusy(f"ledger busy: {cfg.ledger_path} is held for writing by {who}; waited {wait:g} s "
                                 "(KSP_WRITER_WAIT_SECONDS)") from e
            log.info("ledger busy: held for writing by %s, retrying in %.1f s", who, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
    init(con, SOURCES.values(), cfg.data_dir)
    return con


def open_for_reading(cfg: Settings, *, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """The ledger opened read-only; while a writer holds it, wait up to ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(cfg.ledger_path, cfg, read_only=True)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def lookup(con: duckdb.DuckDBPyConnection, delivery_id: str) -> dict[str, Any] | None:
    cur = con.execute("select * from ops.load_ledger where delivery_id = ?", [delivery_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def same_correction(con: duckdb.DuckDBPyConnection, *, source: str, period_key: str,
                    revision: int) -> dict[str, Any] | None:
    """The loaded delivery that already holds this source's period at this correction
    number, if any (SPEC: the same number with different bytes is a conflict)."""
    cur = con.execute("select delivery_id, file_name, finished_at from ops.load_ledger where status = 'loaded' "
                      "and source = ? and period_key = ? and revision = ? order by finished_at limit 1",
                      [source, period_key, revision])
    row = cur.fetchone()
    return None if row is None else dict(zip(("delivery_id", "file_name", "finished_at"), row, strict=True))


class PseudonymKeyRefused(RuntimeError):
    """The pseudonym key is not the ledger's current one, or is missing: nothing loaded."""


def current_pseudonym_key(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    rows = fetch_dicts(con, "select * from ops.pseudonym_keys where retired_at is null")
    return rows[0] if rows else None


def pseudonym_keys(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every key id with the deliveries loaded under it, newest first (none in a ledger
    older than key ids)."""
    if not _has_table(con, "ops", "pseudonym_keys"):
        return []
    return fetch_dicts(con, """
        select k.key_id, k.registered_at, k.registered_by, k.reason, k.retired_at,
               count(l.delivery_id) as deliveries
        from ops.pseudonym_keys k
        left join ops.load_ledger l on l.pseudonym_key_id = k.key_id and l.status = 'loaded'
        group by all order by k.registered_at desc""")


def accept_pseudonym_key(con: duckdb.DuckDBPyConnection, key_id: str, *, at: datetime) -> None:
    """Let a load use the key ``key_id``: the first key ever is registered; after that
    only the current one is accepted (a rotation is `register_pseudonym_key`)."""
    current = current_pseudonym_key(con)
    if current is None:
        register_pseudonym_key(con, key_id, at=at, by="first load", reason="the first key this ledger saw")
        return
    if current["key_id"] != key_id:
        known = con.execute("select retired_at from ops.pseudonym_keys where key_id = ?", [key_id]).fetchone()
        was = f"retired at {known[0]:%Y-%m-%d %H:%M} UTC" if known else "never registered"
        raise PseudonymKeyRefused(
            f"pseudonym key {key_id} ({was}) is not the ledger's current key {current['key_id']} (registered "
            f"{current['registered_at']:%Y-%m-%d %H:%M} UTC): its pseudonyms would not match the earlier loads'. "
            "Restore the current key, or, to rotate on purpose, run `ksp pseudonym-key rotate --reason ...` "
            "(docs/operations.md); nothing was loaded")


def register_pseudonym_key(con: duckdb.DuckDBPyConnection, key_id: str, *, at: datetime, by: str,
                           reason: str) -> None:
    """Make ``key_id`` the current key, retiring the one before (one transaction)."""
    con.execute("begin transaction")
    try:
        con.execute("update ops.pseudonym_keys set retired_at = ? where retired_at is null and key_id <> ?",
                    [at, key_id])
        con.execute("""insert into ops.pseudonym_keys values (?, ?, ?, ?, null)
                       on conflict (key_id) do update set retired_at = null""", [key_id, at, by, reason])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


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
    """One delivery's outcome; its message (a refusal's reason may quote the file's
    values) passes the scrubber like every stored value."""
    entry = {**entry, "message": privacy.scrub(entry.get("message"))} if entry.get("message") else entry
    keys = list(entry)
    con.execute(
        f"insert into ops.load_ledger ({', '.join(keys)}) values ({', '.join('?' * len(keys))})",
        [entry[k] for k in keys],
    )


def quarantine(con: duckdb.DuckDBPyConnection, *, delivery_id: str, source: str, file_name: str,
               rejects: Iterable[Reject], at: datetime) -> None:
    """Keep the rejected rows with their reason. Every string of a row (whichever column,
    and the raw fields of a row with the wrong field count or a broken JSON line) and of
    its reason passes the scrubber here, the one door into ``ops.quarantine``: names,
    phone numbers, PESEL and plates must not wait out the retention period in it."""
    rows = [
        (delivery_id, source, file_name, r.line, r.rule, r.column, privacy.scrub(r.detail),
         json.dumps(privacy.scrub_value(r.raw), ensure_ascii=False, default=str), at)
        for r in rejects
    ]
    if rows:
        con.executemany("insert into ops.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


# --------------------------------------------------------------------------- replay


def replayable(con: duckdb.DuckDBPyConnection, *, statuses: Sequence[str], source: str | None,
               file_name: str | None) -> list[tuple[str, str, str, str, str]]:
    """Deliveries a replay takes again: refused ones, and with ``loaded`` in ``statuses``
    loaded ones that had quarantined rows; ``(delivery_id, source, file_name, status,
    kept_path)``, oldest first."""
    return con.execute(
        "select delivery_id, source, file_name, status, kept_path from ops.load_ledger "
        f"where status in ({', '.join('?' * len(statuses))}) "
        "and (? is null or source = ?) and (? is null or file_name = ?) "
        "and (status = 'refused' or rows_rejected > 0) order by finished_at",
        [*statuses, source, source, file_name, file_name]).fetchall()


def forget_for_replay(con: duckdb.DuckDBPyConnection, delivery_id: str, at: datetime) -> None:
    """Move a delivery's outcome to ``ops.replays`` and drop it (and its quarantined rows)
    from the ledger, so that the same bytes are no longer a duplicate."""
    con.execute("insert into ops.replays select delivery_id, source, file_name, status, rule, message, "
                "rows_rejected, ? from ops.load_ledger where delivery_id = ?", [at, delivery_id])
    con.execute("delete from ops.quarantine where delivery_id = ?", [delivery_id])
    # the same bytes come back under the same id: a hold or retraction must not outlive the outcome it was on
    con.execute("update ops.withheld set released_at = ?, released_by = 'replay', release_reason = 'replayed' "
                "where delivery_id = ? and released_at is null", [at, delivery_id])
    con.execute("delete from ops.load_ledger where delivery_id = ?", [delivery_id])


# --------------------------------------------------------------------------- withheld deliveries


class UnknownDelivery(LookupError):
    """A delivery named by hand (``ksp retract``/``ksp release``) is not in the ledger, or
    the name fits more than one."""


def find_delivery(con: duckdb.DuckDBPyConnection, ref: str) -> dict[str, Any]:
    """The loaded delivery ``ref`` names: its id, a unique prefix of it (8 characters or
    more, as ``ksp status`` prints them), or its file name (the newest loaded one of that
    name). Raises ``UnknownDelivery`` saying what was found instead."""
    ref = ref.strip()
    rows = con.execute(
        "select delivery_id, source, file_name, period_key, revision, finished_at from ops.load_ledger "
        "where status = 'loaded' and (file_name = ? or (length(?) >= 8 and starts_with(delivery_id, ?))) "
        "order by finished_at desc", [ref, ref, ref.lower()]).fetchall()
    keys = ("delivery_id", "source", "file_name", "period_key", "revision", "finished_at")
    by_id = [r for r in rows if r[0].startswith(ref.lower())]
    if len(by_id) > 1:
        raise UnknownDelivery(f"{ref!r} is the start of {len(by_id)} delivery ids: "
                              + ", ".join(f"{r[0][:16]} ({r[2]})" for r in by_id) + "; give more of the id")
    if by_id:
        return dict(zip(keys, by_id[0], strict=True))
    if rows:
        return dict(zip(keys, rows[0], strict=True))
    refused = con.execute("select status from ops.load_ledger where file_name = ? or delivery_id = ?",
                          [ref, ref]).fetchone()
    why = f" (it was {refused[0]}: only a loaded delivery is in the current view)" if refused else ""
    raise UnknownDelivery(f"no loaded delivery has the id or file name {ref!r}{why}; `ksp status` lists them")


def withhold(con: duckdb.DuckDBPyConnection, deliveries: Sequence[dict[str, Any]], data_dir: Path, *, kind: str,
             reason: str, by: str, at: datetime, build_id: str | None = None) -> list[dict[str, Any]]:
    """Take deliveries out of the current view (``kind``: ``held`` by a build they broke,
    ``retracted`` by hand) and point their sources' landing views at what is left: the
    period's previous correction, if any, becomes current again. Returns those newly
    withheld (one already withheld keeps its first record)."""
    from ingestion.sources import SOURCES

    active = {r[0] for r in con.execute("select delivery_id from ops.withheld where released_at is null").fetchall()}
    new = [d for d in deliveries if d["delivery_id"] not in active]
    if not new:
        return []
    con.executemany(
        "insert into ops.withheld (delivery_id, source, file_name, kind, reason, build_id, withheld_by, withheld_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [(d["delivery_id"], d["source"], d["file_name"], kind, privacy.scrub(reason), build_id, by, at) for d in new])
    for source in sorted({d["source"] for d in new}):
        refresh_landing_view(con, SOURCES[source], data_dir)
    return new


def release(con: duckdb.DuckDBPyConnection, delivery_ids: Sequence[str], data_dir: Path, *, by: str,
            reason: str, at: datetime) -> list[dict[str, Any]]:
    """Put withheld deliveries back into the current view (their record stays, with who
    released them, when and why); returns those released."""
    from ingestion.sources import SOURCES

    if not delivery_ids:
        return []
    marks = ", ".join("?" * len(delivery_ids))
    released = fetch_dicts(con, f"select delivery_id, source, file_name, kind from ops.withheld "
                                f"where released_at is null and delivery_id in ({marks})", list(delivery_ids))
    con.execute(f"update ops.withheld set released_at = ?, released_by = ?, release_reason = ? "
                f"where released_at is null and delivery_id in ({marks})",
                [at, by, privacy.scrub(reason), *delivery_ids])
    for source in sorted({d["source"] for d in released}):
        refresh_landing_view(con, SOURCES[source], data_dir)
    return released


def withheld(con: duckdb.DuckDBPyConnection, *, include_released: bool = False) -> list[dict[str, Any]]:
    """The withheld deliveries (with their period), newest first; released ones too on request."""
    return fetch_dicts(con, f"""
        select w.delivery_id, w.source, w.file_name, l.period_key, l.revision, w.kind, w.reason, w.build_id,
               w.withheld_by, w.withheld_at::varchar as withheld_at, w.released_at::varchar as released_at,
               w.released_by, w.release_reason
        from ops.withheld as w left join ops.load_ledger as l using (delivery_id)
        {"" if include_released else "where w.released_at is null"}
        order by w.withheld_at desc, w.source, w.file_name""")


def unpublished_deliveries(con: duckdb.DuckDBPyConnection, sources: Iterable[str]) -> list[dict[str, Any]]:
    """The current deliveries of ``sources`` that the last build that succeeded did not
    read (``ops.build_inputs``; every current one before any build succeeded): new ones,
    corrections, released ones. When a build fails on nodes that read only these sources,
    these are the deliveries that can have broken it; the rest of each source is its last
    good state."""
    names = sorted(set(sources))
    if not names:
        return []
    return fetch_dicts(con, f"""
        with last_good as (
            select build_id from ops.builds
            where status = 'success' and build_id in (select build_id from ops.build_inputs)
            order by started_at desc limit 1
        )
        select delivery_id, source, file_name, period_key, revision, finished_at::varchar as finished_at
        from ops.current_deliveries
        where source in ({", ".join("?" * len(names))})
          and delivery_id not in (select delivery_id from ops.build_inputs
                                  where build_id = (select build_id from last_good))
        order by source, period_key, file_name""", names)


def record_build_inputs(con: duckdb.DuckDBPyConnection, build_id: str) -> None:
    """Keep the current deliveries as what this build (its dbt round starting now) reads."""
    con.execute("delete from ops.build_inputs where build_id = ?", [build_id])
    con.execute("insert into ops.build_inputs select ?, delivery_id from ops.current_deliveries", [build_id])
    # a row per current delivery per build adds up: keep the last builds' and the last good one's
    con.execute("""
        delete from ops.build_inputs
        where build_id not in (select build_id from ops.builds order by started_at desc limit 20)
          and build_id not in (select build_id from ops.builds where status = 'success'
                               and build_id in (select build_id from ops.build_inputs)
                               order by started_at desc limit 1)
          and build_id <> ?""", [build_id])


# --------------------------------------------------------------------------- builds


def start_build(con: duckdb.DuckDBPyConnection, build_id: str, at: datetime, *, pid: int | None = None) -> None:
    """A new build, ``running`` in process ``pid`` of this host (None: no process holds it now)."""
    con.execute("insert into ops.builds (build_id, started_at, status, pid, host) values (?, ?, 'running', ?, ?)",
                [build_id, at, pid, socket.gethostname()])


def own_build(con: duckdb.DuckDBPyConnection, build_id: str, pid: int | None) -> None:
    """Say which process of this host works on a running build now (None: it is handed on
    to the next Airflow task, and no process may be found dead on its behalf)."""
    con.execute("update ops.builds set pid = ?, host = ? where build_id = ? and status = 'running'",
                [pid, socket.gethostname(), build_id])


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with this id exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def reap_abandoned_builds(con: duckdb.DuckDBPyConnection, at: datetime,
                          alive: Callable[[int], bool] = pid_alive) -> list[str]:
    """Mark ``failed`` every build still ``running`` whose process on this host is gone
    (a ``kill -9`` of ``ksp build`` or of an Airflow worker), with the reason; returns
    their ids. A build of another host, or handed on between Airflow tasks (no pid),
    is left alone: nobody here can tell whether it still runs."""
    host = socket.gethostname()
    reaped = []
    for build_id, pid in con.execute("select build_id, pid from ops.builds where status = 'running' "
                                     "and pid is not null and host = ? order by started_at", [host]).fetchall():
        if alive(pid):
            continue
        con.execute("update ops.builds set status = 'failed', finished_at = ?, message = ? where build_id = ?",
                    [at, f"abandoned: its process {pid} on {host} ended without finishing the build "
                     "(killed); marked failed by the next build, the published warehouse is unchanged",
                     build_id])
        log.warning("build %s was abandoned (process %s on %s is gone): marked failed", build_id, pid, host)
        reaped.append(build_id)
    return reaped


def running_builds(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The ids of the builds still recorded as running."""
    return {r[0] for r in con.execute("select build_id from ops.builds where status = 'running'").fetchall()}


def finish_build(con: duckdb.DuckDBPyConnection, build_id: str, *, status: str, message: str,
                 finished_at: datetime, published_at: datetime | None) -> None:
    con.execute("update ops.builds set finished_at = ?, status = ?, message = ?, "
                "published_at = ? where build_id = ?",
                [finished_at, status, message, published_at, build_id])


def last_finished_build(con: duckdb.DuckDBPyConnection) -> tuple[str, datetime] | None:
    """``(status, started_at)`` of the latest build that succeeded or failed."""
    return con.execute(
        "select status, started_at from ops.builds where status in ('success', 'failed') "
        "order by started_at desc limit 1").fetchone()


def record_build_nodes(con: duckdb.DuckDBPyConnection, build_id: str, attempt: int,
                       rows: Sequence[tuple[Any, ...]]) -> None:
    """Replace one attempt's node results: ``(build_id, attempt, unique_id, resource_type,
    name, status, execution_s, message)`` each."""
    con.execute("delete from ops.build_nodes where build_id = ? and attempt = ?", [build_id, attempt])
    if rows:
        con.executemany("insert into ops.build_nodes values (?, ?, ?, ?, ?, ?, ?, ?)", list(rows))


def next_attempt(con: duckdb.DuckDBPyConnection, build_id: str) -> int:
    """The number for a build's next round of node results (one more than any recorded)."""
    return int(con.execute("select coalesce(max(attempt), 0) + 1 from ops.build_nodes where build_id = ?",
                           [build_id]).fetchone()[0])


def build_nodes(con: duckdb.DuckDBPyConnection, build_id: str) -> list[tuple[str, str, str, str, str]]:
    """The node results of a build's last attempt: ``(unique_id, resource_type, name, status, message)``."""
    return con.execute(
        "select unique_id, resource_type, name, status, coalesce(message, '') from ops.build_nodes "
        "where build_id = ? qualify attempt = max(attempt) over () order by unique_id",
        [build_id]).fetchall()


# --------------------------------------------------------------------------- calendar and retention


def current_periods(con: duckdb.DuckDBPyConnection, source: str) -> set[str]:
    """The periods (months, snapshot dates, waves) with a current delivery of ``source``."""
    return {r[0] for r in con.execute(
        "select period_key from ops.current_deliveries where source = ?", [source]).fetchall()}


def kept_before(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> list[tuple[str, str]]:
    """``(delivery_id, kept_path)`` of deliveries finished before ``cutoff`` whose kept bytes
    have not been purged yet."""
    return con.execute(
        "select delivery_id, kept_path from ops.load_ledger "
        "where finished_at < ? and kept_path is not null and purged_at is null", [cutoff]).fetchall()


def mark_purged(con: duckdb.DuckDBPyConnection, delivery_id: str, at: datetime) -> None:
    con.execute("update ops.load_ledger set purged_at = ? where delivery_id = ?", [at, delivery_id])


def clear_quarantined_values(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Drop the raw values of rows quarantined before ``cutoff`` (their line, rule and
    column stay); returns how many rows were cleared."""
    cleared = con.execute(
        "update ops.quarantine set raw_values = null where quarantined_at < ? and raw_values is not null",
        [cutoff]).fetchone()
    return int(cleared[0]) if cleared else 0


# --------------------------------------------------------------------------- publication


def build_test_results(con: duckdb.DuckDBPyConnection, build_id: str, ledger_alias: str) -> list[tuple[str, str]]:
    """``(test name, status)`` of every dbt data and unit test in a build's last attempt,
    from the ledger attached as ``ledger_alias`` (the published version's MANIFEST cites them)."""
    return con.execute(f"""
        select name, status from {ledger_alias}.ops.build_nodes
        where build_id = ? and resource_type in ('test', 'unit_test')
        qualify attempt = max(attempt) over ()
        order by name""", [build_id]).fetchall()


def copy_delivery_record(con: duckdb.DuckDBPyConnection, ledger_alias: str, schema: str = "meta") -> None:
    """Copy what the reports say about deliveries into ``<schema>`` of the connection's
    database, from the ledger attached as ``ledger_alias``: one row per delivery (source,
    file, period, status, rule, row counts, times, whether current) and the quarantined
    rows counted per delivery and rule. Rule names and counts only: no message and no
    raw value, which may hold what a scrubber missed."""
    con.execute(f"""
        create table {schema}.deliveries as
        select l.delivery_id, l.source, l.file_name, l.period_key, l.revision, l.status, l.rule,
               l.rows_read, l.rows_loaded, l.rows_rejected, l.received_at, l.finished_at,
               c.delivery_id is not null as is_current,
               w.kind as withheld_as
        from {ledger_alias}.ops.load_ledger as l
        left join {ledger_alias}.ops.current_deliveries as c using (delivery_id)
        left join (select delivery_id, any_value(kind) as kind from {ledger_alias}.ops.withheld
                   where released_at is null group by all) as w using (delivery_id)""")
    # what the published build left out and why (the reports say which sources are held
    # at their last good state); the reason is a rule and the failed node's name, scrubbed
    con.execute(f"""
        create table {schema}.withheld as
        select w.source, w.file_name, l.period_key, w.kind, w.reason, w.build_id, w.withheld_at
        from {ledger_alias}.ops.withheld as w
        left join {ledger_alias}.ops.load_ledger as l using (delivery_id)
        where w.released_at is null""")
    con.execute(f"""
        create table {schema}.quarantined_rules as
        select delivery_id, source, rule, column_name, count(*)::integer as rows
        from {ledger_alias}.ops.quarantine group by all""")


# --------------------------------------------------------------------------- status


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, Any]]]:
    """What ``ksp status`` shows of the ledger: per source, the last deliveries, refusals,
    quarantined rows by rule, the last builds and their failed dbt nodes."""
    return {
        "per_source": fetch_dicts(con, """
            select source,
                   count(*) filter (where status = 'loaded') as deliveries_loaded,
                   count(*) filter (where status = 'refused') as deliveries_refused,
                   coalesce(sum(rows_read), 0)::bigint as rows_read,
                   coalesce(sum(rows_loaded), 0)::bigint as rows_loaded,
                   coalesce(sum(rows_rejected), 0)::bigint as rows_rejected,
                   max(finished_at)::varchar as last_delivery_at
            from ops.load_ledger group by source order by source"""),
        "ledger": fetch_dicts(con, """
            select l.source, l.file_name, l.status, l.period_key, l.revision, l.rows_read,
                   l.rows_loaded, l.rows_rejected, l.rule, l.message,
                   l.finished_at::varchar as finished_at,
                   (c.delivery_id is not null) as is_current,
                   l.delivery_id
            from ops.load_ledger l
            left join ops.current_deliveries c using (delivery_id)
            order by l.finished_at desc limit 50"""),
        "refused": fetch_dicts(con, """
            select source, file_name, rule, message, finished_at::varchar as finished_at
            from ops.load_ledger where status = 'refused' order by finished_at desc limit 100"""),
        "quarantine": fetch_dicts(con, """
            select source, file_name, rule, count(*) as rows, min(line_no) as first_line
            from ops.quarantine group by all order by source, file_name, rule"""),
        "withheld": fetch_dicts(con, """
            select source, file_name, kind, reason, withheld_by, withheld_at::varchar as withheld_at,
                   delivery_id
            from ops.withheld where released_at is null order by withheld_at desc, source, file_name""")
        if _has_table(con, "ops", "withheld") else [],
        "builds": fetch_dicts(con, """
            select build_id, status, started_at::varchar as started_at,
                   finished_at::varchar as finished_at, message,
                   published_at::varchar as published_at
            from ops.builds order by started_at desc limit 5"""),
        # dbt's failed nodes in those builds (ops.build_nodes holds every node's result)
        # (a ledger written before node results were kept has no such table until the next load)
        "failed_nodes": fetch_dicts(con, """
            with last_attempt as (
                select build_id, resource_type, name, status, message from ops.build_nodes
                where build_id in (select build_id from ops.builds order by started_at desc limit 5)
                qualify attempt = max(attempt) over (partition by build_id)
            )
            select * from last_attempt where status in ('error', 'fail')
            order by build_id, name""") if _has_table(con, "ops", "build_nodes") else [],
    }
