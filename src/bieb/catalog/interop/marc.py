"""MARC 21 in and out: a pymarc ``Record`` becomes the data of one edition, and an edition
becomes a ``Record`` again (for the MARCXML export and OAI-PMH ``marc21``).

Reading is a pure function (``record_to_edition_data``): it touches no database, so the bulk
importer can map a batch of records first and then write it in a few queries. It keeps what a
Dutch public library shows and searches on; everything else in the record is left behind.

The MARC rules used here (positions in the leader and 008, tags, subfields) follow the
Library of Congress "MARC 21 Format for Bibliographic Data".
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field

import pymarc
from pymarc import Field, Indicators, Subfield
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn

from bieb.catalog import text
from bieb.catalog.models import (
    DIGITAL_FORMATS,
    Audience,
    ContributorRole,
    Edition,
    Format,
    Identifier,
    SubjectKind,
    display_name_of,
)

__all__ = [
    "CreditData",
    "EditionData",
    "IdentifierData",
    "RecordRejected",
    "SubjectData",
    "edition_marcxml",
    "edition_to_record",
    "record_to_edition_data",
]


class RecordRejected(ValueError):
    """A record that parsed but cannot become an edition; ``code`` is stable for reports."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


#: ``text.fold`` has the shortcut for ASCII text this module once had
fold = text.fold


# Names and subject headings recur across a file; folding them and making their slugs is
# pure, so a bounded cache spares the mapping most of that Unicode work.
display_name = functools.lru_cache(maxsize=65_536)(display_name_of)


@functools.lru_cache(maxsize=65_536)
def _name_keys(name: str) -> tuple[str, str]:
    """(``Contributor.key``, slug) of a name."""
    return fold(name)[:255], text.slug_for(display_name(name))


@functools.lru_cache(maxsize=65_536)
def _label_keys(label: str) -> tuple[str, str]:
    """(``Subject.key``, slug) of a subject label."""
    return fold(label)[:255], text.slug_for(label)


#: plain strings to compare with (an enum member compares the same, only slower)
_ISBN = Identifier.Kind.ISBN.value
_AUTHOR = ContributorRole.AUTHOR.value


@dataclass(slots=True)
class CreditData:
    name: str
    role: str
    dates: str = ""
    #: ``Contributor.key`` (the folded name) and the slug a new contributor gets
    key: str = ""
    slug: str = ""

    def __post_init__(self) -> None:
        self.role = str(self.role)
        if not (self.key and self.slug):
            key, slug = _name_keys(self.name)
            self.key = self.key or key
            self.slug = self.slug or slug


@dataclass(slots=True)
class SubjectData:
    label: str
    kind: str
    #: ``Subject.key`` (the folded label) and the slug a new subject gets
    key: str = ""
    slug: str = ""

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if not (self.key and self.slug):
            key, slug = _label_keys(self.label)
            self.key = self.key or key
            self.slug = self.slug or slug


@dataclass(slots=True)
class IdentifierData:
    kind: str
    value: str
    as_printed: str
    qualifier: str = ""
    is_valid: bool = True

    def __post_init__(self) -> None:
        self.kind = str(self.kind)


@dataclass(slots=True)
class EditionData:
    """What one MARC record says about an edition, ready to be written in bulk. The derived
    values (``isbn``, ``author_name``, ``work_key``, ``contributors_text``, ``import_id``)
    are computed once on creation, where the mapping runs (possibly in a worker process)."""

    title: str
    source_id: str = ""
    subtitle: str = ""
    credits: list[CreditData] = field(default_factory=list)
    identifiers: list[IdentifierData] = field(default_factory=list)
    publisher: str = ""
    place_of_publication: str = ""
    year: int | None = None
    language: str = ""
    format: str = Format.BOOK.value
    pages: int | None = None
    duration_minutes: int | None = None
    extent: str = ""
    series: str = ""
    series_number: str = ""
    subjects: list[SubjectData] = field(default_factory=list)
    audience: str = ""
    age_min: int | None = None
    age_max: int | None = None
    description: str = ""
    #: the complete LC call number (050 $a $b) or, without one, the Dewey class (082 $a):
    #: where an item's shelf mark starts
    call_number: str = ""
    #: whether ``call_number`` is complete (LC, with its cutter) or a class only (Dewey)
    call_number_complete: bool = False
    #: the first valid ISBN (13 digits), the one ``Edition.isbn`` shows
    isbn: str = ""
    author_name: str = ""
    work_key: str = ""
    contributors_text: str = ""
    #: the upsert key: the control number, or for a record without one a content id
    import_id: str = ""

    def __post_init__(self) -> None:
        self.format = str(self.format)
        self.audience = str(self.audience)
        self.isbn = next(
            (i.value for i in self.identifiers if i.kind == _ISBN and i.is_valid),
            "",
        )
        authors = [c.name for c in self.credits if c.role == _AUTHOR]
        self.author_name = (authors or [c.name for c in self.credits] or [""])[0]
        self.work_key = text.work_key(self.title, self.author_name)
        names = dict.fromkeys([display_name(c.name) for c in self.credits])
        self.contributors_text = "; ".join(names)[:1000]
        self.import_id = self.source_id or self._content_id()

    def _content_id(self) -> str:
        """A stand-in control number for a record without 001 or 010: the same record always
        gets the same id, so re-importing it updates instead of duplicating."""
        basis = "|".join(
            [
                self.title,
                self.subtitle,
                self.author_name,
                str(self.year or ""),
                self.publisher,
                ",".join(i.as_printed for i in self.identifiers),
            ]
        )
        return "h:" + hashlib.sha256(basis.encode()).hexdigest()[:32]

    def edition_fields(self) -> dict[str, object]:
        """The ``Edition`` columns the import owns (not ``avi_level``, ``cover_url``,
        ``available_now``: staff or other services keep those)."""
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "contributors_text": self.contributors_text,
            "isbn": self.isbn,
            "publisher": self.publisher,
            "place_of_publication": self.place_of_publication,
            "year": self.year,
            "language": self.language,
            "format": self.format,
            "pages": self.pages,
            "duration_minutes": self.duration_minutes,
            "extent": self.extent,
            "series": self.series,
            "series_number": self.series_number,
            "audience": self.audience,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "description": self.description,
        }


