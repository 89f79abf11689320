"""One function per source of SPEC.md, writing its deliveries for the simulated period.

Each function streams: it generates one period (a day, a month, a quarter, a wave) at
a time, writes it, and forgets it, so memory stays flat at every scale. Every random
draw comes from a generator seeded by (seed, source, period), so any file can be
regenerated on its own and the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from simulator import personal, writers
from simulator.geography import City, to_wgs84
from simulator.model import (
    CLASSES,
    HOURS,
    MONTHLY,
    SEASON,
    SOURCE_SHARE,
    Camera,
    Model,
    Thinner,
    draw_offences,
    months_between,
    next_month,
)

Progress = Callable[[int], None]

QUALIFICATIONS = {
    "property": (
        ["art. 278 § 1 kk", "art. 279 § 1 kk", "art. 288 § 1 kk", "art. 280 § 1 kk", "art. 119 § 1 kw"],
        [0.5, 0.15, 0.2, 0.05, 0.1],
    ),
    "violence": (
        ["art. 157 § 2 kk", "art. 158 § 1 kk", "art. 217 § 1 kk", "art. 190 § 1 kk"],
        [0.35, 0.15, 0.3, 0.2],
    ),
    "alcohol_drugs": (["art. 43^1 ust. 1 uwtpa", "art. 62 ust. 1 uopn"], [0.6, 0.4]),
    "public_order": (["art. 51 § 1 kw", "art. 141 kw", "art. 145 kw"], [0.6, 0.2, 0.2]),
    "traffic": (["art. 86 § 1 kw", "art. 92 § 1 kw", "art. 97 kw", "art. 178a § 1 kk"], [0.4, 0.3, 0.2, 0.1]),
    # every qualification is one the platform's taxonomy puts in the same class as the
    # plant: art. 124 k.w. (damage) is a property offence, so "other" uses 66 k.w.
    "other": (["art. 66 § 1 kw", "art. 193 kk"], [0.5, 0.5]),
}
GUARD_ARTICLES = {
    "alcohol_drugs": (["43¹"], [1.0], "spożywanie alkoholu w miejscu publicznym"),
    "public_order": (["51§1", "141", "145"], [0.6, 0.2, 0.2], "porządek publiczny"),
    "traffic": (["92§1", "97", "90"], [0.5, 0.4, 0.1], "ruch drogowy"),
}
MCPU_KINDS = (
    [
        "nietrzeźwy w miejscu publicznym",
        "przewiezienie do izby wytrzeźwień",
        "interwencja narkotykowa",
        "interwencja kryzysowa",
    ],
    [0.5, 0.25, 0.15, 0.1],
)
NOTES = {
    "property": [
        "kradzież portfela",
        "kradzież roweru spod sklepu",
        "włamanie do piwnicy",
        "uszkodzenie szyby w samochodzie",
        "kradzież telefonu w tramwaju",
    ],
    "violence": [
        "bójka przed lokalem",
        "pobicie na przystanku",
        "naruszenie nietykalności",
        "groźby karalne wobec sąsiada",
    ],
    "alcohol_drugs": ["spożywanie alkoholu na ławce", "posiadanie środków odurzających"],
    "public_order": ["zakłócanie ciszy nocnej", "wybryk nieobyczajny", "zaśmiecanie skweru"],
    "traffic": [
        "parkowanie na chodniku",
        "nieprawidłowe przejście przez jezdnię",
        "kierujący w stanie nietrzeźwości",
    ],
    "other": ["naruszenie miru domowego", "fałszywy alarm"],
}
FIRST = ["Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Agnieszka", "Michał", "Ewa"]
LAST = [
    "Kowalski",
    "Nowak",
    "Wiśniewska",
    "Wójcik",
    "Kowalczyk",
    "Kamińska",
    "Lewandowski",
    "Zielińska",
    "Szymański",
    "Woźniak",
]
STREETS = [
    "ul. Długa",
    "ul. Grodzka",
    "ul. Starowiślna",
    "ul. Dietla",
    "ul. Karmelicka",
    "al. Pokoju",
    "ul. Wielicka",
    "ul. Kalwaryjska",
    "al. Jana Pawła II",
    "ul. Kocmyrzowska",
    "os. Centrum A",
    "ul. Conrada",
    "ul. Bora-Komorowskiego",
    "ul. Wrocławska",
    "ul. Zakopiańska",
    "ul. Nowohucka",
    "ul. Lipska",
    "ul. Mogilska",
    "os. Piastów",
    "ul. Bronowicka",
    "ul. Zielona",
    "ul. Mazowiecka",
]
PERSONAL_SHARE = 0.04


def rng_for(seed: int, source: str, period: str) -> np.random.Generator:
    """An independent, reproducible stream per (seed, source, period)."""
    return np.random.default_rng([seed, zlib.crc32(source.encode()), zlib.crc32(period.encode())])


def personal_note(rng: np.random.Generator) -> str:
    """A name, a phone number or a plate, as found in ~4 % of real notes; each value is
    recorded (:mod:`simulator.personal`) so that a scan can prove it never got through."""
    kind = rng.integers(0, 3)
    if kind == 0:
        return f"zgłaszający {personal.plant('name', f'{rng.choice(FIRST)} {rng.choice(LAST)}')}"
    if kind == 1:
        phone = f"{rng.integers(500, 800)} {rng.integers(100, 1000)} {rng.integers(100, 1000)}"
        return f"kontakt tel. {personal.plant('phone', phone)}"
    letters = "ABCDEFGHJKLMNPRSTUWXYZ"
    plate = f"KR {rng.integers(1, 10)}{rng.choice(list(letters))}{rng.integers(100, 999)}"
    return f"pojazd nr rej. {personal.plant('plate', plate)}"


def notes(rng: np.random.Generator, cls: np.ndarray) -> np.ndarray:
    out = np.array([rng.choice(NOTES[c]) for c in cls], dtype=object)
    with_personal = np.flatnonzero(rng.random(len(cls)) < PERSONAL_SHARE)
    for i in with_personal:
        out[i] = f"{out[i]}; {personal_note(rng)}"
    return out


def local_times(rng: np.random.Generator, month: dt.date, cls: np.ndarray) -> pd.DatetimeIndex:
    """Wall-clock Warsaw times: uniform days, hours from each class's profile."""
    days = (next_month(month) - month).days
    n = len(cls)
    day = rng.integers(0, days, n)
    hour = np.zeros(n, dtype=int)
    for c in np.unique(cls):
        sel = cls == c
        p = np.asarray(HOURS[c], dtype=float)
        hour[sel] = rng.choice(24, size=sel.sum(), p=p / p.sum())
    minute = rng.integers(0, 60, n)
    base = np.datetime64(month.isoformat(), "m")
    stamps = base + (day * 1440 + hour * 60 + minute).astype("timedelta64[m]")
    return pd.DatetimeIndex(stamps)


