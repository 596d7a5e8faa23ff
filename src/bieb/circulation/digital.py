"""Digital lending: e-books, audiobooks and streaming titles lent under licences.

A licence (``catalog.DigitalLicence``) says how a title may be lent: one copy to one reader,
N readers at once, a number of loans or a period (metered), or always. The counters on the
licence change only through ``catalog.services.licence_take`` / ``licence_release``
(conditional UPDATEs that the database's check constraints back up), so the limits hold when
many residents borrow at once.

Queue: a title whose licences are all lent gets a waiting list (``DigitalHold``), first come
first served. When a slot frees, the first in line who may use it is offered it: the hold is
``ready`` until ``ready_until`` and the slot is kept for them (others who could use it see no
room) until they borrow, cancel or the offer lapses. A hold keeps slots only from licences its
holder may use (``room_after_queue``): a member of another library waiting for a lent-out
licence does not stand between a member of this library and this library's free one. Loans
end by themselves at ``expires_at`` (``expire_digital_loans``; and on the spot, before anything
is counted, when someone borrows or queues for the title or the borrower borrows anything).

Privacy: audit rows of a resident's own actions name no actor and carry ids only; a loan
ending forgets the borrower (and their ended holds of the title) unless they keep a history.

Locks, always in this order: the person, the title's licences (primary-key order), holds,
loans. A command that ends a loan reads the loan's title first, locks the licences, then
re-reads the loan.

Reads for pages and feeds are in ``digital_selectors``; the signed links to a loan's file in
``digital_links``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bieb.catalog import services as catalog_services
from bieb.catalog.models import DIGITAL_FORMATS, DigitalLicence, Edition, LicenceModel
from bieb.circulation.entitlements import (
    Entitlements,
    entitlements_for,
    may_be_offered_digital,
    person_state,
)
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus, Notice, NoticeKind
from bieb.circulation.policies import policy_for
from bieb.circulation.services import (  # one person lock for printed and digital
    _lock_person,
    digital_plan_check,
    digital_use_record,
)
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound

__all__ = [
    "ACTIVE_DIGITAL_HOLD",
    "HOLD_READY_HOURS",
    "digital_checkout",
    "digital_hold_cancel",
    "digital_hold_place",
    "digital_hold_position",
    "digital_return",
    "expire_digital_holds",
    "expire_digital_loans",
]

#: how long a freed slot is kept for the first in line
HOLD_READY_HOURS = 48

ACTIVE_DIGITAL_HOLD = (HoldStatus.WAITING, HoldStatus.READY)
UNLIMITED = 10**9


# --- licences: room and choice (shared with ``digital_selectors``) ---------------------------


def licence_current(licence: DigitalLicence, today: dt.date) -> bool:
    """Active and within its dates today."""
    return (
        licence.is_active
        and (licence.valid_from is None or licence.valid_from <= today)
        and (licence.valid_until is None or licence.valid_until >= today)
    )


def _free_slots(licence: DigitalLicence, today: dt.date) -> int:
    """How many more loans the licence can take now (``UNLIMITED`` for "always")."""
    if not licence_current(licence, today):
        return 0
    if licence.model == LicenceModel.ALWAYS:
        return UNLIMITED
    free = max(0, licence.concurrent_users - licence.active_loans)
    if licence.loans_total is not None:
        free = min(free, max(0, licence.loans_total - licence.loans_used))
    return free


def licence_lends_later(licence: DigitalLicence, today: dt.date) -> bool:
    """Will lend again (a slot frees some day): current or starting later, loans left."""
    if not licence.is_active or (licence.valid_until and licence.valid_until < today):
        return False
    return licence.loans_total is None or licence.loans_used < licence.loans_total


def usable_licences(
    licences: list[DigitalLicence], organisation_id: int | None
) -> list[DigitalLicence]:
    """Those a member of ``organisation_id`` may borrow under: national ones and their own."""
    return [
        licence
        for licence in licences
        if licence.organisation_id is None or licence.organisation_id == organisation_id
    ]


def free_room(licences: list[DigitalLicence], today: dt.date) -> int:
    """Loans the licences can take now together (``UNLIMITED`` with an always-available one)."""
    return min(UNLIMITED, sum(_free_slots(licence, today) for licence in licences))


def _preference(organisation_id: int | None):
    """Always-available licences first (they cost nobody a slot), then the resident's own
    library's, then national ones; oldest first within each."""

    def key(licence: DigitalLicence) -> tuple[int, int, int]:
        return (
            int(licence.model != LicenceModel.ALWAYS),
            int(not (organisation_id and licence.organisation_id == organisation_id)),
            licence.pk,
        )

    return key


