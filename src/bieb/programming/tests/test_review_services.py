"""Review of the programming core: seats that must add up after any sequence of operations,
money to the cent (credits, invoices voided or credited exactly once, payments under way),
time (daylight saving time, deadlines, the session at the door, reminders), and deleting an
account that has registrations."""

from __future__ import annotations

import contextlib
import datetime as dt
import os

import pytest
from django.core import mail
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bieb.accounts.tests.factories import UserFactory, staff_member, years_ago
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.programming import recurrence, services
from bieb.programming.models import (
    LIVE_STATUSES,
    SEATED_STATUSES,
    Activity,
    PaymentState,
    PriceKind,
    Registration,
    RegistrationStatus,
)
from bieb.programming.tests.factories import activity, at_local

pytestmark = pytest.mark.django_db


def resident(**kw):
    kw.setdefault("email_verified_at", clock.now())
    kw.setdefault("birth_date", years_ago(40))
    return UserFactory(**kw)


def codes(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def seats_add_up(one: Activity) -> None:
    """The invariants of the seat counter, read from the database."""
    one.refresh_from_db()
    seated = (
        Registration.objects.filter(activity=one, status__in=SEATED_STATUSES).aggregate(
            n=Sum("seats")
        )["n"]
        or 0
    )
    assert one.seats_taken == seated
    assert one.seats_taken <= one.capacity
    if one.status == "published" and clock.now() < one.starts_at:
        free = one.capacity - one.seats_taken
        assert not Registration.objects.filter(
            activity=one, status=RegistrationStatus.WAITLISTED, seats__lte=free
        ).exists(), "a group that fits waits while seats are free"


def _credits_plan_for(person, credits: int):
    from bieb.subscriptions import services as subscription_services
    from bieb.subscriptions.tests.factories import plan

    offer = plan(activity_credits_per_month=credits, physical_loans=5)
    subscription_services.subscribe(person=person, plan_code=offer.code, interval="month")
    return offer


def _pay(person, invoice):
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import PaymentMethod

    payment = ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    return ledger.payment_mark_paid(payment)


def _start_paying(person, invoice):
    """A payment at the provider that has not answered yet (under way)."""
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import PaymentMethod

    return ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])


def _credited(invoice) -> int:
    """What the credit notes correcting ``invoice`` took off it, in cents."""
    from bieb.subscriptions.models import Invoice

    return sum(abs(note.total_cents) for note in Invoice.objects.filter(corrects=invoice))


def _owing(person) -> int:
    from bieb.subscriptions.payments import open_invoices

    return sum(i.total_cents - i.settled_cents for i in open_invoices(person))


def _credit_left(person) -> int:
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import DocumentKind, Invoice, InvoiceStatus

    return sum(
        ledger.credit_left_cents(note)
        for note in Invoice.objects.filter(
            person=person, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.OPEN
        )
    )


# --- seats ---------------------------------------------------------------------------------------


def test_a_newcomer_who_fits_the_free_seats_is_not_held_back_by_a_group_too_big_for_them():
    event = activity(capacity=3, max_group_size=3)
    services.register(activity=event, person=resident(), seats=2)
    family = services.register(activity=event, person=resident(), seats=3)
    assert family.status == RegistrationStatus.WAITLISTED
    # one seat is free; the family of three does not fit in it, a single person does
    single = services.register(activity=event, person=resident())
    assert single.status == RegistrationStatus.CONFIRMED
    seats_add_up(event)
    family.refresh_from_db()
    assert family.status == RegistrationStatus.WAITLISTED


def test_a_visitor_who_fits_is_not_held_back_by_a_group_too_big_either():
    event = activity(capacity=3, max_group_size=3)
    services.register(activity=event, person=resident(), seats=2)
    services.register(activity=event, person=resident(), seats=3)
    visitor = services.register(activity=event, email="gast@example.nl", name="Gast")
    visitor = services.registration_confirm_email(token=visitor.token)
    assert visitor.status == RegistrationStatus.CONFIRMED
    seats_add_up(event)


def test_a_newcomer_still_waits_behind_a_waiting_person_who_fits():
    event = activity(capacity=2, max_group_size=2, offer_hours=2)
    first = services.register(activity=event, person=resident(), seats=2)
    waiting = services.register(activity=event, person=resident())
    services.registration_cancel(registration=first)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED
    # one seat is free and nobody who fits waits for it: the newcomer takes it
    assert services.register(activity=event, person=resident()).status == "confirmed"
    # full now: the next one waits
    assert services.register(activity=event, person=resident()).status == "waitlisted"
    seats_add_up(event)


# --- money ---------------------------------------------------------------------------------------


