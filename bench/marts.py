"""The analytic marts at scale: full dbt build time and peak memory, and the two spatial
kernels beside the reference libraries, in one run.

    .venv/bin/python bench/marts.py --data DIR [--kernels-only]
    .venv/bin/python bench/marts.py --data NATIONAL_DIR --replicate-from CITY_DIR [--factor 40]

DIR is a data root (KSP_DATA_DIR) whose inbox or landing already holds a simulated city
(e.g. `ksp simulate --scale city --out DIR/sim`, copy DIR/sim/inbox into DIR/data/inbox and
`ksp ingest`). The script then

1. runs `ksp build` (dbt build of every model and test, then publish) in a child
   process and prints its wall time and the child's peak resident memory;
2. runs the coverage and ring joins (every camera position × every located offence
   within 1,000 m, counted into coverage ≤ 150 m, ring 150–400 m and control
   500–1,000 m) with DuckDB spatial and with a GeoPandas `sjoin(predicate="dwithin")`
   on the same Parquet inputs, each in its own child process, printing time, peak
   memory and whether the counts agree;
3. computes Gi* for every class and year with the SQL of mart_hotspots (which also
   adds persistence and camera coverage) and with `esda.G_Local(star=True)` on the same
   grid and queen weights, each from the gridded offences (counting included), printing
   both times and the largest difference in z.

Memory is the child's peak RSS (getrusage), interpreter and imports included, so the
two engines are charged alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child; return (seconds, its peak RSS in MB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run the smallest first
    return seconds, max(peak, before) / 1024, proc.stdout


def _export_inputs(warehouse: Path, out: Path) -> None:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"""copy (select camera_point_version_id, easting_m, northing_m from marts.dim_camera_point)
                    to '{out / "cameras.parquet"}'""")
    con.execute(f"""copy (select offence_id, easting_m, northing_m from marts.fct_incident
                          where easting_m is not null) to '{out / "offences.parquet"}'""")
    con.close()


def kernel_duckdb(inputs: Path, extension_dir: str) -> dict[str, int]:
    """The join of int_camera_offence_pairs and the FILTER counts of the effect marts."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"set extension_directory = '{extension_dir}'")
    con.execute("load spatial")
    row = con.execute(f"""
        with cams as (select camera_point_version_id, st_point(easting_m, northing_m) as g
                      from '{inputs / "cameras.parquet"}'),
             offs as (select offence_id, st_point(easting_m, northing_m) as g from '{inputs / "offences.parquet"}'),
             pairs as (select st_distance(cams.g, offs.g) as d from cams join offs on st_dwithin(cams.g, offs.g, 1000))
        select count(*) filter (where d <= 150), count(*) filter (where d > 150 and d <= 400),
               count(*) filter (where d >= 500) from pairs""").fetchone()
    return {"coverage": row[0], "ring": row[1], "control": row[2]}


def kernel_geopandas(inputs: Path) -> dict[str, int]:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    cams = pd.read_parquet(inputs / "cameras.parquet")
    offs = pd.read_parquet(inputs / "offences.parquet")
    cg = gpd.GeoDataFrame(cams, geometry=gpd.points_from_xy(cams.easting_m, cams.northing_m), crs=2180)
    og = gpd.GeoDataFrame(offs, geometry=gpd.points_from_xy(offs.easting_m, offs.northing_m), crs=2180)
    joined = gpd.sjoin(og, cg, predicate="dwithin", distance=1000, how="inner")
    d = np.hypot(joined["easting_m_left"].to_numpy() - joined["easting_m_right"].to_numpy(),
                 joined["northing_m_left"].to_numpy() - joined["northing_m_right"].to_numpy())
    return {"coverage": int((d <= 150).sum()), "ring": int(((d > 150) & (d <= 400)).sum()),
            "control": int((d >= 500).sum())}


