"""Mijn abonnement (``/mijn/abonnement``) through the Django test client, as a browser without
JavaScript uses it: plain forms, POST-redirect-GET, refusals next to the form with the
service's status, and nothing of another person's ever found."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import invoicing, mandates, selectors, services
from bieb.subscriptions.invoicing import NewLine
from bieb.subscriptions.models import (
    ChangeKind,
    LineKind,
    Mandate,
    PlanKind,
    ScheduledChange,
    Subscription,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import adult, plan, youth
from bieb.subscriptions.views_mine import cancel_last_day, masked_iban, plan_change_preview

pytestmark = pytest.mark.django_db
D = dt.date
MARCH_10 = dt.date(2025, 3, 10)
MINE = reverse("subscriptions:mine")


def on(day: dt.date):
    """The clock at noon in Amsterdam on ``day``."""
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def text(response) -> str:
    """The page's visible text, whitespace collapsed (for reading amounts and sentences)."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    words = " ".join(re.sub(r"<[^>]+>", " ", body).split()).replace("&#x27;", "'")
    return re.sub(r" ([.,:;)])", r"\1", words)


@pytest.fixture
def plans():
    return {
        "basis": plan(code="basis", name="Basis", monthly=1_000, yearly=10_000, physical_loans=10),
        "compleet": plan(
            code="compleet",
            name="Compleet",
            monthly=3_100,
            yearly=31_000,
            physical_loans=20,
            streaming=True,
        ),
        "stadspas": plan(
            code="stadspas",
            name="Basis met stadspas",
            monthly=400,
            yearly=4_000,
            requires_municipal_pass=True,
        ),
        "jeugd": plan(code="jeugd", name="Jeugd", monthly=0, yearly=0, min_age=0, max_age=17),
        "extra": plan(code="extra", name="Streaming extra", kind=PlanKind.ADDON),
    }


@pytest.fixture
def person():
    return adult(home_organisation=OrganisationFactory(code="BIBA"))


@pytest.fixture
def client_for(client):
    def log_in(user) -> Client:
        client.force_login(user)
        return client

    return log_in


def subscribed(person, code="basis", day=MARCH_10, **kwargs):
    with on(day):
        return services.subscribe(person=person, plan_code=code, actor=person, **kwargs)


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["mine", "subscribe", "change_plan", "cancel", "invoices", "payment_method"],
)
def test_every_page_asks_an_anonymous_visitor_to_log_in(client, name):
    response = client.get(reverse(f"subscriptions:{name}"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("name", ["switch_off", "switch_on", "skip"])
def test_action_urls_take_only_post(client_for, person, name):
    assert client_for(person).get(reverse(f"subscriptions:{name}")).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(person, plans):
    subscribed(person)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    with on(D(2025, 3, 12)):
        response = strict.post(reverse("subscriptions:switch_off"))
    assert response.status_code == 403
    assert not SwitchOff.objects.exists()


# --- signing up ------------------------------------------------------------------------------


def test_without_a_subscription_the_page_offers_to_sign_up(client_for, person, plans):
    with on(D(2025, 3, 10)):
        response = client_for(person).get(MINE)
    assert response.status_code == 200
    assert "Je hebt nog geen abonnement" in text(response)
    assert reverse("subscriptions:subscribe") in response.content.decode()


def test_sign_up_page_shows_the_base_plans_for_this_age_with_prices(client_for, person, plans):
    plan(code="nog-geen-prijs", name="Zonder prijs")
    from bieb.subscriptions.models import PlanPrice

    PlanPrice.objects.filter(plan__code="nog-geen-prijs").delete()
    with on(D(2025, 3, 10)):
        response = client_for(person).get(reverse("subscriptions:subscribe"))
    page = text(response)
    assert response.status_code == 200
    assert "Basis € 10,00 per maand of € 100,00 per jaar" in page
    assert "Compleet € 31,00 per maand of € 310,00 per jaar" in page
    assert "Stadspascode" in page
    for absent in ("Jeugd", "Streaming extra", "Zonder prijs"):
        assert absent not in page  # not for adults, an add-on, no price yet


def test_sign_up_starts_the_subscription_today_and_audits_the_resident(client_for, person, plans):
    client = client_for(person)
    with on(D(2025, 3, 10)):
        response = client.post(
            reverse("subscriptions:subscribe"), {"plan": "basis", "interval": "year"}
        )
        assert response.status_code == 302 and response["Location"] == MINE
        page = text(client.get(MINE))
    subscription = Subscription.objects.get(person=person)
    assert (subscription.plan.code, subscription.interval) == ("basis", "year")
    assert subscription.started_on == D(2025, 3, 10)
    assert "Welkom! Je abonnement Basis gaat vandaag in." in page
    assert "Staat aan" in page and "Je betaalt per jaar." in page
    event = AuditEvent.objects.get(action="subscriptions.subscribe")
    assert event.actor_id == person.pk


def test_the_stadspas_plan_without_a_code_is_refused_next_to_the_code_field(
    client_for, person, plans
):
    with on(D(2025, 3, 10)):
        response = client_for(person).post(
            reverse("subscriptions:subscribe"), {"plan": "stadspas", "interval": "month"}
        )
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'id="municipal_pass_code-error">(.*?)</div>', body, re.S)
    assert error and "geldige stadspascode" in error.group(1)
    assert 'aria-invalid="true"' in body
    assert not Subscription.objects.exists()


def test_the_stadspas_plan_with_a_code_is_taken(client_for, person, plans):
    with on(D(2025, 3, 10)):
        response = client_for(person).post(
            reverse("subscriptions:subscribe"),
            {"plan": "stadspas", "interval": "month", "municipal_pass_code": "ut 1234 56"},
        )
    assert response.status_code == 302
    assert Subscription.objects.get(person=person).municipal_pass_code == "UT123456"


def test_a_second_sign_up_is_refused_with_the_services_message(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 11)):
        page = text(client.get(reverse("subscriptions:subscribe")))
        response = client.post(
            reverse("subscriptions:subscribe"), {"plan": "compleet", "interval": "month"}
        )
    assert "Je hebt al een abonnement: Basis." in page
    # the form is not offered, but a stale form's POST still gets a clear answer, not a 500
    assert response.status_code == 409
    assert "Je hebt al een abonnement." in text(response)
    assert Subscription.objects.get(person=person).plan.code == "basis"


