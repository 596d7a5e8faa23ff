"""Billing lines: the plan that was on each day, at its daily amount for that period."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bieb.subscriptions import periods
from bieb.subscriptions.billing import PriceBook, Timeline, billable_lines, total_cents

D = dt.date
BASIC, COMPLETE, CHEAP = 1, 2, 3


def book() -> PriceBook:
    prices = PriceBook()
    prices.add(BASIC, D(2000, 1, 1), 1_000, 10_000)
    prices.add(COMPLETE, D(2000, 1, 1), 1_999, 19_900)
    prices.add(CHEAP, D(2000, 1, 1), 333, 3_300)
    return prices


def timeline(**fields) -> Timeline:
    start = fields.pop("started_on", D(2025, 1, 31))
    fields.setdefault("plan_switches", ((start, BASIC),))
    return Timeline(
        interval=fields.pop("interval", "month"),
        anchor_day=fields.pop("anchor_day", start.day),
        anchor_month=fields.pop("anchor_month", start.month),
        started_on=start,
        **fields,
    )


def test_a_full_period_bills_exactly_its_price_in_one_line():
    lines = billable_lines(timeline(), book(), D(2025, 1, 31), D(2025, 2, 28))
    assert [(x.plan_id, x.first_day, x.last_day, x.days, x.amount_cents) for x in lines] == [
        (BASIC, D(2025, 1, 31), D(2025, 2, 27), 28, 1_000)
    ]


def test_an_upgrade_mid_period_splits_the_period_at_daily_amounts():
    switches = ((D(2025, 1, 31), BASIC), (D(2025, 2, 14), COMPLETE))
    lines = billable_lines(timeline(plan_switches=switches), book(), D(2025, 1, 31), D(2025, 2, 28))
    assert [(x.plan_id, x.days) for x in lines] == [(BASIC, 14), (COMPLETE, 14)]
    assert lines[0].amount_cents == periods.amount_for_days(1_000, 28, 0, 14) == 500
    assert lines[1].amount_cents == periods.amount_for_days(1_999, 28, 14, 28) == 1_000


def test_switched_off_days_and_a_trial_are_not_billed():
    t = timeline(
        started_on=D(2025, 3, 1),
        trial_ends_on=D(2025, 3, 8),
        offs=((D(2025, 3, 20), D(2025, 3, 25)), (D(2025, 3, 30), None)),
    )
    lines = billable_lines(t, book(), D(2025, 3, 1), D(2025, 5, 1))
    assert [(x.first_day, x.last_day) for x in lines] == [
        (D(2025, 3, 8), D(2025, 3, 19)),
        (D(2025, 3, 25), D(2025, 3, 29)),
    ]
    assert total_cents(lines) == periods.amount_for_days(1_000, 31, 7, 19) + (
        periods.amount_for_days(1_000, 31, 24, 29)
    )


def test_nothing_is_billed_before_the_start_or_after_the_last_day():
    t = timeline(started_on=D(2025, 3, 10), last_day=D(2025, 4, 9))
    lines = billable_lines(t, book(), D(2025, 1, 1), D(2026, 1, 1))
    assert [(x.first_day, x.last_day, x.amount_cents) for x in lines] == [
        (D(2025, 3, 10), D(2025, 4, 9), 1_000)
    ]


def test_a_price_change_applies_from_the_next_period():
    prices = book()
    prices.add(BASIC, D(2025, 2, 10), 1_200, 12_000)  # announced for mid-period
    t = timeline(started_on=D(2025, 1, 15))
    lines = billable_lines(t, prices, D(2025, 1, 15), D(2025, 3, 15))
    assert [x.amount_cents for x in lines] == [1_000, 1_200]


def test_a_yearly_period_is_priced_per_year():
    t = timeline(started_on=D(2024, 2, 29), interval="year")
    lines = billable_lines(t, book(), D(2024, 2, 29), D(2026, 2, 28))
    assert [(x.first_day, x.days, x.amount_cents) for x in lines] == [
        (D(2024, 2, 29), 365, 10_000),
        (D(2025, 2, 28), 365, 10_000),
    ]


# --- property: the lines are the per-day sum ------------------------------------------------

dates = st.dates(min_value=D(2023, 1, 1), max_value=D(2026, 12, 31))


@st.composite
def timelines(draw):
    started_on = draw(dates)
    interval = draw(st.sampled_from(["month", "year"]))
    later = st.dates(min_value=started_on, max_value=started_on + dt.timedelta(days=500))
    switch_days = sorted(set(draw(st.lists(later, max_size=4))) - {started_on})
    plans = [draw(st.sampled_from([BASIC, COMPLETE, CHEAP])) for _ in range(len(switch_days) + 1)]
    switches = tuple(zip([started_on, *switch_days], plans, strict=True))
    cuts = sorted(set(draw(st.lists(later, max_size=6))))
    offs = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        offs.append((a, b))
    if len(cuts) % 2 and draw(st.booleans()):
        offs.append((cuts[-1], None))
    last_day = draw(st.none() | later)
    trial = draw(st.none() | later)
    return Timeline(
        interval=interval,
        anchor_day=started_on.day,
        anchor_month=started_on.month,
        started_on=started_on,
        last_day=last_day,
        trial_ends_on=trial,
        plan_switches=switches,
        offs=tuple(offs),
    )


def per_day(t: Timeline, prices: PriceBook, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """The oracle: each billable day at its daily amount, one day at a time."""
    billed = {}
    day = start
    while day < end:
        if t.is_billable(day):
            period = t.period_containing(day)
            price = prices.price(t.plan_on(day), t.interval, period.start)
            billed[day] = periods.daily_amounts(price, period.days)[period.index_of(day)]
        day += dt.timedelta(days=1)
    return billed


@hypothesis_settings(max_examples=150, deadline=None)
@given(t=timelines(), start=dates, length=st.integers(min_value=0, max_value=800))
def test_lines_equal_the_sum_of_daily_prices_and_bill_no_day_twice(t, start, length):
    prices = book()
    end = start + dt.timedelta(days=length)
    lines = billable_lines(t, prices, start, end)
    covered = [line.first_day + dt.timedelta(days=k) for line in lines for k in range(line.days)]
    assert len(covered) == len(set(covered))
    expected = per_day(t, prices, start, end)
    assert set(covered) == set(expected)
    assert total_cents(lines) == sum(expected.values())
    assert all(line.amount_cents >= 0 and line.days > 0 for line in lines)
    for line in lines:
        assert line.first_day in line.period and line.last_day in line.period
