"""The dbt graph as Airflow sees it: the parsed manifest and what a change must rebuild.

``dbt/target/manifest.json`` is parsed once (``make setup`` / ``ksp manifest``), so
nothing runs dbt while the DAG processor parses. When ``landed_police`` fires, only
the nodes downstream of the ``ledger.police`` source need rebuilding: the build DAG
selects them with dbt's ``source:police.police+`` and this module counts the same
set from the manifest's child map for the build's log; the other tables are already
correct.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ingestion.config import Settings

PROJECT_NAME = "krakow_safety"
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


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text())


def manifest(cfg: Settings) -> dict:
    p = cfg.dbt_manifest_path
    return _load(str(p), p.stat().st_mtime)


def source_node(source: str) -> str:
    """The manifest id of the dbt source that reads ``landing.<source>`` (one source per landed table)."""
    return f"source.{PROJECT_NAME}.{source}.{source}"


def downstream_of_sources(cfg: Settings, sources: Iterable[str]) -> set[str]:
    """Every node (model, snapshot, test) that depends, directly or not, on these sources."""
    child_map: dict[str, list[str]] = manifest(cfg)["child_map"]
    todo = [source_node(s) for s in sources]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        for child in child_map.get(node, []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen
