"""``POST /api/v1/me/digital-loans``: a resident borrows an e-book or audiobook over the API.

The endpoint calls ``bieb.circulation.digital.digital_checkout(*, patron, edition, actor)``;
these tests exercise it through the real service, with a national licence.
"""

from __future__ import annotations

import sys

import pytest

from bieb.catalog.models import Format
from bieb.catalog.tests.factories import DigitalLicenceFactory, EditionFactory
from bieb.circulation.models import DigitalLoan
from bieb.circulation.tests.factories import adult, policy
from bieb.circulation.tests.test_api import call, error_of

pytestmark = pytest.mark.django_db

DIGITAL_LOANS = "/api/v1/me/digital-loans"


def ebook(title: str = "Het achterhuis", **licence):
    edition = EditionFactory(title=title, format=Format.EBOOK)
    DigitalLicenceFactory(edition=edition, organisation=None, **licence)
    return edition


def test_i_borrow_an_ebook(client):
    edition = ebook()
    person = adult()

    response = call(client, "POST", DIGITAL_LOANS, person, {"edition": edition.pk})

    assert response.status_code == 201, response.content
    loan = DigitalLoan.objects.get(patron=person, edition=edition, returned_at__isnull=True)
    body = response.json()
    assert (body["id"], body["edition_id"], body["title"]) == (loan.pk, edition.pk, edition.title)
    assert body["expires_at"] > body["started_at"]


def test_borrowing_the_same_ebook_twice_answers_already_borrowed(client):
    edition = ebook(concurrent_users=1)
    person = adult()
    assert call(client, "POST", DIGITAL_LOANS, person, {"edition": edition.pk}).status_code == 201

    response = call(client, "POST", DIGITAL_LOANS, person, {"edition": edition.pk})

    assert error_of(response, 409) == "already_borrowed"
    assert DigitalLoan.objects.filter(patron=person).count() == 1


def test_when_every_licence_is_lent_the_answer_is_no_licence_available(client):
    edition = ebook(concurrent_users=1)
    assert call(client, "POST", DIGITAL_LOANS, adult(), {"edition": edition.pk}).status_code == 201
    second = adult()

    response = call(client, "POST", DIGITAL_LOANS, second, {"edition": edition.pk})

    assert error_of(response, 409) == "no_licence_available"
    assert response.json()["error"]["details"]["position"] == 1
    assert not DigitalLoan.objects.filter(patron=second).exists()


def test_the_digital_loan_limit_answers_limit_reached(client):
    policy(None, format=Format.EBOOK, max_loans=1)
    person = adult()
    assert call(client, "POST", DIGITAL_LOANS, person, {"edition": ebook().pk}).status_code == 201

    response = call(client, "POST", DIGITAL_LOANS, person, {"edition": ebook("Max Havelaar").pk})

    assert error_of(response, 409) == "limit_reached"
    assert DigitalLoan.objects.filter(patron=person).count() == 1


def test_a_printed_book_is_not_digital(client):
    book = EditionFactory(format=Format.BOOK)

    response = call(client, "POST", DIGITAL_LOANS, adult(), {"edition": book.pk})

    assert error_of(response, 400) == "not_digital"
    assert not DigitalLoan.objects.exists()


def test_bad_input_and_strangers_are_refused_before_the_service(client):
    person = adult()

    unknown = call(client, "POST", DIGITAL_LOANS, person, {"edition": 10**9})
    missing = call(client, "POST", DIGITAL_LOANS, person, {})
    not_a_number = call(client, "POST", DIGITAL_LOANS, person, {"edition": "het achterhuis"})
    anonymous = call(client, "POST", DIGITAL_LOANS, body={"edition": ebook().pk})

    assert error_of(unknown, 404) == "unknown_edition"
    assert error_of(missing, 422) == "invalid_input"
    assert error_of(not_a_number, 422) == "invalid_input"
    assert error_of(anonymous, 401) == "not_authenticated"
    assert not DigitalLoan.objects.exists()


def test_without_the_digital_lending_service_the_answer_is_503_not_500(client, monkeypatch):
    # A deployment without the module (it is built beside this API) must fail politely.
    monkeypatch.setitem(sys.modules, "bieb.circulation.digital", None)

    response = call(client, "POST", DIGITAL_LOANS, adult(), {"edition": ebook().pk})

    assert error_of(response, 503) == "service_unavailable"
