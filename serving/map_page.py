"""The Safety Map page ("Mapa Bezpieczeństwa"): one self-contained HTML file per published build.

``write_map_page(cfg)`` reads the published warehouse only (read-only, like every
reader), turns the geometries into WGS84 GeoJSON inside DuckDB (``st_transform`` from
EPSG:2180 with ``always_xy``, coordinates rounded to 6 decimals, about 0.1 m) and writes

    reports/map/<build_id>/mapa.html    the map: Leaflet's JS and CSS, the data and the
                                         page's own script all inlined; no URL is fetched
    reports/map/<build_id>/build.json   what the index lists (build, publication time)
    reports/map/index.html              the builds, newest first

each under a temporary name first and then ``os.replace``-d into place, so a reader
never opens half a page. There is no server and no tile layer: the background is the
18 district boundaries on a plain colour, and a Content-Security-Policy meta tag makes
the browser itself refuse any fetch (``default-src 'none'``).

Layers (everything a reader sees is in Polish; times are Warsaw time):

* district boundaries with their names (always on);
* camera points in service, coloured by kind, the effect verdict in the popup
  (mart_camera_effect per offence class for the current position, mart_effect_decay);
* this year's Gi* hot spots (mart_hotspots: the latest year, cells at 95 % or more);
* patrol-risk cells by hour of the week (mart_patrol_hotspots: the ``patrol_top`` cells
  with most offences per hour, 168 hours, chosen with a slider or day and hour lists);
* recommended camera moves (mart_relocation_plan: lines from the camera to the new site);
* schools and kindergartens no camera covers (mart_school_route_coverage).

The library comes from npm (``package.json`` at the repository root, ``npm ci``); the
page embeds ``node_modules/leaflet/dist/leaflet.js`` and ``leaflet.css``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from ingestion.config import REPO_ROOT, Settings
from ingestion.duck import connect, fetch_dicts
from serving.reports import WarehouseNotPublished

__all__ = ["LeafletMissing", "WarehouseNotPublished", "hour_label", "write_map_index", "write_map_page"]

TEMPLATES = Path(__file__).resolve().parent / "templates" / "map"
LEAFLET_DIST = REPO_ROOT / "node_modules" / "leaflet" / "dist"
PAGE_NAME = "mapa.html"
PATROL_TOP = 20  # cells per hour of the week, as `ksp export patrol-layer` (--top 20)
DISTRICT_SIMPLIFY_M = 5.0  # boundary simplification tolerance before the transform, metres
WARSAW = ZoneInfo("Europe/Warsaw")
NBSP = "\u00a0"

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
          "październik", "listopad", "grudzień")
MONTHS_GENITIVE = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
                   "września", "października", "listopada", "grudnia")
WEEKDAYS_SHORT = ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz.")

CAMERA_KINDS = {  # kind -> (label, colour)
    "city_monitoring": ("Monitoring miejski", "#1f5fbf"),
    "multisensor": ("Urządzenie wielosensorowe", "#0f9d8a"),
    "anpr": ("ANPR (odczyt tablic)", "#8e44ad"),
}
OFFENCE_CLASSES = {
    "instrumental_property": "przeciwko mieniu (instrumentalne)",
    "public_order": "porządek publiczny",
    "affective_violence": "przemoc afektywna",
    "alcohol_drugs": "alkohol i narkotyki",
    "traffic": "wykroczenia drogowe",
    "other": "inne",
}
AREA_TYPES = {"transit": "komunikacyjny", "commercial": "handlowo-usługowy", "residential": "mieszkaniowy"}
CLASS_ORDER = list(OFFENCE_CLASSES)
CLASS_INDEX = {c: i for i, c in enumerate(CLASS_ORDER)}
POI_KINDS = {"school": "Szkoła", "kindergarten": "Przedszkole"}


class LeafletMissing(FileNotFoundError):
    """The map library is not installed in node_modules/ (run ``npm ci`` at the repository root)."""


# ---------------------------------------------------------------------------- Polish text

# mart_camera_effect.effect_verdict (no_effect_detectable is worded with its MDE in _effect_verdict)
EFFECT_VERDICTS = {
    "effect_found": "mniej przestępstw niż oczekiwano (działa odstraszająco)",
    "increase_found": "więcej przestępstw niż oczekiwano",
    "too_few_to_tell": "za mało zdarzeń, by ocenić",
    "neighbourhood_changed": "otoczenie kamery się zmieniło – wynik nie mówi o kamerze",
}


def pl_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` → ``1 234,5`` (non-breaking space groups thousands, comma decimal mark)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def pl_date(d: date | None) -> str:
    """``2026-03-31`` → ``31 marca 2026``."""
    return "–" if d is None else f"{d.day} {MONTHS_GENITIVE[d.month - 1]} {d.year}"


def pl_month(d: date) -> str:
    """``2026-03-xx`` → ``marzec 2026``."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def pl_datetime(ts: datetime) -> str:
    """A timestamp in Warsaw time: ``4 grudnia 2026, 00:13``."""
    if ts.tzinfo is None:  # the warehouse stores UTC
        ts = ts.replace(tzinfo=ZoneInfo("UTC"))
    local = ts.astimezone(WARSAW)
    return f"{pl_date(local.date())}, {local:%H:%M}"


