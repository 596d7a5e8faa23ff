"""Seeding is idempotent and deterministic; holidays are computed correctly."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.network import selectors
from bieb.network.models import (
    Location,
    Municipality,
    OpeningException,
    OpeningPeriod,
    Organisation,
)
from bieb.network.seeding import coming_holidays, dutch_holidays, easter_sunday, seed_network
from bieb.network.validation import kvk_is_valid, postcode_is_valid

pytestmark = pytest.mark.django_db
MOMENT = dt.datetime(2025, 11, 3, 10, 0, tzinfo=clock.AMSTERDAM)


def snapshot() -> tuple:
    return (
        list(Organisation.objects.order_by("slug").values_list("slug", "code", "kvk_number")),
        list(
            Location.objects.order_by("slug").values_list(
                "slug", "kind", "postcode", "street", "house_number", "lat", "lon", "study_places"
            )
        ),
        list(
            OpeningPeriod.objects.order_by("location__slug", "weekday", "opens").values_list(
                "location__slug", "weekday", "opens", "closes", "kind"
            )
        ),
        list(
            OpeningException.objects.order_by("location__slug", "date").values_list(
                "location__slug", "date", "closed", "reason"
            )
        ),
    )


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
        (2038, dt.date(2038, 4, 25)),
    ],
)
def test_easter(year, easter):
    assert easter_sunday(year) == easter


def test_kings_day_moves_to_saturday_when_it_falls_on_sunday():
    assert (dt.date(2025, 4, 26), "Koningsdag") in dutch_holidays(2025)
    assert (dt.date(2026, 4, 27), "Koningsdag") in dutch_holidays(2026)
    assert [name for _day, name in coming_holidays(dt.date(2025, 11, 3))][:4] == [
        "Eerste Kerstdag",
        "Tweede Kerstdag",
        "Oudejaarsdag",
        "Nieuwjaarsdag",
    ]


def test_demo_seed_is_idempotent_and_complete():
    with clock.frozen(MOMENT):
        seed_network("demo", 7)
        first = snapshot()
        seed_network("demo", 7)
    assert snapshot() == first
    organisations, locations, periods, exceptions = first
    assert len(organisations) == 4
    assert len(periods) > 100 and len(exceptions) > 50
    assert {kind for _slug, kind, *_ in locations} == set(Location.Kind.values)
    assert len(locations) >= 25
    assert all(postcode_is_valid(postcode) for _s, _k, postcode, *_ in locations)
    assert all(kvk_is_valid(kvk) for _s, _c, kvk in organisations)
    assert Municipality.objects.count() == 342
    # lockers are open day and night; branches close on Christmas Day
    locker = Location.objects.get(slug="afhaalkluis-station-sloterdijk")
    assert selectors.location_opening_state(
        location=locker, at=dt.datetime(2025, 12, 25, 3, 0, tzinfo=clock.AMSTERDAM)
    ).is_open
    branch = Location.objects.get(slug="centrale-bibliotheek-amsterdam")
    assert not selectors.location_opening_state(
        location=branch, at=dt.datetime(2025, 12, 25, 12, 0, tzinfo=clock.AMSTERDAM)
    ).is_open
    assert branch.opening_exceptions.filter(reason="Eerste Kerstdag", closed=True).exists()
    amsterdam = Organisation.objects.get(slug="bibliotheek-amsterdam")
    assert sorted(amsterdam.municipalities.values_list("name", flat=True)) == [
        "Amsterdam",
        "Diemen",
    ]


def test_demo_seed_is_deterministic(django_db_blocker):
    with clock.frozen(MOMENT):
        seed_network("demo", 11)
        first = snapshot()
        Location.objects.all().delete()
        Organisation.objects.all().delete()
        seed_network("demo", 11)
    assert snapshot() == first


def test_bench_seed_covers_every_municipality():
    with clock.frozen(MOMENT):
        seed_network("bench", 3)
        count = Location.objects.count()
        seed_network("bench", 3)
    assert Location.objects.count() == count
    assert 780 <= count <= 820
    assert 130 <= Organisation.objects.count() <= 150
    assert not Municipality.objects.filter(organisations__isnull=True).exists()
    assert Municipality.objects.filter(locations__kind="branch").distinct().count() == 342
