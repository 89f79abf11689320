"""Starting dbt: the one command line, the environment its ``profiles.yml`` reads,
and the parsed project (``dbt/target/manifest.json``) written once and again only when
a dbt file changes.

``make setup`` / ``ksp manifest`` parse the project, so nothing runs dbt while the DAG
processor parses. The build plan reads the manifest's age (a newer manifest means the
dbt project changed and a full build is due); which nodes a changed source reaches is
dbt's own selector ``source:<s>.<s>+`` (:func:`warehouse.build.plan_build`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingestion.config import Settings

# What changes the manifest: everything dbt parses.
_PARSED = ("models", "macros", "seeds", "snapshots", "tests", "dbt_project.yml", "profiles.yml")


class DbtFailed(RuntimeError):
    """A dbt command other than a build failed (parse, docs, freshness)."""


def dbt_env(cfg: Settings) -> dict[str, str]:
    """The environment dbt runs in: every path through ``env_var()`` in profiles.yml."""
    return {**os.environ, **cfg.dbt_env()}


def run_target(cfg: Settings) -> Path:
    """Where dbt runs on this data root write their artefacts (run_results.json, docs)."""
    return cfg.data_dir / "dbt" / "target"


def dbt_command(cfg: Settings, *args: str, target_path: Path | None = None) -> list[str]:
    """The dbt CLI of this environment with the project, target and log folders set.

    Runs write their artefacts under the data root (``<data>/dbt/target``), so several
    data roots share one checkout; ``dbt parse`` writes the manifest the build plan
    reads (``target_path``).
    """
    target = target_path or run_target(cfg)
    dbt = Path(sys.executable).parent / "dbt"
    return [str(dbt), "--no-use-colors", *args, "--project-dir", str(cfg.dbt_project_dir),
            "--target-path", str(target), "--log-path", str(target.parent / "logs")]


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the dbt child die (SIGKILL) when its parent dies.

    dbt runs as a child process, not through ``dbtRunner`` in ours, and it holds the
    warehouse's write lock while it runs. Killed with SIGKILL, the parent (``ksp build``,
    an Airflow task) cannot kill anything itself; only the kernel can, through
    ``PR_SET_PDEATHSIG``, set in the child between fork and exec. The signal comes when
    the *thread* that started the child ends, so dbt is started from the thread that
    waits for it. ``prctl`` is looked up here, in the parent: the child only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would signal us
            os._exit(1)

    return preexec


def run_dbt(cfg: Settings, *args: str, target_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run dbt as a child process (it releases every DuckDB lock when it exits) that dies
    with its parent, however the parent ends (:func:`_die_with_parent`); an exception in
    the parent while it waits (SIGTERM of an Airflow task) kills it too (``subprocess.run``)."""
    return subprocess.run(dbt_command(cfg, *args, target_path=target_path), env=dbt_env(cfg), text=True,
                          capture_output=True, check=False, preexec_fn=_die_with_parent())


def _inputs(project_dir: Path) -> Iterable[Path]:
    for name in _PARSED:
        p = project_dir / name
        if p.is_file():
            yield p
        elif p.is_dir():
            yield from (f for f in p.rglob("*") if f.is_file())


def manifest_is_current(cfg: Settings) -> bool:
    path = cfg.dbt_manifest_path
    if not path.exists():
        return False
    built = path.stat().st_mtime
    return all(f.stat().st_mtime <= built for f in _inputs(cfg.dbt_project_dir))


def write_manifest(cfg: Settings, *, force: bool = False) -> Path:
    """``dbt parse`` into ``cfg.dbt_manifest_path`` unless it is newer than every dbt file."""
    if force or not manifest_is_current(cfg):
        proc = run_dbt(cfg, "parse", target_path=cfg.dbt_manifest_path.parent)
        if proc.returncode != 0:
            raise DbtFailed(f"dbt parse failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return cfg.dbt_manifest_path


def failures(output: str) -> str:
    """The lines of dbt's output that say what failed (for logs, the ledger and mail)."""
    keep = ("ERROR", "FAIL ", "Error", "error", "Got ", "Done. PASS=")
    lines = [ln.strip() for ln in output.splitlines() if any(k in ln for k in keep)]
    return "\n".join(lines[-30:]) or output[-3000:]


def model_docs(cfg: Settings) -> Path:
    """dbt's documentation site for the warehouse as one self-contained HTML file:
    every model, column, test, exposure and the lineage graph, with the catalog read
    from the built warehouse (run after a build)."""
    proc = run_dbt(cfg, "docs", "generate", "--static")
    if proc.returncode:
        raise DbtFailed(f"dbt docs generate failed:\n{failures(proc.stdout + proc.stderr)}")
    return run_target(cfg) / "static_index.html"


@dataclass(frozen=True)
class Freshness:
    source: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: str | None
    age_hours: float | None


def source_freshness(cfg: Settings) -> list[Freshness]:
    """``dbt source freshness`` on the landed tables (thresholds in each ``_<source>__sources.yml``)."""
    target = cfg.data_dir / "dbt" / "freshness"
    proc = run_dbt(cfg, "source", "freshness", "--output", str(target / "sources.json"))
    results_path = target / "sources.json"
    if not results_path.exists():
        raise DbtFailed(f"dbt source freshness did not run:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    results = json.loads(results_path.read_text())["results"]
    out = [Freshness(r["unique_id"].rsplit(".", 1)[-1], r["status"], r.get("max_loaded_at"),
                     round(r["max_loaded_at_time_ago_in_s"] / 3600, 1)
                     if r.get("max_loaded_at_time_ago_in_s") is not None else None)
           for r in results]
    return sorted(out, key=lambda f: f.source)
