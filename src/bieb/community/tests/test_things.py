"""The library of things: booking with buffer days, the plan's number at once, lending and
taking back through circulation, repair that cancels what was booked.

Helpers here are imported by ``test_thing_races``.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core import mail

from bieb.accounts.tests.factories import LocationFactory
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory, ItemFactory
from bieb.circulation import services as circulation
from bieb.circulation.models import Loan
from bieb.community import things
from bieb.community.models import ThingBooking, ThingBookingStatus, ThingSettings
from bieb.community.tests.factories import library, resident, staff, suspend, youth
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.core.models import AuditEvent
from bieb.subscriptions import services as subscriptions
from bieb.subscriptions.tests.factories import plan

pytestmark = pytest.mark.django_db

#: a Monday
NOON = dt.datetime(2025, 3, 10, 12, 0, tzinfo=clock.AMSTERDAM)
TODAY = NOON.date()
_plans = itertools.count(1)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def thing(
    location=None, *, title="Boormachine", buffer_days=1, deposit_cents=0, max_days=7, **kw
) -> Item:
    """A thing of the Utrecht library at ``location`` (its home), with settings."""
    location = location or LocationFactory(organisation=library())
    item = ItemFactory(
        edition=EditionFactory(title=title, format=Format.THING),
        organisation=location.organisation,
        home_location=location,
        location=location,
        **kw,
    )
    ThingSettings.objects.create(
        item=item,
        buffer_days=buffer_days,
        deposit_cents=deposit_cents,
        max_days=max_days,
        instructions="Boortjes zitten in de koffer.",
    )
    return item


def subscriber(things_at_once: int = 1, **kw):
    """A resident on a plan with ``things_at_once`` things (and ten printed copies)."""
    person = resident(**kw)
    code = f"dingen-{next(_plans)}"
    plan(code=code, physical_loans=10, things_at_once=things_at_once)
    subscriptions.subscribe(person=person, plan_code=code)
    return person


@pytest.fixture(autouse=True)
def _noon():
    with clock.frozen(NOON):
        yield


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


# --- booking ------------------------------------------------------------------------------------


def test_booking_blocks_the_days_and_the_buffer_and_records_the_deposit(sent):
    drill = thing(buffer_days=2, deposit_cents=2_500)
    person = subscriber()

    with sent():
        booking = things.thing_book(person=person, item=drill, first_day=day(1), last_day=day(3))

    assert booking.status == ThingBookingStatus.BOOKED
    assert booking.blocked_until == day(5)
    assert booking.deposit_cents == 2_500
    event = AuditEvent.objects.get(action="community.thing_book")
    assert event.organisation_id == drill.organisation_id
    [email] = mail.outbox
    assert email.to == [person.email]
    assert "Boormachine" in email.subject
    assert "dinsdag 11 maart 2025" in email.body and "donderdag 13 maart 2025" in email.body
    assert "€ 25,00" in email.body
    assert drill.home_location.name in email.body
    assert "Boortjes zitten in de koffer." in email.body


def test_an_overlap_is_refused_buffer_days_included_and_the_day_after_is_free():
    drill = thing(buffer_days=2)
    things.thing_book(person=subscriber(), item=drill, first_day=day(10), last_day=day(12))
    # blocked from day 10 through day 14

    for first, last in [(day(11), day(11)), (day(14), day(15)), (day(8), day(10))]:
        with pytest.raises(DomainError) as refused:
            things.thing_book(person=subscriber(), item=drill, first_day=first, last_day=last)
        assert (refused.value.code, refused.value.status) == ("thing_taken", 409)
    # a booking before it may not let its own buffer days run into it: 7 + 2 = 9 < 10
    with pytest.raises(DomainError) as refused:
        things.thing_book(person=subscriber(), item=drill, first_day=day(7), last_day=day(8))
    assert refused.value.code == "thing_taken"

    before = things.thing_book(person=subscriber(), item=drill, first_day=day(6), last_day=day(7))
    after = things.thing_book(person=subscriber(), item=drill, first_day=day(15), last_day=day(16))

    assert (before.blocked_until, after.first_day) == (day(9), day(15))
    assert ThingBooking.objects.filter(item=drill, status="booked").count() == 3


def test_a_cancelled_booking_frees_its_days():
    drill = thing()
    person = subscriber()
    booking = things.thing_book(person=person, item=drill, first_day=day(1), last_day=day(2))

    things.thing_cancel(booking=booking, actor=person)

    other = things.thing_book(person=subscriber(), item=drill, first_day=day(1), last_day=day(2))
    assert other.status == ThingBookingStatus.BOOKED
    assert ThingBooking.objects.get(pk=booking.pk).status == ThingBookingStatus.CANCELLED
    with pytest.raises(DomainError) as refused:
        things.thing_cancel(booking=booking, actor=person)
    assert refused.value.code == "booking_not_cancellable"


def test_the_plan_limits_the_things_at_once():
    person = subscriber(things_at_once=1)
    first = things.thing_book(person=person, item=thing(), first_day=day(1), last_day=day(2))

    with pytest.raises(DomainError) as refused:
        things.thing_book(person=person, item=thing(), first_day=day(20), last_day=day(21))
    assert (refused.value.code, refused.value.status) == ("things_limit", 409)

    things.thing_cancel(booking=first, actor=person)
    things.thing_book(person=person, item=thing(), first_day=day(20), last_day=day(21))


def test_a_booking_never_collected_stops_counting_after_its_last_day():
    person = subscriber(things_at_once=1)
    things.thing_book(person=person, item=thing(), first_day=day(0), last_day=day(1))

    with clock.frozen(NOON + dt.timedelta(days=2)):
        booking = things.thing_book(person=person, item=thing(), first_day=day(3), last_day=day(4))
    assert booking.status == ThingBookingStatus.BOOKED


def test_without_a_plan_with_things_nothing_is_booked():
    drill = thing()
    with pytest.raises(DomainError) as refused:
        things.thing_book(person=resident(), item=drill, first_day=day(1), last_day=day(1))
    assert (refused.value.code, refused.value.status) == ("no_subscription", 403)

    with pytest.raises(DomainError) as refused:
        things.thing_book(
            person=subscriber(things_at_once=0), item=drill, first_day=day(1), last_day=day(1)
        )
    assert refused.value.code == "plan_excludes_things"
    assert not ThingBooking.objects.exists()


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (-1, 1, "date_in_past"),
        (3, 2, "dates_reversed"),
        (1, 8, "too_long"),  # eight days, seven allowed
        (things.BOOK_AHEAD_DAYS + 1, things.BOOK_AHEAD_DAYS + 1, "too_far_ahead"),
    ],
)
def test_days_that_cannot_be_booked(first, last, code):
    with pytest.raises(DomainError) as refused:
        things.thing_book(
            person=subscriber(), item=thing(), first_day=day(first), last_day=day(last)
        )
    assert refused.value.code == code
    assert not ThingBooking.objects.exists()


def test_only_things_in_service_are_booked():
    book = ItemFactory(edition=EditionFactory(format=Format.BOOK))
    with pytest.raises(DomainError) as refused:
        things.thing_book(person=subscriber(), item=book, first_day=day(1), last_day=day(1))
    assert refused.value.code == "not_a_thing"

    broken = thing(status=ItemStatus.REPAIR)
    with pytest.raises(DomainError) as refused:
        things.thing_book(person=subscriber(), item=broken, first_day=day(1), last_day=day(1))
    assert (refused.value.code, refused.value.status) == ("thing_out_of_service", 409)


def test_a_child_books_only_with_a_guardians_consent():
    with pytest.raises(PermissionDenied) as refused:
        things.thing_book(person=youth(), item=thing(), first_day=day(1), last_day=day(1))
    assert refused.value.code == "consent_required"


def test_a_suspended_resident_cannot_book():
    person = subscriber()
    suspend(person)
    with pytest.raises(PermissionDenied) as refused:
        things.thing_book(person=person, item=thing(), first_day=day(1), last_day=day(1))
    assert refused.value.code == "suspended"


def test_the_calendar_shows_booked_buffer_and_free_days():
    drill = thing(buffer_days=2)
    things.thing_book(person=subscriber(), item=drill, first_day=day(2), last_day=day(3))

    month = things.availability(drill, TODAY)

    states = {d.day: d.state for d in month.days}
    assert states[day(-1)] == "past"
    assert [states[day(n)] for n in range(0, 7)] == [
        "free",
        "free",
        "booked",
        "booked",
        "buffer",
        "buffer",
        "free",
    ]
    assert len(month.days) == 31
    assert month.weeks[0][:5] == [None] * 5  # 1 March 2025 is a Saturday
    assert month.weeks[0][5].day == dt.date(2025, 3, 1)
    assert all(len(week) == 7 for week in month.weeks)


# --- settings -----------------------------------------------------------------------------------


def test_staff_of_the_things_library_set_how_it_is_lent():
    drill = thing()
    desk = staff("desk", drill.organisation)

    settings = things.thing_settings_set(
        actor=desk,
        item=drill,
        buffer_days=3,
        deposit_cents=5_000,
        max_days=14,
        instructions="Met koffer",
    )

    assert (settings.buffer_days, settings.deposit_cents, settings.max_days) == (3, 5_000, 14)
    with pytest.raises(NotFound):
        things.thing_settings_set(
            actor=staff("desk", library("GM0363")),
            item=drill,
            buffer_days=0,
            deposit_cents=0,
            max_days=1,
            instructions="",
        )
    with pytest.raises(DomainError) as refused:
        things.thing_settings_set(
            actor=desk, item=drill, buffer_days=15, deposit_cents=0, max_days=7, instructions=""
        )
    assert refused.value.code == "buffer_days"
    assert ThingSettings.objects.get(item=drill).buffer_days == 3


# --- lending and returning ----------------------------------------------------------------------


def test_lending_and_returning_go_through_circulation():
    drill = thing(deposit_cents=2_500)
    person = subscriber()
    desk = staff("desk", drill.organisation)
    booking = things.thing_book(person=person, item=drill, first_day=day(0), last_day=day(2))

    with pytest.raises(DomainError) as refused:
        things.thing_lend(booking=booking, actor=desk, location=drill.home_location)
    assert refused.value.code == "deposit_required"
    lent = things.thing_lend(
        booking=booking,
        actor=desk,
        location=drill.home_location,
        condition_out="Compleet, kras op de greep",
        deposit_received=True,
    )

    loan = Loan.objects.get(item=drill)
    assert (loan.patron, loan.returned_at) == (person, None)
    assert lent.loan == loan and lent.status == ThingBookingStatus.LENT
    assert Item.objects.get(pk=drill.pk).status == ItemStatus.ON_LOAN
    assert AuditEvent.objects.get(action="community.thing_lend").data["deposit_cents"] == 2_500

    with clock.frozen(NOON + dt.timedelta(days=2)):
        back = things.thing_return(
            booking=booking, actor=desk, location=drill.home_location, condition_back="Schoon"
        )

    loan.refresh_from_db()
    assert loan.returned_at is not None
    assert Item.objects.get(pk=drill.pk).status == ItemStatus.AVAILABLE
    stored = ThingBooking.objects.get(pk=booking.pk)
    assert (stored.status, stored.condition_out, stored.condition_back) == (
        ThingBookingStatus.RETURNED,
        "Compleet, kras op de greep",
        "Schoon",
    )
    assert back.returned_at is not None


def test_a_thing_is_lent_only_in_its_booking_and_only_by_its_own_library():
    drill = thing()
    booking = things.thing_book(person=subscriber(), item=drill, first_day=day(1), last_day=day(2))
    desk = staff("desk", drill.organisation)

    with pytest.raises(DomainError) as refused:
        things.thing_lend(booking=booking, actor=desk, location=drill.home_location)
    assert refused.value.code == "booking_not_started"
    with pytest.raises(NotFound):
        things.thing_lend(
            booking=booking, actor=staff("desk", library("GM0363")), location=drill.home_location
        )
    with clock.frozen(NOON + dt.timedelta(days=1)):
        with pytest.raises(DomainError) as refused:
            things.thing_lend(
                booking=booking,
                actor=desk,
                location=LocationFactory(organisation=library("GM0363")),
            )
        assert refused.value.code == "thing_wrong_location"
    assert not Loan.objects.exists()


def test_circulation_refuses_a_thing_the_plan_does_not_allow_at_lending():
    drill = thing()
    person = subscriber()
    booking = things.thing_book(person=person, item=drill, first_day=day(0), last_day=day(1))
    subscriptions.subscription_switch_off(person=person)

    with pytest.raises(DomainError) as refused:
        things.thing_lend(
            booking=booking, actor=staff("desk", drill.organisation), location=drill.home_location
        )

    assert refused.value.code == "subscription_switched_off"
    assert ThingBooking.objects.get(pk=booking.pk).status == ThingBookingStatus.BOOKED
    assert not Loan.objects.exists()


def test_a_return_taken_in_elsewhere_in_circulation_still_closes_the_booking():
    drill = thing()
    desk = staff("desk", drill.organisation)
    booking = things.thing_book(person=subscriber(), item=drill, first_day=day(0), last_day=day(1))
    things.thing_lend(booking=booking, actor=desk, location=drill.home_location)
    circulation.checkin(barcode=drill.barcode, location=drill.home_location)  # return machine

    things.thing_return(booking=booking, actor=desk, location=drill.home_location)

    assert ThingBooking.objects.get(pk=booking.pk).status == ThingBookingStatus.RETURNED
    assert AuditEvent.objects.filter(action="circulation.checkin").count() == 1


def test_a_broken_thing_goes_to_repair_and_its_bookings_are_cancelled_and_told(sent):
    drill = thing()
    desk = staff("desk", drill.organisation)
    lent = things.thing_book(person=subscriber(), item=drill, first_day=day(0), last_day=day(1))
    later = [
        things.thing_book(person=subscriber(), item=drill, first_day=day(n), last_day=day(n))
        for n in (5, 9)
    ]
    things.thing_lend(booking=lent, actor=desk, location=drill.home_location)

    with clock.frozen(NOON + dt.timedelta(days=1)), sent():
        things.thing_return(
            booking=lent,
            actor=desk,
            location=drill.home_location,
            condition_back="Motor maakt geen contact",
            needs_repair=True,
        )

    assert Item.objects.get(pk=drill.pk).status == ItemStatus.REPAIR
    assert set(
        ThingBooking.objects.filter(pk__in=[b.pk for b in later]).values_list("status", flat=True)
    ) == {ThingBookingStatus.CANCELLED}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(b.person.email for b in later)
    assert all("gerepareerd" in m.body for m in mail.outbox)
    assert not Loan.objects.filter(returned_at__isnull=True).exists()
    with pytest.raises(DomainError) as refused:
        things.thing_book(person=subscriber(), item=drill, first_day=day(5), last_day=day(5))
    assert refused.value.code == "thing_out_of_service"
    assert things.availability(drill, TODAY).out_of_service

    things.thing_repaired(item=drill, actor=desk)

    assert Item.objects.get(pk=drill.pk).status == ItemStatus.AVAILABLE
    things.thing_book(person=subscriber(), item=drill, first_day=day(5), last_day=day(5))


def test_staff_may_cancel_a_booking_and_say_why(sent):
    drill = thing()
    person = subscriber()
    booking = things.thing_book(person=person, item=drill, first_day=day(3), last_day=day(4))

    with pytest.raises(NotFound):
        things.thing_cancel(booking=booking, actor=resident())
    with sent():
        things.thing_cancel(
            booking=booking, actor=staff("manager", drill.organisation), reason="Locatie dicht"
        )

    [email] = mail.outbox
    assert email.to == [person.email]
    assert "Locatie dicht" in email.body


def test_a_lent_thing_is_due_on_its_last_day_and_is_not_renewed_or_held():
    drill = thing()
    person = subscriber()
    desk = staff("desk", drill.organisation)
    booking = things.thing_book(person=person, item=drill, first_day=day(0), last_day=day(3))
    things.thing_lend(booking=booking, actor=desk, location=drill.home_location)

    loan = Loan.objects.get(item=drill)
    assert loan.due_date == day(3)
    with pytest.raises(DomainError) as refused:
        circulation.renew(loan, actor=person)
    assert refused.value.code == "thing_not_renewable"
    with clock.frozen(NOON + dt.timedelta(days=2)):
        assert circulation.auto_renew()["renewed"] == 0
    loan.refresh_from_db()
    assert loan.due_date == day(3)
    with pytest.raises(DomainError) as held:
        circulation.hold_place(
            patron=subscriber(), edition=drill.edition, pickup_location=drill.home_location
        )
    assert held.value.code == "thing_not_holdable"


def test_a_thing_is_not_lent_by_a_scan_alone():
    drill = thing()
    person = subscriber()
    with pytest.raises(DomainError) as refused:
        circulation.checkout(patron=person, barcode=drill.barcode, location=drill.home_location)
    assert refused.value.code == "thing_needs_booking"
    assert not Loan.objects.filter(item=drill).exists()