def hour_label(hour_of_week: int) -> str:
    """0 → ``pon. 00:00`` … 165 → ``niedz. 21:00`` (Warsaw wall clock, as the mart)."""
    return f"{WEEKDAYS_SHORT[hour_of_week // 24]} {hour_of_week % 24:02d}:00"


def _yes(v: bool | None) -> str:
    return "–" if v is None else ("tak" if v else "nie")


# ---------------------------------------------------------------------------- the data

def _lonlat_sql(x: str, y: str) -> str:
    """SQL for [lon, lat] of an EPSG:2180 point, rounded to 6 decimals."""
    g = f"st_transform(st_point({x}, {y}), 'EPSG:2180', 'EPSG:4326', always_xy := true)"
    return f"[round(st_x({g}), 6), round(st_y({g}), 6)]"


def _geojson_sql(wkt: str, simplify_m: float | None = None) -> str:
    geom = f"st_geomfromtext({wkt})"
    if simplify_m:
        geom = f"st_simplifypreservetopology({geom}, {simplify_m})"
    return (f"st_asgeojson(st_reduceprecision(st_transform({geom}, 'EPSG:2180', 'EPSG:4326', "
            f"always_xy := true), 0.000001))")


def _effect_verdict(e: dict[str, Any]) -> str:
    """mart_camera_effect's verdict in Polish (the rule is the mart's, docs/marts.md)."""
    if e["rate_ratio"] is None:
        return "brak oszacowania"
    verdict = e["effect_verdict"]
    if verdict == "no_effect_detectable":
        return (f"bez istotnej zmiany; spadek o {pl_number(e['mde_reduction_pct'])} % lub większy "
                "zostałby wykryty")
    return EFFECT_VERDICTS.get(verdict, verdict)


def _r2(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 2)


class _Labels(list):
    """Distinct label texts, each stored once in the page and referred to by index."""

    def index(self, text: str) -> int:  # type: ignore[override]
        if text not in self:
            self.append(text)
        return super().index(text)


def _cameras(con: duckdb.DuckDBPyConnection, verdicts: _Labels) -> list[dict[str, Any]]:
    points = fetch_dicts(con, f"""
        select camera_point_id, camera_point_version_id, position_no, location_name, district_id,
               camera_kind, camera_count, installed_date, valid_from,
               {_lonlat_sql('easting_m', 'northing_m')} as ll
        from marts.dim_camera_point
        where is_current and removed_date is null
        order by camera_point_id""")
    effects: dict[str, list[dict[str, Any]]] = {}
    for e in fetch_dicts(con, """
            select camera_point_version_id, offence_class, area_type, rate_ratio, rate_ratio_ci_low,
                   rate_ratio_ci_high, effect_verdict, mde_reduction_pct, treated_before, treated_after
            from marts.mart_camera_effect order by camera_point_version_id, offence_class"""):
        effects.setdefault(e["camera_point_version_id"], []).append(e)
    decay = {d["camera_point_version_id"]: d for d in fetch_dicts(con, """
        select distinct camera_point_version_id, is_faded, first_year_rate_ratio, latest_year_rate_ratio,
               latest_year_since_position
        from marts.mart_effect_decay""")}
    out = []
    for p in points:
        rows = effects.get(p["camera_point_version_id"], [])
        main = next((e for e in rows if e["offence_class"] == "instrumental_property"), None)
        d = decay.get(p["camera_point_version_id"])
        if d is None or d["is_faded"] is None:
            fade = "za wcześnie na ocenę (mniej niż 2 lata)" if d else "brak pomiaru"
        else:
            fade = "efekt wygasł – warto przenieść" if d["is_faded"] else "efekt się utrzymuje"
        kind_label, _ = CAMERA_KINDS.get(p["camera_kind"], (p["camera_kind"], "#555"))
        out.append({
            "id": p["camera_point_id"], "name": p["location_name"], "kind": p["camera_kind"],
            "kindLabel": kind_label, "district": p["district_id"], "ll": p["ll"],
            "cameras": p["camera_count"], "installed": pl_date(p["installed_date"]),
            "position": p["position_no"], "since": pl_date(p["valid_from"]),
            "area": AREA_TYPES.get(main["area_type"], main["area_type"]) if main else None,
            "verdict": (_effect_verdict(main) if main else
                        "brak oceny (stanowisko starsze niż dane)" if not rows else "brak oszacowania"),
            "fade": fade,
            # [offence class (index into labels.offenceClasses), RR, 95 % low, high, offences within
            #  150 m before, after, verdict (index into labels.verdicts)]
            "effects": [[CLASS_INDEX.get(e["offence_class"], len(CLASS_ORDER) - 1), _r2(e["rate_ratio"]),
                         _r2(e["rate_ratio_ci_low"]), _r2(e["rate_ratio_ci_high"]), e["treated_before"],
                         e["treated_after"], verdicts.index(_effect_verdict(e))] for e in rows],
        })
    return out


