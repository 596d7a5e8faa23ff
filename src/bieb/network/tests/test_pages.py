"""The public pages show the right content and never answer bad input with a 500."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
DASH = "\u2013"  # en dash, as the hours table uses


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_find_by_postcode_lists_nearest_with_distance_and_state(client, small_network):
    response = client.get(reverse("network:find"), {"q": "3512ae"})
    assert response.status_code == 200
    text = text_of(response)
    assert "Dichtbij 3512 Utrecht" in text
    # nearest first, with Dutch decimal commas
    order = [
        text.index(n)
        for n in (
            "Bibliotheek Neude",
            "Afhaalkluis Utrecht Centraal",
            "Schoolbibliotheek Kanaleneiland",
        )
    ]
    assert order == sorted(order)
    assert re.search(r"op \d+,\d km", text)
    assert "nu open (bemand tot 17:00, daarna zelfservice tot 22:00)" in text
    assert "nu open (zelfservice, dag en nacht)" in text
    assert "opent do 09:00 (bemand)" in text
    assert "Neude 11, 3512 AE Utrecht" in text
    assert "Bron: CBS (CC BY 4.0); postcodecoördinaten © GeoNames (CC BY 4.0)." in text


def test_find_by_place_name_and_kind(client, small_network):
    response = client.get(reverse("network:find"), {"q": "UTRECHT", "kind": "locker"})
    text = text_of(response)
    assert "Afhaalkluis Utrecht Centraal" in text
    assert "Bibliotheek Neude" not in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "1099 AB"}, "Deze postcode kennen we niet."),
        ({"q": "Atlantis"}, "We vinden geen postcode of plaats die hierop lijkt."),
        ({"q": "x" * 5000}, "Dat is te lang."),
        ({"q": ""}, "Vul een postcode of plaats in."),
        ({"q": "Utrecht", "kind": "kasteel"}, "Kies een soort uit de lijst."),
        ({"q": "<script>alert(1)</script>"}, "We vinden geen postcode of plaats"),
        ({"q": "\x00"}, ""),
    ],
)
def test_find_explains_bad_input(client, small_network, params, message):
    response = client.get(reverse("network:find"), params)
    assert response.status_code == 200
    assert message in text_of(response)
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_find_without_query_shows_the_form_only(client, small_network):
    text = text_of(client.get(reverse("network:find")))
    assert "Postcode of plaats" in text
    assert "Bibliotheek Neude" not in text


def test_organisation_list_and_detail(client, small_network):
    text = text_of(client.get(reverse("network:organisations")))
    assert "Bibliotheek Utrecht" in text and "Bibliotheek Elders" in text
    assert re.search(r"Bibliotheek Utrecht 3 1", text)  # 3 locations, 1 municipality
    detail = text_of(client.get(reverse("network:organisation", args=["bibliotheek-utrecht"])))
    assert "Deze bibliotheek werkt voor 1 gemeente:" in detail
    assert "Utrecht" in detail
    for name in (
        "Bibliotheek Neude",
        "Afhaalkluis Utrecht Centraal",
        "Schoolbibliotheek Kanaleneiland",
    ):
        assert name in detail
    assert "KvK-nummer 30437212" in detail


def test_location_page_shows_hours_exceptions_accessibility_and_json_ld(client, small_network):
    response = client.get(reverse("network:location", args=[small_network["branch"].slug]))
    text = text_of(response)
    assert "Bibliotheek Neude" in text and "vestiging" in text
    assert "nu open (bemand tot 17:00, daarna zelfservice tot 22:00)" in text
    assert f"Maandag 10:00{DASH}17:00 08:00{DASH}10:00, 17:00{DASH}22:00" in text
    assert f"Zaterdag gesloten {DASH}" in text
    assert "vrijdag 10 januari 2025: gesloten — Studiedag" in text
    assert "Rolstoeltoegankelijk" in text and "Ringleiding aanwezig" in text
    assert "120 studieplekken" in text and "3 vergaderruimtes" in text and "Makerspace" in text
    html = response.content.decode()
    assert "https://www.openstreetmap.org/?mlat=52.09280&amp;mlon=5.11950" in html
    ld = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    )
    assert ld["@type"] == "Library"
    assert ld["address"]["postalCode"] == "3512 AE"
    assert ld["geo"] == {"@type": "GeoCoordinates", "latitude": 52.0928, "longitude": 5.1195}
    assert {
        "@type": "OpeningHoursSpecification",
        "dayOfWeek": "https://schema.org/Monday",
        "opens": "10:00",
        "closes": "17:00",
        "description": "bemand",
    } in ld["openingHoursSpecification"]
    assert ld["specialOpeningHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "validFrom": "2025-01-10",
            "validThrough": "2025-01-10",
            "opens": "00:00",
            "closes": "00:00",
            "description": "Studiedag",
        }
    ]
    assert not re.search(r'<script[^>]+src="https?:', html)  # no external scripts
    assert "<iframe" not in html  # no embedded map


def test_locker_page_shows_24_hours(client, small_network):
    text = text_of(client.get(reverse("network:location", args=[small_network["locker"].slug])))
    assert f"Zondag {DASH} 00:00{DASH}24:00" in text


@pytest.mark.parametrize(
    "url",
    ["/bibliotheken/bestaat-niet", "/locaties/bestaat-niet", "/locaties/" + "a" * 3000],
)
def test_unknown_objects_are_404(client, small_network, url):
    assert client.get(url).status_code == 404


def test_pages_cost_a_fixed_number_of_queries(client, small_network, django_assert_max_num_queries):
    # warm up anything cached per process (sessions, content types)
    client.get(reverse("network:organisations"))
    with django_assert_max_num_queries(4):
        client.get(reverse("network:organisations"))
    with django_assert_max_num_queries(8):
        client.get(reverse("network:organisation", args=["bibliotheek-utrecht"]))
    with django_assert_max_num_queries(6):
        client.get(reverse("network:location", args=[small_network["branch"].slug]))
    with django_assert_max_num_queries(8):
        client.get(reverse("network:find"), {"q": "3512"})
