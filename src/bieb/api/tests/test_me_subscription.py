"""``/api/v1/plans`` and ``/api/v1/me/subscription``: the plans in public, and a resident's
own subscription switched on and off, skipped, changed, cancelled and undone over the API.
Every refusal is JSON with the service's stable code; nobody sees another person's data."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bieb.api.services import token_create
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.subscriptions import services
from bieb.subscriptions.models import (
    ChangeKind,
    PlanKind,
    PlanPrice,
    ScheduledChange,
    Subscription,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import adult, plan, youth

pytestmark = pytest.mark.django_db
D = dt.date

PLANS = "/api/v1/plans"
SUB = "/api/v1/me/subscription"


def on(day: dt.date, hour: int = 12):
    """The clock at ``hour`` in Amsterdam on ``day``."""
    return clock.frozen(dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.AMSTERDAM))


def call(client, method: str, url: str, user=None, body=None, headers=None):
    headers = dict(headers or {})
    if user is not None:
        _, secret = token_create(user=user)
        headers["Authorization"] = f"Bearer {secret}"
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data=data, content_type="application/json", headers=headers)


def error_of(response, status: int) -> str:
    """The error code of a JSON error answer with ``status``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]["code"]


@pytest.fixture
def basis():
    return plan(code="basis", name="Basis", monthly=475, yearly=5_500, physical_loans=10)


@pytest.fixture
def compleet():
    return plan(code="compleet", name="Compleet", monthly=750, yearly=8_500, streaming=True)


@pytest.fixture
def person():
    return adult()


def subscribed(person, code: str = "basis", interval: str = "month"):
    return services.subscribe(person=person, plan_code=code, interval=interval)


# --- plans -----------------------------------------------------------------------------------


def test_plans_are_public_with_entitlements_and_the_price_in_effect_today(client, basis):
    with on(D(2025, 3, 1)):
        services.plan_price_schedule(
            plan=basis, monthly_cents=500, yearly_cents=5_800, effective_from=D(2025, 4, 1)
        )
    plan(code="oud", is_active=False)
    plan(code="intern", is_public=False)
    plan(code="dagpas", kind=PlanKind.DAY_PASS, monthly=0, yearly=0)
    PlanPrice.objects.filter(plan__code="dagpas").update(one_off_cents=300)
    unpriced = plan(code="nieuw")
    unpriced.prices.all().delete()

    with on(D(2025, 3, 31)):
        march = {p["code"]: p for p in call(client, "GET", PLANS).json()}
    with on(D(2025, 4, 1)):
        response = call(client, "GET", PLANS)

    assert response.status_code == 200
    april = {p["code"]: p for p in response.json()}
    assert set(april) == {"basis", "dagpas", "nieuw"}
    assert april["basis"] == {
        "code": "basis",
        "name": "Basis",
        "description": "",
        "kind": "base",
        "entitlements": {
            "physical_loans": 10,
            "digital_loans_per_month": 0,
            "streaming": False,
            "activity_credits_per_month": 0,
            "things_at_once": 0,
            "household_seats": 1,
        },
        "min_age": None,
        "max_age": None,
        "trial_days": 0,
        "requires_municipal_pass": False,
        "vat_rate_bp": 900,
        "price": {
            "effective_from": "2025-04-01",
            "monthly_cents": 500,
            "yearly_cents": 5_800,
            "one_off_cents": 0,
        },
    }
    assert march["basis"]["price"]["monthly_cents"] == 475
    assert april["dagpas"]["kind"] == "day_pass"
    assert april["dagpas"]["price"]["one_off_cents"] == 300
    assert april["nieuw"]["price"] is None


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("POST", "/off"),
        ("POST", "/on"),
        ("POST", "/skip"),
        ("POST", "/change"),
        ("POST", "/cancel"),
        ("DELETE", "/changes/1"),
    ],
)
def test_anonymous_callers_get_401_from_every_subscription_operation(client, method, path):
    response = call(client, method, SUB + path, body={"plan": "basis"})

    assert error_of(response, 401) == "not_authenticated"


def test_without_a_subscription_reads_and_writes_are_404_no_subscription(client, person, basis):
    for method, path, body in [
        ("GET", "", None),
        ("POST", "/off", None),
        ("POST", "/on", None),
        ("POST", "/skip", None),
        ("POST", "/change", {"plan": "basis"}),
        ("POST", "/cancel", None),
        ("DELETE", "/changes/1", None),
    ]:
        response = call(client, method, SUB + path, user=person, body=body)
        assert error_of(response, 404) == "no_subscription", (method, path)