def _hotspots(con: duckdb.DuckDBPyConnection) -> tuple[int | None, list[dict[str, Any]]]:
    year = con.execute("select max(period_year) from marts.mart_hotspots").fetchone()[0]
    if year is None:
        return None, []
    rows = fetch_dicts(con, """
        select cell_id, district_id, offence_class, hotspot_class, gi_star_z, offence_count,
               is_camera_covered, is_persistent_hotspot
        from marts.mart_hotspots
        where period_year = ? and is_hotspot_95
        order by cell_id, gi_star_z desc""", [year])
    # one entry per cell (short keys: 1,400 cells at demo scale): cell, district, 99 (or 95) for
    # the strongest class, a camera within 150 m (1/0), a hot spot in other years too (1/0), classes
    cells: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = cells.setdefault(r["cell_id"], {"cell": r["cell_id"], "d": r["district_id"], "lvl": 95,
                                            "cov": 0, "pers": 0, "cls": []})
        if r["hotspot_class"] == "hot_99":
            c["lvl"] = 99
        c["cov"] = c["cov"] or int(bool(r["is_camera_covered"]))
        c["pers"] = c["pers"] or int(bool(r["is_persistent_hotspot"]))
        # [offence class (index into labels.offenceClasses), 99 % (1) or 95 % (0), Gi* z, offences]
        c["cls"].append([CLASS_INDEX.get(r["offence_class"], len(CLASS_ORDER) - 1),
                         int(r["hotspot_class"] == "hot_99"), _r2(r["gi_star_z"]), r["offence_count"]])
    return year, list(cells.values())


def _patrol(con: duckdb.DuckDBPyConnection, top: int) -> dict[str, Any]:
    rows = con.execute("""
        select hour_of_week, cell_id, offences, offences_per_week, share_of_hour, district_id,
               instrumental_offences, affective_offences
        from marts.mart_patrol_hotspots
        qualify row_number() over (partition by hour_of_week order by offences desc, cell_id) <= ?
        order by hour_of_week, offences desc, cell_id""", [top]).fetchall()
    window = con.execute(
        "select min(window_start_date), max(window_end_date) from marts.mart_patrol_hotspots").fetchone()
    busiest = con.execute("""
        select hour_of_week from marts.mart_patrol_hotspots group by 1
        order by sum(offences) desc, hour_of_week limit 1""").fetchone()
    hours: dict[int, list[list[Any]]] = {h: [] for h in range(168)}
    for h, cell, n, per_week, share, district, instr, affect in rows:
        # [cell, offences in 52 weeks, per week, share of the city's offences at that hour (%), district,
        #  of which instrumental, of which affective/alcohol]
        hours[h].append([cell, n, round(per_week, 3), round(100 * share, 1), district, instr, affect])
    return {
        "top": top,
        "hours": [hours[h] for h in range(168)],
        "labels": [hour_label(h) for h in range(168)],
        "busiest": busiest[0] if busiest else 0,
        "window": (f"{pl_month(window[0])} – {pl_month(window[1])}" if window[0] else None),
        "maxOffences": max((r[2] for r in rows), default=0),
    }


