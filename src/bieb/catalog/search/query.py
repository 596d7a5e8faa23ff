"""What a search asks for: ``SearchQuery``, read from GET parameters by ``parse_query``, and the
parsed form of its text (loose words, quoted phrases, an ISBN).

User text never reaches ``MATCH`` or ``to_tsquery`` as syntax: it is folded into words here and
the backends quote every word themselves, so ``"``, ``*``, ``NEAR``, ``-``, ``:``, ``(``, ``^``,
``AND``/``OR``/``NOT`` and SQL fragments are ordinary (mostly vanishing) characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from stdnum import isbn as isbn_lib

from bieb.catalog import text
from bieb.catalog.search.analysis import MAX_TERMS
from bieb.core.errors import DomainError

MAX_QUERY_LENGTH = 500
MAX_PER_PAGE = 100
#: more values per facet than this in one request are ignored (a URL cannot sensibly hold more)
MAX_FACET_VALUES = 30
SORTS = ("relevance", "newest", "title")

_ISBN_CHARS = re.compile(r"^[0-9Xx\s\-]+$")


@dataclass
class SearchQuery:
    text: str = ""
    formats: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    #: subject slugs
    subjects: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    available: bool = False
    #: 0 = an organisation or location that does not exist: matches nothing
    organisation_id: int | None = None
    location_id: int | None = None
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    with_facets: bool = True


@dataclass(frozen=True)
class ParsedText:
    """The searchable part of a query text: loose words (each matches itself or a stem) and
    phrases (folded words that must follow each other)."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases

    def words(self) -> list[str]:
        return [*self.terms, *(w for phrase in self.phrases for w in phrase)]


def parse_text(raw: str) -> ParsedText:
    """Split ``raw`` into loose words and double-quoted phrases. An unbalanced quote is
    ignored (its words are loose words); a one-word phrase is a loose word; at most
    ``MAX_TERMS`` words count."""
    raw = raw[:MAX_QUERY_LENGTH]
    parts = raw.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one opens nothing
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    budget = MAX_TERMS
    for index, part in enumerate(parts):
        words = text.words(part)[:budget]
        budget -= len(words)
        if index % 2 == 1 and len(words) > 1:
            if words not in [list(p) for p in phrases]:
                phrases.append(tuple(words))
        else:
            terms.extend(w for w in words if w not in terms)
        if budget <= 0:
            break
    return ParsedText(terms=tuple(terms), phrases=tuple(phrases))


def isbn_like(raw: str) -> str | None:
    """The digits (and X) of ``raw`` when it is written like an ISBN, valid or not: the index
    holds numbers that failed validation as printed, without hyphens."""
    if not raw or len(raw) > 40 or not _ISBN_CHARS.match(raw.strip()):
        return None
    compact = "".join(ch for ch in raw if ch.isalnum()).lower()
    return compact if len(compact) in (10, 13) else None


def isbn_in(raw: str) -> str | None:
    """The ISBN-13 that ``raw`` is (ISBN-10 or -13, hyphens and spaces allowed), else None."""
    if not raw or len(raw) > 40 or not _ISBN_CHARS.match(raw.strip()):
        return None
    compact = isbn_lib.compact(raw)
    if len(compact) not in (10, 13) or not isbn_lib.is_valid(compact):
        return None
    return isbn_lib.to_isbn13(compact)


def _raw_values(params: Mapping[str, str | list[str]], key: str) -> list[str]:
    if hasattr(params, "getlist"):
        raw = params.getlist(key)
    else:
        value = params.get(key)
        raw = [] if value is None else [value] if isinstance(value, str) else list(value)
    # NUL cannot be stored in PostgreSQL text and means nothing in a search
    return [v for v in (str(v).replace("\x00", "").strip() for v in raw) if v]


def _values(params: Mapping[str, str | list[str]], key: str) -> list[str]:
    """Facet values: at most ``MAX_FACET_VALUES``, each cut at 100 characters (longer ones
    match nothing anyway)."""
    return [v[:100] for v in _raw_values(params, key)][:MAX_FACET_VALUES]


def _value(params: Mapping[str, str | list[str]], key: str) -> str:
    values = _raw_values(params, key)
    return values[-1] if values else ""


def _int(raw: str, code: str, message: str) -> int:
    # int() accepts "+3", " 3", "٣" and "1_000"; a page number is ASCII digits only.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise DomainError(code, message, details={"value": raw[:20]})
    return int(raw)


def parse_query(params: Mapping[str, str | list[str]]) -> SearchQuery:
    """Read a ``SearchQuery`` from GET parameters (a ``QueryDict`` or a plain mapping).

    Refuses with a ``DomainError``: ``query_too_long`` (more than 500 characters),
    ``invalid_page`` (not a positive whole number), ``invalid_per_page`` (not 1..100),
    ``invalid_year`` (not a year, or from after to). Unknown formats, languages, subjects,
    organisations and locations are no error: they match nothing.
    """
    from bieb.network.models import Location, Organisation

    raw_text = _value(params, "q")
    if len(raw_text) > MAX_QUERY_LENGTH:
        raise DomainError(
            "query_too_long",
            _("Je zoekvraag is te lang. Gebruik hooguit %(max)d tekens.")
            % {"max": MAX_QUERY_LENGTH},
        )
    query = SearchQuery(text=raw_text)

    page = _value(params, "page")
    if page:
        query.page = _int(page, "invalid_page", _("Het paginanummer moet 1 of hoger zijn."))
        if query.page < 1:
            raise DomainError("invalid_page", _("Het paginanummer moet 1 of hoger zijn."))
    per_page = _value(params, "per_page")
    if per_page:
        message = _("Kies 1 tot en met %(max)d resultaten per pagina.") % {"max": MAX_PER_PAGE}
        query.per_page = _int(per_page, "invalid_per_page", message)
        if not 1 <= query.per_page <= MAX_PER_PAGE:
            raise DomainError("invalid_per_page", message)

    year_message = _("Vul een jaartal in, zoals 1990.")
    for key in ("year_from", "year_to"):
        raw = _value(params, key)
        if raw:
            year = _int(raw, "invalid_year", year_message)
            if not 0 < year < 10000:
                raise DomainError("invalid_year", year_message)
            setattr(query, key, year)
    if query.year_from and query.year_to and query.year_from > query.year_to:
        raise DomainError(
            "invalid_year", _("Het beginjaar ligt na het eindjaar. Draai ze om en zoek opnieuw.")
        )

    query.formats = _values(params, "format")
    query.languages = [v.lower() for v in _values(params, "language")]
    query.audiences = _values(params, "audience")
    query.subjects = _values(params, "subject")
    query.available = _value(params, "available").lower() in {"1", "true", "on", "ja"}
    sort = _value(params, "sort")
    query.sort = sort if sort in SORTS else "relevance"

    code = _value(params, "organisation")
    if code:
        query.organisation_id = (
            Organisation.objects.filter(code__iexact=code).values_list("pk", flat=True).first() or 0
        )
    slug = _value(params, "location")
    if slug:
        query.location_id = (
            Location.objects.filter(slug=slug).values_list("pk", flat=True).first() or 0
        )
    return query