def _loan_end(licence: DigitalLicence, start: dt.datetime) -> dt.datetime:
    """The loan period, but never past the end of a licence that runs out (metered by time)."""
    end = start + dt.timedelta(days=licence.loan_days)
    if licence.valid_until is not None:
        last = dt.datetime.combine(
            licence.valid_until + dt.timedelta(days=1), dt.time(0), tzinfo=clock.AMSTERDAM
        )
        end = min(end, last.astimezone(dt.UTC))
    return end


def _lock_licences(edition_id: int, organisation_id: int | None = None, *, every: bool = False):
    return catalog_services.licences_for_lending(
        edition_id=edition_id, organisation_id=organisation_id, all_organisations=every, lock=True
    )


# --- checks shared by the commands ------------------------------------------------------------


def _refuse_not_digital(edition: Edition) -> None:
    if edition.format not in DIGITAL_FORMATS:
        raise DomainError(
            "not_digital",
            _("Dit is geen e-book of luisterboek. Leen of reserveer het in een vestiging."),
        )


def _digital_rights(patron) -> Entitlements:
    rights = entitlements_for(patron)
    if not rights.digital:
        if rights.refusal == "no_card":
            raise DomainError(
                "no_card", _("Voor digitaal lenen heb je een bibliotheekpas nodig."), status=403
            )
        raise DomainError(
            "account_blocked",
            _("Met dit account kun je niet lenen. Neem contact op met je bibliotheek."),
            status=403,
        )
    return rights


def ahead_of(patron, edition_id: int, own_hold: DigitalHold | None) -> int:
    """Places in the queue before ``patron``: everyone else's offered (ready) holds, and the
    waiting holds placed before theirs (all of them when they have none). A person whose own
    hold was offered has only the other offers before them: the holds still waiting were
    passed over because they cannot use the freed licence."""
    others = DigitalHold.objects.filter(edition_id=edition_id).exclude(patron=patron)
    ready = others.filter(status=HoldStatus.READY).count()
    if own_hold is not None and own_hold.status == HoldStatus.READY:
        return ready
    return ready + _waiting_before(others, own_hold).count()


def _waiting_before(others, own_hold: DigitalHold | None):
    waiting = others.filter(status=HoldStatus.WAITING)
    if own_hold is not None:
        waiting = waiting.filter(
            Q(placed_at__lt=own_hold.placed_at)
            | Q(placed_at=own_hold.placed_at, pk__lt=own_hold.pk)
        )
    return waiting.order_by("placed_at", "pk")


def users_of(licences: list[DigitalLicence]) -> set[int] | None:
    """The home organisations whose members may use one of ``licences``; None: everyone (a
    national licence is among them)."""
    organisations = {licence.organisation_id for licence in licences}
    if None in organisations:
        return None
    return {pk for pk in organisations if pk is not None}


class _Slots:
    """The free slots of a title and the offered holds that keep some of them, as the waiting
    list is served (``_offer_free_slots``): an offer keeps a slot only from those who could
    have used it, so a member of another library waiting for a lent-out licence takes nothing
    from this library's free one. ``kept``: home organisation -> offered holds."""

    def __init__(self, licences: list[DigitalLicence], today: dt.date, kept: Counter) -> None:
        self.today = today
        self.free = [licence for licence in licences if _free_slots(licence, today)]
        self.kept = kept

    def room(self, licences: list[DigitalLicence] | None = None) -> int:
        """Slots of ``licences`` (all free ones when None) not kept for an offer."""
        candidates = self.free if licences is None else licences
        if not candidates:
            return 0
        users = users_of(candidates)
        competing = sum(n for org, n in self.kept.items() if users is None or org in users)
        return free_room(candidates, self.today) - competing

    def room_for(self, organisation_id: int | None) -> int:
        return self.room(usable_licences(self.free, organisation_id))

    def take(self, organisation_id: int | None) -> bool:
        """A holder from ``organisation_id`` takes a slot when one is free for them."""
        if self.room_for(organisation_id) < 1:
            return False
        self.kept[organisation_id] += 1
        return True


