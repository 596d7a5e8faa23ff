"""The demo plans seed once and sell; selectors answer what a plan allows today."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.subscriptions import selectors, services
from bieb.subscriptions.models import Plan, PlanPrice
from bieb.subscriptions.seeding import DEMO_PLANS, seed_subscriptions
from bieb.subscriptions.tests.factories import adult, plan, youth

pytestmark = pytest.mark.django_db
D = dt.date


def on(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def test_demo_plans_seed_once_and_the_youth_plan_is_free():
    seed_subscriptions("demo", 2026)
    seed_subscriptions("demo", 2026)
    assert Plan.objects.count() == len(DEMO_PLANS) == PlanPrice.objects.count()
    youth_price = PlanPrice.objects.get(plan__code="jeugd")
    assert (youth_price.monthly_cents, youth_price.yearly_cents) == (0, 0)
    assert Plan.objects.get(code="huishouden").household_seats == 6
    with on(D(2026, 3, 1)):
        assert services.subscribe(person=youth(), plan_code="jeugd").plan.code == "jeugd"
        sub = services.subscribe(
            person=adult(), plan_code="stadspas", municipal_pass_code="SP-204512"
        )
    assert sub.municipal_pass_code == "SP-204512"


def test_entitlements_follow_the_plan_and_the_switch():
    person = adult()
    plan(code="basis", physical_loans=10, digital_loans_per_month=5)
    assert selectors.entitlements_for(person).refusal == "no_subscription"
    with on(D(2025, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        now = selectors.entitlements_for(person)
        assert (now.on, now.physical_loans, now.digital_loans_per_month) == (True, 10, 5)
        services.subscription_switch_off(person=person)
        off = selectors.entitlements_for(person)
        assert (off.on, off.physical_loans, off.refusal) == (False, 0, "switched_off")
        services.subscription_cancel(person=person)
        assert len(selectors.scheduled_changes_of(selectors.subscription_of(person))) == 1
    with on(D(2025, 5, 1)):
        assert selectors.entitlements_for(person).refusal == "no_subscription"
