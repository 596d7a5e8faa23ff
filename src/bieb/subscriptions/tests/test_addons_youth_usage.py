"""Add-ons follow their base subscription; a youth plan never turns into a paid plan at 18;
fees and usage are recorded once and exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from bieb.accounts.tests.factories import UserFactory
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import selectors, services
from bieb.subscriptions.invoicing import billing_run
from bieb.subscriptions.models import (
    Fee,
    InvoiceLine,
    Meter,
    PlanKind,
    Subscription,
    SubscriptionStatus,
    UsageMeter,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


@pytest.fixture
def org():
    return OrganisationFactory()


@pytest.fixture
def plans():
    return {
        "basis": plan(code="basis", name="Basis", monthly=1_000, physical_loans=10),
        "streaming": plan(
            code="streaming",
            name="Streaming",
            kind=PlanKind.ADDON,
            monthly=300,
            yearly=3_000,
            streaming=True,
            min_age=18,
        ),
        "jeugd": plan(code="jeugd", name="Jeugd", monthly=0, yearly=0, min_age=0, max_age=17),
        "account": plan(code="account", name="Gratis account", monthly=0, yearly=0),
    }


def test_an_add_on_is_billed_with_its_base_off_with_it_and_ends_with_it(org, plans):
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
    billing_run(today=D(2026, 4, 1))
    with at(D(2026, 4, 16)):
        services.addon_add(person=person, plan_code="streaming")
        with pytest.raises(DomainError) as refused:
            services.addon_add(person=person, plan_code="streaming")
        assert refused.value.code == "addon_already_added"
        with pytest.raises(DomainError) as refused:
            services.addon_add(person=person, plan_code="basis")
        assert refused.value.code == "not_an_addon"
        assert selectors.entitlements_for(person).streaming is True
        assert selectors.entitlements_for(person).addons == ("streaming",)

    billing_run(today=D(2026, 4, 16))
    line = InvoiceLine.objects.get(plan=plans["streaming"])
    assert (line.first_day, line.days) == (D(2026, 4, 16), 15)
    assert line.amount_cents == 300 - 15 * 300 // 30

    with at(D(2026, 5, 1)):
        services.subscription_switch_off(person=person)
    billing_run(today=D(2026, 5, 1))
    assert not InvoiceLine.objects.filter(period_start=D(2026, 5, 1)).exists()

    with at(D(2026, 5, 1)):
        services.subscription_switch_on(person=person)
        services.subscription_cancel(person=person)
    base = Subscription.objects.get(person=person, parent__isnull=True)
    with at(base.last_day + dt.timedelta(days=1)):
        services.changes_apply_due()
    addon = Subscription.objects.get(person=person, parent__isnull=False)
    assert addon.status == SubscriptionStatus.ENDED
    assert addon.last_day == base.last_day


def test_removing_an_add_on_ends_it_at_the_end_of_the_period(org, plans):
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        services.addon_add(person=person, plan_code="streaming")
    with at(D(2026, 4, 10)):
        addon = services.addon_remove(person=person, plan_code="streaming")
        with pytest.raises(DomainError) as refused:
            services.addon_remove(person=person, plan_code="streaming")
        assert refused.value.code == "already_cancelled"
    assert addon.last_day == D(2026, 4, 30)
    with at(D(2026, 5, 1)):
        assert selectors.entitlements_for(person).streaming is False


def test_a_youth_plan_turns_into_the_free_account_at_18_after_a_notice(org, plans):
    teen = UserFactory(home_organisation=org, birth_date=D(2008, 6, 15))
    with at(D(2025, 1, 10)):
        services.subscribe(person=teen, plan_code="jeugd")

    with at(D(2026, 5, 1)):
        assert services.youth_transitions() == {"told": 0, "switched_to_free": 0}
    with at(D(2026, 5, 16)):  # 30 days before the 18th birthday
        assert services.youth_transitions() == {"told": 1, "switched_to_free": 0}
        assert services.youth_transitions() == {"told": 0, "switched_to_free": 0}
    assert len(mail.outbox) == 1 and "15-06-2026" in mail.outbox[0].body
    with at(D(2026, 6, 15)):
        assert services.youth_transitions() == {"told": 0, "switched_to_free": 1}
        assert services.youth_transitions() == {"told": 0, "switched_to_free": 0}
        assert selectors.entitlements_for(teen).plan_code == "account"
    billing_run(today=D(2026, 7, 1))
    assert all(line.amount_cents == 0 for line in InvoiceLine.objects.all())


def test_a_teen_who_chose_a_plan_on_the_birthday_keeps_it(org, plans):
    teen = UserFactory(home_organisation=org, birth_date=D(2008, 6, 15))
    with at(D(2025, 1, 10)):
        services.subscribe(person=teen, plan_code="jeugd")
    with at(D(2026, 6, 14)):
        with pytest.raises(DomainError) as refused:  # 17: only free plans
            services.subscription_upgrade(person=teen, plan_code="basis")
        assert refused.value.code == "youth_is_free"
    with at(D(2026, 6, 15)):
        services.subscription_upgrade(person=teen, plan_code="basis")
        assert services.youth_transitions()["switched_to_free"] == 0
        assert selectors.entitlements_for(teen).plan_code == "basis"


def test_a_fee_is_recorded_once_and_can_be_waived_until_billed(org, plans):
    person = adult(home_organisation=org)
    first = services.fee_record(
        person=person, organisation=org, amount_cents=1_500, description="Verloren",
        source="circulation.charge", source_id=7,
    )  # fmt: skip
    again = services.fee_record(
        person=person, organisation=org, amount_cents=1_500, description="Verloren",
        source="circulation.charge", source_id=7,
    )  # fmt: skip
    assert first.pk == again.pk and Fee.objects.count() == 1
    with pytest.raises(DomainError) as refused:
        services.fee_record(
            person=person, organisation=org, amount_cents=0, description="x", source="s",
            source_id=1,
        )  # fmt: skip
    assert refused.value.code == "amount_invalid"
    assert services.fee_waive(source="circulation.charge", source_id=7) is True
    assert services.fee_waive(source="circulation.charge", source_id=7) is False
    billing_run(today=clock.today())
    assert not InvoiceLine.objects.exists()


def test_usage_counts_per_period_and_organisation_never_below_zero(org, plans):
    person = adult(home_organisation=org)
    other = OrganisationFactory()
    with at(D(2026, 4, 20)):
        services.subscribe(person=person, plan_code="basis")
    with at(D(2026, 5, 19)):
        services.usage_record(person=person, meter=Meter.LOANS, organisation_id=org.pk)
        services.usage_record(person=person, meter=Meter.LOANS, organisation_id=org.pk, amount=2)
        services.usage_record(person=person, meter=Meter.LOANS, organisation_id=other.pk)
        services.usage_record(
            person=person, meter=Meter.ACTIVITY_CREDITS, organisation_id=org.pk, amount=-1
        )
    with at(D(2026, 5, 20)):
        services.usage_record(person=person, meter=Meter.LOANS, organisation_id=org.pk)
    rows = {(m.period_start, m.organisation_id, m.meter): m.used for m in UsageMeter.objects.all()}
    assert rows == {
        (D(2026, 4, 20), org.pk, "loans"): 3,
        (D(2026, 4, 20), other.pk, "loans"): 1,
        (D(2026, 4, 20), org.pk, "activity_credits"): 0,
        (D(2026, 5, 20), org.pk, "loans"): 1,
    }
    with pytest.raises(ValueError):
        services.usage_record(person=person, meter="pizzas", organisation_id=org.pk)


def test_a_downgrade_to_the_stadspas_rate_takes_the_code(org, plans):
    plan(code="stadspas", name="Basis met stadspas", monthly=200, requires_municipal_pass=True)
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        quote = services.plan_change_quote(person=person, plan_code="stadspas")
        assert (quote.kind, quote.effective_on) == ("downgrade", D(2026, 5, 1))
        assert quote.period_price_difference_cents == -800
        assert not Subscription.objects.filter(person=person, municipal_pass_code__gt="").exists()
        with pytest.raises(DomainError) as refused:
            services.subscription_change_plan(person=person, plan_code="stadspas")
        assert refused.value.code == "municipal_pass_invalid"
        done = services.subscription_change_plan(
            person=person, plan_code="stadspas", municipal_pass_code="sp 1234 5678"
        )
    assert done.kind == "downgrade"
    assert Subscription.objects.get(person=person).municipal_pass_code == "SP12345678"
    assert services.cancel_quote(person=person) >= D(2026, 4, 30)


def test_a_subscription_switched_off_for_an_unpaid_invoice_switches_on_only_by_paying(org, plans):
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
    with at(D(2026, 5, 6)):
        services.subscription_switch_off(person=person)
        Subscription.objects.filter(person=person).update(suspended_for_payment_at=clock.now())
    with at(D(2026, 5, 7)), pytest.raises(DomainError) as refused:
        services.subscription_switch_on(person=person)
    assert refused.value.code == "suspended_for_payment" and refused.value.status == 409
    assert selectors.entitlements_for(person).refusal == "switched_off"


def test_under_16_without_a_guardians_consent_cannot_subscribe_on_any_channel(org, plans):
    from bieb.subscriptions.tests.factories import youth

    child = youth(consent=False, home_organisation=org)
    with pytest.raises(DomainError) as refused:
        services.subscribe(person=child, plan_code="jeugd")
    assert (refused.value.code, refused.value.status) == ("consent_required", 403)
    services.subscribe(person=youth(home_organisation=org), plan_code="jeugd")


def test_mijn_abonnement_shows_a_suspended_subscription_the_way_to_pay(org, plans, client):
    person = adult(home_organisation=org)
    with at(D(2026, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        services.subscription_switch_off(person=person)
    Subscription.objects.filter(person=person).update(suspended_for_payment_at=clock.now())
    client.force_login(person)
    with at(D(2026, 4, 2)):
        page = client.get("/mijn/abonnement").content.decode()
    assert "omdat een factuur niet is betaald" in page
    assert 'href="/mijn/betalen"' in page and "Zet aan</button>" not in page