# --- reading ---------------------------------------------------------------------------------

# The ISBD punctuation that ends an element; ``plain`` leaves no white space but single
# spaces, so ``rstrip`` with these characters does what ``[\s/:;,=+]+$`` would.
_TRAILING = " /:;,=+"
_INITIAL_OR_ABBREVIATION = re.compile(
    r"(?:\b\w|\.\w+|\b(?:ed|etc|Jr|Sr|Inc|Co|Ltd|St|Mr|Mrs|Dr))\.$"
)
_ABBREVIATIONS = frozenset({"ed", "etc", "Jr", "Sr", "Inc", "Co", "Ltd", "St", "Mr", "Mrs", "Dr"})
_ASCII_WORD = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
# white space and control characters (XML 1.0 refuses most of those) become one space
_SPACES = re.compile(r"[\s\x00-\x1f\x7f]+")


def plain(value: str | None) -> str:
    """Running text as stored: single spaces, no control characters, composed accents."""
    if not value:
        return ""
    # Most MARC text is printable ASCII with single spaces: nothing for the regex to do.
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()
    value = _SPACES.sub(" ", value).strip()
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def _keeps_period(value: str) -> bool:
    """Whether the closing "." of ``value`` ends an initial or abbreviation
    (``_INITIAL_OR_ABBREVIATION``). For ASCII this looks at the last word only instead of
    running the regex along the whole text: a single letter, a word after a "." ("Ph.D.")
    or one of ``_ABBREVIATIONS``."""
    if not value.isascii():
        return _INITIAL_OR_ABBREVIATION.search(value) is not None
    head = value[:-1]
    start = len(head.rstrip(_ASCII_WORD))
    word = head[start:]
    return bool(word) and (
        len(word) == 1 or head[start - 1 : start] == "." or word in _ABBREVIATIONS
    )


def clean(value: str | None) -> str:
    """Field text without the ISBD punctuation that joins it to the next element (" /",
    " :", " ;", " =", ",", a closing "."), with NFC accents and no control characters.
    A closing "." after an initial or abbreviation ("Willard B.", "ed.") is kept."""
    if not value:
        return ""
    value = plain(value).rstrip(_TRAILING)
    if value.endswith(".") and not value.endswith("..") and not _keeps_period(value):
        value = value[:-1].rstrip(_TRAILING)
    if value.startswith("[") and value.endswith("]") and value.count("[") == 1:
        value = value[1:-1].strip()
    return value


def _join(parts: list[str], separator: str = " ") -> str:
    return separator.join([p for part in parts if (p := clean(part))])