def month_offences(model: Model, month: dt.date, scale: float, seed: int) -> pd.DataFrame:
    """All offences of one month, every source together, with the source each goes to."""
    rng = rng_for(seed, "offences", month.isoformat())
    thinner = Thinner(model, month)
    parts = []
    for cls in CLASSES:
        expected = MONTHLY[cls] * scale * SEASON[cls][month.month - 1]
        e, n = draw_offences(model, cls, month, expected, rng, thinner)
        shares = SOURCE_SHARE[cls]
        source = rng.choice(list(shares), size=len(e), p=list(shares.values()))
        parts.append(pd.DataFrame({"cls": cls, "e": e, "n": n, "source": source}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame["local"] = local_times(rng, month, frame["cls"].to_numpy())
    return frame.sort_values("local", kind="stable").reset_index(drop=True)


def _pick(rng: np.random.Generator, table: dict, cls: np.ndarray) -> np.ndarray:
    out = np.empty(len(cls), dtype=object)
    for c in np.unique(cls):
        sel = cls == c
        values, p = table[c][0], table[c][1]
        out[sel] = rng.choice(values, size=sel.sum(), p=p)
    return out


def police_frame(rows: pd.DataFrame, month: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    cls = rows["cls"].to_numpy()
    local = pd.DatetimeIndex(rows["local"])
    seq = pd.Series(np.arange(1, len(rows) + 1)).map("{:06d}".format)
    return pd.DataFrame(
        {
            "nr_zdarzenia": f"KMP/{month:%Y/%m}/" + seq,
            "data": local.strftime("%d.%m.%Y"),
            "godzina": local.strftime("%H:%M"),
            "kwalifikacja": _pick(rng, QUALIFICATIONS, cls),
            "opis": notes(rng, cls),
            "ulica": [
                f"{s} {k}"
                for s, k in zip(rng.choice(STREETS, len(rows)), rng.integers(1, 120, len(rows)), strict=True)
            ],
            "x_puwg92": rows["n"].round(2).to_numpy(),  # Polish X = northing
            "y_puwg92": rows["e"].round(2).to_numpy(),  # Polish Y = easting
        }
    )


def guard_frame(rows: pd.DataFrame, month: dt.date, rng: np.random.Generator, city: City) -> pd.DataFrame:
    cls = rows["cls"].to_numpy()
    local = pd.DatetimeIndex(rows["local"])
    utc = local.tz_localize(
        "Europe/Warsaw", ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward"
    ).tz_convert("UTC")
    lon, lat = to_wgs84(rows["e"].to_numpy(), rows["n"].to_numpy())
    art = np.empty(len(cls), dtype=object)
    cat = np.empty(len(cls), dtype=object)
    for c in np.unique(cls):
        sel = cls == c
        arts, p, label = GUARD_ARTICLES[c]
        art[sel] = rng.choice(arts, size=sel.sum(), p=p)
        cat[sel] = label
    district = _districts(city, rows)
    seq = pd.Series(np.arange(1, len(rows) + 1)).map("{:06d}".format)
    return pd.DataFrame(
        {
            "id": f"SM/{month:%Y%m}/" + seq,
            "czas_utc": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "art_kw": art,
            "kategoria_sm": cat,
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "rejon": [
                f"R-{city.district_numerals[d]}-{k}"
                for d, k in zip(district, rng.integers(1, 4, len(rows)), strict=True)
            ],
        }
    )


def _districts(city: City, rows: pd.DataFrame) -> np.ndarray:
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([city.cell_e, city.cell_n]))
    _, idx = tree.query(np.column_stack([rows["e"], rows["n"]]))
    return city.cell_district[idx]


def mcpu_rows(rows: pd.DataFrame, rng: np.random.Generator, city: City) -> list[list[object]]:
    local = pd.DatetimeIndex(rows["local"])
    lon, lat = to_wgs84(rows["e"].to_numpy(), rows["n"].to_numpy())
    kinds = rng.choice(MCPU_KINDS[0], size=len(rows), p=MCPU_KINDS[1])
    district = _districts(city, rows)
    streets = rng.choice(STREETS, len(rows))
    numbers = rng.integers(1, 120, len(rows))
    return [
        [
            ts.date(),
            ts.time(),
            f"{s} {k}",
            city.district_names[int(d)],
            kind,
            round(float(la), 6),
            round(float(lo), 6),
        ]
        for ts, s, k, d, kind, la, lo in zip(local, streets, numbers, district, kinds, lat, lon, strict=True)
    ]


def write_incident_sources(
    model: Model, out: Path, start: dt.date, end: dt.date, scale: float, seed: int, progress: Progress
) -> dict[str, int]:
    """Police (monthly, Windows-1250), City Guard (monthly, UTF-8) and MCPU (quarterly XLSX)."""
    counts = {"police": 0, "city_guard": 0, "mcpu": 0}
    quarter: list[list[object]] = []
    for month in months_between(start, end):
        frame = month_offences(model, month, scale, seed)
        rng = rng_for(seed, "records", month.isoformat())
        police = frame[frame["source"] == "police"]
        pf = police_frame(police, month, rng)
        writers.write_bytes(
            out / "police" / f"kmp_zdarzenia_{month:%Y-%m}.csv",
            writers.csv_bytes(pf, sep=";", encoding="cp1250", decimal=",", line_terminator="\r\n"),
        )
        guard = frame[frame["source"] == "city_guard"]
        gf = guard_frame(guard, month, rng, model.city)
        writers.write_bytes(
            out / "city_guard" / f"sm_wykroczenia_{month:%Y-%m}.csv",
            writers.csv_bytes(gf, sep=",", encoding="utf-8"),
        )
        quarter += mcpu_rows(frame[frame["source"] == "mcpu"], rng, model.city)
        counts["police"] += len(pf)
        counts["city_guard"] += len(gf)
        if month.month % 3 == 0 or month == end.replace(day=1):
            q = (month.month - 1) // 3 + 1
            writers.xlsx(
                out / "mcpu" / f"mcpu_interwencje_{month.year}-Q{q}.xlsx",
                "Interwencje",
                ["Data", "Godzina", "Adres", "Dzielnica", "Rodzaj interwencji", "Szer.", "Dł."],
                quarter,
                date_columns=(0,),
                time_columns=(1,),
                stamp=dt.datetime(month.year, month.month, 28, 8, 0),
            )
            counts["mcpu"] += len(quarter)
            quarter = []
        progress(1)
    return counts


# ---------------------------------------------------------------- camera inventories


def write_camera_snapshots(cameras: list[Camera], out: Path, start: dt.date, end: dt.date) -> int:
    """Monthly full snapshots of both operators (WBiZK XLSX, ZDMK GeoJSON)."""
    header = [
        "Nr punktu",
        "Nazwa lokalizacji",
        "Dzielnica",
        "Szerokość geogr.",
        "Długość geogr.",
        "Typ",
        "Liczba kamer",
        "Data uruchomienia",
        "Data ostatniego przeniesienia",
        "Data demontażu",
        "Światłowód",
        "Zasilanie",
        "Koszt zakupu i montażu [zł]",
        "Uwagi",
    ]
    kinds = {"city_monitoring": "monitoring miejski", "multisensor": "wielosensorowe", "anpr": "ANPR"}
    numerals = [
        "I",
        "II",
        "III",
        "IV",
        "V",
        "VI",
        "VII",
        "VIII",
        "IX",
        "X",
        "XI",
        "XII",
        "XIII",
        "XIV",
        "XV",
        "XVI",
        "XVII",
        "XVIII",
    ]
    files = 0
    positions = [p for c in cameras for p in c.positions]
    lons, lats = to_wgs84(np.array([p.e for p in positions]), np.array([p.n for p in positions]))
    wgs = {
        id(p): (round(float(lo), 6), round(float(la), 6))
        for p, lo, la in zip(positions, lons, lats, strict=True)
    }
    for snap in months_between(start, end):
        rows, features = [], []
        for cam in cameras:
            if cam.installed > snap:
                continue
            removed = cam.removed if cam.removed and cam.removed <= snap else None
            pos = cam.position_at(snap) or [p for p in cam.positions if p.since <= snap][-1]
            moves = [p.since for p in cam.positions[1:] if p.since <= snap]
            lon, lat = wgs[id(pos)]
            if cam.operator == "wbizk":
                rows.append(
                    [
                        cam.point_id,
                        cam.name,
                        numerals[pos.district - 1],
                        lat,
                        lon,
                        kinds[cam.kind],
                        cam.cameras,
                        cam.installed,
                        moves[-1] if moves else None,
                        removed,
                        "tak" if cam.fibre else "nie",
                        "tak" if cam.power else "nie",
                        cam.cost_pln,
                        "przeniesiona" if moves else None,
                    ]
                )
            else:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {
                            "id": cam.point_id,
                            "nazwa": cam.name,
                            "rodzaj": "UTCS" if cam.kind == "utcs" else "ANPR",
                            "data_uruchomienia": cam.installed.isoformat(),
                            "status": "nieaktywna" if removed else "aktywna",
                            "liczba_kamer": cam.cameras,
                        },
                    }
                )
        writers.xlsx(
            out / "cameras_wbizk" / f"punkty_kamerowe_{snap.isoformat()}.xlsx",
            "Punkty kamerowe",
            header,
            rows,
            date_columns=(7, 8, 9),
            stamp=dt.datetime(snap.year, snap.month, 1, 6, 0),
        )
        writers.geojson(out / "cameras_zdmk" / f"kamery_zdmk_{snap.isoformat()}.geojson", features)
        files += 2
    return files


