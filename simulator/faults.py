"""``--faults``: documented defects injected into a clean simulated delivery set.

Each kind is injected into its own file(s) and recorded in ``faults.json`` with the
outcome the platform must produce (SPEC, "What happens to a delivery"):
``refuse_file`` (with the rule), ``reject_rows`` (the exact lines and rule),
``load_flagged`` (loaded, with a flag), ``scrub`` (loaded, personal data removed),
``no_op`` (same bytes again) or ``supersede`` (a correction replaces a month).
Files delivered late go to ``late/inbox/<source>/``: copy that folder into the
platform's inbox after the first batch has been ingested.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from simulator import personal

FAULT_KINDS = (
    "wrong_encoding",
    "truncated_file",
    "missing_column",
    "renamed_column",
    "swapped_lat_lon",
    "outside_krakow",
    "duplicate_rows",
    "file_delivered_twice",
    "out_of_order_month",
    "corrected_redelivery",
    "unknown_category",
    "dst_fold",
    "dst_gap",
    "personal_data_in_notes",
    "licence_plate_column",
    "missing_header",
)
# the personal note in the first record of the day exported without its header line
HEADLESS_NOTE = "zgłaszający Piotr Zieliński, tel. 698 765 432"


def _read_csv(path: Path, encoding: str, sep: str) -> tuple[list[str], list[list[str]], str]:
    raw = path.read_bytes().decode(encoding)
    newline = "\r\n" if "\r\n" in raw else "\n"
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=sep))
    return rows[0], rows[1:], newline


def _write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str, sep: str, newline: str
) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=sep, lineterminator=newline, quotechar='"', quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


@contextmanager
def _editing(path: Path, encoding: str, sep: str, *, target: Path | None = None) -> Iterator[list[Any]]:
    """Read a delivery's header and rows, let the caller change them, write them back (or to ``target``)."""
    header, rows, newline = _read_csv(path, encoding, sep)
    doc: list[Any] = [header, rows]
    yield doc
    (target or path).parent.mkdir(parents=True, exist_ok=True)
    _write_csv(target or path, doc[0], doc[1], encoding, sep, newline)


def _pick(rng: np.random.Generator, rows: list[list[str]], n: int) -> list[int]:
    """``n`` distinct row indices in file order (line = index + 2, below the header)."""
    return [int(i) for i in sorted(rng.choice(len(rows), size=n, replace=False))]


def _files(inbox: Path, source: str) -> list[Path]:
    return sorted((inbox / source).glob("*"))


def _last_sunday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 31)
    return d - dt.timedelta(days=(d.weekday() + 1) % 7)


