"""The research exports of the demo warehouse (``ksp export research``), opened the way a
researcher would: GeoPandas and pyogrio (GDAL) read every GeoParquet file and the
GeoPackage with CRS EPSG:2180 and the marts' row counts, the GeoPackage has one layer per
spatial mart, the dictionary lists every published column, and no exported value places an
incident finer than its 250 m grid cell.

pyogrio's GDAL wheel has no Parquet driver; it reads GeoParquet through its ADBC driver
with DuckDB's own library as the ADBC driver (``ADBC:<file>``, ``ADBC_DRIVER``), which
reads the file's ``geo`` metadata for the CRS, as GDAL's Parquet driver (QGIS) does."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.duck import connect
from serving.exports import COORDINATE_COLUMN, GEOPACKAGE, SPATIAL, write_research_exports

pytestmark = pytest.mark.integration
KRAKOW_LON, KRAKOW_LAT = (19.6, 20.4), (49.9, 50.2)


def _adbc(path: Path) -> tuple[str, dict[str, str]]:
    """What pyogrio opens a GeoParquet file with: GDAL's ADBC driver over DuckDB's library."""
    import _duckdb

    return f"ADBC:{path}", {"ADBC_DRIVER": _duckdb.__file__}


@pytest.fixture(scope="module")
def exports(demo_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from orchestration.cli import main

    out = tmp_path_factory.mktemp("research-exports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(demo_warehouse.data_dir))
        assert main(["export", "research", "--out", str(out)]) == 0
    return out, json.loads((out / "exports.json").read_text())


@pytest.fixture(scope="module")
def marts(demo_warehouse: Settings) -> dict[str, dict[str, Any]]:
    """Every published mart: its row count and columns."""
    con = duckdb.connect(str(demo_warehouse.published_path), read_only=True)
    try:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute("select table_name, column_name from information_schema.columns "
                                         "where table_schema = 'marts' order by ordinal_position").fetchall():
            columns.setdefault(table, []).append(column)
        return {t: {"rows": con.execute(f'select count(*) from marts."{t}"').fetchone()[0], "columns": cols}
                for t, cols in columns.items()}
    finally:
        con.close()


def test_every_mart_is_exported_once_spatial_ones_as_geoparquet(exports, marts) -> None:
    out, manifest = exports
    parquet = {f["table"]: f for f in manifest["files"] if f["format"] in ("parquet", "geoparquet")}
    assert set(parquet) == set(marts)
    for table, info in marts.items():
        entry = parquet[table]
        assert entry["rows"] == info["rows"], table
        assert (out / entry["file"]).stat().st_size == entry["bytes"] > 0
        has_coordinates = any(COORDINATE_COLUMN.search(c) for c in info["columns"])
        assert entry["format"] == ("geoparquet" if has_coordinates else "parquet"), table
        meta = duckdb.sql(f"select key, value from parquet_kv_metadata('{out / entry['file']}')").fetchall()
        assert (b"geo" in {k for k, _ in meta}) == has_coordinates, table
    assert not list(out.glob(".*")), "no temporary file is left behind"


def test_geoparquet_opens_in_geopandas_and_pyogrio_in_epsg2180_with_a_wgs84_copy(exports, marts) -> None:
    import geopandas as gpd
    import pyarrow.parquet as pq
    import pyogrio

    out, manifest = exports
    geoparquet = [f for f in manifest["files"] if f["format"] == "geoparquet"]
    assert {f["table"] for f in geoparquet} == set(SPATIAL) & set(marts)
    for entry in geoparquet:
        path, rows = out / entry["file"], marts[entry["table"]]["rows"]
        geo = json.loads(pq.read_metadata(path).metadata[b"geo"])
        assert geo["primary_column"] == "geometry"
        assert geo["columns"]["geometry"]["crs"]["id"] == {"authority": "EPSG", "code": 2180}
        assert "crs" not in geo["columns"]["geometry_wgs84"]  # GeoParquet's default: OGC:CRS84, lon/lat

        frame = gpd.read_parquet(path)
        assert frame.crs.to_epsg() == 2180 and len(frame) == rows, entry["table"]
        assert frame["geometry_wgs84"].crs.to_string() == "OGC:CRS84"
        if rows:
            x0, y0, x1, y1 = frame.total_bounds
            assert 540_000 < x0 <= x1 < 600_000 and 225_000 < y0 <= y1 < 265_000, entry["table"]  # Kraków
            lon0, lat0, lon1, lat1 = frame["geometry_wgs84"].total_bounds
            assert KRAKOW_LON[0] < lon0 <= lon1 < KRAKOW_LON[1] and KRAKOW_LAT[0] < lat0 <= lat1 < KRAKOW_LAT[1]

        source, options = _adbc(path)
        info = pyogrio.read_info(source, **options)
        assert info["crs"] == "EPSG:2180" and info["features"] == rows, entry["table"]
        read = pyogrio.read_dataframe(source, **options)
        assert len(read) == rows and read.crs.to_epsg() == 2180, entry["table"]


def test_geopackage_has_one_epsg2180_layer_per_spatial_mart(exports, marts) -> None:
    import geopandas as gpd
    import pyogrio

    out, manifest = exports
    gpkg = out / GEOPACKAGE
    spatial = sorted(set(SPATIAL) & set(marts))
    assert sorted(name for name, _ in pyogrio.list_layers(gpkg)) == spatial
    assert sorted(f["layer"] for f in manifest["files"] if f["format"] == "gpkg") == spatial
    for table in spatial:
        info = pyogrio.read_info(gpkg, layer=table)
        assert info["crs"] == "EPSG:2180" and info["features"] == marts[table]["rows"], table
        frame = gpd.read_file(gpkg, layer=table)
        assert frame.crs.to_epsg() == 2180 and len(frame) == marts[table]["rows"], table
        expected_type = SPATIAL[table].geometry_type
        if expected_type:
            assert info["geometry_type"].upper() == expected_type, table
    # the GeoPackage declares EPSG:2180 in its own tables (what QGIS reads)
    db = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    try:
        srs = dict(db.execute("select table_name, srs_id from gpkg_geometry_columns").fetchall())
        org = db.execute("select organization, organization_coordsys_id from gpkg_spatial_ref_sys "
                         "where srs_id = 2180").fetchone()
    finally:
        db.close()
    assert srs == dict.fromkeys(spatial, 2180)
    assert org == ("EPSG", 2180)


def test_dictionary_lists_every_published_column_with_its_description(exports, marts) -> None:
    out, manifest = exports
    with (out / "dictionary.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    listed = {(r["table"], r["column"]) for r in rows}
    published = {(t, c) for t, info in marts.items() for c in info["columns"]}
    assert published <= listed
    described = {(r["table"], r["column"]) for r in rows if r["description"]}
    assert published <= described, sorted(published - described)[:10]
    assert {r["column"] for r in rows if r["table"] == "fct_incident" and r["exported"].startswith("no")} \
        == {"easting_m", "northing_m"}
    units = {(r["table"], r["column"]): r["unit"] for r in rows}
    assert units[("dim_camera_point", "easting_m")] == "metres"
    assert units[("dim_camera_point", "capital_cost_pln")] == "PLN"
    assert units[("dim_district", "area_km2")] == "km²"
    md = (out / "dictionary.md").read_text(encoding="utf-8")
    assert all(f"## {t}\n" in md for t in marts)
    assert len(rows) == next(f["rows"] for f in manifest["files"] if f["file"] == "dictionary.csv")


def _pairs(frame: Any) -> list[tuple[str, str]]:
    numeric = [c for c in frame.columns if str(frame[c].dtype).startswith("float")]
    return list(itertools.permutations(numeric, 2))


def test_no_export_locates_an_incident_finer_than_its_grid_cell(exports, demo_warehouse: Settings) -> None:
    """Every incident's own position (EPSG:2180, and in WGS84 to 6 decimals) is looked for in
    every pair of numeric columns and every geometry vertex of every exported file."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely

    con = connect(demo_warehouse.published_path, demo_warehouse, read_only=True, spatial=True)
    try:
        points = con.execute("""
            select easting_m, northing_m,
                   st_x(w) as lon, st_y(w) as lat
            from (select *, st_transform(st_point(easting_m, northing_m), 'EPSG:2180', 'OGC:CRS84',
                                         always_xy := true) as w from marts.fct_incident)""").df()
    finally:
        con.close()
    # an incident on a cell corner or centre would be indistinguishable from the cell itself
    points = points[~((points.easting_m % 125 == 0) & (points.northing_m % 125 == 0))]
    assert len(points) > 1000
    metric = set(zip(points.easting_m.round(3), points.northing_m.round(3), strict=True))
    wgs84 = set(zip(points.lon.round(6), points.lat.round(6), strict=True))

    out, manifest = exports
    frames: dict[str, Any] = {}
    for entry in manifest["files"]:
        if entry["format"] == "parquet":
            frames[entry["file"]] = pd.read_parquet(out / entry["file"])
        elif entry["format"] == "geoparquet":
            frames[entry["file"]] = gpd.read_parquet(out / entry["file"])
        elif entry["format"] == "gpkg":
            frames[f"{GEOPACKAGE}:{entry['layer']}"] = pyogrio.read_dataframe(out / GEOPACKAGE, layer=entry["layer"])
    found = []
    for name, frame in frames.items():
        for x, y in _pairs(frame):
            both = frame[[x, y]].dropna()
            if set(zip(both[x].round(3), both[y].round(3), strict=True)) & metric:
                found.append((name, x, y))
            if set(zip(both[x].round(6), both[y].round(6), strict=True)) & wgs84:
                found.append((name, x, y, "wgs84"))
        for column in [c for c in frame.columns if isinstance(frame[c], gpd.GeoSeries)]:
            xy = shapely.get_coordinates(frame[column].values)
            target = wgs84 if "wgs84" in column else metric
            digits = 6 if "wgs84" in column else 3
            if {(round(a, digits), round(b, digits)) for a, b in xy} & target:
                found.append((name, column))
    assert found == []

    # and the incident layer's geometry is its cell: every vertex on the 250 m lattice
    incidents = gpd.read_parquet(out / "fct_incident.parquet")
    xy = shapely.get_coordinates(incidents.geometry.values)
    assert ((xy % 250) == 0).all()
    assert ((incidents[["cell_centroid_easting_m", "cell_centroid_northing_m"]] % 250) == 125).all().all()
    assert {"easting_m", "northing_m"}.isdisjoint(incidents.columns)


