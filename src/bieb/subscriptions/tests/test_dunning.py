"""Dunning over days with the clock frozen: a failed collection, the notice, two reminders,
switching off after the last step and on again when paid; nothing twice, one's own invoices
only, and two runs at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.core.management import call_command

from bieb.accounts.tests.factories import OrganisationFactory
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.subscriptions import dunning, invoicing, ledger, selectors, services
from bieb.subscriptions.models import (
    Invoice,
    Mandate,
    PaymentMethod,
    ScheduledChange,
    Subscription,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date
ONE_DAY = dt.timedelta(days=1)
START = D(2025, 3, 3)  # subscribed and invoiced; due on 17 March
RETURNED = D(2025, 3, 20)  # the bank returns the direct debit


def on(day: dt.date, hour: int = 12):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.AMSTERDAM))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(day)``: the daily job on ``day``; the mail it queues is sent (after commit)."""

    def run(day: dt.date) -> dict:
        with on(day), django_capture_on_commit_callbacks(execute=True):
            return dunning.dunning_run()

    return run


def member(*, email: str = "", with_mandate: bool = True, price: int = 1_000):
    """A person with a monthly subscription since START and its first invoice (due 17 March)."""
    org = OrganisationFactory()
    person = adult(home_organisation=org, **({"email": email} if email else {}))
    code = f"basis-{person.pk}"
    plan(code=code, monthly=price)
    with on(START):
        subscription = services.subscribe(person=person, plan_code=code)
        invoicing.billing_run(today=START)
    if with_mandate:
        Mandate.objects.create(
            person=person,
            reference=f"BIEB-{person.pk}",
            iban="NL91ABNA0417164300",
            account_holder="A. Jansen",
            signed_on=START,
        )
    invoice = Invoice.objects.get(person=person)
    assert (invoice.total_cents, invoice.due_on) == (price, D(2025, 3, 17))
    return person, subscription, invoice


def collection_fails(invoice: Invoice, day: dt.date = RETURNED):
    """A direct debit of the invoice that the bank rejects on ``day``."""
    with on(day):
        payment = ledger.payment_create(
            person=invoice.person, method=PaymentMethod.DIRECT_DEBIT, invoices=[invoice]
        )
        ledger.payment_mark_failed(payment, code="AM04", reason="onvoldoende saldo")
    return payment


def pays_online(invoice: Invoice, day: dt.date):
    with on(day):
        payment = ledger.payment_create(
            person=invoice.person, method=PaymentMethod.IDEAL, invoices=[invoice]
        )
        return ledger.payment_mark_paid(payment)


def mails_to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


# --- the schedule -------------------------------------------------------------------------------


def test_a_failed_collection_is_noticed_reminded_twice_and_switched_off_on_day_35(run):
    person, subscription, invoice = member()
    collection_fails(invoice)
    invoice.refresh_from_db()
    assert (invoice.dunning_level, invoice.next_dunning_on) == (0, RETURNED)

    sent_on = {}
    day = START
    while day <= RETURNED + dt.timedelta(days=60):
        before = len(mail.outbox)
        run(day)
        run(day)  # twice a day: nothing twice
        for message in mail.outbox[before:]:
            sent_on[day] = message.subject
        day += ONE_DAY

    number = invoice.number
    assert sent_on == {
        RETURNED: f"Betaling mislukt: factuur {number}",
        RETURNED + dt.timedelta(days=14): f"Herinnering: factuur {number}",
        RETURNED + dt.timedelta(days=28): f"Laatste herinnering: factuur {number}",
        RETURNED + dt.timedelta(days=35): f"Je abonnement staat uit: factuur {number}",
    }
    off_day = RETURNED + dt.timedelta(days=35)
    last_reminder = mails_to(person)[2].body
    assert "24 april 2025" in last_reminder and off_day == D(2025, 4, 24)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.dunning_level, invoice.next_dunning_on) == ("open", 4, None)
    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is not None
    assert subscription.status == "active"  # switched off, never ended
    [off] = SwitchOff.objects.filter(subscription=subscription)
    assert (off.off_from, off.on_from) == (off_day, None)
    assert subscription.rebill_from == D(2025, 4, 3)  # the run credits the days off
    assert selectors.entitlements_for(person, today=off_day).refusal == "switched_off"
    assert selectors.entitlements_for(person, today=off_day - ONE_DAY).refusal == ""
    steps = AuditEvent.objects.filter(
        action="subscriptions.dunning_step", subject__endswith=f":{invoice.pk}"
    )
    assert sorted(steps.values_list("data__level", flat=True)) == [1, 2, 3, 4]
    assert AuditEvent.objects.filter(action="subscriptions.suspend_for_payment").count() == 1


