"""Reads for the desk screens, the resident's "mijn" pages and the terminal accounts page.

The desk lists answer "what must I do with which copy": send it, expect it, hand it out,
clear it from the hold shelf, or pull it from the shelf for someone waiting. The resident
reads say in advance what the services would refuse (a renewal), using the same rules; the
service stays the authority and its refusal is what a person sees after pressing the button.

Every list is a fixed number of queries, whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from bieb.accounts import access
from bieb.accounts.models import User
from bieb.accounts.selectors import person_by_card
from bieb.catalog.models import Item, ItemStatus
from bieb.circulation.models import (
    OPEN_TRANSFER,
    TRAPPED_HOLD,
    Hold,
    HoldStatus,
    Loan,
    Terminal,
    Transfer,
    TransferStatus,
)
from bieb.circulation.queues import open_now_q, serves_copy_q
from bieb.network.models import Location

DESK_ROLES = access.MEMBER_ROLES
LIST_LIMIT = 200


# --- people at the desk ----------------------------------------------------------------------


def patron_by_card(card_number: str) -> User | None:
    """The person holding library card ``card_number``, anywhere in the country (a member of
    any library may borrow at every desk); see ``accounts.selectors.person_by_card``."""
    return person_by_card(card_number)


def shelf_label(person: Any) -> str:
    """How a hold waits on the shelf: initials and the last four digits of the card. Enough
    for the desk to find it and the borrower to recognise it, without the full name on view."""
    if person is None:
        return "—"
    initials = "".join(
        f"{part[0].upper()}." for part in (person.first_name, person.last_name) if part
    )
    card = person.card_number or ""
    digits = f"…{card[-4:]}" if card else ""
    return " ".join(p for p in (initials or "?", digits) if p)


@dataclass
class PatronSummary:
    person: Any
    label: str
    open_loans: int
    overdue_loans: int
    ready_here: list[Hold]


def patron_summary(*, person: Any, location: Location, today: dt.date) -> PatronSummary:
    """What the desk needs to see when a card is scanned: how much is out, what is late, and
    which of the person's holds wait on this location's shelf."""
    counts = Loan.objects.filter(patron=person, returned_at__isnull=True).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today))
    )
    ready = list(
        Hold.objects.filter(patron=person, status=HoldStatus.READY, pickup_location=location)
        .select_related("edition", "trapped_item")
        .order_by("ready_until", "pk")
    )
    return PatronSummary(
        person=person,
        label=shelf_label(person),
        open_loans=counts["open"],
        overdue_loans=counts["overdue"],
        ready_here=ready,
    )


def person_by_id(pk: Any) -> User | None:
    """The person the desk is serving (kept by id in the session), if still there."""
    if not pk:
        return None
    return User.objects.filter(pk=pk, anonymised_at__isnull=True).first()


def is_item_barcode(barcode: str) -> bool:
    return Item.objects.filter(barcode=(barcode or "").strip()).exists()


def item_title(barcode: str) -> str:
    """The title of the copy ``barcode`` (empty when unknown), for a scan that was refused."""
    barcode = (barcode or "").strip()
    if not barcode:
        return ""
    return (
        Item.objects.filter(barcode=barcode).values_list("edition__title", flat=True).first() or ""
    )


# --- locations -------------------------------------------------------------------------------


def location_by_slug(slug: str) -> Location | None:
    return Location.objects.select_related("organisation").filter(slug=slug).first()


def desk_locations(user: Any) -> QuerySet[Location]:
    """The locations whose desk ``user`` may staff (desk or manager role in the organisation;
    a network administrator everywhere)."""
    organisation_ids = access.organisations_with_role(user, *DESK_ROLES)
    return (
        Location.objects.filter(organisation_id__in=organisation_ids, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def pickup_locations(*, first_organisation_id: int | None = None) -> list[tuple[str, list]]:
    """Active locations grouped by organisation (the person's own library first), as choices
    for a select with option groups."""
    groups: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    rows = (
        Location.objects.filter(is_active=True)
        .order_by("organisation__name", "name")
        .values_list("pk", "name", "city", "organisation_id", "organisation__name")
    )
    for pk, name, city, organisation_id, organisation_name in rows:
        label = name if not city or city in name else f"{name} ({city})"
        groups[(organisation_id, organisation_name)].append((str(pk), label))
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] != first_organisation_id, kv[0][1]))
    return [(organisation_name, options) for (_, organisation_name), options in ordered]


def active_location(pk: Any) -> Location | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return Location.objects.select_related("organisation").filter(pk=pk, is_active=True).first()


# --- the desk's lists ------------------------------------------------------------------------


def transfers_to_send(*, location: Location) -> list[Transfer]:
    """Copies that must leave this location, grouped by destination (one crate each)."""
    return list(
        Transfer.objects.filter(from_location=location, status=TransferStatus.TO_SEND)
        .select_related("item__edition", "to_location__organisation")
        .order_by("to_location__name", "created_at", "pk")[:LIST_LIMIT]
    )


def transfer_leaving(*, location: Location, transfer_id: Any) -> Transfer | None:
    """The transfer ``transfer_id`` if it leaves from ``location`` (else None: 404)."""
    try:
        transfer_id = int(transfer_id)
    except (TypeError, ValueError):
        return None
    return (
        Transfer.objects.select_related("item", "from_location", "to_location")
        .filter(pk=transfer_id, from_location=location)
        .first()
    )


def transfers_incoming(*, location: Location) -> list[Transfer]:
    """Copies on their way here (sent, or announced and not yet sent)."""
    return list(
        Transfer.objects.filter(to_location=location, status__in=OPEN_TRANSFER)
        .select_related("item__edition", "from_location__organisation")
        .order_by("-status", "sent_at", "created_at", "pk")[:LIST_LIMIT]
    )


@dataclass
class ShelfHold:
    hold: Hold
    label: str
    expired: bool


def hold_shelf(*, location: Location, today: dt.date) -> list[ShelfHold]:
    """Holds waiting on this location's hold shelf, the ones that expire first on top."""
    holds = (
        Hold.objects.filter(pickup_location=location, status=HoldStatus.READY)
        .select_related("edition", "trapped_item", "patron")
        .order_by("ready_until", "pk")[:LIST_LIMIT]
    )
    return [
        ShelfHold(hold=h, label=shelf_label(h.patron), expired=h.ready_until < today) for h in holds
    ]


def holds_to_clear(*, location: Location) -> list[Item]:
    """Copies on this location's hold shelf whose hold ended (expired, cancelled, or lent to
    someone else): scanning them at the return screen passes them on or shelves them."""
    serving = Hold.objects.filter(trapped_item=OuterRef("pk"), status__in=TRAPPED_HOLD)
    return list(
        Item.objects.filter(location=location, status=ItemStatus.ON_HOLD_SHELF)
        .exclude(Exists(serving))
        .select_related("edition")
        .order_by("edition__title", "barcode")[:LIST_LIMIT]
    )


@dataclass
class PullRow:
    edition: Any
    waiting: int
    items: list[Item] = field(default_factory=list)


def _switched_off_today(today: dt.date):
    """The holder's own subscription is switched off on ``today`` (for ``OuterRef`` holds)."""
    from bieb.subscriptions.models import SwitchOff

    return SwitchOff.objects.filter(
        subscription__person_id=OuterRef("patron_id"),
        subscription__status="active",
        subscription__parent__isnull=True,
        off_from__lte=today,
    ).filter(Q(on_from__isnull=True) | Q(on_from__gt=today))


def pull_list(*, location: Location, today: dt.date) -> list[PullRow]:
    """Titles someone waits for (and is not pausing) with a copy on this location's shelf
    that may serve them: take one copy from the shelf and scan it at the return screen, which
    gives it to the first in line."""
    # a hold of someone whose subscription is off today is passed over at the return screen
    # (decision 0015): no copy is pulled for it
    open_now = open_now_q(today) & ~Exists(_switched_off_today(today))
    serves_this_copy = serves_copy_q(
        item_id=OuterRef("pk"),
        organisation_id=OuterRef("organisation_id"),
        home_location_id=OuterRef("home_location_id"),
    )
    eligible = Hold.objects.filter(
        edition_id=OuterRef("edition_id"), status=HoldStatus.WAITING
    ).filter(open_now)
    waiting = (
        Hold.objects.filter(edition_id=OuterRef("edition_id"), status=HoldStatus.WAITING)
        .filter(open_now)
        .order_by()
        .values("edition_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items = (
        Item.objects.filter(location=location, status=ItemStatus.AVAILABLE)
        .filter(Exists(eligible.filter(serves_this_copy)))
        .annotate(waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), 0))
        .select_related("edition")
        .order_by("shelf_mark", "edition__title", "barcode")[:LIST_LIMIT]
    )
    rows: dict[int, PullRow] = {}
    for item in items:
        row = rows.setdefault(item.edition_id, PullRow(edition=item.edition, waiting=item.waiting))
        row.items.append(item)
    return list(rows.values())


