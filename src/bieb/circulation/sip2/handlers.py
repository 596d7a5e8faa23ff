"""What the library answers a self-service machine: one function per SIP2 request.

``handle_frame`` takes one raw frame from a connection and returns the frame to send back. It
never raises: an unreadable frame or a wrong checksum gets 96 (request SC resend), a request
before login, for another institution or for a message Bieb does not serve gets that message's
own negative response with a Dutch screen message (AF), and an unexpected error is logged and
answered the same way. Loans, returns and renewals (``lending``) go through
``circulation.services`` with ``channel="sip2"``, so the rules, locks and audit rows are the
desk's.

Logs name the machine (peer address and terminal login), the message, the refusal code, item
barcodes and at most the last four digits of a card number: no names, no passwords.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from bieb.catalog.models import ItemStatus
from bieb.circulation.models import ACTIVE_HOLD, Hold, HoldStatus, Terminal
from bieb.circulation.sip2 import lending, protocol
from bieb.circulation.sip2.patrons import (
    PatronCheck,
    patron_check,
    patron_status_flags,
    patron_summary,
)
from bieb.circulation.sip2.protocol import Field, Request, count4, money, sip_datetime, yn
from bieb.circulation.sip2.replies import (
    Response,
    item_by_barcode,
    log,
    log_refusal,
    media_type,
    password_refusal_code,
    unknown_patron_message,
    wrong_password_message,
)
from bieb.circulation.sip2.session import MAX_BAD_FRAMES, MAX_FAILED_LOGINS, Session
from bieb.circulation.sip2.terminals import terminal_authenticate
from bieb.core import clock

#: BX, 16 positions: patron status, checkout, checkin, block patron, SC/ACS status, resend,
#: login, patron information, end patron session, fee paid, item information, item status
#: update, patron enable, hold, renew, renew all
SUPPORTED_MESSAGES = "YYYNYYYYYNYNNNYN"
#: the machine may wait this long (tenths of a second) and retry this often
TIMEOUT_TENTHS, RETRIES = "050", "003"
#: a list in 64 without BP/BQ holds at most this many entries
LIST_DEFAULT = 50
LANGUAGE_CODES = {"nl": "005", "en": "001"}
#: how often the terminal's last_seen_at is written (seconds)
LAST_SEEN_EVERY = 60

CIRCULATION_STATUS = {
    ItemStatus.AVAILABLE: "03",
    ItemStatus.ON_LOAN: "04",
    ItemStatus.ON_HOLD_SHELF: "08",
    ItemStatus.IN_TRANSIT: "10",
    ItemStatus.MISSING: "13",
}


@dataclass
class Outcome:
    """The frame to send (None: nothing) and whether to close the connection after it."""

    frame: bytes | None
    close: bool = False


# --- entry point -----------------------------------------------------------------------------


def handle_frame(session: Session, frame: bytes) -> Outcome:
    """Answer one frame. Never raises."""
    frame = frame.strip(b"\r\n")
    if not frame:
        return Outcome(None)  # a bare CR or LF: some machines send them to keep the line open
    try:
        request = protocol.parse(frame, encoding=session.encoding)
    except protocol.ChecksumError:
        return _bad_frame(session, "checksum wrong", frame, error_detection=True)
    except protocol.MalformedMessage as exc:
        return _bad_frame(session, str(exc), frame, error_detection=b"AZ" in frame)
    if request.command == "97":
        session.bad_frames = 0
        log.info("sip2 %s %s: machine asked for a resend (97)", session.peer, session.login)
        if session.last_response:
            return Outcome(session.last_response)
        return Outcome(
            protocol.resend_request(
                error_detection=request.error_detection, encoding=session.encoding
            )
        )
    if request.sequence is not None and frame == session.last_request and session.last_response:
        # the same frame with the same sequence number: the machine missed our answer and
        # retries. Doing the checkout again would refuse it ("already on loan").
        log.info(
            "sip2 %s %s: frame %s repeated (AY%s), previous answer sent again",
            session.peer,
            session.login,
            request.command,
            request.sequence,
        )
        return Outcome(session.last_response)
    try:
        with translation.override(session.language):
            response, close = _respond(session, request)
    except Exception:  # a bug or a database outage must not end the machine's connection
        log.exception("sip2 %s %s: message %s failed", session.peer, session.login, request.command)
        with translation.override(session.language):
            message = _("Er ging iets mis. Probeer het opnieuw of vraag het aan een medewerker.")
            response, close = refusal(session, request, message), False
    out = protocol.format_response(
        response.command,
        response.fixed,
        response.fields,
        sequence=request.sequence,
        error_detection=request.error_detection,
        encoding=session.encoding,
    )
    session.last_request, session.last_response = frame, out
    return Outcome(out, close)


def _respond(session: Session, request: Request) -> tuple[Response, bool]:
    command = request.command
    if session.logged_in and command != "93" and not _terminal_still_active(session):
        log.warning("sip2 %s %s: terminal switched off, logged out", session.peer, session.login)
        session.log_out()
    if command != "93" and not session.logged_in:
        session.bad_frames += 1
        log.warning("sip2 %s: message %s before login, refused", session.peer, command)
        message = _("Deze automaat is niet aangemeld. Vraag het aan een medewerker.")
        return refusal(session, request, message), session.bad_frames >= MAX_BAD_FRAMES
    session.bad_frames = 0
    institution = request.text("AO")
    if (
        command not in ("93", "99")
        and institution
        and institution.casefold() != session.institution_id.casefold()
    ):
        log.warning(
            "sip2 %s %s: message %s for institution %r refused (this terminal: %s)",
            session.peer,
            session.login,
            command,
            institution[:20],
            session.institution_id,
        )
        message = _("Deze automaat hoort bij een andere bibliotheek. Vraag het aan een medewerker.")
        return refusal(session, request, message), False
    response = HANDLERS.get(command, _unsupported)(session, request)
    close = command == "93" and session.failed_logins >= MAX_FAILED_LOGINS
    return response, close


def _bad_frame(session: Session, reason: str, frame: bytes, *, error_detection: bool) -> Outcome:
    session.bad_frames += 1
    log.warning(
        "sip2 %s %s: unreadable frame %r... of %s bytes (%s), resend requested",
        session.peer,
        session.login,
        frame[:2],  # the command id only: the rest may hold a password
        len(frame),
        reason,
    )
    answer = protocol.resend_request(error_detection=error_detection, encoding=session.encoding)
    return Outcome(answer, close=session.bad_frames >= MAX_BAD_FRAMES)


def _terminal_still_active(session: Session) -> bool:
    """A terminal switched off by staff (or its location) stops at its next message."""
    terminal = session.terminal
    active = Terminal.objects.filter(
        pk=terminal.pk, is_active=True, location__is_active=True
    ).exists()
    now = time.monotonic()
    if active and now - session.last_seen > LAST_SEEN_EVERY:
        Terminal.objects.filter(pk=terminal.pk).update(last_seen_at=clock.now())
        session.last_seen = now
    return active


def _language(session: Session, request: Request, person) -> str:
    """The language of the screen messages from now on: the machine's choice (001 English,
    005 Dutch), else the person's preference."""
    asked = request.fixed.get("language", "000")
    if asked == "001":
        session.language = "en"
    elif asked == "005":
        session.language = "nl"
    elif person is not None and person.preferred_language in LANGUAGE_CODES:
        session.language = person.preferred_language
    return LANGUAGE_CODES.get(session.language, "000")