def test_paying_after_the_switch_off_switches_it_on_at_once(
    run, django_capture_on_commit_callbacks
):
    person, subscription, invoice = member()
    collection_fails(invoice)
    for day in (RETURNED, D(2025, 4, 3), D(2025, 4, 17), D(2025, 4, 24)):
        run(day)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        pays_online(invoice, D(2025, 4, 28))

    invoice.refresh_from_db()
    subscription.refresh_from_db()
    assert (invoice.status, invoice.next_dunning_on) == ("paid", None)
    assert subscription.suspended_for_payment_at is None
    [off] = SwitchOff.objects.filter(subscription=subscription)
    assert (off.off_from, off.on_from) == (D(2025, 4, 24), D(2025, 4, 28))  # kept, ended
    assert selectors.entitlements_for(person, today=D(2025, 4, 28)).on is True
    assert [m.subject for m in mails_to(person)] == ["Je abonnement staat weer aan"]
    resumed = AuditEvent.objects.get(action="subscriptions.resume_after_payment")
    assert resumed.data == {
        "paid": invoice.number,
        "off_from": "2025-04-24",
        "on_from": "2025-04-28",
    }
    run(D(2025, 5, 30))
    assert len(mails_to(person)) == 1  # paid: nothing more


def test_paid_on_the_day_it_was_switched_off_bills_that_day(run):
    _person, subscription, invoice = member()
    collection_fails(invoice)
    for day in (RETURNED, D(2025, 4, 3), D(2025, 4, 17), D(2025, 4, 24)):
        run(day)

    pays_online(invoice, D(2025, 4, 24))

    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is None
    # off and on the same day: the day rule bills it, so no zero-length switch-off is kept
    assert not SwitchOff.objects.filter(subscription=subscription).exists()
    assert AuditEvent.objects.filter(action="subscriptions.suspend_for_payment").exists()


def test_it_stays_off_while_another_invoice_is_overdue(run):
    person, subscription, first = member(with_mandate=False)
    with on(D(2025, 4, 3)):
        invoicing.billing_run(today=D(2025, 4, 3))
    second = Invoice.objects.exclude(pk=first.pk).get(person=person)
    for day in (D(2025, 3, 18), D(2025, 4, 1), D(2025, 4, 15), D(2025, 4, 22)):
        run(day)
    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is not None

    pays_online(first, D(2025, 4, 23))  # the second was due on 17 April: overdue too

    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is not None
    assert SwitchOff.objects.get(subscription=subscription).on_from is None
    waiting = AuditEvent.objects.get(action="subscriptions.resume_waiting")
    assert waiting.data["still_overdue"] == [second.number]

    pays_online(second, D(2025, 4, 25))

    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is None
    assert SwitchOff.objects.get(subscription=subscription).on_from == D(2025, 4, 25)


# --- when dunning starts, waits and starts again ------------------------------------------------


def test_without_a_mandate_an_overdue_invoice_starts_dunning_the_day_after_its_due_date(run):
    person, _subscription, invoice = member(with_mandate=False)

    run(D(2025, 3, 17))  # the due date itself: not late yet
    assert mails_to(person) == []
    report = run(D(2025, 3, 18))

    assert report["notices"] == 1 and report["mails"] == 1
    [message] = mails_to(person)
    assert message.subject == f"Nog niet betaald: factuur {invoice.number}"
    assert "€ 10,00" in message.body
    assert "http://127.0.0.1:8000/mijn/betalen" in message.body
    invoice.refresh_from_db()
    assert (invoice.dunning_level, invoice.next_dunning_on) == (1, D(2025, 4, 1))


def test_with_a_mandate_only_a_failed_collection_starts_it(run):
    person, _subscription, invoice = member(with_mandate=True)

    run(D(2025, 3, 25))

    assert mails_to(person) == []
    invoice.refresh_from_db()
    assert (invoice.dunning_level, invoice.next_dunning_on) == (0, None)


def test_a_failed_retry_does_not_move_the_schedule(run):
    _person, _subscription, invoice = member()
    collection_fails(invoice, RETURNED)
    run(RETURNED)

    collection_fails(invoice, D(2025, 3, 28))  # the next collection fails too

    invoice.refresh_from_db()
    assert (invoice.dunning_level, invoice.next_dunning_on) == (1, D(2025, 4, 3))
    assert AuditEvent.objects.filter(action="subscriptions.dunning_start").count() == 1


def test_money_that_came_back_after_payment_starts_dunning_anew(run):
    person, _subscription, invoice = member()
    collection_fails(invoice, RETURNED)
    run(RETURNED)
    run(D(2025, 4, 3))
    with on(D(2025, 4, 5)):  # the next collection is booked as paid on its date...
        retry = ledger.payment_create(
            person=person, method=PaymentMethod.DIRECT_DEBIT, invoices=[invoice]
        )
        ledger.payment_mark_paid(retry)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.dunning_level, invoice.next_dunning_on) == ("paid", 2, None)

    with on(D(2025, 4, 10)):  # ...and the bank returns it afterwards
        ledger.payment_mark_failed(retry, code="MD06", reason="teruggeboekt")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.dunning_level, invoice.next_dunning_on) == (
        "open",
        0,
        D(2025, 4, 10),
    )
    mail.outbox.clear()
    run(D(2025, 4, 10))
    assert [m.subject for m in mails_to(person)] == [f"Betaling mislukt: factuur {invoice.number}"]


