"""The build sequence: plan what changed, one ``dbt build`` over it, then publish, or
record the failure. Written once: ``ksp build`` runs :func:`build`, and the
``build_warehouse`` DAG runs the same four steps as its tasks (plan → dbt build →
publish, and the failure record when a step fails), each a call to the function of
the same name here, so the two can never record a build differently.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ingestion import ledger
from ingestion.config import Settings
from ingestion.duck import ensure_spatial_installed
from warehouse.dbt import DbtFailed, failures, run_dbt, run_target
from warehouse.publish import publish, reap_temporary

log = logging.getLogger("ksp")


class BuildFailed(DbtFailed):
    """dbt build failed; the published warehouse is left as it was."""


class NodeResult(NamedTuple):
    """What dbt did with one node of a build (a row of ``ops.build_nodes``)."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str


def source_selector(source: str) -> str:
    """dbt's selector for a changed landing table: its source and everything built on it."""
    return f"source:{source}.{source}+"


def plan_build(cfg: Settings, changed_sources: list[str], *, handover: bool = False) -> dict[str, Any]:
    """Record a new build as running and decide what it rebuilds.

    First, what killed builds left: a build still ``running`` whose process is gone is
    marked failed (so this one rebuilds everything), and the temporary copies of
    publications that never finished are deleted. The new build is recorded as worked
    on by this process; ``handover`` (the DAG, whose next step runs in another task)
    records no process until that step claims it.

    Only the dbt nodes downstream of the changed sources (dbt's own selector
    ``source:<s>.<s>+``), unless a full build is due: nothing was named (a manual run,
    ``ksp build``), no build has succeeded since the dbt project last changed
    (``manifest.json`` is newer), or the last build failed (its models may be half-built).
    """
    if not cfg.dbt_manifest_path.exists():
        raise FileNotFoundError(
            f"dbt's parsed project {cfg.dbt_manifest_path} is missing: run `make setup` (or `ksp manifest`)")
    ensure_spatial_installed(cfg)
    build_id = uuid.uuid4().hex[:12]
    con = ledger.open_for_writing(cfg)
    try:
        ledger.reap_abandoned_builds(con, datetime.now(UTC))
        reap_temporary(cfg, ledger.running_builds(con))
        last = ledger.last_finished_build(con)
        ledger.start_build(con, build_id, datetime.now(UTC), pid=None if handover else os.getpid())
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


def dbt_build(cfg: Settings, plan: dict[str, Any], attempt: int = 1, *, handover: bool = False) -> str:
    """One ``dbt build`` process over the planned nodes (all on a full build).

    One process, not one per node: DuckDB has a single writer, so per-node processes
    could never run side by side and each paid dbt's start-up (docs/architecture.md).
    dbt's own graph order still holds: a failed model or test skips everything
    downstream of it. What dbt did with every node goes to ``ops.build_nodes``.
    Returns dbt's summary line; raises ``BuildFailed`` naming the failed nodes.
    ``handover``: this runs as its own Airflow task; the build is claimed by this process
    while it runs and released when it ends, however it ends (unless killed: then the
    next build finds the process gone and marks the build failed).
    """
    build_id, select = plan["build_id"], plan["select"]
    _own(cfg, build_id, os.getpid())
    try:
        return _dbt_build(cfg, build_id, select, attempt)
    finally:
        if handover:
            _own(cfg, build_id, None)


def _dbt_build(cfg: Settings, build_id: str, select: list[str] | None, attempt: int) -> str:
    target = run_target(cfg)
    (target / "run_results.json").unlink(missing_ok=True)
    proc = run_dbt(cfg, "build", *(["--select", *select] if select else []))
    output = proc.stdout + proc.stderr
    log.info("dbt build output:\n%s", output)
    nodes = _record_nodes(cfg, build_id, attempt, target / "run_results.json")
    if proc.returncode == 0:
        warnings = quality_warnings(output)
        for line in warnings:
            log.warning("build %s: %s", build_id, line)
        return _summary(output) + "".join(f"\n{line}" for line in warnings)
    raise BuildFailed(failure_summary(build_id, nodes) + failures(output))


def publish_build(cfg: Settings, plan: dict[str, Any], summary: str) -> dict[str, Any]:
    """Publish the built marts and record the build as a success (claimed by this
    process while it copies: killed, the next build marks it failed and deletes the copy)."""
    _own(cfg, plan["build_id"], os.getpid())
    published_at = publish(cfg, plan["build_id"])
    _finish(cfg, plan["build_id"], "success", f"{plan['reason']}: {summary}", published_at)
    return {"build_id": plan["build_id"], "status": "success", "published_path": str(cfg.published_path)}


