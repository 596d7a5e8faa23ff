"""Subscribing, switching off and on, skipping, changing plan, cancelling and undoing: the
rules, the refusals and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.subscriptions import services
from bieb.subscriptions.billing import lines_for, total_cents
from bieb.subscriptions.models import (
    ChangeKind,
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import adult, plan, youth

pytestmark = pytest.mark.django_db
D = dt.date


def on(day: dt.date):
    """The clock at noon in Amsterdam on ``day``."""
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message
    return caught.value


def billed(sub, start, end) -> int:
    return total_cents(lines_for(sub, start, end))


# --- subscribe -------------------------------------------------------------------------------


def test_subscribe_anchors_on_today_and_audits():
    person, basic = adult(), plan(code="basis")
    with on(D(2025, 1, 31)):
        sub = services.subscribe(person=person, plan_code="basis")
    assert (sub.anchor_day, sub.anchor_month, sub.started_on) == (31, 1, D(2025, 1, 31))
    assert sub.plan == basic and sub.status == SubscriptionStatus.ACTIVE
    assert list(PlanSwitch.objects.values_list("plan_id", "effective_on")) == [
        (basic.pk, D(2025, 1, 31))
    ]
    event = AuditEvent.objects.get(action="subscriptions.subscribe")
    assert event.subject == f"subscriptions.subscription:{sub.pk}"
    assert event.actor_id == person.pk and event.data["plan"] == "basis"


def test_a_second_subscribe_is_refused_and_the_database_refuses_one_too():
    person = adult()
    plan(code="basis")
    with on(D(2025, 5, 1)):
        first = services.subscribe(person=person, plan_code="basis")
        error = refused(
            "already_subscribed", lambda: services.subscribe(person=person, plan_code="basis")
        )
    assert error.status == 409
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            person=person,
            plan=first.plan,
            interval="month",
            anchor_day=1,
            anchor_month=5,
            started_on=D(2025, 5, 1),
        )
    assert Subscription.objects.filter(person=person).count() == 1


def test_after_the_last_day_a_person_may_subscribe_again():
    person = adult()
    plan(code="basis")
    with on(D(2025, 5, 1)):
        old = services.subscribe(person=person, plan_code="basis")
        services.subscription_cancel(person=person)
    with on(D(2025, 6, 1)):
        new = services.subscribe(person=person, plan_code="basis")
    old.refresh_from_db()
    assert old.status == SubscriptionStatus.ENDED and old.last_day == D(2025, 5, 31)
    assert new.status == SubscriptionStatus.ACTIVE


def test_unknown_inactive_and_add_on_plans_are_refused():
    person = adult()
    plan(code="oud", is_active=False)
    plan(code="streaming", kind=PlanKind.ADDON)
    refused("plan_unknown", lambda: services.subscribe(person=person, plan_code="bestaat-niet"))
    refused("plan_unknown", lambda: services.subscribe(person=person, plan_code="oud"))
    refused(
        "plan_not_subscribable", lambda: services.subscribe(person=person, plan_code="streaming")
    )
    refused(
        "interval_unknown",
        lambda: services.subscribe(person=person, plan_code="oud", interval="week"),
    )
    assert not Subscription.objects.exists()


def test_youth_plan_is_for_under_18s_and_under_18s_pay_nothing():
    plan(code="jeugd", monthly=0, yearly=0, min_age=0, max_age=17)
    plan(code="basis")
    refused("plan_not_for_age", lambda: services.subscribe(person=adult(), plan_code="jeugd"))
    child = youth()
    refused("youth_is_free", lambda: services.subscribe(person=child, plan_code="basis"))
    assert services.subscribe(person=child, plan_code="jeugd").plan.code == "jeugd"
    refused("youth_is_free", lambda: services.subscription_upgrade(person=child, plan_code="basis"))


def test_a_youth_plan_cannot_get_a_price():
    youth_plan = plan(code="jeugd", monthly=0, yearly=0, min_age=0, max_age=17)
    refused(
        "youth_is_free",
        lambda: services.plan_price_schedule(
            plan=youth_plan, monthly_cents=100, yearly_cents=0, effective_from=clock.today()
        ),
    )


def test_the_municipal_pass_plan_needs_a_well_formed_code():
    plan(code="stadspas", monthly=500, yearly=5_000, requires_municipal_pass=True)
    person = adult()
    for bad in ("", "12", "ABCDEFG", "SP 12*345"):
        error = refused(
            "municipal_pass_invalid",
            lambda bad=bad: services.subscribe(
                person=person, plan_code="stadspas", municipal_pass_code=bad
            ),
        )
        assert error.details == {"field": "municipal_pass_code"}
    sub = services.subscribe(
        person=person, plan_code="stadspas", municipal_pass_code=" sp-1234 56 "
    )
    assert sub.municipal_pass_code == "SP-123456"


def test_a_trial_is_free_once_per_plan():
    person = adult()
    plan(code="proef", trial_days=14)
    with on(D(2025, 3, 1)):
        sub = services.subscribe(person=person, plan_code="proef")
        assert sub.trial_ends_on == D(2025, 3, 15)
        services.subscription_cancel(person=person)
    assert (
        billed(sub, D(2025, 3, 1), D(2025, 4, 1)) == 1_000 - 1_000 * 14 // 31
    )  # days 15..31 of 31
    with on(D(2025, 5, 1)):
        again = services.subscribe(person=person, plan_code="proef")
    assert again.trial_ends_on is None


# --- off and on ------------------------------------------------------------------------------


def test_switch_off_now_and_on_later_bills_only_the_on_days():
    person = adult()
    plan(code="basis", monthly=3_000)
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 4, 11)):
        services.subscription_switch_off(person=person)
        refused("already_switched_off", lambda: services.subscription_switch_off(person=person))
    with on(D(2025, 4, 21)):
        services.subscription_switch_on(person=person)
        refused("not_switched_off", lambda: services.subscription_switch_on(person=person))
    assert list(SwitchOff.objects.values_list("off_from", "on_from")) == [
        (D(2025, 4, 11), D(2025, 4, 21))
    ]
    assert billed(sub, D(2025, 4, 1), D(2025, 5, 1)) == 2_000  # 20 of 30 days at 100
    assert AuditEvent.objects.filter(action__startswith="subscriptions.switch_").count() == 2


def test_off_and_on_the_same_day_bills_the_day():
    person = adult()
    plan(code="basis")
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 4, 11)):
        services.subscription_switch_off(person=person)
        services.subscription_switch_on(person=person)
    assert not SwitchOff.objects.exists()
    assert billed(sub, D(2025, 4, 1), D(2025, 5, 1)) == 1_000


def test_switch_off_from_a_future_date_is_a_change_that_can_be_undone():
    person = adult()
    plan(code="basis")
    with on(D(2025, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        refused(
            "date_in_past",
            lambda: services.subscription_switch_off(person=person, from_date=D(2025, 3, 31)),
        )
        off = services.subscription_switch_off(person=person, from_date=D(2025, 4, 20))
        assert off.change.kind == ChangeKind.OFF and off.change.effective_on == D(2025, 4, 20)
        refused("not_switched_off", lambda: services.subscription_switch_on(person=person))
        refused(
            "change_pending",
            lambda: services.subscription_switch_off(person=person, from_date=D(2025, 4, 25)),
        )
        services.subscription_change_undo(person=person, change_id=off.change.pk)
        refused(
            "already_undone",
            lambda: services.subscription_change_undo(person=person, change_id=off.change.pk),
        )
    assert not SwitchOff.objects.exists()


def test_a_scheduled_switch_off_cannot_be_undone_once_in_effect():
    person = adult()
    plan(code="basis")
    with on(D(2025, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        off = services.subscription_switch_off(person=person, from_date=D(2025, 4, 5))
    with on(D(2025, 4, 5)):
        refused(
            "change_in_effect",
            lambda: services.subscription_change_undo(person=person, change_id=off.change.pk),
        )
        services.subscription_switch_on(person=person)  # the way back once it is in effect
    assert not SwitchOff.objects.exists()


def test_without_a_subscription_nothing_can_be_switched():
    person = adult()
    refused("no_subscription", lambda: services.subscription_switch_off(person=person))
    refused("no_subscription", lambda: services.subscription_cancel(person=person))


# --- skip next month -------------------------------------------------------------------------


def test_skip_next_month_switches_off_the_whole_next_period():
    person = adult()
    plan(code="basis")
    with on(D(2025, 1, 31)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 2, 24)):  # next period starts 28 Feb: cut-off 25 Feb
        change = services.subscription_skip_next_month(person=person)
        refused("already_skipped", lambda: services.subscription_skip_next_month(person=person))
    assert change.effective_on == D(2025, 2, 28)
    assert list(SwitchOff.objects.values_list("off_from", "on_from")) == [
        (D(2025, 2, 28), D(2025, 3, 31))
    ]
    assert billed(sub, D(2025, 1, 31), D(2025, 4, 30)) == 2_000  # Jan and Mar periods


def test_skip_is_refused_from_the_cut_off():
    person = adult()
    plan(code="basis")
    with on(D(2025, 1, 31)):
        services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 2, 25)):
        error = refused(
            "skip_too_late", lambda: services.subscription_skip_next_month(person=person)
        )
    assert str(services.SKIP_CUTOFF_DAYS) in error.message


def test_skip_is_for_monthly_subscriptions():
    person = adult()
    plan(code="basis")
    services.subscribe(person=person, plan_code="basis", interval="year")
    refused("skip_monthly_only", lambda: services.subscription_skip_next_month(person=person))


def test_switching_on_during_a_skipped_month_bills_from_today():
    person = adult()
    plan(code="basis", monthly=3_000)
    with on(D(2025, 3, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 3, 10)):
        services.subscription_skip_next_month(person=person)
    with on(D(2025, 4, 21)):
        services.subscription_switch_on(person=person)
    assert billed(sub, D(2025, 4, 1), D(2025, 5, 1)) == 1_000  # 10 of 30 days


# --- changing plan ---------------------------------------------------------------------------


def test_upgrade_now_prorates_the_rest_of_the_period_per_day():
    person = adult()
    plan(code="basis", monthly=3_000)
    complete = plan(code="compleet", monthly=6_000)
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 4, 21)):
        result = services.subscription_upgrade(person=person, plan_code="compleet")
        refused(
            "same_plan", lambda: services.subscription_upgrade(person=person, plan_code="compleet")
        )
    assert result.difference_cents == 1_000  # 10 days at 200 instead of 100
    assert result.subscription.plan == complete
    assert billed(sub, D(2025, 4, 1), D(2025, 5, 1)) == 2_000 + 2_000
    assert AuditEvent.objects.get(action="subscriptions.upgrade").data["difference_cents"] == 1_000


def test_a_cheaper_plan_is_not_an_upgrade_and_a_dearer_one_not_a_downgrade():
    person = adult()
    plan(code="basis", monthly=1_000)
    plan(code="digitaal", monthly=500)
    plan(code="compleet", monthly=2_000)
    services.subscribe(person=person, plan_code="basis")
    refused(
        "not_an_upgrade", lambda: services.subscription_upgrade(person=person, plan_code="digitaal")
    )
    refused(
        "not_a_downgrade",
        lambda: services.subscription_downgrade(person=person, plan_code="compleet"),
    )


def test_downgrade_takes_effect_at_the_end_of_the_period_and_can_be_undone():
    person = adult()
    basic = plan(code="basis", monthly=1_000)
    digital = plan(code="digitaal", monthly=500)
    with on(D(2025, 1, 31)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 2, 10)):
        change = services.subscription_downgrade(person=person, plan_code="digitaal")
        refused(
            "change_pending",
            lambda: services.subscription_downgrade(person=person, plan_code="digitaal"),
        )
    assert change.effective_on == D(2025, 2, 28)
    assert billed(sub, D(2025, 1, 31), D(2025, 3, 31)) == 1_500
    with on(D(2025, 2, 27)):
        services.subscription_change_undo(person=person, change_id=change.pk)
    assert billed(sub, D(2025, 1, 31), D(2025, 3, 31)) == 2_000
    with on(D(2025, 2, 27)):
        change = services.subscription_downgrade(person=person, plan_code="digitaal")
    with on(D(2025, 3, 1)):
        services.changes_apply_due()
    sub.refresh_from_db()
    change.refresh_from_db()
    assert sub.plan == digital and change.applied_at is not None
    assert basic.pk != digital.pk


def test_changing_plan_upgrades_a_dearer_one_today_and_downgrades_a_cheaper_one_later():
    person = adult()
    plan(code="basis", monthly=3_000)
    plan(code="compleet", monthly=6_000)
    plan(code="digitaal", monthly=1_500)
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 4, 21)):
        up = services.subscription_change_plan(person=person, plan_code="compleet")
        refused(
            "same_plan",
            lambda: services.subscription_change_plan(person=person, plan_code="compleet"),
        )
        down = services.subscription_change_plan(person=person, plan_code="digitaal")
    assert (up.kind, up.effective_on, up.change) == ("upgrade", D(2025, 4, 21), None)
    assert (up.difference_cents, up.period_price_difference_cents) == (1_000, 3_000)
    assert (down.kind, down.effective_on, down.difference_cents) == ("downgrade", D(2025, 5, 1), 0)
    assert down.change.to_plan.code == "digitaal"
    assert down.period_price_difference_cents == 1_500 - 6_000
    # April: 20 days basis, 10 days compleet; May on digitaal
    assert billed(sub, D(2025, 4, 1), D(2025, 6, 1)) == 2_000 + 2_000 + 1_500


def test_an_upgrade_undoes_a_pending_downgrade():
    person = adult()
    plan(code="basis", monthly=1_000)
    plan(code="digitaal", monthly=500)
    plan(code="compleet", monthly=2_000)
    with on(D(2025, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        change = services.subscription_downgrade(person=person, plan_code="digitaal")
    with on(D(2025, 4, 16)):
        services.subscription_upgrade(person=person, plan_code="compleet")
    change.refresh_from_db()
    assert change.undone_at is not None
    assert not PlanSwitch.objects.filter(change=change).exists()


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_ends_a_monthly_subscription_at_the_end_of_the_period():
    person = adult()
    plan(code="basis")
    with on(D(2025, 1, 31)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 3, 5)):
        change = services.subscription_cancel(person=person)
        refused("already_cancelled", lambda: services.subscription_cancel(person=person))
    sub.refresh_from_db()
    assert change.effective_on == D(2025, 3, 31) and sub.last_day == D(2025, 3, 30)
    assert billed(sub, D(2025, 1, 1), D(2026, 1, 1)) == 2_000


def test_a_yearly_subscription_runs_its_first_year_then_ends_monthly():
    person = adult()
    plan(code="basis", yearly=12_000)
    with on(D(2025, 1, 15)):
        services.subscribe(person=person, plan_code="basis", interval="year")
    with on(D(2025, 3, 1)):  # first term: to the end of the first year
        first = services.subscription_cancel(person=person)
        assert first.effective_on == D(2026, 1, 15)
        services.subscription_change_undo(person=person, change_id=first.pk)
    with on(D(2026, 6, 20)):  # after it: at the next monthly anchor day
        later = services.subscription_cancel(person=person)
    assert later.effective_on == D(2026, 7, 15)
    sub = Subscription.objects.get(person=person)
    # 2026-01-15 .. 2026-07-14: 181 of 365 days of the second year
    assert billed(sub, D(2026, 1, 15), D(2027, 1, 15)) == 12_000 * 181 // 365


def test_cancel_undoes_changes_that_would_only_start_after_the_end():
    person = adult()
    plan(code="basis", monthly=1_000)
    plan(code="digitaal", monthly=500)
    with on(D(2025, 4, 1)):
        services.subscribe(person=person, plan_code="basis")
        downgrade = services.subscription_downgrade(person=person, plan_code="digitaal")
        skip = services.subscription_skip_next_month(person=person)
        services.subscription_cancel(person=person)
    assert (
        ScheduledChange.objects.filter(
            pk__in=[downgrade.pk, skip.pk], undone_at__isnull=False
        ).count()
        == 2
    )
    assert not SwitchOff.objects.exists()
    with on(D(2025, 4, 2)):
        refused("subscription_ending", lambda: services.subscription_skip_next_month(person=person))
        refused(
            "subscription_ending",
            lambda: services.subscription_switch_off(person=person, from_date=D(2025, 5, 2)),
        )


def test_undoing_a_cancellation_lets_the_subscription_run_on():
    person = adult()
    plan(code="basis")
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
        change = services.subscription_cancel(person=person)
        services.subscription_change_undo(person=person, change_id=change.pk)
    sub.refresh_from_db()
    assert sub.last_day is None and sub.cancelled_at is None
    with on(D(2025, 6, 1)):
        services.changes_apply_due()
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE


def test_changes_apply_due_ends_subscriptions_past_their_last_day_once():
    person = adult()
    plan(code="basis")
    with on(D(2025, 4, 1)):
        sub = services.subscribe(person=person, plan_code="basis")
        services.subscription_cancel(person=person)
    with on(D(2025, 5, 1)):
        assert services.changes_apply_due() == 1
        assert services.changes_apply_due() == 0
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ENDED
    assert AuditEvent.objects.filter(action="subscriptions.ended").count() == 1


def test_an_unknown_change_is_not_found():
    person = adult()
    plan(code="basis")
    services.subscribe(person=person, plan_code="basis")
    error = refused(
        "change_unknown",
        lambda: services.subscription_change_undo(person=person, change_id=999_999),
    )
    assert error.status == 404


# --- prices ----------------------------------------------------------------------------------


def test_a_new_price_applies_from_the_next_period_never_to_one_under_way():
    person = adult()
    basic = plan(code="basis", monthly=1_000)
    with on(D(2025, 4, 10)):
        sub = services.subscribe(person=person, plan_code="basis")
    with on(D(2025, 4, 20)):
        refused(
            "date_in_past",
            lambda: services.plan_price_schedule(
                plan=basic, monthly_cents=1_200, yearly_cents=12_000, effective_from=D(2025, 4, 1)
            ),
        )
        services.plan_price_schedule(
            plan=basic, monthly_cents=1_200, yearly_cents=12_000, effective_from=D(2025, 4, 20)
        )
    assert billed(sub, D(2025, 4, 10), D(2025, 6, 10)) == 1_000 + 1_200
    assert PlanPrice.objects.filter(plan=basic).count() == 2


# --- database constraints --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"vat_rate_bp": 10_001}, {"household_seats": 0}, {"min_age": 18, "max_age": 17}],
)
def test_plan_constraints(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.create(code="x", name="X", kind="base", **fields)


def test_price_and_subscription_constraints():
    basic = plan(code="basis")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanPrice.objects.create(
            plan=basic, monthly_cents=-1, yearly_cents=0, effective_from=D(2030, 1, 1)
        )
    person = adult()
    for bad in ({"anchor_day": 0}, {"anchor_day": 32}, {"anchor_month": 13}):
        values = {"anchor_day": 1, "anchor_month": 1, **bad}
        with pytest.raises(IntegrityError), transaction.atomic():
            Subscription.objects.create(
                person=person, plan=basic, interval="month", started_on=D(2025, 1, 1), **values
            )
    sub = services.subscribe(person=person, plan_code="basis")
    with pytest.raises(IntegrityError), transaction.atomic():
        SwitchOff.objects.create(subscription=sub, off_from=D(2025, 1, 2), on_from=D(2025, 1, 2))
    SwitchOff.objects.create(subscription=sub, off_from=D(2030, 1, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        SwitchOff.objects.create(subscription=sub, off_from=D(2031, 1, 2))
