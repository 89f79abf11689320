"""Score the published marts against the simulator's ``truth.json``.

The simulator plants every effect the marts claim to measure (docs/simulator.md): a
deterrence rate ratio by offence class and kind of place, its decay with a per-camera
half-life, displacement into the 150–400 m ring, and hotspots that move each year.
This module reads the *published* marts (what researchers see) and the truth, and
returns scores; ``tests/integration/test_validity_city.py`` asserts the thresholds and
``ksp validate`` prints them. The pipeline itself never reads the truth.

The planted quantity a 12-month before/after design can recover is not the rate ratio
at installation but its average over the after window, because the effect starts to
fade the day the camera goes up: RR(t) = 1 − d·2^(−t/h). The scorer therefore
compares each pooled estimate with the planted RR averaged over the same positions'
after windows (weighted as the estimator weighs them).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import duckdb

# truth.json's class names → the platform's analytic offence classes (seed offence_taxonomy)
CLASS_OF_TRUTH = {
    "property": "instrumental_property",
    "violence": "affective_violence",
    "alcohol_drugs": "alcohol_drugs",
    "public_order": "public_order",
    "traffic": "traffic",
    "other": "other",
}
DAYS_PER_MONTH = 30.4375


@dataclass
class Scores:
    """What the validity run measured; every figure is printed by :meth:`report`."""

    area_type_agreement: float = 0.0
    pooled: list[dict[str, Any]] = field(default_factory=list)
    enough_data_share: float = 0.0
    per_camera_ci_coverage: float = 0.0
    per_camera_judged: int = 0
    displacement: dict[str, float] = field(default_factory=dict)
    fade: dict[str, float] = field(default_factory=dict)
    hotspot_recall: float = 0.0
    hotspots_planted: int = 0
    # per mart: how often each verdict is given, and the median power figure behind it
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    pooled_displacement: list[dict[str, Any]] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"kind of place (transit/commercial/residential) agrees with the planted one for "
            f"{self.area_type_agreement:.1%} of camera positions",
            "pooled deterrence by kind of place and class (estimate [95 % CI] vs planted over the same windows):",
        ]
        for p in self.pooled:
            verdict = ("too few offences to score" if not p["scored"] else
                       "agrees" if agrees(p) else "DISAGREES")
            lines.append(
                f"  {p['area_type']:<11} {p['offence_class']:<21} RR {p['rate_ratio']:.3f} "
                f"[{p['ci_low']:.3f}, {p['ci_high']:.3f}] planted {p['planted']:.3f} "
                f"(|diff| {abs(p['rate_ratio'] - p['planted']):.3f}, expected {p['expected_after']:.0f}, "
                f"{p['positions']} positions): {verdict}"
            )
        scored = [p for p in self.pooled if p["scored"]]
        lines.append(
            f"  {sum(abs(p['rate_ratio'] - p['planted']) <= 0.1 for p in scored)} of {len(scored)} scored groups "
            f"within 0.1 of the planted RR, {sum(p['ci_low'] <= p['planted'] <= p['ci_high'] for p in scored)} "
            f"with the planted RR inside the 95 % interval, {sum(wrong_sign(p) for p in scored)} resolved "
            "with the wrong sign")
        d, f = self.displacement, self.fade
        lines += [
            f"per camera: {self.enough_data_share:.1%} of (position, class) estimates meet the enough-data rule; "
            f"on instrumental property the planted RR lies inside the 95 % CI for "
            f"{self.per_camera_ci_coverage:.1%} of {self.per_camera_judged} such positions",
            f"displacement (per position, first year, instrumental offences): precision {d['precision']:.2f}, "
            f"recall {d['recall']:.2f}, false-positive rate {d['false_positive_rate']:.3f} "
            f"({d['planted']:.0f} planted, {d['not_planted']:.0f} not; the mart calls "
            f"{d['unjudged']:.0f} unjudgeable (too few, no success, no control); recall counts only the rest); "
            "the planted displacement "
            f"raises the ring's count by {d['planted_ring_increase']:.1%} on average, while the smallest rise a "
            f"95 % test resolves with a year's counts is {d['resolvable_ring_increase']:.1%}; the recall "
            f"these counts allow at the mart's significance level (mean power) is {d['expected_recall']:.2f}",
            f"fade: precision {f['precision']:.2f} ({f['flagged']:.0f} flagged, {f['false_flags']:.0f} of them not "
            f"planted faded, where the counts make {f['expected_false_flags']:.2f} by chance, at most "
            f"{f['false_flag_bound']:.0f} at the 99th percentile), recall {f['recall_judgeable']:.2f} "
            f"({f['found_judgeable']:.0f} of {f['faded_judgeable']:.0f}) among the {f['judgeable']:.0f} current "
            f"positions whose first-year effect the data resolve, where the counts allow {f['expected_recall']:.2f}; "
            f"recall {f['recall_all']:.2f} over all {f['faded_planted']:.0f} faded positions in the mart",
            f"hotspots: {self.hotspot_recall:.1%} of {self.hotspots_planted} planted hotspots found "
            "(a 95 % Gi* hot cell of one of its classes within 1.5 sigma, in its year)",
            "verdicts and their power (per position):",
        ]
        for mart, v in self.verdicts.items():
            counts = ", ".join(f"{k} {n}" for k, n in sorted(v["counts"].items(), key=lambda kv: -kv[1]))
            lines.append(f"  {mart}: {counts}; {v['power']}")
        lines.append("pooled displacement, first year (ring RR [95 % CI] vs planted; WDQ [95 % CI]):")
        for p in self.pooled_displacement:
            wdq = ("—" if p["wdq"] is None else f"{p['wdq']:.2f} [{p['wdq_ci_low']:.2f}, {p['wdq_ci_high']:.2f}]")
            lines.append(
                f"  {p['area_type']:<11} {p['offence_scope']:<12} ring RR {p['ring_rr']:.3f} "
                f"[{p['ring_ci_low']:.3f}, {p['ring_ci_high']:.3f}] planted {p['planted_ring_rr']:.3f} "
                f"({'inside' if p['planted_inside'] else 'OUTSIDE'}); coverage RR {p['coverage_rr']:.3f}; "
                f"WDQ {wdq}; MDE {p['mde_ring_rise_pct']:.1f} % vs total displacement "
                f"{p['full_displacement_rise_pct']:.1f} %; {p['verdict']}; {p['placebo']}")
        return "\n".join(lines)


def agrees(p: dict[str, Any]) -> bool:
    """An estimate agrees with the truth if it is within 0.1 of the planted RR, or, where
    the data cannot resolve 0.1, the planted RR lies inside its 95 % interval."""
    return abs(p["rate_ratio"] - p["planted"]) <= 0.1 or p["ci_low"] <= p["planted"] <= p["ci_high"]


def wrong_sign(p: dict[str, Any]) -> bool:
    """The interval excludes 1 on the other side of 1 from a planted effect of 5 % or more."""
    return (p["planted"] <= 0.95 and p["ci_low"] > 1) or (p["planted"] >= 1 / 0.95 and p["ci_high"] < 1)


def _planted_mean_rr(d: float, half_life: float, after_days: int, since_days: int = 0) -> float:
    """The planted RR averaged over ``after_days`` days, starting ``since_days`` after the
    position was taken (the effect decays from that day)."""
    if after_days <= 0 or d == 0:
        return 1.0
    k = math.log(2) / (half_life * DAYS_PER_MONTH)
    mean_remaining = math.exp(-k * since_days) * (1 - math.exp(-k * after_days)) / (k * after_days)
    return 1.0 - d * mean_remaining


def score(published: Path, truth_path: Path) -> Scores:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    model = truth["offence_model"]
    table = model["deterrence_by_class_and_area"]
    cams = {c["point_id"]: c for c in truth["cameras"]}
    con = duckdb.connect(str(published), read_only=True)
    try:
        return _score(con, truth, table, cams)
    finally:
        con.close()


def _deterrence(cam: dict[str, Any], cls: str, area: str, table: dict[str, dict[str, float]]) -> float:
    """d for a class at a kind of place: the planted table times the camera's strength."""
    if cam["operator"] != "wbizk" or cam["kind"] not in {"city_monitoring", "multisensor"}:
        return 0.0
    last_area = cam["area_type"]
    strength = cam["deterrence_at_install"]["property"] / table["property"][last_area]
    return min(0.9, table[cls][area] * strength)