def room_after_queue(
    licences: list[DigitalLicence],
    today: dt.date,
    *,
    organisation_id: int | None,
    ready: Iterable[int | None],
    waiting: Iterable[int | None],
) -> int:
    """Loans a member of ``organisation_id`` may start now under ``licences`` (all the title's)
    once the queue before them is served as ``_offer_free_slots`` serves it. ``ready``: the home
    organisations of the other offered holds (each keeps a slot); ``waiting``: those of the
    waiting holds before them, in order."""
    slots = _Slots(licences, today, Counter(ready))
    for waiting_organisation in waiting:
        if slots.room() < 1:
            return 0
        slots.take(waiting_organisation)
    if slots.room() < 1:
        return 0
    return slots.room_for(organisation_id)


def _room(
    patron, edition_id: int, own_hold: DigitalHold | None, licences, today: dt.date
) -> tuple[int, int]:
    """(loans ``patron`` may start now, places before them in the queue); ``licences``: all
    of the title's."""
    others = DigitalHold.objects.filter(edition_id=edition_id).exclude(patron=patron)
    organisation = "patron__home_organisation_id"
    ready = list(others.filter(status=HoldStatus.READY).values_list(organisation, flat=True))
    waiting: list[int | None] = []
    before = []
    if own_hold is None or own_hold.status == HoldStatus.WAITING:
        before = list(_waiting_before(others, own_hold).select_related("patron"))
        # a holder who is passed over (switched off, the month's e-books used up) keeps their
        # place but does not keep a free slot from anyone (as ``_offer_free_slots``)
        waiting = [
            hold.patron.home_organisation_id
            for hold in before
            if may_be_offered_digital(person_state(hold.patron, today=today).plan, hold.patron)
        ]
    room = room_after_queue(
        licences,
        today,
        organisation_id=patron.home_organisation_id,
        ready=ready,
        waiting=waiting,
    )
    return room, len(ready) + len(before)


def _queue_length(edition_id: int) -> int:
    return DigitalHold.objects.filter(edition_id=edition_id, status__in=ACTIVE_DIGITAL_HOLD).count()


def estimated_wait_days(licences: list[DigitalLicence], ahead: int, today: dt.date) -> int | None:
    """A cautious estimate: every slot turns over once per loan period."""
    later = [licence for licence in licences if licence_lends_later(licence, today)]
    if not later:
        return None
    slots = sum(licence.concurrent_users for licence in later)
    loan_days = min(licence.loan_days for licence in later)
    return math.ceil((ahead + 1) / max(1, slots)) * loan_days


def _no_room(licences, ahead: int, own_hold, today: dt.date) -> DomainError:
    can_hold = any(licence_lends_later(licence, today) for licence in licences)
    details = {
        "holds_waiting": ahead,
        "position": ahead + 1,
        "wait_days": estimated_wait_days(licences, ahead, today),
        "can_hold": can_hold and own_hold is None,
        "has_hold": own_hold is not None,
    }
    if not can_hold:
        message = _("Je bibliotheek heeft voor deze titel geen licentie meer om uit te lenen.")
    elif own_hold is not None:
        message = _("Alle licenties zijn uitgeleend. Je staat op de wachtlijst (plaats %(n)s).") % {
            "n": ahead + 1
        }
    else:
        message = _(
            "Alle licenties zijn uitgeleend. Zet de titel op je wachtlijst; je krijgt bericht "
            "zodra je hem kunt lenen."
        )
    return DomainError("no_licence_available", message, status=409, details=details)


def _note_waiting(edition_id: int) -> None:
    catalog_services.licence_note_waiting(edition_id=edition_id, waiting=_queue_length(edition_id))


# --- borrowing -------------------------------------------------------------------------------


