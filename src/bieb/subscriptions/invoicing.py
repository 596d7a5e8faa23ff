"""Invoices and credit notes: issuing them, numbering them, and the billing run.

**Billing in advance, settled afterwards.** A subscription is invoiced at the start of each
period for the period as things stand (a switch-off or a downgrade already scheduled is taken
into account). When something changes after that (switched off or on, an upgrade, a
cancellation: every change of the subscription sets ``Subscription.rebill_from``), the next run
settles the periods from then on: for each period and plan it compares what the days now cost
(``billing.billable_lines``) with what was invoiced minus what was credited, and invoices the
difference or issues a credit note for it. So the money billed for any finished period is
exactly the sum of the daily prices of its days that were on, whatever happened in between.

**The run** (``billing_run(today)``): every active subscription whose invoiced days end on or
before ``today`` is invoiced up to the end of the period containing ``today``; every
subscription with a change is settled. A person gets one invoice per run (their subscription,
its add-ons, and fees of the same organisation) and at most one credit note, which is applied
to what they owe at once (``ledger.credit_note_apply``). The run works in chunks of people, each
in its own transaction: the subscriptions are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so two runs at once share the work; SQLite runs one writer at a time), and advancing
``billed_until`` happens in the same transaction as the invoice. A second run, or two at once,
therefore creates nothing twice; the unique ``source_key`` of a run's invoice is the last
guard.

**Numbers** are gap-free per issuing organisation and year: ``CODE-YYYY-000001``, taken under
a lock on the organisation's ``InvoiceCounter`` row in the transaction that finalises the
invoice. A draft has no number. Final documents are never changed (``invoice_void`` and
``invoice_credit`` issue credit notes).

**VAT**: amounts include VAT (consumer prices); each line's VAT is
``round_half_up(amount * rate / (100 % + rate))``, the invoice's VAT the sum of its lines.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.subscriptions import billing
from bieb.subscriptions.models import (
    FULL_RATE_BP,
    DocumentKind,
    Fee,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Plan,
    Subscription,
    SubscriptionStatus,
)

__all__ = [
    "NewLine",
    "Preview",
    "billing_run",
    "invoice_create",
    "invoice_credit",
    "invoice_finalise",
    "invoice_mark_uncollectible",
    "invoice_preview",
    "invoice_void",
    "issuer_of",
    "split_by_rate",
    "vat_in",
]

#: days a resident has to pay an invoice (a direct debit is collected on or after it)
PAYMENT_TERM_DAYS = 14
#: people per transaction in the billing run
CHUNK = 2_000
ONE_DAY = dt.timedelta(days=1)


def vat_in(amount_cents: int, rate_bp: int) -> int:
    """The VAT included in ``amount_cents`` at ``rate_bp`` basis points, rounded half up."""
    if amount_cents < 0 or not 0 <= rate_bp <= FULL_RATE_BP:
        raise ValueError("amount and rate must be non-negative")
    denominator = FULL_RATE_BP + rate_bp
    return (2 * amount_cents * rate_bp + denominator) // (2 * denominator)


@dataclass(frozen=True)
class NewLine:
    """A line to put on a new invoice or credit note."""

    kind: str
    description: str
    amount_cents: int
    vat_rate_bp: int
    subscription_id: int | None = None
    plan_id: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    days: int = 0
    fee_id: int | None = None

    def model(self, invoice_id: int | None = None) -> InvoiceLine:
        return InvoiceLine(
            invoice_id=invoice_id,
            kind=self.kind,
            description=self.description[:200],
            subscription_id=self.subscription_id,
            plan_id=self.plan_id,
            period_start=self.period_start,
            period_end=self.period_end,
            first_day=self.first_day,
            last_day=self.last_day,
            days=self.days,
            amount_cents=self.amount_cents,
            vat_rate_bp=self.vat_rate_bp,
            vat_cents=vat_in(self.amount_cents, self.vat_rate_bp),
        )


# --- numbers ---------------------------------------------------------------------------------


def _organisation_codes(ids: Iterable[int]) -> dict[int, str]:
    from bieb.network.models import Organisation

    return dict(Organisation.objects.filter(pk__in=set(ids)).values_list("pk", "code"))


def _take_numbers(organisation_id: int, year: int, count: int) -> int:
    """Reserve ``count`` numbers; returns the first. The counter row stays locked until the
    caller's transaction ends, so numbers are taken in commit order without gaps."""
    InvoiceCounter.objects.get_or_create(organisation_id=organisation_id, year=year)
    counter = InvoiceCounter.objects.select_for_update().get(
        organisation_id=organisation_id, year=year
    )
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return first


def _number(code: str, year: int, sequence: int) -> str:
    return f"{code}-{year}-{sequence:06d}"


# --- one document ------------------------------------------------------------------------------


