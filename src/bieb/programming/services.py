"""Commands of programming: the only way other apps (and the views and API) change its data.

Seats: ``Activity.seats_taken`` is the sum of the seats of confirmed and offered registrations.
A registration takes its seats with one conditional ``UPDATE ... SET seats_taken = seats_taken
+ n WHERE seats_taken + n <= capacity`` (and the database's check constraint backs it), so
any number of registrations at once never overbook: who gets no seat goes on the waitlist, in
the order the rows were written. Seats that come free are offered at once to the first on the
waitlist whose group fits (``_promote``); an offer not taken in time expires and moves on
(``offers_expire``, also run before every registration change on the activity).

Locks are taken in one order, so that no two of these paths wait for each other (PostgreSQL;
SQLite runs one writer at a time): the person (``User``, for credits), then the activity row,
then its registrations by primary key, then what subscriptions locks (usage, invoices, the
invoice counter). Every path that changes whether a registration holds seats locks the activity
first; ``register`` takes it with the conditional ``UPDATE`` (or, without a seat, with a lock
before it puts someone on the waitlist). The round works one activity per transaction.

Money: free activities cost nothing; ``credits`` activities use the plan's activity credits
(``subscriptions.selectors.entitlements_for`` and ``usage_record``), and without credits left
the price, when there is one; paid ones are paid online (an invoice from the organisation and
the payment path of subscriptions; the seat is held ``PAYMENT_HOLD`` for it) or at the door
when the activity allows that. See ``docs/programming.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from bieb.accounts.models import User
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.programming import notify, recurrence
from bieb.programming.models import (
    LIVE_STATUSES,
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    Audience,
    BookingStatus,
    CalendarFeed,
    Challenge,
    LanguageLevel,
    Partner,
    PaymentState,
    PriceKind,
    Programme,
    Registration,
    RegistrationStatus,
    Room,
    RoomBooking,
)

#: how long a seat waits for an online payment before it goes to the next person
PAYMENT_HOLD = dt.timedelta(minutes=30)
#: how long a visitor has to confirm their e-mail address
EMAIL_CONFIRM_HOURS = 48
#: reminders go out this long before a session
REMINDER_BEFORE = dt.timedelta(hours=36)
#: how far back a check-in may name a session (a course's earlier evening, by list)
CHECK_IN_WINDOW = dt.timedelta(hours=12)
#: the most one registration may take, whatever the activity says
MAX_GROUP_SEATS = 60


def _token() -> str:
    return secrets.token_urlsafe(32)


def _error(code: str, message: str, *, status: int = 400, field_name: str = "") -> DomainError:
    return DomainError(
        code, message, status=status, details={"field": field_name} if field_name else None
    )


# --- activities --------------------------------------------------------------------------------


@dataclass
class ActivityInput:
    """What a programmer fills in. Times are aware; ``exdates`` ISO dates."""

    kind: str
    title: str
    summary: str
    audience: str
    challenge: str
    location_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    description: str = ""
    age_min: int | None = None
    age_max: int | None = None
    language_level: str = ""
    theme: str = ""
    programme: str = ""
    room_id: int | None = None
    rrule: str = ""
    exdates: list[str] = field(default_factory=list)
    capacity: int = 0
    max_group_size: int = 1
    price_kind: str = PriceKind.FREE
    price_cents: int = 0
    credits: int = 0
    pay_at_door: bool = False
    accessibility: str = ""
    offer_hours: int = 24
    partner_ids: list[int] = field(default_factory=list)
    work_ids: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, activity: Activity) -> ActivityInput:
        """The input that would make ``activity`` (to edit or duplicate it)."""
        values = {
            f.name: getattr(activity, f.name)
            for f in fields(cls)
            if f.name not in ("partner_ids", "work_ids")
        }
        values["partner_ids"] = list(activity.partners.values_list("pk", flat=True))
        values["work_ids"] = list(activity.works.values_list("pk", flat=True))
        return cls(**values)


def _choice(value: str, choices, code: str, field_name: str, *, blank: bool = False) -> str:
    if (value or "") == "" and blank:
        return ""
    if value not in choices.values:
        raise _error(code, _("Kies een geldige waarde."), field_name=field_name)
    return value


def _clean_input(data: ActivityInput, organisation_id: int) -> tuple[ActivityInput, list]:
    """Check everything before anything is written; return the input and its sessions."""
    from bieb.network.models import Location

    data.title = " ".join((data.title or "").split())
    data.summary = " ".join((data.summary or "").split())
    if not data.title:
        raise _error("title_required", _("Geef de activiteit een titel."), field_name="title")
    if len(data.title) > 150:
        raise _error(
            "title_too_long", _("De titel is te lang (hoogstens 150 tekens)."), field_name="title"
        )
    if not data.summary:
        raise _error("summary_required", _("Schrijf een korte omschrijving."), field_name="summary")
    _choice(data.kind, ActivityKind, "kind_invalid", "kind")
    _choice(data.audience, Audience, "audience_invalid", "audience")
    _choice(data.challenge, Challenge, "challenge_invalid", "challenge")
    _choice(data.programme, Programme, "programme_invalid", "programme", blank=True)
    _choice(
        data.language_level, LanguageLevel, "language_level_invalid", "language_level", blank=True
    )
    _choice(data.price_kind, PriceKind, "price_kind_invalid", "price_kind")
    if (
        data.starts_at is None
        or data.ends_at is None
        or timezone.is_naive(data.starts_at)
        or timezone.is_naive(data.ends_at)
    ):
        raise _error("time_invalid", _("Geef een begin- en eindtijd."), field_name="starts_at")
    if data.ends_at <= data.starts_at:
        raise _error(
            "ends_before_start",
            _("De activiteit moet eindigen na het begin."),
            field_name="ends_at",
        )
    if data.ends_at - data.starts_at > dt.timedelta(days=14):
        raise _error(
            "too_long",
            _("Eén bijeenkomst duurt hoogstens twee weken; gebruik een herhaling voor een reeks."),
            field_name="ends_at",
        )
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        raise _error(
            "age_range_invalid",
            _("De leeftijd 'vanaf' is hoger dan 'tot en met'."),
            field_name="age_min",
        )
    for name in ("capacity", "max_group_size", "price_cents", "credits", "offer_hours"):
        value = getattr(data, name)
        if not isinstance(value, int) or value < 0:
            raise _error(
                "number_invalid", _("Vul een heel getal van 0 of meer in."), field_name=name
            )
    if data.capacity > 100_000:
        raise _error("capacity_invalid", _("Zoveel plaatsen kan niet."), field_name="capacity")
    if not 1 <= data.max_group_size <= MAX_GROUP_SEATS:
        raise _error(
            "group_size_invalid",
            _("Per aanmelding kunnen 1 tot %(max)s plaatsen.") % {"max": MAX_GROUP_SEATS},
            field_name="max_group_size",
        )
    if not 1 <= data.offer_hours <= 24 * 14:
        raise _error(
            "offer_hours_invalid",
            _("De bedenktijd is 1 uur tot twee weken."),
            field_name="offer_hours",
        )
    if data.price_kind == PriceKind.FREE:
        data.price_cents, data.credits, data.pay_at_door = 0, 0, False
    elif data.price_kind == PriceKind.PAID:
        data.credits = 0
        if data.price_cents <= 0:
            raise _error(
                "price_required",
                _("Geef een prijs voor een betaalde activiteit."),
                field_name="price_cents",
            )
    elif data.credits <= 0:
        raise _error("credits_required", _("Hoeveel tegoed kost een plaats?"), field_name="credits")
    location = Location.objects.filter(pk=data.location_id, is_active=True).first()
    if location is None or (
        location.organisation_id != organisation_id and location.kind != "partner_venue"
    ):
        raise _error(
            "location_unknown",
            _("Kies een locatie van je eigen organisatie of een partnerlocatie."),
            field_name="location_id",
        )
    if data.room_id:
        room = Room.objects.filter(pk=data.room_id, location_id=location.pk, is_active=True).first()
        if room is None:
            raise _error("room_unknown", _("Kies een zaal van deze locatie."), field_name="room_id")
        if data.capacity > room.capacity:
            raise _error(
                "capacity_above_room",
                _("De zaal heeft plaats voor %(n)s mensen.") % {"n": room.capacity},
                field_name="capacity",
            )
    data.rrule = recurrence.normalise(data.rrule)
    data.exdates = recurrence.parse_exdates(data.exdates)
    sessions = recurrence.sessions_of(
        starts_at=data.starts_at, ends_at=data.ends_at, rrule=data.rrule, exdates=data.exdates
    )
    if not sessions:
        raise _error(
            "no_sessions", _("Alle bijeenkomsten zijn uitgezonderd."), field_name="exdates"
        )
    wanted = set(data.work_ids or [])
    if wanted:
        from bieb.catalog.models import Work

        if Work.objects.filter(pk__in=wanted).count() != len(wanted):
            raise _error(
                "work_unknown", _("Kies titels die in de catalogus staan."), field_name="work_ids"
            )
    partner_ids = set(data.partner_ids or [])
    if partner_ids and Partner.objects.filter(
        pk__in=partner_ids, organisation_id=organisation_id
    ).count() != len(partner_ids):
        raise _error(
            "partner_unknown",
            _("Kies partners van je eigen organisatie."),
            field_name="partner_ids",
        )
    return data, sessions


_FIELDS = (
    "kind",
    "title",
    "summary",
    "description",
    "audience",
    "age_min",
    "age_max",
    "language_level",
    "theme",
    "challenge",
    "programme",
    "location_id",
    "room_id",
    "starts_at",
    "ends_at",
    "rrule",
    "exdates",
    "capacity",
    "max_group_size",
    "price_kind",
    "price_cents",
    "credits",
    "pay_at_door",
    "accessibility",
    "offer_hours",
)


def _slug_for(title: str) -> str:
    base = slugify(title)[:160].strip("-") or "activiteit"
    return f"{base}-{secrets.token_hex(3)}"


def activity_create(
    *, organisation: Any, data: ActivityInput, actor: Any, co_organiser: Any = None
) -> Activity:
    """A draft activity of ``organisation``; nothing is written when any field is wrong."""
    data, sessions = _clean_input(data, organisation.pk)
    with transaction.atomic():
        activity = Activity(
            organisation=organisation,
            slug=_slug_for(data.title),
            last_ends_at=sessions[-1].ends_at,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            co_organiser=co_organiser,
            **{name: getattr(data, name) for name in _FIELDS},
        )
        activity.save()
        activity.partners.set(data.partner_ids)
        activity.works.set(data.work_ids)
        audit_record(
            action="programming.activity_create",
            actor=actor,
            subject=activity,
            organisation_id=organisation.pk,
            data={"title": activity.title, "sessions": len(sessions)},
        )
    return activity


def activity_update(*, activity: Activity, data: ActivityInput, actor: Any) -> Activity:
    """Change an activity that is not cancelled. Capacity cannot go below the seats taken;
    more capacity offers the new seats to the waitlist at once. A published activity's room
    is booked again for its (new) sessions."""
    data, sessions = _clean_input(data, activity.organisation_id)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status == ActivityStatus.CANCELLED:
            raise _error("activity_cancelled", _("Deze activiteit is geannuleerd."), status=409)
        if data.capacity < locked.seats_taken:
            raise _error(
                "capacity_below_taken",
                _("Er zijn al %(n)s plaatsen bezet; minder plaatsen kan niet.")
                % {"n": locked.seats_taken},
                field_name="capacity",
                status=409,
            )
        if locked.seats_taken and data.max_group_size < locked.max_group_size:
            pass  # existing groups keep their seats; only new registrations see the limit
        changed = [name for name in _FIELDS if getattr(locked, name) != getattr(data, name)]
        for name in _FIELDS:
            setattr(locked, name, getattr(data, name))
        locked.last_ends_at = sessions[-1].ends_at
        locked.updated_at = clock.now()
        locked.save()
        locked.partners.set(data.partner_ids)
        locked.works.set(data.work_ids)
        if locked.status == ActivityStatus.PUBLISHED and (
            {"starts_at", "ends_at", "rrule", "exdates", "room_id"} & set(changed)
        ):
            _book_rooms(locked, sessions, actor)
        _promote(locked)
        audit_record(
            action="programming.activity_update",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"changed": changed},
        )
    return locked


def _book_rooms(activity: Activity, sessions: list, actor: Any) -> None:
    """Book the activity's room for each session (approved at once: the programmer books
    the library's own room). Another approved booking in the way refuses everything."""
    RoomBooking.objects.filter(activity=activity).exclude(status=BookingStatus.CANCELLED).update(
        status=BookingStatus.CANCELLED, updated_at=clock.now()
    )
    if not activity.room_id:
        return
    now = clock.now()
    decided_by = actor if getattr(actor, "is_authenticated", False) else None
    for session in sessions:
        if session.ends_at < now:
            continue
        try:
            with transaction.atomic():
                RoomBooking.objects.create(
                    room_id=activity.room_id,
                    activity=activity,
                    requested_by=decided_by,
                    title=activity.title[:150],
                    starts_at=session.starts_at,
                    ends_at=session.ends_at,
                    expected_people=max(activity.capacity, 1),
                    status=BookingStatus.APPROVED,
                    decided_by=decided_by,
                    decided_at=now,
                )
        except IntegrityError as exc:
            raise _room_taken(session.starts_at) from exc


