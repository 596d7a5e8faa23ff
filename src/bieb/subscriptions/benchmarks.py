"""``bieb bench billing``: the billing run over a national number of subscriptions.

Builds ``--size`` subscriptions (1,000,000) for as many residents of 20 organisations, on the
demo plans: mostly monthly, 15 % yearly, 10 % switched off since before the run, 3 % on the
household plan, 1 % with a fee to bill; every resident has a SEPA mandate. Everything billed
before the run's month counts as invoiced (``billed_until``), so the run bills each monthly
subscription one period, and the yearly ones whose year starts this month. Then it measures:

- ``first_run``: ``billing_run`` for the run date: seconds, invoices, invoices per second;
- ``second_run``: the same run again: invoices created (must be 0) and its seconds;
- ``naive``: the peer approach a first version would write, on a sample of subscriptions
  (rolled back before the real run): per subscription one transaction that reads its timeline,
  takes a number under the counter lock, and creates the invoice and its lines through the
  ORM one by one;
- ``sepa_export``: the seconds to write the pain.008 collection file for everything the run
  invoiced (``sepa.sepa_export``), with its payments and size.

Run it against a fresh scratch database (``DATABASE_URL``; ``bieb migrate`` first): it
refuses a database with invoices or residents of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connection, transaction

from bieb.accounts.models import User
from bieb.core import clock
from bieb.network.models import Organisation
from bieb.subscriptions import billing, invoicing, periods
from bieb.subscriptions.models import (
    Creditor,
    Fee,
    Interval,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Mandate,
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    Subscription,
    SwitchOff,
)

EMAIL_DOMAIN = "bench-billing.invalid"
RUN_DATE = dt.date(2027, 3, 1)
ORGANISATIONS = 20
NAIVE_SAMPLE = 2_000
BATCH = 10_000

PLANS = [
    # code, name, monthly, yearly, seats, share of residents (per mille)
    ("digitaal", "Digitaal", 350, 3_900, 1, 250),
    ("basis", "Basis", 475, 5_500, 1, 450),
    ("compleet", "Compleet", 750, 8_500, 1, 240),
    ("huishouden", "Huishouden", 1_250, 14_000, 6, 30),
    ("stadspas", "Basis met stadspas", 200, 2_200, 1, 30),
]


def _check_scratch() -> None:
    if Invoice.objects.exists():
        raise CommandError(
            "This database holds invoices. The billing benchmark needs a fresh scratch database:"
            " create one, point DATABASE_URL at it, run `bieb migrate`, and start again."
        )
    if User.objects.exclude(email__endswith=EMAIL_DOMAIN).exists():
        raise CommandError(
            "This database holds residents of its own. Point DATABASE_URL at a fresh scratch"
            " database, run `bieb migrate`, and start the benchmark again."
        )


def _organisations() -> list[Organisation]:
    made = []
    for index in range(ORGANISATIONS):
        org, _ = Organisation.objects.get_or_create(
            code=f"BB{index:02d}",
            defaults={
                "name": f"Bibliotheek Bench {index:02d}",
                "slug": f"bench-billing-{index:02d}",
                "kvk_number": f"{90_000_000 + index}",
            },
        )
        made.append(org)
    return made


def _plans() -> dict[str, Plan]:
    found = {}
    for code, name, monthly, yearly, seats, _share in PLANS:
        plan, created = Plan.objects.get_or_create(
            code=f"bench-{code}",
            defaults={
                "name": name,
                "kind": PlanKind.BASE,
                "physical_loans": 10,
                "household_seats": seats,
                "vat_rate_bp": 900,
            },
        )
        if created:
            PlanPrice.objects.create(
                plan=plan,
                monthly_cents=monthly,
                yearly_cents=yearly,
                effective_from=dt.date(2020, 1, 1),
            )
        found[code] = plan
    return found


def _build(size: int, seed: int) -> dict[str, Any]:
    """Residents, mandates, subscriptions, plan switches, switch-offs and fees, in batches."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - bench data, not secrets
    orgs = _organisations()
    plans = _plans()
    Creditor.objects.get_or_create(
        name="Bibliotheeknetwerk Incasso",
        defaults={
            "iban": "NL91ABNA0417164300",
            "bic": "ABNANL2A",
            "creditor_identifier": "NL69ZZZ123456780000",
        },
    )
    have = User.objects.filter(email__endswith=EMAIL_DOMAIN).count()
    weights = [share for *_rest, share in PLANS]
    codes = [code for code, *_rest in PLANS]
    now = clock.now()
    for first in range(have, size, BATCH):
        count = min(BATCH, size - first)
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(
                    email=f"r{first + k}@{EMAIL_DOMAIN}",
                    password="!",
                    first_name="Bench",
                    last_name=f"Lezer {first + k}",
                    home_organisation_id=orgs[(first + k) % ORGANISATIONS].pk,
                    date_joined=now,
                )
                for k in range(count)
            )
            Mandate.objects.bulk_create(
                Mandate(
                    person_id=user.pk,
                    reference=f"BENCH-{user.pk}",
                    iban="NL91ABNA0417164300",
                    account_holder=user.last_name,
                    signed_on=dt.date(2026, 1, 1),
                    first_collected_on=dt.date(2026, 2, 1),
                )
                for user in users
            )
            subs = []
            for user in users:
                yearly = rng.random() < 0.15
                started_on = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(700))
                started_on = min(started_on, RUN_DATE - dt.timedelta(days=40))
                interval = Interval.YEAR if yearly else Interval.MONTH
                period = periods.period_containing(
                    RUN_DATE,
                    interval=interval,
                    anchor_day=started_on.day,
                    anchor_month=started_on.month,
                )
                # invoiced up to the run's month: monthly ones are due, yearly ones when
                # their year starts this month
                due = period.start.month == RUN_DATE.month or not yearly
                billed_until = period.start if due else period.end
                code = rng.choices(codes, weights)[0]
                subs.append(
                    Subscription(
                        person_id=user.pk,
                        plan=plans[code],
                        interval=interval,
                        anchor_day=started_on.day,
                        anchor_month=started_on.month,
                        started_on=started_on,
                        billed_until=max(billed_until, started_on),
                        created_at=now,
                    )
                )
            subs = Subscription.objects.bulk_create(subs)
            PlanSwitch.objects.bulk_create(
                PlanSwitch(subscription_id=s.pk, plan_id=s.plan_id, effective_on=s.started_on)
                for s in subs
            )
            SwitchOff.objects.bulk_create(
                SwitchOff(subscription_id=s.pk, off_from=RUN_DATE - dt.timedelta(days=20))
                for s in subs
                if s.pk % 10 == 0
            )
            Fee.objects.bulk_create(
                Fee(
                    person_id=s.person_id,
                    organisation_id=orgs[s.person_id % ORGANISATIONS].pk,
                    source="bench",
                    source_id=s.pk,
                    description="Vervanging verloren boek",
                    amount_cents=1_995,
                )
                for s in subs
                if s.pk % 100 == 7
            )
    return {
        "build_seconds": round(time.perf_counter() - started, 1),
        "subscriptions": Subscription.objects.count(),
    }


