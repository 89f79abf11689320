"""Data Docs that work offline: the CDN scripts and stylesheets served from the site folder.

Great Expectations renders its Data Docs pages with ``<script>`` and ``<link>`` tags
pointing at CDNs (Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega) and its logo
at an S3 bucket; without a network such a page is an unstyled, empty shell (the
validation tables are drawn by bootstrap-table's JavaScript). GX has no setting for
local copies, so after every build :func:`make_offline` copies the files shipped in
``ingestion/data_docs_assets/`` (see its README: npm package, version, licence) to the
site's ``static/vendor/`` and points every page at them. An address it does not know is
left as it is and named in a warning (and fails ``tests/unit/test_data_docs.py``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "data_docs_assets"
VENDOR = Path("static") / "vendor"  # inside the site folder

# the CDN address in GX's templates -> the file under ASSETS (and under the site's static/vendor/)
CDN: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
# GX's logo (with a tracking query) and the dark-mode logo: the site's own copy of the logo
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/"
                   r"(?:logo-long|full_logo_dark)\.png(?:\?[^\"')\s]*)?")
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_REF = re.compile(r"""\b(src|href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
# subresource integrity and CORS mode: a browser refuses CORS requests for file:// pages
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(["']).*?\1)?""", re.IGNORECASE | re.DOTALL)
REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def _rewrite_tag(tag: str, page: Path, site: Path, unknown: set[str]) -> str:
    match = _REF.search(tag)
    if not match:
        return tag
    url = match.group(3)
    if url in CDN:
        local = _relative(site / VENDOR / CDN[url], page)
    elif _LOGO.fullmatch(url):
        local = _relative(site / "static" / "images" / "logo-long.png", page)
    elif REMOTE.match(url):  # a script, stylesheet, icon or image this module does not know
        unknown.add(url)
        return tag
    elif "static/" in url and not (page.parent / url.split("?")[0]).is_file():
        # GX counts a validation page's depth from the dots in the suite name and misses one
        # level: its favicon link points above the site folder
        local = _relative(site / "static" / url.split("static/", 1)[1], page)
    else:
        return tag
    tag = tag[:match.start(3)] + local + tag[match.end(3):]
    return _SRI.sub("", tag)


def rewrite_page(text: str, page: Path, site: Path, unknown: set[str] | None = None) -> str:
    """One page's (or stylesheet's) CDN references turned into paths relative to ``page``."""
    unknown = set() if unknown is None else unknown
    text = _TAG.sub(lambda m: _rewrite_tag(m.group(0), page, site, unknown), text)
    # the logo in the inlined stylesheets (dark mode): url('https://…/full_logo_dark.png')
    return _LOGO.sub(lambda _: _relative(site / "static" / "images" / "logo-long.png", page), text)


def make_offline(site: Path) -> list[str]:
    """Ship the vendored assets into ``site`` and point every page at them.

    Returns the remote script or stylesheet addresses that are not known here (and
    so still need a network); each is also logged as a warning.
    """
    if not site.is_dir():
        return []
    shutil.copytree(ASSETS, site / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    unknown: set[str] = set()
    pages = [*site.rglob("*.html"), *(site / "static" / "styles").glob("*.css")]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text, page, site, unknown)
        if new != text:
            page.write_text(new, encoding="utf-8")
    for url in sorted(unknown):
        log.warning("Data Docs still load %s from the network: add it to ingestion/data_docs.py", url)
    return sorted(unknown)
