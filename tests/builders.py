"""Deliveries built byte by byte in the SPEC formats, for tests that need exact content.

Every source of SPEC.md has a row builder (a valid record, any field overridable by
its column name) and a file writer that produces the bytes the source system sends:
encoding, delimiter, quoting, line ends, sheet name and header exactly as in the SPEC
and the simulator's writers. :func:`sample` writes a small valid delivery of any source
under its SPEC file name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingestion.sources.anpr_counts import COLUMNS_IN_FILE as ANPR_HEADER
from ingestion.sources.cameras_wbizk import COLUMNS_IN_FILE as CAMERA_HEADER
from ingestion.sources.city_guard import COLUMNS_IN_FILE as CITY_GUARD_HEADER
from ingestion.sources.interventions import COLUMNS_IN_FILE as INTERVENTIONS_HEADER
from ingestion.sources.mcpu import COLUMNS_IN_FILE as MCPU_HEADER
from ingestion.sources.police import COLUMNS_IN_FILE as POLICE_HEADER
from ingestion.sources.sos_alerts import FIELDS as SOS_FIELDS
from ingestion.sources.survey import VARIABLES as SURVEY_VARIABLES

# A note carrying a name and a phone number: parsers must land it only scrubbed.
PERSONAL_NOTE = "zgłaszający Jan Nowak tel. 600 100 200"
SCRUBBED_NOTE = "zgłaszający [osoba] tel. [telefon]"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _override(header: Sequence[str], base: Sequence[Any], changes: dict[str, Any]) -> list[Any]:
    unknown = set(changes) - set(header)
    if unknown:
        raise KeyError(f"no column(s) {sorted(unknown)} in {list(header)}")
    rec = dict(zip(header, base, strict=True))
    rec.update(changes)
    return [rec[c] for c in header]


def delimited_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], *, delimiter: str, encoding: str,
                    newline: str = "\n", final_newline: bool = True) -> bytes:
    """A CSV as pandas' ``to_csv`` writes it (the simulator): ``"`` quoting where needed."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quotechar='"', lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    text = buf.getvalue()
    if not final_newline:
        text = text.removesuffix(newline)
    return text.encode(encoding)


# --------------------------------------------------------------------------- police (SPEC §5)

POLICE_OK_ROW = ["KMP/2025/03/00001", "14.03.2025", "21:15", "art. 278 § 1 kk",
                 "kradzież telefonu, zgłaszający Jan Nowak tel. 600 100 200", "ul. Długa 5",
                 "244210,55", "566980,10"]


def police_row(**changes: str) -> list[str]:
    """One valid police record (fields overridable by column name)."""
    return _override(POLICE_HEADER, POLICE_OK_ROW, changes)


def police_rows(n: int, month: str = "03", **changes: str) -> list[list[str]]:
    """``n`` valid police records of ``month`` 2025 (fields overridable by column name)."""
    out = []
    for i in range(1, n + 1):
        rec = dict(zip(POLICE_HEADER, POLICE_OK_ROW, strict=True))
        rec.update({"nr_zdarzenia": f"KMP/2025/{month}/{i:05d}", "data": f"{(i % 28) + 1:02d}.{month}.2025"})
        rec.update(changes)
        out.append([rec[c] for c in POLICE_HEADER])
    return out


def police_csv(path: Path, rows: list[list[str]], *, header: list[str] | None = None,
               encoding: str = "cp1250", delimiter: str = ";", newline: str = "\r\n",
               final_newline: bool = True) -> Path:
    """Windows-1250, ``;``, CRLF, decimal commas already in the rows (SPEC §5)."""
    lines = [delimiter.join(header or POLICE_HEADER)] + [delimiter.join(r) for r in rows]
    text = newline.join(lines) + (newline if final_newline else "")
    return _write(path, text.encode(encoding))


# --------------------------------------------------------------------------- cameras_wbizk (SPEC §1)

def camera_row(point_id: str, lat: float, lon: float, installed: dt.date, *, name: str = "ul. Testowa",
               district: str = "I", kind: str = "monitoring miejski", cameras: int = 1,
               moved: dt.date | None = None, removed: dt.date | None = None,
               cost: float | None = 20000.0) -> list[object]:
    return [point_id, name, district, lat, lon, kind, cameras, installed, moved, removed, "tak", "tak",
            cost, "uwagi: kontakt p. Kowalski"]