# Relator terms ($e, $j for meetings) and codes ($4) we know; everything else is "other".
_RELATOR_CODES = {
    "aut": ContributorRole.AUTHOR,
    "cre": ContributorRole.AUTHOR,
    "edt": ContributorRole.EDITOR,
    "com": ContributorRole.EDITOR,
    "ill": ContributorRole.ILLUSTRATOR,
    "art": ContributorRole.ILLUSTRATOR,
    "trl": ContributorRole.TRANSLATOR,
    "nrt": ContributorRole.NARRATOR,
    "drt": ContributorRole.DIRECTOR,
    "fmd": ContributorRole.DIRECTOR,
    "prf": ContributorRole.PERFORMER,
    "act": ContributorRole.PERFORMER,
    "sng": ContributorRole.PERFORMER,
    "mus": ContributorRole.PERFORMER,
}
_RELATOR_TERMS = [
    ("author", ContributorRole.AUTHOR),
    ("writer", ContributorRole.AUTHOR),
    ("auteur", ContributorRole.AUTHOR),
    ("schrijver", ContributorRole.AUTHOR),
    ("creator", ContributorRole.AUTHOR),
    ("editor", ContributorRole.EDITOR),
    ("compiler", ContributorRole.EDITOR),
    ("redacteur", ContributorRole.EDITOR),
    ("samensteller", ContributorRole.EDITOR),
    ("illustrat", ContributorRole.ILLUSTRATOR),
    ("artist", ContributorRole.ILLUSTRATOR),
    ("translat", ContributorRole.TRANSLATOR),
    ("vertal", ContributorRole.TRANSLATOR),
    ("narrat", ContributorRole.NARRATOR),
    ("verteller", ContributorRole.NARRATOR),
    ("voorlezer", ContributorRole.NARRATOR),
    ("direct", ContributorRole.DIRECTOR),
    ("regisseur", ContributorRole.DIRECTOR),
    ("perform", ContributorRole.PERFORMER),
    ("actor", ContributorRole.PERFORMER),
    ("singer", ContributorRole.PERFORMER),
    ("musician", ContributorRole.PERFORMER),
    ("uitvoerende", ContributorRole.PERFORMER),
]


def _roles(field_: Field, default: str) -> list[str]:
    """Roles named by relator terms ("author, illustrator" gives both) and codes; ``default``
    when the field names none."""
    term_code = "j" if field_.tag in {"111", "711"} else "e"
    terms: list[str] = []
    codes: list[str] = []
    for code, value in field_.subfields:
        if code == term_code:
            terms.append(value)
        elif code == "4":
            codes.append(value)
    if not terms and not codes:
        return [default]
    roles: list[str] = []
    for term in terms:
        term_words = fold(term).split()
        if not term_words:
            continue
        named = [
            role
            for prefix, role in _RELATOR_TERMS
            if any(word.startswith(prefix) for word in term_words)
        ]
        roles.extend(named or [ContributorRole.OTHER])
    for code in codes:
        code = code.strip().lower()[-3:]
        roles.append(_RELATOR_CODES.get(code, ContributorRole.OTHER))
    known = [r for r in roles if r != ContributorRole.OTHER]
    if known:
        return list(dict.fromkeys(known))
    return [ContributorRole.OTHER] if roles else [default]


def _name(field_: Field) -> tuple[str, str]:
    """(name in catalogue order, dates) of a 100/110/111/700/710/711 field."""
    if field_.tag.endswith("00"):
        name = _join(field_.get_subfields("a", "b"))
        dates = clean(field_.get("d"))
    elif field_.tag.endswith("10"):
        name = _join(field_.get_subfields("a", "b"), ". ")
        dates = ""
    else:
        name = _join(field_.get_subfields("a"))
        dates = clean(field_.get("d"))
    return name.rstrip(","), dates.rstrip(",")[:40]


def _credits(fields: dict[str, list[Field]]) -> list[CreditData]:
    credits: list[CreditData] = []
    seen: set[tuple[str, str]] = set()
    for tags, default in (
        (("100", "110", "111"), ContributorRole.AUTHOR),
        (("700", "710", "711"), ContributorRole.OTHER),
    ):
        for tag in tags:
            for field_ in fields.get(tag, ()):
                name, dates = _name(field_)
                if not name:
                    continue
                for role in _roles(field_, default):
                    credit = CreditData(name=name[:255], role=role, dates=dates)
                    if credit.key and (credit.key, role) not in seen:
                        seen.add((credit.key, role))
                        credits.append(credit)
    return credits


_ISBN_TOKEN = re.compile(r"^\s*([0-9Xx][0-9Xx\-\s]{8,16}[0-9Xx])\b\s*(.*)$")


def _isbn(raw: str, qualifiers: list[str], *, cancelled: bool) -> IdentifierData | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    match = _ISBN_TOKEN.match(raw)
    number, rest = (match.group(1), match.group(2)) if match else (raw.split(" ")[0], "")
    qualifier = clean(" ".join([rest.strip(" ()"), *qualifiers]).strip(" ()"))[:80]
    as_printed = number.strip()[:80]
    if not cancelled:
        value = _isbn13(number)
        if value:
            return IdentifierData(_ISBN, value, as_printed, qualifier, True)
    return IdentifierData(_ISBN, as_printed[:40], as_printed, qualifier, False)


_ISBN_CHARACTERS = frozenset("0123456789Xx -")


