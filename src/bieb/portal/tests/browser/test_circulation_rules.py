"""The circulation rules page in a real browser on a phone-sized screen, with axe-core (WCAG 2.1
A and AA): a manager adds and removes a loan policy with money typed in euros, corrects a wrong
amount, and sets the hold shelf days; a network administrator, without JavaScript, changes the
network defaults and switches to an organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import PASSWORD, staff_member
from bieb.circulation.models import LoanPolicy, OrganisationRules
from bieb.circulation.tests.factories import network, policy
from bieb.portal.tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Role = StaffRole.Role


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def phone(new_context, **options):
    options.setdefault("is_mobile", True)
    options.setdefault("has_touch", True)
    return new_context(viewport=PHONE, **options).new_page()


def log_in(page, user) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/mijn")


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def rules_world(transactional_db):
    net = network()
    policy(None, loan_days=21, overdue_fee_cents_per_day=20, overdue_fee_max_cents=500)
    policy(None, format="film", loan_days=7, overdue_fee_cents_per_day=50)
    return {
        "net": net,
        "manager": staff_member(Role.MANAGER, net.org, first_name="Mila", last_name="Directie"),
        "admin": staff_member(Role.NETWORK_ADMIN, first_name="Lars", last_name="Landelijk"),
    }


def test_manager_sets_policies_and_rules_on_a_phone_and_axe(
    new_context, assert_accessible, rules_world
):
    net = rules_world["net"]
    page = phone(new_context)
    log_in(page, rules_world["manager"])
    page.goto(reverse("accounts:staff_home"))
    page.get_by_role("link", name="Uitleenregels: termijnen, verlengen en te-laatgeld").click()
    page.wait_for_url("**/medewerkers/uitleenregels")

    main = page.locator("main")
    expect()(page.get_by_role("heading", level=1)).to_contain_text(net.org.name)
    assert "Nog geen eigen leenregels" in main.inner_text()
    assert "€ 0,50" in main.inner_text()  # the network's film fee, shown for reference
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "circulation rules, no own policies, phone")

    # an amount with three decimals comes back on the form, explained and marked invalid
    form = page.locator("form", has=page.get_by_role("button", name="Leenregel opslaan"))
    form.get_by_label("Vorm").select_option("film")
    form.get_by_label("Lenerscategorie").select_option("adult")
    form.get_by_label("Uitleentermijn in dagen").fill("14")
    form.get_by_label("Te-laatgeld per dag (euro)").fill("0,255")
    form.get_by_label("Te-laatgeld ten hoogste (euro)").fill("2,5")
    form.get_by_role("button", name="Leenregel opslaan").click()
    fee = page.get_by_label("Te-laatgeld per dag (euro)")
    expect()(fee).to_have_attribute("aria-invalid", "true")
    assert "hoogstens twee cijfers na de komma" in main.inner_text()
    assert not LoanPolicy.objects.filter(organisation=net.org).exists()
    assert_accessible(page, "circulation rules, policy form with an error, phone")

    fee.fill("0,25")
    page.get_by_role("button", name="Leenregel opslaan").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("Leenregel opgeslagen")
    saved = LoanPolicy.objects.get(organisation=net.org)
    assert (saved.format, saved.category, saved.loan_days) == ("film", "adult", 14)
    assert (saved.overdue_fee_cents_per_day, saved.overdue_fee_max_cents) == (25, 250)
    own_table = page.get_by_role("region", name="Eigen leenregels")
    expect()(own_table).to_contain_text("€ 0,25")
    expect()(own_table).to_contain_text("€ 2,50")
    # the network's film rule now decides nothing for this organisation's adults
    network_table = page.get_by_role("region", name="Landelijke standaard")
    expect()(network_table).to_contain_text("jeugd (tot 18) en medewerker: film (dvd/blu-ray)")
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "circulation rules with an own policy, phone")

    # the organisation's own rules
    page.get_by_role("checkbox", name="Zwevende collectie").check()
    page.get_by_label("Dagen op de afhaalplank").fill("3")
    page.get_by_label("Administratiekosten bij verlies (euro)").fill("7,50")
    page.get_by_role("button", name="Regels opslaan").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("zijn opgeslagen")
    rules = OrganisationRules.objects.get(organisation=net.org)
    assert (rules.floating, rules.hold_shelf_days, rules.lost_fee_cents) == (True, 3, 750)
    expect()(main).to_contain_text("€ 7,50")

    # delete the own rule again: a button per row, named after the row
    page.get_by_role("button", name="Verwijderen · film (dvd/blu-ray), volwassene").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("Leenregel verwijderd")
    assert not LoanPolicy.objects.filter(organisation=net.org).exists()
    assert_accessible(page, "circulation rules after deleting, phone")


def test_network_admin_changes_the_defaults_without_javascript(new_context, rules_world):
    net = rules_world["net"]
    page = phone(new_context, java_script_enabled=False)
    log_in(page, rules_world["admin"])
    page.goto(reverse("circulation:rules"))

    expect()(page.get_by_role("heading", level=1)).to_contain_text("Landelijke standaard")
    page.get_by_label("Lenerscategorie").select_option("youth")
    page.get_by_label("Uitleentermijn in dagen").fill("28")
    page.get_by_label("Te-laatgeld per dag (euro)").fill("0")
    page.get_by_label("Te-laatgeld ten hoogste (euro)").fill("0")
    page.get_by_role("button", name="Leenregel opslaan").click()
    assert "Leenregel opgeslagen" in page.locator(".bieb-messages").inner_text()
    youth = LoanPolicy.objects.get(organisation__isnull=True, category="youth")
    assert (youth.loan_days, youth.overdue_fee_cents_per_day) == (28, 0)

    page.get_by_label("Regels van").select_option(net.org.code)
    page.get_by_role("button", name="Tonen").click()
    assert net.org.name in page.get_by_role("heading", level=1).inner_text()
    assert "Landelijke standaard (ter informatie)" in page.locator("main").inner_text()
    assert not has_horizontal_scroll(page)
