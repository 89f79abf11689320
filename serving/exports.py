"""Map layers written from the published warehouse for the city's GIS tools."""

from __future__ import annotations

from pathlib import Path

from ingestion.config import Settings
from ingestion.duck import connect


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
