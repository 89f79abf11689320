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
import shutil
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
    """dbt build; when it fails on nodes that read a source with deliveries no published
    build has read yet, those deliveries are held (out of the current view, recorded in
    ``ops.withheld``) and the same nodes are built again, so that one bad delivery cannot
    stop the other sources (or the SOS duty path) from publishing: its source stays at its
    last good state. Holding is undone when it does not let the build pass (the failure
    was not the new data's), and a failure that no delivery explains fails the build,
    naming the deliveries its failed nodes read."""
    held: list[dict[str, Any]] = []
    for round_ in range(MAX_ISOLATION_ROUNDS + 1):
        ok, output, nodes = _run_build(cfg, build_id, select, attempt)
        if ok:
            warnings = quality_warnings(output)
            for line in warnings:
                log.warning("build %s: %s", build_id, line)
            return _summary(output) + "".join(f"\n{line}" for line in warnings) + _held_summary(held)
        failed = [n for n in nodes if n.status in ("error", "fail")]
        suspects = suspect_deliveries(cfg, failed)
        if not suspects or round_ == MAX_ISOLATION_ROUNDS:
            if held:
                _release(cfg, held, f"holding them did not let build {build_id} pass")
            raise BuildFailed(disk_full_note(cfg, output) + failure_summary(build_id, nodes)
                              + _suspects_summary(cfg, failed, held) + failures(output))
        reason = "; ".join(sorted({f"{n.resource_type} {n.name}: {n.status}" for n in failed}))
        con = ledger.open_for_writing(cfg)
        try:
            new = ledger.withhold(con, suspects, cfg.data_dir, kind="held", by=f"build {build_id}",
                                  reason=f"build {build_id} failed on it: {reason}", at=datetime.now(UTC),
                                  build_id=build_id)
        finally:
            con.close()
        for d in new:
            log.error("ALERT build %s: delivery %s (%s, %s) held out of the current view: %s; "
                      "the build goes on without it (`ksp release` or `ksp retract` it)",
                      build_id, d["file_name"], d["source"], d["delivery_id"][:12], reason)
        held += new
        attempt = _next_attempt(cfg, build_id)
    raise AssertionError("unreachable: the last round returns or raises")


MAX_ISOLATION_ROUNDS = 3
"""How many times a failed build holds the deliveries it failed on and builds again: a
round per source whose new deliveries a failure reaches (the nodes a failure skipped
can fail on another source's delivery in the next round)."""


def _run_build(cfg: Settings, build_id: str, select: list[str] | None, attempt: int
               ) -> tuple[bool, str, list[NodeResult]]:
    target = run_target(cfg)
    (target / "run_results.json").unlink(missing_ok=True)
    con = ledger.open_for_writing(cfg)
    try:
        ledger.record_build_inputs(con, build_id)
    finally:
        con.close()
    proc = run_dbt(cfg, "build", *(["--select", *select] if select else []))
    output = proc.stdout + proc.stderr
    log.info("dbt build output:\n%s", output)
    nodes = _record_nodes(cfg, build_id, attempt, target / "run_results.json")
    return proc.returncode == 0, output, nodes


def upstream_sources(cfg: Settings, unique_ids: list[str]) -> dict[str, set[str]]:
    """Per dbt node, the landing sources it reads, directly or through other nodes (dbt's
    parsed ``parent_map``). A unit test reads its fixtures only: no source."""
    parents: dict[str, list[str]] = json.loads(cfg.dbt_manifest_path.read_text())["parent_map"]
    out: dict[str, set[str]] = {}
    for uid in unique_ids:
        found: set[str] = set()
        if not uid.startswith("unit_test."):
            todo, seen = [uid], {uid}
            while todo:
                for p in parents.get(todo.pop(), []):
                    if p.startswith("source."):
                        found.add(p.split(".")[2])
                    elif p not in seen:
                        seen.add(p)
                        todo.append(p)
        out[uid] = found
    return out


