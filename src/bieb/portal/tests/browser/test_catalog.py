"""The catalogue in a real browser: search from the home page on a phone, open a result, see
its holdings; the same without JavaScript; htmx "load more" and instant results; axe-core on
every catalogue page."""

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.catalog import search, services
from bieb.catalog.models import Format, ItemStatus, LicenceModel
from bieb.catalog.search.engine import backend
from bieb.catalog.tests.factories import DigitalLicenceFactory, EditionFactory, ItemFactory

from .conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_PHONE = {"width": 375, "height": 740}
DASH = "\u2013"  # en dash, as the pages use between numbers


def copy(edition, location, status=ItemStatus.AVAILABLE, due=None):
    return ItemFactory(
        edition=edition,
        organisation=location.organisation,
        home_location=location,
        location=location,
        status=status,
        due_date=due,
        shelf_mark="R MULT",
    )


@pytest.fixture
def catalogue(transactional_db):
    """Max Havelaar in three formats with copies and licences, and 25 travel books to page
    through. The index tables are not Django's, so a flush leaves them: empty them first."""
    backend().clear()
    utrecht = OrganisationFactory(name="Bibliotheek Utrecht")
    neude = LocationFactory(organisation=utrecht, name="Bibliotheek Neude")
    overvecht = LocationFactory(organisation=utrecht, name="Bibliotheek Overvecht")
    book = EditionFactory(
        title="Max Havelaar",
        subtitle="of de koffiveilingen der Nederlandsche Handelmaatschappy",
        authors=["Multatuli"],
        subject_labels=["Koloniale geschiedenis", "Nederlands-Indië"],
        year=1860,
        pages=352,
        description="De makelaar in koffie Batavus Droogstoppel krijgt het pakket van Sjaalman.",
    )
    ebook = EditionFactory(
        work=book.work, title="Max Havelaar", format=Format.EBOOK, authors=["Multatuli"]
    )
    audio = EditionFactory(
        work=book.work, title="Max Havelaar", format=Format.AUDIOBOOK, authors=["Multatuli"]
    )
    DigitalLicenceFactory(edition=ebook, model=LicenceModel.ALWAYS)
    DigitalLicenceFactory(
        edition=audio, model=LicenceModel.ONE_COPY_ONE_USER, active_loans=1, holds_waiting=2
    )
    copy(book, neude)
    copy(book, overvecht, ItemStatus.ON_LOAN, due=dt.date.today() + dt.timedelta(days=10))
    travel = [
        EditionFactory(
            title=f"Reisverhaal {n:02d}", authors=["Reiziger, Rita"], subject_labels=["Reizen"]
        )
        for n in range(25)
    ]
    for edition in travel:
        copy(edition, neude)
    editions = [book, ebook, audio, *travel]
    services.edition_refresh_availability([e.pk for e in editions])
    search.index_editions([e.pk for e in editions])
    yield {"book": book, "ebook": ebook, "audio": audio}
    backend().clear()


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_search_from_the_home_page_on_a_phone_and_see_the_holdings(new_context, catalogue):
    page = new_context(viewport=SMALL_PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/")

    page.get_by_label("Zoek in de catalogus").fill("havelaar")
    page.get_by_role("button", name="Zoek", exact=True).click()

    page.wait_for_url("**/zoeken?q=havelaar")
    assert page.locator("h1").inner_text() == "Zoeken in de catalogus"
    assert page.get_by_role("status").filter(has_text="resultaten").inner_text() == (
        "3 resultaten voor “havelaar”"
    )
    assert not has_horizontal_scroll(page)
    results = page.locator("#results-list > li")
    assert results.count() == 3
    book = results.filter(has_text="1860")
    assert "Nu beschikbaar in 1 vestiging" in book.inner_text()
    assert "Ook als e-book, luisterboek" in book.inner_text()

    book.get_by_role("link", name="Max Havelaar").click()

    page.wait_for_url(f"**{reverse('catalog:edition', args=[catalogue['book'].pk])}")
    assert page.locator("h1").inner_text() == "Max Havelaar"
    holdings = page.get_by_role("table")
    assert holdings.is_visible()
    rows = holdings.locator("tbody tr")
    assert rows.count() == 2
    assert "Bibliotheek Neude" in rows.nth(0).inner_text()
    assert "1 aanwezig" in rows.nth(0).inner_text()
    assert "1 uitgeleend" in rows.nth(1).inner_text()
    assert not has_horizontal_scroll(page)

    page.get_by_role("link", name="E-book: Max Havelaar").click()
    assert "Direct lezen" in page.locator("main").inner_text()


def test_search_filters_and_pages_without_javascript(new_context, catalogue):
    page = new_context(viewport=SMALL_PHONE, java_script_enabled=False).new_page()
    page.goto(reverse("catalog:search"))

    page.get_by_label("Zoek in de catalogus").fill("reisverhaal")
    page.get_by_role("button", name="Zoek", exact=True).click()

    assert "25 resultaten" in page.locator("#result-status").inner_text()
    assert page.locator("#results-list > li").count() == 20
    page.get_by_role("link", name="Meer laden").click()
    assert page.locator("#results-list > li").count() == 5
    assert "page=2" in page.url
    assert f"Resultaten 21{DASH}25 van 25" in page.locator("#pager").inner_text()

    page.goto(reverse("catalog:search") + "?q=havelaar")
    page.get_by_role("link", name="e-book (1)").click()
    assert page.locator("#results-list > li").count() == 1
    assert "Direct lezen" in page.locator("#results-list").inner_text()
    page.get_by_role("link", name="Filter uitzetten: e-book", exact=True).click()
    assert page.locator("#results-list > li").count() == 3


def test_load_more_appends_the_next_page_and_moves_focus(new_context, catalogue):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(reverse("catalog:search") + "?q=reisverhaal&sort=title")
    url = page.url

    page.get_by_role("link", name="Meer laden").click()

    page.wait_for_function("document.querySelectorAll('#results-list > li').length === 25")
    assert page.url == url  # appended, not a new page
    assert page.locator("#result-status").inner_text() == "25 van 25 resultaten getoond"
    assert page.evaluate("document.activeElement.textContent") == "Reisverhaal 20"
    assert page.get_by_role("link", name="Meer laden").count() == 0
    assert f"Resultaten 1{DASH}25 van 25" in page.locator("#pager").inner_text()


def test_results_follow_the_typing(new_context, catalogue):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(reverse("catalog:search") + "?q=reisverhaal")

    page.get_by_label("Zoek in de catalogus").fill("havelaar")

    page.wait_for_function(
        "document.getElementById('result-status').textContent.includes('havelaar')"
    )
    assert page.locator("#results-list > li").count() == 3
    assert "q=havelaar" in page.url


@pytest.mark.parametrize(
    "path",
    ["search", "edition", "digital", "author", "subjects", "subject", "new"],
)
@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_catalogue_pages_pass_axe(new_context, assert_accessible, catalogue, path, viewport):
    urls = {
        "search": reverse("catalog:search") + "?q=havelaar&format=book&format=ebook",
        "edition": reverse("catalog:edition", args=[catalogue["book"].pk]) + "?bij=onbekend",
        "digital": reverse("catalog:edition", args=[catalogue["audio"].pk]),
        "author": reverse("catalog:author", args=["multatuli"]),
        "subjects": reverse("catalog:subjects"),
        "subject": reverse("catalog:subject", args=["reizen"]),
        "new": reverse("catalog:new"),
    }
    page = new_context(viewport=viewport).new_page()
    page.goto(urls[path])

    assert page.locator("h1").count() == 1
    assert not has_horizontal_scroll(page)
    assert_accessible(page, f"{urls[path]} at {viewport['width']}px")
