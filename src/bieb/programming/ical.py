"""iCalendar (RFC 5545) for the programme feeds, built with the ``icalendar`` package.

Each activity is one VEVENT with a stable UID (``activity-<id>@bieb.nl``); a series or course
carries its RRULE and EXDATEs rather than one event per session, so a calendar that
subscribes sees one series. Times are local to Europe/Amsterdam (``DTSTART;TZID=...``) with
a VTIMEZONE in the calendar, so the consumer expands a weekly 19:00 as 19:00 across daylight
saving time, the same way ``recurrence.sessions_of`` does. RFC 5545 wants ``UNTIL`` in UTC
when ``DTSTART`` has a time zone: the rule is written with ``UNTIL`` set to the UTC moment of
the rule's last occurrence.

The VTIMEZONE is written here (``amsterdam_vtimezone``), not by ``icalendar``'s
``add_missing_timezones``: that one (7.3.2) gives the spring change's onset in the new
offset's wall-clock time (``DTSTART:...T030000`` with ``TZOFFSETFROM:+0100``), which RFC 5545
section 3.6.5 reads as an hour too late, and it only lists the changes of a window of years
(``RDATE``), while Outlook builds its time zone from an ``RRULE`` (MS-OXCICAL 2.1.3.1.1.19).
Ours is the yearly rule of the tz database, as the published IANA-derived VTIMEZONE files
have it; a test checks it against the tz database.

``SEQUENCE`` rises with every change a calendar shows (an edit, the publication, the
cancellation), so a client that imported an earlier copy of the event takes the new one.
There is no revision counter on the rows: the number is the seconds from the row's creation
to its last change (``revision``), which only grows, and stays an RFC 5545 INTEGER for
68 years. ``LAST-MODIFIED`` is that same last change.

Cancelled activities stay in the feeds for a while with ``STATUS:CANCELLED`` (and "Geannuleerd"
in the summary, since many calendars do not show the status), so subscribed calendars learn
of the cancellation instead of silently losing the event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
    vText,
)

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.programming import recurrence
from bieb.programming.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Audience,
    Challenge,
    Programme,
    RoomBooking,
)

PRODID = "-//de Bibliotheek//Bieb programma//NL"
UID_DOMAIN = "bieb.nl"
TZID = "Europe/Amsterdam"
#: how often a subscribed calendar should fetch the feed again
REFRESH = dt.timedelta(hours=1)
CONTENT_TYPE = "text/calendar; charset=utf-8"
#: a built public feed is reused this long while its rows are unchanged (seconds)
CACHE_SECONDS = 15 * 60


#: the largest SEQUENCE (an RFC 5545 INTEGER)
MAX_SEQUENCE = 2**31 - 1


def amsterdam_vtimezone() -> Timezone:
    """The VTIMEZONE of Europe/Amsterdam: CET, and CEST from the last Sunday of March at 02:00
    (CET) to the last Sunday of October at 03:00 (CEST), the rule in force since 1996. Each
    onset is the wall-clock time before the change (``TZOFFSETFROM``), as RFC 5545 section
    3.6.5 wants."""
    zone = Timezone()
    zone.add("tzid", TZID)
    zone.add("x-lic-location", TZID)
    for kind, name, onset, offset_from, offset_to in (
        (TimezoneDaylight, "CEST", dt.datetime(1996, 3, 31, 2), 1, 2),
        (TimezoneStandard, "CET", dt.datetime(1996, 10, 27, 3), 2, 1),
    ):
        observance = kind()
        observance.add("tzname", name)
        observance.add("dtstart", onset)
        observance.add("tzoffsetfrom", dt.timedelta(hours=offset_from))
        observance.add("tzoffsetto", dt.timedelta(hours=offset_to))
        observance.add("rrule", {"freq": "yearly", "bymonth": onset.month, "byday": "-1SU"})
        zone.add_component(observance)
    return zone


def revision(obj: Activity | RoomBooking) -> dt.datetime:
    """When ``obj`` last changed in a way its event shows: ``updated_at``, or a later
    publication, cancellation or decision (services set those without touching
    ``updated_at``)."""
    moments = [obj.created_at, obj.updated_at]
    for name in ("published_at", "cancelled_at", "decided_at"):
        moment = getattr(obj, name, None)
        if moment is not None:
            moments.append(moment)
    return max(moments)


def sequence(obj: Activity | RoomBooking) -> int:
    """The event's ``SEQUENCE``: 0 when made, growing with every change (``revision``)."""
    seconds = int((revision(obj) - obj.created_at).total_seconds())
    return min(max(seconds, 0), MAX_SEQUENCE)


