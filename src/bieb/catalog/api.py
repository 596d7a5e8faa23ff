"""Public read API of the catalogue, mounted at ``/api/v1/catalog/``: search with facets and
availability, an edition with its holdings and licences, and autocomplete.

Search parameters are read from the raw query string by ``bieb.catalog.search.parse_query``
(the same reader as the site's ``/zoeken``), so a bad page number or a too-long query answers
400 with the stable code of that reader (``invalid_page``, ``query_too_long`` ...) and
repeatable parameters (``format=ebook&format=book``) combine. The parameters are declared
below for the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from bieb.api.errors import error_responses
from bieb.catalog import search, selectors
from bieb.catalog.models import Edition, EditionContributor, Format
from bieb.catalog.search.query import MAX_QUERY_LENGTH
from bieb.core.errors import DomainError
from bieb.network.geo import coordinates_are_valid
from bieb.network.models import Organisation

router = Router(tags=["catalog"])

SUGGEST_MAX_LIMIT = 20


class SearchParams(Schema):
    """The search parameters, for the OpenAPI document; ``parse_query`` reads the raw query
    string itself (strings here, so a bad number answers our 400, not a 422)."""

    q: str = Field("", description="Words, a quoted phrase or an ISBN; empty lists everything")
    format: list[str] = Field(
        [], description="book, large_print, ebook, audiobook, audio_cd, film, streaming, ..."
    )
    language: list[str] = Field([], description="MARC language code: dut, eng, ger, fre, ...")
    audience: list[str] = Field([], description="toddler, child, teen, adult, all")
    subject: list[str] = Field([], description="Subject slug")
    available: str | None = Field(None, description="1: only what can be borrowed now")
    organisation: str | None = Field(None, description="Library organisation code: held there")
    location: str | None = Field(None, description="Location slug: held at that location")
    year_from: str | None = Field(None, description="First publication year")
    year_to: str | None = Field(None, description="Last publication year")
    sort: str | None = Field(None, description="relevance (default), newest, title")
    page: str | None = Field(None, description="1 or higher")
    per_page: str | None = Field(None, description="1 to 100 (default 20)")


class ContributorOut(Schema):
    name: str
    role: str
    slug: str


class FormatOut(Schema):
    id: int
    format: str
    url: str


class DigitalOut(Schema):
    state: str  # "now" | "wait" | "none"
    action: str  # "read" | "listen" | "watch"
    holds_waiting: int
    wait_days: int | None
    label: str


class AvailabilityOut(Schema):
    available: int
    total: int
    on_loan: int
    in_transit: int
    on_hold_shelf: int
    earliest_due: dt.date | None
    locations_available: int
    #: lendable now: a copy on a shelf, or a digital licence with room
    available_now: bool
    digital_now: bool
    digital: DigitalOut | None
    label: str


class ResultOut(Schema):
    id: int
    title: str
    subtitle: str
    contributors: list[ContributorOut]
    year: int | None
    format: str
    format_label: str
    #: every edition of the work, this one included
    formats: list[FormatOut]
    isbn: str
    language: str
    url: str
    availability: AvailabilityOut


class FacetValueOut(Schema):
    value: str
    label: str
    count: int
    selected: bool
    approximate: bool = Field(
        False,
        description="The count is an estimate: a search with over 10,000 text matches counts"
        " its facets on a fixed sample of the catalogue (one edition in 16).",
    )


class SearchOut(Schema):
    count: int
    approximate: bool = Field(
        False,
        description="`count` (and `pages`) is an estimate: a search with over 10,000 text"
        " matches counts them on a fixed sample of the catalogue (one edition in 16). The"
        " results of each page are exact.",
    )
    page: int
    pages: int
    per_page: int
    results: list[ResultOut]
    facets: dict[str, list[FacetValueOut]]
    did_you_mean: str | None
    isbn_match: bool


class IdentifierOut(Schema):
    kind: str
    value: str
    as_printed: str
    valid: bool


class SubjectOut(Schema):
    slug: str
    label: str
    kind: str
    url: str


class HoldingOut(Schema):
    location_slug: str
    location_name: str
    organisation_code: str
    organisation_name: str
    available: int
    on_loan: int
    in_transit: int
    on_hold_shelf: int
    unavailable: int
    earliest_due: dt.date | None
    shelf_marks: list[str]
    distance_km: float | None
    url: str


class LicenceOut(Schema):
    organisation_code: str | None  # null: a national licence
    model: str
    concurrent_users: int | None  # null: unlimited
    active_loans: int
    holds_waiting: int
    loans_left: int | None
    valid_until: dt.date | None
    loan_days: int
    available_now: bool


class EditionOut(ResultOut):
    publisher: str
    place_of_publication: str
    pages: int | None
    duration_minutes: int | None
    extent: str
    series: str
    series_number: str
    audience: str
    age_min: int | None
    age_max: int | None
    avi_level: str
    description: str
    identifiers: list[IdentifierOut]
    subjects: list[SubjectOut]
    holdings: list[HoldingOut]
    licences: list[LicenceOut]
    marcxml_url: str


class SuggestionOut(Schema):
    text: str
    kind: str  # "title" | "author"
    url: str


def _absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _availability(availability: selectors.Availability) -> AvailabilityOut:
    digital = availability.digital
    return AvailabilityOut(
        available=availability.available,
        total=availability.total,
        on_loan=availability.on_loan,
        in_transit=availability.in_transit,
        on_hold_shelf=availability.on_hold_shelf,
        earliest_due=availability.earliest_due,
        locations_available=availability.locations_available,
        available_now=availability.now,
        digital_now=bool(digital and digital.now),
        digital=(
            DigitalOut(
                state=digital.state,
                action=digital.action,
                holds_waiting=digital.holds_waiting,
                wait_days=digital.wait_days,
                label=digital.label,
            )
            if digital
            else None
        ),
        label=availability.label,
    )


def _contributors(credits: list[EditionContributor]) -> list[ContributorOut]:
    return [
        ContributorOut(name=c.contributor.display_name, role=c.role, slug=c.contributor.slug)
        for c in credits
    ]


def _result_fields(
    request: HttpRequest,
    edition: Edition,
    credits: list[EditionContributor],
    availability: selectors.Availability,
    work_editions: list[tuple[int, str]],
) -> dict:
    return {
        "id": edition.pk,
        "title": edition.title,
        "subtitle": edition.subtitle,
        "contributors": _contributors(credits),
        "year": edition.year,
        "format": edition.format,
        "format_label": str(Format(edition.format).label),
        "formats": [
            FormatOut(id=pk, format=fmt, url=_absolute(request, "catalog:edition", pk))
            for pk, fmt in work_editions
        ],
        "isbn": edition.isbn,
        "language": edition.language,
        "url": _absolute(request, "catalog:edition", edition.pk),
        "availability": _availability(availability),
    }


def _home_organisation_id(request: HttpRequest, code: str | None) -> int | None:
    """The library whose licences and copies come first: ``organisation`` when given, else
    the signed-in resident's own library."""
    if code:
        found = Organisation.objects.filter(code__iexact=code).values_list("pk", flat=True).first()
        if found is None:
            raise DomainError(
                "unknown_organisation",
                _("Deze bibliotheekorganisatie kennen we niet. Gebruik haar code, zoals BUT."),
                details={"field": "organisation"},
            )
        return found
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.home_organisation_id
    return None


