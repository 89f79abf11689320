"""Data Docs work offline: every script, stylesheet, font and image is in the site folder.

A real landing run (real DuckDB ledger, real GX file context) renders the site; every
page is then read for remote references, and, where chromium is installed, opened
with every host name unresolvable to see the validation tables drawn.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ingestion.config import Settings
from ingestion.data_docs import CDN, VENDOR, rewrite_page
from ingestion.validation import data_docs_index
from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.unit

TAG = re.compile(r"<(script|link|img)\b[^>]*>", re.IGNORECASE)
REF = re.compile(r"""\b(?:src|href)\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?(https?:)?//""", re.IGNORECASE)
FONT_FACE = re.compile(r"@font-face\s*{[^}]*}", re.IGNORECASE)
REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data Docs of two police deliveries landed for real, one run each (the second with a
    quarantined row): the site is built twice, as after two ingest tasks."""
    from ingestion.config import settings
    from ingestion.landing import ingest

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KSP_DATA_DIR", str(tmp_path_factory.mktemp("data-docs") / "data"))
        cfg: Settings = settings()
        cfg.ensure_dirs()
        police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(3))
        results = ingest(cfg, ["police"])
        rows = police_rows(20, month="04")
        rows[4][6] = "1,00"  # far outside Kraków: one quarantined row
        police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", rows)
        results += ingest(cfg, ["police"])
    assert [(r.status, r.rows_rejected) for r in results] == [("loaded", 0), ("loaded", 1)], \
        [r.line() for r in results]
    index = data_docs_index(cfg.gx_root)
    assert index.exists()
    return index.parent


def _pages(site: Path) -> list[Path]:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 4  # the index, the suite and a validation page per run
    return pages


def _local(ref: str) -> str:
    return ref.split("#", 1)[0].split("?", 1)[0]


def test_no_page_loads_anything_from_the_network(site: Path) -> None:
    remote: list[str] = []
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        for tag in TAG.finditer(text):
            ref = REF.search(tag.group(0))
            if ref and REMOTE.match(ref.group(2)):
                remote.append(f"{page.relative_to(site)}: {tag.group(0)[:160]}")
        remote += [f"{page.relative_to(site)}: url({u})" for _, u in CSS_URL.findall(text) if REMOTE.match(u)]
        remote += [f"{page.relative_to(site)}: @import" for _ in IMPORT.finditer(text)]
        assert "integrity=" not in text and "crossorigin" not in text  # refused for file:// pages
    assert remote == []


def test_links_to_documentation_in_the_text_stay(site: Path) -> None:
    """Only resources are made local: an ``<a href>`` to GX's documentation is fine offline."""
    assert any(re.search(r'<a\b[^>]*href="https://', p.read_text(encoding="utf-8")) for p in _pages(site))


def test_every_referenced_file_is_in_the_site(site: Path) -> None:
    missing: list[str] = []
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        refs = [m.group(2) for t in TAG.finditer(text) if (m := REF.search(t.group(0)))]
        refs += [u for _, u in CSS_URL.findall(text)]
        for ref in refs:
            if ref.startswith(("data:", "#")) or not _local(ref):
                continue
            if not (page.parent / _local(ref)).resolve().is_file():
                missing.append(f"{page.relative_to(site)} -> {ref}")
    assert missing == []
    shipped = {p.relative_to(site / VENDOR).as_posix() for p in (site / VENDOR).rglob("*") if p.is_file()}
    assert set(CDN.values()) <= shipped


def test_the_shipped_stylesheets_find_their_fonts(site: Path) -> None:
    """Each ``@font-face`` has a font file it can load (Font Awesome's ``.woff2``; its
    ``.ttf`` fallbacks are not shipped); every other ``url()`` of a stylesheet exists."""
    problems: list[str] = []
    for css in sorted((site / "static").rglob("*.css")):
        text = css.read_text(encoding="utf-8")
        for face in FONT_FACE.findall(text):
            urls = [u for _, u in CSS_URL.findall(face)]
            if not any((css.parent / _local(u)).is_file() for u in urls if not u.startswith("data:")):
                problems.append(f"{css.relative_to(site)}: no font file of {urls}")
        for _, url in CSS_URL.findall(FONT_FACE.sub("", text)):
            if REMOTE.match(url):
                problems.append(f"{css.relative_to(site)}: remote {url}")
            elif not url.startswith("data:") and not (css.parent / _local(url)).is_file():
                problems.append(f"{css.relative_to(site)}: missing {url}")
    assert problems == []


def test_an_unknown_cdn_address_is_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A GX upgrade that adds a CDN script is reported (and this test file then fails)."""
    from ingestion.data_docs import make_offline

    site = tmp_path / "site"
    (site / "static" / "styles").mkdir(parents=True)
    (site / "index.html").write_text(
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>'
        '<script src="https://cdn.example.org/new-lib@1.0/new.min.js" integrity="sha384-x" crossorigin="anonymous">'
        '</script><a href="https://docs.greatexpectations.io/">docs</a>', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="ingestion.data_docs"):
        assert make_offline(site) == ["https://cdn.example.org/new-lib@1.0/new.min.js"]
    assert "cdn.example.org/new-lib" in caplog.text
    text = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="static/vendor/bootstrap-4.3.1/bootstrap.min.css"' in text
    assert 'href="https://docs.greatexpectations.io/"' in text
    assert (site / "static" / "vendor" / "bootstrap-4.3.1" / "bootstrap.min.css").is_file()


def test_a_page_deeper_in_the_site_points_up_to_the_assets(tmp_path: Path) -> None:
    page = tmp_path / "validations" / "police" / "run" / "20250301T000000Z" / "police.html"
    text = rewrite_page('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>', page, tmp_path)
    assert text == '<script src="../../../../static/vendor/jquery-3.7.1/jquery.min.js"></script>'


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
         "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_offline_draws_the_validation_tables(site: Path, tmp_path: Path) -> None:
    """bootstrap-table's JavaScript draws the index's rows from data in the page: without
    its script the table is empty. Offline, the index lists both runs and a validation
    page shows its expectations with the quarantined row's rule as failed."""
    index = _chromium(["--dump-dom", (site / "index.html").as_uri()], tmp_path / "p1").stdout
    cells = re.findall(r"<td[^>]*>([^<]*)", index)
    assert "kmp_zdarzenia_2025-03.csv" in cells and "kmp_zdarzenia_2025-04.csv" in cells
    assert "Showing 1 to 2 of 2 rows" in index  # bootstrap-table's own footer

    april = next(p for p in site.glob("validations/police/*/*/*.html") if "2025-04" in str(p))
    page = _chromium(["--dump-dom", april.as_uri()], tmp_path / "p2").stdout
    assert "Unsuccessful Expectations" in page and "bootstrap-table" in page
    assert re.search(r'class="[^"]*\bfa-(?:times|circle-xmark)', page)  # a failed rule's icon

