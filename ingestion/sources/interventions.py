"""``interventions``: City Guard operators' camera-initiated interventions, daily CSV (SPEC §3).

Times carry their UTC offset, so the DST fold is unambiguous here. Notes are scrubbed
and the operator's personal number is replaced by a keyed pseudonym.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingestion import privacy
from ingestion.core import FileName, Parsed, RefusedDelivery, Source
from ingestion.sources import _convert as cv
from ingestion.sources._text import as_dicts, decode_strict, read_records

COLUMNS_IN_FILE = ["id_interwencji", "data_zdarzenia", "nr_punktu", "kategoria", "sposob_zalatwienia", "opis",
                   "operator"]
CATEGORIES = {
    "porządek publiczny": "public_order", "alkohol": "alcohol", "ruch drogowy": "traffic",
    "zasłabnięcie": "collapsed_person", "osoba w kryzysie bezdomności": "homeless_in_crisis",
    "osoba zaginiona": "missing_person", "impreza masowa / zgromadzenie": "mass_event_or_assembly",
    "zagrożenie infrastruktury": "infrastructure_threat", "inne": "other",
}
OUTCOMES = {
    "patrol SM": "city_guard_patrol", "przekazano Policji": "passed_to_police",
    "pogotowie ratunkowe": "ambulance", "pouczenie": "caution", "mandat": "fine",
    "bez dalszych działań": "no_further_action",
}


def _key() -> bytes:
    """The pseudonym key, read once per file (never invented here: see ``landing``)."""
    from ingestion.config import settings

    return privacy.pseudonym_key(settings().pseudonym_key_path)


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["date"], revision=0)


def _convert(rec: dict[str, str], key: bytes) -> dict[str, Any]:
    at = cv.instant(rec["data_zdarzenia"], "data_zdarzenia")
    category = CATEGORIES.get(rec["kategoria"].strip())
    return {
        "intervention_id": cv.text(rec["id_interwencji"], "id_interwencji"),
        "occurred_at": at.astimezone(dt.UTC),
        "occurred_local": at.replace(tzinfo=None),
        "utc_offset_minutes": int(at.utcoffset().total_seconds() // 60),
        "camera_point_id": cv.text(rec["nr_punktu"], "nr_punktu"),
        "category_code": category,  # unknown labels stay null and are quarantined by the suite
        "category_label": cv.text(rec["kategoria"], "kategoria"),
        "outcome_code": cv.code(rec["sposob_zalatwienia"], OUTCOMES, "sposob_zalatwienia"),
        "note": privacy.scrub(cv.text(rec["opis"], "opis")),
        "operator_pseudonym": privacy.pseudonymise(cv.text(rec["operator"], "operator"), key, prefix="op"),
    }


def _raw(rec: dict[str, str], key: bytes) -> dict[str, Any]:
    return {**rec, "opis": privacy.scrub(rec.get("opis")),
            "operator": privacy.pseudonymise(rec.get("operator"), key, prefix="op")}


COLUMNS = ["intervention_id", "occurred_at", "occurred_local", "utc_offset_minutes", "camera_point_id",
           "category_code", "category_label", "outcome_code", "note", "operator_pseudonym"]


def _convert_frame(s: pd.DataFrame, key: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_convert` for the whole file (the rows it leaves out go to :func:`_convert`)."""
    utc, local, offset, ok_at = cv.v_instant(s["data_zdarzenia"])
    outcome = cv.v_map(s["sposob_zalatwienia"], lambda v: OUTCOMES.get(v.strip()))
    frame = pd.DataFrame({
        "intervention_id": cv.v_text(s["id_interwencji"]),
        "occurred_at": utc,
        "occurred_local": local,
        "utc_offset_minutes": offset,
        "camera_point_id": cv.v_text(s["nr_punktu"]),
        "category_code": cv.v_map(s["kategoria"], lambda v: CATEGORIES.get(v.strip())),
        "category_label": cv.v_text(s["kategoria"]),
        "outcome_code": outcome,
        "note": cv.v_map(cv.v_text(s["opis"]), privacy.scrub),
        "operator_pseudonym": cv.v_map(cv.v_text(s["operator"]),
                                       lambda v: privacy.pseudonymise(v, key, prefix="op")),
    })
    return frame, ok_at & outcome.notna().to_numpy()


def _read(path: Path) -> Iterator[tuple[int, list[str]]]:
    return read_records(decode_strict(path.read_bytes(), path.name, "utf-8"), path.name, delimiter=";",
                        expected=COLUMNS_IN_FILE)


def _parser(key: bytes) -> cv.Columnar:
    def finish(frame: pd.DataFrame) -> pd.DataFrame:
        frame["pseudonym_key_id"] = privacy.key_id(key)
        return frame

    return cv.Columnar(read=_read, in_file=COLUMNS_IN_FILE, columns=COLUMNS,
                       convert_frame=lambda s: _convert_frame(s, key), convert_row=lambda rec: _convert(rec, key),
                       raw_view=lambda rec: _raw(rec, key), finish=finish)


def parse_many(paths: list[Path]) -> list[Parsed | RefusedDelivery]:
    """The files as whole columns (the landing's parser). Every row's pseudonym comes from
    one key, read once, whose id each row carries (``pseudonym_key_id``): pseudonyms
    compare only under the same id."""
    return _parser(_key()).parse_many(paths)


def parse(path: Path) -> Parsed:
    return _parser(_key()).parse(path)


def parse_rows(path: Path) -> Parsed:
    """The file row by row: the reference the columnar :func:`parse` is tested against."""
    key = _key()
    parsed = cv.build(as_dicts(_read(path), COLUMNS_IN_FILE),
                      lambda rec: _convert(rec, key), columns=COLUMNS, expected_fields=len(COLUMNS_IN_FILE),
                      raw_view=lambda rec: _raw(rec, key))
    parsed.frame["pseudonym_key_id"] = privacy.key_id(key)
    return parsed


SOURCE = Source(
    name="interventions",
    pattern=re.compile(r"interwencje_(?P<date>\d{4}-\d{2}-\d{2})\.csv"),
    description="interwencje_YYYY-MM-DD.csv",
    columns=(
        ("intervention_id", "VARCHAR"), ("occurred_at", "TIMESTAMP WITH TIME ZONE"),
        ("occurred_local", "TIMESTAMP"), ("utc_offset_minutes", "INTEGER"), ("camera_point_id", "VARCHAR"),
        ("category_code", "VARCHAR"), ("category_label", "VARCHAR"), ("outcome_code", "VARCHAR"),
        ("note", "VARCHAR"), ("operator_pseudonym", "VARCHAR"), ("pseudonym_key_id", "VARCHAR"),
    ),
    parse=parse,
    parse_many=parse_many,
    parse_rows=parse_rows,
    file_name=_file_name,
    time_column="occurred_at",
    record_key="intervention_id",
    pseudonymises=True,
)