# --- 93 login, 99 status ---------------------------------------------------------------------


def _login(session: Session, request: Request) -> Response:
    login = request.text("CN")
    terminal = terminal_authenticate(login, request.first("CO") or "")
    if terminal is None:
        session.log_out()
        session.failed_logins += 1
        log.warning(
            "sip2 %s: login %r refused (%s failed on this connection)",
            session.peer,
            login[:40],
            session.failed_logins,
        )
        return Response("94", ["0"], [])
    session.log_in(terminal)
    session.last_seen = time.monotonic()
    log.info("sip2 %s: terminal %s logged in at %s", session.peer, login, terminal.location.slug)
    return Response("94", ["1"], [])


def _sc_status(session: Session, request: Request) -> Response:
    if request.fixed["status_code"] == "2":
        log.info("sip2 %s %s: machine is shutting down", session.peer, session.login)
    elif request.fixed["status_code"] == "1":
        log.info("sip2 %s %s: machine reports it is out of paper", session.peer, session.login)
    location = session.location
    fixed = ["Y", "Y", "Y", "Y", "N", "N", TIMEOUT_TENTHS, RETRIES, sip_datetime(), "2.00"]
    return Response(
        "98",
        fixed,
        [
            ("AO", session.institution_id),
            ("AM", location.organisation.name),
            ("BX", SUPPORTED_MESSAGES),
            ("AN", location.name),
        ],
    )


