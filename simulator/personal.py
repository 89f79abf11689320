"""The simulator's record of every personal value it plants in a delivery.

The deliveries carry names, phone numbers, PESEL numbers, e-mail addresses, licence
plates and City Guard operators' personal numbers, because real exports do
(DOMAIN.md). A scan that proves none of them survives in the platform's stores must
look for exactly what was planted, not for a hand-written list that drifts from the
simulator: so every writer that plants such a value records it here, and
``simulate`` writes the record to ``OUT/personal.json``.

The values are planted deep inside the frame builders (a note is built row by row),
so the record is an ambient one (a :class:`~contextvars.ContextVar` set by
:func:`recording`) rather than an argument threaded through every builder's
signature; planting outside :func:`recording` records nothing. ``inject_faults`` adds
what the faults plant to the same file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

KINDS = ("name", "surname", "phone", "pesel", "email", "plate", "operator")
FILE_NAME = "personal.json"

_RECORD: ContextVar[dict[str, set[str]] | None] = ContextVar("planted_personal_values", default=None)


@contextmanager
def recording() -> Iterator[dict[str, set[str]]]:
    """Collect what :func:`plant` is told while the block runs (``kind -> values``)."""
    record: dict[str, set[str]] = {k: set() for k in KINDS}
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def plant(kind: str, value: str) -> str:
    """Record ``value`` as a planted personal value of ``kind``; returns it, so a writer
    can plant and use the value in one expression."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of personal value {kind!r} (one of {KINDS})")
    record = _RECORD.get()
    if record is not None:
        record[kind].add(value)
    return value


def write(out: Path, record: dict[str, set[str]]) -> Path:
    """Add ``record`` to ``OUT/personal.json`` (``{"values": {kind: [sorted values]}}``):
    the faults are injected into an already simulated city, and their values join the
    writers' (``simulate`` removes an older file first)."""
    path = out / FILE_NAME
    values = {k: set(v) for k, v in load(out).items()} if path.exists() else {}
    for kind in KINDS:
        values[kind] = values.get(kind, set()) | record.get(kind, set())
    path.write_text(json.dumps({"values": {k: sorted(v) for k, v in values.items()}}, indent=1,
                               ensure_ascii=False), encoding="utf-8")
    return path


def load(out: Path) -> dict[str, list[str]]:
    """What a simulation under ``out`` planted, by kind."""
    return json.loads((out / FILE_NAME).read_text(encoding="utf-8"))["values"]
