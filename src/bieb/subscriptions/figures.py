"""Subscription figures for staff: how many, how many switched off, what they bring in each
month, who left and who joined (docs/settlement.md, "Figures").

Privacy rule of the project: a statistic about people is shown only for a group of 10 or more
(``PRIVACY_THRESHOLD``). The figures are suppressed here, before they reach a screen, so no
caller can show a small number by mistake:

- a count below 10 (0 included: "0" next to "< 10" would give the others away) is a
  ``Headcount`` without a value, shown as "< 10";
- monthly recurring revenue only when 10 or more people pay towards it;
- churn only when 10 or more subscriptions were active at the start of the month; when fewer
  than 10 of them ended, only an upper bound is given ("minder dan 3,4 %": 10 ÷ the base,
  rounded up), never the count;
- counts per plan: plans below 10 are put together under "other plans"; when that group is
  itself below 10, the smallest shown plans join it until it is not (otherwise the total
  minus the plans shown would give it away). With fewer than 10 active, no breakdown.

A subscription is **active** on a day from its ``started_on`` up to and including its
``last_day`` (dates, so the figures of a past day stay right after subscriptions ended);
**switched off** on a day as ``billing.Timeline.is_off`` says. Counts are of base
subscriptions (an add-on is not a subscriber); the revenue includes add-ons.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.subscriptions.models import (
    Interval,
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    Subscription,
    SwitchOff,
)

__all__ = [
    "PRIVACY_THRESHOLD",
    "Headcount",
    "PlanCount",
    "SubscriptionFigures",
    "plan_counts_suppressed",
    "subscription_figures",
]

#: the smallest group of people a statistic may be about
PRIVACY_THRESHOLD = 10
ONE_DAY = dt.timedelta(days=1)
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Headcount:
    """A number of people, or nothing when it is below ``PRIVACY_THRESHOLD``."""

    value: int | None

    @classmethod
    def of(cls, number: int) -> Headcount:
        return cls(number if number >= PRIVACY_THRESHOLD else None)

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        if self.value is None:
            return f"< {PRIVACY_THRESHOLD}"
        return f"{self.value:,}".replace(",", ".")


@dataclass(frozen=True)
class PlanCount:
    """Active subscriptions on a plan; ``plan`` None is the group of other plans."""

    plan: Plan | None
    count: Headcount

    @property
    def name(self) -> str:
        return self.plan.name if self.plan is not None else _("Overige abonnementsvormen")


@dataclass(frozen=True)
class SubscriptionFigures:
    today: dt.date
    organisation_id: int | None
    active: Headcount
    #: switched off (or a skipped month) today
    paused: Headcount
    #: monthly recurring revenue in cents; None when fewer than 10 people pay towards it
    mrr_cents: int | None
    #: the last full month (its first day), which churn and new subscriptions are about
    month: dt.date
    #: ended in the month ÷ active at its start, in percent with one decimal
    churn_percent: Decimal | None
    #: fewer than 10 ended: churn is below this (one decimal, rounded up); else None
    churn_below_percent: Decimal | None
    new_last_month: Headcount
    per_plan: tuple[PlanCount, ...]


def _previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the last full month before ``today``."""
    last = today.replace(day=1) - ONE_DAY
    return last.replace(day=1), last


def _active_on(day: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}started_on__lte": day}) & (
        Q(**{f"{prefix}last_day__isnull": True}) | Q(**{f"{prefix}last_day__gte": day})
    )


def _off_on(day: dt.date, subscription: str) -> Exists:
    return Exists(
        SwitchOff.objects.filter(subscription_id=OuterRef(subscription), off_from__lte=day).filter(
            Q(on_from__isnull=True) | Q(on_from__gt=day)
        )
    )


def _plan_on(day: dt.date) -> Coalesce:
    """The plan in effect on ``day`` (its latest plan switch), whatever ``plan`` says yet."""
    return Coalesce(
        Subquery(
            PlanSwitch.objects.filter(subscription_id=OuterRef("pk"), effective_on__lte=day)
            .order_by("-effective_on")
            .values("plan_id")[:1]
        ),
        F("plan_id"),
        output_field=BigIntegerField(),
    )


