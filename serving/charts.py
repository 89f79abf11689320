"""The reports' charts and maps, drawn with matplotlib from the marts' own geometries.

No web tiles and no network: the map of Kraków is the real 18 district boundaries
(``dim_district``, EPSG:2180) with the marts' points, cells and moves drawn on them.
Every figure is returned as PNG bytes written without a timestamp, so the same data
gives the same bytes (a re-run report is identical). Labels are Polish; the font is
matplotlib's DejaVu Sans, which has every Polish letter.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: reports render in workers and tests

import matplotlib.pyplot as plt
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from serving import polish

plt.rcParams.update({
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10, "svg.hashsalt": "ksp",
    "axes.spines.top": False, "axes.spines.right": False,
})
PALETTE = ("#1f5fa6", "#e07b1f", "#2e9d5b", "#c23b3b", "#7b4fa6", "#8c6d31", "#d16ba5", "#6d6d6d", "#17a3b8",
           "#b5bd2e")
CAMERA_COLOURS = {"city_monitoring": "#1f5fa6", "multisensor": "#7b4fa6", "anpr": "#8c6d31"}
CAMERA_KIND_PL = {"city_monitoring": "monitoring miejski", "multisensor": "czujnik wielofunkcyjny",
                  "anpr": "ANPR (odczyt tablic)"}


@dataclass(frozen=True)
class District:
    district_id: int
    name: str
    wkt: str
    centroid: tuple[float, float]


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _polygon_patch(wkt: str, **style: object) -> PathPatch:
    """A district's (multi)polygon, holes included, as one matplotlib patch."""
    from shapely import wkt as shapely_wkt

    geom = shapely_wkt.loads(wkt)
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            coords = list(ring.coords)
            verts += coords
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
    return PathPatch(MplPath(verts, codes), **style)


def _map_axes(districts: Sequence[District], *, size: tuple[float, float] = (7.5, 6.2),
              fill: dict[int, str] | None = None, hatch: set[int] | None = None,
              labels: dict[int, str] | None = None) -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=size)
    for d in districts:
        colour = (fill or {}).get(d.district_id, "#f4f1ea")
        ax.add_patch(_polygon_patch(d.wkt, facecolor=colour, edgecolor="#8a8a8a", linewidth=0.6,
                                    hatch="////" if hatch and d.district_id in hatch else None, zorder=1))
    for d in districts:
        text = (labels or {}).get(d.district_id, d.name)
        ax.annotate(text, d.centroid, ha="center", va="center", fontsize=6.2, color="#333333", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6})
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    return fig, ax


def city_map(districts: Sequence[District], cameras: Sequence[tuple[float, float, str]],
             hotspots: Sequence[tuple[float, float]], moves: Sequence[tuple[float, float, float, float]],
             *, cell_m: float, hotspot_label: str) -> bytes:
    """Kraków: camera points by kind, the year's Gi* hot spots, recommended moves (from → to)."""
    fig, ax = _map_axes(districts, size=(8.0, 6.0))
    half = cell_m / 2
    for e, n in hotspots:
        ax.add_patch(plt.Rectangle((e - half, n - half), cell_m, cell_m, facecolor="#d7301f", alpha=0.55,
                                   edgecolor="none", zorder=2))
    for kind, colour in CAMERA_COLOURS.items():
        pts = [(e, n) for e, n, k in cameras if k == kind]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=7, c=colour, zorder=3,
                       label=f"{CAMERA_KIND_PL[kind]} ({len(pts)})", edgecolors="white", linewidths=0.3)
    for i, (fe, fn, te, tn) in enumerate(moves, start=1):
        ax.annotate("", xy=(te, tn), xytext=(fe, fn), zorder=4,
                    arrowprops={"arrowstyle": "-|>", "color": "#111111", "lw": 1.4, "shrinkA": 3, "shrinkB": 3})
        ax.scatter([fe], [fn], marker="x", s=28, c="#111111", zorder=4, linewidths=1.2)
        ax.scatter([te], [tn], marker="*", s=70, c="#ffd22e", edgecolors="#111111", linewidths=0.6, zorder=4)
        ax.annotate(str(i), (te, tn), xytext=(4, 4), textcoords="offset points", fontsize=7, weight="bold",
                    zorder=6)
    handles, names = ax.get_legend_handles_labels()
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="#d7301f", alpha=0.55))
    names.append(hotspot_label)
    if moves:
        handles.append(plt.Line2D([0], [0], color="#111111", lw=1.3, marker="*", markersize=7,
                                  markerfacecolor="#ffd22e"))
        names.append("proponowane przeniesienie: × skąd → ★ dokąd (numer w planie)")
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=2, fontsize=7, frameon=False)
    return _png(fig)