# ---------------------------------------------------------------- interventions

# City Guard operators' camera-initiated interventions per year (DOMAIN.md): 2023 and 2024
# whole years, 2025 up to early December (5 Dec); other years extrapolated.
INTERVENTIONS_PER_YEAR = {2019: 5100, 2020: 5450, 2021: 6050, 2022: 6650, 2023: 7208, 2024: 8489, 2026: 9800}
INTERVENTIONS_2025_TO_DEC5 = 8956
INTERVENTION_CATEGORIES = {
    "porządek publiczny": 0.30,
    "alkohol": 0.20,
    "ruch drogowy": 0.12,
    "zasłabnięcie": 0.10,
    "osoba w kryzysie bezdomności": 0.08,
    "osoba zaginiona": 0.03,
    "impreza masowa / zgromadzenie": 0.05,
    "zagrożenie infrastruktury": 0.04,
    "inne": 0.08,
}
OUTCOMES = {
    "porządek publiczny": {
        "patrol SM": 0.45,
        "przekazano Policji": 0.2,
        "pouczenie": 0.2,
        "mandat": 0.1,
        "bez dalszych działań": 0.05,
    },
    "alkohol": {"patrol SM": 0.4, "mandat": 0.3, "pouczenie": 0.2, "przekazano Policji": 0.1},
    "ruch drogowy": {"patrol SM": 0.3, "przekazano Policji": 0.5, "bez dalszych działań": 0.2},
    "zasłabnięcie": {"pogotowie ratunkowe": 0.8, "patrol SM": 0.2},
    "osoba w kryzysie bezdomności": {
        "patrol SM": 0.6,
        "pogotowie ratunkowe": 0.3,
        "bez dalszych działań": 0.1,
    },
    "osoba zaginiona": {"przekazano Policji": 0.8, "patrol SM": 0.2},
    "impreza masowa / zgromadzenie": {
        "przekazano Policji": 0.4,
        "patrol SM": 0.3,
        "bez dalszych działań": 0.3,
    },
    "zagrożenie infrastruktury": {"patrol SM": 0.5, "przekazano Policji": 0.2, "bez dalszych działań": 0.3},
    "inne": {"patrol SM": 0.4, "bez dalszych działań": 0.6},
}
INTERVENTION_NOTES = {
    "porządek publiczny": "grupa osób zakłóca porządek",
    "alkohol": "spożywanie alkoholu przy sklepie",
    "ruch drogowy": "kolizja na skrzyżowaniu",
    "zasłabnięcie": "osoba leżąca na chodniku",
    "osoba w kryzysie bezdomności": "osoba bezdomna wychłodzona",
    "osoba zaginiona": "poszukiwana osoba starsza",
    "impreza masowa / zgromadzenie": "zgromadzenie przed urzędem",
    "zagrożenie infrastruktury": "uszkodzona sygnalizacja",
    "inne": "zgłoszenie operatora",
}


