"""Claiming deliveries from ``inbox/<source>/``: the only step the triggerer performs,
and the one place that knows the claim-folder layout ``received/<source>/<claim>/<name>``.

A delivery is claimed by an atomic rename into a new claim folder, so each file is
handed on exactly once, whoever claims it (the Airflow triggerer or ``ksp ingest``),
and a file still being written (recently modified, or named ``.*``/``*.part``/``*.tmp``)
is left alone until it settles. Only regular files with safe names are claimed; what
the inbox cannot take (symlinks, folders, dot-files, abandoned partial uploads, unknown
source folders) is listed by :func:`unclaimable` for ``ksp status`` and the watcher.
Announced deliveries and replays are claimed by a copy into the same layout
(:func:`claim_copy`). Only the standard library is used here: this module runs inside
the triggerer's event loop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SETTLE_SECONDS = 1.0
PARTIAL_SUFFIXES = (".part", ".tmp")


class UnsafeName(ValueError):
    """A name that cannot safely become one path component of a claim."""


def safe_name(name: str, what: str = "file name") -> str:
    """``name`` in NFC form, if it can be one path component of the platform's folders.

    Refused: empty, ``.``/``..`` or anything with ``..``, a path separator, a control,
    format or undecodable character (a name read with undecodable bytes carries
    surrogates), a hidden (dot) name, more than 255 bytes.
    """
    n = unicodedata.normalize("NFC", str(name))
    why = None
    if not n:
        why = "is empty"
    elif "/" in n or "\\" in n or os.sep in n or (os.altsep and os.altsep in n):
        why = "holds a path separator"
    elif ".." in n:
        why = "holds '..'"
    elif any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in n):
        why = "holds a control character"
    elif n.startswith("."):
        why = "is hidden (starts with '.')"
    elif len(n.encode("utf-8", "surrogateescape")) > 255:
        why = "is longer than 255 bytes"
    if why:
        raise UnsafeName(f"{what} {name!r} {why}")
    return n


def _held_back(name: str) -> bool:
    """Names a sender uses while writing: never claimed."""
    return name.startswith(".") or name.endswith(PARTIAL_SUFFIXES)


def _new_claim(received: Path, name: str, prefix: str = "") -> Path:
    """The path a claimed delivery named ``name`` takes: a fresh folder per claim, so two
    deliveries of the same name (a re-delivery, a replay) never meet."""
    name = safe_name(name)
    target_dir = received / f"{prefix}{time.time_ns()}"
    target_dir.mkdir(parents=True, exist_ok=False)
    return target_dir / name


def claim_copy(src: Path, received: Path, name: str | None = None, *, prefix: str = "") -> Path:
    """Claim a copy of ``src`` (an announced file, a kept delivery to replay); the copy
    appears under its final name only once complete.

    ``src`` itself must be a regular file: a symlink is not followed (``O_NOFOLLOW``),
    and a folder, pipe or device is refused, before any claim folder is made.
    """
    name = safe_name(src.name if name is None else name)
    fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise ValueError(f"{src} is not a regular file")
        target = _new_claim(received, name, prefix)
        tmp = target.with_name(f".{target.name}.part")
        with tmp.open("wb") as out:
            shutil.copyfileobj(source, out)
    os.replace(tmp, target)
    return target


def claim(inbox: Path, received: Path, *, settle_seconds: float = SETTLE_SECONDS) -> list[Path]:
    """Move every settled file of one source's inbox into ``received``; return the new paths.

    Only regular files are claimed: a symlink is never followed nor moved (the archive
    would hold a link, not the bytes the ledger hashed), nor is a folder, pipe or device;
    :func:`unclaimable` reports them.
    """
    if not inbox.is_dir():
        return []
    now = time.time()
    claimed: list[Path] = []
    for path in sorted(inbox.iterdir()):
        try:
            seen = os.lstat(path)
        except FileNotFoundError:
            continue  # somebody else claimed it first
        if not stat.S_ISREG(seen.st_mode) or _held_back(path.name) or now - seen.st_mtime < settle_seconds:
            continue
        try:
            target = _new_claim(received, path.name)
        except UnsafeName:
            continue  # reported by unclaimable()
        try:
            os.replace(path, target)
        except FileNotFoundError:
            target.parent.rmdir()  # claimed by somebody else meanwhile: leave no empty claim folder
            continue
        moved = os.lstat(target)
        if not stat.S_ISREG(moved.st_mode) or (moved.st_dev, moved.st_ino) != (seen.st_dev, seen.st_ino):
            _hand_back(target, path)  # swapped for something else between the look and the rename
            continue
        claimed.append(target)
    return claimed


def _hand_back(target: Path, path: Path) -> None:
    if not os.path.lexists(path):
        os.replace(target, path)
        target.parent.rmdir()
    else:  # the inbox name is taken again: keep it out of pending() under a hidden name
        os.replace(target, target.with_name(f".unclaimed-{target.name}"))


def _why_not_claimed(path: Path, now: float, partial_grace_seconds: float) -> tuple[str, str] | None:
    """``(kind, reason)`` a file of a source's inbox will not be claimed, or None (it will
    be, or may still be)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return "symlink", f"symbolic link (to {os.readlink(path)}): not followed, not claimed; deliver the file itself"
    if not stat.S_ISREG(st.st_mode):
        return "not_regular", "not a regular file (a folder, pipe or device): not claimed"
    if path.name.endswith(PARTIAL_SUFFIXES):
        age = now - st.st_mtime
        if age > partial_grace_seconds:
            return "partial", (f"partial upload untouched for {age / 3600:.1f} h (grace "
                               f"{partial_grace_seconds / 3600:.1f} h): never renamed to its final name, not claimed")
        return None
    if path.name.startswith("."):
        return "dot_file", "dot-file: hidden names are never claimed"
    try:
        safe_name(path.name)
    except UnsafeName as e:
        return "unsafe_name", f"{e}: not claimed"
    return None


