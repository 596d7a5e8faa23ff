"""schema.org JSON-LD for an edition's page, so search engines and other libraries' tools read
what it is: a ``Book`` (with ``bookFormat``) for books, e-books and audiobooks, a ``Movie`` for
films, a ``CreativeWork`` for the rest, with ``workExample`` listing the other formats of the
work."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bieb.catalog.models import ContributorRole, Edition, Format
from bieb.catalog.selectors import EditionDetail

# MARC (ISO 639-2/B) codes whose BCP 47 tag is the two-letter ISO 639-1 code, or the /T code
# where the bibliographic one differs. Other codes are valid BCP 47 tags as they are.
_BCP47 = {
    "dut": "nl",
    "eng": "en",
    "ger": "de",
    "fre": "fr",
    "fry": "fy",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "ara": "ar",
    "tur": "tr",
    "pol": "pl",
    "rus": "ru",
    "ukr": "uk",
    "chi": "zh",
    "jpn": "ja",
    "kor": "ko",
    "heb": "he",
    "per": "fa",
    "ind": "id",
    "gre": "el",
    "lat": "la",
    "swe": "sv",
    "dan": "da",
    "nor": "no",
    "fin": "fi",
    "hun": "hu",
    "cze": "cs",
    "slo": "sk",
    "rum": "ro",
    "bul": "bg",
    "hin": "hi",
    "som": "so",
    "tir": "ti",
    "ice": "is",
    "alb": "sq",
    "arm": "hy",
    "baq": "eu",
    "bur": "my",
    "geo": "ka",
    "mac": "mk",
    "mao": "mi",
    "may": "ms",
    "wel": "cy",
    "tib": "bo",
    "hrv": "hr",
    "srp": "sr",
    "slv": "sl",
    "est": "et",
    "lav": "lv",
    "lit": "lt",
    "cat": "ca",
    "glg": "gl",
    "vie": "vi",
    "tha": "th",
    "urd": "ur",
    "ben": "bn",
    "kur": "ku",
    "pus": "ps",
    "afr": "af",
    "swa": "sw",
    "amh": "am",
    "yid": "yi",
    "epo": "eo",
}
#: codes that name no single language: left out of ``inLanguage``
_NO_LANGUAGE = {"", "und", "mul", "zxx", "mis"}

_BOOK_FORMATS = {
    Format.BOOK: "https://schema.org/Hardcover",
    Format.LARGE_PRINT: "https://schema.org/Hardcover",
    Format.EBOOK: "https://schema.org/EBook",
    Format.AUDIOBOOK: "https://schema.org/AudiobookFormat",
    Format.AUDIO_CD: "https://schema.org/AudiobookFormat",
}
_TYPES = {
    **dict.fromkeys(_BOOK_FORMATS, "Book"),
    Format.FILM: "Movie",
    Format.STREAMING: "Movie",
    Format.MUSIC: "MusicRecording",
    Format.GAME: "Game",
    Format.MAGAZINE: "Periodical",
    Format.THING: "CreativeWork",
}
# the schema.org property of a maker, by role; for films the author is not a property
_ROLE_PROPERTIES = {
    ContributorRole.AUTHOR: "author",
    ContributorRole.EDITOR: "editor",
    ContributorRole.ILLUSTRATOR: "illustrator",
    ContributorRole.TRANSLATOR: "translator",
    ContributorRole.NARRATOR: "readBy",
    ContributorRole.DIRECTOR: "director",
    ContributorRole.PERFORMER: "actor",
    ContributorRole.OTHER: "contributor",
}


def bcp47(code: str) -> str | None:
    """The BCP 47 tag of a MARC language code: ``dut`` -> ``nl``; None for und/mul/empty."""
    code = (code or "").strip().lower()
    if code in _NO_LANGUAGE:
        return None
    return _BCP47.get(code, code)


def schema_type(edition_format: str) -> str:
    return _TYPES.get(Format(edition_format), "CreativeWork")


def _edition_node(edition: Edition, url: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": schema_type(edition.format),
        "@id": url,
        "url": url,
        "name": edition.full_title,
    }
    if edition.format in _BOOK_FORMATS:
        node["bookFormat"] = _BOOK_FORMATS[Format(edition.format)]
        if edition.isbn:
            node["isbn"] = edition.isbn
    language = bcp47(edition.language)
    if language:
        node["inLanguage"] = language
    if edition.year:
        node["datePublished"] = str(edition.year)
    return node


def edition_json_ld(
    detail: EditionDetail,
    *,
    edition_url: Callable[[int], str],
    maker_url: Callable[[str], str],
) -> str:
    """The JSON-LD document of an edition page, safe inside a ``<script>`` element.
    ``edition_url(id)`` and ``maker_url(slug)`` give absolute URLs of those pages."""
    edition = detail.edition
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        **_edition_node(edition, edition_url(edition.pk)),
    }
    if edition.subtitle:
        data["alternativeHeadline"] = edition.subtitle
    is_book = data["@type"] == "Book"
    for credit in detail.credits:
        prop = _ROLE_PROPERTIES.get(ContributorRole(credit.role), "contributor")
        if prop == "readBy" and not is_book:
            prop = "contributor"
        person = {
            "@type": "Person",
            "name": credit.contributor.display_name,
            "url": maker_url(credit.contributor.slug),
        }
        data.setdefault(prop, []).append(person)
    if edition.publisher:
        data["publisher"] = {"@type": "Organization", "name": edition.publisher}
    if edition.pages and is_book:
        data["numberOfPages"] = edition.pages
    if edition.description:
        data["description"] = edition.description
    if detail.subjects:
        data["about"] = [{"@type": "Thing", "name": s.label} for s in detail.subjects]
    if edition.series:
        data["isPartOf"] = {"@type": "CreativeWorkSeries", "name": edition.series}
    if edition.age_min is not None or edition.age_max is not None:
        audience: dict[str, Any] = {"@type": "PeopleAudience"}
        if edition.age_min is not None:
            audience["suggestedMinAge"] = edition.age_min
        if edition.age_max is not None:
            audience["suggestedMaxAge"] = edition.age_max
        data["audience"] = audience
    if detail.other_editions:
        data["workExample"] = [
            _edition_node(other, edition_url(other.pk)) for other in detail.other_editions
        ]
    text = json.dumps(data, ensure_ascii=False)
    # Nothing in the data may end the script element or open an HTML comment.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