def _isbn13(number: str) -> str:
    """The ISBN-13 of a valid ISBN (10 or 13 digits, "-" and " " allowed), else "".

    The same rules as python-stdnum's ``isbn.validate`` and ``isbn.to_isbn13``, which are
    slow for the common case of digits and hyphens: they are used only for what is not."""
    if not _ISBN_CHARACTERS.issuperset(number):
        try:
            return stdnum_isbn.to_isbn13(stdnum_isbn.validate(number))
        except Exception:  # stdnum raises several ValidationError kinds
            return ""
    digits = number.replace("-", "").replace(" ", "").upper()
    if len(digits) == 9:
        digits = "0" + digits
    body = digits[:-1]
    if not body.isdigit():  # ASCII here, so only 0-9
        return ""
    if len(digits) == 10:
        check = sum(map(operator.mul, _ISBN10_WEIGHTS, map(int, body))) % 11
        if digits[-1] != ("X" if check == 10 else str(check)):
            return ""
        body = "978" + body
    elif len(digits) != 13 or body[:3] not in {"978", "979"}:
        return ""
    check = str((10 - sum(map(operator.mul, _EAN13_WEIGHTS, map(int, body)))) % 10)
    if len(digits) == 13 and digits[-1] != check:
        return ""
    return body + check


_ISBN10_WEIGHTS = range(1, 10)
#: EAN-13 weights of the first twelve digits: 1 and 3 alternately
_EAN13_WEIGHTS = (1, 3) * 6


def _identifiers(fields: dict[str, list[Field]]) -> list[IdentifierData]:
    found: dict[tuple[str, str], IdentifierData] = {}

    def keep(identifier: IdentifierData | None) -> None:
        if identifier is not None and identifier.value:
            found.setdefault((identifier.kind, identifier.value), identifier)

    for field_ in fields.get("020", ()):
        qualifiers = field_.get_subfields("q")
        for raw in field_.get_subfields("a"):
            keep(_isbn(raw, qualifiers, cancelled=False))
        for raw in field_.get_subfields("z"):
            keep(_isbn(raw, qualifiers, cancelled=True))
    for field_ in fields.get("022", ()):
        for code in ("a", "y", "z"):
            for raw in field_.get_subfields(code):
                raw = raw.strip()[:40]
                try:
                    value = stdnum_issn.format(stdnum_issn.validate(raw))
                    valid = code == "a"
                except Exception:
                    value, valid = raw, False
                keep(IdentifierData(Identifier.Kind.ISSN, value, raw, "", valid))
    return list(found.values())


_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2}|2100)(?!\d)")


def _year(fixed: str, imprint: Field | None) -> int | None:
    candidate = fixed[7:11]
    if candidate.isdigit() and fixed[6:7] not in {"b", "n", "|"}:
        year = int(candidate)
        if 1000 <= year <= 2100:
            return year
    if imprint is not None:
        match = _YEAR.search(" ".join(imprint.get_subfields("c")))
        if match:
            return int(match.group(1))
    return None


def _imprint(fields: dict[str, list[Field]]) -> Field | None:
    """The publication statement: 264 with second indicator 1 (publication), else 260, else
    any 264."""
    for field_ in fields.get("264", ()):
        if field_.indicators and field_.indicators.second == "1":
            return field_
    if fields.get("260"):
        return fields["260"][0]
    return fields["264"][0] if fields.get("264") else None


def _language(fixed: str, fields: dict[str, list[Field]]) -> str:
    code = fixed[35:38].strip().lower()
    if len(code) == 3 and code.isalpha() and code.isascii() and code not in {"und", "zxx"}:
        return code
    for field_ in fields.get("041", ()):
        for value in field_.get_subfields("a"):
            value = value.strip().lower()[:3]
            if len(value) == 3 and value.isalpha() and value.isascii():
                return value
    return ""


def _texts(fields: dict[str, list[Field]], *tags: str) -> str:
    return " ".join([f.value() for tag in tags for f in fields.get(tag, ())]).lower()


_LARGE_PRINT = ("large print", "large type", "grote letter")
_GAME = ("game", "spel", "puzzle")


_DIMENSIONS = re.compile(r"\d\s*(?:cm|in|mo)\b")


def _is_online(fields: dict[str, list[Field]], fixed: str, leader: str) -> bool:
    """Whether the record describes the online version itself. LoC describes many printed
    books that have a digitised copy (007 "cr", 856 to a scan): those stay printed."""
    # 008/23 "form of item" (29 for visual materials): o online, q direct, s electronic
    position = 29 if leader[6:7] in {"g", "k", "o", "r"} else 23
    if fixed[position : position + 1] in {"o", "q", "s"}:
        return True
    if "online resource" in _texts(fields, "338", "300") or "computer" in _texts(fields, "337"):
        return True
    medium = " ".join(" ".join(f.get_subfields("h")) for f in fields.get("245", ()))
    if "electronic resource" in medium:
        return True
    # Weak signals together: a computer-file 007, a link to the resource itself (856 x0),
    # and no printed dimensions in 300 $c.
    if any((f.data or "")[:1] == "c" for f in fields.get("007", ())) and any(
        f.indicators and f.indicators.second == "0" for f in fields.get("856", ())
    ):
        dimensions = " ".join(" ".join(f.get_subfields("c")) for f in fields.get("300", ()))
        return not _DIMENSIONS.search(dimensions)
    return False