def test_sign_up_without_choosing_says_what_to_choose(client_for, person, plans):
    with on(D(2025, 3, 10)):
        response = client_for(person).post(reverse("subscriptions:subscribe"), {})
    assert response.status_code == 400
    page = text(response)
    assert "Kies een abonnementsvorm." in page and "Kies per maand of per jaar betalen." in page


def test_an_under_16_without_consent_is_refused_with_the_reason(client_for, plans):
    child = youth(consent=False)
    with on(D(2025, 3, 10)):
        response = client_for(child).post(
            reverse("subscriptions:subscribe"), {"plan": "jeugd", "interval": "month"}
        )
    assert response.status_code == 403
    assert "Je ouder of voogd moet eerst toestemming geven." in text(response)
    assert not Subscription.objects.filter(person=child).exists()


def test_a_youth_sees_only_the_youth_plan(client_for, plans):
    child = youth()
    with on(D(2025, 3, 10)):
        page = text(client_for(child).get(reverse("subscriptions:subscribe")))
    assert "Jeugd" in page
    assert "Basis" not in page and "Compleet" not in page


# --- the overview ----------------------------------------------------------------------------


def test_a_household_member_sees_the_shared_plan_not_a_sign_up(client_for, person, plans):
    from bieb.accounts import services as accounts_services

    plan(code="huishouden", name="Huishouden", household_seats=4, physical_loans=20)
    member = adult(first_name="Joris")
    subscribed(person, code="huishouden")
    with on(D(2025, 3, 11)):
        household = accounts_services.household_create(user=person, name="Jansen")
        accounts_services.household_add_member(
            household=household, card_number=member.card_number, email=member.email, actor=person
        )
        page = text(client_for(member).get(MINE))
    assert f"Je gebruikt het huishoudabonnement van {person.first_name}." in page
    assert "Boeken en meer tegelijk lenen 20" in page
    assert "Je hebt nog geen abonnement" not in page


def test_overview_shows_plan_inclusions_usage_and_the_exact_next_invoice(client_for, person, plans):
    subscription = subscribed(person)
    with on(D(2025, 3, 10)):
        preview = invoicing.invoice_preview(subscription)
        response = client_for(person).get(MINE)
    page = text(response)
    assert response.status_code == 200
    assert preview.total_cents == 1_000  # the first whole month, invoiced on the first day
    assert "Volgende factuur Op 10 maart 2025: € 10,00" in page
    assert "Boeken en meer tegelijk lenen 10" in page
    assert "Films en series streamen nee" in page
    assert "Gebruikt sinds 10 maart" in page
    assert "Er staat niets gepland." in page
    assert "Zet uit" in page and "Zet aan" not in page


