"""The national portal's own pages: home, privacy, about, offline, and the page shell."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_welcomes_and_offers_a_postcode_search_that_goes_to_find_your_library(client):
    # when
    response = client.get(reverse("portal:home"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="nl"' in html
    assert "Welkom bij de Bibliotheek" in html
    assert "voor iedereen, waar je ook woont" in html
    form = re.search(r'<form class="bieb-search" method="get" action="([^"]+)"', html)
    assert form and form.group(1) == reverse("network:find")
    assert '<label class="utrecht-form-label" for="find-q">' in html
    assert 'id="find-q" name="q"' in html
    assert html.count("<h1") == 1


def test_page_shell_has_landmarks_skip_link_and_assets_from_our_own_origin(client):
    html = client.get(reverse("portal:home")).content.decode()

    assert '<a class="bieb-skip-link" href="#main">Naar de inhoud</a>' in html
    assert '<main id="main"' in html
    assert 'role="status"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert re.search(r'<script src="/static/vendor/htmx/htmx\.min\.js" defer>', html)
    assert "/static/vendor/utrecht/component-library.css" in html
    assert "/static/portal/bieb.css" in html
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    # nothing is loaded from another origin (no CDN, no trackers)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_footer_links_to_privacy_and_the_data_attribution(client):
    html = client.get(reverse("portal:home")).content.decode()

    assert f'href="{reverse("portal:privacy")}"' in html
    assert f'href="{reverse("portal:about")}#bronnen"' in html
    assert "CBS (CC BY 4.0)" in html and "GeoNames" in html


def test_anonymous_visitor_is_offered_log_in_and_registration(client):
    html = client.get(reverse("portal:home")).content.decode()

    assert f'href="{reverse("accounts:login")}"' in html
    assert f'href="{reverse("accounts:register")}"' in html
    assert "Uitloggen" not in html
    assert "Mijn bibliotheek" not in html


def test_privacy_statement_explains_data_purpose_retention_rights_and_no_tracking(client):
    response = client.get(reverse("portal:privacy"))

    html = response.content.decode()
    for heading in (
        "Welke gegevens we bewaren",
        "Waarom",
        "Hoe lang",
        "Je rechten",
        "Geen tracking",
    ):
        assert heading in html
    assert "AVG" in html
    assert "Autoriteit Persoonsgegevens" in html
    assert f'href="{reverse("accounts:privacy")}"' in html  # export and delete live there


def test_about_page_carries_the_full_data_attribution(client):
    html = client.get(reverse("portal:about")).content.decode()

    assert 'id="bronnen"' in html
    assert "83503NED" in html and "GeoNames" in html and "PDOK" in html


def test_offline_page_tells_the_visitor_they_are_offline(client):
    html = client.get(reverse("portal:offline")).content.decode()

    assert "Je bent offline" in html


def test_portal_pages_refuse_writes(client):
    response = client.post(reverse("portal:home"))

    assert response.status_code == 405