def _room_taken(starts_at: dt.datetime) -> DomainError:
    return DomainError(
        "room_taken",
        _("De zaal is op %(when)s al bezet.")
        % {"when": starts_at.astimezone(clock.AMSTERDAM).strftime("%d-%m-%Y %H:%M")},
        status=409,
        details={"field": "room_id"},
    )


def activity_publish(*, activity: Activity, actor: Any) -> Activity:
    """Publish a draft: it appears in the programme and people can register. Its room is
    booked for every session first."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status == ActivityStatus.PUBLISHED:
            return locked
        if locked.status == ActivityStatus.CANCELLED:
            raise _error("activity_cancelled", _("Deze activiteit is geannuleerd."), status=409)
        if locked.last_ends_at < clock.now():
            raise _error("activity_past", _("Deze activiteit is al voorbij."), status=409)
        _book_rooms(locked, recurrence.activity_sessions(locked), actor)
        locked.status = ActivityStatus.PUBLISHED
        locked.published_at = clock.now()
        locked.save(update_fields=["status", "published_at"])
        audit_record(
            action="programming.activity_publish",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
        )
    return locked


def activity_duplicate(
    *, activity: Activity, actor: Any, starts_at: dt.datetime | None = None
) -> Activity:
    """A draft copy of ``activity`` (a past one to run again), moved to ``starts_at`` (by
    default one week after the original's first session, or from now on if that is past)."""
    data = ActivityInput.of(activity)
    if starts_at is None:
        starts_at = activity.starts_at + dt.timedelta(weeks=1)
        while starts_at < clock.now():
            starts_at += dt.timedelta(weeks=1)
    shift = starts_at - activity.starts_at
    data.starts_at = starts_at
    data.ends_at = activity.ends_at + shift
    data.exdates = []
    rule = recurrence.normalise(activity.rrule)
    if "UNTIL=" in rule:  # an end date would now be too early: keep the number of sessions
        count = len(recurrence.activity_sessions(activity)) + len(activity.exdates or [])
        parts = [p for p in rule.split(";") if not p.startswith("UNTIL=")]
        data.rrule = ";".join([*parts, f"COUNT={count}"])
    with transaction.atomic():
        copy = activity_create(organisation=activity.organisation, data=data, actor=actor)
        copy.duplicated_from = activity
        copy.save(update_fields=["duplicated_from"])
    return copy


def activity_cancel(*, activity: Activity, reason: str, actor: Any) -> Activity:
    """Cancel: every live registration ends and is told; credits come back, unpaid invoices
    are voided, paid ones credited; the room bookings are cancelled."""
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise _error(
            "reason_required", _("Geef een reden; die sturen we mee."), field_name="reason"
        )
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status == ActivityStatus.CANCELLED:
            return locked
        locked.status = ActivityStatus.CANCELLED
        locked.cancelled_at = clock.now()
        locked.cancel_reason = reason
        locked.seats_taken = 0
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason", "seats_taken"])
        told = 0
        for registration in (
            Registration.objects.select_for_update(of=("self",))
            .filter(activity=locked, status__in=LIVE_STATUSES)
            .select_related("person")
            .order_by("pk")
        ):
            refunded = _give_back(registration, locked, actor, reason=reason)
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = clock.now()
            registration.offer_expires_at = None
            registration.save(update_fields=["status", "cancelled_at", "offer_expires_at"])
            registration.activity = locked
            notify.tell(registration, "activity_cancelled", refunded=refunded)
            told += 1
        RoomBooking.objects.filter(activity=locked).exclude(status=BookingStatus.CANCELLED).update(
            status=BookingStatus.CANCELLED, updated_at=clock.now()
        )
        audit_record(
            action="programming.activity_cancel",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"reason": reason, "registrations_told": told},
        )
    return locked


