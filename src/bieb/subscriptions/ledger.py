"""Payments against invoices: the one place where money settles an invoice.

- ``payment_create(person, method, invoices, ...)`` makes an open payment for what is still
  outstanding on the given open invoices, with one ``PaymentAllocation`` per invoice (what the
  payment is for). Allocations of a payment count towards ``Invoice.settled_cents`` only once
  the payment is paid.
- ``payment_mark_paid(payment)`` settles its invoices (an invoice fully settled is ``paid``); a
  failed, canceled or expired payment stays as it is (those are final);
  a paid invoice of a subscription switched off by dunning switches it on again
  (``dunning.invoice_paid``).
- ``payment_mark_failed(payment, code, reason)`` marks it failed; when it had been paid (a
  SEPA return after the collection date) the settlement is reversed and the invoices are open
  again. The invoices go into dunning (``dunning.payment_failed``).
- ``credit_note_apply(credit_note)`` settles open invoices of the same person with a credit
  note's amount (oldest first); what is left stays on the credit note for the next invoice.

Every function locks the payment and the invoices it touches (``SELECT ... FOR UPDATE``;
SQLite: ``BEGIN IMMEDIATE``), is idempotent (paying a paid payment changes nothing), and
audits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.subscriptions.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentStatus,
)

__all__ = [
    "credit_left_cents",
    "credit_note_apply",
    "payment_create",
    "payment_mark_failed",
    "payment_mark_paid",
]

#: payments that are still under way: their invoices are not offered for another payment
IN_FLIGHT = (PaymentStatus.OPEN, PaymentStatus.PENDING)


def _without_payment_under_way(locking) -> list[Invoice]:
    """Lock the invoices, then leave out those in a payment under way. The second question is
    asked after the lock is held, in its own statement: on PostgreSQL a statement that waited
    for a row lock re-reads that row but not a subquery, so asking both at once let two
    payments take the same invoice."""
    invoices = list(locking)
    busy = set(
        PaymentAllocation.objects.filter(
            invoice__in=[i.pk for i in invoices], payment__status__in=IN_FLIGHT
        ).values_list("invoice_id", flat=True)
    )
    return [invoice for invoice in invoices if invoice.pk not in busy]


def _nothing_to_pay() -> DomainError:
    return DomainError("nothing_to_pay", _("Er staat niets open om te betalen."), status=409)


def payment_create(
    *,
    person: Any,
    method: str,
    invoices: Iterable[Invoice],
    actor: Any = None,
    **fields: Any,
) -> Payment:
    """An open payment of ``method`` for the outstanding amounts of ``invoices`` (open invoices
    of ``person`` that are not already in a payment under way). ``fields`` are stored on the
    payment (``mandate``, ``sequence_type``, ``collection_date``, ``end_to_end_id``...)."""
    ids = sorted(invoice.pk for invoice in invoices)
    with transaction.atomic():
        # credit left on the person's credit notes is used first: nobody pays what they
        # were credited
        for pk in (
            Invoice.objects.filter(
                person_id=person.pk, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.OPEN
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            credit_note_apply(Invoice(pk=pk), actor=actor)
        locked = _without_payment_under_way(
            Invoice.objects.select_for_update()
            .filter(
                pk__in=ids,
                person_id=person.pk,
                kind=DocumentKind.INVOICE,
                status=InvoiceStatus.OPEN,
                settled_cents__lt=F("total_cents"),
            )
            .order_by("pk")
        )
        amounts = {invoice.pk: invoice.total_cents - invoice.settled_cents for invoice in locked}
        total = sum(amounts.values())
        if total <= 0:
            raise _nothing_to_pay()
        payment = Payment.objects.create(
            person_id=person.pk, method=method, amount_cents=total, **fields
        )
        PaymentAllocation.objects.bulk_create(
            PaymentAllocation(invoice_id=pk, payment=payment, amount_cents=amount)
            for pk, amount in amounts.items()
        )
        audit_record(
            action="subscriptions.payment_create",
            actor=actor,
            subject=payment,
            data={"method": method, "amount_cents": total, "invoices": sorted(amounts)},
        )
    return payment


def _lock_payment(payment: Payment) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment.pk)


def payment_mark_paid(payment: Payment, *, actor: Any = None) -> Payment:
    """Settle the payment's invoices. Idempotent: a paid payment stays as it is."""
    from bieb.subscriptions import dunning

    with transaction.atomic():
        payment = _lock_payment(payment)
        if payment.status == PaymentStatus.PAID:
            return payment
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED):
            # final: a provider never turns these into paid, and a returned direct debit
            # stays returned; settling now would pay invoices without money
            audit_record(
                action="subscriptions.payment_paid_refused",
                actor=actor,
                subject=payment,
                data={"status": payment.status},
            )
            return payment
        now = clock.now()
        payment.status = PaymentStatus.PAID
        payment.paid_at = now
        payment.failure_code = ""
        payment.failure_reason = ""
        payment.save(update_fields=["status", "paid_at", "failure_code", "failure_reason"])
        allocations = list(payment.allocations.all())
        invoices = {
            invoice.pk: invoice
            for invoice in Invoice.objects.select_for_update().filter(
                pk__in=[a.invoice_id for a in allocations]
            )
        }
        for allocation in allocations:
            invoice = invoices[allocation.invoice_id]
            # never settle more than the total (a credit note may have settled part meanwhile)
            invoice.settled_cents = min(
                invoice.total_cents, invoice.settled_cents + allocation.amount_cents
            )
            fields = ["settled_cents"]
            if invoice.settled_cents == invoice.total_cents and invoice.status in (
                InvoiceStatus.OPEN,
                InvoiceStatus.UNCOLLECTIBLE,
            ):
                invoice.status = InvoiceStatus.PAID
                invoice.paid_at = now
                invoice.next_dunning_on = None
                fields += ["status", "paid_at", "next_dunning_on"]
            invoice.save(update_fields=fields)
            if invoice.status == InvoiceStatus.PAID:
                dunning.invoice_paid(invoice)
        audit_record(
            action="subscriptions.payment_paid",
            actor=actor,
            subject=payment,
            data={"amount_cents": payment.amount_cents, "invoices": sorted(invoices)},
        )
    return payment


