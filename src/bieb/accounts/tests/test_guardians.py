import pytest
from django.core import mail
from django.urls import reverse

from bieb.accounts import access, services
from bieb.accounts.models import GuardianLink, User
from bieb.accounts.tests.factories import UserFactory, years_ago
from bieb.core.errors import DomainError

pytestmark = pytest.mark.django_db

STRONG = "lezen-is-leuk-2026"


def register_child(client, guardian_email="ouder@example.nl", age=12):
    return client.post(
        reverse("accounts:register"),
        {
            "first_name": "Mila",
            "last_name": "Kok",
            "email": "mila@example.nl",
            "password1": STRONG,
            "password2": STRONG,
            "birth_date": years_ago(age).isoformat(),
            "guardian_email": guardian_email,
        },
    )


def consent_link_from_outbox():
    message = next(m for m in mail.outbox if m.to == ["ouder@example.nl"])
    return "/toestemming/" + message.body.split("/toestemming/")[1].split()[0]


def test_youth_properties_follow_the_clock():
    child = UserFactory(birth_date=years_ago(15))
    teen = UserFactory(birth_date=years_ago(17))
    adult = UserFactory(birth_date=years_ago(18))

    assert (child.is_youth, child.needs_guardian_consent) == (True, True)
    assert (teen.is_youth, teen.needs_guardian_consent) == (True, False)
    assert (adult.is_youth, adult.needs_guardian_consent, adult.age) == (False, False, 18)


def test_child_under_16_needs_consent_before_using_account_features(client, mail_sent):
    # given a child registers and names a parent who has no account yet
    with mail_sent():
        register_child(client)
    child = User.objects.get(email="mila@example.nl")
    assert consent_link_from_outbox()

    # then the child may browse but not use account features
    assert not access.has_guardian_consent(child)
    with pytest.raises(DomainError) as refused:
        services.household_create(user=child, name="Kok")
    assert refused.value.code == "consent_required"
    client.force_login(child)
    assert "toestemming" in client.get(reverse("accounts:mine")).content.decode()


def test_guardian_consents_through_the_mailed_link(client, mail_sent):
    # given a child asked for consent
    with mail_sent():
        register_child(client)
    link = consent_link_from_outbox()
    child = User.objects.get(email="mila@example.nl")

    # when the parent opens the link: first asked to log in
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

    # then, logged in with the address the link went to, confirms
    guardian = UserFactory(email="ouder@example.nl", birth_date=years_ago(40))
    client.force_login(guardian)
    assert client.get(link).status_code == 200
    response = client.post(link)

    assert response["Location"] == reverse("accounts:mine")
    link_row = GuardianLink.objects.get(guardian=guardian, child=child)
    assert link_row.consent_given_at is not None
    assert access.has_guardian_consent(child)


def test_consent_link_refuses_another_account(client, mail_sent):
    with mail_sent():
        register_child(client)
    link = consent_link_from_outbox()
    stranger = UserFactory(email="vreemde@example.nl", birth_date=years_ago(40))
    client.force_login(stranger)

    response = client.post(link)

    assert response.status_code == 403
    assert not GuardianLink.objects.exists()


def test_registered_guardian_sees_pending_request_and_consents_in_mijn_bibliotheek(
    client, mail_sent
):
    # given the parent already has an account when the child registers
    guardian = UserFactory(email="ouder@example.nl", birth_date=years_ago(40))
    with mail_sent():
        register_child(client)
    pending = GuardianLink.objects.get(guardian=guardian)
    assert pending.consent_given_at is None

    # when the parent consents from mijn bibliotheek
    client.force_login(guardian)
    assert "Geef toestemming voor Mila" in client.get(reverse("accounts:mine")).content.decode()
    client.post(reverse("accounts:child_consent", args=[pending.pk]))

    # then consent is recorded
    pending.refresh_from_db()
    assert pending.consent_given_at is not None


def test_guardian_links_a_child_by_card_number_and_email(client):
    guardian = UserFactory(birth_date=years_ago(40))
    child = UserFactory(email="kind@example.nl", birth_date=years_ago(9))
    client.force_login(guardian)

    response = client.post(
        reverse("accounts:children"), {"card_number": child.card_number, "email": "Kind@example.nl"}
    )

    assert response.status_code == 302
    assert GuardianLink.objects.get(child=child).consent_given_at is not None
    assert access.access_member(guardian, child.pk, need="read") == child


def test_guardian_link_with_wrong_email_reveals_nothing(client):
    guardian = UserFactory(birth_date=years_ago(40))
    child = UserFactory(email="kind@example.nl", birth_date=years_ago(9))
    client.force_login(guardian)

    response = client.post(
        reverse("accounts:children"),
        {"card_number": child.card_number, "email": "anders@example.nl"},
    )

    assert response.status_code == 200
    assert "geen lid met dit pasnummer" in response.content.decode()
    assert not GuardianLink.objects.exists()


@pytest.mark.parametrize(
    ("guardian_age", "child_age", "code"),
    [(15, 9, "guardian_not_adult"), (40, 18, "not_a_child")],
)
def test_consent_rules(guardian_age, child_age, code):
    guardian = UserFactory(birth_date=years_ago(guardian_age))
    child = UserFactory(birth_date=years_ago(child_age))

    with pytest.raises(DomainError) as refused:
        services.guardian_consent_give(guardian=guardian, child=child)
    assert refused.value.code == code
    assert not GuardianLink.objects.exists()
