"""Byte-exact writers for the SPEC formats, deterministic for a given content.

Spreadsheets and SPSS files carry creation times of their own; they are pinned here
(ZIP entry times, workbook properties, the SAV header's date and time) so that the
same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def xlsx(
    path: Path,
    sheet: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    date_columns: Sequence[int] = (),
    time_columns: Sequence[int] = (),
    stamp: dt.datetime,
) -> None:
    """An XLSX workbook with one sheet, written streaming, with pinned timestamps."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            if i in date_columns and v is not None:
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "yyyy-mm-dd"
                cells.append(c)
            elif i in time_columns and v is not None:
                c = WriteOnlyCell(ws, value=v)
                c.number_format = "hh:mm"
                cells.append(c)
            else:
                cells.append(v)
        ws.append(cells)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "system ewidencji"
    buf = io.BytesIO()
    wb.save(buf)
    _atomic_write(path, _pin_zip(buf.getvalue(), stamp))


def _pin_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite the archive with fixed entry times; openpyxl stamps 'modified' with now()."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", body)
            dst.writestr(pinned, body)
    return out.getvalue()


def csv_bytes(
    frame: pd.DataFrame, *, sep: str, encoding: str, decimal: str = ".", line_terminator: str = "\n"
) -> bytes:
    text = frame.to_csv(sep=sep, index=False, decimal=decimal, lineterminator=line_terminator, quotechar='"')
    return text.encode(encoding)


def write_bytes(path: Path, data: bytes) -> None:
    _atomic_write(path, data)


def geojson(path: Path, features: list[dict[str, Any]]) -> None:
    doc = {"type": "FeatureCollection", "features": features}
    _atomic_write(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


def jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    _atomic_write(path, body.encode("utf-8"))


def sav(
    path: Path,
    frame: pd.DataFrame,
    *,
    column_labels: dict[str, str],
    value_labels: dict[str, dict[float, str]],
    stamp: dt.datetime,
) -> None:
    """An SPSS .sav file with variable and value labels; the header's date and time pinned."""
    import pyreadstat

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pyreadstat.write_sav(
        frame,
        str(tmp),
        column_labels=column_labels,
        variable_value_labels=value_labels,
        file_label="Badanie poczucia bezpieczeństwa",
    )
    data = bytearray(tmp.read_bytes())
    tmp.unlink()
    # SAV header: creation date (9 bytes, "dd mmm yy") at offset 92, time (8 bytes) at 101
    assert data[:4] in (b"$FL2", b"$FL3"), "not an SPSS system file"
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    data[92:101] = f"{stamp.day:02d} {months[stamp.month - 1]} {stamp.year % 100:02d}".encode("ascii")
    data[101:109] = stamp.strftime("%H:%M:%S").encode("ascii")
    _atomic_write(path, bytes(data))