def payment_mark_failed(
    payment: Payment,
    *,
    code: str = "",
    reason: str = "",
    status: str = PaymentStatus.FAILED,
    actor: Any = None,
) -> Payment:
    """Mark the payment failed (or ``canceled``/``expired``). A payment that had been paid is
    reversed: its invoices are open again for what it had settled. Idempotent."""
    from bieb.subscriptions import dunning

    if status not in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED):
        raise ValueError(status)
    with transaction.atomic():
        payment = _lock_payment(payment)
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED):
            return payment
        was_paid = payment.status == PaymentStatus.PAID
        payment.status = status
        payment.failed_at = clock.now()
        payment.failure_code = code[:8]
        payment.failure_reason = reason[:200]
        payment.save(update_fields=["status", "failed_at", "failure_code", "failure_reason"])
        allocations = list(payment.allocations.all())
        invoices = list(
            Invoice.objects.select_for_update()
            .filter(pk__in=[a.invoice_id for a in allocations])
            .order_by("pk")
        )
        if was_paid:
            by_invoice = {a.invoice_id: a.amount_cents for a in allocations}
            for invoice in invoices:
                invoice.settled_cents = max(0, invoice.settled_cents - by_invoice[invoice.pk])
                if invoice.status == InvoiceStatus.PAID:
                    invoice.status = InvoiceStatus.OPEN
                    invoice.paid_at = None
                invoice.save(update_fields=["settled_cents", "status", "paid_at"])
        audit_record(
            action="subscriptions.payment_failed",
            actor=actor,
            subject=payment,
            data={"status": status, "code": code, "reversed": was_paid},
        )
        if status == PaymentStatus.FAILED:
            for invoice in invoices:
                if invoice.status == InvoiceStatus.OPEN:
                    dunning.payment_failed(invoice, payment)
    return payment


def credit_left_cents(credit_note: Invoice) -> int:
    """What of a credit note has not yet settled an invoice."""
    used = sum(a.amount_cents for a in PaymentAllocation.objects.filter(credit_note=credit_note))
    return credit_note.total_cents - used


def credit_note_apply(credit_note: Invoice, *, actor: Any = None) -> int:
    """Settle the person's open invoices (oldest first, the corrected one first) with what is
    left of ``credit_note``; returns the cents applied. The caller holds no lock; this takes
    them. Idempotent: a used-up credit note applies nothing."""
    from bieb.subscriptions import dunning

    applied = 0
    with transaction.atomic():
        credit_note = Invoice.objects.select_for_update().get(pk=credit_note.pk)
        if (
            credit_note.kind != DocumentKind.CREDIT_NOTE
            or credit_note.status == InvoiceStatus.DRAFT
        ):
            raise ValueError("not a final credit note")
        left = credit_left_cents(credit_note)
        if left <= 0:
            return 0
        candidates = _without_payment_under_way(
            Invoice.objects.select_for_update()
            .filter(
                person_id=credit_note.person_id,
                # a credit note takes money off what is owed to its own organisation only:
                # settlement counts money per issuing organisation
                organisation_id=credit_note.organisation_id,
                kind=DocumentKind.INVOICE,
                status=InvoiceStatus.OPEN,
                settled_cents__lt=F("total_cents"),
            )
            .order_by("pk")
        )
        candidates.sort(key=lambda i: (i.pk != credit_note.corrects_id, i.pk))
        now = clock.now()
        for invoice in candidates:
            if left <= 0:
                break
            amount = min(left, invoice.total_cents - invoice.settled_cents)
            PaymentAllocation.objects.create(
                invoice=invoice, credit_note=credit_note, amount_cents=amount
            )
            invoice.settled_cents += amount
            fields = ["settled_cents"]
            if invoice.settled_cents == invoice.total_cents:
                invoice.status = InvoiceStatus.PAID
                invoice.paid_at = now
                invoice.next_dunning_on = None
                fields += ["status", "paid_at", "next_dunning_on"]
            invoice.save(update_fields=fields)
            if invoice.status == InvoiceStatus.PAID:
                dunning.invoice_paid(invoice)
            left -= amount
            applied += amount
        if credit_left_cents(credit_note) == 0 and credit_note.status == InvoiceStatus.OPEN:
            credit_note.status = InvoiceStatus.PAID
            credit_note.paid_at = now
            credit_note.save(update_fields=["status", "paid_at"])
        if applied:
            audit_record(
                action="subscriptions.credit_apply",
                actor=actor,
                subject=credit_note,
                data={"applied_cents": applied},
            )
    return applied
