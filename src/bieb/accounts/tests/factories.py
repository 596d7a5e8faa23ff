"""Factories for accounts tests. Organisations and locations come from the network models;
people are built with a valid card number and a known password."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from bieb.accounts import cards
from bieb.accounts.models import StaffRole, User
from bieb.core import clock

PASSWORD = "boeken-lenen-42"
TEST_CARD_SERIES = 3
_kvk = itertools.count(10_000_001)


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "network.Municipality"
        django_get_or_create = ("cbs_code",)

    cbs_code = factory.Sequence(lambda n: f"GM{9000 + n % 1000:04d}")  # 6 characters; reused
    name = factory.Sequence(lambda n: f"Gemeente {n}")
    province = "Utrecht"
    population = 50_000
    lat = 52.09
    lon = 5.12


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "network.Organisation"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Bibliotheek {n:03d}")
    slug = factory.Sequence(lambda n: f"bibliotheek-{n:03d}")
    code = factory.Sequence(lambda n: f"B{n:03d}")
    kvk_number = factory.LazyFunction(lambda: str(next(_kvk)))

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create:
            self.municipalities.set(extracted or [MunicipalityFactory()])


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "network.Location"

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "branch"
    name = factory.Sequence(lambda n: f"Vestiging {n}")
    slug = factory.Sequence(lambda n: f"vestiging-{n}")
    street = "Stationsplein"
    house_number = "1"
    postcode = "3511 AB"
    city = "Utrecht"
    municipality = factory.SubFactory(MunicipalityFactory)
    lat = 52.09
    lon = 5.11


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"lezer{n}@example.nl")
    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Jansen{n}")
    birth_date = dt.date(1985, 6, 15)
    card_number = factory.Sequence(lambda n: cards.card_number_in_series(TEST_CARD_SERIES, n))
    password = factory.django.Password(PASSWORD)
    date_joined = factory.LazyFunction(clock.now)


def years_ago(years: int, days: int = 0) -> dt.date:
    today = clock.today()
    day = min(today.day, 28) if today.month == 2 else today.day
    return today.replace(year=today.year - years, day=day) - dt.timedelta(days=days)


def staff_member(role: str, organisation=None, **kwargs) -> User:
    user = UserFactory(**kwargs)
    StaffRole.objects.create(user=user, organisation=organisation, role=role)
    return user