def _format(leader: str, fixed: str, fields: dict[str, list[Field]]) -> str:
    kind, level = leader[6:7], leader[7:8]
    if kind in {"a", "t"}:
        if level in {"s", "b"}:
            return Format.MAGAZINE
        if _is_online(fields, fixed, leader):
            return Format.EBOOK
        if fixed[23:24] == "d":
            return Format.LARGE_PRINT
        about = _texts(fields, "250", "300", "650", "655")
        if any(words in about for words in _LARGE_PRINT):
            return Format.LARGE_PRINT
        return Format.BOOK
    if kind == "i":
        return Format.AUDIOBOOK if _is_online(fields, fixed, leader) else Format.AUDIO_CD
    if kind == "j" or kind in {"c", "d"}:
        return Format.MUSIC
    if kind == "g":
        return Format.STREAMING if _is_online(fields, fixed, leader) else Format.FILM
    if kind in {"r", "m"}:
        about = _texts(fields, "245", "300", "336", "650", "655")
        is_game = fixed[33:34] == "g" if kind == "r" else fixed[26:27] == "g"
        if is_game or any(word in about for word in _GAME):
            return Format.GAME
        return Format.THING if kind == "r" else Format.EBOOK
    if kind in {"k", "o"}:
        return Format.THING
    return Format.BOOK


# "xii, 345 p.", "vi, 81, [1] p.", "1 online resource (345 pages)": the numbers before each
# page word count, and the largest wins ("450 p., [16] p. of plates" is 450).
_PAGE_WORD = re.compile(r"\b(?:p|pp|pages?|leaves|bl|blz)\b")
_NUMBER = re.compile(r"\d{1,6}")
_HOURS = re.compile(r"(\d{1,3})\s*(?:hr|hour|uur|u\b|h\b)")
_MINUTES = re.compile(r"(\d{1,4})\s*min")
_PARENTHESES = re.compile(r"\(([^)]*)\)")


def _extent(fields: dict[str, list[Field]]) -> tuple[str, int | None, int | None]:
    """(extent as printed, pages, duration in minutes) from 300 (and 306 playing time)."""
    physical = fields.get("300", [])
    extent = _join([f.value() for f in physical], " ; ")[:255] if physical else ""
    statement = " ".join(" ".join(f.get_subfields("a")) for f in physical).lower()
    segments = _PAGE_WORD.split(statement)[:-1]
    pages = max((int(n) for part in segments for n in _NUMBER.findall(part)), default=None)
    duration = None
    for part in _PARENTHESES.findall(statement) or [statement]:
        hours = _HOURS.search(part)
        minutes = _MINUTES.search(part)
        if hours or minutes:
            duration = (int(hours.group(1)) * 60 if hours else 0) + (
                int(minutes.group(1)) if minutes else 0
            )
            break
    if duration is None:
        for field_ in fields.get("306", ()):
            playing = (field_.get("a") or "").strip()
            if len(playing) == 6 and playing.isdigit():
                duration = int(playing[:2]) * 60 + int(playing[2:4]) + (int(playing[4:]) >= 30)
                break
    if pages is not None and not 0 < pages <= 100_000:
        pages = None
    if duration is not None and not 0 < duration <= 100_000:
        duration = None
    return extent, pages, duration


def _series(fields: dict[str, list[Field]]) -> tuple[str, str]:
    for tag in ("490", "830", "800", "810"):
        for field_ in fields.get(tag, ()):
            title = _join(
                field_.get_subfields("a", "t")
                if tag in {"800", "810"}
                else field_.get_subfields("a")
            )
            if title:
                number = clean(field_.get("v"))
                return title[:255], number[:20]
    return "", ""


_SUBJECT_KINDS = {
    "600": SubjectKind.PERSON.value,
    "610": SubjectKind.TOPIC.value,
    "611": SubjectKind.TOPIC.value,
    "630": SubjectKind.TOPIC.value,
    "650": SubjectKind.TOPIC.value,
    "651": SubjectKind.PLACE.value,
    "655": SubjectKind.GENRE.value,
}
_SUBDIVISIONS = frozenset("vxyz")


# Subject headings recur across a file (more than names do): (label, key, slug) of a
# field's subfields is cached.
@functools.lru_cache(maxsize=32_768)
def _subject_heading(subfields: tuple[Subfield, ...]) -> tuple[str, str, str]:
    head: list[str] = []
    parts: list[str] = []
    for code, value in subfields:
        if code in _SUBDIVISIONS:
            parts.append(value)
        elif code in "abcdnpqt" and not parts:
            head.append(value)
    label = " -- ".join([p for p in [clean(" ".join(head)), *map(clean, parts)] if p])[:255]
    return (label, *_label_keys(label)) if label else ("", "", "")


