"""The services of programming: activities, registrations, waitlists, money and rooms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from bieb.accounts.tests.factories import UserFactory, staff_member, years_ago
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.programming import recurrence, services
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    Attendance,
    PaymentState,
    PriceKind,
    Registration,
    RegistrationStatus,
    RoomBooking,
)
from bieb.programming.tests.factories import activity, location, room, tomorrow_at

pytestmark = pytest.mark.django_db


def resident(**kw):
    kw.setdefault("email_verified_at", clock.now())
    return UserFactory(**kw)


def codes(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_a_resident_gets_a_seat_and_a_mail_with_the_link(django_capture_on_commit_callbacks):
    event = activity(capacity=2)
    person = resident()
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(activity=event, person=person)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.payment == PaymentState.NONE
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert len(mail.outbox) == 1
    assert registration.token in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="programming.register").count() == 1


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"status": ActivityStatus.CANCELLED}, "activity_cancelled"),
        ({"status": ActivityStatus.DRAFT}, "activity_not_found"),
        ({"capacity": 0}, "no_registration"),
    ],
)
def test_closed_activities_refuse(setup, code):
    event = activity(**setup)
    assert codes(lambda: services.register(activity=event, person=resident())) == code
    assert not Registration.objects.exists()


def test_started_activity_refuses():
    event = activity(starts_at=clock.now() - dt.timedelta(minutes=5))
    assert codes(lambda: services.register(activity=event, person=resident())) == "activity_started"


def test_twice_group_too_big_unconfirmed_email_and_young_without_consent_refuse():
    event = activity(capacity=10, max_group_size=3)
    person = resident()
    services.register(activity=event, person=person)
    assert codes(lambda: services.register(activity=event, person=person)) == "already_registered"
    assert (
        codes(lambda: services.register(activity=event, person=resident(), seats=4))
        == "too_many_seats"
    )
    assert (
        codes(lambda: services.register(activity=event, person=resident(), seats=0))
        == "seats_invalid"
    )
    assert (
        codes(lambda: services.register(activity=event, person=UserFactory()))
        == "email_unconfirmed"
    )
    child = resident(birth_date=years_ago(12))
    assert codes(lambda: services.register(activity=event, person=child)) == "consent_required"
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert Registration.objects.count() == 1


def test_waitlist_in_order_cancel_offers_first_that_fits_and_expiry_moves_on(
    django_capture_on_commit_callbacks,
):
    event = activity(capacity=3, max_group_size=3, offer_hours=2)
    a, b, c, d = (resident() for _ in range(4))
    ra = services.register(activity=event, person=a, seats=3)
    rb = services.register(activity=event, person=b, seats=2)
    rc = services.register(activity=event, person=c, seats=1)
    rd = services.register(activity=event, person=d, seats=3)
    assert [r.status for r in (ra, rb, rc, rd)] == [
        "confirmed",
        "waitlisted",
        "waitlisted",
        "waitlisted",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=ra, actor=a)
    rb.refresh_from_db()
    rc.refresh_from_db()
    rd.refresh_from_db()
    # three seats free: b (2) and then c (1) fit; d (3) waits
    assert (rb.status, rc.status, rd.status) == ("offered", "offered", "waitlisted")
    assert {m.to[0] for m in mail.outbox} >= {b.email, c.email}
    event.refresh_from_db()
    assert event.seats_taken == 3

    services.offer_accept(registration=rb, actor=b)
    rb.refresh_from_db()
    assert rb.status == RegistrationStatus.CONFIRMED
    # c lets the offer pass: after the deadline it expires, its seat is offered on
    with clock.frozen(clock.now() + dt.timedelta(hours=3)):
        assert codes(lambda: services.offer_accept(registration=rc, actor=c)) == "offer_expired"
    rc.refresh_from_db()
    rd.refresh_from_db()
    assert rc.status == RegistrationStatus.EXPIRED
    assert rd.status == RegistrationStatus.WAITLISTED  # 1 free seat, d needs 3
    event.refresh_from_db()
    assert event.seats_taken == 2


def test_a_visitor_confirms_by_link_before_getting_a_seat(django_capture_on_commit_callbacks):
    event = activity(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        visitor = services.register(activity=event, email="Gast@Example.nl", name="Gast")
    assert visitor.status == RegistrationStatus.UNCONFIRMED
    assert visitor.email == "gast@example.nl"
    assert visitor.token in mail.outbox[0].body
    event.refresh_from_db()
    assert event.seats_taken == 0
    assert (
        codes(lambda: services.register(activity=event, email="gast@example.nl", name="Gast"))
        == "already_registered"
    )
    confirmed = services.registration_confirm_email(token=visitor.token)
    assert confirmed.status == RegistrationStatus.CONFIRMED
    assert services.registration_confirm_email(token=visitor.token).status == "confirmed"
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_an_unconfirmed_visitor_expires():
    event = activity(capacity=1, starts_at=clock.now() + dt.timedelta(days=5))
    visitor = services.register(activity=event, email="gast@example.nl", name="Gast")
    with clock.frozen(clock.now() + dt.timedelta(hours=services.EMAIL_CONFIRM_HOURS + 1)):
        assert services.offers_expire() == 1
        assert codes(lambda: services.registration_confirm_email(token=visitor.token)) == (
            "registration_not_live"
        )


def test_visitors_cannot_take_paid_places_without_paying_at_the_door():
    event = activity(price_kind=PriceKind.PAID, price_cents=500)
    assert (
        codes(lambda: services.register(activity=event, email="g@example.nl", name="G"))
        == "account_needed"
    )
    door = activity(price_kind=PriceKind.PAID, price_cents=500, pay_at_door=True)
    visitor = services.register(activity=door, email="g@example.nl", name="G")
    visitor = services.registration_confirm_email(token=visitor.token)
    assert visitor.payment == PaymentState.AT_DOOR


def _credits_plan_for(person, credits: int):
    from bieb.subscriptions import services as subscription_services
    from bieb.subscriptions.tests.factories import plan

    offer = plan(activity_credits_per_month=credits, physical_loans=5)
    subscription_services.subscribe(person=person, plan_code=offer.code, interval="month")
    return offer


def test_credits_are_used_and_given_back():
    from bieb.subscriptions.selectors import usage_of

    person = resident(birth_date=years_ago(40))
    _credits_plan_for(person, 3)
    workshop = activity(price_kind=PriceKind.CREDITS, credits=2, max_group_size=2)

    def credits_used():
        return next(m.used for m in usage_of(person).meters if m.meter == "activity_credits")

    registration = services.register(activity=workshop, person=person)
    assert registration.payment == PaymentState.CREDITS
    assert credits_used() == 2
    other = activity(price_kind=PriceKind.CREDITS, credits=2)
    assert codes(lambda: services.register(activity=other, person=person)) == "no_credits"
    assert not Registration.objects.filter(activity=other).exists()
    services.registration_cancel(registration=registration, actor=person)
    assert credits_used() == 0
    assert services.register(activity=other, person=person).payment == PaymentState.CREDITS


def test_paid_online_makes_an_invoice_and_an_unpaid_seat_goes_back():
    from bieb.subscriptions.models import InvoiceStatus, LineKind

    person = resident(birth_date=years_ago(40))
    concert = activity(
        capacity=1,
        price_kind=PriceKind.PAID,
        price_cents=1250,
        starts_at=clock.now() + dt.timedelta(days=3),
    )
    registration = services.register(activity=concert, person=person)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.payment == PaymentState.ONLINE
    invoice = registration.invoice
    assert invoice.total_cents == 1250
    assert invoice.organisation_id == concert.organisation_id
    assert list(invoice.lines.values_list("kind", flat=True)) == [LineKind.ACTIVITY]
    waiting = services.register(activity=concert, person=resident())
    assert waiting.status == RegistrationStatus.WAITLISTED

    with clock.frozen(clock.now() + services.PAYMENT_HOLD + dt.timedelta(minutes=1)):
        assert services.offers_expire() == 1
    registration.refresh_from_db()
    invoice.refresh_from_db()
    waiting.refresh_from_db()
    assert registration.status == RegistrationStatus.EXPIRED
    assert invoice.status == InvoiceStatus.VOID
    assert waiting.status == RegistrationStatus.OFFERED


def test_paid_and_then_cancelled_by_the_library_is_credited():
    from bieb.subscriptions import ledger
    from bieb.subscriptions.models import Invoice, InvoiceStatus, PaymentMethod

    person = resident(birth_date=years_ago(40))
    concert = activity(price_kind=PriceKind.PAID, price_cents=1000, max_group_size=2)
    registration = services.register(activity=concert, person=person, seats=2)
    invoice = registration.invoice
    assert invoice.total_cents == 2000
    payment = ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    ledger.payment_mark_paid(payment)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    programmer = staff_member("programmer", organisation=concert.organisation)
    services.activity_cancel(activity=concert, reason="De spreker is ziek.", actor=programmer)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED
    credit = Invoice.objects.get(corrects=invoice)
    assert abs(credit.total_cents) == 2000


def test_cancelling_an_activity_tells_everyone_and_frees_the_room(
    django_capture_on_commit_callbacks,
):
    hall = room(capacity=40)
    programmer = staff_member("programmer", organisation=hall.location.organisation)
    data = services.ActivityInput(
        kind="course",
        title="Klik & Tik",
        summary="Leer de computer kennen.",
        audience="seniors",
        challenge="information_society",
        location_id=hall.location_id,
        room_id=hall.pk,
        starts_at=tomorrow_at(10),
        ends_at=tomorrow_at(12),
        rrule="FREQ=WEEKLY;COUNT=4",
        capacity=10,
    )
    course = services.activity_create(
        organisation=hall.location.organisation, data=data, actor=programmer
    )
    assert course.status == ActivityStatus.DRAFT
    services.activity_publish(activity=course, actor=programmer)
    assert RoomBooking.objects.filter(activity=course, status="approved").count() == 4
    people = [resident() for _ in range(3)]
    for person in people:
        services.register(activity=course, person=person)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_cancel(activity=course, reason="De docent is ziek.", actor=programmer)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all("De docent is ziek." in m.body for m in mail.outbox)
    assert not Registration.objects.filter(activity=course, status="confirmed").exists()
    assert not RoomBooking.objects.filter(activity=course, status="approved").exists()


def test_publishing_into_a_taken_room_refuses_and_writes_nothing():
    hall = room(capacity=40)
    programmer = staff_member("programmer", organisation=hall.location.organisation)
    other = services.room_booking_request(
        room=hall,
        person=resident(),
        title="Buurtavond",
        starts_at=tomorrow_at(10) + dt.timedelta(days=7),
        ends_at=tomorrow_at(11) + dt.timedelta(days=7),
    )
    services.room_booking_decide(booking=other, approve=True, actor=programmer)
    data = services.ActivityInput(
        kind="series",
        title="Voorlezen",
        summary="Voorlezen voor peuters.",
        audience="toddlers",
        challenge="literate",
        location_id=hall.location_id,
        room_id=hall.pk,
        starts_at=tomorrow_at(10),
        ends_at=tomorrow_at(11),
        rrule="FREQ=WEEKLY;COUNT=3",
        capacity=10,
    )
    series = services.activity_create(
        organisation=hall.location.organisation, data=data, actor=programmer
    )
    assert (
        codes(lambda: services.activity_publish(activity=series, actor=programmer)) == "room_taken"
    )
    series.refresh_from_db()
    assert series.status == ActivityStatus.DRAFT
    assert not RoomBooking.objects.filter(activity=series).exists()
    # with the clashing session left out it publishes
    data.exdates = [(tomorrow_at(10) + dt.timedelta(days=7)).date().isoformat()]
    services.activity_update(activity=series, data=data, actor=programmer)
    services.activity_publish(activity=series, actor=programmer)
    assert RoomBooking.objects.filter(activity=series, status="approved").count() == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"rrule": "FREQ=WEEKLY"}, "rrule_invalid"),
        ({"rrule": "FREQ=WEKELIJKS;COUNT=3"}, "rrule_invalid"),
        ({"rrule": "FREQ=MINUTELY;COUNT=3"}, "rrule_invalid"),
        ({"ends_at": "before"}, "ends_before_start"),
        ({"title": "  "}, "title_required"),
        ({"price_kind": "paid"}, "price_required"),
        ({"age_min": 12, "age_max": 4}, "age_range_invalid"),
        ({"exdates": ["morgen"]}, "exdate_invalid"),
        ({"max_group_size": 0}, "group_size_invalid"),
    ],
)
def test_bad_activity_input_is_refused_with_nothing_saved(change, code):
    place = location()
    data = services.ActivityInput(
        kind="event",
        title="Debat",
        summary="Over de stad.",
        audience="adults",
        challenge="lifelong",
        location_id=place.pk,
        starts_at=tomorrow_at(20),
        ends_at=tomorrow_at(22),
        capacity=50,
    )
    for key, value in change.items():
        setattr(data, key, tomorrow_at(19) if value == "before" else value)
    assert (
        codes(
            lambda: services.activity_create(organisation=place.organisation, data=data, actor=None)
        )
        == code
    )
    assert not Activity.objects.exists()


def test_capacity_cannot_drop_below_seats_taken_and_more_capacity_offers_seats():
    event = activity(capacity=1)
    programmer = staff_member("programmer", organisation=event.organisation)
    first, second = resident(), resident()
    services.register(activity=event, person=first)
    waiting = services.register(activity=event, person=second)
    data = services.ActivityInput.of(event)
    data.capacity = 0
    assert codes(lambda: services.activity_update(activity=event, data=data, actor=programmer)) in (
        "capacity_below_taken",
    )
    data.capacity = 2
    services.activity_update(activity=event, data=data, actor=programmer)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED


def test_duplicate_makes_a_draft_a_week_later():
    event = activity(rrule="FREQ=WEEKLY;COUNT=3", title="Taalcafé")
    copy = services.activity_duplicate(activity=event, actor=None)
    assert copy.status == ActivityStatus.DRAFT
    assert copy.title == "Taalcafé"
    assert copy.slug != event.slug
    assert copy.starts_at == event.starts_at + dt.timedelta(weeks=1)
    assert len(recurrence.activity_sessions(copy)) == 3
    assert copy.duplicated_from_id == event.pk


def test_check_in_by_scan_once_per_session_and_only_with_a_seat():
    event = activity(starts_at=clock.now() + dt.timedelta(minutes=30), capacity=1)
    desk = staff_member("desk", organisation=event.organisation)
    seated = services.register(activity=event, person=resident())
    waiting = services.register(activity=event, person=resident())
    link = f"http://127.0.0.1:8000/aanmelding/{seated.token}"
    attendance, created = services.check_in(activity=event, token=link, actor=desk)
    assert created
    again, created_again = services.check_in(activity=event, token=seated.token, actor=desk)
    assert not created_again and again.pk == attendance.pk
    assert (
        codes(lambda: services.check_in(activity=event, token=waiting.token, actor=desk))
        == "not_confirmed"
    )
    other = activity()
    assert (
        codes(lambda: services.check_in(activity=other, token=seated.token, actor=desk))
        == "wrong_activity"
    )
    assert (
        codes(lambda: services.check_in(activity=event, token="nonsense", actor=desk))
        == "registration_not_found"
    )
    assert Attendance.objects.count() == 1


def test_reminders_go_once_to_seated_people(django_capture_on_commit_callbacks):
    event = activity(starts_at=clock.now() + dt.timedelta(hours=20), capacity=1)
    seated = services.register(activity=event, person=resident())
    services.register(activity=event, person=resident())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send() == 1
    assert services.reminders_send() == 0
    assert mail.outbox[0].to == [seated.person.email]


def test_overlapping_approved_bookings_are_refused_by_the_database():
    hall = room()
    start = tomorrow_at(14)
    RoomBooking.objects.create(
        room=hall,
        title="A",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        status="approved",
    )
    # touching is fine
    RoomBooking.objects.create(
        room=hall,
        title="B",
        starts_at=start + dt.timedelta(hours=2),
        ends_at=start + dt.timedelta(hours=3),
        status="approved",
    )
    # a request may overlap; approving it may not
    request = RoomBooking.objects.create(
        room=hall,
        title="C",
        starts_at=start + dt.timedelta(hours=1),
        ends_at=start + dt.timedelta(hours=4),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.filter(pk=request.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.create(
            room=hall,
            title="D",
            starts_at=start - dt.timedelta(hours=1),
            ends_at=start + dt.timedelta(minutes=1),
            status="approved",
        )
    # another room at the same time is fine
    RoomBooking.objects.create(
        room=room(),
        title="E",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        status="approved",
    )


def test_figures_count_registrations_attendance_no_shows_and_hide_small_age_groups():
    from bieb.programming import figures

    start = clock.now() + dt.timedelta(hours=1)
    event = activity(starts_at=start, capacity=30, challenge="literate")
    desk = staff_member("desk", organisation=event.organisation)
    adults = [
        services.register(activity=event, person=resident(birth_date=years_ago(30)))
        for _ in range(12)
    ]
    from bieb.subscriptions.tests.factories import youth

    kids = [
        services.register(activity=event, person=youth(email_verified_at=clock.now()))
        for _ in range(2)
    ]
    visitor = services.registration_confirm_email(
        token=services.register(activity=event, email="gast@example.nl", name="Gast").token
    )
    services.registration_cancel(registration=adults[-1])
    with clock.frozen(start + dt.timedelta(minutes=5)):
        for registration in [*adults[:10], kids[0], visitor]:
            services.check_in(activity=event, registration=registration, actor=desk)
    with clock.frozen(start + dt.timedelta(hours=3)):
        result = figures.activity_figures(event)
        per_challenge = figures.figures_by_challenge(organisation_ids={event.organisation_id})
    assert result.registrations == 15  # 12 + 2 + the visitor; the cancelled one had a seat
    assert result.attended == 12
    assert result.unique_participants == 12
    assert result.no_shows == 2  # adults[10] and kids[1]
    assert result.by_age_group["18-64"] == 10
    assert result.by_age_group["5-12"] is None  # one child of 12: too few to show
    assert result.by_age_group["unknown"] is None
    assert per_challenge["literate"].attended == 12
    assert per_challenge["total"].unique_participants == 12
    assert per_challenge["lifelong"].registrations == 0


def test_the_requester_hears_the_decision_and_past_requests_cannot_be_approved(
    django_capture_on_commit_callbacks,
):
    hall = room()
    manager = staff_member("manager", organisation=hall.location.organisation)
    asker = resident()
    start = tomorrow_at(14)
    booking = services.room_booking_request(
        room=hall,
        person=asker,
        title="Repair Café",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
    )
    late = services.room_booking_request(
        room=hall,
        person=asker,
        title="Koor",
        starts_at=start + dt.timedelta(hours=3),
        ends_at=start + dt.timedelta(hours=4),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.room_booking_decide(
            booking=booking, approve=True, actor=manager, note="Sleutel bij de balie."
        )
    assert mail.outbox[-1].to == [asker.email]
    assert "Sleutel bij de balie." in mail.outbox[-1].body
    with clock.frozen(start + dt.timedelta(hours=5)):
        assert (
            codes(lambda: services.room_booking_decide(booking=late, approve=True, actor=manager))
            == "booking_past"
        )


def test_activities_stay_at_own_locations_or_partner_venues_and_known_works():
    own = location()
    elsewhere = location()
    data = services.ActivityInput(
        kind="event",
        title="Debat",
        summary="Over de stad.",
        audience="adults",
        challenge="lifelong",
        location_id=elsewhere.pk,
        starts_at=tomorrow_at(20),
        ends_at=tomorrow_at(22),
    )
    assert (
        codes(
            lambda: services.activity_create(organisation=own.organisation, data=data, actor=None)
        )
        == "location_unknown"
    )
    data.location_id = own.pk
    data.work_ids = [987654]
    assert (
        codes(
            lambda: services.activity_create(organisation=own.organisation, data=data, actor=None)
        )
        == "work_unknown"
    )
    assert not Activity.objects.exists()