def _concert(**kw):
    kw.setdefault("capacity", 1)
    kw.setdefault("price_kind", PriceKind.PAID)
    kw.setdefault("price_cents", 1250)
    kw.setdefault("starts_at", clock.now() + dt.timedelta(days=3))
    return activity(**kw)


def test_credits_cancelled_in_a_later_usage_period_go_back_to_the_period_they_were_used_in():
    from bieb.subscriptions.models import UsageMeter

    person = resident()
    _credits_plan_for(person, 3)
    workshop = activity(
        price_kind=PriceKind.CREDITS,
        credits=2,
        starts_at=clock.now() + dt.timedelta(days=50),
    )
    registration = services.register(activity=workshop, person=person)
    assert registration.credits_used == 2
    (used,) = UsageMeter.objects.filter(person=person, meter="activity_credits")
    assert used.used == 2
    with clock.frozen(clock.now() + dt.timedelta(days=35)):
        services.registration_cancel(registration=registration, actor=person)
    rows = {m.period_start: m.used for m in UsageMeter.objects.filter(person=person)}
    assert rows == {used.period_start: 0}  # the month it was used in, nothing in the new one
    registration.refresh_from_db()
    assert registration.credits_used == 0


def test_an_unpaid_place_partly_paid_with_credit_on_the_account_leaves_nothing_owing():
    """Credit on the account settles part of the invoice when paying starts; the payment
    fails and the hold runs out: the invoice is no longer owed and the credit comes back."""
    from bieb.subscriptions import invoicing, ledger
    from bieb.subscriptions.models import InvoiceStatus, LineKind

    person = resident()
    concert = _concert()
    # €5 credit on the account at the same library
    earlier = invoicing.invoice_create(
        person=person,
        organisation_id=concert.organisation_id,
        lines=[invoicing.NewLine(LineKind.ACTIVITY, "Eerder", 500, 900)],
    )
    _pay(person, earlier)
    invoicing.invoice_credit(earlier, amount_cents=500, reason="Goodwill", actor=None)
    assert _credit_left(person) == 500

    registration = services.register(activity=concert, person=person)
    invoice = registration.invoice
    payment = _start_paying(person, invoice)  # the credit is used first: 750 left to pay
    invoice.refresh_from_db()
    assert (invoice.settled_cents, payment.amount_cents) == (500, 750)
    ledger.payment_mark_failed(payment, code="x", reason="geweigerd", status="canceled")
    with clock.frozen(clock.now() + services.PAYMENT_HOLD + dt.timedelta(minutes=1)):
        assert services.offers_expire() == 1
    registration.refresh_from_db()
    invoice.refresh_from_db()
    assert registration.status == RegistrationStatus.EXPIRED
    assert invoice.status in (InvoiceStatus.PAID, InvoiceStatus.VOID)
    assert _owing(person) == 0
    assert _credit_left(person) == 500
    assert _credited(invoice) == 1250


def test_a_payment_under_way_keeps_the_seat_past_the_hold_and_once_paid_it_is_kept():
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import InvoiceStatus

    person = resident()
    concert = _concert()
    registration = services.register(activity=concert, person=person)
    payment = _start_paying(person, registration.invoice)
    later = clock.now() + services.PAYMENT_HOLD + dt.timedelta(minutes=5)
    with clock.frozen(later):
        assert services.offers_expire() == 0
        ledger.payment_mark_paid(payment)
    with clock.frozen(later + dt.timedelta(minutes=15)):
        assert services.offers_expire() == 0
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.offer_expires_at is None
    assert registration.invoice.status == InvoiceStatus.PAID
    seats_add_up(concert)


def test_a_payment_that_fails_after_the_hold_gives_the_seat_back_and_voids_the_invoice():
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import InvoiceStatus

    person = resident()
    concert = _concert()
    registration = services.register(activity=concert, person=person)
    waiting = services.register(activity=concert, person=resident())
    payment = _start_paying(person, registration.invoice)
    later = clock.now() + services.PAYMENT_HOLD + dt.timedelta(minutes=5)
    with clock.frozen(later):
        assert services.offers_expire() == 0
        ledger.payment_mark_failed(payment, code="x", reason="verlopen", status="expired")
        assert services.offers_expire() == 1
        # a provider that says "paid" after all: the ledger keeps a final payment final
        ledger.payment_mark_paid(payment)
    registration.refresh_from_db()
    waiting.refresh_from_db()
    assert registration.status == RegistrationStatus.EXPIRED
    assert registration.invoice.status == InvoiceStatus.VOID
    assert waiting.status == RegistrationStatus.OFFERED
    assert _owing(person) == 0
    assert AuditEvent.objects.filter(action="subscriptions.payment_paid_refused").exists()
    seats_add_up(concert)


