"""Which K cameras to move where: a maximal covering location problem, solved exactly.

Inputs (SQL models): int_relocation_demand (50 m squares, weighted preventable offences a
year), int_relocation_sites (candidate squares and the cameras in service, with what each
covers within 150 m, the cameras' remaining effect and the fibre/power flag) and
mart_effect_decay (the city-wide decay, for cameras whose position predates the data).

Integer programme (HiGHS through scipy.optimize.milp):

    maximise   Σ_i v_i·y_i + Σ_(i,j) v_i·r_j·z_ij − λ·Σ_s x_s·(1 − infra_s)
    subject to y_i ≤ Σ_(s covers i) x_s            fresh coverage needs a chosen new site
               z_ij ≤ 1 − m_j                       a camera that moves covers nothing here
               y_i + Σ_j z_ij ≤ 1                   a square counts once
               Σ_s x_s = K,  Σ_j m_j = K            K cameras move to K new sites
               x, m binary; y, z in [0, 1]

v_i is the square's weighted preventable offences a year, r_j the share of its effect
camera j still has (a move restores it: the city's reasoning in DOMAIN.md), λ the
infrastructure penalty (var relocation_infrastructure_penalty). With y and z continuous
and x, m binary the optimum is integral in y and z as well. The solution is exact up to
HiGHS's relative MIP gap (reported).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

FALLBACK_HALF_LIFE_MONTHS = 24.0
COLUMNS = {
    "move_rank": "int64", "camera_point_id": "string", "from_easting_m": "float64", "from_northing_m": "float64",
    "remaining_effect_share": "float64", "remaining_effect_basis": "string", "value_given_up": "float64",
    "to_site_id": "string", "to_easting_m": "float64", "to_northing_m": "float64", "to_area_type": "string",
    "to_is_near_children_places": "bool", "to_is_near_transit_node": "bool", "to_has_infrastructure": "bool",
    "value_gained": "float64", "offences_prevented_per_year": "float64", "squares_newly_covered": "int64",
    "net_gain": "float64", "plan_objective": "float64", "baseline_objective": "float64",
    "solver_status": "string", "solver_mip_gap": "float64", "city_half_life_months": "float64",
    "city_half_life_basis": "string", "is_half_life_assumed": "bool",
    "moves_requested": "int64", "candidate_sites": "int64",
}


def _city_half_life(decay: pd.DataFrame) -> tuple[float, str]:
    """Half-life of the effect, from the pooled year-by-year effect of all positions."""
    rows = decay[decay["local_control_before"] > 0].copy()
    rows["expected"] = rows["coverage_before"] * rows["local_control_after"] / rows["local_control_before"]
    pooled = rows.groupby("years_since_position")[["coverage_after", "expected"]].sum()
    effect = 1 - pooled["coverage_after"] / pooled["expected"]
    if 1 not in effect.index or effect.loc[1] <= 0:
        return FALLBACK_HALF_LIFE_MONTHS, "fallback (no first-year effect in the pooled data)"
    later = effect[(effect.index > 1) & (effect > 0)]
    if later.empty:
        return FALLBACK_HALF_LIFE_MONTHS, "fallback (one year of pooled data)"
    t = (later.index.to_numpy(dtype=float) - 1) * 12.0
    y = np.log(later.to_numpy() / effect.loc[1])
    slope = float((t * y).sum() / (t * t).sum())
    if slope >= 0:
        return 120.0, "no decay seen in the pooled data (capped at 120 months)"
    return float(min(120.0, max(6.0, -math.log(2) / slope))), "pooled fit"


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds a Python model's refs only in plain `dbt.ref(...)` calls, not in chained ones
    incidents = dbt.ref("fct_incident")
    return plan(
        demand=dbt.ref("int_relocation_demand").df(),
        sites=dbt.ref("int_relocation_sites").df(),
        decay=dbt.ref("mart_effect_decay").df(),
        horizon=incidents.aggregate("max(occurred_date) as d").fetchone()[0],
        k=int(dbt.config.get("relocation_moves")),
        penalty=float(dbt.config.get("relocation_infrastructure_penalty")),
    )


def camera_remaining(cams: pd.DataFrame, decay: pd.DataFrame, horizon) -> tuple[list[float], list[str], float, str]:
    """Each camera's remaining share of its effect: measured, else from its age; and the
    city-wide half-life with how it was found (a cap or a fallback is an assumption, not
    a measurement, and the plan says so)."""
    half_life, half_life_basis = _city_half_life(decay)
    shares, bases = [], []
    for row in cams.itertuples():
        if row.remaining_effect_share is not None and not pd.isna(row.remaining_effect_share):
            shares.append(float(row.remaining_effect_share))
            bases.append("measured (mart_effect_decay)")
        else:
            months = (pd.Timestamp(horizon) - pd.Timestamp(row.valid_from)).days / 30.4375
            shares.append(2.0 ** (-months / half_life))
            bases.append(f"from its age ({months:.0f} months) and the city-wide half-life "
                         f"({half_life:.0f} months, {half_life_basis})")
    return shares, bases, half_life, half_life_basis


def plan(demand: pd.DataFrame, sites: pd.DataFrame, decay: pd.DataFrame, horizon, k: int,
         penalty: float) -> pd.DataFrame:
    """Solve the programme in the module docstring; one row per move."""
    value = dict(zip(demand["demand_id"], demand["weighted_value"].astype(float), strict=True))
    plain = dict(zip(demand["demand_id"], demand["preventable_per_year"].astype(float), strict=True))

    # sorted: the solver's choice among tied sites then depends on the sites, not on the order
    # a query returned them in (the plan was different from one build to the next)
    cands = sites[sites["site_kind"] == "candidate"].sort_values("site_id").reset_index(drop=True)
    cams = sites[sites["site_kind"] == "camera"].sort_values("site_id").reset_index(drop=True)
    shares, bases, half_life, half_life_basis = camera_remaining(cams, decay, horizon)
    cams["r"] = shares
    cams["r_basis"] = bases
    k = min(k, len(cams), len(cands))
    if k == 0:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})

    fresh_ids = sorted({d for ids in cands["covered_demand_ids"] for d in ids})
    y_index = {d: n for n, d in enumerate(fresh_ids)}
    pairs = [(d, j) for j, ids in enumerate(cams["covered_demand_ids"]) for d in ids]
    n_x, n_m, n_y, n_z = len(cands), len(cams), len(y_index), len(pairs)
    ox, om, oy, oz = 0, n_x, n_x + n_m, n_x + n_m + n_y
    n = oz + n_z

    c = np.zeros(n)
    c[ox:om] = penalty * (~cands["has_infrastructure"].astype(bool)).to_numpy()
    c[oy:oz] = [-value[d] for d in fresh_ids]
    c[oz:] = [-value[d] * cams.at[j, "r"] for d, j in pairs]

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    cover_rows: dict[str, int] = {}
    for d in fresh_ids:  # y_i - Σ x_s ≤ 0
        rows.append(r), cols.append(oy + y_index[d]), vals.append(1.0)
        cover_rows[d] = r
        lo.append(-np.inf), hi.append(0.0)
        r += 1
    for s, ids in enumerate(cands["covered_demand_ids"]):
        for d in ids:
            rows.append(cover_rows[d]), cols.append(ox + s), vals.append(-1.0)
    for p, (_, j) in enumerate(pairs):  # z_ij + m_j ≤ 1
        rows += [r, r]
        cols += [oz + p, om + j]
        vals += [1.0, 1.0]
        lo.append(-np.inf), hi.append(1.0)
        r += 1
    once: dict[str, int] = {}
    for d in sorted(set(fresh_ids) | {d for d, _ in pairs}):  # y_i + Σ z_ij ≤ 1
        once[d] = r
        if d in y_index:
            rows.append(r), cols.append(oy + y_index[d]), vals.append(1.0)
        lo.append(-np.inf), hi.append(1.0)
        r += 1
    for p, (d, _) in enumerate(pairs):
        rows.append(once[d]), cols.append(oz + p), vals.append(1.0)
    for start, count in ((ox, n_x), (om, n_m)):  # Σ x = K, Σ m = K
        rows += [r] * count
        cols += list(range(start, start + count))
        vals += [1.0] * count
        lo.append(k), hi.append(k)
        r += 1

    a = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr()
    integrality = np.zeros(n)
    integrality[ox:oy] = 1
    res = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=integrality, bounds=Bounds(0, 1),
               options={"mip_rel_gap": 1e-6, "time_limit": 120})
    if res.x is None:
        raise RuntimeError(f"relocation ILP found no solution: {res.message}")
    x = res.x

    # what each camera covers today (each square credited to its strongest camera)
    best: dict[str, tuple[float, int]] = {}
    for d, j in pairs:
        if cams.at[j, "r"] > best.get(d, (-1.0, -1))[0]:
            best[d] = (cams.at[j, "r"], j)
    baseline = sum(value[d] * rj for d, (rj, _) in best.items())
    objective = -float(res.fun)

    moved = [j for j in range(n_m) if x[om + j] > 0.5]
    chosen = [s for s in range(n_x) if x[ox + s] > 0.5]
    # the value each moved camera gave up, and each new site's own gain over today
    kept_best: dict[str, float] = {}
    for d, j in pairs:
        if j not in moved:
            kept_best[d] = max(kept_best.get(d, 0.0), cams.at[j, "r"])
    lost = {j: sum(value[d] * (cams.at[j, "r"] - kept_best.get(d, 0.0))
                   for d in cams.at[j, "covered_demand_ids"] if best.get(d, (0, -1))[1] == j) for j in moved}
    credited: set[str] = set()
    gains = {}
    for s in sorted(chosen, key=lambda s: -sum(value[d] for d in cands.at[s, "covered_demand_ids"])):
        own = [d for d in cands.at[s, "covered_demand_ids"] if d not in credited]
        credited.update(own)
        gains[s] = (sum(value[d] * (1 - kept_best.get(d, 0.0)) for d in own),
                    sum(plain[d] * (1 - kept_best.get(d, 0.0)) for d in own), len(own))
    by_demand = demand.set_index("demand_id")
    out = []
    for rank, (j, s) in enumerate(zip(sorted(moved, key=lambda j: lost[j]),
                                      sorted(chosen, key=lambda s: -gains[s][0]), strict=True), start=1):
        site = cands.loc[s]
        info = by_demand.loc[site["site_id"]]
        out.append({
            "move_rank": rank,
            "camera_point_id": cams.at[j, "site_id"],
            "from_easting_m": float(cams.at[j, "easting_m"]),
            "from_northing_m": float(cams.at[j, "northing_m"]),
            "remaining_effect_share": float(cams.at[j, "r"]),
            "remaining_effect_basis": cams.at[j, "r_basis"],
            "value_given_up": float(lost[j]),
            "to_site_id": site["site_id"],
            "to_easting_m": float(site["easting_m"]),
            "to_northing_m": float(site["northing_m"]),
            "to_area_type": info["area_type"],
            "to_is_near_children_places": bool(info["is_near_children_places"]),
            "to_is_near_transit_node": bool(info["is_near_transit_node"]),
            "to_has_infrastructure": bool(site["has_infrastructure"]),
            "value_gained": float(gains[s][0]),
            "offences_prevented_per_year": float(gains[s][1]),
            "squares_newly_covered": int(gains[s][2]),
            "net_gain": float(gains[s][0] - lost[j]),
            "plan_objective": objective,
            "baseline_objective": float(baseline),
            "solver_status": "optimal" if res.status == 0 else str(res.message),
            "solver_mip_gap": float(getattr(res, "mip_gap", 0.0) or 0.0),
            "city_half_life_months": half_life,
            "city_half_life_basis": half_life_basis,
            "is_half_life_assumed": half_life_basis != "pooled fit",
            "moves_requested": k,
            "candidate_sites": n_x,
        })
    return pd.DataFrame(out, columns=list(COLUMNS)).astype(COLUMNS)