# --- registrations -----------------------------------------------------------------------------


def _open_for_registration(activity: Activity) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise _error("activity_cancelled", _("Deze activiteit is geannuleerd."), status=409)
    if activity.status != ActivityStatus.PUBLISHED:
        raise NotFound("activity_not_found", _("Deze activiteit bestaat niet."))
    if activity.capacity == 0:
        raise _error(
            "no_registration",
            _("Voor deze activiteit hoef je je niet aan te melden: loop gewoon binnen."),
            status=409,
        )
    if activity.starts_at <= clock.now():
        raise _error(
            "activity_started",
            _("Aanmelden kan tot het begin van de (eerste) bijeenkomst; die is al begonnen."),
            status=409,
        )


def _check_seats(activity: Activity, seats: Any) -> int:
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 1:
        raise _error("seats_invalid", _("Meld minstens één plaats aan."), field_name="seats")
    if seats > activity.max_group_size:
        raise _error(
            "too_many_seats",
            _("Per aanmelding kun je hoogstens %(max)s plaats(en) aanmelden.")
            % {"max": activity.max_group_size},
            field_name="seats",
        )
    return seats


def _take_seats(activity_id: int, seats: int, *, behind_waitlist: bool = False) -> bool:
    """Take ``seats`` if they are free: one conditional UPDATE, the whole guard. With
    ``behind_waitlist`` only when nobody on the waitlist fits in the free seats (nobody jumps
    the queue; a group too big for them does not hold back a smaller newcomer, as it does
    not on the waitlist: ``_promote``)."""
    queryset = Activity.objects.filter(
        pk=activity_id,
        status=ActivityStatus.PUBLISHED,
        seats_taken__lte=F("capacity") - seats,
    )
    if behind_waitlist:
        queryset = queryset.filter(
            ~Exists(
                Registration.objects.filter(
                    activity_id=OuterRef("pk"),
                    status=RegistrationStatus.WAITLISTED,
                    seats__lte=OuterRef("capacity") - OuterRef("seats_taken"),
                )
            )
        )
    return bool(queryset.update(seats_taken=F("seats_taken") + seats))


def _lock_activity(activity_id: int) -> Activity:
    """The activity row, locked: the first lock of every path that moves seats."""
    return Activity.objects.select_for_update().get(pk=activity_id)


def _free_seats(activity_id: int, seats: int) -> None:
    Activity.objects.filter(pk=activity_id, seats_taken__gte=seats).update(
        seats_taken=F("seats_taken") - seats
    )


def register(
    *,
    activity: Activity,
    person: Any = None,
    email: str = "",
    name: str = "",
    seats: int = 1,
    pay_at_door: bool = False,
    actor: Any = None,
    site_url: str = "",
) -> Registration:
    """Register ``person`` (signed in) or a visitor (``email`` and ``name``) for ``seats``.

    A resident gets a seat at once when one is free and nobody on the waitlist fits in the
    free seats, else a place on the waitlist. A visitor first confirms the e-mail address (a link); the seat is sought then.
    Refusals: ``activity_not_found``, ``activity_cancelled``, ``activity_started``,
    ``no_registration``, ``seats_invalid``, ``too_many_seats``, ``already_registered`` (409),
    ``email_unconfirmed``, ``consent_required``, ``email_invalid``, ``name_required``,
    ``account_needed`` (a paid activity without paying at the door), ``no_credits``."""
    _check_seats(activity, seats)
    if person is not None:
        if not getattr(person, "is_authenticated", False) or not person.is_active:
            raise PermissionDenied("login_required", _("Log eerst in."))
        if person.email_verified_at is None:
            raise _error(
                "email_unconfirmed",
                _(
                    "Bevestig eerst je e-mailadres met de link die we je stuurden; daarna kun je je aanmelden."
                ),
                status=409,
            )
        from bieb.accounts.access import has_guardian_consent

        if not has_guardian_consent(person):
            raise PermissionDenied(
                "consent_required",
                _(
                    "Je ouder of voogd moet eerst toestemming geven. Vraag het via Mijn bibliotheek aan."
                ),
            )
        email, name = "", (person.get_full_name() if hasattr(person, "get_full_name") else "")
    else:
        email = User.objects.normalize_email(email)
        name = " ".join((name or "").split())[:150]
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError as exc:
            raise _error(
                "email_invalid", _("Vul een geldig e-mailadres in."), field_name="email"
            ) from exc
        if not name:
            raise _error("name_required", _("Vul je naam in."), field_name="name")
        if activity.price_kind != PriceKind.FREE and not activity.pay_at_door:
            raise _error(
                "account_needed",
                _(
                    "Voor deze activiteit betaal je online of met tegoed: log in of maak een gratis account."
                ),
                status=409,
            )
    if pay_at_door and not activity.pay_at_door:
        raise _error(
            "pay_at_door_not_allowed", _("Betalen aan de deur kan bij deze activiteit niet.")
        )
    offers_expire(activity=activity)  # its own transaction: a refusal keeps it
    try:
        with transaction.atomic():
            registration = _register(
                activity, person, email, name, seats, pay_at_door, actor, site_url
            )
    except IntegrityError as exc:  # the same person or address at the same moment
        raise _already() from exc
    return registration


