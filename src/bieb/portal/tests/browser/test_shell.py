"""The page shell in a real browser: layout on phone and desktop, language switch, keyboard,
offline fallback, and axe-core on the portal's own pages."""

import pytest
from django.urls import reverse

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_home_fits_the_screen_and_offers_the_postcode_search(new_context, viewport):
    page = new_context(viewport=viewport).new_page()

    page.goto("/")

    assert page.locator("h1").inner_text() == "Welkom bij de Bibliotheek"
    search = page.get_by_label("Vind je bibliotheek: postcode of woonplaats")
    assert search.is_visible()
    assert page.get_by_role("button", name="Zoeken").is_visible()
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    assert nav.get_by_role("link", name="Vind je bibliotheek").is_visible()
    assert nav.get_by_role("link", name="Inloggen").is_visible()
    assert not has_horizontal_scroll(page)
    # the search box is comfortably wide on a phone
    box = search.bounding_box()
    assert box["width"] >= 0.6 * min(viewport["width"], 640)


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_main_content(page):
    page.goto("/")

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Naar de inhoud"
    assert skip.is_visible()  # shown when focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_language_switch_to_english_and_back_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(reverse("portal:privacy"))
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Privacyverklaring"

    page.get_by_role("button", name="English").click()

    assert page.url.endswith("/privacy")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Privacy statement"
    assert page.get_by_role("link", name="Log in").is_visible()

    page.get_by_role("button", name="Nederlands").click()

    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Privacyverklaring"


def test_unknown_page_shows_the_friendly_404(page):
    response = page.goto("/deze-pagina-bestaat-niet")

    assert response.status == 404
    assert page.locator("h1").inner_text() == "Deze pagina bestaat niet (meer)"
    assert page.get_by_role("link", name="Naar de startpagina").is_visible()


def test_service_worker_shows_the_offline_page_when_the_network_is_gone(new_context):
    context = new_context(service_workers="allow")
    page = context.new_page()
    page.goto("/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.goto(reverse("portal:about"))

    assert page.locator("h1").inner_text() == "Je bent offline"
    context.set_offline(False)


@pytest.mark.parametrize(
    "path",
    ["/", "/privacy", "/over", "/offline", "/deze-pagina-bestaat-niet"],
    ids=["home", "privacy", "about", "offline", "404"],
)
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_portal_pages_pass_axe(new_context, assert_accessible, path, viewport):
    page = new_context(viewport=viewport).new_page()
    page.goto(path)

    assert_accessible(page, f"{path} at {viewport['width']}x{viewport['height']}")


def test_english_home_passes_axe(page, assert_accessible):
    page.goto("/")
    page.get_by_role("button", name="English").click()

    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page, "/ in English")