def _score(con: Any, truth: dict[str, Any], table: dict[str, Any], cams: dict[str, Any]) -> Scores:
    s = Scores()
    truth_cls = {v: k for k, v in CLASS_OF_TRUTH.items()}
    positions = {
        vid: (pid, pno, kind)
        for vid, pid, pno, kind in con.execute(
            "select camera_point_version_id, camera_point_id, position_no, camera_kind from marts.dim_camera_point"
        ).fetchall()
    }
    area = dict(con.execute(
        "select distinct camera_point_version_id, area_type from marts.mart_camera_effect").fetchall())

    def planted_area(vid: str) -> str | None:
        pid, pno, _ = positions[vid]
        cam = cams.get(pid)
        return cam["positions"][pno - 1]["area_type"] if cam and pno <= len(cam["positions"]) else None

    agree = [area[v] == planted_area(v) for v in area if planted_area(v)]
    s.area_type_agreement = sum(agree) / len(agree)

    # pooled deterrence: the estimator's own weights (expected treated count after)
    effects = con.execute(
        """select camera_point_version_id, offence_class, before_days, after_days, treated_before, treated_after,
                  control_before, control_after, rate_ratio_ci_low, rate_ratio_ci_high, has_enough_data,
                  is_local_shift
           from marts.mart_camera_effect"""
    ).fetchall()
    group_w: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    ci_hits = ci_n = enough = 0
    for vid, cls, bdays, adays, tb, _ta, cb, ca, lo, hi, has_enough, shifted in effects:
        enough += bool(has_enough)
        pid, _, kind = positions[vid]
        cam, parea = cams.get(pid), planted_area(vid)
        if cam is None or parea is None or kind not in {"city_monitoring", "multisensor"}:
            continue
        planted = _planted_mean_rr(_deterrence(cam, truth_cls[cls], parea, table), cam["half_life_months"], adays)
        if bdays >= 180 and adays >= 180 and cb > 0 and not shifted:
            w = tb * ca / cb
            acc = group_w[(area[vid], cls)]
            acc[0] += w * planted
            acc[1] += w
        if has_enough and cls == "instrumental_property":
            ci_n += 1
            ci_hits += lo <= planted <= hi
    s.enough_data_share = enough / max(1, len(effects))
    s.per_camera_ci_coverage = ci_hits / max(1, ci_n)
    s.per_camera_judged = ci_n
    for a, cls, n, expected, rr, lo, hi in con.execute(
        """select area_type, offence_class, camera_positions, expected_after, rate_ratio, rate_ratio_ci_low,
                  rate_ratio_ci_high from marts.mart_camera_effect_by_area order by 1, 2"""
    ).fetchall():
        wsum, w = group_w.get((a, cls), (0.0, 0.0))
        if w == 0 or rr is None:
            continue
        s.pooled.append({
            "area_type": a, "offence_class": cls, "positions": n, "expected_after": expected,
            "rate_ratio": rr, "ci_low": lo, "ci_high": hi, "planted": wsum / w,
            # ~150 expected offences give a log-RR standard error near 0.1 (with the control ring):
            # below that a difference of 0.1 is not resolvable
            "scored": expected >= 150,
        })

    s.displacement = _displacement(con, cams)
    s.fade = _fade(con, cams, truth)
    s.hotspot_recall, s.hotspots_planted = _hotspots(con, truth)
    s.verdicts = _verdicts(con)
    s.pooled_displacement = _pooled_displacement(con, cams, truth, positions, planted_area)
    return s