def _naive(sample: list[int], today: dt.date) -> dict[str, Any]:
    """Per subscription: its own transaction, ORM reads, a number under the counter lock, the
    invoice and each line created one by one. Rolled back afterwards."""
    started = time.perf_counter()
    made = 0

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for pk in sample:
                with transaction.atomic():
                    sub = Subscription.objects.select_for_update().get(pk=pk)
                    start = sub.billed_until or sub.started_on
                    end = billing.timeline_of(sub).period_containing(today).end
                    lines = [
                        line for line in billing.lines_for(sub, start, end) if line.amount_cents
                    ]
                    if lines:
                        org_id = User.objects.get(pk=sub.person_id).home_organisation_id
                        counter, _ = InvoiceCounter.objects.select_for_update().get_or_create(
                            organisation_id=org_id, year=today.year
                        )
                        counter.last_number += 1
                        counter.save()
                        total = sum(line.amount_cents for line in lines)
                        invoice = Invoice.objects.create(
                            person_id=sub.person_id,
                            organisation_id=org_id,
                            subscription=sub,
                            status=InvoiceStatus.OPEN,
                            year=today.year,
                            sequence=counter.last_number,
                            number=f"N-{today.year}-{counter.last_number:06d}",
                            issued_on=today,
                            total_cents=total,
                            vat_cents=sum(invoicing.vat_in(x.amount_cents, 900) for x in lines),
                        )
                        for line in lines:
                            InvoiceLine.objects.create(
                                invoice=invoice,
                                kind=LineKind.SUBSCRIPTION,
                                description="bench",
                                subscription=sub,
                                plan_id=line.plan_id,
                                period_start=line.period.start,
                                period_end=line.period.end,
                                first_day=line.first_day,
                                last_day=line.last_day,
                                days=line.days,
                                amount_cents=line.amount_cents,
                                vat_rate_bp=900,
                                vat_cents=invoicing.vat_in(line.amount_cents, 900),
                            )
                        made += 1
                    sub.billed_until = end
                    sub.save(update_fields=["billed_until"])
            raise Rollback
    except Rollback:
        pass
    seconds = time.perf_counter() - started
    return {
        "subscriptions": len(sample),
        "invoices": made,
        "seconds": round(seconds, 3),
        "invoices_per_second": round(made / seconds, 1) if seconds else None,
    }