def _subjects(fields: dict[str, list[Field]]) -> list[SubjectData]:
    found: dict[str, SubjectData] = {}
    for tag, kind in _SUBJECT_KINDS.items():
        for field_ in fields.get(tag, ()):
            label, key, slug = _subject_heading(tuple(field_.subfields))
            if key and key not in found:
                found[key] = SubjectData(label=label, kind=kind, key=key, slug=slug)
    return list(found.values())


# 008/22 target audience: (audience, age from, age to)
_AUDIENCE_CODES: dict[str, tuple[str, int | None, int | None]] = {
    "a": (Audience.TODDLER, 0, 5),
    "b": (Audience.CHILD, 6, 8),
    "c": (Audience.CHILD, 9, 13),
    "d": (Audience.TEEN, 14, 17),
    "j": (Audience.CHILD, None, None),
    "e": (Audience.ADULT, None, None),
    "f": (Audience.ADULT, None, None),
    "g": (Audience.ADULT, None, None),
}
_AGES = re.compile(
    r"(?:age|ages|leeftijd|jaar)\D{0,12}(\d{1,2})\s*(?:-|to|tot|\u2013|and up|\+)\s*(\d{1,2})?"
)
_GRADES = re.compile(r"grades?\s*(\d{1,2}|k)\s*(?:-|to|\u2013)\s*(\d{1,2})")


def audience_for_age(age: int) -> str:
    if age < 4:
        return Audience.TODDLER
    if age < 12:
        return Audience.CHILD
    if age < 18:
        return Audience.TEEN
    return Audience.ADULT


def _audience(leader: str, fixed: str, fields: dict[str, list[Field]]):
    audience, age_min, age_max = "", None, None
    # 008/22 is the target audience except in maps (e, f) and continuing resources.
    if leader[6:7] not in {"e", "f"} and leader[7:8] not in {"s", "b", "i"}:
        audience, age_min, age_max = _AUDIENCE_CODES.get(fixed[22:23], ("", None, None))
    note = _texts(fields, "521")
    if note:
        ages = _AGES.search(note)
        grades = _GRADES.search(note)
        low = high = None
        if ages:
            low = int(ages.group(1))
            high = int(ages.group(2)) if ages.group(2) else None
        elif grades:
            low = 5 if grades.group(1) == "k" else int(grades.group(1)) + 5
            high = int(grades.group(2)) + 6
        if low is not None:
            age_min, age_max = low, high if high is None or high >= low else None
            audience = audience_for_age(low)
    return audience, age_min, age_max


def _call_number(fields: dict[str, list[Field]]) -> tuple[str, bool]:
    """(call number, complete): the first LC call number (its first $a and $b), else the
    first Dewey class without its segmentation marks."""
    for field_ in fields.get("050", ()):
        value = _join([field_.get("a") or "", field_.get("b") or ""])
        if value:
            return value[:40], True
    for field_ in fields.get("082", ()):
        value = clean(field_.get("a")).replace("/", "").replace("'", "")
        if value:
            return value[:40], False
    return "", False


def control_number(record: pymarc.Record) -> str:
    """001, or the LCCN in 010 $a where a record has no 001."""
    return _control_number({"001": record.get_fields("001"), "010": record.get_fields("010")})


def _control_number(fields: dict[str, list[Field]]) -> str:
    for field_ in fields.get("001", ()):
        value = (field_.data or "").strip()
        if value:
            return value[:64]
    for field_ in fields.get("010", ()):
        value = (field_.get("a") or "").strip()
        if value:
            return value[:64]
    return ""


def record_to_edition_data(record: pymarc.Record) -> EditionData:
    """Map one record; raises ``RecordRejected`` when it cannot be an edition (no title)."""
    fields: dict[str, list[Field]] = defaultdict(list)
    for field_ in record.fields:
        fields[field_.tag].append(field_)
    leader = str(record.leader).ljust(24)
    fixed = (fields["008"][0].data or "").ljust(40) if fields.get("008") else " " * 40

    title_field = fields.get("245", [None])[0]
    title = ""
    subtitle = ""
    if title_field is not None:
        title = _join(title_field.get_subfields("a"))
        parts = _join(title_field.get_subfields("n", "p"), ". ")
        if parts:
            title = f"{title}. {parts}" if title else parts
        subtitle = _join(title_field.get_subfields("b"))
    if not title:
        raise RecordRejected("no_title", "the record has no title (245 $a)")

    imprint = _imprint(fields)
    extent, pages, duration = _extent(fields)
    series, series_number = _series(fields)
    audience, age_min, age_max = _audience(leader, fixed, fields)
    description = "\n\n".join(d for d in (plain(f.get("a")) for f in fields.get("520", ())) if d)
    call_number, call_number_complete = _call_number(fields)
    data = EditionData(
        title=title[:500],
        subtitle=subtitle[:500],
        source_id=_control_number(fields),
        credits=_credits(fields),
        identifiers=_identifiers(fields),
        publisher=_join(imprint.get_subfields("b"), "; ")[:255] if imprint else "",
        place_of_publication=_join(imprint.get_subfields("a"), "; ")[:255] if imprint else "",
        year=_year(fixed, imprint),
        language=_language(fixed, fields),
        format=_format(leader, fixed, fields),
        pages=pages,
        duration_minutes=duration,
        extent=extent,
        series=series,
        series_number=series_number,
        subjects=_subjects(fields),
        audience=audience,
        age_min=age_min,
        age_max=age_max,
        description=description,
        call_number=call_number,
        call_number_complete=call_number_complete,
    )
    return data


