"""Who is at the machine: the patron behind a card number, their password, their status.

The SIP2 patron identifier (AA) is the 14-digit library card number, the patron password (AD)
the password of the person's Bieb account. Nothing here writes to the database; a checked
password is not rehashed or upgraded (that happens when the person logs in on the web).

Wrong passwords are counted per card in Django's cache (shared by every SIP2 process when the
cache is Redis): after ``PASSWORD_MAX_FAILURES`` within ``PASSWORD_FAILURE_WINDOW`` seconds the
card is locked for SIP2 password checks for ``PASSWORD_LOCK`` seconds, so a machine cannot be
used to guess a person's web password. The cache keys hold a keyed hash of the card number,
never the number itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from bieb.accounts.selectors import person_by_card
from bieb.circulation.entitlements import (
    Entitlements,
    entitlements_for,
    may_be_trapped_for,
    person_state,
)
from bieb.circulation.models import Charge, Hold, HoldStatus, Loan
from bieb.circulation.policies import policy_for
from bieb.circulation.sip2.session import Session, card_tail
from bieb.core import clock
from bieb.subscriptions import selectors as subscription_selectors

log = logging.getLogger("bieb.circulation.sip2")

CARD = re.compile(r"[0-9]{14}")

#: this many wrong passwords for one card within PASSWORD_FAILURE_WINDOW seconds ...
PASSWORD_MAX_FAILURES = 5
PASSWORD_FAILURE_WINDOW = 15 * 60
#: ... lock its SIP2 password checks for this many seconds (every password is then "wrong")
PASSWORD_LOCK = 15 * 60

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
    #: the card is locked after too many wrong passwords (by this one, or earlier: then AD was
    #: not checked at all); password_ok is False
    locked: bool = False

    @property
    def known(self) -> bool:
        return self.person is not None

    @property
    def refused_password(self) -> bool:
        """A password was sent and it is wrong: the machine must not act for this card."""
        return self.password_given and not self.password_ok


def patron_check(session: Session, card: str, password: str | None) -> PatronCheck:
    """Look up the card and, when a password is sent, check it (once per session) unless the
    card is locked after too many wrong passwords. A wrong password counts towards the lock, a
    right one clears the count."""
    card = (card or "").strip()
    check = PatronCheck(card=card)
    if CARD.fullmatch(card):
        check.person = person_by_card(card)
    if not password:
        return check
    check.password_given = True
    if check.person is None:
        return check
    if password_locked(card):
        # not even the remembered digest is compared: that too would answer a guess
        check.locked = True
        log.warning(
            "sip2 %s %s: card %s is locked for password checks, password not checked",
            session.peer,
            session.login,
            card_tail(card),
        )
    elif session.password_known_good(card, password) or (
        check.person.has_usable_password() and check_password(password, check.person.password)
    ):
        session.remember_password(card, password)
        password_failures_clear(card)
        check.password_ok = True
    elif password_failed(card):
        check.locked = True
        log.warning(
            "sip2 %s %s: card %s locked for password checks for %s s after %s wrong passwords",
            session.peer,
            session.login,
            card_tail(card),
            PASSWORD_LOCK,
            PASSWORD_MAX_FAILURES,
        )
    return check


# --- wrong passwords per card ----------------------------------------------------------------


def _cache_keys(card: str) -> tuple[str, str]:
    digest = salted_hmac("bieb.circulation.sip2.password", card, algorithm="sha256").hexdigest()
    return f"sip2:password-failures:{digest}", f"sip2:password-locked:{digest}"


def password_locked(card: str) -> bool:
    """Whether ``card`` is locked for SIP2 password checks now. The lock holds the time it ends
    (by ``bieb.core.clock``); the cache entry's own timeout only clears it away."""
    until = cache.get(_cache_keys(card)[1])
    return until is not None and clock.now().timestamp() < until


def password_failed(card: str) -> bool:
    """Count a wrong password for ``card``; True when this one locks the card. The count is an
    atomic cache increment, so guesses sent through many machines at once are all counted."""
    failures_key, locked_key = _cache_keys(card)
    cache.add(failures_key, 0, timeout=PASSWORD_FAILURE_WINDOW)
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # the window ended between add and incr
        cache.add(failures_key, 1, timeout=PASSWORD_FAILURE_WINDOW)
        failures = 1
    if failures < PASSWORD_MAX_FAILURES:
        return False
    cache.set(locked_key, clock.now().timestamp() + PASSWORD_LOCK, timeout=PASSWORD_LOCK)
    cache.delete(failures_key)  # after the lock, a fresh count
    return True


def password_failures_clear(card: str) -> None:
    """A right password (only ever checked when the card is not locked): forget the wrong ones
    and an ended lock."""
    cache.delete_many(_cache_keys(card))


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
    #: the subscription's rights today (None: no subscription, the category decides)
    plan: Any = None

    @property
    def plan_refuses_loans(self) -> bool:
        """The subscription is off, or its plan lends no printed copies."""
        return self.plan is not None and not may_be_trapped_for(self.plan)


def patron_summary(person, organisation_id: int) -> PatronSummary:
    """Loans, holds and open charges of ``person``; limits as the terminal's organisation
    applies them (its general policy for the person's category)."""
    state = person_state(person)  # one statement for the category and the plan
    rights = entitlements_for(person, state=state)
    plan = state.plan
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
    ).exclude(pk__in=subscription_selectors.fee_sources_settled(person, "circulation.charge"))
    charges = list(open_charges.select_related("loan__item").order_by("created_at", "pk"))
    # what the person owes: charges not yet invoiced and open invoices (Abonnement 2.0 bills
    # the charges; an invoiced charge counts until the invoice is paid)
    fees = subscription_selectors.owed_cents(person)
    return PatronSummary(
        rights=rights,
        loans=loans,
        overdue=[loan for loan in loans if loan.due_date < today],
        holds_ready=[h for h in holds if h.status == HoldStatus.READY],
        holds_waiting=[h for h in holds if h.status != HoldStatus.READY],
        charges=charges,
        fees_cents=fees,
        max_loans=min(
            policy_for(organisation_id, "", rights.category).max_loans,
            plan.physical_loans if plan is not None and plan.on else 10**6,
        ),
        plan=plan,
    )


def patron_status_flags(summary: PatronSummary | None) -> str:
    """The 14-character patron status; an unknown patron is denied everything. Only what is
    true is flagged: some machines refuse a patron with any flag set."""
    if summary is None:
        return "YYYY" + " " * 10
    flags = [" "] * 14
    if not summary.rights.physical:
        flags[CHARGE_DENIED] = flags[RENEWAL_DENIED] = "Y"
    elif summary.plan_refuses_loans:
        # switched off, or a plan without printed copies: no new loans; renewing what is at
        # home stays possible (decision 0015)
        flags[CHARGE_DENIED] = "Y"
    if not summary.rights.holds:
        flags[HOLD_DENIED] = "Y"
    if len(summary.loans) >= summary.max_loans:
        flags[TOO_MANY_CHARGED] = "Y"
    return "".join(flags)


def date_nl(day: dt.date) -> str:
    return f"{day:%d-%m-%Y}"
