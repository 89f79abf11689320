"""Map layers written from the published warehouse for the city's GIS tools."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.config import Settings, settings
from ingestion.duck import connect, fetch_dicts


def patrol_layer(cfg: Settings, out: Path, *, top: int = 20, hour: int | None = None) -> tuple[Path, int]:
    """The patrol layer (cells × hours of the week, the ``top`` cells per hour by rank) as
    WGS84 GeoJSON, read from the published warehouse; returns the file and its features."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    con = connect(cfg.published_path, cfg, spatial=True, read_only=True)
    try:
        where = "where rank_in_hour <= ?" + (" and hour_of_week = ?" if hour is not None else "")
        params = [top] + ([hour] if hour is not None else [])
        con.execute(f"""
            copy (
                select p.* exclude (centroid_easting_m, centroid_northing_m),
                       st_transform(st_geomfromtext(c.cell_wkt_epsg2180), 'EPSG:2180', 'EPSG:4326',
                                    always_xy := true) as geom
                from marts.mart_patrol_hotspots p join marts.dim_grid_cell c using (cell_id)
                {where}
                order by hour_of_week, rank_in_hour
            ) to '{out}' with (format gdal, driver 'GeoJSON')""", params)
        n = con.execute(f"select count(*) from st_read('{out}')").fetchone()[0]
    finally:
        con.close()
    return out, n


# --- Research exports: every mart as (Geo)Parquet, the spatial ones as one GeoPackage, and
# --- a data dictionary, written from one published file (issue 16 item 2).

CRS = "EPSG:2180"
WGS84 = "OGC:CRS84"  # WGS84 in longitude/latitude order, GeoParquet's default CRS
GEOPACKAGE = "ksp.gpkg"
EXPORTS_MANIFEST = "exports.json"
GRID_CELL_M = 250
# a published column that may carry a position: a mart with one must be listed in SPATIAL
COORDINATE_COLUMN = re.compile(r"easting|northing|latitude|longitude|wkt")


@dataclass(frozen=True)
class SpatialMart:
    """How a mart becomes a layer: its geometry (SQL over ``t``, the mart, and ``c``, its grid
    cell when ``cell`` is set), the GeoPackage geometry type (None: mixed), the columns left out
    of every export and the columns put in their place (name -> (SQL, description))."""

    geometry: str
    geometry_type: str | None
    cell: bool = False
    omit: tuple[str, ...] = ()
    add: tuple[tuple[str, str, str], ...] = ()


_POINT = "st_point(t.easting_m, t.northing_m)"
_CELL = "st_geomfromtext(c.cell_wkt_epsg2180)"
_INCIDENT_POINT = ("no: the incident's own position is finer than the 250 m grid cell; "
                   "the exports carry the cell (geometry, cell_centroid_easting_m / _northing_m)")

SPATIAL: dict[str, SpatialMart] = {
    # public infrastructure and places keep their coordinates
    "dim_camera_point": SpatialMart(_POINT, "POINT"),
    "dim_poi": SpatialMart("st_geomfromtext(t.geometry_wkt_epsg2180)", None),
    "mart_camera_incidents_monthly": SpatialMart(_POINT, "POINT"),
    "mart_school_route_coverage": SpatialMart(_POINT, "POINT"),
    "mart_sos_siting": SpatialMart(_POINT, "POINT"),
    "mart_relocation_plan": SpatialMart(
        "st_makeline(st_point(t.from_easting_m, t.from_northing_m), st_point(t.to_easting_m, t.to_northing_m))",
        "LINESTRING"),
    # areas
    "dim_district": SpatialMart("st_geomfromtext(t.boundary_wkt_epsg2180)", "POLYGON"),
    "dim_grid_cell": SpatialMart("st_geomfromtext(t.cell_wkt_epsg2180)", "POLYGON"),
    "mart_hotspots": SpatialMart(_CELL, "POLYGON", cell=True),
    "mart_patrol_hotspots": SpatialMart(_CELL, "POLYGON", cell=True),
    # one row per incident: located by its 250 m grid cell only, never by its own point
    "fct_incident": SpatialMart(
        _CELL, "POLYGON", cell=True, omit=("easting_m", "northing_m"),
        add=(("cell_centroid_easting_m", "c.centroid_easting_m",
              "Easting of the centre of the incident's 250 m grid cell, EPSG:2180 (the incident's "
              "own position is not exported)."),
             ("cell_centroid_northing_m", "c.centroid_northing_m",
              "Northing of the centre of the incident's 250 m grid cell, EPSG:2180 (the incident's "
              "own position is not exported)."))),
}