def _moves(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = fetch_dicts(con, f"""
        select move_rank, camera_point_id, from_location_name, from_district_id,
               {_lonlat_sql('from_easting_m', 'from_northing_m')} as a,
               {_lonlat_sql('to_easting_m', 'to_northing_m')} as b,
               to_area_type, to_is_near_children_places, to_is_near_transit_node, to_has_infrastructure,
               remaining_effect_share, value_given_up, value_gained, offences_prevented_per_year, net_gain,
               solver_status
        from marts.mart_relocation_plan order by move_rank""")
    return [{
        "rank": r["move_rank"], "camera": r["camera_point_id"], "from": r["from_location_name"],
        "district": r["from_district_id"], "a": r["a"], "b": r["b"],
        "area": AREA_TYPES.get(r["to_area_type"], r["to_area_type"]),
        "children": _yes(r["to_is_near_children_places"]), "transit": _yes(r["to_is_near_transit_node"]),
        "infra": _yes(r["to_has_infrastructure"]),
        "remaining": pl_number(None if r["remaining_effect_share"] is None
                               else 100 * r["remaining_effect_share"], 0),
        "givenUp": pl_number(r["value_given_up"], 1), "gained": pl_number(r["value_gained"], 1),
        "prevented": pl_number(r["offences_prevented_per_year"], 1), "net": pl_number(r["net_gain"], 1),
        "solver": "optymalne" if r["solver_status"] == "optimal" else r["solver_status"],
    } for r in rows]


def _schools(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = fetch_dicts(con, f"""
        select poi_id, poi_kind, poi_name, district_id, nearest_camera_point_id, nearest_camera_distance_m,
               is_near_hotspot, offences_300m_last_year, is_uncovered_near_hotspot,
               {_lonlat_sql('easting_m', 'northing_m')} as ll
        from marts.mart_school_route_coverage
        where poi_kind in ('school', 'kindergarten') and not is_covered
        order by is_uncovered_near_hotspot desc, offences_300m_last_year desc nulls last, poi_id""")
    return [{
        "id": r["poi_id"], "kind": POI_KINDS[r["poi_kind"]], "name": r["poi_name"], "district": r["district_id"],
        "camera": r["nearest_camera_point_id"],
        "distance": pl_number(r["nearest_camera_distance_m"], 0) if r["nearest_camera_point_id"] else None,
        "nearHotspot": bool(r["is_near_hotspot"]), "urgent": bool(r["is_uncovered_near_hotspot"]),
        "offences": pl_number(r["offences_300m_last_year"]), "ll": r["ll"],
    } for r in rows]


def _districts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = con.execute(f"""
        select district_id, district_no, district_name, district_full_name, area_km2, population_2019,
               {_geojson_sql('boundary_wkt_epsg2180', DISTRICT_SIMPLIFY_M)} as geom,
               {_lonlat_sql('centroid_easting_m', 'centroid_northing_m')} as label
        from marts.dim_district order by district_id""").fetchall()
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": json.loads(geom),
        "properties": {"id": did, "no": no, "name": name, "fullName": full, "label": label,
                       "area": pl_number(area, 2), "areaKm2": area,
                       "population": pl_number(pop)},
    } for did, no, name, full, area, pop, geom, label in rows]}


def _cells(con: duckdb.DuckDBPyConnection, ids: set[str]) -> dict[str, list[list[float]]]:
    """The 250 m squares, as one WGS84 ring each, for the cells the page draws."""
    if not ids:
        return {}
    rows = con.execute(f"""
        select cell_id, {_geojson_sql('cell_wkt_epsg2180')}
        from marts.dim_grid_cell where list_contains(?, cell_id)""", [sorted(ids)]).fetchall()
    # the closing corner repeats the first: Leaflet closes polygons itself
    return {cell: json.loads(g)["coordinates"][0][:-1] for cell, g in rows}


