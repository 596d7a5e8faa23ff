"""Safe exchange in a real browser on a phone (375x812), with axe-core (WCAG 2.1 A and AA) on the
conversation, handovers and desk pages: a resident responds to an offer, the author agrees and
arranges a handover at a library, the desk takes the thing in and hands it over for the code
from the receiver's e-mail (after a wrong code that shows the tries left). The code is never
on a page. No horizontal scrolling."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from bieb.accounts.tests.factories import PASSWORD, LocationFactory
from bieb.community.models import Exchange, ExchangeStatus, Handover, HandoverStatus
from bieb.community.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_375 = {"width": 375, "height": 812}


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def phone(new_context):
    return new_context(viewport=PHONE_375, is_mobile=True, has_touch=True).new_page()


def log_in(page, user) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/mijn")


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def checked(page, assert_accessible, where: str) -> None:
    assert_accessible(page, where)
    assert not has_horizontal_scroll(page), where


def test_respond_agree_hand_over_through_the_library_on_a_phone(new_context, assert_accessible):
    giver = f.resident(first_name="Gerrit", last_name="Bakker")
    receiver = f.resident(first_name="Anna", last_name="de Vries")
    offer = f.post(author=giver, title="Klopboormachine te leen")
    library = f.library()
    location = LocationFactory(
        organisation=library,
        municipality=f.municipality("GM0344"),
        name="Bibliotheek Neude",
        street="Neude",
        house_number="11",
        lat=52.0920,
        lon=5.1190,
    )
    desk_staff = f.staff("desk", library, first_name="Dirk", last_name="Balie")

    # the receiver responds from the post's page and lands in the conversation
    anna = phone(new_context)
    log_in(anna, receiver)
    anna.goto(reverse("community:post", args=[offer.pk]))
    anna.get_by_label("Je bericht").fill("Mag ik hem zaterdag lenen? Zie www.voorbeeld.nl")
    anna.get_by_role("button", name="Verstuur je reactie").click()
    expect()(anna.locator("h1")).to_have_text("Gesprek met Gerrit B.")
    main = anna.locator("main")
    expect()(main).to_contain_text("Mag ik hem zaterdag lenen?")
    expect()(main).to_contain_text("Links in berichten zijn niet aanklikbaar")
    expect()(anna.get_by_role("link", name=re.compile("voorbeeld"))).to_have_count(0)
    checked(anna, assert_accessible, "conversation, responder")

    # the author reads it, agrees, and arranges a handover at the library
    gerrit = phone(new_context)
    log_in(gerrit, giver)
    gerrit.goto(reverse("community:messages"))
    expect()(gerrit.locator("main")).to_contain_text("1 nieuw bericht")
    gerrit.get_by_role("link", name="Klopboormachine te leen").click()
    expect()(gerrit.locator("h1")).to_have_text("Gesprek met Anna V.")
    gerrit.get_by_role("button", name="Maak de afspraak met Anna V.").click()
    expect()(gerrit.locator(".bieb-messages")).to_contain_text("Afgesproken.")
    expect()(gerrit.locator("main")).to_contain_text("Afgesproken: jij brengt, Anna V. haalt.")
    checked(gerrit, assert_accessible, "conversation, author with the handover form")
    gerrit.get_by_label("Bibliotheeklocatie").select_option(str(location.pk))
    gerrit.get_by_role("button", name="Aanmelden bij de bibliotheek").click()
    expect()(gerrit.locator(".bieb-messages")).to_contain_text("Aangemeld bij Bibliotheek Neude")
    exchange = Exchange.objects.get()
    assert exchange.status == ExchangeStatus.AGREED
    assert Handover.objects.get().status == HandoverStatus.ANNOUNCED
    [code_mail] = [m for m in mail.outbox if "ophaalcode" in m.body.lower()]
    assert code_mail.to == [receiver.email]
    code = re.search(r"\b(\d{6})\b", code_mail.body).group(1)
    assert code not in gerrit.content()
    checked(gerrit, assert_accessible, "conversation, handover announced")

    # the receiver sees it among their handovers, without the code
    anna.goto(reverse("community:handovers_mine"))
    expect()(anna.locator("main")).to_contain_text(
        "Je ophaalcode staat in de e-mail die we je stuurden."
    )
    expect()(anna.locator("main")).to_contain_text("Bibliotheek Neude")
    assert code not in anna.content()
    checked(anna, assert_accessible, "my handovers, receiver")

    # the desk takes it in, then hands it over for the code
    desk = phone(new_context)
    log_in(desk, desk_staff)
    desk.goto(reverse("community:desk"))
    checked(desk, assert_accessible, "desk locations")
    desk.get_by_role("link", name="Bibliotheek Neude").click()
    expect()(desk.locator("h1")).to_contain_text("Halen en brengen")
    expect()(desk.locator("main")).to_contain_text("Klopboormachine te leen · Anna V.")
    expect()(desk.locator("main")).to_contain_text("Wordt gebracht door Gerrit B.")
    checked(desk, assert_accessible, "desk, announced")
    desk.get_by_role("button", name=re.compile("^Ontvangen van de brenger")).click()
    expect()(desk.locator(".bieb-messages")).to_contain_text("Ontvangen:")
    expect()(desk.locator("main")).to_contain_text("Ligt hier (1)")
    checked(desk, assert_accessible, "desk, waiting")

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    row_code = desk.get_by_label("Ophaalcode · Klopboormachine te leen · Anna V.")
    row_code.fill(wrong)
    desk.get_by_role("button", name="Geef mee · Klopboormachine te leen · Anna V.").click()
    expect()(desk.locator(".bieb-messages")).to_contain_text(
        "Deze code klopt niet. Nog 4 pogingen."
    )
    checked(desk, assert_accessible, "desk, wrong code")
    desk.get_by_label("Ophaalcode (zes cijfers)").fill(code)
    desk.get_by_role("button", name="Controleer en geef mee").click()
    expect()(desk.locator(".bieb-messages")).to_contain_text("De code klopt.")
    expect()(desk.locator("main")).to_contain_text("Er ligt hier niets voor bewoners.")
    assert Handover.objects.get().status == HandoverStatus.PICKED_UP
    checked(desk, assert_accessible, "desk, handed over")

    # the receiver marks it done and thanks
    anna.goto(reverse("community:conversation", args=[exchange.conversation_id]))
    expect()(anna.locator("main")).to_contain_text(
        "opgehaald bij Bibliotheek Neude. Is alles goed gegaan?"
    )
    anna.get_by_role("button", name="Het is gelukt").click()
    expect()(anna.locator(".bieb-messages")).to_contain_text("Fijn dat het gelukt is!")
    anna.get_by_label("Een korte zin (mag leeg blijven)").fill("Werkte perfect, dank je!")
    anna.get_by_role("button", name="Bedank Gerrit B.").click()
    expect()(anna.locator("main")).to_contain_text("Je hebt Gerrit B. bedankt.")
    checked(anna, assert_accessible, "conversation, done and thanked")
