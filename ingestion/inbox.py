"""Claiming deliveries from ``inbox/<source>/``: the only step the triggerer performs,
and the one place that knows the claim-folder layout ``received/<source>/<claim>/<name>``.

A delivery is claimed by an atomic rename into a new claim folder, so each file is
handed on exactly once, whoever claims it (the Airflow triggerer or ``ksp ingest``),
and a file still being written (recently modified, or named ``.*``/``*.part``/``*.tmp``)
is left alone until it settles. Announced deliveries and replays are claimed by a copy
into the same layout (:func:`claim_copy`). Only the standard library is used here:
this module runs inside the triggerer's event loop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

SETTLE_SECONDS = 1.0


def _is_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith((".part", ".tmp"))


def _new_claim(received: Path, name: str, prefix: str = "") -> Path:
    """The path a claimed delivery named ``name`` takes: a fresh folder per claim, so two
    deliveries of the same name (a re-delivery, a replay) never meet."""
    target_dir = received / f"{prefix}{time.time_ns()}"
    target_dir.mkdir(parents=True, exist_ok=False)
    return target_dir / name


def claim_copy(src: Path, received: Path, name: str | None = None, *, prefix: str = "") -> Path:
    """Claim a copy of ``src`` (an announced file, a kept delivery to replay); the copy
    appears under its final name only once complete."""
    target = _new_claim(received, name or src.name, prefix)
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)
    return target


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
        target = _new_claim(received, path.name)
        try:
            os.replace(path, target)
        except FileNotFoundError:
            target.parent.rmdir()  # claimed by somebody else meanwhile: leave no empty claim folder
            continue
        claimed.append(target)
    return claimed


def pending(received: Path) -> list[Path]:
    """Claimed deliveries not yet processed, oldest claim first."""
    if not received.is_dir():
        return []
    return sorted(p for p in received.glob("*/*") if p.is_file() and not p.name.startswith("."))


def release(claimed: Path) -> None:
    """Remove a processed delivery's claim folder once its file has moved on."""
    with contextlib.suppress(OSError):
        claimed.parent.rmdir()