def digital_checkout(*, patron, edition: Edition, actor=None) -> DigitalLoan:
    """Lend the digital ``edition`` to ``patron`` under the best licence with room: an
    always-available one, else their own library's, else a national one. Someone whose hold
    was offered the freed slot borrows it; anyone else only borrows past the queue when a slot
    is free for nobody in it who may use it. Fulfils the borrower's hold. The loan ends by
    itself after the licence's loan period (never after a time-metered licence ends).

    First, each in a transaction of its own so that a refusal does not undo it: the person's
    loans that ran out are closed (they count towards no limit and hold no licence slot), and
    so are the title's, and free slots of the title are offered to the waiting list."""
    _refuse_not_digital(edition)
    rights = _digital_rights(patron)
    organisation_id = patron.home_organisation_id
    _end_expired_of(patron, but=edition.pk)
    _settle(edition.pk, borrower_id=patron.pk)
    try:
        with transaction.atomic():
            now, today = clock.now(), clock.today()
            plan = _lock_person(patron).plan
            digital_plan_check(patron, plan)  # the plan: off, not in it, or used this month
            _lock_licences(edition.pk, every=True)
            if _end_expired(edition.pk, now):
                _offer_free_slots(edition.pk, borrower_id=patron.pk)
            every = _lock_licences(edition.pk, every=True)
            licences = usable_licences(every, organisation_id)
            if DigitalLoan.objects.filter(
                patron=patron, edition=edition, returned_at__isnull=True
            ).exists():
                raise _already_borrowed()
            policy = policy_for(organisation_id or 0, edition.format, rights.category)
            open_loans = DigitalLoan.objects.filter(
                patron=patron,
                returned_at__isnull=True,
                expires_at__gt=now,
                edition__format=edition.format,
            ).count()
            if open_loans >= policy.max_loans:
                raise DomainError(
                    "limit_reached",
                    _(
                        "Je hebt al %(n)s titels van deze soort geleend, het maximum. Geef er "
                        "eerst een terug."
                    )
                    % {"n": open_loans},
                    status=409,
                )
            own_hold = (
                DigitalHold.objects.select_for_update()
                .filter(patron=patron, edition=edition, status__in=ACTIVE_DIGITAL_HOLD)
                .first()
            )
            room, ahead = _room(patron, edition.pk, own_hold, every, today)
            if room < 1:
                raise _no_room(licences, ahead, own_hold, today)
            licence = None
            for candidate in sorted(licences, key=_preference(organisation_id)):
                if _free_slots(candidate, today) and catalog_services.licence_take(
                    candidate.pk, today
                ):
                    licence = candidate
                    break
            if licence is None:
                raise _no_room(licences, ahead, own_hold, today)
            loan = DigitalLoan.objects.create(
                licence=licence,
                edition=edition,
                patron=patron,
                category=rights.category,
                started_at=now,
                expires_at=_loan_end(licence, now),
            )
            if own_hold is not None:
                DigitalHold.objects.filter(pk=own_hold.pk).update(
                    status=HoldStatus.COLLECTED, ended_at=now, updated_at=now
                )
                _note_waiting(edition.pk)
            catalog_services.edition_refresh_availability([edition.pk])
            digital_use_record(patron, plan, licence_organisation_id=licence.organisation_id)
            audit_record(
                action="circulation.digital_checkout",
                actor=_staff_actor(actor, patron.pk),
                subject=loan,
                organisation_id=licence.organisation_id,
                data={"loan": loan.pk, "licence": licence.pk},
            )
    except IntegrityError as exc:  # the same person borrowing it twice at once
        raise _already_borrowed() from exc
    return loan


def _staff_actor(actor, patron_id: int | None):
    """The actor to audit: staff acting for someone, not the person acting for themself (an
    audit row naming them beside a loan or hold would keep the reading history they chose not
    to keep; the rows of their own actions carry ids only)."""
    if actor is None or getattr(actor, "pk", None) == patron_id:
        return None
    return actor


def _settle(edition_id: int, *, borrower_id: int | None = None) -> None:
    """In a transaction of its own: end the title's loans that ran out and offer its free
    slots to the waiting list (see ``_offer_free_slots`` for ``borrower_id``)."""
    with transaction.atomic():
        _lock_licences(edition_id, every=True)
        ended = _end_expired(edition_id, clock.now())
        offered = _offer_free_slots(edition_id, borrower_id=borrower_id)
        if ended or offered:
            _note_waiting(edition_id)
            catalog_services.edition_refresh_availability([edition_id])


def _end_expired_of(patron, *, but: int | None = None) -> None:
    """Close the person's loans that ran out and the nightly job has not closed yet, title by
    title as the job does (``but``: a title the caller settles itself)."""
    editions = (
        DigitalLoan.objects.filter(
            patron=patron, returned_at__isnull=True, expires_at__lte=clock.now()
        )
        .exclude(edition_id=but)
        .values_list("edition_id", flat=True)
        .distinct()
    )
    for edition_id in sorted(editions):
        _settle(edition_id)


