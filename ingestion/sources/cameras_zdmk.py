"""``cameras_zdmk``: the roads authority's camera snapshots, GeoJSON in WGS84 (SPEC §2)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from ingestion.core import FileName, Parsed, RefusedDelivery, Source
from ingestion.sources import _convert as cv

PROPERTIES = ["id", "nazwa", "rodzaj", "data_uruchomienia", "status", "liczba_kamer"]
KINDS = {"UTCS": "utcs", "ANPR": "anpr"}
STATUS = {"aktywna": True, "nieaktywna": False}


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["date"], revision=0)


def _features(path: Path) -> list[tuple[int, dict[str, Any] | list[str]]]:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise RefusedDelivery(path.name, "encoding", f"not UTF-8 at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise RefusedDelivery(path.name, "not_geojson", e.msg, line=e.lineno) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise RefusedDelivery(path.name, "not_geojson", "not a GeoJSON FeatureCollection")
    out: list[tuple[int, dict[str, Any] | list[str]]] = []
    for i, feature in enumerate(doc["features"], start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or not isinstance(geom, dict):
            out.append((i, [str(feature)[:200]]))
            continue
        missing = [p for p in PROPERTIES if p not in props]
        if missing and i == 1:
            raise RefusedDelivery(path.name, "missing_column", f"feature 1 lacks propert(ies) {missing}",
                                  line=1, column=missing[0])
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        out.append((i, {**{p: props.get(p) for p in PROPERTIES}, "coordinates": coords}))
    return out


def _convert(rec: dict[str, Any]) -> dict[str, Any]:
    coords = rec["coordinates"]
    if not (isinstance(coords, list) and len(coords) >= 2):
        raise cv.RowError("not_a_point", "geometry", "the feature's geometry is not a Point")
    installed = cv.date(rec["data_uruchomienia"], "data_uruchomienia", required=True)
    return {
        "camera_point_id": cv.text(rec["id"], "id"),
        "name": cv.text(rec["nazwa"], "nazwa"),
        "camera_kind": cv.code(rec["rodzaj"], KINDS, "rodzaj"),
        "installed_date": installed if isinstance(installed, dt.date) else None,
        "is_active": cv.code(rec["status"], STATUS, "status"),
        "camera_count": cv.integer(rec["liczba_kamer"], "liczba_kamer", required=True),
        "longitude": cv.number(coords[0], "geometry", required=True),
        "latitude": cv.number(coords[1], "geometry", required=True),
    }


def parse(path: Path) -> Parsed:
    parsed = cv.build(_features(path), _convert, expected_fields=1, dedupe=False,
                      columns=["camera_point_id", "name", "camera_kind", "installed_date", "is_active",
                               "camera_count", "longitude", "latitude"],
                      raw_view=lambda r: {k: v for k, v in r.items()})
    cv.add_metric_coordinates(parsed)
    return parsed


SOURCE = Source(
    name="cameras_zdmk",
    pattern=re.compile(r"kamery_zdmk_(?P<date>\d{4}-\d{2}-\d{2})\.geojson"),
    description="kamery_zdmk_YYYY-MM-DD.geojson",
    columns=(
        ("camera_point_id", "VARCHAR"), ("name", "VARCHAR"), ("camera_kind", "VARCHAR"),
        ("installed_date", "DATE"), ("is_active", "BOOLEAN"), ("camera_count", "INTEGER"),
        ("longitude", "DOUBLE"), ("latitude", "DOUBLE"), ("easting_m", "DOUBLE"), ("northing_m", "DOUBLE"),
        ("is_inside_city", "BOOLEAN"),
    ),
    parse=parse,
    file_name=_file_name,
)
