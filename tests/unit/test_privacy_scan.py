"""The privacy scan finds a planted value in every kind of store it reads, and nowhere
it must not look: proof that a clean scan of the demo's stores (tests/e2e/test_demo.py)
means no leak, not a scan that could not have found one."""

from __future__ import annotations

import base64
import email.message
import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests.privacy_scan import Scanner, scan_tree, variants

pytestmark = pytest.mark.unit

PLANTED = {"name": ["Jan Kowalski"], "surname": ["Wiśniewska"], "phone": ["601 234 567"],
           "pesel": ["85010112345"], "email": ["jan.kowalski@example.pl"], "plate": ["KR 4F123"],
           "operator": ["SM1234"]}


def test_variants_cover_case_and_separators() -> None:
    found = variants(PLANTED)
    assert found["601234567"] == ("phone", "601 234 567") and found["kr4f123"] == ("plate", "KR 4F123")
    assert found["jan kowalski"] == ("name", "Jan Kowalski")


@pytest.mark.parametrize(("text", "expected"), [
    ("zgłaszający Jan Kowalski, tel. 601 234 567", [("name", "Jan Kowalski"), ("phone", "601 234 567")]),
    ("JAN KOWALSKI", [("name", "Jan Kowalski")]),                       # any case
    ("tel. 601234567; kr4f123", [("phone", "601 234 567"), ("plate", "KR 4F123")]),  # separators dropped
    ("świadek Jan\nKowalski", [("name", "Jan Kowalski")]),               # wrapped in a PDF's text
    ('{"operator": "SM1234", "pesel": "85010112345"}', [("operator", "SM1234"), ("pesel", "85010112345")]),
    ("p. Wiśniewska", [("surname", "Wiśniewska")]),
    ('{"note": "p. Wi\\u015bniewska"}', [("surname", "Wiśniewska")]),   # JSON with ensure_ascii
    ("<td>p. Wi&#347;niewska, Jan&nbsp;Kowalski</td>", [("name", "Jan Kowalski"), ("surname", "Wiśniewska")]),
    ("zgłaszający [osoba], tel. [telefon], [nr rej.], op-3f2a9c0d1e2b4a5c", []),  # scrubbed: nothing
])
def test_text(text: str, expected: list[tuple[str, str]]) -> None:
    assert Scanner(PLANTED).in_text(text) == sorted(expected)


def test_a_scan_for_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="proves nothing"):
        Scanner({"name": []})


def _pdf(path: Path, text: str) -> bytes:
    import typst

    path.write_text(text, encoding="utf-8")
    return typst.compile(str(path))


def test_every_kind_of_store_is_read_and_the_raw_stores_and_restricted_are_not(tmp_path: Path) -> None:
    root = tmp_path / "data"
    # DuckDB: a varchar column, a list of varchar, a JSON column; the restricted schema of the warehouse
    (root / "warehouse").mkdir(parents=True)
    wh = root / "warehouse" / "ksp.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create schema marts; create schema restricted")
    con.execute("create table marts.fct (id int, note varchar, tags varchar[], doc json)")
    con.execute("insert into marts.fct values (1, 'kradzież, [osoba]', ['a', 'pojazd KR 4F123'], null), "
                "(2, null, null, '{\"op\": \"SM1234\"}')")
    con.execute("create table restricted.respondent (note varchar)")
    con.execute("insert into restricted.respondent values ('Jan Kowalski')")
    con.close()
    # a ledger (another DuckDB file), all of it: here a quarantined raw row
    (root / "ops").mkdir()
    con = duckdb.connect(str(root / "ops" / "ledger.duckdb"))
    con.execute("create schema ops; create table ops.quarantine (raw varchar)")
    con.execute("insert into ops.quarantine values ('[\"KMP/1\", \"85010112345\"]')")
    con.close()
    # Parquet (landing, exports)
    (root / "landing" / "police").mkdir(parents=True)
    duckdb.sql("copy (select 'tel. 601234567' as note) to "
               f"'{root / 'landing' / 'police' / 'x.parquet'}' (format parquet)")
    # Airflow's metadata: an XCom value (a JSON blob)
    (root / "airflow" / "logs").mkdir(parents=True)
    meta = sqlite3.connect(root / "airflow" / "airflow.db")
    meta.execute("create table xcom (key text, value blob)")
    meta.execute("insert into xcom values ('return_value', ?)", [b'[{"message": "p. Wi\xc5\x9bniewska"}]'])
    meta.commit()
    meta.close()
    # a task log
    (root / "airflow" / "logs" / "attempt=1.log").write_text("INFO row: zgłaszający Jan Kowalski\n")
    # a report: the PDF's text is compressed, so its bytes do not hold the value
    (root / "reports").mkdir()
    pdf = _pdf(tmp_path / "r.typ", "świadek Jan Kowalski")
    assert b"Kowalski" not in pdf
    (root / "reports" / "raport.pdf").write_bytes(pdf)
    # a mail whose attachment is base64
    msg = email.message.EmailMessage()
    msg["Subject"] = "raport"
    msg.set_content("w załączniku")
    msg.add_attachment(b"kontakt jan.kowalski@example.pl", maintype="text", subtype="csv", filename="t.csv")
    (root / "mail").mkdir()
    (root / "mail" / "1.eml").write_bytes(msg.as_bytes())
    assert base64.b64encode(b"kontakt jan.kowalski@example.pl") in msg.as_bytes()
    # the raw stores keep delivered bytes on purpose: never read
    for raw in ("inbox/police", "received/police/1", "archive/police", "refused/police", "simulated/inbox"):
        (root / raw).mkdir(parents=True)
        (root / raw / "kmp.csv").write_text("zgłaszający Jan Kowalski")
    # ... but what the platform writes beside a refused file is read
    (root / "refused" / "police" / "kmp.csv.reason.txt").write_text("unexpected column(s) ['601 234 567']")

    result = scan_tree(Scanner(PLANTED), root, warehouse=wh)

    found = {(Path(leak.path).relative_to(root).as_posix(), leak.where, leak.value) for leak in result.leaks}
    assert found == {
        ("warehouse/ksp.duckdb", "marts.fct.tags", "KR 4F123"),
        ("warehouse/ksp.duckdb", "marts.fct.doc", "SM1234"),
        ("ops/ledger.duckdb", "ops.quarantine.raw", "85010112345"),
        ("landing/police/x.parquet", "note", "601 234 567"),
        ("airflow/airflow.db", "xcom", "Wiśniewska"),
        ("airflow/logs/attempt=1.log", "text", "Jan Kowalski"),
        ("reports/raport.pdf", "pdf text", "Jan Kowalski"),
        ("mail/1.eml", "t.csv", "jan.kowalski@example.pl"),
        ("refused/police/kmp.csv.reason.txt", "text", "601 234 567"),
    }
    assert not any("/restricted" in leak.where or leak.where.startswith("restricted.") for leak in result.leaks)
    assert result.read["duckdb file"] == 2 and result.read["sqlite file"] == 1 and result.read["pdf"] == 1