def fail_build(cfg: Settings, build_id: str, cause: BaseException | None = None) -> str:
    """Record the build as failed; returns the message recorded.

    The message names the failed dbt nodes and how many were skipped below them, the
    same whichever way the build ran; an error outside dbt (a lock, a full disk) is
    recorded by its type and text.
    """
    nodes = recorded_nodes(cfg, build_id)
    if isinstance(cause, BuildFailed) or (cause is None and nodes):
        message = str(cause) if cause is not None else failure_summary(build_id, nodes)
    elif cause is not None:
        message = f"{type(cause).__name__}: {cause}"
    else:
        message = failure_summary(build_id, nodes)
    _finish(cfg, build_id, "failed", message)
    return message


def build(cfg: Settings, changed_sources: list[str] | None = None) -> dict[str, Any]:
    """The whole sequence in one process (``ksp build``): plan, ``dbt build``, publish;
    on any failure the build is recorded as failed and the error propagates."""
    plan = plan_build(cfg, changed_sources or [])
    try:
        summary = dbt_build(cfg, plan)
        return publish_build(cfg, plan, summary)
    except BaseException as e:
        fail_build(cfg, plan["build_id"], e)
        raise


def failure_summary(build_id: str, nodes: list[NodeResult]) -> str:
    """The failed nodes of a build and how many were skipped below them (log, ledger, mail)."""
    failed = [f"{n.resource_type} {n.name}: {n.status} {n.message}".rstrip()
              for n in nodes if n.status in ("error", "fail")]
    skipped = sum(n.status == "skipped" for n in nodes)
    return (f"dbt build failed (build {build_id}); the published warehouse is unchanged.\n"
            + ("\n".join(failed) + f"\n{skipped} node(s) downstream skipped\n" if failed else ""))


def recorded_nodes(cfg: Settings, build_id: str) -> list[NodeResult]:
    """The node results of a build's last attempt, as ``ops.build_nodes`` keeps them."""
    con = ledger.open_for_writing(cfg)
    try:
        return [NodeResult(*r) for r in ledger.build_nodes(con, build_id)]
    finally:
        con.close()


def _own(cfg: Settings, build_id: str, pid: int | None) -> None:
    con = ledger.open_for_writing(cfg)
    try:
        ledger.own_build(con, build_id, pid)
    finally:
        con.close()


def _finish(cfg: Settings, build_id: str, status: str, message: str,
            published_at: datetime | None = None) -> None:
    con = ledger.open_for_writing(cfg)
    try:
        ledger.finish_build(con, build_id, status=status, message=message, finished_at=datetime.now(UTC),
                            published_at=published_at)
    finally:
        con.close()


def _record_nodes(cfg: Settings, build_id: str, attempt: int, run_results: Path) -> list[NodeResult]:
    """Keep dbt's per-node results of this attempt in ``ops.build_nodes``."""
    if not run_results.exists():  # dbt stopped before running anything (e.g. a compilation error)
        return []
    rows = []
    for r in json.loads(run_results.read_text())["results"]:
        uid = r["unique_id"]
        kind, _project, *rest = uid.split(".")
        name = rest[-1] if kind == "unit_test" else rest[0]  # a data test's id ends in a hash
        rows.append((build_id, attempt, uid, kind, name, r["status"], r.get("execution_time"),
                     (r.get("message") or "")[:2000]))
    con = ledger.open_for_writing(cfg)
    try:
        ledger.record_build_nodes(con, build_id, attempt, rows)
    finally:
        con.close()
    return [NodeResult(r[2], r[3], r[4], r[5], r[7]) for r in rows]


QUALITY_WARNING = "data quality warning: "


def quality_warnings(output: str) -> list[str]:
    """The data-quality warnings the marts' post-hooks raised (e.g. a source's month
    above the unclassified share, macros/warn_unclassified_offences.sql): a build that
    succeeds with them still says so, by name, in its log line and ledger message."""
    return [ln[ln.index(QUALITY_WARNING):].strip() for ln in output.splitlines() if QUALITY_WARNING in ln]


def _summary(output: str) -> str:
    lines = [ln for ln in output.splitlines() if "Done. PASS=" in ln]
    return lines[-1].split("Done. ", 1)[1] if lines else output[-500:]