# --- the resident's loans and holds (lists: ``selectors``) -----------------------------------


def own_open_loan(*, person: Any, loan_id: Any) -> Loan | None:
    try:
        loan_id = int(loan_id)
    except (TypeError, ValueError):
        return None
    return Loan.objects.filter(pk=loan_id, patron=person, returned_at__isnull=True).first()


def own_hold(*, person: Any, hold_id: Any) -> Hold | None:
    try:
        hold_id = int(hold_id)
    except (TypeError, ValueError):
        return None
    return (
        Hold.objects.select_related("edition", "pickup_location__organisation")
        .filter(pk=hold_id, patron=person)
        .first()
    )


# --- terminals -------------------------------------------------------------------------------


def terminals_of(*, organisation_ids: set[int]) -> list[Terminal]:
    return list(
        Terminal.objects.filter(location__organisation_id__in=organisation_ids)
        .select_related("location__organisation")
        .order_by("-is_active", "location__organisation__name", "location__name", "name")
    )


def terminal_in(*, organisation_ids: set[int], terminal_id: Any) -> Terminal | None:
    try:
        terminal_id = int(terminal_id)
    except (TypeError, ValueError):
        return None
    return (
        Terminal.objects.select_related("location")
        .filter(pk=terminal_id, location__organisation_id__in=organisation_ids)
        .first()
    )


def terminal_locations(*, organisation_ids: set[int]) -> QuerySet[Location]:
    return (
        Location.objects.filter(organisation_id__in=organisation_ids, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )
