"""Pieces the SIP2 message handlers share: the response shape, the copy behind a barcode and
how it is described (title, media type), the screen messages for refusals, and the one log line
every refusal writes (the machine, the message, the code, the barcode, a card's last four digits).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from bieb.catalog.models import Format, Item
from bieb.circulation.sip2.patrons import PatronCheck, patron_check
from bieb.circulation.sip2.protocol import Field, Request
from bieb.circulation.sip2.session import Session, card_tail
from bieb.core.errors import DomainError

log = logging.getLogger("bieb.circulation.sip2")

MEDIA_TYPES = {
    Format.BOOK: "001",
    Format.LARGE_PRINT: "001",
    Format.MAGAZINE: "002",
    Format.AUDIO_CD: "006",
    Format.FILM: "006",
    Format.MUSIC: "006",
}


@dataclass
class Response:
    command: str
    fixed: list[str]
    fields: list[Field]


def item_by_barcode(barcode: str) -> Item | None:
    barcode = (barcode or "").strip()
    if not barcode:
        return None
    return (
        Item.objects.select_related("edition", "location", "home_location", "organisation")
        .filter(barcode=barcode)
        .first()
    )


def media_type(item: Item | None) -> str | None:
    return MEDIA_TYPES.get(item.edition.format, "000") if item is not None else None


def magnetic(item: Item | None) -> str:
    return "N" if item is not None else "U"


def title_of(item: Item | None) -> str:
    return item.edition.title if item is not None else ""


def screen_message(exc: DomainError) -> str:
    """The refusal as a machine shows it; the services' text where it fits a machine."""
    if exc.code == "item_unknown":
        return _("Dit exemplaar kennen we niet. Vraag het aan een medewerker.")
    if exc.code == "item_on_loan":
        return _(
            "Dit exemplaar staat nog als uitgeleend geregistreerd. Vraag het aan een medewerker."
        )
    if exc.code in ("no_card", "account_blocked", "account_inactive"):
        return _("Met deze pas kun je nu niet lenen. Vraag het aan een medewerker.")
    return exc.message


def unknown_patron_message() -> str:
    return _("Deze pas kennen we niet. Vraag het aan een medewerker.")


def wrong_password_message(check: PatronCheck | None = None) -> str:
    if check is not None and check.locked:
        return _(
            "Te vaak een verkeerde pincode of wachtwoord. Probeer het over een kwartier opnieuw "
            "of vraag het aan een medewerker."
        )
    return _("Je pincode of wachtwoord klopt niet. Probeer het opnieuw.")


def password_refusal_code(check: PatronCheck) -> str:
    return "patron_password_locked" if check.locked else "patron_password"


def log_refusal(session: Session, what: str, code: str, card: str = "", barcode: str = "") -> None:
    log.info(
        "sip2 %s %s: %s refused (%s) card %s item %s",
        session.peer,
        session.login,
        what,
        code,
        card_tail(card),
        barcode[:32] or "-",
    )


def patron_gate(session: Session, request: Request, what: str) -> tuple[PatronCheck, str | None]:
    """Check AA/AD; return the check and, when the machine may not act for the card, why."""
    check = patron_check(session, request.text("AA"), request.first("AD"))
    barcode = request.text("AB")
    if not check.known:
        log_refusal(session, what, "patron_unknown", check.card, barcode)
        return check, unknown_patron_message()
    if check.refused_password:
        log_refusal(session, what, password_refusal_code(check), check.card, barcode)
        return check, wrong_password_message(check)
    return check, None
