"""What residents write on the board: plain text only.

- ``clean``: no HTML or script gets through (tags are removed and what is left is escaped when
  shown, as all template output is); control characters go, runs of blank lines shrink. Links
  stay as plain text: templates never turn them into links and show a warning next to them.
- ``personal_details``: what looks like an address, a phone number or an e-mail address, so the
  author can be warned before it is public (the platform shows only a postcode area).
- ``filtered_phrase``: the first phrase of the organisation's word filter found in a text.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]*>|<[^>]*$", re.DOTALL)
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\f\v]+")
LINK = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:nl|com|org|net|eu|be|info)\b/?\S*", re.I)
_PHONE = re.compile(r"(?<!\d)(?:\+31|0031|0)[\s-]?(?:[1-9](?:[\s-]?\d){8})(?!\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# a Dutch street address: a word ending in a street suffix ("Dorpsstraat", also typed as
# "dorpsstraat") and a house number with an optional letter, or a full postcode ("1234 AB")
_STREET = re.compile(
    r"\b[A-Za-z][a-zà-ÿ]+(?:straat|laan|weg|plein|gracht|kade|singel|dijk|pad|hof|steeg|dreef|"
    r"park|markt|baan|straatweg|veld|wal)\s+\d{1,4}\s?[a-zA-Z]?\b"
)
_POSTCODE_FULL = re.compile(r"\b[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}\b")


def clean(value: str, *, max_length: int, single_line: bool = False) -> str:
    """Plain text: no tags, no control characters, tidy whitespace, at most ``max_length``."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = _SCRIPTS.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    # a second pass: escaped tags ("&lt;script&gt;") became tags by unescaping
    text = _SCRIPTS.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if single_line:
        text = " ".join(text.split())
    else:
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        text = _BLANKS.sub("\n\n", text).strip()
    return text[:max_length].strip()


def links_in(text: str) -> list[str]:
    return LINK.findall(text or "")


def personal_details(text: str) -> list[str]:
    """Kinds of personal details found: ``address``, ``phone``, ``email``."""
    found = []
    if _STREET.search(text or "") or _POSTCODE_FULL.search(text or ""):
        found.append("address")
    if _PHONE.search(text or ""):
        found.append("phone")
    if _EMAIL.search(text or ""):
        found.append("email")
    return found


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def filtered_phrase(text: str, phrases) -> str | None:
    """The first of ``phrases`` in ``text`` as a whole word or words (case and accents do not
    matter), or None."""
    folded = _fold(text or "")
    for phrase in phrases:
        needle = _fold(phrase).strip()
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded):
            return phrase
    return None
