"""A day pass: a visitor without a subscription pays once online and may borrow today."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.accounts.tests.factories import UserFactory, years_ago
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import selectors, services
from bieb.subscriptions.models import Invoice, InvoiceStatus, LineKind, PlanKind
from bieb.subscriptions.tests.factories import adult, plan
from bieb.subscriptions.tests.test_payments import choose, pay_online

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


@pytest.fixture
def org():
    return OrganisationFactory()


@pytest.fixture
def dagpas():
    return plan(
        code="dagpas", name="Dagpas", kind=PlanKind.DAY_PASS, monthly=0, yearly=0,
        physical_loans=3,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def one_off_price(dagpas):
    dagpas.prices.update(one_off_cents=300)


def test_a_paid_day_pass_gives_its_entitlements_for_that_day_only(org, dagpas, settings, client):
    settings.BIEB_PAYMENT_PROVIDER = "local"
    visitor = adult(home_organisation=org)
    client.force_login(visitor)
    with at(D(2026, 7, 4)):
        page = client.get("/mijn/abonnement").content.decode()
        assert "Dagpas kopen (€ 3,00)" in page
        bought = client.post("/mijn/abonnement/dagpas")
        invoice = Invoice.objects.get(person=visitor)
        assert bought["Location"] == f"/mijn/facturen/{invoice.pk}/betalen"
        assert services.day_pass_buy(person=visitor).pk == invoice.pk  # the same, not twice
        line = invoice.lines.get()
        assert (line.kind, line.first_day, line.amount_cents) == (
            LineKind.DAY_PASS,
            D(2026, 7, 4),
            300,
        )
        assert selectors.entitlements_for(visitor).refusal == "no_subscription"  # not paid yet

        choose(client, pay_online(client, f"/mijn/facturen/{invoice.pk}/betalen"), "paid")

        assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
        rights = selectors.entitlements_for(visitor)
        assert (rights.plan_code, rights.on, rights.physical_loans) == ("dagpas", True, 3)
        assert "Je hebt een dagpas voor vandaag." in client.get("/mijn/abonnement").content.decode()
    with at(D(2026, 7, 5)):
        assert selectors.entitlements_for(visitor).refusal == "no_subscription"


def test_a_day_pass_is_refused_to_subscribers_and_to_under_18s(org, dagpas):
    plan(code="basis", monthly=475)
    member = adult(home_organisation=org)
    services.subscribe(person=member, plan_code="basis")
    with pytest.raises(DomainError) as refused:
        services.day_pass_buy(person=member)
    assert refused.value.code == "day_pass_not_needed"

    teen = UserFactory(home_organisation=org, birth_date=years_ago(15))
    with pytest.raises(DomainError) as refused:
        services.day_pass_buy(person=teen)
    assert refused.value.code == "youth_is_free"
    assert not Invoice.objects.exists()


def test_an_unpaid_day_pass_lapses_that_night_and_is_never_owed_or_collected(org, dagpas):
    from bieb.subscriptions import mandates, sepa
    from bieb.subscriptions.models import Creditor

    Creditor.objects.create(
        name="Incasso", iban="NL91ABNA0417164300", bic="ABNANL2A",
        creditor_identifier="NL69ZZZ123456780000",
    )  # fmt: skip
    visitor = adult(home_organisation=org)
    mandates.mandate_create(person=visitor, iban="NL91ABNA0417164300", account_holder="V")
    with at(D(2026, 7, 4)):
        invoice = services.day_pass_buy(person=visitor)
        assert selectors.owed_cents(visitor) == 300
    with at(D(2026, 7, 5)):
        report = sepa.sepa_export(collection_date=D(2026, 7, 10), out="/dev/null")
        assert report["payments"] == 0  # a day pass is not collected by direct debit
        assert services.day_passes_lapse() == 1
        assert services.day_passes_lapse() == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert selectors.owed_cents(visitor) == 0


def test_a_refused_day_pass_says_why_on_the_page(org, dagpas, client):
    plan(code="basis", monthly=475)
    member = adult(home_organisation=org)
    services.subscribe(person=member, plan_code="basis")
    client.force_login(member)

    page = client.post("/mijn/abonnement/dagpas")

    assert page.status_code == 409
    assert "een dagpas heb je daarnaast niet nodig" in page.content.decode()