@pytest.mark.parametrize("outcome", ["paid", "failed"])
def test_cancelling_while_a_payment_is_under_way_settles_the_invoice_once_it_ends(outcome):
    """The invoice cannot be voided while the provider may still take the money: the seat
    goes back at once, and the round credits the money once paid, or voids the invoice
    once the payment failed. Never twice."""
    from bieb.programming import tasks
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import InvoiceStatus

    person = resident()
    concert = _concert()
    registration = services.register(activity=concert, person=person)
    waiting = services.register(activity=concert, person=resident())
    invoice = registration.invoice
    payment = _start_paying(person, invoice)
    services.registration_cancel(registration=registration, actor=person)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN  # the provider has not answered
    tasks.run_round()
    assert _credited(invoice) == 0
    if outcome == "paid":
        ledger.payment_mark_paid(payment)
    else:
        ledger.payment_mark_failed(payment, code="x", reason="geweigerd", status="failed")
    tasks.run_round()
    tasks.run_round()
    invoice.refresh_from_db()
    assert _credited(invoice) == 1250
    assert _owing(person) == 0
    if outcome == "paid":
        assert invoice.status == InvoiceStatus.PAID
        assert _credit_left(person) == 1250
    else:
        assert invoice.status == InvoiceStatus.VOID
        assert _credit_left(person) == 0


def test_cancelling_after_the_start_gives_nothing_back_and_after_the_end_is_refused():
    """Money and credits come back for a place given up before the activity; a place used
    (the course under way, the concert over) is not refunded by cancelling it afterwards,
    and what took place is not rewritten as "cancelled"."""
    from bieb.subscriptions.models import InvoiceStatus, UsageMeter

    person = resident()
    _credits_plan_for(person, 3)
    start = clock.now() + dt.timedelta(hours=1)
    concert = _concert(starts_at=start)
    course = activity(
        starts_at=start,
        rrule="FREQ=WEEKLY;COUNT=3",
        price_kind=PriceKind.CREDITS,
        credits=2,
    )
    paid = services.register(activity=concert, person=person)
    _pay(person, paid.invoice)
    used = services.register(activity=course, person=person)
    with clock.frozen(start + dt.timedelta(days=1)):
        assert codes(lambda: services.registration_cancel(registration=paid)) == "activity_over"
        services.registration_cancel(registration=used, actor=person)  # drops out half-way
    paid.refresh_from_db()
    used.refresh_from_db()
    assert paid.status == RegistrationStatus.CONFIRMED
    assert paid.invoice.status == InvoiceStatus.PAID
    assert _credited(paid.invoice) == 0
    assert used.status == RegistrationStatus.CANCELLED
    assert used.credits_used == 2
    assert UsageMeter.objects.get(person=person, meter="activity_credits").used == 2
    # a paid course left half-way while its payment was still under way: once paid, the
    # round does not give the money back either
    from bieb.programming import tasks
    from bieb.subscriptions import ledger

    other = resident()
    paid_course = _concert(starts_at=start, rrule="FREQ=WEEKLY;COUNT=3", capacity=5)
    late = services.register(activity=paid_course, person=other)
    payment = _start_paying(other, late.invoice)
    with clock.frozen(start + dt.timedelta(days=1)):
        services.registration_cancel(registration=late, actor=other)
        ledger.payment_mark_paid(payment)
        tasks.run_round()
        tasks.run_round()
    assert _credited(paid.invoice) == 0
    late.refresh_from_db()
    assert late.invoice.status == InvoiceStatus.PAID
    assert _credited(late.invoice) == 0


def test_the_library_cancelling_gives_back_credits_voids_unpaid_and_credits_paid_once():
    from bieb.programming import tasks
    from bieb.subscriptions.models import InvoiceStatus, UsageMeter

    concert = _concert(
        capacity=6,
        max_group_size=2,
        price_kind=PriceKind.CREDITS,
        credits=1,
        price_cents=1000,
        pay_at_door=True,
    )
    with_credits, paid, unpaid, at_door, under_way = (resident() for _ in range(5))
    _credits_plan_for(with_credits, 4)
    r_credits = services.register(activity=concert, person=with_credits, seats=2)
    r_paid = services.register(activity=concert, person=paid)
    r_unpaid = services.register(activity=concert, person=unpaid)
    r_door = services.register(activity=concert, person=at_door, pay_at_door=True)
    assert [r.payment for r in (r_credits, r_paid, r_unpaid, r_door)] == [
        PaymentState.CREDITS,
        PaymentState.ONLINE,
        PaymentState.ONLINE,
        PaymentState.AT_DOOR,
    ]
    _pay(paid, r_paid.invoice)
    r_way = services.register(activity=concert, person=under_way)
    _start_paying(under_way, r_way.invoice)
    programmer = staff_member("programmer", organisation=concert.organisation)
    services.activity_cancel(activity=concert, reason="Ziek.", actor=programmer)
    tasks.run_round()
    services.activity_cancel(activity=concert, reason="Nog eens.", actor=programmer)
    tasks.run_round()

    assert UsageMeter.objects.get(person=with_credits).used == 0
    for registration in (r_paid, r_unpaid, r_way):
        registration.invoice.refresh_from_db()
    assert r_unpaid.invoice.status == InvoiceStatus.VOID
    assert _credited(r_unpaid.invoice) == 1000
    assert r_paid.invoice.status == InvoiceStatus.PAID
    assert _credited(r_paid.invoice) == 1000
    assert _credit_left(paid) == 1000
    assert _owing(unpaid) == 0
    # the payment under way is still open at the provider: nothing is decided yet
    assert r_way.invoice.status == InvoiceStatus.OPEN
    assert _credited(r_way.invoice) == 0
    concert.refresh_from_db()
    assert concert.seats_taken == 0
    seats_add_up(concert)


