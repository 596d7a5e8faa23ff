"""The demo catalogue of plans, as data. Idempotent: a plan whose code exists is left alone.

Prices are plausible for a Dutch public library in 2025 (integer cents, VAT included at the
reduced 9 % rate, assumed for lending and digital reading alike; a tax adviser confirms before
production). The youth plan is free by law (Wsob art. 13).

Not yet called by ``bieb seed``: wiring it in is one line in ``portal``'s seed command
(``("subscriptions", subscriptions_seeding.seed_subscriptions)`` after accounts).
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


def seed_subscriptions(profile: str, seed: int) -> None:
    """Seed the plan catalogue (the same for ``demo`` and ``bench``)."""
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
