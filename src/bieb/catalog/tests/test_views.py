"""The catalogue pages without JavaScript: search with filters and pages, the htmx partial, the
CSV and MARCXML exports, the edition page with its holdings and JSON-LD, makers, subjects and
new titles, and bad input that answers with a message, never a 500."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from lxml import etree

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory, UserFactory
from bieb.catalog import services
from bieb.catalog.models import ContributorRole, EditionContributor, Format, ItemStatus
from bieb.catalog.models import LicenceModel as M
from bieb.catalog.tests.factories import (
    DigitalLicenceFactory,
    EditionFactory,
    ItemFactory,
)
from bieb.core import clock
from bieb.network.tests.factories import PostcodeAreaFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 12, 3, 11, 0, tzinfo=clock.AMSTERDAM)
DASH = "\u2013"  # en dash, as the pages use between numbers
TIMES = "\u00d7"  # the multiplication sign on a filter that can be taken off


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def links_of(response) -> dict[str, str]:
    """Link text -> href (the last link with that text wins)."""
    html = response.content.decode()
    found = {}
    for href, inner in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', html, flags=re.S):
        label = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inner)).strip()
        found[label] = href.replace("&amp;", "&")
    return found


def copy(edition, location, status=ItemStatus.AVAILABLE, due=None):
    return ItemFactory(
        edition=edition,
        organisation=location.organisation,
        home_location=location,
        location=location,
        status=status,
        due_date=due,
    )


@pytest.fixture
def havelaar(search_index):
    """Max Havelaar as a book (copies at two locations), an e-book and an audiobook, plus a
    Dutch and an English Harry Potter."""
    utrecht = OrganisationFactory(name="Bibliotheek Utrecht", code="BUT")
    neude = LocationFactory(organisation=utrecht, name="Bibliotheek Neude", lat=52.09, lon=5.12)
    groningen = LocationFactory(
        organisation=OrganisationFactory(name="Biblionet Groningen"),
        name="Forum Groningen",
        lat=53.22,
        lon=6.57,
    )
    book = EditionFactory(
        title="Max Havelaar",
        subtitle="of de koffiveilingen der Nederlandsche Handelmaatschappy",
        authors=["Multatuli"],
        subject_labels=["Koloniale geschiedenis"],
        year=1860,
        publisher="Van Oorschot",
        pages=352,
        description="De makelaar in koffie Batavus Droogstoppel.",
    )
    ebook = EditionFactory(
        work=book.work, title="Max Havelaar", format=Format.EBOOK, year=2012, authors=["Multatuli"]
    )
    audio = EditionFactory(
        work=book.work,
        title="Max Havelaar",
        format=Format.AUDIOBOOK,
        year=2010,
        authors=["Multatuli"],
    )
    DigitalLicenceFactory(edition=ebook, model=M.ALWAYS)
    DigitalLicenceFactory(edition=audio, model=M.ONE_COPY_ONE_USER, active_loans=1, holds_waiting=2)
    copy(book, neude)
    copy(book, groningen, ItemStatus.ON_LOAN, due=dt.date(2025, 12, 12))
    potter_nl = EditionFactory(
        title="Harry Potter en de steen der wijzen", authors=["Rowling, J.K."], language="dut"
    )
    potter_en = EditionFactory(
        title="Harry Potter and the philosopher's stone", authors=["Rowling, J.K."], language="eng"
    )
    editions = [book, ebook, audio, potter_nl, potter_en]
    services.edition_refresh_availability([e.pk for e in editions])
    search_index(*editions)
    return {
        "book": book,
        "ebook": ebook,
        "audio": audio,
        "potter_nl": potter_nl,
        "potter_en": potter_en,
        "utrecht": utrecht,
        "neude": neude,
        "groningen": groningen,
    }


# --- entry points ---------------------------------------------------------------------------


def test_home_and_other_pages_offer_the_catalogue_search(client, db):
    home = client.get(reverse("portal:home")).content.decode()
    about = client.get(reverse("portal:about")).content.decode()

    for html, field in ((home, "catalog-home-q"), (about, "header-q")):
        form = re.search(rf'<form [^>]*action="/zoeken"[^>]*>.*?id="{field}"', html, re.S)
        assert form, field
        assert f'for="{field}">Zoek in de catalogus</label>' in html
    assert 'href="/zoeken"' in home.split('<nav class="bieb-nav"')[1]


def test_search_page_without_a_question_shows_the_form_and_ways_to_browse(client, db):
    response = client.get(reverse("catalog:search"))

    text = text_of(response)
    assert response.status_code == 200
    assert "Zoek in de catalogus" in text
    assert "Nieuw in de collectie" in text
    assert "resultaten" not in text


# --- search without JavaScript --------------------------------------------------------------


def test_search_shows_results_with_availability_formats_and_facets(client, havelaar):
    response = client.get(reverse("catalog:search"), {"q": "havelaar"})

    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert re.search(r'id="result-status"[^>]*role="status">3 resultaten voor “havelaar”', html)
    assert "<title>Zoeken: havelaar · de Bibliotheek</title>" in html
    for line in (
        "Multatuli · 1860 · boek",
        "Nu beschikbaar in 1 vestiging",
        "Direct lezen",
        "Wachtlijst: 2 wachtenden",
        "Ook als e-book , luisterboek",
    ):
        assert line in text, line
    book_url = reverse("catalog:edition", args=[havelaar["book"].pk])
    assert f'href="{book_url}"' in html
    # facets with counts; each is a link that adds the filter
    links = links_of(response)
    assert links["e-book (1)"] == "/zoeken?q=havelaar&format=ebook"
    assert links["Nu beschikbaar (2)"] == "/zoeken?q=havelaar&available=1"
    assert links["Koloniale geschiedenis (1)"].endswith("&subject=koloniale-geschiedenis")
    assert links["Exporteer deze resultaten als CSV"] == "/zoeken/export.csv?q=havelaar"


def test_an_estimated_subject_count_says_so(client, search_index, monkeypatch):
    from bieb.catalog.search import engine

    monkeypatch.setattr(engine, "SAMPLE_MODULUS", 4)  # before indexing: the index keeps it
    search_index(
        *[EditionFactory(title=f"Atlas {n}", subject_labels=["Kaarten"]) for n in range(4)]
    )
    monkeypatch.setattr(engine, "SUBJECT_EXACT_MAX", 1)
    monkeypatch.setattr(engine, "SUBJECT_SAMPLE", 1)  # every 4th edition id: one of the four
    response = client.get(reverse("catalog:search"), {"q": "atlas"})

    html = response.content.decode()
    assert '<abbr title="ongeveer: geschat uit een steekproef van de resultaten">ca.</abbr>' in html
    text = text_of(response)
    assert re.search(r"Kaarten \( ?ca\. 4\)", text)
    assert "boek (4)" in text  # other facets stay exact, without "ca."


def test_an_estimated_result_count_says_ongeveer(client, search_index, monkeypatch):
    from bieb.catalog.search import engine

    monkeypatch.setattr(engine, "SAMPLE_MODULUS", 2)  # before indexing: the index keeps it
    editions = [EditionFactory(title=f"Globe {n}") for n in range(12)]
    search_index(*editions)
    exact = text_of(client.get(reverse("catalog:search"), {"q": "globe"}))
    assert "12 resultaten" in exact and "ongeveer" not in exact

    monkeypatch.setattr(engine, "EXACT_MAX", 3)  # more text matches than that: sampled
    response = client.get(reverse("catalog:search"), {"q": "globe"})
    text = text_of(response)
    sampled = sum(1 for e in editions if e.pk % 2 == 0)
    assert f"ongeveer {sampled * 2} resultaten" in text
    assert f"van ongeveer {sampled * 2}" in text  # the pager says it too
    assert len(response.context["summaries"]) == 12  # the page itself is exact: every match


def test_filters_combine_and_can_be_taken_off_again(client, havelaar):
    response = client.get(
        reverse("catalog:search"), {"q": "havelaar", "format": ["ebook", "audiobook"]}
    )

    text = text_of(response)
    assert "2 resultaten" in text
    assert "Multatuli · 1860 · boek" not in text
    links = links_of(response)
    # the chosen values stay in the facet, marked, and a click takes them off
    assert links["Filter uitzetten: e-book (1)"] == "/zoeken?q=havelaar&format=audiobook"
    assert links[f"Filter uitzetten: luisterboek {TIMES}"] == "/zoeken?q=havelaar&format=ebook"
    # the search form keeps the filters when the words change
    html = response.content.decode()
    assert '<input type="hidden" name="format" value="ebook">' in html
    assert '<input type="hidden" name="format" value="audiobook">' in html

    available = text_of(client.get(reverse("catalog:search"), {"q": "havelaar", "available": "1"}))
    assert "2 resultaten" in available
    assert "Wachtlijst" not in available


def test_a_misspelling_offers_did_you_mean(client, havelaar):
    response = client.get(reverse("catalog:search"), {"q": "harry poter"})

    links = links_of(response)
    suggestion = next(href for label, href in links.items() if label == "harry potter")
    assert "Bedoelde je: harry potter ?" in text_of(response)
    assert parse_qs(urlparse(suggestion).query) == {"q": ["harry potter"]}


def test_my_library_link_for_a_signed_in_resident(client, havelaar):
    client.force_login(UserFactory(home_organisation=havelaar["utrecht"]))

    response = client.get(reverse("catalog:search"), {"q": "havelaar"})

    links = links_of(response)
    mine = links["Alleen bij mijn bibliotheek (Bibliotheek Utrecht)"]
    assert mine == "/zoeken?q=havelaar&organisation=BUT"
    assert "Aanwezig bij jouw bibliotheek (Bibliotheek Utrecht)" in text_of(response)
    at_mine = text_of(client.get(mine))
    assert "Bibliotheek Neude" in at_mine  # the location facet of the library
    assert "Max Havelaar" in at_mine


@pytest.fixture
def many(search_index):
    editions = [EditionFactory(title=f"Zeereis deel {n:02d}", year=2000 + n) for n in range(25)]
    search_index(*editions)
    return editions


def test_pages_link_to_each_other_and_past_the_end_says_so(client, many):
    first = client.get(reverse("catalog:search"), {"q": "zeereis", "sort": "title"})
    text = text_of(first)
    assert "25 resultaten" in text
    assert f"Resultaten 1{DASH}20 van 25" in text
    assert first.content.decode().count('<li class="catalog-result">') == 20
    more = links_of(first)["Meer laden"]
    assert parse_qs(urlparse(more).query) == {"q": ["zeereis"], "sort": ["title"], "page": ["2"]}

    second = client.get(more)
    assert f"Resultaten 21{DASH}25 van 25" in text_of(second)
    assert "Zeereis deel 24" in text_of(second)
    assert "Meer laden" not in text_of(second)
    assert "Vorige pagina" in text_of(second)

    past = client.get(reverse("catalog:search"), {"q": "zeereis", "page": "9"})
    assert past.status_code == 200
    assert "Op deze pagina staat niets meer." in text_of(past)


def test_load_more_with_htmx_answers_only_the_next_results(client, many):
    response = client.get(
        reverse("catalog:search"),
        {"q": "zeereis", "sort": "title", "page": "2"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results-list",
    )

    html = response.content.decode()
    assert "<html" not in html and "<h1" not in html
    assert html.count('<li class="catalog-result">') == 5
    assert html.index("Zeereis deel 20") < html.index("Zeereis deel 24")
    assert len(re.findall(r"\sautofocus", html)) == 1  # focus moves to the first new result
    # the pager and the live region are updated out of band
    assert re.search(r'<nav class="catalog-pager" id="pager"[^>]*hx-swap-oob="true"', html)
    assert f"Resultaten 1{DASH}25 van 25" in text_of(response)
    assert "Meer laden" not in html
    assert re.search(r'id="result-status" hx-swap-oob="innerHTML">\s*25 van 25', html)


def test_the_search_page_costs_the_same_queries_for_few_or_many_results(
    client, search_index, django_assert_max_num_queries
):
    location = LocationFactory()
    editions = []
    for n in range(20):
        edition = EditionFactory(title=f"Vogelgids {n}", authors=[f"Vogelaar {n}"])
        EditionFactory(work=edition.work, title=edition.title, format=Format.EBOOK)
        copy(edition, location)
        copy(edition, location, ItemStatus.ON_LOAN, due=dt.date(2025, 12, 20))
        editions.append(edition)
    search_index(*editions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("catalog:search"), {"q": "vogelgids 1"})
    with CaptureQueriesContext(connection) as twenty:
        client.get(reverse("catalog:search"), {"q": "vogelgids"})

    assert len(twenty.captured_queries) <= len(one.captured_queries) + 2


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": "x" * 10_000}, 400, "Je zoekvraag is te lang."),
        ({"q": "boek", "page": "0"}, 400, "Het paginanummer moet 1 of hoger zijn."),
        ({"q": "boek", "page": "-3"}, 400, "Het paginanummer moet 1 of hoger zijn."),
        ({"q": "boek", "page": "abc"}, 400, "Het paginanummer moet 1 of hoger zijn."),
        ({"q": "boek", "year_from": "nooit"}, 400, "Vul een jaartal in"),
        ({"q": "\"*NEAR -:'); DROP TABLE catalog_edition;--"}, 200, "resultaten"),
        ({"q": "<script>alert(1)</script>"}, 200, "0 resultaten"),
        ({"format": "kasteel"}, 200, "0 resultaten"),
        ({"q": "\x00"}, 200, ""),
    ],
)
def test_bad_input_gets_a_message_never_a_500(client, havelaar, params, status, message):
    response = client.get(reverse("catalog:search"), params)

    assert response.status_code == status
    assert message in text_of(response)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "Zoek in de catalogus" in text_of(response)  # the form is there to try again


def test_csv_export_of_the_result_list_is_safe_in_a_spreadsheet(client, search_index):
    dangerous = [
        EditionFactory(title='=HYPERLINK("http://evil.example","klik")', publisher="+31 Uitgevers"),
        EditionFactory(title="-2 tips voor tuinen", publisher="@uitgever", authors=["Tuin, Tom"]),
        EditionFactory(title="Tuinieren in de stad", subtitle="met 30 plannen", year=2019),
    ]
    search_index(*dangerous)

    response = client.get(reverse("catalog:export_csv"), {"sort": "title"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bieb-zoekresultaten.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "id",
        "title",
        "subtitle",
        "contributors",
        "year",
        "format",
        "language",
        "isbn",
        "publisher",
        "url",
    ]
    by_id = {int(row["id"]): row for row in rows}
    hyperlink, tips, garden = (by_id[e.pk] for e in dangerous)
    assert hyperlink["title"] == '\'=HYPERLINK("http://evil.example","klik")'
    assert hyperlink["publisher"] == "'+31 Uitgevers"
    assert tips["title"] == "'-2 tips voor tuinen"
    assert tips["publisher"] == "'@uitgever"
    assert tips["contributors"] == "Tom Tuin"
    assert garden == {
        "id": str(dangerous[2].pk),
        "title": "Tuinieren in de stad",
        "subtitle": "met 30 plannen",
        "contributors": "",
        "year": "2019",
        "format": "book",
        "language": "dut",
        "isbn": dangerous[2].isbn,
        "publisher": "Querido",
        "url": f"http://testserver/titels/{dangerous[2].pk}",
    }


def test_csv_export_holds_every_page_up_to_the_cap(client, many):
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("catalog:export_csv"), {"q": "zeereis"}).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert len(rows) == 1 + 25

    bad = client.get(reverse("catalog:export_csv"), {"q": "x" * 600})
    assert bad.status_code == 400
    assert "te lang" in bad.content.decode()


def test_suggestions_fill_the_datalist(client, havelaar):
    response = client.get(reverse("catalog:suggest"), {"q": "max h"})

    assert '<option value="Max Havelaar"></option>' in response.content.decode()
    assert client.get(reverse("catalog:suggest"), {"q": ""}).content.strip() == b""


# --- an edition -----------------------------------------------------------------------------


def json_ld(response) -> dict:
    found = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


def test_edition_page_shows_holdings_other_formats_and_details(client, havelaar):
    book = havelaar["book"]

    response = client.get(reverse("catalog:edition", args=[book.pk]))

    assert response.status_code == 200
    text = text_of(response)
    assert "<title>Max Havelaar · de Bibliotheek</title>" in response.content.decode()
    assert re.search(r"<h1[^>]*>Max Havelaar</h1>", response.content.decode())
    for line in (
        "of de koffiveilingen der Nederlandsche Handelmaatschappy",
        "Nu beschikbaar in 1 vestiging",
        f"Bibliotheek Neude Bibliotheek Utrecht R JANS 1 aanwezig {DASH}",
        "Forum Groningen Biblionet Groningen R JANS 1 uitgeleend 12 december 2025",
        "E-book: Max Havelaar (2012)",
        "Luisterboek: Max Havelaar (2010)",
        "De makelaar in koffie Batavus Droogstoppel.",
        "Uitgever Van Oorschot",
        "Omvang 352 pagina's",
        "Taal Nederlands",
    ):
        assert line in text, line
    links = links_of(response)
    assert links["Multatuli"] == reverse("catalog:author", args=["multatuli"])
    assert links["Koloniale geschiedenis"] == reverse(
        "catalog:subject", args=["koloniale-geschiedenis"]
    )
    assert links["Download MARCXML"] == reverse("catalog:edition_marcxml", args=[book.pk])


def test_edition_page_orders_holdings_by_a_postcode(client, havelaar):
    PostcodeAreaFactory(pc4="9711", place="Groningen", lat=53.219, lon=6.566)
    url = reverse("catalog:edition", args=[havelaar["book"].pk])

    near = text_of(client.get(url, {"bij": "9711"}))
    unknown = client.get(url, {"bij": "Atlantis"})

    assert near.index("Forum Groningen") < near.index("Bibliotheek Neude")
    assert "Biblionet Groningen · 0,3 km" in near
    assert unknown.status_code == 200
    assert "Deze postcode of plaats kennen we niet." in text_of(unknown)


def test_digital_edition_page_shows_the_licence_state(client, havelaar):
    text = text_of(client.get(reverse("catalog:edition", args=[havelaar["audio"].pk])))

    assert "Wachtlijst: 2 wachtenden" in text
    assert "Verwachte wachttijd: ongeveer 63 dagen" in text  # third in line, 21 days each
    assert "Landelijke collectie: één exemplaar, één lener · 1 van 1 uitgeleend" in text


def test_json_ld_describes_the_book_and_its_other_formats(client, havelaar):
    book = havelaar["book"]

    data = json_ld(client.get(reverse("catalog:edition", args=[book.pk])))

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Book"
    assert data["name"] == book.full_title
    assert data["bookFormat"] == "https://schema.org/Hardcover"
    assert data["isbn"] == book.isbn
    assert data["inLanguage"] == "nl"
    assert data["datePublished"] == "1860"
    assert data["url"] == f"http://testserver/titels/{book.pk}"
    assert data["author"] == [
        {"@type": "Person", "name": "Multatuli", "url": "http://testserver/makers/multatuli"}
    ]
    assert data["publisher"] == {"@type": "Organization", "name": "Van Oorschot"}
    assert data["numberOfPages"] == 352
    assert data["about"] == [{"@type": "Thing", "name": "Koloniale geschiedenis"}]
    formats = {example["bookFormat"]: example for example in data["workExample"]}
    assert set(formats) == {"https://schema.org/EBook", "https://schema.org/AudiobookFormat"}
    ebook = formats["https://schema.org/EBook"]
    assert ebook["url"] == f"http://testserver/titels/{havelaar['ebook'].pk}"
    assert ebook["@type"] == "Book"
    assert ebook["datePublished"] == "2012"


def test_json_ld_of_a_film_is_a_movie_with_its_director(client, db):
    film = EditionFactory(title="De aanslag", format=Format.FILM, language="dut", isbn="")
    EditionContributor.objects.create(
        edition=film,
        contributor=EditionFactory(authors=["Rademakers, Fons"]).contributors.get(),
        role=ContributorRole.DIRECTOR,
    )
    english = EditionFactory(title="The assault", format=Format.BOOK, language="eng")

    data = json_ld(client.get(reverse("catalog:edition", args=[film.pk])))
    english_data = json_ld(client.get(reverse("catalog:edition", args=[english.pk])))

    assert data["@type"] == "Movie"
    assert "bookFormat" not in data and "isbn" not in data
    assert data["director"][0]["name"] == "Fons Rademakers"
    assert english_data["inLanguage"] == "en"


def test_json_ld_cannot_break_out_of_its_script_element(client, db):
    title = '</script><script>alert("x")</script><!--'
    edition = EditionFactory(title=title, description="a & b > c")

    response = client.get(reverse("catalog:edition", args=[edition.pk]))

    html = response.content.decode()
    assert "<script>alert" not in html
    assert html.count("</script>") == html.count("<script")  # every element closes itself
    data = json_ld(response)
    assert data["name"] == title
    assert data["description"] == "a & b > c"


def test_marcxml_download(client, havelaar):
    book = havelaar["book"]

    response = client.get(reverse("catalog:edition_marcxml", args=[book.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/marcxml+xml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="bieb-{book.pk}.marcxml.xml"'
    record = etree.fromstring(response.content)
    ns = {"marc": "http://www.loc.gov/MARC21/slim"}
    assert record.tag == "{http://www.loc.gov/MARC21/slim}record"
    title = record.xpath(
        "marc:datafield[@tag='245']/marc:subfield[@code='a']/text()", namespaces=ns
    )
    assert title[0].startswith("Max Havelaar")


@pytest.mark.parametrize(
    "path",
    [
        "/titels/999999",
        "/titels/99999999999999999999999",
        "/titels/999999/marcxml",
        "/makers/niemand",
        "/onderwerpen/niets",
    ],
)
def test_unknown_things_get_the_friendly_404(client, db, path):
    response = client.get(path)

    assert response.status_code == 404
    assert "Deze pagina bestaat niet (meer)" in text_of(response)


# --- makers, subjects, new ------------------------------------------------------------------


def test_author_page_lists_their_titles_with_availability(client, havelaar):
    response = client.get(reverse("catalog:author", args=["multatuli"]))

    text = text_of(response)
    assert re.search(r"<h1[^>]*>Multatuli</h1>", response.content.decode())
    assert "3 titels" in text
    assert "Direct lezen" in text and "Nu beschikbaar in 1 vestiging" in text
    assert "<title>Multatuli · de Bibliotheek</title>" in response.content.decode()

    assert (
        client.get(reverse("catalog:author", args=["multatuli"]), {"page": "x"}).status_code == 400
    )


def test_subject_pages(client, havelaar):
    index = client.get(reverse("catalog:subjects"))
    by_letter = client.get(reverse("catalog:subjects"), {"letter": "k"})
    nothing = client.get(reverse("catalog:subjects"), {"letter": "q"})
    detail = client.get(reverse("catalog:subject", args=["koloniale-geschiedenis"]))

    assert "Koloniale geschiedenis (1)" in text_of(index)
    assert "Onderwerpen met de K" in text_of(by_letter)
    assert "Koloniale geschiedenis (1)" in text_of(by_letter)
    assert "Hier staan (nog) geen onderwerpen." in text_of(nothing)
    assert "1 titel" in text_of(detail)
    assert links_of(detail)["Zoek en filter binnen dit onderwerp"] == (
        "/zoeken?subject=koloniale-geschiedenis"
    )
    bad = client.get(reverse("catalog:subjects"), {"letter": "é"})
    assert bad.status_code == 400
    assert "Kies een letter van A tot en met Z." in text_of(bad)


def test_new_in_the_collection_everywhere_or_at_my_library(client, havelaar):
    everywhere = text_of(client.get(reverse("catalog:new")))
    assert everywhere.index("Harry Potter and the philosopher") < everywhere.index("Max Havelaar")

    client.force_login(UserFactory(home_organisation=havelaar["utrecht"]))
    page = client.get(reverse("catalog:new"))
    mine = client.get(links_of(page)["Alleen nieuw bij mijn bibliotheek (Bibliotheek Utrecht)"])

    text = text_of(mine)
    assert "Nieuw bij Bibliotheek Utrecht" in text
    assert "1 aanwezig" not in text
    assert "Max Havelaar" in text and "Harry Potter" not in text