def test_switching_off_today_and_on_again(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 20)):
        response = client.post(reverse("subscriptions:switch_off"), {"from_date": ""})
        assert response.status_code == 302
        page = text(client.get(MINE))
        assert "Je abonnement staat uit. Vanaf vandaag betaal je niets" in page
        assert "Staat uit" in page and "Zet aan" in page
        assert "Je abonnement staat uit. Zet het aan om weer te lenen" in page
        assert selectors.entitlements_for(person).refusal == "switched_off"
    with on(D(2025, 3, 25)):
        response = client.post(reverse("subscriptions:switch_on"))
        assert response.status_code == 302
        page = text(client.get(MINE))
    assert "Je abonnement staat weer aan." in page and "Staat aan" in page
    assert list(SwitchOff.objects.values_list("off_from", "on_from")) == [
        (D(2025, 3, 20), D(2025, 3, 25))
    ]
    actions = list(
        AuditEvent.objects.filter(action__startswith="subscriptions.switch").values_list(
            "action", "actor_id"
        )
    )
    assert actions == [
        ("subscriptions.switch_off", person.pk),
        ("subscriptions.switch_on", person.pk),
    ]


def test_a_past_date_is_refused_next_to_the_date_field(client_for, person, plans):
    subscribed(person)
    with on(D(2025, 3, 20)):
        response = client_for(person).post(
            reverse("subscriptions:switch_off"), {"from_date": "2025-03-19"}
        )
    assert response.status_code == 400
    error = re.search(r'id="from_date-error">(.*?)</div>', response.content.decode(), re.S)
    assert error and "Deze datum ligt in het verleden" in error.group(1)
    assert not SwitchOff.objects.exists()


def test_a_date_that_is_not_a_date_is_refused_without_a_500(client_for, person, plans):
    subscribed(person)
    with on(D(2025, 3, 20)):
        response = client_for(person).post(
            reverse("subscriptions:switch_off"), {"from_date": "morgen"}
        )
    assert response.status_code == 400
    assert not SwitchOff.objects.exists()


def test_switching_off_later_is_a_scheduled_change_that_can_be_undone(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 20)):
        client.post(reverse("subscriptions:switch_off"), {"from_date": "2025-04-02"})
        page = text(client.get(MINE))
        assert "Je abonnement gaat uit op 2 april 2025." in page
        assert "Gaat uit op 2 april 2025. Ongedaan maken" in page
        assert "Staat aan" in page
        change = ScheduledChange.objects.get(kind=ChangeKind.OFF)
        response = client.post(reverse("subscriptions:change_undo", args=[change.pk]))
        assert response.status_code == 302
        page = text(client.get(MINE))
    assert "Ongedaan gemaakt: Gaat uit op 2 april 2025." in page
    assert "Er staat niets gepland." in page
    assert not SwitchOff.objects.exists()


def test_switching_on_when_it_is_on_says_so_next_to_the_switch(client_for, person, plans):
    subscribed(person)
    with on(D(2025, 3, 20)):
        response = client_for(person).post(reverse("subscriptions:switch_on"))
    assert response.status_code == 409
    body = response.content.decode()
    section = body[body.index('id="plan-heading"') : body.index('id="included-heading"')]
    assert 'role="alert"' in section
    assert "Staat aan" in text(response)


def test_actions_without_a_subscription_answer_with_a_message_not_an_error(
    client_for, person, plans
):
    client = client_for(person)
    with on(D(2025, 3, 20)):
        for name in ("switch_on", "skip", "switch_off"):
            response = client.post(reverse(f"subscriptions:{name}"))
            assert response.status_code == 404, name
            assert "Je hebt geen actief abonnement." in text(response), name


def test_skip_next_month_and_too_late(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 20)):
        assert client.post(reverse("subscriptions:skip")).status_code == 302
        page = text(client.get(MINE))
    assert "Je slaat de maand over die op 10 april 2025 begint." in page
    assert "Dat kan tot 3 dagen voor die maand begint." in page
    other = adult()
    subscribed(other)
    with on(D(2025, 4, 8)):
        response = client_for(other).post(reverse("subscriptions:skip"))
    assert response.status_code == 409
    assert "Het is te laat om de volgende maand over te slaan" in text(response)
    assert ScheduledChange.objects.filter(subscription__person=other).count() == 0


