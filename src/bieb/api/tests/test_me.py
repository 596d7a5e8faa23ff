"""GET /api/v1/me: the signed-in person's profile, typed."""

from __future__ import annotations

import datetime as dt

from bieb.accounts import services as accounts_services
from bieb.accounts.tests.factories import OrganisationFactory, staff_member
from bieb.api.services import token_create
from bieb.api.tests.conftest import bearer
from bieb.api.tests.factories import UserFactory
from bieb.core import clock


def test_me_returns_the_profile_of_the_token_user(client, db):
    person = UserFactory(
        email="bram@example.nl",
        first_name="Bram",
        last_name="de Vries",
        birth_date=dt.date(2010, 6, 1),
        keep_loan_history=True,
    )
    _, secret = token_create(user=person)

    with clock.frozen(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)):
        response = client.get("/api/v1/me", headers=bearer(secret))

    assert response.status_code == 200
    assert response.json() == {
        "id": person.pk,
        "email": "bram@example.nl",
        "first_name": "Bram",
        "last_name": "de Vries",
        "birth_date": "2010-06-01",
        "age": 14,
        "is_youth": True,
        "card_number": None,
        "home_organisation": None,
        "household": None,
        "roles": [],
        "email_verified": False,
        "keep_loan_history": True,
        "preferred_language": "nl",
    }


def test_me_never_shows_another_persons_data(client, resident, resident_secret):
    UserFactory(email="iemand.anders@example.nl")

    response = client.get("/api/v1/me", headers=bearer(resident_secret))

    assert response.json()["email"] == resident.email
    assert "iemand.anders" not in response.content.decode()


def test_me_without_credentials_is_a_json_401(client, db):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_a_session_of_a_deactivated_account_is_refused(client, resident):
    client.force_login(resident)
    resident.is_active = False
    resident.save(update_fields=["is_active"])

    response = client.get("/api/v1/me")

    assert response.status_code == 401


def test_me_shows_home_library_household_and_roles(client, db, django_assert_max_num_queries):
    library = OrganisationFactory(name="Bibliotheek Utrecht", slug="bibliotheek-utrecht")
    person = staff_member("desk", organisation=library, home_organisation=library)
    household = accounts_services.household_create(user=person, name="Familie Jansen")
    _, secret = token_create(user=person)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/me", headers=bearer(secret))

    body = response.json()
    assert body["home_organisation"] == {
        "id": library.pk,
        "name": "Bibliotheek Utrecht",
        "slug": "bibliotheek-utrecht",
    }
    assert body["household"] == {"id": household.pk, "name": "Familie Jansen", "is_manager": True}
    assert body["roles"] == [{"role": "desk", "organisation_slug": "bibliotheek-utrecht"}]
