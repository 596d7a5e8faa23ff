"""Property: whatever a resident does, on whatever days and anchor, billing stays exact.

Hypothesis draws a sign-up date (any anchor day 1..31, monthly or yearly) and a sequence of
actions on later dates (switch off now or from a date, switch on, skip next month, upgrade,
downgrade, cancel, undo), performed through the real services with the clock moved. Refusals
are part of life and are skipped. Then, over the whole time: the billed total equals the sum
over days of the daily price of the plan that was on that day, no day is billed twice, nothing
is negative, and every full period in which nothing changed bills exactly the period price.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.subscriptions import periods, services
from bieb.subscriptions.billing import lines_for, price_book_for, timeline_of, total_cents
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date
ONE_DAY = dt.timedelta(days=1)

# weighted: switching on and changing plan often, cancelling (which ends the story) rarely
ACTIONS = [
    *["off", "off_later", "skip", "undo", "cancel"],
    *["on", "on", "on", "upgrade", "upgrade", "upgrade", "downgrade", "downgrade"],
]


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


@st.composite
def histories(draw):
    start = draw(st.dates(min_value=D(2023, 1, 1), max_value=D(2025, 12, 31)))
    interval = draw(st.sampled_from(["month", "year"]))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=45),  # days after the previous step
                st.sampled_from(ACTIONS),
                st.integers(min_value=1, max_value=40),  # off_later: days ahead
                st.sampled_from(["digitaal", "basis", "compleet"]),
            ),
            max_size=8,
        )
    )
    return start, interval, steps


def act(person, action, ahead, code, today):
    if action == "off":
        services.subscription_switch_off(person=person)
    elif action == "off_later":
        services.subscription_switch_off(person=person, from_date=today + dt.timedelta(ahead))
    elif action == "on":
        services.subscription_switch_on(person=person)
    elif action == "skip":
        services.subscription_skip_next_month(person=person)
    elif action == "upgrade":
        services.subscription_upgrade(person=person, plan_code=code)
    elif action == "downgrade":
        services.subscription_downgrade(person=person, plan_code=code)
    elif action == "cancel":
        services.subscription_cancel(person=person)
    elif action == "undo":
        from bieb.subscriptions.models import ScheduledChange

        pending = ScheduledChange.objects.filter(
            subscription__person=person, undone_at__isnull=True, applied_at__isnull=True
        ).first()
        if pending is not None:
            services.subscription_change_undo(person=person, change_id=pending.pk)


@pytest.fixture
def plans():
    return [
        plan(code="digitaal", monthly=599, yearly=5_990),
        plan(code="basis", monthly=1_099, yearly=11_990),
        plan(code="compleet", monthly=1_799, yearly=19_990),
    ]


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_billing_is_exact_for_any_history(plans, history):
    start, interval, steps = history
    with transaction.atomic():
        person = adult()
        with at(start):
            sub = services.subscribe(person=person, plan_code="basis", interval=interval)
        today = start
        changed_on = {start}
        for gap, action, ahead, code in steps:
            today += dt.timedelta(days=gap)
            with at(today):
                try:
                    act(person, action, ahead, code, today)
                    changed_on.add(today)
                    event(f"{action}: done")
                except DomainError as refusal:
                    event(f"{action}: {refusal.code}")
        sub.refresh_from_db()
        check(sub, start, today + dt.timedelta(days=400), changed_on)
        transaction.set_rollback(True)


def check(sub, start, end, changed_on):
    timeline = timeline_of(sub)
    prices = price_book_for(p for _d, p in timeline.plan_switches)
    lines = lines_for(sub, start, end)

    days = [line.first_day + k * ONE_DAY for line in lines for k in range(line.days)]
    assert len(days) == len(set(days)), "a day billed twice"
    assert all(line.amount_cents >= 0 for line in lines)

    expected = 0
    day = start
    while day < end:
        if timeline.is_billable(day):
            period = timeline.period_containing(day)
            price = prices.price(timeline.plan_on(day), timeline.interval, period.start)
            expected += periods.daily_amounts(price, period.days)[period.index_of(day)]
            assert day in set(days)
        day += ONE_DAY
    assert total_cents(lines) == expected
    assert len(days) == sum(
        timeline.is_billable(start + k * ONE_DAY) for k in range((end - start).days)
    )

    # full periods where nothing was on or off, no switch and no end: exactly the period price
    switch_days = {d for d, _p in timeline.plan_switches} | {
        d for off in timeline.offs for d in off if d is not None
    }
    for period in periods.periods_between(
        start,
        end,
        interval=timeline.interval,
        anchor_day=timeline.anchor_day,
        anchor_month=timeline.anchor_month,
    ):
        untouched = (
            period.end <= end
            and all(timeline.is_billable(period.start + k * ONE_DAY) for k in range(period.days))
            and not any(period.start < d < period.end for d in switch_days | changed_on)
        )
        if untouched:
            in_period = [line for line in lines if line.period == period]
            price = prices.price(timeline.plan_on(period.start), timeline.interval, period.start)
            assert total_cents(in_period) == price


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), run_every=st.sets(st.integers(min_value=0, max_value=7), max_size=8))
def test_invoices_and_credit_notes_add_up_to_the_days_that_were_on(plans, history, run_every):
    """Billing runs between the actions (after the steps named in ``run_every``, and at the
    end): what was invoiced minus credited equals, for every period, the daily prices of the
    days that were on; no line is negative; every document's total is the sum of its lines."""
    from bieb.network.tests.factories import OrganisationFactory
    from bieb.subscriptions.invoicing import billing_run
    from bieb.subscriptions.models import DocumentKind, Invoice, InvoiceLine

    start, interval, steps = history
    with transaction.atomic():
        person = adult(home_organisation=OrganisationFactory())
        with at(start):
            sub = services.subscribe(person=person, plan_code="basis", interval=interval)
        billing_run(today=start)
        today = start
        for index, (gap, action, ahead, code) in enumerate(steps):
            today += dt.timedelta(days=gap)
            with at(today), contextlib.suppress(DomainError):
                act(person, action, ahead, code, today)
            if index in run_every:
                billing_run(today=today)
        with at(today):
            services.changes_apply_due(today=today)
        sub.refresh_from_db()
        final = today + dt.timedelta(days=1)
        billing_run(today=final)
        assert billing_run(today=final)["invoices"] == 0

        timeline = timeline_of(sub)
        horizon = timeline.period_containing(final).end
        expected: dict[tuple, int] = {}
        for line in lines_for(sub, start, horizon):
            key = (line.period.start, line.plan_id)
            expected[key] = expected.get(key, 0) + line.amount_cents
        billed: dict[tuple, int] = {}
        for line in InvoiceLine.objects.filter(subscription=sub).select_related("invoice"):
            assert line.amount_cents >= 0 and 0 <= line.vat_cents <= line.amount_cents
            sign = -1 if line.invoice.kind == DocumentKind.CREDIT_NOTE else 1
            key = (line.period_start, line.plan_id)
            billed[key] = billed.get(key, 0) + sign * line.amount_cents
        assert {k: v for k, v in billed.items() if v} == {k: v for k, v in expected.items() if v}
        for invoice in Invoice.objects.filter(person=person):
            lines = list(invoice.lines.all())
            assert invoice.total_cents == sum(line.amount_cents for line in lines)
            assert invoice.vat_cents == sum(line.vat_cents for line in lines)
            assert 0 <= invoice.settled_cents <= invoice.total_cents
        transaction.set_rollback(True)
