"""Digital lending: e-books, audiobooks and streaming titles lent under licences.

A licence (``catalog.DigitalLicence``) says how a title may be lent: one copy to one reader,
N readers at once, a number of loans or a period (metered), or always. The counters on the
licence change only through ``catalog.services.licence_take`` / ``licence_release``
(conditional UPDATEs that the database's check constraints back up), so the limits hold when
many residents borrow at once.

Queue: a title whose licences are all lent gets a waiting list (``DigitalHold``), first come
first served. When a slot frees, the first in line who may use it is offered it: the hold is
``ready`` until ``ready_until`` and the slot is kept for them (others see no room) until they
borrow, cancel or the offer lapses. Loans end by themselves at ``expires_at``
(``expire_digital_loans``, and at once when someone borrows the title again).

Locks, always in this order: the person, the title's licences (primary-key order), holds,
loans. A command that ends a loan reads the loan's title first, locks the licences, then
re-reads the loan.

Reads for pages and feeds are in ``digital_selectors``; the signed links to a loan's file in
``digital_links``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bieb.catalog import services as catalog_services
from bieb.catalog.models import DIGITAL_FORMATS, DigitalLicence, Edition, LicenceModel
from bieb.circulation.entitlements import Entitlements, entitlements_for
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus, NoticeKind
from bieb.circulation.policies import policy_for
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


def _lock_person(person: Any) -> None:
    from bieb.accounts.models import User

    User.objects.select_for_update().filter(pk=person.pk).values_list("pk").first()


def ahead_of(patron, edition_id: int, own_hold: DigitalHold | None) -> int:
    """Places in the queue before ``patron``: everyone else's offered (ready) holds, and the
    waiting holds placed before theirs (all of them when they have none). A person whose own
    hold was offered has only the other offers before them: the holds still waiting were
    passed over because they cannot use the freed licence."""
    others = DigitalHold.objects.filter(edition_id=edition_id).exclude(patron=patron)
    ready = others.filter(status=HoldStatus.READY).count()
    if own_hold is not None and own_hold.status == HoldStatus.READY:
        return ready
    waiting = others.filter(status=HoldStatus.WAITING)
    if own_hold is not None:
        waiting = waiting.filter(
            Q(placed_at__lt=own_hold.placed_at)
            | Q(placed_at=own_hold.placed_at, pk__lt=own_hold.pk)
        )
    return ready + waiting.count()


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
    is free for nobody in it. Fulfils the borrower's hold. The loan ends by itself after the
    licence's loan period (never after a time-metered licence ends)."""
    _refuse_not_digital(edition)
    rights = _digital_rights(patron)
    organisation_id = patron.home_organisation_id
    try:
        with transaction.atomic():
            now, today = clock.now(), clock.today()
            _lock_person(patron)
            _lock_licences(edition.pk, every=True)
            if _end_expired(edition.pk, now):
                _offer_free_slots(edition.pk)
            licences = usable_licences(_lock_licences(edition.pk, every=True), organisation_id)
            if DigitalLoan.objects.filter(
                patron=patron, edition=edition, returned_at__isnull=True
            ).exists():
                raise _already_borrowed()
            policy = policy_for(organisation_id or 0, edition.format, rights.category)
            open_loans = DigitalLoan.objects.filter(
                patron=patron, returned_at__isnull=True, edition__format=edition.format
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
            ahead = ahead_of(patron, edition.pk, own_hold)
            if free_room(licences, today) - ahead < 1:
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
            audit_record(
                action="circulation.digital_checkout",
                actor=actor or patron,
                subject=loan,
                organisation_id=licence.organisation_id,
                data={
                    "edition": edition.pk,
                    "licence": licence.pk,
                    "model": licence.model,
                    "expires_at": loan.expires_at.isoformat(),
                    "hold": own_hold.pk if own_hold else None,
                },
            )
    except IntegrityError as exc:  # the same person borrowing it twice at once
        raise _already_borrowed() from exc
    return loan


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
    audit_record(
        action=action,
        actor=actor,
        subject=loan,
        organisation_id=loan.licence.organisation_id,
        data={"edition": loan.edition_id, "licence": loan.licence_id},
    )


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


def _offer_free_slots(edition_id: int) -> list[DigitalHold]:
    """Offer free slots to the waiting list in order: each first-in-line holder who may use a
    licence with room (not counting slots already kept for offered holds) gets ``ready``."""
    now, today = clock.now(), clock.today()
    licences = _lock_licences(edition_id, every=True)
    kept = DigitalHold.objects.filter(edition_id=edition_id, status=HoldStatus.READY).count()
    if free_room(licences, today) - kept < 1:
        return []
    offered: list[DigitalHold] = []
    waiting = (
        DigitalHold.objects.filter(edition_id=edition_id, status=HoldStatus.WAITING)
        .select_related("patron", "edition")
        .order_by("placed_at", "pk")
    )
    until = now + dt.timedelta(hours=HOLD_READY_HOURS)
    for hold in waiting.iterator(chunk_size=200):
        if free_room(licences, today) - kept - len(offered) < 1:
            break
        usable = usable_licences(licences, hold.patron.home_organisation_id)
        if free_room(usable, today) - kept - len(offered) < 1:
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
            data={"edition": edition_id, "until": until.isoformat()},
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
    (borrow it instead), when no licence will lend it again, or when they have it already."""
    _refuse_not_digital(edition)
    rights = _digital_rights(patron)
    organisation_id = patron.home_organisation_id
    try:
        with transaction.atomic():
            today = clock.today()
            _lock_person(patron)
            licences = usable_licences(_lock_licences(edition.pk, every=True), organisation_id)
            if DigitalLoan.objects.filter(
                patron=patron, edition=edition, returned_at__isnull=True, expires_at__gt=clock.now()
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
            if free_room(licences, today) - ahead_of(patron, edition.pk, None) >= 1:
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
            _note_waiting(edition.pk)
            audit_record(
                action="circulation.digital_hold_placed",
                actor=actor or patron,
                subject=hold,
                data={"edition": edition.pk},
            )
    except IntegrityError as exc:
        raise _hold_exists() from exc
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
            actor=actor,
            subject=locked,
            data={"edition": locked.edition_id, "was": was},
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
                    data={"edition": edition_id},
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
