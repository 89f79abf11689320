"""The delivery sources of SPEC.md; adding a source is adding a module here, a suite in
``expectations/`` and a staging folder in ``dbt/models/staging/``."""

from __future__ import annotations

from ingestion.core import Source
from ingestion.sources import (
    anpr_counts,
    cameras_wbizk,
    cameras_zdmk,
    city_guard,
    interventions,
    mcpu,
    police,
    sos_alerts,
    survey,
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (cameras_wbizk.SOURCE, cameras_zdmk.SOURCE, interventions.SOURCE, survey.SOURCE, police.SOURCE,
              city_guard.SOURCE, mcpu.SOURCE, sos_alerts.SOURCE, anpr_counts.SOURCE)
}


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source '{name}'; known: {', '.join(sorted(SOURCES))}") from None
