"""Periods follow the stored anchor on calendar dates; daily amounts add up to the cent."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bieb.core import clock
from bieb.subscriptions import periods
from bieb.subscriptions.periods import Period, period_containing

D = dt.date


def monthly(day: dt.date, anchor: int) -> Period:
    return period_containing(day, interval="month", anchor_day=anchor)


def test_anchored_on_the_31st_bills_on_the_last_day_of_shorter_months():
    starts = []
    day = D(2025, 1, 31)
    for _ in range(6):
        period = monthly(day, 31)
        starts.append(period.start)
        day = period.end
    assert starts == [
        D(2025, 1, 31),
        D(2025, 2, 28),
        D(2025, 3, 31),
        D(2025, 4, 30),
        D(2025, 5, 31),
        D(2025, 6, 30),
    ]


def test_february_in_a_leap_year_ends_on_the_29th():
    assert monthly(D(2024, 2, 15), 30) == Period(D(2024, 1, 30), D(2024, 2, 29))
    assert monthly(D(2024, 2, 29), 30) == Period(D(2024, 2, 29), D(2024, 3, 30))
    assert monthly(D(2024, 2, 29), 31).days == 31  # Feb 29 .. Mar 30


def test_a_day_before_the_anchor_belongs_to_the_previous_period():
    assert monthly(D(2025, 3, 14), 15) == Period(D(2025, 2, 15), D(2025, 3, 15))
    assert monthly(D(2025, 3, 15), 15) == Period(D(2025, 3, 15), D(2025, 4, 15))
    assert monthly(D(2025, 1, 3), 15) == Period(D(2024, 12, 15), D(2025, 1, 15))


def test_yearly_anchored_on_february_29():
    yearly = [
        period_containing(D(year, 6, 1), interval="year", anchor_day=29, anchor_month=2)
        for year in (2024, 2025, 2027, 2028)
    ]
    assert [p.start for p in yearly] == [
        D(2024, 2, 29),
        D(2025, 2, 28),
        D(2027, 2, 28),
        D(2028, 2, 29),
    ]
    assert [p.days for p in yearly] == [365, 365, 366, 365]


def test_a_period_over_the_clock_change_has_its_calendar_days():
    # the clocks go forward on 30 March 2025 and back on 26 October 2025
    assert monthly(D(2025, 3, 20), 15).days == 31
    assert monthly(D(2025, 10, 20), 15).days == 31
    assert len(periods.daily_amounts(1_000, monthly(D(2025, 3, 20), 15).days)) == 31


def test_today_is_the_amsterdam_date_around_midnight_and_the_clock_change():
    # 22:30 UTC on 29 March is 23:30 in Amsterdam (winter time); 22:30 UTC on 30 March is
    # 00:30 on 31 March (summer time)
    with clock.frozen(dt.datetime(2025, 3, 29, 22, 30, tzinfo=dt.UTC)):
        assert clock.today() == D(2025, 3, 29)
    with clock.frozen(dt.datetime(2025, 3, 30, 22, 30, tzinfo=dt.UTC)):
        assert clock.today() == D(2025, 3, 31)
    with clock.frozen(dt.datetime(2025, 3, 30, 22, 30, tzinfo=dt.UTC)):
        assert monthly(clock.today(), 31).start == D(2025, 3, 31)


def test_daily_amounts_spread_the_cents_evenly_and_add_up():
    amounts = periods.daily_amounts(1_000, 31)
    assert sum(amounts) == 1_000
    assert set(amounts) == {32, 33}
    assert periods.daily_amounts(0, 30) == [0] * 30
    assert periods.daily_amounts(29, 30).count(1) == 29


def test_amount_for_days_refuses_nonsense():
    with pytest.raises(ValueError):
        periods.amount_for_days(-1, 30, 0, 1)
    with pytest.raises(ValueError):
        periods.amount_for_days(100, 30, 5, 31)
    with pytest.raises(ValueError):
        periods.anchored(2025, 1, 32)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10_000_000),
    days=st.integers(min_value=1, max_value=366),
    cuts=st.lists(st.integers(min_value=0, max_value=366), max_size=6),
)
def test_any_cut_of_a_period_adds_up_to_its_price(total, days, cuts):
    points = sorted({0, days, *(c for c in cuts if c <= days)})
    pieces = [periods.amount_for_days(total, days, a, b) for a, b in itertools.pairwise(points)]
    assert sum(pieces) == total
    daily = periods.daily_amounts(total, days)
    assert sum(daily) == total
    assert max(daily) - min(daily) <= 1
    assert all(piece >= 0 for piece in pieces)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)),
    anchor=st.integers(min_value=1, max_value=31),
    anchor_month=st.integers(min_value=1, max_value=12),
    interval=st.sampled_from(["month", "year"]),
)
def test_periods_contain_the_day_and_chain_without_gaps(day, anchor, anchor_month, interval):
    period = period_containing(day, interval=interval, anchor_day=anchor, anchor_month=anchor_month)
    assert day in period
    following = period_containing(
        period.end, interval=interval, anchor_day=anchor, anchor_month=anchor_month
    )
    assert following.start == period.end
    if interval == "month":
        assert 28 <= period.days <= 31
        last = calendar.monthrange(period.start.year, period.start.month)[1]
        assert period.start.day == min(anchor, last)
    else:
        assert period.days in (365, 366)
        assert period.start.month == anchor_month
