"""What ``ksp status`` reports: the ledger, the quarantine, the last builds, and what
sits in the inbox that no claim will take (with the reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingestion import inbox, ledger
from ingestion.config import Settings
from ingestion.duck import connect, fetch_dicts
from ingestion.validation import data_docs_index
from serving.polish import WARSAW


def unclaimable(cfg: Settings) -> list[dict[str, Any]]:
    """Files the inbox cannot take: symlinks, dot-files, abandoned partial uploads (older
    than ``KSP_PARTIAL_GRACE_SECONDS``), unsafe names, unknown source folders."""
    from ingestion.sources import NAMES

    return inbox.unclaimable(cfg.inbox_dir, NAMES, partial_grace_seconds=cfg.partial_grace_seconds)


def collect(cfg: Settings, *, wait_seconds: float = 30.0) -> dict[str, Any]:
    """Read the ledger read-only; while a writer holds it, wait up to ``wait_seconds``."""
    if not cfg.ledger_path.exists():
        return {"ledger": [], "per_source": [], "refused": [], "quarantine": [], "builds": [], "failed_nodes": [],
                "withheld": [], "inbox_unclaimable": unclaimable(cfg), "published": _published(cfg)}
    con = ledger.open_for_reading(cfg, wait_seconds=wait_seconds)
    try:
        return {
            **ledger.summary(con),
            "inbox_unclaimable": unclaimable(cfg),
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
        tables = fetch_dicts(con, """select schema_name || '.' || table_name as "table", estimated_size as rows
                              from duckdb_tables() where schema_name <> 'meta' order by 1""")
        for t in tables:
            t["rows"] = con.execute(f"select count(*) from {t['table']}").fetchone()[0]
        info = fetch_dicts(con, "select build_id, published_at::varchar as published_at from meta.build_info")
    finally:
        con.close()
    return {"path": str(cfg.published_path), "exists": True, "tables": tables,
            **(info[0] if info else {})}


def local_time(ts: str | None) -> str:
    """A ledger time (UTC, as DuckDB prints it) in Warsaw time, as the department reads
    it; ``--json`` keeps the UTC values for machines."""
    if not ts:
        return "-"
    return datetime.fromisoformat(ts).astimezone(WARSAW).strftime("%Y-%m-%d %H:%M:%S")


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
    stuck = report.get("inbox_unclaimable", [])
    if stuck:
        out.append("Inbox files not taken (they stay until someone acts):")
        out += [f"  {e['path']}: {e['reason']}" for e in stuck]
    held = report.get("withheld", [])
    if held:
        out.append("Withheld deliveries (out of the current view; their sources publish their last good state):")
        out += [f"  {w['source']}/{w['file_name']} ({w['delivery_id'][:12]}): {w['kind']} by {w['withheld_by']} "
                f"at {local_time(w['withheld_at'])}: {w['reason']}" for w in held]
        if any(w["kind"] == "held" for w in held):
            out.append("  held by a failed build: fix and `ksp release <delivery>`, or `ksp retract <delivery> "
                       "--reason ...`")
    if report["quarantine"]:
        out.append("Quarantined rows (ops.quarantine):")
        out += [f"  {q['source']}/{q['file_name']}: {q['rows']} x {q['rule']} (first at line "
                f"{q['first_line']})" for q in report["quarantine"]]
    out.append("Last builds (started, Warsaw time):")
    if not report["builds"]:
        out.append("  (none yet)")
    for b in report["builds"]:
        out.append(f"  {local_time(b['started_at'])}  {b['status']:<8} {b['message'] or ''}")
        out += [f"      {n['status']}: {n['resource_type']} {n['name']}: {(n['message'] or '')[:160]}"
                for n in report.get("failed_nodes", []) if n["build_id"] == b["build_id"]]
    if report.get("data_docs"):
        out.append(f"Data Docs (validation results): {report['data_docs']}")
    pub = report["published"]
    out.append(f"Published warehouse: {pub['path']}" + (
        f" (build {pub.get('build_id')}, published {local_time(pub.get('published_at'))} Warsaw time)"
        if pub["exists"] else " (not yet built)"))
    for t in pub.get("tables", []):
        out.append(f"  {t['table']:<45} {t['rows']:>8} rows")
    return "\n".join(out)
