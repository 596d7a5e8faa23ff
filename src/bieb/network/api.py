"""Public read API of the network, mounted at ``/api/v1/network/``. Handlers parse and delegate."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.network import selectors
from bieb.network.geo import coordinates_are_valid
from bieb.network.hours import OpeningState
from bieb.network.models import Location, OpeningException, OpeningKind, Organisation
from bieb.network.presentation import opening_state_label
from bieb.network.validation import pc4_of, time_format

router = Router(tags=["network"])

NEAREST_MAX_LIMIT = 50
LIST_MAX_LIMIT = 1000


class MunicipalityOut(Schema):
    cbs_code: str
    name: str
    province: str


class OrganisationOut(Schema):
    slug: str
    name: str
    code: str
    website: str
    location_count: int
    municipality_count: int


class LocationSummaryOut(Schema):
    slug: str
    name: str
    kind: str
    kind_label: str
    organisation_slug: str
    street: str
    house_number: str
    postcode: str
    city: str
    municipality_code: str
    lat: float
    lon: float


class OrganisationDetailOut(Schema):
    slug: str
    name: str
    code: str
    kvk_number: str
    website: str
    email: str
    phone: str
    municipalities: list[MunicipalityOut]
    locations: list[LocationSummaryOut]


class PeriodOut(Schema):
    weekday: int
    opens: str
    closes: str
    kind: str


class ExceptionOut(Schema):
    date: dt.date
    closed: bool
    opens: str | None
    closes: str | None
    kind: str | None
    reason: str


class StateOut(Schema):
    is_open: bool
    kind: str | None
    closes_at: dt.datetime | None
    next_opens_at: dt.datetime | None
    next_kind: str | None
    then_kind: str | None
    then_until: dt.datetime | None
    label: str


class AccessibilityOut(Schema):
    wheelchair_accessible: bool
    accessible_toilet: bool
    hearing_loop: bool
    notes: str


class FacilitiesOut(Schema):
    study_places: int
    meeting_rooms: int
    makerspace: bool
    wifi: bool
    printing: bool


class LocationDetailOut(LocationSummaryOut):
    description: str
    phone: str
    accessibility: AccessibilityOut
    facilities: FacilitiesOut
    opening_hours: list[PeriodOut]
    exceptions: list[ExceptionOut]
    state: StateOut


class NearestItemOut(Schema):
    distance_km: float
    location: LocationSummaryOut
    state: StateOut


class NearestOut(Schema):
    query: str
    lat: float
    lon: float
    results: list[NearestItemOut]


def _summary(location: Location) -> LocationSummaryOut:
    return LocationSummaryOut(
        slug=location.slug,
        name=location.name,
        kind=location.kind,
        kind_label=str(location.get_kind_display()),
        organisation_slug=location.organisation.slug,
        street=location.street,
        house_number=location.house_number,
        postcode=location.postcode,
        city=location.city,
        municipality_code=location.municipality.cbs_code,
        lat=location.lat,
        lon=location.lon,
    )


def _state(state: OpeningState, now: dt.datetime) -> StateOut:
    return StateOut(
        is_open=state.is_open,
        kind=state.kind,
        closes_at=state.closes_at,
        next_opens_at=state.next_opens_at,
        next_kind=state.next_kind,
        then_kind=state.then_kind,
        then_until=state.then_until,
        label=opening_state_label(state, now=now),
    )


def _exception(exception: OpeningException) -> ExceptionOut:
    return ExceptionOut(
        date=exception.date,
        closed=exception.closed,
        opens=time_format(exception.opens) if exception.opens else None,
        closes=time_format(exception.closes) if exception.closes else None,
        kind=None if exception.closed else exception.kind,
        reason=exception.reason,
    )


@router.get("/organisations", response=list[OrganisationOut])
def organisations(request: HttpRequest) -> list[Organisation]:
    return list(selectors.organisation_list())


@router.get("/organisations/{slug}", response=OrganisationDetailOut)
def organisation(request: HttpRequest, slug: str) -> OrganisationDetailOut:
    found = selectors.organisation_detail(slug=slug)
    for location in found.active_locations:
        location.organisation = found  # already known; avoids a query per location
    return OrganisationDetailOut(
        slug=found.slug,
        name=found.name,
        code=found.code,
        kvk_number=found.kvk_number,
        website=found.website,
        email=found.email,
        phone=found.phone,
        municipalities=[
            MunicipalityOut(cbs_code=m.cbs_code, name=m.name, province=m.province)
            for m in found.municipalities.all()
        ],
        locations=[_summary(location) for location in found.active_locations],
    )


@router.get("/locations", response=list[LocationSummaryOut])
def locations(
    request: HttpRequest,
    organisation: str | None = None,
    kind: str | None = None,
    municipality: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[LocationSummaryOut]:
    if kind and kind not in Location.Kind.values:
        raise DomainError(
            "invalid_kind",
            _("Onbekende soort locatie. Kies uit: %(kinds)s.")
            % {"kinds": ", ".join(Location.Kind.values)},
            details={"field": "kind"},
        )
    if not 1 <= limit <= LIST_MAX_LIMIT or offset < 0:
        raise DomainError(
            "invalid_limit",
            _("Kies een limit van 1 tot en met %(max)s en een offset van 0 of meer.")
            % {"max": LIST_MAX_LIMIT},
            details={"field": "limit"},
        )
    found = selectors.location_list(organisation=organisation, kind=kind, municipality=municipality)
    return [_summary(location) for location in found[offset : offset + limit]]


@router.get("/locations/nearest", response=NearestOut)
def locations_nearest(
    request: HttpRequest,
    postcode: str | None = None,
    place: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    limit: int = 10,
    kind: str | None = None,
) -> NearestOut:
    if not 1 <= limit <= NEAREST_MAX_LIMIT:
        raise DomainError(
            "invalid_limit",
            _("Kies een limit van 1 tot en met %(max)s.") % {"max": NEAREST_MAX_LIMIT},
            details={"field": "limit"},
        )
    if kind and kind not in Location.Kind.values:
        raise DomainError("invalid_kind", _("Onbekende soort locatie."), details={"field": "kind"})
    if postcode is not None:
        if not pc4_of(postcode):
            raise DomainError(
                "invalid_postcode",
                _("Dit is geen geldige postcode. Gebruik bijvoorbeeld 1011 AB of 1011."),
                details={"field": "postcode"},
            )
        point = selectors.point_for_query(postcode)
        if point is None:
            raise DomainError(
                "unknown_postcode",
                _("Deze postcode kennen we niet."),
                status=404,
                details={"field": "postcode"},
            )
        query = postcode
    elif place is not None:
        point = selectors.point_for_query(place)
        if point is None:
            raise DomainError(
                "unknown_place",
                _("Deze plaats kennen we niet. Controleer de spelling."),
                status=404,
                details={"field": "place"},
            )
        query = place
    elif lat is not None or lon is not None:
        if not coordinates_are_valid(lat, lon):
            raise DomainError(
                "invalid_coordinates",
                _("Geef een geldige breedtegraad (lat) en lengtegraad (lon)."),
                details={"field": "lat"},
            )
        point = selectors.Point(float(lat), float(lon), "")  # type: ignore[arg-type]
        query = f"{lat},{lon}"
    else:
        raise DomainError(
            "missing_query",
            _("Geef een postcode, een plaats of lat en lon op."),
            details={"field": "postcode"},
        )
    now = clock.now()
    results = selectors.locations_nearest(
        lat=point.lat, lon=point.lon, limit=limit, kinds=[kind] if kind else None
    )
    return NearestOut(
        query=query,
        lat=point.lat,
        lon=point.lon,
        results=[
            NearestItemOut(
                distance_km=round(distance, 2),
                location=_summary(location),
                state=_state(selectors.location_opening_state(location=location, at=now), now),
            )
            for location, distance in results
        ],
    )


@router.get("/locations/{slug}", response=LocationDetailOut)
def location(request: HttpRequest, slug: str) -> LocationDetailOut:
    found = selectors.location_detail(slug=slug)
    now = clock.now()
    return LocationDetailOut(
        **_summary(found).dict(),
        description=found.description,
        phone=found.phone,
        accessibility=AccessibilityOut(
            wheelchair_accessible=found.wheelchair_accessible,
            accessible_toilet=found.accessible_toilet,
            hearing_loop=found.hearing_loop,
            notes=found.accessibility_notes,
        ),
        facilities=FacilitiesOut(
            study_places=found.study_places,
            meeting_rooms=found.meeting_rooms,
            makerspace=found.has_makerspace,
            wifi=found.has_wifi,
            printing=found.has_printing,
        ),
        opening_hours=[
            PeriodOut(
                weekday=p.weekday,
                opens=time_format(p.opens),
                closes=time_format(p.closes),
                kind=OpeningKind(p.kind).value,
            )
            for p in found.opening_periods.all()
        ],
        exceptions=[
            _exception(exc) for exc in selectors.location_upcoming_exceptions(location=found)
        ],
        state=_state(selectors.location_opening_state(location=found, at=now), now),
    )