def inject(root: Path, seed: int) -> list[dict[str, Any]]:
    """Inject every fault kind into ``root/inbox`` (and ``root/late/inbox``); return the manifest."""
    rng = np.random.default_rng([seed, 4242])
    inbox, late = root / "inbox", root / "late" / "inbox"
    police = _files(inbox, "police")
    guard = _files(inbox, "city_guard")
    interventions = _files(inbox, "interventions")
    anpr = _files(inbox, "anpr_counts")
    mcpu = _files(inbox, "mcpu")
    faults: list[dict[str, Any]] = []

    def rel(p: Path) -> str:
        return str(p.relative_to(root))

    # police months: pick distinct ones, keeping the DST months for the DST faults
    dst_months = {f"kmp_zdarzenia_{y}-{m:02d}.csv" for y in range(2000, 2100) for m in (3, 10)}
    plain = [p for p in police if p.name not in dst_months]
    if len(plain) < 6 or not any(p.name in dst_months for p in police) or len(guard) < 3:
        raise ValueError("--faults needs a period of at least 8 months that includes a March and an "
                         "October (for the DST faults)")
    picks = [plain[i] for i in rng.choice(len(plain), size=6, replace=False)]
    enc_file, outside_file, dup_file, ooo_file, corr_file, notes_file = picks

    # 1. a police month exported in UTF-8 instead of Windows-1250
    enc_file.write_bytes(enc_file.read_bytes().decode("cp1250").encode("utf-8"))
    faults.append(
        {
            "kind": "wrong_encoding",
            "source": "police",
            "file": rel(enc_file),
            "expected": "refuse_file",
            "rule": "encoding",
        }
    )

    # 2. coordinates outside Kraków in two police rows
    with _editing(outside_file, "cp1250", ";") as (header, rows):
        picked = _pick(rng, rows, 2)
        for i in picked:
            rows[i][header.index("x_puwg92")] = "262000,00"
    lines = [i + 2 for i in picked]
    faults.append(
        {
            "kind": "outside_krakow",
            "source": "police",
            "file": rel(outside_file),
            "expected": "reject_rows",
            "rule": "x_northing_in_krakow",
            "lines": lines,
        }
    )

    # 3. rows exported twice (exact copies appended)
    with _editing(dup_file, "cp1250", ";") as (_header, rows):
        picked = _pick(rng, rows, 3)
        first_line = len(rows) + 2
        rows += [rows[i][:] for i in picked]
    faults.append(
        {
            "kind": "duplicate_rows",
            "source": "police",
            "file": rel(dup_file),
            "expected": "reject_rows",
            "rule": "duplicate_row",
            "lines": [first_line + k for k in range(3)],
            "duplicates_of_lines": [i + 2 for i in picked],
        }
    )

    # 4. a month delivered late, after the months that follow it
    target = late / "police" / ooo_file.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(ooo_file, target)
    faults.append(
        {
            "kind": "out_of_order_month",
            "source": "police",
            "file": rel(target),
            "expected": "load",
            "period": ooo_file.name[len("kmp_zdarzenia_") : -4],
        }
    )

    # 5. a corrected re-delivery of a month: three records re-qualified
    corrected = late / "police" / corr_file.name.replace(".csv", "_korekta1.csv")
    with _editing(corr_file, "cp1250", ";", target=corrected) as (header, rows):
        # only records that are not robberies already, so each correction is a change
        q = header.index("kwalifikacja")
        others = [i for i, row in enumerate(rows) if row[q] != "art. 280 § 1 kk"]
        changed = [others[k] for k in _pick(rng, [rows[i] for i in others], 3)]
        for i in changed:
            rows[i][q] = "art. 280 § 1 kk"
    faults.append(
        {
            "kind": "corrected_redelivery",
            "source": "police",
            "file": rel(corrected),
            "supersedes": rel(corr_file),
            "expected": "supersede",
            "changed_ids": [rows[i][0] for i in changed],
        }
    )

    # 6. personal data in notes, beyond the few that the clean data already carry
    # (a PESEL and an e-mail address too: the clean notes carry neither)
    planted = {"name": ["Jan Kowalski", "Anna Nowak"], "surname": ["Wiśniewska"],
               "phone": ["601 234 567", "512-345-678"], "plate": ["KR 4F123"], "pesel": ["85010112345"],
               "email": ["jan.kowalski@example.pl"]}
    notes = ["zgłaszający Jan Kowalski, tel. 601 234 567, PESEL 85010112345",
             "sprawca oddalił się pojazdem KR 4F123, świadek Anna Nowak",
             "kontakt: 512-345-678, jan.kowalski@example.pl, p. Wiśniewska"]
    for kind, values in planted.items():
        for value in values:
            personal.plant(kind, value)
    with _editing(notes_file, "cp1250", ";") as (header, rows):
        picked = _pick(rng, rows, 3)
        for i, text in zip(picked, notes, strict=True):
            rows[i][header.index("opis")] = text
    lines = [i + 2 for i in picked]
    faults.append(
        {
            "kind": "personal_data_in_notes",
            "source": "police",
            "file": rel(notes_file),
            "expected": "scrub",
            "lines": lines,
            "planted": planted,
            "note": "about 4% of clean notes in every free-text source also carry names, phone "
            "numbers or plates",
        }
    )

    # 7./8. times inside the autumn fold and the spring gap (Europe/Warsaw)
    for kind, month, hhmm in (("dst_fold", 10, "02:30"), ("dst_gap", 3, "02:15")):
        candidates = [p for p in police if p.name.endswith(f"-{month:02d}.csv") and p.exists()]
        if not candidates:
            continue
        path = candidates[0]
        year = int(path.name[len("kmp_zdarzenia_") :][:4])
        sunday = _last_sunday(year, month)
        with _editing(path, "cp1250", ";") as (header, rows):
            picked = _pick(rng, rows, 2)
            for i in picked:
                rows[i][header.index("data")] = sunday.strftime("%d.%m.%Y")
                rows[i][header.index("godzina")] = hhmm
        lines = [i + 2 for i in picked]
        faults.append(
            {
                "kind": kind,
                "source": "police",
                "file": rel(path),
                "expected": "load_flagged",
                "flag": "is_time_ambiguous" if kind == "dst_fold" else "is_time_nonexistent",
                "lines": lines,
                "local_time": f"{sunday.isoformat()} {hhmm}",
            }
        )

    # City Guard: a truncated month, a renamed column, swapped lat/lon in three rows
    g_trunc, g_renamed, g_swapped = (guard[i] for i in rng.choice(len(guard), size=3, replace=False))
    data = g_trunc.read_bytes()
    cut = data.rfind(b"\n", 0, int(len(data) * 0.6)) + 25
    g_trunc.write_bytes(data[:cut])
    faults.append(
        {
            "kind": "truncated_file",
            "source": "city_guard",
            "file": rel(g_trunc),
            "expected": "refuse_file",
            "rule": "truncated",
            "line": data[:cut].count(b"\n") + 1,
        }
    )
    with _editing(g_renamed, "utf-8", ",") as (header, _rows):
        header[header.index("lat")] = "latitude"
    faults.append(
        {
            "kind": "renamed_column",
            "source": "city_guard",
            "file": rel(g_renamed),
            "expected": "refuse_file",
            "rule": "missing_column",
            "column": "lat",
        }
    )
    with _editing(g_swapped, "utf-8", ",") as (header, rows):
        picked = _pick(rng, rows, 3)
        la, lo = header.index("lat"), header.index("lon")
        for i in picked:
            rows[i][la], rows[i][lo] = rows[i][lo], rows[i][la]
    lines = [i + 2 for i in picked]
    faults.append(
        {
            "kind": "swapped_lat_lon",
            "source": "city_guard",
            "file": rel(g_swapped),
            "expected": "reject_rows",
            "rule": "latitude_in_krakow",
            "lines": lines,
        }
    )

    # interventions: a missing column, unknown categories, a day delivered twice
    busy = [p for p in interventions if p.stat().st_size > 600]
    i_missing, i_unknown, i_twice = (busy[i] for i in rng.choice(len(busy), size=3, replace=False))
    with _editing(i_missing, "utf-8", ";") as doc:
        k = doc[0].index("operator")
        doc[:] = [doc[0][:k] + doc[0][k + 1 :], [r[:k] + r[k + 1 :] for r in doc[1]]]
    faults.append(
        {
            "kind": "missing_column",
            "source": "interventions",
            "file": rel(i_missing),
            "expected": "refuse_file",
            "rule": "missing_column",
            "column": "operator",
        }
    )
    with _editing(i_unknown, "utf-8", ";") as (header, rows):
        picked = _pick(rng, rows, min(1, len(rows)))
        for i in picked:
            rows[i][header.index("kategoria")] = "kategoria nieznana"
    lines = [i + 2 for i in picked]
    faults.append(
        {
            "kind": "unknown_category",
            "source": "interventions",
            "file": rel(i_unknown),
            "expected": "reject_rows",
            "rule": "kategoria_code",
            "lines": lines,
        }
    )
    twice = late / "interventions" / i_twice.name
    twice.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(i_twice, twice)
    faults.append(
        {
            "kind": "file_delivered_twice",
            "source": "interventions",
            "file": rel(twice),
            "same_bytes_as": rel(i_twice),
            "expected": "no_op",
        }
    )

    # interventions: a day exported without its header line, its first record (an operator's
    # number, a note with a name and a phone number) read as the header; the refusal's reason
    # names the "unexpected columns", so this is the personal data that reaches refusal
    # records, task logs and XComs (picked without the generator: the faults above keep theirs)
    i_headless = next(p for p in busy if p not in {i_missing, i_unknown, i_twice})
    with _editing(i_headless, "utf-8", ";") as doc:
        header, rows = doc
        rows[0][header.index("opis")] = f"{rows[0][header.index('opis')]}; {HEADLESS_NOTE}"
        doc[:] = [rows[0], rows[1:]]
    personal.plant("name", "Piotr Zieliński")
    personal.plant("phone", "698 765 432")
    faults.append(
        {
            "kind": "missing_header",
            "source": "interventions",
            "file": rel(i_headless),
            "expected": "refuse_file",
            "rule": "missing_column",
            "planted": {"name": ["Piotr Zieliński"], "phone": ["698 765 432"],
                        "operator": [rows[0][header.index("operator")]]},
        }
    )

    # ANPR: a delivery that carries licence plates must be refused whole
    if anpr:
        a = anpr[int(rng.integers(len(anpr)))]
        letters = "ABCDEFGHJKLMNPRSTUWXYZ"
        with _editing(a, "utf-8", ";") as doc:
            plates = [
                personal.plant("plate",
                               f"KR {rng.integers(1, 10)}{letters[int(rng.integers(len(letters)))]}"
                               f"{rng.integers(100, 999)}")
                for _ in doc[1]
            ]
            doc[:] = [[*doc[0], "nr_rejestracyjny"], [[*r, p] for r, p in zip(doc[1], plates, strict=True)]]
        faults.append(
            {
                "kind": "licence_plate_column",
                "source": "anpr_counts",
                "file": rel(a),
                "expected": "refuse_file",
                "rule": "licence_plates",
                "column": "nr_rejestracyjny",
            }
        )
    if mcpu:
        faults.append({"kind": "none", "source": "mcpu", "note": "no fault injected into MCPU quarters"})
    kinds = {f["kind"] for f in faults}
    missing = [k for k in FAULT_KINDS if k not in kinds]
    if missing:
        raise RuntimeError(f"the period is too short to inject {missing}")
    return [f for f in faults if f["kind"] != "none"]
