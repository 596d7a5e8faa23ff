"""Queries other apps and the screens read through.

``entitlements_for(person)`` is the answer circulation and programming will ask once they
switch over from circulation's own patron categories: the plan in effect today, whether the
subscription is on, and its limits (a household member shares the manager's household plan;
add-ons add to the base plan). ``usage_of(person)`` answers what was used this period.
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
        Subscription.objects.filter(
            person_id=person.pk, status=SubscriptionStatus.ACTIVE, parent__isnull=True
        )
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
    #: codes of the add-ons counted in
    addons: tuple[str, ...] = ()


NOTHING = PlanEntitlements("", False, 0, 0, False, 0, 0, refusal="no_subscription")


def household_subscription_of(person: Any, *, today: dt.date | None = None):
    """The subscription a household member shares: the manager's, when its plan has seats for
    more than one and the member is among the first ``household_seats`` members (the oldest
    accounts first, by id: no joining moment is stored; the manager always has a seat). None otherwise."""
    from bieb.accounts.models import Household, User

    household_id = getattr(person, "household_id", None)
    if not household_id:
        return None
    household = Household.objects.filter(pk=household_id).only("manager_id").first()
    if household is None or household.manager_id == person.pk:
        return None
    subscription = subscription_of(household.manager, today=today)
    if subscription is None:
        return None
    plan = plan_on(subscription, today or clock.today())
    if plan is None or plan.household_seats <= 1:
        return None
    members = list(
        User.objects.filter(household_id=household_id, is_active=True)
        .exclude(pk=household.manager_id)
        .order_by("pk")
        .values_list("pk", flat=True)[: plan.household_seats - 1]
    )
    return subscription if person.pk in members else None


def entitlements_for(person: Any, *, today: dt.date | None = None) -> PlanEntitlements:
    """What the person's plan allows today, with its add-ons; all zero when they have no
    subscription or it is switched off (loans in hand stay; circulation decides about those).
    A member of a household shares the manager's household plan, each under their own limits;
    youth members pay nothing because the manager's plan is the one billed."""
    today = today or clock.today()
    subscription = subscription_of(person, today=today) or household_subscription_of(
        person, today=today
    )
    if subscription is None:
        return day_pass_of(person, today=today) or NOTHING
    plan = plan_on(subscription, today)
    if plan is None or plan.kind != PlanKind.BASE:
        return NOTHING
    if is_off_on(subscription, today):
        return PlanEntitlements(plan.code, False, 0, 0, False, 0, 0, refusal="switched_off")
    addons = [
        plan_on(addon, today)
        for addon in Subscription.objects.filter(
            parent=subscription, status=SubscriptionStatus.ACTIVE
        ).filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
    ]
    addons = [a for a in addons if a is not None]
    return PlanEntitlements(
        plan_code=plan.code,
        on=True,
        physical_loans=plan.physical_loans + sum(a.physical_loans for a in addons),
        digital_loans_per_month=plan.digital_loans_per_month
        + sum(a.digital_loans_per_month for a in addons),
        streaming=plan.streaming or any(a.streaming for a in addons),
        activity_credits_per_month=plan.activity_credits_per_month
        + sum(a.activity_credits_per_month for a in addons),
        things_at_once=plan.things_at_once + sum(a.things_at_once for a in addons),
        addons=tuple(a.code for a in addons),
    )


def day_pass_of(person: Any, *, today: dt.date | None = None) -> PlanEntitlements | None:
    """The entitlements of a day pass the person paid for today (``services.day_pass_buy``),
    or None."""
    from bieb.subscriptions.models import InvoiceLine, InvoiceStatus, LineKind

    today = today or clock.today()
    line = (
        InvoiceLine.objects.filter(
            invoice__person_id=person.pk,
            invoice__status=InvoiceStatus.PAID,
            kind=LineKind.DAY_PASS,
            first_day=today,
        )
        .select_related("plan")
        .first()
    )
    if line is None or line.plan is None:
        return None
    plan = line.plan
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
class MeterUse:
    meter: str
    label: str
    used: int
    #: the plan's limit per period; None: no limit per period (physical loans are limited at
    #: once, not per month)
    limit: int | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Usage:
    period: periods.Period
    meters: tuple[MeterUse, ...]


def usage_of(person: Any, *, today: dt.date | None = None) -> Usage:
    """What the person used this period (summed over organisations) against their limits."""
    from bieb.subscriptions.models import Meter, UsageMeter
    from bieb.subscriptions.services import usage_period

    today = today or clock.today()
    period = usage_period(person, today)
    start = period.start
    used = dict.fromkeys(Meter.values, 0)
    for meter, amount in UsageMeter.objects.filter(
        person_id=person.pk, period_start=start
    ).values_list("meter", "used"):
        used[meter] += amount
    rights = entitlements_for(person, today=today)
    limits = {
        Meter.LOANS: None,
        Meter.DIGITAL_LOANS: rights.digital_loans_per_month,
        Meter.ACTIVITY_CREDITS: rights.activity_credits_per_month,
    }
    return Usage(
        period=period,
        meters=tuple(
            MeterUse(meter, str(Meter(meter).label), used[meter], limits[meter])
            for meter in Meter.values
        ),
    )


def invoices_of(person: Any) -> QuerySet:
    """The person's final invoices and credit notes, newest first."""
    from bieb.subscriptions.models import Invoice, InvoiceStatus

    return (
        Invoice.objects.filter(person_id=person.pk)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("corrects")
        .order_by("-issued_on", "-pk")
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


def owed_cents(person: Any) -> int:
    """What the person owes now: fees not yet invoiced (nor waived) plus what is outstanding on
    their open invoices, less credit left on their credit notes. Circulation shows it at the self-service machine; an account with
    money owed cannot be deleted."""
    from django.db.models import F, Sum

    from bieb.subscriptions.models import DocumentKind, Fee, Invoice, InvoiceStatus

    unbilled = (
        Fee.objects.filter(
            person_id=person.pk, invoice_line__isnull=True, waived_at__isnull=True
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    outstanding = (
        Invoice.objects.filter(
            person_id=person.pk, kind=DocumentKind.INVOICE, status=InvoiceStatus.OPEN
        ).aggregate(total=Sum(F("total_cents") - F("settled_cents")))["total"]
        or 0
    )
    from bieb.subscriptions.models import PaymentAllocation

    credit = (
        Invoice.objects.filter(
            person_id=person.pk, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.OPEN
        ).aggregate(total=Sum("total_cents"))["total"]
        or 0
    ) - (
        PaymentAllocation.objects.filter(
            credit_note__person_id=person.pk,
            credit_note__kind=DocumentKind.CREDIT_NOTE,
            credit_note__status=InvoiceStatus.OPEN,
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    return max(unbilled + outstanding - credit, 0)


def fee_sources_settled(person: Any, source: str) -> list[int]:
    """The ``source_id`` of the person's fees from ``source`` that are no longer owed: waived,
    or on an invoice that was paid or voided."""
    from bieb.subscriptions.models import Fee, InvoiceStatus

    return list(
        Fee.objects.filter(person_id=person.pk, source=source)
        .filter(
            Q(waived_at__isnull=False)
            | Q(invoice_line__invoice__status__in=(InvoiceStatus.PAID, InvoiceStatus.VOID))
        )
        .values_list("source_id", flat=True)
    )
