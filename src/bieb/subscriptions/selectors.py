"""Queries other apps and the screens read through.

``entitlements_for(person)`` is the answer circulation and programming will ask once they
switch over from circulation's own patron categories: the plan in effect today, whether the
subscription is on, and its limits. Usage meters are a later step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from bieb.core import clock
from bieb.subscriptions import billing, periods
from bieb.subscriptions.models import (
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
    SwitchOff,
)


def plans_public() -> QuerySet[Plan]:
    """The plans a resident can choose, cheapest kinds first by name."""
    return Plan.objects.filter(is_active=True, is_public=True).order_by("kind", "name")


def prices_in_effect(plans: list[Plan], day: dt.date) -> dict[int, PlanPrice]:
    """The price row in effect on ``day`` per plan, by plan id (one query)."""
    found: dict[int, PlanPrice] = {}
    for price in PlanPrice.objects.filter(plan__in=plans, effective_from__lte=day).order_by(
        "plan_id", "-effective_from"
    ):
        found.setdefault(price.plan_id, price)
    return found


def subscription_of(person: Any, *, today: dt.date | None = None) -> Subscription | None:
    """The person's subscription that covers ``today`` (an active one past its last day, not
    yet ended by the daily job, does not count)."""
    today = today or clock.today()
    return (
        Subscription.objects.filter(person_id=person.pk, status=SubscriptionStatus.ACTIVE)
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
        .select_related("plan")
        .first()
    )


def is_off_on(subscription: Subscription, day: dt.date) -> bool:
    return (
        SwitchOff.objects.filter(subscription=subscription, off_from__lte=day)
        .filter(Q(on_from__isnull=True) | Q(on_from__gt=day))
        .exists()
    )


def plan_on(subscription: Subscription, day: dt.date) -> Plan | None:
    switch = (
        PlanSwitch.objects.filter(subscription=subscription, effective_on__lte=day)
        .select_related("plan")
        .order_by("-effective_on")
        .first()
    )
    return switch.plan if switch else None


def scheduled_changes_of(subscription: Subscription) -> QuerySet[ScheduledChange]:
    """What the resident sees under "gepland" and may undo: pending changes, soonest first."""
    return (
        ScheduledChange.objects.filter(
            subscription=subscription, undone_at__isnull=True, applied_at__isnull=True
        )
        .select_related("to_plan")
        .order_by("effective_on", "pk")
    )


@dataclass(frozen=True)
class PlanEntitlements:
    plan_code: str
    #: the subscription is on today (not switched off, not in a skipped month)
    on: bool
    physical_loans: int
    digital_loans_per_month: int
    streaming: bool
    activity_credits_per_month: int
    things_at_once: int
    #: why nothing is allowed: ``no_subscription`` or ``switched_off``
    refusal: str = ""


NOTHING = PlanEntitlements("", False, 0, 0, False, 0, 0, refusal="no_subscription")


def entitlements_for(person: Any, *, today: dt.date | None = None) -> PlanEntitlements:
    """What the person's plan allows today; all zero when they have no subscription or it is
    switched off (loans in hand stay; circulation decides about those)."""
    today = today or clock.today()
    subscription = subscription_of(person, today=today)
    if subscription is None:
        return NOTHING
    plan = plan_on(subscription, today)
    if plan is None or plan.kind != PlanKind.BASE:
        return NOTHING
    if is_off_on(subscription, today):
        return PlanEntitlements(plan.code, False, 0, 0, False, 0, 0, refusal="switched_off")
    return PlanEntitlements(
        plan_code=plan.code,
        on=True,
        physical_loans=plan.physical_loans,
        digital_loans_per_month=plan.digital_loans_per_month,
        streaming=plan.streaming,
        activity_credits_per_month=plan.activity_credits_per_month,
        things_at_once=plan.things_at_once,
    )


@dataclass(frozen=True)
class Overview:
    """A subscription as the resident sees it on ``today``."""

    subscription: Subscription
    #: the plan in effect today
    plan: Plan
    #: switched on today
    on: bool
    #: pending changes that take effect after today, soonest first
    changes: list[ScheduledChange]
    #: the billing period today falls in, and its days billed so far (today included)
    period: periods.Period
    lines_so_far: list[billing.Line]
    cost_so_far_cents: int
    cost_whole_period_cents: int
    #: every plan named above, by id
    plans: dict[int, Plan]


def subscription_overview(person: Any, *, today: dt.date | None = None) -> Overview | None:
    """The person's subscription on ``today`` (None without one): plan, on or off, pending
    changes, and the current period's cost from ``billing.billable_lines``."""
    today = today or clock.today()
    subscription = subscription_of(person, today=today)
    if subscription is None:
        return None
    timeline = billing.timeline_of(subscription)
    changes = [c for c in scheduled_changes_of(subscription) if c.effective_on > today]
    plan_ids = {plan_id for _day, plan_id in timeline.plan_switches} | {subscription.plan_id}
    plan_ids |= {c.to_plan_id for c in changes if c.to_plan_id}
    plans = Plan.objects.in_bulk(plan_ids)
    prices = billing.price_book_for(plan_ids)
    period = timeline.period_containing(today)
    so_far = billing.billable_lines(timeline, prices, period.start, today + billing.ONE_DAY)
    whole = billing.billable_lines(timeline, prices, period.start, period.end)
    return Overview(
        subscription=subscription,
        plan=plans[timeline.plan_on(today) or subscription.plan_id],
        on=not timeline.is_off(today),
        changes=changes,
        period=period,
        lines_so_far=so_far,
        cost_so_far_cents=billing.total_cents(so_far),
        cost_whole_period_cents=billing.total_cents(whole),
        plans=plans,
    )