def _check_lines(lines: Sequence[NewLine]) -> None:
    if not lines:
        raise DomainError("invoice_empty", _("Een factuur heeft minstens één regel."))
    for line in lines:
        if not isinstance(line.amount_cents, int) or line.amount_cents < 0:
            raise DomainError(
                "amount_invalid", _("Een bedrag is een heel aantal centen, nul of meer.")
            )
        if not 0 <= line.vat_rate_bp <= FULL_RATE_BP:
            raise DomainError("vat_rate_invalid", _("Het btw-tarief ligt tussen 0 en 100 %."))


def invoice_create(
    *,
    person: Any,
    organisation_id: int,
    lines: Sequence[NewLine],
    kind: str = DocumentKind.INVOICE,
    subscription: Subscription | None = None,
    corrects: Invoice | None = None,
    finalise: bool = True,
    source_key: str = "",
    actor: Any = None,
    today: dt.date | None = None,
) -> Invoice:
    """Create an invoice or credit note with ``lines``; final (numbered, open) unless
    ``finalise`` is false. A final credit note is applied to what the person owes."""
    _check_lines(lines)
    with transaction.atomic():
        invoice = Invoice.objects.create(
            kind=kind,
            person_id=person.pk,
            organisation_id=organisation_id,
            subscription=subscription,
            corrects=corrects,
            total_cents=sum(line.amount_cents for line in lines),
            vat_cents=sum(vat_in(line.amount_cents, line.vat_rate_bp) for line in lines),
            source_key=source_key,
        )
        made = InvoiceLine.objects.bulk_create(line.model(invoice.pk) for line in lines)
        for line, row in zip(lines, made, strict=True):
            if line.fee_id is not None:
                Fee.objects.filter(pk=line.fee_id, invoice_line__isnull=True).update(
                    invoice_line=row
                )
        audit_record(
            action=f"subscriptions.{kind}_create",
            actor=actor,
            subject=invoice,
            organisation_id=organisation_id,
            data={"total_cents": invoice.total_cents, "lines": len(lines)},
        )
        if finalise:
            invoice = invoice_finalise(invoice, actor=actor, today=today)
    return invoice


def invoice_finalise(
    invoice: Invoice, *, actor: Any = None, today: dt.date | None = None
) -> Invoice:
    """Give a draft its number and make it final (open). A credit note is then applied."""
    from bieb.subscriptions import ledger

    today = today or clock.today()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.status != InvoiceStatus.DRAFT:
            raise DomainError(
                "invoice_final",
                _("Deze factuur is al definitief en verandert niet meer."),
                status=409,
            )
        sequence = _take_numbers(invoice.organisation_id, today.year, 1)
        invoice.year = today.year
        invoice.sequence = sequence
        invoice.number = _number(
            _organisation_codes([invoice.organisation_id])[invoice.organisation_id],
            today.year,
            sequence,
        )
        invoice.issued_on = today
        invoice.due_on = today + dt.timedelta(days=PAYMENT_TERM_DAYS)
        invoice.status = InvoiceStatus.OPEN
        invoice.finalised_at = clock.now()
        if invoice.total_cents == 0:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = invoice.finalised_at
        invoice.save()
        audit_record(
            action="subscriptions.invoice_finalise",
            actor=actor,
            subject=invoice,
            organisation_id=invoice.organisation_id,
            data={"number": invoice.number, "total_cents": invoice.total_cents},
        )
        if invoice.kind == DocumentKind.CREDIT_NOTE and invoice.total_cents:
            ledger.credit_note_apply(invoice, actor=actor)
            invoice.refresh_from_db()
    return invoice


