"""Public reads of programming: the programme (national, per organisation, per location, near a
postcode), one activity's public page and its schema.org Event JSON-LD, the options of the
programme's filter form, and what the iCalendar feeds list. The API and other apps read
through these functions.

How the programme is ordered by *next session* without a column for it: the filters run in
SQL and return a few light columns per candidate (at most ``CANDIDATE_CAP``); the next session
is computed in Python -- for a one-off activity or a series that has not begun it is simply
``starts_at``; only running series (and series with exception dates or a date filter) are
expanded, through a small process cache keyed by the recurrence itself. Then the page's
activities are loaded in one query. A programme page costs a fixed number of queries.

Approved public room bookings (``RoomBooking.is_public``, status approved, no activity of their
own) are the second kind of programme entry: events of residents and partners on the stage
of the library. They have no audience, price or seats, so filters on those leave them out;
the pseudo kind ``ROOM_EVENT_KIND`` asks for them alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bieb.catalog.models import Edition, Work
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.network.geo import bounding_box, haversine_km
from bieb.network.models import Location, Organisation
from bieb.network.selectors import Point, point_for_query
from bieb.programming import recurrence
from bieb.programming.models import (
    LIVE_STATUSES,
    Activity,
    ActivityKind,
    ActivityStatus,
    Audience,
    BookingStatus,
    CalendarFeed,
    Challenge,
    Partner,
    PriceKind,
    Programme,
    Registration,
    RegistrationStatus,
    RoomBooking,
)
from bieb.programming.recurrence import Session

__all__ = [
    "CANDIDATE_CAP",
    "FEED_LIMIT",
    "NEAR_RADIUS_KM",
    "PAGE_SIZE",
    "ROOM_EVENT_KIND",
    "ActivityDetail",
    "FilterOptions",
    "ProgrammeEntry",
    "ProgrammeResult",
    "SessionLine",
    "activity_availability",
    "activity_detail",
    "activity_json_ld",
    "activity_public",
    "feed_activities",
    "feed_bookings",
    "next_session",
    "personal_feed",
    "programme",
    "programme_filter_options",
    "registrations_of",
    "sessions_with_state",
    "waitlist_position",
]

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: "near me" looks this far by default
NEAR_RADIUS_KM = 15.0
MAX_RADIUS_KM = 100.0
#: the most candidates one programme query weighs (nationally, a few months of activities)
CANDIDATE_CAP = 5_000
#: the most events one iCalendar feed carries
FEED_LIMIT = 2_000
#: feeds keep an activity this long after its last session, so calendars see the last state
FEED_GRACE = dt.timedelta(days=1)
#: a cancelled activity stays in the feeds this long, so subscribed calendars learn of it
FEED_CANCELLED_KEPT = dt.timedelta(days=14)
#: the personal feed keeps registrations for activities that ended this recently
PERSONAL_FEED_HISTORY = dt.timedelta(days=90)
#: the pseudo kind of the programme filter for approved public room bookings
ROOM_EVENT_KIND = "room_event"
ROOM_EVENT_LABEL = gettext_lazy("evenement van bewoners of partners")
SORT_DATE = "date"
SORT_DISTANCE = "distance"
#: personal feed shows these registrations (waitlisted ones as TENTATIVE)
PERSONAL_FEED_STATUSES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.OFFERED,
    RegistrationStatus.WAITLISTED,
)


# --- sessions -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _sessions_cached(
    starts_at: dt.datetime, ends_at: dt.datetime, rrule: str, exdates: tuple[str, ...]
) -> tuple[Session, ...]:
    try:
        return tuple(
            recurrence.sessions_of(
                starts_at=starts_at, ends_at=ends_at, rrule=rrule, exdates=exdates
            )
        )
    except DomainError:
        # A stored rule the validator refuses today (rules changed since): show the first
        # session only rather than hide the activity or fail the page.
        return (Session(starts_at, ends_at),)


def _sessions(
    starts_at: dt.datetime, ends_at: dt.datetime, rrule: str, exdates: Iterable[Any]
) -> tuple[Session, ...]:
    return _sessions_cached(starts_at, ends_at, rrule or "", tuple(str(d) for d in exdates or ()))


def activity_sessions(activity: Activity) -> tuple[Session, ...]:
    """Every session of ``activity`` (recurrence expanded, exception dates left out)."""
    return _sessions(activity.starts_at, activity.ends_at, activity.rrule, activity.exdates)


def _first_session_after(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    rrule: str,
    exdates: list,
    after: dt.datetime,
    before: dt.datetime | None = None,
) -> Session | None:
    """The first session that has not ended at ``after`` (and starts before ``before``)."""
    if not exdates and (not rrule or (starts_at >= after and before is None)):
        # the common cases need no expansion: a one-off, or a series that has not begun
        if ends_at < after or (before is not None and starts_at >= before):
            return None
        return Session(starts_at, ends_at)
    for session in _sessions(starts_at, ends_at, rrule, exdates):
        if session.ends_at < after:
            continue
        if before is not None and session.starts_at >= before:
            return None
        return session
    return None


def next_session(activity: Activity, *, at: dt.datetime | None = None) -> Session | None:
    """The session of ``activity`` that is running or comes next at ``at`` (default now);
    None when every session has ended."""
    return _first_session_after(
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        rrule=activity.rrule,
        exdates=activity.exdates,
        after=at or clock.now(),
    )


@dataclass(frozen=True)
class SessionLine:
    starts_at: dt.datetime
    ends_at: dt.datetime
    is_past: bool
    is_next: bool


def sessions_with_state(activity: Activity, *, at: dt.datetime | None = None) -> list[SessionLine]:
    """Every session with whether it is over and which one is next (for the detail page)."""
    moment = at or clock.now()
    lines = []
    seen_next = False
    for session in activity_sessions(activity):
        is_past = session.ends_at < moment
        is_next = not is_past and not seen_next
        seen_next = seen_next or is_next
        lines.append(SessionLine(session.starts_at, session.ends_at, is_past, is_next))
    return lines


# --- availability ---------------------------------------------------------------------------

AVAILABILITY_WALK_IN = "walk_in"
AVAILABILITY_AVAILABLE = "available"
AVAILABILITY_FEW = "few"
AVAILABILITY_FULL = "full"


def activity_availability(activity: Activity) -> str:
    """``walk_in`` (no registration), ``available``, ``few`` (a fifth or at most 3 seats
    left) or ``full`` (registrations go to the waitlist)."""
    if not activity.needs_registration:
        return AVAILABILITY_WALK_IN
    left = activity.seats_left
    if left <= 0:
        return AVAILABILITY_FULL
    if left <= 3 or left * 5 <= activity.capacity:
        return AVAILABILITY_FEW
    return AVAILABILITY_AVAILABLE


# --- the programme --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeEntry:
    """One line of the programme: an activity (at its next session) or a public room booking."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    activity: Activity | None = None
    booking: RoomBooking | None = None
    distance_km: float | None = None

    @property
    def is_activity(self) -> bool:
        return self.activity is not None

    @property
    def title(self) -> str:
        return self.activity.title if self.activity else self.booking.title

    @property
    def location(self) -> Location:
        return self.activity.location if self.activity else self.booking.room.location

    @property
    def availability(self) -> str:
        return activity_availability(self.activity) if self.activity else AVAILABILITY_WALK_IN


