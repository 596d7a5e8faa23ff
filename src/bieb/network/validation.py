"""Validation and normalisation of Dutch postcodes, KvK numbers, place names and times.

Postcodes use python-stdnum (``stdnum.nl.postcode``). python-stdnum 2.2 has no KvK module, so
``kvk_validate`` follows the stdnum conventions (``compact``/``validate``, stdnum exceptions) for
the format the Kamer van Koophandel documents: exactly eight digits. There is no public check
digit for KvK numbers (the KvK stopped issuing numbers that pass the old 11-test), so checking
one would reject real organisations.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.nl import postcode as stdnum_postcode
from stdnum.util import clean, isdigits

# "Until midnight": the end of the last period of a day. Shown as 24:00.
END_OF_DAY = dt.time.max

_PC4_RE = re.compile(r"^[1-9][0-9]{3}$")
_HHMM_RE = re.compile(r"^([01]?[0-9]|2[0-4])[:.]([0-5][0-9])$")


def postcode_normalise(value: str) -> str:
    """Return the postcode as ``"1234 AB"`` or raise ``stdnum.exceptions.ValidationError``."""
    if len(value) > 20:
        raise InvalidLength()
    return stdnum_postcode.validate(value)


def postcode_is_valid(value: str) -> bool:
    try:
        postcode_normalise(value)
    except ValidationError:
        return False
    return True


def pc4_of(value: str) -> str | None:
    """The four digits of a full postcode or a bare PC4 (``"1011ab"`` -> ``"1011"``), else None."""
    compact = clean(value or "", " -").strip().upper()
    if compact.startswith("NL"):
        compact = compact[2:]
    if _PC4_RE.match(compact):
        return compact
    if postcode_is_valid(compact):
        return compact[:4]
    return None


def kvk_compact(value: str) -> str:
    return clean(value or "", " -.").strip()


def kvk_validate(value: str) -> str:
    """Return the KvK number as eight digits or raise ``stdnum.exceptions.ValidationError``."""
    number = kvk_compact(value)
    if not isdigits(number):
        raise InvalidFormat()
    if len(number) != 8:
        raise InvalidLength()
    if number == "00000000":
        raise InvalidFormat()
    return number


def kvk_is_valid(value: str) -> bool:
    try:
        kvk_validate(value)
    except ValidationError:
        return False
    return True


def name_key(value: str) -> str:
    """Search form of a place name: no accents, case folded, punctuation as single spaces.

    ``"'s-Gravenhage"`` -> ``"s gravenhage"``, ``"Súdwest-Fryslân"`` -> ``"sudwest fryslan"``,
    ``"Hengelo (O.)"`` -> ``"hengelo o"``.
    """
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def time_parse(value: dt.time | str) -> dt.time:
    """Accept a ``time`` or ``"HH:MM"`` (``"24:00"`` means until midnight); raise ValueError."""
    if isinstance(value, dt.time):
        return value
    match = _HHMM_RE.match(str(value).strip())
    if not match:
        raise ValueError(f"not a time: {value!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24:
        if minutes:
            raise ValueError(f"not a time: {value!r}")
        return END_OF_DAY
    return dt.time(hours, minutes)


def time_format(value: dt.time) -> str:
    """``HH:MM``; the end of the day shows as ``24:00``."""
    if value >= dt.time(23, 59, 59):
        return "24:00"
    return value.strftime("%H:%M")