def _register(activity, person, email, name, seats, pay_at_door, actor, site_url) -> Registration:
    """The writing part of ``register``, inside its transaction."""
    fresh = Activity.objects.get(pk=activity.pk)
    _open_for_registration(fresh)
    if person is not None:
        if fresh.price_kind == PriceKind.CREDITS:
            # one credit-using registration at a time per person: credits stay exact
            User.objects.select_for_update().filter(pk=person.pk).first()
        if Registration.objects.filter(
            activity_id=fresh.pk, person_id=person.pk, status__in=LIVE_STATUSES
        ).exists():
            raise _already()
    elif Registration.objects.filter(
        activity_id=fresh.pk,
        person__isnull=True,
        email__iexact=email,
        status__in=LIVE_STATUSES,
    ).exists():
        raise _already()
    registration = Registration(
        activity=fresh,
        person=person,
        email=email,
        name=name,
        seats=seats,
        token=_token(),
        birth_year=(
            person.birth_date.year
            if person is not None and person.birth_date
            else getattr(person, "birth_year", None)
        ),
        payment=PaymentState.AT_DOOR if pay_at_door else "",
    )
    if person is None:
        # under the lock: a cancellation of the activity at this moment sees this row
        _open_for_registration(_lock_activity(fresh.pk))
        registration.status = RegistrationStatus.UNCONFIRMED
        registration.offer_expires_at = min(
            clock.now() + dt.timedelta(hours=EMAIL_CONFIRM_HOURS), fresh.starts_at
        )
    elif _take_seats(fresh.pk, seats, behind_waitlist=True) or _seat_after_lock(fresh.pk, seats):
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = clock.now()
    else:
        registration.status = RegistrationStatus.WAITLISTED
    registration.save()  # the unique constraints refuse a second live one (IntegrityError)
    if registration.status == RegistrationStatus.CONFIRMED:
        _settle(registration, fresh, actor or person, pay_at_door=pay_at_door)
    audit_record(
        action="programming.register",
        actor=actor or person,
        subject=registration,
        organisation_id=fresh.organisation_id,
        data={"activity": fresh.pk, "seats": seats, "status": registration.status},
    )
    template = {
        RegistrationStatus.UNCONFIRMED: "confirm_email",
        RegistrationStatus.CONFIRMED: "confirmed",
        RegistrationStatus.WAITLISTED: "waitlisted",
    }[registration.status]
    notify.tell(registration, template, site_url=site_url, hours=EMAIL_CONFIRM_HOURS)
    return registration


def _seat_after_lock(activity_id: int, seats: int) -> bool:
    """No seat at the first try: lock the activity and ask again before the waitlist. So a
    cancellation of the activity at this moment sees the new row (it waits for the lock, or
    this refuses ``activity_cancelled``), and on PostgreSQL an UPDATE that waited for the row
    and then read the waitlist as it was before does not leave free seats idle."""
    _open_for_registration(_lock_activity(activity_id))
    return _take_seats(activity_id, seats, behind_waitlist=True)


def _already() -> DomainError:
    return _error("already_registered", _("Je bent al aangemeld voor deze activiteit."), status=409)


def _settle(
    registration: Registration, activity: Activity, actor: Any, *, pay_at_door: bool
) -> None:
    """What a seat costs, decided when the registration gets it: nothing, credits, an
    online payment (an invoice; the seat waits ``PAYMENT_HOLD`` for it) or at the door.
    Refuses ``no_credits`` (the whole registration rolls back)."""
    if activity.price_kind == PriceKind.FREE:
        if registration.payment != PaymentState.NONE:
            registration.payment = PaymentState.NONE
            registration.save(update_fields=["payment"])
        return
    person = registration.person
    if activity.price_kind == PriceKind.CREDITS and person is not None:
        from bieb.subscriptions import selectors as subscription_selectors
        from bieb.subscriptions import services as subscription_services

        needed = activity.credits * registration.seats
        usage = subscription_selectors.usage_of(person)
        left = next((m.left for m in usage.meters if m.meter == "activity_credits"), 0) or 0
        if left >= needed:
            subscription_services.usage_record(
                person=person,
                meter="activity_credits",
                organisation_id=activity.organisation_id,
                amount=needed,
            )
            registration.payment = PaymentState.CREDITS
            registration.credits_used = needed
            registration.save(update_fields=["payment", "credits_used"])
            return
        if activity.price_cents <= 0:
            raise _error(
                "no_credits",
                _(
                    "Je hebt deze maand niet genoeg activiteitentegoed (nog %(left)s, nodig %(needed)s)."
                )
                % {"left": left, "needed": needed},
                status=409,
            )
    if pay_at_door or person is None:
        if not activity.pay_at_door:
            raise _error(
                "account_needed",
                _("Voor deze activiteit betaal je online: log in of maak een gratis account."),
                status=409,
            )
        registration.payment = PaymentState.AT_DOOR
        registration.save(update_fields=["payment"])
        return
    from bieb.subscriptions import invoicing
    from bieb.subscriptions.models import LineKind

    with translation.override("nl"):
        first = activity.starts_at.astimezone(clock.AMSTERDAM)
        description = _("%(title)s op %(day)s, %(seats)s plaats(en)") % {
            "title": activity.title[:120],
            "day": first.strftime("%d-%m-%Y"),
            "seats": registration.seats,
        }
    invoice = invoicing.invoice_create(
        person=person,
        organisation_id=activity.organisation_id,
        lines=[
            invoicing.NewLine(
                LineKind.ACTIVITY,
                description,
                activity.price_cents * registration.seats,
                activity.vat_rate_bp,
                first_day=first.date(),
                last_day=activity.last_ends_at.astimezone(clock.AMSTERDAM).date(),
            )
        ],
        source_key=f"programming.registration:{registration.pk}",
        actor=actor,
    )
    registration.payment = PaymentState.ONLINE
    registration.invoice = invoice
    registration.offer_expires_at = min(clock.now() + PAYMENT_HOLD, activity.starts_at)
    registration.save(update_fields=["payment", "invoice", "offer_expires_at"])


