"""The simulator: deterministic, calibrated on the city's figures, readable by the standard
readers, and its fault manifest says exactly what was injected."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
from pathlib import Path

import openpyxl
import pyreadstat
import pytest

from ingestion.config import Settings, settings
from simulator import simulate
from simulator.deliveries import daily_intervention_counts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def sim(demo_city_with_faults: Path) -> Path:
    return demo_city_with_faults


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    cfg = settings()
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        simulate(cfg, tmp_path / name, scale="demo", seed=seed, start="2025-03", end="2025-10", faults=True,
                 progress=False)
    a, b, c = (_digest(tmp_path / n) for n in "abc")
    assert a == b
    assert len(a) > 100 and any(name.endswith(".xlsx") for name in a) and any(n.endswith(".sav") for n in a)
    assert a.keys() - {"faults.json", "truth.json"} and a != c


def test_interventions_match_the_city_figures(sim: Path) -> None:
    per_year: dict[int, int] = {}
    to_dec5 = 0
    headless = {sim / f["file"] for f in json.loads((sim / "faults.json").read_text())["faults"]
                if f["kind"] == "missing_header"}
    for path in (sim / "inbox" / "interventions").glob("*.csv"):
        day = dt.date.fromisoformat(path.stem.removeprefix("interwencje_"))
        with path.open(encoding="utf-8", newline="") as f:
            # a file without its header line: its first record is read as the header
            n = sum(1 for _ in csv.DictReader(f, delimiter=";")) + (path in headless)
        per_year[day.year] = per_year.get(day.year, 0) + n
        if day.year == 2025 and day <= dt.date(2025, 12, 5):
            to_dec5 += n
    # the fault manifest removed no intervention rows (only a column, a category, a header line)
    assert per_year[2024] == 8489
    assert to_dec5 == 8956
    counts = daily_intervention_counts(dt.date(2023, 1, 1), dt.date(2023, 12, 31), seed=11)
    assert sum(counts.values()) == 7208


def test_camera_inventory_matches_the_city_figures(sim: Path) -> None:
    last = sorted((sim / "inbox" / "cameras_wbizk").glob("*.xlsx"))[-1]
    ws = openpyxl.load_workbook(last, read_only=True)["Punkty kamerowe"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    data = [dict(zip(header, (*r, *[None] * (len(header) - len(r))), strict=True)) for r in rows[1:]]
    assert header[0] == "Nr punktu" and header[-1] == "Uwagi" and len(header) == 14
    new = [r for r in data if r["Data uruchomienia"] >= dt.datetime(2024, 5, 1)
           and r["Typ"] == "monitoring miejski"]
    assert len(new) == 68
    assert round(sum(r["Koszt zakupu i montażu [zł]"] for r in new), 2) == 1_605_167.44
    multi = [r for r in data if r["Typ"] == "wielosensorowe"]
    assert len(multi) == 17 and {r["Liczba kamer"] for r in multi} == {5}
    assert all(dt.datetime(2026, 1, 1) <= r["Data uruchomienia"] < dt.datetime(2026, 4, 1) for r in multi)
    assert sum(1 for r in data if r["Data demontażu"]) >= 1
    assert sum(1 for r in data if r["Data ostatniego przeniesienia"]) >= 1
    gj = json.loads(sorted((sim / "inbox" / "cameras_zdmk").glob("*.geojson"))[-1].read_text())
    assert gj["type"] == "FeatureCollection"
    kinds = {f["properties"]["rodzaj"] for f in gj["features"]}
    assert kinds == {"UTCS", "ANPR"}
    lon, lat = gj["features"][0]["geometry"]["coordinates"]
    assert 19.79 < lon < 20.22 and 49.96 < lat < 50.13
    # and GDAL's GeoJSON driver (DuckDB spatial's ST_Read) reads the same points
    from ingestion.duck import connect

    con = connect(":memory:", settings(), spatial=True)
    path = sorted((sim / "inbox" / "cameras_zdmk").glob("*.geojson"))[-1]
    n, kinds_read = con.execute(f"select count(*), count(distinct rodzaj) from st_read('{path}')").fetchone()
    con.close()
    assert (n, kinds_read) == (len(gj["features"]), 2)


def test_survey_waves_open_with_pyreadstat_and_cover_every_district(sim: Path) -> None:
    files = sorted((sim / "inbox" / "survey").iterdir())
    assert {p.suffix for p in files} == {".sav", ".csv"}
    for path in files:
        if path.suffix == ".sav":
            frame, meta = pyreadstat.read_sav(str(path))
            assert meta.variable_value_labels["q3_bezp_okolica"][5.0] == "bardzo bezpiecznie"
            assert meta.column_names_to_labels["waga"] == "Waga analityczna"
        else:
            import pandas as pd

            frame = pd.read_csv(path)
        assert len(frame) == 1800 and frame["resp_id"].is_unique
        assert set(frame["dzielnica"].astype(int)) == set(range(1, 19))
        assert (frame["waga"] > 0).all()
        assert set(frame["q3_bezp_okolica"].dropna().astype(int)) <= {1, 2, 3, 4, 5, 9}
        marked = frame["m1_lat"].dropna()
        assert len(marked) > 600 and marked.between(49.96, 50.13).all()


def test_police_is_windows_1250_with_geodetic_axes(sim: Path) -> None:
    path = sorted((sim / "inbox" / "police").glob("*.csv"))[-1]
    text = path.read_bytes().decode("cp1250")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert list(rows[0]) == ["nr_zdarzenia", "data", "godzina", "kwalifikacja", "opis", "ulica", "x_puwg92",
                             "y_puwg92"]
    x = float(rows[0]["x_puwg92"].replace(",", "."))
    y = float(rows[0]["y_puwg92"].replace(",", "."))
    assert 233_000 < x < 252_500 and 556_000 < y < 588_000  # X northing, Y easting
    assert "\r\n" in text


def test_sos_alerts_follow_the_lodz_proportions(sim: Path) -> None:
    events = [json.loads(line) for p in (sim / "inbox" / "sos_alerts").glob("*.jsonl")
              for line in p.read_text(encoding="utf-8").splitlines()]
    assert len({e["event_id"] for e in events}) == len(events) > 300
    share = sum(e["classification"] == "unconfirmed" for e in events) / len(events)
    assert abs(share - 1128 / 1181) < 0.03
    by_point: dict[str, int] = {}
    for e in events:
        by_point[e["point_id"]] = by_point.get(e["point_id"], 0) + 1
    assert by_point["SOS-01"] > 5 * by_point["SOS-02"]  # the busy street raises far more alerts


def test_truth_describes_layers_cameras_and_effects(sim: Path) -> None:
    truth = json.loads((sim / "truth.json").read_text())
    assert truth["layers"]["districts"].startswith("real")
    assert truth["layers"]["schools_kindergartens_playgrounds_parks"] == "simulated"
    wbizk = [c for c in truth["cameras"] if c["operator"] == "wbizk"]
    rr = truth["offence_model"]["rate_ratio_at_install_by_class_and_area"]
    assert rr["property"]["transit"] < rr["property"]["residential"] < rr["violence"]["transit"]
    assert rr["traffic"]["commercial"] == 1.0
    assert any(c["displacement_share"] > 0 for c in wbizk) and any(c["is_faded_at_end"] for c in wbizk)
    assert any(len(c["positions"]) > 1 for c in wbizk)  # moved cameras
    # the seed's named schools and kindergartens stand near the camera points named after them
    cams = {c["name"]: c for c in wbizk}
    pois = {p["name"]: p for p in truth["pois"]}
    for poi, camera in (("Szkoła Podstawowa nr 95", "Prądnik Czerwony – SP nr 95, place zabaw i boisko"),
                        ("Przedszkole nr 187", "Fort Mistrzejowice (przy Przedszkolu nr 187 i SP nr 89)"),
                        ("Szkoła Podstawowa nr 100", "Rondo Kocmyrzowskie – węzeł przesiadkowy")):
        p, c = pois[poi], cams[camera]["positions"][0]
        assert ((p["easting"] - c["e"]) ** 2 + (p["northing"] - c["n"]) ** 2) ** 0.5 <= 200.5
    assert truth["layers"]["named_schools_and_kindergartens"].startswith("named")
    years = {h["year"] for h in truth["hotspots"]}
    places = [{(h["easting"], h["northing"]) for h in truth["hotspots"] if h["year"] == y}
              for y in sorted(years)]
    assert all(a != b for a, b in itertools.pairwise(places))  # hotspots move


def _csv_rows(path: Path, encoding: str, sep: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=sep))
    return rows[0], rows[1:]


def test_fault_manifest_matches_the_files(sim: Path) -> None:
    faults = {f["kind"]: f for f in json.loads((sim / "faults.json").read_text())["faults"]}
    from simulator.faults import FAULT_KINDS

    assert set(faults) == set(FAULT_KINDS)
    f = faults["wrong_encoding"]
    raw = (sim / f["file"]).read_bytes()
    assert raw.decode("utf-8") and any(b > 0x7F for b in raw)
    f = faults["truncated_file"]
    assert not (sim / f["file"]).read_bytes().endswith(b"\n")
    header, _ = _csv_rows(sim / faults["renamed_column"]["file"], "utf-8", ",")
    assert "latitude" in header and "lat" not in header
    header, _ = _csv_rows(sim / faults["missing_column"]["file"], "utf-8", ";")
    assert "operator" not in header
    f = faults["missing_header"]  # the first record where the header belongs, with what it plants
    first, _ = _csv_rows(sim / f["file"], "utf-8", ";")
    assert first[0].startswith("INT-") and first[-1] == f["planted"]["operator"][0]
    assert all(v in ";".join(first) for v in f["planted"]["name"] + f["planted"]["phone"])
    planted = json.loads((sim / "personal.json").read_text(encoding="utf-8"))["values"]
    for fault in (faults["missing_header"], faults["personal_data_in_notes"]):
        assert all(set(v) <= set(planted[k]) for k, v in fault["planted"].items())
    f = faults["swapped_lat_lon"]
    header, rows = _csv_rows(sim / f["file"], "utf-8", ",")
    assert all(float(rows[line - 2][header.index("lat")]) < 21 for line in f["lines"])
    f = faults["duplicate_rows"]
    _, rows = _csv_rows(sim / f["file"], "cp1250", ";")
    assert [rows[n - 2] for n in f["lines"]] == [rows[n - 2] for n in f["duplicates_of_lines"]]
    f = faults["outside_krakow"]
    _, rows = _csv_rows(sim / f["file"], "cp1250", ";")
    assert all(rows[n - 2][6] == "262000,00" for n in f["lines"])
    f = faults["corrected_redelivery"]
    _, fixed = _csv_rows(sim / f["file"], "cp1250", ";")
    _, original = _csv_rows(sim / f["supersedes"], "cp1250", ";")
    diff = {a[0] for a, b in zip(fixed, original, strict=True) if a != b}
    assert diff == set(f["changed_ids"])
    f = faults["file_delivered_twice"]
    assert (sim / f["file"]).read_bytes() == (sim / f["same_bytes_as"]).read_bytes()
    f = faults["out_of_order_month"]
    assert (sim / f["file"]).exists() and not (sim / "inbox" / "police" / Path(f["file"]).name).exists()
    for kind, hhmm in (("dst_fold", "02:30"), ("dst_gap", "02:15")):
        f = faults[kind]
        _, rows = _csv_rows(sim / f["file"], "cp1250", ";")
        assert all(rows[n - 2][2] == hhmm for n in f["lines"])
    header, _ = _csv_rows(sim / faults["licence_plate_column"]["file"], "utf-8", ";")
    assert header[-1] == "nr_rejestracyjny"


def test_every_fault_gets_its_documented_outcome(sim: Path, cfg: Settings) -> None:
    """Through the real ingestion path, every source: the rejected rows are exactly the
    injected ones, refusals name the documented rule, counts add up for every file."""
    import shutil

    import duckdb

    from ingestion.landing import ingest

    faults = json.loads((sim / "faults.json").read_text())["faults"]
    shutil.copytree(sim / "inbox", cfg.inbox_dir, dirs_exist_ok=True)
    first = {(r.source, r.file_name): r for r in ingest(cfg)}
    shutil.copytree(sim / "late" / "inbox", cfg.inbox_dir, dirs_exist_ok=True)
    late = {(r.source, r.file_name): r for r in ingest(cfg)}
    results = first | late
    for r in results.values():
        if r.status == "loaded":
            assert r.rows_read == r.rows_loaded + r.rows_rejected, r
    con = duckdb.connect(str(cfg.ledger_path), read_only=True)
    quarantine = set(con.execute("select file_name, line_no, rule from ops.quarantine").fetchall())
    refused = {r[0] for r in con.execute("select file_name from ops.load_ledger where status = 'refused'").fetchall()}
    current = {r[0] for r in con.execute("select file_name from ops.current_deliveries").fetchall()}
    expected_rejects, expected_refused = set(), set()
    for f in faults:
        name = Path(f["file"]).name
        if f["expected"] == "refuse_file":
            expected_refused.add(name)
            assert f"rule '{f['rule']}'" in results[(f["source"], name)].message
        elif f["expected"] == "reject_rows":
            expected_rejects |= {(name, line, f["rule"]) for line in f["lines"]}
        elif f["expected"] == "load_flagged":
            flagged = con.execute(f"select _line from landing.{f['source']} where {f['flag']} and _source_file = ?",
                                  [name]).fetchall()
            assert set(f["lines"]) <= {r[0] for r in flagged}
        elif f["expected"] in {"load", "supersede"}:
            assert results[(f["source"], name)].status == "loaded" and name in current
            if f["expected"] == "supersede":
                assert Path(f["supersedes"]).name not in current
        elif f["expected"] == "no_op":
            assert late[(f["source"], name)].status == "duplicate"
        elif f["expected"] == "scrub":
            notes = [r[0] for r in con.execute(
                "select note from landing.police where _source_file = ? and _line in ?", [name, f["lines"]]
            ).fetchall()]
            assert len(notes) == 3
            for note in notes:
                assert "Kowalski" not in note and "601 234 567" not in note and "KR 4F123" not in note
                assert "[osoba]" in note or "[telefon]" in note
    assert quarantine == expected_rejects  # exactly the injected rows, nothing else
    assert refused == expected_refused  # exactly the injected files, nothing else
    # nothing personal landed anywhere: no plate, no phone number in any note
    for source, column in (("police", "note"), ("interventions", "note"), ("sos_alerts", "note")):
        leaked = con.execute(f"select count(*) from landing.{source} where regexp_matches({column}, "
                             "'\\d{3}[ -]?\\d{3}[ -]?\\d{3}|KR [0-9][A-Z0-9]{3,4}')").fetchone()[0]
        assert leaked == 0, source
    operators = con.execute("select distinct operator_pseudonym from landing.interventions").fetchall()
    assert all(o[0].startswith("op-") and len(o[0]) == 19 for o in operators)
    con.close()
    # the validation results were rendered as Data Docs a data engineer can open
    from ingestion.validation import data_docs_index

    index = data_docs_index(cfg.gx_root)
    html = index.read_text(encoding="utf-8")
    pages = list(index.parent.glob("validations/**/*.html"))
    assert all(source in html for source in ("police", "city_guard", "interventions", "survey"))
    assert any("x_northing_in_krakow" in p.read_text(encoding="utf-8") or "northing_x" in p.read_text(encoding="utf-8")
               for p in pages if "police" in str(p))
