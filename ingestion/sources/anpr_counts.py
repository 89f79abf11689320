"""``anpr_counts``: hourly vehicle counts per ANPR camera, daily CSV (SPEC §9).

The Police keep the plate reads: a delivery with licence plates in any column is
refused whole, before anything of it is parsed further, and nothing of it is landed.
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

COLUMNS_IN_FILE = ["kamera_id", "godzina_od", "liczba_odczytow", "liczba_unikalnych"]
PLATE_HEADERS = re.compile(r"rej|tablic|plate|numer_?pojazdu|nr_?pojazdu", re.IGNORECASE)


def _file_name(m: re.Match[str]) -> FileName:
    return FileName(period_key=m["date"], revision=0)


def refuse_plates(text: str, file: str) -> None:
    """Refuse the delivery if any header or any value looks like a licence plate."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    n = 0
    while True:
        n += 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise RefusedDelivery(file, "csv_syntax", str(e), line=n) from None
        for k, value in enumerate(fields):
            if (n == 1 and PLATE_HEADERS.search(value)) or privacy.has_plate(value):
                raise RefusedDelivery(file, "licence_plates", "the delivery carries licence plates; the Police "
                                      "keep plate reads and the platform must not receive them",
                                      line=n, column=f"#{k + 1}")


def _convert(rec: dict[str, str]) -> dict[str, Any]:
    at = cv.instant(rec["godzina_od"], "godzina_od")
    return {
        "camera_id": cv.text(rec["kamera_id"], "kamera_id"),
        "hour_start_at": at.astimezone(dt.UTC),
        "hour_start_local": at.replace(tzinfo=None),
        "reads": cv.integer(rec["liczba_odczytow"], "liczba_odczytow", required=True),
        "distinct_vehicles": cv.integer(rec["liczba_unikalnych"], "liczba_unikalnych", required=True),
    }


COLUMNS = ["camera_id", "hour_start_at", "hour_start_local", "reads", "distinct_vehicles"]


def _convert_frame(s: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_convert` for the whole file (the rows it leaves out go to :func:`_convert`)."""
    utc, local, _offset, ok_at = cv.v_instant(s["godzina_od"])
    reads, ok_reads = cv.v_integer(s["liczba_odczytow"])
    distinct, ok_distinct = cv.v_integer(s["liczba_unikalnych"])
    frame = pd.DataFrame({"camera_id": cv.v_text(s["kamera_id"]), "hour_start_at": utc, "hour_start_local": local,
                          "reads": reads, "distinct_vehicles": distinct})
    return frame, ok_at & ok_reads & ok_distinct


def _read(path: Path) -> Iterator[tuple[int, list[str]]]:
    text = decode_strict(path.read_bytes(), path.name, "utf-8")
    refuse_plates(text, path.name)
    return read_records(text, path.name, delimiter=";", expected=COLUMNS_IN_FILE)


PARSER = cv.Columnar(read=_read, in_file=COLUMNS_IN_FILE, columns=COLUMNS, convert_frame=_convert_frame,
                     convert_row=_convert)
parse = PARSER.parse  # one file (the landing parses bursts with PARSER.parse_many)


def parse_rows(path: Path) -> Parsed:
    """The file row by row: the reference the columnar :func:`parse` is tested against."""
    return cv.build(as_dicts(_read(path), COLUMNS_IN_FILE), _convert,
                    columns=COLUMNS, expected_fields=len(COLUMNS_IN_FILE))


SOURCE = Source(
    name="anpr_counts",
    pattern=re.compile(r"anpr_(?P<date>\d{4}-\d{2}-\d{2})\.csv"),
    description="anpr_YYYY-MM-DD.csv",
    columns=(
        ("camera_id", "VARCHAR"), ("hour_start_at", "TIMESTAMP WITH TIME ZONE"), ("hour_start_local", "TIMESTAMP"),
        ("reads", "INTEGER"), ("distinct_vehicles", "INTEGER"),
    ),
    parse=parse,
    parse_many=PARSER.parse_many,
    parse_rows=parse_rows,
    file_name=_file_name,
)
