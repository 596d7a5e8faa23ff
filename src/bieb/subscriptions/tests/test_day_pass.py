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
