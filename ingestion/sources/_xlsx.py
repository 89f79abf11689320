"""Reading one sheet of an XLSX delivery strictly (openpyxl, read-only, streaming)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingestion.core import RefusedDelivery


def read_sheet(path: Path, sheet: str, expected: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """See :func:`_read_sheet`; a workbook damaged inside (bad compression, broken XML) is
    refused as unreadable, whenever the damage shows up while streaming its rows."""
    try:
        yield from _read_sheet(path, sheet, expected)
    except RefusedDelivery:
        raise
    except Exception as e:  # openpyxl surfaces zlib, XML and zip errors lazily, of many types
        raise RefusedDelivery(path.name, "not_xlsx", f"the workbook is damaged ({type(e).__name__}: {e})") from None


def _read_sheet(path: Path, sheet: str, expected: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row number, {column: value})`` for the non-empty rows under the header.

    Refuses a file that is not a workbook, lacks the sheet, or whose header row does
    not hold exactly the SPEC's columns.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise RefusedDelivery(path.name, "not_xlsx", f"cannot be opened as an XLSX workbook ({e})") from None
    try:
        if sheet not in wb.sheetnames:
            raise RefusedDelivery(path.name, "missing_sheet", f"no sheet '{sheet}' (sheets: {wb.sheetnames})")
        rows = wb[sheet].iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise RefusedDelivery(path.name, "empty", f"sheet '{sheet}' is empty", line=1)
        header = [str(h).strip() if h is not None else "" for h in header_row]
        while header and header[-1] == "":
            header.pop()
        missing = [c for c in expected if c not in header]
        if missing:
            raise RefusedDelivery(path.name, "missing_column", f"missing column(s) {missing}; header is {header}",
                                  line=1, column=missing[0])
        extra = [c for c in header if c not in expected]
        if extra:
            raise RefusedDelivery(path.name, "unexpected_column", f"column(s) {extra} are not in the SPEC",
                                  line=1, column=extra[0])
        index = {c: header.index(c) for c in expected}
        for line, values in enumerate(rows, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield line, {c: (values[i] if i < len(values) else None) for c, i in index.items()}
    finally:
        wb.close()
