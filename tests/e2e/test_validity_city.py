"""Do the marts recover what the simulator planted? The whole platform at the `city`
scale (7.5 years, 1.3 million offences): simulate, ingest every delivery, dbt build,
then score the published marts against truth.json (simulator/validity.py) and print
the scores.

Thresholds follow what the statistics can resolve at these counts, not what happens
to pass:
- pooled rate ratios are scored where about 150 or more offences were expected in
  the cameras' own (unshared) coverage after installation: the residential and transit
  groups and, barely, commercial property and alcohol (11 at seed 1; at least 9 must
  be). Commercial places are few in count: in the dense centre most of a camera's
  150 m circle is also another camera's, and an offence there cannot be credited to
  either (counted anyway, the neighbours' installations and fading pulled property at
  commercial places to 0.93 [0.79, 1.09] against a planted 0.75). Each
  scored group is compared with the planted RR averaged over the same windows: it
  agrees when within 0.1, or, where its 95 % (quasi-Poisson) interval is wider than
  that, when the interval holds the planted RR. Over ~10 groups a 95 % interval misses
  about once by chance, so at most one may disagree; none may resolve the wrong sign;
  property crime at transit places (the city's claim) must be resolved below 1; and
  the unscored commercial property group must still agree with the plant;
- per camera, the planted RR must lie inside the 95 % interval about as often as a
  95 % interval promises (≥ 85 % of the positions meeting the enough-data rule, which
  allows for the binomial spread over ~100 positions);
- displacement: the planted share moves about 2 % more offences into a ring that
  holds six times the coverage's area, well under what a year of counts resolves per
  camera (printed beside it, with the recall those counts allow), so recall cannot be
  high; what the test holds the mart to is its false-positive count: no more than a
  one-sided 2.5 % rule yields by chance over the positions without displacement
  (the 99th percentile of that binomial count);
- fading is judged only where the first year's effect was itself resolved (most faded
  cameras took their position before the data begin and have no baseline at all);
  there the false flags (flagged, not planted faded) must not exceed what the counts
  make by chance (each non-faded position's chance of being flagged by the mart's rule
  at its planted decay and standard errors; the 99th percentile of that
  Poisson-binomial count, printed with the precision), and the faded ones found must
  not fall below what the counts allow (the recall a perfect reading of the mart's
  rule, the change test included, expects from each position's planted decay and
  standard errors, printed; at seed 1 about 0.52 of 7): at most the binomial 1st
  percentile below it. Against the
  far control ring this failed (0.38 where 0.80 was due): a hotspot leaving a
  camera's neighbourhood read as an effect that never fades, which is why the mart
  judges fading against the local ring;
- every hotspot draws 2 % of its classes' offences: ≥ 90 % must be found;
- pooled displacement (mart_displacement_by_area): per kind of place, the planted ring
  ratio (1 + the displaced share of what the cameras deter, over the ring's expected
  count) must lie inside the 95 % quasi-Poisson interval; over three kinds of place a
  95 % interval misses at least twice with probability 0.7 %, so at most one may miss;
  the placebo (traffic, planted neither deterred nor displaced) moves beyond chance in
  a kind of place with probability about 10 % (two 95 % tests), so at most one of
  three may fail (2.8 % by chance).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import binom

from ingestion.config import Settings, settings

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("city_scale")]


# two simulated cities: a threshold that one seed passes by luck fails on the other
# (seed 3 was also run, bench/controls.py: every check passes but the fade one's
# precondition, 2 planted-faded positions judgeable where it needs 3)
@pytest.fixture(scope="module", params=[1, 2], ids=lambda seed: f"seed{seed}")
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    import time

    from simulator.validity import simulate_and_load
    from warehouse.build import build

    root = tmp_path_factory.mktemp(f"city{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(root / "data"))
        cfg = settings()
        cfg.ensure_dirs()
        began = time.monotonic()
        # fails by name if a delivery is not loaded (a lost one would look like a statistical failure)
        results = simulate_and_load(cfg, root, request.param)
        loaded = time.monotonic()
        rejected: dict[str, int] = {}
        for r in results:
            for rule, n in r.reject_rules.items():
                rejected[f"{r.source}:{rule}"] = rejected.get(f"{r.source}:{rule}", 0) + n
        print(f"\ncity scale: {len(results)} deliveries, {sum(r.rows_loaded for r in results)} rows loaded, "
              f"quarantined by rule: {rejected}")
        build(cfg)
        print(f"\ncity scale, seed {request.param}: simulated and ingested in {loaded - began:.0f} s, "
              f"built in {time.monotonic() - loaded:.0f} s")
    return cfg, root / "sim" / "truth.json"


def test_marts_recover_the_planted_truth_at_city_scale(city: tuple[Settings, Path]) -> None:
    from simulator.validity import agrees, score, wrong_sign

    cfg, truth = city
    s = score(cfg.published_path, truth)
    print("\n" + s.report())

    assert s.area_type_agreement >= 0.9
    scored = [p for p in s.pooled if p["scored"]]
    assert len(scored) >= 9, "too few (kind of place, class) groups with enough offences to score"
    assert sum(not agrees(p) for p in scored) <= 1, [p for p in scored if not agrees(p)]
    assert not any(wrong_sign(p) for p in scored), [p for p in scored if wrong_sign(p)]
    # the deterring classes were resolved where the city says cameras work
    resolved = {(p["area_type"], p["offence_class"]) for p in scored if p["ci_high"] < 1}
    assert ("transit", "instrumental_property") in resolved
    [commercial] = [p for p in s.pooled
                    if (p["area_type"], p["offence_class"]) == ("commercial", "instrumental_property")]
    assert agrees(commercial), commercial

    assert s.per_camera_judged >= 50
    assert s.per_camera_ci_coverage >= 0.85
    d = s.displacement
    false_positives = round(d["false_positive_rate"] * d["not_planted"])
    assert false_positives <= binom.ppf(0.99, d["not_planted"], 0.025), d
    f = s.fade
    assert f["judgeable"] >= 5 and f["faded_judgeable"] >= 3, f
    assert f["false_flags"] <= f["false_flag_bound"], f
    assert f["found_judgeable"] >= binom.ppf(0.01, f["faded_judgeable"], f["expected_recall"]), f
    assert s.hotspot_recall >= 0.9
    instrumental = [p for p in s.pooled_displacement if p["offence_scope"] == "instrumental"]
    assert len(instrumental) == 3, s.pooled_displacement
    assert sum(not p["planted_inside"] for p in instrumental) <= 1, instrumental
    assert sum(p["placebo"] == "placebo_fails" for p in instrumental) <= 1, instrumental


def test_relocation_plan_moves_k_cameras_at_city_scale(city: tuple[Settings, Path]) -> None:
    """With a year of city counts the pooled effects resolve, so the optimiser has
    something to gain: K moves, solved to optimality, each with a positive gain."""
    import duckdb

    cfg, _ = city
    con = duckdb.connect(str(cfg.published_path), read_only=True)
    try:
        rows = con.execute("select count(*), min(solver_status), max(moves_requested), "
                           "min(net_gain) from marts.mart_relocation_plan").fetchone()
    finally:
        con.close()
    assert rows[:3] == (5, "optimal", 5) and rows[3] > 0, rows


def test_offences_are_classified_at_city_scale(city: tuple[Settings, Path]) -> None:
    """Every offence the simulated city's Police, City Guard and MCPU record has a class
    (issue 14: the taxonomy once left 12.8 % of a city's offences out); printed per
    source, and no source's month above the build's warning share."""
    import duckdb

    cfg, _ = city
    con = duckdb.connect(str(cfg.published_path), read_only=True)
    try:
        per_source = con.execute("""
            select source_system, sum(records)::bigint, sum(unclassified)::bigint,
                count(*) filter (where is_above_warn_share)
            from marts.mart_offence_classification_quality group by 1 order by 1""").fetchall()
    finally:
        con.close()
    records, unclassified = sum(r[1] for r in per_source), sum(r[2] for r in per_source)
    print("\nunclassified offences at city scale: "
          + "; ".join(f"{s} {u} of {n} ({u / n:.2%}), {m} month(s) above the warning share"
                      for s, n, u, m in per_source)
          + f"; all sources {unclassified / records:.2%}")
    assert {r[0] for r in per_source} == {"police", "city_guard", "mcpu"}
    assert unclassified / records < 0.01 and not any(r[3] for r in per_source), per_source
