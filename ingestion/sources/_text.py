"""Reading delimited text deliveries strictly: encoding, header, field counts, truncation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from ingestion.core import RefusedDelivery


def decode_strict(data: bytes, file: str, encoding: str) -> str:
    """Decode the whole file or refuse it, naming the first line that breaks the encoding.

    Windows-1250 accepts almost any byte, so a UTF-8 file would silently become
    mojibake; a file that is valid UTF-8 with non-ASCII characters is refused as
    the wrong encoding instead of being guessed at.
    """
    if not data.strip():
        raise RefusedDelivery(file, "empty", "the file has no content")
    if encoding.lower() in {"cp1250", "windows-1250"}:
        if data.startswith(b"\xef\xbb\xbf"):
            raise RefusedDelivery(file, "encoding", "file starts with a UTF-8 byte-order mark; "
                                  "SPEC requires Windows-1250", line=1)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if any(b > 0x7F for b in data):
                first = next(i for i, b in enumerate(data) if b > 0x7F)
                raise RefusedDelivery(file, "encoding", "file is UTF-8 (Polish letters as multi-byte "
                                      "sequences); SPEC requires Windows-1250",
                                      line=data[:first].count(b"\n") + 1)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise RefusedDelivery(file, "encoding", f"byte 0x{data[e.start]:02x} is not valid {encoding}",
                              line=data[: e.start].count(b"\n") + 1) from None
    return text.removeprefix("\ufeff")


def read_records(text: str, file: str, *, delimiter: str, expected: list[str]
                 ) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` after checking the header against the SPEC.

    The header must hold exactly the expected columns (any order). The last record
    of a file cut short (no final newline and too few fields) refuses the file.
    """
    reader = _Reader(text, file, delimiter)
    try:
        header = next(reader)
    except csv.Error as e:
        raise RefusedDelivery(file, "csv_syntax", str(e), line=1) from None
    except StopIteration:
        raise RefusedDelivery(file, "empty", "the file has no header row", line=1) from None
    header = [h.strip() for h in header]
    if len(header) == 1 and len(expected) > 1:
        other = ";" if delimiter != ";" else ","
        hint = f" (found '{other}' instead)" if other in header[0] else ""
        raise RefusedDelivery(file, "delimiter", f"header is one field; SPEC delimiter is "
                              f"'{delimiter}'{hint}", line=1)
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing:
        raise RefusedDelivery(file, "missing_column", f"missing column(s) {missing}; "
                              f"unexpected column(s) {extra}" if extra else
                              f"missing column(s) {missing}", line=1, column=missing[0])
    if extra:
        raise RefusedDelivery(file, "unexpected_column", f"column(s) {extra} are not in the SPEC",
                              line=1, column=extra[0])
    order = [header.index(c) for c in expected]
    same_order = order == list(range(len(header)))
    ends_with_newline = text.endswith(("\n", "\r"))
    records = list(_numbered(reader))
    n_header = len(header)
    last_index = len(records) - 1
    for i, (line, fields) in enumerate(records):
        if not fields or fields == [""]:
            continue
        n = len(fields)
        if n == n_header:
            yield line, fields if same_order else [fields[j] for j in order]
            continue
        if i == last_index and not ends_with_newline and n < n_header:
            raise RefusedDelivery(file, "truncated", f"last record has {n} of "
                                  f"{n_header} fields and no line end: the file was cut short",
                                  line=line)
        yield line, fields  # caller rejects it as a field-count error


def _numbered(reader: _Reader) -> list[tuple[int, list[str]]]:
    """Pair each record with the physical line it starts on (quoted fields may span lines)."""
    out = []
    rows = reader.rows
    previous = rows.line_num
    try:
        for fields in rows:
            out.append((previous + 1, fields))
            previous = rows.line_num
    except csv.Error as e:
        raise RefusedDelivery(reader.file, "csv_syntax", str(e), line=previous + 1) from None
    return out


class _Reader:
    """A csv reader that remembers which file it reads, for error messages."""

    def __init__(self, text: str, file: str, delimiter: str) -> None:
        self.file = file
        self._r = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                             strict=True)
        self.rows = self._r

    @property
    def line_num(self) -> int:
        return self._r.line_num

    def __iter__(self) -> _Reader:
        return self

    def __next__(self) -> list[str]:
        return next(self._r)


def as_dicts(records: Iterator[tuple[int, list[str]]], expected: list[str]
             ) -> Iterator[tuple[int, dict[str, str] | list[str]]]:
    """:func:`read_records`' records as dicts keyed by column; a wrong-length record stays a list."""
    for line, fields in records:
        yield (line, dict(zip(expected, fields, strict=True))) if len(fields) == len(expected) else (line, fields)


def read_dicts(text: str, file: str, *, delimiter: str, expected: list[str]
               ) -> Iterator[tuple[int, dict[str, str] | list[str]]]:
    """Like :func:`read_records`, as dicts keyed by column; a wrong-length record stays a
    list (what a row-by-row source, such as docs/adding-a-source.md's, reads)."""
    return as_dicts(read_records(text, file, delimiter=delimiter, expected=expected), expected)