def test_another_person_s_subscription_is_never_visible(client, person, basis):
    with on(D(2025, 5, 1)):
        subscribed(person)
        services.subscription_switch_off(person=person, from_date=D(2025, 5, 10))
        other = adult()
        response = call(client, "GET", SUB, user=other)

    assert error_of(response, 404) == "no_subscription"


def test_undoing_someone_else_s_change_is_404_and_changes_nothing(client, person, basis):
    with on(D(2025, 5, 1)):
        subscribed(person)
        change = services.subscription_cancel(person=person)
        stranger = adult()
        without = call(client, "DELETE", f"{SUB}/changes/{change.pk}", user=stranger)
        subscribed(stranger)
        with_own = call(client, "DELETE", f"{SUB}/changes/{change.pk}", user=stranger)

    assert error_of(without, 404) == "no_subscription"
    assert error_of(with_own, 404) == "change_unknown"
    change.refresh_from_db()
    assert change.undone_at is None
    assert Subscription.objects.get(person=person).last_day is not None


# --- subscribe and read ----------------------------------------------------------------------


def test_subscribe_answers_201_with_the_subscription_and_its_period(client, person, basis):
    with on(D(2025, 1, 31)):
        response = call(client, "POST", SUB, user=person, body={"plan": "basis"})
        again = call(client, "GET", SUB, user=person)

    assert response.status_code == 201, response.content
    body = response.json()
    sub = Subscription.objects.get(person=person)
    # 475 cents over the 28 days of 31 Jan .. 27 Feb: the first day costs floor(475/28)
    assert body == {
        "id": sub.pk,
        "plan": {"code": "basis", "name": "Basis"},
        "interval": "month",
        "anchor_day": 31,
        "anchor_month": 1,
        "started_on": "2025-01-31",
        "trial_ends_on": None,
        "status": "active",
        "on": True,
        "last_day": None,
        "scheduled_changes": [],
        "period": {
            "start": "2025-01-31",
            "end": "2025-02-28",
            "lines_so_far": [
                {
                    "plan": {"code": "basis", "name": "Basis"},
                    "first_day": "2025-01-31",
                    "last_day": "2025-01-31",
                    "days": 1,
                    "amount_cents": 16,
                }
            ],
            "cost_so_far_cents": 16,
            "cost_whole_period_cents": 475,
        },
    }
    assert again.json() == body
    event = AuditEvent.objects.get(action="subscriptions.subscribe")
    assert event.actor_id == person.pk


