"""The PDF of an invoice or credit note (reportlab), with what Dutch invoice rules ask for:
the issuing organisation and its KvK number, a unique number, the date, the customer, per line
what was supplied with its VAT rate, the VAT per rate, and the totals. A credit note names the
invoice it corrects.

The page content is written uncompressed and with ``invariant=True``: the same invoice always
gives the same bytes, and its text can be checked in tests.
"""

from __future__ import annotations

import io
from collections import defaultdict

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from bieb.subscriptions.models import DocumentKind, Invoice, InvoiceStatus, Mandate, MandateStatus

__all__ = ["euro", "render"]

LEFT = 20 * mm
RIGHT = A4[0] - 20 * mm


def euro(cents: int) -> str:
    """``1234`` → ``€ 12,34`` (Dutch notation)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    whole = f"{cents // 100:,}".replace(",", ".")
    return f"{sign}€ {whole},{cents % 100:02d}"


def _rate(bp: int) -> str:
    return f"{bp // 100}%" if bp % 100 == 0 else f"{bp / 100:.2f}%".replace(".", ",")


def render(invoice: Invoice) -> bytes:
    """The PDF of a final invoice or credit note (Dutch)."""
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValueError("a draft has no PDF")
    buffer = io.BytesIO()
    with translation.override("nl"):
        _draw(Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0), invoice)
    return buffer.getvalue()


def _draw(pdf: Canvas, invoice: Invoice) -> None:
    organisation = invoice.organisation
    person = invoice.person
    credit = invoice.kind == DocumentKind.CREDIT_NOTE
    title = _("Creditnota") if credit else _("Factuur")
    pdf.setTitle(f"{title} {invoice.number}")
    pdf.setAuthor(organisation.name)

    y = A4[1] - 25 * mm
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(LEFT, y, f"{title} {invoice.number}")
    pdf.setFont("Helvetica", 10)
    pdf.drawRightString(RIGHT, y, organisation.name)
    y -= 5 * mm
    pdf.drawRightString(RIGHT, y, _("KvK-nummer %(kvk)s") % {"kvk": organisation.kvk_number})
    if organisation.email:
        y -= 5 * mm
        pdf.drawRightString(RIGHT, y, organisation.email)

    y -= 12 * mm
    facts = [
        (_("Aan"), person.get_full_name() if hasattr(person, "get_full_name") else str(person)),
        (_("Pasnummer"), person.card_number or "-"),
        (_("Datum"), invoice.issued_on.strftime("%d-%m-%Y")),
    ]
    if credit and invoice.corrects_id:
        facts.append((_("Corrigeert factuur"), invoice.corrects.number))
    elif not credit:
        facts.append((_("Te betalen voor"), invoice.due_on.strftime("%d-%m-%Y")))
    for label, value in facts:
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(LEFT, y, label)
        pdf.setFont("Helvetica", 10)
        pdf.drawString(LEFT + 45 * mm, y, str(value))
        y -= 5 * mm

    y -= 6 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(LEFT, y, _("Omschrijving"))
    pdf.drawRightString(RIGHT - 45 * mm, y, _("Btw"))
    pdf.drawRightString(RIGHT, y, _("Bedrag incl. btw"))
    y -= 2 * mm
    pdf.line(LEFT, y, RIGHT, y)
    y -= 5 * mm
    pdf.setFont("Helvetica", 9)
    by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in invoice.lines.order_by("pk"):
        if y < 40 * mm:
            pdf.showPage()
            y = A4[1] - 25 * mm
            pdf.setFont("Helvetica", 9)
        pdf.drawString(LEFT, y, line.description[:95])
        pdf.drawRightString(RIGHT - 45 * mm, y, _rate(line.vat_rate_bp))
        pdf.drawRightString(RIGHT, y, euro(line.amount_cents))
        by_rate[line.vat_rate_bp][0] += line.amount_cents
        by_rate[line.vat_rate_bp][1] += line.vat_cents
        y -= 5 * mm

    y -= 1 * mm
    pdf.line(LEFT, y, RIGHT, y)
    y -= 6 * mm
    pdf.setFont("Helvetica", 10)
    for rate in sorted(by_rate):
        amount, vat = by_rate[rate]
        text = _("Btw %(rate)s over %(base)s") % {"rate": _rate(rate), "base": euro(amount - vat)}
        pdf.drawString(LEFT, y, text)
        pdf.drawRightString(RIGHT, y, euro(vat))
        y -= 5 * mm
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(LEFT, y, _("Totaal incl. btw"))
    pdf.drawRightString(RIGHT, y, euro(invoice.total_cents))
    y -= 10 * mm

    pdf.setFont("Helvetica", 9)
    if credit:
        pdf.drawString(LEFT, y, _("Dit bedrag wordt verrekend met wat je nog moet betalen."))
    elif invoice.status == InvoiceStatus.PAID:
        pdf.drawString(LEFT, y, _("Deze factuur is betaald. Dank je wel."))
    elif invoice.status == InvoiceStatus.VOID:
        pdf.drawString(LEFT, y, _("Deze factuur is vervallen; je hoeft niets te betalen."))
    else:
        mandate = Mandate.objects.filter(person=person, status=MandateStatus.ACTIVE).first()
        if mandate is not None:
            text = _(
                "We schrijven het bedrag af van rekening %(iban)s (machtiging %(reference)s)."
            ) % {"iban": "…" + mandate.iban[-4:], "reference": mandate.reference}
        else:
            text = _("Betaal online via Mijn abonnement in de app of op de website.")
        pdf.drawString(LEFT, y, text)
    pdf.showPage()
    pdf.save()