def unclaimable_in(inbox: Path, *, partial_grace_seconds: float, now: float | None = None) -> list[dict[str, Any]]:
    """What sits in one source's inbox folder that no claim will take (the watcher's share)."""
    if not inbox.is_dir():
        return []
    now = time.time() if now is None else now
    found = []
    for path in sorted(inbox.iterdir()):
        why = _why_not_claimed(path, now, partial_grace_seconds)
        if why:
            found.append({"source": inbox.name, "path": str(path), "kind": why[0], "reason": why[1]})
    return found


def unclaimable(inbox_root: Path, sources: Iterable[str], *, partial_grace_seconds: float,
                now: float | None = None) -> list[dict[str, Any]]:
    """What sits in the inbox that no claim will take, with the reason: symlinks, folders,
    dot-files, partial uploads older than the grace period, unsafe names, files outside a
    source folder and unknown source folders (``{"source", "path", "kind", "reason"}``)."""
    if not inbox_root.is_dir():
        return []
    now = time.time() if now is None else now
    known = set(sources)
    found: list[dict[str, Any]] = []
    for top in sorted(inbox_root.iterdir()):
        if top.name in known and top.is_dir():
            found += unclaimable_in(top, partial_grace_seconds=partial_grace_seconds, now=now)
        elif top.is_dir() and not top.is_symlink():
            files = sum(1 for p in top.rglob("*") if not p.is_dir())
            found.append({"source": None, "path": str(top), "kind": "unknown_source", "reason": (
                f"unknown source folder {top.name!r} ({files} file(s)): no source of that name, "
                f"nothing in it is claimed; known: {', '.join(sorted(known))}")})
        else:
            kind = "symbolic link" if top.is_symlink() else "file"
            found.append({"source": None, "path": str(top), "kind": "outside_source", "reason": (
                f"{kind} outside a source folder: deliveries go into inbox/<source>/, not claimed")})
    return found


def pending(received: Path) -> list[Path]:
    """Claimed deliveries not yet processed, oldest claim first."""
    if not received.is_dir():
        return []
    return sorted(p for p in received.glob("*/*")
                  if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def release(claimed: Path) -> None:
    """Remove a processed delivery's claim folder once its file has moved on."""
    with contextlib.suppress(OSError):
        claimed.parent.rmdir()
