"""Claiming deliveries from ``inbox/<source>/``: the only step the triggerer performs.

A delivery is claimed by an atomic rename into ``received/<source>/<claim>/<name>``,
so each file is handed on exactly once, whoever claims it (the Airflow triggerer or
``ksp ingest``), and a file still being written (recently modified, or named
``.*``/``*.part``/``*.tmp``) is left alone until it settles. Only the standard
library is used here: this module runs inside the triggerer's event loop.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SETTLE_SECONDS = 1.0


def _is_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith((".part", ".tmp"))


def claim(inbox: Path, received: Path, *, settle_seconds: float = SETTLE_SECONDS) -> list[Path]:
    """Move every settled file of one source's inbox into ``received``; return the new paths."""
    if not inbox.is_dir():
        return []
    now = time.time()
    claimed: list[Path] = []
    for path in sorted(inbox.iterdir()):
        try:
            if not _is_candidate(path) or now - path.stat().st_mtime < settle_seconds:
                continue
        except FileNotFoundError:
            continue  # somebody else claimed it first
        target_dir = received / f"{time.time_ns()}"
        target_dir.mkdir(parents=True, exist_ok=False)
        target = target_dir / path.name
        try:
            os.replace(path, target)
        except FileNotFoundError:
            target_dir.rmdir()  # claimed by somebody else meanwhile: leave no empty claim folder
            continue
        claimed.append(target)
    return claimed


def pending(received: Path) -> list[Path]:
    """Claimed deliveries not yet processed, oldest claim first."""
    if not received.is_dir():
        return []
    return sorted(p for p in received.glob("*/*") if p.is_file())
