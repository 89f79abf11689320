"""The columnar parsers land exactly what the row-by-row reference parsers did (issue 18):
for every delivery the simulator writes, with every documented fault injected, and for
files crafted at the edges of each conversion rule (unicode digits, offsets Python reads
but the vectorised rule does not, numbers with spaces and commas, whole numbers written
as decimals, blank required fields, repeated and short rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.sources import SOURCES
from tests.builders import (
    assert_parsers_agree,
    city_guard_csv,
    city_guard_row,
    delimited_bytes,
    interventions_csv,
    interventions_row,
    police_csv,
    police_row,
)

pytestmark = pytest.mark.integration
KEY = "5e" * 32
COLUMNAR = sorted(name for name, source in SOURCES.items() if source.parse_many and source.parse_rows)


def test_the_csv_sources_have_a_columnar_parser_and_a_reference() -> None:
    assert COLUMNAR == ["anpr_counts", "city_guard", "interventions", "police"]


@pytest.mark.parametrize("source", COLUMNAR)
def test_every_simulated_delivery_and_fault_parses_alike(source: str, demo_city_with_faults: Path,
                                                         tmp_path: Path, cfg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", KEY)
    paths = sorted([*(demo_city_with_faults / "inbox" / source).glob("*"),
                    *(demo_city_with_faults / "late" / "inbox" / source).glob("*")])
    assert paths
    seen = assert_parsers_agree(source, paths, tmp_path)
    print(f"{source}: {len(paths)} files, {seen}")
    assert seen["parsed"] > 0
    if source in {"police", "city_guard", "interventions", "anpr_counts"}:
        assert seen["refused"] > 0, "the injected faults refuse some files of every CSV source"


def test_rows_at_the_edges_of_every_rule_parse_alike(tmp_path: Path, cfg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", KEY)
    police = tmp_path / "kmp_zdarzenia_2025-03.csv"
    police_csv(police, [
        police_row(), police_row(), police_row(nr_zdarzenia="KMP/2025/03/000002"),  # a repeated row
        police_row(nr_zdarzenia="3", data="1.3.2025"), police_row(nr_zdarzenia="4", godzina="7:05"),
        police_row(nr_zdarzenia="5", data="2025-03-01"), police_row(nr_zdarzenia="6", godzina="25:00"),
        police_row(nr_zdarzenia="7", x_puwg92=" 243\u00a0512,5 "), police_row(nr_zdarzenia="8", x_puwg92=""),
        police_row(nr_zdarzenia="9", y_puwg92="1_566_700"), police_row(nr_zdarzenia="10", y_puwg92="inf"),
        police_row(nr_zdarzenia="11", y_puwg92="5,669801e5"),
        police_row(nr_zdarzenia="12", kwalifikacja="art.\u00a0119 § 1 kw"),
        police_row(nr_zdarzenia="13", kwalifikacja=""),
        police_row(nr_zdarzenia="14", opis="sprawca Kowalski, tel. 601 234 567, KR 4F123"),
        police_row(nr_zdarzenia=" ", ulica="   "), police_row(nr_zdarzenia="16", data="29.02.2025"),
        police_row(nr_zdarzenia="17", data="30.03.2025", godzina="02:30"),
    ])
    guard_rows = [city_guard_row(id=f"SM/{k}", czas_utc=value) for k, value in enumerate([
        "2025-04-02T10:00:00Z", "2025-04-02T10:00:00+02:00", "2025-04-02 10:00Z", "2025-04-02T10:00:00.123456Z",
        "2025-04-02T10:00:00+0200", "2025-04-02T10:00:00+02", "2025-04-02T10:00:00", "2025-04-02T10:00:00.1234567Z",
        "2025-04-31T10:00:00Z", "20250402T100000Z", "", " 2025-04-02T10:00:00Z ", "2025-04-02T10:00:00-01:30",
        "2025-04-02T24:00:00Z", "2025-04-02T10:00:60Z",
    ])]
    guard_rows += [city_guard_row(id="SM/lat", lat="50,06"), city_guard_row(id="SM/lon", lon="abc"),
                   city_guard_row(id="SM/digits", lat="\u0665\u0660.\u0660\u0666"),
                   city_guard_row(id="SM/art", art_kw="43¹ § 1"), city_guard_row(id="SM/short")[:3]]
    guard = city_guard_csv(tmp_path / "sm_wykroczenia_2025-04.csv", rows=guard_rows)
    interventions = interventions_csv(tmp_path / "interwencje_2025-03-01.csv", [
        interventions_row(id_interwencji=f"I/{k}", **change) for k, change in enumerate([
            {}, {"sposob_zalatwienia": "mandat "}, {"sposob_zalatwienia": "nieznany"}, {"kategoria": "nowa kategoria"},
            {"data_zdarzenia": "2025-03-01T10:00:00+01:00"}, {"data_zdarzenia": "2025-03-01T10:00:00"},
            {"operator": ""}, {"operator": " 1234 "}, {"opis": "zgłaszający Jan Nowak, 12 345 67 89"},
        ])])
    anpr = tmp_path / "anpr_2025-03-01.csv"
    anpr.write_bytes(delimited_bytes(
        ["kamera_id", "godzina_od", "liczba_odczytow", "liczba_unikalnych"],
        [["ANPR-01", "2025-03-01T00:00:00+01:00", "120", "80"], ["ANPR-01", "2025-03-01T01:00:00+01:00", "12,0", "8"],
         ["ANPR-01", "2025-03-01T02:00:00+01:00", "1.5", "1"], ["ANPR-01", "2025-03-01T03:00:00+01:00", "", "1"],
         ["ANPR-01", "2025-03-01T04:00:00+01:00", "+40", "1"], ["ANPR-01", "2025-03-01T05:00:00+01:00", "1e3", "7"],
         ["ANPR-01", "2025-03-01T06:00:00Z", " 7 ", "-0"]],
        delimiter=";", encoding="utf-8"))
    for source, path in (("police", police), ("city_guard", guard), ("interventions", interventions),
                         ("anpr_counts", anpr)):
        seen = assert_parsers_agree(source, [path], tmp_path / "out")
        assert seen["parsed"] == 1, f"{path.name} must parse, with rejects, not be refused"
        assert seen["rejects"] > 0, f"{path.name}: the edge rows must include some the rules reject"


def test_an_ingest_with_either_parser_lands_and_quarantines_the_same(demo_city_with_faults: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the whole landing (bursts, Great Expectations' row rules on the frames,
    the records-elsewhere and outside-period checks, the ledger): every fault file of the
    four sources and a few clean ones, then the late deliveries (a correction, a month
    out of order, a file delivered twice), with ``KSP_PARSER=rows`` and ``columnar``."""
    import json
    import shutil

    from ingestion.config import settings
    from ingestion.landing import ingest
    from tests.builders import ledger_rows

    monkeypatch.setenv("KSP_PSEUDONYM_KEY", KEY)
    faults = json.loads((demo_city_with_faults / "faults.json").read_text())["faults"]
    picked = {f[key] for f in faults if f["source"] in COLUMNAR for key in ("file", "supersedes") if key in f}
    for source in COLUMNAR:
        picked |= {f"inbox/{source}/{p.name}" for p in sorted((demo_city_with_faults / "inbox" / source).glob("*"))[:4]}
    outcome = {}
    for parser in ("rows", "columnar"):
        monkeypatch.setenv("KSP_DATA_DIR", str(tmp_path / parser))
        monkeypatch.setenv("KSP_PARSER", parser)
        cfg = settings()
        cfg.ensure_dirs()
        for wave in ("inbox/", "late/inbox/"):
            for file in sorted(f for f in picked if f.startswith(wave)):
                target = cfg.inbox_dir / Path(file).relative_to(wave)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(demo_city_with_faults / file, target)
            ingest(cfg, COLUMNAR)
        landed = {s: ledger_rows(cfg, f'select * exclude (_ingested_at) from landing."{s}" '
                                      "order by _source_file, _line") for s in COLUMNAR}
        outcome[parser] = {
            "ledger": ledger_rows(cfg, "select source, file_name, status, rows_read, rows_loaded, rows_rejected, rule, "
                                       "message from ops.load_ledger order by source, file_name, status"),
            "quarantine": ledger_rows(cfg, "select source, file_name, line_no, rule, column_name, detail, raw_values "
                                           "from ops.quarantine order by all"),
            "landed": landed,
        }
    rows, columnar = outcome["rows"], outcome["columnar"]
    assert {r[2] for r in rows["ledger"]} == {"loaded", "refused"}
    assert {"kmp_zdarzenia_2024-11.csv", "kmp_zdarzenia_2024-11_korekta1.csv"} <= {r[1] for r in rows["ledger"]}
    # the faults' rows: repeated, outside Kraków, latitude and longitude swapped, an unknown category
    assert {r[3] for r in rows["quarantine"]} >= {"duplicate_row", "x_northing_in_krakow", "latitude_in_krakow",
                                                  "kategoria_code"}
    assert columnar["ledger"] == rows["ledger"]
    assert columnar["quarantine"] == rows["quarantine"]
    for source in COLUMNAR:
        assert len(columnar["landed"][source]) > 0
        assert columnar["landed"][source] == rows["landed"][source], source
