"""The PDF of an invoice carries what Dutch invoice rules ask for."""

from __future__ import annotations

import pytest

from bieb.network.tests.factories import OrganisationFactory
from bieb.subscriptions import invoice_pdf, invoicing
from bieb.subscriptions.invoicing import NewLine
from bieb.subscriptions.models import LineKind
from bieb.subscriptions.tests.factories import adult

pytestmark = pytest.mark.django_db


def test_euro_is_written_the_dutch_way():
    assert invoice_pdf.euro(0) == "€ 0,00"
    assert invoice_pdf.euro(5) == "€ 0,05"
    assert invoice_pdf.euro(123_456) == "€ 1.234,56"
    assert invoice_pdf.euro(-250) == "-€ 2,50"


def test_the_pdf_names_issuer_number_lines_vat_per_rate_and_total():
    org = OrganisationFactory(code="BIBP", name="Bibliotheek P", kvk_number="12345678")
    person = adult(home_organisation=org, first_name="Sanne", last_name="de Vries")
    invoice = invoicing.invoice_create(
        person=person,
        organisation_id=org.pk,
        lines=[
            NewLine(LineKind.SUBSCRIPTION, "Basis, maart", 1_090, 900),
            NewLine(LineKind.CORRECTION, "Cursus", 2_420, 2_100),
        ],
    )

    pdf = invoice_pdf.render(invoice)

    assert pdf.startswith(b"%PDF")
    for text in (
        f"Factuur {invoice.number}",
        "Bibliotheek P",
        "KvK-nummer 12345678",
        "Sanne de Vries",
        "Basis, maart",
        "Btw 9% over",  # 1,090 incl. 90 VAT: base 10,00
        "Btw 21% over",  # 2,420 incl. 420 VAT: base 20,00
        "Totaal incl. btw",
        "35,10",
    ):
        assert text.encode("latin-1") in pdf, text
    assert b"10,00" in pdf and b"20,00" in pdf
    assert invoice_pdf.render(invoice) == pdf  # the same bytes every time
    note = invoicing.invoice_credit(invoice, amount_cents=500, reason="coulance", actor=person)
    credit = invoice_pdf.render(note)
    assert f"Creditnota {note.number}".encode() in credit
    assert invoice.number.encode() in credit
