"""Booking conflicts are impossible under concurrency: threads released together, each on its
own connection, on SQLite (triggers, one writer at a time) and on PostgreSQL (the exclusion
constraint and row locks). The invariants are checked in the database afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.circulation.tests.test_races import at_once
from bieb.community import things
from bieb.community.models import ThingBooking, ThingBookingStatus
from bieb.community.tests.test_things import subscriber, thing
from bieb.core import clock
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _later(days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)


def test_ten_overlapping_bookings_of_one_thing_at_once_make_exactly_one():
    drill = thing(buffer_days=2, max_days=7)
    people = [subscriber() for _ in range(10)]
    # ten different ranges, each holding day 10
    ranges = [(_later(10 - n % 5), _later(10 + n // 5)) for n in range(10)]

    results = at_once(
        *[
            lambda person=person, days=days: things.thing_book(
                person=person, item=drill, first_day=days[0], last_day=days[1]
            )
            for person, days in zip(people, ranges, strict=True)
        ]
    )

    booked = [r for r in results if isinstance(r, ThingBooking)]
    assert len(booked) == 1, results
    assert sorted(r for r in results if not isinstance(r, ThingBooking)) == ["thing_taken"] * 9
    live = ThingBooking.objects.filter(item=drill, status=ThingBookingStatus.BOOKED)
    assert list(live.values_list("pk", flat=True)) == [booked[0].pk]
    assert AuditEvent.objects.filter(action="community.thing_book").count() == 1


def test_one_person_booking_two_things_at_once_cannot_pass_the_plan():
    person = subscriber(things_at_once=1)
    first, second = thing(), thing()

    results = at_once(
        lambda: things.thing_book(
            person=person, item=first, first_day=_later(1), last_day=_later(2)
        ),
        lambda: things.thing_book(
            person=person, item=second, first_day=_later(1), last_day=_later(2)
        ),
    )

    assert sum(isinstance(r, ThingBooking) for r in results) == 1, results
    assert "things_limit" in results
    assert ThingBooking.objects.filter(person=person).count() == 1