def _final_invoice(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.kind != DocumentKind.INVOICE or locked.status == InvoiceStatus.DRAFT:
        raise DomainError("invoice_not_final", _("Dit is geen definitieve factuur."))
    return locked


def invoice_credit(invoice: Invoice, *, amount_cents: int, reason: str, actor: Any) -> Invoice:
    """A credit note of ``amount_cents`` on ``invoice`` (staff: goodwill, a mistake). It
    takes money off what the person owes; it does not change which days were billed."""
    with transaction.atomic():
        locked = _final_invoice(invoice)
        # what staff credited on it before (the run's settling credit notes may name it too,
        # for days of several invoices: they are not counted here)
        credited = sum(
            InvoiceLine.objects.filter(
                invoice__corrects=locked, kind=LineKind.CORRECTION
            ).values_list("amount_cents", flat=True)
        )
        if not isinstance(amount_cents, int) or amount_cents <= 0:
            raise DomainError(
                "amount_invalid", _("Een bedrag is een heel aantal centen, meer dan nul.")
            )
        if amount_cents > locked.total_cents - credited:
            raise DomainError(
                "credit_too_large",
                _("Je kunt niet meer crediteren dan er op de factuur staat."),
                details={"max_cents": locked.total_cents - credited},
            )
        reason = (reason or "").strip()
        if not reason:
            raise DomainError(
                "reason_required",
                _("Schrijf op waarom je crediteert."),
                details={"field": "reason"},
            )
        with translation.override("nl"):
            description = _("Creditering van factuur %(number)s: %(reason)s") % {
                "number": locked.number,
                "reason": reason,
            }
        # the credit is split over the invoice's VAT rates in proportion to their amounts, so
        # crediting the whole invoice takes off exactly the VAT it charged at each rate
        lines = [
            NewLine(LineKind.CORRECTION, description, part, rate)
            for rate, part in split_by_rate(locked.lines.all(), amount_cents)
            if part
        ]
        return invoice_create(
            person=locked.person,
            organisation_id=locked.organisation_id,
            kind=DocumentKind.CREDIT_NOTE,
            corrects=locked,
            subscription=locked.subscription,
            lines=lines,
            actor=actor,
        )


def split_by_rate(lines: Iterable[Any], amount_cents: int) -> list[tuple[int, int]]:
    """``amount_cents`` shared over the VAT rates of ``lines`` in proportion to their amounts,
    in whole cents by the largest remainder (ties to the lower rate): ``[(rate, cents)]``."""
    by_rate: dict[int, int] = defaultdict(int)
    for line in lines:
        by_rate[line.vat_rate_bp] += line.amount_cents
    total = sum(by_rate.values())
    if total <= 0:
        return [(0, amount_cents)]
    shares = []
    for rate in sorted(by_rate):
        exact = amount_cents * by_rate[rate]
        shares.append([rate, exact // total, exact % total])
    left = amount_cents - sum(share[1] for share in shares)
    for share in sorted(shares, key=lambda x: (-x[2], x[0]))[:left]:
        share[1] += 1
    return [(rate, cents) for rate, cents, _rest in shares]


def invoice_void(invoice: Invoice, *, reason: str, actor: Any) -> Invoice:
    """Void an open invoice nothing was paid on: it is no longer owed. The final document is
    kept and a credit note for its whole amount is issued (Dutch invoice rules)."""
    with transaction.atomic():
        locked = _final_invoice(invoice)
        if locked.status != InvoiceStatus.OPEN or locked.settled_cents:
            raise DomainError(
                "invoice_not_voidable",
                _("Alleen een openstaande factuur waarop niets is betaald, kan vervallen."),
                status=409,
            )
        from bieb.subscriptions.models import PaymentAllocation, PaymentStatus

        if PaymentAllocation.objects.filter(
            invoice=locked, payment__status__in=(PaymentStatus.OPEN, PaymentStatus.PENDING)
        ).exists():
            raise DomainError(
                "payment_under_way",
                _("Er loopt een betaling voor deze factuur. Wacht tot die klaar is."),
                status=409,
            )
        note = (
            invoice_credit(locked, amount_cents=locked.total_cents, reason=reason, actor=actor)
            if locked.total_cents
            else None
        )
        locked.refresh_from_db()
        locked.status = InvoiceStatus.VOID
        locked.closed_at = clock.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            action="subscriptions.invoice_void",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"reason": reason, "credit_note": note.number if note else None},
        )
    return locked


def invoice_mark_uncollectible(invoice: Invoice, *, reason: str, actor: Any) -> Invoice:
    """Write an open invoice off as uncollectible (it stays final; paying it later still
    settles it)."""
    with transaction.atomic():
        locked = _final_invoice(invoice)
        if locked.status != InvoiceStatus.OPEN:
            raise DomainError(
                "invoice_not_open",
                _("Alleen een openstaande factuur kan oninbaar worden."),
                status=409,
            )
        locked.status = InvoiceStatus.UNCOLLECTIBLE
        locked.closed_at = clock.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            action="subscriptions.invoice_uncollectible",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"reason": reason},
        )
    return locked


# --- what a subscription owes --------------------------------------------------------------------


@dataclass
class SubState:
    """What the run reads about one subscription."""

    pk: int
    person_id: int
    parent_id: int | None
    billed_until: dt.date | None
    rebill_from: dt.date | None
    timeline: billing.Timeline


@dataclass
class Outcome:
    invoice_lines: list[NewLine] = field(default_factory=list)
    credit_lines: list[NewLine] = field(default_factory=list)
    billed_until: dt.date | None = None


@functools.cache
def _line_text() -> str:
    """The line template, in Dutch (invoices are Dutch documents); looked up once."""
    with translation.override("nl"):
        return str(_("%(plan)s, %(first)s t/m %(last)s (%(days)s dagen)"))


def _describe(plan: Plan, first: dt.date, last: dt.date, days: int, *, extra: str = "") -> str:
    text = _line_text() % {
        "plan": plan.name,
        "first": f"{first.day:02d}-{first.month:02d}-{first.year}",
        "last": f"{last.day:02d}-{last.month:02d}-{last.year}",
        "days": days,
    }
    return f"{text}: {extra}" if extra else text


