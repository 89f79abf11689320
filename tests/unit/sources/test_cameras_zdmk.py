"""The ZDMK parser reads exactly SPEC §2: a GeoJSON FeatureCollection of WGS84 points."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ingestion.core import RefusedDelivery
from ingestion.sources import cameras_zdmk
from tests.builders import refusal, zdmk_feature, zdmk_geojson

pytestmark = pytest.mark.unit
NAME = "kamery_zdmk_2026-01-31.geojson"


def test_reads_features_kinds_status_and_coordinates(tmp_path: Path) -> None:
    path = zdmk_geojson(tmp_path / NAME, [
        zdmk_feature("ZDMK-UTCS-0001"),
        zdmk_feature("ZDMK-ANPR-0002", lon=20.0, lat=50.05, nazwa="al. Pokoju – wjazd", status="nieaktywna",
                     liczba_kamer="3", data_uruchomienia="2021-11-30"),
    ])
    assert "–".encode() in path.read_bytes()  # UTF-8, not escaped
    parsed = cameras_zdmk.parse(path)
    assert parsed.rejects == [] and parsed.rows_read == 2
    first, second = parsed.frame.to_dict("records")
    assert (first["camera_kind"], first["is_active"], first["camera_count"]) == ("utcs", True, 2)
    assert first["installed_date"] == dt.date(2019, 5, 1) and first["_line"] == 1  # line = feature number
    assert (first["longitude"], first["latitude"]) == (19.9372, 50.0614)  # GeoJSON order: lon, lat
    assert 566_500 < first["easting_m"] < 567_500 and 243_700 < first["northing_m"] < 244_700
    assert (second["camera_kind"], second["is_active"], second["camera_count"]) == ("anpr", False, 3)
    assert second["name"] == "al. Pokoju – wjazd" and second["installed_date"] == dt.date(2021, 11, 30)
    assert first["is_inside_city"] and second["is_inside_city"]


def test_bad_features_become_rejects(tmp_path: Path) -> None:
    line = zdmk_feature("ZDMK-UTCS-0003")
    line["geometry"] = {"type": "LineString", "coordinates": [[19.9, 50.0], [19.91, 50.01]]}
    no_geometry = zdmk_feature("ZDMK-UTCS-0004")
    del no_geometry["geometry"]
    path = zdmk_geojson(tmp_path / NAME, [
        zdmk_feature("ZDMK-UTCS-0001"),
        zdmk_feature("ZDMK-UTCS-0002", rodzaj="CCTV"),              # feature 2
        line,                                                        # 3
        no_geometry,                                                 # 4
        "not a feature",                                             # 5
        zdmk_feature("ZDMK-UTCS-0006", status="w naprawie"),         # 6
        zdmk_feature("ZDMK-UTCS-0007", data_uruchomienia="2019-13-01"),  # 7
        zdmk_feature("ZDMK-UTCS-0008", liczba_kamer=None),           # 8: property missing after feature 1
        zdmk_feature("ZDMK-UTCS-0009", liczba_kamer=1.5),            # 9
        zdmk_feature("ZDMK-UTCS-0010"),
    ])
    parsed = cameras_zdmk.parse(path)
    assert {(r.line, r.rule, r.column) for r in parsed.rejects} == {
        (2, "unknown_code", "rodzaj"), (3, "not_a_point", "geometry"), (4, "field_count", None),
        (5, "field_count", None), (6, "unknown_code", "status"), (7, "unparseable_date", "data_uruchomienia"),
        (8, "missing_value", "liczba_kamer"), (9, "unparseable_number", "liczba_kamer")}
    assert next(r for r in parsed.rejects if r.line == 2).raw["rodzaj"] == "CCTV"
    assert list(parsed.frame["camera_point_id"]) == ["ZDMK-UTCS-0001", "ZDMK-UTCS-0010"]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(json.dumps({"type": "FeatureCollection", "features": [
        zdmk_feature(nazwa="Łagiewniki")]}, ensure_ascii=False).encode("cp1250"))
    e = refusal("cameras_zdmk", path)
    assert e.rule == "encoding"

    path.write_bytes(b'{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",\n')
    e = refusal("cameras_zdmk", path)
    assert e.rule == "not_geojson" and e.line is not None and e.line >= 3

    for doc in ({"type": "Feature", "features": []}, {"type": "FeatureCollection"}, [1, 2]):
        path.write_text(json.dumps(doc), encoding="utf-8")
        assert refusal("cameras_zdmk", path).rule == "not_geojson"

    zdmk_geojson(path, [zdmk_feature(liczba_kamer=None), zdmk_feature()])
    e = refusal("cameras_zdmk", path)
    assert (e.rule, e.column, e.line) == ("missing_column", "liczba_kamer", 1)

    path.write_bytes(b"")
    assert refusal("cameras_zdmk", path).rule == "not_geojson"


def test_file_name_gives_the_snapshot_date() -> None:
    assert cameras_zdmk.SOURCE.match(Path(NAME)).period_key == "2026-01-31"
    with pytest.raises(RefusedDelivery) as e:
        cameras_zdmk.SOURCE.match(Path("kamery_zdmk_2026-01-31.json"))
    assert e.value.rule == "file_name"


def test_suite_row_rules(tmp_path: Path, row_rules) -> None:
    path = zdmk_geojson(tmp_path / NAME, [
        zdmk_feature("ZDMK-UTCS-0001"), zdmk_feature("ZDMK-UTCS-0001"), zdmk_feature("ZDMK-CCTV-0003"),
        zdmk_feature("ZDMK-UTCS-0004", lat=49.5), zdmk_feature("ZDMK-UTCS-0005", lon=21.0),
        zdmk_feature("ZDMK-UTCS-0006", lon=19.80, lat=49.97), zdmk_feature("ZDMK-UTCS-0007", liczba_kamer=0),
    ])
    parsed = cameras_zdmk.parse(path)
    assert [r.rule for r in parsed.rejects] == ["unknown_code"]  # CCTV is not a kind
    [found] = row_rules("cameras_zdmk", parsed)
    assert found == {1: ("camera_point_id_unique", "camera_point_id"),
                     2: ("camera_point_id_unique", "camera_point_id"),
                     4: ("latitude_in_krakow", "latitude"), 5: ("longitude_in_krakow", "longitude"),
                     6: ("inside_city", "is_inside_city"), 7: ("camera_count_positive", "camera_count")}


def test_suite_id_format_rule(tmp_path: Path, row_rules) -> None:
    path = zdmk_geojson(tmp_path / NAME, [zdmk_feature("ZDMK-UTCS-0001"), zdmk_feature("ZDMK-UTCS-12", rodzaj="UTCS")])
    [found] = row_rules("cameras_zdmk", cameras_zdmk.parse(path))
    assert found == {2: ("camera_point_id_format", "camera_point_id")}
