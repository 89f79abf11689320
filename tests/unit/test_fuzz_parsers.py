"""Parsers never crash: any bytes give typed rows or a refusal that names the file.

hypothesis mutates valid deliveries (flipped bytes, cut files, odd encodings, huge
fields) and feeds raw noise; the only acceptable outcomes are a ``Parsed`` table or a
``RefusedDelivery``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.core import Parsed, RefusedDelivery
from ingestion.sources import SOURCES
from tests.builders import POLICE_OK_ROW, camera_row, cameras_xlsx, police_csv

pytestmark = pytest.mark.unit

SAMPLES: dict[str, tuple[str, bytes]] = {}


def _samples() -> dict[str, tuple[str, bytes]]:
    if SAMPLES:
        return SAMPLES
    tmp = Path(tempfile.mkdtemp())
    police = police_csv(tmp / "p.csv", [POLICE_OK_ROW, ["KMP/2025/03/00002", *POLICE_OK_ROW[1:]]])
    SAMPLES["police"] = ("kmp_zdarzenia_2025-03.csv", police.read_bytes())
    xlsx = cameras_xlsx(tmp / "c.xlsx", [camera_row("WBZK-0001", 50.06, 19.93, dt.date(2020, 1, 1))])
    SAMPLES["cameras_wbizk"] = ("punkty_kamerowe_2025-01-01.xlsx", xlsx.read_bytes())
    SAMPLES["city_guard"] = ("sm_wykroczenia_2025-03.csv", (
        "id,czas_utc,art_kw,kategoria_sm,lat,lon,rejon\n"
        "SM/202503/000001,2025-03-01T10:00:00Z,51§1,porządek publiczny,50.06,19.94,R-I-1\n").encode())
    SAMPLES["interventions"] = ("interwencje_2025-03-01.csv", (
        b"id_interwencji;data_zdarzenia;nr_punktu;kategoria;sposob_zalatwienia;opis;operator\n"
        b"INT-1;2025-03-01T10:00:00+01:00;WBZK-0001;alkohol;mandat;opis;SM1234\n"))
    SAMPLES["anpr_counts"] = ("anpr_2025-03-01.csv", (
        b"kamera_id;godzina_od;liczba_odczytow;liczba_unikalnych\n"
        b"ZDMK-ANPR-0001;2025-03-01T10:00:00+01:00;100;90\n"))
    SAMPLES["sos_alerts"] = ("sos_2026-02-01T10.jsonl", (json.dumps({
        "event_id": "e1", "point_id": "SOS-01", "pressed_at": "2026-02-01T10:00:00+01:00", "call_duration_s": 3,
        "classification": "unconfirmed", "camera_point": "WBZK-0001", "operator_note": "x"}) + "\n").encode())
    SAMPLES["cameras_zdmk"] = ("kamery_zdmk_2025-01-01.geojson", json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
            "type": "Point", "coordinates": [19.94, 50.06]}, "properties": {
            "id": "ZDMK-UTCS-0001", "nazwa": "x", "rodzaj": "UTCS", "data_uruchomienia": "2020-01-01",
            "status": "aktywna", "liczba_kamer": 2}}]}).encode())
    buf = io.StringIO()
    buf.write("resp_id,fala,dzielnica,waga,plec,wiek_kat,q1_bezp_dzien,q2_bezp_noc,q3_bezp_okolica,"
              "q4_bezp_centrum,q5_zaufanie_sm,q6_zaufanie_policja,q7_kamery_wiedza,m1_lat,m1_lon,m1_powod,"
              "m2_lat,m2_lon,m2_powod,m3_lat,m3_lon,m3_powod\n")
    buf.write("1,2025W,1,1.0,1,2,4,3,4,3,4,4,1,50.06,19.94,3,,,,,,\n")
    SAMPLES["survey"] = ("ankieta_2025_wiosna.csv", buf.getvalue().encode())
    SAMPLES["mcpu"] = ("mcpu_interwencje_2025-Q1.xlsx", SAMPLES["cameras_wbizk"][1])  # wrong sheet: a refusal
    return SAMPLES


def _parse(source: str, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            result = SOURCES[source].parse(path)
        except RefusedDelivery as e:
            assert name in str(e) and e.rule
            return
        assert isinstance(result, Parsed)
        assert result.rows_read >= len(result.frame)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("huge"), st.integers(0, 10_000), st.integers(100_000, 300_000)),
    st.tuples(st.just("reencode"), st.sampled_from(["utf-16", "cp1250", "latin-1", "utf-8-sig"]), st.just(0)),
)


def _mutate(data: bytes, ops: list[tuple]) -> bytes:
    for kind, a, b in ops:
        if kind == "flip" and data:
            i = a % len(data)
            data = data[:i] + bytes([b]) + data[i + 1:]
        elif kind == "cut":
            data = data[: a % (len(data) + 1)]
        elif kind == "insert":
            i = a % (len(data) + 1)
            data = data[:i] + bytes([b]) * 3 + data[i:]
        elif kind == "huge":
            i = a % (len(data) + 1)
            data = data[:i] + b"x" * b + data[i:]
        elif kind == "reencode":
            with contextlib.suppress(UnicodeDecodeError):
                data = data.decode("utf-8").encode(a, errors="replace")
    return data


@pytest.mark.parametrize("source", sorted(SOURCES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_deliveries_never_crash(source: str, ops: list[tuple]) -> None:
    name, data = _samples()[source]
    _parse(source, name, _mutate(data, ops))


@pytest.mark.parametrize("source", sorted(SOURCES))
@settings(max_examples=25, deadline=None)
@given(noise=st.binary(min_size=0, max_size=2_000))
def test_random_bytes_never_crash(source: str, noise: bytes) -> None:
    name, _ = _samples()[source]
    _parse(source, name, noise)


def test_the_unmutated_samples_load() -> None:
    for source, (name, data) in _samples().items():
        if source == "mcpu":
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            parsed = SOURCES[source].parse(path)
            assert len(parsed.frame) >= 1 and parsed.rejects == [], (source, parsed.rejects)