# --- 23 patron status, 63 patron information -------------------------------------------------


def _patron_header(session: Session, request: Request, check: PatronCheck):
    """Status flags, language code, the summary (None for an unknown patron) and the fields
    common to 24 and 64. The name and the money owed only follow a right password (AD) in this
    very message: a card number alone tells a machine whether the card is valid and may borrow
    (the status flags), nothing about the person."""
    language = _language(session, request, check.person)
    fields: list[Field] = [("AO", session.institution_id), ("AA", check.card)]
    if not check.known:
        log_refusal(session, f"patron {request.command}", "patron_unknown", check.card)
        with translation.override(session.language):
            fields += [("AE", ""), ("BL", "N"), ("AF", unknown_patron_message())]
        return patron_status_flags(None), language, None, fields
    summary = patron_summary(check.person, session.location.organisation_id)
    fields += [("AE", check.person.full_name if check.password_ok else ""), ("BL", "Y")]
    if check.password_given:
        fields.append(("CQ", yn(check.password_ok)))
    if summary.fees_cents and check.password_ok:
        fields += [("BH", "EUR"), ("BV", money(summary.fees_cents))]
    with translation.override(session.language):
        if check.refused_password:
            log_refusal(
                session, f"patron {request.command}", password_refusal_code(check), check.card
            )
            fields.append(("AF", wrong_password_message(check)))
        elif not summary.rights.physical:
            fields.append(
                ("AF", _("Met deze pas kun je nu niet lenen. Vraag het aan een medewerker."))
            )
    return patron_status_flags(summary), language, summary, fields


def _patron_status(session: Session, request: Request) -> Response:
    check = patron_check(session, request.text("AA"), request.first("AD"))
    flags, language, _summary, fields = _patron_header(session, request, check)
    return Response("24", [flags, language, sip_datetime()], fields)


def _window(request: Request, entries: list[str]) -> list[str]:
    """BP/BQ: the first and last entry wanted, counted from 1."""
    start_text, end_text = request.text("BP"), request.text("BQ")
    start = int(start_text) if start_text.isdigit() and int(start_text) > 0 else 1
    end = int(end_text) if end_text.isdigit() else start + LIST_DEFAULT - 1
    return entries[start - 1 : max(end, start - 1)]


def _patron_information(session: Session, request: Request) -> Response:
    check = patron_check(session, request.text("AA"), request.first("AD"))
    flags, language, summary, fields = _patron_header(session, request, check)
    fixed = [flags, language, sip_datetime()]
    if summary is None or not check.password_ok:
        # no counts, loans, holds or fines without a right password in this message
        blank = "    " if summary is not None else "0000"
        return Response("64", fixed + [blank] * 6, fields)
    fixed += [
        count4(len(summary.holds_ready)),
        count4(len(summary.overdue)),
        count4(len(summary.loans)),
        count4(len(summary.charges)),
        "0000",  # recalls: Bieb has none
        count4(len(summary.holds_waiting)),
    ]
    fields.append(("CB", count4(summary.max_loans)))
    wanted = request.fixed["summary"].find("Y")
    lists: dict[int, tuple[str, list[str]]] = {
        0: ("AS", [h.trapped_item.barcode for h in summary.holds_ready if h.trapped_item]),
        1: ("AT", [loan.item.barcode for loan in summary.overdue]),
        2: ("AU", [loan.item.barcode for loan in summary.loans]),
        3: (
            "AV",
            [
                f"EUR {money(c.amount_cents)} {c.get_kind_display()}"
                + (f" {c.loan.item.barcode}" if c.loan_id else "")
                for c in summary.charges
            ],
        ),
        5: ("CD", [h.edition.title for h in summary.holds_waiting]),
    }
    if wanted in lists:
        field_id, entries = lists[wanted]
        fields += [(field_id, entry) for entry in _window(request, entries)]
    return Response("64", fixed, fields)


# --- 17 item information, 35 end patron session ----------------------------------------------


