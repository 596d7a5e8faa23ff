"""Registering in a real browser on a phone (375x812), with axe-core (WCAG 2.1 A and AA) on the
register page, the registration page and /mijn/activiteiten: a visitor registers and confirms
with the button on the page the e-mail links to; a resident logs in from the register page,
registers a family and sees the QR code for the door. No horizontal scrolling on the phone."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from bieb.accounts.tests.factories import PASSWORD, UserFactory
from bieb.core import clock
from bieb.programming.models import Registration, RegistrationStatus
from bieb.programming.tests.factories import activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_375 = {"width": 375, "height": 812}


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def phone(new_context, **options):
    return new_context(viewport=PHONE_375, is_mobile=True, has_touch=True, **options).new_page()


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_a_visitor_registers_and_confirms_on_a_phone(new_context, assert_accessible):
    act = activity(title="Voorlezen met peuters", capacity=12, audience="toddlers")
    page = phone(new_context)
    main = page.locator("main")

    page.goto(reverse("programming:register", args=[act.slug]))
    expect()(page.locator("h1")).to_have_text("Aanmelden")
    expect()(main).to_contain_text("Voorlezen met peuters")
    assert_accessible(page, "register page, visitor")
    assert not has_horizontal_scroll(page)

    page.get_by_label("Je naam").fill("Sam Visser")
    page.get_by_label("E-mailadres").fill("sam@example.nl")
    page.get_by_role("button", name="Aanmelden").click()
    # back on the activity: "look in your mail"; the confirm button is behind the mailed link
    expect()(page.locator("h1")).to_have_text("Voorlezen met peuters")
    expect()(main).to_contain_text("we stuurden een e-mail naar sam@example.nl")
    expect()(page.get_by_role("button", name="Bevestig mijn aanmelding")).to_have_count(0)
    assert_accessible(page, "activity page after registering, visitor")

    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.UNCONFIRMED
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/aanmelding/" in line)
    assert link.strip().endswith(registration.token)
    page.goto(reverse("programming:registration", args=[registration.token]))
    expect()(main).to_contain_text("E-mailadres nog niet bevestigd")
    assert_accessible(page, "registration page, unconfirmed")

    page.get_by_role("button", name="Bevestig mijn aanmelding").click()
    expect()(main).to_contain_text("Je e-mailadres is bevestigd en je bent aangemeld.")
    expect()(page.get_by_role("img", name="QR-code van je aanmelding")).to_be_visible()
    expect()(main).to_contain_text("Lukt scannen niet? Noem dan deze code:")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert not has_horizontal_scroll(page)

    # cancel, through the "are you sure" page
    page.get_by_role("link", name="Afmelden").click()
    expect()(page.locator("h1")).to_have_text("Weet je het zeker?")
    assert_accessible(page, "cancel page")
    page.get_by_role("button", name="Ja, meld me af").click()
    expect()(main).to_contain_text("Je bent afgemeld voor Voorlezen met peuters.")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_resident_logs_in_registers_a_family_and_sees_the_qr(
    new_context,
    assert_accessible,
    javascript,
):
    act = activity(title="Familievoorstelling", capacity=30, max_group_size=5)
    person = UserFactory(email="ouder@example.nl", email_verified_at=clock.now())
    page = phone(new_context, java_script_enabled=javascript)
    main = page.locator("main")

    def check(where: str) -> None:
        if javascript:
            assert_accessible(page, where)
            assert not has_horizontal_scroll(page), where

    page.goto(reverse("programming:register", args=[act.slug]))
    page.get_by_role("link", name="Log in om je aan te melden").click()
    page.get_by_label("E-mailadres").fill(person.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"**{reverse('programming:register', args=[act.slug])}")
    expect()(main).to_contain_text("Elke persoon telt als een plaats")
    check("register page, resident")

    page.get_by_label("Met hoeveel mensen kom je?").fill("3")
    page.get_by_role("button", name="Aanmelden").click()
    expect()(main).to_contain_text("Je bent aangemeld.")
    expect()(main).to_contain_text("Je hebt 3 plaatsen.")
    qr = page.get_by_role("img", name="QR-code van je aanmelding voor Familievoorstelling")
    expect()(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 150  # big enough to scan from a phone
    check("registration page, confirmed")

    # the activity's page now leads to this registration instead of offering another
    page.goto(reverse("programming:detail", args=[act.slug]))
    expect()(main).to_contain_text("Je bent aangemeld.")
    check("activity page, registered")
    page.get_by_role("link", name="Je aanmelding en QR-code voor de deur").click()
    expect()(qr).to_be_visible()
    check("registration page, from the activity")

    page.get_by_role("link", name="Mijn activiteiten").first.click()
    expect()(page.locator("h1")).to_have_text("Mijn activiteiten")
    expect()(main).to_contain_text("Familievoorstelling")
    check("mijn activiteiten")
    page.get_by_role("button", name="Nieuwe agenda-link maken").click()
    expect()(main).to_contain_text("Je agenda-link is vernieuwd.")
    assert Registration.objects.get(person=person).seats == 3
