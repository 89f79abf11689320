"""Privacy at the door: scrub free text, pseudonymise identifiers, spot licence plates.

Free-text notes in raw exports carry names, phone numbers and licence plates
(DOMAIN.md). Nothing personal may reach the warehouse, so notes are scrubbed before
they are landed, operators' personal numbers are replaced by keyed pseudonyms (HMAC-
SHA256 with a secret key that never lives in the repository), and a delivery that
carries licence plates in any column is refused whole.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

# Polish registration plates: a 1–3 letter area code, then 4–5 letters or digits with at
# least one digit (e.g. KR 4F123, KRA12345, WE 12345); in notes also written in lower case
# (`kr 4f123`), where the area code needs two letters and the rest a letter, so that
# "w 2130" stays a time and "do 12345" a number.
PLATE = re.compile(r"\b[A-Z]{1,3}[ -]?(?=[0-9A-Z]{4,5}\b)(?=[A-Z]*[0-9])[0-9A-Z]{4,5}\b")
PLATE_IN_TEXT = re.compile(PLATE.pattern + r"|\b[a-z]{2,3}[ -]?(?=[0-9a-z]{4,5}\b)(?=[a-z]*[0-9])(?=[0-9]*[a-z])"
                           r"[0-9a-z]{4,5}\b")
# mobile numbers in threes (600 100 200, 600-100-200, 600.100.200, +48 …) and Kraków's
# landlines in the 2-3-2-2 grouping (12 345 67 89)
PHONE = re.compile(r"(?<![\d.])(?:\+?48[ .-]?)?(?:\d{3}[ .-]?\d{3}[ .-]?\d{3}|\(?\d{2}\)?[ .-]?\d{3}[ .-]?\d{2}"
                   r"[ .-]?\d{2})(?![\d])")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
PESEL = re.compile(r"(?<!\d)\d{11}(?!\d)")
# A name: two capitalised words (a first name and a surname), or an honorific with a surname.
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻ"
_LOWER = "a-ząćęłńóśźż"
NAME = re.compile(rf"\b[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?\s+[{_UPPER}][{_LOWER}]+"
                  rf"(?:-[{_UPPER}][{_LOWER}]+)?\b")
HONORIFIC = re.compile(rf"\b(?:p\.|pan|pani|pana|panią|panu)\s+[{_UPPER}][{_LOWER}]+", re.IGNORECASE)
# a surname after the role a person plays in a note ("zgłaszający Kowalski", "sprawca
# Nowak"): the role word stays, the surname goes
ROLE = re.compile(
    rf"\b((?i:(?:zgłaszając|poszkodowan|zatrzyman|podejrzan|ukaran|pouczon|legitymowan|nietrzeźw)[a-ząęóy]*"
    rf"|sprawc[a-ząęy]*|sprawczyni|świad(?:ek|ka|kiem)|kierowc[a-ząęy]*|właściciel[a-ząęy]*"
    rf"|sąsiad[a-ząęy]*|mieszkan(?:iec|ka|ki|ca|ką)|obywatel[a-ząęy]*))\s+[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?\b")
# a name written in capitals, as registers do ("NOWAK JAN", "Jan NOWAK", "KOWALSKA ANNA
# MARIA"): a word in capitals beside a Polish first name (any case)
FIRST_NAMES = frozenset({
    "Adam", "Agata", "Agnieszka", "Aleksander", "Aleksandra", "Alicja", "Andrzej", "Aneta", "Anna", "Antoni",
    "Artur", "Barbara", "Bartosz", "Beata", "Bogdan", "Bożena", "Czesław", "Damian", "Daniel", "Danuta", "Dariusz",
    "Dawid", "Dominik", "Dorota", "Edyta", "Elżbieta", "Emilia", "Ewa", "Filip", "Grażyna", "Grzegorz", "Halina",
    "Hanna", "Helena", "Henryk", "Irena", "Iwona", "Jacek", "Jadwiga", "Jakub", "Jan", "Janina", "Janusz",
    "Jarosław", "Jerzy", "Joanna", "Jolanta", "Józef", "Julia", "Justyna", "Kamil", "Kamila", "Karol", "Karolina",
    "Katarzyna", "Kazimierz", "Krystyna", "Krzysztof", "Lena", "Leszek", "Łukasz", "Maciej", "Magdalena",
    "Małgorzata", "Marcin", "Marek", "Maria", "Mariusz", "Marta", "Marzena", "Mateusz", "Michał", "Mirosław",
    "Monika", "Natalia", "Oliwia", "Paulina", "Paweł", "Piotr", "Przemysław", "Rafał", "Renata", "Robert", "Roman",
    "Ryszard", "Sebastian", "Stanisław", "Stefan", "Sylwia", "Szymon", "Tadeusz", "Teresa", "Tomasz", "Urszula",
    "Wanda", "Wiesław", "Wiktoria", "Witold", "Władysław", "Wojciech", "Zbigniew", "Zdzisław", "Zenon", "Zofia",
    "Zuzanna", "Zygmunt",
})
_FIRST = {n.upper() for n in FIRST_NAMES}
_CAPS = re.compile(rf"[{_UPPER}]{{2}}")
CAPS_PAIR = re.compile(rf"\b[{_UPPER}][{_UPPER}{_LOWER}]+(?:-[{_UPPER}]+)?"
                       rf"(?:\s+[{_UPPER}][{_UPPER}{_LOWER}]+){{1,2}}\b")


def _caps_name(m: re.Match[str]) -> str:
    words = m.group(0).split()
    has_caps_surname = any(w.isupper() and len(w) > 1 and w.upper() not in _FIRST for w in words)
    return "[osoba]" if has_caps_surname and any(w.upper() in _FIRST for w in words) else m.group(0)


# Capitalised pairs that are places or institutions, not people.
NOT_NAMES = {"Straż Miejska", "Straży Miejskiej", "Dworzec Główny", "Rynek Główny", "Nowa Huta",
             "Stare Miasto", "Prądnik Czerwony", "Prądnik Biały", "Planty Bieńczyckie",
             "Kraków", "Krakowa", "Krakowie", "Polski", "Polsce"}


def scrub(text: str | None) -> str | None:
    """The note with every name, phone number, e-mail, PESEL and plate replaced by a tag."""
    if text is None:
        return None
    out = EMAIL.sub("[e-mail]", text)
    out = PESEL.sub("[pesel]", out)
    out = PHONE.sub("[telefon]", out)
    out = PLATE_IN_TEXT.sub("[nr rej.]", out)
    if _CAPS.search(out):  # most notes have no word in capitals: skip the pass
        out = CAPS_PAIR.sub(_caps_name, out)
    out = HONORIFIC.sub("[osoba]", out)
    out = NAME.sub(lambda m: m.group(0) if m.group(0) in NOT_NAMES else "[osoba]", out)
    return ROLE.sub(lambda m: m.group(0) if m.group(0).split()[-1] in NOT_NAMES else f"{m.group(1)} [osoba]", out)


def scrub_value(value: Any) -> Any:
    """Every string inside ``value`` (a field, a list of fields, a record) scrubbed: what
    quarantine and refusal records keep of a rejected row, whichever column it sat in."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


