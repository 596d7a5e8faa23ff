"""Never two subscriptions: a double-clicked subscribe, two requests released at once, each on
its own database connection (SQLite: the write lock at BEGIN IMMEDIATE; PostgreSQL: the person
row lock and the partial unique constraint)."""

from __future__ import annotations

import pytest

from bieb.circulation.tests.test_races import at_once
from bieb.core.models import AuditEvent
from bieb.subscriptions import services
from bieb.subscriptions.models import Subscription, SwitchOff
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_subscribes_at_once_make_one_subscription():
    person = adult()
    plan(code="basis")

    results = at_once(
        lambda: services.subscribe(person=person, plan_code="basis"),
        lambda: services.subscribe(person=person, plan_code="basis"),
    )

    assert sorted(type(r).__name__ if isinstance(r, Subscription) else r for r in results) == [
        "Subscription",
        "already_subscribed",
    ]
    assert Subscription.objects.filter(person=person).count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.subscribe").count() == 1


def test_two_switch_offs_at_once_make_one_switch_off():
    person = adult()
    plan(code="basis")
    services.subscribe(person=person, plan_code="basis")

    results = at_once(
        lambda: services.subscription_switch_off(person=person),
        lambda: services.subscription_switch_off(person=person),
    )

    assert sorted(type(r).__name__ if isinstance(r, SwitchOff) else r for r in results) == [
        "SwitchOff",
        "already_switched_off",
    ]
    assert SwitchOff.objects.count() == 1


def test_two_billing_runs_at_once_invoice_everything_once():
    import datetime as dt

    from bieb.core import clock
    from bieb.network.tests.factories import OrganisationFactory
    from bieb.subscriptions.invoicing import billing_run
    from bieb.subscriptions.models import Invoice, InvoiceCounter

    org = OrganisationFactory(code="RACE")
    plan(code="basis", monthly=1_000)
    people = [adult(home_organisation=org) for _ in range(30)]
    with clock.frozen(dt.datetime(2026, 3, 1, 12, tzinfo=clock.AMSTERDAM)):
        for person in people:
            services.subscribe(person=person, plan_code="basis")
    day = dt.date(2026, 3, 1)

    reports = at_once(
        lambda: billing_run(today=day, chunk=7),
        lambda: billing_run(today=day, chunk=7),
    )

    assert all(isinstance(r, dict) for r in reports), reports
    assert sum(r["invoices"] for r in reports) == 30
    assert Invoice.objects.count() == 30
    assert sorted(Invoice.objects.values_list("person_id", flat=True)) == sorted(
        p.pk for p in people
    )
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 31))
    assert InvoiceCounter.objects.get(organisation=org).last_number == 30
    assert billing_run(today=day)["invoices"] == 0


def test_two_payments_at_once_for_one_invoice_make_one():
    from bieb.network.tests.factories import OrganisationFactory
    from bieb.subscriptions import ledger
    from bieb.subscriptions.invoicing import NewLine, invoice_create
    from bieb.subscriptions.models import LineKind, Payment, PaymentMethod

    person = adult()
    invoice = invoice_create(
        person=person,
        organisation_id=OrganisationFactory().pk,
        lines=[NewLine(LineKind.CORRECTION, "Cursus", 2_500, 2_100)],
    )

    def pay():
        return ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])

    results = at_once(pay, pay)

    assert sorted(type(r).__name__ if isinstance(r, Payment) else r for r in results) == [
        "Payment",
        "nothing_to_pay",
    ]
    assert Payment.objects.count() == 1


def test_a_failed_payment_is_never_marked_paid():
    from bieb.network.tests.factories import OrganisationFactory
    from bieb.subscriptions import ledger
    from bieb.subscriptions.invoicing import NewLine, invoice_create
    from bieb.subscriptions.models import Invoice, LineKind, PaymentMethod, PaymentStatus

    person = adult()
    invoice = invoice_create(
        person=person,
        organisation_id=OrganisationFactory().pk,
        lines=[NewLine(LineKind.CORRECTION, "Cursus", 2_500, 2_100)],
    )
    payment = ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    ledger.payment_mark_failed(payment, code="AM04", reason="saldo")

    assert ledger.payment_mark_paid(payment).status == PaymentStatus.FAILED
    assert Invoice.objects.get(pk=invoice.pk).settled_cents == 0
