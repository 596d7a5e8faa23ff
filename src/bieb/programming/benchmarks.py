"""``bieb bench registrations``: registrations racing for seats, as when a popular activity
opens (a Sinterklaas afternoon, a free course with twenty places).

Builds ``--size`` residents (1,000) and lets 8 threads register every resident once, all at
once, in two scenarios: ``spread`` (50 activities of 10 seats) and ``popular`` (one activity
of 200 seats: every registration races for the same row). Each scenario runs three ways on
fresh activities:

- ``service``: ``services.register`` as the site and API call it: the checks, the seat, the
  row, the audit row, and the e-mail rendered and sent (to memory) after the commit;
- ``conditional_update``: its seat guard alone: one conditional ``UPDATE`` of the activity's
  ``seats_taken`` (only when nobody waits; the check constraint backs it), then the row;
- ``lock_and_count``: the peer approach of a first version: lock the activity row
  (``SELECT ... FOR UPDATE``; SQLite's write lock), add up the seats of the registrations that
  hold one, compare with the capacity, insert, write the count back.

Each reports registrations per second, how many got a seat, and whether ``seats_taken``
equals the seats held and stays within capacity (it must). Run it against a fresh scratch
database (``DATABASE_URL``; ``bieb migrate`` first): it refuses a database with activities.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test.utils import override_settings

from bieb.accounts.models import User
from bieb.core import clock
from bieb.network.models import Location, Municipality, Organisation
from bieb.programming import services
from bieb.programming.models import (
    SEATED_STATUSES,
    Activity,
    ActivityStatus,
    Registration,
    RegistrationStatus,
)

EMAIL_DOMAIN = "bench-programming.invalid"
ACTIVITIES = 50
SEATS = 10
#: one popular activity (all registrations race for the same row)
POPULAR_SEATS = 200
THREADS = 8


def _setup(size: int) -> tuple[list[int], Organisation, Location]:
    if Activity.objects.exists():
        raise CommandError(
            "This database holds activities. The registrations benchmark needs a fresh scratch "
            "database: create one, point DATABASE_URL at it, run `bieb migrate`, and start again."
        )
    municipality = Municipality.objects.order_by("pk").first() or Municipality.objects.create(
        cbs_code="GM9999",
        name="Benchstad",
        name_key="benchstad",
        province="Utrecht",
        lat=52.09,
        lon=5.12,
    )
    organisation, _ = Organisation.objects.get_or_create(
        slug="bench-programmering",
        defaults={"name": "Bench Programmering", "code": "BENCHP", "kvk_number": "99999901"},
    )
    location, _ = Location.objects.get_or_create(
        slug="bench-programmering-centrale",
        defaults={
            "organisation": organisation,
            "kind": "branch",
            "name": "Bench Centrale",
            "street": "Benchstraat",
            "house_number": "1",
            "postcode": "3511 AA",
            "city": "Benchstad",
            "municipality": municipality,
            "lat": 52.09,
            "lon": 5.12,
        },
    )
    now = clock.now()
    existing = User.objects.filter(email__endswith=EMAIL_DOMAIN).count()
    User.objects.bulk_create(
        [
            User(
                email=f"lid{n}@{EMAIL_DOMAIN}",
                password="!",
                first_name="Lid",
                last_name=str(n),
                email_verified_at=now,
            )
            for n in range(existing, size)
        ],
        batch_size=1_000,
    )
    people = list(
        User.objects.filter(email__endswith=EMAIL_DOMAIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )[:size]
    return people, organisation, location


def _activities(
    organisation: Organisation, location: Location, label: str, *, count: int, seats: int
) -> list[Activity]:
    starts_at = clock.now().replace(microsecond=0) + dt.timedelta(days=7)
    return [
        Activity.objects.create(
            organisation=organisation,
            location=location,
            kind="event",
            title=f"{label} {n}",
            slug=f"bench-{label}-{n}-{secrets.token_hex(3)}",
            summary="Benchmark",
            audience="everyone",
            challenge="lifelong",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            last_ends_at=starts_at + dt.timedelta(hours=2),
            capacity=seats,
            status=ActivityStatus.PUBLISHED,
        )
        for n in range(count)
    ]


def _naive_register(activity_id: int, person_id: int) -> str:
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity_id)
        held = (
            Registration.objects.filter(
                activity_id=activity_id, status__in=SEATED_STATUSES
            ).aggregate(n=Sum("seats"))["n"]
            or 0
        )
        status = (
            RegistrationStatus.CONFIRMED
            if held + 1 <= activity.capacity
            else RegistrationStatus.WAITLISTED
        )
        Registration.objects.create(
            activity_id=activity_id,
            person_id=person_id,
            seats=1,
            status=status,
            token=secrets.token_urlsafe(32),
            confirmed_at=clock.now() if status == RegistrationStatus.CONFIRMED else None,
        )
        if status == RegistrationStatus.CONFIRMED:
            Activity.objects.filter(pk=activity_id).update(seats_taken=held + 1)
    return status


def _race(jobs: list[tuple[int, int]], work) -> tuple[float, list[str]]:
    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(chunk: list[tuple[int, int]]) -> None:
        try:
            barrier.wait()
            for activity_id, person_id in chunk:
                outcome = work(activity_id, person_id)
                with lock:
                    results.append(outcome)
        except BaseException as exc:  # reported, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    chunks = [jobs[i::THREADS] for i in range(THREADS)]
    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    connections.close_all()
    if errors:
        raise errors[0]
    return seconds, results


def _invariants(activities: list[Activity], seats: int) -> dict[str, Any]:
    ids = [a.pk for a in activities]
    taken = dict(Activity.objects.filter(pk__in=ids).values_list("pk", "seats_taken"))
    held = dict(
        Registration.objects.filter(activity_id__in=ids, status__in=SEATED_STATUSES)
        .values("activity_id")
        .annotate(n=Sum("seats"))
        .values_list("activity_id", "n")
    )
    return {
        "seats_taken_equals_seats_held": all(taken[i] == held.get(i, 0) for i in ids),
        "never_over_capacity": all(taken[i] <= seats for i in ids),
    }


def _figures(
    seconds: float, results: list[str], activities: list[Activity], seats: int
) -> dict[str, Any]:
    return {
        "registrations": len(results),
        "seconds": round(seconds, 3),
        "registrations_per_second": round(len(results) / seconds, 1) if seconds else None,
        "confirmed": results.count(RegistrationStatus.CONFIRMED),
        "waitlisted": results.count(RegistrationStatus.WAITLISTED),
        **_invariants(activities, seats),
    }


def _guard_only(activity_id: int, person_id: int) -> str:
    """The seat guard of ``services.register`` alone: the conditional UPDATE, then the row."""
    with transaction.atomic():
        took = services._take_seats(activity_id, 1, behind_waitlist=True)
        status = RegistrationStatus.CONFIRMED if took else RegistrationStatus.WAITLISTED
        Registration.objects.create(
            activity_id=activity_id,
            person_id=person_id,
            seats=1,
            status=status,
            token=secrets.token_urlsafe(32),
            confirmed_at=clock.now() if took else None,
        )
    return status


def _scenario(organisation, location, people, residents, *, activities: int, seats: int) -> dict:
    """The three approaches on fresh activities of ``seats`` each, every person once."""
    out: dict[str, Any] = {"activities": activities, "seats_each": seats}
    for label, make_work in (
        ("service", "service"),
        ("conditional_update", _guard_only),
        ("lock_and_count", _naive_register),
    ):
        made = _activities(organisation, location, label, count=activities, seats=seats)
        if make_work == "service":
            objects = {a.pk: a for a in made}

            def work(activity_id: int, person_id: int, objects=objects) -> str:
                return services.register(
                    activity=objects[activity_id], person=residents[person_id]
                ).status

        else:
            work = make_work
        jobs = [(made[i % activities].pk, p) for i, p in enumerate(people)]
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            seconds, results = _race(jobs, work)
        out[label] = _figures(seconds, results, made, seats)
    return out


def bench_registrations(options: dict[str, Any]) -> dict[str, Any]:
    size = options.get("size") or 1_000
    people, organisation, location = _setup(size)
    residents = User.objects.in_bulk(people)
    return {
        "size": size,
        "threads": THREADS,
        "spread": _scenario(
            organisation, location, people, residents, activities=ACTIVITIES, seats=SEATS
        ),
        "popular": _scenario(
            organisation, location, people, residents, activities=1, seats=POPULAR_SEATS
        ),
        "note": (
            "service: services.register as the site and API call it (checks, the seat, the "
            "row, the audit row, the e-mail rendered and sent to memory after commit); "
            "conditional_update: its seat guard alone; lock_and_count: the peer approach "
            "(lock the activity, add up the seats held, insert)"
        ),
    }


BENCHMARKS = {"registrations": bench_registrations}