def test_a_yearly_subscription_is_not_offered_skipping(client_for, person, plans):
    subscribed(person, interval="year")
    with on(D(2025, 3, 20)):
        page = text(client_for(person).get(MINE))
    assert "Volgende maand overslaan" not in page


def test_someone_elses_change_is_404_and_stays(client_for, person, plans):
    other = adult()
    subscribed(other)
    subscribed(person)
    with on(D(2025, 3, 20)):
        services.subscription_switch_off(person=other, from_date=D(2025, 4, 1))
        change = ScheduledChange.objects.get(subscription__person=other)
        response = client_for(person).post(reverse("subscriptions:change_undo", args=[change.pk]))
    assert response.status_code == 404
    change.refresh_from_db()
    assert change.undone_at is None
    assert SwitchOff.objects.filter(change=change).exists()


def test_undoing_a_change_in_effect_is_refused_next_to_the_list(client_for, person, plans):
    subscribed(person)
    with on(D(2025, 3, 20)):
        services.subscription_switch_off(person=person, from_date=D(2025, 3, 22))
    change = ScheduledChange.objects.get()
    with on(D(2025, 3, 22)):
        response = client_for(person).post(reverse("subscriptions:change_undo", args=[change.pk]))
    assert response.status_code == 409
    assert "Deze wijziging is al ingegaan" in text(response)


# --- changing plan ---------------------------------------------------------------------------


def test_change_plan_shows_the_difference_before_anything_changes(client_for, person, plans):
    subscribed(person)  # Basis, € 10,00 a month from 10 March
    client = client_for(person)
    with on(D(2025, 3, 25)):
        choose = text(client.get(reverse("subscriptions:change_plan")))
        response = client.get(reverse("subscriptions:change_plan"), {"plan": "compleet"})
    assert "Compleet € 31,00 per maand" in choose
    assert "Basis € 10,00" not in choose  # the current plan is not offered
    page = text(response)
    assert response.status_code == 200
    assert "Nu: Basis € 10,00" in page and "Nieuw: Compleet € 31,00" in page
    assert "Per periode meer € 21,00" in page
    # 25 March .. 9 April are days 15..30 of a 31-day period (cumulative rounding):
    # (3100 - 15*3100//31) - (1000 - 15*1000//31) = 1600 - 517
    assert "De rest van deze periode (tot en met 9 april 2025) kost € 10,83 meer." in page
    assert Subscription.objects.get(person=person).plan.code == "basis"
    assert not AuditEvent.objects.filter(action="subscriptions.upgrade").exists()


def test_confirming_an_upgrade_charges_exactly_the_difference_shown(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 25)):
        response = client.post(reverse("subscriptions:change_plan"), {"plan": "compleet"})
        assert response.status_code == 302
        page = text(client.get(MINE))
    event = AuditEvent.objects.get(action="subscriptions.upgrade")
    assert event.data["difference_cents"] == 1_083
    assert event.actor_id == person.pk
    assert "Je hebt nu Compleet. De rest van deze periode kost € 10,83 meer." in page
    assert Subscription.objects.get(person=person).plan.code == "compleet"


def test_a_downgrade_shows_its_date_and_becomes_a_scheduled_change(client_for, person, plans):
    subscribed(person, code="compleet")
    client = client_for(person)
    with on(D(2025, 3, 25)):
        page = text(client.get(reverse("subscriptions:change_plan"), {"plan": "basis"}))
        assert "Basis gaat in op donderdag 10 april 2025" in page
        assert "Per periode minder € 21,00" in page
        assert (
            client.post(reverse("subscriptions:change_plan"), {"plan": "basis"}).status_code == 302
        )
        mine = text(client.get(MINE))
    assert "Vanaf 10 april 2025 heb je Basis. Tot die dag kun je dat ongedaan maken." in mine
    change = ScheduledChange.objects.get(kind=ChangeKind.DOWNGRADE)
    assert change.effective_on == D(2025, 4, 10) and change.to_plan.code == "basis"