def test_a_mart_with_coordinates_but_no_export_rule_stops_the_export(demo_warehouse: Settings, tmp_path) -> None:
    """A new mart with positions must be given a rule (geometry, disclosure) before it is exported."""
    copy = tmp_path / "ksp.duckdb"
    shutil.copy(demo_warehouse.published_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("create table marts.mart_new_points as "
                "select offence_id, easting_m, northing_m from marts.fct_incident")
    con.close()
    with pytest.raises(ValueError, match="mart_new_points"):
        write_research_exports(copy, tmp_path / "out", cfg=demo_warehouse)
    assert not (tmp_path / "out" / "mart_new_points.parquet").exists()


def test_a_spatial_mart_empty_in_this_version_still_leaves_as_geoparquet(demo_warehouse: Settings,
                                                                         tmp_path: Path) -> None:
    """A mart with no rows (no camera to move this month) has no geometry for DuckDB to describe;
    its file must still say which column is the geometry and in what CRS, or GeoPandas refuses it."""
    import geopandas as gpd

    copy = tmp_path / "ksp.duckdb"
    shutil.copy(demo_warehouse.published_path, copy)
    con = duckdb.connect(str(copy))
    con.execute("delete from marts.mart_relocation_plan")
    con.close()
    write_research_exports(copy, tmp_path / "out", cfg=demo_warehouse)
    frame = gpd.read_parquet(tmp_path / "out" / "mart_relocation_plan.parquet")
    assert len(frame) == 0 and frame.crs.to_epsg() == 2180
    assert frame["geometry_wgs84"].crs.to_string() == "OGC:CRS84"


def test_each_published_version_gets_its_exports_once(demo_warehouse: Settings, tmp_path: Path, airflow_db: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from ingestion.config import settings
    from serving.exports import export_version, exports_root
    from warehouse.publish import list_versions

    shutil.copytree(demo_warehouse.published_path.parent, tmp_path / "data" / "published")
    monkeypatch.setenv("KSP_DATA_DIR", str(tmp_path / "data"))
    c = settings()
    stale = exports_root(c) / "20200101T000000Z-0123456789ab"  # the exports of a version pruned since
    stale.mkdir(parents=True)
    bag = DagBag(str(Path(__file__).resolve().parents[2] / "dags" / "write_research_exports.py"))
    assert not bag.import_errors
    run = bag.dags["write_research_exports"].test()
    assert run.state == "success"

    newest = list_versions(c)[0]
    folder = exports_root(c) / newest["version_id"]
    written = json.loads((folder / "exports.json").read_text())
    assert written["version_id"] == newest["version_id"] and written["build_id"] == newest["build_id"]
    assert (folder / GEOPACKAGE).exists() and (folder / "dictionary.csv").exists()
    assert not stale.exists()
    assert [p.name for p in exports_root(c).iterdir()] == [newest["version_id"]]  # no staging left
    # a version never changes: asked again, its exports are not written again
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert export_version(c) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
