"""Circulation's part of a person's privacy (registered with ``accounts.privacy``).

- Export: open loans, the loan history (kept only by choice), holds, digital loans and holds,
  charges and notices.
- Switching the loan history off forgets the person on every returned loan (physical and
  digital); the loans stay as anonymous statistics.
- Deleting the account is refused while copies are still on loan or charges are open (the
  library must be able to get its copies and money back); otherwise digital loans are
  returned, holds cancelled, returned loans forgotten and notices deleted.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.accounts.privacy import Provider
from bieb.circulation.models import (
    ACTIVE_HOLD,
    Charge,
    DigitalHold,
    DigitalLoan,
    Hold,
    HoldStatus,
    Loan,
    Notice,
)
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.subscriptions import selectors as subscription_selectors


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(user) -> dict[str, Any]:
    loans = Loan.objects.filter(patron=user).select_related("edition", "item").order_by("pk")
    return {
        "loans": [
            {
                "title": loan.edition.title,
                "barcode": loan.item.barcode,
                "checked_out_at": _iso(loan.checked_out_at),
                "due_date": _iso(loan.due_date),
                "renewals": loan.renewals,
                "returned_at": _iso(loan.returned_at),
                "checkout_location_id": loan.checkout_location_id,
                "return_location_id": loan.return_location_id,
            }
            for loan in loans
        ],
        "holds": [
            {
                "title": hold.edition.title,
                "status": hold.status,
                "scope": hold.scope,
                "pickup_location_id": hold.pickup_location_id,
                "placed_at": _iso(hold.placed_at),
                "not_before": _iso(hold.not_before),
                "ready_until": _iso(hold.ready_until),
                "ended_at": _iso(hold.ended_at),
            }
            for hold in Hold.objects.filter(patron=user).select_related("edition").order_by("pk")
        ],
        "digital_loans": [
            {
                "title": loan.edition.title,
                "started_at": _iso(loan.started_at),
                "expires_at": _iso(loan.expires_at),
                "returned_at": _iso(loan.returned_at),
            }
            for loan in DigitalLoan.objects.filter(patron=user)
            .select_related("edition")
            .order_by("pk")
        ],
        "digital_holds": [
            {"title": hold.edition.title, "status": hold.status, "placed_at": _iso(hold.placed_at)}
            for hold in DigitalHold.objects.filter(patron=user)
            .select_related("edition")
            .order_by("pk")
        ],
        "charges": [
            {
                "kind": charge.kind,
                "amount_cents": charge.amount_cents,
                "description": charge.description,
                "organisation_id": charge.organisation_id,
                "created_at": _iso(charge.created_at),
                "billed_at": _iso(charge.billed_at),
                "waived_at": _iso(charge.waived_at),
            }
            for charge in Charge.objects.filter(patron=user).order_by("pk")
        ],
        "notices": [
            {
                "kind": notice.kind,
                "subject": notice.subject,
                "created_at": _iso(notice.created_at),
                "sent_at": _iso(notice.sent_at),
            }
            for notice in Notice.objects.filter(patron=user).order_by("pk")
        ],
    }


def forget_history(user) -> None:
    returned = Loan.objects.filter(patron=user, returned_at__isnull=False)
    ended = Hold.objects.filter(
        patron=user, status__in=(HoldStatus.COLLECTED, HoldStatus.CANCELLED, HoldStatus.EXPIRED)
    )
    Notice.objects.filter(Q(loan__in=returned) | Q(hold__in=ended)).delete()
    ended.delete()
    returned.update(patron=None, updated_at=clock.now())
    ended_digital = DigitalHold.objects.filter(
        patron=user, status__in=(HoldStatus.COLLECTED, HoldStatus.CANCELLED, HoldStatus.EXPIRED)
    )
    Notice.objects.filter(
        patron=user,
        key__in=[f"digital_hold_ready:{pk}" for pk in ended_digital.values_list("pk", flat=True)],
    ).delete()
    ended_digital.delete()
    DigitalLoan.objects.filter(patron=user, returned_at__isnull=False).update(
        patron=None, updated_at=clock.now()
    )


def before_delete(user) -> None:
    open_loans = Loan.objects.filter(patron=user, returned_at__isnull=True).count()
    if open_loans:
        raise DomainError(
            "open_loans",
            _(
                "Je hebt nog %(n)s exemplaren geleend. Breng ze terug (in elke bibliotheek);"
                " daarna kun je je account verwijderen."
            )
            % {"n": open_loans},
            status=409,
        )
    if (
        Charge.objects.filter(patron=user, billed_at__isnull=True, waived_at__isnull=True)
        .exclude(pk__in=_charges_reported(user))
        .exists()
        or subscription_selectors.owed_cents(user) > 0
    ):
        raise DomainError(
            "open_charges",
            _(
                "Er staan nog kosten open. Neem contact op met je bibliotheek om ze te betalen;"
                " daarna kun je je account verwijderen."
            ),
            status=409,
        )
    now = clock.now()
    from bieb.circulation import digital

    for loan in DigitalLoan.objects.filter(patron=user, returned_at__isnull=True):
        digital.digital_return(loan)
    Hold.objects.filter(patron=user, status__in=ACTIVE_HOLD).update(
        status=HoldStatus.CANCELLED, ended_at=now, updated_at=now
    )
    for hold in DigitalHold.objects.filter(
        Q(patron=user), Q(status__in=(HoldStatus.WAITING, HoldStatus.READY))
    ):
        digital.digital_hold_cancel(hold)  # a slot kept for them passes to the next in line
    forget_history(user)
    Notice.objects.filter(patron=user).delete()


PROVIDER = Provider(
    name="circulation", export=export, forget_history=forget_history, before_delete=before_delete
)


def _charges_reported(user) -> list[int]:
    """Charges reported to subscriptions as fees: what they still cost is in ``owed_cents``
    (a charge from before the switch-over is not, and counts by itself)."""
    from bieb.subscriptions.models import Fee

    return list(
        Fee.objects.filter(person=user, source="circulation.charge").values_list(
            "source_id", flat=True
        )
    )