def suspect_deliveries(cfg: Settings, failed: list[NodeResult]) -> list[dict[str, Any]]:
    """The deliveries a build's failed nodes may have failed on: the current deliveries
    of the sources those nodes read that the last successful build did not read. Where a
    failed node reads one source only that has such deliveries, only those are suspects
    in this round (a failed staging test names its source; a mart reading police and
    cameras is judged in the next round)."""
    reads = upstream_sources(cfg, [n.unique_id for n in failed])
    con = ledger.open_for_writing(cfg)
    try:
        fresh = ledger.unpublished_deliveries(con, set().union(*reads.values()) if reads else set())
    finally:
        con.close()
    with_new = {d["source"] for d in fresh}
    per_node = [s & with_new for s in reads.values()]
    single = {next(iter(s)) for s in per_node if len(s) == 1}
    chosen = single or (set().union(*per_node) if per_node else set())
    return [d for d in fresh if d["source"] in chosen]


def _suspects_summary(cfg: Settings, failed: list[NodeResult], released: list[dict[str, Any]]) -> str:
    """Which deliveries the failed nodes read that the last published build did not (the
    culprit, if the data is), and what holding did."""
    reads = upstream_sources(cfg, [n.unique_id for n in failed]) if failed else {}
    sources = set().union(*reads.values()) if reads else set()
    con = ledger.open_for_writing(cfg)
    try:
        fresh = ledger.unpublished_deliveries(con, sources)
    finally:
        con.close()
    lines = []
    if released:
        lines.append("held and built again without " + ", ".join(d["file_name"] for d in released)
                     + ": the build still failed, so they were released (the failure is not theirs alone)")
    if fresh:
        lines.append("the failed nodes read these deliveries the last published build did not: "
                     + ", ".join(f"{d['file_name']} ({d['source']}, {d['delivery_id'][:12]})" for d in fresh))
    elif sources:
        lines.append(f"the failed nodes read {', '.join(sorted(sources))}, with no delivery new since the last "
                     "published build: the cause is not a new delivery (the dbt project, a seed, the reference data)")
    else:
        lines.append("the failed nodes read no delivered source (a unit test, a seed, the reference data)")
    return "\n".join(lines) + "\n"


def _held_summary(held: list[dict[str, Any]]) -> str:
    if not held:
        return ""
    return "\nheld out of this build (their sources stay at the last good state): " + ", ".join(
        f"{d['file_name']} ({d['source']})" for d in held)


def _release(cfg: Settings, held: list[dict[str, Any]], reason: str) -> None:
    con = ledger.open_for_writing(cfg)
    try:
        ledger.release(con, [d["delivery_id"] for d in held], cfg.data_dir, by="build", reason=reason,
                       at=datetime.now(UTC))
    finally:
        con.close()


def _next_attempt(cfg: Settings, build_id: str) -> int:
    con = ledger.open_for_writing(cfg)
    try:
        return ledger.next_attempt(con, build_id)
    finally:
        con.close()


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
    if cause is None and nodes:  # the DAG's record: name the deliveries the failed nodes read, as the task did
        message += _suspects_summary(cfg, [n for n in nodes if n.status in ("error", "fail")], [])
    if not message.startswith("disk full"):
        message = disk_full_note(cfg, message) + message
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
        try:
            fail_build(cfg, plan["build_id"], e)
        except Exception as record_error:  # a full disk fails the record too: it must not hide the cause
            log.error("build %s failed (%s: %s), and recording the failure in the ledger failed too: %s",
                      plan["build_id"], type(e).__name__, str(e)[:2000], record_error)
            e.add_note(f"recording this failure in the ledger failed too ({type(record_error).__name__}: "
                       f"{record_error}); the build stays 'running' until the next build marks it failed")
        raise


def disk_full_note(cfg: Settings, text: str) -> str:
    """A first line saying the disk is full, with the free space where the build writes,
    when ``text`` (dbt's output, an error) says a write found no space: that is the cause
    to fix, and in dbt's output it hides among a model's error lines."""
    if "No space left on device" not in text and "Errno 28" not in text:
        return ""
    parts = []
    for what, path in (("warehouse", cfg.warehouse_path), ("ledger", cfg.ledger_path),
                       ("published", cfg.published_path)):
        folder = next((p for p in (path.parent, *path.parents) if p.exists()), None)
        if folder is not None:
            usage = shutil.disk_usage(folder)
            parts.append(f"{what} {folder}: {usage.free / 1e6:,.1f} MB free of {usage.total / 1e6:,.1f} MB")
    return "disk full (No space left on device): " + "; ".join(parts) + "\n"


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
