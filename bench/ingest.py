"""Ingestion throughput at the simulator's city scale, beside DuckDB's and pandas' own readers.

    .venv/bin/python bench/ingest.py [--scale city] [--keep DIR] [--reference]

Simulates the city (or reuses ``DIR/sim``), ingests the CSV sources (police, City
Guard, interventions, ANPR counts: 3,659 files, 1.49 million rows) through the
platform's full path (columnar parse, privacy, Great Expectations, Parquet landing,
ledger), then, in the same run and on the same files:

- DuckDB: ``COPY (select * from read_csv(file)) TO 'file.parquet'`` file by file,
  Windows-1250 transcoded to UTF-8 first (timed too: DuckDB reads no Windows-1250);
- pandas: ``read_csv(file, encoding=...)`` then ``to_parquet`` file by file.

Prints rows a second for each, the platform's ratio to both beside the targets of
issue 18 (at least 1.0x DuckDB, 0.5x pandas), and where the platform's time goes
(parsing, privacy, validation, landing). ``--reference`` also ingests with the
row-by-row reference parsers (``KSP_PARSER=rows``), the path before the columnar one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CSV_SOURCES = {"police": (";", "cp1250"), "city_guard": (",", "utf-8"), "interventions": (";", "utf-8"),
               "anpr_counts": (";", "utf-8")}
TARGET_VS_DUCKDB = 1.0
TARGET_VS_PANDAS = 0.5


def _timed(clock: dict[str, float], key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            clock[key] = clock.get(key, 0.0) + time.perf_counter() - t0

    return wrapper


def platform_ingest(work: Path, sim: Path, parser: str) -> tuple[float, int, dict[str, float], Path]:
    """Seconds, rows read and the phase clock of one ingest of the CSV sources from scratch."""
    from ingestion import privacy
    from ingestion.config import settings
    from ingestion.landing import ingest

    os.environ["KSP_DATA_DIR"] = str(work / f"data-{parser}")
    os.environ["KSP_PARSER"] = parser
    cfg = settings()
    shutil.rmtree(cfg.data_dir, ignore_errors=True)
    cfg.ensure_dirs()
    for source in CSV_SOURCES:
        shutil.copytree(sim / "inbox" / source, cfg.inbox_dir / source, dirs_exist_ok=True)
    clock: dict[str, float] = {}
    originals = {name: getattr(privacy, name) for name in ("scrub", "pseudonymise", "has_plate")}
    for name, function in originals.items():
        setattr(privacy, name, _timed(clock, "privacy", function))
    try:
        started = time.perf_counter()
        results = ingest(cfg, list(CSV_SOURCES), timings=clock)
        took = time.perf_counter() - started
    finally:
        for name, function in originals.items():
            setattr(privacy, name, function)
    return took, sum(r.rows_read for r in results), clock, cfg.archive_dir


def duckdb_copy(files: dict[str, list[Path]], out: Path) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    rows = 0
    started = time.perf_counter()
    for source, (sep, encoding) in CSV_SOURCES.items():
        (out / source).mkdir(parents=True, exist_ok=True)
        for f in files[source]:
            path = f
            if encoding == "cp1250":  # DuckDB reads UTF-8, UTF-16 and Latin-1 only
                path = out / source / f"{f.stem}.utf8.csv"
                path.write_bytes(f.read_bytes().decode("cp1250").encode("utf-8"))
            target = out / source / f"{f.stem}.parquet"
            con.execute(f"copy (select * from read_csv('{path}', delim='{sep}', header=true)) to '{target}' "
                        "(format parquet, compression zstd)")
            rows += con.execute(f"select count(*) from '{target}'").fetchone()[0]
    return time.perf_counter() - started, rows


def pandas_copy(files: dict[str, list[Path]], out: Path) -> tuple[float, int]:
    import pandas as pd

    rows = 0
    started = time.perf_counter()
    for source, (sep, encoding) in CSV_SOURCES.items():
        (out / source).mkdir(parents=True, exist_ok=True)
        for f in files[source]:
            frame = pd.read_csv(f, sep=sep, encoding=encoding)
            frame.to_parquet(out / source / f"{f.stem}.parquet", compression="zstd")
            rows += len(frame)
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="city")
    parser.add_argument("--keep", help="work in this folder and keep it (the simulation is reused)")
    parser.add_argument("--reference", action="store_true", help="also ingest with the row-by-row parsers")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ksp-bench-"))
    os.environ.setdefault("KSP_PSEUDONYM_KEY", "b3" * 32)
    sim = work / "sim"
    if not (sim / "truth.json").exists():
        from ingestion.config import settings
        from simulator import simulate

        os.environ["KSP_DATA_DIR"] = str(work / "data-sim")
        print(f"simulating {args.scale} ...", flush=True)
        simulate(settings(), sim, scale=args.scale, seed=1, progress=False)

    runs = {"columnar": platform_ingest(work, sim, "columnar")}
    if args.reference:
        runs["rows"] = platform_ingest(work, sim, "rows")
    archive = runs["columnar"][3]
    files = {s: sorted((archive / s).glob("*.csv")) for s in CSV_SOURCES}
    n_files = sum(len(v) for v in files.values())
    duck_s, duck_rows = duckdb_copy(files, work / "duckdb")
    pandas_s, pandas_rows = pandas_copy(files, work / "pandas")

    ours_s, rows, clock, _ = runs["columnar"]
    ours, duck, pandas_rate = rows / ours_s, duck_rows / duck_s, pandas_rows / pandas_s
    print(f"\n{n_files:,} CSV files landed, {rows:,} rows read (DuckDB {duck_rows:,}, pandas {pandas_rows:,})")
    print(f"{'path':<46} {'seconds':>8} {'rows/s':>10}")
    for name, (took, n, _phases, _) in runs.items():
        print(f"{'platform, ' + name + ' parsers (everything included)':<46} {took:8.1f} {n / took:>10,.0f}")
    print(f"{'DuckDB read_csv -> COPY parquet, file by file':<46} {duck_s:8.1f} {duck:>10,.0f}")
    print(f"{'pandas read_csv -> to_parquet, file by file':<46} {pandas_s:8.1f} {pandas_rate:>10,.0f}")
    print(f"\nplatform / DuckDB : {ours / duck:5.2f}x   (target >= {TARGET_VS_DUCKDB:.1f}x: "
          f"{'met' if ours / duck >= TARGET_VS_DUCKDB else 'NOT met'})")
    print(f"platform / pandas : {ours / pandas_rate:5.2f}x   (target >= {TARGET_VS_PANDAS:.1f}x: "
          f"{'met' if ours / pandas_rate >= TARGET_VS_PANDAS else 'NOT met'})")
    if "rows" in runs:
        print(f"columnar / row-by-row reference: {runs['rows'][0] / ours_s:.1f}x faster")
    privacy_s = clock.get("privacy", 0.0)
    parse_s = clock["parse"] - privacy_s
    other = ours_s - clock["parse"] - clock["validate"] - clock["land"]
    print(f"where the platform's {ours_s:.1f} s go: parse {parse_s:.1f} s ({parse_s / ours_s:.0%}), privacy "
          f"{privacy_s:.1f} s ({privacy_s / ours_s:.0%}), validation {clock['validate']:.1f} s "
          f"({clock['validate'] / ours_s:.0%}), landing and ledger {clock['land']:.1f} s "
          f"({clock['land'] / ours_s:.0%}), the rest {other:.1f} s")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
