"""Which control for the one-year camera effect: the far ring or the local ring?

    .venv/bin/python bench/controls.py [--seeds 1 2 3] [--keep DIR]

For each seed: simulate the city, ingest every delivery, dbt build (the platform's own
path, as tests/e2e/test_validity_city.py runs it), then score the first-year effect of
each camera position against the plant twice, on the same positions and counts: once
against the far control (500–1,000 m outside every coverage, what mart_camera_effect
uses) and once against the local ring (150–400 m outside every coverage, what
mart_effect_decay uses). Prints, per seed and control, the share of 95 % intervals that
hold the planted RR, the mean error of the log rate ratio (its bias), the median
absolute error, the mean standard error and the share of positions resolved (interval
below 1). Not a test: the decision it informs is recorded in docs/marts.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

CLASSES = ("instrumental_property", "public_order")


def build_city(root: Path, seed: int) -> tuple[Path, Path]:
    """Simulate, ingest and build one city under ``root``; the warehouse and truth.json."""
    os.environ["KSP_DATA_DIR"] = str(root / "data")
    from ingestion.config import settings
    from simulator.validity import simulate_and_load
    from warehouse.build import build

    cfg = settings()
    cfg.ensure_dirs()
    began = time.monotonic()
    simulate_and_load(cfg, root, seed)
    build(cfg)
    print(f"seed {seed}: simulated, ingested and built in {time.monotonic() - began:.0f} s")
    return cfg.warehouse_path, root / "sim" / "truth.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--keep", type=Path, help="keep each seed's data root under this folder")
    args = parser.parse_args()
    from simulator.validity import compare_controls

    base = args.keep or Path(tempfile.mkdtemp(prefix="ksp-controls-"))
    lines = []
    try:
        for seed in args.seeds:
            warehouse, truth = build_city(base / f"seed{seed}", seed)
            for cls in CLASSES:
                c = compare_controls(warehouse, truth, cls)
                for name, label in (("far", "far 500-1000 m"), ("local", "local 150-400 m")):
                    m = c[name]
                    lines.append(f"{seed:>4}  {cls:<22} {label:<16} {c['positions']:>9} {m['ci_coverage']:>9.1%} "
                                 f"{m['mean_error']:>+10.3f} {m['median_abs_error']:>9.3f} {m['mean_se']:>8.3f} "
                                 f"{m['resolved_share']:>9.1%}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print("\nseed  class                  control          positions  coverage  mean err  med |err|  mean SE"
          "  resolved")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
