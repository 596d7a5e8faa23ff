"""Self-service machine accounts (``Terminal``): create, reset, deactivate, authenticate.

A terminal belongs to one location; its SIP2 institution id is that location's organisation
code. Passwords are generated here (a person never picks them), shown once, and stored only as
a Django password hash. Every change writes an audit row in its transaction.
"""

from __future__ import annotations

import re
import secrets
import string

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bieb.circulation.models import Terminal
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9._-]{3,40}")
# make_password of something nobody can type: a failed lookup costs as much as a failed check
_DUMMY_HASH: list[str] = []


PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 24) -> str:
    """Letters and digits only (about 143 bits): nothing a machine's set-up screen or the SIP2
    delimiter could trip over."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def terminal_create(*, location, login: str, name: str = "", actor=None) -> tuple[Terminal, str]:
    """A new active terminal at ``location``; returns it and its password (shown once)."""
    login = (login or "").strip()
    if not LOGIN_PATTERN.fullmatch(login):
        raise DomainError(
            "invalid_login",
            _("Kies een gebruikersnaam van 3 tot 40 letters, cijfers, punten of streepjes."),
        )
    if not location.is_active:
        raise DomainError("invalid_location", _("Deze locatie is niet actief."))
    password = generate_password()
    try:
        with transaction.atomic():
            terminal = Terminal.objects.create(
                location=location,
                login=login,
                name=(name or login).strip()[:80],
                password_hash=make_password(password),
            )
            audit_record(
                action="circulation.terminal_created",
                actor=actor,
                subject=terminal,
                organisation_id=location.organisation_id,
                data={"login": login, "location": location.pk},
            )
    except IntegrityError as exc:
        raise DomainError(
            "login_taken", _("Deze gebruikersnaam bestaat al; kies een andere."), status=409
        ) from exc
    return terminal, password


def terminal_reset_password(terminal: Terminal, *, actor=None) -> str:
    """Give ``terminal`` a new generated password (returned, shown once)."""
    password = generate_password()
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk).update(
            password_hash=make_password(password), updated_at=clock.now()
        )
        audit_record(
            action="circulation.terminal_password_reset",
            actor=actor,
            subject=terminal,
            organisation_id=terminal.location.organisation_id,
            data={"login": terminal.login},
        )
    return password


def terminal_set_active(terminal: Terminal, *, active: bool, actor=None) -> Terminal:
    """Switch a terminal on or off; a switched-off terminal can no longer log in (93)."""
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk).update(is_active=active, updated_at=clock.now())
        audit_record(
            action="circulation.terminal_activated"
            if active
            else "circulation.terminal_deactivated",
            actor=actor,
            subject=terminal,
            organisation_id=terminal.location.organisation_id,
            data={"login": terminal.login},
        )
    terminal.is_active = active
    return terminal


def terminal_authenticate(login: str, password: str) -> Terminal | None:
    """The active terminal with ``login`` and ``password`` at an active location, or None.
    Takes as long for an unknown login as for a wrong password."""
    terminal = (
        Terminal.objects.select_related("location__organisation")
        .filter(login=(login or "").strip())
        .first()
    )
    if terminal is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(make_password(secrets.token_hex(16)))
        check_password(password, _DUMMY_HASH[0])
        return None
    if not check_password(password, terminal.password_hash):
        return None
    if not terminal.is_active or not terminal.location.is_active:
        return None
    Terminal.objects.filter(pk=terminal.pk).update(last_seen_at=clock.now())
    return terminal
