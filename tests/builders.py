"""Deliveries built byte by byte in the SPEC formats, for tests that need exact content."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion.sources.cameras_wbizk import COLUMNS_IN_FILE as CAMERA_HEADER
from ingestion.sources.police import COLUMNS_IN_FILE as POLICE_HEADER

POLICE_OK_ROW = ["KMP/2025/03/00001", "14.03.2025", "21:15", "art. 278 § 1 kk",
                 "kradzież telefonu, zgłaszający Jan Nowak tel. 600 100 200", "ul. Długa 5",
                 "244210,55", "566980,10"]


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
    lines = [delimiter.join(header or POLICE_HEADER)] + [delimiter.join(r) for r in rows]
    text = newline.join(lines) + (newline if final_newline else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def camera_row(point_id: str, lat: float, lon: float, installed: dt.date, *, name: str = "ul. Testowa",
               district: str = "I", kind: str = "monitoring miejski", cameras: int = 1,
               moved: dt.date | None = None, removed: dt.date | None = None,
               cost: float | None = 20000.0) -> list[object]:
    return [point_id, name, district, lat, lon, kind, cameras, installed, moved, removed, "tak", "tak",
            cost, "uwagi: kontakt p. Kowalski"]


def cameras_xlsx(path: Path, rows: list[list[object]], *, header: list[str] | None = None,
                 sheet: str = "Punkty kamerowe") -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header or CAMERA_HEADER)
    for r in rows:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def city_guard_csv(path: Path, n: int = 3, month: str = "2025-04") -> Path:
    """``n`` valid City Guard records (SPEC §6: UTF-8, comma, UTC times) in central Kraków."""
    from ingestion.sources.city_guard import COLUMNS_IN_FILE

    lines = [",".join(COLUMNS_IN_FILE)] + [
        f"SM/{month}/{i:05d},{month}-{i + 1:02d}T10:00:00Z,51§1,zakłócanie porządku,50.0614,19.9372,R1"
        for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