@dataclass(frozen=True)
class ProgrammeResult:
    entries: list[ProgrammeEntry]
    #: entries matching the filters (all pages)
    total: int
    limit: int
    offset: int
    #: the point "near" resolved to (None without "near")
    point: Point | None = None
    #: more candidates matched than ``CANDIDATE_CAP``; the latest ones were left out
    truncated: bool = False

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _invalid(field_name: str, message: str) -> DomainError:
    return DomainError("filter_invalid", message, details={"field": field_name})


def _check_choice(value: str, allowed: Iterable[str], field_name: str) -> None:
    if value and value not in allowed:
        raise _invalid(
            field_name,
            _("'%(value)s' is geen geldige keuze voor %(field)s.")
            % {"value": value, "field": field_name},
        )


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=clock.AMSTERDAM)


def _organisation_of(value: Organisation | str | None) -> Organisation | None:
    if value is None or isinstance(value, Organisation):
        return value
    found = Organisation.objects.filter(slug=value).first()
    if found is None:
        raise NotFound("unknown_organisation", _("Deze bibliotheekorganisatie bestaat niet."))
    return found


def _location_of(value: Location | str | None) -> Location | None:
    if value is None or isinstance(value, Location):
        return value
    found = Location.objects.filter(slug=value).first()
    if found is None:
        raise NotFound("unknown_location", _("Deze locatie bestaat niet (meer)."))
    return found


