"""Dunning: what happens when an invoice is not paid.

**Start.** An invoice enters dunning on the day a payment for it fails
(``payment_failed``, called by ``ledger`` in the transaction that marks the payment failed),
or, for a person without an active SEPA mandate, on the first run after its due date. A
failed direct debit needs no separate retry: the invoice is open and not in a payment under
way, so the next SEPA collection takes it again. A retry that fails too does not move the
schedule; money that had come in and went back (a SEPA return after payment) starts it anew.

**Schedule** (``dunning_run``, the daily job; days from the start):

====  =======================  ==================================================================
day   step (``dunning_level``)  what happens
====  =======================  ==================================================================
0     1 notice                 "betaling mislukt" (or "nog niet betaald"), with a link to pay online
14    2 reminder               "herinnering"
28    3 last reminder          "laatste herinnering", naming the day it is switched off
35    4 switched off           the subscription is switched off from that day: an open
                               ``SwitchOff`` and ``Subscription.suspended_for_payment_at``;
                               loans in hand stay. The invoices stay open.
====  =======================  ==================================================================

``Invoice.next_dunning_on`` is the day of the next step and ``dunning_level`` the last step
taken; a run takes one step per invoice at most and schedules the next from the day it ran,
so a run that was missed never sends two letters at once, and a second run on the same day
(or two at once: the invoices are locked and the condition read again) sends nothing twice.
An invoice in a payment under way (a collection or an online payment not yet done) waits.
A person gets one e-mail per run, about their own invoices only.

**Paid.** ``ledger`` clears ``next_dunning_on`` when an invoice is paid and calls
``invoice_paid``: when dunning had switched the subscription off and nothing else is overdue,
it is switched on again at once (the switch-off ends today, the flag is cleared, audited).

Locks: invoices (by primary key), then the subscription: the same order as ``ledger``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.money import format_eur
from bieb.subscriptions import ledger, payments
from bieb.subscriptions.models import (
    ChangeKind,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Mandate,
    MandateStatus,
    PaymentStatus,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
    SwitchOff,
)

__all__ = [
    "LEVEL_LAST_REMINDER",
    "LEVEL_NOTICE",
    "LEVEL_REMINDER",
    "LEVEL_SWITCHED_OFF",
    "dunning_run",
    "invoice_paid",
    "payment_failed",
]

logger = logging.getLogger(__name__)

LEVEL_NOTICE, LEVEL_REMINDER, LEVEL_LAST_REMINDER, LEVEL_SWITCHED_OFF = 1, 2, 3, 4
#: days from a step to the next one (0 → 14 → 28 → 35)
DAYS_TO_NEXT = {LEVEL_NOTICE: 14, LEVEL_REMINDER: 14, LEVEL_LAST_REMINDER: 7}
#: the report key of each step
STEP_NAMES = {
    LEVEL_NOTICE: "notices",
    LEVEL_REMINDER: "reminders",
    LEVEL_LAST_REMINDER: "last_reminders",
    LEVEL_SWITCHED_OFF: "last_steps",
}
#: people per query while the run walks through them (each person is its own transaction)
CHUNK = 500


def _owing() -> Q:
    return Q(kind=DocumentKind.INVOICE, status=InvoiceStatus.OPEN) & Q(
        settled_cents__lt=F("total_cents")
    )


# --- called by ledger -----------------------------------------------------------------------------


def payment_failed(invoice: Invoice, payment: Any) -> None:
    """Schedule dunning for ``invoice`` (open, locked by ``ledger``) after ``payment`` failed.

    The first failure starts it today (the run sends "betaling mislukt"); a failed retry leaves
    the schedule as it is; a payment that had been paid and came back (``paid_at`` set) starts
    it anew. Runs inside ledger's transaction."""
    if invoice.kind != DocumentKind.INVOICE or invoice.status != InvoiceStatus.OPEN:
        return
    today = clock.today()
    came_back = payment.paid_at is not None
    if came_back:
        invoice.dunning_level = 0
    elif invoice.next_dunning_on is not None or invoice.dunning_level:
        return
    invoice.next_dunning_on = today
    invoice.save(update_fields=["dunning_level", "next_dunning_on"])
    audit_record(
        action="subscriptions.dunning_start",
        subject=invoice,
        organisation_id=invoice.organisation_id,
        data={"payment": payment.pk, "code": payment.failure_code, "came_back": came_back},
    )


