"""Privacy at the door: notes scrubbed, identifiers pseudonymised with a key, plates spotted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion import privacy

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("note", "expected"), [
    ("zgłaszający Jan Kowalski, tel. 601 234 567", "zgłaszający [osoba], tel. [telefon]"),
    ("sprawca odjechał pojazdem KR 4F123, świadek Anna Nowak", "sprawca odjechał pojazdem [nr rej.], świadek [osoba]"),
    ("kontakt: 512-345-678, p. Wiśniewska", "kontakt: [telefon], [osoba]"),
    ("mail jan.nowak@example.pl, PESEL 85010112345", "mail [e-mail], PESEL [pesel]"),
    ("pobicie na przystanku Dworzec Główny", "pobicie na przystanku Dworzec Główny"),
    ("kradzież portfela art. 278 § 1 kk", "kradzież portfela art. 278 § 1 kk"),
])
def test_scrub(note: str, expected: str) -> None:
    assert privacy.scrub(note) == expected


def test_pseudonyms_are_stable_keyed_and_irreversible() -> None:
    a = privacy.pseudonymise("SM1234", b"key-one", prefix="op")
    assert a == privacy.pseudonymise(" SM1234 ", b"key-one", prefix="op")
    assert a != privacy.pseudonymise("SM1234", b"key-two", prefix="op")
    assert a != privacy.pseudonymise("SM1235", b"key-one", prefix="op")
    assert a.startswith("op-") and "1234" not in a
    assert privacy.pseudonymise("", b"k", prefix="op") is None


def test_key_comes_from_the_environment_then_airflow_then_a_local_file(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KSP_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_KSP_PSEUDONYM", raising=False)
    key_file = tmp_path / "ops" / "pseudonym.key"
    with pytest.raises(privacy.MissingPseudonymKey, match="does not exist"):
        privacy.pseudonym_key(key_file)  # never invented on the way
    assert not key_file.exists()
    local = privacy.create_key_file(key_file)
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600" and len(local) == 32
    assert privacy.pseudonym_key(key_file) == local
    with pytest.raises(FileExistsError):
        privacy.create_key_file(key_file)  # never over an existing key
    assert privacy.pseudonym_key(key_file) == local
    monkeypatch.setenv("AIRFLOW_CONN_KSP_PSEUDONYM", "generic://:s3cr%2Ft@")
    assert privacy.pseudonym_key(key_file) == b"s3cr/t"
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", "00" * 32)
    assert privacy.pseudonym_key(key_file) == bytes(32)


def test_a_key_id_names_the_key_and_gives_nothing_of_it_away() -> None:
    one, two = bytes(32), bytes.fromhex("01" * 32)
    assert privacy.key_id(one) == privacy.key_id(bytes(32)) != privacy.key_id(two)
    assert re.fullmatch(r"pk-[0-9a-f]{12}", privacy.key_id(one))
    assert one.hex()[:12] not in privacy.key_id(one) and privacy.key_id(one)[3:] not in privacy.pseudonymise(
        "SM1234", one, prefix="op")


@pytest.mark.parametrize(("value", "is_plate"), [
    ("KR 4F123", True), ("KRA12345", True), ("WE 12345", True), ("ZDMK-ANPR-0001", False),
    ("2025-01-01T00:00:00+01:00", False), ("1234", False), ("liczba", False),
])
def test_plates(value: str, is_plate: bool) -> None:
    assert privacy.has_plate(value) is is_plate


@pytest.mark.parametrize(("note", "expected"), [
    ("tel. +48 600 100 200", "tel. [telefon]"),                       # with the country code
    ("tel. 600100200", "tel. [telefon]"),                             # digits run together
    ("zgłaszający Łukasz Żółć", "zgłaszający [osoba]"),               # Polish capitals
    ("Jan Kowalski-Nowak", "[osoba]"),                                # double-barrelled surname
    ("pani Anna, pan Nowak", "[osoba], [osoba]"),                     # honorifics
    ("nr rej. KR4F123 oraz KR-4F123", "nr rej. [nr rej.] oraz [nr rej.]"),
    ("KRA 12345", "[nr rej.]"),
    ("jan.kowalski+sm@gmail.com", "[e-mail]"),
    ("PESEL: 85010112345, nr 123", "PESEL: [pesel], nr 123"),
    ("Straż Miejska, Nowa Huta, Planty Bieńczyckie", "Straż Miejska, Nowa Huta, Planty Bieńczyckie"),
    ("art. 51 § 1 kw, 2 osoby, godz. 21:15", "art. 51 § 1 kw, 2 osoby, godz. 21:15"),
    (None, None),
])
def test_scrub_more(note: str | None, expected: str | None) -> None:
    assert privacy.scrub(note) == expected


def test_scrubbing_twice_changes_nothing_more() -> None:
    once = privacy.scrub("zgłaszający Jan Kowalski, tel. 601 234 567, KR 4F123, a@b.pl")
    assert privacy.scrub(once) == once


def test_pseudonyms_differ_per_key_for_every_value() -> None:
    values = [f"SM{n:04d}" for n in range(1000, 1050)]
    one = {privacy.pseudonymise(v, b"key-one", prefix="op") for v in values}
    two = {privacy.pseudonymise(v, b"key-two", prefix="op") for v in values}
    assert len(one) == len(two) == 50 and not one & two
    assert all(len(p) == len("op-") + 16 for p in one)


# the variants an outside tester found the scrubber missing (issue 15), and text it must leave alone
@pytest.mark.parametrize(("note", "expected"), [
    ("sprawca Nowak uciekł w stronę Plant", "sprawca [osoba] uciekł w stronę Plant"),      # role word, surname
    ("poszkodowana Wiśniewska, świadek Zieliński", "poszkodowana [osoba], świadek [osoba]"),
    ("kierowca Kowalski-Nowak odjechał", "kierowca [osoba] odjechał"),
    ("ZGŁASZAJĄCY Kowalski", "ZGŁASZAJĄCY [osoba]"),                                        # role word in capitals
    ("NOWAK JAN, ul. Długa 5", "[osoba], ul. Długa 5"),                                      # register order, capitals
    ("Jan NOWAK", "[osoba]"),
    ("KOWALSKA ANNA MARIA", "[osoba]"),
    ("ŁUKASIEWICZ MAŁGORZATA", "[osoba]"),                                                  # diacritics in capitals
    ("tel. 12 345 67 89", "tel. [telefon]"),                                                # landline grouping
    ("tel. (12) 345-67-89", "tel. [telefon]"),
    ("tel. 600.100.200", "tel. [telefon]"),                                                 # dotted
    ("pojazd kr 4f123", "pojazd [nr rej.]"),                                                # lower-case plate
    ("mieszkanka Krakowa", "mieszkanka Krakowa"),                                           # a place after a role
    ("sprawca odjechał", "sprawca odjechał"),                                               # no name follows
    ("ZAKŁÓCANIE CISZY NOCNEJ", "ZAKŁÓCANIE CISZY NOCNEJ"),                                 # capitals, no name
    ("do 12345 osób, o 2130", "do 12345 osób, o 2130"),                                     # numbers, not plates
    ("dnia 13.03.2025 o godz. 21:30", "dnia 13.03.2025 o godz. 21:30"),                     # a date, not a phone
    ("KMP/2025/03/00001", "KMP/2025/03/00001"),
])
def test_scrub_polish_variants(note: str, expected: str) -> None:
    assert privacy.scrub(note) == expected


def test_scrub_value_reaches_every_string_of_a_record() -> None:
    rec = {"fields": ["KMP/1", "Jan Kowalski", 3, None], "note": {"text": "tel. 600 100 200"}, "n": 1.5}
    assert privacy.scrub_value(rec) == {"fields": ["KMP/1", "[osoba]", 3, None],
                                        "note": {"text": "tel. [telefon]"}, "n": 1.5}
