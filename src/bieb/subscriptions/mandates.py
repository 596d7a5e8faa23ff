"""SEPA direct-debit mandates (machtigingen): the resident's permission to collect from an IBAN.

- ``mandate_create(person, iban, account_holder, ...)`` records a signed mandate. The IBAN is
  checked (checksum and format with ``stdnum.iban``, a country in the SEPA schemes), the BIC
  when given, the account holder's name, and a signature date that is not in the future. A
  person has one active mandate (``subscriptions_mandate_one_active``): a new one revokes the
  active one in the same transaction, under a lock on the person's row.
- ``mandate_revoke(person)`` ends the person's active mandate; ``mandate_revoke_returned``
  ends one particular mandate after the bank returned a collection for a reason that makes it
  unusable (account closed, no mandate...).
- ``mandate_of(person)`` is the active mandate or ``None``.

A new IBAN is a new mandate with a new reference (its first collection is FRST again), not an
amendment of the old one: sepaxml does not write the amendment details (``AmdmntInd``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from text_unidecode import unidecode

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound
from bieb.subscriptions.models import Mandate, MandateStatus

__all__ = [
    "SEPA_COUNTRIES",
    "mandate_create",
    "mandate_of",
    "mandate_revoke",
    "mandate_revoke_returned",
    "sepa_text",
]

#: IBAN country codes of the SEPA schemes' geographical scope (EPC): the EU, the EEA,
#: Switzerland, the United Kingdom, Monaco, San Marino, Andorra, Vatican City, and Gibraltar
#: (own IBANs). Overseas parts of France, Portugal, Spain and Finland use their country's IBAN;
#: Guernsey, Jersey and the Isle of Man use GB.
SEPA_COUNTRIES = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",  # the EU
    "IS", "LI", "NO", "CH", "GB", "MC", "SM", "AD", "VA", "GI",
))  # fmt: skip
#: the longest account holder's name a pain.008 file holds (``Dbtr/Nm``, Max70Text)
HOLDER_MAX = 70
REFERENCE_PREFIX = "BIEB"

#: outside the EPC's basic Latin character set that every SEPA bank accepts
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def sepa_text(value: str, limit: int) -> str:
    """``value`` in the SEPA character set: transliterated to ASCII (é → e, ß → ss), anything
    else (``&``, ``_``, ``@``...) a space, spaces collapsed, at most ``limit`` characters."""
    cleaned = " ".join(_NOT_SEPA.sub(" ", unidecode(value or "")).split())
    return cleaned[:limit].rstrip()


def mandate_of(person: Any) -> Mandate | None:
    """The person's active mandate, if any."""
    return Mandate.objects.filter(person_id=person.pk, status=MandateStatus.ACTIVE).first()


def _field_error(code: str, message: str, field: str) -> DomainError:
    return DomainError(code, message, details={"field": field})


def _clean_iban(iban: str) -> str:
    try:
        number = stdnum_iban.validate(iban or "")
    except StdnumError as exc:
        raise _field_error(
            "iban_invalid",
            _(
                "Dit IBAN klopt niet. Controleer het rekeningnummer, bijvoorbeeld NL91 ABNA 0417 1643 00."
            ),
            "iban",
        ) from exc
    if number[:2] not in SEPA_COUNTRIES:
        raise _field_error(
            "iban_not_sepa",
            _(
                "Van deze rekening kunnen we niet incasseren: de bank ligt buiten het SEPA-gebied. Kies een rekening bij een Europese bank."
            ),
            "iban",
        )
    return number


def _clean_bic(bic: str) -> str:
    if not (bic or "").strip():
        return ""
    try:
        return stdnum_bic.validate(bic)
    except StdnumError as exc:
        raise _field_error(
            "bic_invalid",
            _("Deze BIC klopt niet. Laat het veld leeg of vul de 8 of 11 tekens van de bank in."),
            "bic",
        ) from exc


def _clean_holder(account_holder: str) -> str:
    holder = " ".join((account_holder or "").split())
    if not holder:
        raise _field_error(
            "account_holder_required",
            _("Vul de naam van de rekeninghouder in, zoals die bij de bank bekend is."),
            "account_holder",
        )
    if len(holder) > HOLDER_MAX:
        raise _field_error(
            "account_holder_too_long",
            _("De naam van de rekeninghouder is te lang: gebruik hoogstens 70 tekens."),
            "account_holder",
        )
    if not sepa_text(holder, HOLDER_MAX):
        raise _field_error(
            "account_holder_invalid",
            _("Schrijf de naam van de rekeninghouder in Latijnse letters."),
            "account_holder",
        )
    return holder