def _already_borrowed() -> DomainError:
    return DomainError(
        "already_borrowed",
        _("Je hebt deze titel al geleend. Je vindt hem bij Mijn digitaal."),
        status=409,
    )


# --- ending loans ----------------------------------------------------------------------------


def _close(loan: DigitalLoan, *, at: dt.datetime, action: str, actor=None) -> None:
    """End ``loan`` (locked, open): free its licence slot and forget the borrower unless they
    keep a loan history. The caller holds the licence locks and offers the slot afterwards."""
    patron = loan.patron
    loan.returned_at = at
    if patron is not None and not patron.keep_loan_history:
        loan.patron = None
    loan.save(update_fields=["returned_at", "patron", "updated_at"])
    catalog_services.licence_release(loan.licence_id)
    if patron is not None and not patron.keep_loan_history:
        _forget_title(patron, loan.edition_id)
    audit_record(
        action=action,
        actor=_staff_actor(actor, patron.pk if patron is not None else None),
        subject=loan,
        organisation_id=loan.licence.organisation_id,
        data={"loan": loan.pk, "licence": loan.licence_id},
    )


def _forget_title(patron, edition_id: int) -> None:
    """After a loan of someone who keeps no loan history ends: their ended places on the
    title's waiting list and the notices about them go too, so nothing links them to it any
    more (as ``services.forget_title`` does for printed books)."""
    ended = list(
        DigitalHold.objects.filter(patron=patron, edition_id=edition_id)
        .exclude(status__in=ACTIVE_DIGITAL_HOLD)
        .values_list("pk", flat=True)
    )
    if ended:
        keys = [f"digital_hold_ready:{pk}" for pk in ended]
        Notice.objects.filter(patron=patron, key__in=keys).delete()
        DigitalHold.objects.filter(pk__in=ended).delete()


def _end_expired(edition_id: int, now: dt.datetime) -> int:
    """End the title's loans that ran out (the caller holds its licence locks)."""
    ended = 0
    for loan in (
        DigitalLoan.objects.select_for_update(of=("self",))
        .select_related("patron", "licence")
        .filter(edition_id=edition_id, returned_at__isnull=True, expires_at__lte=now)
        .order_by("pk")
    ):
        _close(loan, at=loan.expires_at, action="circulation.digital_expired")
        ended += 1
    return ended


def digital_return(loan: DigitalLoan, *, actor=None) -> DigitalLoan:
    """Give ``loan`` back early: the slot goes to the first in line (their hold is offered) or
    back to the shelf."""
    edition_id = DigitalLoan.objects.filter(pk=loan.pk).values_list("edition_id", flat=True).first()
    if edition_id is None:
        raise NotFound("loan_unknown", _("Deze uitlening bestaat niet."))
    with transaction.atomic():
        now = clock.now()
        _lock_licences(edition_id, every=True)
        locked = (
            DigitalLoan.objects.select_for_update(of=("self",))
            .select_related("patron", "licence", "edition")
            .filter(pk=loan.pk, returned_at__isnull=True)
            .first()
        )
        if locked is None:
            raise DomainError("loan_closed", _("Deze uitlening is al afgesloten."), status=409)
        if locked.expires_at <= now:
            _close(locked, at=locked.expires_at, action="circulation.digital_expired")
        else:
            _close(locked, at=now, action="circulation.digital_return", actor=actor)
        _after_slots_change(edition_id)
    return locked


def expire_digital_loans(now: dt.datetime | None = None) -> int:
    """The daily job: end every loan past ``expires_at`` and offer the freed slots; refresh
    the availability of titles whose time-metered licence ran out. Returns the loans ended."""
    now = now or clock.now()
    ended = 0
    editions = list(
        DigitalLoan.objects.filter(returned_at__isnull=True, expires_at__lte=now)
        .values_list("edition_id", flat=True)
        .distinct()
    )
    for edition_id in editions:
        with transaction.atomic():
            _lock_licences(edition_id, every=True)
            count = _end_expired(edition_id, now)
            if count:
                _after_slots_change(edition_id)
            ended += count
    lapsed = list(
        DigitalLicence.objects.filter(
            valid_until__lt=clock.today(), edition__available_now=True
        ).values_list("edition_id", flat=True)
    )
    catalog_services.edition_refresh_availability(set(lapsed))
    return ended