def interventions_by_month(months: Sequence[date], categories: Sequence[str],
                           counts: dict[tuple[date, str], int]) -> bytes:
    """Stacked bars: City Guard interventions from camera observation per month and category."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    bottom = [0] * len(months)
    x = range(len(months))
    for i, cat in enumerate(categories):
        values = [counts.get((m, cat), 0) for m in months]
        ax.bar(x, values, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=cat, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(list(x)[::3], [polish.short_month(m) for m in months][::3], rotation=0, fontsize=7)
    ax.set_ylabel("interwencje w miesiącu")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: polish.number(v)))
    if categories:
        ax.legend(fontsize=6.5, ncols=3, loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False)
    return _png(fig)


def forest_plot(rows: Sequence[tuple[str, float | None, float | None, float | None]]) -> bytes:
    """Rate ratios with 95 % intervals, one row per kind of place × offence class."""
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.0))
    y = list(range(len(rows)))[::-1]
    for yi, (_label, rr, lo, hi) in zip(y, rows, strict=True):
        if rr is None:
            continue
        resolved = hi is not None and hi < 1
        colour = "#1f5fa6" if resolved else ("#c23b3b" if lo is not None and lo > 1 else "#8a8a8a")
        ax.plot([lo, hi], [yi, yi], color=colour, lw=1.6)
        ax.plot([rr], [yi], "o", color=colour, ms=4)
    ax.axvline(1.0, color="#333333", lw=0.8, ls="--")
    ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("iloraz częstości po / przed (RR, skala log.; < 1 = mniej przestępstw)")
    ticks = [0.25, 0.5, 0.75, 1, 1.5, 2, 3]
    ax.set_xticks(ticks, [polish.number(t, 2).rstrip("0").rstrip(",") for t in ticks])
    ax.minorticks_off()
    return _png(fig)


def choropleth(districts: Sequence[District], values: dict[int, float], labels: dict[int, str],
               suppressed: set[int], *, legend: str, cmap: str = "OrRd") -> bytes:
    """Districts coloured by a value; suppressed districts hatched grey and said so."""
    cm = plt.get_cmap(cmap)
    shown = [v for k, v in values.items() if k not in suppressed]
    lo, hi = (min(shown), max(shown)) if shown else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(lo, hi if hi > lo else lo + 1)
    fill = {k: matplotlib.colors.to_hex(cm(0.1 + 0.85 * norm(v))) for k, v in values.items()}
    for k in suppressed:
        fill[k] = "#d9d9d9"
    fig, ax = _map_axes(districts, fill=fill, hatch=suppressed, labels=labels)
    sm = plt.cm.ScalarMappable(cmap=matplotlib.colors.ListedColormap(cm([0.1 + 0.85 * i / 255 for i in range(256)])),
                               norm=norm)
    bar = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01)
    bar.set_label(legend, fontsize=8)
    bar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: polish.number(v, 1)))
    if suppressed:
        ax.legend([plt.Rectangle((0, 0), 1, 1, facecolor="#d9d9d9", hatch="////", edgecolor="#8a8a8a")],
                  ["dane utajnione (mniej niż 10 odpowiedzi)"], loc="lower left", fontsize=7)
    return _png(fig)


def perception_gap(points: Sequence[tuple[str, float, float]]) -> bytes:
    """Each district: share feeling unsafe at night against recorded offences per 1,000."""
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    ax.scatter([p[2] for p in points], [100 * p[1] for p in points], s=18, color="#1f5fa6")
    for name, share, rate in points:
        ax.annotate(name, (rate, 100 * share), fontsize=6.5, xytext=(3, 2), textcoords="offset points")
    ax.set_xlabel("przestępstwa i wykroczenia zarejestrowane na 1 000 mieszkańców (półrocze)")
    ax.set_ylabel("czuje się niebezpiecznie nocą (%)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: polish.number(v)))
    return _png(fig)