def programme(
    *,
    organisation: Organisation | str | None = None,
    location: Location | str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    audience: str = "",
    age: int | None = None,
    theme: str = "",
    challenge: str = "",
    programme: str = "",
    price: str = "",
    kind: str = "",
    with_spaces: bool = False,
    near: str | None = None,
    radius_km: float = NEAR_RADIUS_KM,
    query: str = "",
    sort: str = "",
    limit: int = PAGE_SIZE,
    offset: int = 0,
    include_room_events: bool = True,
) -> ProgrammeResult:
    """The public programme: published activities with a session that has not ended, and
    approved public room bookings, filtered and ordered by their next session (by distance
    first when ``near`` is given, unless ``sort="date"``).

    - ``organisation``/``location``: an instance or a slug (unknown slug: ``NotFound``);
    - ``date_from``/``date_to``: Dutch calendar days, inclusive: an activity matches when one of
      its sessions falls in them;
    - ``audience``, ``challenge``, ``programme``, ``kind`` (``ActivityKind`` or
      ``ROOM_EVENT_KIND``), ``price`` (``free``/``paid``/``credits``): exact choices;
    - ``age``: activities whose age range holds that age (no range holds every age);
    - ``theme``: exact, ignoring case; ``query``: in title or summary;
    - ``with_spaces``: seats left, or no registration needed;
    - ``near``: a postcode or place (``network.selectors.point_for_query``) and
      ``radius_km`` around it; an unknown place raises ``DomainError("place_not_found")``.

    Bad values raise ``DomainError("filter_invalid")`` with ``details["field"]``. Filters on
    audience, age, theme, challenge, programme, price and seats leave room bookings out, and
    so does ``include_room_events=False`` (the API lists activities only).
    """
    _check_choice(audience, Audience.values, "audience")
    _check_choice(challenge, Challenge.values, "challenge")
    _check_choice(programme, [p for p in Programme.values if p], "programme")
    _check_choice(price, PriceKind.values, "price")
    _check_choice(kind, [*ActivityKind.values, ROOM_EVENT_KIND], "kind")
    _check_choice(sort, [SORT_DATE, SORT_DISTANCE], "sort")
    if age is not None and not 0 <= age <= 120:
        raise _invalid("age", _("Vul een leeftijd in tussen 0 en 120."))
    if date_from and date_to and date_to < date_from:
        raise _invalid("date_to", _("De einddatum ligt voor de begindatum."))
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise _invalid("limit", _("Vraag 1 tot 100 activiteiten per keer."))
    if not 0 <= offset <= CANDIDATE_CAP:
        raise _invalid("offset", _("Deze pagina bestaat niet."))
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise _invalid("radius_km", _("Kies een straal tot 100 km."))

    organisation = _organisation_of(organisation)
    location = _location_of(location)
    point = None
    if near:
        point = point_for_query(near)
        if point is None:
            raise DomainError(
                "place_not_found",
                _(
                    "We vinden geen postcode of plaats die hierop lijkt. Vul een postcode in, zoals 3512."
                ),
                details={"field": "near"},
            )
    now = clock.now()
    after = now
    if date_from:
        after = max(now, _local_midnight(date_from))
    before = _local_midnight(date_to + dt.timedelta(days=1)) if date_to else None
    query = (query or "").strip()[:100]
    theme = (theme or "").strip()

    # (sort key, kind, pk, start, end, distance)
    ranked: list[tuple[Any, ...]] = []
    truncated = False
    by_distance = point is not None and sort != SORT_DATE

    def outside(lat: float, lon: float) -> tuple[bool, float | None]:
        """Whether a venue lies beyond the radius, and its distance (None without "near")."""
        if point is None:
            return False, None
        distance = haversine_km(point.lat, point.lon, lat, lon)
        return distance > radius_km, distance

    if kind != ROOM_EVENT_KIND:
        activities = Activity.objects.filter(
            status=ActivityStatus.PUBLISHED, last_ends_at__gte=after
        )
        if organisation:
            activities = activities.filter(organisation=organisation)
        if location:
            activities = activities.filter(location=location)
        if before:
            activities = activities.filter(starts_at__lt=before)
        if audience:
            activities = activities.filter(audience=audience)
        if challenge:
            activities = activities.filter(challenge=challenge)
        if programme:
            activities = activities.filter(programme=programme)
        if kind:
            activities = activities.filter(kind=kind)
        if price:
            activities = activities.filter(price_kind=price)
        if theme:
            activities = activities.filter(theme__iexact=theme)
        if age is not None:
            activities = activities.filter(
                Q(age_min__isnull=True) | Q(age_min__lte=age),
                Q(age_max__isnull=True) | Q(age_max__gte=age),
            )
        if with_spaces:
            activities = activities.filter(Q(capacity=0) | Q(seats_taken__lt=F("capacity")))
        if query:
            activities = activities.filter(Q(title__icontains=query) | Q(summary__icontains=query))
        if point is not None:
            min_lat, max_lat, min_lon, max_lon = bounding_box(point.lat, point.lon, radius_km)
            activities = activities.filter(
                location__lat__gte=min_lat,
                location__lat__lte=max_lat,
                location__lon__gte=min_lon,
                location__lon__lte=max_lon,
            )
        rows = list(
            activities.order_by("starts_at", "pk").values_list(
                "pk", "starts_at", "ends_at", "rrule", "exdates", "location__lat", "location__lon"
            )[: CANDIDATE_CAP + 1]
        )
        truncated = len(rows) > CANDIDATE_CAP
        for pk, starts_at, ends_at, rrule, exdates, lat, lon in rows[:CANDIDATE_CAP]:
            too_far, distance = outside(lat, lon)
            if too_far:
                continue
            session = _first_session_after(
                starts_at=starts_at,
                ends_at=ends_at,
                rrule=rrule,
                exdates=exdates,
                after=after,
                before=before,
            )
            if session is None:
                continue
            ranked.append((session.starts_at, "a", pk, session.ends_at, distance))

    activity_only = (
        audience or age is not None or theme or challenge or programme or price or with_spaces
    )
    if include_room_events and kind in ("", ROOM_EVENT_KIND) and not activity_only:
        bookings = RoomBooking.objects.filter(
            status=BookingStatus.APPROVED,
            is_public=True,
            activity__isnull=True,
            ends_at__gte=after,
        )
        if organisation:
            bookings = bookings.filter(room__location__organisation=organisation)
        if location:
            bookings = bookings.filter(room__location=location)
        if before:
            bookings = bookings.filter(starts_at__lt=before)
        if query:
            bookings = bookings.filter(Q(title__icontains=query) | Q(description__icontains=query))
        if point is not None:
            min_lat, max_lat, min_lon, max_lon = bounding_box(point.lat, point.lon, radius_km)
            bookings = bookings.filter(
                room__location__lat__gte=min_lat,
                room__location__lat__lte=max_lat,
                room__location__lon__gte=min_lon,
                room__location__lon__lte=max_lon,
            )
        rows = list(
            bookings.order_by("starts_at", "pk").values_list(
                "pk", "starts_at", "ends_at", "room__location__lat", "room__location__lon"
            )[: CANDIDATE_CAP + 1]
        )
        truncated = truncated or len(rows) > CANDIDATE_CAP
        for pk, starts_at, ends_at, lat, lon in rows[:CANDIDATE_CAP]:
            too_far, distance = outside(lat, lon)
            if too_far:
                continue
            ranked.append((starts_at, "b", pk, ends_at, distance))

    if by_distance:
        ranked.sort(key=lambda row: (round(row[4], 3), row[0], row[1], row[2]))
    else:
        ranked.sort(key=lambda row: (row[0], row[1], row[2]))
    page = ranked[offset : offset + limit]
    activity_ids = [row[2] for row in page if row[1] == "a"]
    booking_ids = [row[2] for row in page if row[1] == "b"]
    loaded_activities = (
        Activity.objects.select_related("organisation", "location", "room").in_bulk(activity_ids)
        if activity_ids
        else {}
    )
    loaded_bookings = (
        RoomBooking.objects.select_related("room__location__organisation", "partner").in_bulk(
            booking_ids
        )
        if booking_ids
        else {}
    )
    entries = []
    for starts_at, what, pk, ends_at, distance in page:
        if what == "a":
            entries.append(
                ProgrammeEntry(
                    starts_at, ends_at, activity=loaded_activities[pk], distance_km=distance
                )
            )
        else:
            entries.append(
                ProgrammeEntry(
                    starts_at, ends_at, booking=loaded_bookings[pk], distance_km=distance
                )
            )
    return ProgrammeResult(
        entries=entries,
        total=len(ranked),
        limit=limit,
        offset=offset,
        point=point,
        truncated=truncated,
    )


