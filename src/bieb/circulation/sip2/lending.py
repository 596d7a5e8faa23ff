"""Lending at a machine: checkout (11 → 12), renew (29 → 30) and checkin (09 → 10).

Each goes through ``circulation.services`` at the terminal's location with ``channel="sip2"``;
a refusal becomes ok ``0`` with the reason on the machine's screen (AF, Dutch).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.catalog.models import Item
from bieb.circulation import services
from bieb.circulation.models import Loan
from bieb.circulation.sip2 import protocol
from bieb.circulation.sip2.patrons import PatronCheck, date_nl
from bieb.circulation.sip2.protocol import Field, Request, money, sip_datetime, yn
from bieb.circulation.sip2.replies import (
    Response,
    item_by_barcode,
    log,
    log_refusal,
    magnetic,
    media_type,
    patron_gate,
    screen_message,
    title_of,
)
from bieb.circulation.sip2.session import Session, card_tail
from bieb.core import clock
from bieb.core.errors import DomainError

SORT_BINS = {"shelf": "SHELF", "hold_shelf": "HOLD", "transit": "TRANSIT"}
#: a checkout the machine cancels (BI Y) must be this recent; older loans are returned, not undone
CANCEL_WITHIN = dt.timedelta(minutes=10)


def _lend_response(
    session: Session,
    request: Request,
    command: str,
    *,
    ok: bool,
    item: Item | None,
    message: str,
    due=None,
    renewal: bool = False,
    desensitize: bool = False,
) -> Response:
    fields: list[Field] = [
        ("AO", session.institution_id),
        ("AA", request.text("AA")),
        ("AB", request.text("AB") or (item.barcode if item else "")),
        ("AJ", title_of(item)),
        ("AH", protocol.sip_due_date(due)),
        ("CK", media_type(item)),
        ("AF", message),
    ]
    fixed = [
        "1" if ok else "0",
        yn(renewal),
        magnetic(item),
        yn(desensitize) if item is not None else "U",
        sip_datetime(),
    ]
    return Response(command, fixed, fields)


def _own_open_loan(person, barcode: str) -> Loan | None:
    return (
        Loan.objects.select_related("item__edition", "edition")
        .filter(item__barcode=barcode, returned_at__isnull=True, patron=person)
        .first()
    )


def checkout(session: Session, request: Request) -> Response:
    barcode = request.text("AB")
    item = item_by_barcode(barcode)
    check, refusal_message = patron_gate(session, request, "checkout")
    if refusal_message:
        return _lend_response(session, request, "12", ok=False, item=item, message=refusal_message)
    if request.first("BI") == "Y":
        return _cancel_checkout(session, request, check, item)
    try:
        loan = services.checkout(
            patron=check.person, barcode=barcode, location=session.location, channel="sip2"
        )
    except DomainError as exc:
        if exc.code == "item_on_loan":
            own = _own_open_loan(check.person, barcode)
            if own is not None and request.fixed["sc_renewal_policy"] == "Y":
                return _renew_loan(session, request, own, "12", desensitize=True)
            if own is not None:
                log_refusal(session, "checkout", "already_yours", check.card, barcode)
                message = _("Je hebt dit exemplaar al geleend.")
                return _lend_response(
                    session, request, "12", ok=False, item=item, message=message, due=own.due_date
                )
        log_refusal(session, "checkout", exc.code, check.card, barcode)
        return _lend_response(
            session, request, "12", ok=False, item=item, message=screen_message(exc)
        )
    log.info(
        "sip2 %s %s: checkout item %s card %s",
        session.peer,
        session.login,
        barcode,
        card_tail(check.card),
    )
    return _lend_response(
        session,
        request,
        "12",
        ok=True,
        item=loan.item,
        due=loan.due_date,
        desensitize=True,
        message=_("Geleend tot %(date)s.") % {"date": date_nl(loan.due_date)},
    )


def _cancel_checkout(session: Session, request: Request, check: PatronCheck, item) -> Response:
    """BI=Y: the machine could not release the security tag of the copy it just lent, and takes
    the checkout back (SIP2 2.00: the SC cancels a failed transaction). Only a loan of that copy
    to this patron made at this terminal's location in the last ``CANCEL_WITHIN`` is undone;
    any other loan stays (a machine cannot use cancel to return someone's older loan)."""
    barcode = request.text("AB")
    just_lent = (
        Loan.objects.filter(
            item__barcode=barcode,
            returned_at__isnull=True,
            patron=check.person,
            checkout_location=session.location,
            checked_out_at__gte=clock.now() - CANCEL_WITHIN,
        )
        .only("pk")
        .first()
    )
    if just_lent is None:
        log_refusal(session, "checkout cancel", "no_recent_loan", check.card, barcode)
        message = _("Er is geen uitlening om te annuleren.")
        return _lend_response(session, request, "12", ok=False, item=item, message=message)
    services.checkin(barcode=barcode, location=session.location, channel="sip2")
    log.info("sip2 %s %s: checkout of %s cancelled", session.peer, session.login, barcode)
    message = _("De uitlening is geannuleerd.")
    return _lend_response(session, request, "12", ok=True, item=item, message=message)


def _renew_loan(
    session: Session, request: Request, loan: Loan, command: str, *, desensitize: bool = False
) -> Response:
    item = loan.item
    try:
        renewed = services.renew(loan)
    except DomainError as exc:
        log_refusal(session, "renew", exc.code, request.text("AA"), item.barcode)
        return _lend_response(
            session,
            request,
            command,
            ok=False,
            item=item,
            due=loan.due_date,
            message=screen_message(exc),
        )
    log.info("sip2 %s %s: renewed item %s", session.peer, session.login, item.barcode)
    return _lend_response(
        session,
        request,
        command,
        ok=True,
        item=item,
        due=renewed.due_date,
        renewal=True,
        desensitize=desensitize,
        message=_("Verlengd tot %(date)s.") % {"date": date_nl(renewed.due_date)},
    )


def renew(session: Session, request: Request) -> Response:
    barcode = request.text("AB")
    item = item_by_barcode(barcode)
    check, refusal_message = patron_gate(session, request, "renew")
    if refusal_message:
        return _lend_response(session, request, "30", ok=False, item=item, message=refusal_message)
    loan = _own_open_loan(check.person, barcode) if barcode else None
    if loan is None and not barcode and request.text("AJ"):
        # renewing by title (AJ): only when exactly one open loan has that title
        loans = list(
            Loan.objects.select_related("item__edition", "edition").filter(
                patron=check.person, returned_at__isnull=True, edition__title=request.text("AJ")
            )[:2]
        )
        loan = loans[0] if len(loans) == 1 else None
    if loan is None:
        log_refusal(session, "renew", "not_your_loan", check.card, barcode)
        message = _("Dit exemplaar staat niet op jouw pas.")
        return _lend_response(session, request, "30", ok=False, item=item, message=message)
    return _renew_loan(session, request, loan, "30")


# --- 09 checkin ------------------------------------------------------------------------------


def checkin(session: Session, request: Request) -> Response:
    barcode = request.text("AB")
    now = sip_datetime()
    if request.first("BI") == "Y":
        log_refusal(session, "checkin cancel", "not_supported", barcode=barcode)
        item = item_by_barcode(barcode)
        message = _("Inleveren annuleren kan hier niet. Vraag het aan een medewerker.")
        return _checkin_refused(session, request, item, message)
    try:
        result = services.checkin(barcode=barcode, location=session.location, channel="sip2")
    except DomainError as exc:
        log_refusal(session, "checkin", exc.code, barcode=barcode)
        return _checkin_refused(session, request, item_by_barcode(barcode), screen_message(exc))
    item = result.item
    messages = [_("Ingeleverd: %(title)s.") % {"title": item.edition.title}]
    if result.loan is None:
        messages.append(_("Dit exemplaar was niet uitgeleend."))
    if result.was_late_days:
        messages.append(
            ngettext("%(days)s dag te laat.", "%(days)s dagen te laat.", result.was_late_days)
            % {"days": result.was_late_days}
        )
    if result.charge is not None:
        amount = money(result.charge.amount_cents).replace(".", ",")
        messages.append(_("Te-laatgeld: EUR %(amount)s.") % {"amount": amount})
    alert_type = None
    if result.destination == "hold_shelf":
        messages.append(_("Leg dit exemplaar apart: het is gereserveerd."))
        alert_type = "01"
    elif result.destination == "transit":
        messages.append(
            _("Leg dit exemplaar apart: het gaat naar %(location)s.")
            % {"location": result.to_location.name}
        )
        alert_type = "02" if result.hold is not None else "04"
    log.info(
        "sip2 %s %s: checkin item %s -> %s",
        session.peer,
        session.login,
        barcode,
        result.destination,
    )
    to_location = result.to_location if result.destination != "shelf" else None
    fields: list[Field] = [
        ("AO", session.institution_id),
        ("AB", item.barcode),
        ("AQ", item.home_location.name),
        ("AJ", item.edition.title),
        ("CL", SORT_BINS.get(result.destination)),
        ("CK", media_type(item)),
        ("CT", to_location.slug if to_location is not None else None),
        ("CV", alert_type),
    ]
    fields += [("AF", message) for message in messages]
    fixed = ["1", "Y", magnetic(item), yn(alert_type is not None), now]
    return Response("10", fixed, fields)


def _checkin_refused(session: Session, request: Request, item: Item | None, message: str):
    fields: list[Field] = [
        ("AO", session.institution_id),
        ("AB", request.text("AB")),
        ("AQ", item.home_location.name if item is not None else ""),
        ("AJ", title_of(item) or None),
        ("AF", message),
    ]
    return Response("10", ["0", "N", magnetic(item), "Y", sip_datetime()], fields)
