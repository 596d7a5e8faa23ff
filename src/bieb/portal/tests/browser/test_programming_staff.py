"""The programmer's screens in a real browser on a phone (375x812), with axe-core (WCAG 2.1
A/AA): a programmer makes an activity (first with an end before its start, which the form
explains), saves the draft and publishes it; at the door a code typed into the field and Enter
checks someone in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import PASSWORD, staff_member
from bieb.core import clock
from bieb.programming import services
from bieb.programming.forms_staff import door_code_display
from bieb.programming.models import Activity, ActivityStatus, Attendance, RegistrationStatus
from bieb.programming.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PHONE = {"width": 375, "height": 812}
Role = StaffRole.Role


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


@pytest.fixture
def library(transactional_db):
    org = f.organisation(name="Bibliotheek Eemland")
    location = f.location(organisation=org, name="Bibliotheek Amersfoort Centrum")
    f.room(location=location, name="Theaterzaal", capacity=120)
    return {
        "org": org,
        "location": location,
        "programmer": staff_member(Role.PROGRAMMER, org, first_name="Pim", last_name="Programma"),
    }


def test_programmer_creates_and_publishes_an_activity_on_a_phone(
    new_context, assert_accessible, library
):
    page = phone(new_context)
    log_in(page, library["programmer"])
    page.goto(reverse("programming:staff_activities"))
    assert_accessible(page, "staff activities list, phone")
    page.get_by_role("link", name="Nieuwe activiteit").click()
    page.wait_for_url("**/medewerkers/activiteiten/nieuw")

    day = clock.today() + dt.timedelta(days=10)
    page.get_by_label("Soort").select_option("event")
    page.get_by_role("textbox", name="Titel (verplicht)").fill("Digitaal Café: hulp met DigiD")
    page.get_by_label("Korte omschrijving").fill("Vrijwilligers helpen je met DigiD en de app.")
    page.get_by_label("Doelgroep").select_option("seniors")
    page.get_by_label("Maatschappelijke opgave").select_option("information_society")
    page.get_by_label("Landelijk programma").select_option("ido")
    page.get_by_label("Locatie").select_option(str(library["location"].pk))
    page.get_by_label("Datum (eerste bijeenkomst)").fill(day.isoformat())
    page.get_by_label("Begintijd").fill("14:00")
    page.get_by_label("Eindtijd").fill("13:00")
    page.get_by_label("Aantal plaatsen").fill("12")
    page.get_by_role("button", name="Concept opslaan").click()

    end = page.get_by_label("Eindtijd")
    expect()(end).to_have_attribute("aria-invalid", "true")
    assert "De activiteit moet eindigen na het begin." in page.locator("main").inner_text()
    assert not Activity.objects.exists()
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "new activity form with an error, phone")

    end.fill("16:00")
    page.get_by_role("button", name="Concept opslaan").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("Concept 'Digitaal Café")
    activity = Activity.objects.get()
    assert activity.status == ActivityStatus.DRAFT and activity.capacity == 12
    assert activity.starts_at == f.at_local(day, 14)
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "activity page (draft), phone")

    page.get_by_role("button", name="Publiceren").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("is gepubliceerd")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    expect()(page.get_by_role("link", name="Deur: binnenkomst")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_door_check_in_by_typing_the_code_on_a_phone(
    new_context, assert_accessible, library, javascript
):
    starts_at = clock.now().astimezone(clock.AMSTERDAM).replace(second=0, microsecond=0)
    activity = f.activity(
        organisation=library["org"],
        location=library["location"],
        title="Klik & Tik",
        starts_at=starts_at + dt.timedelta(minutes=30),
    )
    guest = f.registration(
        activity=activity, person=f.UserFactory(first_name="Truus", last_name="de Vries")
    )
    f.registration(
        activity=activity, person=f.UserFactory(first_name="Kees", last_name="Klas"), seats=3
    )
    mo = f.registration(activity=activity, person=f.UserFactory(first_name="Mo", last_name="Ali"))
    desk = staff_member(Role.DESK, library["org"])
    page = phone(new_context, java_script_enabled=javascript)

    def check(where: str) -> None:
        if javascript:
            assert_accessible(page, where)
            assert not has_horizontal_scroll(page), where

    log_in(page, desk)
    page.goto(reverse("programming:staff_doors"))
    page.get_by_role("link", name="Klik & Tik").click()
    page.wait_for_url(f"**{reverse('programming:staff_door', args=[activity.pk])}")
    check("door, before check-in, phone")

    field = page.get_by_label("QR-code of aanmeldcode")
    expect()(field).to_be_focused()
    field.fill(guest.token)
    field.press("Enter")
    expect()(page.locator("#door-result")).to_contain_text("Welkom, Truus de Vries")
    assert Attendance.objects.get().registration == guest
    counts = page.get_by_role("list", name="Tellingen")
    expect()(counts).to_contain_text("5 aangemeld")
    expect()(counts).to_contain_text("1 binnen")
    expect()(counts).to_contain_text("4 nog verwacht")

    # the eight digits under someone's QR code, read out when the phone's screen won't scan
    field = page.get_by_label("QR-code of aanmeldcode")
    field.fill(door_code_display(mo.token))
    page.get_by_role("button", name="Inchecken").click()
    expect()(page.locator("#door-result")).to_contain_text("Welkom, Mo Ali")

    page.get_by_label("Aantal · Kees Klas").fill("2")
    page.get_by_role("button", name="Binnen · Kees Klas").click()
    expect()(page.locator("#door-result")).to_contain_text("2 personen binnen")
    assert Attendance.objects.count() == 3
    check("door after check-ins, phone")


def test_room_pages_pass_axe_on_a_phone(new_context, assert_accessible, library):
    theatre = library["location"].rooms.get()
    services.room_booking_request(
        room=theatre,
        person=f.UserFactory(first_name="Ria"),
        title="Buurtavond",
        starts_at=f.tomorrow_at(20, 30),
        ends_at=f.tomorrow_at(22),
    )
    f.booking(room=theatre, title="Jazz", starts_at=f.tomorrow_at(20))  # approved since
    f.partner(organisation=library["org"], name="Basisschool De Linde")
    page = phone(new_context)
    log_in(page, library["programmer"])
    page.goto(reverse("programming:staff_rooms"))
    expect()(page.locator("main")).to_contain_text("Zaal bezet:")
    assert_accessible(page, "staff rooms, phone")
    page.goto(reverse("programming:staff_partners"))
    assert_accessible(page, "staff partners, phone")
    page.goto(reverse("programming:rooms"))
    expect()(page.locator("main")).to_contain_text("bezet")
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "public rooms, phone")
    page.get_by_role("link", name="Aanvragen · Theaterzaal").click()
    page.get_by_role("button", name="Aanvraag versturen").click()
    expect()(page.locator("main")).to_contain_text("Controleer de velden")
    assert_accessible(page, "room request with errors, phone")
    page.goto(reverse("programming:my_bookings"))
    assert_accessible(page, "my room requests, phone")


def test_cancelling_someones_registration_asks_first_on_a_phone(
    new_context, assert_accessible, library
):
    activity = f.activity(
        organisation=library["org"], location=library["location"], title="Voorleesuur", capacity=1
    )
    seated = f.registration(
        activity=activity, person=f.UserFactory(first_name="Ans", last_name="Aarts")
    )
    page = phone(new_context)
    log_in(page, library["programmer"])
    page.goto(reverse("programming:staff_activity", args=[activity.pk]))
    page.get_by_role("button", name="Afmelden · Ans Aarts").click()
    expect()(page.locator("h1")).to_contain_text("Ans Aarts afmelden?")
    seated.refresh_from_db()
    assert seated.status == RegistrationStatus.CONFIRMED  # not yet
    assert_accessible(page, "staff: cancel a registration?, phone")
    page.get_by_role("button", name="Ja, afmelden").click()
    expect()(page.locator(".bieb-messages")).to_contain_text("is afgemeld")
    seated.refresh_from_db()
    assert seated.status == RegistrationStatus.CANCELLED