def _overdue(person_id: int, today: dt.date):
    return Invoice.objects.filter(_owing(), person_id=person_id, due_on__lt=today)


def invoice_paid(invoice: Invoice) -> None:
    """``invoice`` is paid (``ledger``'s transaction): when dunning switched the person's
    subscription off and nothing else is overdue, switch it on again at once."""
    today = clock.today()
    subscription = (
        Subscription.objects.select_for_update()
        .filter(
            person_id=invoice.person_id,
            parent__isnull=True,
            suspended_for_payment_at__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    if subscription is None:
        return
    still_overdue = list(_overdue(invoice.person_id, today).values_list("number", flat=True))
    if still_overdue:
        audit_record(
            action="subscriptions.resume_waiting",
            subject=subscription,
            data={"paid": invoice.number, "still_overdue": sorted(still_overdue)},
        )
        return
    _switch_on(subscription, today, invoice)


# --- switching off and on ------------------------------------------------------------------------


def _mark_rebill(subscription: Subscription, today: dt.date) -> None:
    """The billing run settles from the period containing today: days switched off are
    credited, days on again are billed (``services.mark_for_settling``, add-ons included)."""
    from bieb.subscriptions import services

    services.mark_for_settling(subscription, today)


def _switch_off(person_id: int, today: dt.date, invoices: list[Invoice]) -> Subscription | None:
    """Switch the person's subscription off from today for non-payment. The switch-off row is
    made at the moment stored in ``suspended_for_payment_at`` (its ``created_at``), which is
    how paying finds it again. A switch-off the resident made themselves and that is in
    effect stays theirs; a scheduled one that would start later is undone (it is superseded)."""
    subscription = (
        Subscription.objects.select_for_update()
        .filter(person_id=person_id, parent__isnull=True, status=SubscriptionStatus.ACTIVE)
        .order_by("pk")
        .first()
    )
    if subscription is None or subscription.suspended_for_payment_at is not None:
        return None
    if subscription.last_day is not None and subscription.last_day < today:
        return None  # it has ended: nothing to switch off
    now = clock.now()
    offs = list(
        SwitchOff.objects.select_for_update().filter(subscription=subscription, on_from=None)
    )
    own_in_effect = any(off.off_from <= today for off in offs)
    superseded = []
    for off in offs:
        if off.off_from > today and off.change_id is not None:
            ScheduledChange.objects.filter(pk=off.change_id, kind=ChangeKind.OFF).update(
                undone_at=now
            )
            superseded.append(off.off_from.isoformat())
            off.delete()
    if not own_in_effect:
        SwitchOff.objects.create(
            subscription=subscription, off_from=today, on_from=None, created_at=now
        )
    subscription.suspended_for_payment_at = now
    subscription.save(update_fields=["suspended_for_payment_at"])
    _mark_rebill(subscription, today)
    audit_record(
        action="subscriptions.suspend_for_payment",
        subject=subscription,
        organisation_id=invoices[0].organisation_id if invoices else None,
        data={
            "off_from": today.isoformat(),
            "invoices": sorted(i.number for i in invoices),
            "already_off": own_in_effect,
            "scheduled_off_undone": superseded,
        },
    )
    return subscription


def _switch_on(subscription: Subscription, today: dt.date, paid: Invoice) -> None:
    off = (
        SwitchOff.objects.select_for_update()
        .filter(
            subscription=subscription,
            on_from=None,
            created_at=subscription.suspended_for_payment_at,
        )
        .first()
    )
    off_from = off.off_from if off else None
    if off is not None:
        if off.off_from >= today:
            off.delete()  # off and on the same day: the day is billed (the day rule)
        else:
            off.on_from = today
            off.save(update_fields=["on_from"])
    subscription.suspended_for_payment_at = None
    subscription.save(update_fields=["suspended_for_payment_at"])
    _mark_rebill(subscription, today)
    audit_record(
        action="subscriptions.resume_after_payment",
        subject=subscription,
        organisation_id=paid.organisation_id,
        data={
            "paid": paid.number,
            "off_from": off_from.isoformat() if off_from else None,
            "on_from": today.isoformat(),
        },
    )
    from bieb.subscriptions import selectors

    # the letter says it is on again: only when it is (the resident's own switch-off or a
    # skipped month may still be in effect)
    if not selectors.is_off_on(subscription, today):
        _mail_on_commit(paid.person, _switched_on_letter(paid.person))


# --- the daily run -------------------------------------------------------------------------------


@dataclass
class _Report:
    date: str
    notices: int = 0
    reminders: int = 0
    last_reminders: int = 0
    #: invoices that reached the last step, and the subscriptions that were switched off
    last_steps: int = 0
    switched_off: int = 0
    mails: int = 0
    without_email: int = 0
    waiting_for_payment: int = 0
    reconcile: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        found = dict(self.__dict__)
        found.update(found.pop("reconcile"))
        return found


def _due(today: dt.date) -> Q:
    """An invoice with a step due: scheduled by today, or overdue and never started for a
    person without an active mandate (nobody will collect it)."""
    has_mandate = Exists(
        Mandate.objects.filter(person_id=OuterRef("person_id"), status=MandateStatus.ACTIVE)
    )
    never_started = Q(dunning_level=0, next_dunning_on__isnull=True, due_on__lt=today) & ~Q(
        has_mandate
    )
    return _owing() & (Q(next_dunning_on__lte=today) | never_started)


def dunning_run(*, today: dt.date | None = None) -> dict[str, Any]:
    """The daily dunning job for ``today`` (see the module docstring). First asks the payment
    provider about online payments that stayed under way, so a paid invoice is not reminded.
    Safe to run twice, and twice at once. Returns a report."""
    today = today or clock.today()
    report = _Report(date=today.isoformat())
    report.reconcile = payments.payments_reconcile()
    last_person = 0
    while True:
        people = list(
            Invoice.objects.filter(_due(today), person_id__gt=last_person)
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .distinct()[:CHUNK]
        )
        if not people:
            break
        last_person = people[-1]
        for person_id in people:
            _dun_person(person_id, today, report)
    audit_record(action="subscriptions.dunning_run", data=report.as_dict())
    return report.as_dict()


def _dun_person(person_id: int, today: dt.date, report: _Report) -> None:
    with transaction.atomic():
        # the condition is read again under the lock: a run at the same time took it already
        invoices = list(
            Invoice.objects.select_for_update()
            .filter(_due(today), person_id=person_id)
            .order_by("pk")
        )
        if not invoices:
            return
        under_way = set(
            Invoice.objects.filter(
                pk__in=[i.pk for i in invoices],
                allocations__payment__status__in=ledger.IN_FLIGHT,
            ).values_list("pk", flat=True)
        )
        stepped: list[Invoice] = []
        for invoice in invoices:
            if invoice.pk in under_way:
                report.waiting_for_payment += 1  # looked at again tomorrow
                continue
            level = min(invoice.dunning_level + 1, LEVEL_SWITCHED_OFF)
            invoice.dunning_level = level
            invoice.next_dunning_on = (
                today + dt.timedelta(days=DAYS_TO_NEXT[level]) if level in DAYS_TO_NEXT else None
            )
            invoice.save(update_fields=["dunning_level", "next_dunning_on"])
            audit_record(
                action="subscriptions.dunning_step",
                subject=invoice,
                organisation_id=invoice.organisation_id,
                data={
                    "level": level,
                    "step": STEP_NAMES[level],
                    "outstanding_cents": invoice.outstanding_cents,
                    "next_on": invoice.next_dunning_on.isoformat()
                    if invoice.next_dunning_on
                    else None,
                },
            )
            setattr(report, STEP_NAMES[level], getattr(report, STEP_NAMES[level]) + 1)
            stepped.append(invoice)
        if not stepped:
            return
        from bieb.accounts.models import User

        person = User.objects.get(pk=person_id)
        highest = max(i.dunning_level for i in stepped)
        switched = None
        if highest == LEVEL_SWITCHED_OFF:
            switched = _switch_off(
                person_id, today, [i for i in stepped if i.dunning_level == highest]
            )
            report.switched_off += switched is not None
        letter = _dunning_letter(person, stepped, highest, today, switched is not None)
        if _mail_on_commit(person, letter):
            report.mails += 1
        else:
            report.without_email += 1


# --- letters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Letter:
    subject: str
    body: str


def _day(value: dt.date) -> str:
    return date_format(value, "j F Y")


def _pay_link() -> str:
    from bieb.accounts.mail import site_url_or_default

    return site_url_or_default() + reverse("payments:pay_open")


def _language(person: Any) -> str:
    return getattr(person, "preferred_language", "") or settings.LANGUAGE_CODE


def _greeting(person: Any) -> str:
    name = getattr(person, "first_name", "")
    return _("Beste %(name)s,") % {"name": name} if name else _("Beste lezer,")


def _dunning_letter(
    person: Any, invoices: list[Invoice], level: int, today: dt.date, switched_off: bool
) -> _Letter:
    """One plain e-mail about the person's own invoices in this step (numbers and amounts)."""
    failed = {
        i.pk
        for i in invoices
        if i.allocations.filter(payment__status=PaymentStatus.FAILED).exists()
    }
    with translation.override(_language(person)):
        numbers = ", ".join(i.number for i in invoices)
        if level == LEVEL_NOTICE and failed:
            subject = _("Betaling mislukt: factuur %(numbers)s") % {"numbers": numbers}
            opening = _(
                "We konden het bedrag niet van je rekening afschrijven. Bij een automatische "
                "incasso proberen we het bij de volgende incasso opnieuw. Je kunt ook nu zelf "
                "online betalen."
            )
        elif level == LEVEL_NOTICE:
            subject = _("Nog niet betaald: factuur %(numbers)s") % {"numbers": numbers}
            opening = _("De betaaltermijn is voorbij en we hebben je betaling nog niet ontvangen.")
        elif level == LEVEL_REMINDER:
            subject = _("Herinnering: factuur %(numbers)s") % {"numbers": numbers}
            opening = _("We hebben je betaling nog steeds niet ontvangen.")
        elif level == LEVEL_LAST_REMINDER:
            off_on = today + dt.timedelta(days=DAYS_TO_NEXT[LEVEL_LAST_REMINDER])
            subject = _("Laatste herinnering: factuur %(numbers)s") % {"numbers": numbers}
            opening = _(
                "Dit is de laatste herinnering. Is het bedrag op %(day)s niet betaald, dan zetten "
                "we je abonnement uit. Wat je dan geleend hebt, mag je houden tot de "
                "inleverdatum."
            ) % {"day": _day(off_on)}
        else:
            subject = _("Je abonnement staat uit: factuur %(numbers)s") % {"numbers": numbers}
            opening = (
                _(
                    "Omdat we je betaling niet hebben ontvangen, staat je abonnement vanaf "
                    "vandaag uit. Wat je nu geleend hebt, mag je houden tot de inleverdatum. "
                    "Zodra je betaalt, zetten we je abonnement meteen weer aan."
                )
                if switched_off
                else _(
                    "We hebben je betaling nog steeds niet ontvangen. De factuur blijft openstaan."
                )
            )
        lines = [
            "- "
            + _("factuur %(number)s: %(amount)s, te betalen voor %(due)s")
            % {
                "number": i.number,
                "amount": format_eur(i.outstanding_cents),
                "due": _day(i.due_on),
            }
            for i in invoices
        ]
        body = "\n".join(
            [
                _greeting(person),
                "",
                opening,
                "",
                *lines,
                "",
                _("Online betalen met iDEAL | Wero of creditcard: %(link)s")
                % {"link": _pay_link()},
                "",
                _(
                    "Heb je net betaald? Dan kruisen onze berichten elkaar en hoef je niets te "
                    "doen. Vragen? Kom langs bij je bibliotheek."
                ),
                "",
                _("Met vriendelijke groet,"),
                _("de Bibliotheek"),
            ]
        )
    return _Letter(subject=subject, body=body)


def _switched_on_letter(person: Any) -> _Letter:
    with translation.override(_language(person)):
        return _Letter(
            subject=_("Je abonnement staat weer aan"),
            body="\n".join(
                [
                    _greeting(person),
                    "",
                    _(
                        "Bedankt voor je betaling. Je abonnement staat weer aan: je kunt vanaf "
                        "nu weer lenen."
                    ),
                    "",
                    _("Met vriendelijke groet,"),
                    _("de Bibliotheek"),
                ]
            ),
        )


def _mail_on_commit(person: Any, letter: _Letter) -> bool:
    """Send ``letter`` once the transaction commits (never for work rolled back). False when the
    person has no e-mail address to send it to."""
    address = getattr(person, "email", "")
    if not address or getattr(person, "is_anonymised", False):
        return False

    def send() -> None:
        send_mail(letter.subject, letter.body, settings.DEFAULT_FROM_EMAIL, [address])

    # robust: a mail server that is down must not stop the run; the step is taken and logged
    transaction.on_commit(send, robust=True)
    return True