def _item_information(session: Session, request: Request) -> Response:
    barcode = request.text("AB")
    item = item_by_barcode(barcode)
    now = sip_datetime()
    if item is None:
        log_refusal(session, "item information", "item_unknown", barcode=barcode)
        message = _("Dit exemplaar kennen we niet. Vraag het aan een medewerker.")
        return Response(
            "18", ["01", "00", "01", now], [("AB", barcode), ("AJ", ""), ("AF", message)]
        )
    queue = Hold.objects.filter(edition_id=item.edition_id, status__in=ACTIVE_HOLD).count()
    pickup_until = None
    if item.status == ItemStatus.ON_HOLD_SHELF:
        hold = (
            Hold.objects.filter(trapped_item=item, status=HoldStatus.READY)
            .only("ready_until")
            .first()
        )
        if hold is not None and hold.ready_until:
            pickup_until = protocol.sip_due_date(hold.ready_until)
    fields: list[Field] = [
        ("CF", str(queue)),
        ("AH", protocol.sip_due_date(item.due_date) if item.status == ItemStatus.ON_LOAN else None),
        ("CM", pickup_until),
        ("AB", item.barcode),
        ("AJ", item.edition.title),
        ("BG", item.organisation.name),
        ("CK", media_type(item)),
        ("AQ", item.home_location.name),
        ("AP", item.location.name),
        ("AF", capfirst(str(ItemStatus(item.status).label))),
    ]
    status = CIRCULATION_STATUS.get(item.status, "01")
    return Response("18", [status, "00", "01", now], fields)


def _end_patron_session(session: Session, request: Request) -> Response:
    card = request.text("AA")
    session.end_patron(card)
    fields: list[Field] = [
        ("AO", session.institution_id),
        ("AA", card),
        ("AF", _("Tot ziens!")),
    ]
    return Response("36", ["Y", sip_datetime()], fields)


def _unsupported(session: Session, request: Request) -> Response:
    log.info(
        "sip2 %s %s: message %s is not supported, refused",
        session.peer,
        session.login,
        request.command,
    )
    message = _("Dit kan niet bij deze automaat. Vraag het aan een medewerker.")
    return refusal(session, request, message)


HANDLERS: dict[str, Callable[[Session, Request], Response]] = {
    "93": _login,
    "99": _sc_status,
    "23": _patron_status,
    "63": _patron_information,
    "11": lending.checkout,
    "09": lending.checkin,
    "29": lending.renew,
    "17": _item_information,
    "35": _end_patron_session,
}


# --- refusals in each message's own form -----------------------------------------------------

DENIED = "YYYY" + " " * 10


def refusal(session: Session, request: Request, message: str) -> Response:
    """The negative answer to ``request`` with ``message`` on the machine's screen."""
    now = sip_datetime()
    command = request.command
    institution = session.institution_id or request.text("AO")
    ao, af = ("AO", institution), ("AF", message)
    aa, ab = ("AA", request.text("AA")), ("AB", request.text("AB"))
    if command == "93":
        return Response("94", ["0"], [])
    if command == "99":
        fixed = ["N", "N", "N", "N", "N", "N", "000", "000", now, "2.00"]
        return Response("98", fixed, [ao, ("BX", SUPPORTED_MESSAGES), af])
    if command in ("23", "01", "25"):
        response = "26" if command == "25" else "24"
        return Response(response, [DENIED, "000", now], [ao, aa, ("AE", ""), ("BL", "N"), af])
    if command == "63":
        fixed = [DENIED, "000", now] + ["0000"] * 6
        return Response("64", fixed, [ao, aa, ("AE", ""), ("BL", "N"), af])
    if command in ("11", "29"):
        fields = [ao, aa, ab, ("AJ", ""), ("AH", ""), af]
        return Response("12" if command == "11" else "30", ["0", "N", "U", "N", now], fields)
    if command == "09":
        return Response("10", ["0", "N", "U", "N", now], [ao, ab, ("AQ", ""), af])
    if command == "17":
        return Response("18", ["01", "00", "01", now], [ab, ("AJ", ""), af])
    if command == "35":
        return Response("36", ["N", now], [ao, aa, af])
    if command == "15":
        return Response("16", ["0", "N", now], [ao, aa, af])
    if command == "19":
        return Response("20", ["0", now], [ab, af])
    if command == "37":
        return Response("38", ["N", now], [ao, aa, af])
    # 65 renew all
    return Response("66", ["0", "0000", "0000", now], [ao, af])
