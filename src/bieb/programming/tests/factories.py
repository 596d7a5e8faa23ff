"""Factory functions for programming tests: organisations, locations, rooms, partners and
activities with sensible defaults. Other test modules import these.

``activity(**kw)`` makes a *published* activity by default: organisation and location of its
own, starting tomorrow at 19:00 in Amsterdam for two hours, 20 seats, free. ``last_ends_at`` is
derived from the recurrence (``recurrence.activity_sessions``) unless given.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets

from bieb.accounts.tests.factories import (
    LocationFactory,
    OrganisationFactory,
    UserFactory,
)
from bieb.core import clock
from bieb.programming import recurrence
from bieb.programming.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Audience,
    Challenge,
    Partner,
    PartnerKind,
    Registration,
    RegistrationStatus,
    Room,
    RoomBooking,
)

__all__ = [
    "LocationFactory",
    "OrganisationFactory",
    "UserFactory",
    "activity",
    "at_local",
    "booking",
    "location",
    "organisation",
    "partner",
    "registration",
    "room",
    "tomorrow_at",
]

_seq = itertools.count(1)


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware datetime for a wall-clock time in the Netherlands."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.AMSTERDAM)


def tomorrow_at(hour: int = 19, minute: int = 0) -> dt.datetime:
    """Tomorrow (Amsterdam, after ``clock.today()``) at ``hour:minute`` local time."""
    return at_local(clock.today() + dt.timedelta(days=1), hour, minute)


def organisation(**kw):
    """A library organisation (``accounts`` factory: with one municipality)."""
    return OrganisationFactory(**kw)


def location(**kw):
    """A branch of ``organisation`` (a new organisation unless given)."""
    if "organisation" not in kw:
        kw["organisation"] = organisation()
    return LocationFactory(**kw)


def room(**kw) -> Room:
    """A bookable room (capacity 30) at ``location`` (a new location unless given)."""
    n = next(_seq)
    defaults = {"name": f"Zaal {n}", "capacity": 30}
    defaults.update(kw)
    if "location" not in defaults:
        defaults["location"] = location()
    return Room.objects.create(**defaults)


def partner(**kw) -> Partner:
    """A partner (a school unless ``kind`` is given) of ``organisation``."""
    n = next(_seq)
    defaults = {"name": f"Partner {n}", "kind": PartnerKind.SCHOOL}
    defaults.update(kw)
    if "organisation" not in defaults:
        defaults["organisation"] = organisation()
    return Partner.objects.create(**defaults)


def activity(*, partners=(), works=(), **kw) -> Activity:
    """A published activity with sensible defaults; any model field can be overridden.

    - ``organisation``/``location``: the location's organisation is used when only
      ``location`` is given; a new organisation and branch otherwise;
    - ``starts_at`` tomorrow 19:00 Amsterdam, ``ends_at`` two hours later (``duration``
      may be given instead of ``ends_at``);
    - ``capacity`` 20, free, audience adults, challenge "lifelong";
    - ``last_ends_at`` the end of the last session of the recurrence (``rrule``/``exdates``);
    - ``status`` published (``published_at`` now); pass ``status="draft"`` for a draft.
    """
    n = next(_seq)
    if "location" in kw and "organisation" not in kw:
        kw["organisation"] = kw["location"].organisation
    if "organisation" not in kw:
        kw["organisation"] = organisation()
    if "location" not in kw:
        kw["location"] = location(organisation=kw["organisation"])
    starts_at = kw.pop("starts_at", None) or tomorrow_at(19)
    duration = kw.pop("duration", dt.timedelta(hours=2))
    ends_at = kw.pop("ends_at", None) or starts_at + duration
    title = kw.pop("title", f"Activiteit {n}")
    status = kw.pop("status", ActivityStatus.PUBLISHED)
    fields = {
        "kind": ActivityKind.SERIES if kw.get("rrule") else ActivityKind.EVENT,
        "title": title,
        "slug": f"activiteit-{n}-{secrets.token_hex(3)}",
        "summary": f"Korte omschrijving van {title}.",
        "description": "",
        "audience": Audience.ADULTS,
        "challenge": Challenge.LIFELONG,
        "capacity": 20,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": status,
    }
    if status in (ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED):
        fields["published_at"] = clock.now()
    if status == ActivityStatus.CANCELLED:
        fields["cancelled_at"] = clock.now()
    fields.update(kw)
    if "last_ends_at" not in kw:
        sessions = recurrence.sessions_of(
            starts_at=fields["starts_at"],
            ends_at=fields["ends_at"],
            rrule=fields.get("rrule", ""),
            exdates=fields.get("exdates", ()),
        )
        fields["last_ends_at"] = max((s.ends_at for s in sessions), default=fields["ends_at"])
    made = Activity.objects.create(**fields)
    if partners:
        made.partners.set(partners)
    if works:
        made.works.set(works)
    return made


def registration(*, activity: Activity, person=None, **kw) -> Registration:
    """A registration row made directly (no seat accounting): confirmed, one seat, for
    ``person`` (a new user unless ``email`` is given for a visitor)."""
    if person is None and not kw.get("email"):
        person = UserFactory()
    fields = {
        "status": RegistrationStatus.CONFIRMED,
        "seats": 1,
        "token": secrets.token_urlsafe(32),
    }
    fields.update(kw)
    if fields["status"] == RegistrationStatus.OFFERED and "offer_expires_at" not in fields:
        fields["offer_expires_at"] = clock.now() + dt.timedelta(hours=24)
    return Registration.objects.create(activity=activity, person=person, **fields)


def booking(**kw) -> RoomBooking:
    """An approved public room booking tomorrow 14:00-16:00 (a new room unless given)."""
    n = next(_seq)
    starts_at = kw.pop("starts_at", None) or tomorrow_at(14)
    fields = {
        "title": f"Bewonersavond {n}",
        "starts_at": starts_at,
        "ends_at": kw.pop("ends_at", None) or starts_at + dt.timedelta(hours=2),
        "status": RoomBooking.Status.APPROVED,
        "is_public": True,
    }
    fields.update(kw)
    if "room" not in fields:
        fields["room"] = room()
    return RoomBooking.objects.create(**fields)