# --- filter options -------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterOptions:
    """Choices for the programme's filter form (value, Dutch label)."""

    audiences: list[tuple[str, str]]
    challenges: list[tuple[str, str]]
    programmes: list[tuple[str, str]]
    kinds: list[tuple[str, str]]
    prices: list[tuple[str, str]]
    themes: list[tuple[str, str]] = field(default_factory=list)


def programme_filter_options(
    *, organisation: Organisation | None = None, location: Location | None = None
) -> FilterOptions:
    """The choices of every filter; ``themes`` are the themes of upcoming published
    activities in scope (one query)."""
    themes_qs = Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, last_ends_at__gte=clock.now()
    ).exclude(theme="")
    if organisation:
        themes_qs = themes_qs.filter(organisation=organisation)
    if location:
        themes_qs = themes_qs.filter(location=location)
    themes: dict[str, str] = {}
    for theme in themes_qs.values_list("theme", flat=True).distinct()[:500]:
        themes.setdefault(theme.strip().lower(), theme.strip())
    return FilterOptions(
        audiences=[(value, str(label)) for value, label in Audience.choices],
        challenges=[(value, str(label)) for value, label in Challenge.choices],
        programmes=[(value, str(label)) for value, label in Programme.choices if value],
        kinds=[
            *((value, str(label)) for value, label in ActivityKind.choices),
            (ROOM_EVENT_KIND, str(ROOM_EVENT_LABEL)),
        ],
        prices=[
            (PriceKind.FREE, _("gratis")),
            (PriceKind.PAID, _("betaald")),
            (PriceKind.CREDITS, _("met activiteitentegoed")),
        ],
        themes=sorted(
            ((value, label) for value, label in themes.items()), key=lambda item: item[0]
        )[:50],
    )