def _give_back(
    registration: Registration, activity: Activity, actor: Any, *, reason: str, refund: bool = True
) -> bool:
    """Return what a registration that ends had used: credits (to the usage period they were
    used in), and its invoice (``_invoice_give_back``). Without ``refund`` (a place used: the
    activity had started) only an invoice with nothing paid on it is voided. Whether anything
    was given back."""
    given = False
    if registration.credits_used and registration.person_id and refund:
        from bieb.subscriptions import services as subscription_services

        subscription_services.usage_record(
            person=registration.person,
            meter="activity_credits",
            organisation_id=activity.organisation_id,
            amount=-registration.credits_used,
            day=registration.confirmed_at.astimezone(clock.AMSTERDAM).date()
            if registration.confirmed_at
            else None,
        )
        registration.credits_used = 0
        registration.save(update_fields=["credits_used"])
        given = True
    if registration.invoice_id:
        given = (
            _invoice_give_back(registration.invoice_id, activity, actor, reason, refund=refund)
            or given
        )
    return given


def _invoice_give_back(
    invoice_id: int, activity: Activity, actor: Any, reason: str, *, refund: bool = True
) -> bool:
    """Settle the invoice of a registration that ended, exactly once: void it when nothing
    was paid on it; otherwise (with ``refund``) credit what is not credited yet, so whatever
    was paid comes back as credit on the account and nothing stays owed (a credit note is
    applied to the rest of its own invoice first). While a payment is under way nothing can
    be decided: the round does it once the provider has answered (``ended_invoices_settle``).
    Whether anything was given back now."""
    from bieb.subscriptions import invoicing, payments
    from bieb.subscriptions.models import Invoice, InvoiceLine, InvoiceStatus, LineKind

    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
        return False  # voided already (or written off: nothing was paid to give back)
    if payments.under_way([invoice.pk]):
        return False
    credited = sum(
        InvoiceLine.objects.filter(invoice__corrects=invoice, kind=LineKind.CORRECTION).values_list(
            "amount_cents", flat=True
        )
    )
    with translation.override("nl"):
        text = _("Aanmelding voor %(title)s vervallen: %(reason)s") % {
            "title": activity.title[:100],
            "reason": reason[:80],
        }
    if invoice.status == InvoiceStatus.OPEN and not invoice.settled_cents and not credited:
        invoicing.invoice_void(invoice, reason=text[:200], actor=actor)
        return True
    amount = invoice.total_cents - credited
    if amount <= 0 or not refund:
        return False
    invoicing.invoice_credit(invoice, amount_cents=amount, reason=text[:200], actor=actor)
    return True


def ended_invoices_settle(*, limit: int = 500) -> int:
    """Settle the invoices of registrations that ended while a payment was under way
    (cancelled by the person or the library at that moment): credited once paid, voided
    once the payment failed. Run by the round; returns how many were settled."""
    from bieb.subscriptions.models import Invoice, InvoiceStatus

    corrected = Invoice.objects.filter(corrects=OuterRef("invoice_id"))
    # as when it ended: money back for a place that expired, was given up before the start,
    # or whose activity the library cancelled (``registration_cancel``)
    refund_due = (
        Q(status=RegistrationStatus.EXPIRED)
        | Q(activity__status=ActivityStatus.CANCELLED)
        | Q(cancelled_at__lt=F("activity__starts_at"))
    )
    pending = (
        Registration.objects.filter(
            status__in=(RegistrationStatus.CANCELLED, RegistrationStatus.EXPIRED),
            invoice__isnull=False,
        )
        .filter(
            Q(invoice__status=InvoiceStatus.OPEN)
            | Q(invoice__status=InvoiceStatus.PAID) & ~Exists(corrected) & refund_due
        )
        .annotate(refund=ExpressionWrapper(refund_due, output_field=BooleanField()))
        .select_related("activity")
        .order_by("pk")[:limit]
    )
    settled = 0
    for registration in pending:
        with transaction.atomic():
            if _invoice_give_back(
                registration.invoice_id,
                registration.activity,
                None,
                reason=_("afgemeld"),
                refund=registration.refund,
            ):
                settled += 1
    return settled


def _free_and_promote(registration: Registration, activity_id: int) -> None:
    if registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED):
        _free_seats(activity_id, registration.seats)


def _promote(activity: Activity) -> list[Registration]:
    """Offer free seats to the waitlist in order (a group that does not fit waits for more;
    a smaller one behind it may go first). Call inside a transaction."""
    offered = []
    fresh = _lock_activity(activity.pk)
    if fresh.status != ActivityStatus.PUBLISHED or fresh.starts_at <= clock.now():
        return offered
    left = fresh.capacity - fresh.seats_taken
    if left <= 0:
        return offered
    now = clock.now()
    for registration in (
        Registration.objects.select_for_update(of=("self",))
        .filter(activity_id=fresh.pk, status=RegistrationStatus.WAITLISTED)
        .select_related("person")
        .order_by("pk")
    ):
        if registration.seats > left:
            continue
        if not _take_seats(fresh.pk, registration.seats):
            break
        left -= registration.seats
        registration.status = RegistrationStatus.OFFERED
        registration.offer_expires_at = min(
            now + dt.timedelta(hours=fresh.offer_hours), fresh.starts_at
        )
        registration.save(update_fields=["status", "offer_expires_at"])
        registration.activity = fresh
        audit_record(
            action="programming.offer",
            subject=registration,
            organisation_id=fresh.organisation_id,
            data={"seats": registration.seats, "until": registration.offer_expires_at.isoformat()},
        )
        notify.tell(registration, "offered")
        offered.append(registration)
        if left <= 0:
            break
    return offered


def registration_cancel(
    *, registration: Registration, actor: Any = None, reason: str = ""
) -> Registration:
    """Cancel a live registration (the person, a visitor by their link, or staff). Seats
    held go at once to the first on the waitlist; credits and money come back when it is
    cancelled before the (first) session starts. Later (a course left half-way) the place was
    used: nothing comes back but an invoice with nothing paid on it, which is voided. Once
    the activity is over it is refused (``activity_over``): what took place stays."""
    with transaction.atomic():
        activity = _lock_activity(registration.activity_id)
        locked = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("person")
            .get(pk=registration.pk)
        )
        locked.activity = activity
        if locked.status not in LIVE_STATUSES:
            raise _error(
                "registration_not_live",
                _("Deze aanmelding is al afgemeld of verlopen."),
                status=409,
            )
        if activity.last_ends_at <= clock.now():
            raise _error(
                "activity_over",
                _("Deze activiteit is al voorbij; afmelden kan niet meer."),
                status=409,
            )
        _free_and_promote(locked, activity.pk)
        _give_back(
            locked,
            activity,
            actor,
            reason=reason or _("afgemeld"),
            refund=clock.now() < activity.starts_at,
        )
        locked.status = RegistrationStatus.CANCELLED
        locked.cancelled_at = clock.now()
        locked.offer_expires_at = None
        locked.save(update_fields=["status", "cancelled_at", "offer_expires_at"])
        audit_record(
            action="programming.registration_cancel",
            actor=actor,
            subject=locked,
            organisation_id=activity.organisation_id,
            data={"seats": locked.seats, "reason": reason[:200]},
        )
        notify.tell(locked, "cancelled", reason=reason)
        _promote(activity)
    return locked


