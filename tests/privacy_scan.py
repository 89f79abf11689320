"""A scan of every store a run of the platform wrote, for the personal values the
simulator planted in its deliveries (``personal.json``, :mod:`simulator.personal`).

Issue 15's "Done when": no planted name, phone number, PESEL, e-mail address, plate or
operator personal number may survive anywhere but in the raw deliveries themselves
(inbox, claims, archive, refused files and the SOS stream keep the delivered bytes for
the retention period, by design; what the platform writes beside them, a refusal's
reason file, is read) and in the warehouse's ``restricted`` schema. So the scan walks
the whole data root but those, instead of a list of stores that a new store would
silently escape, and reads each file the way its content is stored:

* DuckDB files (ledger, warehouse, published versions): every column of every table
  that holds text (``VARCHAR``, ``JSON``, lists and structs of them), matched by
  DuckDB itself; DuckDB compresses strings, so its bytes cannot be searched;
* SQLite files (Airflow's metadata with its XComs, a GeoPackage export): every text
  and blob column of every table;
* Parquet (landing, exports): every text column, through DuckDB;
* PDF: the text ``pdftotext`` extracts (a PDF's text is compressed);
* mail (``.eml``): every text part and attachment, decoded (base64 hides the bytes);
* everything else (logs, HTML, JSON, CSV): its bytes as UTF-8 text.

The values are matched case-insensitively, and phone numbers, PESEL numbers and
plates also with their separators removed (``601234567``, ``KR4F123``), in text with
JSON escapes and HTML character references decoded, so that a value re-formatted on
its way through is still found.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# folders of the data root that hold delivered bytes as delivered (or the simulator's
# own output), which the platform keeps on purpose and the retention job purges
RAW_STORES = ("inbox", "received", "archive", "refused", "stream", "simulated", "duckdb_extensions")
# the warehouse schema that may hold respondent-level rows and is never published
RESTRICTED_SCHEMA = "restricted"
# what the platform itself writes beside the delivered bytes in those folders: read too
PLATFORM_WRITTEN = ("*.reason.txt", "announcements.jsonl")
_SEPARATED = {"phone", "pesel", "plate"}
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Leak:
    """One planted value found in one place of one store."""

    path: str
    where: str  # the table and column, the mail part, or "text"
    kind: str
    value: str


@dataclass
class ScanResult:
    """The leaks, and what was read (files by how they were read, tables, columns), so that
    a test can tell a clean scan from one that read nothing."""

    leaks: list[Leak] = field(default_factory=list)
    read: Counter[str] = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)


def variants(planted: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """Each text to look for (lower case) -> (kind, the value as planted)."""
    out: dict[str, tuple[str, str]] = {}
    for kind, values in planted.items():
        for value in values:
            out[value.lower()] = (kind, value)
            if kind in _SEPARATED:
                out[re.sub(r"[\s.-]", "", value).lower()] = (kind, value)
    return out


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, as a trie: Python's ``re`` tries
    alternatives one by one, so 1,500 flat alternatives would make every character cost
    1,500 comparisons."""
    trie: dict[str, dict] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends else body

    return walk(trie)