# the unit a column name states by the platform's naming convention (docs/marts.md)
_UNIT_SUFFIXES = (
    ("_per_km2", "per km²"), ("_km2", "km²"), ("_m2", "m²"), ("_m", "metres"), ("_pln", "PLN"),
    ("_pct", "per cent"), ("_s", "seconds"), ("_days", "days"), ("_months", "months"),
    ("_years", "years"), ("_per_year", "per year"), ("_per_week", "per week"),
    ("_per_day", "per day"), ("_per_1000", "per 1000 residents"), ("_per_30_days", "per 30 days"),
)


def _unit(column: str, meta: dict[str, Any]) -> str:
    if meta.get("unit"):
        return str(meta["unit"])
    if column in ("latitude", "longitude") or column.endswith(("_latitude", "_longitude")):
        return "degrees (WGS84)"
    for suffix, unit in sorted(_UNIT_SUFFIXES, key=lambda s: -len(s[0])):
        if column.endswith(suffix):
            return unit
    return ""


def _gdal_type(name: str, dtype: str) -> str:
    """A column as GDAL can write it: HUGEINT and wide DECIMALs have no GeoPackage type."""
    if dtype in ("HUGEINT", "UHUGEINT"):
        return f't."{name}"::BIGINT as "{name}"'
    m = re.fullmatch(r"DECIMAL\((\d+),\d+\)", dtype)
    if m and int(m.group(1)) > 18:
        return f't."{name}"::DOUBLE as "{name}"'
    return f't."{name}"'


_GEOPARQUET_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon"}


def _ensure_geo_metadata(path: Path, spec: SpatialMart) -> None:
    """Give a GeoParquet file the ``geo`` metadata DuckDB leaves out when no row has a geometry.

    DuckDB writes GeoParquet metadata from the geometries it saw, so a mart that is empty in
    this version (the relocation plan when no camera should move) would leave as plain
    Parquet and GeoPandas would refuse it; the metadata says what the columns are either way.
    """
    import pyarrow.parquet as pq
    from pyproj import CRS as ProjCRS

    if b"geo" in (pq.read_metadata(path).metadata or {}):
        return
    types = [_GEOPARQUET_TYPES[spec.geometry_type]] if spec.geometry_type else []
    geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {
        "geometry": {"encoding": "WKB", "geometry_types": types,
                     "crs": ProjCRS.from_user_input(CRS).to_json_dict()},
        # no crs member means OGC:CRS84 (longitude, latitude) in GeoParquet
        "geometry_wgs84": {"encoding": "WKB", "geometry_types": types}}}
    table = pq.read_table(path)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path, compression="zstd")


def _spatial_select(table: str, spec: SpatialMart, columns: list[tuple[str, str]], *, gdal: bool) -> str:
    cols = [_gdal_type(n, t) if gdal else f't."{n}"' for n, t in columns if n not in spec.omit]
    cols += [f'{sql} as "{name}"' for name, sql, _ in spec.add]
    geom = f"({spec.geometry})::GEOMETRY('{CRS}')"
    cols.append(f"{geom} as geometry")
    if not gdal:
        cols.append(f"st_transform({geom}, '{CRS}', '{WGS84}', always_xy := true)::GEOMETRY('{WGS84}') "
                    "as geometry_wgs84")
    join = " left join marts.dim_grid_cell c on c.cell_id = t.cell_id" if spec.cell else ""
    return f"select {', '.join(cols)} from marts.\"{table}\" t{join}"


