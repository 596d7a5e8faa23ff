"""Billing periods and daily amounts, on calendar dates.

A period is half-open: ``[start, end)``. Periods are computed from the stored anchor on
Europe/Amsterdam calendar dates (``clock.today()`` gives today's date there), never by adding
24-hour steps to moments, so daylight-saving changes cannot shift a boundary.

- monthly: a period starts on ``anchor_day`` of every month, or on the month's last day when
  it is shorter (anchored on the 31st: Jan 31, Feb 28/29, Mar 31, Apr 30, May 31 ...);
- yearly: a period starts on ``anchor_day`` of ``anchor_month`` every year (anchored on
  Feb 29: Feb 28 in common years, Feb 29 in leap years).

Daily amounts spread a period's price over its days by cumulative rounding: day ``i`` of a
period of ``n`` days priced ``total`` costs ``floor((i+1)*total/n) - floor(i*total/n)``. Every
day costs ``floor(total/n)`` or one cent more, the extra cents are spread evenly, and any run
of days ``[i, j)`` costs ``floor(j*total/n) - floor(i*total/n)``: the days of a full period
add up to exactly ``total``, so no cent is lost or invented however a period is cut.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

MONTH = "month"
YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def index_of(self, day: dt.date) -> int:
        """Which day of the period ``day`` is (0-based)."""
        if not self.start <= day < self.end:
            raise ValueError(f"{day} is not in {self}")
        return (day - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end


def anchored(year: int, month: int, anchor_day: int) -> dt.date:
    """The anchor day in a month, or the month's last day when the month is shorter."""
    if not 1 <= anchor_day <= 31:
        raise ValueError("anchor_day must be 1..31")
    return dt.date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def monthly_boundary(day: dt.date, anchor_day: int, months: int = 0) -> dt.date:
    """The anchored date in the month ``months`` away from ``day``'s month."""
    year, month = _shift_month(day.year, day.month, months)
    return anchored(year, month, anchor_day)


def period_containing(
    day: dt.date, *, interval: str, anchor_day: int, anchor_month: int = 1
) -> Period:
    """The billing period that ``day`` falls in."""
    if interval == MONTH:
        this = monthly_boundary(day, anchor_day)
        if day >= this:
            return Period(this, monthly_boundary(day, anchor_day, 1))
        return Period(monthly_boundary(day, anchor_day, -1), this)
    if interval == YEAR:
        this = anchored(day.year, anchor_month, anchor_day)
        if day >= this:
            return Period(this, anchored(day.year + 1, anchor_month, anchor_day))
        return Period(anchored(day.year - 1, anchor_month, anchor_day), this)
    raise ValueError(f"unknown interval {interval!r}")


def periods_between(
    start: dt.date, end: dt.date, *, interval: str, anchor_day: int, anchor_month: int = 1
) -> list[Period]:
    """The periods overlapping ``[start, end)``, in order (whole periods, not clipped)."""
    found: list[Period] = []
    day = start
    while day < end:
        period = period_containing(
            day, interval=interval, anchor_day=anchor_day, anchor_month=anchor_month
        )
        found.append(period)
        day = period.end
    return found


def next_monthly_boundary_after(day: dt.date, anchor_day: int) -> dt.date:
    """The first anchored date strictly after ``day`` on a monthly rhythm."""
    this = monthly_boundary(day, anchor_day)
    return this if this > day else monthly_boundary(day, anchor_day, 1)


def amount_for_days(total_cents: int, period_days: int, first: int, stop: int) -> int:
    """What days ``first`` up to (not including) ``stop`` of a period of ``period_days`` days
    priced ``total_cents`` cost (cumulative rounding, see the module docstring)."""
    if not isinstance(total_cents, int) or total_cents < 0:
        raise ValueError("total_cents must be a non-negative int")
    if not 0 <= first <= stop <= period_days or period_days <= 0:
        raise ValueError("days out of range")
    return stop * total_cents // period_days - first * total_cents // period_days


def daily_amounts(total_cents: int, period_days: int) -> list[int]:
    """The price of each day of a period; they add up to exactly ``total_cents``."""
    return [amount_for_days(total_cents, period_days, i, i + 1) for i in range(period_days)]