# --- writing ---------------------------------------------------------------------------------

_LEADER_TYPE = {
    Format.BOOK: "am",
    Format.LARGE_PRINT: "am",
    Format.EBOOK: "am",
    Format.AUDIOBOOK: "im",
    Format.AUDIO_CD: "im",
    Format.FILM: "gm",
    Format.STREAMING: "gm",
    Format.MUSIC: "jm",
    Format.GAME: "rm",
    Format.THING: "rm",
    Format.MAGAZINE: "as",
}
_ROLE_CODES = {
    ContributorRole.AUTHOR: ("author", "aut"),
    ContributorRole.EDITOR: ("editor", "edt"),
    ContributorRole.ILLUSTRATOR: ("illustrator", "ill"),
    ContributorRole.TRANSLATOR: ("translator", "trl"),
    ContributorRole.NARRATOR: ("narrator", "nrt"),
    ContributorRole.DIRECTOR: ("director", "drt"),
    ContributorRole.PERFORMER: ("performer", "prf"),
    ContributorRole.OTHER: ("contributor", "ctb"),
}
_AUDIENCE_TO_CODE = {
    Audience.TODDLER: "a",
    Audience.CHILD: "j",
    Audience.TEEN: "d",
    Audience.ADULT: "e",
    Audience.ALL: "g",
}
_SUBJECT_TAGS = {
    SubjectKind.TOPIC: ("650", " "),
    SubjectKind.GENRE: ("655", " "),
    SubjectKind.PERSON: ("600", "1"),
    SubjectKind.PLACE: ("651", " "),
}


def edition_url(edition: Edition) -> str:
    """The edition's page on the site. Relative: no request-free absolute URL setting exists,
    and a harvester resolves it against the OAI base URL it used."""
    return f"/titels/{edition.pk}"


def _fixed_field(edition: Edition) -> str:
    chars = list(" " * 40)
    created = edition.created_at
    chars[0:6] = f"{created:%y%m%d}" if created else "000000"
    if edition.year:
        chars[6] = "s"
        chars[7:11] = f"{edition.year:04d}"[:4]
    else:
        chars[6] = "n"
        chars[7:11] = "uuuu"
    chars[15:18] = "xx "
    chars[22] = _AUDIENCE_TO_CODE.get(edition.audience, " ")
    visual = _LEADER_TYPE.get(edition.format, "am")[0] in {"g", "r"}
    if edition.format in DIGITAL_FORMATS:
        chars[29 if visual else 23] = "o"
    elif edition.format == Format.LARGE_PRINT:
        chars[23] = "d"
    if visual:
        # 008/33 type of visual material: g game, r realia, v videorecording
        chars[33] = {Format.GAME: "g", Format.THING: "r"}.get(edition.format, "v")
    chars[35:38] = (edition.language or "und")[:3].ljust(3)
    chars[39] = "d"
    return "".join(chars)


def _sub(pairs: list[tuple[str, str]]) -> list[Subfield]:
    return [Subfield(code=code, value=value) for code, value in pairs if value]