def _sepa(today: dt.date) -> dict[str, Any]:
    try:
        from bieb.subscriptions import sepa
    except ImportError:
        return {"skipped": "bieb.subscriptions.sepa is not there"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "incasso.xml"
        started = time.perf_counter()
        try:
            report = sepa.sepa_export(collection_date=today + dt.timedelta(days=5), out=out)
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        seconds = time.perf_counter() - started
        size = out.stat().st_size if out.exists() else 0
    return {
        "seconds": round(seconds, 2),
        "payments": report.get("payments"),
        "total_cents": report.get("total_cents"),
        "file_megabytes": round(size / 1_000_000, 1),
    }


def bench_billing(options: dict[str, Any]) -> dict[str, Any]:
    size = options.get("size") or int(os.environ.get("BIEB_BENCH_SUBSCRIPTIONS", 1_000_000))
    seed = options.get("seed") or 2026
    _check_scratch()
    built = _build(size, seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    rng = random.Random(seed)  # noqa: S311 - bench data, not secrets
    due = list(Subscription.objects.filter(billed_until__lte=RUN_DATE).values_list("pk", flat=True))
    sample = sorted(rng.sample(due, min(NAIVE_SAMPLE, len(due))))
    with clock.frozen(dt.datetime(2027, 3, 1, 6, tzinfo=clock.AMSTERDAM)):
        naive = _naive(sample, RUN_DATE)

        started = time.perf_counter()
        first = invoicing.billing_run(today=RUN_DATE)
        first_seconds = time.perf_counter() - started

        started = time.perf_counter()
        second = invoicing.billing_run(today=RUN_DATE)
        second_seconds = time.perf_counter() - started

        sepa = _sepa(RUN_DATE)
    per_second = first["invoices"] / first_seconds if first_seconds else 0
    return {
        "size": size,
        **built,
        "run_date": RUN_DATE.isoformat(),
        "first_run": {
            "seconds": round(first_seconds, 2),
            "subscriptions": first["subscriptions"],
            "invoices": first["invoices"] + first["fee_invoices"],
            "invoiced_cents": first["invoiced_cents"],
            "invoices_per_second": round(per_second, 1),
        },
        "second_run": {
            "seconds": round(second_seconds, 2),
            "invoices_created": second["invoices"] + second["fee_invoices"],
            "credit_notes_created": second["credit_notes"],
        },
        "naive": naive,
        "speedup": round(per_second / naive["invoices_per_second"], 1)
        if naive.get("invoices_per_second")
        else None,
        "sepa_export": sepa,
        "target_invoices_per_second_postgresql": 3_000,
    }


BENCHMARKS = {"billing": bench_billing}