def registration_confirm_email(*, token: str, site_url: str = "") -> Registration:
    """A visitor confirms their e-mail address with the link: the seat is sought now (or
    the waitlist). Confirming twice answers the registration as it is."""
    stale = Registration.objects.filter(token=token).select_related("activity").first()
    if stale is not None:  # end what waited too long first, in its own transaction
        offers_expire(activity=stale.activity)
    with transaction.atomic():
        if stale is not None:
            _lock_activity(stale.activity_id)
        registration = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("activity")
            .filter(token=token)
            .first()
        )
        if registration is None:
            raise NotFound("registration_not_found", _("Deze aanmelding bestaat niet."))
        if registration.status != RegistrationStatus.UNCONFIRMED:
            if registration.status in LIVE_STATUSES:
                return registration
            raise _error(
                "registration_not_live", _("Deze aanmelding is verlopen of afgemeld."), status=409
            )
        activity = registration.activity
        _open_for_registration(_lock_activity(activity.pk))
        registration.offer_expires_at = None
        if _take_seats(activity.pk, registration.seats, behind_waitlist=True):
            registration.status = RegistrationStatus.CONFIRMED
            registration.confirmed_at = clock.now()
        else:
            registration.status = RegistrationStatus.WAITLISTED
        registration.save(update_fields=["status", "confirmed_at", "offer_expires_at"])
        if registration.status == RegistrationStatus.CONFIRMED:
            _settle(registration, activity, None, pay_at_door=activity.price_kind != PriceKind.FREE)
        audit_record(
            action="programming.registration_confirm_email",
            subject=registration,
            organisation_id=activity.organisation_id,
            data={"status": registration.status},
        )
        notify.tell(
            registration,
            "confirmed" if registration.status == RegistrationStatus.CONFIRMED else "waitlisted",
            site_url=site_url,
        )
    return registration


def offer_accept(
    *, registration: Registration, actor: Any = None, pay_at_door: bool = False
) -> Registration:
    """Take the seat offered from the waitlist (before ``offer_expires_at``)."""
    # what waited too long ends first, in its own transaction (a refusal below must not
    # roll it back)
    offers_expire(activity=registration.activity)
    with transaction.atomic():
        if registration.person_id:
            # one credit-using change at a time per person (as ``register``): credits stay exact
            User.objects.select_for_update().filter(pk=registration.person_id).first()
        _lock_activity(registration.activity_id)
        locked = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("activity", "person")
            .get(pk=registration.pk)
        )
        if locked.status == RegistrationStatus.CONFIRMED:
            return locked
        if locked.status == RegistrationStatus.EXPIRED:
            raise _error(
                "offer_expired",
                _("Je hebt de plaats niet op tijd aangenomen; hij is naar de volgende gegaan."),
                status=409,
            )
        if locked.status != RegistrationStatus.OFFERED:
            raise _error("no_offer", _("Er staat geen plaats voor je klaar."), status=409)
        if locked.offer_expires_at <= clock.now():  # ran out just now: the round ends it
            raise _error(
                "offer_expired",
                _("Je hebt de plaats niet op tijd aangenomen; hij is naar de volgende gegaan."),
                status=409,
            )
        locked.status = RegistrationStatus.CONFIRMED
        locked.confirmed_at = clock.now()
        locked.offer_expires_at = None
        locked.save(update_fields=["status", "confirmed_at", "offer_expires_at"])
        _settle(
            locked,
            locked.activity,
            actor or locked.person,
            pay_at_door=pay_at_door or locked.payment == PaymentState.AT_DOOR,
        )
        audit_record(
            action="programming.offer_accept",
            actor=actor or locked.person,
            subject=locked,
            organisation_id=locked.activity.organisation_id,
        )
        notify.tell(locked, "confirmed")
    return locked


def offers_expire(*, activity: Activity | None = None, now: dt.datetime | None = None) -> int:
    """End what waited too long (offers not taken, visitors' unconfirmed e-mail addresses,
    online payments not made) and offer the seats to the next. Returns how many ended."""
    now = now or clock.now()
    stale = (
        Q(status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
        | Q(status=RegistrationStatus.UNCONFIRMED, offer_expires_at__lte=now)
        | Q(
            status=RegistrationStatus.CONFIRMED,
            payment=PaymentState.ONLINE,
            offer_expires_at__lte=now,
        )
    )
    queryset = Registration.objects.filter(stale)
    if activity is not None:
        queryset = queryset.filter(activity_id=activity.pk)
    # the usual case, nothing waited too long, costs one index read and no lock
    stale_ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:1000])
    if not stale_ids:
        return 0
    activity_ids = sorted(
        set(Registration.objects.filter(pk__in=stale_ids).values_list("activity_id", flat=True))
    )
    # one activity per transaction: the activity row first, then its registrations (the
    # module's lock order), and no lock of one activity is held while waiting for another's
    return sum(_expire_stale(activity_id, stale, stale_ids) for activity_id in activity_ids)


def _expire_stale(activity_id: int, stale: Q, stale_ids: list[int]) -> int:
    from bieb.subscriptions import payments
    from bieb.subscriptions.models import Invoice, InvoiceStatus

    ended = 0
    with transaction.atomic():
        locked_activity = _lock_activity(activity_id)
        for registration in (
            Registration.objects.filter(stale, pk__in=stale_ids, activity_id=activity_id)
            .select_for_update(of=("self",))
            .select_related("person")
            .order_by("pk")
        ):
            registration.activity = locked_activity
            if (
                registration.payment == PaymentState.ONLINE
                and registration.status == RegistrationStatus.CONFIRMED
            ):
                # the invoice locked before asking whether a payment is under way: a payment
                # started at this moment waits, then finds the invoice voided (nothing to pay)
                invoice = (
                    Invoice.objects.select_for_update().filter(pk=registration.invoice_id).first()
                )
                if invoice is None or invoice.status == InvoiceStatus.PAID:
                    registration.offer_expires_at = None
                    registration.save(update_fields=["offer_expires_at"])
                    continue
                if payments.under_way([invoice.pk]):
                    continue  # the provider has not answered yet: wait for it
            _free_and_promote(registration, activity_id)
            _give_back(registration, locked_activity, None, reason=_("niet op tijd bevestigd"))
            registration.status = RegistrationStatus.EXPIRED
            registration.save(update_fields=["status"])
            audit_record(
                action="programming.registration_expire",
                subject=registration,
                organisation_id=locked_activity.organisation_id,
            )
            ended += 1
        if ended:
            _promote(locked_activity)
    return ended


