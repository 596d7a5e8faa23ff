"""Never overbooked: registrations, cancellations and room bookings racing on the same rows,
on SQLite (one writer at a time, BEGIN IMMEDIATE) and PostgreSQL (the conditional UPDATE,
row locks and the exclusion constraint). Invariants are checked in the database afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.db.models import Sum

from bieb.accounts.tests.factories import UserFactory, staff_member
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.programming import services
from bieb.programming.models import (
    LIVE_STATUSES,
    SEATED_STATUSES,
    Activity,
    Registration,
    RegistrationStatus,
    RoomBooking,
)
from bieb.programming.tests.factories import activity, registration, room, tomorrow_at

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls: list[Callable[[], object]], *, connections_at_most: int) -> list[object]:
    """Run ``calls`` in threads released together at a barrier. At most
    ``connections_at_most`` hold a database connection at a time (as an application
    server's pool does: PostgreSQL here allows 100 connections); the others queue for one.
    Each result is a return value or the code of the ``DomainError`` raised."""
    barrier = threading.Barrier(len(calls))
    pool = threading.BoundedSemaphore(connections_at_most)
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            with pool:
                try:
                    results[index] = call()
                finally:
                    connection.close()
        except DomainError as exc:
            results[index] = exc.code
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    connections.close_all()
    return results


def _pool_size() -> int:
    return 200 if connection.vendor == "sqlite" else 60


def _people(n: int) -> list:
    now = clock.now()
    return [UserFactory(email_verified_at=now) for _ in range(n)]


def test_200_at_once_for_20_seats_gives_20_confirmed_and_the_rest_waiting_in_order():
    event = activity(capacity=20)
    people = _people(200)

    def register(person):
        return lambda: services.register(activity=event, person=person).status

    results = at_once([register(p) for p in people], connections_at_most=_pool_size())

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(RegistrationStatus.CONFIRMED) == 20
    assert results.count(RegistrationStatus.WAITLISTED) == 180
    event.refresh_from_db()
    assert event.seats_taken == 20
    rows = list(Registration.objects.filter(activity=event).order_by("pk"))
    assert len(rows) == 200
    assert sum(r.seats for r in rows if r.status in SEATED_STATUSES) == 20
    # nobody got a seat after someone was put on the waitlist: arrival order is kept
    first_waiting = next(i for i, r in enumerate(rows) if r.status == RegistrationStatus.WAITLISTED)
    assert all(r.status == RegistrationStatus.WAITLISTED for r in rows[first_waiting:])
    assert len({r.person_id for r in rows}) == 200


def test_one_person_twice_at_once_registers_once():
    event = activity(capacity=5)
    (person,) = _people(1)
    results = at_once(
        [lambda: services.register(activity=event, person=person).status] * 8,
        connections_at_most=_pool_size(),
    )
    assert results.count(RegistrationStatus.CONFIRMED) == 1
    assert results.count("already_registered") == 7
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_groups_and_cancellations_at_once_never_overbook():
    event = activity(capacity=12, max_group_size=4)
    people = _people(30)
    first = [services.register(activity=event, person=p, seats=3) for p in people[:4]]
    assert [r.status for r in first] == [RegistrationStatus.CONFIRMED] * 4

    def join(person, seats):
        return lambda: services.register(activity=event, person=person, seats=seats).status

    def leave(registration):
        return lambda: services.registration_cancel(registration=registration).status

    calls = [join(p, 1 + i % 4) for i, p in enumerate(people[4:])] + [leave(r) for r in first]
    results = at_once(calls, connections_at_most=_pool_size())
    assert not [r for r in results if isinstance(r, Exception)], results

    event.refresh_from_db()
    seated = Registration.objects.filter(activity=event, status__in=SEATED_STATUSES).aggregate(
        n=Sum("seats")
    )["n"]
    assert event.seats_taken == seated
    assert event.seats_taken <= event.capacity
    # seats that came free were offered at once: none left idle while a fitting group waits
    left = event.capacity - event.seats_taken
    waiting = Registration.objects.filter(activity=event, status=RegistrationStatus.WAITLISTED)
    assert not waiting.filter(seats__lte=left).exists()


def test_overlapping_approvals_at_once_approve_one():
    hall = room(capacity=50)
    from bieb.accounts.tests.factories import staff_member

    manager = staff_member("manager", organisation=hall.location.organisation)
    start = tomorrow_at(14)
    requests = [
        services.room_booking_request(
            room=hall,
            person=UserFactory(),
            title=f"Buurtavond {i}",
            starts_at=start,
            ends_at=tomorrow_at(16 + i % 2),
        )
        for i in range(10)
    ]
    results = at_once(
        [
            (
                lambda b=b: (
                    services.room_booking_decide(booking=b, approve=True, actor=manager).status
                )
            )
            for b in requests
        ],
        connections_at_most=_pool_size(),
    )
    assert results.count("approved") == 1
    assert results.count("room_taken") == 9
    assert RoomBooking.objects.filter(room=hall, status="approved").count() == 1


def test_seats_taken_can_never_pass_capacity_in_the_database():
    from django.db import IntegrityError, transaction

    event = activity(capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=event.pk).update(seats_taken=3)


def _seats_add_up(event) -> None:
    event.refresh_from_db()
    seated = Registration.objects.filter(activity=event, status__in=SEATED_STATUSES).aggregate(
        n=Sum("seats")
    )["n"]
    assert event.seats_taken == (seated or 0)
    assert event.seats_taken <= event.capacity
    if event.status == "published":
        left = event.capacity - event.seats_taken
        waiting = Registration.objects.filter(activity=event, status=RegistrationStatus.WAITLISTED)
        assert not waiting.filter(seats__lte=left).exists()


def _mixed_crowd(event, people, *, seated: int, waiting: int, offered_stale: int):
    """``seated`` confirmed, then ``waiting`` on the waitlist (groups of 1 to 3); the first
    seated cancel so that seats are offered, and ``offered_stale`` of the offers ran out."""
    import datetime as dt

    rows = [services.register(activity=event, person=p) for p in people[:seated]]
    rows += [
        services.register(activity=event, person=p, seats=1 + i % 3)
        for i, p in enumerate(people[seated : seated + waiting])
    ]
    for first in rows[:3]:
        services.registration_cancel(registration=first)
    offered = list(Registration.objects.filter(activity=event, status="offered").order_by("pk"))
    for stale in offered[:offered_stale]:
        Registration.objects.filter(pk=stale.pk).update(
            offer_expires_at=clock.now() - dt.timedelta(minutes=1)
        )
    return rows, offered


def test_cancellations_registrations_accepts_and_expiry_at_once_keep_the_seats_exact():
    """Every path that changes seats, at once on one activity: people cancel (seated and
    waiting), newcomers register, offers are accepted while some ran out, and the round and
    the registrations' own expiry end the stale offers. No deadlock, no error, seats exact."""
    event = activity(capacity=10, max_group_size=3)
    people = _people(40)
    rows, offered = _mixed_crowd(event, people, seated=10, waiting=14, offered_stale=1)
    assert offered
    seated = [r for r in rows if r.status == RegistrationStatus.CONFIRMED][3:9]
    waiting = [r for r in rows if r.status == RegistrationStatus.WAITLISTED][-4:]

    def leave(registration):
        return lambda: services.registration_cancel(registration=registration).status

    def join(person, seats):
        return lambda: services.register(activity=event, person=person, seats=seats).status

    def accept(registration):
        return lambda: services.offer_accept(registration=registration).status

    calls = (
        [leave(r) for r in seated + waiting]
        + [join(p, 1 + i % 2) for i, p in enumerate(people[24:36])]
        + [accept(r) for r in offered]
        + [lambda: services.offers_expire()] * 3
        + [lambda: services.offers_expire(activity=event)] * 2
    )
    results = at_once(calls, connections_at_most=_pool_size())
    assert not [r for r in results if isinstance(r, Exception)], results
    _seats_add_up(event)


def test_the_library_cancels_while_people_cancel_accept_and_register():
    event = activity(capacity=8, max_group_size=3)
    people = _people(30)
    rows, offered = _mixed_crowd(event, people, seated=8, waiting=10, offered_stale=0)
    programmer = staff_member("programmer", organisation=event.organisation)
    seated = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
    calls = (
        [lambda r=r: services.registration_cancel(registration=r).status for r in seated]
        + [lambda r=r: services.offer_accept(registration=r).status for r in offered]
        + [lambda p=p: services.register(activity=event, person=p).status for p in people[18:24]]
        + [
            lambda: (
                services.activity_cancel(activity=event, reason="Ziek.", actor=programmer)
                and "cancelled"
            )
        ]
        + [lambda: services.offers_expire()] * 2
    )
    results = at_once(calls, connections_at_most=_pool_size())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert "cancelled" in results
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert event.seats_taken == 0
    assert not Registration.objects.filter(activity=event, status__in=LIVE_STATUSES).exists()


def test_the_round_and_cancellations_of_paid_places_at_once_do_not_deadlock():
    """The round ends unpaid places of several activities of one library (voiding their
    invoices takes the library's invoice counter) while people cancel paid places of those
    activities (their invoices are voided too: the same counter)."""
    import datetime as dt

    from bieb.accounts.tests.factories import OrganisationFactory

    library = OrganisationFactory()
    events = [
        activity(organisation=library, capacity=4, price_kind="paid", price_cents=500)
        for _ in range(5)
    ]
    people = _people(20)
    for i, event in enumerate(events):
        for person in people[i * 4 : i * 4 + 2]:
            services.register(activity=event, person=person)
    later = clock.now() + services.PAYMENT_HOLD + dt.timedelta(minutes=1)
    with clock.frozen(later - dt.timedelta(minutes=5)):
        fresh = [
            services.register(activity=event, person=person)
            for i, event in enumerate(events)
            for person in people[i * 4 + 2 : i * 4 + 4]
        ]
    calls = [lambda: services.offers_expire()] * 3 + [
        lambda r=r: services.registration_cancel(registration=r).status for r in fresh
    ]
    with clock.frozen(later):
        results = at_once(calls, connections_at_most=_pool_size())
    assert not [r for r in results if isinstance(r, Exception)], results
    for event in events:
        _seats_add_up(event)
        assert event.seats_taken == 0
        assert not Registration.objects.filter(activity=event, invoice__status="open").exists()


def test_accepting_offers_of_two_activities_at_once_spends_credits_once():
    from bieb.subscriptions import services as subscription_services
    from bieb.subscriptions.selectors import usage_of
    from bieb.subscriptions.tests.factories import plan

    (person,) = _people(1)
    offer = plan(activity_credits_per_month=2, physical_loans=5)
    subscription_services.subscribe(person=person, plan_code=offer.code, interval="month")
    workshops = [
        activity(capacity=1, seats_taken=1, price_kind="credits", credits=2) for _ in range(4)
    ]
    offered = []
    for workshop in workshops:
        first = registration(activity=workshop)
        mine = services.register(activity=workshop, person=person)
        services.registration_cancel(registration=first)
        mine.refresh_from_db()
        assert mine.status == RegistrationStatus.OFFERED
        offered.append(mine)
    results = at_once(
        [lambda r=r: services.offer_accept(registration=r).status for r in offered],
        connections_at_most=_pool_size(),
    )
    assert results.count(RegistrationStatus.CONFIRMED) == 1
    assert results.count("no_credits") == 3
    used = next(m.used for m in usage_of(person).meters if m.meter == "activity_credits")
    assert used == 2


def test_reminders_from_several_rounds_at_once_go_out_once():
    import datetime as dt

    event = activity(starts_at=clock.now() + dt.timedelta(hours=20), capacity=30)
    for person in _people(20):
        services.register(activity=event, person=person)
    results = at_once([services.reminders_send] * 4, connections_at_most=_pool_size())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 20
    assert not Registration.objects.filter(activity=event, reminded_at__isnull=True).exists()
