"""The public catalogue API through the project's API (its JSON error handlers included):
shapes, filters, repeated parameters and stable error codes."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory, UserFactory
from bieb.catalog import services
from bieb.catalog.models import Format, ItemStatus
from bieb.catalog.models import LicenceModel as M
from bieb.catalog.tests.factories import DigitalLicenceFactory, EditionFactory, ItemFactory
from bieb.core import clock

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 12, 3, 11, 0, tzinfo=clock.AMSTERDAM)
BASE = "/api/v1/catalog"


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def catalogue(search_index):
    utrecht = OrganisationFactory(name="Bibliotheek Utrecht", code="BUT")
    neude = LocationFactory(
        organisation=utrecht, name="Neude", slug="neude", lat=52.0928, lon=5.1195
    )
    forum = LocationFactory(name="Forum", slug="forum", lat=53.2194, lon=6.5665)
    book = EditionFactory(
        title="De avonden",
        subtitle="een winterverhaal",
        authors=["Reve, Gerard"],
        subject_labels=["Naoorlogse tijd"],
        year=1947,
    )
    ebook = EditionFactory(
        work=book.work, title="De avonden", format=Format.EBOOK, authors=["Reve, Gerard"]
    )
    DigitalLicenceFactory(edition=ebook, model=M.CONCURRENT, concurrent_users=3, active_loans=1)
    DigitalLicenceFactory(edition=ebook, organisation=utrecht, model=M.ALWAYS)
    for location in (neude, forum):
        ItemFactory(
            edition=book,
            organisation=location.organisation,
            home_location=location,
            location=location,
            shelf_mark="R REVE",
        )
    ItemFactory(
        edition=book,
        organisation=utrecht,
        home_location=neude,
        location=neude,
        status=ItemStatus.ON_LOAN,
        due_date=dt.date(2025, 12, 12),
    )
    other = EditionFactory(title="Avondrood", language="eng", year=1990)
    services.edition_refresh_availability([book.pk, ebook.pk, other.pk])
    search_index(book, ebook, other)
    return {"book": book, "ebook": ebook, "other": other, "utrecht": utrecht}


def test_search_answers_results_with_availability_facets_and_pages(client, catalogue):
    body = client.get(f"{BASE}/search", {"q": "avonden"}).json()

    assert (body["count"], body["page"], body["pages"], body["per_page"]) == (2, 1, 1, 20)
    assert body["did_you_mean"] is None and body["isbn_match"] is False
    book = next(r for r in body["results"] if r["format"] == "book")
    assert book == {
        "id": catalogue["book"].pk,
        "title": "De avonden",
        "subtitle": "een winterverhaal",
        "contributors": [{"name": "Gerard Reve", "role": "author", "slug": "reve-gerard"}],
        "year": 1947,
        "format": "book",
        "format_label": "boek",
        "formats": [
            {
                "id": catalogue["book"].pk,
                "format": "book",
                "url": f"http://testserver/titels/{catalogue['book'].pk}",
            },
            {
                "id": catalogue["ebook"].pk,
                "format": "ebook",
                "url": f"http://testserver/titels/{catalogue['ebook'].pk}",
            },
        ],
        "isbn": catalogue["book"].isbn,
        "language": "dut",
        "url": f"http://testserver/titels/{catalogue['book'].pk}",
        "availability": {
            "available": 2,
            "total": 3,
            "on_loan": 1,
            "in_transit": 0,
            "on_hold_shelf": 0,
            "earliest_due": "2025-12-12",
            "locations_available": 2,
            "available_now": True,
            "digital_now": False,
            "digital": None,
            "label": "Nu beschikbaar in 2 vestigingen",
        },
    }
    ebook = next(r for r in body["results"] if r["format"] == "ebook")
    assert ebook["availability"]["digital_now"] is True
    assert ebook["availability"]["digital"] == {
        "state": "now",
        "action": "read",
        "holds_waiting": 0,
        "wait_days": None,
        "label": "Direct lezen",
    }
    formats = {v["value"]: v["count"] for v in body["facets"]["format"]}
    assert formats == {"book": 1, "ebook": 1}
    assert set(body["facets"]) >= {"format", "language", "audience", "subject", "year", "available"}
    assert body["facets"]["subject"] == [
        {
            "value": "naoorlogse-tijd",
            "label": "Naoorlogse tijd",
            "count": 1,
            "selected": False,
            "approximate": False,
        }
    ]


def test_an_estimated_count_is_flagged(client, search_index, monkeypatch):
    from bieb.catalog.search import engine

    monkeypatch.setattr(engine, "SAMPLE_MODULUS", 2)  # before indexing: the index keeps it
    editions = [EditionFactory(title=f"Kompas {n}") for n in range(10)]
    search_index(*editions)
    exact = client.get("/api/v1/catalog/search", {"q": "kompas"}).json()
    assert (exact["count"], exact["approximate"]) == (10, False)

    monkeypatch.setattr(engine, "EXACT_MAX", 3)
    body = client.get("/api/v1/catalog/search", {"q": "kompas"}).json()
    assert body["approximate"] is True
    assert body["count"] == 2 * sum(1 for e in editions if e.pk % 2 == 0)
    assert all(value["approximate"] for value in body["facets"]["format"])
    assert len(body["results"]) == 10  # every match is on the page: the page is exact


def test_repeated_parameters_combine(client, catalogue):
    both = client.get(f"{BASE}/search?q=avond&format=ebook&format=book").json()
    one = client.get(f"{BASE}/search?q=avond&format=ebook").json()
    english = client.get(f"{BASE}/search", {"language": "eng"}).json()

    assert {r["format"] for r in both["results"]} == {"book", "ebook"}
    assert [r["id"] for r in one["results"]] == [catalogue["ebook"].pk]
    assert [v["value"] for v in one["facets"]["format"] if v["selected"]] == ["ebook"]
    assert [r["id"] for r in english["results"]] == [catalogue["other"].pk]


def test_an_empty_query_lists_everything_and_pages_work(client, catalogue):
    first = client.get(f"{BASE}/search", {"per_page": "2", "sort": "title"}).json()
    second = client.get(f"{BASE}/search", {"per_page": "2", "sort": "title", "page": "2"}).json()
    past = client.get(f"{BASE}/search", {"page": "40"}).json()

    assert (first["count"], first["pages"]) == (3, 2)
    assert [r["title"] for r in first["results"]] == ["Avondrood", "De avonden"]
    assert len(second["results"]) == 1
    assert past["count"] == 3 and past["results"] == []


def test_at_a_library_and_available_filters(client, catalogue):
    held = client.get(f"{BASE}/search", {"organisation": "BUT"}).json()
    available = client.get(f"{BASE}/search", {"available": "1"}).json()

    assert {r["id"] for r in held["results"]} == {catalogue["book"].pk, catalogue["ebook"].pk}
    assert held["facets"]["organisation"][0]["value"] == "BUT"
    assert {v["value"] for v in held["facets"]["location"]} == {"neude"}
    assert {r["id"] for r in available["results"]} == {catalogue["book"].pk, catalogue["ebook"].pk}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "x" * 10_000}, "query_too_long"),
        ({"page": "0"}, "invalid_page"),
        ({"page": "-1"}, "invalid_page"),
        ({"page": "abc"}, "invalid_page"),
        ({"per_page": "500"}, "invalid_per_page"),
        ({"year_from": "MCMXC"}, "invalid_year"),
        ({"year_from": "2000", "year_to": "1990"}, "invalid_year"),
    ],
)
def test_bad_search_input_answers_400_with_a_stable_code(client, catalogue, params, code):
    response = client.get(f"{BASE}/search", params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    "q", ['"', "*", "NEAR(a b)", "-boek", "title:avond", "'; DROP TABLE catalog_edition; --"]
)
def test_search_syntax_characters_are_just_text(client, catalogue, q):
    response = client.get(f"{BASE}/search", {"q": q})

    assert response.status_code == 200
    assert isinstance(response.json()["count"], int)


def test_edition_with_holdings_nearest_first_and_licences(client, catalogue):
    book = catalogue["book"]

    body = client.get(f"{BASE}/editions/{book.pk}", {"lat": "53.2", "lon": "6.57"}).json()

    assert body["id"] == book.pk and body["title"] == "De avonden"
    assert body["subjects"] == [
        {
            "slug": "naoorlogse-tijd",
            "label": "Naoorlogse tijd",
            "kind": "topic",
            "url": "http://testserver/onderwerpen/naoorlogse-tijd",
        }
    ]
    assert [h["location_slug"] for h in body["holdings"]] == ["forum", "neude"]
    neude = body["holdings"][1]
    assert neude["available"] == 1 and neude["on_loan"] == 1
    assert neude["earliest_due"] == "2025-12-12"
    assert neude["shelf_marks"] == ["R JANS", "R REVE"]
    assert neude["organisation_code"] == "BUT"
    assert neude["url"] == "http://testserver/locaties/neude"
    assert body["holdings"][0]["distance_km"] < neude["distance_km"]
    assert body["licences"] == []
    assert body["marcxml_url"] == f"http://testserver/titels/{book.pk}/marcxml"


def test_edition_licences_follow_the_library(client, catalogue):
    ebook = catalogue["ebook"].pk

    national = client.get(f"{BASE}/editions/{ebook}", {"organisation": "ZZZ9"})
    everyone = client.get(f"{BASE}/editions/{ebook}").json()
    utrecht = client.get(f"{BASE}/editions/{ebook}", {"organisation": "but"}).json()
    client.force_login(UserFactory(home_organisation=catalogue["utrecht"]))
    resident = client.get(f"{BASE}/editions/{ebook}").json()

    assert national.status_code == 400
    assert national.json()["error"]["code"] == "unknown_organisation"
    assert [lic["organisation_code"] for lic in everyone["licences"]] == [None, "BUT"]
    assert utrecht["licences"] == resident["licences"] == everyone["licences"]
    assert everyone["licences"][0] == {
        "organisation_code": None,
        "model": "concurrent",
        "concurrent_users": 3,
        "active_loans": 1,
        "holds_waiting": 0,
        "loans_left": None,
        "valid_until": None,
        "loan_days": 21,
        "available_now": True,
    }
    assert everyone["licences"][1]["concurrent_users"] is None  # always available


def test_unknown_edition_and_bad_coordinates(client, catalogue):
    missing = client.get(f"{BASE}/editions/999999")
    not_a_number = client.get(f"{BASE}/editions/abc")
    off_the_map = client.get(f"{BASE}/editions/{catalogue['book'].pk}", {"lat": "95", "lon": "5"})

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_edition"
    assert not_a_number.status_code == 422
    assert not_a_number.json()["error"]["code"] == "invalid_input"
    assert off_the_map.status_code == 400
    assert off_the_map.json()["error"]["code"] == "invalid_coordinates"


def test_suggest_titles_and_makers(client, catalogue):
    body = client.get(f"{BASE}/suggest", {"q": "reve"}).json()
    titles = client.get(f"{BASE}/suggest", {"q": "de av"}).json()

    assert body == [
        {"text": "Gerard Reve", "kind": "author", "url": "http://testserver/makers/reve-gerard"}
    ]
    assert titles[0]["kind"] == "title"
    assert titles[0]["text"] == "De avonden"
    assert titles[0]["url"].startswith("http://testserver/titels/")
    assert client.get(f"{BASE}/suggest", {"q": ""}).json() == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": "x" * 600}, 400, "query_too_long"),
        ({"q": "av", "limit": "0"}, 400, "invalid_limit"),
        ({"q": "av", "limit": "21"}, 400, "invalid_limit"),
        ({"q": "av", "limit": "veel"}, 422, "invalid_input"),
    ],
)
def test_bad_suggest_input(client, catalogue, params, status, code):
    response = client.get(f"{BASE}/suggest", params)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_the_operations_are_documented(client, db):
    schema = client.get("/api/v1/openapi.json").json()

    search = schema["paths"]["/api/v1/catalog/search"]["get"]
    params = {p["name"]: p for p in search["parameters"]}
    assert {"q", "format", "language", "available", "page", "per_page"} <= set(params)
    assert params["format"]["schema"]["type"] == "array"
    assert "/api/v1/catalog/editions/{edition_id}" in schema["paths"]
    assert "/api/v1/catalog/suggest" in schema["paths"]