@router.get(
    "/search",
    response={200: SearchOut, **error_responses(400)},
    operation_id="catalog_search",
    url_name="catalog_search",
    summary="Search the national catalogue",
    description=(
        "Full-text search over titles, makers, subjects and descriptions (accents and case do "
        "not matter; Dutch and English word forms match; quotes search a phrase; an ISBN finds "
        "its edition first), with facets and availability. `format`, `language`, `audience` "
        "and `subject` may be repeated (`format=ebook&format=audiobook`). Errors (400): "
        "`query_too_long`, `invalid_page`, `invalid_per_page`, `invalid_year`."
    ),
)
def catalog_search(request: HttpRequest, params: Query[SearchParams]):
    query = search.parse_query(request.GET)
    result = search.search(query)
    organisation_id = query.organisation_id or _home_organisation_id(request, None)
    summaries = selectors.edition_summaries(result.edition_ids, organisation_id=organisation_id)
    return SearchOut(
        count=result.count,
        approximate=result.approximate,
        page=result.page,
        pages=result.pages,
        per_page=query.per_page,
        results=[
            ResultOut(
                **_result_fields(request, s.edition, s.credits, s.availability, s.work_editions)
            )
            for s in summaries
        ],
        facets={
            key: [FacetValueOut.from_orm(v) for v in values]
            for key, values in result.facets.items()
        },
        did_you_mean=result.did_you_mean,
        isbn_match=result.isbn_match,
    )