class Scanner:
    """Matches the planted values in text, in DuckDB files and in SQLite files."""

    def __init__(self, planted: dict[str, list[str]]) -> None:
        self.needles = variants(planted)
        if not self.needles:
            raise ValueError("no planted values: a scan for nothing proves nothing")
        # longest first, so that a name inside a longer match is still reported by its value
        self.regex = re.compile(_trie_pattern(sorted(self.needles, key=len, reverse=True)))
        # RE2 (DuckDB) takes the plain alternation
        self.re2 = "|".join(re.escape(n) for n in sorted(self.needles, key=len, reverse=True))

    def in_text(self, text: str) -> list[tuple[str, str]]:
        """(kind, value) of every planted value in ``text``, once each; also in the text with
        JSON's ``\\uXXXX`` escapes and HTML's character references decoded (a JSON writer
        with ``ensure_ascii`` turns "Zieliński" into "Zieli\\u0144ski", an HTML page may
        write "&#322;"), so that an escaped value is found too."""
        forms = [text]
        if "\\u" in text:
            forms.append(_JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
        if "&" in text:
            forms.append(html.unescape(text))
        # any run of white space as one space: a name wrapped in a PDF's text, a no-break space
        found = {self.needles[m.group(0)] for form in forms
                 for m in self.regex.finditer(_SPACE.sub(" ", form).lower())}
        return sorted(found)

    def scan_text(self, result: ScanResult, path: Path, where: str, text: str) -> None:
        for kind, value in self.in_text(text):
            result.leaks.append(Leak(str(path), where, kind, value))

    def scan_duckdb(self, result: ScanResult, path: Path, *, skip_schemas: Iterable[str] = ()) -> None:
        """Every text column of every table of a DuckDB file (views only show what tables
        hold), but the schemas ``skip_schemas``."""
        con = duckdb.connect(str(path), read_only=True)
        try:
            self._scan_duckdb_tables(result, con, path, tuple(skip_schemas))
        finally:
            con.close()

    def _scan_duckdb_tables(self, result: ScanResult, con: duckdb.DuckDBPyConnection, path: Path,
                            skip: tuple[str, ...]) -> None:
        columns = con.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
            "join information_schema.tables t using (table_catalog, table_schema, table_name) "
            "where c.table_catalog = current_database() and t.table_type = 'BASE TABLE' "
            "and (c.data_type like '%VARCHAR%' or c.data_type like '%JSON%')").fetchall()
        for schema, table, column in columns:
            if schema in skip:
                continue
            result.read["duckdb column"] += 1
            rows = con.execute(
                f'select distinct "{column}"::varchar from "{schema}"."{table}" '
                f'where regexp_matches(lower("{column}"::varchar), {self._matches()})').fetchall()
            for (text,) in rows:
                self.scan_text(result, path, f"{schema}.{table}.{column}", text)
        result.read["duckdb table"] += len({(s, t) for s, t, _ in columns if s not in skip})

    def _matches(self) -> str:
        """The SQL condition's pattern as a literal, so that DuckDB compiles it once per
        query (a bound parameter is compiled again for every chunk of rows)."""
        return "'" + self.re2.replace("'", "''") + "'"

    def scan_parquet(self, result: ScanResult, paths: list[Path]) -> None:
        """Parquet files of one folder (a landing table's deliveries, an export), read as one
        relation: one query per column for all of them, not per file."""
        con = duckdb.connect()
        try:
            files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
            con.execute(f"create view p as select * from read_parquet([{files}], union_by_name = true, "
                        "filename = '_scanned_file')")
            for column, data_type in con.execute("select column_name, data_type from information_schema.columns "
                                                 "where table_name = 'p' and column_name != '_scanned_file'"
                                                 ).fetchall():
                if "VARCHAR" not in data_type and "JSON" not in data_type:
                    continue
                result.read["parquet column"] += 1
                for file, text in con.execute(f'select distinct _scanned_file, "{column}"::varchar from p '
                                              f'where regexp_matches(lower("{column}"::varchar), {self._matches()})'
                                              ).fetchall():
                    self.scan_text(result, Path(file), column, text)
        finally:
            con.close()

    def scan_sqlite(self, result: ScanResult, path: Path) -> None:
        """Every column of every table of a SQLite file (Airflow's metadata: XComs, logs,
        rendered fields, asset events, ...), read without locking it."""
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.text_factory = bytes
        try:
            tables = [r[0].decode() for r in con.execute("select name from sqlite_master where type = 'table'")]
            for table in tables:
                result.read["sqlite table"] += 1
                for row in con.execute(f'select * from "{table}"'):
                    for value in row:
                        if isinstance(value, bytes):
                            self.scan_text(result, path, table, value.decode("utf-8", "replace"))
        finally:
            con.close()

    def scan_pdf(self, result: ScanResult, path: Path, data: bytes | None = None) -> None:
        out = subprocess.run(["pdftotext", "-", "-"], input=data if data is not None else path.read_bytes(),
                             capture_output=True, check=True)
        result.read["pdf"] += 1
        self.scan_text(result, path, "pdf text", out.stdout.decode("utf-8", "replace"))

    def scan_mail(self, result: ScanResult, path: Path) -> None:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        result.read["mail"] += 1
        self.scan_text(result, path, "headers", "\n".join(f"{k}: {v}" for k, v in msg.items()))
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            name = part.get_filename() or part.get_content_type()
            if payload.startswith(b"%PDF"):
                self.scan_pdf(result, path, payload)
            else:
                self.scan_text(result, path, name, payload.decode("utf-8", "replace"))

    def scan_file(self, result: ScanResult, path: Path, *, skip_schemas: Iterable[str] = ()) -> None:
        """One file, read the way its content is stored."""
        head = path.read_bytes()[:16] if path.stat().st_size else b""
        result.files.append(str(path))
        if path.suffix == ".duckdb" or head[8:12] == b"DUCK":
            result.read["duckdb file"] += 1
            self.scan_duckdb(result, path, skip_schemas=skip_schemas)
        elif head.startswith(b"SQLite format 3"):
            result.read["sqlite file"] += 1
            self.scan_sqlite(result, path)
        elif head.startswith(b"PAR1"):
            result.read["parquet file"] += 1
            self.scan_parquet(result, [path])
        elif head.startswith(b"%PDF"):
            self.scan_pdf(result, path)
        elif path.suffix == ".eml":
            self.scan_mail(result, path)
        else:
            result.read["text file"] += 1
            self.scan_text(result, path, "text", path.read_bytes().decode("utf-8", "replace"))


def _files(root: Path, skip: tuple[str, ...]) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if rel and rel[0] in skip and not any(path.match(p) for p in PLATFORM_WRITTEN):
            continue
        # a DuckDB write-ahead log and SQLite's journal files are read through their database
        if path.is_file() and not path.is_symlink() and not path.name.endswith((".wal", "-wal", "-shm", "-journal")):
            yield path


def scan_tree(scanner: Scanner, root: Path, *, skip: tuple[str, ...] = RAW_STORES,
              warehouse: Path | None = None) -> ScanResult:
    """Every file under ``root`` but the top-level folders ``skip``; the file ``warehouse``
    without its ``restricted`` schema."""
    result = ScanResult()
    parquet: dict[Path, list[Path]] = {}
    for path in _files(root, skip):
        if path.suffix == ".parquet":  # read together, per folder
            parquet.setdefault(path.parent, []).append(path)
            continue
        skip_schemas = (RESTRICTED_SCHEMA,) if warehouse is not None and path == warehouse else ()
        scanner.scan_file(result, path, skip_schemas=skip_schemas)
    for paths in parquet.values():
        result.files += [str(p) for p in paths]
        result.read["parquet file"] += len(paths)
        scanner.scan_parquet(result, paths)
    return result
