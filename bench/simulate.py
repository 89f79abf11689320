"""Simulator throughput: records written a second and peak memory, per scale.

    .venv/bin/python bench/simulate.py [demo city national] [--out DIR]

Each scale runs in its own child process so that its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(scale: str, out: Path) -> dict[str, object]:
    ksp = Path(sys.executable).parent / "ksp"
    # a wrapper process per scale, so that the peak memory reported is this scale's own
    wrapper = (
        "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, "
        "text=True, check=True); print(p.stdout); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            wrapper,
            str(ksp),
            "simulate",
            "--scale",
            scale,
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak_mb = int(proc.stdout.rsplit("PEAK", 1)[1]) / 1024
    summary = proc.stdout.split(":", 1)[1].split("PEAK")[0]
    counts = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+) ([\d,]+)", summary)}
    offences = counts["police"] + counts["city_guard"] + counts["mcpu"]
    rows = (
        offences
        + counts["interventions"]
        + counts["survey_respondents"]
        + counts["sos_alerts"]
        + counts["anpr_count_rows"]
    )
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    return {
        "scale": scale,
        "seconds": round(seconds, 1),
        "offence_records": offences,
        "all_rows": rows,
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_mb),
        "output_mb": round(size_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scales", nargs="*", default=["demo", "city"])
    parser.add_argument("--out", help="where to write (default: a temporary folder, removed after)")
    args = parser.parse_args()
    print(
        f"{'scale':<9} {'seconds':>8} {'offences':>11} {'all rows':>11} {'rows/s':>9} {'peak MB':>8} "
        f"{'output MB':>10}"
    )
    results = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:
            r = run(scale, Path(tmp))
        results.append(r)
        print(
            f"{r['scale']:<9} {r['seconds']:>8} {r['offence_records']:>11,} {r['all_rows']:>11,} "
            f"{r['rows_per_s']:>9,} {r['peak_rss_mb']:>8} {r['output_mb']:>10}",
            flush=True,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
