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
from functools import cache
from pathlib import Path

# Polish registration plates: a 1–3 letter area code, then 4–5 letters or digits with at
# least one digit (e.g. KR 4F123, KRA12345, WE 12345).
PLATE = re.compile(r"\b[A-Z]{1,3}[ -]?(?=[0-9A-Z]{4,5}\b)(?=[A-Z]*[0-9])[0-9A-Z]{4,5}\b")
PHONE = re.compile(r"(?<!\d)(?:\+?48[ -]?)?\d{3}[ -]?\d{3}[ -]?\d{3}(?!\d)")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
PESEL = re.compile(r"(?<!\d)\d{11}(?!\d)")
# A name: two capitalised words (a first name and a surname), or an honorific with a surname.
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻ"
_LOWER = "a-ząćęłńóśźż"
NAME = re.compile(rf"\b[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?\s+[{_UPPER}][{_LOWER}]+"
                  rf"(?:-[{_UPPER}][{_LOWER}]+)?\b")
HONORIFIC = re.compile(rf"\b(?:p\.|pan|pani|pana|panią)\s+[{_UPPER}][{_LOWER}]+", re.IGNORECASE)
# Capitalised pairs that are places or institutions, not people.
NOT_NAMES = {"Straż Miejska", "Straży Miejskiej", "Dworzec Główny", "Rynek Główny", "Nowa Huta",
             "Stare Miasto", "Prądnik Czerwony", "Prądnik Biały", "Planty Bieńczyckie"}


def scrub(text: str | None) -> str | None:
    """The note with every name, phone number, e-mail, PESEL and plate replaced by a tag."""
    if text is None:
        return None
    out = EMAIL.sub("[e-mail]", text)
    out = PESEL.sub("[pesel]", out)
    out = PHONE.sub("[telefon]", out)
    out = PLATE.sub("[nr rej.]", out)
    out = HONORIFIC.sub("[osoba]", out)
    return NAME.sub(lambda m: m.group(0) if m.group(0) in NOT_NAMES else "[osoba]", out)


def has_plate(value: object) -> bool:
    return isinstance(value, str) and PLATE.fullmatch(value.strip()) is not None


@cache
def _key_from_file(path: str) -> bytes:
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(secrets.token_hex(32), encoding="ascii")
        p.chmod(0o600)
    return bytes.fromhex(p.read_text(encoding="ascii").strip())


def pseudonym_key(key_file: Path) -> bytes:
    """``KSP_PSEUDONYM_KEY`` (hex), else the Airflow connection ``ksp_pseudonym``'s password,
    else a random key kept beside the ledger (created once, never in the repository)."""
    env = os.environ.get("KSP_PSEUDONYM_KEY")
    if env:
        return bytes.fromhex(env) if re.fullmatch(r"[0-9a-fA-F]{32,}", env) else env.encode()
    conn = os.environ.get("AIRFLOW_CONN_KSP_PSEUDONYM")
    if conn:
        from urllib.parse import unquote, urlsplit

        password = urlsplit(conn).password
        if password:
            return unquote(password).encode()
    return _key_from_file(str(key_file))


def pseudonymise(value: str | None, key: bytes, *, prefix: str) -> str | None:
    """A stable keyed pseudonym: the same value and key give the same token, nothing gives it back."""
    if value is None or value == "":
        return None
    digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:16]}"