# --- one activity ---------------------------------------------------------------------------


def _public_activities() -> QuerySet[Activity]:
    return Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED]
    ).select_related("organisation", "location", "location__municipality", "room")


def activity_public(slug: str | None = None, *, pk: int | None = None) -> Activity:
    """A published or cancelled activity by slug (or ``pk``), with organisation, location and
    room; a draft or unknown activity raises ``NotFound("activity_not_found")``."""
    queryset = _public_activities()
    found = None
    if slug:
        found = queryset.filter(slug=slug).first()
    elif pk is not None:
        found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound("activity_not_found", _("Deze activiteit bestaat niet (meer)."))
    return found


@dataclass(frozen=True)
class WorkLink:
    title: str
    #: an edition to link to (the catalogue's pages are per edition), or None
    edition_id: int | None


@dataclass(frozen=True)
class ActivityDetail:
    """Everything the public detail page shows of one activity."""

    activity: Activity
    sessions: list[SessionLine]
    next_session: Session | None
    partners: list[Partner]
    works: list[WorkLink]
    availability: str

    @property
    def is_over(self) -> bool:
        return self.next_session is None

    @property
    def is_cancelled(self) -> bool:
        return self.activity.status == ActivityStatus.CANCELLED

    @property
    def registration_open(self) -> bool:
        """As ``services.register`` decides: published, with registration, and the first
        session still to come (a running course takes no newcomers)."""
        return (
            not self.is_cancelled
            and self.activity.needs_registration
            and self.activity.starts_at > clock.now()
        )


def activity_detail(slug: str | None = None, *, pk: int | None = None) -> ActivityDetail:
    """The public page of an activity (by slug or ``pk``): ``activity_public`` plus sessions,
    partners and catalogue works (with an edition to link to). Four queries."""
    activity = activity_public(slug, pk=pk)
    partners = list(activity.partners.order_by("name"))
    works = list(
        Work.objects.filter(pk__in=activity.works.values("pk"))
        .order_by("title", "pk")
        .prefetch_related(
            Prefetch("editions", queryset=Edition.objects.order_by("pk").only("pk", "work_id"))
        )
    )
    now = clock.now()
    return ActivityDetail(
        activity=activity,
        sessions=sessions_with_state(activity, at=now),
        next_session=next_session(activity, at=now),
        partners=partners,
        works=[
            WorkLink(
                work.title,
                next((edition.pk for edition in work.editions.all()), None),
            )
            for work in works
        ],
        availability=activity_availability(activity),
    )