def _dictionary(con: Any, manifest: Path, spatial: dict[str, SpatialMart]) -> list[dict[str, str]]:
    """Every published column (and every column only the exports have), with its type, the
    unit its name or dbt ``meta`` states, its dbt description and whether it is exported."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    models = {n.get("alias") or n["name"]: n for n in nodes
              if n["resource_type"] == "model" and n.get("schema") == "marts"}
    published: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' order by table_name, ordinal_position").fetchall():
        published.setdefault(table, []).append((column, dtype))
    rows = []
    for table, columns in published.items():
        docs = models.get(table, {}).get("columns", {})
        spec = spatial.get(table)
        for column, dtype in columns:
            doc = docs.get(column, {})
            rows.append({"table": table, "column": column, "type": dtype,
                         "unit": _unit(column, doc.get("meta") or {}),
                         "description": " ".join(doc.get("description", "").split()),
                         "exported": _INCIDENT_POINT if spec and column in spec.omit else "yes"})
        if spec is None:
            continue
        for name, _, description in spec.add:
            rows.append({"table": table, "column": name, "type": "DOUBLE", "unit": "metres",
                         "description": description, "exported": "yes (exports only)"})
        rows.append({"table": table, "column": "geometry", "type": f"GEOMETRY('{CRS}')", "unit": "metres",
                     "description": f"The row's geometry in {CRS} (PL-1992); the GeoPackage layer's `geom`.",
                     "exported": "yes (exports only)"})
        rows.append({"table": table, "column": "geometry_wgs84", "type": f"GEOMETRY('{WGS84}')",
                     "unit": "degrees (WGS84)",
                     "description": "The same geometry in WGS84, longitude/latitude (GeoParquet only).",
                     "exported": "yes (GeoParquet only)"})
    return rows


def _markdown(rows: list[dict[str, str]], descriptions: dict[str, str]) -> str:
    out = ["# Data dictionary of the research exports", "",
           f"Coordinates are {CRS} (PL-1992, metres) unless the unit says WGS84. An incident is never "
           f"located finer than its {GRID_CELL_M} m grid cell. Units come from the column's dbt `meta.unit` "
           "or its name's suffix (`_m` metres, `_pln` PLN, `_km2` km², `_s` seconds, `_pct` per cent).", ""]
    table = None
    for r in rows:
        if r["table"] != table:
            table = r["table"]
            out += ["", f"## {table}", ""]
            if descriptions.get(table):
                out += [" ".join(descriptions[table].split()), ""]
            out += ["| column | type | unit | description | exported |", "|---|---|---|---|---|"]
        cells = [r["column"], r["type"], r["unit"], r["description"], r["exported"]]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def write_research_exports(published: Path, out_dir: Path, *, manifest: Path | None = None,
                           cfg: Settings | None = None) -> dict[str, Any]:
    """Write the research exports of one published file into ``out_dir``: a GeoParquet file
    per spatial mart (geometry in EPSG:2180 plus ``geometry_wgs84``), the GeoPackage
    ``ksp.gpkg`` with one EPSG:2180 layer per spatial mart, a Parquet file per other mart,
    ``dictionary.csv`` / ``dictionary.md`` from the dbt manifest, and ``exports.json`` (the
    returned manifest: every file with its rows and bytes). Reads nothing but ``published``
    and the dbt manifest; an incident is never located finer than its 250 m grid cell."""
    import pyogrio

    cfg = cfg or settings()
    manifest = manifest or cfg.dbt_manifest_path
    published, out_dir = Path(published).resolve(), Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".exports.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    started = time.monotonic()
    con = connect(published, cfg, spatial=True, read_only=True)
    try:
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in con.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' order by table_name, ordinal_position").fetchall():
            columns.setdefault(table, []).append((column, dtype))
        undecided = sorted(t for t, cols in columns.items()
                           if t not in SPATIAL and any(COORDINATE_COLUMN.search(c) for c, _ in cols))
        if undecided:
            raise ValueError(f"marts with coordinates but no export rule in serving.exports.SPATIAL: {undecided}; "
                             "decide their geometry (and whether they locate incidents) first")
        build = {}
        if con.execute("select count(*) from information_schema.tables "
                       "where table_schema = 'meta' and table_name = 'build_info'").fetchone()[0]:
            build = fetch_dicts(con, "select * from meta.build_info")[0]
        files: list[dict[str, Any]] = []
        for table, cols in columns.items():
            rows = con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
            spec = SPATIAL.get(table)
            target = tmp / f"{table}.parquet"
            if spec is None:
                con.execute(f"copy (select * from marts.\"{table}\") to '{target}' (format parquet, compression zstd)")
                files.append({"file": target.name, "format": "parquet", "table": table, "rows": rows})
                continue
            con.execute(f"copy ({_spatial_select(table, spec, cols, gdal=False)}) to '{target}' "
                        "(format parquet, compression zstd)")
            _ensure_geo_metadata(target, spec)
            files.append({"file": target.name, "format": "geoparquet", "table": table, "rows": rows,
                          "crs": CRS, "geometry_columns": {"geometry": CRS, "geometry_wgs84": WGS84}})
            layer = tmp / f".{table}.gpkg"
            geometry_type = f", geometry_type '{spec.geometry_type}'" if spec.geometry_type else ""
            con.execute(f"copy ({_spatial_select(table, spec, cols, gdal=True)}) to '{layer}' "
                        f"(format gdal, driver 'GPKG', srs '{CRS}', layer_name '{table}'{geometry_type})")
            files.append({"file": GEOPACKAGE, "format": "gpkg", "layer": table, "table": table, "rows": rows,
                          "crs": CRS})
        dictionary = _dictionary(con, manifest, SPATIAL)
    finally:
        con.close()

    # DuckDB's GDAL COPY always creates a new file, so each layer was written alone and is
    # now copied into the one GeoPackage (GDAL adds a layer to an existing GeoPackage)
    gpkg = tmp / GEOPACKAGE
    for entry in [f for f in files if f["format"] == "gpkg"]:
        layer = tmp / f".{entry['layer']}.gpkg"
        meta, table_ = pyogrio.read_arrow(layer)
        pyogrio.write_arrow(table_, gpkg, layer=entry["layer"], driver="GPKG", crs=meta["crs"],
                            geometry_name=meta["geometry_name"] or "geom",
                            geometry_type=meta["geometry_type"], encoding="UTF-8")
        layer.unlink()
        written = pyogrio.read_info(gpkg, layer=entry["layer"])["features"]
        if written != entry["rows"]:
            raise RuntimeError(f"{GEOPACKAGE} layer {entry['layer']}: {written} features, the mart has {entry['rows']}")

    fields = ["table", "column", "type", "unit", "description", "exported"]
    with (tmp / "dictionary.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(dictionary)
    descriptions = {n.get("alias") or n["name"]: n.get("description", "")
                    for n in json.loads(manifest.read_text())["nodes"].values() if n["resource_type"] == "model"}
    (tmp / "dictionary.md").write_text(_markdown(dictionary, descriptions), encoding="utf-8")
    files += [{"file": "dictionary.csv", "format": "csv", "rows": len(dictionary)},
              {"file": "dictionary.md", "format": "markdown", "rows": len(dictionary)}]

    for name in sorted({f["file"] for f in files}):
        os.replace(tmp / name, out_dir / name)
    for f in files:
        f["bytes"] = (out_dir / f["file"]).stat().st_size
    result = {
        "published": published.name, "build_id": build.get("build_id"), "version_id": build.get("version_id"),
        "crs": CRS, "files": files,
        "disclosure": {t: {"omitted": list(s.omit), "instead": [n for n, _, _ in s.add],
                           "geometry": f"the {GRID_CELL_M} m grid cell"}
                       for t, s in SPATIAL.items() if s.omit},
        "seconds": round(time.monotonic() - started, 1),
    }
    (tmp / EXPORTS_MANIFEST).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp / EXPORTS_MANIFEST, out_dir / EXPORTS_MANIFEST)
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def exports_root(cfg: Settings) -> Path:
    """``published/exports/``: the research exports of each kept version, by version id."""
    return cfg.published_path.parent / "exports"


def export_version(cfg: Settings, version: str | None = None) -> Path:
    """The research exports of a kept version (the newest by default) in
    ``published/exports/<version_id>/``, written once: a version never changes, so its
    exports are complete when the folder appears (one rename) and are not written again.
    Exports of versions the keep rule deleted are deleted with them. Returns the folder."""
    from warehouse.publish import list_versions

    versions = list_versions(cfg)
    if not versions:
        raise FileNotFoundError(f"no published version under {cfg.published_path.parent}: build first")
    chosen = next((v for v in versions if version in (None, v["version_id"])), None)
    if chosen is None:
        raise FileNotFoundError(f"no kept version {version!r}; `ksp versions` lists them")
    root = exports_root(cfg)
    root.mkdir(parents=True, exist_ok=True)
    kept = {v["version_id"] for v in versions}
    for folder in root.iterdir():  # a version pruned since, or a write that was killed (one export runs at a time)
        if folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    final = root / chosen["version_id"]
    if final.exists():
        return final
    staging = root / f".{chosen['version_id']}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    write_research_exports(Path(chosen["path"]) / cfg.published_path.name, staging, cfg=cfg)
    staging.rename(final)
    return final