def edition_to_record(edition: Edition) -> pymarc.Record:
    """The edition as a MARC 21 record (UTF-8). Uses ``edition.credits.all()``,
    ``subjects.all()`` and ``identifiers.all()`` so callers can prefetch them."""
    record = pymarc.Record()
    record.leader = pymarc.Leader(f"00000n{_LEADER_TYPE.get(edition.format, 'am')} a2200000 i 4500")
    record.add_field(Field(tag="001", data=f"bieb-{edition.pk}"))
    record.add_field(Field(tag="003", data="Bieb"))
    if edition.updated_at:
        record.add_field(Field(tag="005", data=f"{edition.updated_at:%Y%m%d%H%M%S}.0"))
    if edition.format in DIGITAL_FORMATS:
        record.add_field(Field(tag="007", data="cr"))
    record.add_field(Field(tag="008", data=_fixed_field(edition)))

    for identifier in sorted(edition.identifiers.all(), key=lambda i: (not i.is_valid, i.pk or 0)):
        if identifier.kind == Identifier.Kind.ISSN:
            tag, code = "022", "a" if identifier.is_valid else "y"
        else:
            tag, code = "020", "a" if identifier.is_valid else "z"
        value = (
            identifier.value if identifier.is_valid else identifier.as_printed or identifier.value
        )
        record.add_field(
            Field(
                tag=tag,
                indicators=Indicators(" ", " "),
                subfields=_sub([(code, value), ("q", identifier.qualifier)]),
            )
        )

    credits = sorted(edition.credits.all(), key=lambda c: (c.position, c.pk or 0))
    main = next((c for c in credits if c.role == ContributorRole.AUTHOR), None)
    for credit in credits:
        term, code = _ROLE_CODES.get(credit.role, _ROLE_CODES[ContributorRole.OTHER])
        name = credit.contributor.name
        record.add_field(
            Field(
                tag="100" if credit is main else "700",
                indicators=Indicators("1" if "," in name else "0", " "),
                subfields=_sub(
                    [("a", name), ("d", credit.contributor.dates), ("e", term), ("4", code)]
                ),
            )
        )

    statement = edition.contributors_text
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1" if main else "0", "0"),
            subfields=_sub(
                [
                    ("a", edition.title),
                    ("b", edition.subtitle),
                    ("c", statement),
                ]
            ),
        )
    )
    if edition.format == Format.LARGE_PRINT:
        record.add_field(
            Field(
                tag="250", indicators=Indicators(" ", " "), subfields=_sub([("a", "Grote letter")])
            )
        )
    if edition.publisher or edition.place_of_publication or edition.year:
        record.add_field(
            Field(
                tag="264",
                indicators=Indicators(" ", "1"),
                subfields=_sub(
                    [
                        ("a", edition.place_of_publication),
                        ("b", edition.publisher),
                        ("c", str(edition.year or "")),
                    ]
                ),
            )
        )
    extent = edition.extent
    if not extent and edition.pages:
        extent = f"{edition.pages} p."
    elif not extent and edition.duration_minutes:
        extent = f"1 ({edition.duration_minutes} min.)"
    if extent:
        record.add_field(
            Field(tag="300", indicators=Indicators(" ", " "), subfields=_sub([("a", extent)]))
        )
    if edition.format in DIGITAL_FORMATS:
        record.add_field(
            Field(
                tag="338",
                indicators=Indicators(" ", " "),
                subfields=_sub([("a", "online resource"), ("b", "cr"), ("2", "rdacarrier")]),
            )
        )
    if edition.series:
        record.add_field(
            Field(
                tag="490",
                indicators=Indicators("0", " "),
                subfields=_sub([("a", edition.series), ("v", edition.series_number)]),
            )
        )
    if edition.description:
        record.add_field(
            Field(
                tag="520",
                indicators=Indicators(" ", " "),
                subfields=_sub([("a", edition.description)]),
            )
        )
    if edition.age_min is not None:
        ages = (
            f"Ages {edition.age_min}-{edition.age_max}."
            if edition.age_max
            else f"Ages {edition.age_min}+."
        )
        record.add_field(
            Field(tag="521", indicators=Indicators("1", " "), subfields=_sub([("a", ages)]))
        )
    elif edition.audience:
        record.add_field(
            Field(
                tag="521",
                indicators=Indicators("8", " "),
                subfields=_sub([("a", str(edition.get_audience_display()))]),
            )
        )
    if edition.avi_level:
        record.add_field(
            Field(
                tag="521",
                indicators=Indicators("2", " "),
                subfields=_sub([("a", f"AVI {edition.avi_level}")]),
            )
        )
    for subject in sorted(edition.subjects.all(), key=lambda s: s.pk or 0):
        tag, first = _SUBJECT_TAGS.get(subject.kind, _SUBJECT_TAGS[SubjectKind.TOPIC])
        head, *subdivisions = subject.label.split(" -- ")
        record.add_field(
            Field(
                tag=tag,
                indicators=Indicators(first, "4"),
                subfields=_sub([("a", head), *(("x", part) for part in subdivisions)]),
            )
        )
    record.add_field(
        Field(
            tag="856",
            indicators=Indicators("4", "2"),
            subfields=_sub([("u", edition_url(edition)), ("z", "Bieb")]),
        )
    )
    return record


# Characters XML 1.0 cannot carry, even escaped (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def edition_marcxml(edition: Edition) -> bytes:
    """The edition as a UTF-8 MARCXML ``<record>`` document in the MARC21/slim namespace."""
    node = pymarc.record_to_xml_node(edition_to_record(edition), namespace=True)
    document = ET.tostring(node, encoding="unicode")
    # ElementTree writes control characters (found in old records) as they are, which no XML
    # parser accepts: drop them so the download is always well-formed.
    document = _NOT_XML.sub("", document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document.encode("utf-8")
