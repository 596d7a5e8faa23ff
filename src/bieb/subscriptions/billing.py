"""What a subscription costs over a range of days: a pure computation (no invoices yet).

``billable_lines(timeline, prices, start, end)`` walks the billing periods that overlap
``[start, end)``. Within a period each day that is billable (on or after ``started_on``, up to
and including ``last_day``, on or after the end of a trial, and not in a switch-off period or a
skipped month) costs the daily amount of the plan that was on that day, priced for that period
(``periods.amount_for_days``). Consecutive billable days of one plan in one period form one
line. Lines never overlap, so no day is billed twice, and the lines of a full period without
changes add up to exactly the period price.

``timeline_of(subscription)`` and ``price_book_for(...)`` read what the computation needs from
the database in three queries; ``billable_lines`` itself touches no database, so tests and the
later billing run can feed it directly.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from bieb.subscriptions import periods

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Timeline:
    """Everything billing needs to know about one subscription."""

    interval: str
    anchor_day: int
    anchor_month: int
    started_on: dt.date
    #: last covered day (inclusive); None: runs on
    last_day: dt.date | None = None
    #: first billed day after a trial; None: no trial
    trial_ends_on: dt.date | None = None
    #: (effective_on, plan_id), the first on ``started_on``
    plan_switches: tuple[tuple[dt.date, int], ...] = ()
    #: (off_from, on_from or None), not overlapping
    offs: tuple[tuple[dt.date, dt.date | None], ...] = ()

    def period_containing(self, day: dt.date) -> periods.Period:
        return periods.period_containing(
            day, interval=self.interval, anchor_day=self.anchor_day, anchor_month=self.anchor_month
        )

    def plan_on(self, day: dt.date) -> int | None:
        dates = [d for d, _plan in self.plan_switches]
        index = bisect.bisect_right(dates, day) - 1
        return self.plan_switches[index][1] if index >= 0 else None

    def is_off(self, day: dt.date) -> bool:
        """Switched off (or a skipped month) on ``day``."""
        return any(
            off_from <= day and (on_from is None or day < on_from)
            for off_from, on_from in self.offs
        )

    def is_billable(self, day: dt.date) -> bool:
        if day < self.started_on or (self.last_day is not None and day > self.last_day):
            return False
        if self.trial_ends_on is not None and day < self.trial_ends_on:
            return False
        return not self.is_off(day)


@dataclass
class PriceBook:
    """Plan prices by effective date: ``{plan_id: [(effective_from, monthly, yearly), ...]}``
    sorted by date. A period is priced by the row in effect on its first day."""

    rows: dict[int, list[tuple[dt.date, int, int]]] = field(default_factory=dict)
    #: VAT rates by effective date where a price row sets one: ``{plan_id: [(from, bp)]}``
    vat_rows: dict[int, list[tuple[dt.date, int]]] = field(default_factory=dict)

    def add(
        self,
        plan_id: int,
        effective_from: dt.date,
        monthly: int,
        yearly: int,
        vat_rate_bp: int | None = None,
    ) -> None:
        self.rows.setdefault(plan_id, []).append((effective_from, monthly, yearly))
        self.rows[plan_id].sort()
        if vat_rate_bp is not None:
            self.vat_rows.setdefault(plan_id, []).append((effective_from, vat_rate_bp))
            self.vat_rows[plan_id].sort()

    def price(self, plan_id: int, interval: str, period_start: dt.date) -> int:
        rows = self.rows.get(plan_id, [])
        index = bisect.bisect_right([r[0] for r in rows], period_start) - 1
        if index < 0:
            raise LookupError(f"plan {plan_id} has no price on {period_start}")
        _from, monthly, yearly = rows[index]
        return yearly if interval == periods.YEAR else monthly

    def vat(self, plan_id: int, period_start: dt.date, default: int) -> int:
        """The VAT rate for a period starting on ``period_start``: the latest dated rate in
        effect then, else ``default`` (the plan's own rate)."""
        rows = self.vat_rows.get(plan_id, [])
        index = bisect.bisect_right([r[0] for r in rows], period_start) - 1
        return rows[index][1] if index >= 0 else default


@dataclass(frozen=True)
class Line:
    plan_id: int
    period: periods.Period
    first_day: dt.date
    last_day: dt.date  # inclusive
    days: int
    amount_cents: int


def _cut_points(timeline: Timeline, period: periods.Period) -> list[dt.date]:
    """Dates inside the period where billability or the plan may change."""
    candidates: list[dt.date] = [d for d, _plan in timeline.plan_switches]
    candidates.append(timeline.started_on)
    if timeline.last_day is not None:
        candidates.append(timeline.last_day + ONE_DAY)
    if timeline.trial_ends_on is not None:
        candidates.append(timeline.trial_ends_on)
    for off_from, on_from in timeline.offs:
        candidates.append(off_from)
        if on_from is not None:
            candidates.append(on_from)
    return sorted({d for d in candidates if period.start < d < period.end})


def billable_lines(
    timeline: Timeline, prices: PriceBook, start: dt.date, end: dt.date
) -> list[Line]:
    """The lines for the days ``[start, end)`` (see the module docstring)."""
    lines: list[Line] = []
    begin = max(start, timeline.started_on)
    if timeline.last_day is not None:
        end = min(end, timeline.last_day + ONE_DAY)
    if begin >= end:
        return lines
    for period in periods.periods_between(
        begin,
        end,
        interval=timeline.interval,
        anchor_day=timeline.anchor_day,
        anchor_month=timeline.anchor_month,
    ):
        lo, hi = max(period.start, begin), min(period.end, end)
        points = [lo, *[d for d in _cut_points(timeline, period) if lo < d < hi], hi]
        # each [points[k], points[k+1]) has one plan and one billability
        run: tuple[int, dt.date, dt.date] | None = None  # plan, first, stop
        for seg_start, seg_stop in itertools.pairwise(points):
            plan_id = timeline.plan_on(seg_start)
            if plan_id is None or not timeline.is_billable(seg_start):
                if run:
                    lines.append(_line(run, period, prices, timeline.interval))
                run = None
                continue
            if run and run[0] == plan_id and run[2] == seg_start:
                run = (plan_id, run[1], seg_stop)
            else:
                if run:
                    lines.append(_line(run, period, prices, timeline.interval))
                run = (plan_id, seg_start, seg_stop)
        if run:
            lines.append(_line(run, period, prices, timeline.interval))
    return lines


def _line(
    run: tuple[int, dt.date, dt.date], period: periods.Period, prices: PriceBook, interval: str
) -> Line:
    plan_id, first, stop = run
    total = prices.price(plan_id, interval, period.start)
    amount = periods.amount_for_days(
        total, period.days, period.index_of(first), (stop - period.start).days
    )
    return Line(plan_id, period, first, stop - ONE_DAY, (stop - first).days, amount)


def total_cents(lines: Iterable[Line]) -> int:
    return sum(line.amount_cents for line in lines)


# --- reading from the database ---------------------------------------------------------------


def timeline_of(subscription) -> Timeline:
    """The subscription's billing facts as stored (two queries)."""
    from bieb.subscriptions.models import PlanSwitch, SwitchOff

    switches = tuple(
        PlanSwitch.objects.filter(subscription=subscription)
        .order_by("effective_on")
        .values_list("effective_on", "plan_id")
    )
    offs = tuple(
        SwitchOff.objects.filter(subscription=subscription)
        .order_by("off_from")
        .values_list("off_from", "on_from")
    )
    return Timeline(
        interval=subscription.interval,
        anchor_day=subscription.anchor_day,
        anchor_month=subscription.anchor_month,
        started_on=subscription.started_on,
        last_day=subscription.last_day,
        trial_ends_on=subscription.trial_ends_on,
        plan_switches=switches,
        offs=offs,
    )


def price_book_for(plan_ids: Iterable[int]) -> PriceBook:
    """Every price of the given plans (one query)."""
    from bieb.subscriptions.models import PlanPrice

    book = PriceBook()
    for plan_id, effective_from, monthly, yearly, vat in PlanPrice.objects.filter(
        plan_id__in=set(plan_ids)
    ).values_list("plan_id", "effective_from", "monthly_cents", "yearly_cents", "vat_rate_bp"):
        book.add(plan_id, effective_from, monthly, yearly, vat)
    return book


def lines_for(subscription, start: dt.date, end: dt.date) -> list[Line]:
    """``billable_lines`` for a stored subscription (three queries)."""
    timeline = timeline_of(subscription)
    prices = price_book_for(plan for _d, plan in timeline.plan_switches)
    return billable_lines(timeline, prices, start, end)