def _gi_star(warehouse: Path, compiled_sql: Path, extension_dir: str) -> tuple[float, float, float, float, int]:
    """Seconds for the whole mart, for its Gi* part and for esda over every class-year; max |Δz|."""
    import duckdb
    import esda
    import numpy as np
    from libpysal.weights import W

    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"set extension_directory = '{extension_dir}'")
    con.execute("load spatial")
    sql = compiled_sql.read_text().replace('"ksp".', "")
    started = time.perf_counter()
    ours = con.execute(f"select offence_class, period_year, cell_id, offence_count, gi_star_z from ({sql})").fetchall()
    mart_s = time.perf_counter() - started
    # the same SQL ending at the z-scores: the optimiser drops the persistence and camera CTEs
    head = sql[: sql.rindex("\nselect") + 1]  # the CTE chain, without the model's final select
    started = time.perf_counter()
    con.execute(head + "select offence_class, period_year, cell_id, gi_star_z from scored").fetchall()
    duck_s = time.perf_counter() - started

    cells = con.execute("select cell_id, col_index, row_index from marts.dim_grid_cell").fetchall()
    # the reference path does the same work from the same input: count the gridded offences
    # per class, year and cell, build the queen weights, then G_Local per class-year
    started = time.perf_counter()
    rows = con.execute("select count(*) from intermediate.int_offences_gridded").fetchone()[0]
    if rows <= PANDAS_MAX_ROWS:
        offences = con.execute(
            "select offence_class, occurred_year, cell_id from intermediate.int_offences_gridded").df()
        counts = offences.groupby(["offence_class", "occurred_year", "cell_id"]).size()
    else:  # the frame alone would not fit: DuckDB counts for esda too (in esda's favour)
        counts = con.execute("""select offence_class, occurred_year, cell_id, count(*) as n
                                from intermediate.int_offences_gridded group by all""").df()
        counts = counts.set_index(["offence_class", "occurred_year", "cell_id"])["n"]
    con.close()
    at = {(c, r): cid for cid, c, r in cells}
    neighbours = {cid: [at[(c + dc, r + dr)] for dc in (-1, 0, 1) for dr in (-1, 0, 1)
                        if (dc or dr) and (c + dc, r + dr) in at] for cid, c, r in cells}
    w = W(neighbours, silence_warnings=True)
    theirs = {}
    for (cls, year), group in counts.groupby(level=[0, 1]):
        y = group.droplevel([0, 1]).reindex(w.id_order, fill_value=0).to_numpy(dtype=float)
        theirs[(cls, int(year))] = esda.G_Local(y, w, transform="B", star=True, permutations=0).Zs
    esda_s = time.perf_counter() - started
    groups: dict[tuple[str, int], dict[str, float]] = {}
    for cls, year, cid, _n, z in ours:
        groups.setdefault((cls, int(year)), {})[cid] = z
    worst = 0.0
    for key, rows in groups.items():
        if key in theirs:
            mine = np.array([rows[c] for c in w.id_order], dtype=float)
            worst = max(worst, float(np.nanmax(np.abs(theirs[key] - mine))))
    return mart_s, duck_s, esda_s, worst, len(groups)


# above this many offences the reference libraries would not fit in this machine's memory
# (GeoPandas took 1.8 GB for the city's 1.3 million offences)
PANDAS_MAX_ROWS = 5_000_000

REPLICATED = {  # source: (id column or None, easting, northing)
    "police": ("incident_id", "easting_y", "northing_x"),
    "city_guard": ("record_id", "easting_m", "northing_m"),
    "mcpu": (None, "easting_m", "northing_m"),
}


def _moved(c: str, id_col: str | None, e: str, n: str) -> str:
    """Copy k of column c: ids and lines made unique, positions moved by up to ±125 m."""
    key = id_col or "_line"
    shift = {e: ("e", 1.0), n: ("n", 1.0), "longitude": ("e", 71555.0), "latitude": ("n", 111320.0)}
    if c in shift:
        axis, per_degree = shift[c]
        metres = f"((hash({key}, k, '{axis}') % 251)::integer - 125)"
        return f"{c} + case when k = 0 then 0 else {metres} / {per_degree} end as {c}"
    if c == id_col:
        return f"case when k = 0 then {c} else {c} || '-' || k end as {c}"
    if c == "_line":
        return "_line + k * 10000000 as _line"
    return c


