"""Disclosure control of the survey marts on a real build: no district under 10 respondents
is published, and none can be recovered from the margins a researcher has.

The margins: the wave's total sample size is public (the city states it, and the delivery
holds it), and the mart publishes every unsuppressed district's respondents. A wave with
one suppressed district would give that district's count, and with it the proof it is
small, by subtraction; the mart must then suppress a second, complementary district.
The test plants one small district in one wave and two in another and derives what it can.
"""

from __future__ import annotations

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from tests.builders import survey_csv, survey_rows
from warehouse.build import build

pytestmark = pytest.mark.integration

SMALL = {"2025W": {5: 6}, "2025J": {3: 4, 11: 8}}  # wave -> district -> respondents planted


def _wave(wave: str, small: dict[int, int], start: int) -> list[dict]:
    rows = []
    for district in range(1, 19):
        n = small.get(district, 90 + 2 * district)  # unequal, so "the smallest other" is defined; ~1,900 a wave
        rows += [{"dzielnica": district, "q2_bezp_noc": 1 + (i % 5)} for i in range(n)]
    return [{**base, **r, "resp_id": start + i} for i, (base, r) in
            enumerate(zip(survey_rows(len(rows), wave=wave), rows, strict=True))]


def _derivable(published: list[tuple[int, int | None]], total: int) -> dict[int, int]:
    """What subtraction from the wave's total recovers: the one unknown district, if alone."""
    unknown = [d for d, n in published if n is None]
    if len(unknown) == 1:
        return {unknown[0]: total - sum(n for _, n in published if n is not None)}
    return {}


def test_no_district_under_ten_respondents_is_published_or_derivable(cfg: Settings) -> None:
    totals = {}
    for wave, small in SMALL.items():
        wave_rows = _wave(wave, small, start=1)
        totals[wave] = len(wave_rows)
        season = "wiosna" if wave.endswith("W") else "jesien"
        survey_csv(cfg.inbox_dir / "survey" / f"ankieta_2025_{season}.csv", wave_rows)
    results = ingest(cfg, ["survey"])
    assert [r.status for r in results] == ["loaded", "loaded"], results
    build(cfg)

    con = duckdb.connect(str(cfg.published_path), read_only=True)
    try:
        mart = con.execute("""
            select wave, district_id, respondents, is_suppressed, suppression_reason,
                   unsafe_night_share, mean_safe_night, effective_n, perception_gap_z
            from marts.mart_district_safety order by wave, district_id""").fetchall()
    finally:
        con.close()
    by_wave: dict[str, list[tuple]] = {}
    for r in mart:
        by_wave.setdefault(r[0], []).append(r)
    assert set(by_wave) == set(SMALL)
    for wave, small in SMALL.items():
        published = by_wave[wave]
        suppressed = {r[1]: r[4] for r in published if r[3]}
        for r in published:
            if r[3]:
                assert r[2] is None and all(v is None for v in r[5:]), r
            else:
                assert r[2] >= 10 and r[5] is not None, r
        assert {d for d, why in suppressed.items() if why == "fewer_than_10"} == set(small), suppressed
        derived = _derivable([(r[1], r[2]) for r in published], totals[wave])
        assert not derived, f"wave {wave}: recovered from the margin {derived}"
    # one small district: the smallest of the rest (district 1, 92 respondents) goes with it
    assert {r[1]: r[4] for r in by_wave["2025W"] if r[3]} == {5: "fewer_than_10", 1: "complementary"}
    # two small districts protect each other: nothing more is withheld
    assert {r[1] for r in by_wave["2025J"] if r[3]} == {3, 11}
