import time

import pytest
from django.core import mail
from django.urls import reverse

from bieb.accounts import services
from bieb.accounts.tests.factories import UserFactory
from bieb.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_valid_link_verifies_the_address(client):
    person = UserFactory(email_verified_at=None)
    token = services.email_verification_token(user=person)

    response = client.get(reverse("accounts:verify_email", args=[token]))

    assert response.status_code == 200
    assert "is bevestigd" in response.content.decode()
    person.refresh_from_db()
    assert person.email_verified_at is not None


def test_expired_link_is_refused(client, monkeypatch):
    # given a link made four days ago (the signer's clock is the only thing mocked)
    person = UserFactory(email_verified_at=None)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 4 * 24 * 3600)
    token = services.email_verification_token(user=person)
    monkeypatch.setattr(time, "time", real_time)

    # when it is used
    response = client.get(reverse("accounts:verify_email", args=[token]))

    # then it is refused with advice and nothing changes
    assert response.status_code == 400
    assert response.context["code"] == "token_expired"
    assert "verlopen" in response.content.decode()
    person.refresh_from_db()
    assert person.email_verified_at is None


def test_tampered_link_is_refused(client):
    person = UserFactory(email_verified_at=None)
    other = UserFactory(email_verified_at=None)
    token = services.email_verification_token(user=person)
    tampered = token.replace(
        token.split(":")[0], services.email_verification_token(user=other).split(":")[0]
    )

    for bad in (tampered, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "rommel"):
        response = client.get(reverse("accounts:verify_email", args=[bad]))
        assert response.status_code == 400
        assert response.context["code"] == "token_invalid"
    person.refresh_from_db()
    other.refresh_from_db()
    assert person.email_verified_at is None and other.email_verified_at is None


def test_link_for_an_address_that_changed_is_refused():
    person = UserFactory(email_verified_at=None)
    token = services.email_verification_token(user=person)
    person.email = "nieuw@example.nl"
    person.save()

    with pytest.raises(DomainError) as refused:
        services.person_verify_email(token=token)
    assert refused.value.code == "token_invalid"


def test_resend_sends_a_fresh_link(client, mail_sent):
    person = UserFactory(email_verified_at=None)
    client.force_login(person)

    with mail_sent():
        client.post(reverse("accounts:resend_verification"))

    assert len(mail.outbox) == 1
    token = mail.outbox[0].body.split("/email-bevestigen/")[1].split()[0]
    assert services.person_verify_email(token=token).pk == person.pk