def _season(category: str, month: int) -> float:
    if category == "osoba w kryzysie bezdomności":
        return 2.5 if month in (12, 1, 2) else (0.4 if month in (6, 7, 8) else 1.0)
    if category in {"alkohol", "porządek publiczny", "impreza masowa / zgromadzenie"}:
        return 1.3 if month in (5, 6, 7, 8) else 0.9
    return 1.0


def daily_intervention_counts(start: dt.date, end: dt.date, seed: int) -> dict[dt.date, int]:
    """Exact yearly totals where the city gave them, spread over days by a multinomial."""
    counts: dict[dt.date, int] = {}
    for year in range(start.year, end.year + 1):
        rng = rng_for(seed, "interventions-count", str(year))
        days = [
            dt.date(year, 1, 1) + dt.timedelta(days=i)
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)
        ]
        w = np.array([1.0 + 0.15 * np.sin(2 * np.pi * (d.timetuple().tm_yday - 100) / 365) for d in days])
        if year == 2025:
            cut = days.index(dt.date(2025, 12, 5)) + 1
            first = rng.multinomial(INTERVENTIONS_2025_TO_DEC5, w[:cut] / w[:cut].sum())
            rest = rng.poisson(INTERVENTIONS_2025_TO_DEC5 / w[:cut].sum() * w[cut:])
            per_day = np.concatenate([first, rest])
        else:
            per_day = rng.multinomial(INTERVENTIONS_PER_YEAR.get(year, 9800), w / w.sum())
        counts.update(dict(zip(days, per_day.tolist(), strict=True)))
    return {d: c for d, c in counts.items() if start <= d <= end}