# --- time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "rule"),
    [
        (dt.date(2026, 10, 15), "FREQ=WEEKLY;COUNT=4"),  # summer time ends on 25 October
        (dt.date(2027, 3, 18), "FREQ=WEEKLY;COUNT=3"),  # summer time starts on 28 March
        (dt.date(2026, 10, 15), "FREQ=WEEKLY;UNTIL=20261105T180000Z"),
    ],
)
def test_a_weekly_course_stays_at_19_00_across_daylight_saving_time(first, rule):
    start = at_local(first, 19)
    sessions = recurrence.sessions_of(
        starts_at=start, ends_at=start + dt.timedelta(hours=2), rrule=rule
    )
    assert len(sessions) >= 3
    for session in sessions:
        local = session.starts_at.astimezone(clock.AMSTERDAM)
        assert (local.hour, local.minute) == (19, 0)
        assert session.ends_at - session.starts_at == dt.timedelta(hours=2)
    offsets = {s.starts_at.astimezone(clock.AMSTERDAM).utcoffset() for s in sessions}
    assert len(offsets) == 2  # both sides of the change


def test_offers_and_payment_holds_never_run_past_the_start():
    starts_at = clock.now() + dt.timedelta(hours=3)
    event = activity(capacity=1, offer_hours=24, starts_at=starts_at)
    first = services.register(activity=event, person=resident())
    waiting = services.register(activity=event, person=resident())
    services.registration_cancel(registration=first)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED
    assert waiting.offer_expires_at == starts_at
    concert = _concert(starts_at=clock.now() + dt.timedelta(minutes=10))
    paid = services.register(activity=concert, person=resident())
    assert paid.offer_expires_at == concert.starts_at
    # at the start the offer ends, and nobody gets a seat after the start
    late = services.register(activity=event, person=resident())
    with clock.frozen(starts_at):
        assert services.offers_expire(activity=event) == 1
    waiting.refresh_from_db()
    late.refresh_from_db()
    assert waiting.status == RegistrationStatus.EXPIRED
    assert late.status == RegistrationStatus.WAITLISTED
    event.refresh_from_db()
    assert event.seats_taken == 0


def test_the_door_picks_the_session_under_way_or_next_before_one_that_ended():
    """A daily course of long days: early in the morning the door checks in for the day
    that is about to start, not the day before (still within its late check-in window)."""
    first = at_local(clock.today() + dt.timedelta(days=2), 8)
    course = activity(starts_at=first, duration=dt.timedelta(hours=10), rrule="FREQ=DAILY;COUNT=3")
    day1, day2, _day3 = recurrence.activity_sessions(course)
    assert services.session_at(course, day1.starts_at + dt.timedelta(hours=1)) == day1
    assert services.session_at(course, day1.ends_at + dt.timedelta(hours=2)) == day1
    early = day2.starts_at - dt.timedelta(hours=2, minutes=30)
    assert early <= day1.ends_at + services.CHECK_IN_WINDOW  # both windows hold it
    assert services.session_at(course, early) == day2
    assert services.session_at(course, day1.starts_at - dt.timedelta(hours=4)) is None


def test_reminders_go_once_per_registration_also_to_who_got_a_seat_later(
    django_capture_on_commit_callbacks,
):
    event = activity(starts_at=clock.now() + dt.timedelta(hours=30), capacity=1)
    first = services.register(activity=event, person=resident())
    waiting = services.register(activity=event, person=resident())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send() == 1
        assert services.reminders_send() == 0
        services.registration_cancel(registration=first)
        services.offer_accept(registration=waiting)
        assert services.reminders_send() == 1
        assert services.reminders_send() == 0
    reminded = [m.to[0] for m in mail.outbox if m.subject.startswith("Herinnering")]
    assert sorted(reminded) == sorted([first.person.email, waiting.person.email])


