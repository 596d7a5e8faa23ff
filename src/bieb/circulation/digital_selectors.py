"""Reads for digital lending: a person's loans and waiting lists, the titles they may borrow,
and what they can do with a title now (``DigitalState``) for the title page and the OPDS
feeds. Each is a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from bieb.catalog.models import DIGITAL_FORMATS, DigitalLicence, Edition, LicenceModel
from bieb.circulation.digital import (
    ACTIVE_DIGITAL_HOLD,
    UNLIMITED,
    estimated_wait_days,
    licence_current,
    licence_lends_later,
    room_after_queue,
    usable_licences,
)
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus
from bieb.core import clock

__all__ = [
    "DigitalState",
    "borrowable_editions",
    "digital_state",
    "digital_states",
    "open_digital_holds",
    "open_digital_loans",
]


def open_digital_loans(patron):
    """The person's loans that are still running, soonest ending first."""
    return (
        DigitalLoan.objects.filter(
            patron=patron, returned_at__isnull=True, expires_at__gt=clock.now()
        )
        .select_related("edition", "licence")
        .order_by("expires_at", "pk")
    )


def open_digital_holds(patron) -> list[DigitalHold]:
    """The person's places on waiting lists (offered first), each with ``position`` (as
    ``digital_hold_position``), in one query."""

    def count(query):
        return Coalesce(
            Subquery(query.order_by().values("edition_id").annotate(n=Count("pk")).values("n")[:1]),
            0,
        )

    same_title = DigitalHold.objects.filter(edition_id=OuterRef("edition_id")).exclude(
        patron_id=OuterRef("patron_id")
    )
    earlier = Q(placed_at__lt=OuterRef("placed_at")) | Q(
        placed_at=OuterRef("placed_at"), pk__lt=OuterRef("pk")
    )
    holds = list(
        DigitalHold.objects.filter(patron=patron, status__in=ACTIVE_DIGITAL_HOLD)
        .select_related("edition")
        .annotate(
            ready_ahead=count(same_title.filter(status=HoldStatus.READY)),
            waiting_ahead=count(same_title.filter(earlier, status=HoldStatus.WAITING)),
        )
        .order_by("status", "placed_at", "pk")  # "ready" sorts before "waiting"
    )
    for hold in holds:
        waiting = hold.waiting_ahead if hold.status == HoldStatus.WAITING else 0
        hold.position = hold.ready_ahead + waiting + 1
    return holds


def borrowable_editions(user):
    """Digital titles the person may borrow now or queue for: those with an active licence of
    the network or their own library that will lend (current, loans left), by title."""
    today = clock.today()
    usable = Q(organisation__isnull=True)
    if user.home_organisation_id:
        usable |= Q(organisation_id=user.home_organisation_id)
    lends = DigitalLicence.objects.filter(
        usable,
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        Q(loans_total__isnull=True) | Q(loans_used__lt=F("loans_total")),
        edition_id=OuterRef("pk"),
        is_active=True,
    )
    return (
        Edition.objects.filter(format__in=DIGITAL_FORMATS)
        .filter(Exists(lends))
        .order_by("title", "pk")
    )


@dataclass
class DigitalState:
    """What a person can do with a digital title now, for the detail page's buttons and the
    OPDS feeds. ``state``: "loan" (has it), "ready" (a slot is kept for them), "borrow" (room
    now), "hold" (join the waiting list), "waiting" (on it), "none" (no licence will lend it),
    "anonymous" (not signed in)."""

    state: str
    action: str = "read"
    loan: DigitalLoan | None = None
    hold: DigitalHold | None = None
    queue: int = 0
    position: int | None = None
    wait_days: int | None = None
    #: slots of the licences the person may use (None: always available)
    copies_total: int | None = None
    copies_available: int = 0


_ACTIONS = {"ebook": "read", "audiobook": "listen", "streaming": "watch"}


def _counts(query) -> dict[int, int]:
    return dict(query.values("edition_id").annotate(n=Count("pk")).values_list("edition_id", "n"))