def _lock_open_account(person: Any) -> None:
    """Lock the person's row (one mandate change at a time) and refuse a closed account."""
    from bieb.accounts.models import User

    row = (
        User.objects.select_for_update()
        .filter(pk=person.pk)
        .values("is_active", "anonymised_at")
        .first()
    )
    if row is None or not row["is_active"] or row["anonymised_at"] is not None:
        raise DomainError(
            "account_closed",
            _(
                "Dit bibliotheekaccount is opgeheven. Een machtiging kan alleen bij een actief account."
            ),
            status=409,
        )


def _masked(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}"


def _revoke(mandate: Mandate, *, actor: Any, reason: str) -> None:
    """Revoke a locked, active mandate and audit it."""
    mandate.status = MandateStatus.REVOKED
    mandate.revoked_at = clock.now()
    mandate.save(update_fields=["status", "revoked_at"])
    audit_record(
        action="subscriptions.mandate_revoke",
        actor=actor,
        subject=mandate,
        data={"reference": mandate.reference, "reason": reason},
    )


def mandate_create(
    *,
    person: Any,
    iban: str,
    account_holder: str,
    signed_on: dt.date | None = None,
    bic: str = "",
    actor: Any = None,
) -> Mandate:
    """Record a signed mandate for ``person`` and make it their active one (a previous active
    mandate is revoked in the same transaction). The IBAN is stored compact and upper-case;
    the reference is ``BIEB-<person id>-<n>``, unique for ever. Refuses a closed account and
    invalid details (``iban_invalid``, ``iban_not_sepa``, ``bic_invalid``,
    ``account_holder_required``, ``account_holder_too_long``, ``account_holder_invalid``,
    ``signed_on_in_future``)."""
    number = _clean_iban(iban)
    bic_code = _clean_bic(bic)
    holder = _clean_holder(account_holder)
    today = clock.today()
    signed_on = signed_on or today
    if signed_on > today:
        raise _field_error(
            "signed_on_in_future",
            _("De datum van ondertekening ligt in de toekomst. Vul de dag in waarop getekend is."),
            "signed_on",
        )
    with transaction.atomic():
        _lock_open_account(person)
        previous = (
            Mandate.objects.select_for_update()
            .filter(person_id=person.pk, status=MandateStatus.ACTIVE)
            .first()
        )
        if previous is not None:
            _revoke(previous, actor=actor, reason="replaced")
        count = Mandate.objects.filter(person_id=person.pk).count()
        mandate = Mandate.objects.create(
            person_id=person.pk,
            reference=f"{REFERENCE_PREFIX}-{person.pk}-{count + 1}",
            iban=number,
            bic=bic_code,
            account_holder=holder,
            signed_on=signed_on,
        )
        audit_record(
            action="subscriptions.mandate_create",
            actor=actor,
            subject=mandate,
            data={
                "reference": mandate.reference,
                "iban": _masked(number),
                "signed_on": signed_on.isoformat(),
                "replaces": previous.reference if previous else None,
            },
        )
    return mandate


def mandate_revoke(*, person: Any, actor: Any = None) -> Mandate:
    """End the person's active mandate: nothing more is collected under it (a collection
    already in a file goes on). Refuses ``no_mandate`` when there is none."""
    with transaction.atomic():
        from bieb.accounts.models import User

        User.objects.select_for_update().filter(pk=person.pk).values("pk").first()
        mandate = (
            Mandate.objects.select_for_update()
            .filter(person_id=person.pk, status=MandateStatus.ACTIVE)
            .first()
        )
        if mandate is None:
            raise NotFound(
                "no_mandate",
                _("Er is geen actieve machtiging voor automatische incasso."),
            )
        _revoke(mandate, actor=actor, reason="revoked")
    return mandate


def mandate_revoke_returned(*, mandate: Mandate, code: str, actor: Any = None) -> bool:
    """Revoke ``mandate`` because the bank returned a collection under it with ``code`` (the
    account is closed, there is no mandate...). Only that mandate: a newer one the resident
    signed since stays. Returns whether it was still active."""
    with transaction.atomic():
        locked = (
            Mandate.objects.select_for_update()
            .filter(pk=mandate.pk, status=MandateStatus.ACTIVE)
            .first()
        )
        if locked is None:
            return False
        _revoke(locked, actor=actor, reason=f"return:{code}")
    return True
