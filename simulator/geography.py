"""The simulated city's geography: real where the project has data, simulated elsewhere.

Real: the 18 official district boundaries and their 2019 populations, the city
boundary, and the public transport stops of the three GTFS feeds (grouped by stop
name into physical stops; a stop with many platforms is a transfer node, and one
named "Pętla"/"Dworzec" a loop). Simulated: schools, kindergartens, playgrounds,
parks, commercial streets and fibre/power access points, in numbers proportional to
the districts' populations. Everything is laid on a 250 m grid in EPSG:2180.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingestion.config import Settings
from ingestion.geo import to_metric, to_wgs84  # noqa: F401 - re-exported for the simulator

CELL_M = 250.0
CENTRE_EN = (566_960.0, 244_220.0)  # Rynek Główny in EPSG:2180 (easting, northing)
@dataclass
class Poi:
    kind: str  # school | kindergarten | playground | park | transfer_node | loop | commercial | access_point
    name: str
    e: float
    n: float
    district: int
    real: bool
    # a commercial street is a walk of grid steps; the point above is where it starts
    path: tuple[tuple[float, float], ...] = ()


@dataclass
class City:
    """Grid cells inside the city, with districts, populations and land-use features."""

    cell_e: np.ndarray  # centre easting of each cell
    cell_n: np.ndarray
    cell_district: np.ndarray  # 1..18
    district_names: dict[int, str]
    district_numerals: dict[int, str]
    district_population: dict[int, int]
    stops_per_cell: np.ndarray
    commercial: np.ndarray  # 0..1 commercial intensity of each cell
    pois: list[Poi] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return len(self.cell_e)

    def centrality(self) -> np.ndarray:
        d = np.hypot(self.cell_e - CENTRE_EN[0], self.cell_n - CENTRE_EN[1])
        return np.exp(-d / 2500.0)

    def residential(self) -> np.ndarray:
        density = np.array([self.district_population[d] for d in self.cell_district], dtype=float)
        cells = np.bincount(self.cell_district, minlength=19)[self.cell_district]
        return density / cells / (density / cells).mean()

    def pois_of(self, *kinds: str) -> list[Poi]:
        return [p for p in self.pois if p.kind in kinds]


def _cell_districts(cfg: Settings, ge: np.ndarray, gn: np.ndarray) -> np.ndarray:
    """The district wholly containing each grid cell (0 if none), with DuckDB spatial.

    A cell belongs to the city only if it lies inside one district, so that every
    point drawn inside it is inside the real boundary.
    """
    import pyarrow as pa

    from ingestion.duck import connect

    con = connect(":memory:", cfg, spatial=True)
    try:
        con.register("cells", pa.table({"i": np.arange(len(ge)), "e": ge, "n": gn}))
        rows = con.execute(f"""
            with d as (
                select cast(ID_DZIELNI as integer) as district_id, geom
                from st_read('{cfg.reference_dir / "krakow_districts_official_epsg2180.geojson"}')
            ), c as (
                select i, st_makeenvelope(e - {CELL_M / 2}, n - {CELL_M / 2}, e + {CELL_M / 2},
                                          n + {CELL_M / 2}) as box
                from cells
            )
            select c.i, d.district_id from c join d on st_within(c.box, d.geom)""").fetchall()
    finally:
        con.close()
    district = np.zeros(len(ge), dtype=int)
    for i, d in rows:
        district[i] = d
    return district


def load_city(cfg: Settings, rng: np.random.Generator) -> City:
    ref = cfg.reference_dir
    xs = np.arange(556_750 + CELL_M / 2, 587_250, CELL_M)
    ys = np.arange(233_750 + CELL_M / 2, 251_500, CELL_M)
    ge, gn = (a.ravel() for a in np.meshgrid(xs, ys))
    district = _cell_districts(cfg, ge, gn)
    keep = district > 0
    ge, gn, district = ge[keep], gn[keep], district[keep]

    names, numerals, population = {}, {}, {}
    with (cfg.dbt_project_dir / "seeds" / "krakow_districts_population_2019.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            did = int(row["district_id"])
            names[did] = row["district_name"]
            numerals[did] = row["district_no"]
            population[did] = int(row["population_registered_2019_12_31"])

    stops = _stops(ref / "gtfs")
    cell_index = {
        (int(e // CELL_M), int(n // CELL_M)): i for i, (e, n) in enumerate(zip(ge, gn, strict=True))
    }
    stops_per_cell = np.zeros(len(ge))
    pois: list[Poi] = []
    for name, (e, n, platforms) in stops.items():
        idx = cell_index.get((int(e // CELL_M), int(n // CELL_M)))
        if idx is None:
            continue
        stops_per_cell[idx] += platforms
        if platforms >= 6 or any(w in name for w in ("Pętla", "Dworzec", "Rondo")):
            kind = "loop" if ("Pętla" in name or "Dworzec" in name) else "transfer_node"
            pois.append(Poi(kind, name, e, n, int(district[idx]), real=True))

    city = City(
        ge,
        gn,
        district,
        names,
        numerals,
        population,
        stops_per_cell,
        np.zeros(len(ge)),
        pois,
        layers={
            "districts": "real (city GIS layer, 2014 boundaries)",
            "population": "real (BIP Kraków, 2019 registered residents)",
            "transit_stops": "real (ZTP/MPK GTFS, June 2026)",
            "transfer_nodes_and_loops": "derived from real GTFS stops (platform counts, names)",
            "schools_kindergartens_playgrounds_parks": "simulated",
            "named_schools_and_kindergartens": "named in the city's documents; positions simulated 60-200 m "
            "from the camera point named after them",
            "commercial_streets": "simulated",
            "fibre_power_access_points": "simulated",
            "camera_locations": "simulated; the named 2024–2026 points placed by hand near the "
            "streets the city named",
        },
    )
    _simulate_pois(city, rng)
    return city


def _stops(gtfs: Path) -> dict[str, tuple[float, float, int]]:
    """Physical stops: platforms grouped by name, their mean position, and their count."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for feed in sorted(gtfs.glob("GTFS_KRK_*")):
        with (feed / "stops.txt").open(encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                groups.setdefault(row["stop_name"].strip(), []).append(
                    (float(row["stop_lon"]), float(row["stop_lat"]))
                )
    out = {}
    for name, pts in sorted(groups.items()):
        arr = np.asarray(pts)
        e, n = to_metric(arr[:, 0], arr[:, 1])
        out[name] = (float(np.mean(e)), float(np.mean(n)), len(pts))
    return out


def _simulate_pois(city: City, rng: np.random.Generator) -> None:
    """Schools, kindergartens, playgrounds, parks, commercial streets and access points."""
    total_pop = sum(city.district_population.values())
    per_100k = {"school": 18, "kindergarten": 30, "playground": 45, "park": 8, "access_point": 60}
    for did, pop in sorted(city.district_population.items()):
        cells = np.flatnonzero(city.cell_district == did)
        for kind, rate in per_100k.items():
            count = max(1, round(rate * pop / 100_000))
            chosen = rng.choice(cells, size=count, replace=True)
            for k, c in enumerate(chosen):
                e = city.cell_e[c] + rng.uniform(-100, 100)
                n = city.cell_n[c] + rng.uniform(-100, 100)
                label = {
                    "school": "Szkoła Podstawowa",
                    "kindergarten": "Przedszkole",
                    "playground": "Plac zabaw",
                    "park": "Park",
                    "access_point": "Punkt dostępowy",
                }[kind]
                city.pois.append(
                    Poi(kind, f"{label} (sym.) {city.district_numerals[did]}-{k + 1}", e, n, did, real=False)
                )
    # commercial streets: short walks from busy stops and the centre, strongest downtown
    busy = np.argsort(-(city.stops_per_cell + 40 * city.centrality()))[
        : max(20, int(60 * total_pop / 709_400))
    ]
    commercial = np.zeros(city.n_cells)
    for start in busy:
        e, n = city.cell_e[start], city.cell_n[start]
        direction = rng.uniform(0, 2 * np.pi)
        street: Poi | None = None
        for step in range(rng.integers(3, 9)):
            d = np.hypot(city.cell_e - e, city.cell_n - n)
            commercial[d < CELL_M * 0.75] += 1.0
            if step == 0:
                street = Poi(
                    "commercial",
                    f"Ulica handlowa (sym.) {len(city.pois_of('commercial')) + 1}",
                    e,
                    n,
                    int(city.cell_district[np.argmin(d)]),
                    real=False,
                )
                city.pois.append(street)
            assert street is not None
            street.path += ((float(e), float(n)),)
            direction += rng.normal(0, 0.4)
            e, n = e + CELL_M * np.cos(direction), n + CELL_M * np.sin(direction)
    city.commercial = np.clip(commercial / 3.0, 0, 1)