class Segments:
    """Every (camera, position) as arrays: which camera points are up on a given day, fast."""

    def __init__(self, model: Model, keep: Callable[[Camera], bool]) -> None:
        from scipy.spatial import cKDTree

        rows = []
        for cam in model.cameras:
            if not keep(cam):
                continue
            ends = [p.since for p in cam.positions[1:]] + [cam.removed or dt.date(2100, 1, 1)]
            for pos, until in zip(cam.positions, ends, strict=True):
                rows.append((cam, pos, pos.since.toordinal(), until.toordinal()))
        self.cameras = [r[0] for r in rows]
        self.positions = [r[1] for r in rows]
        self.start = np.array([r[2] for r in rows])
        self.stop = np.array([r[3] for r in rows])
        self.e = np.array([p.e for p in self.positions])
        self.n = np.array([p.n for p in self.positions])
        tree = cKDTree(np.column_stack([model.city.cell_e, model.city.cell_n]))
        self.cell = tree.query(np.column_stack([self.e, self.n]))[1]

    def active(self, day: dt.date) -> np.ndarray:
        d = day.toordinal()
        return np.flatnonzero((self.start <= d) & (d < self.stop))


def write_interventions(
    model: Model, out: Path, start: dt.date, end: dt.date, seed: int, progress: Progress
) -> int:
    total = 0
    cats = list(INTERVENTION_CATEGORIES)
    operators = [personal.plant("operator", f"SM{n:04d}")
                 for n in np.random.default_rng(seed).choice(9000, 60, replace=False) + 1000]
    segments = Segments(model, lambda c: c.kind != "utcs")
    for day, count in daily_intervention_counts(start, end, seed).items():
        rng = rng_for(seed, "interventions", day.isoformat())
        active = segments.active(day)
        w = model.class_weights("public_order", day.year) + model.class_weights("alcohol_drugs", day.year)
        w = w[segments.cell[active]] + 1e-9
        points = active[rng.choice(len(active), size=count, p=w / w.sum())]
        p = np.array([INTERVENTION_CATEGORIES[c] * _season(c, day.month) for c in cats])
        chosen = rng.choice(cats, size=count, p=p / p.sum())
        seconds = np.sort(rng.integers(0, 86_400, count))
        local = pd.DatetimeIndex(np.datetime64(day.isoformat(), "s") + seconds.astype("timedelta64[s]"))
        aware = local.tz_localize(
            "Europe/Warsaw", ambiguous=np.ones(count, dtype=bool), nonexistent="shift_forward"
        )
        outcome = np.empty(count, dtype=object)
        for cat in np.unique(chosen):
            sel = chosen == cat
            o = OUTCOMES[str(cat)]
            outcome[sel] = rng.choice(list(o), size=sel.sum(), p=list(o.values()))
        note = np.array([INTERVENTION_NOTES[str(c)] for c in chosen], dtype=object)
        for i in np.flatnonzero(rng.random(count) < PERSONAL_SHARE):
            note[i] = f"{note[i]}; {personal_note(rng)}"
        records = {
            "id_interwencji": [f"INT-{day:%Y%m%d}-{i + 1:04d}" for i in range(count)],
            "data_zdarzenia": [t.isoformat() for t in aware],
            "nr_punktu": [segments.cameras[k].point_id for k in points],
            "kategoria": chosen,
            "sposob_zalatwienia": outcome,
            "opis": note,
            "operator": rng.choice(operators, size=count),
        }
        frame = pd.DataFrame(
            records,
            columns=[
                "id_interwencji",
                "data_zdarzenia",
                "nr_punktu",
                "kategoria",
                "sposob_zalatwienia",
                "opis",
                "operator",
            ],
        )
        writers.write_bytes(
            out / "interventions" / f"interwencje_{day.isoformat()}.csv",
            writers.csv_bytes(frame, sep=";", encoding="utf-8"),
        )
        total += count
        if day.day == 1:
            progress(1)
    return total


# ---------------------------------------------------------------- survey


def waves(start: dt.date, end: dt.date) -> list[tuple[str, str, dt.date]]:
    """(code, file season, fieldwork date): spring waves in April, autumn waves in October."""
    out = []
    for year in range(start.year, end.year + 1):
        for code, season, month in (("W", "wiosna", 4), ("J", "jesien", 10)):
            field = dt.date(year, month, 15)
            if start <= field <= end:
                out.append((f"{year}{code}", season, field))
    return out


