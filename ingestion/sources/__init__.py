"""The delivery sources of SPEC.md; adding a source is adding a module here."""

from __future__ import annotations

from ingestion.core import Source
from ingestion.sources import cameras_wbizk, police

SOURCES: dict[str, Source] = {s.name: s for s in (cameras_wbizk.SOURCE, police.SOURCE)}


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source '{name}'; known: {', '.join(sorted(SOURCES))}") from None
