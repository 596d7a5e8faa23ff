"""Circulation test data: a small network with two organisations and three locations."""

from __future__ import annotations

from dataclasses import dataclass

from bieb.accounts.tests.factories import (
    LocationFactory,
    OrganisationFactory,
    UserFactory,
    years_ago,
)
from bieb.catalog.models import Item
from bieb.catalog.tests.factories import EditionFactory, ItemFactory
from bieb.circulation.models import LoanPolicy


@dataclass
class Network:
    org: object
    other_org: object
    main: object  # a location of ``org``
    branch: object  # another location of ``org``
    elsewhere: object  # a location of ``other_org``


def network() -> Network:
    org = OrganisationFactory()
    other = OrganisationFactory()
    return Network(
        org=org,
        other_org=other,
        main=LocationFactory(organisation=org),
        branch=LocationFactory(organisation=org),
        elsewhere=LocationFactory(organisation=other),
    )


def copy_at(location, edition=None, **kwargs) -> Item:
    return ItemFactory(
        edition=edition or EditionFactory(),
        organisation=location.organisation,
        home_location=location,
        location=location,
        **kwargs,
    )


def adult(**kwargs):
    return UserFactory(birth_date=years_ago(40), **kwargs)


def child(**kwargs):
    return UserFactory(birth_date=years_ago(10), **kwargs)


def policy(organisation=None, **kwargs) -> LoanPolicy:
    return LoanPolicy.objects.create(organisation=organisation, **kwargs)
