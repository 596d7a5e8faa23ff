"""The demo catalogue of plans, as data. Idempotent: a plan whose code exists is left alone.

Prices are plausible for a Dutch public library in 2025 (integer cents, VAT included at the
reduced 9 % rate, assumed for lending and digital reading alike; a tax adviser confirms before
production). The youth plan is free by law (Wsob art. 13).

``bieb seed`` calls it after accounts. The demo profile also gets the network's collecting
office (``Creditor``) and a history for two demo accounts: ``lid@demo.bieb.nl`` on Basis per
month for three months, with a SEPA mandate, invoices from the billing runs of those months,
the first two paid by direct debit; ``jeugd@demo.bieb.nl`` on the free youth plan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from bieb.subscriptions.models import Plan, PlanKind, PlanPrice

#: demo prices apply from this day (fixed, so the data is the same whatever day it is seeded)
PRICES_FROM = dt.date(2025, 1, 1)

# code, name, kind, monthly, yearly, one-off, and the plan's other fields
DEMO_PLANS: list[dict[str, Any]] = [
    {
        "code": "jeugd",
        "name": "Jeugd (0-17 jaar)",
        "kind": PlanKind.BASE,
        "prices": (0, 0, 0),
        "physical_loans": 10,
        "digital_loans_per_month": 10,
        "activity_credits_per_month": 2,
        "things_at_once": 1,
        "min_age": 0,
        "max_age": 17,
    },
    {
        "code": "account",
        "name": "Gratis account",
        "description": "Activiteiten en community; lenen zit er niet in.",
        "kind": PlanKind.BASE,
        "prices": (0, 0, 0),
    },
    {
        "code": "digitaal",
        "name": "Digitaal",
        "kind": PlanKind.BASE,
        "prices": (350, 3_900, 0),
        "digital_loans_per_month": 10,
        "streaming": True,
        "min_age": 18,
        "trial_days": 14,
    },
    {
        "code": "basis",
        "name": "Basis",
        "kind": PlanKind.BASE,
        "prices": (475, 5_500, 0),
        "physical_loans": 10,
        "digital_loans_per_month": 5,
        "activity_credits_per_month": 1,
        "min_age": 18,
    },
    {
        "code": "compleet",
        "name": "Compleet",
        "kind": PlanKind.BASE,
        "prices": (750, 8_500, 0),
        "physical_loans": 20,
        "digital_loans_per_month": 20,
        "streaming": True,
        "activity_credits_per_month": 2,
        "things_at_once": 2,
        "min_age": 18,
    },
    {
        "code": "huishouden",
        "name": "Huishouden (tot 6 personen)",
        "kind": PlanKind.BASE,
        "prices": (1_250, 14_000, 0),
        "physical_loans": 20,
        "digital_loans_per_month": 20,
        "streaming": True,
        "activity_credits_per_month": 4,
        "things_at_once": 3,
        "household_seats": 6,
        "min_age": 18,
    },
    {
        "code": "stadspas",
        "name": "Basis met stadspas",
        "kind": PlanKind.BASE,
        "prices": (200, 2_200, 0),
        "physical_loans": 10,
        "digital_loans_per_month": 5,
        "activity_credits_per_month": 1,
        "min_age": 18,
        "requires_municipal_pass": True,
    },
    {
        "code": "dagpas",
        "name": "Dagpas",
        "description": "Een dag lenen, lezen en meedoen voor bezoekers.",
        "kind": PlanKind.DAY_PASS,
        "prices": (0, 0, 300),
        "physical_loans": 3,
        "activity_credits_per_month": 1,
    },
    {
        "code": "streaming",
        "name": "Streaming (uitbreiding)",
        "kind": PlanKind.ADDON,
        "prices": (200, 2_000, 0),
        "streaming": True,
        "min_age": 18,
    },
]


DEMO_CREDITOR = {
    "name": "Bibliotheeknetwerk Incasso (demo)",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "creditor_identifier": "NL69ZZZ123456780000",
}


def seed_demo_history() -> None:
    """Subscriptions, a mandate, invoices and payments for the demo accounts (idempotent: only
    when the demo member has no subscription yet)."""
    from bieb.accounts.models import User
    from bieb.core import clock
    from bieb.subscriptions import invoicing, ledger, mandates, periods, services
    from bieb.subscriptions.models import Creditor, Invoice, PaymentMethod, Subscription

    if not Creditor.objects.exists():
        Creditor.objects.create(**DEMO_CREDITOR)
    member = User.objects.filter(email="lid@demo.bieb.nl").first()
    if member is None or Subscription.objects.filter(person=member).exists():
        return
    today = clock.today()
    start = periods.monthly_boundary(today, min(today.day, 28), -2)

    def at(day: dt.date):
        return clock.frozen(dt.datetime(day.year, day.month, day.day, 9, tzinfo=clock.AMSTERDAM))

    with at(start):
        services.subscribe(person=member, plan_code="basis")
        mandate = mandates.mandate_create(
            person=member, iban="NL91ABNA0417164300", account_holder="A. de Vries"
        )
    for months in range(3):
        day = periods.monthly_boundary(start, start.day, months)
        with at(day):
            invoicing.billing_run(today=day)
            if months < 2:
                invoice = Invoice.objects.filter(person=member).order_by("-pk").first()
                payment = ledger.payment_create(
                    person=member,
                    method=PaymentMethod.DIRECT_DEBIT,
                    invoices=[invoice],
                    mandate=mandate,
                    collection_date=day + dt.timedelta(days=5),
                )
                ledger.payment_mark_paid(payment)
    youth = User.objects.filter(email="jeugd@demo.bieb.nl").first()
    if youth is not None and not Subscription.objects.filter(person=youth).exists():
        services.subscribe(person=youth, plan_code="jeugd")


def seed_subscriptions(profile: str, seed: int) -> None:
    """Seed the plan catalogue (the same for ``demo`` and ``bench``); for ``demo`` also the
    demo accounts' history (``seed_demo_history``)."""
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    with transaction.atomic():
        for spec in DEMO_PLANS:
            fields = dict(spec)
            monthly, yearly, one_off = fields.pop("prices")
            plan, created = Plan.objects.get_or_create(code=fields.pop("code"), defaults=fields)
            if created:
                PlanPrice.objects.create(
                    plan=plan,
                    monthly_cents=monthly,
                    yearly_cents=yearly,
                    one_off_cents=one_off,
                    effective_from=PRICES_FROM,
                )
    if profile == "demo":
        seed_demo_history()