def _horizon(timeline: billing.Timeline, today: dt.date) -> dt.date:
    """Invoice up to the end of the period containing ``today`` (in advance)."""
    return timeline.period_containing(today).end


def settle(
    state: SubState,
    prices: billing.PriceBook,
    plans: dict[int, Plan],
    invoiced: dict[tuple[dt.date, int], int],
    today: dt.date,
) -> Outcome:
    """What to invoice and credit for one subscription on ``today`` (pure).

    ``invoiced`` is what was invoiced minus credited per ``(period_start, plan_id)`` for the
    periods from the one containing ``rebill_from`` (only read when there is a change)."""
    timeline = state.timeline
    horizon = _horizon(timeline, today)
    outcome = Outcome(billed_until=max(horizon, state.billed_until or horizon))
    if state.rebill_from is None:
        start = state.billed_until or timeline.started_on
        if start >= horizon:
            return outcome
        for line in billing.billable_lines(timeline, prices, start, horizon):
            if line.amount_cents:
                outcome.invoice_lines.append(_subscription_line(state, plans, prices, line))
        return outcome
    start = settle_from(state)
    end = max(horizon, state.billed_until or horizon)
    expected: dict[tuple[dt.date, int], list[billing.Line]] = defaultdict(list)
    for line in billing.billable_lines(timeline, prices, start, end):
        expected[(line.period.start, line.plan_id)].append(line)
    keys = sorted(set(expected) | {k for k in invoiced if k[0] >= start})
    for key in keys:
        lines = expected.get(key, [])
        owed = sum(line.amount_cents for line in lines)
        difference = owed - invoiced.get(key, 0)
        if difference == 0:
            continue
        period_start, plan_id = key
        period = timeline.period_containing(period_start)
        plan = plans[plan_id]
        if difference > 0:
            first = lines[0].first_day if lines else period.start
            last = lines[-1].last_day if lines else period.end - ONE_DAY
            days = sum(line.days for line in lines)
            with translation.override("nl"):
                extra = _("bijbetaling na een wijziging") if invoiced.get(key) else ""
            outcome.invoice_lines.append(
                NewLine(
                    LineKind.SUBSCRIPTION,
                    _describe(plan, first, last, days, extra=extra),
                    difference,
                    prices.vat(plan_id, period.start, plan.vat_rate_bp),
                    subscription_id=state.pk,
                    plan_id=plan_id,
                    period_start=period.start,
                    period_end=period.end,
                    first_day=first,
                    last_day=last,
                    days=days,
                )
            )
        else:
            with translation.override("nl"):
                extra = _("terugbetaling na een wijziging")
            outcome.credit_lines.append(
                NewLine(
                    LineKind.SUBSCRIPTION,
                    _describe(plan, period.start, period.end - ONE_DAY, period.days, extra=extra),
                    -difference,
                    prices.vat(plan_id, period.start, plan.vat_rate_bp),
                    subscription_id=state.pk,
                    plan_id=plan_id,
                    period_start=period.start,
                    period_end=period.end,
                )
            )
    return outcome


def settle_from(state: SubState) -> dt.date:
    """Where settling a changed subscription starts: the period containing the first changed
    day, or the first day not yet invoiced when that is earlier."""
    timeline = state.timeline
    changed = max(state.rebill_from or timeline.started_on, timeline.started_on)
    start = timeline.period_containing(changed).start
    if state.billed_until is not None:
        start = min(start, state.billed_until)
    return start


def _subscription_line(
    state: SubState, plans: dict[int, Plan], prices: billing.PriceBook, line: billing.Line
) -> NewLine:
    plan = plans[line.plan_id]
    return NewLine(
        LineKind.SUBSCRIPTION,
        _describe(plan, line.first_day, line.last_day, line.days),
        line.amount_cents,
        prices.vat(line.plan_id, line.period.start, plan.vat_rate_bp),
        subscription_id=state.pk,
        plan_id=line.plan_id,
        period_start=line.period.start,
        period_end=line.period.end,
        first_day=line.first_day,
        last_day=line.last_day,
        days=line.days,
    )


# --- reading in bulk ----------------------------------------------------------------------------


def _plans() -> dict[int, Plan]:
    return {plan.pk: plan for plan in Plan.objects.all()}