def _page_data(con: duckdb.DuckDBPyConnection, top: int) -> dict[str, Any]:
    build_id, published_at = con.execute("select build_id, published_at from meta.build_info").fetchone()
    horizon = con.execute("select max(occurred_date) from marts.fct_incident").fetchone()[0]
    year, hotspots = _hotspots(con)
    verdicts = _Labels()
    patrol = _patrol(con, top)
    cell_ids = {h["cell"] for h in hotspots} | {r[0] for hour in patrol["hours"] for r in hour}
    names = {d: n for d, n in con.execute("select district_id, district_no || ' ' || district_name "
                                           "from marts.dim_district").fetchall()}
    partial = horizon is not None and year == horizon.year and (horizon.month, horizon.day) != (12, 31)
    return {
        "meta": {
            "buildId": build_id,
            "publishedAt": pl_datetime(published_at),
            "horizon": pl_date(horizon),
            "hotspotYear": year,
            "hotspotNote": (f"rok niepełny: dane do {pl_date(horizon)}" if partial else None),
            "districtNames": names,
        },
        "districts": _districts(con),
        "cells": _cells(con, cell_ids),
        "cameras": _cameras(con, verdicts),
        "labels": {"offenceClasses": [OFFENCE_CLASSES[c] for c in CLASS_ORDER], "verdicts": verdicts},
        "cameraKinds": {k: {"label": lbl, "colour": col} for k, (lbl, col) in CAMERA_KINDS.items()},
        "hotspots": hotspots,
        "patrol": patrol,
        "moves": _moves(con),
        "schools": _schools(con),
    }


# ---------------------------------------------------------------------------- the page

def _leaflet() -> tuple[str, str, str]:
    """Leaflet's JS and CSS from node_modules (images inlined as data: URLs), and its version."""
    js_path, css_path = LEAFLET_DIST / "leaflet.js", LEAFLET_DIST / "leaflet.css"
    if not js_path.exists() or not css_path.exists():
        raise LeafletMissing(
            f"Leaflet is not installed ({js_path} is missing): run `npm ci` in {REPO_ROOT} "
            "(package.json and package-lock.json pin the version the map page embeds)")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js_path.read_text(encoding="utf-8"))
    css = css_path.read_text(encoding="utf-8")

    def inline(m: re.Match[str]) -> str:
        image = LEAFLET_DIST / m.group(1)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    version = json.loads((LEAFLET_DIST.parent / "package.json").read_text())["version"]
    return js, css, version


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>`` or ``<!--`` can appear)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.time_ns()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_map_page(cfg: Settings, out_dir: Path | None = None, *, patrol_top: int = PATROL_TOP) -> Path:
    """Write ``<out_dir>/<build_id>/mapa.html`` for the published build (``out_dir`` defaults
    to ``cfg.reports_dir / "map"``) and refresh ``<out_dir>/index.html``; returns the page."""
    if not cfg.published_path.exists():
        raise WarehouseNotPublished(f"{cfg.published_path} does not exist yet: no build has been published")
    leaflet_js, leaflet_css, leaflet_version = _leaflet()
    con = connect(cfg.published_path, cfg, spatial=True, read_only=True)
    try:
        data = _page_data(con, patrol_top)
        published_at = con.execute("select published_at from meta.build_info").fetchone()[0]
    finally:
        con.close()
    out_dir = (out_dir or cfg.reports_dir / "map").resolve()
    build_id = data["meta"]["buildId"]
    html = _env().get_template("mapa.html.j2").render(
        csp=CSP,
        meta=data["meta"],
        leaflet_js=leaflet_js,
        leaflet_css=leaflet_css,
        leaflet_version=leaflet_version,
        app_js=(TEMPLATES / "map.js").read_text(encoding="utf-8"),
        app_css=(TEMPLATES / "map.css").read_text(encoding="utf-8"),
        data_json=_script_json(data),
    )
    page = out_dir / build_id / PAGE_NAME
    _write_atomic(page, html)
    _write_atomic(out_dir / build_id / "build.json", json.dumps({
        "build_id": build_id, "published_at": published_at.isoformat(), "page": PAGE_NAME,
        "bytes": len(html.encode("utf-8")),
    }, indent=1))
    write_map_index(out_dir)
    return page


def write_map_index(out_dir: Path) -> Path:
    """``<out_dir>/index.html``: every build's page, newest publication first."""
    builds = []
    for meta in out_dir.glob("*/build.json"):
        try:
            b = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if not (meta.parent / b.get("page", PAGE_NAME)).exists():
            continue
        published = datetime.fromisoformat(b["published_at"])
        builds.append({"build_id": b["build_id"], "href": f"{meta.parent.name}/{b.get('page', PAGE_NAME)}",
                       "published": published, "published_pl": pl_datetime(published),
                       "size": pl_number(b.get("bytes", 0) / 1e6, 1)})
    builds.sort(key=lambda b: b["published"], reverse=True)
    index = out_dir / "index.html"
    _write_atomic(index, _env().get_template("index.html.j2").render(csp=CSP, builds=builds))
    return index
