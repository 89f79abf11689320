"""The planted truth: where offences happen, what cameras do to them, and how that fades.

Offences are a Poisson process on the 250 m grid, one intensity surface per analytic
class (instrumental/property, affective/violence, alcohol and drugs, public order,
traffic, other), built from residential density, centrality, commercial streets,
transit stops and hotspots that move from year to year. Cameras act by *thinning*:
an offence drawn inside a working camera's 150 m coverage is kept with probability

    RR_k(t) = 1 - d_k(area) * 2 ** (-(t - t_position) / half_life)

where ``d_k(area)`` is the deterrence of class ``k`` in the camera's kind of place
(transit, commercial, residential) and ``t_position`` the installation date or the
last move (a move restores the effect). A share ``phi`` of the deterred offences of
displacing classes reappears in the ring 150–400 m around the camera. Everything a
mart should recover is written to ``truth.json``; docs/simulator.md explains it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from simulator.geography import CELL_M, City, Poi

CLASSES = ("property", "violence", "alcohol_drugs", "public_order", "traffic", "other")
AREA_TYPES = ("transit", "commercial", "residential")
COVERAGE_M = 150.0
RING_OUTER_M = 400.0

# Relative reduction of the expected count inside coverage at installation, by class and
# kind of place (DOMAIN.md: deterrence works for planned, instrumental offences in
# commercial and transit areas; hardly for affective, alcohol-driven or traffic acts;
# in residential areas the camera is mostly evidential).
DETERRENCE = {
    "property": {"transit": 0.45, "commercial": 0.40, "residential": 0.15},
    "violence": {"transit": 0.05, "commercial": 0.05, "residential": 0.02},
    "alcohol_drugs": {"transit": 0.05, "commercial": 0.05, "residential": 0.02},
    "public_order": {"transit": 0.20, "commercial": 0.20, "residential": 0.05},
    "traffic": {"transit": 0.0, "commercial": 0.0, "residential": 0.0},
    "other": {"transit": 0.05, "commercial": 0.05, "residential": 0.02},
}
DISPLACING = ("property", "public_order")  # instrumental acts move; affective ones do not
HALF_LIVES_MONTHS = (9.0, 18.0, 36.0, 60.0)
HALF_LIFE_WEIGHTS = (0.2, 0.35, 0.3, 0.15)
FADED_BELOW = 0.35  # remaining share of the initial effect under which a camera counts as faded

# City-scale offences per month by class, all sources together (about 14,900 a month,
# 1.3 million over 2019-01..2026-06), and how each class splits over the sources.
MONTHLY = {
    "property": 4200,
    "violence": 900,
    "alcohol_drugs": 2600,
    "public_order": 3800,
    "traffic": 2900,
    "other": 500,
}
SOURCE_SHARE = {
    "property": {"police": 1.0},
    "violence": {"police": 1.0},
    "alcohol_drugs": {"police": 0.35, "city_guard": 0.4, "mcpu": 0.25},
    "public_order": {"police": 0.4, "city_guard": 0.6},
    "traffic": {"police": 0.55, "city_guard": 0.45},
    "other": {"police": 1.0},
}
# seasonality (Jan..Dec) and the hour-of-day profile per class
SEASON = {
    "property": [0.9, 0.85, 0.95, 1.0, 1.05, 1.05, 1.1, 1.1, 1.05, 1.0, 0.95, 1.0],
    "violence": [0.85, 0.8, 0.9, 1.0, 1.1, 1.15, 1.2, 1.15, 1.05, 0.95, 0.9, 0.95],
    "alcohol_drugs": [0.8, 0.75, 0.9, 1.0, 1.15, 1.25, 1.3, 1.25, 1.05, 0.9, 0.8, 0.85],
    "public_order": [0.8, 0.8, 0.9, 1.0, 1.15, 1.2, 1.25, 1.2, 1.05, 0.95, 0.85, 0.85],
    "traffic": [1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.85, 1.05, 1.05, 1.05, 1.0],
    "other": [1.0] * 12,
}
HOURS = {
    "property": [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4, 3, 2, 1],
    "violence": [6, 6, 5, 4, 2, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 8, 7],
    "alcohol_drugs": [7, 7, 6, 4, 2, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 9, 9, 8],
    "public_order": [6, 6, 4, 3, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 5, 5, 6, 7, 8, 8, 8, 7],
    "traffic": [1, 1, 1, 1, 1, 2, 5, 9, 9, 6, 5, 5, 5, 5, 6, 8, 9, 9, 7, 5, 3, 2, 2, 1],
    "other": [2] * 24,
}


@dataclass
class Position:
    since: dt.date
    e: float
    n: float
    area_type: str
    district: int


@dataclass
class Camera:
    """A camera point of either operator, with its planted effect."""

    point_id: str
    operator: str  # wbizk | zdmk
    name: str
    kind: str  # city_monitoring | multisensor | anpr | utcs
    cameras: int
    installed: dt.date
    positions: list[Position]
    removed: dt.date | None = None
    cost_pln: float | None = None
    fibre: bool = True
    power: bool = True
    half_life_months: float = 18.0
    displacement_share: float = 0.0
    strength: float = 1.0  # per-camera multiplier of the deterrence table

    @property
    def deters(self) -> bool:
        return self.operator == "wbizk" and self.kind in {"city_monitoring", "multisensor"}

    def position_at(self, day: dt.date) -> Position | None:
        if day < self.installed or (self.removed and day >= self.removed):
            return None
        current = None
        for p in self.positions:
            if p.since <= day:
                current = p
        return current

    def deterrence(self, cls: str, area_type: str) -> float:
        return min(0.9, DETERRENCE[cls][area_type] * self.strength) if self.deters else 0.0

    def remaining(self, day: dt.date) -> float:
        """Share of the initial effect left on ``day`` (1 at installation or a move)."""
        pos = self.position_at(day)
        if pos is None:
            return 0.0
        months = (day - pos.since).days / 30.4375
        return 2.0 ** (-months / self.half_life_months)


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], start.replace(day=1)
    while d <= end:
        out.append(d)
        d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def next_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@dataclass
class Hotspot:
    year: int
    e: float
    n: float
    sigma_m: float
    weight: float  # share of the class's yearly offences the hotspot draws to itself
    classes: tuple[str, ...]


@dataclass
class Model:
    city: City
    cameras: list[Camera]
    hotspots: list[Hotspot]
    weights: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)

    def class_weights(self, cls: str, year: int) -> np.ndarray:
        """Normalised intensity surface of one class in one year (cached)."""
        key = (cls, year)
        if key not in self.weights:
            c = self.city
            stops = c.stops_per_cell / max(1.0, c.stops_per_cell.mean())
            mix = {
                "property": (0.6, 2.5, 3.0, 0.8),
                "violence": (0.8, 2.0, 1.0, 0.4),
                "alcohol_drugs": (0.5, 3.0, 1.5, 0.6),
                "public_order": (1.0, 2.0, 1.0, 0.5),
                "traffic": (0.6, 1.0, 0.5, 1.5),
                "other": (1.0, 1.0, 0.5, 0.3),
            }[cls]
            base = mix[0] * c.residential() + mix[1] * c.centrality() + mix[2] * c.commercial + mix[3] * stops
            w = base.copy()
            for h in self.hotspots:
                if h.year == year and cls in h.classes:
                    d2 = (c.cell_e - h.e) ** 2 + (c.cell_n - h.n) ** 2
                    bump = np.exp(-d2 / (2 * h.sigma_m**2))
                    # a Gaussian bump holding `weight` of the class's intensity: 2 % of a class's
                    # offences in a few cells is several times the local background
                    w = w + h.weight * base.sum() * bump / bump.sum()
            self.weights[key] = w / w.sum()
        return self.weights[key]


def area_type_at(city: City, e: float, n: float) -> str:
    nodes = city.pois_of("transfer_node", "loop")
    if any(math.hypot(p.e - e, p.n - n) < 250 for p in nodes):
        return "transit"
    d = np.hypot(city.cell_e - e, city.cell_n - n)
    near = d < 300
    if (near.any() and city.commercial[near].max() >= 0.34) or math.hypot(e - 566_960, n - 244_220) < 1500:
        return "commercial"
    return "residential"


def nearest_district(city: City, e: float, n: float) -> int:
    return int(city.cell_district[np.argmin(np.hypot(city.cell_e - e, city.cell_n - n))])


def build_hotspots(city: City, rng: np.random.Generator, years: list[int]) -> list[Hotspot]:
    """Six hotspots a year; each year two of them jump to a new place (hotspots move)."""
    score = city.commercial + city.centrality() + city.stops_per_cell / max(1, city.stops_per_cell.max())
    p = score / score.sum()
    current = [int(rng.choice(city.n_cells, p=p)) for _ in range(6)]
    out = []
    for year in years:
        for k in rng.choice(6, size=2, replace=False):
            current[k] = int(rng.choice(city.n_cells, p=p))
        for k, cell in enumerate(current):
            classes = (
                ("property", "public_order") if k % 2 == 0 else ("violence", "alcohol_drugs", "property")
            )
            out.append(
                Hotspot(year, float(city.cell_e[cell]), float(city.cell_n[cell]), 300.0, 0.02, classes)
            )
    return out


class Thinner:
    """Applies the cameras' planted effect to one month of offences (vectorised)."""

    def __init__(self, model: Model, month: dt.date) -> None:
        mid = month + dt.timedelta(days=14)
        self.active: list[tuple[Camera, Position]] = []
        for cam in model.cameras:
            pos = cam.position_at(mid)
            if pos is not None and cam.deters:
                self.active.append((cam, pos))
        self.mid = mid
        self.tree = cKDTree([(p.e, p.n) for _, p in self.active]) if self.active else None

    def apply(
        self, cls: str, e: np.ndarray, n: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.tree is None or len(e) == 0:
            return e, n
        dist, idx = self.tree.query(np.column_stack([e, n]), k=1, distance_upper_bound=COVERAGE_M)
        covered = np.isfinite(dist)
        if not covered.any():
            return e, n
        rr = np.ones(len(e))
        phi = np.zeros(len(e))
        for j in np.unique(idx[covered]):
            cam, pos = self.active[j]
            sel = covered & (idx == j)
            rr[sel] = 1.0 - cam.deterrence(cls, pos.area_type) * cam.remaining(self.mid)
            phi[sel] = cam.displacement_share if cls in DISPLACING else 0.0
        kept = rng.random(len(e)) < rr
        deterred = ~kept
        moved = deterred & (rng.random(len(e)) < phi)
        # displaced offences reappear uniformly (by area) in the ring 150–400 m
        centres = np.array([(self.active[j][1].e, self.active[j][1].n) for j in idx[moved]]).reshape(-1, 2)
        r = np.sqrt(rng.uniform(COVERAGE_M**2, RING_OUTER_M**2, moved.sum()))
        a = rng.uniform(0, 2 * np.pi, moved.sum())
        e2 = np.concatenate([e[kept], centres[:, 0] + r * np.cos(a)])
        n2 = np.concatenate([n[kept], centres[:, 1] + r * np.sin(a)])
        return e2, n2


def draw_offences(
    model: Model, cls: str, month: dt.date, expected: float, rng: np.random.Generator, thinner: Thinner
) -> tuple[np.ndarray, np.ndarray]:
    """Points (EPSG:2180) of one class in one month, after the cameras' effect."""
    w = model.class_weights(cls, month.year)
    total = rng.poisson(expected)
    cells = rng.choice(len(w), size=total, p=w)
    e = model.city.cell_e[cells] + rng.uniform(-CELL_M / 2 + 1, CELL_M / 2 - 1, total)
    n = model.city.cell_n[cells] + rng.uniform(-CELL_M / 2 + 1, CELL_M / 2 - 1, total)
    return thinner.apply(cls, e, n, rng)


def camera_truth(cam: Camera, end: dt.date) -> dict[str, object]:
    pos_end = cam.position_at(min(end, (cam.removed or end) - dt.timedelta(days=1)))
    last = pos_end or cam.positions[-1]
    remaining = cam.remaining(min(end, (cam.removed or end) - dt.timedelta(days=1)))
    return {
        "point_id": cam.point_id,
        "name": cam.name,
        "operator": cam.operator,
        "kind": cam.kind,
        "installed": cam.installed.isoformat(),
        "removed": cam.removed.isoformat() if cam.removed else None,
        "positions": [{**asdict(p), "since": p.since.isoformat()} for p in cam.positions],
        "area_type": last.area_type,
        "deterrence_at_install": {k: round(cam.deterrence(k, last.area_type), 4) for k in CLASSES},
        "half_life_months": cam.half_life_months,
        "displacement_share": cam.displacement_share,
        "displacement_classes": list(DISPLACING) if cam.displacement_share > 0 else [],
        "remaining_effect_at_end": round(remaining, 4),
        "is_faded_at_end": bool(cam.deters and remaining < FADED_BELOW),
    }


def rate_ratio_table() -> dict[str, dict[str, float]]:
    """Planted rate ratios at installation (1 - d) by class and kind of place."""
    return {cls: {a: round(1 - DETERRENCE[cls][a], 4) for a in AREA_TYPES} for cls in CLASSES}


__all__ = ["CLASSES", "Camera", "Model", "Poi", "Position", "Thinner", "draw_offences"]
