"""Text normalisation shared by the import, the search index and the pages.

``fold`` is the one definition of "the same letters": lower case, accents removed
(``Café`` = ``cafe``), ligatures and ``ß`` spelled out, punctuation turned into spaces.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.text import slugify

_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "\u0131": "i",  # dotless i
        "ĳ": "ij",
        "Ĳ": "ij",
    }
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_ASCII = [chr(code) for code in range(128)]
# ASCII shortcuts (most catalogue text) through ``str.translate``. The tables map every ASCII
# character, as a miss costs ``translate`` a raised and caught LookupError.
#: ``fold``: each character that is no word character (letter, digit, "_") becomes a space
_FOLD_ASCII = str.maketrans({c: c if c.isalnum() or c == "_" else " " for c in _ASCII})
#: ``slugify``: keep word characters and "-", white space becomes "-", the rest goes
_SLUG_ASCII = str.maketrans(
    {c: c if c.isalnum() or c in "_-" else "-" if c.isspace() else None for c in _ASCII}
)
_LEADING_ARTICLES = re.compile(r"^(de|het|een|the|a|an|le|la|les|der|die|das|el)\s+")


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces."""
    if text.isascii():
        return " ".join(text.lower().translate(_FOLD_ASCII).split()).replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", strip_accents(text).lower()).split()).replace("_", " ")


def words(text: str) -> list[str]:
    return fold(text).split()


def work_key(title: str, author: str) -> str:
    """The grouping key of a work: the folded title without a leading article, and the
    folded family name of the first author. Different formats of one work share it."""
    title_key = _LEADING_ARTICLES.sub("", fold(title))
    family = fold(author.split(",")[0]) if author else ""
    return f"{title_key[:200]}|{family[:50]}"


def slug_for(text: str, max_length: int = 100) -> str:
    if text.isascii():
        # what ``slugify`` does to ASCII: drop what is no word character, white space or "-",
        # make each run of "-" and white space one "-", strip "-" and "_" from the ends
        parts = text.lower().translate(_SLUG_ASCII).split("-")
        slug = "-".join([part for part in parts if part]).strip("-_")
    else:
        slug = slugify(strip_accents(text))
    return slug[:max_length].strip("-") or "x"