@router.get(
    "/editions/{edition_id}",
    response={200: EditionOut, **error_responses(400, 404)},
    operation_id="catalog_edition",
    url_name="catalog_edition",
    summary="One edition with its holdings per location and its licences",
    description=(
        "Holdings come nearest first when `lat` and `lon` (WGS84) are given, else the copies of "
        "`organisation` (a library code; else the signed-in resident's library) first. "
        "Licences are those the "
        "resident may use: national ones and those of that library (every licence when no "
        "library is known). Errors: 404 `unknown_edition`, 400 `unknown_organisation`, "
        "`invalid_coordinates`."
    ),
)
def catalog_edition(
    request: HttpRequest,
    edition_id: int,
    organisation: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
):
    near = None
    if lat is not None or lon is not None:
        if not coordinates_are_valid(lat, lon):
            raise DomainError(
                "invalid_coordinates",
                _("Geef een geldige breedtegraad (lat) en lengtegraad (lon)."),
                details={"field": "lat"},
            )
        near = (float(lat), float(lon))  # type: ignore[arg-type]
    detail = selectors.edition_detail(
        edition_id, organisation_id=_home_organisation_id(request, organisation), near=near
    )
    edition = detail.edition
    availability = detail.availability
    work_editions = sorted(
        [(edition.pk, edition.format), *((e.pk, e.format) for e in detail.other_editions)],
        key=lambda e: (Format.values.index(e[1]) if e[1] in Format.values else 99, e[0]),
    )
    return EditionOut(
        **_result_fields(request, edition, detail.credits, availability, work_editions),
        publisher=edition.publisher,
        place_of_publication=edition.place_of_publication,
        pages=edition.pages,
        duration_minutes=edition.duration_minutes,
        extent=edition.extent,
        series=edition.series,
        series_number=edition.series_number,
        audience=edition.audience,
        age_min=edition.age_min,
        age_max=edition.age_max,
        avi_level=edition.avi_level,
        description=edition.description,
        identifiers=[
            IdentifierOut(kind=i.kind, value=i.value, as_printed=i.as_printed, valid=i.is_valid)
            for i in detail.identifiers
        ],
        subjects=[
            SubjectOut(
                slug=s.slug,
                label=s.label,
                kind=s.kind,
                url=_absolute(request, "catalog:subject", s.slug),
            )
            for s in detail.subjects
        ],
        holdings=[
            HoldingOut(
                location_slug=h.slug,
                location_name=h.name,
                organisation_code=h.organisation_code,
                organisation_name=h.organisation_name,
                available=h.available,
                on_loan=h.on_loan,
                in_transit=h.in_transit,
                on_hold_shelf=h.on_hold_shelf,
                unavailable=h.unavailable,
                earliest_due=h.earliest_due,
                shelf_marks=h.shelf_marks,
                distance_km=h.distance_km,
                url=_absolute(request, "network:location", h.slug),
            )
            for h in availability.locations
        ],
        licences=[
            LicenceOut(
                organisation_code=licence.organisation_code,
                model=licence.model,
                concurrent_users=licence.concurrent_users,
                active_loans=licence.active_loans,
                holds_waiting=licence.holds_waiting,
                loans_left=licence.loans_left,
                valid_until=licence.valid_until,
                loan_days=licence.loan_days,
                available_now=licence.open_now,
            )
            for licence in (availability.digital.licences if availability.digital else [])
        ],
        marcxml_url=_absolute(request, "catalog:edition_marcxml", edition.pk),
    )


@router.get(
    "/suggest",
    response={200: list[SuggestionOut], **error_responses(400)},
    operation_id="catalog_suggest",
    url_name="catalog_suggest",
    summary="Autocomplete: titles and makers that start with q",
    description=(
        "`q` is what the person typed so far; fewer than two letters suggest nothing. `limit`: "
        "1 to 20 (default 8). Errors (400): `query_too_long`, `invalid_limit`."
    ),
)
def catalog_suggest(
    request: HttpRequest,
    q: str = "",
    limit: int = 8,
):
    if len(q) > MAX_QUERY_LENGTH:
        raise DomainError(
            "query_too_long",
            _("Je zoekvraag is te lang. Gebruik hooguit %(max)d tekens.")
            % {"max": MAX_QUERY_LENGTH},
        )
    if not 1 <= limit <= SUGGEST_MAX_LIMIT:
        raise DomainError(
            "invalid_limit",
            _("Kies een limit van 1 tot en met %(max)s.") % {"max": SUGGEST_MAX_LIMIT},
            details={"field": "limit"},
        )
    return [
        SuggestionOut(
            text=s.text,
            kind=s.kind,
            url=(
                _absolute(request, "catalog:edition", s.edition_id)
                if s.kind == "title" and s.edition_id
                else _absolute(request, "catalog:author", s.slug)
            ),
        )
        for s in search.suggest(q, limit=limit)
        if (s.kind == "title" and s.edition_id) or s.slug
    ]
