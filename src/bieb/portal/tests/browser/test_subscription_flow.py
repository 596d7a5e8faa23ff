"""Mijn abonnement in a real browser on a phone-sized screen, with axe-core (WCAG 2.1 A and AA)
on every page of the flow: sign up, switch off, switch on, change plan (the difference is shown
before confirming), cancel (the last day is shown before confirming). The same flow without
JavaScript, because every step is a plain form. The clock moves between steps the way the
tests of the services move it (``clock.frozen``; the live server reads the same clock). Then
the other resident pages (invoices, payment method) and the staff pages, also through axe."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import PASSWORD, staff_member
from bieb.core import clock
from bieb.network.tests.factories import OrganisationFactory
from bieb.portal.tests.browser.conftest import PHONE
from bieb.subscriptions import invoicing, services
from bieb.subscriptions.invoicing import NewLine
from bieb.subscriptions.models import (
    ChangeKind,
    LineKind,
    ScheduledChange,
    Subscription,
    SwitchOff,
)
from bieb.subscriptions.tests.factories import adult, plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def on(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def phone(new_context, **options):
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options).new_page()


def log_in(page, user) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/mijn")


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def resident(transactional_db):
    plan(code="basis", name="Basis", monthly=1_000, yearly=10_000, physical_loans=10)
    plan(code="compleet", name="Compleet", monthly=3_100, yearly=31_000, physical_loans=20)
    return adult(home_organisation=OrganisationFactory(code="BIBF"), first_name="Fenna")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_sign_up_switch_off_and_on_change_plan_and_cancel_on_a_phone(
    new_context, assert_accessible, resident, javascript
):
    page = phone(new_context, java_script_enabled=javascript)
    main = page.locator("main")

    def check(where: str) -> None:
        if javascript:  # axe-core runs in the page
            assert_accessible(page, where)
            assert not has_horizontal_scroll(page), where

    # sign up (Tuesday 10 March 2026)
    with on(dt.date(2026, 3, 10)):
        log_in(page, resident)
        page.goto(reverse("subscriptions:mine"))
        expect()(main).to_contain_text("Je hebt nog geen abonnement")
        check("mijn abonnement, no subscription")
        page.get_by_role("link", name="Abonnement afsluiten").click()
        expect()(page.locator("h1")).to_have_text("Abonnement afsluiten")
        expect()(main).to_contain_text("€ 10,00 per maand of € 100,00 per jaar")
        check("sign up")
        page.locator("#plan-basis").check()
        page.get_by_role("radio", name="per maand", exact=True).check()
        page.get_by_role("button", name="Afsluiten met betaalverplichting").click()
        expect()(main).to_contain_text("Welkom! Je abonnement Basis gaat vandaag in.")
        expect()(main).to_contain_text("Staat aan")
        expect()(main).to_contain_text("Op 10 maart 2026: € 10,00")
        check("mijn abonnement, on")

    # switch off (12 March)
    with on(dt.date(2026, 3, 12)):
        page.get_by_role("button", name="Zet uit").click()
        expect()(main).to_contain_text("Je abonnement staat uit.")
        expect()(page.get_by_role("button", name="Zet aan")).to_be_visible()
        expect()(main).to_contain_text("Staat uit")
        check("mijn abonnement, off")

    # switch on (20 March)
    with on(dt.date(2026, 3, 20)):
        page.get_by_role("button", name="Zet aan").click()
        expect()(main).to_contain_text("Je abonnement staat weer aan.")
        expect()(page.get_by_role("button", name="Zet uit")).to_be_visible()
    off = SwitchOff.objects.get()
    assert (off.off_from, off.on_from) == (dt.date(2026, 3, 12), dt.date(2026, 3, 20))

    # change plan (25 March): first the difference, then confirm
    with on(dt.date(2026, 3, 25)):
        page.get_by_role("link", name="Abonnement wijzigen").click()
        expect()(page.locator("h1")).to_have_text("Abonnement wijzigen")
        check("change plan, choose")
        page.locator("#plan-compleet").check()
        page.get_by_role("button", name="Bekijk wat het kost").click()
        expect()(page.locator("h1")).to_have_text("Overstappen naar Compleet")
        expect()(page.locator("tfoot th")).to_have_text("Per periode meer")
        expect()(page.locator("tfoot td")).to_have_text("€ 21,00")
        key = page.locator("#change-key")
        expect()(key).to_contain_text(
            "De rest van deze periode (tot en met 9 april 2026) kost € 10,83 meer."
        )
        check("change plan, confirm")
        assert Subscription.objects.get().plan.code == "basis"  # nothing changed yet
        page.get_by_role("button", name="Bevestigen: overstappen naar Compleet").click()
        expect()(main).to_contain_text(
            "Je hebt nu Compleet. De rest van deze periode kost € 10,83 meer."
        )
        assert Subscription.objects.get().plan.code == "compleet"

        # cancel: the last day before confirming, and after
        page.get_by_role("link", name="Abonnement opzeggen").click()
        expect()(page.locator("#cancel-key")).to_contain_text(
            "Als je nu opzegt, is je laatste dag met Compleet: donderdag 9 april 2026."
        )
        check("cancel, confirm")
        page.get_by_role("button", name="Ja, zeg mijn abonnement op").click()
        expect()(main).to_contain_text("Je abonnement is opgezegd. Je laatste dag is 9 april 2026.")
        expect()(main).to_contain_text("Opgezegd: je laatste dag is 9 april 2026.")
        expect()(page.get_by_role("button", name="Ongedaan maken")).to_be_visible()
        check("mijn abonnement, cancelled")

    subscription = Subscription.objects.get()
    assert subscription.last_day == dt.date(2026, 4, 9)
    assert (
        ScheduledChange.objects.filter(kind=ChangeKind.CANCEL, undone_at__isnull=True).count() == 1
    )


def test_a_refusal_shows_next_to_the_form_on_a_phone(new_context, assert_accessible, resident):
    page = phone(new_context)
    with on(dt.date(2026, 3, 10)):
        log_in(page, resident)
        page.goto(reverse("subscriptions:subscribe"))
        page.get_by_role("button", name="Afsluiten met betaalverplichting").click()
        expect()(page.locator("#plan-error")).to_contain_text("Kies een abonnementsvorm.")
        assert_accessible(page, "sign up with errors")
        page.locator("#plan-basis").check()
        page.get_by_role("radio", name="per maand", exact=True).check()
        page.get_by_role("button", name="Afsluiten met betaalverplichting").click()
        page.get_by_label("Uitzetten vanaf").fill("2026-03-01")
        page.get_by_role("button", name="Zet uit").click()
        expect()(page.locator("#from_date-error")).to_contain_text(
            "Deze datum ligt in het verleden"
        )
        assert_accessible(page, "switch off refused")
    assert not SwitchOff.objects.exists()


def test_invoices_payment_method_and_staff_pages_are_accessible_on_a_phone(
    new_context, assert_accessible, resident
):
    org = resident.home_organisation
    manager = staff_member(StaffRole.Role.MANAGER, org, first_name="Mira")
    admin = staff_member(StaffRole.Role.NETWORK_ADMIN, None, first_name="Lars")
    with on(dt.date(2026, 3, 10)):
        services.subscribe(person=resident, plan_code="basis", actor=resident)
        invoice = invoicing.invoice_create(
            person=resident,
            organisation_id=org.pk,
            lines=[NewLine(LineKind.SUBSCRIPTION, "Basis, maart", 1_000, 900)],
        )
        invoicing.invoice_credit(invoice, amount_cents=250, reason="coulance", actor=manager)

        page = phone(new_context)
        log_in(page, resident)
        page.goto(reverse("subscriptions:invoices"))
        expect()(page.locator("main")).to_contain_text("Nog te betalen: € 7,50")
        assert_accessible(page, "invoices")
        assert not has_horizontal_scroll(page)
        page.goto(reverse("subscriptions:payment_method"))
        page.get_by_label("Naam rekeninghouder").fill("Fenna Jansen")
        page.get_by_label("IBAN").fill("NL44 RABO 0123 4567 89")
        page.get_by_label("Ik geef de bibliotheek toestemming", exact=False).check()
        page.get_by_role("button", name="Machtiging geven").click()
        expect()(page.locator("main")).to_contain_text("•••• •••• •••• ••67 89")
        assert_accessible(page, "payment method with a mandate")

        staff = phone(new_context)
        log_in(staff, manager)
        staff.goto(reverse("subscriptions:staff_lookup"))
        assert_accessible(staff, "staff lookup")
        staff.get_by_label("Pasnummer of e-mailadres").fill(resident.card_number)
        staff.get_by_role("button", name="Zoeken").click()
        expect()(staff.locator("h1")).to_contain_text("Abonnement van Fenna")
        assert_accessible(staff, "staff resident")
        assert not has_horizontal_scroll(staff)
        staff.get_by_role("link", name=f"Crediteren {invoice.number}").click()
        expect()(staff.locator("main")).to_contain_text("Nog te crediteren, hoogstens")
        assert_accessible(staff, "staff credit")

        network = phone(new_context)
        log_in(network, admin)
        network.goto(reverse("subscriptions:staff_prices"))
        expect()(network.locator("main")).to_contain_text("€ 10,00 per maand, € 100,00 per jaar")
        assert_accessible(network, "staff prices")
