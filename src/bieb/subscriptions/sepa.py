"""SEPA direct debit (automatische incasso): the collection file out, the bank's answers in.

**Export** (``sepa_export(collection_date, out)``): one pain.008.001.02 file per run, built with
sepaxml and validated by it against the XSD it ships (``export(validate=True)``; a file that
does not validate is refused and nothing is kept). In one transaction, under a lock on the
``Creditor`` row (so two exports run one after the other):

1. open credit notes of people with an active mandate settle what they owe first
   (``ledger.credit_note_apply``), so only the net is collected;
2. every open invoice with something outstanding, of a person with an active mandate, that is
   not already in a payment under way, is locked; one payment per person (status ``pending``,
   method ``directdebit``) with one allocation per invoice, exactly what ``ledger.payment_create``
   makes, but written in bulk: a run of 100,000 people cannot afford a transaction and an audit
   row each (the batch is audited once, with its counts and the file's sha256);
3. the sequence type is FRST while the mandate has never been collected, RCUR after; the
   mandate's ``first_collected_on`` is set;
4. the file is written next to ``out`` and moved into place; its sha256, count and total go on
   the ``SepaBatch``.

A second run for the same date finds nothing new (those invoices are in a payment under way)
and creates nothing. It then writes the date's latest file again, byte for byte: same message
id, same creation time, same payment-information ids, and the sha256 is checked against the
one stored (a mismatch is refused). A lost file can so be made again, and the bank refuses a
message id it already had. Refused: a date in the past (``date_in_past``), no creditor
(``creditor_missing``), an ``out`` that holds another batch's file (``sepa_file_other_batch``).

**Settling** (``sepa_settle_due(today)``): a SEPA payment still pending five days after its
collection date is paid (``ledger.payment_mark_paid``). A return after that reverses it
(``ledger.payment_mark_failed`` reopens the invoices).

**Import** (``sepa_import(path)``): a pain.002.001.03 status report (rejects before
settlement: ``TxSts`` RJCT, or a whole file or payment-information block rejected) or a
camt.054.001.02 debit notification (returns, refunds and reversals after it: debit entries with
``RtrInf``), told apart by the XML namespace. Each is matched by end-to-end id and marks the
payment failed with the reason code and a Dutch text; codes that make the mandate unusable
(``REVOKE_CODES``) revoke it too. Unknown references and amounts that do not match are listed
in the report and not applied. The file is read whole before anything is applied, in one
transaction; a file read twice changes nothing the second time (a failed payment stays failed).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from lxml import etree
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaValidationError

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.subscriptions import ledger, mandates
from bieb.subscriptions.models import (
    Creditor,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    LineKind,
    Mandate,
    MandateStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    SepaBatch,
    SequenceType,
)

__all__ = [
    "REASONS",
    "REVOKE_CODES",
    "SETTLE_AFTER_DAYS",
    "earliest_collection_date",
    "is_target_day",
    "sepa_export",
    "sepa_import",
    "sepa_settle_due",
]

SCHEMA = "pain.008.001.02"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
#: calendar days after the collection date before a pending collection counts as paid
SETTLE_AFTER_DAYS = 5
#: rows per statement where a list of keys goes into ``IN (...)``
CHUNK = 500
#: payments settled per transaction by ``sepa_settle_due``
SETTLE_CHUNK = 500

#: what the bank's reason codes mean (EPC guidance on SDD R-transactions), stored on the
#: payment in Dutch
REASONS = {
    "AC01": gettext_lazy("Rekeningnummer (IBAN) onjuist"),
    "AC04": gettext_lazy("Rekening opgeheven"),
    "AC06": gettext_lazy("Rekening geblokkeerd voor incasso"),
    "AC13": gettext_lazy("Rekeningsoort staat geen incasso toe"),
    "AG01": gettext_lazy("Incasso niet toegestaan op deze rekening"),
    "AG02": gettext_lazy("Ongeldige transactiecode"),
    "AM04": gettext_lazy("Onvoldoende saldo"),
    "AM05": gettext_lazy("Dubbele incasso"),
    "BE05": gettext_lazy("Incassant onbekend bij de bank"),
    "FF01": gettext_lazy("Ongeldig bestandsformaat"),
    "MD01": gettext_lazy("Geen machtiging"),
    "MD02": gettext_lazy("Gegevens van de machtiging ontbreken of kloppen niet"),
    "MD06": gettext_lazy("Terugboeking op verzoek van de rekeninghouder"),
    "MD07": gettext_lazy("Rekeninghouder overleden"),
    "MS02": gettext_lazy("Geweigerd door de rekeninghouder"),
    "MS03": gettext_lazy("Geweigerd door de bank, zonder opgegeven reden"),
    "RC01": gettext_lazy("BIC onjuist"),
    "RR01": gettext_lazy("Rekeninggegevens van de betaler ontbreken (regelgeving)"),
    "RR02": gettext_lazy("Naam of adres van de betaler ontbreekt (regelgeving)"),
    "RR03": gettext_lazy("Naam of adres van de incassant ontbreekt (regelgeving)"),
    "RR04": gettext_lazy("Geweigerd om redenen van regelgeving"),
    "SL01": gettext_lazy("Geweigerd door een dienst van de bank van de betaler (incassoblokkade)"),
}
#: the account or the mandate cannot be used again: the mandate is revoked, the resident has
#: to sign a new one (or pay another way)
REVOKE_CODES = frozenset({"AC01", "AC04", "AC06", "AC13", "AG01", "MD01", "MD07", "SL01"})
_ENDED = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)


# --- the TARGET calendar (lead time) --------------------------------------------------------


def _easter(year: int) -> dt.date:
    """Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    return dt.date(year, month, (h + l_ - 7 * m + 33 * month + 19) % 32)