def _median(values: list[float]) -> float:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else float("nan")


def _verdicts(con: Any) -> dict[str, dict[str, Any]]:
    """What each per-position mart concludes, and the median power figure behind it."""
    out: dict[str, dict[str, Any]] = {}
    rows = con.execute(
        """select e.effect_verdict, e.mde_reduction_pct from marts.mart_camera_effect e
           inner join marts.dim_camera_point p using (camera_point_version_id)
           where e.offence_class = 'instrumental_property'
             and p.camera_kind in ('city_monitoring', 'multisensor')""").fetchall()
    out["mart_camera_effect (instrumental property)"] = {
        "counts": _count(r[0] for r in rows),
        "power": f"median MDE at 80 % power: a {_median([r[1] for r in rows]):.0f} % reduction"}
    rows = con.execute(
        """select displacement_verdict, mde_ring_rise_pct, full_displacement_rise_pct
           from marts.mart_displacement where offence_scope = 'instrumental' and period_no = 1""").fetchall()
    out["mart_displacement (instrumental, first year)"] = {
        "counts": _count(r[0] for r in rows),
        "power": f"median MDE a {_median([r[1] for r in rows]):.0f} % rise of the ring, where total "
                 f"displacement would add {_median([r[2] for r in rows]):.0f} % (median)"}
    rows = con.execute(
        """select d.fade_verdict, d.fade_mde_share from marts.mart_effect_decay d
           inner join marts.dim_camera_point p using (camera_point_version_id)
           where p.is_current and d.years_since_position = d.latest_year_since_position""").fetchall()
    out["mart_effect_decay (current positions)"] = {
        "counts": _count(r[0] for r in rows),
        "power": f"median fade MDE {_median([r[1] for r in rows]):.2f} of the first year's effect "
                 "(where a first-year estimate exists)"}
    return out


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for v in values:
        counts[str(v)] += 1
    return dict(counts)


