"""SEPA mandates: what a mandate needs, one active per person, revoking, and the audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from bieb.circulation.tests.test_races import at_once
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.subscriptions import mandates
from bieb.subscriptions.models import Mandate, MandateStatus
from bieb.subscriptions.tests.factories import adult

D = dt.date
IBAN = "NL91ABNA0417164300"


def on(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message
    return caught.value


def sign(person, **fields) -> Mandate:
    fields.setdefault("iban", IBAN)
    fields.setdefault("account_holder", "A. de Vries")
    return mandates.mandate_create(person=person, **fields)


# --- creating ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_mandate_stores_the_compact_iban_and_a_unique_reference_and_is_audited():
    person = adult()
    with on(D(2025, 3, 3)):
        mandate = sign(
            person,
            iban=" nl91 abna 0417 1643 00 ",
            bic="abnanl2a",
            account_holder="  A.  de Vries ",
        )

    assert (mandate.iban, mandate.bic, mandate.account_holder) == (
        "NL91ABNA0417164300",
        "ABNANL2A",
        "A. de Vries",
    )
    assert mandate.reference == f"BIEB-{person.pk}-1"
    assert (mandate.signed_on, mandate.status, mandate.first_collected_on) == (
        D(2025, 3, 3),
        MandateStatus.ACTIVE,
        None,
    )
    assert mandate.sequence_type == "FRST"
    assert mandates.mandate_of(person) == mandate
    event = AuditEvent.objects.get(action="subscriptions.mandate_create")
    assert event.subject == f"subscriptions.mandate:{mandate.pk}"
    assert event.data["reference"] == mandate.reference
    # the audit trail keeps no full account number
    assert "NL91ABNA0417164300" not in str(event.data) and event.data["iban"] == "NL91…4300"


@pytest.mark.django_db
def test_a_foreign_sepa_iban_without_bic_and_an_earlier_signature_date_are_accepted():
    person = adult()
    with on(D(2025, 3, 3)):
        mandate = sign(person, iban="DE89 3704 0044 0532 0130 00", signed_on=D(2024, 12, 1))
    assert (mandate.iban, mandate.bic, mandate.signed_on) == (
        "DE89370400440532013000",
        "",
        D(2024, 12, 1),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"iban": "NL92ABNA0417164300"}, "iban_invalid", "iban"),  # check digits wrong
        ({"iban": "NL91ABNA04171643"}, "iban_invalid", "iban"),  # too short
        ({"iban": ""}, "iban_invalid", "iban"),
        ({"iban": "TR330006100519786457841326"}, "iban_not_sepa", "iban"),  # valid, not SEPA
        ({"bic": "ABNANL"}, "bic_invalid", "bic"),
        ({"account_holder": "   "}, "account_holder_required", "account_holder"),
        ({"account_holder": "x" * 71}, "account_holder_too_long", "account_holder"),
        ({"account_holder": "&&& @@@"}, "account_holder_invalid", "account_holder"),
        ({"signed_on": D(2025, 3, 4)}, "signed_on_in_future", "signed_on"),
    ],
)
def test_invalid_details_are_refused_with_the_field_and_nothing_is_stored(fields, code, field):
    person = adult()
    with on(D(2025, 3, 3)):
        error = refused(code, lambda: sign(person, **fields))
    assert error.details == {"field": field}
    assert not Mandate.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="subscriptions.mandate").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "closed", [{"is_active": False}, {"anonymised_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}]
)
def test_a_closed_account_cannot_sign_a_mandate(closed):
    person = adult(**closed)
    error = refused("account_closed", lambda: sign(person))
    assert error.status == 409
    assert not Mandate.objects.exists()


# --- one active mandate ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_mandate_replaces_the_active_one():
    person = adult()
    with on(D(2025, 3, 3)):
        first = sign(person)
    with on(D(2025, 4, 3)):
        second = sign(person, iban="NL20INGB0001234567", account_holder="Anna de Vries")

    first.refresh_from_db()
    assert first.status == MandateStatus.REVOKED and first.revoked_at is not None
    assert second.status == MandateStatus.ACTIVE
    assert second.reference == f"BIEB-{person.pk}-2" != first.reference
    assert mandates.mandate_of(person) == second
    revoke = AuditEvent.objects.get(action="subscriptions.mandate_revoke")
    assert revoke.subject == f"subscriptions.mandate:{first.pk}"
    assert revoke.data["reason"] == "replaced"
    created = AuditEvent.objects.filter(action="subscriptions.mandate_create").order_by("pk")
    assert [e.data["replaces"] for e in created] == [None, first.reference]


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_mandate():
    person = adult()
    first = sign(person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mandate.objects.create(
            person=person,
            reference="BIEB-X-9",
            iban=first.iban,
            account_holder="A. de Vries",
            signed_on=first.signed_on,
        )


@pytest.mark.django_db
def test_mandates_of_other_people_are_untouched():
    a, b = adult(), adult()
    mandate_b = sign(b)
    sign(a)
    sign(a)
    mandate_b.refresh_from_db()
    assert mandate_b.status == MandateStatus.ACTIVE
    assert mandates.mandate_of(b) == mandate_b
    assert Mandate.objects.filter(person=a).count() == 2


# --- revoking ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_revoking_ends_the_active_mandate_and_a_second_revoke_is_refused():
    person = adult()
    mandate = sign(person)

    revoked = mandates.mandate_revoke(person=person)

    assert revoked.pk == mandate.pk and revoked.status == MandateStatus.REVOKED
    assert mandates.mandate_of(person) is None
    assert AuditEvent.objects.get(action="subscriptions.mandate_revoke").data["reason"] == "revoked"
    error = refused("no_mandate", lambda: mandates.mandate_revoke(person=person))
    assert error.status == 404


@pytest.mark.django_db
def test_a_return_revokes_only_the_mandate_it_was_collected_under():
    person = adult()
    old = sign(person)
    new = sign(person, iban="NL20INGB0001234567")  # the resident signed again meanwhile

    assert mandates.mandate_revoke_returned(mandate=old, code="AC04") is False
    assert mandates.mandate_of(person) == new

    assert mandates.mandate_revoke_returned(mandate=new, code="AC04") is True
    assert mandates.mandate_of(person) is None
    assert (
        AuditEvent.objects.filter(
            action="subscriptions.mandate_revoke", data__reason="return:AC04"
        ).count()
        == 1
    )


def test_sepa_text_keeps_to_the_sepa_character_set():
    assert mandates.sepa_text("Jörg Müller & Zoon", 70) == "Jorg Muller Zoon"
    assert mandates.sepa_text("Straße_12", 70) == "Strasse 12"
    assert mandates.sepa_text("x" * 80, 70) == "x" * 70
    assert mandates.sepa_text("", 70) == ""


# --- races -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_mandates_signed_at_once_leave_exactly_one_active():
    person = adult()

    results = at_once(
        lambda: sign(person, iban="NL91ABNA0417164300"),
        lambda: sign(person, iban="NL20INGB0001234567"),
    )

    assert all(isinstance(r, Mandate) for r in results), results
    rows = list(Mandate.objects.filter(person=person).order_by("pk"))
    assert len(rows) == 2
    assert [m.status for m in rows] == [MandateStatus.REVOKED, MandateStatus.ACTIVE]
    assert len({m.reference for m in rows}) == 2
    assert AuditEvent.objects.filter(action="subscriptions.mandate_create").count() == 2
    assert AuditEvent.objects.filter(action="subscriptions.mandate_revoke").count() == 1


@pytest.mark.django_db(transaction=True)
def test_signing_and_revoking_at_once_never_leave_two_active():
    person = adult()
    sign(person)

    results = at_once(
        lambda: sign(person, iban="NL20INGB0001234567"),
        lambda: mandates.mandate_revoke(person=person),
    )

    signed, revoked = results
    assert isinstance(signed, Mandate) and isinstance(revoked, Mandate), results
    assert Mandate.objects.filter(person=person).count() == 2
    active = list(Mandate.objects.filter(person=person, status=MandateStatus.ACTIVE))
    if revoked.pk == signed.pk:  # signed first: the revoke ended the new mandate
        assert active == []
    else:  # revoked first: the new mandate stands
        assert active == [signed]
