"""The camera points of both operators over the simulated period.

Calibrated on DOMAIN.md: about 215 older city cameras (centre and main corridors),
the 68 points installed since May 2024 (the 16 named ones placed by hand near the
streets the city named, the others in the north-eastern districts) costing
1,605,167.44 PLN in total, 17 multi-sensor devices with 5 cameras each switched on in
early 2026, road (UTCS) and ANPR cameras of the roads authority; some older cameras
are moved or removed during the period.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simulator.geography import City, to_metric
from simulator.model import (
    HALF_LIFE_WEIGHTS,
    HALF_LIVES_MONTHS,
    Camera,
    Position,
    area_type_at,
    nearest_district,
)

NEW_POINTS_TOTAL_PLN = 1_605_167.44
NEW_POINTS = 68
# (name, lat, lon, installed): DOMAIN.md's named locations, coordinates placed by hand
NAMED_NEW: list[tuple[str, float, float, str]] = [
    ("ul. Orzechowa – pętla przesiadkowa", 50.0953, 19.9768, "2024-05-20"),
    ("Prądnik Czerwony – SP nr 95, place zabaw i boisko", 50.0882, 19.9712, "2024-06-10"),
    ("Fort Mistrzejowice (przy Przedszkolu nr 187 i SP nr 89)", 50.1012, 20.0115, "2024-07-01"),
    ("ul. Piasta Kołodzieja – pętla przesiadkowa", 50.0985, 20.0205, "2025-12-15"),
    ("os. Złotego Wieku (Przedszkole nr 131, place zabaw)", 50.0958, 20.0108, "2025-12-18"),
    ("Planty Bieńczyckie I – promenada", 50.0855, 20.0285, "2024-09-02"),
    ("ul. Andegaweńska (SP nr 101, Żłobek nr 27)", 50.0905, 20.0318, "2024-09-16"),
    ("ul. Witosa – ul. Gołaśka (park)", 50.0880, 20.0412, "2024-10-01"),
    ("ul. Turowicza 9", 50.0950, 20.0030, "2024-10-14"),
    ("al. Solidarności – ul. Ujastek", 50.0790, 20.0610, "2024-11-04"),
    ("Rondo Kocmyrzowskie – węzeł przesiadkowy", 50.0795, 20.0375, "2024-10-07"),
    ("Planty Bieńczyckie II (Przedszkole nr 142, siłownia plenerowa)", 50.0870, 20.0255, "2024-11-18"),
    ("ul. Piasta Kołodzieja – ul. Bitwy nad Bzurą", 50.0998, 20.0178, "2025-03-03"),
    ("ul. gen. Okulickiego – al. gen. Andersa", 50.0930, 20.0350, "2025-04-07"),
    ("Schody przy Dworcu Autobusowym", 50.0680, 19.9475, "2024-11-04"),
    ("al. gen. Bora-Komorowskiego – ul. Wiślicka", 50.0860, 19.9950, "2025-02-03"),
]
# The schools, kindergartens and playgrounds the city names beside each location
# (DOMAIN.md), by the index of the location in NAMED_NEW; their exact positions are
# not published, so they are placed 60–200 m from the camera point.
NAMED_NEAR: dict[int, list[tuple[str, str]]] = {
    1: [("school", "Szkoła Podstawowa nr 95"), ("playground", "Place zabaw przy SP nr 95"),
        ("playground", "Boisko przy SP nr 95")],
    2: [("kindergarten", "Przedszkole nr 187"), ("school", "Szkoła Podstawowa nr 89")],
    3: [("school", "Szkoła Podstawowa nr 144"), ("school", "Szkoła Podstawowa nr 77"),
        ("kindergarten", "Przedszkole przy pętli Piasta Kołodzieja")],
    4: [("kindergarten", "Przedszkole nr 131"), ("playground", "Place zabaw os. Złotego Wieku")],
    5: [("school", "Szkoła Podstawowa nr 86"), ("school", "Liceum przy Plantach Bieńczyckich"),
        ("kindergarten", "Przedszkole nr 116")],
    6: [("school", "Szkoła Podstawowa nr 101"), ("kindergarten", "Żłobek nr 27")],
    7: [("park", "Park przy ul. Witosa"), ("kindergarten", "Przedszkole przy ul. Witosa")],
    10: [("kindergarten", "Przedszkole nr 151"), ("kindergarten", "Przedszkole nr 105"),
         ("school", "Szkoła Podstawowa nr 100"), ("school", "Technikum ekonomiczne")],
    11: [("kindergarten", "Przedszkole nr 142"), ("playground", "Plac zabaw Planty Bieńczyckie II"),
         ("playground", "Siłownia plenerowa Planty Bieńczyckie II")],
}
NORTH_EAST = (3, 14, 15, 16, 17, 18)
STREETS = [
    "ul. Kocmyrzowska",
    "os. Kalinowe",
    "ul. Bieńczycka",
    "os. Strusia",
    "ul. Dobrego Pasterza",
    "ul. Majora",
    "ul. Srebrnych Orłów",
    "os. Oświecenia",
    "ul. Mistrzejowicka",
    "ul. Jancarza",
    "os. Piastów",
    "ul. Ugorek",
    "ul. Lublańska",
    "ul. Meissnera",
    "os. Dywizjonu 303",
]
CENTRE_STREETS = [
    "ul. Floriańska",
    "ul. Grodzka",
    "ul. Szeroka",
    "Plac Nowy",
    "ul. Starowiślna",
    "ul. Długa",
    "ul. Karmelicka",
    "ul. Pawia",
    "Rynek Podgórski",
    "ul. Dietla",
    "Planty",
    "ul. Sławkowska",
    "ul. Józefa",
    "ul. Kalwaryjska",
    "al. Mickiewicza",
]


def _place(
    city: City, rng: np.random.Generator, weights: np.ndarray, jitter: float = 90.0
) -> tuple[float, float, int]:
    c = int(rng.choice(city.n_cells, p=weights / weights.sum()))
    return (
        float(city.cell_e[c] + rng.uniform(-jitter, jitter)),
        float(city.cell_n[c] + rng.uniform(-jitter, jitter)),
        int(city.cell_district[c]),
    )


def _effect(cam: Camera, rng: np.random.Generator) -> Camera:
    cam.half_life_months = float(rng.choice(HALF_LIVES_MONTHS, p=HALF_LIFE_WEIGHTS))
    cam.displacement_share = float(rng.uniform(0.3, 0.6)) if rng.random() < 0.4 else 0.0
    cam.strength = float(rng.uniform(0.85, 1.15))
    return cam


def _date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, max(1, (end - start).days))))


def build_cameras(city: City, rng: np.random.Generator, start: dt.date, end: dt.date) -> list[Camera]:
    cams: list[Camera] = []
    central = city.centrality() ** 1.5 * 8 + city.commercial + city.stops_per_cell / 10

    def wbizk(
        name: str,
        e: float,
        n: float,
        installed: dt.date,
        kind: str = "city_monitoring",
        count: int = 1,
        cost: float | None = None,
        fibre: bool = True,
    ) -> Camera:
        pos = Position(installed, e, n, area_type_at(city, e, n), nearest_district(city, e, n))
        cam = Camera(
            f"WBZK-{len([c for c in cams if c.operator == 'wbizk']) + 1:04d}",
            "wbizk",
            name,
            kind,
            count,
            installed,
            [pos],
            cost_pln=cost,
            fibre=fibre,
            power=True,
        )
        cams.append(_effect(cam, rng))
        return cam

    # about 215 older city cameras: 175 before the period, 40 added during it
    for i in range(215):
        e, n, _ = _place(city, rng, central)
        first = i < 175
        installed = (
            _date(rng, dt.date(2010, 1, 1), min(start, dt.date(2019, 1, 1)) - dt.timedelta(days=1))
            if first
            else _date(rng, start, min(end, dt.date(2024, 4, 30)))
        )
        wbizk(
            f"{CENTRE_STREETS[i % len(CENTRE_STREETS)]} {i + 1}",
            e,
            n,
            installed,
            count=int(rng.choice([1, 1, 2, 3])),
            fibre=rng.random() < 0.8,
        )
    # the 68 points since May 2024: 16 named, 52 more in the north-east
    lon = np.array([p[2] for p in NAMED_NEW])
    lat = np.array([p[1] for p in NAMED_NEW])
    ne, nn = to_metric(lon, lat)
    costs = rng.lognormal(np.log(23_600), 0.18, NEW_POINTS)
    costs = np.round(costs / costs.sum() * NEW_POINTS_TOTAL_PLN, 2)
    costs[-1] = round(NEW_POINTS_TOTAL_PLN - costs[:-1].sum(), 2)
    ne_weights = np.isin(city.cell_district, NORTH_EAST) * (0.2 + city.residential())
    for i in range(NEW_POINTS):
        if i < len(NAMED_NEW):
            name, e, n = NAMED_NEW[i][0], float(ne[i]), float(nn[i])
            installed = dt.date.fromisoformat(NAMED_NEW[i][3])
        else:
            e, n, _ = _place(city, rng, ne_weights)
            name = f"{STREETS[i % len(STREETS)]} {int(rng.integers(1, 60))}"
            installed = _date(rng, dt.date(2024, 5, 6), dt.date(2025, 12, 20))
        wbizk(name, e, n, installed, count=int(rng.choice([1, 2, 2, 3])), cost=float(costs[i]))
    # 17 multi-sensor devices, 5 cameras each, switched on in early 2026
    for i in range(17):
        e, n, _ = _place(city, rng, ne_weights if i % 2 else central)
        wbizk(
            f"Urządzenie wielosensorowe {i + 1}",
            e,
            n,
            _date(rng, dt.date(2026, 1, 12), dt.date(2026, 3, 20)),
            kind="multisensor",
            count=5,
        )
    # WBiZK ANPR points prepared with the Police
    for i in range(4):
        e, n, _ = _place(city, rng, ne_weights)
        wbizk(
            f"ANPR – wlot {i + 1}",
            e,
            n,
            _date(rng, dt.date(2024, 6, 1), dt.date(2025, 6, 1)),
            kind="anpr",
            count=2,
        )
    # moves and removals among the older cameras (a move restores the effect)
    older = [c for c in cams if c.kind == "city_monitoring" and c.installed < dt.date(2021, 1, 1)]
    for cam in rng.choice(older, size=min(15, len(older)), replace=False):
        when = _date(rng, max(start, dt.date(2021, 1, 1)), min(end, dt.date(2025, 12, 1)))
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(450, 900)
        e, n = cam.positions[-1].e + dist * np.cos(angle), cam.positions[-1].n + dist * np.sin(angle)
        if not np.any(np.hypot(city.cell_e - e, city.cell_n - n) < 150):
            continue  # would leave the city
        cam.positions.append(
            Position(when, float(e), float(n), area_type_at(city, e, n), nearest_district(city, e, n))
        )
    movable = [c for c in older if len(c.positions) == 1]
    for cam in rng.choice(movable, size=min(8, len(movable)), replace=False):
        cam.removed = _date(rng, max(start, dt.date(2020, 6, 1)), min(end, dt.date(2025, 6, 1)))
    # roads authority: UTCS at the busiest stop cells, ANPR on the entry corridors
    busiest = np.argsort(-city.stops_per_cell)[:120]
    for i, c in enumerate(busiest):
        e, n = float(city.cell_e[c]), float(city.cell_n[c])
        cams.append(
            Camera(
                f"ZDMK-UTCS-{i + 1:04d}",
                "zdmk",
                f"Skrzyżowanie UTCS {i + 1}",
                "utcs",
                int(rng.choice([1, 2, 4])),
                _date(rng, dt.date(2012, 1, 1), dt.date(2018, 12, 31)),
                [Position(dt.date(2012, 1, 1), e, n, area_type_at(city, e, n), nearest_district(city, e, n))],
            )
        )
    far = np.hypot(city.cell_e - 566_960, city.cell_n - 244_220) > 6000
    entry = far * (city.stops_per_cell + 0.1)
    for i in range(12):
        e, n, d = _place(city, rng, entry, jitter=50)
        installed = _date(rng, dt.date(2024, 5, 1), dt.date(2025, 6, 30))
        cams.append(
            Camera(
                f"ZDMK-ANPR-{i + 1:04d}",
                "zdmk",
                f"ANPR wlot {i + 1}",
                "anpr",
                2,
                installed,
                [Position(installed, e, n, area_type_at(city, e, n), d)],
            )
        )
    for cam in cams:  # the position list starts at installation
        cam.positions[0].since = cam.installed
    _place_named_institutions(city, rng, cams)
    return cams


def _place_named_institutions(city: City, rng: np.random.Generator, cams: list[Camera]) -> None:
    """The seed's named schools and kindergartens, near the camera points named after them."""
    from simulator.geography import Poi

    by_name = {c.name: c for c in cams}
    for index, institutions in NAMED_NEAR.items():
        cam = by_name[NAMED_NEW[index][0]]
        for kind, name in institutions:
            angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(60, 200)
            e = cam.positions[0].e + dist * np.cos(angle)
            n = cam.positions[0].n + dist * np.sin(angle)
            city.pois.append(Poi(kind, name, float(e), float(n), nearest_district(city, e, n), real=False))
