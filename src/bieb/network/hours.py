"""Opening hours as moments in time: pure functions, no database.

Hours are wall-clock times in Europe/Amsterdam. Each day's periods become aware datetimes
through ``zoneinfo``, so a period on the day clocks change (last Sunday of March and October)
lasts what the wall clock says. A date with exceptions uses only its exceptions (a "closed"
exception means no periods at all). Touching periods of the same kind merge, so a locker open
00:00-24:00 every day reads as one stretch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bieb.core.clock import AMSTERDAM
from bieb.network.validation import END_OF_DAY

# How far ahead the state looks for the next opening (a closed holiday week still finds one).
HORIZON_DAYS = 15


class PeriodLike(Protocol):
    weekday: int
    opens: dt.time
    closes: dt.time
    kind: str


class ExceptionLike(Protocol):
    date: dt.date
    closed: bool
    opens: dt.time | None
    closes: dt.time | None
    kind: str


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime
    kind: str


@dataclass(frozen=True)
class OpeningState:
    """Where a location stands at a moment.

    ``closes_at`` ends the current stretch of ``kind`` (None: not within the horizon, e.g. a
    24/7 locker). ``then_kind``/``then_until`` describe a stretch of another kind that follows
    without a break (staffed until 17:00, then self-service until 22:00). ``next_opens_at`` is
    the next opening after the current open block (or from now when closed).
    """

    is_open: bool
    kind: str | None
    closes_at: dt.datetime | None
    next_opens_at: dt.datetime | None
    next_kind: str | None
    then_kind: str | None = None
    then_until: dt.datetime | None = None


def _at(day: dt.date, moment: dt.time) -> dt.datetime:
    if moment >= END_OF_DAY.replace(microsecond=0):
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=AMSTERDAM)
    return dt.datetime.combine(day, moment, tzinfo=AMSTERDAM)


def day_periods(
    day: dt.date,
    periods: Iterable[PeriodLike],
    exceptions: Iterable[ExceptionLike],
) -> list[tuple[dt.time, dt.time, str]]:
    """The (opens, closes, kind) periods that apply on ``day``, exceptions first."""
    todays = [exc for exc in exceptions if exc.date == day]
    if todays:
        if any(exc.closed for exc in todays):
            return []
        return sorted(
            (exc.opens, exc.closes, exc.kind)
            for exc in todays
            if exc.opens is not None and exc.closes is not None
        )
    weekday = day.weekday()
    return sorted((p.opens, p.closes, p.kind) for p in periods if p.weekday == weekday)


def intervals_between(
    first_day: dt.date,
    days: int,
    periods: Sequence[PeriodLike],
    exceptions: Sequence[ExceptionLike],
) -> list[Interval]:
    """Merged open intervals for ``days`` days from ``first_day``, in time order."""
    raw: list[Interval] = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for opens, closes, kind in day_periods(day, periods, exceptions):
            raw.append(Interval(_at(day, opens), _at(day, closes), kind))
    raw.sort(key=lambda interval: interval.start)
    merged: list[Interval] = []
    for interval in raw:
        if merged and merged[-1].kind == interval.kind and merged[-1].end >= interval.start:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, interval.end), last.kind)
        else:
            merged.append(interval)
    return merged


def opening_state(
    *,
    at: dt.datetime,
    periods: Sequence[PeriodLike],
    exceptions: Sequence[ExceptionLike],
) -> OpeningState:
    """The state at ``at`` (aware) given the weekly ``periods`` and dated ``exceptions``."""
    local = at.astimezone(AMSTERDAM)
    first_day = local.date() - dt.timedelta(days=1)
    intervals = intervals_between(first_day, HORIZON_DAYS + 1, periods, exceptions)
    horizon_end = _at(first_day + dt.timedelta(days=HORIZON_DAYS), dt.time(0))

    def bounded(moment: dt.datetime) -> dt.datetime | None:
        return None if moment >= horizon_end else moment

    for index, interval in enumerate(intervals):
        if interval.start <= local < interval.end:
            then_kind = then_until = None
            block_end = interval.end
            following = intervals[index + 1 :]
            if following and following[0].start == interval.end:
                then_kind = following[0].kind
                then_until = bounded(following[0].end)
                block_end = following[0].end
                following = following[1:]
            # Skip further touching stretches so "next opening" is after a real break.
            while following and following[0].start <= block_end:
                block_end = max(block_end, following[0].end)
                following = following[1:]
            next_interval = following[0] if following else None
            return OpeningState(
                is_open=True,
                kind=interval.kind,
                closes_at=bounded(interval.end),
                next_opens_at=next_interval.start if next_interval else None,
                next_kind=next_interval.kind if next_interval else None,
                then_kind=then_kind,
                then_until=then_until,
            )
    upcoming = next((interval for interval in intervals if interval.start > local), None)
    return OpeningState(
        is_open=False,
        kind=None,
        closes_at=None,
        next_opens_at=upcoming.start if upcoming else None,
        next_kind=upcoming.kind if upcoming else None,
    )
