"""The desk and "mijn leningen" in a real browser on a phone-sized screen, with axe-core (WCAG 2.1
A and AA): the checkout screen driven the way a barcode scanner drives it (it types the code
and presses Enter into the focused field), with htmx and without JavaScript; the return screen's
instructions; renewing a loan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import PASSWORD, staff_member
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.models import Loan
from bieb.circulation.tests.factories import adult, copy_at, network, policy
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


def wait_for_focus(page, element_id: str) -> None:
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id", arg=element_id
    )


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def desk_world(transactional_db):
    net = network()
    policy(net.org, loan_days=21)
    return {
        "net": net,
        "desk": staff_member(Role.DESK, net.org, first_name="Dirk", last_name="Balie"),
        "patron": adult(first_name="Anna", last_name="Jansen"),
        "book": copy_at(net.main, EditionFactory(title="De avonden")),
        "other": copy_at(net.main, EditionFactory(title="Het achterhuis")),
    }


def test_checkout_on_a_phone_with_a_scanner_and_axe(new_context, assert_accessible, desk_world):
    net, patron = desk_world["net"], desk_world["patron"]
    page = phone(new_context)
    log_in(page, desk_world["desk"])
    page.goto(reverse("circulation:desk_checkout", kwargs={"slug": net.main.slug}))

    # the card field has the focus: the scanner can start at once
    wait_for_focus(page, "desk-card")  # autofocus lands after the load event on a busy machine
    assert_accessible(page, "checkout, card field, phone")
    page.evaluate("window.stillTheSamePage = true")

    scan(page, patron.card_number)
    expect()(page.locator("#desk-announce")).to_contain_text("Scan nu de exemplaren")
    expect()(page.locator("#patron-heading")).to_contain_text("A.J.")
    wait_for_focus(page, "desk-barcode")  # htmx focuses the new field after the swap

    # two scans in quick succession: the field is emptied as soon as a scan is sent, and the
    # second waits for the first
    scan(page, desk_world["book"].barcode)
    scan(page, "ONBEKEND-1")
    expect()(page.locator("#desk-announce")).to_contain_text("Dit exemplaar kennen we niet")

    # htmx swapped the working part only; the field is empty and focused for the next scan
    assert page.evaluate("window.stillTheSamePage === true")
    wait_for_focus(page, "desk-barcode")  # autofocus lands after the load event on a busy machine
    assert page.locator("#desk-barcode").input_value() == ""
    rows = page.locator("#desk-work tbody tr")
    expect()(rows).to_have_count(3)  # the unknown copy, the loan, the card
    assert "De avonden" in rows.nth(1).inner_text()
    assert Loan.objects.get(item=desk_world["book"]).patron == patron
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "checkout with scans, phone")

    page.get_by_role("button", name="Klaar: volgende klant").click()
    expect()(page.locator("main")).to_contain_text("De volgende klant kan komen")
    wait_for_focus(page, "desk-card")


def test_checkout_works_without_javascript(new_context, desk_world):
    net, patron = desk_world["net"], desk_world["patron"]
    page = phone(new_context, java_script_enabled=False)
    log_in(page, desk_world["desk"])
    page.goto(reverse("circulation:desk_checkout", kwargs={"slug": net.main.slug}))

    page.get_by_label("Pasnummer").fill(patron.card_number)
    page.get_by_role("button", name="Pas scannen").click()
    assert "Scan nu de exemplaren" in page.locator("#desk-announce").inner_text()

    for item in (desk_world["book"], desk_world["other"]):
        page.get_by_label("Barcode van het exemplaar").fill(item.barcode)
        page.get_by_role("button", name="Uitlenen", exact=True).click()
        assert "Uitgeleend tot" in page.locator("#desk-announce").inner_text()

    assert set(Loan.objects.filter(patron=patron).values_list("item__barcode", flat=True)) == {
        desk_world["book"].barcode,
        desk_world["other"].barcode,
    }
    # after each POST-redirect-GET the field for the next scan has the focus again
    wait_for_focus(page, "desk-barcode")  # autofocus lands after the load event on a busy machine
    assert page.locator("#desk-work tbody tr").count() == 3


def test_return_screen_says_where_each_copy_goes_on_a_phone(
    new_context,
    assert_accessible,
    desk_world,
):
    net = desk_world["net"]
    book, other = desk_world["book"], desk_world["other"]
    services.checkout(patron=adult(), barcode=book.barcode, location=net.main)
    services.checkout(patron=adult(), barcode=other.barcode, location=net.main)
    waiting = adult(first_name="Bram", last_name="Vos")
    services.hold_place(patron=waiting, edition=other.edition, pickup_location=net.branch)
    page = phone(new_context)
    log_in(page, desk_world["desk"])
    page.goto(reverse("circulation:desk_checkin", kwargs={"slug": net.main.slug}))
    wait_for_focus(page, "desk-barcode")  # autofocus lands after the load event on a busy machine

    scan(page, book.barcode)
    result = page.locator("#desk-announce .circ-result__headline")
    expect()(result).to_have_text("Terug in de kast")
    assert_accessible(page, "return screen, back on the shelf, phone")

    scan(page, other.barcode)
    expect()(result).to_have_text(f"Transport naar {net.branch.name}")
    assert "Voor een reservering." in page.locator("#desk-announce").inner_text()
    wait_for_focus(page, "desk-barcode")  # autofocus lands after the load event on a busy machine
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "return screen, transport, phone")

    page.get_by_role("link", name="Lijsten", exact=True).click()
    page.wait_for_url("**/lijsten")
    assert f"Naar {net.branch.name}" in page.locator("main").inner_text()
    assert_accessible(page, "desk lists, phone")
    page.get_by_role("button", name=f"Verstuurd · {other.barcode}").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("is verstuurd naar")


@pytest.fixture
def borrower(transactional_db):
    net = network()
    policy(net.org, loan_days=21, max_renewals=1)
    person = adult(first_name="Noor", last_name="Smit", keep_loan_history=True)
    renewable = copy_at(net.main, EditionFactory(title="Renewable"))
    wanted = copy_at(net.main, EditionFactory(title="Iemand wacht"))
    returned = copy_at(net.main, EditionFactory(title="Al terug"))
    for item in (renewable, wanted, returned):
        services.checkout(patron=person, barcode=item.barcode, location=net.main)
    services.checkin(barcode=returned.barcode, location=net.main)
    services.hold_place(patron=adult(), edition=wanted.edition, pickup_location=net.main)
    return {"net": net, "person": person, "renewable": renewable}


def test_my_loans_on_a_phone_renews_and_passes_axe(
    new_context,
    assert_accessible,
    borrower,
):
    page = phone(new_context)
    log_in(page, borrower["person"])
    page.get_by_role("link", name="Mijn leningen").click()
    page.wait_for_url("**/mijn/leningen")

    main = page.locator("main")
    assert "Iemand anders heeft deze titel gereserveerd; verlengen kan niet." in main.inner_text()
    assert "Al terug" in page.locator("#history-heading ~ *").first.inner_text()
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "/mijn/leningen, phone")

    page.get_by_role("button", name="Verlengen · Renewable").click()

    expect()(page.locator(".bieb-messages")).to_contain_text("Verlengd: Renewable")
    loan = Loan.objects.get(item=borrower["renewable"], returned_at__isnull=True)
    assert loan.renewals == 1 and loan.due_date > dt.date.today() + dt.timedelta(days=21)
    # the one renewal the policy allows is used: now the page says why not again
    expect()(main).to_contain_text("Je hebt dit exemplaar al 1 keer verlengd")
    assert_accessible(page, "/mijn/leningen after renewing, phone")


def test_my_holds_and_the_hold_form_pass_axe_on_a_phone(
    new_context,
    assert_accessible,
    borrower,
):
    net = borrower["net"]
    edition = copy_at(net.branch, EditionFactory(title="Nog te reserveren")).edition
    page = phone(new_context)
    log_in(page, borrower["person"])

    page.goto(reverse("circulation:hold_place", args=[edition.pk]))
    assert_accessible(page, "hold form, phone")
    page.get_by_label("Afhalen in").select_option(str(net.branch.pk))
    page.get_by_role("button", name="Reserveren").click()

    page.wait_for_url("**/mijn/reserveringen")
    expect()(page.locator(".bieb-messages")).to_contain_text("Gereserveerd: Nog te reserveren")
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "/mijn/reserveringen, phone")