# --- mail, audit, refusals -----------------------------------------------------------------------


class FailingForOne:
    """A mail backend that cannot deliver to one address (a full mailbox, a typo)."""

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(*args, **kwargs)

    def open(self):
        return True

    def close(self):
        return None

    def send_messages(self, messages):
        if any("kapot" in to for m in messages for to in m.to):
            raise OSError("mailbox unavailable")
        return self.inner.send_messages(messages)


def test_cancelling_an_activity_tells_everyone_even_when_one_address_fails(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingForOne"
    event = activity(capacity=5)
    people = [resident(email=e) for e in ("a@example.nl", "kapot@example.nl", "c@example.nl")]
    for person in people:
        services.register(activity=event, person=person)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_cancel(activity=event, reason="Ziek.", actor=None)
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.nl", "c@example.nl"]


def test_refusals_leave_nothing_half_saved():
    from bieb.subscriptions.models import UsageMeter

    person = resident()
    _credits_plan_for(person, 1)
    workshop = activity(capacity=2, price_kind=PriceKind.CREDITS, credits=2)
    before = AuditEvent.objects.count()
    assert codes(lambda: services.register(activity=workshop, person=person)) == "no_credits"
    assert not Registration.objects.filter(activity=workshop).exists()
    assert not UsageMeter.objects.filter(person=person, used__gt=0).exists()
    assert AuditEvent.objects.count() == before
    seats_add_up(workshop)
    # an offer that cannot be paid for stays an offer, with its seat held
    full = activity(capacity=1, seats_taken=1, price_kind=PriceKind.CREDITS, credits=2)
    Registration.objects.create(
        activity=full, person=resident(), status="confirmed", token="t-" + "x" * 30
    )
    mine = services.register(activity=full, person=person)
    services.registration_cancel(registration=Registration.objects.get(token="t-" + "x" * 30))
    mine.refresh_from_db()
    assert mine.status == RegistrationStatus.OFFERED
    assert codes(lambda: services.offer_accept(registration=mine)) == "no_credits"
    mine.refresh_from_db()
    assert (mine.status, mine.credits_used, mine.payment) == ("offered", 0, "")
    seats_add_up(full)


def test_every_change_of_a_registration_is_audited():
    event = activity(capacity=1, offer_hours=1)
    first = services.register(activity=event, person=resident())
    second = services.register(activity=event, person=resident())
    visitor = services.register(activity=event, email="g@example.nl", name="G")
    services.registration_confirm_email(token=visitor.token)
    services.registration_cancel(registration=first)
    with clock.frozen(clock.now() + dt.timedelta(hours=2)):
        services.offers_expire()
    third = services.register(activity=event, person=resident())
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [
        "programming.register",
        "programming.register",
        "programming.register",
        "programming.registration_confirm_email",
        "programming.registration_cancel",
        "programming.offer",
        "programming.registration_expire",
        "programming.offer",
        "programming.register",
    ]
    assert third.status == RegistrationStatus.WAITLISTED
    assert second.pk


def test_figures_of_a_past_year_count_ages_in_that_year():
    """Twelve children of 12 came to a reading club last year: asked this year, they are
    still 5-12 in the figures per challenge, as in the activity's own figures."""
    from bieb.programming import figures
    from bieb.programming.models import Attendance
    from bieb.programming.tests.factories import registration

    last_year = clock.today().year - 1
    start = at_local(dt.date(last_year, 6, 10), 15)
    club = activity(starts_at=start, capacity=30, challenge="literate")
    for _ in range(12):
        came = registration(
            activity=club, birth_year=last_year - 12, confirmed_at=start - dt.timedelta(days=3)
        )
        Attendance.objects.create(registration=came, session_start=start, method="list")
    own = figures.activity_figures(club)
    per_challenge = figures.figures_by_challenge(organisation_ids={club.organisation_id})
    assert own.by_age_group["5-12"] == 12
    assert per_challenge["literate"].by_age_group["5-12"] == 12
    assert per_challenge["total"].by_age_group["13-17"] is None


# --- privacy -------------------------------------------------------------------------------------


def test_deleting_an_account_frees_its_seats_for_the_waitlist_and_anonymises_the_past(
    django_capture_on_commit_callbacks,
):
    from bieb.accounts.services import person_delete
    from bieb.programming import figures, privacy
    from bieb.programming.models import Attendance, CalendarFeed
    from bieb.programming.tests.factories import room
    from bieb.subscriptions.models import InvoiceStatus

    person = resident(birth_date=dt.date(1980, 5, 1))
    # the past: came to a talk (checked in), and a workshop they did not come to
    talk_start = clock.now() + dt.timedelta(hours=1)
    talk = activity(capacity=20, starts_at=talk_start)
    came = services.register(activity=talk, person=person)
    with clock.frozen(talk_start + dt.timedelta(minutes=5)):
        services.check_in(activity=talk, registration=came, actor=None)
    # now: a seat at a full activity with someone waiting, and a paid concert place (an
    # unpaid one refuses the deletion: circulation's check of what is owed runs first)
    full = activity(capacity=2, max_group_size=2, starts_at=clock.now() + dt.timedelta(days=5))
    live = services.register(activity=full, person=person, seats=2)
    waiting = services.register(activity=full, person=resident(), seats=2)
    concert = _concert(capacity=3)
    paid = services.register(activity=concert, person=person)
    _pay(person, paid.invoice)
    services.calendar_feed_for(person=person)
    request = services.room_booking_request(
        room=room(),
        person=person,
        title="Verjaardag",
        starts_at=clock.now() + dt.timedelta(days=3),
        ends_at=clock.now() + dt.timedelta(days=3, hours=2),
    )
    exported = privacy.export(person)
    assert len(exported["registrations"]) == 3

    with clock.frozen(talk_start + dt.timedelta(days=1)):
        with django_capture_on_commit_callbacks(execute=True):
            person_delete(user=person, actor=person)

        live.refresh_from_db()
        waiting.refresh_from_db()
        assert live.status == RegistrationStatus.CANCELLED
        assert waiting.status == RegistrationStatus.OFFERED
        seats_add_up(full)
        paid.refresh_from_db()
        assert paid.status == RegistrationStatus.CANCELLED
        assert paid.invoice.status == InvoiceStatus.PAID
        assert _credited(paid.invoice) == 1250  # the money is credit on the account
        seats_add_up(concert)
        came.refresh_from_db()
        assert (came.person_id, came.name, came.email) == (None, "", "")
        assert came.status == RegistrationStatus.CONFIRMED  # it took place: not cancelled
        assert came.birth_year == 1980
        assert Attendance.objects.filter(registration=came).count() == 1
        assert not Registration.objects.filter(person=person).exists()
        assert not CalendarFeed.objects.filter(person=person).exists()
        request.refresh_from_db()
        assert (request.status, request.requested_by_id) == ("cancelled", None)
        result = figures.activity_figures(talk)
    assert (result.registrations, result.attended, result.unique_participants) == (1, 1, 1)
    assert AuditEvent.objects.filter(action="programming.registration_cancel").count() == 2
    assert AuditEvent.objects.filter(action="person.deleted").exists()


def test_deleting_an_account_gives_nothing_back_for_what_took_place():
    """A paid concert and a credits workshop that took place stay as they were: no credit
    note, no credits back, not "cancelled"; only the name goes."""
    from bieb.accounts.services import person_delete
    from bieb.subscriptions.models import UsageMeter

    person = resident()
    _credits_plan_for(person, 3)
    start = clock.now() + dt.timedelta(hours=1)
    concert = _concert(starts_at=start)
    workshop = activity(starts_at=start, price_kind=PriceKind.CREDITS, credits=2)
    paid = services.register(activity=concert, person=person)
    _pay(person, paid.invoice)
    used = services.register(activity=workshop, person=person)
    with clock.frozen(start + dt.timedelta(days=1)):
        person_delete(user=person, actor=person)
    paid.refresh_from_db()
    used.refresh_from_db()
    assert (paid.status, used.status) == ("confirmed", "confirmed")
    assert paid.person_id is None and used.person_id is None
    assert _credited(paid.invoice) == 0
    assert used.credits_used == 2
    assert UsageMeter.objects.get(person=person, meter="activity_credits").used == 2


# --- any sequence of operations ------------------------------------------------------------------


LIMIT = 3  # activity credits per month of the people's plan
PEOPLE = 7


class Seats(RuleBasedStateMachine):
    """Random sequences of every operation that moves seats or money on one activity, with
    the clock moving (never past the start). After every step: the seat counter is the sum of
    the seats held, nothing is overbooked, no group that fits waits while seats are free, and
    money adds up (credits used and given back, invoices voided or credited at most once,
    nothing owed for a place that ended)."""

    def __init__(self):
        super().__init__()
        self.stack = contextlib.ExitStack()
        self.stack.enter_context(transaction.atomic())
        self.now = clock.now().replace(microsecond=0)
        self.registrations: list[int] = []
        self.visitors: list[Registration] = []

    def teardown(self):
        transaction.set_rollback(True)
        self.stack.close()

    def at(self):
        return clock.frozen(self.now)

    def attempt(self, call):
        with self.at():
            try:
                return call()
            except DomainError as refusal:
                event(f"refused {refusal.code}")
                return None

    def pick(self, index: int, *statuses: str) -> Registration | None:
        """One of the registrations made, in one of ``statuses`` when there is one (so that
        most attempts are ones a person would make), else any."""
        rows = Registration.objects.filter(pk__in=self.registrations).order_by("pk")
        if statuses and rows.filter(status__in=statuses).exists():
            rows = rows.filter(status__in=statuses)
        rows = list(rows.select_related("activity", "person"))
        return rows[index % len(rows)] if rows else None

    @initialize(
        kind=st.sampled_from(["free", "credits", "credits_or_paid", "paid", "paid_or_door"]),
        capacity=st.integers(min_value=1, max_value=4),
        group=st.integers(min_value=1, max_value=3),
    )
    def setup(self, kind, capacity, group):
        price = {
            "free": {},
            "credits": {"price_kind": PriceKind.CREDITS, "credits": 1},
            "credits_or_paid": {"price_kind": PriceKind.CREDITS, "credits": 1, "price_cents": 700},
            "paid": {"price_kind": PriceKind.PAID, "price_cents": 700},
            "paid_or_door": {"price_kind": PriceKind.PAID, "price_cents": 700, "pay_at_door": True},
        }[kind]
        with self.at():
            self.activity = activity(
                capacity=capacity,
                max_group_size=group,
                offer_hours=1,
                starts_at=self.now + dt.timedelta(days=2),
                **price,
            )
            self.people = [resident() for _ in range(PEOPLE)]
            if kind.startswith("credits"):
                for person in self.people[:-1]:
                    _credits_plan_for(person, LIMIT)

    # --- operations

    @rule(who=st.integers(0, PEOPLE - 1), seats=st.integers(1, 4), door=st.booleans())
    def register(self, who, seats, door):
        # mostly what the form allows (a group up to the limit, the door where it may)
        seats = seats if seats == 4 else min(seats, self.activity.max_group_size)
        door = door and self.activity.pay_at_door
        made = self.attempt(
            lambda: services.register(
                activity=self.activity, person=self.people[who], seats=seats, pay_at_door=door
            )
        )
        if made is not None:
            self.registrations.append(made.pk)

    @rule(who=st.integers(0, PEOPLE - 1), seats=st.integers(1, 3))
    def register_again(self, who, seats):
        """The same, more often (most of life is people registering)."""
        self.register(who, seats, door=False)

    @rule(who=st.integers(0, 1), seats=st.integers(1, 3))
    def register_visitor(self, who, seats):
        if not (self.activity.is_free or self.activity.pay_at_door) and seats > 1:
            return  # refused (``account_needed``) once in a while is enough
        seats = min(seats, self.activity.max_group_size)
        made = self.attempt(
            lambda: services.register(
                activity=self.activity, email=f"gast{who}@example.nl", name="Gast", seats=seats
            )
        )
        if made is not None:
            self.registrations.append(made.pk)

    @rule(index=st.integers(0, 30))
    def confirm_email(self, index):
        registration = self.pick(index, RegistrationStatus.UNCONFIRMED)
        if registration is not None:
            self.attempt(lambda: services.registration_confirm_email(token=registration.token))

    @rule(index=st.integers(0, 30))
    def cancel(self, index):
        registration = self.pick(index, *LIVE_STATUSES)
        if registration is not None:
            self.attempt(lambda: services.registration_cancel(registration=registration))

    @rule(index=st.integers(0, 30))
    def cancel_a_seat(self, index):
        registration = self.pick(index, *SEATED_STATUSES)
        if registration is not None:
            self.attempt(lambda: services.registration_cancel(registration=registration))

    @rule(index=st.integers(0, 30), door=st.booleans())
    def accept(self, index, door):
        registration = self.pick(index, RegistrationStatus.OFFERED)
        if registration is not None:
            self.attempt(lambda: services.offer_accept(registration=registration, pay_at_door=door))

    @rule(minutes=st.sampled_from([5, 31, 61, 6 * 60, 25 * 60]))
    def wait(self, minutes):
        later = self.now + dt.timedelta(minutes=minutes)
        if later < self.activity.starts_at - dt.timedelta(hours=1):
            self.now = later

    @rule()
    def expire(self):
        self.attempt(lambda: services.offers_expire())

    @rule()
    def round(self):
        from bieb.programming import tasks

        self.attempt(lambda: tasks.run_round(self.now))
        self.check_nothing_pending()

    @rule(capacity=st.integers(0, 8), rarely=st.integers(0, 2))
    def change_capacity(self, capacity, rarely):
        if rarely:
            return
        data = services.ActivityInput.of(self.activity)
        data.capacity = capacity
        self.attempt(
            lambda: services.activity_update(activity=self.activity, data=data, actor=None)
        )

    @rule(index=st.integers(0, 30), pay=st.booleans(), start_only=st.booleans())
    def payment(self, index, pay, start_only):
        """Start paying an open invoice, and let the provider answer paid or failed (or not
        yet)."""
        from bieb.subscriptions import ledger
        from bieb.subscriptions.models import Payment

        registration = self.pick(index, RegistrationStatus.CONFIRMED)
        if registration is None or registration.invoice_id is None or not registration.person:
            return
        payment = Payment.objects.filter(
            allocations__invoice_id=registration.invoice_id, status__in=ledger.IN_FLIGHT
        ).first()
        with self.at():
            if payment is None:
                payment = self.attempt(
                    lambda: _start_paying(registration.person, registration.invoice)
                )
                if payment is None or start_only:
                    return
            if pay:
                ledger.payment_mark_paid(payment)
            else:
                ledger.payment_mark_failed(payment, code="x", reason="x", status="failed")

    @precondition(lambda self: self.activity.status != "cancelled" and len(self.registrations) >= 6)
    @rule(data=st.data())
    def cancel_activity(self, data):
        if data.draw(st.integers(0, 19), label="rarely") == 0:
            self.attempt(
                lambda: services.activity_cancel(activity=self.activity, reason="Ziek.", actor=None)
            )
            self.activity.refresh_from_db()

    @precondition(lambda self: len(self.registrations) >= 4)
    @rule(who=st.integers(0, PEOPLE - 1), rarely=st.integers(0, 3))
    def delete_account(self, who, rarely):
        from bieb.accounts.services import person_delete

        person = self.people[who]
        person.refresh_from_db()
        if person.is_active and rarely == 0:
            self.attempt(lambda: person_delete(user=person, actor=person))

    # --- invariants

    @invariant()
    def seats_add_up(self):
        with self.at():
            seats_add_up(self.activity)
        if self.activity.status == "cancelled":
            assert not Registration.objects.filter(
                activity=self.activity, status__in=LIVE_STATUSES
            ).exists()

    @invariant()
    def credits_add_up(self):
        from bieb.subscriptions.models import UsageMeter

        rows = Registration.objects.filter(activity=self.activity)
        for registration in rows:
            if registration.status in (RegistrationStatus.CANCELLED, RegistrationStatus.EXPIRED):
                assert registration.credits_used == 0
            elif registration.payment == PaymentState.CREDITS:
                assert registration.status == RegistrationStatus.CONFIRMED
                assert registration.credits_used == registration.seats
        for person in self.people:
            meters = UsageMeter.objects.filter(person=person, meter="activity_credits")
            assert all(m.used <= LIMIT for m in meters)
            used = sum(m.used for m in meters)
            assert (
                used == sum(r.credits_used for r in Registration.objects.filter(person=person))
                or not person.is_active
            )  # deleted: the rows no longer name them

    @invariant()
    def invoices_add_up(self):
        from bieb.subscriptions.models import InvoiceStatus

        for registration in Registration.objects.filter(
            activity=self.activity, invoice__isnull=False
        ).select_related("invoice"):
            invoice = registration.invoice
            assert invoice.total_cents == 700 * registration.seats
            assert _credited(invoice) in (0, invoice.total_cents)
            if registration.status == RegistrationStatus.CONFIRMED:
                assert invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)
                assert _credited(invoice) == 0
            elif registration.status in (
                RegistrationStatus.CANCELLED,
                RegistrationStatus.EXPIRED,
            ):
                # voided or credited in full; or, when it ended while a payment was under way,
                # left for the round to settle once the provider has answered
                assert _credited(invoice) == invoice.total_cents or invoice.status in (
                    InvoiceStatus.OPEN,
                    InvoiceStatus.PAID,
                )

    def check_nothing_pending(self):
        """Right after the round: every ended place without a payment under way is settled,
        and nobody owes anything for one."""
        from bieb.subscriptions.models import InvoiceStatus

        for registration in Registration.objects.filter(
            activity=self.activity,
            invoice__isnull=False,
            status__in=(RegistrationStatus.CANCELLED, RegistrationStatus.EXPIRED),
        ).select_related("invoice"):
            invoice = registration.invoice
            if not _under_way(invoice):
                assert _credited(invoice) == invoice.total_cents
                assert invoice.status in (InvoiceStatus.PAID, InvoiceStatus.VOID)


def _under_way(invoice) -> bool:
    from bieb.subscriptions import payments

    return bool(payments.under_way([invoice.pk]))


def test_seats_and_money_add_up_after_any_sequence_of_operations():
    run_state_machine_as_test(
        Seats,
        settings=hypothesis_settings(
            max_examples=int(os.environ.get("BIEB_SEATS_EXAMPLES", "40")),
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