def cameras_xlsx(path: Path, rows: list[list[object]], *, header: list[str] | None = None,
                 sheet: str = "Punkty kamerowe") -> Path:
    return _xlsx(path, sheet, header or CAMERA_HEADER, rows)


def _xlsx(path: Path, sheet: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """One sheet, header on row 1; dates and times as typed cells (as the simulator writes them)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- cameras_zdmk (SPEC §2)

def zdmk_feature(point_id: str = "ZDMK-UTCS-0001", lon: float = 19.9372, lat: float = 50.0614,
                 **properties: Any) -> dict[str, Any]:
    """One GeoJSON Point feature with the SPEC's properties (overridable; ``None`` drops one)."""
    props = {"id": point_id, "nazwa": "Aleje Trzech Wieszczów / Czarnowiejska", "rodzaj": point_id.split("-")[1]
             if point_id.count("-") == 2 else "UTCS", "data_uruchomienia": "2019-05-01", "status": "aktywna",
             "liczba_kamer": 2}
    props.update(properties)
    props = {k: v for k, v in props.items() if v is not None}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def zdmk_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    """UTF-8 GeoJSON FeatureCollection, as the simulator writes it (``indent=1``, no ASCII escaping)."""
    doc = {"type": "FeatureCollection", "features": features}
    return _write(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


# --------------------------------------------------------------------------- interventions (SPEC §3)

INTERVENTIONS_OK_ROW = ["INT-20250301-0001", "2025-03-01T10:15:00+01:00", "WBZK-0001", "alkohol", "mandat",
                        f"spożywanie alkoholu przy sklepie; {PERSONAL_NOTE}", "SM1234"]


def interventions_row(**changes: str) -> list[str]:
    return _override(INTERVENTIONS_HEADER, INTERVENTIONS_OK_ROW, changes)


def interventions_rows(n: int, day: str = "2025-03-01", **changes: str) -> list[list[str]]:
    """``n`` valid interventions of ``day`` (winter time: offset +01:00), one per hour from 00:15."""
    return [interventions_row(**{"id_interwencji": f"INT-{day.replace('-', '')}-{i:04d}",
                                 "data_zdarzenia": f"{day}T{(i - 1) % 24:02d}:15:00+01:00", **changes})
            for i in range(1, n + 1)]


def interventions_csv(path: Path, rows: list[list[str]], *, header: list[str] | None = None,
                      encoding: str = "utf-8", delimiter: str = ";", newline: str = "\n",
                      final_newline: bool = True) -> Path:
    """UTF-8, ``;``, ``"`` quoting (SPEC §3)."""
    return _write(path, delimited_bytes(header or INTERVENTIONS_HEADER, rows, delimiter=delimiter,
                                        encoding=encoding, newline=newline, final_newline=final_newline))


# --------------------------------------------------------------------------- survey (SPEC §4)

SURVEY_OK = {"resp_id": 1, "fala": "2025W", "dzielnica": 1, "waga": 1.0, "plec": 2, "wiek_kat": 3,
             "q1_bezp_dzien": 4, "q2_bezp_noc": 3, "q3_bezp_okolica": 4, "q4_bezp_centrum": 3,
             "q5_zaufanie_sm": 4, "q6_zaufanie_policja": 5, "q7_kamery_wiedza": 1,
             "m1_lat": 50.0614, "m1_lon": 19.9372, "m1_powod": 1, "m2_lat": None, "m2_lon": None, "m2_powod": None,
             "m3_lat": None, "m3_lon": None, "m3_powod": None}


def survey_rows(n: int = 1800, wave: str = "2025W", **changes: Any) -> list[dict[str, Any]]:
    """``n`` respondents of ``wave``, districts 1–18 in turn (a full wave has about 1,800)."""
    unknown = set(changes) - set(SURVEY_VARIABLES)
    if unknown:
        raise KeyError(f"no variable(s) {sorted(unknown)}")
    return [{**SURVEY_OK, "resp_id": i, "fala": wave, "dzielnica": (i - 1) % 18 + 1, **changes}
            for i in range(1, n + 1)]


def survey_csv(path: Path, rows: list[dict[str, Any]], *, header: list[str] | None = None,
               encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """The research company's CSV: UTF-8, ``,``, numbers as pandas writes floats (``1.0``)."""
    cols = header or SURVEY_VARIABLES
    body = [[_survey_cell(r.get(c)) for c in cols] for r in rows]
    return _write(path, delimited_bytes(cols, body, delimiter=delimiter, encoding=encoding))


def _survey_cell(v: Any) -> Any:
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def survey_sav(path: Path, rows: list[dict[str, Any]]) -> Path:
    """An SPSS ``.sav`` with variable and value labels (numeric variables as doubles, like SPSS)."""
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame([{c: _survey_cell(r.get(c)) for c in SURVEY_VARIABLES} for r in rows],
                         columns=SURVEY_VARIABLES)
    for c in SURVEY_VARIABLES:
        if c != "fala":
            frame[c] = pd.to_numeric(frame[c])
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(frame, str(path), column_labels={"q1_bezp_dzien": "Bezpiecznie w dzień"},
                         variable_value_labels={"plec": {1.0: "mężczyzna", 2.0: "kobieta", 9.0: "odmowa"}},
                         file_label="Badanie poczucia bezpieczeństwa")
    return path


# --------------------------------------------------------------------------- city_guard (SPEC §6)

CITY_GUARD_OK_ROW = ["SM/2025-04/00000", "2025-04-01T10:00:00Z", "51§1", "zakłócanie porządku", "50.0614",
                     "19.9372", "R1"]


def city_guard_row(**changes: str) -> list[str]:
    return _override(CITY_GUARD_HEADER, CITY_GUARD_OK_ROW, changes)


def city_guard_rows(n: int = 3, month: str = "2025-04", **changes: str) -> list[list[str]]:
    """``n`` valid City Guard records (UTC times, day ``i + 1`` of ``month``) in central Kraków."""
    return [city_guard_row(**{"id": f"SM/{month}/{i:05d}", "czas_utc": f"{month}-{i + 1:02d}T10:00:00Z",
                              **changes}) for i in range(n)]


def city_guard_csv(path: Path, n: int = 3, month: str = "2025-04", *, rows: list[list[str]] | None = None,
                   header: list[str] | None = None, encoding: str = "utf-8", delimiter: str = ",",
                   newline: str = "\n", final_newline: bool = True) -> Path:
    """``n`` valid City Guard records (SPEC §6: UTF-8, comma, UTC times) in central Kraków, or ``rows``."""
    body = city_guard_rows(n, month) if rows is None else rows
    return _write(path, delimited_bytes(header or CITY_GUARD_HEADER, body, delimiter=delimiter,
                                        encoding=encoding, newline=newline, final_newline=final_newline))


# --------------------------------------------------------------------------- mcpu (SPEC §7)

MCPU_SHEET = "Interwencje"


def mcpu_row(day: dt.date | str = dt.date(2025, 2, 14), time: dt.time | str = dt.time(22, 40), *,
             address: str = "ul. Floriańska 12/4", district: str = "Stare Miasto",
             kind: str = "nietrzeźwy w miejscu publicznym", lat: float | str = 50.0640,
             lon: float | str = 19.9398) -> list[object]:
    return [day, time, address, district, kind, lat, lon]


def mcpu_xlsx(path: Path, rows: list[list[object]], *, header: list[str] | None = None,
              sheet: str = MCPU_SHEET) -> Path:
    """The quarterly workbook: sheet ``Interwencje``, typed date and time cells (SPEC §7)."""
    return _xlsx(path, sheet, header or MCPU_HEADER, rows)


# --------------------------------------------------------------------------- sos_alerts (SPEC §8)

def sos_event(**changes: Any) -> dict[str, Any]:
    event = {"event_id": "SOS-01-20260201100000-00000", "point_id": "SOS-01",
             "pressed_at": "2026-02-01T10:00:00+01:00", "call_duration_s": 45, "classification": "confirmed_other",
             "camera_point": "WBZK-0001", "operator_note": f"rozmowa ze zgłaszającym; {PERSONAL_NOTE}"}
    unknown = set(changes) - set(SOS_FIELDS)
    if unknown:
        raise KeyError(f"no field(s) {sorted(unknown)}")
    event.update(changes)
    return event


def sos_events(n: int, hour: str = "2026-02-01T10", **changes: Any) -> list[dict[str, Any]]:
    """``n`` events pressed in ``hour`` (winter time), one minute apart, in order."""
    return [sos_event(**{"event_id": f"SOS-01-{hour.replace('-', '').replace('T', '')}{i:02d}00-{i:05d}",
                         "pressed_at": f"{hour}:{i:02d}:00+01:00", **changes}) for i in range(n)]


def sos_jsonl(path: Path, events: list[dict[str, Any] | str]) -> Path:
    """JSON Lines, UTF-8, one event per line (a string is written as the line itself)."""
    body = "".join((e if isinstance(e, str) else json.dumps(e, ensure_ascii=False)) + "\n" for e in events)
    return _write(path, body.encode("utf-8"))


# --------------------------------------------------------------------------- anpr_counts (SPEC §9)

ANPR_OK_ROW = ["ZDMK-ANPR-0001", "2025-03-01T10:00:00+01:00", "120", "100"]


def anpr_row(**changes: str) -> list[str]:
    return _override(ANPR_HEADER, ANPR_OK_ROW, changes)


def anpr_rows(n: int, day: str = "2025-03-01", camera: str = "ZDMK-ANPR-0001", **changes: str) -> list[list[str]]:
    """``n`` hourly counts of one camera from local midnight of ``day`` (winter time)."""
    return [anpr_row(**{"kamera_id": camera, "godzina_od": f"{day}T{i:02d}:00:00+01:00", **changes})
            for i in range(n)]


def anpr_csv(path: Path, rows: list[list[str]], *, header: list[str] | None = None, encoding: str = "utf-8",
             delimiter: str = ";", newline: str = "\n", final_newline: bool = True) -> Path:
    """UTF-8, ``;`` (SPEC §9)."""
    return _write(path, delimited_bytes(header or ANPR_HEADER, rows, delimiter=delimiter, encoding=encoding,
                                        newline=newline, final_newline=final_newline))


# --------------------------------------------------------------------------- every source

FILE_NAMES = {
    "anpr_counts": "anpr_2025-03-01.csv",
    "cameras_wbizk": "punkty_kamerowe_2025-01-01.xlsx",
    "cameras_zdmk": "kamery_zdmk_2025-01-01.geojson",
    "city_guard": "sm_wykroczenia_2025-04.csv",
    "interventions": "interwencje_2025-03-01.csv",
    "mcpu": "mcpu_interwencje_2025-Q1.xlsx",
    "police": "kmp_zdarzenia_2025-03.csv",
    "sos_alerts": "sos_2026-02-01T10.jsonl",
    "survey": "ankieta_2025_wiosna.csv",
}


def sample(source: str, directory: Path, n: int = 2) -> Path:
    """A valid delivery of ``source`` with ``n`` records under its SPEC file name in ``directory``."""
    path = directory / FILE_NAMES[source]
    if source == "police":
        return police_csv(path, police_rows(n))
    if source == "cameras_wbizk":
        return cameras_xlsx(path, [camera_row(f"WBZK-{i:04d}", 50.0614, 19.9372, dt.date(2020, 1, 1))
                                   for i in range(1, n + 1)])
    if source == "cameras_zdmk":
        return zdmk_geojson(path, [zdmk_feature(f"ZDMK-UTCS-{i:04d}") for i in range(1, n + 1)])
    if source == "city_guard":
        return city_guard_csv(path, n)
    if source == "interventions":
        return interventions_csv(path, interventions_rows(n))
    if source == "mcpu":
        return mcpu_xlsx(path, [mcpu_row(dt.date(2025, 1, i)) for i in range(1, n + 1)])
    if source == "sos_alerts":
        return sos_jsonl(path, sos_events(n))
    if source == "anpr_counts":
        return anpr_csv(path, anpr_rows(n))
    if source == "survey":
        return survey_csv(path, survey_rows(n))
    raise KeyError(source)


def refusal(source: str, path: Path) -> Any:
    """Parse ``path`` as ``source`` expecting a refusal; the refusal (its message names the file)."""
    import pytest

    from ingestion.core import RefusedDelivery
    from ingestion.sources import SOURCES

    with pytest.raises(RefusedDelivery) as e:
        SOURCES[source].parse(path)
    assert str(e.value).startswith(path.name), str(e.value)
    assert e.value.file == path.name
    return e.value


def damage_xlsx(path: Path, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """The workbook with one archive member cut in the middle (its XML no longer closes)."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i.filename) for i in src.infolist()}
    members[member] = members[member][: len(members[member]) // 2]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, body in members.items():
            dst.writestr(name, body)
    return path


def rows_of(path: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` over a DuckDB file, opened read-only and closed again."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ledger_rows(cfg: Any, sql: str) -> list[tuple]:
    """The rows of ``sql`` over the ledger, opened read-only and closed again."""
    return rows_of(cfg.ledger_path, sql)


def dbt_project_copy(tmp_path: Path, monkeypatch: Any, tests: dict[str, str] | None = None) -> tuple[Path, Any]:
    """A copy of the repository's dbt project, with ``tests`` (file name -> SQL) added to its
    data tests, made the one the platform builds (its manifest written); returns the copy
    and the settings. A test may add more later (then ``write_manifest(c, force=True)``)."""
    import shutil

    from ingestion.config import settings
    from warehouse.dbt import write_manifest

    project = tmp_path / "dbt"
    shutil.copytree(Path(__file__).resolve().parent.parent / "dbt", project,
                    ignore=shutil.ignore_patterns("target", "logs"))
    for name, sql in (tests or {}).items():
        (project / "tests" / name).write_text(sql)
    monkeypatch.setenv("KSP_DBT_PROJECT_DIR", str(project))
    monkeypatch.setenv("KSP_DBT_MANIFEST", str(project / "target" / "manifest.json"))
    c = settings()
    write_manifest(c)
    return project, c


def assert_parsers_agree(source_name: str, paths: list[Path], work: Path) -> dict[str, int]:
    """The columnar parser (a burst of ``paths`` at once) and the row-by-row reference
    (file by file) settle every file alike: the same refusal (rule, line, column,
    message), or the same rows read, the same rejects (line, rule, column, detail, raw
    values), the same raw view of every line and the same landing Parquet, byte for
    byte. Returns how many files were refused, loaded, and rows rejected."""
    import datetime as dt_

    import duckdb

    from ingestion.core import RefusedDelivery
    from ingestion.landing import _LandingCopy, _write_landing_copies
    from ingestion.sources import get

    source = get(source_name)
    assert source.parse_many is not None and source.parse_rows is not None
    columnar = source.parse_many(paths)
    con = duckdb.connect()
    seen = {"refused": 0, "parsed": 0, "rejects": 0}
    copies: dict[str, list[_LandingCopy]] = {"columnar": [], "rows": []}
    for path, fast in zip(paths, columnar, strict=True):
        try:
            reference = source.parse_rows(path)
        except RefusedDelivery as refusal:
            assert isinstance(fast, RefusedDelivery), f"{path.name}: the reference refuses ({refusal}), columnar not"
            assert (str(fast), fast.rule, fast.line, fast.column) == (
                str(refusal), refusal.rule, refusal.line, refusal.column), path.name
            seen["refused"] += 1
            continue
        assert not isinstance(fast, RefusedDelivery), f"{path.name}: columnar refuses ({fast}), the reference not"
        assert fast.rows_read == reference.rows_read, path.name
        assert fast.rejects == reference.rejects, f"{path.name}: {fast.rejects[:3]} != {reference.rejects[:3]}"
        assert dict(fast.raw.items()) == dict(reference.raw.items()), path.name
        for name, parsed in (("columnar", fast), ("rows", reference)):
            copies[name].append(_LandingCopy(parsed.frame, work / name / source_name / f"{path.stem}.parquet",
                                             "d" * 64, path.name, "p"))
        seen["parsed"] += 1
        seen["rejects"] += len(reference.rejects)
    for batch in copies.values():
        _write_landing_copies(con, source, batch, at=dt_.datetime(2026, 7, 1, tzinfo=dt_.UTC))
    for fast_copy, reference_copy in zip(copies["columnar"], copies["rows"], strict=True):
        assert fast_copy.target.read_bytes() == reference_copy.target.read_bytes(), \
            f"{fast_copy.file_name}: the landed Parquet differs"
    return seen
