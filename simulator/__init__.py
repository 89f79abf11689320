"""The simulator: a deterministic Kraków that delivers every source of SPEC.md, the
validity scorer that holds the marts to its planted truth, and the demo.

Kept outside the production packages (the image does not ship it): it may import
anything of the platform (the demo drives all of it; the scorer reads the published
marts), and nothing of the platform imports it. ``ksp simulate``, ``ksp demo`` and
``ksp stop`` reach the command line through the ``ksp.commands`` entry point.

``simulate`` writes ``OUT/inbox/<source>/<file>`` exactly as the SPEC names them, ``OUT/truth.json``
with every effect the simulator planted (never read by the pipeline), and with
``--faults`` the defects of :mod:`simulator.faults` plus ``OUT/faults.json``, and
``OUT/personal.json`` with every personal value planted in a delivery
(:mod:`simulator.personal`), for the scan that proves none survives in a store.
The model is documented in docs/simulator.md.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingestion.config import Settings
from simulator import personal

SCALES = {
    # offence volume multiplier, default period
    "demo": (0.04, "2024-01", "2026-06"),
    "city": (1.0, "2019-01", "2026-06"),
    "national": (40.0, "2019-01", "2026-06"),
}


@dataclass(frozen=True)
class Result:
    out: Path
    counts: dict[str, int]
    seconds: float
    faults: int


def _month(text: str, *, end: bool = False) -> dt.date:
    y, m = (int(x) for x in text.split("-"))
    first = dt.date(y, m, 1)
    if not end:
        return first
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def inject_faults(out: Path, seed: int) -> list[dict[str, Any]]:
    """Inject the documented faults (:mod:`simulator.faults`) into a simulated city's
    deliveries under ``out`` and describe them in ``out/faults.json``; what
    ``simulate(faults=True)`` does after writing the deliveries."""
    from simulator.faults import inject

    with personal.recording() as planted:
        manifest = inject(out, seed)
    personal.write(out, planted)
    (out / "faults.json").write_text(
        json.dumps({"seed": seed, "faults": manifest}, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return manifest


def simulate(
    cfg: Settings,
    out: Path,
    *,
    scale: str = "demo",
    seed: int = 1,
    start: str | None = None,
    end: str | None = None,
    faults: bool = False,
    progress: bool = True,
) -> Result:
    from tqdm import tqdm

    from simulator import deliveries
    from simulator.geography import load_city
    from simulator.model import (
        CLASSES,
        COVERAGE_M,
        DETERRENCE,
        DISPLACING,
        FADED_BELOW,
        MONTHLY,
        RING_OUTER_M,
        SOURCE_SHARE,
        Model,
        build_hotspots,
        camera_truth,
        months_between,
        rate_ratio_table,
    )
    from simulator.registry import build_cameras

    factor, default_start, default_end = SCALES[scale]
    first, last = _month(start or default_start), _month(end or default_end, end=True)
    if last < first:
        raise ValueError(f"--end {end} is before --start {start}")
    began = time.monotonic()
    inbox = out / "inbox"
    for stale in (inbox, out / "late", out / "reference", out / "truth.json", out / "faults.json",
                  out / personal.FILE_NAME):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    rng = np.random.default_rng([seed, 1])
    city = load_city(cfg, rng)
    cameras = build_cameras(city, np.random.default_rng([seed, 2]), first, last)
    hotspots = build_hotspots(city, np.random.default_rng([seed, 3]), list(range(first.year, last.year + 1)))
    model = Model(city, cameras, hotspots)

    months = months_between(first, last)
    waves = deliveries.waves(first, last)
    total_units = 3 * len(months) + len(waves)
    bar = tqdm(total=total_units, desc=f"simulate {scale}", unit="step", delay=2.0, disable=not progress)
    # every personal value the writers and the faults plant, for the privacy scan (personal.json)
    with personal.recording() as planted:
        counts, sos_points = deliveries.write_all(model, inbox, first, last, factor, seed, bar.update)
    bar.close()
    personal.write(out, planted)
    manifest = inject_faults(out, seed) if faults else []  # adds the faults' values to personal.json

    truth = {
        "generator": "krakow-safety-platform simulator",
        "scale": scale,
        "seed": seed,
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "layers": city.layers,
        "offence_model": {
            "classes": list(CLASSES),
            "monthly_offences_city_scale": MONTHLY,
            "volume_factor": factor,
            "source_share": SOURCE_SHARE,
            "coverage_radius_m": COVERAGE_M,
            "displacement_ring_m": [COVERAGE_M, RING_OUTER_M],
            "displacing_classes": list(DISPLACING),
            "deterrence_by_class_and_area": DETERRENCE,
            "rate_ratio_at_install_by_class_and_area": rate_ratio_table(),
            "effect_decay": "RR(t) = 1 - d * 2^(-(t - t_position)/half_life); a move resets t_position",
            "faded_if_remaining_below": FADED_BELOW,
        },
        "cameras": [camera_truth(c, last) for c in cameras],
        "hotspots": [
            {
                "year": h.year,
                "easting": round(h.e, 1),
                "northing": round(h.n, 1),
                "sigma_m": h.sigma_m,
                "share_of_class_offences": h.weight,
                "classes": list(h.classes),
            }
            for h in hotspots
        ],
        "survey_model": deliveries.SURVEY_MODEL,
        "interventions": {
            "per_year": deliveries.INTERVENTIONS_PER_YEAR,
            "2025_to_dec_5": deliveries.INTERVENTIONS_2025_TO_DEC5,
            "category_shares": deliveries.INTERVENTION_CATEGORIES,
        },
        "sos": {
            "points": sos_points,
            "lodz_reference": deliveries.LODZ,
            "start": deliveries.SOS_START.isoformat(),
        },
        "pois": [
            {
                "kind": p.kind,
                "name": p.name,
                "easting": round(p.e, 1),
                "northing": round(p.n, 1),
                "district": p.district,
                "real": p.real,
            }
            for p in city.pois
        ],
        "counts": counts,
    }
    write_places(city, out / "reference" / "places.csv")
    (out / "truth.json").write_text(
        json.dumps(truth, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    return Result(out, counts, time.monotonic() - began, len(manifest))


def install_places(cfg: Settings, out: Path) -> Path:
    """Make the simulated city's places layer the platform's (``KSP_PLACES_PATH``)."""
    cfg.places_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfg.places_path.with_suffix(".part")
    shutil.copyfile(out / "reference" / "places.csv", tmp)
    tmp.replace(cfg.places_path)
    return cfg.places_path


PLACES_HEADER = ("place_id", "kind", "name", "district_id", "geometry_wkt")


def write_places(city: Any, path: Path) -> None:
    """The city GIS layer of places the marts weigh cameras against (schools, kindergartens,
    playgrounds, parks, commercial streets, fibre/power access points), EPSG:2180 WKT.

    Not a SPEC delivery: the city keeps it in its geoportal and the platform reads it as
    reference data (``KSP_PLACES_PATH``). Transfer nodes are not in it: dbt derives them
    from the real GTFS stops, as the simulator does.
    """
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PLACES_HEADER)
    kept = [p for p in city.pois if p.kind not in {"transfer_node", "loop"}]
    for k, p in enumerate(kept, start=1):
        if p.path and len(p.path) > 1:
            wkt = "LINESTRING (" + ", ".join(f"{e:.1f} {n:.1f}" for e, n in p.path) + ")"
        else:
            wkt = f"POINT ({p.e:.1f} {p.n:.1f})"
        w.writerow((f"P{k:05d}", p.kind, p.name, p.district, wkt))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)
