"""Never two subscriptions: a double-clicked subscribe, two requests released at once, each on
its own database connection (SQLite: the write lock at BEGIN IMMEDIATE; PostgreSQL: the person
row lock and the partial unique constraint)."""

from __future__ import annotations

import pytest

from bieb.circulation.tests.test_races import at_once
from bieb.core.models import AuditEvent
from bieb.subscriptions import services
from bieb.subscriptions.models import Subscription, SwitchOff
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_subscribes_at_once_make_one_subscription():
    person = adult()
    plan(code="basis")

    results = at_once(
        lambda: services.subscribe(person=person, plan_code="basis"),
        lambda: services.subscribe(person=person, plan_code="basis"),
    )

    assert sorted(type(r).__name__ if isinstance(r, Subscription) else r for r in results) == [
        "Subscription",
        "already_subscribed",
    ]
    assert Subscription.objects.filter(person=person).count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.subscribe").count() == 1


def test_two_switch_offs_at_once_make_one_switch_off():
    person = adult()
    plan(code="basis")
    services.subscribe(person=person, plan_code="basis")

    results = at_once(
        lambda: services.subscription_switch_off(person=person),
        lambda: services.subscription_switch_off(person=person),
    )

    assert sorted(type(r).__name__ if isinstance(r, SwitchOff) else r for r in results) == [
        "SwitchOff",
        "already_switched_off",
    ]
    assert SwitchOff.objects.count() == 1
