"""SEPA direct debit end to end: the pain.008 collection file (validated against the XSD sepaxml
ships, read back to the cent), FRST and RCUR, credit notes netted, running twice, settling, and
the bank's rejects (pain.002) and returns (camt.054) from sample files in ``data/``."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import sepaxml
import xmlschema
from django.core.management import CommandError, call_command
from lxml import etree

from bieb.accounts.tests.factories import OrganisationFactory
from bieb.circulation.tests.test_races import at_once
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.subscriptions import ledger, mandates, sepa
from bieb.subscriptions.invoicing import NewLine, invoice_create
from bieb.subscriptions.models import (
    Creditor,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Mandate,
    MandateStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    SepaBatch,
)
from bieb.subscriptions.tests.factories import adult

D = dt.date
TODAY = D(2025, 3, 3)  # a Monday
COLLECT = D(2025, 3, 10)
DATA = Path(__file__).parent / "data"
NS = {"d": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
CREDITOR_IBAN = "NL91ABNA0417164300"
CREDITOR_ID = "NL28ZZZ401234560000"


def on(day: dt.date):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, 12, tzinfo=clock.AMSTERDAM))


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message
    return caught.value


@functools.cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(
        str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")
    )


def read(path: Path) -> etree._ElementTree:
    """The file, validated against the official pain.008.001.02 schema."""
    schema().validate(str(path))
    return etree.parse(str(path))


def cents(text: str) -> int:
    whole, fraction = text.split(".")
    assert len(fraction) == 2, text
    return int(whole) * 100 + int(fraction)


def creditor() -> Creditor:
    return Creditor.objects.create(
        name="Bibliotheeknetwerk Incasso",
        iban=CREDITOR_IBAN,
        bic="ABNANL2A",
        creditor_identifier=CREDITOR_ID,
    )


def owe(person, organisation, *amounts: int) -> list[Invoice]:
    """One open invoice per amount (a fee line each)."""
    return [
        invoice_create(
            person=person,
            organisation_id=organisation.pk,
            lines=[NewLine("fee", "Te laat ingeleverd", amount, 0)],
        )
        for amount in amounts
    ]


def credit(person, organisation, amount: int) -> Invoice:
    return invoice_create(
        person=person,
        organisation_id=organisation.pk,
        kind=DocumentKind.CREDIT_NOTE,
        lines=[NewLine("correction", "Tegoed", amount, 0)],
    )


def debtor(iban: str, bic: str = "", holder: str = "A. Lezer"):
    person = adult()
    mandates.mandate_create(person=person, iban=iban, bic=bic, account_holder=holder)
    return person


def scenario() -> SimpleNamespace:
    """Three residents with a mandate, in this order (their end-to-end ids are -0000001..3 in
    the first file of 10 March, as the sample bank files expect): Anna owes 4.75, Bram 12.50 and
    3.00, Chantal 7.50."""
    with on(TODAY):
        creditor()
        org = OrganisationFactory(code="UTR")
        a = debtor("NL20INGB0001234567", "INGBNL2A", "Anna de Vries")
        b = debtor("NL44RABO0123456789", "", "Bram Bakker & Zn")
        c = debtor("NL02ABNA0123456789", "ABNANL2A", "Chantal Çelik")
        invoices = {a: owe(a, org, 475), b: owe(b, org, 1250, 300), c: owe(c, org, 750)}
    return SimpleNamespace(a=a, b=b, c=c, org=org, invoices=invoices)


def export(tmp_path: Path, day: dt.date = COLLECT, name: str = "incasso.xml", today=TODAY):
    with on(today):
        return sepa.sepa_export(collection_date=day, out=tmp_path / name)


def import_(path: Path, today: dt.date):
    with on(today):
        return sepa.sepa_import(path)


def payment_of(person) -> Payment:
    return Payment.objects.get(person=person, method=PaymentMethod.DIRECT_DEBIT)


def state() -> list:
    """Everything an import may change, to compare before and after."""
    return [
        list(Payment.objects.order_by("pk").values_list("pk", "status", "failure_code", "paid_at")),
        list(Invoice.objects.order_by("pk").values_list("pk", "status", "settled_cents")),
        list(Mandate.objects.order_by("pk").values_list("pk", "status")),
        PaymentAllocation.objects.count(),
    ]


def transactions(tree) -> list[dict]:
    found = []
    for info in tree.iterfind("d:CstmrDrctDbtInitn/d:PmtInf", NS):
        sequence = info.findtext("d:PmtTpInf/d:SeqTp", namespaces=NS)
        for tx in info.iterfind("d:DrctDbtTxInf", NS):
            found.append(
                {
                    "seq": sequence,
                    "e2e": tx.findtext("d:PmtId/d:EndToEndId", namespaces=NS),
                    "cents": cents(tx.findtext("d:InstdAmt", namespaces=NS)),
                    "ccy": tx.find("d:InstdAmt", NS).get("Ccy"),
                    "mandate": tx.findtext("d:DrctDbtTx/d:MndtRltdInf/d:MndtId", namespaces=NS),
                    "iban": tx.findtext("d:DbtrAcct/d:Id/d:IBAN", namespaces=NS),
                    "agent": tx.findtext("d:DbtrAgt/d:FinInstnId/d:BIC", namespaces=NS)
                    or tx.findtext("d:DbtrAgt/d:FinInstnId/d:Othr/d:Id", namespaces=NS),
                    "name": tx.findtext("d:Dbtr/d:Nm", namespaces=NS),
                    "text": tx.findtext("d:RmtInf/d:Ustrd", namespaces=NS),
                }
            )
    return found


# --- the collection file -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_collection_file_is_valid_and_holds_every_amount_to_the_cent(tmp_path):
    s = scenario()
    with on(TODAY):
        no_mandate = adult()
        owe(no_mandate, s.org, 999)
        revoked = debtor("NL20INGB0001234567")
        mandates.mandate_revoke(person=revoked)
        owe(revoked, s.org, 999)
        paying_online = debtor("NL20INGB0001234567")
        online = owe(paying_online, s.org, 999)
        ledger.payment_create(person=paying_online, method=PaymentMethod.IDEAL, invoices=online)
        settled = debtor("NL20INGB0001234567")
        (paid,) = owe(settled, s.org, 999)
        ledger.payment_mark_paid(
            ledger.payment_create(person=settled, method=PaymentMethod.IDEAL, invoices=[paid])
        )

    report = export(tmp_path)

    path = tmp_path / "incasso.xml"
    tree = read(path)
    header = tree.find("d:CstmrDrctDbtInitn/d:GrpHdr", NS)
    assert header.findtext("d:MsgId", namespaces=NS) == "BIEB-20250310-001"
    assert header.findtext("d:NbOfTxs", namespaces=NS) == "3"
    assert cents(header.findtext("d:CtrlSum", namespaces=NS)) == 475 + 1550 + 750
    assert header.findtext("d:CreDtTm", namespaces=NS) == "2025-03-03T12:00:00"
    (info,) = tree.findall("d:CstmrDrctDbtInitn/d:PmtInf", NS)
    assert info.findtext("d:PmtInfId", namespaces=NS) == "BIEB-20250310-001-FRST"
    assert info.findtext("d:NbOfTxs", namespaces=NS) == "3"
    assert cents(info.findtext("d:CtrlSum", namespaces=NS)) == 2775
    assert info.findtext("d:PmtTpInf/d:LclInstrm/d:Cd", namespaces=NS) == "CORE"
    assert info.findtext("d:ReqdColltnDt", namespaces=NS) == "2025-03-10"
    assert info.findtext("d:CdtrAcct/d:Id/d:IBAN", namespaces=NS) == CREDITOR_IBAN
    assert info.findtext("d:CdtrAgt/d:FinInstnId/d:BIC", namespaces=NS) == "ABNANL2A"
    assert info.findtext("d:CdtrSchmeId/d:Id/d:PrvtId/d:Othr/d:Id", namespaces=NS) == CREDITOR_ID
    numbers = {p: [i.number for i in invoices] for p, invoices in s.invoices.items()}
    assert transactions(tree) == [
        {
            "seq": "FRST",
            "e2e": "BIEB-20250310-001-0000001",
            "cents": 475,
            "ccy": "EUR",
            "mandate": f"BIEB-{s.a.pk}-1",
            "iban": "NL20INGB0001234567",
            "agent": "INGBNL2A",
            "name": "Anna de Vries",
            "text": f"Bibliotheek factuur {numbers[s.a][0]}",
        },
        {
            "seq": "FRST",
            "e2e": "BIEB-20250310-001-0000002",
            "cents": 1550,
            "ccy": "EUR",
            "mandate": f"BIEB-{s.b.pk}-1",
            "iban": "NL44RABO0123456789",
            "agent": "NOTPROVIDED",
            "name": "Bram Bakker Zn",  # '&' is outside the SEPA character set
            "text": f"Bibliotheek facturen {numbers[s.b][0]}, {numbers[s.b][1]}",
        },
        {
            "seq": "FRST",
            "e2e": "BIEB-20250310-001-0000003",
            "cents": 750,
            "ccy": "EUR",
            "mandate": f"BIEB-{s.c.pk}-1",
            "iban": "NL02ABNA0123456789",
            "agent": "ABNANL2A",
            "name": "Chantal Celik",
            "text": f"Bibliotheek factuur {numbers[s.c][0]}",
        },
    ]

    batch = SepaBatch.objects.get()
    assert (batch.message_id, batch.collection_date, batch.payment_count, batch.total_cents) == (
        "BIEB-20250310-001",
        COLLECT,
        3,
        2775,
    )
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == report["sha256"]
    payments = list(Payment.objects.filter(sepa_batch=batch).order_by("pk"))
    assert [(p.person_id, p.amount_cents) for p in payments] == [
        (s.a.pk, 475),
        (s.b.pk, 1550),
        (s.c.pk, 750),
    ]
    for payment in payments:
        assert (payment.status, payment.method, payment.sequence_type) == (
            PaymentStatus.PENDING,
            PaymentMethod.DIRECT_DEBIT,
            "FRST",
        )
        assert payment.collection_date == COLLECT
        assert payment.mandate == mandates.mandate_of(payment.person)
        assert payment.mandate.first_collected_on == COLLECT
        allocated = {a.invoice_id: a.amount_cents for a in payment.allocations.all()}
        assert allocated == {i.pk: i.total_cents for i in s.invoices[payment.person]}
    # not collected: no mandate, a revoked one, an invoice already in a payment or paid
    assert not Payment.objects.filter(
        person__in=[no_mandate, revoked, settled], method=PaymentMethod.DIRECT_DEBIT
    ).exists()
    assert list(Payment.objects.filter(person=paying_online).values_list("method", flat=True)) == [
        PaymentMethod.IDEAL
    ]
    assert {
        k: report[k] for k in ("payments", "total_cents", "first", "recurring", "invoices")
    } == {
        "payments": 3,
        "total_cents": 2775,
        "first": 3,
        "recurring": 0,
        "invoices": 4,
    }
    assert report["lead_time_ok"] is True and report["rewritten"] is False
    event = AuditEvent.objects.get(action="subscriptions.sepa_export")
    assert event.subject == f"subscriptions.sepabatch:{batch.pk}"
    assert (event.data["payments"], event.data["total_cents"]) == (3, 2775)


@pytest.mark.django_db
def test_the_first_collection_is_frst_and_later_ones_rcur_and_a_new_mandate_starts_again(tmp_path):
    s = scenario()
    export(tmp_path, name="march.xml")
    with on(D(2025, 3, 17)):
        assert sepa.sepa_settle_due() == 3
    with on(D(2025, 4, 3)):
        owe(s.a, s.org, 475)
        owe(s.b, s.org, 1000)
        mandates.mandate_create(person=s.c, iban="NL20INGB0001234567", account_holder="C. Celik")
        owe(s.c, s.org, 750)

    report = export(tmp_path, D(2025, 4, 10), "april.xml", today=D(2025, 4, 3))

    tree = read(tmp_path / "april.xml")
    blocks = {
        info.findtext("d:PmtTpInf/d:SeqTp", namespaces=NS): info
        for info in tree.iterfind("d:CstmrDrctDbtInitn/d:PmtInf", NS)
    }
    assert set(blocks) == {"FRST", "RCUR"}
    assert blocks["RCUR"].findtext("d:NbOfTxs", namespaces=NS) == "2"
    assert cents(blocks["RCUR"].findtext("d:CtrlSum", namespaces=NS)) == 1475
    assert blocks["FRST"].findtext("d:NbOfTxs", namespaces=NS) == "1"
    assert cents(blocks["FRST"].findtext("d:CtrlSum", namespaces=NS)) == 750
    assert blocks["RCUR"].findtext("d:PmtInfId", namespaces=NS) == "BIEB-20250410-001-RCUR"
    header = tree.find("d:CstmrDrctDbtInitn/d:GrpHdr", NS)
    assert (
        header.findtext("d:NbOfTxs", namespaces=NS),
        cents(header.findtext("d:CtrlSum", namespaces=NS)),
    ) == ("3", 2225)
    by_person = {
        p.person_id: p for p in Payment.objects.filter(sepa_batch__message_id=report["message_id"])
    }
    assert {pk: p.sequence_type for pk, p in by_person.items()} == {
        s.a.pk: "RCUR",
        s.b.pk: "RCUR",
        s.c.pk: "FRST",
    }
    assert mandates.mandate_of(s.a).first_collected_on == COLLECT  # unchanged by RCUR
    assert mandates.mandate_of(s.c).first_collected_on == D(2025, 4, 10)
    assert (report["first"], report["recurring"]) == (1, 2)


@pytest.mark.django_db
def test_open_credit_notes_are_applied_first_so_only_the_net_is_collected(tmp_path):
    with on(TODAY):
        creditor()
        org = OrganisationFactory()
        a = debtor("NL20INGB0001234567")
        b = debtor("NL44RABO0123456789")
        # credit notes issued while nothing was owed stay open with their credit
        note_a, note_b = credit(a, org, 300), credit(b, org, 2_000)
        (invoice_a,) = owe(a, org, 1_000)
        (invoice_b,) = owe(b, org, 750)
        assert ledger.credit_left_cents(note_a) == 300

    report = export(tmp_path)

    assert report["credit_applied_cents"] == 300 + 750
    assert (report["payments"], report["total_cents"]) == (1, 700)
    payment = payment_of(a)
    assert payment.amount_cents == 700
    assert list(payment.allocations.values_list("invoice_id", "amount_cents")) == [
        (invoice_a.pk, 700)
    ]
    invoice_a.refresh_from_db()
    note_a.refresh_from_db()
    assert (invoice_a.settled_cents, invoice_a.status) == (300, InvoiceStatus.OPEN)
    assert note_a.status == InvoiceStatus.PAID and ledger.credit_left_cents(note_a) == 0
    invoice_b.refresh_from_db()
    assert (invoice_b.settled_cents, invoice_b.status) == (750, InvoiceStatus.PAID)
    assert ledger.credit_left_cents(note_b) == 1_250
    assert not Payment.objects.filter(person=b).exists()
    tree = read(tmp_path / "incasso.xml")
    assert [t["cents"] for t in transactions(tree)] == [700]

    with on(D(2025, 3, 15)):
        sepa.sepa_settle_due()
    invoice_a.refresh_from_db()
    assert (invoice_a.settled_cents, invoice_a.status) == (1_000, InvoiceStatus.PAID)


@pytest.mark.django_db
def test_a_second_export_for_the_date_collects_nothing_twice_and_writes_the_same_file(tmp_path):
    s = scenario()
    first = export(tmp_path, name="first.xml")

    again = export(tmp_path, name="again.xml")

    assert again["payments"] == 0 and again["rewritten"] is True
    assert (again["message_id"], again["sha256"]) == (first["message_id"], first["sha256"])
    assert (tmp_path / "again.xml").read_bytes() == (tmp_path / "first.xml").read_bytes()
    assert Payment.objects.count() == 3 and SepaBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.sepa_rewrite").count() == 1

    # something new on the same date goes in a file of its own
    with on(TODAY):
        late = debtor("NL20INGB0001234567")
        owe(late, s.org, 1234)
        owe(s.a, s.org, 100)
    third = export(tmp_path, name="late.xml")
    assert (third["message_id"], third["payments"], third["total_cents"]) == (
        "BIEB-20250310-002",
        2,
        1334,
    )
    assert sorted(t["cents"] for t in transactions(read(tmp_path / "late.xml"))) == [100, 1234]
    assert Payment.objects.count() == 5
    assert (tmp_path / "first.xml").read_bytes() == (tmp_path / "again.xml").read_bytes()


@pytest.mark.django_db
def test_an_export_does_not_overwrite_another_batchs_file_and_keeps_nothing(tmp_path):
    s = scenario()
    export(tmp_path)
    before = (tmp_path / "incasso.xml").read_bytes()
    with on(TODAY):
        owe(s.a, s.org, 100)

    refused("sepa_file_other_batch", lambda: export(tmp_path))

    assert (tmp_path / "incasso.xml").read_bytes() == before
    assert SepaBatch.objects.count() == 1 and Payment.objects.count() == 3


@pytest.mark.django_db
def test_a_collection_date_in_the_past_is_refused(tmp_path):
    scenario()
    refused("date_in_past", lambda: export(tmp_path, TODAY - dt.timedelta(days=1)))
    assert not Payment.objects.exists() and not SepaBatch.objects.exists()
    assert not (tmp_path / "incasso.xml").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "ok"),
    [(TODAY, False), (D(2025, 3, 4), True), (D(2025, 3, 8), False), (D(2025, 4, 18), False)],
)
def test_the_report_says_whether_the_bank_can_still_make_the_date(tmp_path, day, ok):
    # today is too late (SEPA needs the file a TARGET day before); Saturday and Good Friday
    # are no TARGET days
    scenario()
    report = export(tmp_path, day)
    assert report["lead_time_ok"] is ok
    assert report["earliest_collection_date"] == "2025-03-04"
    assert report["payments"] == 3


@pytest.mark.parametrize(
    ("today", "earliest"),
    [
        (D(2025, 3, 3), D(2025, 3, 4)),  # Monday: Tuesday
        (D(2025, 3, 7), D(2025, 3, 10)),  # Friday: over the weekend
        (D(2025, 4, 17), D(2025, 4, 22)),  # Good Friday and Easter Monday
        (D(2025, 12, 24), D(2025, 12, 29)),  # Christmas, Boxing Day, weekend
        (D(2026, 12, 31), D(2027, 1, 4)),  # New Year, weekend
        (D(2027, 4, 30), D(2027, 5, 3)),  # 1 May on a Saturday
    ],
)
def test_the_earliest_collection_date_skips_weekends_and_target_holidays(today, earliest):
    assert sepa.earliest_collection_date(today) == earliest
    assert sepa.is_target_day(earliest)


@pytest.mark.django_db
def test_a_file_that_cannot_be_written_keeps_nothing(tmp_path):
    scenario()
    with on(TODAY):
        error = refused(
            "sepa_file_unwritable",
            lambda: sepa.sepa_export(collection_date=COLLECT, out=tmp_path / "nowhere" / "f.xml"),
        )
    assert error.status == 500
    assert not Payment.objects.exists() and not SepaBatch.objects.exists()
    assert not Mandate.objects.filter(first_collected_on__isnull=False).exists()


@pytest.mark.django_db
def test_without_a_creditor_nothing_is_collected(tmp_path):
    scenario()
    Creditor.objects.all().delete()
    error = refused("creditor_missing", lambda: export(tmp_path))
    assert error.status == 409
    assert not Payment.objects.exists() and not (tmp_path / "incasso.xml").exists()


@pytest.mark.django_db
def test_a_creditor_with_a_wrong_identifier_is_refused(tmp_path):
    scenario()
    Creditor.objects.update(creditor_identifier="NL29ZZZ401234560000")  # check digits off
    refused("creditor_invalid", lambda: export(tmp_path))
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_with_nothing_owed_no_file_is_written(tmp_path):
    with on(TODAY):
        creditor()
        debtor("NL20INGB0001234567")
    report = export(tmp_path)
    assert (report["payments"], report["file"], report["message_id"]) == (0, None, None)
    assert not (tmp_path / "incasso.xml").exists() and not SepaBatch.objects.exists()


@pytest.mark.django_db
def test_a_file_that_fails_the_schema_is_refused_and_nothing_is_kept(tmp_path):
    # a mandate row written past mandate_create, with an IBAN the XSD's pattern refuses
    s = scenario()
    Mandate.objects.filter(person=s.b).update(iban="nl44rabo0123456789")

    error = refused("sepa_file_invalid", lambda: export(tmp_path))

    assert error.status == 500
    assert not Payment.objects.exists() and not SepaBatch.objects.exists()
    assert mandates.mandate_of(s.a).first_collected_on is None
    assert not (tmp_path / "incasso.xml").exists()


@pytest.mark.django_db
def test_the_file_is_checked_against_the_official_schema_before_it_is_kept(tmp_path, monkeypatch):
    from bieb.subscriptions import sepa

    scenario()
    checked = []
    real = sepa._validate
    monkeypatch.setattr(sepa, "_validate", lambda data: checked.append(real(data)))

    report = export(tmp_path)

    assert report["payments"] == 3 and len(checked) == 1
    assert [t["cents"] for t in transactions(read(tmp_path / "incasso.xml"))] == [475, 1550, 750]


# --- settling --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_collection_is_paid_five_days_after_its_date(tmp_path):
    s = scenario()
    export(tmp_path)

    with on(D(2025, 3, 14)):
        assert sepa.sepa_settle_due() == 0
    with on(D(2025, 3, 15)):
        assert sepa.sepa_settle_due() == 3
        assert sepa.sepa_settle_due() == 0

    for person, invoices in s.invoices.items():
        assert payment_of(person).status == PaymentStatus.PAID
        for invoice in invoices:
            invoice.refresh_from_db()
            assert (invoice.status, invoice.settled_cents) == (
                InvoiceStatus.PAID,
                invoice.total_cents,
            )


# --- rejects and returns -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_status_report_marks_rejected_collections_failed_and_revokes_a_closed_account(tmp_path):
    s = scenario()
    export(tmp_path)

    report = import_(DATA / "pain002_rejects.xml", D(2025, 3, 11))

    assert {k: report[k] for k in ("format", "message_id", "failed", "reversed")} == {
        "format": "pain.002.001.03",
        "message_id": "ABNA-PSR-20250311-000417",
        "failed": 2,
        "reversed": 0,
    }
    assert report["by_code"] == {"AC04": 1, "AM04": 1}
    assert (report["unknown"], report["unknown_count"]) == (["BIEB-20250310-001-0000099"], 1)
    assert report["mandates_revoked"] == 1
    a, b, c = payment_of(s.a), payment_of(s.b), payment_of(s.c)
    assert (a.status, a.failure_code, a.failure_reason) == (
        PaymentStatus.FAILED,
        "AM04",
        "Onvoldoende saldo",
    )
    assert (c.failure_code, c.failure_reason) == (
        "AC04",
        "Rekening opgeheven (Rekening opgeheven per 2025-02-28)",
    )
    assert b.status == PaymentStatus.PENDING
    for person in (s.a, s.c):
        (invoice,) = s.invoices[person]
        invoice.refresh_from_db()
        assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.OPEN, 0)
    assert mandates.mandate_of(s.a) is not None  # insufficient funds: try again
    assert mandates.mandate_of(s.c) is None  # account closed
    event = AuditEvent.objects.get(action="subscriptions.sepa_import")
    assert event.data["unknown"] == ["BIEB-20250310-001-0000099"]
    assert AuditEvent.objects.filter(action="subscriptions.payment_failed").count() == 2

    # the rejected ones are not paid by settling; the next file collects Anna again (RCUR)
    with on(D(2025, 3, 17)):
        assert sepa.sepa_settle_due() == 1
    again = export(tmp_path, D(2025, 4, 10), "april.xml", today=D(2025, 4, 3))
    assert again["payments"] == 1
    payment = Payment.objects.get(sepa_batch__message_id=again["message_id"])
    assert (payment.person_id, payment.amount_cents, payment.sequence_type) == (s.a.pk, 475, "RCUR")


@pytest.mark.django_db
def test_a_whole_file_rejected_fails_every_collection_in_it(tmp_path):
    s = scenario()
    export(tmp_path)

    report = import_(DATA / "pain002_file_rejected.xml", D(2025, 3, 7))

    assert (report["failed"], report["by_code"], report["unknown"]) == (3, {"FF01": 3}, [])
    for person in (s.a, s.b, s.c):
        payment = payment_of(person)
        assert payment.status == PaymentStatus.FAILED
        assert payment.failure_reason == (
            "Ongeldig bestandsformaat (Incassant-ID niet bekend bij dit contract)"
        )
        assert mandates.mandate_of(person) is not None


@pytest.mark.django_db
def test_returns_after_settlement_reverse_the_payment_and_open_the_invoices_again(tmp_path):
    s = scenario()
    export(tmp_path)
    with on(D(2025, 3, 15)):
        sepa.sepa_settle_due()

    report = import_(DATA / "camt054_returns.xml", D(2025, 3, 17))

    assert report["format"] == "camt.054.001.02"
    assert (report["failed"], report["reversed"], report["ignored"]) == (3, 3, 1)
    assert report["by_code"] == {"AM04": 1, "MD01": 1, "MD06": 1}
    assert report["unknown"] == ["SPORTCLUB-2025-03-0042"]
    assert report["mandates_revoked"] == 1
    expected = {
        s.a: ("AM04", "Onvoldoende saldo"),
        s.b: (
            "MD06",
            "Terugboeking op verzoek van de rekeninghouder (Terugboeking binnen 8 weken)",
        ),
        s.c: ("MD01", "Geen machtiging"),
    }
    for person, (code, reason) in expected.items():
        payment = payment_of(person)
        assert (payment.status, payment.failure_code, payment.failure_reason) == (
            PaymentStatus.FAILED,
            code,
            reason,
        )
        for invoice in s.invoices[person]:
            invoice.refresh_from_db()
            assert (invoice.status, invoice.settled_cents, invoice.paid_at) == (
                InvoiceStatus.OPEN,
                0,
                None,
            )
    assert mandates.mandate_of(s.a) is not None
    assert mandates.mandate_of(s.b) is not None  # a refund is no reason to stop collecting
    assert mandates.mandate_of(s.c) is None  # no mandate: stop
    assert Mandate.objects.get(person=s.c).status == MandateStatus.REVOKED


@pytest.mark.django_db
def test_a_return_file_read_twice_changes_nothing_the_second_time(tmp_path):
    scenario()
    export(tmp_path)
    with on(D(2025, 3, 15)):
        sepa.sepa_settle_due()
    import_(DATA / "camt054_returns.xml", D(2025, 3, 17))
    before = state()

    again = import_(DATA / "camt054_returns.xml", D(2025, 3, 18))

    assert state() == before
    assert (again["failed"], again["already_failed"], again["mandates_revoked"]) == (0, 3, 0)
    assert again["unknown"] == ["SPORTCLUB-2025-03-0042"]
    assert AuditEvent.objects.filter(action="subscriptions.payment_failed").count() == 3


@pytest.mark.django_db
def test_a_return_for_another_amount_is_listed_and_not_applied(tmp_path):
    s = scenario()
    export(tmp_path)
    text = (DATA / "camt054_returns.xml").read_text()
    changed = tmp_path / "camt.xml"
    changed.write_text(
        text.replace(
            '<Amt Ccy="EUR">15.50</Amt>\n              </InstdAmt>',
            '<Amt Ccy="EUR">15.05</Amt>\n              </InstdAmt>',
        )
    )

    report = import_(changed, D(2025, 3, 17))

    assert report["mismatched"] == ["BIEB-20250310-001-0000002"]
    assert payment_of(s.b).status == PaymentStatus.PENDING
    assert report["failed"] == 2


def _broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    pain = (DATA / "pain002_rejects.xml").read_text()
    camt = (DATA / "camt054_returns.xml").read_text()
    files = {
        "not_xml": ("Dit is geen XML", "sepa_file_malformed"),
        "truncated": (camt[: len(camt) // 2], "sepa_file_malformed"),
        "camt053": (
            camt.replace("camt.054.001.02", "camt.053.001.02"),
            "sepa_format_unknown",
        ),
        "no_namespace": (
            camt.replace(' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"', ""),
            "sepa_format_unknown",
        ),
        # the first reject is fine, the second names no transaction: nothing may be applied
        "no_reference": (
            pain.replace("<OrgnlEndToEndId>BIEB-20250310-001-0000003</OrgnlEndToEndId>", ""),
            "sepa_file_malformed",
        ),
        "bad_amount": (
            camt.replace('<Amt Ccy="EUR">7.50</Amt>', '<Amt Ccy="EUR">7,50</Amt>'),
            "sepa_file_malformed",
        ),
        "entities": (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "x">]>' + camt[camt.index("<Document") :],
            "sepa_file_malformed",
        ),
    }
    made = {}
    for name, (text, code) in files.items():
        path = tmp_path / f"{name}.xml"
        path.write_text(text)
        made[name] = (path, code)
    return made


@pytest.mark.django_db
def test_malformed_or_unknown_files_are_refused_with_nothing_applied(tmp_path):
    scenario()
    export(tmp_path)
    with on(D(2025, 3, 15)):
        sepa.sepa_settle_due()
    before = state()

    cases = _broken_files(tmp_path)
    cases["pain008"] = (tmp_path / "incasso.xml", "sepa_format_unknown")
    cases["missing"] = (tmp_path / "nowhere.xml", "sepa_file_unreadable")
    for name, (path, code) in cases.items():
        with on(D(2025, 3, 17)):
            try:
                sepa.sepa_import(path)
            except DomainError as exc:
                assert exc.code == code, (name, exc.code)
                assert exc.message
            else:
                pytest.fail(f"{name} was accepted")

    assert state() == before
    assert not AuditEvent.objects.filter(action="subscriptions.sepa_import").exists()


# --- the commands ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_billing_commands_export_and_import(tmp_path):
    s = scenario()
    out = io.StringIO()
    with on(TODAY):
        call_command(
            "billing",
            "sepa-export",
            "--date",
            "2025-03-10",
            "--out",
            str(tmp_path / "f.xml"),
            stdout=out,
        )
    report = json.loads(out.getvalue())
    assert (report["payments"], report["total_cents"], report["message_id"]) == (
        3,
        2775,
        "BIEB-20250310-001",
    )
    read(tmp_path / "f.xml")

    out = io.StringIO()
    with on(D(2025, 3, 11)):
        call_command("billing", "sepa-import", str(DATA / "pain002_rejects.xml"), stdout=out)
    report = json.loads(out.getvalue())
    assert (report["failed"], report["unknown"]) == (2, ["BIEB-20250310-001-0000099"])
    assert payment_of(s.a).status == PaymentStatus.FAILED

    with on(TODAY), pytest.raises(CommandError, match="date_in_past"):
        call_command(
            "billing", "sepa-export", "--date", "2025-03-01", "--out", str(tmp_path / "g.xml")
        )
    with pytest.raises(CommandError, match="sepa_file_malformed"):
        bad = tmp_path / "bad.xml"
        bad.write_text("<Document")
        call_command("billing", "sepa-import", str(bad))


# --- races -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_collect_each_invoice_once(tmp_path):
    scenario()

    def run(name):
        with on(TODAY):
            return sepa.sepa_export(collection_date=COLLECT, out=tmp_path / name)

    results = at_once(lambda: run("one.xml"), lambda: run("two.xml"))

    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["payments"] for r in results) == [0, 3]
    assert Payment.objects.count() == 3 and SepaBatch.objects.count() == 1
    assert PaymentAllocation.objects.count() == 4
    assert (tmp_path / "one.xml").read_bytes() == (tmp_path / "two.xml").read_bytes()