def payment_settled(*, registration: Registration) -> Registration:
    """The invoice of an online payment was paid: the seat no longer waits for it."""
    with transaction.atomic():
        locked = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("invoice")
            .get(pk=registration.pk)
        )
        if (
            locked.invoice is not None
            and locked.invoice.status == "paid"
            and locked.offer_expires_at
        ):
            locked.offer_expires_at = None
            locked.save(update_fields=["offer_expires_at"])
    return locked


# --- at the door -------------------------------------------------------------------------------


def session_at(activity: Activity, moment: dt.datetime | None = None):
    """The session to check in for at ``moment``: the one under way, or the next one that
    starts within a few hours, or the last one that ended within ``CHECK_IN_WINDOW``."""
    moment = moment or clock.now()
    near = [
        session
        for session in recurrence.activity_sessions(activity)
        if session.starts_at - dt.timedelta(hours=3) <= moment <= session.ends_at + CHECK_IN_WINDOW
    ]
    # in that order: a long day's late window may reach the next morning's early one
    coming = [session for session in near if moment <= session.ends_at]
    if coming:
        return coming[0]
    return near[-1] if near else None


#: how many digits the door code of a registration has
DOOR_CODE_DIGITS = 8


def door_code(token: str) -> str:
    """The code a person can read out (or type) at the door when the QR code will not scan:
    eight digits derived from the registration's secret token. It is not the token: it opens
    nothing, and it identifies a registration only among the seats of one activity, where
    the door page looks it up (``registration_by_door_code``)."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**DOOR_CODE_DIGITS:0{DOOR_CODE_DIGITS}d}"


def registration_by_door_code(activity: Activity, code: str) -> Registration | None:
    """The activity's registration with a seat whose door code is ``code``; None when there
    is none, or (very rarely) more than one: then the list is the way."""
    found = [
        registration
        for registration in Registration.objects.filter(
            activity=activity, status=RegistrationStatus.CONFIRMED
        ).select_related("person", "activity")
        if door_code(registration.token) == code
    ]
    return found[0] if len(found) == 1 else None


def check_in(
    *,
    activity: Activity,
    token: str = "",
    code: str = "",
    registration: Registration | None = None,
    actor: Any,
    method: str = AttendanceMethod.SCAN,
    present: int | None = None,
    session_start: dt.datetime | None = None,
) -> tuple[Attendance, bool]:
    """Record that a registration is present at a session (by its QR code's token, by the
    eight-digit door ``code``, or from the list). Scanning twice answers the first check-in
    (``created`` False). Refusals: ``registration_not_found``, ``wrong_activity``,
    ``not_confirmed``, ``no_session_now``, ``present_invalid``."""
    if registration is None and code:
        registration = registration_by_door_code(activity, code)
        if registration is None:
            raise NotFound(
                "registration_not_found",
                _("Deze code hoort bij geen aanmelding voor deze activiteit."),
            )
    if registration is None:
        token = (token or "").strip()
        token = token.split("?", 1)[0].split("#", 1)[0]
        if "/" in token:  # a scanned QR code holds the whole link
            token = token.rstrip("/").rsplit("/", 1)[-1]
        registration = (
            Registration.objects.select_related("activity").filter(token=token).first()
            if token
            else None
        )
        if registration is None:
            raise NotFound(
                "registration_not_found", _("Deze code hoort bij geen enkele aanmelding.")
            )
    if registration.activity_id != activity.pk:
        if registration.activity.organisation_id == activity.organisation_id:
            message = _("Deze aanmelding is voor een andere activiteit: %(title)s.") % {
                "title": registration.activity.title
            }
        else:  # another library's: say nothing about it
            message = _("Deze aanmelding is voor een andere activiteit.")
        raise _error("wrong_activity", message, status=409)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise _error(
            "not_confirmed",
            _("Deze aanmelding heeft geen plaats (%(status)s).")
            % {"status": registration.get_status_display()},
            status=409,
        )
    if session_start is None:
        session = session_at(activity)
        if session is None:
            raise _error(
                "no_session_now", _("Er is nu geen bijeenkomst van deze activiteit."), status=409
            )
        session_start = session.starts_at
    elif session_start not in {s.starts_at for s in recurrence.activity_sessions(activity)}:
        raise _error("session_unknown", _("Deze activiteit heeft op dat moment geen bijeenkomst."))
    present = registration.seats if present is None else present
    if not isinstance(present, int) or not 1 <= present <= registration.seats:
        raise _error(
            "present_invalid",
            _("Er kunnen 1 tot %(n)s mensen van deze aanmelding binnenkomen.")
            % {"n": registration.seats},
            field_name="present",
        )
    with transaction.atomic():
        existing = Attendance.objects.filter(
            registration=registration, session_start=session_start
        ).first()
        if existing is not None:
            existing.registration = registration  # the same row, already loaded
            return existing, False
        try:
            with transaction.atomic():
                attendance = Attendance.objects.create(
                    registration=registration,
                    session_start=session_start,
                    method=method,
                    present=present,
                    checked_in_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:
            return Attendance.objects.get(
                registration=registration, session_start=session_start
            ), False
        audit_record(
            action="programming.check_in",
            actor=actor,
            subject=registration,
            organisation_id=activity.organisation_id,
            data={"session": session_start.isoformat(), "present": present, "method": method},
        )
    return attendance, True


def check_in_undo(*, attendance: Attendance, actor: Any) -> None:
    """Take back a check-in made by mistake."""
    with transaction.atomic():
        registration = attendance.registration
        audit_record(
            action="programming.check_in_undo",
            actor=actor,
            subject=registration,
            organisation_id=registration.activity.organisation_id,
            data={"session": attendance.session_start.isoformat()},
        )
        attendance.delete()


# --- reminders ---------------------------------------------------------------------------------


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind everyone with a seat whose first session starts within ``REMINDER_BEFORE``
    (once per registration). Returns how many were sent."""
    now = now or clock.now()
    sent = 0
    with transaction.atomic():
        due = (
            Registration.objects.select_for_update(of=("self",))
            .filter(
                status=RegistrationStatus.CONFIRMED,
                reminded_at__isnull=True,
                activity__status=ActivityStatus.PUBLISHED,
                activity__starts_at__gt=now,
                activity__starts_at__lte=now + REMINDER_BEFORE,
            )
            .select_related("activity__location", "person")
            .order_by("pk")
        )
        for registration in due:
            registration.reminded_at = now
            registration.save(update_fields=["reminded_at"])
            notify.tell(
                registration,
                "reminder",
                session_start=registration.activity.starts_at.astimezone(clock.AMSTERDAM),
            )
            sent += 1
    return sent


# --- rooms -------------------------------------------------------------------------------------


