import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.core import mail
from django.urls import reverse

from bieb.accounts import cards
from bieb.accounts.models import User
from bieb.accounts.tests.factories import OrganisationFactory, UserFactory, years_ago
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

STRONG = "lezen-is-leuk-2026"


def form_data(**overrides):
    data = {
        "first_name": "Eva",
        "last_name": "de Boer",
        "email": "Eva.de.Boer@Example.NL",
        "password1": STRONG,
        "password2": STRONG,
        "birth_date": years_ago(30).isoformat(),
        "postcode": "3511ab",
        "guardian_email": "",
        "home_organisation": "",
    }
    data.update(overrides)
    return data


def test_registration_creates_account_with_card_and_sends_verification(client, mail_sent):
    # given a library to choose
    library = OrganisationFactory()

    # when someone registers
    with mail_sent():
        response = client.post(
            reverse("accounts:register"), form_data(home_organisation=library.pk)
        )

    # then the account exists, lower-cased, with a valid card and normalised postcode
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register_done")
    person = User.objects.get()
    assert person.email == "eva.de.boer@example.nl"
    assert cards.card_number_is_valid(person.card_number)
    assert person.postcode == "3511 AB"
    assert person.home_organisation == library
    assert person.birth_year == person.birth_date.year
    assert person.email_verified_at is None
    assert person.check_password(STRONG)
    # and a verification link was mailed to them
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eva.de.boer@example.nl"]
    assert "/email-bevestigen/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="person.registered").count() == 1


def test_registration_with_taken_email_looks_the_same_and_warns_the_owner(client, mail_sent):
    # given an existing account
    owner = UserFactory(email="eva@example.nl", first_name="Eva")
    fresh = client.post(reverse("accounts:register"), form_data(email="nieuw@example.nl"))

    # when someone registers with the same address in other capitals
    with mail_sent():
        response = client.post(reverse("accounts:register"), form_data(email="EVA@example.nl"))

    # then the answer is the same as for a new address
    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    # nothing new was saved for that address; the owner got a notice, not a verification link
    assert User.objects.filter(email="eva@example.nl").count() == 1
    owner.refresh_from_db()
    assert owner.first_name == "Eva"
    notice = [m for m in mail.outbox if m.to == ["eva@example.nl"]]
    assert len(notice) == 1
    assert "al een account" in notice[0].body
    assert "/email-bevestigen/" not in notice[0].body


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "geen-adres"}, "email", "geldig e-mailadres"),
        ({"birth_date": years_ago(-1).isoformat()}, "birth_date", "niet in de toekomst"),
        ({"birth_date": "1850-01-01"}, "birth_date", "meer dan 120 jaar"),
        ({"birth_date": "31-02-2000"}, "birth_date", "geldige datum"),
        ({"postcode": "0123 AB"}, "postcode", "geldige Nederlandse postcode"),
        ({"postcode": "12345"}, "postcode", "geldige Nederlandse postcode"),
        ({"password2": "iets-anders-2026"}, "password2", "niet gelijk"),
        ({"password1": "1234567890", "password2": "1234567890"}, "password", None),
        ({"first_name": "  "}, "first_name", None),
        ({"birth_date": years_ago(12).isoformat()}, "guardian_email", "jonger dan 16"),
        (
            {"birth_date": years_ago(12).isoformat(), "guardian_email": "eva.de.boer@example.nl"},
            "guardian_email",
            "niet je eigen adres",
        ),
    ],
)
def test_registration_refuses_bad_input_with_a_dutch_field_error(client, overrides, field, message):
    # when someone registers with one bad field
    response = client.post(reverse("accounts:register"), form_data(**overrides))

    # then the form comes back with a translated error at that field and nothing is saved
    assert response.status_code == 200
    form = response.context["form"]
    target = "password1" if field == "password" else field
    assert form.errors.get(target) or form.non_field_errors(), form.errors
    if message:
        assert message in " ".join(form.errors.get(target, [])), form.errors
    html = response.content.decode()
    assert f'id="{target}-error"' in html
    assert 'aria-invalid="true"' in html
    assert User.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_registration_page_renders_every_field_with_a_label(client):
    response = client.get(reverse("accounts:register"))

    html = response.content.decode()
    for name in ("first_name", "last_name", "email", "password1", "birth_date", "postcode"):
        assert f'for="id_{name}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_argon2_is_the_production_password_hasher():
    assert settings.PRODUCTION_PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert get_hasher("default").algorithm == "md5"  # tests only, for speed