def _states(rows: list[dict[str, Any]]) -> dict[int, SubState]:
    """Timelines of many subscriptions in two queries."""
    from bieb.subscriptions.models import PlanSwitch, SwitchOff

    ids = [row["pk"] for row in rows]
    switches: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for sub_id, day, plan_id in (
        PlanSwitch.objects.filter(subscription_id__in=ids)
        .order_by("subscription_id", "effective_on")
        .values_list("subscription_id", "effective_on", "plan_id")
    ):
        switches[sub_id].append((day, plan_id))
    offs: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for sub_id, off_from, on_from in (
        SwitchOff.objects.filter(subscription_id__in=ids)
        .order_by("subscription_id", "off_from")
        .values_list("subscription_id", "off_from", "on_from")
    ):
        offs[sub_id].append((off_from, on_from))
    states = {}
    for row in rows:
        pk = row["pk"]
        states[pk] = SubState(
            pk=pk,
            person_id=row["person_id"],
            parent_id=row["parent_id"],
            billed_until=row["billed_until"],
            rebill_from=row["rebill_from"],
            timeline=billing.Timeline(
                interval=row["interval"],
                anchor_day=row["anchor_day"],
                anchor_month=row["anchor_month"],
                started_on=row["started_on"],
                last_day=row["last_day"],
                trial_ends_on=row["trial_ends_on"],
                plan_switches=tuple(switches[pk]),
                offs=tuple(offs[pk]),
            ),
        )
    # an add-on is off when its base subscription is off, and ends with it
    for state in states.values():
        parent = states.get(state.parent_id) if state.parent_id else None
        if parent is not None:
            last = state.timeline.last_day
            if parent.timeline.last_day is not None:
                last = min(last or parent.timeline.last_day, parent.timeline.last_day)
            state.timeline = billing.Timeline(
                **{
                    **state.timeline.__dict__,
                    "offs": _merge_offs(state.timeline.offs + parent.timeline.offs),
                    "last_day": last,
                }
            )
    return states


def _merge_offs(
    offs: Iterable[tuple[dt.date, dt.date | None]],
) -> tuple[tuple[dt.date, dt.date | None], ...]:
    merged: list[tuple[dt.date, dt.date | None]] = []
    for off_from, on_from in sorted(offs, key=lambda o: o[0]):
        if merged and (merged[-1][1] is None or off_from <= merged[-1][1]):
            last_from, last_on = merged[-1]
            end = None if last_on is None or on_from is None else max(last_on, on_from)
            merged[-1] = (last_from, end)
        else:
            merged.append((off_from, on_from))
    return tuple(merged)


def _invoiced(states: Iterable[SubState]) -> dict[int, dict[tuple[dt.date, int], int]]:
    """Invoiced minus credited per subscription, period and plan, for subscriptions with a
    change, from the period containing the change (one query)."""
    wanted = {s.pk: settle_from(s) for s in states if s.rebill_from is not None}
    found: dict[int, dict[tuple[dt.date, int], int]] = defaultdict(lambda: defaultdict(int))
    if not wanted:
        return found
    condition = Q()
    for pk, start in wanted.items():
        condition |= Q(subscription_id=pk, period_start__gte=start)
    rows = (
        InvoiceLine.objects.filter(condition, kind=LineKind.SUBSCRIPTION)
        .exclude(invoice__status=InvoiceStatus.DRAFT)
        .values_list("subscription_id", "period_start", "plan_id", "invoice__kind", "amount_cents")
    )
    for sub_id, period_start, plan_id, kind, amount in rows:
        sign = -1 if kind == DocumentKind.CREDIT_NOTE else 1
        found[sub_id][(period_start, plan_id)] += sign * amount
    return found


# --- the run --------------------------------------------------------------------------------------


_FIELDS = (
    "pk", "person_id", "parent_id", "interval", "anchor_day", "anchor_month", "started_on",
    "last_day", "trial_ends_on", "billed_until", "rebill_from",
)  # fmt: skip


def _due(today: dt.date) -> Q:
    return Q(status=SubscriptionStatus.ACTIVE) & (
        Q(billed_until__isnull=True) | Q(billed_until__lte=today)
    ) | Q(rebill_from__isnull=False)


def _issuers(person_ids: Iterable[int]) -> dict[int, int | None]:
    """The organisation that issues a person's invoices: their own library, else the one
    serving their municipality."""
    from bieb.accounts.models import User
    from bieb.network.models import Organisation

    found: dict[int, int | None] = {}
    by_municipality: dict[int, list[int]] = defaultdict(list)
    for pk, org_id, municipality_id in User.objects.filter(pk__in=set(person_ids)).values_list(
        "pk", "home_organisation_id", "municipality_id"
    ):
        found[pk] = org_id
        if org_id is None and municipality_id is not None:
            by_municipality[municipality_id].append(pk)
    if by_municipality:
        for org_id, municipality_id in Organisation.municipalities.through.objects.filter(
            municipality_id__in=list(by_municipality)
        ).values_list("organisation_id", "municipality_id"):
            for pk in by_municipality[municipality_id]:
                found[pk] = found[pk] or org_id
    return found


