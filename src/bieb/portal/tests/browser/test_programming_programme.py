"""The programme in a real browser on a phone (375x812): filter it, open an activity, and
axe-core (WCAG 2.1 A/AA) finds nothing serious on either page; the same without JavaScript."""

from __future__ import annotations

import json

import pytest

from bieb.programming.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def programme(transactional_db):
    library = f.organisation(name="Bibliotheek Utrecht")
    neude = f.location(organisation=library, name="Bibliotheek Neude")
    toddlers = f.activity(
        title="Voorlezen voor peuters",
        location=neude,
        audience="toddlers",
        age_min=0,
        age_max=4,
        challenge="literate",
        programme="boekstart",
        summary="Prentenboeken, liedjes en spelletjes voor de allerkleinsten.",
        room=f.room(location=neude, name="Kinderhoek"),
        partners=[f.partner(organisation=library, name="Kinderopvang Het Nest")],
    )
    f.activity(
        title="Klik & Tik: veilig internetten",
        location=neude,
        kind="course",
        audience="seniors",
        challenge="information_society",
        programme="klik_en_tik",
        rrule="FREQ=WEEKLY;COUNT=4",
        price_kind="paid",
        price_cents=1500,
        capacity=8,
        seats_taken=8,
    )
    f.activity(title="Debat: de toekomst van de stad", location=neude, audience="adults")
    return {"toddlers": toddlers}


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_filter_the_programme_on_a_phone_and_open_an_activity(
    new_context, programme, assert_accessible
):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/activiteiten")

    assert page.locator("h1").inner_text() == "Activiteiten in de bibliotheek"
    assert page.locator(".programming-card").count() == 3
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "programme")

    page.get_by_text("Filter de activiteiten").click()
    page.get_by_label("Voor wie").select_option("toddlers")
    page.get_by_role("button", name="Toon activiteiten").click()

    page.wait_for_url("**/activiteiten?*audience=toddlers*")
    assert "1 activiteit gevonden" in page.get_by_role("status").last.inner_text()
    # the panel is closed again: the results are on the first screen, with what is filtered
    assert page.locator("details.programming-filters").get_attribute("open") is None
    assert "Gefilterd op: Voor wie: peuters en dreumesen (0-4)" in page.locator("main").inner_text()
    first_card = page.locator(".programming-card").first.bounding_box()
    assert first_card and first_card["y"] < 812 * 1.5
    cards = page.locator(".programming-card")
    assert cards.count() == 1
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "filtered programme")

    cards.get_by_role("link", name="Voorlezen voor peuters").click()

    page.wait_for_url(f"**/activiteiten/{programme['toddlers'].slug}")
    assert page.locator("h1").inner_text() == "Voorlezen voor peuters"
    main = page.locator("main").inner_text()
    assert "Kinderhoek" in main
    assert "Kinderopvang Het Nest" in main
    assert "Nog 20 plaatsen vrij" in main
    data = json.loads(page.locator('script[type="application/ld+json"]').inner_text())
    assert data["@type"] == "Event"
    assert not has_horizontal_scroll(page)
    assert_accessible(page, "activity page")


def test_programme_filters_without_javascript(new_context, programme):
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    page.goto("/activiteiten?price=paid")

    cards = page.locator(".programming-card")
    assert cards.count() == 1
    assert "Vol, aanmelden kan voor de wachtlijst" in cards.inner_text()
    assert "Gefilterd op: Prijs: betaald" in page.locator("main").inner_text()
    page.locator("summary", has_text="Filter de activiteiten").click()  # native, no script
    page.get_by_label("Prijs").select_option("")
    page.get_by_label("Alleen met plaatsen vrij").check()
    page.get_by_role("button", name="Toon activiteiten").click()
    assert page.locator(".programming-card").count() == 2

    # from a card to the activity and on to the registration form, all by plain links
    page.get_by_role("link", name="Voorlezen voor peuters").click()
    page.get_by_role("link", name="Aanmelden").click()
    assert page.locator("h1").inner_text() == "Aanmelden"
    assert page.url.endswith("/aanmelden")
