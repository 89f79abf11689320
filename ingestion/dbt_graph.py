"""The parsed dbt project: ``dbt/target/manifest.json``, written once and again only
when a dbt file changes.

``make setup`` / ``ksp manifest`` parse it, so nothing runs dbt while the DAG
processor parses. The build plan reads its age (a newer manifest means the dbt
project changed and a full build is due); which nodes a changed source reaches is
dbt's own selector ``source:<s>.<s>+`` (``pipeline.plan_build``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from ingestion.config import Settings

# What changes the manifest: everything dbt parses.
_PARSED = ("models", "macros", "seeds", "snapshots", "tests", "dbt_project.yml", "profiles.yml")


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
        dbt = Path(sys.executable).parent / "dbt"
        target = cfg.dbt_manifest_path.parent
        env = {**os.environ, **cfg.dbt_env()}
        proc = subprocess.run(
            [str(dbt), "--no-use-colors", "parse", "--project-dir", str(cfg.dbt_project_dir),
             "--target-path", str(target), "--log-path", str(target.parent / "logs")],
            env=env, text=True, capture_output=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return cfg.dbt_manifest_path