def activity_uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@{UID_DOMAIN}"


def booking_uid(booking: RoomBooking) -> str:
    return f"booking-{booking.pk}@{UID_DOMAIN}"


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(clock.AMSTERDAM)


def _venue(location, room=None) -> str:
    parts = []
    if room is not None:
        parts.append(room.name)
    parts.append(location.name)
    parts.append(f"{location.address_line}, {location.postcode} {location.city}".strip())
    return ", ".join(part for part in parts if part)


def feed_rrule(activity: Activity) -> vRecur | None:
    """The activity's rule for a feed: as stored, with ``UNTIL`` as the UTC moment of the
    rule's last occurrence. None for a one-off or a stored rule that no longer parses."""
    text = recurrence.normalise(activity.rrule)
    if not text:
        return None
    try:
        rule = recurrence.parse_rrule(text, activity.starts_at)
    except DomainError:
        return None
    parts = [part.partition("=") for part in text.split(";") if part]
    values = {name: value for name, _sep, value in parts}
    if "UNTIL" in values:
        last = list(rule)[-1].replace(tzinfo=clock.AMSTERDAM)
        values["UNTIL"] = last.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return vRecur.from_ical(";".join(f"{name}={value}" for name, value in values.items()))


def _exdates(activity: Activity) -> list[dt.datetime]:
    start = _local(activity.starts_at)
    moments = []
    for value in activity.exdates or []:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            continue
        moments.append(
            dt.datetime.combine(day, start.time().replace(tzinfo=None)).replace(
                tzinfo=clock.AMSTERDAM
            )
        )
    return moments


def _categories(activity: Activity) -> list[str]:
    labels = [
        str(ActivityKind(activity.kind).label) if activity.kind in ActivityKind.values else "",
        str(Audience(activity.audience).label) if activity.audience in Audience.values else "",
        str(Challenge(activity.challenge).label) if activity.challenge in Challenge.values else "",
        str(Programme(activity.programme).label)
        if activity.programme and activity.programme in Programme.values
        else "",
    ]
    if activity.theme:
        labels.append(activity.theme)
    return [label for label in labels if label]


def activity_event(
    activity: Activity, *, url: str, stamp: dt.datetime, tentative: bool = False
) -> Event:
    """The VEVENT of one activity (``url``: the absolute address of its page)."""
    cancelled = activity.status == ActivityStatus.CANCELLED
    event = Event()
    event.add("uid", activity_uid(activity))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", _local(activity.starts_at))
    event.add("dtend", _local(activity.ends_at))
    summary = activity.title
    if cancelled:
        summary = _("Geannuleerd: %(title)s") % {"title": activity.title}
    event.add("summary", summary)
    lines = [activity.summary]
    if cancelled and activity.cancel_reason:
        lines.append(_("Geannuleerd: %(reason)s") % {"reason": activity.cancel_reason})
    if activity.description:
        lines.append(activity.description)
    lines.append(url)
    event.add("description", "\n\n".join(line for line in lines if line))
    event.add("location", _venue(activity.location, activity.room))
    event.add("geo", (activity.location.lat, activity.location.lon))
    event.add("url", url)
    rule = feed_rrule(activity)
    if rule is not None:
        event.add("rrule", rule)
        exdates = _exdates(activity)
        if exdates:
            event.add("exdate", exdates)
    if cancelled:
        status = "CANCELLED"
    elif tentative:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    event.add("status", status)
    event.add("sequence", sequence(activity))
    event.add("created", activity.created_at.astimezone(dt.UTC))
    event.add("last-modified", revision(activity).astimezone(dt.UTC))
    categories = _categories(activity)
    if categories:
        event.add("categories", categories)
    organisation = activity.organisation
    if organisation.email:
        organizer = vCalAddress(f"mailto:{organisation.email}")
        organizer.params["cn"] = vText(organisation.name)
        event.add("organizer", organizer)
    return event