@pytest.mark.parametrize(
    ("day", "off_from"),
    [
        (D(2025, 3, 10), None),  # the first day
        (D(2025, 3, 31), None),
        (D(2025, 4, 9), None),  # the last day of the period
        (D(2025, 3, 25), D(2025, 3, 28)),  # switched off from a later day
        (D(2025, 3, 25), D(2025, 3, 25)),  # switched off today
    ],
)
def test_the_preview_is_what_the_service_then_does(person, plans, day, off_from):
    subscribed(person, code="basis", interval="month")
    with on(day):
        if off_from:
            services.subscription_switch_off(person=person, from_date=off_from)
        view = selectors.subscription_overview(person)
        preview = plan_change_preview(view, plans["compleet"], day)
        done = services.subscription_change_plan(person=person, plan_code="compleet")
    assert (preview.kind, preview.effective_on) == (done.kind, done.effective_on)
    assert preview.rest_difference_cents == done.difference_cents
    assert preview.period_difference_cents == done.period_price_difference_cents


def test_the_preview_of_an_upgrade_in_a_trial_is_what_the_service_charges(person, plans):
    plan(code="proef", name="Proef", monthly=500, yearly=5_000, trial_days=14)
    subscribed(person, code="proef")
    day = D(2025, 3, 15)
    with on(day):
        view = selectors.subscription_overview(person)
        preview = plan_change_preview(view, plans["compleet"], day)
        done = services.subscription_change_plan(person=person, plan_code="compleet")
    assert preview.kind == "upgrade"
    assert preview.rest_difference_cents == done.difference_cents > 0


def test_the_preview_of_a_downgrade_is_what_the_service_schedules(person, plans):
    subscribed(person, code="compleet", interval="year")
    day = D(2025, 7, 1)
    with on(day):
        view = selectors.subscription_overview(person)
        preview = plan_change_preview(view, plans["basis"], day)
        done = services.subscription_change_plan(person=person, plan_code="basis")
    assert (preview.kind, preview.effective_on) == ("downgrade", D(2026, 3, 10))
    assert (done.kind, done.effective_on) == ("downgrade", D(2026, 3, 10))
    assert preview.period_difference_cents == done.period_price_difference_cents == -21_000
    assert preview.rest_difference_cents == done.difference_cents == 0


def test_an_unknown_plan_choice_is_refused(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 25)):
        response = client.get(reverse("subscriptions:change_plan"), {"plan": "bestaat-niet"})
        posted = client.post(reverse("subscriptions:change_plan"), {"plan": "extra"})
    assert response.status_code == 400
    assert "Kies een van de abonnementsvormen hieronder." in text(response)
    assert posted.status_code == 400
    assert Subscription.objects.get(person=person).plan.code == "basis"


def test_a_refusal_on_confirming_shows_on_the_confirm_page(client_for, person, plans):
    plan(code="digitaal", name="Digitaal", monthly=500, yearly=5_000)
    subscribed(person, code="compleet")
    client = client_for(person)
    with on(D(2025, 3, 25)):
        services.subscription_downgrade(person=person, plan_code="basis")
        response = client.post(reverse("subscriptions:change_plan"), {"plan": "digitaal"})
    assert response.status_code == 409
    page = text(response)
    assert "Overstappen naar Digitaal" in page  # still the confirm page, with the refusal
    assert "Er staat al een wijziging gepland voor die periode." in page
    pending = ScheduledChange.objects.get(kind=ChangeKind.DOWNGRADE, undone_at__isnull=True)
    assert pending.to_plan.code == "basis"


def test_changing_plan_without_a_subscription_says_so(client_for, person, plans):
    with on(D(2025, 3, 25)):
        response = client_for(person).get(reverse("subscriptions:change_plan"))
    assert response.status_code == 200
    assert "Je hebt geen actief abonnement." in text(response)


# --- cancelling ------------------------------------------------------------------------------


