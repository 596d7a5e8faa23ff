"""The subscription's rules under concurrency and at the self-service machine (decision 0015).

Threads released together, each on its own database connection, on SQLite (the write lock at
``BEGIN IMMEDIATE``) and on PostgreSQL (the person's row lock, the loan-use report's advisory
lock); the invariants are read back from the database afterwards.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from bieb.accounts.tests.factories import PASSWORD
from bieb.catalog import services as catalog_services
from bieb.catalog.models import Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital, services, tasks
from bieb.circulation.models import DigitalLoan, Loan
from bieb.circulation.tests.factories import adult, copy_at, network
from bieb.circulation.tests.test_races import at_once
from bieb.circulation.tests.test_sip2_server import (
    CheckoutResponse,
    Library,
    checkout,
    machine_for,
    server,  # noqa: F401 - the fixture
)
from bieb.core import clock
from bieb.subscriptions import services as subscriptions
from bieb.subscriptions.models import Meter, UsageMeter
from bieb.subscriptions.tests.factories import plan

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.date(2026, 3, 10)


def at(day: dt.date, hour: int = 12):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.AMSTERDAM))


def subscribed(person, **limits):
    plan(code="basis", **limits)
    with at(DAY):
        subscriptions.subscribe(person=person, plan_code="basis")
    return person


def ebook(title: str):
    edition = EditionFactory(title=title, format=Format.EBOOK)
    catalog_services.licence_create(edition=edition, model=LicenceModel.ALWAYS)
    return edition


def test_a_switched_off_resident_at_the_machine_reads_the_way_out_on_the_screen(server):  # noqa: F811
    cache.clear()
    library = Library()
    subscribed(library.patron, physical_loans=10)
    item = library.copy()
    with at(DAY):
        subscriptions.subscription_switch_off(person=library.patron)
        machine = machine_for(server, library)
        answer = machine.request(
            checkout(library, item.barcode, password=PASSWORD), CheckoutResponse
        )
        machine.close()

    assert answer.ok == "0" and answer.due_date == ""
    assert answer.screen_message[0] == (
        "Je abonnement staat uit, dus lenen kan nu niet. Zet je abonnement aan in Mijn abonnement."
    )
    assert not Loan.objects.exists()
    with at(DAY + dt.timedelta(1)):
        subscriptions.subscription_switch_on(person=library.patron)
        machine = machine_for(server, library)
        answer = machine.request(
            checkout(library, item.barcode, password=PASSWORD), CheckoutResponse
        )
        machine.close()
    assert answer.ok == "1"
    cache.clear()


def test_one_person_at_two_desks_cannot_pass_the_plans_number_at_once():
    net = network()
    person = subscribed(adult(), physical_loans=1)
    first, second = copy_at(net.main), copy_at(net.branch)

    with at(DAY):
        results = at_once(
            lambda: services.checkout(patron=person, barcode=first.barcode, location=net.main),
            lambda: services.checkout(patron=person, barcode=second.barcode, location=net.branch),
        )

    assert sum(isinstance(r, Loan) for r in results) == 1
    assert "plan_limit_reached" in results
    assert Loan.objects.filter(patron=person, returned_at__isnull=True).count() == 1


def test_two_e_books_at_once_cannot_both_take_the_months_last_loan():
    net = network()
    person = subscribed(adult(home_organisation=net.org), digital_loans_per_month=1)
    one, two = ebook("Een"), ebook("Twee")

    with at(DAY):
        results = at_once(
            lambda: digital.digital_checkout(patron=person, edition=one),
            lambda: digital.digital_checkout(patron=person, edition=two),
        )

    assert sum(isinstance(r, DigitalLoan) for r in results) == 1, results
    assert "plan_limit_reached" in results
    assert DigitalLoan.objects.filter(patron=person).count() == 1
    assert UsageMeter.objects.get(person=person, meter=Meter.DIGITAL_LOANS).used == 1


def test_two_rounds_at_once_count_a_day_once():
    net = network()
    person = subscribed(adult(keep_loan_history=True), physical_loans=10)
    with at(DAY):
        for _ in range(3):
            services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)

    with at(DAY + dt.timedelta(1), 2):
        results = at_once(tasks.report_loan_use, tasks.report_loan_use)

    assert all(isinstance(r, dict) for r in results), results
    assert UsageMeter.objects.get(person=person, meter=Meter.LOANS).used == 3


@pytest.mark.parametrize("attempt", range(3))
def test_a_return_racing_the_round_of_its_lending_day_is_counted_once(attempt):
    """Lent yesterday, returned just after midnight by someone who keeps no loan history,
    while the round counts yesterday: whichever takes the report's lock first, each loan
    counts once (the round counts the names it sees, the return the ones it takes away)."""
    net = network()
    person = subscribed(adult(), physical_loans=10)
    with at(DAY):
        loans = [
            services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)
            for _ in range(4)
        ]
    with at(DAY + dt.timedelta(1), 2):
        returns = [
            lambda loan=loan: services.checkin(barcode=loan.item.barcode, location=net.main)
            for loan in loans[:2]
        ]
        results = at_once(tasks.report_loan_use, *returns)

    assert not [r for r in results if isinstance(r, (str, Exception))], results
    assert UsageMeter.objects.get(person=person, meter=Meter.LOANS).used == 4
    assert Loan.objects.filter(patron=person).count() == 2  # the two still out
