"""Invoices, credit notes and the billing run: exact to the cent, numbered without gaps, never
twice, and every change after invoicing settled at the next run."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import invoicing, ledger, services
from bieb.subscriptions.invoicing import NewLine, billing_run, invoice_preview, vat_in
from bieb.subscriptions.models import (
    DocumentKind,
    Fee,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Subscription,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


@pytest.fixture
def org():
    return OrganisationFactory(code="BIBX")


@pytest.fixture
def plans():
    return {
        "basis": plan(code="basis", name="Basis", monthly=1_000, yearly=10_000),
        "compleet": plan(code="compleet", name="Compleet", monthly=3_100, yearly=31_000),
    }


def resident(org):
    return adult(home_organisation=org)


def sign_up(person, day, code="basis", interval="month"):
    with at(day):
        return services.subscribe(person=person, plan_code=code, interval=interval)


def run(day):
    return billing_run(today=day)


def net_billed(person) -> int:
    total = 0
    for invoice in Invoice.objects.filter(person=person).exclude(status=InvoiceStatus.DRAFT):
        sign = -1 if invoice.kind == DocumentKind.CREDIT_NOTE else 1
        total += sign * sum(
            line.amount_cents for line in invoice.lines.filter(kind=LineKind.SUBSCRIPTION)
        )
    return total


def test_vat_is_rounded_half_up_per_line():
    assert vat_in(1_090, 900) == 90
    assert vat_in(1_000, 900) == 83  # 82.57
    assert vat_in(1_000, 2_100) == 174  # 173.55
    assert vat_in(0, 900) == 0
    assert vat_in(545, 900) == 45  # 45.0
    with pytest.raises(ValueError):
        vat_in(-1, 900)


def test_a_run_invoices_the_period_in_advance_and_a_second_run_nothing(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 1, 31))

    report = run(D(2026, 1, 31))

    assert report["invoices"] == 1
    invoice = Invoice.objects.get(person=person)
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.number == "BIBX-2026-000001"
    assert invoice.total_cents == 1_000
    assert invoice.vat_cents == vat_in(1_000, 900)
    assert invoice.due_on == D(2026, 2, 14)
    line = invoice.lines.get()
    assert (line.first_day, line.last_day, line.days) == (D(2026, 1, 31), D(2026, 2, 27), 28)
    assert "31-01-2026 t/m 27-02-2026 (28 dagen)" in line.description
    sub = Subscription.objects.get(person=person)
    assert sub.billed_until == D(2026, 2, 28)

    assert run(D(2026, 1, 31))["invoices"] == 0
    assert run(D(2026, 2, 27))["invoices"] == 0  # still inside the invoiced period
    assert Invoice.objects.count() == 1

    run(D(2026, 2, 28))  # the next period (anchored on the 31st: 28 Feb .. 30 Mar)
    second = Invoice.objects.exclude(pk=invoice.pk).get()
    assert second.number == "BIBX-2026-000002"
    assert second.lines.get().first_day == D(2026, 2, 28)
    assert second.total_cents == 1_000


def test_a_late_run_invoices_every_period_missed(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 1, 10))

    run(D(2026, 3, 15))

    invoice = Invoice.objects.get(person=person)
    assert [
        (line.period_start, line.amount_cents) for line in invoice.lines.order_by("first_day")
    ] == [
        (D(2026, 1, 10), 1_000),
        (D(2026, 2, 10), 1_000),
        (D(2026, 3, 10), 1_000),
    ]
    assert invoice.total_cents == 3_000


def test_switching_off_after_invoicing_credits_the_days_off(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 4, 1))  # April: 30 days at 1,000 cents
    run(D(2026, 4, 1))
    with at(D(2026, 4, 11)):
        services.subscription_switch_off(person=person)  # off from the 11th
    with at(D(2026, 4, 21)):
        services.subscription_switch_on(person=person)  # on again from the 21st

    assert Subscription.objects.get(person=person).rebill_from == D(2026, 4, 1)
    report = run(D(2026, 4, 22))

    assert report["credit_notes"] == 1
    note = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    # the 11th up to the 20th (days 10..19 of 30) are not billed
    expected_owed = 1_000 - (20 * 1_000 // 30 - 10 * 1_000 // 30)
    assert note.total_cents == 1_000 - expected_owed
    assert note.corrects == Invoice.objects.get(kind=DocumentKind.INVOICE)
    assert net_billed(person) == expected_owed
    # the credit note settled the open invoice at once
    first = Invoice.objects.get(kind=DocumentKind.INVOICE)
    assert first.settled_cents == note.total_cents
    assert first.outstanding_cents == expected_owed
    assert Subscription.objects.get(person=person).rebill_from is None
    assert run(D(2026, 4, 22))["credit_notes"] == 0


def test_an_upgrade_bills_the_rest_of_the_period_at_the_new_price(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 4, 1))
    run(D(2026, 4, 1))
    with at(D(2026, 4, 16)):
        services.subscription_upgrade(person=person, plan_code="compleet")

    run(D(2026, 4, 16))

    # basis for days 0..14, compleet for days 15..29 of a 30-day April
    basis = 15 * 1_000 // 30
    compleet = 3_100 - 15 * 3_100 // 30
    assert net_billed(person) == basis + compleet
    extra = Invoice.objects.filter(kind=DocumentKind.INVOICE).order_by("pk").last()
    assert extra.lines.get().plan.code == "compleet"
    assert extra.total_cents == compleet
    credit = Invoice.objects.get(kind=DocumentKind.CREDIT_NOTE)
    assert credit.total_cents == 1_000 - basis


def test_a_trial_is_not_invoiced(org, plans):
    trial = plan(code="proef", name="Proef", monthly=900, yearly=9_000, trial_days=14)
    person = resident(org)
    with at(D(2026, 5, 1)):
        services.subscribe(person=person, plan_code=trial.code)

    run(D(2026, 5, 1))

    line = InvoiceLine.objects.get()
    assert line.first_day == D(2026, 5, 15)
    assert line.amount_cents == 900 - 14 * 900 // 31


def test_a_fully_switched_off_period_gets_no_invoice_but_is_settled_later(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 1, 1))
    run(D(2026, 1, 1))
    with at(D(2026, 1, 20)):
        services.subscription_switch_off(person=person)
    run(D(2026, 1, 20))
    before = Invoice.objects.count()

    run(D(2026, 2, 1))  # February: switched off the whole month

    assert Invoice.objects.count() == before
    assert Subscription.objects.get(person=person).billed_until == D(2026, 3, 1)
    with at(D(2026, 2, 15)):
        services.subscription_switch_on(person=person)
    run(D(2026, 2, 15))
    feb = InvoiceLine.objects.get(period_start=D(2026, 2, 1))
    assert feb.first_day == D(2026, 2, 15)
    assert feb.amount_cents == 1_000 - 14 * 1_000 // 28


def test_numbers_are_gap_free_per_organisation_and_year(org, plans):
    other = OrganisationFactory(code="ANDR")
    people = [resident(org), resident(other), resident(org)]
    for person in people:
        sign_up(person, D(2026, 12, 30))
    run(D(2026, 12, 30))
    run(D(2027, 1, 30))

    for organisation in (org, other):
        numbers = list(
            Invoice.objects.filter(organisation=organisation)
            .order_by("year", "sequence")
            .values_list("year", "sequence", "number")
        )
        by_year: dict[int, list[int]] = {}
        for year, sequence, number in numbers:
            by_year.setdefault(year, []).append(sequence)
            assert number == f"{organisation.code}-{year}-{sequence:06d}"
        for sequences in by_year.values():
            assert sequences == list(range(1, len(sequences) + 1))
    assert InvoiceCounter.objects.get(organisation=org, year=2027).last_number == 2


def test_fees_go_on_the_invoice_of_their_organisation(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 6, 1))
    other = OrganisationFactory(code="ANDR")
    with at(D(2026, 6, 1)):
        services.fee_record(
            person=person, organisation=org, amount_cents=1_995, description="Verloren: Dik boek",
            source="test", source_id=1,
        )  # fmt: skip
        services.fee_record(
            person=person, organisation=other, amount_cents=250, description="Verloren pas",
            source="test", source_id=2,
        )  # fmt: skip

    report = run(D(2026, 6, 1))

    mine = Invoice.objects.get(organisation=org)
    assert mine.total_cents == 1_000 + 1_995
    assert mine.lines.get(kind=LineKind.FEE).vat_cents == 0
    theirs = Invoice.objects.get(organisation=other)
    assert theirs.total_cents == 250 and theirs.subscription is None
    assert report["fee_invoices"] == 1
    assert not Fee.objects.filter(invoice_line__isnull=True).exists()
    run(D(2026, 6, 2))
    assert Invoice.objects.count() == 2


def test_the_preview_is_what_the_next_run_invoices(org, plans):
    person = resident(org)
    sub = sign_up(person, D(2026, 3, 31))
    run(D(2026, 3, 31))
    with at(D(2026, 4, 10)):
        services.subscription_upgrade(person=person, plan_code="compleet")
        preview = invoice_preview(Subscription.objects.get(pk=sub.pk))

    report = run(D(2026, 4, 10))

    assert preview.issued_on == D(2026, 4, 10)
    assert preview.total_cents == report["invoiced_cents"]
    assert preview.credit_cents == report["credited_cents"]
    with at(D(2026, 4, 12)):
        later = invoice_preview(Subscription.objects.get(pk=sub.pk))
    assert later.issued_on == D(2026, 4, 30)  # anchored on the 31st: April's last day
    run(D(2026, 4, 30))
    last = Invoice.objects.filter(kind=DocumentKind.INVOICE).order_by("pk").last()
    assert later.total_cents == last.total_cents == 3_100


def test_final_invoices_do_not_change_and_credit_notes_correct_them(org, plans):
    person = resident(org)
    staff = adult()
    invoice = invoicing.invoice_create(
        person=person,
        organisation_id=org.pk,
        lines=[NewLine(LineKind.CORRECTION, "Cursus", 2_500, 2_100)],
    )
    assert invoice.status == InvoiceStatus.OPEN and invoice.number

    with pytest.raises(DomainError) as refused:
        invoicing.invoice_finalise(invoice)
    assert refused.value.code == "invoice_final"
    with pytest.raises(DomainError) as refused:
        invoicing.invoice_credit(invoice, amount_cents=2_501, reason="fout", actor=staff)
    assert refused.value.code == "credit_too_large"
    with pytest.raises(DomainError) as refused:
        invoicing.invoice_credit(invoice, amount_cents=500, reason=" ", actor=staff)
    assert refused.value.code == "reason_required"

    note = invoicing.invoice_credit(invoice, amount_cents=500, reason="coulance", actor=staff)

    invoice.refresh_from_db()
    assert note.kind == DocumentKind.CREDIT_NOTE and note.corrects == invoice
    assert invoice.settled_cents == 500 and invoice.outstanding_cents == 2_000
    assert AuditEvent.objects.filter(action="subscriptions.credit_apply").exists()

    voided = invoicing.invoice_void(
        invoicing.invoice_create(
            person=person,
            organisation_id=org.pk,
            lines=[NewLine(LineKind.CORRECTION, "Dubbel", 700, 900)],
        ),
        reason="dubbel verstuurd",
        actor=staff,
    )
    assert voided.status == InvoiceStatus.VOID
    assert voided.credit_notes.get().total_cents == 700


def test_a_paid_payment_settles_and_a_failed_one_reopens(org, plans):
    person = resident(org)
    sign_up(person, D(2026, 6, 1))
    run(D(2026, 6, 1))
    invoice = Invoice.objects.get()

    payment = ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    with pytest.raises(DomainError) as refused:
        ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    assert refused.value.code == "nothing_to_pay"  # already in a payment under way

    ledger.payment_mark_paid(payment)
    ledger.payment_mark_paid(payment)  # twice: nothing more
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.settled_cents == 1_000

    ledger.payment_mark_failed(payment, code="MD06", reason="teruggeboekt")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.settled_cents == 0


def test_cancelling_a_yearly_subscription_credits_the_rest_of_the_year(org, plans):
    person = resident(org)
    sign_up(person, D(2025, 3, 1), interval="year")
    run(D(2025, 3, 1))
    run(D(2026, 3, 1))  # the second year, invoiced in advance
    with at(D(2026, 5, 10)):
        change = services.subscription_cancel(person=person)
    last_day = Subscription.objects.get(person=person).last_day
    assert change.effective_on == last_day + dt.timedelta(days=1)

    run(D(2026, 5, 10))

    days = (last_day - D(2026, 3, 1)).days + 1
    assert net_billed(person) == 10_000 + days * 10_000 // 365


def test_a_new_vat_rate_applies_from_the_next_period_like_a_price(org, plans):
    from bieb.subscriptions.models import Plan

    person = resident(org)
    sign_up(person, D(2026, 12, 15))
    run(D(2026, 12, 15))
    with at(D(2026, 12, 20)):
        with pytest.raises(DomainError) as refused:
            services.plan_price_schedule(
                plan=Plan.objects.get(code="basis"), monthly_cents=1_000, yearly_cents=10_000,
                effective_from=D(2027, 1, 1), vat_rate_bp=10_001,
            )  # fmt: skip
        assert refused.value.code == "vat_rate_invalid"
        services.plan_price_schedule(
            plan=Plan.objects.get(code="basis"), monthly_cents=1_000, yearly_cents=10_000,
            effective_from=D(2027, 1, 1), vat_rate_bp=2_100,
        )  # fmt: skip
        services.subscription_switch_off(person=person)
    with at(D(2026, 12, 22)):
        services.subscription_switch_on(person=person)  # December is settled with a credit

    run(D(2027, 1, 15))

    december = InvoiceLine.objects.filter(period_start=D(2026, 12, 15))
    assert {line.vat_rate_bp for line in december} == {900}  # began before the new rate
    january = InvoiceLine.objects.get(period_start=D(2027, 1, 15), invoice__kind="invoice")
    assert january.vat_rate_bp == 2_100 and january.vat_cents == vat_in(january.amount_cents, 2_100)