# --- JSON-LD --------------------------------------------------------------------------------

_SCHEMA_DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_SCHEMA_FREQ = {"DAILY": "D", "WEEKLY": "W", "MONTHLY": "M", "YEARLY": "Y"}
_SCHEMA_AVAILABILITY = {
    AVAILABILITY_WALK_IN: "https://schema.org/InStock",
    AVAILABILITY_AVAILABLE: "https://schema.org/InStock",
    AVAILABILITY_FEW: "https://schema.org/LimitedAvailability",
    AVAILABILITY_FULL: "https://schema.org/SoldOut",
}


def _iso(moment: dt.datetime) -> str:
    """ISO 8601 with the Dutch offset: ``2025-01-09T19:00:00+01:00``."""
    return moment.astimezone(clock.AMSTERDAM).replace(microsecond=0).isoformat()


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _age_range(activity: Activity) -> str:
    if activity.age_min is None and activity.age_max is None:
        return ""
    low = activity.age_min if activity.age_min is not None else 0
    high = "" if activity.age_max is None else str(activity.age_max)
    return f"{low}-{high}"


#: recurrence parts a schema.org ``Schedule`` can say (anything else: ``subEvent`` only)
_SCHEDULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST"}


def _schedule(activity: Activity, sessions: tuple[Session, ...]) -> dict[str, Any] | None:
    """schema.org ``Schedule`` of the recurrence, or None when a ``Schedule`` cannot say it
    exactly (``BYSETPOS``, "the last Tuesday"): the ``subEvent`` list always holds every
    session, so nothing is lost."""
    parts = dict(
        part.partition("=")[::2] for part in recurrence.normalise(activity.rrule).split(";") if part
    )
    freq = _SCHEMA_FREQ.get(parts.get("FREQ", ""))
    if not freq or not sessions or set(parts) - _SCHEDULE_PARTS:
        return None
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit():
        return None
    first = activity.starts_at.astimezone(clock.AMSTERDAM)
    end = activity.ends_at.astimezone(clock.AMSTERDAM)
    schedule: dict[str, Any] = {
        "@type": "Schedule",
        "repeatFrequency": f"P{int(interval)}{freq}",
        "startDate": first.date().isoformat(),
        "endDate": sessions[-1].starts_at.astimezone(clock.AMSTERDAM).date().isoformat(),
        # schema.org Time is hh:mm:ss
        "startTime": first.strftime("%H:%M:%S"),
        "endTime": end.strftime("%H:%M:%S"),
        "scheduleTimezone": "Europe/Amsterdam",
        "repeatCount": len(sessions),
    }
    days: dict[str, None] = {}  # schema.org days in order, once each
    pairs: set[tuple[int, str]] = set()  # (week of the month, day) of "2TU"
    for value in (day for day in parts.get("BYDAY", "").split(",") if day):
        ordinal, name = value[:-2].lstrip("+"), value[-2:]
        if name not in _SCHEMA_DAYS:
            return None
        day = f"https://schema.org/{_SCHEMA_DAYS[name]}"
        days[day] = None
        if ordinal:  # "2TU": the second Tuesday of the month
            if parts.get("FREQ") != "MONTHLY" or ordinal not in {"1", "2", "3", "4", "5"}:
                return None
            pairs.add((int(ordinal), day))
    weeks = sorted({week for week, _day in pairs})
    if pairs and pairs != {(week, day) for week in weeks for day in days}:
        # "MO,2TU" or "1MO,3WE": byMonthWeek applies to every byDay, so it cannot say these
        return None
    if days:
        schedule["byDay"] = list(days)
    if weeks:
        schedule["byMonthWeek"] = weeks
    for name, key, low, high in (
        ("BYMONTHDAY", "byMonthDay", 1, 31),
        ("BYMONTH", "byMonth", 1, 12),
    ):
        if name in parts:
            values = parts[name].split(",")
            if not all(v.isdigit() and low <= int(v) <= high for v in values):
                return None  # negative days ("the last day of the month") cannot be said
            schedule[key] = [int(v) for v in values]
    if activity.exdates:
        schedule["exceptDate"] = list(activity.exdates)
    return schedule


