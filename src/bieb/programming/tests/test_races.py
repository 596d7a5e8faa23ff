"""Never overbooked: registrations, cancellations and room bookings racing on the same rows,
on SQLite (one writer at a time, BEGIN IMMEDIATE) and PostgreSQL (the conditional UPDATE,
row locks and the exclusion constraint). Invariants are checked in the database afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.db.models import Sum

from bieb.accounts.tests.factories import UserFactory
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.programming import services
from bieb.programming.models import (
    SEATED_STATUSES,
    Activity,
    Registration,
    RegistrationStatus,
    RoomBooking,
)
from bieb.programming.tests.factories import activity, room, tomorrow_at

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