SURVEY_LABELS = {
    "resp_id": "Identyfikator respondenta",
    "fala": "Fala badania",
    "dzielnica": "Dzielnica zamieszkania",
    "waga": "Waga analityczna",
    "plec": "Płeć",
    "wiek_kat": "Wiek (kategorie)",
    "q1_bezp_dzien": "Poczucie bezpieczeństwa w mieście w dzień",
    "q2_bezp_noc": "Poczucie bezpieczeństwa w mieście w nocy",
    "q3_bezp_okolica": "Poczucie bezpieczeństwa w okolicy miejsca zamieszkania",
    "q4_bezp_centrum": "Poczucie bezpieczeństwa w centrum",
    "q5_zaufanie_sm": "Zaufanie do Straży Miejskiej",
    "q6_zaufanie_policja": "Zaufanie do Policji",
    "q7_kamery_wiedza": "Czy w okolicy są kamery monitoringu",
}
LIKERT = {
    1.0: "bardzo niebezpiecznie",
    2.0: "raczej niebezpiecznie",
    3.0: "ani tak, ani nie",
    4.0: "raczej bezpiecznie",
    5.0: "bardzo bezpiecznie",
    9.0: "trudno powiedzieć",
}
TRUST = {
    1.0: "zdecydowanie nie ufam",
    2.0: "raczej nie ufam",
    3.0: "trudno ocenić",
    4.0: "raczej ufam",
    5.0: "zdecydowanie ufam",
    9.0: "nie wiem",
}
REASONS = {
    1.0: "alkohol",
    2.0: "agresja",
    3.0: "kradzieże",
    4.0: "słabe oświetlenie",
    5.0: "pustkowie",
    6.0: "ruch drogowy",
    7.0: "inne",
}
# perception model (truth): latent own-neighbourhood safety
SURVEY_MODEL = {
    "intercept": 3.7,
    "local_rate_coef": -0.55,
    "camera_within_300m_coef": 0.25,
    "noise_sd": 0.8,
    "night_shift": -0.8,
    "day_shift": 0.5,
    "dont_know_share": 0.03,
    "local_radius_m": 500,
}


def _likert(x: np.ndarray, rng: np.random.Generator, dont_know: float) -> np.ndarray:
    """Round a latent score to the 1–5 scale; a share answers 9 (don't know)."""
    v = np.clip(np.round(x), 1, 5).astype(float)
    v[rng.random(len(v)) < dont_know] = 9.0
    return v


def write_survey(model: Model, out: Path, start: dt.date, end: dt.date, seed: int, progress: Progress) -> int:
    city = model.city
    total_pop = sum(city.district_population.values())
    total = 0
    for i, (code, season, field) in enumerate(waves(start, end)):
        rng = rng_for(seed, "survey", code)
        alloc = {d: max(50, round(1800 * p / total_pop)) for d, p in city.district_population.items()}
        while sum(alloc.values()) != 1800:  # keep exactly 1,800 respondents
            d = max(alloc, key=alloc.get) if sum(alloc.values()) > 1800 else min(alloc, key=alloc.get)
            alloc[d] += -1 if sum(alloc.values()) > 1800 else 1
        district = np.concatenate([np.full(n, d) for d, n in sorted(alloc.items())])
        n = len(district)
        weight = np.array([city.district_population[d] / total_pop / (alloc[d] / 1800) for d in district])
        weight = weight * rng.uniform(0.8, 1.25, n)
        weight = np.round(weight / weight.mean(), 4)
        cells_of = {d: np.flatnonzero(city.cell_district == d) for d in alloc}
        home = np.concatenate([rng.choice(cells_of[d], size=n_d) for d, n_d in sorted(alloc.items())])
        rate = _local_rate(model, field, home)
        z = (rate - rate.mean()) / (rate.std() + 1e-9)
        cams = _camera_near(model, field, city.cell_e[home], city.cell_n[home], 300.0)
        m = SURVEY_MODEL
        latent = (
            m["intercept"]
            + m["local_rate_coef"] * z
            + m["camera_within_300m_coef"] * cams
            + rng.normal(0, m["noise_sd"], n)
        )


        frame = pd.DataFrame(
            {
                "resp_id": np.arange(1, n + 1, dtype=float),
                "fala": code,
                "dzielnica": district.astype(float),
                "waga": weight,
                "plec": rng.choice([1.0, 2.0, 9.0], n, p=[0.47, 0.51, 0.02]),
                "wiek_kat": rng.choice(
                    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], n, p=[0.1, 0.18, 0.19, 0.23, 0.2, 0.1]
                ),
                "q1_bezp_dzien": _likert(latent + m["day_shift"], rng, m["dont_know_share"]),
                "q2_bezp_noc": _likert(latent + m["night_shift"], rng, m["dont_know_share"]),
                "q3_bezp_okolica": _likert(latent, rng, m["dont_know_share"]),
                "q4_bezp_centrum": _likert(3.4 + rng.normal(0, m["noise_sd"], n), rng, m["dont_know_share"]),
                "q5_zaufanie_sm": _likert(3.3 + rng.normal(0, 1.0, n), rng, m["dont_know_share"]),
                "q6_zaufanie_policja": _likert(3.5 + rng.normal(0, 1.0, n), rng, m["dont_know_share"]),
                "q7_kamery_wiedza": np.where(
                    cams,
                    rng.choice([1.0, 2.0, 9.0], n, p=[0.6, 0.3, 0.1]),
                    rng.choice([1.0, 2.0, 9.0], n, p=[0.15, 0.7, 0.15]),
                ),
            }
        )
        _marked_places(model, frame, home, field, rng)
        stamp = dt.datetime(field.year, field.month, 28, 12, 0)
        if i % 3 == 2:  # the research company sends some waves as CSV
            writers.write_bytes(
                out / "survey" / f"ankieta_{field.year}_{season}.csv",
                writers.csv_bytes(frame, sep=",", encoding="utf-8"),
            )
        else:
            labels = {
                c: LIKERT for c in ("q1_bezp_dzien", "q2_bezp_noc", "q3_bezp_okolica", "q4_bezp_centrum")
            }
            labels |= {
                "q5_zaufanie_sm": TRUST,
                "q6_zaufanie_policja": TRUST,
                "q7_kamery_wiedza": {1.0: "tak", 2.0: "nie", 9.0: "nie wiem"},
                "plec": {1.0: "mężczyzna", 2.0: "kobieta", 9.0: "odmowa"},
                "wiek_kat": {
                    1.0: "18-24",
                    2.0: "25-34",
                    3.0: "35-44",
                    4.0: "45-59",
                    5.0: "60-74",
                    6.0: "75+",
                },
                "dzielnica": {
                    float(d): f"{city.district_numerals[d]} {city.district_names[d]}"
                    for d in city.district_names
                },
            }
            labels |= {f"m{k}_powod": REASONS for k in (1, 2, 3)}
            col_labels = SURVEY_LABELS | {
                f"m{k}_{v}": f"Miejsce niebezpieczne {k}: {t}"
                for k in (1, 2, 3)
                for v, t in (("lat", "szerokość"), ("lon", "długość"), ("powod", "powód"))
            }
            writers.sav(
                out / "survey" / f"ankieta_{field.year}_{season}.sav",
                frame,
                column_labels={c: col_labels[c] for c in frame.columns},
                value_labels=labels,
                stamp=stamp,
            )
        total += n
        progress(1)
    return total


