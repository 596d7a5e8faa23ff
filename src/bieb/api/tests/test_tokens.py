"""API tokens end to end: obtain, use, list, revoke, expire; lock-out; one user per token."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.conf import settings
from django.test import Client

from bieb.api.models import ApiToken
from bieb.api.services import token_create, token_revoke
from bieb.api.tests.conftest import bearer
from bieb.api.tests.factories import PASSWORD, UserFactory
from bieb.core import clock
from bieb.core.models import AuditEvent

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def obtain(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token",
        {"email": email, "password": password, **extra},
        content_type="application/json",
    )


def test_token_lifecycle_end_to_end(client, resident):
    # given a resident with a password
    # when they exchange e-mail and password for a token
    with clock.frozen(T0):
        created = obtain(client, resident.email, name="Leesapp")

    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    secret = body["token"]
    assert body["token_type"] == "Bearer"
    assert secret.startswith("bieb_")
    assert dt.datetime.fromisoformat(body["expires_at"]) == T0 + dt.timedelta(days=90)

    # then only the hash of the secret is stored
    token = ApiToken.objects.get(user=resident)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.key_prefix == secret[:12]
    assert token.name == "Leesapp"
    assert secret not in {token.key_hash, token.key_prefix, token.name}
    assert AuditEvent.objects.filter(
        action="api.token_created", subject=f"api.apitoken:{token.pk}", actor=resident
    ).exists()

    # and the token opens /me
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    assert me.json()["email"] == resident.email
    token.refresh_from_db()
    assert token.last_used_at == T0 + dt.timedelta(hours=1)

    # and the list shows it without the secret
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        listed = client.get("/api/v1/me/tokens", headers=bearer(secret))
    assert listed.status_code == 200
    (listed_token,) = listed.json()
    assert listed_token["id"] == token.pk
    assert listed_token["name"] == "Leesapp"
    assert listed_token["key_prefix"] == secret[:12]
    assert dt.datetime.fromisoformat(listed_token["created_at"]) == T0
    assert dt.datetime.fromisoformat(listed_token["last_used_at"]) == T0 + dt.timedelta(hours=1)
    assert listed_token["expires_at"] == body["expires_at"]
    assert listed_token["is_expired"] is False
    assert "token" not in listed_token
    assert secret[12:] not in listed.content.decode()

    # when the token revokes itself
    with clock.frozen(T0 + dt.timedelta(hours=2)):
        revoked = client.delete("/api/v1/auth/token", headers=bearer(secret))

    assert revoked.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at == T0 + dt.timedelta(hours=2)
    assert AuditEvent.objects.filter(
        action="api.token_revoked", subject=f"api.apitoken:{token.pk}", actor=resident
    ).exists()

    # then it no longer opens anything
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"


def test_expired_token_is_refused(client, resident):
    with clock.frozen(T0):
        token, secret = token_create(user=resident)

    with clock.frozen(T0 + dt.timedelta(days=90) - dt.timedelta(seconds=1)):
        still_valid = client.get("/api/v1/me", headers=bearer(secret))
    with clock.frozen(T0 + dt.timedelta(days=90)):
        expired = client.get("/api/v1/me", headers=bearer(secret))
        listed = client.get("/api/v1/me/tokens", headers=bearer(token_create(user=resident)[1]))

    assert still_valid.status_code == 200
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "invalid_token"
    assert {t["id"]: t["is_expired"] for t in listed.json()}[token.pk] is True


def test_token_of_a_deactivated_account_is_refused(client, resident, resident_secret):
    resident.is_active = False
    resident.save(update_fields=["is_active"])

    response = client.get("/api/v1/me", headers=bearer(resident_secret))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_last_used_is_written_at_most_once_a_minute(client, resident):
    with clock.frozen(T0):
        token, secret = token_create(user=resident)

    def use_at(moment):
        with clock.frozen(moment):
            assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
        token.refresh_from_db()
        return token.last_used_at

    assert use_at(T0) == T0
    assert use_at(T0 + dt.timedelta(seconds=59)) == T0
    assert use_at(T0 + dt.timedelta(seconds=60)) == T0 + dt.timedelta(seconds=60)


def test_wrong_password_and_unknown_email_give_identical_answers(client, resident):
    wrong_password = obtain(client, resident.email, password="niet-het-wachtwoord")
    unknown_email = obtain(client, "niemand@example.nl", password="niet-het-wachtwoord")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.content == unknown_email.content
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_inactive_account_gets_the_same_answer_as_a_wrong_password(client, resident):
    wrong_password = obtain(client, resident.email, password="niet-het-wachtwoord")
    resident.is_active = False
    resident.save(update_fields=["is_active"])

    inactive = obtain(client, resident.email)

    assert inactive.status_code == 401
    assert inactive.content == wrong_password.content


def test_email_is_matched_regardless_of_case_and_spaces(client, resident):
    response = obtain(client, "  Anna.Jansen@Example.NL ")

    assert response.status_code == 201
    assert ApiToken.objects.filter(user=resident).count() == 1


def test_lock_out_applies_to_the_token_endpoint(client, resident):
    limit = settings.AXES_FAILURE_LIMIT
    # given limit-1 failed attempts, each refused as plain wrong credentials
    for _ in range(limit - 1):
        assert obtain(client, resident.email, password="fout").json()["error"]["code"] == (
            "invalid_credentials"
        )

    # when the attempt that reaches the limit fails too, the account is locked out
    locked = obtain(client, resident.email, password="fout")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"

    # then even the right password is refused, in JSON, with Retry-After
    refused = obtain(client, resident.email)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    error = refused.json()["error"]
    assert error["code"] == "locked_out"
    assert int(refused["Retry-After"]) == error["details"]["retry_after_seconds"] > 0
    assert not ApiToken.objects.exists()

    # and from another client as well (counted per e-mail address)
    other_client = Client(HTTP_USER_AGENT="other-app/1.0", REMOTE_ADDR="10.0.0.2")
    assert obtain(other_client, resident.email).json()["error"]["code"] == "locked_out"


def test_lock_out_answer_does_not_reveal_whether_the_address_exists(client, resident):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        obtain(client, resident.email, password="fout")
    other = Client(HTTP_USER_AGENT="other", REMOTE_ADDR="10.0.0.3")
    for _ in range(limit):
        obtain(other, "niemand@example.nl", password="fout")

    known = obtain(client, resident.email, password="fout")
    unknown = obtain(other, "niemand@example.nl", password="fout")

    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()


def test_successful_token_request_resets_the_failure_count(client, resident):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        obtain(client, resident.email, password="fout")
    assert obtain(client, resident.email).status_code == 201

    for _ in range(limit - 1):
        obtain(client, resident.email, password="fout")

    assert obtain(client, resident.email).status_code == 201


def test_a_user_cannot_revoke_someone_elses_token(client, resident, resident_secret):
    other = UserFactory()
    other_token, other_secret = token_create(user=other)

    response = client.delete(f"/api/v1/me/tokens/{other_token.pk}", headers=bearer(resident_secret))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "token_not_found"
    other_token.refresh_from_db()
    assert other_token.revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(other_secret)).status_code == 200


def test_token_list_shows_only_your_own_unrevoked_tokens(client, resident, resident_secret):
    token_create(user=resident, name="tweede")
    gone, _ = token_create(user=resident, name="weg")
    token_revoke(token=gone, actor=resident)
    token_create(user=UserFactory(), name="van een ander")

    response = client.get("/api/v1/me/tokens", headers=bearer(resident_secret))

    assert [t["name"] for t in response.json()] == ["tweede", "test"]


def test_revoking_one_of_your_tokens_by_id(client, resident, resident_secret):
    other, other_secret = token_create(user=resident, name="oude telefoon")

    response = client.delete(f"/api/v1/me/tokens/{other.pk}", headers=bearer(resident_secret))

    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(other_secret)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(resident_secret)).status_code == 200
    again = client.delete(f"/api/v1/me/tokens/{other.pk}", headers=bearer(resident_secret))
    assert again.status_code == 404


def test_revoking_twice_writes_one_audit_row(resident):
    token, _ = token_create(user=resident)

    assert token_revoke(token=token, actor=resident) is True
    assert token_revoke(token=ApiToken.objects.get(pk=token.pk), actor=resident) is False

    assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1


def test_session_of_the_signed_in_resident_works_with_csrf(resident):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(resident)
    token, _ = token_create(user=resident)

    me = browser.get("/api/v1/me")
    csrf = _csrf_token_for(browser)
    revoked = browser.delete(f"/api/v1/me/tokens/{token.pk}", headers={"X-CSRFToken": csrf})

    assert me.status_code == 200
    assert me.json()["id"] == resident.pk
    assert revoked.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_the_current_token_needs_a_bearer_token(resident):
    browser = Client()
    browser.force_login(resident)

    response = browser.delete("/api/v1/auth/token")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_token_endpoint_is_public_and_needs_no_csrf():
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)

    response = obtain(browser, user.email)

    assert response.status_code == 201


def _csrf_token_for(browser: Client) -> str:
    """Set the CSRF cookie as the site's pages would; Django accepts the unmasked secret."""
    secret = "abcdefghijklmnopqrstuvwxyz012345"
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    return secret
