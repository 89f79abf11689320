"""A report as data, rendered twice: HTML (Jinja2, the mail body) and PDF (Typst).

Every report is a :class:`Report` of sections (key-figure cards, findings in words, a
figure, a table, notes); one HTML template and one Typst template render any of them
(``serving/templates/``), so the three reports cannot drift apart in layout.

Why Typst for the PDF (docs/reports.md): the ``typst`` wheel carries its compiler, so
the PDF engine installs from PyPI like any package, with no system library and no
download at run time; it takes the report's data as JSON and lays it out itself.
WeasyPrint would render the same HTML but needs Pango from Debian.

A report folder holds ``raport.pdf``, ``raport.html`` (images inlined, readable on a
phone), the figures as PNG, each table as CSV and ``meta.json`` (kind, period, run id,
published build). It is written under a temporary name and renamed into place, so a
reader never sees half a report; the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
ISSUER = "Urząd Miasta Krakowa · Wydział Bezpieczeństwa i Zarządzania Kryzysowego"


@dataclass
class Card:
    label: str
    value: str
    change: str = ""


@dataclass
class Figure:
    file: str  # PNG file name inside the report folder
    caption: str
    png: bytes = field(repr=False, default=b"")


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    align: list[str] = field(default_factory=list)  # "l" or "r" per column
    widths: list[float] = field(default_factory=list)  # relative widths in the PDF (0: auto)
    csv_name: str | None = None

    def __post_init__(self) -> None:
        self.align = self.align or ["l"] * len(self.columns)
        self.widths = self.widths or [0] * len(self.columns)


@dataclass
class Section:
    heading: str
    findings: list[str] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    figure: Figure | None = None
    table: Table | None = None
    notes: list[str] = field(default_factory=list)
    level: int = 1
    page_break: bool = False


@dataclass
class Report:
    kind: str  # monthly | survey | duty
    key: str  # 2026-03, 2025W, the duty summary's time stamp
    title: str
    subtitle: str
    period_label: str
    footer: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)
    issuer: str = ISSUER


def _document(report: Report) -> dict[str, Any]:
    doc = asdict(report)
    doc.pop("meta")
    for s in doc["sections"]:
        if s["figure"]:
            s["figure"].pop("png")
    return doc


def render_html(report: Report, images: dict[str, bytes]) -> str:
    """The report as one self-contained HTML page (images as data URIs): the mail body."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    uris = {name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in images.items()}
    return env.get_template("report.html.j2").render(doc=_document(report), images=uris)


def render_pdf(report: Report, folder: Path) -> bytes:
    """The report as PDF, compiled by Typst inside ``folder`` (where its figures are)."""
    import matplotlib
    import typst

    shutil.copyfile(TEMPLATES / "report.typ", folder / "report.typ")
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # DejaVu Sans, every Polish letter
    try:
        return typst.compile(str(folder / "report.typ"), root=str(folder), font_paths=[str(fonts)],
                             sys_inputs={"report": json.dumps(_document(report), ensure_ascii=False)})
    finally:
        (folder / "report.typ").unlink(missing_ok=True)


def _csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")  # opens as columns in a Polish Excel
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buf.getvalue()


def write(report: Report, target: Path) -> Path:
    """Render the report into ``target`` (a folder), replacing it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{time.time_ns()}.tmp")
    tmp.mkdir()
    try:
        images = {s.figure.file: s.figure.png for s in report.sections if s.figure}
        for name, png in images.items():
            (tmp / name).write_bytes(png)
        for s in report.sections:
            if s.table is not None and s.table.csv_name:
                (tmp / s.table.csv_name).write_text("\ufeff" + _csv(s.table), encoding="utf-8")
        (tmp / "raport.html").write_text(render_html(report, images), encoding="utf-8")
        (tmp / "raport.pdf").write_bytes(render_pdf(report, tmp))
        (tmp / "meta.json").write_text(json.dumps({"kind": report.kind, "key": report.key, "title": report.title,
                                                   **report.meta}, indent=2, ensure_ascii=False, default=str),
                                       encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{time.time_ns()}.old")
        os.replace(target, old)
    os.replace(tmp, target)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return target
