"""Factories for network tests. Locations get hours through the real service."""

from __future__ import annotations

import factory

from bieb.network.models import (
    Location,
    Municipality,
    OpeningPeriod,
    Organisation,
    PostcodeArea,
)
from bieb.network.validation import name_key


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("cbs_code",)

    cbs_code = factory.Sequence(lambda n: f"GM{9000 + n:04d}")
    name = factory.Sequence(lambda n: f"Gemeente {n}")
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    province = "Utrecht"
    population = 50_000
    lat = 52.09
    lon = 5.12


class PostcodeAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostcodeArea
        django_get_or_create = ("pc4",)

    pc4 = factory.Sequence(lambda n: f"{8000 + n:04d}")
    place = "Teststad"
    place_key = factory.LazyAttribute(lambda o: name_key(o.place))
    municipality = factory.SubFactory(MunicipalityFactory)
    inhabitants = 5_000
    lat = 52.09
    lon = 5.12


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Bibliotheek Test {n}")
    slug = factory.Sequence(lambda n: f"bibliotheek-test-{n}")
    code = factory.Sequence(lambda n: f"T{n:04d}")
    kvk_number = factory.Sequence(lambda n: f"{50_000_000 + n:08d}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    organisation = factory.SubFactory(OrganisationFactory)
    kind = Location.Kind.BRANCH
    name = factory.Sequence(lambda n: f"Vestiging {n}")
    slug = factory.Sequence(lambda n: f"vestiging-{n}")
    street = "Neude"
    house_number = "11"
    postcode = "3512 AE"
    city = "Utrecht"
    municipality = factory.SubFactory(MunicipalityFactory)
    lat = 52.0928
    lon = 5.1195


class OpeningPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningPeriod

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    kind = "staffed"
