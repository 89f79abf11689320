"""Small, realistic sample deliveries for the demo and the tests (SPEC formats exactly).

The named camera locations are the ones in the city's answer of December 2025
(DOMAIN.md); their coordinates are placed by hand near the named streets, and the
district of each point is computed from the official boundaries. Police incidents
are drawn around district centres and around the camera points, with fewer property
offences near a camera after it is switched on: enough signal for the first mart to
show, not the calibrated city of the simulator issue.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from ingestion.config import Settings
from ingestion.core import DISTRICT_NUMERALS

# (location name, latitude, longitude, kind, cameras, installed, last moved, removed, cost)
NAMED_POINTS: list[tuple[str, float, float, str, int, str, str | None, str | None, float | None]] = [
    ("Rynek Główny – Sukiennice", 50.0617, 19.9373, "monitoring miejski", 2, "2016-04-12", None, None, None),
    ("ul. Floriańska – Brama Floriańska", 50.0650, 19.9414, "monitoring miejski", 1, "2016-04-12",
     None, "2025-03-31", None),
    ("Plac Nowy – ul. Meiselsa", 50.0515, 19.9447, "monitoring miejski", 1, "2021-12-15", None, None, None),
    ("ul. Miodowa – ul. Starowiślna", 50.0545, 19.9462, "monitoring miejski", 2, "2021-12-15", None, None,
     None),
    ("ul. Szeroka – ul. Lewkowa", 50.0532, 19.9486, "monitoring miejski", 1, "2021-12-15", None, None, None),
    ("ul. Orzechowa – pętla przesiadkowa", 50.0953, 19.9768, "monitoring miejski", 2, "2024-05-20",
     "2025-09-01", None, 24180.00),
    ("Prądnik Czerwony – SP nr 95, place zabaw", 50.0882, 19.9712, "monitoring miejski", 2, "2024-06-10",
     None, None, 23950.50),
    ("Fort Mistrzejowice", 50.1012, 20.0115, "monitoring miejski", 2, "2024-07-01", None, None, 22870.00),
    ("ul. Piasta Kołodzieja – pętla przesiadkowa", 50.0985, 20.0205, "monitoring miejski", 3, "2025-12-15",
     None, None, 31990.00),
    ("os. Złotego Wieku – place zabaw", 50.0958, 20.0108, "monitoring miejski", 2, "2025-12-18", None, None,
     23440.00),
    ("Planty Bieńczyckie I – promenada", 50.0855, 20.0285, "wielosensorowe", 5, "2026-02-09", None, None,
     None),
    ("ul. Andegaweńska – SP nr 101", 50.0905, 20.0318, "monitoring miejski", 2, "2024-09-16", None, None,
     22100.00),
    ("Rondo Kocmyrzowskie – węzeł przesiadkowy", 50.0795, 20.0375, "monitoring miejski", 3, "2024-10-07",
     None, None, 27630.00),
    ("Planty Bieńczyckie II – siłownia plenerowa", 50.0870, 20.0255, "wielosensorowe", 5, "2026-02-09",
     None, None, None),
    ("Schody przy Dworcu Autobusowym", 50.0680, 19.9475, "monitoring miejski", 2, "2024-11-04", None, None,
     21800.00),
    ("al. gen. Bora-Komorowskiego – ul. Wiślicka", 50.0860, 19.9950, "monitoring miejski", 2, "2025-02-03",
     None, None, 23300.00),
    ("Rondo Mogilskie – ANPR", 50.0675, 19.9600, "ANPR", 1, "2025-05-12", None, None, 41200.00),
]

PROPERTY = ["art. 278 § 1 kk", "art. 279 § 1 kk", "art. 288 § 1 kk", "art. 119 § 1 kw"]
AFFECTIVE = ["art. 157 § 2 kk", "art. 158 § 1 kk", "art. 51 § 1 kw", "art. 43^1 ust. 1 uwtpa"]
TRAFFIC = ["art. 92 § 1 kw", "art. 97 kw"]
STREETS = ["ul. Dobrego Pasterza", "os. Złotego Wieku", "ul. Kocmyrzowska", "al. Solidarności",
           "ul. Długa", "ul. Starowiślna", "ul. Grodzka", "os. Bohaterów Września", "ul. Wiślicka",
           "ul. Pawia", "ul. Bosacka", "ul. Meiselsa", "ul. Żabiniec", "ul. Łokietka"]
FIRST_NAMES = ["Jan", "Anna", "Piotr", "Katarzyna", "Grzegorz", "Małgorzata"]
LAST_NAMES = ["Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Zieliński"]

POLICE_HEADER = ["nr_zdarzenia", "data", "godzina", "kwalifikacja", "opis", "ulica", "x_puwg92",
                 "y_puwg92"]
CAMERA_HEADER = [
    "Nr punktu", "Nazwa lokalizacji", "Dzielnica", "Szerokość geogr.", "Długość geogr.", "Typ",
    "Liczba kamer", "Data uruchomienia", "Data ostatniego przeniesienia", "Data demontażu",
    "Światłowód", "Zasilanie", "Koszt zakupu i montażu [zł]", "Uwagi",
]


@dataclass(frozen=True)
class CameraPoint:
    point_id: str
    name: str
    lat: float
    lon: float
    kind: str
    cameras: int
    installed: dt.date
    moved: dt.date | None
    removed: dt.date | None
    cost: float | None
    district: int
    easting: float
    northing: float


def _project(cfg: Settings, coords: list[tuple[float, float]]) -> list[tuple[float, float, int]]:
    """WGS84 → (easting, northing, district) with DuckDB spatial and the official boundaries."""
    from ingestion.duck import connect

    con = connect(":memory:", cfg, spatial=True)
    try:
        con.execute("create table pts(i int, lat double, lon double)")
        con.executemany("insert into pts values (?, ?, ?)",
                        [(i, la, lo) for i, (la, lo) in enumerate(coords)])
        rows = con.execute(f"""
            with p as (
                select i, st_transform(st_point(lon, lat), 'EPSG:4326', 'EPSG:2180', always_xy := true) g
                from pts
            ), d as (
                select cast(ID_DZIELNI as int) as district_id, geom
                from st_read('{cfg.reference_dir / "krakow_districts_official_epsg2180.geojson"}')
            )
            select p.i, st_x(p.g), st_y(p.g),
                   (select d.district_id from d order by st_distance(d.geom, p.g) limit 1)
            from p order by p.i""").fetchall()
    finally:
        con.close()
    return [(r[1], r[2], r[3]) for r in rows]


def camera_points(cfg: Settings) -> list[CameraPoint]:
    projected = _project(cfg, [(p[1], p[2]) for p in NAMED_POINTS])
    out = []
    for i, (p, (e, n, d)) in enumerate(zip(NAMED_POINTS, projected, strict=True), start=1):
        name, lat, lon, kind, cams, inst, moved, removed, cost = p
        out.append(CameraPoint(
            f"WBZK-{i:04d}", name, lat, lon, kind, cams, dt.date.fromisoformat(inst),
            dt.date.fromisoformat(moved) if moved else None,
            dt.date.fromisoformat(removed) if removed else None, cost, d, e, n))
    return out


def write_camera_snapshot(points: list[CameraPoint], snapshot: dt.date, path: Path) -> None:
    """One WBiZK XLSX snapshot: the points switched on by ``snapshot``."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Punkty kamerowe"
    ws.append(CAMERA_HEADER)
    for p in points:
        if p.installed > snapshot:
            continue
        removed = p.removed if p.removed and p.removed <= snapshot else None
        moved = p.moved if p.moved and p.moved <= snapshot else None
        ws.append([
            p.point_id, p.name, DISTRICT_NUMERALS[p.district - 1], round(p.lat, 6), round(p.lon, 6), p.kind,
            p.cameras, p.installed, moved, removed, "tak" if p.installed.year >= 2021 else "nie", "tak",
            p.cost, "przeniesiona z pętli" if moved else None,
        ])
    for row in ws.iter_rows(min_row=2):
        for cell in row[7:10]:
            cell.number_format = "yyyy-mm-dd"
    fixed = dt.datetime(snapshot.year, snapshot.month, snapshot.day, 6, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    months, d = [], start.replace(day=1)
    while d <= end:
        months.append(d)
        d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def police_rows(points: list[CameraPoint], month: dt.date, rng: random.Random,
                centres: list[tuple[float, float]]) -> list[list[str]]:
    """One month of incidents: background around district centres plus camera hot spots."""
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    days = (nxt - month).days
    rows: list[list[str]] = []

    def add(e: float, n: float, qual: str, day: int, hhmm: tuple[int, int]) -> None:
        seq = len(rows) + 1
        note = "sprawca oddalił się w nieznanym kierunku"
        if rng.random() < 0.08:
            note = (f"zgłaszający {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, "
                    f"tel. {rng.randint(500, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}")
        rows.append([
            f"KMP/{month:%Y/%m}/{seq:05d}", f"{day:02d}.{month:%m.%Y}", f"{hhmm[0]:02d}:{hhmm[1]:02d}",
            qual, note, f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            f"{n:.2f}".replace(".", ","), f"{e:.2f}".replace(".", ","),
        ])

    for _ in range(90):
        ce, cn = rng.choice(centres)
        qual = rng.choices([PROPERTY, AFFECTIVE, TRAFFIC], weights=[5, 3, 2])[0]
        add(ce + rng.gauss(0, 900), cn + rng.gauss(0, 900), rng.choice(qual), rng.randint(1, days),
            (rng.randint(0, 23), rng.randint(0, 59)))
    for p in points:
        for kind, base, deterred in ((PROPERTY, 3.0, 0.45), (AFFECTIVE, 1.5, 1.0), (TRAFFIC, 1.0, 1.0)):
            for day in range(1, days + 1):
                date = month.replace(day=day)
                active = p.installed <= date and (p.removed is None or date < p.removed)
                rate = base / days * (deterred if active else 1.0)
                if rng.random() < rate:
                    add(p.easting + rng.gauss(0, 70), p.northing + rng.gauss(0, 70), rng.choice(kind), day,
                        (rng.randint(0, 23), rng.randint(0, 59)))
    return rows


def write_police_month(rows: list[list[str]], path: Path) -> None:
    """Windows-1250, ``;``, decimal commas, CRLF: as the KMP system exports it."""
    def quote(v: str) -> str:
        return f'"{v}"' if any(c in v for c in ';"\n') else v

    lines = [";".join(POLICE_HEADER)] + [";".join(quote(v) for v in r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1250"))


def write_samples(cfg: Settings, out_inbox: Path, *, seed: int = 7, start: str = "2024-01",
                  end: str = "2026-05") -> list[Path]:
    """Write the sample deliveries into ``out_inbox/<source>/``; return the files written."""
    rng = random.Random(seed)
    points = camera_points(cfg)
    written: list[Path] = []
    for snap in (dt.date(2025, 6, 1), dt.date(2026, 6, 1)):
        path = out_inbox / "cameras_wbizk" / f"punkty_kamerowe_{snap.isoformat()}.xlsx"
        write_camera_snapshot(points, snap, path)
        written.append(path)
    centres = _district_centres(cfg)
    months = _month_range(dt.date.fromisoformat(start + "-01"), dt.date.fromisoformat(end + "-01"))
    for month in months:
        rows = police_rows(points, month, rng, centres)
        if month == months[-2]:
            # realistic defects, well under the 5% refusal share: a row whose X and Y
            # were swapped by the exporting clerk, and a row exported twice
            swapped = rows[3][:]
            swapped[6], swapped[7] = swapped[7], swapped[6]
            rows[3] = swapped
            rows.append(rows[10][:])
        path = out_inbox / "police" / f"kmp_zdarzenia_{month:%Y-%m}.csv"
        write_police_month(rows, path)
        written.append(path)
        if month == months[-3]:
            # a correction of this month: two records re-qualified
            fixed = [r[:] for r in rows]
            fixed[0][3], fixed[1][3] = "art. 280 § 1 kk", "art. 279 § 1 kk"
            path = out_inbox / "police" / f"kmp_zdarzenia_{month:%Y-%m}_korekta1.csv"
            write_police_month(fixed, path)
            written.append(path)
    # a delivery whose name matches no SPEC pattern: refused whole, kept in refused/
    stray = out_inbox / "police" / "zdarzenia_maj_2026.csv"
    write_police_month(police_rows(points, months[-1], rng, centres)[:5], stray)
    written.append(stray)
    return written


def _district_centres(cfg: Settings) -> list[tuple[float, float]]:
    from ingestion.duck import connect

    con = connect(":memory:", cfg, spatial=True)
    try:
        return [(r[0], r[1]) for r in con.execute(f"""
            select st_x(st_centroid(geom)), st_y(st_centroid(geom))
            from st_read('{cfg.reference_dir / "krakow_districts_official_epsg2180.geojson"}')
            order by ID_DZIELNI""").fetchall()]
    finally:
        con.close()