# --- the waiting list ------------------------------------------------------------------------


def _after_slots_change(edition_id: int) -> list[DigitalHold]:
    """Slots freed (or a reservation lapsed): offer them, note the queue, refresh the
    catalogue's availability. The caller holds the title's licence locks."""
    offered = _offer_free_slots(edition_id)
    _note_waiting(edition_id)
    catalog_services.edition_refresh_availability([edition_id])
    return offered


def _offer_free_slots(edition_id: int, *, borrower_id: int | None = None) -> list[DigitalHold]:
    """Offer free slots to the waiting list in order: each holder who may use a licence with
    room that is not kept for an earlier offer gets ``ready``. An offer keeps a slot only from
    those who could have used it: a member of another library waiting for a lent-out licence
    does not stop a member of this library from getting this library's free slot.

    ``borrower_id``: the person borrowing the title right now. Their hold, when its turn
    comes, keeps its slot but is not offered (no notice for a title they are taking)."""
    now, today = clock.now(), clock.today()
    kept = Counter(
        DigitalHold.objects.filter(edition_id=edition_id, status=HoldStatus.READY).values_list(
            "patron__home_organisation_id", flat=True
        )
    )
    slots = _Slots(_lock_licences(edition_id, every=True), today, kept)
    if slots.room() < 1:
        return []
    offered: list[DigitalHold] = []
    waiting = (
        DigitalHold.objects.filter(edition_id=edition_id, status=HoldStatus.WAITING)
        .select_related("patron", "edition")
        .order_by("placed_at", "pk")
    )
    until = now + dt.timedelta(hours=HOLD_READY_HOURS)
    for hold in waiting.iterator(chunk_size=200):
        if slots.room() < 1:
            break
        # a hold of someone switched off, or whose plan's e-books this month are used up,
        # keeps its place but is passed over (Abonnement 2.0)
        if not may_be_offered_digital(person_state(hold.patron, today=today).plan, hold.patron):
            continue
        if not slots.take(hold.patron.home_organisation_id) or hold.patron_id == borrower_id:
            continue
        updated = DigitalHold.objects.filter(pk=hold.pk, status=HoldStatus.WAITING).update(
            status=HoldStatus.READY, ready_until=until, updated_at=now
        )
        if not updated:
            continue
        hold.status, hold.ready_until = HoldStatus.READY, until
        offered.append(hold)
        audit_record(
            action="circulation.digital_hold_ready",
            subject=hold,
            data={"hold": hold.pk, "until": until.isoformat()},
        )
        _notify_ready(hold)
    return offered


def _notify_ready(hold: DigitalHold) -> None:
    from django.conf import settings

    from bieb.circulation.notices import _notify

    person = hold.patron
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        until = date_format(hold.ready_until.astimezone(clock.AMSTERDAM), "j F Y, H:i")
        subject = _("Je kunt %(title)s nu lenen") % {"title": hold.edition.title}
        body = _(
            "%(title)s is voor je vrijgehouden tot %(until)s. Leen het via Mijn digitaal; "
            "daarna gaat het naar de volgende op de wachtlijst."
        ) % {"title": hold.edition.title, "until": until}
    _notify(
        patron=person,
        kind=NoticeKind.HOLD_READY,
        key=f"digital_hold_ready:{hold.pk}",
        subject=subject,
        body=body,
    )