def _prices_on(day: dt.date) -> dict[int, PlanPrice]:
    prices: dict[int, PlanPrice] = {}
    for price in PlanPrice.objects.filter(effective_from__lte=day).order_by("effective_from"):
        prices[price.plan_id] = price  # the latest in effect wins
    return prices


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def plan_counts_suppressed(counts: dict[Plan, int]) -> tuple[PlanCount, ...]:
    """Active counts per plan with the privacy rule applied (see the module docstring):
    largest first; plans below 10 together as one "other" row that is 10 or more."""
    total = sum(counts.values())
    if total < PRIVACY_THRESHOLD:
        return ()
    ranked = sorted(
        ((n, plan) for plan, n in counts.items() if n), key=lambda r: (-r[0], r[1].name, r[1].pk)
    )
    shown = [(n, plan) for n, plan in ranked if n >= PRIVACY_THRESHOLD]
    other = sum(n for n, _plan in ranked if n < PRIVACY_THRESHOLD)
    while 0 < other < PRIVACY_THRESHOLD and shown:
        other += shown.pop()[0]
    rows = tuple(PlanCount(plan, Headcount.of(n)) for n, plan in shown)
    if other:
        rows += (PlanCount(None, Headcount.of(other)),)
    return rows


def subscription_figures(
    *, organisation_id: int | None = None, today: dt.date | None = None
) -> SubscriptionFigures:
    """The figures of ``organisation_id``'s residents (``person.home_organisation``), or of
    the whole network (None), on ``today``, with the privacy rule applied. At most six
    queries."""
    today = today or clock.today()
    first, last = _previous_month(today)
    subscriptions = Subscription.objects.all()
    if organisation_id is not None:
        subscriptions = subscriptions.filter(person__home_organisation_id=organisation_id)
    base = subscriptions.filter(parent__isnull=True)

    started = _active_on(first)
    numbers = base.annotate(off_today=_off_on(today, "pk")).aggregate(
        active=Count("pk", filter=_active_on(today)),
        paused=Count("pk", filter=_active_on(today) & Q(off_today=True)),
        at_start=Count("pk", filter=started),
        ended=Count("pk", filter=started & Q(last_day__gte=first, last_day__lte=last)),
        new=Count("pk", filter=Q(started_on__gte=first, started_on__lte=last)),
    )

    by_plan: dict[int, int] = dict(
        base.filter(_active_on(today))
        .annotate(plan_today=_plan_on(today))
        .values("plan_today")
        .annotate(n=Count("pk"))
        .values_list("plan_today", "n")
    )

    # revenue: active, switched on (an add-on also when its base is), after any trial
    paying = (
        subscriptions.filter(_active_on(today))
        .filter(Q(trial_ends_on__isnull=True) | Q(trial_ends_on__lte=today))
        .annotate(
            off_self=_off_on(today, "pk"),
            off_base=_off_on(today, "parent_id"),
            plan_today=_plan_on(today),
        )
        .filter(off_self=False, off_base=False)
    )
    groups = list(
        paying.values("plan_today", "interval")
        .annotate(n=Count("pk"))
        .values_list("plan_today", "interval", "n")
    )
    prices = _prices_on(today)
    monthly = yearly = 0
    paid_for: list[Q] = []
    for plan_id, interval, n in groups:
        price = prices.get(plan_id)
        cents = price.for_interval(interval) if price is not None else 0
        if cents <= 0:
            continue
        if interval == Interval.YEAR:
            yearly += n * cents
        else:
            monthly += n * cents
        paid_for.append(Q(plan_today=plan_id, interval=interval))
    payers = 0
    if paid_for:
        condition = paid_for[0]
        for q in paid_for[1:]:
            condition |= q
        payers = paying.filter(condition).aggregate(n=Count("person_id", distinct=True))["n"]
    # the yearly prices summed first, then one division: no rounding per subscription
    mrr = monthly + _half_up(yearly, 12)

    plans = {
        plan.pk: plan
        for plan in Plan.objects.filter(pk__in=[p for p in by_plan if p is not None]).exclude(
            kind=PlanKind.ADDON
        )
    }

    at_start, ended = numbers["at_start"], numbers["ended"]
    churn = below = None
    if at_start >= PRIVACY_THRESHOLD:
        if ended >= PRIVACY_THRESHOLD:
            churn = (Decimal(ended * 100) / at_start).quantize(_TENTH, rounding=ROUND_HALF_UP)
        else:
            below = (Decimal(PRIVACY_THRESHOLD * 100) / at_start).quantize(
                _TENTH, rounding=ROUND_CEILING
            )
    counts: dict[Plan, int] = defaultdict(int)
    for plan_id, n in by_plan.items():
        if plan_id in plans:
            counts[plans[plan_id]] += n
    return SubscriptionFigures(
        today=today,
        organisation_id=organisation_id,
        active=Headcount.of(numbers["active"]),
        paused=Headcount.of(numbers["paused"]),
        mrr_cents=mrr if payers >= PRIVACY_THRESHOLD else None,
        month=first,
        churn_percent=churn,
        churn_below_percent=below,
        new_last_month=Headcount.of(numbers["new"]),
        per_plan=plan_counts_suppressed(dict(counts)),
    )