def test_cancel_states_the_last_day_before_and_after_confirming(client_for, person, plans):
    subscribed(person)  # monthly from 10 March; the first term ends 9 April
    client = client_for(person)
    with on(D(2025, 3, 25)):
        page = text(client.get(reverse("subscriptions:cancel")))
        assert "Als je nu opzegt, is je laatste dag met Basis: woensdag 9 april 2025." in page
        assert Subscription.objects.get(person=person).last_day is None
        response = client.post(reverse("subscriptions:cancel"))
        assert response.status_code == 302
        mine = text(client.get(MINE))
        again = text(client.get(reverse("subscriptions:cancel")))
    assert Subscription.objects.get(person=person).last_day == D(2025, 4, 9)
    assert "Je abonnement is opgezegd. Je laatste dag is 9 april 2025." in mine
    assert "Opgezegd. Je laatste dag is woensdag 9 april 2025." in mine
    assert "Opgezegd: je laatste dag is 9 april 2025. Ongedaan maken" in mine
    assert "Abonnement opzeggen" not in mine.split("Wijzigen of opzeggen")[1]
    assert "Je abonnement is al opgezegd." in again and "Opzegging ongedaan maken" in again
    assert AuditEvent.objects.get(action="subscriptions.cancel").actor_id == person.pk


