import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from bieb.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_log_in_by_email_ignores_capitals(client):
    # given a resident
    person = UserFactory(email="sanne@example.nl")

    # when they log in with capitals in their address
    response = log_in(client, "  Sanne@Example.NL ")

    # then they are logged in and sent to mijn bibliotheek
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mine")
    assert int(client.session["_auth_user_id"]) == person.pk


def test_wrong_password_shows_a_dutch_error_and_does_not_log_in(client):
    UserFactory(email="sanne@example.nl")

    response = log_in(client, "sanne@example.nl", "fout-wachtwoord")

    assert response.status_code == 200
    assert "horen niet bij elkaar" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_out_after_repeated_failures_even_with_the_right_password(client):
    # given a resident whose password someone tries to guess (with varying capitals)
    UserFactory(email="sanne@example.nl")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        email = "sanne@example.nl" if attempt % 2 else "SANNE@example.nl"
        log_in(client, email, f"gok-{attempt}")

    # when the right password is tried next
    response = log_in(client, "sanne@example.nl")

    # then log-in is locked with a translated page and nobody is logged in
    assert response.status_code == 403
    assert "Inloggen is even geblokkeerd" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_out_page_is_the_same_for_unknown_addresses(client):
    # given one existing and one unknown address, both guessed too often
    UserFactory(email="bestaat@example.nl")
    pages = {}
    for email in ("bestaat@example.nl", "bestaat-niet@example.nl"):
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, email, f"gok-{attempt}")
        response = log_in(client, email, "nog-een-gok")
        pages[email] = (response.status_code, response.content.decode())

    # then both answers are identical (apart from the CSRF token)
    def strip(html):
        return re.sub(r'value="[^"]+"', "", html)

    (code_a, page_a), (code_b, page_b) = pages.values()
    assert code_a == code_b == 403
    assert strip(page_a) == strip(page_b)
    assert "bestaat" not in page_a


def test_log_out_needs_post(client):
    person = UserFactory()
    client.force_login(person)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session
    client.post(reverse("accounts:logout"))
    assert "_auth_user_id" not in client.session


def test_private_pages_send_anonymous_visitors_to_log_in(client):
    for name in ("mine", "profile", "household", "privacy", "privacy_export", "delete_account"):
        response = client.get(reverse(f"accounts:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_password_reset_by_email_end_to_end(client, mail_sent):
    # given a resident who forgot their password
    UserFactory(email="sanne@example.nl")

    # when they ask for a reset link
    with mail_sent():
        response = client.post(reverse("accounts:password_reset"), {"email": "Sanne@example.nl"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"https?://testserver(/wachtwoord-herstellen/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    # and follow it and choose a new password
    page = client.get(link.group(1), follow=True)
    assert page.context["validlink"]
    form_url = page.redirect_chain[-1][0]
    new = "een-nieuw-wachtwoord-9"
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("accounts:password_reset_complete")

    # then the new password logs in and the old one no longer does
    client.logout()
    assert log_in(client, "sanne@example.nl", PASSWORD).status_code == 200
    assert log_in(client, "sanne@example.nl", new).status_code == 302


def test_password_reset_for_unknown_address_sends_nothing_and_looks_the_same(client, mail_sent):
    with mail_sent():
        response = client.post(reverse("accounts:password_reset"), {"email": "niemand@example.nl"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []
