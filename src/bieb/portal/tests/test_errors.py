"""Error pages and handlers: JSON for the API, friendly translated HTML for people."""

import json

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from bieb.portal import views

pytestmark = pytest.mark.django_db


def site_request(path: str, **extra):
    request = RequestFactory().get(path, **extra)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    request.LANGUAGE_CODE = "nl"
    return request


def test_not_found_under_the_api_answers_json_in_the_api_error_shape():
    response = views.page_not_found(site_request("/api/v1/bestaat-niet"), Http404())

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"]


def test_not_found_elsewhere_shows_the_translated_html_page():
    response = views.page_not_found(site_request("/bestaat-niet"), Http404())

    assert response.status_code == 404
    html = response.content.decode()
    assert "Deze pagina bestaat niet (meer)" in html
    assert f'href="{reverse("portal:home")}"' in html


def test_server_error_under_the_api_answers_json():
    response = views.server_error(site_request("/api/v1/network/organisations"))

    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_server_error_page_needs_no_database_no_session_and_no_context_processors(
    django_assert_num_queries,
):
    # a bare request: no user, no session (the middleware may be what failed)
    request = RequestFactory().get("/mijn")

    with django_assert_num_queries(0):
        response = views.server_error(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert "Er ging bij ons iets mis" in html
    assert '<main id="main"' in html
    assert "csrfmiddlewaretoken" not in html


def test_bad_request_and_forbidden_pages_are_styled_and_translated(client):
    from django.template import loader

    bad = loader.get_template("400.html").render()
    assert "Dit verzoek kunnen we niet verwerken" in bad and "bieb.css" in bad

    forbidden = loader.get_template("403.html").render(request=site_request("/medewerkers"))
    assert "Je hebt geen toegang tot deze pagina" in forbidden


def test_csrf_failure_shows_a_page_that_says_what_to_do():
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "Dit formulier is verlopen" in html
    assert "laad de pagina opnieuw" in html


def test_csrf_failure_view_answers_json_under_the_api():
    response = views.csrf_failure(site_request("/api/v1/me"), reason="CSRF cookie not set.")

    assert response.status_code == 403
    assert json.loads(response.content)["error"]["code"] == "csrf_failed"


def test_unknown_url_gets_the_404_page_through_the_configured_handler(client):
    response = client.get("/deze-pagina-bestaat-echt-niet")

    assert response.status_code == 404
    assert "Deze pagina bestaat niet (meer)" in response.content.decode()


def test_english_404_page(client):
    client.cookies["django_language"] = "en"

    response = client.get("/deze-pagina-bestaat-echt-niet")

    assert "This page does not exist (any more)" in response.content.decode()
