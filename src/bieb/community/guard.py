"""Who may take part, and how often: the checks every community write goes through.

- ``check_may_take_part``: an active account with a confirmed e-mail address, not suspended.
- ``check_may_exchange``: one-to-one exchanges (responding, messaging, handovers) are for 16
  and older, or younger with a guardian's consent; activities are open to all (programming).
- ``check_rate``: at most ``limit`` writes of one kind in ``window`` per person, counted from
  the database (so it holds across processes and restarts), against spam and repeated
  posting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.errors import DomainError, PermissionDenied

#: (limit, window) per kind of write
RATES = {
    "post": (5, dt.timedelta(hours=24)),
    "message": (30, dt.timedelta(hours=1)),
    "report": (10, dt.timedelta(hours=24)),
    "response": (15, dt.timedelta(hours=24)),
}


def active_suspension(person: Any):
    from bieb.community.models import Suspension

    now = clock.now()
    return (
        Suspension.objects.filter(person_id=person.pk, lifted_at__isnull=True, starts_at__lte=now)
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .order_by("-starts_at")
        .first()
    )


def check_may_take_part(person: Any) -> None:
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        raise PermissionDenied("login_required", _("Log eerst in."))
    if person.email_verified_at is None:
        raise DomainError(
            "email_unconfirmed",
            _("Bevestig eerst je e-mailadres met de link die we je stuurden."),
            status=409,
        )
    suspension = active_suspension(person)
    if suspension is not None:
        until = (
            _("tot %(day)s")
            % {"day": suspension.until.astimezone(clock.AMSTERDAM).strftime("%d-%m-%Y")}
            if suspension.until
            else _("tot een moderator het opheft")
        )
        raise PermissionDenied(
            "suspended",
            _("Je kunt %(until)s niets plaatsen of versturen in de community. Reden: %(reason)s")
            % {"until": until, "reason": suspension.reason},
        )


def check_may_exchange(person: Any) -> None:
    """Under 16 only with a guardian's consent (``accounts.access.has_guardian_consent``)."""
    from bieb.accounts.access import has_guardian_consent

    check_may_take_part(person)
    if not has_guardian_consent(person):
        raise PermissionDenied(
            "consent_required",
            _(
                "Onder de 16 doe je mee met activiteiten; ruilen, lenen en berichten sturen "
                "kan met toestemming van je ouder of voogd."
            ),
        )


def check_rate(person: Any, kind: str, count_since) -> None:
    """Refuse when ``count_since(moment)`` (the person's writes of ``kind`` since ``moment``)
    reached the limit."""
    limit, window = RATES[kind]
    if count_since(clock.now() - window) >= limit:
        raise DomainError(
            "rate_limited",
            _("Je hebt dit de laatste tijd al vaak gedaan. Probeer het later opnieuw."),
            status=429,
        )