def _local_rate(model: Model, day: dt.date, home: np.ndarray) -> np.ndarray:
    city = model.city
    w = sum(model.class_weights(c, day.year) * MONTHLY[c] for c in CLASSES)
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([city.cell_e, city.cell_n]))
    near = tree.query_ball_point(
        np.column_stack([city.cell_e[home], city.cell_n[home]]), SURVEY_MODEL["local_radius_m"]
    )
    return np.array([w[idx].sum() for idx in near])


def _camera_near(model: Model, day: dt.date, e: np.ndarray, n: np.ndarray, radius: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    pts = [(p.e, p.n) for c in model.cameras if c.deters and (p := c.position_at(day)) is not None]
    if not pts:
        return np.zeros(len(e), dtype=bool)
    dist, _ = cKDTree(pts).query(np.column_stack([e, n]), distance_upper_bound=radius)
    return np.isfinite(dist)


def _marked_places(
    model: Model, frame: pd.DataFrame, home: np.ndarray, day: dt.date, rng: np.random.Generator
) -> None:
    """Up to three places per respondent, drawn where offences concentrate near home and downtown."""
    city = model.city
    w_all = np.vstack([model.class_weights(c, day.year) * MONTHLY[c] for c in CLASSES])
    total = w_all.sum(axis=0)
    dominant = np.argmax(w_all, axis=0)
    reason_of = np.array([3.0, 2.0, 1.0, 2.0, 6.0, 7.0])  # by CLASSES order
    n = len(frame)
    lat = np.full((n, 3), np.nan)
    lon = np.full((n, 3), np.nan)
    reason = np.full((n, 3), np.nan)
    marks = rng.choice([0, 1, 2, 3], n, p=[0.35, 0.3, 0.2, 0.15])
    attraction = total**2
    for i in np.flatnonzero(marks):
        d = np.hypot(city.cell_e - city.cell_e[home[i]], city.cell_n - city.cell_n[home[i]])
        p = attraction * (np.exp(-d / 1500) + 0.05)
        cells = rng.choice(city.n_cells, size=marks[i], replace=False, p=p / p.sum())
        e = city.cell_e[cells] + rng.uniform(-100, 100, len(cells))
        nn = city.cell_n[cells] + rng.uniform(-100, 100, len(cells))
        lo, la = to_wgs84(e, nn)
        k = len(cells)
        lat[i, :k], lon[i, :k] = np.round(la, 6), np.round(lo, 6)
        r = reason_of[dominant[cells]]
        u = rng.random(k)
        reason[i, :k] = np.where(u < 0.12, 4.0, np.where(u < 0.17, 5.0, r))
    for k in range(3):
        frame[f"m{k + 1}_lat"] = lat[:, k]
        frame[f"m{k + 1}_lon"] = lon[:, k]
        frame[f"m{k + 1}_powod"] = reason[:, k]


# ---------------------------------------------------------------- SOS alerts and ANPR counts

# Łódź (DOMAIN.md): 1,181 alerts, 1,128 unconfirmed, 52 confirmed, 9 of them health or life.
LODZ = {"alerts": 1181, "unconfirmed": 1128, "confirmed": 52, "health_life": 9}
SOS_POINTS = [  # (id, place kind, alerts per day, unconfirmed share)
    ("SOS-01", "busy_street", 2.2, 0.975),
    ("SOS-02", "park", 0.25, 0.87),
    ("SOS-03", "playground", 0.2, 0.87),
]
SOS_START = dt.date(2026, 1, 15)


def write_sos(model: Model, out: Path, start: dt.date, end: dt.date, seed: int) -> tuple[int, list[dict]]:
    """Alert events of the pilot points, one JSON Lines file per hour with events."""
    wbizk = [c for c in model.cameras if c.deters]
    placed = []
    for pid, kind, per_day, unconfirmed in SOS_POINTS:
        want = "commercial" if kind == "busy_street" else "residential"
        host = next(
            (
                c
                for c in wbizk
                if c.positions[-1].area_type == want and c.removed is None and c.installed < SOS_START
            ),
            wbizk[0],
        )
        placed.append((pid, kind, per_day, unconfirmed, host))
    first = max(start, SOS_START)
    if first > end:
        return 0, []
    events: dict[str, list[dict]] = {}
    rng = rng_for(seed, "sos", "all")
    days = (end - first).days + 1
    total = 0
    for pid, kind, per_day, unconfirmed, host in placed:
        n = rng.poisson(per_day * days)
        stamps = np.sort(rng.integers(0, days * 86_400, n))
        p_health = LODZ["health_life"] / LODZ["alerts"] * (0.5 if kind == "busy_street" else 2.0)
        cls = rng.choice(
            ["unconfirmed", "confirmed_other", "confirmed_health_life"],
            n,
            p=[unconfirmed, 1 - unconfirmed - p_health, p_health],
        )
        local = pd.DatetimeIndex(np.datetime64(first.isoformat(), "s") + stamps.astype("timedelta64[s]"))
        aware = local.tz_localize(
            "Europe/Warsaw", ambiguous=np.ones(n, dtype=bool), nonexistent="shift_forward"
        )
        for i in range(n):
            key = f"{local[i]:%Y-%m-%dT%H}"
            events.setdefault(key, []).append(
                {
                    "event_id": f"{pid}-{local[i]:%Y%m%d%H%M%S}-{i:05d}",
                    "point_id": pid,
                    "pressed_at": aware[i].isoformat(),
                    "call_duration_s": int(
                        rng.integers(0, 40) if cls[i] == "unconfirmed" else rng.integers(30, 400)
                    ),
                    "classification": str(cls[i]),
                    "camera_point": host.point_id,
                    "operator_note": (
                        "brak kontaktu, przypadkowe naciśnięcie"
                        if cls[i] == "unconfirmed"
                        else f"rozmowa ze zgłaszającym; {personal_note(rng)}"
                        if rng.random() < 0.2
                        else "wysłano patrol"
                    ),
                }
            )
        total += n
    for key in sorted(events):
        writers.jsonl(
            out / "sos_alerts" / f"sos_{key}.jsonl", sorted(events[key], key=lambda r: r["pressed_at"])
        )
    return total, [
        {"point_id": p, "kind": k, "alerts_per_day": r, "unconfirmed_share": u, "camera_point": h.point_id}
        for p, k, r, u, h in placed
    ]


ANPR_PROFILE = np.array(
    [
        0.1,
        0.06,
        0.05,
        0.05,
        0.1,
        0.3,
        0.7,
        1.0,
        0.95,
        0.75,
        0.65,
        0.65,
        0.7,
        0.7,
        0.75,
        0.85,
        0.95,
        1.0,
        0.85,
        0.6,
        0.45,
        0.35,
        0.25,
        0.15,
    ]
)


def write_anpr(model: Model, out: Path, start: dt.date, end: dt.date, seed: int, progress: Progress) -> int:
    anpr = [c for c in model.cameras if c.point_id.startswith("ZDMK-ANPR")]
    base = {c.point_id: 400 + 900 * np.random.default_rng([seed, k]).random() for k, c in enumerate(anpr)}
    rows_total = 0
    day = start
    while day <= end:
        rng = rng_for(seed, "anpr", day.isoformat())
        rows = []
        up = [cam for cam in anpr if cam.position_at(day) is not None]
        if up:
            # the hours of the local day: 23 in spring, 25 in autumn (Europe/Warsaw)
            first = pd.Timestamp(day.isoformat()).tz_localize("Europe/Warsaw")
            last = pd.Timestamp((day + dt.timedelta(days=1)).isoformat()).tz_localize("Europe/Warsaw")
            hours = pd.date_range(first, last, freq="h", inclusive="left")
            stamps = [h.isoformat() for h in hours]
            profile = ANPR_PROFILE[hours.hour] * (0.7 if day.weekday() >= 5 else 1.0)
        for cam in up:
            unique = rng.poisson(base[cam.point_id] * profile)
            reads = unique + rng.binomial(unique, 0.15)
            rows += [(cam.point_id, h, int(r), int(u)) for h, r, u in zip(stamps, reads, unique, strict=True)]
        if rows:
            frame = pd.DataFrame(
                rows, columns=["kamera_id", "godzina_od", "liczba_odczytow", "liczba_unikalnych"]
            )
            writers.write_bytes(
                out / "anpr_counts" / f"anpr_{day.isoformat()}.csv",
                writers.csv_bytes(frame, sep=";", encoding="utf-8"),
            )
            rows_total += len(rows)
        day += dt.timedelta(days=1)
        if day.day == 1:
            progress(1)
    return rows_total


def write_all(model: Model, out: Path, start: dt.date, end: dt.date, factor: float, seed: int,
              progress: Progress) -> tuple[dict[str, int], list[dict]]:
    """Every source's deliveries for the period into ``out/<source>/``: the one list of
    writers (a new source adds its writer here); returns the counts written and the SOS
    points (for truth.json)."""
    counts = write_incident_sources(model, out, start, end, factor, seed, progress)
    counts["camera_snapshot_files"] = write_camera_snapshots(model.cameras, out, start, end)
    counts["interventions"] = write_interventions(model, out, start, end, seed, progress)
    counts["survey_respondents"] = write_survey(model, out, start, end, seed, progress)
    counts["sos_alerts"], sos_points = write_sos(model, out, start, end, seed)
    counts["anpr_count_rows"] = write_anpr(model, out, start, end, seed, progress)
    return counts, sos_points
