"""The library of things and the moderation queue in a real browser on a phone (375x812), with
axe-core (WCAG 2.1 A/AA): a resident picks a free day in a thing's calendar and books it; the
desk lends it (the deposit confirmed) and takes it back; the catalogue, a thing's page and the
moderation queue pass axe and do not scroll sideways."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from bieb.accounts.tests.factories import PASSWORD, LocationFactory
from bieb.circulation.models import Loan
from bieb.community import moderation
from bieb.community.models import ThingBooking, ThingBookingStatus
from bieb.community.tests.factories import library, post, resident, staff
from bieb.community.tests.test_things import subscriber, thing
from bieb.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


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


def test_a_resident_books_a_thing_in_the_calendar_and_the_desk_lends_and_takes_it_back(
    new_context, assert_accessible
):
    location = LocationFactory(organisation=library(), name="Bibliotheek Neude")
    drill = thing(location, title="Klopboormachine", deposit_cents=2_500, buffer_days=1)
    thing(location, title="Naaimachine")
    person = subscriber(first_name="Sanne", last_name="Smit")
    desk = staff("desk", location.organisation)
    today = clock.today()

    page = phone(new_context)
    page.goto(reverse("community:things"))
    assert_accessible(page, "things catalogue, phone")
    assert not has_horizontal_scroll(page)

    log_in(page, person)
    page.goto(reverse("community:things"))
    page.get_by_role("link", name="Klopboormachine").click()
    page.wait_for_url(f"**{reverse('community:thing', args=[drill.pk])}")
    expect()(page.get_by_role("table")).to_contain_text("vrij")
    assert_accessible(page, "a thing with its calendar, phone")
    assert not has_horizontal_scroll(page)

    # today is free: pick it in the calendar, then keep it for three days
    page.get_by_role("link", name=re.compile(r"vandaag.*kies als eerste dag")).click()
    expect()(page.get_by_label("Eerste dag")).to_have_value(today.isoformat())
    page.get_by_label("Laatste dag").fill((today + dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Reserveer").click()
    # the form posts to "#reserveren" (a refusal comes back at the form); the browser keeps
    # that fragment over the redirect to "my things"
    page.wait_for_url(re.compile(re.escape(reverse("community:things_mine")) + r"(#.*)?$"))
    expect()(page.locator(".bieb-messages")).to_contain_text("Gereserveerd: Klopboormachine")
    booking = ThingBooking.objects.get()
    assert (booking.person_id, booking.first_day) == (person.pk, today)
    assert_accessible(page, "my things, phone")
    assert not has_horizontal_scroll(page)

    # the booked days now say so on the thing's page
    page.goto(reverse("community:thing", args=[drill.pk]))
    expect()(page.get_by_role("table")).to_contain_text("gereserveerd")

    desk_page = phone(new_context)
    log_in(desk_page, desk)
    desk_page.goto(reverse("community:staff_things"))
    assert_accessible(desk_page, "things desk, phone")
    desk_page.get_by_role("link", name="Uitlenen: Klopboormachine").click()
    desk_page.get_by_label("Borg ontvangen").check()
    desk_page.get_by_label("Staat bij het meegeven").fill("Compleet, met koffer")
    assert_accessible(desk_page, "a thing at the desk, phone")
    assert not has_horizontal_scroll(desk_page)
    desk_page.get_by_role("button", name=re.compile(r"^Uitlenen")).click()
    expect()(desk_page.locator(".bieb-messages")).to_contain_text("Uitgeleend aan Sanne Smit")
    booking.refresh_from_db()
    assert booking.status == ThingBookingStatus.LENT
    assert Loan.objects.get().patron_id == person.pk

    desk_page.get_by_label("Staat bij het terugbrengen").fill("Schoon en compleet")
    desk_page.get_by_role("button", name=re.compile(r"^Innemen")).click()
    expect()(desk_page.locator(".bieb-messages")).to_contain_text("Teruggebracht")
    booking.refresh_from_db()
    assert (booking.status, booking.condition_back) == (
        ThingBookingStatus.RETURNED,
        "Schoon en compleet",
    )
    assert Loan.objects.get().returned_at is not None
    expect()(desk_page.locator("main")).to_contain_text("Terug: Schoon en compleet")


def test_the_moderation_queue_is_accessible_on_a_phone(new_context, assert_accessible):
    organisation = library()
    bad = post(
        title="Gratis iPhones, echt waar",
        body="<script>alert('x')</script> Kijk op www.voorbeeld-spam.nl voor meer.",
    )
    moderation.report_create(reporter=resident(), reason="spam", post=bad, note="Reclame")
    moderator = staff("programmer", organisation)

    page = phone(new_context)
    log_in(page, moderator)
    page.goto(reverse("community:moderation"))

    expect()(page.locator("main")).to_contain_text("Gratis iPhones, echt waar")
    expect()(page.locator("main")).to_contain_text("<script>alert('x')</script>")
    assert page.locator("main a[href*='voorbeeld-spam']").count() == 0
    assert_accessible(page, "moderation queue, phone")
    assert not has_horizontal_scroll(page)

    # an action without an explanation is explained at its field, still accessible
    page.get_by_label("Waarschuwen (er verandert niets)").check()
    page.get_by_role("button", name="Uitvoeren").click()
    expect()(page.locator("main")).to_contain_text("Schrijf op waarom")
    assert_accessible(page, "moderation queue with an error, phone")
