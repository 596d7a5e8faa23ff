"""Facet counting shared by both backends.

Every indexed edition carries a ``facet_key``: format, audience, language, decade and
"available now" packed into one integer. A search asks the database for one number per
distinct key among its matches (``GROUP BY facet_key``, one pass); the counts of the format,
language, audience, decade and availability facets are then sums over those keys here.

Facets are multi-select: the counts of one facet apply every *other* active filter but not its
own, so ticking "e-book" still shows how many printed books there are. The decade facet is the
exception that proves the rule: a year range is applied in SQL (it need not follow decades), so
when one is set the backends count decades in a second pass without it.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from bieb.catalog.models import Audience, Format

FORMATS: tuple[str, ...] = tuple(Format.values)
AUDIENCES: tuple[str, ...] = ("", *Audience.values)
#: how many languages the language facet shows (plus any selected ones)
LANGUAGE_LIMIT = 20

# Dutch names of the MARC language codes a Dutch library meets most; others show their code.
LANGUAGE_LABELS = {
    "dut": "Nederlands",
    "fry": "Fries",
    "eng": "Engels",
    "ger": "Duits",
    "fre": "Frans",
    "spa": "Spaans",
    "ita": "Italiaans",
    "por": "Portugees",
    "ara": "Arabisch",
    "tur": "Turks",
    "pol": "Pools",
    "rus": "Russisch",
    "ukr": "Oekraïens",
    "chi": "Chinees",
    "jpn": "Japans",
    "kor": "Koreaans",
    "heb": "Hebreeuws",
    "per": "Perzisch",
    "ind": "Indonesisch",
    "gre": "Grieks",
    "lat": "Latijn",
    "swe": "Zweeds",
    "dan": "Deens",
    "nor": "Noors",
    "fin": "Fins",
    "hun": "Hongaars",
    "cze": "Tsjechisch",
    "rum": "Roemeens",
    "bul": "Bulgaars",
    "hin": "Hindi",
    "som": "Somalisch",
    "tir": "Tigrinya",
    "pap": "Papiamento",
    "srn": "Sranantongo",
    "mul": "Meertalig",
    "und": "Onbepaald",
}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    #: the count is an estimate (a very broad search's subject facet, from a sample)
    approximate: bool = False


@dataclass(frozen=True)
class KeyParts:
    format: str
    audience: str
    language: str
    decade: int | None
    available: bool


def _language_number(code: str) -> int:
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        return 0
    number = 0
    for ch in code.lower():
        number = number * 32 + (ord(ch) - 96)
    return number


def _language_code(number: int) -> str:
    if not number:
        return ""
    return "".join(chr(96 + (number >> shift) % 32) for shift in (10, 5, 0))


def facet_key(
    *, format: str, audience: str, language: str, year: int | None, available: bool
) -> int:
    """Pack the facet fields: format (4 bits), audience (3), language (15: three letters of 5
    bits), decade (10: year // 10, 0 = unknown) and available (1)."""
    fmt = FORMATS.index(format) + 1 if format in FORMATS else 0
    aud = AUDIENCES.index(audience) if audience in AUDIENCES else 0
    decade = year // 10 if year and 0 < year < 10240 else 0
    key = fmt
    key = key * 8 + aud
    key = key * 32768 + _language_number(language)
    key = key * 1024 + decade
    return key * 2 + (1 if available else 0)


@functools.lru_cache(maxsize=65536)
def unpack(key: int) -> KeyParts:
    key, available = divmod(key, 2)
    key, decade = divmod(key, 1024)
    key, language = divmod(key, 32768)
    fmt, aud = divmod(key, 8)
    return KeyParts(
        format=FORMATS[fmt - 1] if 0 < fmt <= len(FORMATS) else "",
        audience=AUDIENCES[aud] if aud < len(AUDIENCES) else "",
        language=_language_code(language),
        decade=decade * 10 if decade else None,
        available=bool(available),
    )


def with_availability(key: int, available: bool) -> int:
    return key - key % 2 + (1 if available else 0)


@dataclass(frozen=True)
class KeyFilters:
    """The filters a ``facet_key`` can answer (empty = no filter on that field)."""

    formats: frozenset[str]
    languages: frozenset[str]
    audiences: frozenset[str]
    available: bool


def _ordered(
    counts: Counter[str],
    selected: Iterable[str],
    label,
    limit: int | None = None,
    *,
    approximate: bool = False,
) -> list[FacetValue]:
    chosen = set(selected)
    values = [(v, n) for v, n in counts.items() if v and n > 0]
    values.sort(key=lambda item: (-item[1], label(item[0])))
    if limit is not None:
        values = values[:limit]
    shown = {v for v, _n in values}
    values += [(v, counts.get(v, 0)) for v in sorted(chosen - shown)]
    return [FacetValue(v, label(v), n, v in chosen, approximate) for v, n in values]


def decade_values(
    counts: Mapping[int, int],
    year_from: int | None,
    year_to: int | None,
    *,
    approximate: bool = False,
):
    """Decades, newest first; a decade is selected when the year range lies within it."""
    values = []
    for decade in sorted((d for d, n in counts.items() if d is not None and n > 0), reverse=True):
        selected = (
            year_from is not None
            and year_to is not None
            and decade <= year_from
            and year_to <= decade + 9
        )
        values.append(
            FacetValue(str(decade), f"{decade}-{decade + 9}", counts[decade], selected, approximate)
        )
    return values


def key_facets(
    key_counts: Iterable[tuple[int, int]],
    filters: KeyFilters,
    *,
    count_decades: bool,
    scale: int = 1,
) -> tuple[int, dict[str, list[FacetValue]], Counter[int]]:
    """From ``(facet_key, matches)`` rows: the number of matches passing every filter, the
    format, language, audience and availability facets (each without its own filter) and, when
    ``count_decades``, the decade counts (with every filter).

    Rows counted on a sample (``scale`` > 1: every ``scale``-th edition) give estimates: each
    count is multiplied by ``scale`` and marked approximate."""
    approximate = scale > 1
    total = 0
    formats: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    audiences: Counter[str] = Counter()
    available = 0
    decades: Counter[int] = Counter()
    for key, number in key_counts:
        parts = unpack(key)
        ok_format = not filters.formats or parts.format in filters.formats
        ok_language = not filters.languages or parts.language in filters.languages
        ok_audience = not filters.audiences or parts.audience in filters.audiences
        ok_available = not filters.available or parts.available
        if ok_language and ok_audience and ok_available:
            formats[parts.format] += number
        if ok_format and ok_audience and ok_available:
            languages[parts.language] += number
        if ok_format and ok_language and ok_available:
            audiences[parts.audience] += number
        if ok_format and ok_language and ok_audience:
            if parts.available:
                available += number
            if ok_available:
                total += number
                if count_decades and parts.decade is not None:
                    decades[parts.decade] += number
    if approximate:
        for counter in (formats, languages, audiences, decades):
            for value, number in counter.items():
                counter[value] = number * scale
        total, available = total * scale, available * scale
    facets = {
        "format": _ordered(formats, filters.formats, format_label, approximate=approximate),
        "language": _ordered(
            languages,
            filters.languages,
            lambda v: LANGUAGE_LABELS.get(v, v),
            LANGUAGE_LIMIT,
            approximate=approximate,
        ),
        "audience": _ordered(audiences, filters.audiences, audience_label, approximate=approximate),
        "available": [
            FacetValue("1", _("Nu beschikbaar"), available, filters.available, approximate)
        ],
    }
    return total, facets, decades


def format_label(value: str) -> str:
    return str(Format(value).label) if value in FORMATS else value


def audience_label(value: str) -> str:
    return str(Audience(value).label) if value in Audience.values else value
