"""The nightly round: everything due happens once, and a second round the same day changes
nothing."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import services, tasks
from bieb.subscriptions.models import Invoice, ScheduledChange
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 3, tzinfo=clock.AMSTERDAM))


def test_the_round_applies_changes_bills_and_does_nothing_twice():
    org = OrganisationFactory()
    plan(code="basis", monthly=1_000)
    plan(code="digitaal", monthly=500)
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        services.subscription_downgrade(person=person, plan_code="digitaal")

    with at(D(2026, 4, 1)):
        first = tasks.run_daily_jobs()
        again = tasks.run_daily_jobs()
    assert first["billing"]["invoices"] == 1 and again["billing"]["invoices"] == 0

    with at(D(2026, 5, 1)):
        report = tasks.run_daily_jobs()
    assert report["changes_applied"] == 1
    assert ScheduledChange.objects.get().applied_at is not None
    may = Invoice.objects.order_by("pk").last()
    assert may.total_cents == 500  # the downgrade is what May is billed at

    out = StringIO()
    with at(D(2026, 5, 1)):
        call_command("billing", "jobs", "--date", "2026-05-01", stdout=out)
    assert json.loads(out.getvalue())["billing"]["invoices"] == 0
    assert Invoice.objects.count() == 2
    assert AuditEvent.objects.filter(action="subscriptions.billing_run").count() == 4


def test_the_round_is_queued_once():
    backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with override_settings(TASKS=backend):
        assert tasks.schedule_daily_jobs() is True
        assert tasks.schedule_daily_jobs() is False
    with at(D(2026, 5, 1)):
        assert tasks.next_daily_run().astimezone(clock.AMSTERDAM).hour == tasks.DAILY_HOUR