def is_target_day(day: dt.date) -> bool:
    """Whether the euro payment systems settle on ``day`` (TARGET: no weekends, New Year,
    Good Friday, Easter Monday, 1 May, 25 and 26 December)."""
    if day.weekday() >= 5 or (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return False
    easter = _easter(day.year)
    return day not in (easter - dt.timedelta(days=2), easter + dt.timedelta(days=1))


def earliest_collection_date(today: dt.date) -> dt.date:
    """The first collection date a file sent today can still make: SEPA Core needs the file
    at the bank one TARGET day before the collection date (D-1, before the bank's cut-off)."""
    day = today + dt.timedelta(days=1)
    while not is_target_day(day):
        day += dt.timedelta(days=1)
    return day


# --- the creditor ---------------------------------------------------------------------------


def _creditor_id_valid(value: str) -> bool:
    """A SEPA creditor identifier: country, two check digits (ISO 7064 mod 97-10 over the
    national part and the country), a business code, the national identifier."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", value):
        return False
    digits = "".join(str(int(c, 36)) for c in value[7:] + value[:2] + "00")
    return 98 - int(digits) % 97 == int(value[2:4])


def _creditor() -> Creditor:
    """The collecting creditor, locked (an export at a time)."""
    found = list(Creditor.objects.select_for_update().order_by("pk")[:2])
    if not found:
        raise DomainError(
            "creditor_missing",
            _("Er is geen incassant ingesteld. Leg eerst naam, IBAN, BIC en incassant-ID vast."),
            status=409,
        )
    if len(found) > 1:
        raise DomainError(
            "creditor_ambiguous",
            _("Er zijn meerdere incassanten ingesteld; er mag er één zijn."),
            status=409,
        )
    creditor = found[0]
    from stdnum import bic as stdnum_bic
    from stdnum import iban as stdnum_iban

    if not (
        stdnum_iban.is_valid(creditor.iban)
        and stdnum_bic.is_valid(creditor.bic)
        and _creditor_id_valid(creditor.creditor_identifier)
        and mandates.sepa_text(creditor.name, 70)
    ):
        raise DomainError(
            "creditor_invalid",
            _(
                "De gegevens van de incassant kloppen niet (IBAN, BIC of incassant-ID). Verbeter ze eerst."
            ),
            status=409,
        )
    return creditor


# --- the file -------------------------------------------------------------------------------


class _Collection(SepaDD):
    """sepaxml's direct-debit file, made deterministic: our message id, the batch's creation
    time instead of the machine's clock, payment-information ids ``<message id>-<FRST|RCUR>``
    instead of random ones, and ``NOTPROVIDED`` for a debtor bank without BIC (the EPC
    guidelines' way; sepaxml leaves the element empty for pain.008.001.02)."""

    def __init__(self, config: dict[str, Any], *, message_id: str, created_at: dt.datetime):
        self._message_id = message_id
        self._created_at = created_at
        super().__init__(config, schema=SCHEMA, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._message_id
        super()._create_header()
        created = self._created_at.astimezone(clock.AMSTERDAM).strftime("%Y-%m-%dT%H:%M:%S")
        self._xml.find(f"{self.root_el}/GrpHdr/CreDtTm").text = created

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for info in self._xml.find(self.root_el).findall("PmtInf"):
            info.find("PmtInfId").text = f"{self.msg_id}-{info.find('PmtTpInf/SeqTp').text}"
            for agent in info.iterfind("DrctDbtTxInf/DbtrAgt/FinInstnId"):
                if len(agent) == 0:
                    ET.SubElement(ET.SubElement(agent, "Othr"), "Id").text = "NOTPROVIDED"


@functools.cache
def _schema() -> etree.XMLSchema:
    """The official pain.008.001.02 schema, as sepaxml ships it, compiled once by libxml2.

    sepaxml's own validation (``export(validate=True)``) runs xmlschema, pure Python: 29 of
    the 46 seconds of a 100,000-payment file, and since xmlschema 4.2 it refuses a document of
    over a million elements (some 45,000 payments) unless its guard is lifted. libxml2 checks
    the same file against the same schema in about 1.4 seconds."""
    import sepaxml

    path = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def _validate(data: bytes) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    schema = _schema()
    if not schema.validate(etree.fromstring(data, parser)):
        raise SepaValidationError(str(schema.error_log.last_error))


def _description(numbers: list[str]) -> str:
    return ngettext(
        "Bibliotheek factuur %(numbers)s", "Bibliotheek facturen %(numbers)s", len(numbers)
    ) % {"numbers": ", ".join(numbers)}


def _render(batch: SepaBatch, creditor: Creditor) -> bytes:
    """The batch's pain.008 file, from what is stored (so writing it again gives the same
    bytes). sepaxml validates it against the schema."""
    numbers: dict[int, list[str]] = defaultdict(list)
    for payment_id, number in (
        PaymentAllocation.objects.filter(payment__sepa_batch=batch)
        .order_by("payment_id", "invoice_id")
        .values_list("payment_id", "invoice__number")
    ):
        numbers[payment_id].append(number)
    config = {
        "name": mandates.sepa_text(creditor.name, 70),
        "IBAN": creditor.iban,
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": creditor.creditor_identifier,
        "currency": "EUR",
    }
    collection = _Collection(config, message_id=batch.message_id, created_at=batch.created_at)
    rows = (
        Payment.objects.filter(sepa_batch=batch)
        .order_by("pk")
        .values_list(
            "pk",
            "end_to_end_id",
            "amount_cents",
            "sequence_type",
            "collection_date",
            "mandate__reference",
            "mandate__signed_on",
            "mandate__iban",
            "mandate__bic",
            "mandate__account_holder",
        )
        .iterator(chunk_size=5_000)
    )
    count = 0
    try:
        with translation.override("nl"):
            for pk, e2e, amount, sequence, date, reference, signed, iban, bic, holder in rows:
                payment = {
                    "name": mandates.sepa_text(holder, 70),
                    "IBAN": iban,
                    "amount": amount,
                    "type": sequence,
                    "collection_date": date,
                    "mandate_id": reference,
                    "mandate_date": signed,
                    "description": mandates.sepa_text(_description(numbers[pk]), 140),
                    "endtoend_id": e2e,
                }
                if bic:
                    payment["BIC"] = bic
                collection.add_payment(payment)
                count += 1
        data = collection.export(validate=False)
        _validate(data)
        return data
    except SepaValidationError as exc:
        raise DomainError(
            "sepa_file_invalid",
            _("Het incassobestand voldoet niet aan het SEPA-schema; er is niets aangemaakt."),
            status=500,
        ) from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(out: Path, data: bytes, batch: SepaBatch) -> None:
    """Write ``data`` to ``out`` (a temporary file moved into place). Refuses to overwrite a
    file that is another batch's collection file."""
    try:
        if out.is_file():
            with out.open("rb") as existing:
                present = hashlib.file_digest(existing, "sha256").hexdigest()
            other = SepaBatch.objects.filter(sha256=present).exclude(pk=batch.pk).first()
            if other is not None:
                raise DomainError(
                    "sepa_file_other_batch",
                    _(
                        "Op die plek staat het incassobestand %(message_id)s. Kies een andere bestandsnaam."
                    )
                    % {"message_id": other.message_id},
                    status=409,
                )
        temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(out)
    except OSError as exc:
        raise DomainError(
            "sepa_file_unwritable",
            _("Het incassobestand kan niet worden geschreven: %(error)s") % {"error": exc.strerror},
            status=500,
        ) from exc


# --- export ---------------------------------------------------------------------------------


def _for_update(queryset):
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def _open_invoices():
    """Open invoices with something to collect. A day pass is paid online on its day and
    never collected by direct debit (unpaid, it lapses: ``services.day_passes_lapse``)."""
    return Invoice.objects.filter(
        kind=DocumentKind.INVOICE,
        status=InvoiceStatus.OPEN,
        settled_cents__lt=F("total_cents"),
    ).exclude(lines__kind=LineKind.DAY_PASS)


def _apply_credit_notes(actor: Any) -> int:
    """Let open credit notes of people with an active mandate settle what they owe."""
    applied = 0
    notes = (
        Invoice.objects.filter(
            kind=DocumentKind.CREDIT_NOTE,
            status=InvoiceStatus.OPEN,
            person__mandates__status=MandateStatus.ACTIVE,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in list(notes):
        applied += ledger.credit_note_apply(Invoice(pk=pk), actor=actor)
    return applied


@dataclass
class _Made:
    batch: SepaBatch
    first: int
    recurring: int
    invoices: int


def _collect(collection_date: dt.date, now: dt.datetime) -> _Made | None:
    """Lock what is due, make the batch and its payments; ``None`` when nothing is due."""
    invoices = list(
        _for_update(_open_invoices().filter(person__mandates__status=MandateStatus.ACTIVE))
        .order_by("pk")
        .values_list("pk", "person_id", "total_cents", "settled_cents")
    )
    if not invoices:
        return None
    # a statement of its own, after the locks: it sees payments committed while we waited
    busy = set(
        PaymentAllocation.objects.filter(
            payment__status__in=ledger.IN_FLIGHT,
            invoice__kind=DocumentKind.INVOICE,
            invoice__status=InvoiceStatus.OPEN,
        ).values_list("invoice_id", flat=True)
    )
    active = {
        person_id: (pk, first_collected_on)
        for pk, person_id, first_collected_on in _for_update(
            Mandate.objects.filter(
                status=MandateStatus.ACTIVE, person_id__in=_open_invoices().values("person_id")
            )
        )
        .order_by("pk")
        .values_list("pk", "person_id", "first_collected_on")
    }
    owed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, person_id, total, settled in invoices:
        if pk not in busy and person_id in active:
            owed[person_id].append((pk, total - settled))
    if not owed:
        return None
    number = SepaBatch.objects.filter(collection_date=collection_date).count() + 1
    message_id = f"BIEB-{collection_date:%Y%m%d}-{number:03d}"
    batch = SepaBatch.objects.create(
        message_id=message_id, collection_date=collection_date, created_at=now
    )
    people = sorted(owed)
    payments = []
    for index, person_id in enumerate(people, start=1):
        mandate_id, first_collected_on = active[person_id]
        payments.append(
            Payment(
                person_id=person_id,
                method=PaymentMethod.DIRECT_DEBIT,
                status=PaymentStatus.PENDING,
                amount_cents=sum(amount for _pk, amount in owed[person_id]),
                mandate_id=mandate_id,
                sepa_batch=batch,
                end_to_end_id=f"{message_id}-{index:07d}",
                sequence_type=(
                    SequenceType.FIRST if first_collected_on is None else SequenceType.RECURRING
                ),
                collection_date=collection_date,
                created_at=now,
            )
        )
    Payment.objects.bulk_create(payments)
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(invoice_id=pk, payment_id=payment.pk, amount_cents=amount, created_at=now)
        for person_id, payment in zip(people, payments, strict=True)
        for pk, amount in owed[person_id]
    )
    first = sum(p.sequence_type == SequenceType.FIRST for p in payments)
    if first:
        Mandate.objects.filter(
            pk__in=Payment.objects.filter(
                sepa_batch=batch, sequence_type=SequenceType.FIRST
            ).values("mandate_id")
        ).update(first_collected_on=collection_date)
    batch.payment_count = len(payments)
    batch.total_cents = sum(p.amount_cents for p in payments)
    return _Made(batch, first, len(payments) - first, sum(len(v) for v in owed.values()))


def sepa_export(*, collection_date: dt.date, out: Path | str, actor: Any = None) -> dict[str, Any]:
    """Collect what is owed under active mandates on ``collection_date`` in a pain.008.001.02
    file at ``out`` (see the module docstring). Returns a report. A second run for the date
    creates nothing and writes the date's latest file again, identical."""
    if collection_date is None:
        raise DomainError("date_required", _("Geef de incassodatum op."))
    today = clock.today()
    if collection_date < today:
        raise DomainError(
            "date_in_past",
            _("De incassodatum ligt in het verleden. Kies een datum vanaf %(date)s.")
            % {"date": earliest_collection_date(today).isoformat()},
        )
    out = Path(out)
    earliest = earliest_collection_date(today)
    report: dict[str, Any] = {
        "collection_date": collection_date.isoformat(),
        "earliest_collection_date": earliest.isoformat(),
        "lead_time_ok": collection_date >= earliest and is_target_day(collection_date),
        "payments": 0,
        "total_cents": 0,
        "first": 0,
        "recurring": 0,
        "invoices": 0,
        "credit_applied_cents": 0,
        "message_id": None,
        "file": None,
        "sha256": None,
        "rewritten": False,
    }
    with transaction.atomic():
        creditor = _creditor()
        report["credit_applied_cents"] = _apply_credit_notes(actor)
        made = _collect(collection_date, clock.now())
        if made is None:
            batch = (
                SepaBatch.objects.filter(collection_date=collection_date).order_by("-pk").first()
            )
            if batch is None:
                return report
            data = _render(batch, creditor)
            if _sha256(data) != batch.sha256:
                raise DomainError(
                    "sepa_file_changed",
                    _(
                        "Het bestand %(message_id)s zou nu anders worden dan het verstuurde (zijn gegevens zijn gewijzigd); het is niet opnieuw geschreven."
                    )
                    % {"message_id": batch.message_id},
                    status=409,
                )
            _write(out, data, batch)
            report.update(
                message_id=batch.message_id,
                file=str(out),
                sha256=batch.sha256,
                rewritten=True,
                batch_payments=batch.payment_count,
                batch_total_cents=batch.total_cents,
            )
            audit_record(
                action="subscriptions.sepa_rewrite",
                actor=actor,
                subject=batch,
                data={"message_id": batch.message_id, "file": str(out), "sha256": batch.sha256},
            )
            return report
        batch = made.batch
        data = _render(batch, creditor)
        batch.sha256 = _sha256(data)
        batch.save(update_fields=["payment_count", "total_cents", "sha256"])
        _write(out, data, batch)
        report.update(
            payments=batch.payment_count,
            total_cents=batch.total_cents,
            first=made.first,
            recurring=made.recurring,
            invoices=made.invoices,
            message_id=batch.message_id,
            file=str(out),
            sha256=batch.sha256,
        )
        audit_record(
            action="subscriptions.sepa_export",
            actor=actor,
            subject=batch,
            data={k: v for k, v in report.items() if k not in ("file", "rewritten")},
        )
    return report


# --- settling -------------------------------------------------------------------------------


def sepa_settle_due(*, today: dt.date | None = None, actor: Any = None) -> int:
    """Pay SEPA payments still pending ``SETTLE_AFTER_DAYS`` or more days after their
    collection date (``ledger.payment_mark_paid``); returns how many. A payment that failed
    meanwhile (a reject came in) is left alone."""
    today = today or clock.today()
    cutoff = today - dt.timedelta(days=SETTLE_AFTER_DAYS)
    due = list(
        Payment.objects.filter(
            method=PaymentMethod.DIRECT_DEBIT,
            status=PaymentStatus.PENDING,
            sepa_batch__isnull=False,
            collection_date__lte=cutoff,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    paid = 0
    for start in range(0, len(due), SETTLE_CHUNK):
        with transaction.atomic():
            for pk in due[start : start + SETTLE_CHUNK]:
                payment = (
                    Payment.objects.select_for_update()
                    .filter(pk=pk, status=PaymentStatus.PENDING)
                    .first()
                )
                if payment is None:
                    continue
                ledger.payment_mark_paid(payment, actor=actor)
                paid += 1
    if paid:
        audit_record(
            action="subscriptions.sepa_settle",
            actor=actor,
            data={"date": today.isoformat(), "paid": paid},
        )
    return paid


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """A collection the bank did not make, as a file names it."""

    #: ``tx``: an end-to-end id; ``info``: a payment-information id; ``message``: a message id
    scope: str
    reference: str
    code: str
    detail: str = ""
    amount_cents: int | None = None


@dataclass
class _Read:
    format: str
    message_id: str
    failures: list[_Failure] = field(default_factory=list)
    #: transactions in the file that are not a failure (accepted, a credit entry...)
    ignored: int = 0


def _malformed(detail: str) -> DomainError:
    return DomainError(
        "sepa_file_malformed",
        _("Dit bankbestand is geen geldig SEPA-bericht (%(detail)s). Er is niets verwerkt.")
        % {"detail": detail},
        details={"problem": detail},
    )


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _malformed(f"XML: {exc.msg}") from exc
    if root.getroottree().docinfo.doctype:
        raise _malformed("DOCTYPE")
    return root


def _text(element: etree._Element | None, path: str, ns: dict[str, str]) -> str:
    if element is None:
        return ""
    found = element.find(path, ns)
    return (found.text or "").strip() if found is not None else ""


_AMOUNT = re.compile(r"(\d{1,18})(?:\.(\d{1,5}))?")


def _cents(element: etree._Element | None) -> int | None:
    """An ``ActiveOrHistoricCurrencyAndAmount`` in cents; ``None`` when absent. A currency
    other than euro, or fractions of a cent, are -1 (they match no payment)."""
    if element is None:
        return None
    match = _AMOUNT.fullmatch((element.text or "").strip())
    if match is None:
        raise _malformed(f"bedrag {element.text!r}")
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    if element.get("Ccy") != "EUR" or fraction[2:].strip("0"):
        return -1
    return int(whole) * 100 + int(fraction[:2])


def _reason(element: etree._Element, info: str, ns: dict[str, str]) -> tuple[str, str]:
    """The reason code (``Cd``, else ``Prtry``) and the bank's additional text."""
    code = _text(element, f"{info}/p:Rsn/p:Cd", ns) or _text(element, f"{info}/p:Rsn/p:Prtry", ns)
    detail = " ".join(
        (e.text or "").strip() for e in element.iterfind(f"{info}/p:AddtlInf", ns) if e.text
    )
    return code, detail


def _read_pain002(root: etree._Element) -> _Read:
    ns = {"p": PAIN002}
    body = root.find("p:CstmrPmtStsRpt", ns)
    group = body.find("p:OrgnlGrpInfAndSts", ns) if body is not None else None
    if group is None or not _text(group, "p:OrgnlMsgId", ns):
        raise _malformed("CstmrPmtStsRpt/OrgnlGrpInfAndSts")
    read = _Read("pain.002.001.03", _text(body, "p:GrpHdr/p:MsgId", ns))
    # the most precise first: a transaction's own reason wins over its block's or file's
    for info in body.iterfind("p:OrgnlPmtInfAndSts", ns):
        for tx in info.iterfind("p:TxInfAndSts", ns):
            if _text(tx, "p:TxSts", ns) != "RJCT":
                read.ignored += 1
                continue
            reference = _text(tx, "p:OrgnlEndToEndId", ns)
            if not reference:
                raise _malformed("TxInfAndSts zonder OrgnlEndToEndId")
            code, detail = _reason(tx, "p:StsRsnInf", ns)
            amount = _cents(tx.find("p:OrgnlTxRef/p:Amt/p:InstdAmt", ns))
            read.failures.append(_Failure("tx", reference, code, detail, amount))
    for info in body.iterfind("p:OrgnlPmtInfAndSts", ns):
        if _text(info, "p:PmtInfSts", ns) == "RJCT":
            code, detail = _reason(info, "p:StsRsnInf", ns)
            read.failures.append(_Failure("info", _text(info, "p:OrgnlPmtInfId", ns), code, detail))
    if _text(group, "p:GrpSts", ns) == "RJCT":
        code, detail = _reason(group, "p:StsRsnInf", ns)
        read.failures.append(_Failure("message", _text(group, "p:OrgnlMsgId", ns), code, detail))
    return read


def _read_camt054(root: etree._Element) -> _Read:
    ns = {"p": CAMT054}
    body = root.find("p:BkToCstmrDbtCdtNtfctn", ns)
    if body is None or body.find("p:Ntfctn", ns) is None:
        raise _malformed("BkToCstmrDbtCdtNtfctn/Ntfctn")
    read = _Read("camt.054.001.02", _text(body, "p:GrpHdr/p:MsgId", ns))
    for entry in body.iterfind("p:Ntfctn/p:Ntry", ns):
        debit = _text(entry, "p:CdtDbtInd", ns) == "DBIT"
        details = entry.findall("p:NtryDtls/p:TxDtls", ns)
        for tx in details:
            returned = tx.find("p:RtrInf", ns)
            if returned is None or not debit:
                read.ignored += 1
                continue
            reference = _text(tx, "p:Refs/p:EndToEndId", ns)
            if not reference:
                raise _malformed("TxDtls met RtrInf zonder Refs/EndToEndId")
            code, detail = _reason(tx, "p:RtrInf", ns)
            amount = _cents(tx.find("p:AmtDtls/p:InstdAmt/p:Amt", ns))
            if amount is None:
                amount = _cents(tx.find("p:AmtDtls/p:TxAmt/p:Amt", ns))
            if amount is None and len(details) == 1:
                amount = _cents(entry.find("p:Amt", ns))
            read.failures.append(_Failure("tx", reference, code, detail, amount))
        if not details:
            read.ignored += 1
    return read


def _reason_text(code: str, detail: str) -> str:
    with translation.override("nl"):
        text = (
            str(REASONS[code])
            if code in REASONS
            else _("Redencode van de bank: %(code)s") % {"code": code or "?"}
        )
    return f"{text} ({detail})" if detail else text


def _payments_named(failures: list[_Failure]) -> dict[str, list[Payment]]:
    """The SEPA payments each failure names (by end-to-end id, payment-information id or
    message id); a reference that names none is absent."""
    found: dict[str, list[Payment]] = {}
    e2e = sorted({f.reference for f in failures if f.scope == "tx"})
    for start in range(0, len(e2e), CHUNK):
        for payment in Payment.objects.filter(
            method=PaymentMethod.DIRECT_DEBIT, end_to_end_id__in=e2e[start : start + CHUNK]
        ):
            found[payment.end_to_end_id] = [payment]
    for failure in failures:
        if failure.scope == "tx":
            continue
        message_id, sequence = failure.reference, None
        if failure.scope == "info":
            message_id, _dash, sequence = failure.reference.rpartition("-")
        payments = Payment.objects.filter(
            method=PaymentMethod.DIRECT_DEBIT, sepa_batch__message_id=message_id
        ).order_by("pk")
        if sequence is not None:
            payments = payments.filter(sequence_type=sequence)
        if message_id and (listed := list(payments)):
            found[failure.reference] = listed
    return found


def sepa_import(path: Path | str, *, actor: Any = None) -> dict[str, Any]:
    """Apply the bank's rejects (pain.002.001.03) or returns (camt.054.001.02) in ``path``
    (see the module docstring). Returns a report; refuses an unreadable, malformed or unknown
    file (``sepa_file_unreadable``, ``sepa_file_malformed``, ``sepa_format_unknown``) with
    nothing applied."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DomainError(
            "sepa_file_unreadable",
            _("Het bankbestand kan niet worden gelezen: %(error)s") % {"error": exc.strerror},
        ) from exc
    root = _parse(data)
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "Document" or namespace not in (PAIN002, CAMT054):
        raise DomainError(
            "sepa_format_unknown",
            _(
                "Dit bestand is geen pain.002.001.03- of camt.054.001.02-bericht van de bank (namespace %(namespace)s)."
            )
            % {"namespace": namespace or "-"},
        )
    read = _read_pain002(root) if namespace == PAIN002 else _read_camt054(root)
    report: dict[str, Any] = {
        "format": read.format,
        "message_id": read.message_id,
        "sha256": _sha256(data),
        "transactions": 0,
        "failed": 0,
        "reversed": 0,
        "already_failed": 0,
        "mandates_revoked": 0,
        "ignored": read.ignored,
        "by_code": {},
        "unknown": [],
        "mismatched": [],
    }
    codes: Counter[str] = Counter()
    with transaction.atomic():
        named = _payments_named(read.failures)
        seen: set[int] = set()
        for failure in read.failures:
            payments = named.get(failure.reference)
            if payments is None:
                report["unknown"].append(failure.reference)
                continue
            for payment in payments:
                if payment.pk in seen:
                    continue
                seen.add(payment.pk)
                report["transactions"] += 1
                if (
                    failure.amount_cents is not None
                    and failure.amount_cents != payment.amount_cents
                ):
                    report["mismatched"].append(payment.end_to_end_id)
                    continue
                if payment.status in _ENDED:
                    report["already_failed"] += 1
                    continue
                was_paid = payment.status == PaymentStatus.PAID
                ledger.payment_mark_failed(
                    payment,
                    code=failure.code,
                    reason=_reason_text(failure.code, failure.detail),
                    actor=actor,
                )
                report["failed"] += 1
                report["reversed"] += was_paid
                codes[failure.code or "?"] += 1
                if failure.code in REVOKE_CODES and payment.mandate_id:
                    report["mandates_revoked"] += mandates.mandate_revoke_returned(
                        mandate=Mandate(pk=payment.mandate_id), code=failure.code, actor=actor
                    )
        report["by_code"] = dict(sorted(codes.items()))
        report["unknown_count"] = len(report["unknown"])
        audit_record(action="subscriptions.sepa_import", actor=actor, data=report)
    return report