def booking_event(booking: RoomBooking, *, url: str, stamp: dt.datetime) -> Event:
    """The VEVENT of an approved public room booking."""
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", _local(booking.starts_at))
    event.add("dtend", _local(booking.ends_at))
    event.add("summary", booking.title)
    lines = [booking.description]
    if booking.partner_id:
        lines.append(_("Georganiseerd door %(name)s") % {"name": booking.partner.name})
    if url:
        lines.append(url)
    description = "\n\n".join(line for line in lines if line)
    if description:
        event.add("description", description)
    location = booking.room.location
    event.add("location", _venue(location, booking.room))
    event.add("geo", (location.lat, location.lon))
    if url:
        event.add("url", url)
    event.add("status", "CONFIRMED")
    event.add("sequence", sequence(booking))
    event.add("created", booking.created_at.astimezone(dt.UTC))
    event.add("last-modified", revision(booking).astimezone(dt.UTC))
    return event


def build_calendar(
    *,
    name: str,
    activities: Iterable[Activity],
    url_for: Callable[[Activity], str],
    bookings: Iterable[RoomBooking] = (),
    booking_url_for: Callable[[RoomBooking], str] | None = None,
    tentative: Collection[int] = (),
    description: str = "",
) -> bytes:
    """A whole VCALENDAR (bytes, UTF-8): one VEVENT per activity and per room booking, and the
    VTIMEZONE of Europe/Amsterdam (``amsterdam_vtimezone``) when there is any event.
    ``tentative`` holds ids of activities to mark ``STATUS:TENTATIVE`` (a waitlisted
    registration in a personal feed)."""
    stamp = clock.now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    calendar.add("x-wr-timezone", TZID)
    if description:
        calendar.add("x-wr-caldesc", description)
        calendar.add("description", description)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    tentative = set(tentative)
    events = [
        activity_event(
            activity, url=url_for(activity), stamp=stamp, tentative=activity.pk in tentative
        )
        for activity in activities
    ]
    events += [
        booking_event(booking, url=booking_url_for(booking) if booking_url_for else "", stamp=stamp)
        for booking in bookings
    ]
    if events:  # every DTSTART/DTEND/EXDATE names this zone: describe it before the events
        calendar.add_component(amsterdam_vtimezone())
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def _row_state(obj) -> str:
    """Every loaded value of a row and of the rows selected with it (``select_related``)."""
    values = {key: value for key, value in vars(obj).items() if key[0] != "_"}
    related = [_row_state(other) for other in obj._state.fields_cache.values() if other is not None]
    return repr((values, related))


def build_calendar_cached(
    *,
    name: str,
    activities: Iterable[Activity],
    url_for: Callable[[Activity], str],
    bookings: Iterable[RoomBooking] = (),
    booking_url_for: Callable[[RoomBooking], str] | None = None,
    description: str = "",
    site: str = "",
) -> bytes:
    """``build_calendar`` through the cache: a national feed of 2,000 events takes a second
    to write, while its rows change rarely. The key is a digest of every value the feed is
    made of (the rows as loaded, the name, the site address and the language), so a change
    to any row, or a row entering or leaving the feed, makes a new key: never a stale event,
    only a ``DTSTAMP`` up to ``CACHE_SECONDS`` old."""
    activities = list(activities)
    bookings = list(bookings)
    digest = hashlib.sha256(
        repr(
            (
                name,
                description,
                site,
                get_language(),
                [_row_state(activity) for activity in activities],
                [_row_state(booking) for booking in bookings],
            )
        ).encode()
    ).hexdigest()
    key = f"programming:ics:{digest}"
    body = cache.get(key)
    if body is None:
        body = build_calendar(
            name=name,
            activities=activities,
            url_for=url_for,
            bookings=bookings,
            booking_url_for=booking_url_for,
            description=description,
        )
        cache.set(key, body, CACHE_SECONDS)
    return body