def test_the_cost_so_far_grows_day_by_day_and_skips_days_switched_off(client, person, basis):
    with on(D(2025, 4, 1)):
        subscribed(person)
    with on(D(2025, 4, 10)):
        services.subscription_switch_off(person=person)
    with on(D(2025, 4, 20)):
        services.subscription_switch_on(person=person)
    with on(D(2025, 4, 30)):
        period = call(client, "GET", SUB, user=person).json()["period"]

    # on 1-9 April and 20-30 April: 9 + 11 of 30 days
    assert [(line["first_day"], line["days"]) for line in period["lines_so_far"]] == [
        ("2025-04-01", 9),
        ("2025-04-20", 11),
    ]
    assert period["cost_so_far_cents"] == (9 * 475 // 30) + (30 * 475 // 30 - 19 * 475 // 30)
    assert period["cost_whole_period_cents"] == period["cost_so_far_cents"]


def test_subscribe_refusals_carry_the_services_codes(client, person, basis):
    child = youth()
    with on(D(2025, 5, 1)):
        unknown = call(client, "POST", SUB, user=person, body={"plan": "platina"})
        interval = call(
            client, "POST", SUB, user=person, body={"plan": "basis", "interval": "week"}
        )
        paid_for_a_child = call(client, "POST", SUB, user=child, body={"plan": "basis"})
        missing = call(client, "POST", SUB, user=person, body={})
        first = call(client, "POST", SUB, user=person, body={"plan": "basis"})
        double = call(client, "POST", SUB, user=person, body={"plan": "basis"})

    assert error_of(unknown, 404) == "plan_unknown"
    assert error_of(interval, 400) == "interval_unknown"
    assert error_of(paid_for_a_child, 400) == "youth_is_free"
    assert error_of(missing, 422) == "invalid_input"
    assert first.status_code == 201
    assert error_of(double, 409) == "already_subscribed"
    assert Subscription.objects.filter(person=person).count() == 1
    assert not Subscription.objects.filter(person=child).exists()


def test_a_stadspas_rate_needs_a_code_in_the_right_form(client, person):
    plan(code="basis-stadspas", monthly=200, yearly=2_200, requires_municipal_pass=True)
    with on(D(2025, 5, 1)):
        without = call(client, "POST", SUB, user=person, body={"plan": "basis-stadspas"})
        with_code = call(
            client,
            "POST",
            SUB,
            user=person,
            body={"plan": "basis-stadspas", "municipal_pass_code": "rdam 2025 0042"},
        )

    assert error_of(without, 400) == "municipal_pass_invalid"
    assert with_code.status_code == 201
    assert Subscription.objects.get(person=person).municipal_pass_code == "RDAM20250042"


# --- off and on ------------------------------------------------------------------------------


def test_switch_off_now_then_on_again(client, person, basis):
    with on(D(2025, 5, 1)):
        subscribed(person)
    with on(D(2025, 5, 6)):
        off = call(client, "POST", f"{SUB}/off", user=person)
        twice = call(client, "POST", f"{SUB}/off", user=person, body={})
    with on(D(2025, 5, 9)):
        back = call(client, "POST", f"{SUB}/on", user=person)
        already_on = call(client, "POST", f"{SUB}/on", user=person)

    assert off.status_code == 200, off.content
    assert off.json()["on"] is False
    # switching off frees today: 1..5 May billed
    assert off.json()["period"]["lines_so_far"][0]["days"] == 5
    assert error_of(twice, 409) == "already_switched_off"
    assert back.status_code == 200 and back.json()["on"] is True
    assert error_of(already_on, 409) == "not_switched_off"
    assert list(SwitchOff.objects.values_list("off_from", "on_from")) == [
        (D(2025, 5, 6), D(2025, 5, 9))
    ]


def test_switch_off_from_a_later_date_is_a_scheduled_change_that_can_be_undone(
    client, person, basis
):
    with on(D(2025, 5, 1)):
        subscribed(person)
        response = call(client, "POST", f"{SUB}/off", user=person, body={"from": "2025-05-20"})
        change = response.json()["scheduled_changes"][0]
        undone = call(client, "DELETE", f"{SUB}/changes/{change['id']}", user=person)
        again = call(client, "DELETE", f"{SUB}/changes/{change['id']}", user=person)
        after = call(client, "GET", SUB, user=person).json()

    assert response.status_code == 200
    assert response.json()["on"] is True
    assert change == {
        "id": change["id"],
        "kind": "off",
        "effective_on": "2025-05-20",
        "to_plan": None,
    }
    assert undone.status_code == 204 and undone.content == b""
    assert error_of(again, 409) == "already_undone"
    assert after["scheduled_changes"] == []
    assert not SwitchOff.objects.exists()


def test_switch_off_refuses_a_date_in_the_past_and_a_date_that_is_not_one(client, person, basis):
    with on(D(2025, 5, 10)):
        subscribed(person)
        past = call(client, "POST", f"{SUB}/off", user=person, body={"from": "2025-05-09"})
        not_a_date = call(client, "POST", f"{SUB}/off", user=person, body={"from": "morgen"})

    assert error_of(past, 400) == "date_in_past"
    assert error_of(not_a_date, 422) == "invalid_input"
    assert not_a_date.json()["error"]["details"]["fields"][0]["field"] == "from"
    assert not SwitchOff.objects.exists()


def test_a_scheduled_change_that_took_effect_cannot_be_undone(client, person, basis):
    with on(D(2025, 5, 1)):
        subscribed(person)
        change = services.subscription_switch_off(person=person, from_date=D(2025, 5, 3)).change
    with on(D(2025, 5, 3)):
        response = call(client, "DELETE", f"{SUB}/changes/{change.pk}", user=person)

    assert error_of(response, 409) == "change_in_effect"


# --- skip ------------------------------------------------------------------------------------


def test_skip_next_month_is_scheduled_and_refused_when_too_late_or_yearly(client, person, basis):
    yearly = adult()
    with on(D(2025, 5, 1)):
        subscribed(person)
        subscribed(yearly, interval="year")
        skipped = call(client, "POST", f"{SUB}/skip", user=person)
        twice = call(client, "POST", f"{SUB}/skip", user=person)
        not_monthly = call(client, "POST", f"{SUB}/skip", user=yearly)
    late = adult()
    with on(D(2025, 4, 2)):
        subscribed(late)
    with on(D(2025, 4, 30)):
        too_late = call(client, "POST", f"{SUB}/skip", user=late)

    assert skipped.status_code == 200
    assert [(c["kind"], c["effective_on"]) for c in skipped.json()["scheduled_changes"]] == [
        ("skip_next_month", "2025-06-01")
    ]
    assert error_of(twice, 409) == "already_skipped"
    assert error_of(not_monthly, 400) == "skip_monthly_only"
    assert error_of(too_late, 409) == "skip_too_late"


# --- change plan -----------------------------------------------------------------------------


def test_a_dearer_plan_is_an_upgrade_today_with_the_difference(client, person, basis, compleet):
    with on(D(2025, 4, 1)):
        subscribed(person)
    with on(D(2025, 4, 16)):
        response = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "compleet"})

    assert response.status_code == 200, response.content
    body = response.json()
    # 16..30 April: 15 of 30 days, at 750 instead of 475
    assert body["change"] == "upgrade"
    assert body["effective_on"] == "2025-04-16"
    assert body["change_id"] is None
    assert body["difference_cents"] == (750 - 750 * 15 // 30) - (475 - 475 * 15 // 30)
    assert body["period_price_difference_cents"] == 275
    assert body["subscription"]["plan"]["code"] == "compleet"
    assert body["subscription"]["period"]["cost_whole_period_cents"] == 475 * 15 // 30 + (
        750 - 750 * 15 // 30
    )
    event = AuditEvent.objects.get(action="subscriptions.upgrade")
    assert event.data["difference_cents"] == body["difference_cents"]


