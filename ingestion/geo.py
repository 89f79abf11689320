"""Coordinates: WGS84 ↔ PUWG 1992 (EPSG:2180), and whether a point lies inside Kraków.

pyproj does the projection (vectorised); DuckDB spatial tests points against the real
city boundary (dbt/reference), loaded once per process.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from pyproj import Transformer

_TO_2180 = Transformer.from_crs(4326, 2180, always_xy=True)
_TO_4326 = Transformer.from_crs(2180, 4326, always_xy=True)


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat → EPSG:2180 (easting, northing), metres."""
    return _TO_2180.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def to_wgs84(e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:2180 (easting, northing) → WGS84 (lon, lat)."""
    return _TO_4326.transform(np.asarray(e, dtype=float), np.asarray(n, dtype=float))


@cache
def _boundary_connection():
    from ingestion.config import settings
    from ingestion.duck import connect

    cfg = settings()
    con = connect(":memory:", cfg, spatial=True)
    con.execute(f"""create table city as select geom from st_read(
        '{cfg.reference_dir / "krakow_city_boundary_dissolved.geojson"}')""")
    return con


def inside_city(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where the WGS84 point lies inside the city boundary (NaN → False)."""
    import pyarrow as pa

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if len(lon) == 0:
        return np.zeros(0, dtype=bool)
    con = _boundary_connection().cursor()
    con.register("pts", pa.table({"i": np.arange(len(lon)), "lon": lon, "lat": lat}))
    inside = con.execute("""
        select coalesce(st_contains(city.geom, st_point(pts.lon, pts.lat)), false)
        from pts, city order by pts.i""").fetchnumpy()
    con.unregister("pts")
    return np.asarray(next(iter(inside.values())), dtype=bool)
