"""Ingestion throughput at the simulator's city scale, beside DuckDB's own CSV reader.

    .venv/bin/python bench/ingest.py [--scale city] [--keep DIR]

Simulates the city, ingests every CSV source (police, City Guard, interventions,
ANPR counts) through the platform's full path (parse, GX validation, Parquet
landing, ledger), then reads the same files with DuckDB's ``read_csv`` in the same
run. Prints rows a second for both, their ratio, and the share of ingestion time
spent in validation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

CSV_SOURCES = {"police": (";", "cp1250"), "city_guard": (",", "utf-8"), "interventions": (";", "utf-8"),
               "anpr_counts": (";", "utf-8")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="city")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ksp-bench-"))
    os.environ["KSP_DATA_DIR"] = str(work / "data")
    from ingestion.config import settings
    from ingestion.landing import ingest
    from simulator import simulate

    cfg = settings()
    shutil.rmtree(cfg.data_dir, ignore_errors=True)  # ingest from scratch; the simulation may be reused
    sim = work / "sim"
    if not (sim / "truth.json").exists():
        print(f"simulating {args.scale} ...", flush=True)
        simulate(cfg, sim, scale=args.scale, seed=1, progress=False)
    for source in CSV_SOURCES:
        shutil.copytree(sim / "inbox" / source, cfg.inbox_dir / source, dirs_exist_ok=True)

    import duckdb

    timings: dict[str, float] = {}
    started = time.perf_counter()
    results = ingest(cfg, list(CSV_SOURCES), timings=timings)
    ours = time.perf_counter() - started
    rows = sum(r.rows_read for r in results)

    con = duckdb.connect()
    started = time.perf_counter()
    duck_rows = 0
    for source, (sep, encoding) in CSV_SOURCES.items():
        files = sorted((cfg.archive_dir / source).glob("*.csv"))
        if encoding == "cp1250":
            # DuckDB reads UTF-8, UTF-16 and Latin-1 only: Windows-1250 is transcoded first (timed here too)
            utf8 = work / "utf8" / source
            utf8.mkdir(parents=True, exist_ok=True)
            for f in files:
                (utf8 / f.name).write_bytes(f.read_bytes().decode("cp1250").encode("utf-8"))
            files = sorted(utf8.glob("*.csv"))
        names = [str(f) for f in files]
        duck_rows += con.execute(f"select count(*) from read_csv({names}, delim='{sep}', header=true, "
                                 "all_varchar=true, union_by_name=true)").fetchone()[0]
    duck = time.perf_counter() - started
    print(f"files {len(results)}, rows {rows:,}")
    print(f"platform ingest : {ours:8.1f} s  {rows / ours:>10,.0f} rows/s  (parse {timings['parse']:.1f} s, "
          f"validate {timings['validate']:.1f} s, land {timings['land']:.1f} s)")
    print(f"duckdb read_csv : {duck:8.1f} s  {duck_rows / duck:>10,.0f} rows/s  ({duck_rows:,} rows)")
    print(f"ratio (duckdb / platform rows/s): {(duck_rows / duck) / (rows / ours):.1f}x; "
          f"validation share of ingest: {timings['validate'] / ours:.0%}")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