def test_an_invoice_in_a_payment_under_way_waits(run):
    person, _subscription, invoice = member(with_mandate=False)
    with on(D(2025, 3, 18)):
        ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])

    report = run(D(2025, 3, 18))

    assert (report["notices"], report["waiting_for_payment"]) == (0, 1)
    assert mails_to(person) == []


def test_a_switch_off_of_the_residents_own_stays_theirs(run):
    person, subscription, invoice = member()
    with on(D(2025, 4, 10)):
        services.subscription_switch_off(person=person)
    collection_fails(invoice)
    for day in (RETURNED, D(2025, 4, 3), D(2025, 4, 17), D(2025, 4, 24)):
        run(day)
    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is not None
    assert SwitchOff.objects.filter(subscription=subscription).count() == 1

    pays_online(invoice, D(2025, 4, 28))

    subscription.refresh_from_db()
    assert subscription.suspended_for_payment_at is None
    [own] = SwitchOff.objects.filter(subscription=subscription)
    assert (own.off_from, own.on_from) == (D(2025, 4, 10), None)  # still off: their choice


def test_a_switch_off_scheduled_for_later_is_superseded(run):
    person, subscription, invoice = member()
    with on(D(2025, 4, 20)):
        services.subscription_switch_off(person=person, from_date=D(2025, 5, 1))
    collection_fails(invoice)
    for day in (RETURNED, D(2025, 4, 3), D(2025, 4, 17), D(2025, 4, 24)):
        run(day)

    [off] = SwitchOff.objects.filter(subscription=subscription)
    assert (off.off_from, off.on_from, off.change_id) == (D(2025, 4, 24), None, None)
    assert ScheduledChange.objects.get(subscription=subscription).undone_at is not None


def test_a_canceled_online_payment_does_not_start_dunning(run):
    person, _subscription, invoice = member()
    with on(D(2025, 3, 10)):
        payment = ledger.payment_create(person=person, method="ideal", invoices=[invoice])
        ledger.payment_mark_failed(payment, status="canceled")

    invoice.refresh_from_db()
    assert invoice.next_dunning_on is None


# --- letters --------------------------------------------------------------------------------------


def test_one_letter_per_person_about_their_own_invoices_only(run):
    anna, _s, annas = member(email="anna@example.nl", with_mandate=False, price=1_234)
    bob, _s2, bobs = member(email="bob@example.nl", with_mandate=False, price=4_321)
    with on(D(2025, 4, 3)):
        invoicing.billing_run(today=D(2025, 4, 3))
    annas_second = Invoice.objects.exclude(pk=annas.pk).get(person=anna)

    run(D(2025, 4, 18))  # both of Anna's invoices are overdue now

    [to_anna] = mails_to(anna)
    [to_bob] = mails_to(bob)
    assert annas.number in to_anna.subject and annas_second.number in to_anna.subject
    assert "€ 12,34" in to_anna.body
    assert bobs.number not in to_anna.body and "43,21" not in to_anna.body
    assert annas.number not in to_bob.body and "12,34" not in to_bob.body
    assert to_anna.body.startswith("Beste Anna,")


def test_an_anonymised_person_gets_no_mail_but_the_step_is_taken(run):
    person, _s, invoice = member(with_mandate=False)
    type(person).objects.filter(pk=person.pk).update(anonymised_at=clock.now())

    report = run(D(2025, 3, 18))

    assert (report["notices"], report["mails"], report["without_email"]) == (1, 0, 1)
    assert mails_to(person) == []
    invoice.refresh_from_db()
    assert invoice.dunning_level == 1


def test_the_billing_command_runs_dunning_for_a_date(run):
    _person, _s, invoice = member(with_mandate=False)
    out = io.StringIO()

    with on(D(2025, 3, 18)):
        call_command("billing", "dunning", "--date", "2025-03-18", stdout=out)

    report = json.loads(out.getvalue())
    assert report["date"] == "2025-03-18" and report["notices"] == 1
    invoice.refresh_from_db()
    assert invoice.dunning_level == 1


# --- two runs at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_take_each_step_once():
    from bieb.circulation.tests.test_races import at_once

    people = [member(with_mandate=False) for _ in range(3)]
    with on(D(2025, 3, 18)):
        results = at_once(dunning.dunning_run, dunning.dunning_run)

    assert sum(r["notices"] for r in results) == 3, results
    assert sum(r["mails"] for r in results) == 3
    for _person, _s, invoice in people:
        invoice.refresh_from_db()
        assert (invoice.dunning_level, invoice.next_dunning_on) == (1, D(2025, 4, 1))
    assert AuditEvent.objects.filter(action="subscriptions.dunning_step").count() == 3
    assert Subscription.objects.filter(suspended_for_payment_at__isnull=False).count() == 0
