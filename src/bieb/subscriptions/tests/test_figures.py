"""Subscription figures: active, switched off, monthly recurring revenue, churn and new
subscriptions on a known data set; the privacy rule (no figure about fewer than 10 people);
and the staff page that shows them, each organisation its own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.core import clock
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import services
from bieb.subscriptions.figures import (
    Headcount,
    plan_counts_suppressed,
    subscription_figures,
)
from bieb.subscriptions.models import (
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    Subscription,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = pytest.mark.django_db
D = dt.date
Role = StaffRole.Role
TODAY = D(2025, 4, 15)


def at(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def subscribers(org, n: int, day: dt.date, code: str, interval: str = "month") -> list:
    people = [adult(home_organisation=org) for _ in range(n)]
    with at(day):
        for person in people:
            services.subscribe(person=person, plan_code=code, interval=interval)
    return people


def add_on(person, addon: Plan, day: dt.date) -> Subscription:
    """An add-on on the person's subscription (no service makes one yet: rows as billing
    reads them)."""
    base = Subscription.objects.get(person=person, parent__isnull=True, status="active")
    made = Subscription.objects.create(
        person=person,
        plan=addon,
        parent=base,
        interval=base.interval,
        anchor_day=base.anchor_day,
        anchor_month=base.anchor_month,
        started_on=day,
    )
    PlanSwitch.objects.create(subscription=made, plan=addon, effective_on=day)
    return made


@pytest.fixture
def world():
    """Organisation A (33 active on 15 April 2025) and B (3), with these prices:

    basis: € 10,00 / € 100,00 until April, € 11,00 / € 120,01 from 1 April, € 99,99 from June;
    compleet € 31,00; digitaal € 3,50 with a 14-day trial; streaming add-on € 2,00.
    """
    a, b = OrganisationFactory(code="ORGA"), OrganisationFactory(code="ORGB")
    basis = plan(code="basis", name="Basis", monthly=1_000, yearly=10_000)
    PlanPrice.objects.create(
        plan=basis, monthly_cents=1_100, yearly_cents=12_001, effective_from=D(2025, 4, 1)
    )
    PlanPrice.objects.create(
        plan=basis, monthly_cents=9_999, yearly_cents=99_999, effective_from=D(2025, 6, 1)
    )
    plan(code="compleet", name="Compleet", monthly=3_100, yearly=31_000)
    plan(code="digitaal", name="Digitaal", monthly=350, yearly=3_900, trial_days=14)
    streaming = plan(code="streaming", name="Streaming", kind=PlanKind.ADDON, monthly=200)

    leaving = subscribers(a, 20, D(2025, 1, 10), "basis")
    pausing = subscribers(a, 10, D(2025, 1, 20), "compleet")
    subscribers(a, 11, D(2025, 3, 3), "basis", interval="year")  # new in March
    subscribers(a, 1, D(2025, 4, 2), "basis")  # new in April
    subscribers(a, 1, D(2025, 4, 10), "digitaal")  # in its trial on 15 April
    with at(D(2025, 3, 5)):
        for person in leaving[:10]:
            services.subscription_cancel(person=person)  # last day 9 March
    with at(D(2025, 4, 10)):
        for person in pausing:
            services.subscription_switch_off(person=person)
    add_on(leaving[10], streaming, D(2025, 2, 1))  # counts in revenue
    add_on(pausing[0], streaming, D(2025, 2, 1))  # its base is off: does not
    subscribers(b, 3, D(2025, 1, 10), "basis")
    return {"a": a, "b": b}


def test_the_figures_of_an_organisation_on_a_known_data_set(world):
    figures = subscription_figures(organisation_id=world["a"].pk, today=TODAY)

    assert figures.active == Headcount(10 + 10 + 11 + 1 + 1)
    assert figures.paused == Headcount(10)
    # monthly: 11 basis at € 11,00 and one add-on at € 2,00; yearly: 11 x € 120,01 / 12
    # = 11,000.9 cents, summed before dividing and rounded half up once
    assert figures.mrr_cents == 11 * 1_100 + 200 + 11_001 == 23_301
    assert figures.month == D(2025, 3, 1)
    # 30 active on 1 March; 10 of them had their last day on 9 March
    assert figures.churn_percent == Decimal("33.3")
    assert figures.churn_below_percent is None
    assert figures.new_last_month == Headcount(11)
    # Digitaal (1) is too small; Compleet (10) joins it, or A's total minus Basis would tell
    assert [(row.name, row.count) for row in figures.per_plan] == [
        ("Basis", Headcount(22)),
        ("Overige abonnementsvormen", Headcount(11)),
    ]


def test_the_network_adds_up_the_organisations(world):
    figures = subscription_figures(today=TODAY)

    assert (figures.active, figures.paused) == (Headcount(36), Headcount(10))
    assert figures.mrr_cents == 23_301 + 3 * 1_100
    assert figures.churn_percent == Decimal("30.3")  # 10 of 33
    assert [(row.name, str(row.count)) for row in figures.per_plan] == [
        ("Basis", "25"),
        ("Overige abonnementsvormen", "11"),
    ]


def test_figures_about_fewer_than_ten_people_are_not_given(world):
    figures = subscription_figures(organisation_id=world["b"].pk, today=TODAY)

    assert figures.active.suppressed and str(figures.active) == "< 10"
    assert str(figures.paused) == "< 10"  # 0 as well: next to "< 10" it would tell
    assert str(figures.new_last_month) == "< 10"
    assert figures.mrr_cents is None  # 3 payers
    assert figures.churn_percent is None and figures.churn_below_percent is None
    assert figures.per_plan == ()


def test_churn_with_fewer_than_ten_leaving_is_only_an_upper_bound(world):
    figures = subscription_figures(organisation_id=world["a"].pk, today=D(2025, 5, 15))

    # April: 31 active on 1 April, none ended; 10 / 31 = 32.26 %, rounded up
    assert figures.month == D(2025, 4, 1)
    assert figures.churn_percent is None
    assert figures.churn_below_percent == Decimal("32.3")
    assert str(figures.new_last_month) == "< 10"  # 2 started in April


def test_the_clock_decides_today_and_the_last_full_month(world):
    with at(TODAY):
        assert subscription_figures(organisation_id=world["a"].pk) == subscription_figures(
            organisation_id=world["a"].pk, today=TODAY
        )


def test_small_plans_are_grouped_so_that_no_small_number_can_be_worked_out():
    big, mid, small, tiny = (Plan(pk=k, name=n) for k, n in enumerate("ABCD", start=1))

    assert plan_counts_suppressed({big: 50, mid: 12, small: 4}) == plan_counts_suppressed(
        {big: 50, mid: 12, small: 4}
    )
    rows = plan_counts_suppressed({big: 50, mid: 12, small: 4})
    assert [(r.plan, r.count.value) for r in rows] == [(big, 50), (None, 16)]
    rows = plan_counts_suppressed({big: 50, mid: 12, small: 6, tiny: 5})
    assert [(r.plan, r.count.value) for r in rows] == [(big, 50), (mid, 12), (None, 11)]
    rows = plan_counts_suppressed({big: 50, mid: 12})
    assert [(r.plan, r.count.value) for r in rows] == [(big, 50), (mid, 12)]
    assert plan_counts_suppressed({big: 9}) == ()
    assert [(r.plan, r.count.value) for r in plan_counts_suppressed({big: 5, mid: 5})] == [
        (None, 10)
    ]
    assert str(Headcount.of(12_345)) == "12.345" and str(Headcount.of(9)) == "< 10"


# --- the page ------------------------------------------------------------------------------------

URL = "/medewerkers/abonnementen/cijfers"


def figure(response, name: str) -> str:
    text = response.content.decode()
    start = text.index(f'data-figure="{name}">') + len(f'data-figure="{name}">')
    return text[start : text.index("<", start)]


def test_staff_see_their_own_organisations_figures(client, world):
    client.force_login(staff_member(Role.DESK, world["a"]))

    with at(TODAY):
        response = client.get(URL)

    assert response.status_code == 200
    assert world["a"].name in response.content.decode()
    assert figure(response, "active") == "33"
    assert figure(response, "paused") == "10"
    assert figure(response, "mrr") == "€ 233,01"
    assert figure(response, "churn") == "33,3 %"
    assert figure(response, "new") == "11"
    assert "maart 2025" in response.content.decode()


def test_staff_of_one_organisation_cannot_see_another_or_the_network(client, world):
    client.force_login(staff_member(Role.PROGRAMMER, world["a"]))

    with at(TODAY):
        assert client.get(URL, {"organisatie": world["b"].code}).status_code == 404
        assert client.get(URL, {"organisatie": "BESTAATNIET"}).status_code == 404
        assert client.get(URL, {"organisatie": "landelijk"}).status_code == 404
        assert client.get(URL, {"organisatie": world["a"].code}).status_code == 200


def test_network_administrators_see_the_network_and_pick_an_organisation(client, world):
    client.force_login(staff_member(Role.NETWORK_ADMIN))

    with at(TODAY):
        network = client.get(URL)
        small = client.get(URL, {"organisatie": world["b"].code})

    assert figure(network, "active") == "36"
    assert f'<option value="{world["b"].code}"' in network.content.decode()
    assert small.status_code == 200
    assert figure(small, "active") == "&lt; 10"
    assert figure(small, "mrr") == "Niet getoond"
    assert figure(small, "churn") == "Niet getoond"


def test_staff_of_two_organisations_may_switch_between_them(client, world):
    both = staff_member(Role.MANAGER, world["a"])
    StaffRole.objects.create(user=both, organisation=world["b"], role=Role.DESK)
    client.force_login(both)

    with at(TODAY):
        response = client.get(URL, {"organisatie": world["b"].code})

    text = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{world["a"].code}"' in text
    assert f'<option value="{world["b"].code}" selected' in text
    assert 'value="landelijk"' not in text


def test_residents_and_guests_may_not_see_figures(client, world):
    assert client.get(URL)["Location"].startswith("/inloggen")
    client.force_login(adult(home_organisation=world["a"]))
    assert client.get(URL).status_code == 403


def test_the_figures_take_six_queries_however_many_subscriptions(world, django_assert_num_queries):
    with django_assert_num_queries(6):
        subscription_figures(today=TODAY)
    with django_assert_num_queries(6):
        subscription_figures(organisation_id=world["b"].pk, today=TODAY)
