"""Circulation reads: a person's loans and holds, and the look-ups a desk needs (a patron by card
number, a location by id or slug).

Other apps, the API and the desk pages read circulation through these functions. Each one is
small and answers one question; list functions return query sets (or lists of small frozen
dataclasses) whose related rows are loaded in a fixed number of queries, whatever the length
of the list.

Renewability here is a forecast with the same rules as ``services.renew`` (the renewal limit of
the loan's policy, and nobody waiting for the copy); the service decides for real under a lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from bieb.accounts.models import User
from bieb.catalog.models import Edition
from bieb.circulation.models import (
    ACTIVE_HOLD,
    Hold,
    HoldStatus,
    Loan,
    LoanPolicy,
    PatronCategory,
)
from bieb.circulation.policies import policy_for
from bieb.circulation.queues import open_now_q, serves_copy_q
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.network.models import Location

__all__ = [
    "LoanLine",
    "active_holds",
    "edition_for_id",
    "hold_for_patron",
    "loan_for_patron",
    "loan_lines",
    "location_for_reference",
    "open_loans",
    "patron_for_reference",
    "queue_position",
    "renewal_refusal",
    "returned_loans",
]

CARD_LENGTH = 14
#: the largest primary key (BigAutoField); a larger number in a request names nothing, and
#: must not reach the database (PostgreSQL refuses it with an error)
MAX_ID = 2**63 - 1

#: why a loan cannot be renewed (the codes ``services.renew`` refuses with)
RENEWAL_LIMIT = "renewal_limit"
RESERVED = "reserved"
LOAN_CLOSED = "loan_closed"
OVERDUE = "overdue"


# --- loans -----------------------------------------------------------------------------------


def _waiting_for_copy(today: dt.date) -> Exists:
    """Whether a hold waits (and is not paused) that the loan's copy would serve on return:
    one on this very copy, or one on the title whose scope covers the copy's home location.
    The same rule as ``services._eligible_holds``, as a subquery for a list of loans."""
    return Exists(
        Hold.objects.filter(edition_id=OuterRef("edition_id"), status=HoldStatus.WAITING)
        .filter(open_now_q(today))
        .filter(
            serves_copy_q(
                item_id=OuterRef("item_id"),
                organisation_id=OuterRef("item__organisation_id"),
                home_location_id=OuterRef("item__home_location_id"),
            )
        )
        .exclude(patron_id=OuterRef("patron_id"))  # one's own hold does not block renewal
    )


def _loans_of(patron: Any) -> QuerySet[Loan]:
    return Loan.objects.filter(patron_id=patron.pk).select_related(
        "item", "edition", "checkout_location", "return_location"
    )


def open_loans(*, patron: Any, today: dt.date | None = None) -> QuerySet[Loan]:
    """``patron``'s open loans, soonest due first, with copy, title and locations loaded and
    ``has_waiting_hold`` annotated (someone waits for the copy, so it cannot be renewed)."""
    today = today or clock.today()
    return (
        _loans_of(patron)
        .filter(returned_at__isnull=True)
        .annotate(has_waiting_hold=_waiting_for_copy(today))
        .order_by("due_date", "pk")
    )


def returned_loans(*, patron: Any) -> QuerySet[Loan]:
    """The loans ``patron`` returned, most recent first: their loan history.

    Empty unless the person keeps a loan history (``User.keep_loan_history``): without it
    the returned loans are no longer linked to the person, and rows kept from an earlier
    choice are not shown either."""
    if not getattr(patron, "keep_loan_history", False):
        return Loan.objects.none()
    return (
        _loans_of(patron)
        .filter(returned_at__isnull=False)
        .annotate(has_waiting_hold=Value(False))
        .order_by("-returned_at", "-pk")
    )


def loan_for_patron(*, patron: Any, loan_id: int) -> Loan:
    """One of ``patron``'s own loans (open or kept in their history). Anyone else's loan is
    "not found" (404 ``loan_not_found``), never 403: it must not show that it exists."""
    loan = _loans_of(patron).filter(pk=loan_id).first() if 0 < loan_id <= MAX_ID else None
    if loan is None:
        raise NotFound(
            "loan_not_found",
            _("Deze uitlening bestaat niet of is niet van u. Bekijk uw uitleningen."),
        )
    return loan


@dataclass(frozen=True)
class LoanLine:
    """A loan as its borrower sees it."""

    loan: Loan
    renewable: bool
    #: why it cannot be renewed: "" when it can, else ``renewal_limit``, ``reserved`` or
    #: ``loan_closed``
    renewal_refusal: str
    #: days past the due date (0 when not late, or returned)
    overdue_days: int
    #: how many renewals the loan's policy allows in all
    max_renewals: int

    @property
    def days_late(self) -> int:
        return self.overdue_days

    @property
    def refusal(self) -> str:
        """Why renewing is refused, in words ("" when it may be renewed)."""
        return refusal_message(self.renewal_refusal, self.loan)


def refusal_message(code: str, loan: Loan) -> str:
    return {
        "": "",
        RENEWAL_LIMIT: _("Je hebt dit exemplaar al %(n)s keer verlengd, vaker kan niet.")
        % {"n": loan.renewals},
        RESERVED: _("Iemand anders heeft deze titel gereserveerd; verlengen kan niet."),
        OVERDUE: _(
            "Dit exemplaar is te laat, dus verlengen kan niet meer. Breng het terug in"
            " een bibliotheek naar keuze."
        ),
        LOAN_CLOSED: _("Deze uitlening is al afgesloten."),
    }[code]


def renewal_refusal(
    loan: Loan, *, policy: LoanPolicy, has_waiting_hold: bool, today: dt.date | None = None
) -> str:
    """The code ``services.renew`` would refuse ``loan`` with now, or "" when it would renew
    (the same rules in the same order: closed, the policy's maximum, overdue with a late fee
    — never for youth — and someone else waiting)."""
    today = today or clock.today()
    if loan.returned_at is not None:
        return LOAN_CLOSED
    if loan.renewals >= policy.max_renewals:
        return RENEWAL_LIMIT
    if (
        loan.due_date < today
        and policy.overdue_fee_cents_per_day
        and loan.category != PatronCategory.YOUTH
    ):
        return OVERDUE
    if has_waiting_hold:
        return RESERVED
    return ""


def loan_lines(loans: Iterable[Loan], *, today: dt.date | None = None) -> list[LoanLine]:
    """``loans`` (from ``open_loans`` or ``returned_loans``) with their renewability.

    Looks each distinct policy up once (a person's loans share a handful), so the number of
    queries does not grow with the number of loans."""
    today = today or clock.today()
    policies: dict[tuple[int, str, str], LoanPolicy] = {}
    lines = []
    for loan in loans:
        key = (loan.organisation_id, loan.edition.format, loan.category)
        if key not in policies:
            policies[key] = policy_for(*key)
        policy = policies[key]
        refusal = renewal_refusal(
            loan,
            policy=policy,
            has_waiting_hold=bool(getattr(loan, "has_waiting_hold", False)),
            today=today,
        )
        lines.append(
            LoanLine(
                loan=loan,
                renewable=refusal == "",
                renewal_refusal=refusal,
                overdue_days=(
                    max(0, (today - loan.due_date).days) if loan.returned_at is None else 0
                ),
                max_renewals=policy.max_renewals,
            )
        )
    return lines


# --- holds -----------------------------------------------------------------------------------


def _people_ahead() -> Coalesce:
    """How many waiting holds on the same title were placed before this one (first come, first
    served on ``placed_at``, then id, as the queue is served)."""
    ahead = (
        Hold.objects.filter(edition_id=OuterRef("edition_id"), status=HoldStatus.WAITING)
        .filter(
            Q(placed_at__lt=OuterRef("placed_at"))
            | Q(placed_at=OuterRef("placed_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("edition_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0))


def active_holds(*, patron: Any) -> QuerySet[Hold]:
    """``patron``'s holds that are not finished: ready to collect first, then on their way,
    then waiting, each group in the order they were placed. Title and pick-up location are
    loaded; ``people_ahead`` is annotated (meaningful for waiting holds: their place in the
    queue is ``people_ahead + 1``, see ``queue_position``)."""
    stage = Case(
        When(status=HoldStatus.READY, then=Value(0)),
        When(status=HoldStatus.IN_TRANSIT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Hold.objects.filter(patron_id=patron.pk, status__in=ACTIVE_HOLD)
        .select_related("edition", "pickup_location")
        .annotate(people_ahead=_people_ahead(), stage=stage)
        .order_by("stage", "placed_at", "pk")
    )


def queue_position(hold: Hold) -> int | None:
    """The hold's place in the queue for its title (1 = next), for a waiting hold from
    ``active_holds``; None for a hold that is not waiting."""
    if hold.status != HoldStatus.WAITING:
        return None
    ahead = getattr(hold, "people_ahead", None)
    if ahead is None:
        ahead = (
            Hold.objects.filter(edition_id=hold.edition_id, status=HoldStatus.WAITING)
            .filter(Q(placed_at__lt=hold.placed_at) | Q(placed_at=hold.placed_at, pk__lt=hold.pk))
            .count()
        )
    return ahead + 1


def hold_for_patron(*, patron: Any, hold_id: int) -> Hold:
    """One of ``patron``'s own holds, whatever its status. Anyone else's hold is "not found"
    (404 ``hold_not_found``), never 403."""
    hold = (
        Hold.objects.filter(patron_id=patron.pk, pk=hold_id)
        .select_related("edition", "pickup_location")
        .first()
        if 0 < hold_id <= MAX_ID
        else None
    )
    if hold is None:
        raise NotFound(
            "hold_not_found",
            _("Deze reservering bestaat niet of is niet van u. Bekijk uw reserveringen."),
        )
    return hold


# --- look-ups --------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also takes "²" and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def edition_for_id(edition_id: int) -> Edition:
    """The title with ``edition_id``, to borrow or reserve; ``NotFound`` ``unknown_edition``
    when the catalogue has no such title."""
    edition = Edition.objects.filter(pk=edition_id).first() if 0 < edition_id <= MAX_ID else None
    if edition is None:
        raise NotFound(
            "unknown_edition",
            _("Deze titel bestaat niet (meer) in de catalogus. Zoek de titel opnieuw op."),
            details={"field": "edition"},
        )
    return edition


def patron_for_reference(reference: str | int) -> User:
    """The person a desk means by ``reference``: a library card number (14 digits) or an
    account id. Anonymised accounts are not found; inactive ones are (the checkout then
    refuses them with its own code).

    Raises ``DomainError`` 400 ``invalid_patron`` for anything else than digits, and
    ``NotFound`` ``unknown_patron`` when nobody has that card or id."""
    text = str(reference).strip()
    if not _is_number(text) or isinstance(reference, bool):
        raise DomainError(
            "invalid_patron",
            _("Geef het pasnummer (14 cijfers) of het nummer van het account van de lener."),
            details={"field": "patron"},
        )
    people = User.objects.filter(anonymised_at__isnull=True)
    if len(text) == CARD_LENGTH:
        person = people.filter(card_number=text).first()
    elif len(text) < CARD_LENGTH:
        person = people.filter(pk=int(text)).first()
    else:
        person = None
    if person is None:
        raise NotFound(
            "unknown_patron",
            _("Er is geen lener met dit pasnummer of accountnummer. Scan de pas opnieuw."),
            details={"field": "patron"},
        )
    return person


def location_for_reference(reference: str | int) -> int | None:
    """The id of the location ``reference`` names (its id, or its slug), or None when there
    is no such location. Whether the caller may act there is ``accounts.access``'s question."""
    text = str(reference).strip()
    if not text or isinstance(reference, bool):
        return None
    if _is_number(text):
        pk = int(text)
        return pk if 0 < pk <= MAX_ID and Location.objects.filter(pk=pk).exists() else None
    return Location.objects.filter(slug=text).values_list("pk", flat=True).first()