def _pooled_displacement(con: Any, cams: dict[str, Any], truth: dict[str, Any], positions: dict[str, Any],
                         planted_area: Any) -> list[dict[str, Any]]:
    """The pooled ring ratio against the one the plant implies over the same positions.

    Planted: each displacing camera moves a share φ of the offences it deters in its
    coverage into the ring; deterred ≈ (1 − planted mean RR over the first year) × E_A,
    so the ring's planted RR = 1 + Σ φ (1 − RR̄) E_A / Σ E_B, with E = before × C_a / C_b
    as the mart pools. Traffic (the placebo) is planted neither deterred nor displaced.
    """
    model = truth["offence_model"]
    table = model["deterrence_by_class_and_area"]
    volume = model["monthly_offences_city_scale"]
    scope = {"property": volume["property"], "public_order": volume["public_order"]}
    context = dict(con.execute(
        "select camera_point_version_id, area_type from marts.int_camera_position_context").fetchall()) \
        if _has_table(con, "int_camera_position_context") else {}
    area_of = context or dict(con.execute(
        "select distinct camera_point_version_id, area_type from marts.mart_camera_effect").fetchall())
    moved: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for vid, pid, a_b, b_b, c_b, c_a, days in con.execute(
        """select camera_point_version_id, camera_point_id, coverage_before, buffer_before, control_before,
                  control_after, datediff('day', after_start, after_end)
           from marts.mart_displacement where offence_scope = 'instrumental' and period_no = 1
             and control_before > 0""").fetchall():
        _, _, kind = positions[vid]
        if kind not in {"city_monitoring", "multisensor"} or vid not in area_of:
            continue
        cam, parea = cams.get(pid), planted_area(vid)
        acc = moved[area_of[vid]]
        acc[1] += b_b * c_a / c_b
        if cam is None or parea is None:
            continue
        d = sum(w * _deterrence(cam, cls, parea, table) for cls, w in scope.items()) / sum(scope.values())
        deterred = 1 - _planted_mean_rr(d, cam["half_life_months"], days)
        acc[0] += cam["displacement_share"] * deterred * a_b * c_a / c_b
    out = []
    for row in con.execute(
        """select area_type, offence_scope, buffer_rate_ratio, buffer_rate_ratio_ci_low, buffer_rate_ratio_ci_high,
                  coverage_rate_ratio, weighted_displacement_quotient, wdq_ci_low, wdq_ci_high, mde_ring_rise_pct,
                  full_displacement_rise_pct, displacement_verdict, placebo_verdict, camera_positions
           from marts.mart_displacement_by_area
           where offence_scope in ('instrumental', 'traffic') order by 1, 2""").fetchall():
        a, sc, rr, lo, hi = row[:5]
        gained, expected = moved.get(a, (0.0, 0.0))
        planted = 1.0 if sc == "traffic" or not expected else 1 + gained / expected
        out.append({
            "area_type": a, "offence_scope": sc, "ring_rr": rr, "ring_ci_low": lo, "ring_ci_high": hi,
            "coverage_rr": row[5], "wdq": row[6], "wdq_ci_low": row[7], "wdq_ci_high": row[8],
            "mde_ring_rise_pct": row[9], "full_displacement_rise_pct": row[10] or float("nan"),
            "verdict": row[11], "placebo": row[12], "positions": row[13],
            "planted_ring_rr": planted, "planted_inside": lo <= planted <= hi,
        })
    return out


