"""Reads of the network that other apps, views and the API may use.

List and detail selectors prefetch what their pages show, so a page costs a fixed number of
queries however many locations it lists.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.errors import NotFound
from bieb.network import hours
from bieb.network.geo import bounding_box, haversine_km
from bieb.network.hours import OpeningState
from bieb.network.models import (
    WEEKDAY_CHOICES,
    Location,
    Municipality,
    OpeningException,
    OpeningKind,
    OpeningPeriod,
    Organisation,
    PostcodeArea,
)
from bieb.network.validation import name_key, pc4_of, time_format

__all__ = [
    "OpeningState",
    "Point",
    "location_detail",
    "location_json_ld",
    "location_list",
    "location_opening_state",
    "location_upcoming_exceptions",
    "location_week",
    "locations_nearest",
    "organisation_detail",
    "organisation_list",
    "point_for_query",
]

# First search radius of locations_nearest; tripled until enough locations fall inside.
NEAREST_START_RADIUS_KM = 8.0
NEAREST_MAX_RADIUS_KM = 1200.0
QUERY_MAX_LENGTH = 100


class Point(NamedTuple):
    lat: float
    lon: float
    label: str


# --- finding a point ------------------------------------------------------------------------


def _place_point(areas: Sequence[PostcodeArea], label: str) -> Point:
    """Inhabitant-weighted mean of the PC4 points of a place, in its biggest municipality."""
    by_municipality: dict[int | None, list[PostcodeArea]] = defaultdict(list)
    for area in areas:
        by_municipality[area.municipality_id].append(area)
    group = max(by_municipality.values(), key=lambda rows: sum(a.inhabitants or 0 for a in rows))
    weights = [max(area.inhabitants or 0, 1) for area in group]
    total = sum(weights)
    lat = sum(a.lat * w for a, w in zip(group, weights, strict=True)) / total
    lon = sum(a.lon * w for a, w in zip(group, weights, strict=True)) / total
    return Point(round(lat, 5), round(lon, 5), label)


def point_for_query(query: str) -> Point | None:
    """A point for a postcode (``"1011"``, ``"1011 AB"``, ``"1011ab"``), place or municipality.

    Names match without regard to case, accents or punctuation (``"s-gravenhage"``,
    ``"sudwest fryslan"``). A name shared by places in several municipalities gives the
    place with the most inhabitants. Returns None when nothing matches.
    """
    query = (query or "").strip()
    if not query or len(query) > QUERY_MAX_LENGTH:
        return None
    pc4 = pc4_of(query)
    if pc4:
        area = PostcodeArea.objects.filter(pc4=pc4).first()
        if area is None:
            return None
        label = f"{pc4} {area.place}".strip()
        return Point(area.lat, area.lon, label)
    key = name_key(query)
    if not key:
        return None
    areas = list(PostcodeArea.objects.filter(place_key=key))
    if areas:
        return _place_point(areas, areas[0].place)
    municipality = (
        Municipality.objects.filter(name_key=key).first()
        or Municipality.objects.filter(name_key__startswith=f"{key} ")
        .order_by("-population")
        .first()
    )
    if municipality:
        return Point(municipality.lat, municipality.lon, municipality.name)
    areas = list(PostcodeArea.objects.filter(place_key__startswith=f"{key} "))
    if areas:
        return _place_point(areas, areas[0].place)
    return None


# --- nearest locations ----------------------------------------------------------------------


def _with_hours(queryset: QuerySet[Location], *, on: dt.date) -> QuerySet[Location]:
    """Prefetch the weekly periods and the exceptions the opening state needs from ``on``."""
    return queryset.prefetch_related(
        Prefetch("opening_periods", queryset=OpeningPeriod.objects.order_by("weekday", "opens")),
        Prefetch(
            "opening_exceptions",
            queryset=OpeningException.objects.filter(
                date__gte=on - dt.timedelta(days=1),
                date__lte=on + dt.timedelta(days=hours.HORIZON_DAYS + 1),
            ).order_by("date", "opens"),
        ),
    )


def locations_nearest(
    *,
    lat: float,
    lon: float,
    limit: int = 10,
    kinds: Iterable[str] | None = None,
    with_hours: bool = True,
) -> list[tuple[Location, float]]:
    """The ``limit`` active locations nearest to (lat, lon), with distance in km, nearest first.

    The database only returns locations inside a bounding box around the point; the box grows
    until it holds ``limit`` locations within its inscribed circle (or every location there
    is), so the answer is exact
    (ties by name, then id). Locations come with organisation, municipality and (unless
    ``with_hours`` is False) the hours ``location_opening_state`` needs.
    """
    base = Location.objects.filter(is_active=True)
    kinds = list(kinds or [])
    if kinds:
        base = base.filter(kind__in=kinds)
    radius = NEAREST_START_RADIUS_KM
    ranked: list[tuple[float, str, int]] = []
    total: int | None = None
    while True:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius)
        candidates = base
        if radius < NEAREST_MAX_RADIUS_KM:
            candidates = base.filter(
                lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon
            )
        ranked = sorted(
            (haversine_km(lat, lon, row_lat, row_lon), name, pk)
            for pk, name, row_lat, row_lon in candidates.values_list("pk", "name", "lat", "lon")
        )
        inside = [row for row in ranked if row[0] <= radius]
        if len(inside) >= limit or radius >= NEAREST_MAX_RADIUS_KM:
            break
        if total is None:
            total = base.count()
        if len(ranked) >= total:  # the box already holds every candidate there is
            break
        radius *= 3
    ranked = ranked[:limit]
    if not ranked:
        return []
    queryset = Location.objects.select_related("organisation", "municipality")
    if with_hours:
        queryset = _with_hours(queryset, on=clock.today())
    by_pk = queryset.in_bulk([pk for _distance, _name, pk in ranked])
    return [(by_pk[pk], distance) for distance, _name, pk in ranked]


# --- opening state --------------------------------------------------------------------------


def _hours_of(location: Location, on: dt.date) -> tuple[list[Any], list[Any]]:
    cache = getattr(location, "_prefetched_objects_cache", {})
    if "opening_periods" in cache:
        periods = list(location.opening_periods.all())
    else:
        periods = list(OpeningPeriod.objects.filter(location=location))
    first = on - dt.timedelta(days=1)
    last = on + dt.timedelta(days=hours.HORIZON_DAYS + 1)
    if "opening_exceptions" in cache:
        exceptions = [exc for exc in location.opening_exceptions.all() if first <= exc.date <= last]
    else:
        exceptions = list(
            OpeningException.objects.filter(location=location, date__gte=first, date__lte=last)
        )
    return periods, exceptions


def location_opening_state(*, location: Location, at: dt.datetime | None = None) -> OpeningState:
    """Open or closed at ``at`` (default now), computed in Europe/Amsterdam.

    Exceptions for a date replace that day's weekly periods. Uses prefetched hours when the
    location has them (see ``locations_nearest`` and ``location_detail``), else two queries.
    """
    moment = at or clock.now()
    periods, exceptions = _hours_of(location, moment.astimezone(clock.AMSTERDAM).date())
    return hours.opening_state(at=moment, periods=periods, exceptions=exceptions)


# --- lists and details ----------------------------------------------------------------------


def organisation_list() -> QuerySet[Organisation]:
    """All organisations with ``location_count`` (active) and ``municipality_count``."""
    return Organisation.objects.annotate(
        location_count=Count("locations", filter=Q(locations__is_active=True), distinct=True),
        municipality_count=Count("municipalities", distinct=True),
    ).order_by("name")


def organisation_detail(*, slug: str) -> Organisation:
    """The organisation with its municipalities and active locations prefetched."""
    organisation = (
        Organisation.objects.filter(slug=slug)
        .prefetch_related(
            Prefetch("municipalities", queryset=Municipality.objects.order_by("name")),
            Prefetch(
                "locations",
                queryset=_with_hours(
                    Location.objects.filter(is_active=True)
                    .select_related("municipality")
                    .order_by("name"),
                    on=clock.today(),
                ),
                to_attr="active_locations",
            ),
        )
        .first()
    )
    if organisation is None:
        raise NotFound("unknown_organisation", _("Deze bibliotheekorganisatie bestaat niet."))
    return organisation


def location_list(
    *,
    organisation: str | None = None,
    kind: str | None = None,
    municipality: str | None = None,
) -> QuerySet[Location]:
    """Active locations, filtered by organisation slug, kind and municipality (CBS code or name)."""
    queryset = Location.objects.filter(is_active=True).select_related(
        "organisation", "municipality"
    )
    if organisation:
        queryset = queryset.filter(organisation__slug=organisation)
    if kind:
        queryset = queryset.filter(kind=kind)
    if municipality:
        queryset = queryset.filter(
            Q(municipality__cbs_code=municipality.upper())
            | Q(municipality__name_key=name_key(municipality))
        )
    return queryset.order_by("name", "pk")


def location_detail(*, slug: str) -> Location:
    """An active location with organisation, municipality and its hours prefetched."""
    location = (
        _with_hours(
            Location.objects.filter(slug=slug, is_active=True).select_related(
                "organisation", "municipality"
            ),
            on=clock.today(),
        )
    ).first()
    if location is None:
        raise NotFound("unknown_location", _("Deze locatie bestaat niet (meer)."))
    return location


@dataclass(frozen=True)
class WeekDay:
    weekday: int
    name: str
    staffed: list[tuple[str, str]]
    self_service: list[tuple[str, str]]


def location_week(*, location: Location) -> list[WeekDay]:
    """The weekly pattern, Monday first, split into staffed and self-service periods."""
    days = []
    periods = list(location.opening_periods.all())
    for weekday, label in WEEKDAY_CHOICES:
        todays = sorted((p for p in periods if p.weekday == weekday), key=lambda p: p.opens)
        days.append(
            WeekDay(
                weekday=weekday,
                name=str(label),
                staffed=[
                    (time_format(p.opens), time_format(p.closes))
                    for p in todays
                    if p.kind == OpeningKind.STAFFED
                ],
                self_service=[
                    (time_format(p.opens), time_format(p.closes))
                    for p in todays
                    if p.kind == OpeningKind.SELF_SERVICE
                ],
            )
        )
    return days


def location_upcoming_exceptions(
    *, location: Location, days: int = hours.HORIZON_DAYS
) -> list[OpeningException]:
    """Exceptions from today for ``days`` days (uses the prefetch of ``location_detail``)."""
    today = clock.today()
    last = today + dt.timedelta(days=days)
    return [exc for exc in location.opening_exceptions.all() if today <= exc.date <= last]


_SCHEMA_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def location_json_ld(*, location: Location) -> str:
    """schema.org ``Library`` as JSON, safe to put inside a ``<script>`` element."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Library",
        "name": location.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": location.address_line,
            "postalCode": location.postcode,
            "addressLocality": location.city,
            "addressCountry": "NL",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": location.lat, "longitude": location.lon},
        "parentOrganization": {"@type": "Organization", "name": location.organisation.name},
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{_SCHEMA_DAYS[p.weekday]}",
                "opens": time_format(p.opens),
                "closes": "23:59" if time_format(p.closes) == "24:00" else time_format(p.closes),
                "description": str(OpeningKind(p.kind).label),
            }
            for p in location.opening_periods.all()
        ],
        "specialOpeningHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "validFrom": exc.date.isoformat(),
                "validThrough": exc.date.isoformat(),
                # schema.org marks a closed day with opens = closes = 00:00.
                "opens": "00:00" if exc.closed else time_format(exc.opens),
                "closes": "00:00" if exc.closed else time_format(exc.closes),
                **({"description": exc.reason} if exc.reason else {}),
            }
            for exc in location_upcoming_exceptions(location=location)
        ],
        "isAccessibleForFree": True,
    }
    if location.phone:
        data["telephone"] = location.phone
    text = json.dumps(data, ensure_ascii=False)
    # Escape what could end the script element or open a comment in HTML.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