def test_a_cheaper_plan_is_a_downgrade_at_the_end_of_the_period_and_can_be_undone(
    client, person, basis, compleet
):
    with on(D(2025, 4, 1)):
        subscribed(person, "compleet")
    with on(D(2025, 4, 16)):
        response = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "basis"})
        body = response.json()
        undone = call(client, "DELETE", f"{SUB}/changes/{body['change_id']}", user=person)

    assert response.status_code == 200, response.content
    assert body["change"] == "downgrade"
    assert body["effective_on"] == "2025-05-01"
    assert body["difference_cents"] == 0
    assert body["period_price_difference_cents"] == 475 - 750
    assert body["subscription"]["plan"]["code"] == "compleet"
    assert body["subscription"]["scheduled_changes"] == [
        {
            "id": body["change_id"],
            "kind": "downgrade",
            "effective_on": "2025-05-01",
            "to_plan": {"code": "basis", "name": "Basis"},
        }
    ]
    assert undone.status_code == 204
    assert ScheduledChange.objects.get(pk=body["change_id"]).undone_at is not None


def test_change_refusals(client, person, basis, compleet):
    plan(code="extra", kind=PlanKind.ADDON)
    with on(D(2025, 4, 1)):
        subscribed(person, "compleet")
        same = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "compleet"})
        unknown = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "platina"})
        addon = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "extra"})
        first = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "basis"})
        second = call(client, "POST", f"{SUB}/change", user=person, body={"plan": "basis"})

    assert error_of(same, 409) == "same_plan"
    assert error_of(unknown, 404) == "plan_unknown"
    assert error_of(addon, 400) == "plan_not_subscribable"
    assert first.status_code == 200
    assert error_of(second, 409) == "change_pending"
    assert ScheduledChange.objects.filter(kind=ChangeKind.DOWNGRADE).count() == 1


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_sets_the_last_day_and_can_be_undone(client, person, basis):
    with on(D(2025, 1, 15)):
        subscribed(person)
    with on(D(2025, 3, 3)):
        response = call(client, "POST", f"{SUB}/cancel", user=person)
        twice = call(client, "POST", f"{SUB}/cancel", user=person)
        change = response.json()["scheduled_changes"][0]
        undone = call(client, "DELETE", f"{SUB}/changes/{change['id']}", user=person)
        after = call(client, "GET", SUB, user=person).json()

    assert response.status_code == 200
    assert response.json()["last_day"] == "2025-03-14"
    assert (change["kind"], change["effective_on"]) == ("cancel", "2025-03-15")
    assert error_of(twice, 409) == "already_cancelled"
    assert undone.status_code == 204
    assert after["last_day"] is None and after["scheduled_changes"] == []
