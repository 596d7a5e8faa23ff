"""The network API: shapes, filters and stable error codes.

The router is mounted here on a test API with the same DomainError handling the project API
installs (``{"error": {...}}`` with the error's status).
"""

from __future__ import annotations

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from bieb.core.errors import DomainError
from bieb.network.api import router

pytestmark = pytest.mark.django_db

_api = NinjaAPI(urls_namespace="network-api-tests")
_api.add_router("/network/", router)


@_api.exception_handler(DomainError)
def _domain_error(request, exc):
    return _api.create_response(request, exc.as_dict(), status=exc.status)


@pytest.fixture
def api():
    return TestClient(_api)


def test_organisations(api, small_network):
    body = api.get("/network/organisations").json()
    utrecht = next(o for o in body if o["slug"] == "bibliotheek-utrecht")
    assert utrecht == {
        "slug": "bibliotheek-utrecht",
        "name": "Bibliotheek Utrecht",
        "code": "BUT",
        "website": "",
        "location_count": 3,
        "municipality_count": 1,
    }
    detail = api.get("/network/organisations/bibliotheek-utrecht").json()
    assert detail["kvk_number"] == "30437212"
    assert detail["municipalities"] == [
        {"cbs_code": "GM0344", "name": "Utrecht", "province": "Utrecht"}
    ]
    assert sorted(loc["kind"] for loc in detail["locations"]) == [
        "branch",
        "locker",
        "school_library",
    ]


def test_unknown_organisation(api, small_network):
    response = api.get("/network/organisations/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_organisation"


def test_locations_filters(api, small_network):
    names = lambda r: [loc["name"] for loc in r.json()]  # noqa: E731
    assert names(api.get("/network/locations?kind=locker")) == ["Afhaalkluis Utrecht Centraal"]
    assert len(names(api.get("/network/locations?organisation=bibliotheek-utrecht"))) == 3
    assert names(api.get("/network/locations?organisation=bibliotheek-elders")) == []
    assert len(names(api.get("/network/locations?municipality=GM0344"))) == 3
    assert len(names(api.get("/network/locations?municipality=utrecht"))) == 3
    bad = api.get("/network/locations?kind=castle")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_kind")


def test_location_detail_has_hours_exceptions_and_state(api, small_network):
    body = api.get(f"/network/locations/{small_network['branch'].slug}").json()
    assert body["postcode"] == "3512 AE" and body["municipality_code"] == "GM0344"
    assert {"weekday": 0, "opens": "10:00", "closes": "17:00", "kind": "staffed"} in body[
        "opening_hours"
    ]
    assert body["exceptions"] == [
        {
            "date": "2025-01-10",
            "closed": True,
            "opens": None,
            "closes": None,
            "kind": None,
            "reason": "Studiedag",
        }
    ]
    assert body["state"]["is_open"] is True
    assert body["state"]["kind"] == "staffed"
    assert body["state"]["closes_at"].startswith("2025-01-08T17:00:00+01:00")
    assert body["state"]["label"] == "nu open (bemand tot 17:00, daarna zelfservice tot 22:00)"
    assert body["accessibility"]["hearing_loop"] is True
    assert body["facilities"] == {
        "study_places": 120,
        "meeting_rooms": 3,
        "makerspace": True,
        "wifi": True,
        "printing": False,
    }
    missing = api.get("/network/locations/nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "unknown_location")


@pytest.mark.parametrize(
    "query", ["postcode=3512AE", "postcode=3512", "place=utrecht", "lat=52.0928&lon=5.1195"]
)
def test_nearest(api, small_network, query):
    body = api.get(f"/network/locations/nearest?{query}&limit=2").json()
    assert len(body["results"]) == 2
    assert body["results"][0]["distance_km"] <= body["results"][1]["distance_km"]
    assert {r["location"]["kind"] for r in body["results"]} <= {
        "branch",
        "locker",
        "school_library",
    }
    assert all("label" in r["state"] for r in body["results"])


def test_nearest_exact_order_from_the_branch(api, small_network):
    body = api.get("/network/locations/nearest?lat=52.0928&lon=5.1195").json()
    assert [r["location"]["name"] for r in body["results"]] == [
        "Bibliotheek Neude",
        "Afhaalkluis Utrecht Centraal",
        "Schoolbibliotheek Kanaleneiland",
    ]
    assert body["results"][0]["distance_km"] == 0.0


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("postcode=abc", 400, "invalid_postcode"),
        ("postcode=1011SS", 400, "invalid_postcode"),
        ("postcode=1099", 404, "unknown_postcode"),
        ("place=Atlantis", 404, "unknown_place"),
        ("lat=95&lon=5", 400, "invalid_coordinates"),
        ("lat=52", 400, "invalid_coordinates"),
        ("lat=nan&lon=5", 400, "invalid_coordinates"),
        ("postcode=3512&limit=0", 400, "invalid_limit"),
        ("postcode=3512&limit=51", 400, "invalid_limit"),
        ("postcode=3512&kind=castle", 400, "invalid_kind"),
        ("", 400, "missing_query"),
    ],
)
def test_nearest_errors(api, small_network, query, status, code):
    response = api.get(f"/network/locations/nearest?{query}")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