def _has_table(con: Any, name: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?",
        [name]).fetchone()[0])


def _displacement(con: Any, cams: dict[str, Any]) -> dict[str, float]:
    rows = con.execute(
        """select camera_point_id, is_displacement_significant, coverage_before, buffer_before,
                  ln(buffer_rate_ratio_ci_high / buffer_rate_ratio_ci_low) / (2 * 1.959964) as se
           from marts.mart_displacement where offence_scope = 'instrumental' and period_no = 1"""
    ).fetchall()
    tp = fp = fn = tn = unjudged_planted = unjudged_not_planted = 0
    rises, resolvable, power = [], [], []
    for pid, significant, cov_b, buf_b, se in rows:
        cam = cams.get(pid)
        if cam is None:
            continue
        planted = cam["displacement_share"] > 0
        if significant is None:  # the mart says it cannot judge: no miss, but its test still ran
            unjudged_planted += planted
            unjudged_not_planted += not planted
            continue
        tp += planted and significant
        fp += (not planted) and significant
        fn += planted and not significant
        tn += (not planted) and not significant
        if planted and buf_b:
            # displaced = share × offences deterred in coverage; deterred ≈ d × coverage count
            d = cam["deterrence_at_install"]["property"]
            rises.append(cam["displacement_share"] * d * cov_b / buf_b)
            # two-sided 95 % on a log ratio of four Poisson counts of about these sizes
            resolvable.append(math.exp(1.96 * math.sqrt(2 / buf_b + 2 / max(1, 5 * buf_b))) - 1)
            if se:  # the chance that the mart's one-sided 97.5 % rule sees this camera's planted rise
                power.append(NormalDist().cdf(math.log1p(rises[-1]) / se - 1.959964))
    return {
        "precision": tp / max(1, tp + fp),
        "recall": tp / max(1, tp + fn),  # among the positions the mart judged
        # the one-sided 2.5 % rule ran on every position, judged or not: the level holds over all
        "false_positive_rate": fp / max(1, fp + tn + unjudged_not_planted),
        "planted": tp + fn + unjudged_planted,
        "not_planted": fp + tn + unjudged_not_planted,
        "unjudged": unjudged_planted + unjudged_not_planted,
        "planted_ring_increase": sum(rises) / max(1, len(rises)),
        "resolvable_ring_increase": sorted(resolvable)[len(resolvable) // 2] if resolvable else float("nan"),
        # the recall a perfect test at the mart's level could expect from these counts
        "expected_recall": sum(power) / max(1, len(power)),
    }


def poisson_binomial_quantile(probabilities: list[float], q: float) -> int:
    """The q-quantile of a count of independent events with these probabilities (exact)."""
    dist = [1.0]
    for p in probabilities:
        dist = [a * (1 - p) + b * p for a, b in zip([*dist, 0.0], [0.0, *dist], strict=True)]
    total = 0.0
    for k, mass in enumerate(dist):
        total += mass
        if total >= q:
            return k
    return len(dist) - 1


def _fade(con: Any, cams: dict[str, Any], truth: dict[str, Any]) -> dict[str, float]:
    """Precision and recall of the fade flag, and what its counts allow of each.

    Judgeable: current positions with two years of data whose first-year effect the
    data resolve (the mart's own precondition; elsewhere it cannot say). For each, the
    chance that the mart's rule flags it: the latest year's log rate ratio, drawn
    around its planted value (the planted RR averaged over that year) with the mart's
    own standard error, lands above the threshold share of the observed first year and
    far enough above the first year for the change test (its interval above 1; the
    change's log is the latest year's less the first's, so given the first year both
    conditions are a bound on the latest year). Over the planted-faded positions the
    mean of those chances is the recall the counts allow; over the others their sum is
    the false flags the counts make by chance (a position whose effect has weakened to
    near the threshold is flagged by noise as often as a faded one is missed), and the
    99th percentile of that Poisson-binomial count is the bound the test holds to.
    """
    model = truth["offence_model"]
    table, below = model["deterrence_by_class_and_area"], model["faded_if_remaining_below"]
    volume = model["monthly_offences_city_scale"]
    scope = {"property": volume["property"], "public_order": volume["public_order"]}  # `instrumental`
    rows = con.execute(
        """select d.camera_point_id, p.position_no, d.is_faded, d.fade_evidence, d.effect_start_date,
                  d.period_start, d.period_end, d.rate_ratio_ci_low, d.rate_ratio_ci_high, d.first_year_rate_ratio,
                  d.effect_change_ci_low, d.effect_change_ci_high
           from marts.mart_effect_decay d
           inner join marts.dim_camera_point p on p.camera_point_version_id = d.camera_point_version_id
           where p.is_current and d.years_since_position = d.latest_year_since_position"""
    ).fetchall()
    flagged, judgeable, faded_all, power, false_flag_chances = [], [], [], [], []
    for pid, pno, faded, evidence, start, p_start, p_end, lo, hi, first_rr, c_lo, c_hi in rows:
        cam = cams.get(pid)
        if cam is None:
            continue
        planted = cam["is_faded_at_end"]
        if faded:
            flagged.append(planted)
        if planted:
            faded_all.append(bool(faded))
        if faded is None or evidence.startswith("no clear effect"):
            continue
        judgeable.append((planted, bool(faded)))
        if pno <= len(cam["positions"]):
            area = cam["positions"][pno - 1]["area_type"]
            d = sum(w * _deterrence(cam, cls, area, table) for cls, w in scope.items()) / sum(scope.values())
            planted_rr = _planted_mean_rr(d, cam["half_life_months"], (p_end - p_start).days,
                                          since_days=(p_start - start).days)
            mu, se = math.log(planted_rr), math.log(hi / lo) / (2 * 1.959964)
            se_change = math.log(c_hi / c_lo) / (2 * 1.959964)
            bound = max(below * math.log(first_rr), math.log(first_rr) + 1.959964 * se_change)
            chance = 1 - NormalDist().cdf((bound - mu) / se)
            (power if planted else false_flag_chances).append(chance)
    faded_judgeable = [f for planted, f in judgeable if planted]
    return {
        "precision": sum(flagged) / max(1, len(flagged)),
        "flagged": len(flagged),
        "false_flags": len(flagged) - sum(flagged),
        "expected_false_flags": sum(false_flag_chances),
        "false_flag_bound": poisson_binomial_quantile(false_flag_chances, 0.99),
        "judgeable": len(judgeable),
        "faded_judgeable": len(faded_judgeable),
        "found_judgeable": sum(faded_judgeable),
        "recall_judgeable": sum(faded_judgeable) / max(1, len(faded_judgeable)),
        "expected_recall": sum(power) / max(1, len(power)),
        "recall_all": sum(faded_all) / max(1, len(faded_all)),
        "faded_planted": len(faded_all),
    }


def _hotspots(con: Any, truth: dict[str, Any]) -> tuple[float, int]:
    hot = con.execute(
        """select period_year, offence_class, centroid_easting_m, centroid_northing_m
           from marts.mart_hotspots where is_hotspot_95"""
    ).fetchall()
    by_year_class: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    for year, cls, e, n in hot:
        by_year_class[(year, cls)].append((e, n))
    found = 0
    for h in truth["hotspots"]:
        reach = max(250.0, 1.5 * h["sigma_m"])
        found += any(
            math.hypot(e - h["easting"], n - h["northing"]) <= reach
            for c in h["classes"] for e, n in by_year_class.get((h["year"], CLASS_OF_TRUTH[c]), [])
        )
    return found / max(1, len(truth["hotspots"])), len(truth["hotspots"])


def compare_controls(warehouse: Path, truth_path: Path, offence_class: str = "instrumental_property") -> dict[str, Any]:
    """The one-year effect against the far control (500–1,000 m, what mart_camera_effect
    uses) and against the local ring (150–400 m outside every coverage, what
    mart_effect_decay uses), scored against the plant on the same positions.

    The set is the mart's own: positions of the deterring kinds whose (position, class)
    estimate meets its enough-data rule, first year, long windows. For each control:
    the share of 95 % Poisson intervals holding the planted RR (coverage), the mean and
    median error of the log rate ratio (bias, accuracy), the mean standard error, and
    the share of positions whose effect the interval resolves (below 1). Read from the
    warehouse (the intermediate counts are not published).
    """
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    table = truth["offence_model"]["deterrence_by_class_and_area"]
    cams = {c["point_id"]: c for c in truth["cameras"]}
    truth_cls = {v: k for k, v in CLASS_OF_TRUTH.items()}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """select p.camera_point_id, p.position_no, c.after_days, c.coverage_before, c.coverage_after,
                      c.ring_uncovered_before, c.ring_uncovered_after, c.control_before, c.control_after
               from intermediate.int_camera_offences_counted c
               inner join marts.dim_camera_point p using (camera_point_version_id)
               inner join marts.mart_camera_effect e
                   on e.camera_point_version_id = c.camera_point_version_id and e.offence_class = c.offence_scope
               where c.offence_scope = ? and c.period_no = 1 and c.has_long_windows and e.has_enough_data
                 and p.camera_kind in ('city_monitoring', 'multisensor')""", [offence_class]).fetchall()
    finally:
        con.close()
    out: dict[str, Any] = {"positions": 0}
    errors: dict[str, list[float]] = {"far": [], "local": []}
    ses: dict[str, list[float]] = {"far": [], "local": []}
    hits = {"far": 0, "local": 0}
    resolved = {"far": 0, "local": 0}
    for pid, pno, adays, cb, ca, rb, ra, fb, fa in rows:
        cam = cams.get(pid)
        if cam is None or pno > len(cam["positions"]):
            continue
        area = cam["positions"][pno - 1]["area_type"]
        planted = math.log(_planted_mean_rr(_deterrence(cam, truth_cls[offence_class], area, table),
                                            cam["half_life_months"], adays))
        out["positions"] += 1
        for name, (before, after) in {"far": (fb, fa), "local": (rb, ra)}.items():
            log_rr = math.log((ca + 0.5) / (cb + 0.5)) - math.log((after + 0.5) / (before + 0.5))
            se = math.sqrt(1 / (ca + 0.5) + 1 / (cb + 0.5) + 1 / (after + 0.5) + 1 / (before + 0.5))
            errors[name].append(log_rr - planted)
            ses[name].append(se)
            hits[name] += abs(log_rr - planted) <= 1.959964 * se
            resolved[name] += log_rr + 1.959964 * se < 0
    n = max(1, out["positions"])
    for name in ("far", "local"):
        e = errors[name]
        out[name] = {
            "ci_coverage": hits[name] / n,
            "mean_error": sum(e) / max(1, len(e)),
            "median_abs_error": _median([abs(x) for x in e]),
            "mean_se": sum(ses[name]) / max(1, len(ses[name])),
            "resolved_share": resolved[name] / n,
        }
    return out


def simulate_and_load(cfg: Any, root: Path, seed: int) -> list[Any]:
    """Simulate the city under ``root`` / sim, deliver every file to ``cfg``'s inbox and
    ingest it all (the platform's own path); the load results, one per delivery.

    Raises where a delivery is not loaded: a lost delivery would change the counts the
    scores read, and the failure would look like a statistical one.
    """
    from ingestion.landing import ingest
    from simulator import install_places, simulate

    simulate(cfg, root / "sim", scale="city", seed=seed, faults=False, progress=False)
    install_places(cfg, root / "sim")
    delivered = 0
    for source_dir in (root / "sim" / "inbox").iterdir():
        target = cfg.inbox_dir / source_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for f in source_dir.iterdir():
            f.rename(target / f.name)
            delivered += 1
    results = ingest(cfg)
    not_loaded = [r.line() for r in results if r.status != "loaded"]
    if not_loaded or len(results) != delivered:
        raise RuntimeError(f"seed {seed}: {len(results)} load results for {delivered} deliveries; "
                           f"not loaded: {not_loaded[:10]}")
    return results
