"""Public pages of the network: find your library, organisations, locations. No log-in needed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from bieb.core import clock
from bieb.core.errors import NotFound
from bieb.network import selectors
from bieb.network.forms import FindForm
from bieb.network.models import Location
from bieb.network.presentation import distance_label, opening_state_label
from bieb.network.validation import pc4_of

FIND_LIMIT = 10
DATA_ATTRIBUTION = gettext_lazy(
    "Bron: CBS (CC BY 4.0); postcodecoördinaten © GeoNames (CC BY 4.0)."
)


@dataclass(frozen=True)
class LocationRow:
    location: Location
    is_open: bool
    state_label: str
    distance: str = ""


def _row(location: Location, now: dt.datetime, distance_km: float | None = None) -> LocationRow:
    state = selectors.location_opening_state(location=location, at=now)
    return LocationRow(
        location=location,
        is_open=state.is_open,
        state_label=opening_state_label(state, now=now),
        distance=distance_label(distance_km) if distance_km is not None else "",
    )


@require_GET
def find(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET or None)
    rows: list[LocationRow] = []
    point = None
    not_found = ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        point = selectors.point_for_query(query)
        if point is None:
            if pc4_of(query):
                not_found = _(
                    "Deze postcode kennen we niet. Controleer de postcode of vul een plaats in."
                )
            else:
                not_found = _(
                    "We vinden geen postcode of plaats die hierop lijkt. Controleer de "
                    "spelling of vul een postcode in, zoals 1011 AB."
                )
        else:
            kind = form.cleaned_data["kind"]
            now = clock.now()
            rows = [
                _row(location, now, distance)
                for location, distance in selectors.locations_nearest(
                    lat=point.lat, lon=point.lon, limit=FIND_LIMIT, kinds=[kind] if kind else None
                )
            ]
    return render(
        request,
        "network/find.html",
        {
            "form": form,
            "point": point,
            "rows": rows,
            "not_found": not_found,
            "attribution": DATA_ATTRIBUTION,
        },
    )


@require_GET
def organisation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "network/organisation_list.html",
        {"organisations": selectors.organisation_list()},
    )


@require_GET
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        organisation = selectors.organisation_detail(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    now = clock.now()
    return render(
        request,
        "network/organisation_detail.html",
        {
            "organisation": organisation,
            "rows": [_row(location, now) for location in organisation.active_locations],
            "municipalities": list(organisation.municipalities.all()),
        },
    )


@require_GET
def location_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        location = selectors.location_detail(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    now = clock.now()
    return render(
        request,
        "network/location_detail.html",
        {
            "location": location,
            "state": _row(location, now),
            "week": selectors.location_week(location=location),
            "exceptions": selectors.location_upcoming_exceptions(location=location),
            # location_json_ld escapes <, > and & so the JSON cannot leave its script element.
            "json_ld": mark_safe(selectors.location_json_ld(location=location)),  # noqa: S308
            "map_url": (
                f"https://www.openstreetmap.org/?mlat={location.lat:.5f}&mlon={location.lon:.5f}#map=17/{location.lat:.5f}/{location.lon:.5f}"
            ),
        },
    )
