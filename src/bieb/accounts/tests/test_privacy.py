import json

import pytest
from django.urls import reverse

from bieb.accounts import services
from bieb.accounts.models import GuardianLink, Household, StaffRole, User
from bieb.accounts.tests.factories import PASSWORD, MunicipalityFactory, UserFactory, years_ago
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_export_holds_the_persons_data_and_nothing_of_others(client, organisation):
    # given a person in a household with someone else, and a stranger
    person = UserFactory(
        email="ik@example.nl", first_name="Iris", home_organisation=organisation, postcode="3511 AB"
    )
    housemate = UserFactory(
        email="huisgenoot@example.nl", first_name="Huibert", last_name="Huisgenoot"
    )
    stranger = UserFactory(email="vreemde@example.nl", first_name="Vera", last_name="Vreemd")
    household = services.household_create(user=person, name="Huize Iris")
    services.household_add_member(
        household=household, card_number=housemate.card_number, email=housemate.email, actor=person
    )
    services.person_update(user=stranger, actor=stranger, first_name="Veronica")
    client.force_login(person)

    # when they download their data
    response = client.get(reverse("accounts:privacy_export"))

    # then it is a JSON attachment with their data
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["person"]["email"] == "ik@example.nl"
    assert data["person"]["card_number"] == person.card_number
    assert data["person"]["postcode"] == "3511 AB"
    assert data["household"] == {
        "id": household.pk,
        "name": "Huize Iris",
        "is_manager": True,
        "member_count": 2,
    }
    assert {e["action"] for e in data["audit_events"]} >= {"household.member_added"}
    # and nothing identifying anyone else
    text = response.content.decode()
    for other in (housemate, stranger):
        for value in (other.email, other.first_name, other.last_name, other.card_number):
            assert value not in text


def test_delete_keeps_statistics_and_removes_everything_personal(client, organisation):
    # given a person with a household, a child link, a role and a session
    municipality = MunicipalityFactory()
    person = UserFactory(
        email="weg@example.nl",
        first_name="Wim",
        last_name="Weg",
        birth_date=years_ago(40),
        postcode="3511 AB",
        municipality=municipality,
        home_organisation=organisation,
    )
    child = UserFactory(birth_date=years_ago(10))
    services.guardian_consent_give(guardian=person, child=child)
    household = services.household_create(user=person, name="Huize Weg")
    StaffRole.objects.create(user=person, organisation=organisation, role="desk")
    client.force_login(person)
    birth_year = person.birth_date.year
    card = person.card_number

    # when they delete their account with their password
    response = client.post(
        reverse("accounts:delete_account"), {"password": PASSWORD, "confirm": "on"}
    )

    # then they are logged out and the row is anonymous
    assert response["Location"] == reverse("accounts:deleted")
    assert "_auth_user_id" not in client.session
    row = User.objects.get(pk=person.pk)
    assert (row.birth_year, row.postcode, row.municipality, row.home_organisation) == (
        birth_year,
        "3511",
        municipality,
        organisation,
    )
    assert row.first_name == row.last_name == ""
    assert row.birth_date is None and row.card_number is None
    assert row.email != "weg@example.nl" and row.email.endswith("@anoniem.invalid")
    assert not row.is_active and row.anonymised_at is not None
    assert not row.has_usable_password()
    assert not User.objects.filter(card_number=card).exists()
    assert not GuardianLink.objects.filter(guardian_id=person.pk).exists()
    assert not StaffRole.objects.filter(user_id=person.pk).exists()
    assert not Household.objects.filter(pk=household.pk).exists()
    assert AuditEvent.objects.filter(
        action="person.deleted", subject=f"accounts.user:{person.pk}"
    ).exists()
    # and they can no longer log in
    login = client.post(
        reverse("accounts:login"), {"username": "weg@example.nl", "password": PASSWORD}
    )
    assert login.status_code == 200


def test_delete_with_wrong_password_changes_nothing(client):
    person = UserFactory()
    client.force_login(person)

    response = client.post(
        reverse("accounts:delete_account"), {"password": "fout", "confirm": "on"}
    )

    assert response.status_code == 200
    assert "klopt niet" in response.content.decode()
    person.refresh_from_db()
    assert person.is_active and person.anonymised_at is None


def test_other_sessions_end_when_the_account_is_deleted(client, django_user_model):
    from django.test import Client

    person = UserFactory()
    other_device = Client()
    other_device.force_login(person)
    client.force_login(person)

    client.post(reverse("accounts:delete_account"), {"password": PASSWORD, "confirm": "on"})

    assert other_device.get(reverse("accounts:mine")).status_code == 302


def test_privacy_choice_to_keep_loan_history(client):
    person = UserFactory()
    client.force_login(person)

    client.post(reverse("accounts:privacy"), {"keep_loan_history": "on"})
    person.refresh_from_db()
    assert person.keep_loan_history
    client.post(reverse("accounts:privacy"), {})
    person.refresh_from_db()
    assert not person.keep_loan_history


def test_profile_edit_validates_postcode(client):
    person = UserFactory(postcode="")
    client.force_login(person)

    bad = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Anna",
            "last_name": "Jansen",
            "postcode": "ABCD 12",
            "preferred_language": "nl",
        },
    )
    good = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Anna",
            "last_name": "Bos",
            "postcode": "1011ab",
            "preferred_language": "en",
        },
    )

    assert "geldige Nederlandse postcode" in bad.content.decode()
    assert good.status_code == 302
    person.refresh_from_db()
    assert (person.last_name, person.postcode, person.preferred_language) == (
        "Bos",
        "1011 AB",
        "en",
    )


def test_mine_shows_card_home_library_and_links_to_privacy(client, organisation):
    person = UserFactory(home_organisation=organisation)
    client.force_login(person)

    html = client.get(reverse("accounts:mine")).content.decode()

    assert person.card_number in html
    assert organisation.name in html
    assert reverse("accounts:privacy") in html
    assert reverse("accounts:privacy_export") in html
