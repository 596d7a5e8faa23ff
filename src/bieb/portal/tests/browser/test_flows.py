"""Resident and staff flows across the apps, in a real browser, with axe-core on every page
of the smoke set. Data is built the way the platform builds it: the demo seed (through the
network and accounts services) plus a location of our own with known opening hours."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from bieb.accounts.seeding import DEMO_PASSWORD, seed_people
from bieb.core import clock
from bieb.network import selectors as network_selectors
from bieb.network import services as network_services
from bieb.network.models import Organisation
from bieb.network.seeding import seed_network

from .conftest import DESKTOP, PHONE


def visible(locator) -> None:
    """Assert ``locator`` is visible, waiting (up to Playwright's timeout) for a page still
    loading after a click: ``is_visible()`` answers at once and fails on a busy machine."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Tuesday morning: our test branch is staffed from 09:00 to 17:00 on weekdays.
TUESDAY_11 = dt.datetime(2026, 12, 1, 11, 0, tzinfo=AMSTERDAM)
RESIDENT = "lid@demo.bieb.nl"
STAFF = "balie@demo.bieb.nl"


@pytest.fixture
def demo():
    """The demo seed and, at the point of postcode 3511, a branch of our own."""
    seed_network(profile="demo", seed=2026)
    seed_people(profile="demo", seed=2026)
    point = network_selectors.point_for_query("3511")
    organisation = Organisation.objects.order_by("pk").first()
    branch = network_services.location_create(
        organisation=organisation,
        kind="branch",
        name="Bibliotheek Proefplein",
        street="Proefplein",
        house_number="1",
        postcode="3511 AA",
        lat=point.lat,
        lon=point.lon,
        wheelchair_accessible=True,
    )
    network_services.location_set_hours(
        location=branch,
        periods=[
            {"weekday": day, "opens": "09:00", "closes": "17:00", "kind": "staffed"}
            for day in range(5)
        ],
    )
    return {"organisation": organisation, "branch": branch}


@pytest.fixture
def frozen_tuesday():
    with clock.frozen(TUESDAY_11.astimezone(dt.UTC)):
        yield


def field(page, label: str):
    """The input labelled ``label`` (forms may add "(verplicht)" to required fields)."""
    return page.get_by_label(re.compile("^" + re.escape(label) + r"( \(verplicht\))?$"))


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(reverse("accounts:login"))
    field(page, "E-mailadres").fill(email)
    field(page, "Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_new_resident_registers_confirms_e_mail_and_lands_in_mijn_bibliotheek(
    page, demo, mailoutbox
):
    # given the registration form, reached from the home page
    page.goto("/")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Registreren").click()

    # when a new resident fills it in
    field(page, "Voornaam").fill("Noor")
    field(page, "Achternaam").fill("de Vries")
    field(page, "E-mailadres").fill("noor@example.nl")
    field(page, "Wachtwoord").fill("lezen-is-leuk-2026")
    field(page, "Wachtwoord nog een keer").fill("lezen-is-leuk-2026")
    field(page, "Geboortedatum").fill("1990-05-17")
    page.get_by_role("button", name="Account aanmaken").click()

    # then a confirmation link is mailed; following it and logging in opens Mijn bibliotheek
    visible(page.locator("h1"))
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/email-bevestigen/\S+", mailoutbox[0].body).group(0)
    page.goto("/email-bevestigen/" + link.split("/email-bevestigen/")[1])
    assert "Noor" in page.locator("main").inner_text()
    page.get_by_role("link", name="Verder naar Mijn bibliotheek").click()
    field(page, "E-mailadres").fill("noor@example.nl")
    field(page, "Wachtwoord").fill("lezen-is-leuk-2026")
    page.get_by_role("button", name="Inloggen").click()

    assert page.url.endswith(reverse("accounts:mine"))
    assert page.locator("h1").inner_text() == "Mijn bibliotheek"
    assert "noor@example.nl" in page.locator("main").inner_text()
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    assert nav.get_by_role("link", name="Mijn bibliotheek").get_attribute("aria-current") == "page"
    visible(nav.get_by_role("button", name="Uitloggen"))
    assert nav.get_by_role("link", name="Medewerkers").count() == 0


def test_demo_resident_logs_in_and_out(page, demo):
    log_in(page, RESIDENT)

    assert page.url.endswith(reverse("accounts:mine"))
    assert page.locator("h1").inner_text() == "Mijn bibliotheek"

    nav = page.get_by_role("navigation", name="Hoofdmenu")
    nav.get_by_role("button", name="Uitloggen").click()

    visible(nav.get_by_role("link", name="Inloggen"))
    page.goto(reverse("accounts:mine"))
    assert reverse("accounts:login") in page.url  # private page asks to log in again


def test_staff_member_sees_the_staff_link_and_staff_home(page, demo):
    log_in(page, STAFF)

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Medewerkers").click()

    page.wait_for_url(f"**{reverse('accounts:staff_home')}")
    visible(page.locator("h1"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_find_the_nearest_library_by_postcode_with_its_open_state(
    new_context, demo, frozen_tuesday, viewport
):
    page = new_context(viewport=viewport).new_page()
    page.goto("/")

    field(page, "Vind je bibliotheek: postcode of woonplaats").fill("3511")
    page.get_by_role("button", name="Zoeken").click()

    assert reverse("network:find") in page.url
    results = page.locator("main li")
    first = results.first
    assert "Bibliotheek Proefplein" in first.inner_text()
    assert "nu open" in first.inner_text()
    assert "17:00" in first.inner_text()
    assert results.count() > 1
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    first.get_by_role("link", name="Bibliotheek Proefplein").click()
    assert page.url.endswith(reverse("network:location", args=[demo["branch"].slug]))
    assert page.locator("h1").inner_text() == "Bibliotheek Proefplein"


def smoke_pages(demo) -> list[tuple[str, str, str | None]]:
    """(name, path, who is logged in) for the accessibility smoke set."""
    return [
        ("home", reverse("portal:home"), None),
        ("find results", reverse("network:find") + "?q=3511", None),
        (
            "organisation",
            reverse("network:organisation", args=[demo["organisation"].slug]),
            None,
        ),
        ("location", reverse("network:location", args=[demo["branch"].slug]), None),
        ("log-in", reverse("accounts:login"), None),
        ("register", reverse("accounts:register"), None),
        ("privacy", reverse("portal:privacy"), None),
        ("404", "/deze-pagina-bestaat-niet", None),
        ("mijn", reverse("accounts:mine"), RESIDENT),
        ("mijn privacy", reverse("accounts:privacy"), RESIDENT),
        ("staff home", reverse("accounts:staff_home"), STAFF),
    ]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_smoke_set_has_no_serious_accessibility_violations(
    new_context, assert_accessible, demo, frozen_tuesday, viewport
):
    context = new_context(viewport=viewport)
    page = context.new_page()
    failures = []
    logged_in_as = None
    for name, path, who in smoke_pages(demo):
        if who != logged_in_as:
            context.clear_cookies()
            if who:
                log_in(page, who)
            logged_in_as = who
        response = page.goto(path)
        assert response.status < 500, f"{name} ({path}) answered {response.status}"
        try:
            assert_accessible(page, f"{name} ({path}) at {viewport['width']}px")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_smoke_set_in_english_has_no_serious_accessibility_violations(
    new_context, assert_accessible, demo, frozen_tuesday
):
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("button", name="English").click()
    failures = []
    for name, path, who in smoke_pages(demo):
        if who:
            continue
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "en"
        try:
            assert_accessible(page, f"{name} ({path}) in English")
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)