def digital_hold_place(*, patron, edition: Edition, actor=None) -> DigitalHold:
    """Join the waiting list for ``edition``. Refused while a licence has room for the person
    (borrow it instead), when no licence will lend it again, or when they have it already.
    The title's loans that ran out are closed and its free slots offered first (in a
    transaction of their own), and the list is served again once the hold is placed."""
    _refuse_not_digital(edition)
    rights = _digital_rights(patron)
    organisation_id = patron.home_organisation_id
    _settle(edition.pk)
    try:
        with transaction.atomic():
            now, today = clock.now(), clock.today()
            _lock_person(patron)
            every = _lock_licences(edition.pk, every=True)
            licences = usable_licences(every, organisation_id)
            if DigitalLoan.objects.filter(
                patron=patron, edition=edition, returned_at__isnull=True, expires_at__gt=now
            ).exists():
                raise _already_borrowed()
            if DigitalHold.objects.filter(
                patron=patron, edition=edition, status__in=ACTIVE_DIGITAL_HOLD
            ).exists():
                raise _hold_exists()
            if not any(licence_lends_later(licence, today) for licence in licences):
                raise DomainError(
                    "no_licence",
                    _("Je bibliotheek heeft voor deze titel geen licentie om uit te lenen."),
                    status=409,
                )
            if _room(patron, edition.pk, None, every, today)[0] >= 1:
                raise DomainError(
                    "licence_available",
                    _("Er is nu een licentie vrij: je kunt de titel direct lenen."),
                    status=409,
                )
            active = DigitalHold.objects.filter(
                patron=patron, status__in=ACTIVE_DIGITAL_HOLD
            ).count()
            if active >= rights.max_holds:
                raise DomainError(
                    "hold_limit_reached",
                    _("Je staat al op %(n)s wachtlijsten, het maximum.") % {"n": active},
                    status=409,
                )
            hold = DigitalHold.objects.create(patron=patron, edition=edition)
            audit_record(
                action="circulation.digital_hold_placed",
                actor=_staff_actor(actor, patron.pk),
                subject=hold,
                data={"hold": hold.pk},
            )
            _after_slots_change(edition.pk)
    except IntegrityError as exc:
        raise _hold_exists() from exc
    hold.refresh_from_db()
    return hold


def _hold_exists() -> DomainError:
    return DomainError(
        "hold_exists", _("Je staat al op de wachtlijst voor deze titel."), status=409
    )


def digital_hold_cancel(hold: DigitalHold, *, actor=None) -> DigitalHold:
    """Leave the waiting list. A slot kept for this hold goes to the next in line."""
    with transaction.atomic():
        now = clock.now()
        _lock_licences(hold.edition_id, every=True)
        locked = (
            DigitalHold.objects.select_for_update()
            .filter(pk=hold.pk, status__in=ACTIVE_DIGITAL_HOLD)
            .first()
        )
        if locked is None:
            raise DomainError("hold_closed", _("Deze reservering is al afgesloten."), status=409)
        was = locked.status
        locked.status, locked.ended_at = HoldStatus.CANCELLED, now
        locked.save(update_fields=["status", "ended_at", "updated_at"])
        if was == HoldStatus.READY:
            _after_slots_change(locked.edition_id)
        else:
            _note_waiting(locked.edition_id)
        audit_record(
            action="circulation.digital_hold_cancelled",
            actor=_staff_actor(actor, locked.patron_id),
            subject=locked,
            data={"hold": locked.pk, "was": was},
        )
    return locked


def expire_digital_holds(now: dt.datetime | None = None) -> int:
    """The daily job: offers not taken up by ``ready_until`` lapse and pass to the next in
    line; titles with a waiting list and room (a licence added since) offer it. Returns the
    holds that lapsed."""
    now = now or clock.now()
    expired = 0
    lapsed = list(
        DigitalHold.objects.filter(status=HoldStatus.READY, ready_until__lt=now)
        .values_list("pk", "edition_id")
        .order_by("pk")
    )
    for pk, edition_id in lapsed:
        with transaction.atomic():
            _lock_licences(edition_id, every=True)
            updated = DigitalHold.objects.filter(
                pk=pk, status=HoldStatus.READY, ready_until__lt=now
            ).update(status=HoldStatus.EXPIRED, ended_at=now, updated_at=now)
            if updated:
                expired += 1
                audit_record(
                    action="circulation.digital_hold_expired",
                    subject=f"circulation.digitalhold:{pk}",
                    data={"hold": pk},
                )
    queued = set(
        DigitalHold.objects.filter(status__in=ACTIVE_DIGITAL_HOLD)
        .values_list("edition_id", flat=True)
        .distinct()
    ) | {edition_id for _pk, edition_id in lapsed}
    for edition_id in sorted(queued):
        with transaction.atomic():
            _after_slots_change(edition_id)
    return expired


def digital_hold_position(hold: DigitalHold) -> int:
    """1 for the first in line (offered holds count as in front)."""
    return ahead_of(hold.patron, hold.edition_id, hold) + 1
