"""Edges of settling found in review: add-ons follow their base when it is switched off or
ends early, credit left on a credit note is used against the next invoice, a credit note
settles only its own organisation's invoices, and a void credits VAT rate by rate."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import invoicing, ledger, selectors, services
from bieb.subscriptions.invoicing import NewLine, billing_run
from bieb.subscriptions.models import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    LineKind,
    PaymentAllocation,
    PaymentMethod,
    PlanKind,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def net(billed_plan) -> int:
    total = 0
    for line in InvoiceLine.objects.filter(plan=billed_plan).select_related("invoice"):
        sign = -1 if line.invoice.kind == DocumentKind.CREDIT_NOTE else 1
        total += sign * line.amount_cents
    return total


def pay(person, invoice):
    ledger.payment_mark_paid(
        ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    )


def test_an_add_on_is_credited_when_its_base_is_switched_off():
    org = OrganisationFactory()
    basis = plan(code="basis", monthly=1_000)
    stream = plan(code="streaming", kind=PlanKind.ADDON, monthly=300, yearly=3_000, min_age=18)
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        services.addon_add(person=person, plan_code="streaming")
    billing_run(today=D(2026, 4, 1))
    billing_run(today=D(2026, 5, 1))
    with at(D(2026, 5, 11)):
        services.subscription_switch_off(person=person)
    for day in (D(2026, 5, 11), D(2026, 6, 1), D(2026, 7, 1)):
        billing_run(today=day)

    assert net(basis) == 1_000 + 10 * 1_000 // 31  # May: 10 days of 31 on
    assert net(stream) == 300 + 10 * 300 // 31


def test_an_add_on_is_credited_when_a_yearly_base_ends_early():
    org = OrganisationFactory()
    plan(code="basis", monthly=1_000, yearly=12_000)
    stream = plan(code="streaming", kind=PlanKind.ADDON, monthly=300, yearly=3_650, min_age=18)
    person = adult(home_organisation=org)
    with at(D(2026, 1, 1)):
        services.subscribe(person=person, plan_code="basis", interval="year")
        services.addon_add(person=person, plan_code="streaming")
    billing_run(today=D(2026, 1, 1))
    billing_run(today=D(2027, 1, 1))
    with at(D(2027, 3, 10)):
        services.subscription_cancel(person=person)  # last day 31 March 2027
    billing_run(today=D(2027, 3, 10))
    with at(D(2027, 4, 2)):
        services.changes_apply_due()
    billing_run(today=D(2027, 4, 2))
    billing_run(today=D(2028, 1, 1))

    days = (D(2027, 4, 1) - D(2027, 1, 1)).days
    assert net(stream) == 3_650 + days * 3_650 // 365


def test_credit_left_is_used_against_the_next_invoice_without_a_mandate():
    org = OrganisationFactory()
    plan(code="basis", monthly=1_000)
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
    billing_run(today=D(2026, 4, 1))
    pay(person, Invoice.objects.get(kind=DocumentKind.INVOICE))
    with at(D(2026, 4, 11)):
        services.subscription_switch_off(person=person)
    billing_run(today=D(2026, 4, 11))  # a credit note with nothing open to settle
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    left = ledger.credit_left_cents(note)
    assert left == 1_000 - 10 * 1_000 // 30 and selectors.owed_cents(person) == 0
    with at(D(2026, 4, 25)):
        services.subscription_switch_on(person=person)
    billing_run(today=D(2026, 4, 25))
    billing_run(today=D(2026, 5, 1))

    open_total = sum(i.outstanding_cents for i in Invoice.objects.filter(kind="invoice"))
    assert ledger.credit_left_cents(note) == 0
    assert selectors.owed_cents(person) == open_total
    assert open_total == 1_000 + (30 - 24) * 1_000 // 30 - left  # 25..30 April, and May


def test_a_credit_note_settles_only_its_own_organisations_invoices():
    ours, theirs = OrganisationFactory(), OrganisationFactory()
    plan(code="basis", monthly=1_000)
    person = adult(home_organisation=ours)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        services.fee_record(
            person=person, organisation=theirs, amount_cents=2_500, description="Verloren",
            source="test", source_id=1,
        )  # fmt: skip
    billing_run(today=D(2026, 4, 1))
    pay(person, Invoice.objects.get(organisation=ours, kind=DocumentKind.INVOICE))
    with at(D(2026, 4, 11)):
        services.subscription_switch_off(person=person)
    billing_run(today=D(2026, 4, 11))

    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    assert (
        not PaymentAllocation.objects.filter(credit_note=note)
        .exclude(invoice__organisation=ours)
        .exists()
    )
    assert Invoice.objects.get(organisation=theirs).settled_cents == 0


def test_voiding_credits_each_vat_rate_exactly_and_staff_credit_splits_by_rate():
    org = OrganisationFactory()
    person = adult(home_organisation=org)
    invoice = invoicing.invoice_create(
        person=person,
        organisation_id=org.pk,
        lines=[
            NewLine(LineKind.SUBSCRIPTION, "abonnement", 1_000, 900),
            NewLine(LineKind.FEE, "boete", 1_000, 0),
        ],
    )
    partial = invoicing.invoice_credit(invoice, amount_cents=501, reason="coulance", actor=person)
    assert sorted(partial.lines.values_list("vat_rate_bp", "amount_cents")) == [
        (0, 251),  # a tie: the extra cent goes to the lower rate
        (900, 250),
    ]
    other = invoicing.invoice_create(
        person=person,
        organisation_id=org.pk,
        lines=[
            NewLine(LineKind.SUBSCRIPTION, "abonnement", 1_000, 900),
            NewLine(LineKind.FEE, "boete", 1_000, 0),
        ],
    )
    invoicing.invoice_void(other, reason="fout", actor=person)
    note = other.credit_notes.get()
    assert note.vat_cents == other.vat_cents == 83
    assert invoicing.split_by_rate([], 10) == [(0, 10)]