def has_plate(value: object) -> bool:
    return isinstance(value, str) and PLATE.fullmatch(value.strip()) is not None


class MissingPseudonymKey(RuntimeError):
    """No pseudonym key is configured: loading would have to invent one, and every
    operator's pseudonym would silently stop matching the earlier loads."""


def pseudonym_key(key_file: Path) -> bytes:
    """``KSP_PSEUDONYM_KEY`` (hex), else the Airflow connection ``ksp_pseudonym``'s password,
    else the key file beside the ledger (never in the repository).

    Never invents a key: a key file that is gone raises :class:`MissingPseudonymKey`
    (the landing decides, from the ledger, whether a first key may be created).
    """
    env = os.environ.get("KSP_PSEUDONYM_KEY")
    if env:
        return bytes.fromhex(env) if re.fullmatch(r"[0-9a-fA-F]{32,}", env) else env.encode()
    conn = os.environ.get("AIRFLOW_CONN_KSP_PSEUDONYM")
    if conn:
        from urllib.parse import unquote, urlsplit

        password = urlsplit(conn).password
        if password:
            return unquote(password).encode()
    try:
        text = key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingPseudonymKey(
            f"no pseudonym key: KSP_PSEUDONYM_KEY and the Airflow connection ksp_pseudonym are not set and "
            f"{key_file} does not exist") from None
    return bytes.fromhex(text)


def create_key_file(key_file: Path) -> bytes:
    """Write a new random key readable by its owner only (a first development run)."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never over an existing key
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32))
    return pseudonym_key(key_file)


def key_id(key: bytes) -> str:
    """The key's public name: an HMAC of a fixed label under the key, so it tells keys
    apart (the ledger records which key made a delivery's pseudonyms) and gives
    nothing of the key or of any pseudonym away."""
    return "pk-" + hmac.new(key, b"ksp pseudonym key id", hashlib.sha256).hexdigest()[:12]


def pseudonymise(value: str | None, key: bytes, *, prefix: str) -> str | None:
    """A stable keyed pseudonym: the same value and key give the same token, nothing gives it back."""
    if value is None or value == "":
        return None
    digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:16]}"