def _place(activity: Activity) -> dict[str, Any]:
    location = activity.location
    place: dict[str, Any] = {
        "@type": "Place",
        "name": f"{activity.room.name}, {location.name}" if activity.room else location.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": location.address_line,
            "postalCode": location.postcode,
            "addressLocality": location.city,
            "addressCountry": "NL",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": location.lat, "longitude": location.lon},
    }
    if activity.accessibility:
        # schema.org has no accessibility text for an Event (``accessibilityFeature`` belongs
        # to a CreativeWork and takes a fixed vocabulary): it is a feature of the venue
        place["amenityFeature"] = {
            "@type": "LocationFeatureSpecification",
            "name": _("Toegankelijkheid"),
            "value": activity.accessibility,
        }
    return place


def json_for_script(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element (no ``<``, ``>``, ``&``)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def activity_json_ld(
    activity: Activity,
    url: str,
    *,
    organisation_url: str = "",
    partners: Iterable[Partner] | None = None,
) -> str:
    """schema.org ``Event`` of ``activity`` as JSON, safe to put inside a ``<script>``.

    ``url`` is the absolute address of the detail page. A series or course has
    ``eventSchedule`` (a ``Schedule``) and a ``subEvent`` per session. Pass ``partners`` when
    they are already loaded (else one query).
    """
    sessions = activity_sessions(activity)
    first = sessions[0] if sessions else Session(activity.starts_at, activity.ends_at)
    last = sessions[-1] if sessions else first
    cancelled = activity.status == ActivityStatus.CANCELLED
    organizer: list[dict[str, Any]] = [
        {
            "@type": "Organization",
            "name": activity.organisation.name,
            **({"url": organisation_url} if organisation_url else {}),
        }
    ]
    for partner in partners if partners is not None else activity.partners.order_by("name"):
        organizer.append(
            {
                "@type": "Organization",
                "name": partner.name,
                **({"url": partner.website} if partner.website else {}),
            }
        )
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": activity.title,
        "description": activity.summary,
        "url": url,
        "inLanguage": "nl",
        "startDate": _iso(first.starts_at),
        "endDate": _iso(last.ends_at),
        "eventStatus": "https://schema.org/EventCancelled"
        if cancelled
        else "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": _place(activity),
        "organizer": organizer if len(organizer) > 1 else organizer[0],
        "isAccessibleForFree": activity.price_kind == PriceKind.FREE,
        "audience": {
            "@type": "PeopleAudience",
            "audienceType": str(Audience(activity.audience).label),
            **({"suggestedMinAge": activity.age_min} if activity.age_min is not None else {}),
            **({"suggestedMaxAge": activity.age_max} if activity.age_max is not None else {}),
        },
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": _euros(activity.price_cents),
            "priceCurrency": "EUR",
            "availability": _SCHEMA_AVAILABILITY[activity_availability(activity)],
            **({"validFrom": _iso(activity.published_at)} if activity.published_at else {}),
        },
    }
    if activity.price_kind == PriceKind.CREDITS:
        data["offers"]["description"] = _("met activiteitentegoed uit je abonnement")
    if activity.needs_registration:
        data["maximumAttendeeCapacity"] = activity.capacity
        data["remainingAttendeeCapacity"] = activity.seats_left
    age_range = _age_range(activity)
    if age_range:
        data["typicalAgeRange"] = age_range
    if activity.rrule:
        schedule = _schedule(activity, sessions)
        if schedule:
            data["eventSchedule"] = schedule
        data["subEvent"] = [
            {
                "@type": "Event",
                "name": activity.title,
                "startDate": _iso(session.starts_at),
                "endDate": _iso(session.ends_at),
                "eventStatus": data["eventStatus"],
                "eventAttendanceMode": data["eventAttendanceMode"],
                "location": data["location"],
            }
            for session in sessions
        ]
    return json_for_script(data)


# --- what the feeds list --------------------------------------------------------------------


def _feed_activities_queryset(now: dt.datetime) -> QuerySet[Activity]:
    return Activity.objects.filter(
        Q(status=ActivityStatus.PUBLISHED)
        | Q(status=ActivityStatus.CANCELLED, cancelled_at__gte=now - FEED_CANCELLED_KEPT),
        last_ends_at__gte=now - FEED_GRACE,
    ).select_related("organisation", "location", "room")