def issuer_of(person: Any) -> int | None:
    """The organisation that issues ``person``'s invoices (``_issuers``)."""
    return _issuers([person.pk]).get(person.pk)


def _key(prefix: str, person_id: int, states: Iterable[SubState], today: dt.date) -> str:
    facts = ";".join(
        f"{s.pk}:{s.billed_until}:{s.rebill_from}" for s in sorted(states, key=lambda s: s.pk)
    )
    digest = hashlib.sha1(f"{person_id}|{today}|{facts}".encode(), usedforsecurity=False)
    return f"{prefix}:{person_id}:{digest.hexdigest()[:32]}"


@dataclass
class _Document:
    person_id: int
    organisation_id: int
    kind: str
    subscription_id: int | None
    lines: list[NewLine]
    source_key: str
    corrects_id: int | None = None


_INVOICE_COLUMNS = (
    "kind", "status", "person_id", "organisation_id", "subscription_id", "corrects_id", "year",
    "sequence", "number", "issued_on", "due_on", "total_cents", "vat_cents", "settled_cents",
    "source_key", "dunning_level", "next_dunning_on", "created_at", "finalised_at", "paid_at",
    "closed_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "invoice_id", "kind", "description", "subscription_id", "plan_id", "period_start",
    "period_end", "first_day", "last_day", "days", "amount_cents", "vat_rate_bp", "vat_cents",
)  # fmt: skip


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert many rows, returning their ids in order. PostgreSQL: ids drawn from the
    sequence, then one ``COPY`` (a tenth of the cost of a multi-row INSERT with parameters);
    SQLite: ``bulk_create``."""
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objects = model.objects.bulk_create(
            (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=1000
        )
        return [o.pk for o in objects]
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [meta.db_table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        names = ", ".join(["id", *columns])
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


@dataclass(frozen=True)
class Written:
    pk: int
    kind: str
    total_cents: int


def _write(documents: list[_Document], today: dt.date) -> list[Written]:
    """Create final documents in bulk: numbers per organisation, then invoices, lines, and the
    fees they bill."""
    if not documents:
        return []
    by_org: dict[int, list[_Document]] = defaultdict(list)
    for document in documents:
        by_org[document.organisation_id].append(document)
    codes = _organisation_codes(by_org)
    firsts = _take_numbers_many({org: len(group) for org, group in by_org.items()}, today.year)
    now = clock.now()
    due = today + dt.timedelta(days=PAYMENT_TERM_DAYS)
    ordered: list[_Document] = []
    rows: list[tuple] = []
    for org_id in sorted(by_org):
        code = codes[org_id]
        for offset, document in enumerate(by_org[org_id]):
            sequence = firsts[org_id] + offset
            total = sum(line.amount_cents for line in document.lines)
            ordered.append(document)
            rows.append(
                (
                    document.kind,
                    InvoiceStatus.OPEN if total else InvoiceStatus.PAID,
                    document.person_id,
                    org_id,
                    document.subscription_id,
                    document.corrects_id,
                    today.year,
                    sequence,
                    _number(code, today.year, sequence),
                    today,
                    due,
                    total,
                    sum(vat_in(x.amount_cents, x.vat_rate_bp) for x in document.lines),
                    0,
                    document.source_key,
                    0,
                    None,
                    now,
                    now,
                    None if total else now,
                    None,
                )
            )
    invoice_ids = _insert(Invoice, _INVOICE_COLUMNS, rows)
    line_rows = []
    fee_ids = []
    for invoice_id, document in zip(invoice_ids, ordered, strict=True):
        for line in document.lines:
            line_rows.append(
                (
                    invoice_id,
                    line.kind,
                    line.description[:200],
                    line.subscription_id,
                    line.plan_id,
                    line.period_start,
                    line.period_end,
                    line.first_day,
                    line.last_day,
                    line.days,
                    line.amount_cents,
                    line.vat_rate_bp,
                    vat_in(line.amount_cents, line.vat_rate_bp),
                )
            )
            fee_ids.append(line.fee_id)
    line_ids = _insert(InvoiceLine, _LINE_COLUMNS, line_rows)
    for fee_id, line_id in zip(fee_ids, line_ids, strict=True):
        if fee_id is not None:
            Fee.objects.filter(pk=fee_id, invoice_line__isnull=True).update(invoice_line_id=line_id)
    return [
        Written(pk, document.kind, row[11])
        for pk, document, row in zip(invoice_ids, ordered, rows, strict=True)
    ]


def _take_numbers_many(counts: dict[int, int], year: int) -> dict[int, int]:
    """``_take_numbers`` for several organisations at once (locked in id order, so two runs
    cannot deadlock); returns the first number per organisation."""
    InvoiceCounter.objects.bulk_create(
        [InvoiceCounter(organisation_id=org, year=year) for org in counts],
        ignore_conflicts=True,
    )
    counters = list(
        InvoiceCounter.objects.select_for_update()
        .filter(organisation_id__in=list(counts), year=year)
        .order_by("organisation_id")
    )
    firsts = {}
    for counter in counters:
        firsts[counter.organisation_id] = counter.last_number + 1
        counter.last_number += counts[counter.organisation_id]
    InvoiceCounter.objects.bulk_update(counters, ["last_number"])
    return firsts


def _fee_line(fee: Fee) -> NewLine:
    return NewLine(LineKind.FEE, fee.description, fee.amount_cents, fee.vat_rate_bp, fee_id=fee.pk)


@dataclass
class RunReport:
    date: str
    subscriptions: int = 0
    invoices: int = 0
    credit_notes: int = 0
    invoiced_cents: int = 0
    credited_cents: int = 0
    fee_invoices: int = 0
    skipped_no_issuer: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def billing_run(*, today: dt.date | None = None, chunk: int = CHUNK) -> dict[str, Any]:
    """Create the invoices and credit notes due by ``today`` (see the module docstring).
    Safe to run twice and to run twice at once. Returns a report."""
    today = today or clock.today()
    report = RunReport(date=today.isoformat())
    plans = _plans()
    prices = billing.price_book_for(plans)
    last_person = 0
    while True:
        with transaction.atomic():
            people = list(
                Subscription.objects.filter(_due(today), person_id__gt=last_person)
                .order_by("person_id")
                .values_list("person_id", flat=True)
                .distinct()[:chunk]
            )
            if not people:
                break
            last_person = people[-1]
            _run_chunk(people, today, plans, prices, report)
    _run_fees(today, report)
    audit_record(action="subscriptions.billing_run", data=report.as_dict())
    return report.as_dict()


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def _run_chunk(
    people: list[int],
    today: dt.date,
    plans: dict[int, Plan],
    prices: billing.PriceBook,
    report: RunReport,
) -> None:
    rows = list(
        _lock(Subscription.objects.filter(_due(today), person_id__in=people))
        .order_by("pk")
        .values(*_FIELDS)
    )
    # an add-on's base is needed for its switch-offs even when the base is not due
    parent_ids = {r["parent_id"] for r in rows if r["parent_id"]} - {r["pk"] for r in rows}
    parents = list(Subscription.objects.filter(pk__in=parent_ids).values(*_FIELDS))
    states = _states(rows + parents)
    for pk in parent_ids:
        states.pop(pk, None)
    invoiced = _invoiced(states.values())
    issuers = _issuers(people)
    fees: dict[tuple[int, int], list[Fee]] = defaultdict(list)
    # locked (and one a concurrent run holds skipped), so a fee is billed once and never both
    # billed and waived
    for fee in _lock(
        Fee.objects.filter(person_id__in=people, invoice_line__isnull=True, waived_at__isnull=True)
    ).order_by("pk"):
        fees[(fee.person_id, fee.organisation_id)].append(fee)
    by_person: dict[int, list[SubState]] = defaultdict(list)
    for state in states.values():
        by_person[state.person_id].append(state)
    documents: list[_Document] = []
    updates: list[tuple[int, dt.date]] = []
    latest = _latest_invoices([s.pk for s in states.values() if s.rebill_from is not None])
    for person_id, subs in by_person.items():
        issuer = issuers.get(person_id)
        if issuer is None:
            report.skipped_no_issuer += 1
            continue
        subs.sort(key=lambda s: (s.parent_id is not None, s.pk))
        invoice_lines: list[NewLine] = []
        credit_lines: list[NewLine] = []
        for state in subs:
            outcome = settle(state, prices, plans, invoiced.get(state.pk, {}), today)
            invoice_lines += outcome.invoice_lines
            credit_lines += outcome.credit_lines
            updates.append((state.pk, outcome.billed_until))
            report.subscriptions += 1
        base = subs[0].pk
        invoice_lines += [_fee_line(fee) for fee in fees.pop((person_id, issuer), [])]
        if invoice_lines:
            documents.append(
                _Document(
                    person_id, issuer, DocumentKind.INVOICE, base, invoice_lines,
                    _key("inv", person_id, subs, today),
                )
            )  # fmt: skip
            report.invoices += 1
            report.invoiced_cents += sum(line.amount_cents for line in invoice_lines)
        if credit_lines:
            documents.append(
                _Document(
                    person_id, issuer, DocumentKind.CREDIT_NOTE, base, credit_lines,
                    _key("cre", person_id, subs, today), corrects_id=latest.get(base),
                )
            )  # fmt: skip
            report.credit_notes += 1
            report.credited_cents += sum(line.amount_cents for line in credit_lines)
    _write(documents, today)
    _mark_billed(updates)
    _apply_credit(people)


def _apply_credit(people: list[int]) -> None:
    """Use what is left on the people's credit notes (new ones and older ones) against what
    they owe their organisations: a credit note does not wait for a direct debit."""
    from bieb.subscriptions import ledger

    for pk in (
        Invoice.objects.filter(
            person_id__in=people, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.OPEN
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        ledger.credit_note_apply(Invoice(pk=pk))


def _mark_billed(updates: list[tuple[int, dt.date]]) -> None:
    """Advance ``billed_until`` and clear ``rebill_from`` of many subscriptions: one
    ``UPDATE ... FROM (VALUES ...)`` per thousand (both databases speak it; Django's
    ``bulk_update`` writes a CASE per row, quadratic in the batch)."""
    table = connection.ops.quote_name(Subscription._meta.db_table)
    with connection.cursor() as cursor:
        for index in range(0, len(updates), 1000):
            batch = updates[index : index + 1000]
            values = ", ".join(["(%s, %s)"] * len(batch))
            cast = "::date" if connection.vendor == "postgresql" else ""
            cursor.execute(
                f"UPDATE {table} SET billed_until = v.column2{cast}, rebill_from = NULL "  # noqa: S608 - names from _meta
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
                [x for pk, day in batch for x in (pk, day)],
            )


def _latest_invoices(subscription_ids: list[int]) -> dict[int, int]:
    """The latest final invoice per subscription (what a credit note corrects)."""
    found: dict[int, int] = {}
    if not subscription_ids:
        return found
    for sub_id, pk in (
        Invoice.objects.filter(subscription_id__in=subscription_ids, kind=DocumentKind.INVOICE)
        .exclude(status=InvoiceStatus.DRAFT)
        .order_by("subscription_id", "pk")
        .values_list("subscription_id", "pk")
    ):
        found[sub_id] = pk
    return found


def _run_fees(today: dt.date, report: RunReport) -> None:
    """Fees not billed with a subscription: one invoice per person and organisation."""
    while True:
        with transaction.atomic():
            fees = list(
                _lock(
                    Fee.objects.filter(invoice_line__isnull=True, waived_at__isnull=True)
                ).order_by("person_id", "organisation_id", "pk")[:CHUNK]
            )
            if not fees:
                return
            documents = []
            for (person_id, org_id), group in itertools.groupby(
                fees, key=lambda f: (f.person_id, f.organisation_id)
            ):
                group = list(group)
                digest = hashlib.sha1(
                    ",".join(str(f.pk) for f in group).encode(), usedforsecurity=False
                ).hexdigest()[:32]
                documents.append(
                    _Document(
                        person_id, org_id, DocumentKind.INVOICE, None,
                        [_fee_line(f) for f in group], f"fee:{person_id}:{digest}",
                    )
                )  # fmt: skip
                report.fee_invoices += 1
                report.invoiced_cents += sum(f.amount_cents for f in group)
            _write(documents, today)


# --- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """The next invoice as things stand: its date, lines and exact total."""

    issued_on: dt.date
    lines: tuple[NewLine, ...]
    credit_lines: tuple[NewLine, ...]
    total_cents: int
    vat_cents: int
    credit_cents: int


def invoice_preview(subscription: Subscription, *, today: dt.date | None = None) -> Preview:
    """What the next billing run will invoice for ``subscription`` (and its add-ons): on
    ``today`` when something is due, else on the day its invoiced days run out. Nothing is
    written."""
    today = today or clock.today()
    family = list(
        Subscription.objects.filter(Q(pk=subscription.pk) | Q(parent_id=subscription.pk))
        .exclude(~Q(pk=subscription.pk) & ~Q(status=SubscriptionStatus.ACTIVE))
        .values(*_FIELDS)
    )
    states = _states(family)
    base = states[subscription.pk]
    due = base.billed_until if base.billed_until and base.billed_until > today else today
    if base.rebill_from is not None:
        due = today
    invoiced = _invoiced(states.values())
    plans = _plans()
    prices = billing.price_book_for(plans)
    lines: list[NewLine] = []
    credits: list[NewLine] = []
    for state in sorted(states.values(), key=lambda s: (s.parent_id is not None, s.pk)):
        outcome = settle(state, prices, plans, invoiced.get(state.pk, {}), due)
        lines += outcome.invoice_lines
        credits += outcome.credit_lines
    fees = Fee.objects.filter(
        person_id=subscription.person_id,
        organisation_id=_issuers([subscription.person_id]).get(subscription.person_id),
        invoice_line__isnull=True,
        waived_at__isnull=True,
    )
    lines += [_fee_line(fee) for fee in fees]
    return Preview(
        issued_on=due,
        lines=tuple(lines),
        credit_lines=tuple(credits),
        total_cents=sum(line.amount_cents for line in lines),
        vat_cents=sum(vat_in(line.amount_cents, line.vat_rate_bp) for line in lines),
        credit_cents=sum(line.amount_cents for line in credits),
    )
