"""The offence taxonomy is keyed by code, not by who records it: a City Guard record of
any article the taxonomy lists, in the Guard's own notation, gets the same class as a
Police record of it; an unknown code stays flagged and a month above the 1 % share
warns by name (real ingestion, real dbt, real DuckDB)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from tests.builders import city_guard_csv, city_guard_row, police_csv, police_row
from warehouse.build import quality_warnings
from warehouse.dbt import run_dbt

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"
TAXONOMY = list(csv.DictReader((SEEDS / "offence_taxonomy.csv").open(encoding="utf-8")))
STATUTES = {"kk": "kk", "kw": "kw", "uwtpa": "uwtpa", "uopn": "uopn"}
# the written forms the City Guard uses for the same k.w. article (SPEC §6 and its logs)
GUARD_FORMS = ("{a}§1", "{a}", "art. {a} § 2 k.w.", "{a} § 1", "Art.{a}§3pkt2")


def _guard_notation(code: str, article: str, i: int) -> str:
    if code == "uwtpa" and article == "43^1":
        return "43¹"
    if code != "kw":
        return f"art. {article.replace('^1', '¹')} {code}"
    return GUARD_FORMS[i % len(GUARD_FORMS)].format(a=article)


def _guard_rows(month: str, articles: list[str]) -> list[list[str]]:
    """One City Guard record per notation, a distinct minute each, inside central Kraków."""
    return [city_guard_row(**{"id": f"SM/{month}/{i:05d}",
                              "czas_utc": f"{month}-{i % 28 + 1:02d}T{i // 28 % 24:02d}:{i // 672:02d}:00Z",
                              "art_kw": art})
            for i, art in enumerate(articles)]


@pytest.fixture(scope="module")
def classified(demo_city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    """A data root with every listed article recorded by both services, and a month
    with unknown codes; built up to the classification-quality mart."""
    from ingestion.config import settings
    from simulator import install_places

    root = tmp_path_factory.mktemp("taxonomy")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(root / "data"))
        cfg = settings()
        cfg.ensure_dirs()
        install_places(cfg, demo_city)
        statutory = [r for r in TAXONOMY if r["legal_code"] in STATUTES]
        guard = [_guard_notation(r["legal_code"], r["article"], i) for i, r in enumerate(statutory)]
        city_guard_csv(cfg.inbox_dir / "city_guard" / "sm_wykroczenia_2025-04.csv",
                       rows=_guard_rows("2025-04", guard))
        # 97 known records and three the taxonomy does not list: k.w. 12 (general part, no
        # chapter), 999 (no such article) and 60^1 (not listed, but in chapter VIII)
        odd = ["12§1", "999", "60²"]
        city_guard_csv(cfg.inbox_dir / "city_guard" / "sm_wykroczenia_2025-05.csv",
                       rows=_guard_rows("2025-05", ["51§1"] * 97 + odd))
        police = [police_row(nr_zdarzenia=f"KMP/2025/03/{i:05d}", data=f"{i % 28 + 1:02d}.03.2025",
                             kwalifikacja=f"art. {r['article']} § 1 {r['legal_code']}", opis="")
                  for i, r in enumerate(statutory, start=1)]
        police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police)
        loads = ingest(cfg)
        assert [(r.file_name, r.status, r.rows_rejected) for r in loads] == [
            (f, "loaded", 0) for f in ("sm_wykroczenia_2025-04.csv", "sm_wykroczenia_2025-05.csv",
                                       "kmp_zdarzenia_2025-03.csv")], [r.line() for r in loads]
        proc = run_dbt(cfg, "build", "--select", "+mart_offence_classification_quality",
                       "--indirect-selection", "cautious")
        assert proc.returncode == 0, proc.stdout[-3000:]
    return cfg, proc.stdout


def test_every_listed_article_is_classified_alike_whoever_records_it(classified: tuple[Settings, str]) -> None:
    cfg, _ = classified
    expected = {(r["legal_code"], r["article"]): r["offence_class"] for r in TAXONOMY}
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        rows = con.execute("select source_system, legal_code, article, offence_class, classified_by "
                           "from marts.fct_incident where occurred_date < date '2025-05-01'").fetchall()
    finally:
        con.close()
    statutory = sum(r["legal_code"] in STATUTES for r in TAXONOMY)
    by_source = {s: [r for r in rows if r[0] == s] for s in ("police", "city_guard")}
    assert {s: len(v) for s, v in by_source.items()} == {"police": statutory, "city_guard": statutory}
    wrong = [r for r in rows if r[4] != "article" or expected.get((r[1], r[2])) != r[3]]
    assert not wrong, f"{len(wrong)} records not classified as the taxonomy says, e.g. {wrong[:5]}"
    # the two services' records cover the same keys
    keys = {s: {(r[1], r[2]) for r in v} for s, v in by_source.items()}
    assert keys["police"] == keys["city_guard"] == {k for k in expected if k[0] in STATUTES}


def test_unknown_codes_stay_flagged_and_the_month_warns_by_name(classified: tuple[Settings, str]) -> None:
    cfg, output = classified
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        odd = con.execute("select article, offence_class, classified_by, is_unknown_code from marts.fct_incident "
                          "where occurred_date >= date '2025-05-01' and article <> '51' order by 1").fetchall()
        quality = {(r[0], str(r[1])): r[2:] for r in con.execute(
            "select source_system, month_start, records, classified_by_chapter, unclassified, "
            "is_above_warn_share, unknown_codes from marts.mart_offence_classification_quality").fetchall()}
    finally:
        con.close()
    assert odd == [("12", "unclassified", None, True), ("60^2", "public_order", "chapter", True),
                   ("999", "unclassified", None, True)]
    assert quality[("city_guard", "2025-05-01")] == (100, 1, 2, True, "kw 12 (1), kw 60^2 (1), kw 999 (1)")
    statutory = sum(r["legal_code"] in STATUTES for r in TAXONOMY)
    assert quality[("city_guard", "2025-04-01")] == (statutory, 0, 0, False, None)
    assert quality[("police", "2025-03-01")] == (statutory, 0, 0, False, None)
    warnings = quality_warnings(output)
    assert len(warnings) == 1, output[-3000:]
    assert "city_guard 2025-05: 2 of 100 records (2.0 %, above 1 %)" in warnings[0]
    assert "kw 12 (1), kw 60^2 (1), kw 999 (1)" in warnings[0]

