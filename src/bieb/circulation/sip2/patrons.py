"""Who is at the machine: the patron behind a card number, their password, their status.

The SIP2 patron identifier (AA) is the 14-digit library card number, the patron password (AD)
the password of the person's Bieb account. Nothing here writes; a checked password is not
rehashed or upgraded (that happens when the person logs in on the web).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password
from django.db.models import Sum

from bieb.accounts.models import User
from bieb.circulation.entitlements import Entitlements, entitlements_for
from bieb.circulation.models import Charge, Hold, HoldStatus, Loan
from bieb.circulation.policies import policy_for
from bieb.circulation.sip2.session import Session
from bieb.core import clock

CARD = re.compile(r"[0-9]{14}")

# patron status positions (SIP2 2.00, 14 characters, "Y" = condition true)
CHARGE_DENIED, RENEWAL_DENIED, HOLD_DENIED = 0, 1, 3
TOO_MANY_CHARGED = 5


@dataclass
class PatronCheck:
    card: str
    person: Any = None
    #: AD was sent and not empty
    password_given: bool = False
    #: AD matched the account password (False when not given)
    password_ok: bool = False

    @property
    def known(self) -> bool:
        return self.person is not None

    @property
    def refused_password(self) -> bool:
        """A password was sent and it is wrong: the machine must not act for this card."""
        return self.password_given and not self.password_ok


def patron_check(session: Session, card: str, password: str | None) -> PatronCheck:
    """Look up the card and, when a password is sent, check it (once per session)."""
    card = (card or "").strip()
    check = PatronCheck(card=card)
    if CARD.fullmatch(card):
        person = User.objects.filter(card_number=card).first()
        if person is not None and not person.is_anonymised:
            check.person = person
    if password:
        check.password_given = True
        if check.person is not None:
            if session.password_known_good(card, password):
                check.password_ok = True
            elif check.person.has_usable_password() and check_password(
                password, check.person.password
            ):
                session.remember_password(card, password)
                check.password_ok = True
    return check


@dataclass
class PatronSummary:
    rights: Entitlements
    loans: list[Loan]
    overdue: list[Loan]
    holds_ready: list[Hold]
    holds_waiting: list[Hold]
    charges: list[Charge]
    fees_cents: int
    max_loans: int


def patron_summary(person, organisation_id: int) -> PatronSummary:
    """Loans, holds and open charges of ``person``; limits as the terminal's organisation
    applies them (its general policy for the person's category)."""
    rights = entitlements_for(person)
    today = clock.today()
    loans = list(
        Loan.objects.filter(patron=person, returned_at__isnull=True)
        .select_related("item", "edition")
        .order_by("due_date", "pk")
    )
    holds = list(
        Hold.objects.filter(
            patron=person,
            status__in=(HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY),
        )
        .select_related("edition", "trapped_item")
        .order_by("placed_at", "pk")
    )
    open_charges = Charge.objects.filter(
        patron=person, billed_at__isnull=True, waived_at__isnull=True
    )
    charges = list(open_charges.select_related("loan__item").order_by("created_at", "pk"))
    fees = open_charges.aggregate(total=Sum("amount_cents"))["total"] or 0
    return PatronSummary(
        rights=rights,
        loans=loans,
        overdue=[loan for loan in loans if loan.due_date < today],
        holds_ready=[h for h in holds if h.status == HoldStatus.READY],
        holds_waiting=[h for h in holds if h.status != HoldStatus.READY],
        charges=charges,
        fees_cents=fees,
        max_loans=policy_for(organisation_id, "", rights.category).max_loans,
    )


def patron_status_flags(summary: PatronSummary | None) -> str:
    """The 14-character patron status; an unknown patron is denied everything. Only what is
    true is flagged: some machines refuse a patron with any flag set."""
    if summary is None:
        return "YYYY" + " " * 10
    flags = [" "] * 14
    if not summary.rights.physical:
        flags[CHARGE_DENIED] = flags[RENEWAL_DENIED] = "Y"
    if not summary.rights.holds:
        flags[HOLD_DENIED] = "Y"
    if len(summary.loans) >= summary.max_loans:
        flags[TOO_MANY_CHARGED] = "Y"
    return "".join(flags)


def date_nl(day: dt.date) -> str:
    return f"{day:%d-%m-%Y}"