def replicate(source_root: Path, target_root: Path, factor: int) -> None:
    """A national-volume data root from an ingested city: the landed offence records of
    Police, City Guard and MCPU repeated ``factor`` times, each copy with fresh ids and
    lines and moved by up to ±125 m (so counts grow, not just duplicate points).

    Ingesting 40 × the city through the row-level parser would take about three hours on
    two cores (4.4 min for the city); this measures dbt at the national volume, not
    ingestion. Everything else (cameras, survey, ledger) is the city's, unchanged.
    """
    import shutil

    import duckdb

    shutil.rmtree(target_root, ignore_errors=True)
    shutil.copytree(source_root, target_root,
                    ignore=shutil.ignore_patterns("warehouse", "published", "dbt", "archive", "received"))
    # the ledger's landing views name the landed files by path: point them at the copy
    con = duckdb.connect(str(target_root / "ops" / "ledger.duckdb"))
    views = con.execute("select sql from duckdb_views() where schema_name = 'landing'").fetchall()
    for (sql,) in views:
        if str(source_root) in sql:
            moved_sql = sql.replace(str(source_root), str(target_root))
            con.execute(moved_sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW"))
    con.close()
    con = duckdb.connect()
    for src, (id_col, e, n) in REPLICATED.items():
        for f in sorted((target_root / "landing" / src).glob("*.parquet")):
            cols = [row[0] for row in con.execute(f"describe select * from '{f}'").fetchall()]
            tmp = f.with_suffix(".tmp")
            select = ", ".join(_moved(c, id_col, e, n) for c in cols)
            con.execute(f"copy (select {select} from '{f}', range({factor}) as r(k)) "
                        f"to '{tmp}' (format parquet)")
            tmp.replace(f)
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="data root holding an ingested simulated city")
    parser.add_argument("--kernels-only", action="store_true", help="skip the dbt build (already built)")
    parser.add_argument("--replicate-from", help="make --data a national-volume copy of this ingested data root")
    parser.add_argument("--factor", type=int, default=40, help="volume multiplier for --replicate-from")
    parser.add_argument("--kernel", choices=["duckdb", "geopandas"], help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    env = {**os.environ, "KSP_DATA_DIR": str(Path(args.data).resolve())}
    os.environ.update(env)
    from ingestion.config import settings

    cfg = settings()
    if args.kernel:  # child mode
        started = time.perf_counter()
        counts = (kernel_duckdb(Path(args.inputs), str(cfg.extension_dir)) if args.kernel == "duckdb"
                  else kernel_geopandas(Path(args.inputs)))
        print(json.dumps({"counts": counts, "seconds": time.perf_counter() - started}))
        return

    if args.replicate_from:
        started = time.perf_counter()
        replicate(Path(args.replicate_from).resolve(), cfg.data_dir, args.factor)
        print(f"replicated the landed offences {args.factor}x into {cfg.data_dir} in "
              f"{time.perf_counter() - started:.0f} s")
    ksp = str(Path(sys.executable).parent / "ksp")
    if not args.kernels_only:
        seconds, peak, _ = _child([ksp, "build"], env)
        print(f"dbt build (every model and test) + publish: {seconds:.1f} s, peak RSS {peak:.0f} MB")

    import duckdb

    con = duckdb.connect(str(cfg.published_path), read_only=True)
    offences, positions = con.execute(
        "select (select count(*) from marts.fct_incident), (select count(*) from marts.dim_camera_point)").fetchone()
    con.close()
    print(f"data: {offences:,} offences, {positions} camera positions")

    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp)
        _export_inputs(cfg.published_path, inputs)
        me = [sys.executable, str(Path(__file__).resolve()), "--data", args.data, "--inputs", str(inputs)]
        results = {}
        engines = ("duckdb", "geopandas") if offences <= PANDAS_MAX_ROWS else ("duckdb",)
        for engine in engines:
            # a fresh interpreter each, so peak memory is each engine's own
            code = (f"import resource, subprocess, sys; p = subprocess.run({[*me, '--kernel', engine]!r}, "
                    "capture_output=True, text=True, check=True); print(p.stdout.strip()); "
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            line, rss = out.stdout.strip().splitlines()[-2:]
            results[engine] = {**json.loads(line), "peak_mb": int(rss) / 1024}
        d = results["duckdb"]
        if "geopandas" not in results:
            print(f"coverage + ring joins, DuckDB spatial: {d['seconds']:.2f} s, peak {d['peak_mb']:.0f} MB "
                  f"{d['counts']}; GeoPandas not run: at about 1.4 KB per offence it would need "
                  f"{offences * 1.4e3 / 2**30:.0f} GB")
            g = None
        else:
            g = results["geopandas"]
        if g is not None:
            print(f"coverage + ring joins, DuckDB spatial: {d['seconds']:.2f} s, peak {d['peak_mb']:.0f} MB; "
                  f"GeoPandas sjoin: {g['seconds']:.2f} s, peak {g['peak_mb']:.0f} MB -> "
                  f"{g['seconds'] / d['seconds']:.1f}x faster, {g['peak_mb'] / d['peak_mb']:.1f}x less memory; "
                  f"counts {'agree' if d['counts'] == g['counts'] else 'DIFFER'} {d['counts']}")

    compiled = cfg.data_dir / "dbt" / "target" / "compiled" / "krakow_safety" / "models" / "marts" / "hotspots"
    mart_s, duck_s, esda_s, worst, groups = _gi_star(cfg.warehouse_path, compiled / "mart_hotspots.sql",
                                                     str(cfg.extension_dir))
    print(f"Gi* over {groups} class-years from the gridded offences: mart SQL up to the z-scores {duck_s:.2f} s "
          f"(whole mart with persistence and camera cover {mart_s:.2f} s), esda.G_Local {esda_s:.2f} s -> "
          f"{esda_s / duck_s:.1f}x ({esda_s / mart_s:.1f}x against the whole mart); max |dz| {worst:.1e}")


if __name__ == "__main__":
    main()
