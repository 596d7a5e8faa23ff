"""Commands for an organisation's circulation rules: its loan policies (``LoanPolicy``) and its
other choices (``OrganisationRules``). Managers change their own organisation's rows; the
network defaults (``organisation`` empty) belong to network administrators.

Every command validates its numbers (refusing with a ``DomainError`` whose code is stable and
whose ``details["field"]`` names the argument), checks the actor, changes the row and writes an
audit row in one transaction. ``actor=None`` is the system (seeding, management commands) and
may change every row.

Two managers saving the same (organisation, format, category) at once get one row: the database
refuses a second (``circulation_policy_unique``, ``circulation_policy_network_unique``) and the
losing save is retried as an update of the winner's row.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bieb.accounts import access
from bieb.catalog.models import Format
from bieb.circulation.models import LoanPolicy, OrganisationRules, PatronCategory
from bieb.core.audit import audit_record, subject_of
from bieb.core.errors import DomainError, PermissionDenied

__all__ = [
    "FEE_MAX_RANGE",
    "FEE_PER_DAY_RANGE",
    "HOLD_SHELF_DAYS_RANGE",
    "LOAN_DAYS_RANGE",
    "LOST_FEE_RANGE",
    "MAX_LOANS_RANGE",
    "MAX_RENEWALS_RANGE",
    "policy_delete",
    "policy_save",
    "rules_save",
]

# inclusive ranges; the forms show them as hints, these commands decide
LOAN_DAYS_RANGE = (1, 366)
MAX_RENEWALS_RANGE = (0, 20)
MAX_LOANS_RANGE = (1, 200)
FEE_PER_DAY_RANGE = (0, 10_000)  # cents: at most € 100 a day
FEE_MAX_RANGE = (0, 100_000)  # cents: at most € 1.000; 0 = no cap
HOLD_SHELF_DAYS_RANGE = (1, 60)
LOST_FEE_RANGE = (0, 10_000)  # cents

_POLICY_FIELDS = (
    "loan_days",
    "max_renewals",
    "max_loans",
    "overdue_fee_cents_per_day",
    "overdue_fee_max_cents",
)
_RULES_FIELDS = ("floating", "hold_shelf_days", "lost_fee_cents")


# --- checks ----------------------------------------------------------------------------------


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(value: Any, bounds: tuple[int, int], *, code: str, field: str, message) -> None:
    low, high = bounds
    if not _is_whole(value) or not low <= value <= high:
        raise DomainError(code, message % {"low": low, "high": high}, details={"field": field})


def _check_policy_values(
    *,
    format: str,
    category: str,
    loan_days: Any,
    max_renewals: Any,
    max_loans: Any,
    overdue_fee_cents_per_day: Any,
    overdue_fee_max_cents: Any,
) -> None:
    if format not in ("", *Format.values):
        raise DomainError(
            "invalid_format",
            _("Kies een vorm uit de lijst, of alle vormen."),
            details={"field": "format"},
        )
    if category not in ("", *PatronCategory.values):
        raise DomainError(
            "invalid_category",
            _("Kies een lenerscategorie uit de lijst, of alle categorieën."),
            details={"field": "category"},
        )
    _check_range(
        loan_days,
        LOAN_DAYS_RANGE,
        code="invalid_loan_days",
        field="loan_days",
        message=_("De uitleentermijn is %(low)s tot %(high)s dagen."),
    )
    _check_range(
        max_renewals,
        MAX_RENEWALS_RANGE,
        code="invalid_max_renewals",
        field="max_renewals",
        message=_("Verlengen kan %(low)s tot %(high)s keer; vul een heel getal in."),
    )
    _check_range(
        max_loans,
        MAX_LOANS_RANGE,
        code="invalid_max_loans",
        field="max_loans",
        message=_("Het maximum aantal exemplaren tegelijk is %(low)s tot %(high)s."),
    )
    _check_range(
        overdue_fee_cents_per_day,
        FEE_PER_DAY_RANGE,
        code="invalid_overdue_fee",
        field="overdue_fee_cents_per_day",
        message=_("Het te-laatgeld per dag is € 0,00 tot € 100,00."),
    )
    _check_range(
        overdue_fee_max_cents,
        FEE_MAX_RANGE,
        code="invalid_overdue_fee_max",
        field="overdue_fee_max_cents",
        message=_("Het maximum te-laatgeld is € 0,00 (geen maximum) tot € 1.000,00."),
    )
    if 0 < overdue_fee_max_cents < overdue_fee_cents_per_day:
        raise DomainError(
            "invalid_overdue_fee_max",
            _(
                "Het maximum te-laatgeld is lager dan het bedrag voor één dag. Verhoog het "
                "maximum, of vul 0 in voor geen maximum."
            ),
            details={"field": "overdue_fee_max_cents"},
        )


def _check_actor(actor: Any, organisation_id: int | None) -> None:
    """The actor may change ``organisation_id``'s rules: its managers (and network
    administrators); the network defaults (``None``) only network administrators. ``None`` is
    the system. Raises ``PermissionDenied`` (403) or ``NotFound`` (404, another organisation)."""
    if actor is None:
        return
    if organisation_id is None:
        if not access.is_network_admin(actor):
            raise PermissionDenied(
                "network_admin_only",
                _("De landelijke standaard wordt beheerd door een landelijk beheerder."),
            )
        return
    access.access_organisation(actor, organisation_id, need="manage")


def _policy_values(policy: LoanPolicy) -> dict[str, int]:
    return {name: getattr(policy, name) for name in _POLICY_FIELDS}


# --- loan policies ---------------------------------------------------------------------------


def policy_save(
    *,
    organisation,
    format: str,
    category: str,
    loan_days: int,
    max_renewals: int,
    max_loans: int,
    overdue_fee_cents_per_day: int,
    overdue_fee_max_cents: int,
    actor,
) -> LoanPolicy:
    """Create or change ``organisation``'s loan policy for ``format`` ('' = every format) and
    ``category`` ('' = every category); ``organisation=None`` is the network default. Returns
    the saved row. Concurrent saves of the same key leave one row (the last save wins)."""
    format = (format or "").strip()
    category = (category or "").strip()
    values = {
        "loan_days": loan_days,
        "max_renewals": max_renewals,
        "max_loans": max_loans,
        "overdue_fee_cents_per_day": overdue_fee_cents_per_day,
        "overdue_fee_max_cents": overdue_fee_max_cents,
    }
    _check_policy_values(format=format, category=category, **values)
    organisation_id = organisation.pk if organisation is not None else None
    _check_actor(actor, organisation_id)
    try:
        return _policy_write(organisation_id, format, category, values, actor)
    except IntegrityError:
        # another save created the row between our look-up and our insert: update it instead
        return _policy_write(organisation_id, format, category, values, actor)


def _policy_write(
    organisation_id: int | None, format: str, category: str, values: dict[str, int], actor
) -> LoanPolicy:
    with transaction.atomic():
        policy = (
            LoanPolicy.objects.select_for_update()
            .filter(organisation_id=organisation_id, format=format, category=category)
            .first()
        )
        before = _policy_values(policy) if policy is not None else None
        if policy is None:
            policy = LoanPolicy.objects.create(
                organisation_id=organisation_id, format=format, category=category, **values
            )
        else:
            for name, value in values.items():
                setattr(policy, name, value)
            policy.save(update_fields=list(values))
        audit_record(
            action="circulation.policy_saved",
            actor=actor,
            subject=policy,
            organisation_id=organisation_id,
            data={
                "format": format,
                "category": category,
                "created": before is None,
                "before": before,
                "after": values,
            },
        )
    return policy


def policy_delete(*, policy: LoanPolicy, actor) -> None:
    """Delete one loan policy of the actor's organisation (a network default: network
    administrators only). Loans already lent keep their due date; from now on the next most
    specific policy applies. Deleting a row that is already gone does nothing more."""
    _check_actor(actor, policy.organisation_id)
    with transaction.atomic():
        locked = LoanPolicy.objects.select_for_update().filter(pk=policy.pk).first()
        if locked is None:
            return
        values = _policy_values(locked)
        subject = subject_of(locked)  # before the delete clears the primary key
        locked.delete()
        audit_record(
            action="circulation.policy_deleted",
            actor=actor,
            subject=subject,
            organisation_id=locked.organisation_id,
            data={"format": locked.format, "category": locked.category, "before": values},
        )


# --- organisation rules ----------------------------------------------------------------------


def rules_save(
    *, organisation, floating: bool, hold_shelf_days: int, lost_fee_cents: int, actor
) -> OrganisationRules:
    """Set ``organisation``'s floating collection switch, days on the hold shelf and
    administration fee for a lost copy (one row per organisation). Holds already on the shelf
    keep their date; new ones use the new number of days."""
    if not isinstance(floating, bool):
        raise DomainError("invalid_floating", _("Kies ja of nee."), details={"field": "floating"})
    _check_range(
        hold_shelf_days,
        HOLD_SHELF_DAYS_RANGE,
        code="invalid_hold_shelf_days",
        field="hold_shelf_days",
        message=_("Een reservering blijft %(low)s tot %(high)s dagen op de afhaalplank."),
    )
    _check_range(
        lost_fee_cents,
        LOST_FEE_RANGE,
        code="invalid_lost_fee",
        field="lost_fee_cents",
        message=_("De administratiekosten bij verlies zijn € 0,00 tot € 100,00."),
    )
    if organisation is None:
        raise DomainError(
            "organisation_required",
            _("Kies een organisatie: de landelijke standaard heeft geen eigen regels."),
        )
    _check_actor(actor, organisation.pk)
    values = {
        "floating": floating,
        "hold_shelf_days": hold_shelf_days,
        "lost_fee_cents": lost_fee_cents,
    }
    try:
        return _rules_write(organisation.pk, values, actor)
    except IntegrityError:
        return _rules_write(organisation.pk, values, actor)


def _rules_write(organisation_id: int, values: dict[str, Any], actor) -> OrganisationRules:
    with transaction.atomic():
        rules = (
            OrganisationRules.objects.select_for_update()
            .filter(organisation_id=organisation_id)
            .first()
        )
        before = {name: getattr(rules, name) for name in _RULES_FIELDS} if rules else None
        if rules is None:
            rules = OrganisationRules.objects.create(organisation_id=organisation_id, **values)
        else:
            for name, value in values.items():
                setattr(rules, name, value)
            rules.save(update_fields=list(values))
        audit_record(
            action="circulation.rules_saved",
            actor=actor,
            subject=rules,
            organisation_id=organisation_id,
            data={"created": before is None, "before": before, "after": values},
        )
    return rules
