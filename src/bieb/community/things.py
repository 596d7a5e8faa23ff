"""The library of things: the library's own projector, sewing machine, 3D printer and drill.

A thing is a catalogue ``Item`` whose edition has format "thing". ``ThingSettings`` says how
it is lent (defaults when the library set nothing: one buffer day, no deposit, at most seven
days). Residents book it for days; the desk lends it through circulation like any copy.

Rules:
- **Booking**: from today, at most ``BOOK_AHEAD_DAYS`` ahead, at most ``max_days`` days. The
  thing is blocked from ``first_day`` through ``blocked_until`` = ``last_day`` +
  ``buffer_days`` (checking and cleaning); the next booking may start the day after. Two
  live bookings (booked or lent) of one thing never overlap: the database refuses it
  (migration 0002: an exclusion constraint on PostgreSQL, triggers on SQLite) and the
  refusal is ``thing_taken`` (409). A thing withdrawn, missing or in repair is not bookable
  (``thing_out_of_service``).
- **Subscription**: the plan's ``things_at_once`` (``subscriptions.selectors
  .entitlements_for``, today's plan) limits a person's live bookings — booked and not yet
  over, or lent (``things_limit``). A person without a subscription (or a day pass) is
  refused with ``no_subscription``; a subscription switched off with
  ``subscription_switched_off``; a plan without things with ``plan_excludes_things``.
  A library card is needed (``no_card``), as for every loan; under 16 a guardian's consent
  (``consent_required``), as for holds.
- **Deposit**: when the thing has a deposit (``deposit_cents`` > 0) the amount is recorded
  on the booking when it is made (a later change of the setting does not change it). It is
  paid at the desk when the thing is lent — not online: the desk confirms it
  (``deposit_received``, else ``deposit_required``) — and given back at the desk on return;
  both are in the audit rows (``community.thing_lend`` / ``community.thing_return``).
- **Lending and returning** go through ``circulation.services.checkout`` and ``checkin``
  at a location of the thing's organisation (``thing_wrong_location``), so the loan, its
  limits, the plan and the copy's status are circulation's as for any item. The booking
  links the loan and keeps the condition notes of both moments.
- **Repair**: a return with ``needs_repair`` (or ``thing_repair`` for a thing on the shelf)
  puts the copy in repair (``catalog.services.item_set_status``), cancels its bookings that
  are not over and mails their people; ``thing_repaired`` puts it back on the shelf.
  A copy must be on the shelf where it is taken in to go to repair (``thing_repair_at_home``).

Staff: desk, collection staff and managers of the thing's organisation (``THING_STAFF``);
staff of another organisation get 404.

Locks, in one order: the booking, the person, the copy (then circulation's own). A booking
locks the person (the limit) and the copy (its status), so a repair and a booking cannot
cross: the one waits for the other.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.accounts.access import (
    Role,
    access_account_features,
    has_role,
    is_network_admin,
    organisations_with_role,
)
from bieb.catalog import services as catalog_services
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.community import guard, notify, text
from bieb.community.models import ThingBooking, ThingBookingStatus, ThingSettings
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied

__all__ = [
    "THING_STAFF",
    "ThingDay",
    "ThingMonth",
    "availability",
    "thing_book",
    "thing_cancel",
    "thing_lend",
    "thing_repair",
    "thing_repaired",
    "thing_return",
    "thing_settings_set",
]

#: staff who set up, lend and take in things
THING_STAFF = (Role.DESK, Role.COLLECTION, Role.MANAGER)
#: how far ahead a thing may be booked
BOOK_AHEAD_DAYS = 180
LIVE = (ThingBookingStatus.BOOKED, ThingBookingStatus.LENT)
OUT_OF_SERVICE = (ItemStatus.REPAIR, ItemStatus.MISSING, ItemStatus.WITHDRAWN)
#: bounds of the settings
MAX_BUFFER_DAYS = 14
MAX_LOAN_DAYS = 60
MAX_DEPOSIT_CENTS = 100_000


# --- helpers ------------------------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound("not_found", _("Dit bestaat niet of je hebt er geen toegang toe."))


def _is_staff_of(actor: Any, organisation_id: int) -> bool:
    return is_network_admin(actor) or organisation_id in organisations_with_role(
        actor, *THING_STAFF
    )


def _check_staff(actor: Any, organisation_id: int) -> None:
    """401 anonymous, 403 without a thing role anywhere, 404 staff of another organisation."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("login_required", _("Log eerst in."), status=401)
    if not has_role(actor, *THING_STAFF):
        raise PermissionDenied("forbidden", _("Je hebt geen toegang tot deze pagina."))
    if not _is_staff_of(actor, organisation_id):
        raise _not_found()


