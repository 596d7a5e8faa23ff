"""Subscription test data: plans with a price, and people of a given age."""

from __future__ import annotations

import datetime as dt
import itertools

from bieb.accounts.tests.factories import UserFactory, years_ago
from bieb.subscriptions.models import Plan, PlanKind, PlanPrice

LONG_AGO = dt.date(2000, 1, 1)
_codes = itertools.count(1)


def plan(
    *, monthly: int = 1_000, yearly: int = 10_000, kind: str = PlanKind.BASE, **fields
) -> Plan:
    fields.setdefault("code", f"plan-{next(_codes)}")
    fields.setdefault("name", fields["code"].title())
    made = Plan.objects.create(kind=kind, **fields)
    PlanPrice.objects.create(
        plan=made, monthly_cents=monthly, yearly_cents=yearly, effective_from=LONG_AGO
    )
    return made


def adult(**kwargs):
    return UserFactory(birth_date=years_ago(40), **kwargs)


def youth(*, consent: bool = True, **kwargs):
    """A 12-year-old; with a parent's consent (given) unless ``consent`` is false."""
    child = UserFactory(birth_date=years_ago(12), **kwargs)
    if consent:
        from bieb.accounts.models import GuardianLink
        from bieb.core import clock

        GuardianLink.objects.create(
            guardian=UserFactory(birth_date=years_ago(40)),
            child=child,
            consent_given_at=clock.now(),
        )
    return child
