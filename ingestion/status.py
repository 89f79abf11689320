"""What ``ksp status`` reports: the ledger, the quarantine and the last builds."""

from __future__ import annotations

import time
from typing import Any

import duckdb

from ingestion.config import Settings
from ingestion.duck import connect
from ingestion.validation import data_docs_index


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0])


def collect(cfg: Settings, *, wait_seconds: float = 30.0) -> dict[str, Any]:
    """Read the ledger read-only; while a writer holds it, wait up to ``wait_seconds``."""
    if not cfg.ledger_path.exists():
        return {"ledger": [], "per_source": [], "refused": [], "quarantine": [], "builds": [], "failed_nodes": [],
                "published": _published(cfg)}
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = connect(cfg.ledger_path, cfg, read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        return {
            "per_source": _rows(con, """
                select source,
                       count(*) filter (where status = 'loaded') as deliveries_loaded,
                       count(*) filter (where status = 'refused') as deliveries_refused,
                       coalesce(sum(rows_read), 0)::bigint as rows_read,
                       coalesce(sum(rows_loaded), 0)::bigint as rows_loaded,
                       coalesce(sum(rows_rejected), 0)::bigint as rows_rejected,
                       max(finished_at)::varchar as last_delivery_at
                from ops.load_ledger group by source order by source"""),
            "ledger": _rows(con, """
                select l.source, l.file_name, l.status, l.period_key, l.revision, l.rows_read,
                       l.rows_loaded, l.rows_rejected, l.rule, l.message,
                       l.finished_at::varchar as finished_at,
                       (c.delivery_id is not null) as is_current,
                       l.delivery_id
                from ops.load_ledger l
                left join ops.current_deliveries c using (delivery_id)
                order by l.finished_at desc limit 50"""),
            "refused": _rows(con, """
                select source, file_name, rule, message, finished_at::varchar as finished_at
                from ops.load_ledger where status = 'refused' order by finished_at desc limit 100"""),
            "quarantine": _rows(con, """
                select source, file_name, rule, count(*) as rows, min(line_no) as first_line
                from ops.quarantine group by all order by source, file_name, rule"""),
            "builds": _rows(con, """
                select build_id, status, started_at::varchar as started_at,
                       finished_at::varchar as finished_at, message,
                       published_at::varchar as published_at
                from ops.builds order by started_at desc limit 5"""),
            # dbt's failed nodes in those builds (ops.build_nodes holds every node's result)
            # (a ledger written before node results were kept has no such table until the next load)
            "failed_nodes": _rows(con, """
                select build_id, resource_type, name, status, message from ops.build_nodes
                where status in ('error', 'fail') and build_id in (
                    select build_id from ops.builds order by started_at desc limit 5)
                qualify attempt = max(attempt) over (partition by build_id)
                order by build_id, name""") if _has_table(con, "ops", "build_nodes") else [],
            "published": _published(cfg),
            "data_docs": str(data_docs_index(cfg.gx_root)) if data_docs_index(cfg.gx_root).exists() else None,
        }
    finally:
        con.close()


def _published(cfg: Settings) -> dict[str, Any]:
    if not cfg.published_path.exists():
        return {"path": str(cfg.published_path), "exists": False}
    con = connect(cfg.published_path, cfg, read_only=True)
    try:
        tables = _rows(con, """select schema_name || '.' || table_name as "table", estimated_size as rows
                              from duckdb_tables() where schema_name <> 'meta' order by 1""")
        for t in tables:
            t["rows"] = con.execute(f"select count(*) from {t['table']}").fetchone()[0]
        info = _rows(con, "select build_id, published_at::varchar as published_at from meta.build_info")
    finally:
        con.close()
    return {"path": str(cfg.published_path), "exists": True, "tables": tables,
            **(info[0] if info else {})}


def render(report: dict[str, Any]) -> str:
    out = ["Deliveries per source:"]
    if not report["per_source"]:
        out.append("  (none yet)")
    for s in report["per_source"]:
        out.append(f"  {s['source']:<15} loaded {s['deliveries_loaded']:>3}  refused "
                   f"{s['deliveries_refused']:>3}  rows read {s['rows_read']:>8}  loaded "
                   f"{s['rows_loaded']:>8}  quarantined {s['rows_rejected']:>6}")
    refused = report.get("refused", [])
    if refused:
        out.append("Refused deliveries:")
        out += [f"  {e['message']}" for e in refused]
    if report["quarantine"]:
        out.append("Quarantined rows (ops.quarantine):")
        out += [f"  {q['source']}/{q['file_name']}: {q['rows']} x {q['rule']} (first at line "
                f"{q['first_line']})" for q in report["quarantine"]]
    out.append("Last builds:")
    if not report["builds"]:
        out.append("  (none yet)")
    for b in report["builds"]:
        out.append(f"  {b['started_at'][:19]}  {b['status']:<8} {b['message'] or ''}")
        out += [f"      {n['status']}: {n['resource_type']} {n['name']}: {(n['message'] or '')[:160]}"
                for n in report.get("failed_nodes", []) if n["build_id"] == b["build_id"]]
    if report.get("data_docs"):
        out.append(f"Data Docs (validation results): {report['data_docs']}")
    pub = report["published"]
    out.append(f"Published warehouse: {pub['path']}" + ("" if pub["exists"] else " (not yet built)"))
    for t in pub.get("tables", []):
        out.append(f"  {t['table']:<45} {t['rows']:>8} rows")
    return "\n".join(out)