def _check_thing(item: Item) -> None:
    if item.edition.format != Format.THING:
        raise DomainError(
            "not_a_thing", _("Dit exemplaar is geen ding uit de bieb van dingen."), status=400
        )


def settings_of(item: Item) -> ThingSettings:
    """The thing's settings, or the defaults (unsaved) when the library set none."""
    return ThingSettings.objects.filter(item_id=item.pk).first() or ThingSettings(item=item)


def _day(value: dt.date) -> str:
    return date_format(value, "l j F Y")


def _check_location(item: Item, location: Any) -> None:
    if location.organisation_id != item.organisation_id:
        raise DomainError(
            "thing_wrong_location",
            _("Dit ding hoort bij een andere bibliotheek. Lenen en terugbrengen kan daar."),
            status=409,
        )


def _lock_booking(booking: ThingBooking) -> ThingBooking:
    locked = (
        ThingBooking.objects.select_for_update(of=("self",))
        .select_related("item", "item__edition", "person")
        .filter(pk=booking.pk)
        .first()
    )
    if locked is None:
        raise _not_found()
    return locked


# --- settings -----------------------------------------------------------------------------------


def _whole(value: Any, low: int, high: int, *, code: str, field: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(code, message, status=400, details={"field": field})
    return value


def thing_settings_set(
    *,
    actor: Any,
    item: Item,
    buffer_days: int,
    deposit_cents: int,
    max_days: int,
    instructions: str,
) -> ThingSettings:
    """Set how ``item`` (a thing) is lent. Existing bookings keep their days and deposit."""
    item = Item.objects.select_related("edition").get(pk=item.pk)
    _check_staff(actor, item.organisation_id)
    _check_thing(item)
    values = {
        "buffer_days": _whole(
            buffer_days,
            0,
            MAX_BUFFER_DAYS,
            code="buffer_days",
            field="buffer_days",
            message=_("Kies 0 tot %(n)s dagen tussen twee uitleningen.") % {"n": MAX_BUFFER_DAYS},
        ),
        "deposit_cents": _whole(
            deposit_cents,
            0,
            MAX_DEPOSIT_CENTS,
            code="deposit_cents",
            field="deposit_cents",
            message=_("De borg is 0 tot %(n)s euro.") % {"n": MAX_DEPOSIT_CENTS // 100},
        ),
        "max_days": _whole(
            max_days,
            1,
            MAX_LOAN_DAYS,
            code="max_days",
            field="max_days",
            message=_("Lenen kan 1 tot %(n)s dagen.") % {"n": MAX_LOAN_DAYS},
        ),
        "instructions": text.clean(instructions, max_length=2000),
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                settings, _created = ThingSettings.objects.update_or_create(
                    item=item, defaults=values
                )
        except IntegrityError:  # created at the same moment elsewhere: change that row
            ThingSettings.objects.filter(item=item).update(**values)
            settings = ThingSettings.objects.get(item=item)
        audit_record(
            action="community.thing_settings",
            actor=actor,
            subject=item,
            organisation_id=item.organisation_id,
            data={k: v for k, v in values.items() if k != "instructions"},
        )
    return settings


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThingDay:
    day: dt.date
    #: ``past``, ``free``, ``booked`` (someone has it), ``buffer`` (checking and cleaning),
    #: ``unavailable`` (out of service)
    state: str

    @property
    def free(self) -> bool:
        return self.state == "free"


@dataclass(frozen=True)
class ThingMonth:
    item: Item
    month: dt.date  # the first day
    days: list[ThingDay]
    out_of_service: bool
    settings: ThingSettings

    @property
    def weeks(self) -> list[list[ThingDay | None]]:
        """The days in weeks from Monday, ``None`` before the first and after the last."""
        lead = [None] * self.month.weekday()
        cells: list[ThingDay | None] = [*lead, *self.days]
        cells += [None] * (-len(cells) % 7)
        return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def availability(item: Item, month: dt.date) -> ThingMonth:
    """Which days of ``month`` (any day in it) the thing is free, booked or kept free after a
    booking, for a calendar. Says nothing about who booked."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    item = Item.objects.select_related("edition").get(pk=item.pk)
    _check_thing(item)
    out_of_service = item.status in OUT_OF_SERVICE
    taken: dict[dt.date, str] = {}
    for start, end, blocked in ThingBooking.objects.filter(
        item=item, status__in=LIVE, first_day__lte=last, blocked_until__gte=first
    ).values_list("first_day", "last_day", "blocked_until"):
        day = max(start, first)
        while day <= min(blocked, last):
            taken[day] = "booked" if day <= end else taken.get(day, "buffer")
            day += dt.timedelta(days=1)
    today = clock.today()
    days = []
    day = first
    while day <= last:
        if day < today:
            state = "past"
        elif out_of_service:
            state = "unavailable"
        else:
            state = taken.get(day, "free")
        days.append(ThingDay(day, state))
        day += dt.timedelta(days=1)
    return ThingMonth(item, first, days, out_of_service, settings_of(item))


# --- booking ------------------------------------------------------------------------------------


def _check_days(first_day: dt.date, last_day: dt.date, today: dt.date) -> None:
    if first_day < today:
        raise DomainError(
            "date_in_past",
            _("Kies een dag vanaf vandaag."),
            status=400,
            details={"field": "first_day"},
        )
    if last_day < first_day:
        raise DomainError(
            "dates_reversed",
            _("De laatste dag ligt voor de eerste dag. Draai ze om."),
            status=400,
            details={"field": "last_day"},
        )
    if first_day > today + dt.timedelta(days=BOOK_AHEAD_DAYS):
        raise DomainError(
            "too_far_ahead",
            _("Reserveren kan tot %(n)s dagen vooruit.") % {"n": BOOK_AHEAD_DAYS},
            status=400,
            details={"field": "first_day"},
        )


def things_allowed(person: Any) -> int:
    """How many things the person's plan allows at once today, or the refusal
    (``DomainError``) why nothing is allowed; ``book`` refuses the same way."""
    from bieb.subscriptions.selectors import entitlements_for

    rights = entitlements_for(person)
    if rights.refusal == "no_subscription":
        raise DomainError(
            "no_subscription",
            _(
                "Spullen uit de bieb van dingen lenen kan met een abonnement waar dat in zit. "
                "Kijk in Mijn abonnement."
            ),
            status=403,
        )
    if rights.refusal == "switched_off" or not rights.on:
        raise DomainError(
            "subscription_switched_off",
            _("Je abonnement staat uit. Zet het aan in Mijn abonnement om een ding te lenen."),
            status=403,
        )
    if rights.things_at_once <= 0:
        raise DomainError(
            "plan_excludes_things",
            _(
                "Spullen uit de bieb van dingen lenen zit niet in je abonnement. Kies een "
                "abonnement met spullen in Mijn abonnement."
            ),
            status=403,
        )
    return rights.things_at_once


def _live_bookings_of(person: Any, today: dt.date):
    return ThingBooking.objects.filter(person_id=person.pk).filter(
        Q(status=ThingBookingStatus.LENT) | Q(status=ThingBookingStatus.BOOKED, last_day__gte=today)
    )


def thing_book(*, person: Any, item: Item, first_day: dt.date, last_day: dt.date) -> ThingBooking:
    """Book ``item`` for ``person`` from ``first_day`` through ``last_day``.

    Guarantees: the person may take part in the community (``guard``; under 16 with a
    guardian's consent, as for holds), has a card and a plan with room (``things_at_once``,
    counted under the person's lock); the thing is in service (read under the copy's lock);
    and no other live booking of it overlaps these days or their buffer days (the database's
    constraint: ``thing_taken``, 409)."""
    guard.check_may_take_part(person)
    access_account_features(person)  # under 16: with a guardian's consent, as for holds
    if not person.card_number:
        raise DomainError("no_card", _("Voor lenen heb je een bibliotheekpas nodig."), status=403)
    today = clock.today()
    _check_days(first_day, last_day, today)
    from bieb.accounts.models import User

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).values_list("pk").first()
        locked = (
            Item.objects.select_for_update(of=("self",))
            .select_related("edition", "home_location")
            .filter(pk=item.pk)
            .first()
        )
        if locked is None:
            raise _not_found()
        _check_thing(locked)
        if locked.status in OUT_OF_SERVICE:
            raise DomainError(
                "thing_out_of_service",
                _("Dit ding is nu niet te leen (%(status)s). Kijk later nog eens.")
                % {"status": ItemStatus(locked.status).label},
                status=409,
            )
        settings = settings_of(locked)
        days = (last_day - first_day).days + 1
        if days > settings.max_days:
            raise DomainError(
                "too_long",
                _("Dit ding leen je ten hoogste %(n)s dagen achter elkaar.")
                % {"n": settings.max_days},
                status=400,
                details={"field": "last_day"},
            )
        allowed = things_allowed(person)
        live = _live_bookings_of(person, today).count()
        if live >= allowed:
            raise DomainError(
                "things_limit",
                ngettext(
                    "Je hebt al %(n)s ding gereserveerd of geleend, het maximum van je "
                    "abonnement. Annuleer het of breng het eerst terug.",
                    "Je hebt al %(n)s dingen gereserveerd of geleend, het maximum van je "
                    "abonnement. Annuleer of breng er eerst een terug.",
                    live,
                )
                % {"n": live},
                status=409,
            )
        blocked_until = last_day + dt.timedelta(days=settings.buffer_days)
        try:
            with transaction.atomic():
                booking = ThingBooking.objects.create(
                    item=locked,
                    person=person,
                    first_day=first_day,
                    last_day=last_day,
                    blocked_until=blocked_until,
                    deposit_cents=settings.deposit_cents,
                )
        except IntegrityError as exc:
            raise DomainError(
                "thing_taken",
                _(
                    "Dit ding is op (een deel van) die dagen al gereserveerd, of wordt dan "
                    "nagekeken. Kies andere dagen in de kalender."
                ),
                status=409,
            ) from exc
        audit_record(
            action="community.thing_book",
            actor=person,
            subject=booking,
            organisation_id=locked.organisation_id,
            data={
                "item": locked.barcode,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "blocked_until": blocked_until.isoformat(),
                "deposit_cents": settings.deposit_cents,
            },
        )
        notify.tell(
            person,
            "thing_booked",
            booking=booking,
            title=locked.edition.title,
            location=locked.home_location,
            first=_day(first_day),
            last=_day(last_day),
            deposit=_euros(settings.deposit_cents),
            instructions=settings.instructions,
        )
    return booking


def _euros(cents: int) -> str:
    if not cents:
        return ""
    return f"€ {cents // 100},{cents % 100:02d}"


def thing_cancel(*, booking: ThingBooking, actor: Any, reason: str = "") -> ThingBooking:
    """Cancel a booking that is not lent yet: by its person, or by staff of the thing's
    organisation (the person is then mailed, with ``reason``). Others get 404."""
    booking = ThingBooking.objects.select_related("item", "item__edition").get(pk=booking.pk)
    by_person = actor is not None and actor.pk == booking.person_id
    if not by_person:
        if actor is None or not getattr(actor, "is_authenticated", False):
            raise PermissionDenied("login_required", _("Log eerst in."), status=401)
        if not _is_staff_of(actor, booking.item.organisation_id):
            raise _not_found()
    reason = text.clean(reason, max_length=300)
    with transaction.atomic():
        locked = _lock_booking(booking)
        if locked.status != ThingBookingStatus.BOOKED:
            raise DomainError(
                "booking_not_cancellable",
                _("Deze reservering is al uitgeleend, teruggebracht of geannuleerd."),
                status=409,
            )
        ThingBooking.objects.filter(pk=locked.pk).update(status=ThingBookingStatus.CANCELLED)
        locked.status = ThingBookingStatus.CANCELLED
        audit_record(
            action="community.thing_cancel",
            actor=actor,
            subject=locked,
            organisation_id=locked.item.organisation_id,
            data={"by": "person" if by_person else "staff", "reason": reason},
        )
        if not by_person:
            _tell_cancelled(locked, reason or _("De bibliotheek heeft je reservering geannuleerd."))
    return locked


def _tell_cancelled(booking: ThingBooking, reason: str) -> None:
    notify.tell(
        booking.person,
        "thing_cancelled",
        booking=booking,
        title=booking.item.edition.title,
        first=_day(booking.first_day),
        last=_day(booking.last_day),
        reason=reason,
    )


# --- lending and returning ----------------------------------------------------------------------


def thing_lend(
    *,
    booking: ThingBooking,
    actor: Any,
    location: Any,
    condition_out: str = "",
    deposit_received: bool = False,
) -> ThingBooking:
    """Lend a booked thing at the desk: a circulation checkout of its barcode for the
    booking's person at ``location`` (every rule of circulation applies: card, plan, limits,
    the copy's status), in one transaction with the booking becoming "lent" with its loan and
    the condition it went out in. From the booking's first day through its last. When the
    booking has a deposit, the desk confirms it was paid (``deposit_received``)."""
    from bieb.circulation import services as circulation

    booking = ThingBooking.objects.select_related("item").get(pk=booking.pk)
    _check_staff(actor, booking.item.organisation_id)
    _check_location(booking.item, location)
    condition_out = text.clean(condition_out, max_length=500)
    today = clock.today()
    with transaction.atomic():
        locked = _lock_booking(booking)
        if locked.status != ThingBookingStatus.BOOKED or locked.person is None:
            raise DomainError(
                "booking_not_lendable",
                _("Deze reservering is al uitgeleend, teruggebracht of geannuleerd."),
                status=409,
            )
        if today < locked.first_day:
            raise DomainError(
                "booking_not_started",
                _("Deze reservering begint op %(day)s. Lenen kan vanaf die dag.")
                % {"day": _day(locked.first_day)},
                status=409,
            )
        if today > locked.last_day:
            raise DomainError(
                "booking_over",
                _("Deze reservering is voorbij. Maak samen een nieuwe reservering."),
                status=409,
            )
        if locked.deposit_cents and not deposit_received:
            raise DomainError(
                "deposit_required",
                _("Vraag eerst de borg van %(amount)s en bevestig dat die betaald is.")
                % {"amount": _euros(locked.deposit_cents)},
                status=409,
                details={"field": "deposit_received"},
            )
        loan = circulation.checkout(
            patron=locked.person,
            barcode=locked.item.barcode,
            location=location,
            actor=actor,
            channel="desk",
            due_date=locked.last_day,
            booked_thing=True,
        )
        ThingBooking.objects.filter(pk=locked.pk).update(
            status=ThingBookingStatus.LENT, loan=loan, condition_out=condition_out
        )
        locked.status, locked.loan, locked.condition_out = (
            ThingBookingStatus.LENT,
            loan,
            condition_out,
        )
        audit_record(
            action="community.thing_lend",
            actor=actor,
            subject=locked,
            organisation_id=locked.item.organisation_id,
            data={
                "loan": loan.pk,
                "location": location.pk,
                "deposit_cents": locked.deposit_cents,
                "condition_out": condition_out,
            },
        )
    return locked


def thing_return(
    *,
    booking: ThingBooking,
    actor: Any,
    location: Any,
    condition_back: str = "",
    needs_repair: bool = False,
) -> ThingBooking:
    """Take a lent thing back at the desk: a circulation check-in (unless the copy was already
    taken in through circulation, e.g. at a return machine), the booking "returned" with the
    condition it came back in. With ``needs_repair`` the copy goes to repair and its bookings
    that are not over are cancelled and their people mailed (``thing_repair``)."""
    from bieb.circulation import services as circulation
    from bieb.circulation.models import Loan

    booking = ThingBooking.objects.select_related("item").get(pk=booking.pk)
    _check_staff(actor, booking.item.organisation_id)
    _check_location(booking.item, location)
    condition_back = text.clean(condition_back, max_length=500)
    now = clock.now()
    with transaction.atomic():
        locked = _lock_booking(booking)
        if locked.status != ThingBookingStatus.LENT:
            raise DomainError(
                "booking_not_lent",
                _("Dit ding is niet uitgeleend op deze reservering."),
                status=409,
            )
        loan_open = (
            locked.loan_id is not None
            and Loan.objects.filter(pk=locked.loan_id, returned_at__isnull=True).exists()
        )
        if loan_open:
            circulation.checkin(barcode=locked.item.barcode, location=location, actor=actor)
        ThingBooking.objects.filter(pk=locked.pk).update(
            status=ThingBookingStatus.RETURNED, condition_back=condition_back, returned_at=now
        )
        locked.status, locked.condition_back, locked.returned_at = (
            ThingBookingStatus.RETURNED,
            condition_back,
            now,
        )
        audit_record(
            action="community.thing_return",
            actor=actor,
            subject=locked,
            organisation_id=locked.item.organisation_id,
            data={
                "loan": locked.loan_id,
                "location": location.pk,
                "checked_in": loan_open,
                "deposit_cents": locked.deposit_cents,
                "condition_back": condition_back,
                "needs_repair": needs_repair,
            },
        )
        if needs_repair:
            _to_repair(locked.item_id, actor, condition_back)
    return locked


# --- repair -------------------------------------------------------------------------------------


def _to_repair(item_id: int, actor: Any, note: str) -> list[int]:
    """In the caller's transaction: the copy to repair, its bookings that are not over
    cancelled and their people told. Returns the cancelled bookings' ids."""
    item = Item.objects.select_related("edition", "home_location").get(pk=item_id)
    if item.status != ItemStatus.AVAILABLE:
        raise DomainError(
            "thing_repair_at_home",
            _(
                "Dit ding staat nu niet op de plank hier (%(status)s). Neem het in bij "
                "%(home)s en meld het daar voor reparatie."
            )
            % {"status": ItemStatus(item.status).label, "home": item.home_location.name},
            status=409,
        )
    catalog_services.item_set_status(item, ItemStatus.REPAIR, actor=actor)
    today = clock.today()
    cancelled = list(
        ThingBooking.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(item_id=item.pk, status=ThingBookingStatus.BOOKED, last_day__gte=today)
        .order_by("first_day", "pk")
    )
    ThingBooking.objects.filter(pk__in=[b.pk for b in cancelled]).update(
        status=ThingBookingStatus.CANCELLED
    )
    reason = _("Het ding is kapot gegaan en wordt gerepareerd.")
    for booking in cancelled:
        booking.status, booking.item = ThingBookingStatus.CANCELLED, item
        _tell_cancelled(booking, reason)
    audit_record(
        action="community.thing_repair",
        actor=actor,
        subject=item,
        organisation_id=item.organisation_id,
        data={"cancelled": [b.pk for b in cancelled], "note": note},
    )
    return [b.pk for b in cancelled]


def thing_repair(*, item: Item, actor: Any, note: str = "") -> list[int]:
    """Put a thing that is on the shelf in repair (found broken at the desk): as a return with
    ``needs_repair``. Returns the ids of the bookings cancelled."""
    item = Item.objects.select_related("edition").get(pk=item.pk)
    _check_staff(actor, item.organisation_id)
    _check_thing(item)
    note = text.clean(note, max_length=500)
    with transaction.atomic():
        Item.objects.select_for_update().filter(pk=item.pk).values_list("pk").first()
        return _to_repair(item.pk, actor, note)


def thing_repaired(*, item: Item, actor: Any) -> Item:
    """A repaired thing is back on the shelf and can be booked again."""
    item = Item.objects.select_related("edition").get(pk=item.pk)
    _check_staff(actor, item.organisation_id)
    _check_thing(item)
    if item.status != ItemStatus.REPAIR:
        raise DomainError("not_in_repair", _("Dit ding is niet in reparatie."), status=409)
    with transaction.atomic():
        catalog_services.item_set_status(item, ItemStatus.AVAILABLE, actor=actor)
        audit_record(
            action="community.thing_repaired",
            actor=actor,
            subject=item,
            organisation_id=item.organisation_id,
        )
    return item