def _others_in_queues(user, ids: list[int], own: dict[int, DigitalHold]):
    """Per title: the home organisations of everyone else's offered holds, and of the waiting
    holds before the person's own (all of them when they have none), in queue order; one
    query."""
    ready: dict[int, list[int | None]] = defaultdict(list)
    waiting: dict[int, list[int | None]] = defaultdict(list)
    rows = (
        DigitalHold.objects.filter(edition_id__in=ids, status__in=ACTIVE_DIGITAL_HOLD)
        .exclude(patron=user)
        .order_by("edition_id", "placed_at", "pk")
        .values_list("edition_id", "status", "placed_at", "pk", "patron__home_organisation_id")
    )
    for edition_id, status, placed_at, pk, organisation_id in rows:
        if status == HoldStatus.READY:
            ready[edition_id].append(organisation_id)
            continue
        hold = own.get(edition_id)
        if hold is None or (
            hold.status == HoldStatus.WAITING and (placed_at, pk) < (hold.placed_at, hold.pk)
        ):
            waiting[edition_id].append(organisation_id)
    return ready, waiting


def _current_licences(ids: list[int], now) -> dict[int, list[DigitalLicence]]:
    """The titles' active licences, with loans past ``expires_at`` that the nightly job has not
    closed yet not counted as lent (borrowing closes them first)."""
    lapsed = dict(
        DigitalLoan.objects.filter(
            edition_id__in=ids, returned_at__isnull=True, expires_at__lte=now
        )
        .order_by()
        .values("licence_id")
        .annotate(n=Count("pk"))
        .values_list("licence_id", "n")
    )
    licences: dict[int, list[DigitalLicence]] = defaultdict(list)
    for licence in DigitalLicence.objects.filter(edition_id__in=ids, is_active=True).order_by("pk"):
        if licence.pk in lapsed:
            licence.active_loans = max(0, licence.active_loans - lapsed[licence.pk])
        licences[licence.edition_id].append(licence)
    return licences


def digital_states(user, editions) -> dict[int, DigitalState]:
    """``DigitalState`` per edition id, in a fixed number of queries whatever the number of
    titles. Whether the person may borrow now is decided as ``digital_checkout`` decides it
    (``room_after_queue``)."""
    editions = list(editions)
    ids = [edition.pk for edition in editions]
    queue = _counts(DigitalHold.objects.filter(edition_id__in=ids, status__in=ACTIVE_DIGITAL_HOLD))
    if user is None or not getattr(user, "is_authenticated", False):
        return {
            e.pk: DigitalState(
                "anonymous", _ACTIONS.get(e.format, "read"), queue=queue.get(e.pk, 0)
            )
            for e in editions
        }
    now, today = clock.now(), clock.today()
    loans = {loan.edition_id: loan for loan in open_digital_loans(user).filter(edition_id__in=ids)}
    holds = {
        hold.edition_id: hold
        for hold in DigitalHold.objects.filter(
            patron=user, edition_id__in=ids, status__in=ACTIVE_DIGITAL_HOLD
        ).select_related("edition")
    }
    licences = _current_licences(ids, now)
    ready_others, waiting_others = _others_in_queues(user, ids, holds)
    states = {}
    for edition in editions:
        pk, action = edition.pk, _ACTIONS.get(edition.format, "read")
        usable = usable_licences(licences[pk], user.home_organisation_id)
        hold = holds.get(pk)
        ahead = len(ready_others[pk]) + len(waiting_others[pk])
        room = room_after_queue(
            licences[pk],
            today,
            organisation_id=user.home_organisation_id,
            ready=ready_others[pk],
            waiting=waiting_others[pk],
        )
        always = any(
            licence.model == LicenceModel.ALWAYS and licence_current(licence, today)
            for licence in usable
        )
        state = DigitalState(
            "none",
            action,
            loan=loans.get(pk),
            hold=hold,
            queue=queue.get(pk, 0),
            copies_total=None
            if always
            else sum(
                licence.concurrent_users
                for licence in usable
                if licence_lends_later(licence, today)
            ),
            copies_available=max(0, min(room, UNLIMITED)),
        )
        if state.loan is not None:
            state.state = "loan"
        elif hold is not None and hold.status == HoldStatus.READY:
            state.state = "ready"
        elif room >= 1:
            state.state = "borrow"
        elif any(licence_lends_later(licence, today) for licence in usable):
            state.state = "waiting" if hold is not None else "hold"
            state.position = ahead + 1
            state.wait_days = estimated_wait_days(usable, ahead, today)
        states[pk] = state
    return states


def digital_state(user, edition: Edition) -> DigitalState:
    return digital_states(user, [edition])[edition.pk]