def room_booking_request(
    *,
    room: Room,
    person: Any,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    expected_people: int = 1,
    is_public: bool = False,
    description: str = "",
    partner: Partner | None = None,
) -> RoomBooking:
    """A resident, partner or staff member asks to use a room; staff of the location's
    organisation decide (``room_booking_decide``). Refused at once when an approved booking
    is in the way (``room_taken``)."""
    title = " ".join((title or "").split())[:150]
    if not title:
        raise _error("title_required", _("Waarvoor wil je de zaal gebruiken?"), field_name="title")
    if starts_at is None or ends_at is None:
        raise _error("time_invalid", _("Geef een begin- en eindtijd."), field_name="starts_at")
    if ends_at <= starts_at:
        raise _error(
            "ends_before_start", _("Het einde moet na het begin liggen."), field_name="ends_at"
        )
    if starts_at < clock.now():
        raise _error(
            "booking_past",
            _("Een zaal reserveer je voor later, niet voor het verleden."),
            field_name="starts_at",
        )
    if ends_at - starts_at > dt.timedelta(hours=16):
        raise _error(
            "booking_too_long", _("Een reservering duurt hoogstens 16 uur."), field_name="ends_at"
        )
    if not room.is_active:
        raise NotFound("room_not_found", _("Deze zaal bestaat niet."))
    from bieb.accounts.access import organisations_with_role

    is_staff_here = room.location.organisation_id in organisations_with_role(person)
    if not room.bookable_by_public and not is_staff_here:
        raise PermissionDenied(
            "room_not_public", _("Deze zaal kunnen alleen medewerkers reserveren.")
        )
    if not isinstance(expected_people, int) or expected_people < 1:
        raise _error(
            "people_invalid", _("Met hoeveel mensen kom je?"), field_name="expected_people"
        )
    if expected_people > room.capacity:
        raise _error(
            "room_too_small",
            _("Deze zaal heeft plaats voor %(n)s mensen.") % {"n": room.capacity},
            field_name="expected_people",
        )
    if partner is not None and partner.organisation_id != room.location.organisation_id:
        raise _error("partner_unknown", _("Deze partner hoort niet bij deze bibliotheek."))
    with transaction.atomic():
        if _overlapping(room.pk, starts_at, ends_at).exists():
            raise _room_taken(starts_at)
        booking = RoomBooking.objects.create(
            room=room,
            requested_by=person,
            partner=partner,
            title=title,
            description=(description or "")[:2000],
            is_public=bool(is_public),
            expected_people=expected_people,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        audit_record(
            action="programming.room_request",
            actor=person,
            subject=booking,
            organisation_id=room.location.organisation_id,
            data={
                "room": room.pk,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
    return booking


def _overlapping(
    room_id: int, starts_at: dt.datetime, ends_at: dt.datetime, exclude: int | None = None
):
    queryset = RoomBooking.objects.filter(
        room_id=room_id,
        status=BookingStatus.APPROVED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    return queryset.exclude(pk=exclude) if exclude else queryset


def room_booking_decide(
    *, booking: RoomBooking, approve: bool, actor: Any, note: str = ""
) -> RoomBooking:
    """Approve or reject a request. Two approvals that overlap: the database lets one
    through and the other is refused with ``room_taken``."""
    with transaction.atomic():
        locked = (
            RoomBooking.objects.select_for_update(of=("self",))
            .select_related("room__location")
            .get(pk=booking.pk)
        )
        if locked.status != BookingStatus.REQUESTED:
            raise _error("booking_decided", _("Over deze aanvraag is al besloten."), status=409)
        if approve and locked.ends_at <= clock.now():
            raise _error(
                "booking_past", _("Deze aanvraag is voor een tijd die al voorbij is."), status=409
            )
        locked.status = BookingStatus.APPROVED if approve else BookingStatus.REJECTED
        locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.decided_at = clock.now()
        locked.decision_note = (note or "")[:300]
        locked.updated_at = clock.now()
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as exc:
            raise _room_taken(locked.starts_at) from exc
        audit_record(
            action="programming.room_approve" if approve else "programming.room_reject",
            actor=actor,
            subject=locked,
            organisation_id=locked.room.location.organisation_id,
            data={"note": locked.decision_note},
        )
        notify.tell_booking(locked, "booking_approved" if approve else "booking_rejected")
    return locked


def room_booking_cancel(*, booking: RoomBooking, actor: Any) -> RoomBooking:
    with transaction.atomic():
        locked = (
            RoomBooking.objects.select_for_update(of=("self",))
            .select_related("room__location")
            .get(pk=booking.pk)
        )
        if locked.status in (BookingStatus.CANCELLED, BookingStatus.REJECTED):
            return locked
        if locked.activity_id:
            raise _error(
                "booking_of_activity",
                _("Deze reservering hoort bij een activiteit; wijzig of annuleer de activiteit."),
                status=409,
            )
        locked.status = BookingStatus.CANCELLED
        locked.updated_at = clock.now()
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            action="programming.room_cancel",
            actor=actor,
            subject=locked,
            organisation_id=locked.room.location.organisation_id,
        )
    return locked


def room_create(
    *,
    location: Any,
    name: str,
    capacity: int,
    actor: Any,
    is_stage: bool = False,
    facilities: str = "",
    bookable_by_public: bool = True,
) -> Room:
    name = " ".join((name or "").split())[:100]
    if not name:
        raise _error("name_required", _("Geef de zaal een naam."), field_name="name")
    if not isinstance(capacity, int) or capacity < 1:
        raise _error(
            "capacity_invalid",
            _("Een zaal heeft plaats voor minstens één persoon."),
            field_name="capacity",
        )
    try:
        with transaction.atomic():
            room = Room.objects.create(
                location=location,
                name=name,
                capacity=capacity,
                is_stage=is_stage,
                facilities=(facilities or "")[:300],
                bookable_by_public=bookable_by_public,
            )
            audit_record(
                action="programming.room_create",
                actor=actor,
                subject=room,
                organisation_id=location.organisation_id,
                data={"name": name, "capacity": capacity},
            )
    except IntegrityError as exc:
        raise _error(
            "room_exists", _("Deze locatie heeft al een zaal met die naam."), status=409
        ) from exc
    return room


def partner_create(
    *, organisation: Any, name: str, kind: str, actor: Any, website: str = "", email: str = ""
) -> Partner:
    from bieb.programming.models import PartnerKind

    name = " ".join((name or "").split())[:150]
    if not name:
        raise _error("name_required", _("Geef de partner een naam."), field_name="name")
    _choice(kind, PartnerKind, "kind_invalid", "kind")
    try:
        with transaction.atomic():
            partner = Partner.objects.create(
                organisation=organisation, name=name, kind=kind, website=website, email=email
            )
            audit_record(
                action="programming.partner_create",
                actor=actor,
                subject=partner,
                organisation_id=organisation.pk,
                data={"name": name},
            )
    except IntegrityError as exc:
        raise _error("partner_exists", _("Deze partner bestaat al."), status=409) from exc
    return partner


# --- the personal feed -------------------------------------------------------------------------


def calendar_feed_for(*, person: Any, reset: bool = False) -> CalendarFeed:
    """The person's secret feed address; ``reset`` makes a new one (the old stops working)."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(person_id=person.pk).first()
        if feed is None:
            feed = CalendarFeed.objects.create(person_id=person.pk, token=_token())
        elif reset:
            feed.token = _token()
            feed.created_at = clock.now()
            feed.save(update_fields=["token", "created_at"])
            audit_record(action="programming.feed_reset", actor=person, subject=feed)
    return feed