def test_a_second_cancel_is_refused_with_a_message(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    with on(D(2025, 3, 25)):
        client.post(reverse("subscriptions:cancel"))
        response = client.post(reverse("subscriptions:cancel"))
    assert response.status_code == 409
    assert "Je abonnement is al opgezegd." in text(response)


@pytest.mark.parametrize(
    ("interval", "day"),
    [("month", D(2025, 3, 25)), ("month", D(2025, 6, 2)), ("year", D(2025, 9, 30))],
)
def test_the_last_day_shown_is_the_one_cancelling_gives(person, plans, interval, day):
    subscription = subscribed(person, interval=interval)
    with on(day):
        shown = cancel_last_day(subscription, day)
        change = services.subscription_cancel(person=person)
    assert shown == change.effective_on - dt.timedelta(days=1)


def test_cancelling_without_a_subscription_says_so(client_for, person, plans):
    client = client_for(person)
    with on(D(2025, 3, 25)):
        page = text(client.get(reverse("subscriptions:cancel")))
        response = client.post(reverse("subscriptions:cancel"))
    assert "Je hebt geen actief abonnement." in page
    assert response.status_code == 404
    assert "Je hebt geen actief abonnement." in text(response)


# --- invoices --------------------------------------------------------------------------------


def invoice_for(person, amount=1_000, day=MARCH_10):
    with on(day):
        return invoicing.invoice_create(
            person=person,
            organisation_id=person.home_organisation_id,
            lines=[NewLine(LineKind.SUBSCRIPTION, "Basis, maart", amount, 900)],
        )


def test_invoices_list_only_the_persons_own_with_status_and_amount(client_for, person, plans):
    mine = invoice_for(person, 1_000)
    other = adult(home_organisation=OrganisationFactory(code="BIBB"))
    theirs = invoice_for(other, 777)
    with on(D(2025, 3, 12)):
        response = client_for(person).get(reverse("subscriptions:invoices"))
    page = text(response)
    assert mine.number in page and theirs.number not in page
    assert "€ 10,00" in page and "€ 7,77" not in page
    assert "Openstaand: nog € 10,00" in page
    assert "Nog te betalen: € 10,00" in page
    body = response.content.decode()
    assert f'href="{reverse("payments:pay_open")}"' in body
    assert f'href="{reverse("payments:pay_invoice", args=[mine.pk])}"' in body
    assert f'href="{reverse("subscriptions:invoice_pdf", args=[mine.pk])}"' in body
    assert str(theirs.pk) not in re.findall(r"/facturen/(\d+)", body)


def test_a_paid_invoice_has_no_pay_link(client_for, person, plans):
    paid = invoice_for(person, 0)  # nothing to pay: final and paid at once
    with on(D(2025, 3, 12)):
        response = client_for(person).get(reverse("subscriptions:invoices"))
    body = response.content.decode()
    assert paid.number in text(response) and "Betaald" in text(response)
    assert reverse("payments:pay_invoice", args=[paid.pk]) not in body
    assert reverse("payments:pay_open") not in body


def test_a_credit_note_shows_as_a_negative_amount(client_for, person, plans):
    invoice = invoice_for(person, 1_000)
    with on(D(2025, 3, 11)):
        note = invoicing.invoice_credit(invoice, amount_cents=250, reason="coulance", actor=None)
        page = text(client_for(person).get(reverse("subscriptions:invoices")))
    assert f"{note.number} (creditnota)" in page
    assert "\N{MINUS SIGN}€ 2,50" in page
    assert "Nog te betalen: € 7,50" in page


def test_the_pdf_is_served_for_the_own_invoice_only(client_for, person, plans):
    mine = invoice_for(person)
    other = adult(home_organisation=OrganisationFactory(code="BIBC"))
    theirs = invoice_for(other)
    client = client_for(person)
    response = client.get(reverse("subscriptions:invoice_pdf", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert mine.number in response["Content-Disposition"]
    assert client.get(reverse("subscriptions:invoice_pdf", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("subscriptions:invoice_pdf", args=[999_999])).status_code == 404


def test_a_draft_has_no_pdf(client_for, person, plans):
    with on(D(2025, 3, 10)):
        draft = invoicing.invoice_create(
            person=person,
            organisation_id=person.home_organisation_id,
            lines=[NewLine(LineKind.FEE, "Boete", 100, 0)],
            finalise=False,
        )
    response = client_for(person).get(reverse("subscriptions:invoice_pdf", args=[draft.pk]))
    assert response.status_code == 404


# --- payment method --------------------------------------------------------------------------


def test_giving_a_mandate_shows_only_the_last_four_of_the_iban(client_for, person, plans):
    client = client_for(person)
    with on(D(2025, 3, 10)):
        empty = text(client.get(reverse("subscriptions:payment_method")))
        response = client.post(
            reverse("subscriptions:payment_method"),
            {"account_holder": "A. Jansen", "iban": "nl44 rabo 0123 4567 89", "consent": "on"},
        )
        assert response.status_code == 302
        page = client.get(reverse("subscriptions:payment_method")).content.decode()
    assert "Automatische incasso geven" in empty
    mandate = Mandate.objects.get(person=person)
    assert mandate.iban == "NL44RABO0123456789"
    assert mandates.mandate_of(person) == mandate
    assert "RABO" not in page and "0123" not in page and "NL44" not in page
    assert masked_iban(mandate.iban) == "•••• •••• •••• ••67 89"
    assert "•••• •••• •••• ••67 89" in page
    assert "eindigend op 6789" in page
    event = AuditEvent.objects.get(action="subscriptions.mandate_create")
    assert event.actor_id == person.pk


def test_an_invalid_iban_is_refused_next_to_the_iban_field(client_for, person, plans):
    with on(D(2025, 3, 10)):
        response = client_for(person).post(
            reverse("subscriptions:payment_method"),
            {"account_holder": "A. Jansen", "iban": "NL00ABNA0417164300", "consent": "on"},
        )
    assert response.status_code == 400
    error = re.search(r'id="iban-error">(.*?)</div>', response.content.decode(), re.S)
    assert error and error.group(1).strip()
    assert not Mandate.objects.exists()


def test_a_mandate_needs_the_consent_box(client_for, person, plans):
    with on(D(2025, 3, 10)):
        response = client_for(person).post(
            reverse("subscriptions:payment_method"),
            {"account_holder": "A. Jansen", "iban": "NL91ABNA0417164300"},
        )
    assert response.status_code == 400
    assert "Vink aan dat je toestemming geeft voor de incasso." in text(response)
    assert not Mandate.objects.exists()


# --- no JavaScript ---------------------------------------------------------------------------


def test_every_form_on_the_overview_is_a_plain_form_with_a_csrf_token(client_for, person, plans):
    subscribed(person)
    with on(D(2025, 3, 20)):
        services.subscription_switch_off(person=person, from_date=D(2025, 4, 2))
        body = client_for(person).get(MINE).content.decode()
    forms = re.findall(r"<form\b[^>]*>.*?</form>", body, re.S)
    posts = [f for f in forms if 'method="post"' in f]
    assert len(posts) >= 4  # zet uit, ongedaan maken, overslaan, uitloggen (+ language)
    for form in posts:
        assert "csrfmiddlewaretoken" in form
        assert "hx-" not in form and "onclick" not in form


# --- queries ---------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_invoices_and_overview_pages_do_not_query_per_invoice(client_for, person, plans):
    subscribed(person)
    client = client_for(person)
    invoice_for(person, 1_000)
    with on(D(2025, 3, 12)):
        few = [queries_for(client, reverse(f"subscriptions:{n}")) for n in ("invoices", "mine")]
    for day in range(11, 16):
        invoice_for(person, 100 + day, day=D(2025, 3, day))
    with on(D(2025, 3, 16)):
        many = [queries_for(client, reverse(f"subscriptions:{n}")) for n in ("invoices", "mine")]
    assert many == few
