"""Every error is JSON {"error": {"code", "message", "details"?}} with the right status.

Real endpoints trigger what they can; the test-only error API (same handlers, see
``error_api.py``) triggers what no real endpoint should ever do, such as crash.
"""

from __future__ import annotations

import logging

import pytest

from bieb.api.services import MAX_ACTIVE_TOKENS, token_create
from bieb.api.tests.conftest import bearer


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


# --- through the real API ------------------------------------------------------------------


def test_missing_fields_give_422_invalid_input_listing_each_field(client, db):
    response = client.post("/api/v1/auth/token", {}, content_type="application/json")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input"
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert set(fields) == {"email", "password"}
    assert fields["email"]["in"] == "body"
    assert fields["email"]["type"] == "missing"
    assert fields["email"]["message"] == "Dit veld is verplicht."


def test_too_long_field_is_named_with_its_limit(client, db):
    response = client.post(
        "/api/v1/auth/token",
        {"email": "a@example.nl", "password": "x", "name": "n" * 101},
        content_type="application/json",
    )

    assert response.status_code == 422
    (field,) = error_of(response)["details"]["fields"]
    assert field["field"] == "name"
    assert field["type"] == "string_too_long"
    assert "100" in field["message"]


def test_broken_json_is_a_client_error_not_a_crash(client, db):
    response = client.post("/api/v1/auth/token", "{not json", content_type="application/json")

    assert response.status_code in {400, 422}
    assert error_of(response)["code"] in {"bad_request", "invalid_input"}


def test_path_parameter_of_the_wrong_type_is_invalid_input(client, resident_secret):
    response = client.delete("/api/v1/me/tokens/abc", headers=bearer(resident_secret))

    assert response.status_code == 422
    (field,) = error_of(response)["details"]["fields"]
    assert field == {
        "field": "token_id",
        "in": "path",
        "type": "int_parsing",
        "message": "Vul hier een geheel getal in.",
    }


def test_missing_body_is_named_body_not_after_the_handler_parameter(client, db):
    response = client.post("/api/v1/auth/token", "", content_type="application/json")

    assert response.status_code == 422
    (field,) = error_of(response)["details"]["fields"]
    assert field["field"] == "body"
    assert field["type"] == "missing"


def test_wrong_method_gives_a_json_405_with_allow(client, db):
    response = client.put("/api/v1/me", {}, content_type="application/json")

    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert error["details"]["allowed_methods"] == ["GET"]
    assert response["Allow"] == "GET"


def test_api_root_points_to_the_document_and_the_docs(client, db):
    response = client.get("/api/v1/")

    assert response.status_code == 200
    assert response.json() == {
        "title": "Bieb API",
        "version": "1",
        "openapi": "/api/v1/openapi.json",
        "docs": "/api/v1/docs",
    }


def test_no_credentials_give_401_not_authenticated_with_challenge(client, db):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_gives_401_invalid_token(client, db):
    response = client.get("/api/v1/me", headers=bearer("bieb_made-up"))

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_domain_error_from_a_selector_keeps_its_code_and_status(client, resident_secret):
    response = client.delete("/api/v1/me/tokens/999999", headers=bearer(resident_secret))

    assert response.status_code == 404
    assert error_of(response)["code"] == "token_not_found"


def test_api_error_from_a_service_keeps_its_code_and_status(client, resident):
    for _ in range(MAX_ACTIVE_TOKENS):
        token_create(user=resident)

    response = client.post(
        "/api/v1/auth/token",
        {"email": resident.email, "password": "boeken-lenen-42"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "too_many_tokens"
    assert resident.api_tokens.count() == MAX_ACTIVE_TOKENS


def test_unknown_path_under_the_api_is_a_json_404(client, db):
    response = client.get("/api/v1/does/not/exist")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_session_request_that_changes_data_without_csrf_token_is_refused(resident):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(resident)
    token, _ = token_create(user=resident)

    response = browser.delete(f"/api/v1/me/tokens/{token.pk}")

    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    token.refresh_from_db()
    assert token.revoked_at is None


# --- through the test-only error API -------------------------------------------------------

pytestmark_urls = pytest.mark.urls("bieb.api.tests.urls")


@pytestmark_urls
def test_unexpected_exception_gives_500_server_error_without_leaking(client, db, caplog):
    with caplog.at_level(logging.ERROR, logger="bieb.api"):
        response = client.get("/test-errors/crash")

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "details" not in error
    text = response.content.decode()
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    # ...but the operator finds it in the log.
    assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytestmark_urls
def test_django_permission_denied_gives_403_forbidden(client, db):
    response = client.get("/test-errors/django-forbidden")

    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden"
    assert "internal reason" not in error["message"]


@pytestmark_urls
def test_core_permission_denied_gives_403_with_its_own_code(client, db):
    response = client.get("/test-errors/core-forbidden")

    assert response.status_code == 403
    assert error_of(response) == {
        "code": "not_your_organisation",
        "message": "Dit is van een andere bibliotheek.",
    }


@pytestmark_urls
def test_core_not_found_gives_404_with_its_own_code(client, db):
    response = client.get("/test-errors/core-not-found")

    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_location"


@pytestmark_urls
def test_domain_error_gives_its_status_code_message_and_details(client, db):
    response = client.get("/test-errors/domain")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_postcode",
            "message": "Vul een postcode in als 1234 AB.",
            "details": {"field": "postcode"},
        }
    }


@pytestmark_urls
def test_http_error_gets_a_code_for_its_status_and_a_translated_message(client, db):
    response = client.get("/test-errors/http-error")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert "internal conflict text" not in error["message"]


@pytestmark_urls
def test_throttled_request_gives_429_rate_limited_with_retry_after(client, db):
    first = client.get("/test-errors/throttled")
    second = client.get("/test-errors/throttled")

    assert first.status_code == 200
    assert second.status_code == 429
    error = error_of(second)
    assert error["code"] == "rate_limited"
    assert 0 < error["details"]["retry_after_seconds"] <= 60
    assert 0 < int(second["Retry-After"]) <= 60


@pytestmark_urls
def test_real_api_still_answers_beside_the_test_api(client, db):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
