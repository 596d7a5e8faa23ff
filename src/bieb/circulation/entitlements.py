"""What a person may borrow now: the one question circulation asks before it lends.

The subscriptions app (Abonnement 2.0) will answer it from the person's plan; until then the
answer comes from a simple patron category: youth (under 18), adult, or staff (anyone with a
staff role). Under-18s never pay a fee for borrowing (Wet stelsel openbare
bibliotheekvoorzieningen, art. 13), so ``pays_fees`` is False for them whatever a policy says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bieb.accounts.models import StaffRole
from bieb.circulation.models import PatronCategory
from bieb.core import rows


@dataclass(frozen=True)
class Entitlements:
    category: str
    #: may borrow printed books, audiobooks on disc, films and things
    physical: bool
    #: may borrow e-books and audiobooks
    digital: bool
    #: may place holds
    holds: bool
    #: fees for borrowing (late returns) apply; never for youth
    pays_fees: bool
    #: at most this many holds at once
    max_holds: int = 20
    #: why something is not allowed (``no_card``, ``consent_required``, ``account_inactive``)
    refusal: str = ""


def category_of(person: Any, *, is_staff: bool | None = None) -> str:
    """``is_staff``: whether the person has a staff role, when the caller read it already
    (checkout reads it with the person's lock)."""
    if is_staff is None:
        # written out (``core.rows``) rather than compiled by the ORM: asked on every loan
        is_staff = (
            rows.value(
                f"SELECT 1 FROM {StaffRole._meta.db_table} WHERE user_id = %s LIMIT 1",  # noqa: S608
                [person.pk],
            )
            is not None
        )
    if is_staff:
        return PatronCategory.STAFF
    if person.is_youth:
        return PatronCategory.YOUTH
    return PatronCategory.ADULT


def entitlements_for(person: Any, *, is_staff: bool | None = None) -> Entitlements:
    """What ``person`` may borrow now. An inactive or anonymised account may borrow nothing;
    an account without a library card may use digital services only. ``is_staff`` as for
    ``category_of``."""
    category = category_of(person, is_staff=is_staff)
    youth = category == PatronCategory.YOUTH
    if not person.is_active or person.is_anonymised:
        return Entitlements(category, False, False, False, not youth, refusal="account_inactive")
    has_card = bool(person.card_number)
    # under 16, online features (holds, digital lending) wait for a guardian's consent; a
    # child with a card still borrows at the desk
    consent = not person.needs_guardian_consent or _has_consent(person)
    refusal = "" if has_card else "no_card"
    if has_card and not consent:
        refusal = "consent_required"
    return Entitlements(
        category=category,
        physical=has_card,
        digital=consent,
        holds=has_card and consent,
        pays_fees=not youth,
        refusal=refusal,
    )


def _has_consent(person: Any) -> bool:
    from bieb.accounts.models import GuardianLink

    return GuardianLink.objects.filter(child_id=person.pk, consent_given_at__isnull=False).exists()