def feed_activities(
    *,
    organisation: Organisation | None = None,
    location: Location | None = None,
    audience: str = "",
    limit: int | None = None,
) -> list[Activity]:
    """Activities for an iCalendar feed: published ones that have not ended (a day's grace),
    and ones cancelled in the last two weeks (so calendars learn of it), first sessions
    first, at most ``limit``. One query."""
    _check_choice(audience, Audience.values, "audience")
    activities = _feed_activities_queryset(clock.now())
    if organisation:
        activities = activities.filter(organisation=organisation)
    if location:
        activities = activities.filter(location=location)
    if audience:
        activities = activities.filter(audience=audience)
    return list(activities.order_by("starts_at", "pk")[: limit or FEED_LIMIT])


def feed_bookings(
    *, organisation: Organisation | None = None, location: Location | None = None, limit: int = 500
) -> list[RoomBooking]:
    """Approved public room bookings (not an activity's own) that have not ended. One query."""
    bookings = RoomBooking.objects.filter(
        status=BookingStatus.APPROVED,
        is_public=True,
        activity__isnull=True,
        ends_at__gte=clock.now() - FEED_GRACE,
    ).select_related("room__location__organisation", "partner")
    if organisation:
        bookings = bookings.filter(room__location__organisation=organisation)
    if location:
        bookings = bookings.filter(room__location=location)
    return list(bookings.order_by("starts_at", "pk")[:limit])


def personal_feed(token: str) -> list[Registration]:
    """The registrations a personal feed (``CalendarFeed.token``) shows: the person's live
    ones (confirmed, offered, waitlisted) for activities that ended at most 90 days ago, and
    those of activities cancelled in the last two weeks (cancelled with the activity), with
    their activity loaded. An unknown token raises ``NotFound("calendar_feed_not_found")``."""
    feed = CalendarFeed.objects.filter(token=token).only("person_id").first() if token else None
    if feed is None:
        raise NotFound("calendar_feed_not_found", _("Deze agenda bestaat niet (meer)."))
    now = clock.now()
    cancelled_with_activity = Q(
        activity__status=ActivityStatus.CANCELLED,
        activity__cancelled_at__gte=now - FEED_CANCELLED_KEPT,
        status=RegistrationStatus.CANCELLED,
        cancelled_at__gte=F("activity__cancelled_at"),
    )
    live = Q(status__in=PERSONAL_FEED_STATUSES) & ~Q(activity__status=ActivityStatus.DRAFT)
    return list(
        Registration.objects.filter(
            live | cancelled_with_activity,
            person_id=feed.person_id,
            activity__last_ends_at__gte=now - PERSONAL_FEED_HISTORY,
        )
        .select_related("activity__organisation", "activity__location", "activity__room")
        .order_by("activity__starts_at", "pk")[:FEED_LIMIT]
    )


# --- a person's registrations ---------------------------------------------------------------


def registrations_of(person: Any, *, live: bool | None = None) -> QuerySet[Registration]:
    """The person's own registrations, with activity (and location) and invoice loaded,
    unordered. ``live=True``: only those that still count (``LIVE_STATUSES``);
    ``live=False``: only the others; ``None``: all. Callers add the order they show."""
    registrations = Registration.objects.filter(person_id=person.pk).select_related(
        "activity__location", "invoice"
    )
    if live is True:
        registrations = registrations.filter(status__in=LIVE_STATUSES)
    elif live is False:
        registrations = registrations.exclude(status__in=LIVE_STATUSES)
    return registrations


def waitlist_position(registration: Registration) -> int:
    """Where a waitlisted registration stands on its activity's waitlist (1: first). One
    query."""
    return (
        Registration.objects.filter(
            activity_id=registration.activity_id,
            status=RegistrationStatus.WAITLISTED,
            pk__lt=registration.pk,
        ).count()
        + 1
    )


# --- figures (for the insights issue and the staff screens) -------------------------------------


def activity_figures(activity: Activity):
    """Registrations, attendance, no-shows, unique participants and age groups of one
    activity (``figures.Figures``; groups under 10 people are ``None``)."""
    from bieb.programming import figures

    return figures.activity_figures(activity)


def figures_by_challenge(*, organisation_ids=None, date_from=None, date_to=None):
    """The same figures per societal challenge and in total (``figures.figures_by_challenge``)."""
    from bieb.programming import figures

    return figures.figures_by_challenge(
        organisation_ids=organisation_ids, date_from=date_from, date_to=date_to
    )
