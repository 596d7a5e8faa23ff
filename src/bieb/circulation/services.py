"""Circulation commands: checkout, checkin, renew, holds, transfers, loss, and the daily jobs.

Every command runs in one transaction, changes the copy's status through
``catalog.services.item_set_status`` (a conditional UPDATE), relies on the database's
constraints for what must never happen twice (``models``), writes an audit row, and refuses
with a ``DomainError`` whose code is stable (``item_on_loan``, ``limit_reached``,
``hold_exists`` ...) and whose message is translated.

Locks: a command first locks the rows it decides on (the person for limits, the copy for its
state, the hold it traps) with ``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite takes the
database write lock at ``BEGIN IMMEDIATE`` (settings), which serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.catalog import services as catalog_services
from bieb.catalog.models import DIGITAL_FORMATS, Edition, Format, Item, ItemStatus
from bieb.circulation.entitlements import (
    PersonState,
    entitlements_for,
    may_be_trapped_for,
    pays_fees,
    person_state,
    refuse_digital,
    refuse_physical,
)
from bieb.circulation.models import (
    ACTIVE_HOLD,
    OPEN_TRANSFER,
    Charge,
    ChargeKind,
    Hold,
    HoldScope,
    HoldStatus,
    Loan,
    PatronCategory,
    Transfer,
    TransferReason,
    TransferStatus,
)
from bieb.circulation.policies import policy_for, rules_for
from bieb.circulation.queues import open_now_q, serves_copy_q
from bieb.core import clock, rows
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound

__all__ = [
    "CheckinResult",
    "auto_renew",
    "charge_waive",
    "checkin",
    "checkout",
    "declare_lost",
    "digital_plan_check",
    "digital_use_record",
    "expire_holds",
    "hold_cancel",
    "hold_change_pickup",
    "hold_pause",
    "hold_place",
    "renew",
    "transfer_send",
]

CHANNELS = ("desk", "selfservice", "api", "sip2", "auto")
#: ``subscriptions.models.Meter.DIGITAL_LOANS``: e-books and audiobooks, per month
DIGITAL_METER = "digital_loans"


# --- helpers ---------------------------------------------------------------------------------


class Scanned(NamedTuple):
    """A scanned copy, locked, with what lending and returning ask about its holds."""

    item: Item
    #: someone waits for its title (any copy)
    title_waited_for: bool
    #: someone other than the borrower waits for this very copy
    copy_held_for_other: bool
    #: the borrower waits for its title themself
    own_hold_waiting: bool
    #: the borrower's open loans
    open_loans: int


@cache
def _scan_sql(borrower: bool) -> str:
    # without a borrower (a return) the borrower's questions are answered by constants: the
    # same answers, and a statement PostgreSQL plans once (with the borrower's parameters
    # left empty it planned the statement anew on every return, 0.25 ms each)
    about_borrower = (
        " EXISTS (SELECT 1 FROM circulation_hold h"
        " WHERE h.item_id = i.id AND h.status = %s AND h.patron_id <> %s),"
        " EXISTS (SELECT 1 FROM circulation_hold h"
        " WHERE h.edition_id = i.edition_id AND h.status = %s AND h.patron_id = %s),"
        " (SELECT COUNT(*) FROM circulation_loan l"
        " WHERE l.patron_id = %s AND l.returned_at IS NULL)"
        if borrower
        else " FALSE, FALSE, 0"
    )
    return (
        f"SELECT {rows.columns(Item, 'i')}, e.title, e.format, e.available_now,"  # noqa: S608
        " EXISTS (SELECT 1 FROM circulation_hold h"
        " WHERE h.edition_id = i.edition_id AND h.status = %s),"
        + about_borrower
        + " FROM catalog_item i JOIN catalog_edition e ON e.id = i.edition_id"
        " WHERE i.barcode = %s" + rows.for_update("i", "e")
    )


def _scan(barcode: str, patron_id: int | None = None) -> Scanned:
    """The copy with ``barcode`` and the two fields of its edition that lending needs, both
    locked (``FOR UPDATE OF`` the copy and its edition: two desks changing copies of one title
    recompute its "available now" one after the other, each seeing the other's change), with
    the hold questions and the borrower's open loans answered in the same statement. The join
    is safe under PostgreSQL's re-check after a lock wait because a copy never changes
    edition.

    After a lock wait PostgreSQL re-reads the copy but not the subqueries, which keep the
    statement's snapshot. The loan count is still exact: the caller locked the person in an
    earlier statement, so every loan of theirs that could commit has. The hold answers may
    miss a hold placed during the wait, which is the same as that hold arriving a moment
    after the scan: it waits for the next copy, and nothing that must never happen can.

    Written out (``core.rows``): it runs on every checkout and return."""
    barcode = (barcode or "").strip()
    found = None
    if barcode:
        waiting = HoldStatus.WAITING.value
        if patron_id is None:
            params = [waiting, barcode]
        else:
            params = [waiting, waiting, patron_id, waiting, patron_id, patron_id, barcode]
        found = rows.fetch(_scan_sql(patron_id is not None), params, (Item, "i"))
    if found is None:
        raise NotFound("item_unknown", _("Dit exemplaar kennen we niet. Controleer de barcode."))
    item, title, format, available, waited, held_for_other, own, open_loans = found
    item.edition = Edition.from_db(
        connection.alias,
        ["id", "title", "format", "available_now"],
        [item.edition_id, title, format, bool(available)],
    )
    return Scanned(item, bool(waited), bool(held_for_other), bool(own), open_loans)


def _lock_person(person: Any) -> PersonState:
    """Lock the person: their limits are decided under it, one desk after the other. Returns
    whether they have a staff role (their loan category) and what their subscription allows
    today, read in the same statement (``entitlements.person_state``)."""
    return person_state(person, lock=True)


def digital_plan_check(patron, plan) -> None:
    """Refuse an e-book or audiobook the plan does not allow now: switched off, not in the
    plan, or its number this month used (the usage meter ``digital_loans`` of this period,
    ``subscriptions.selectors.usage_of``). Call with the person locked (``_lock_person``):
    the loan that counts is recorded in the same transaction (``digital_use_record``), so two
    loans at once cannot both pass the last one."""
    if plan is None:
        return
    refuse_digital(plan)  # before counting anything: off, or not in the plan
    from bieb.subscriptions import selectors as subscriptions

    usage = subscriptions.usage_of(patron)
    used = next((m.used for m in usage.meters if m.meter == DIGITAL_METER), 0)
    refuse_digital(plan, used=used, next_period=usage.period.end)


def digital_use_record(patron, plan, *, licence_organisation_id: int | None) -> None:
    """Count a digital loan as use of the borrower's subscription (usage meter
    ``digital_loans`` of their own library, else of the licence's), in the caller's
    transaction. Nothing for a person without a subscription."""
    if plan is None:
        return
    from bieb.subscriptions import services as subscriptions

    organisation_id = patron.home_organisation_id or licence_organisation_id
    if organisation_id is None:  # a national licence and no library of their own
        return
    subscriptions.usage_record(
        person=patron, meter=DIGITAL_METER, organisation_id=organisation_id, amount=1
    )


def _staff_actor(actor, patron_id: int | None):
    """The actor to audit: staff acting for someone, not the person acting for themself (an
    audit row naming them beside a loan or hold would keep the reading history they chose not
    to keep)."""
    if actor is None or getattr(actor, "pk", None) == patron_id:
        return None
    return actor


def _consent_refusal() -> DomainError:
    return DomainError(
        "consent_required",
        _("Je ouder of voogd moet eerst toestemming geven. Vraag het via Mijn bibliotheek aan."),
        status=403,
    )


def _local_today() -> dt.date:
    return clock.today()


def _eligible_holds(item: Item, today: dt.date):
    """Waiting holds this copy may serve, in queue order: holds on this very copy first,
    then holds on the title within their scope (not paused)."""
    return (
        Hold.objects.filter(edition_id=item.edition_id, status=HoldStatus.WAITING)
        .filter(open_now_q(today))
        .filter(
            serves_copy_q(
                item_id=item.pk,
                organisation_id=item.organisation_id,
                home_location_id=item.home_location_id,
            )
        )
        .order_by("placed_at", "pk")
    )


def _next_hold(item: Item, today: dt.date, *, title_waited_for: bool = True) -> Hold | None:
    """The first eligible hold, locked; a hold another desk is trapping right now is skipped
    (``SKIP LOCKED``), so two copies returned at once serve two people. ``title_waited_for``
    False (the scan found nobody waiting for the title) is the common case: no query.

    A hold of someone whose subscription is off today, or whose plan lends no printed copies,
    is passed over: it keeps its place in the queue and the copy goes to the next in line.
    A passed-over hold stays locked until the end of the transaction, so another desk passes
    it over too rather than waiting for it."""
    if not title_waited_for:
        return None
    from bieb.accounts.models import User

    base = _eligible_holds(item, today)
    for query in (base.filter(item_id=item.pk), base.filter(item__isnull=True)):
        passed: list[int] = []
        while True:
            hold = (
                query.exclude(pk__in=passed)
                .order_by("placed_at", "pk")
                .select_for_update(skip_locked=True, of=("self",))
                .first()
            )
            if hold is None:
                break
            holder = User(pk=hold.patron_id)  # the statement asks for nothing but the id
            if may_be_trapped_for(person_state(holder, today=today).plan):
                return hold
            passed.append(hold.pk)
    return None


@dataclass
class CheckinResult:
    """What the desk must do with the copy: put it on the ``shelf``, on the ``hold_shelf`` (for
    ``hold``), or send it in ``transit`` to ``to_location``."""

    item: Item
    destination: str
    to_location: Any = None
    loan: Loan | None = None
    hold: Hold | None = None
    transfer: Transfer | None = None
    charge: Charge | None = None
    was_late_days: int = 0


# --- checkout --------------------------------------------------------------------------------


def checkout(
    *,
    patron,
    barcode: str,
    location,
    actor=None,
    channel: str = "desk",
    due_date: dt.date | None = None,
    booked_thing: bool = False,
) -> Loan:
    """Lend the copy ``barcode`` to ``patron`` at ``location``. ``due_date`` replaces the
    policy's loan period (a thing of the library is due on its booking's last day). A thing
    is lent only for its booking (``booked_thing``, from ``community.things.thing_lend``):
    a desk scan or a self-service machine alone does not lend it. A person with a subscription
    borrows as their plan allows (``entitlements.refuse_physical``: not while it is switched
    off, not when the plan lends no printed copies, not past its number at once); a person
    without one as their patron category allows. The use is counted for the subscription by
    the nightly round (``tasks.report_loan_use``), not here."""
    if channel not in CHANNELS:
        channel = "desk"
    today = _local_today()
    try:
        with transaction.atomic():
            rights = entitlements_for(patron, state=_lock_person(patron))
            if not rights.physical:
                if rights.refusal == "no_card":
                    raise DomainError(
                        "no_card", _("Voor lenen heb je een bibliotheekpas nodig."), status=403
                    )
                raise DomainError(
                    "account_blocked", _("Met dit account kun je niet lenen."), status=403
                )
            refuse_physical(rights.plan)  # switched off, or no printed copies in the plan
            scanned = _scan(barcode, patron.pk)
            item = scanned.item
            hold = _refuse_unlendable(scanned, patron)
            if item.edition.format == Format.THING and not booked_thing:
                raise DomainError(
                    "thing_needs_booking",
                    _("Een ding van de bibliotheek leen je met een reservering: zie Dingen."),
                    status=409,
                )
            was_moving = item.status == ItemStatus.IN_TRANSIT
            previous_status = item.status
            policy = policy_for(item.organisation_id, item.edition.format, rights.category)
            open_loans = scanned.open_loans
            # the plan's number at once and the policy's: the stricter wins, and says so
            if rights.plan is not None and rights.plan.physical_loans < policy.max_loans:
                refuse_physical(rights.plan, open_loans=open_loans)
            if open_loans >= policy.max_loans:
                raise DomainError(
                    "limit_reached",
                    _("Je hebt al %(n)s exemplaren geleend, het maximum.") % {"n": open_loans},
                    status=409,
                )
            due = due_date if due_date is not None else today + dt.timedelta(days=policy.loan_days)
            if due < today:
                raise DomainError("due_date_past", _("De inleverdatum ligt in het verleden."))
            loan = rows.insert(
                Loan(
                    item=item,
                    edition_id=item.edition_id,
                    organisation_id=item.organisation_id,
                    patron=patron,
                    category=rights.category,
                    checkout_location=location,
                    due_date=due,
                    channel=channel,
                )
            )
            catalog_services.item_set_status(
                item,
                ItemStatus.ON_LOAN,
                location=location,
                due_date=due,
                actor=_staff_actor(actor, patron.pk),
                audit=False,  # the checkout row below records it
                edition_available=item.edition.available_now,  # read under the scan's lock
            )
            if hold is not None:
                _end_hold(hold, HoldStatus.COLLECTED)
            if scanned.own_hold_waiting:
                # another copy of a title they were waiting for: their place in the queue is done
                Hold.objects.filter(
                    patron=patron, edition_id=item.edition_id, status=HoldStatus.WAITING
                ).update(status=HoldStatus.COLLECTED, ended_at=clock.now(), updated_at=clock.now())
            if was_moving:  # collected before it reached the pick-up location
                Transfer.objects.filter(item=item, status__in=OPEN_TRANSFER).update(
                    status=TransferStatus.CANCELLED, updated_at=clock.now()
                )
            audit_record(
                action="circulation.checkout",
                actor=_staff_actor(actor, patron.pk),
                subject=loan,
                organisation_id=item.organisation_id,
                data={
                    "item": item.barcode,
                    "location": location.pk,
                    "due_date": due.isoformat(),
                    "channel": channel,
                    "hold": hold.pk if hold else None,
                    "status_from": previous_status,
                    "status_to": ItemStatus.ON_LOAN,
                },
            )
    except IntegrityError as exc:  # another desk lent the copy between our read and write
        raise _item_on_loan() from exc
    except DomainError as exc:
        if exc.code == "item_status_changed":
            raise _item_on_loan() from exc
        raise
    return loan


def _item_on_loan() -> DomainError:
    return DomainError(
        "item_on_loan", _("Dit exemplaar is al uitgeleend. Lever het eerst in."), status=409
    )


def _refuse_unlendable(scanned: Scanned, patron) -> Hold | None:
    """Raise when the scanned copy cannot be lent to ``patron`` now; return the patron's hold
    it fulfils (a copy waiting on the hold shelf for them)."""
    item = scanned.item
    if item.edition.format in DIGITAL_FORMATS:
        raise DomainError("not_physical", _("Dit is een digitale titel."))
    status = item.status
    if status == ItemStatus.ON_LOAN:
        raise _item_on_loan()
    if status in (ItemStatus.ON_HOLD_SHELF, ItemStatus.IN_TRANSIT):
        hold = (
            Hold.objects.select_for_update(of=("self",))
            .filter(trapped_item=item, status__in=(HoldStatus.READY, HoldStatus.IN_TRANSIT))
            .first()
        )
        if hold is not None and hold.patron_id == patron.pk:
            return hold
        if hold is not None or status == ItemStatus.IN_TRANSIT:
            raise DomainError(
                "item_on_hold",
                _("Dit exemplaar ligt klaar voor iemand anders die het gereserveerd heeft."),
                status=409,
            )
        return None  # on the hold shelf for a hold that ended: it may go out again
    if status != ItemStatus.AVAILABLE:
        raise DomainError(
            "item_not_lendable",
            _("Dit exemplaar kan niet worden uitgeleend (%(status)s).")
            % {"status": ItemStatus(status).label},
            status=409,
        )
    if scanned.copy_held_for_other:
        raise DomainError(
            "item_on_hold",
            _("Iemand anders heeft juist dit exemplaar gereserveerd."),
            status=409,
        )
    return None


# --- checkin ---------------------------------------------------------------------------------


def checkin(*, barcode: str, location, actor=None, channel: str = "desk") -> CheckinResult:
    """Take in the copy ``barcode`` at ``location`` (any location in the country): end its
    loan (with a late fee where the policy has one and the borrower is not under 18), receive
    it if it was in transit here, then route it: to the hold shelf or in transit for the first
    hold in the queue, else to the shelf here (floating collection, or home) or home."""
    now = clock.now()
    today = _local_today()
    with transaction.atomic():
        scanned = _scan(barcode)
        item = scanned.item
        if item.status in (ItemStatus.WITHDRAWN,):
            raise DomainError("item_not_lendable", _("Dit exemplaar is afgevoerd."), status=409)
        result = CheckinResult(item=item, destination="shelf", to_location=location)
        previous_status = item.status
        if item.status in (ItemStatus.MISSING, ItemStatus.REPAIR):
            # found again, or back from repair: on the shelf here before it is routed
            catalog_services.item_set_status(
                item,
                ItemStatus.AVAILABLE,
                location=location,
                actor=actor,
                audit=False,
                edition_available=False,  # locked by the scan; recount
            )
        loan = _end_open_loan(item, location, now, today, result)
        # open transfers and trapped holds go with these two states only
        moving = item.status in (ItemStatus.IN_TRANSIT, ItemStatus.ON_HOLD_SHELF)
        if item.status == ItemStatus.IN_TRANSIT:
            _receive_transfer(item, location, now)
        trapped = (
            Hold.objects.filter(
                trapped_item=item, status__in=(HoldStatus.IN_TRANSIT, HoldStatus.READY)
            )
            .select_for_update(of=("self",))
            .first()
            if moving
            else None
        )
        if trapped is not None and trapped.pickup_location_id == location.pk:
            _hold_ready(trapped, item, location, today, actor)
            result.destination, result.hold = "hold_shelf", trapped
        elif trapped is not None:
            # scanned on its way: it still goes to the pick-up location
            result.transfer = _transfer(
                item, location, trapped.pickup_location, TransferReason.HOLD, trapped
            )
            _set_status(item, ItemStatus.IN_TRANSIT, trapped.pickup_location, actor)
            result.destination, result.hold = "transit", trapped
            result.to_location = trapped.pickup_location
        else:
            _route(item, location, today, actor, result, scanned.title_waited_for)
        audit_record(
            action="circulation.checkin",
            actor=actor,
            subject=item,
            organisation_id=item.organisation_id,
            data={
                "loan": loan.pk if loan else None,
                "location": location.pk,
                "destination": result.destination,
                "to_location": result.to_location.pk if result.to_location else None,
                "hold": result.hold.pk if result.hold else None,
                "late_days": result.was_late_days,
                "charge_cents": result.charge.amount_cents if result.charge else 0,
                "channel": channel,
                "status_from": previous_status,
                "status_to": item.status,
            },
        )
    return result


@cache
def _open_loan_sql() -> str:
    return (
        f"SELECT {rows.columns(Loan, 'l')}, u.keep_loan_history,"  # noqa: S608
        " EXISTS (SELECT 1 FROM circulation_notice n WHERE n.loan_id = l.id),"
        " EXISTS (SELECT 1 FROM circulation_hold h WHERE h.patron_id = l.patron_id"
        " AND h.edition_id = l.edition_id AND h.status IN (%s, %s, %s)),"
        # the borrower's own subscription today, and whether they may share a household's
        " EXISTS (SELECT 1 FROM subscriptions_subscription s WHERE s.person_id = l.patron_id"
        " AND s.status = 'active' AND s.parent_id IS NULL"
        " AND (s.last_day IS NULL OR s.last_day >= %s)),"
        " u.household_id IS NOT NULL"
        " FROM circulation_loan l LEFT JOIN accounts_user u ON u.id = l.patron_id"
        " WHERE l.item_id = %s AND l.returned_at IS NULL" + rows.for_update("l")
    )


def _end_open_loan(item: Item, location, now, today: dt.date, result: CheckinResult):
    """End the copy's open loan, if any (locked, with whether its borrower keeps a history,
    whether anything else links them to the title and whether they may have a subscription,
    in one written-out statement): the late fee, the return, and the borrower's name taken
    off when they keep no history — after counting the loan as use of their subscription when
    the nightly round has not counted it yet (``_count_forgotten_use``)."""
    found = rows.fetch(
        _open_loan_sql(),
        [
            HoldStatus.COLLECTED,
            HoldStatus.CANCELLED,
            HoldStatus.EXPIRED,
            rows.date(today),
            item.pk,
        ],
        (Loan, "l"),
    )
    if found is None:
        return None
    loan, keeps_history, has_notices, has_ended_holds, subscribed, in_household = found
    loan.edition = item.edition
    result.loan = loan
    result.was_late_days = max(0, (today - loan.due_date).days)
    result.charge = _overdue_charge(loan, result.was_late_days)
    patron_id = loan.patron_id
    forget = patron_id is not None and not keeps_history
    loan.returned_at, loan.return_location, loan.updated_at = now, location, now
    if forget:
        loan.patron = None
        if subscribed or in_household:
            _count_forgotten_use(loan, patron_id, today, subscribed=bool(subscribed))
    rows.execute(
        "UPDATE circulation_loan SET returned_at = %s, return_location_id = %s,"
        " patron_id = %s, updated_at = %s WHERE id = %s",
        [rows.moment(now), location.pk, loan.patron_id, rows.moment(now), loan.pk],
    )
    if forget and (has_notices or has_ended_holds):
        forget_title(patron_id, loan)
    return loan


def _count_forgotten_use(loan: Loan, patron_id: int, today: dt.date, *, subscribed: bool) -> None:
    """The borrower's name is about to leave ``loan``: if the nightly round has not counted
    its lending day yet (``tasks.loan_use_counted``), it never will, so count it now as use of
    the borrower's subscription (the usage meter ``loans`` of the copy's organisation) — for a
    borrower with a subscription on that day (``subscribed``: their own, today). A day is
    counted exactly once: the round counts the day's loans that still name their borrower,
    this the ones that no longer will. Lent and returned the same day is the common case: no
    statement but the count itself."""
    from bieb.accounts.models import User
    from bieb.circulation import tasks
    from bieb.subscriptions import services as subscriptions

    lent_on = loan.checked_out_at.astimezone(clock.AMSTERDAM).date()
    person = User(pk=patron_id)  # the meter asks for nothing but the id
    if not (lent_on == today and subscribed):
        if tasks.loan_use_counted(lent_on):
            return
        if person_state(person, today=lent_on).plan is None:
            return
    subscriptions.usage_record(
        person=person,
        meter=tasks.LOANS_METER,
        organisation_id=loan.organisation_id,
        amount=1,
        day=lent_on,
    )


def _set_status(
    item: Item, status: str, location, actor, *, edition_available: bool = False
) -> None:
    if item.status == status and item.location_id == location.pk:
        return
    if item.status == status:
        # same status, another place (a copy in transit re-routed): move it via available
        Item.objects.filter(pk=item.pk).update(location=location, updated_at=clock.now())
        item.location = location
        return
    # the circulation row of the checkin records it; the scan locked the edition
    catalog_services.item_set_status(
        item,
        status,
        location=location,
        actor=actor,
        audit=False,
        edition_available=edition_available,
    )


def _route(
    item: Item,
    location,
    today: dt.date,
    actor,
    result: CheckinResult,
    title_waited_for: bool = True,
) -> None:
    """A copy free at ``location``: trap it for the next hold, or shelve it."""
    hold = _next_hold(item, today, title_waited_for=title_waited_for)
    if hold is not None:
        result.hold = hold
        if hold.pickup_location_id == location.pk:
            _hold_ready(hold, item, location, today, actor)
            result.destination, result.to_location = "hold_shelf", location
        else:
            _trap(hold, item, HoldStatus.IN_TRANSIT)
            result.transfer = _transfer(
                item, location, hold.pickup_location, TransferReason.HOLD, hold
            )
            _set_status(item, ItemStatus.IN_TRANSIT, hold.pickup_location, actor)
            result.destination, result.to_location = "transit", hold.pickup_location
        return
    rules = rules_for(item.organisation_id)
    stays = rules.floating and location.organisation_id == item.organisation_id
    if stays or item.home_location_id == location.pk:
        # the edition was read under its lock by the scan: "available now" already, a copy
        # more on the shelf cannot change it
        _set_status(
            item,
            ItemStatus.AVAILABLE,
            location,
            actor,
            edition_available=item.edition.available_now,
        )
        result.destination, result.to_location = "shelf", location
        return
    home = item.home_location
    result.transfer = _transfer(item, location, home, TransferReason.HOME, None)
    _set_status(item, ItemStatus.IN_TRANSIT, home, actor)
    result.destination, result.to_location = "transit", home


def _trap(hold: Hold, item: Item, status: str, ready_until: dt.date | None = None) -> None:
    """Give ``item`` to ``hold`` (conditional on the hold still waiting); the database refuses
    a second active hold on one copy."""
    updated = Hold.objects.filter(pk=hold.pk, status=HoldStatus.WAITING).update(
        status=status,
        trapped_item=item,
        trapped_at=clock.now(),
        ready_until=ready_until,
        updated_at=clock.now(),
    )
    if not updated:
        raise DomainError(
            "hold_changed", _("Deze reservering is intussen gewijzigd. Scan opnieuw."), status=409
        )
    hold.status, hold.trapped_item = status, item


def _hold_ready(hold: Hold, item: Item, location, today: dt.date, actor) -> None:
    rules = rules_for(location.organisation_id)
    until = today + dt.timedelta(days=rules.hold_shelf_days)
    if hold.status == HoldStatus.WAITING:
        _trap(hold, item, HoldStatus.READY, until)
    else:
        Hold.objects.filter(pk=hold.pk).update(
            status=HoldStatus.READY, ready_until=until, updated_at=clock.now()
        )
    hold.status, hold.ready_until = HoldStatus.READY, until
    _set_status(item, ItemStatus.ON_HOLD_SHELF, location, actor)
    audit_record(
        action="circulation.hold_ready",
        actor=actor,
        subject=hold,
        organisation_id=location.organisation_id,
        data={"item": item.barcode, "location": location.pk, "until": until.isoformat()},
    )
    from bieb.circulation import notices

    notices.hold_ready(hold)


def _transfer(item: Item, origin, destination, reason: str, hold: Hold | None) -> Transfer:
    Transfer.objects.filter(item=item, status__in=OPEN_TRANSFER).update(
        status=TransferStatus.CANCELLED, updated_at=clock.now()
    )
    return Transfer.objects.create(
        item=item, from_location=origin, to_location=destination, reason=reason, hold=hold
    )


def _receive_transfer(item: Item, location, now) -> None:
    """An item scanned at the end of its journey: the open transfer to here is received; one
    to elsewhere that never left is dropped (the copy is routed afresh)."""
    for transfer in Transfer.objects.select_for_update(of=("self",)).filter(
        item=item, status__in=OPEN_TRANSFER
    ):
        if transfer.to_location_id == location.pk:
            transfer.status, transfer.received_at = TransferStatus.RECEIVED, now
        else:
            transfer.status = TransferStatus.CANCELLED
        transfer.save(update_fields=["status", "received_at", "updated_at"])


def forget_title(patron, loan: Loan) -> None:  # patron: a person or their id
    """After a return by someone who keeps no loan history: the notices about the loan and
    their ended holds of the title go too, so nothing links them to it any more. (A charge
    for the loan stays: it is money owed, not history.)"""
    from bieb.circulation.models import Notice

    ended = Hold.objects.filter(
        patron=patron,
        edition_id=loan.edition_id,
        status__in=(HoldStatus.COLLECTED, HoldStatus.CANCELLED, HoldStatus.EXPIRED),
    )
    Notice.objects.filter(Q(loan=loan) | Q(hold__in=ended)).delete()
    ended.delete()


def _overdue_charge(loan: Loan, late_days: int) -> Charge | None:
    if late_days <= 0 or loan.patron is None or loan.category == PatronCategory.YOUTH:
        return None
    if not pays_fees(loan.patron):
        return None
    policy = policy_for(loan.organisation_id, loan.edition.format, loan.category)
    amount = late_days * policy.overdue_fee_cents_per_day
    if policy.overdue_fee_max_cents:
        amount = min(amount, policy.overdue_fee_max_cents)
    if amount <= 0:
        return None
    charge = Charge.objects.create(
        patron=loan.patron,
        organisation_id=loan.organisation_id,
        loan=loan,
        kind=ChargeKind.OVERDUE,
        amount_cents=amount,
        description=ngettext("%(days)s dag te laat", "%(days)s dagen te laat", late_days)
        % {"days": late_days},
    )
    _report_charge(charge, loan.edition.title, late_days=late_days)
    return charge


# --- charges: billed through the subscription -----------------------------------------------

#: ``subscriptions.Fee.source`` of the fees circulation reports (``source_id``: the charge)
FEE_SOURCE = "circulation.charge"


def _fee_description(charge: Charge, title: str, late_days: int) -> str:
    """The invoice line's text: in Dutch whatever language the desk uses, naming the title."""
    with translation.override("nl"):
        if charge.kind == ChargeKind.OVERDUE:
            return ngettext(
                "Te laat ingeleverd: %(title)s (%(days)s dag)",
                "Te laat ingeleverd: %(title)s (%(days)s dagen)",
                late_days,
            ) % {"title": title, "days": late_days}
        if charge.kind == ChargeKind.LOST:
            return _("Vervanging van een verloren exemplaar: %(title)s") % {"title": title}
        return _("Administratiekosten bij verlies van %(title)s") % {"title": title}


def _report_charge(charge: Charge, title: str, *, late_days: int = 0) -> None:
    """Report ``charge`` to the subscription, which bills it on the borrower's next invoice
    from the charge's organisation; in the caller's transaction, once per charge (the fee's
    source is the charge)."""
    from bieb.network.models import Organisation
    from bieb.subscriptions import services as subscriptions

    subscriptions.fee_record(
        person=charge.patron,
        organisation=Organisation(pk=charge.organisation_id),
        amount_cents=charge.amount_cents,
        description=_fee_description(charge, title, late_days),
        source=FEE_SOURCE,
        source_id=charge.pk,
    )


def _charge_billed() -> DomainError:
    return DomainError(
        "charge_billed",
        _(
            "Deze kosten staan al op een factuur en kunnen niet meer worden kwijtgescholden. "
            "Maak een creditnota via de facturen van dit lid."
        ),
        status=409,
    )


def _fee_billed(charge_id: int) -> bool:
    """Whether the fee of the charge is on an invoice. (A read of the subscriptions' fee: its
    services answer only whether a waiver happened, not why not.)"""
    from bieb.subscriptions.models import Fee

    return Fee.objects.filter(
        source=FEE_SOURCE, source_id=charge_id, invoice_line__isnull=False
    ).exists()


def charge_waive(charge: Charge, *, actor=None) -> Charge:
    """Waive ``charge``: the borrower no longer owes it, and its fee leaves their next
    invoice (``subscriptions.services.fee_waive``) in the same transaction. Staff of the
    charge's organisation who serve members (desk, managers) may waive; ``actor`` None is the
    system. Refused once it is billed (``charge_billed``) or waived (``charge_waived``)."""
    from bieb.accounts import access
    from bieb.subscriptions import services as subscriptions

    with transaction.atomic():
        locked = Charge.objects.select_for_update().filter(pk=charge.pk).first()
        if locked is None:
            raise NotFound("charge_unknown", _("Deze kosten bestaan niet (meer)."))
        if actor is not None:
            access.access_organisation(actor, locked.organisation_id, need="members")
        if locked.waived_at is not None:
            raise DomainError(
                "charge_waived", _("Deze kosten zijn al kwijtgescholden."), status=409
            )
        if locked.billed_at is not None:
            raise _charge_billed()
        if not subscriptions.fee_waive(
            source=FEE_SOURCE, source_id=locked.pk, actor=actor
        ) and _fee_billed(locked.pk):
            raise _charge_billed()
        # (no fee at all: a charge from before the switch-over, never reported)
        locked.waived_at = clock.now()
        locked.save(update_fields=["waived_at", "updated_at"])
        audit_record(
            action="circulation.charge_waived",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"amount_cents": locked.amount_cents, "kind": locked.kind},
        )
    return locked


def transfer_send(transfer: Transfer, *, actor=None) -> Transfer:
    """The copy leaves in the crate."""
    with transaction.atomic():
        updated = Transfer.objects.filter(pk=transfer.pk, status=TransferStatus.TO_SEND).update(
            status=TransferStatus.IN_TRANSIT, sent_at=clock.now(), updated_at=clock.now()
        )
        if not updated:
            raise DomainError("transfer_not_open", _("Dit transport is al verstuurd."), status=409)
        audit_record(
            action="circulation.transfer_sent",
            actor=actor,
            subject=transfer,
            organisation_id=transfer.from_location.organisation_id,
            data={"item": transfer.item_id, "to": transfer.to_location_id},
        )
    transfer.refresh_from_db()
    return transfer


# --- renewals --------------------------------------------------------------------------------


def _lock_item_of(loan: Loan) -> None:
    """Lock the copy of ``loan`` before the loan itself, in the order checkout and checkin
    lock them, so a renewal racing a return waits instead of deadlocking."""
    item_id = Loan.objects.filter(pk=loan.pk).values_list("item_id", flat=True).first()
    if item_id is not None:
        Item.objects.select_for_update().filter(pk=item_id).values_list("pk").first()


def renew(loan: Loan, *, actor=None, automatic: bool = False) -> Loan:
    """Extend ``loan`` by its policy's period from today (or from the due date, when that is
    later). Refused when someone waits for the title or the maximum is reached."""
    today = _local_today()
    with transaction.atomic():
        _lock_item_of(loan)
        locked = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("item", "edition")
            .filter(pk=loan.pk)
            .first()
        )
        if locked is None or locked.returned_at is not None:
            raise DomainError("loan_closed", _("Deze uitlening is al afgesloten."), status=409)
        policy = policy_for(locked.organisation_id, locked.edition.format, locked.category)
        if (
            locked.due_date < today
            and policy.overdue_fee_cents_per_day
            and locked.patron is not None
            and pays_fees(locked.patron)
        ):
            # renewing would wipe the late fee run up so far: bring it back (and pay) instead
            raise DomainError(
                "overdue",
                _(
                    "Dit exemplaar is te laat, dus verlengen kan niet meer. Breng het terug in"
                    " een bibliotheek naar keuze."
                ),
                status=409,
            )
        if locked.edition.format == Format.THING:
            # the next booking of the thing depends on it coming back on its day
            raise DomainError(
                "thing_not_renewable",
                _("Een ding verleng je niet; reserveer het opnieuw."),
                status=409,
            )
        if locked.renewals >= policy.max_renewals:
            raise DomainError(
                "renewal_limit",
                _("Je hebt dit exemplaar al %(n)s keer verlengd, vaker kan niet.")
                % {"n": locked.renewals},
                status=409,
            )
        if _eligible_holds(locked.item, today).exclude(patron_id=locked.patron_id).exists():
            raise DomainError(
                "reserved",
                _("Iemand anders heeft deze titel gereserveerd; verlengen kan niet."),
                status=409,
            )
        due = max(today, locked.due_date) + dt.timedelta(days=policy.loan_days)
        if due <= locked.due_date:
            raise DomainError("not_renewable", _("Verlengen geeft geen latere datum."), status=409)
        previous = locked.due_date
        locked.due_date = due
        locked.renewals += 1
        locked.save(update_fields=["due_date", "renewals", "updated_at"])
        Item.objects.filter(pk=locked.item_id).update(due_date=due, updated_at=clock.now())
        audit_record(
            action="circulation.renew",
            actor=_staff_actor(actor, locked.patron_id),
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"from": previous.isoformat(), "to": due.isoformat(), "automatic": automatic},
        )
    return locked


def auto_renew(*, today: dt.date | None = None, days_ahead: int = 1) -> dict[str, int]:
    """Renew every loan due within ``days_ahead`` days when nobody waits and renewals are left,
    as Dutch libraries do; the others stay due (the notices tell the borrower)."""
    today = today or _local_today()
    due = Loan.objects.filter(
        returned_at__isnull=True,
        due_date__gte=today,  # an overdue loan is not renewed by itself
        due_date__lte=today + dt.timedelta(days=days_ahead),
    ).values_list("pk", flat=True)
    renewed = refused = 0
    for pk in list(due):
        try:
            renew(Loan(pk=pk), automatic=True)
            renewed += 1
        except DomainError:
            refused += 1
    return {"renewed": renewed, "refused": refused}


# --- holds -----------------------------------------------------------------------------------


def hold_place(
    *,
    patron,
    edition: Edition,
    pickup_location,
    scope: str = HoldScope.NATIONAL,
    item: Item | None = None,
    not_before: dt.date | None = None,
    actor=None,
) -> Hold:
    """Reserve ``edition`` (or the copy ``item``) for pick-up at ``pickup_location``."""
    rights = entitlements_for(patron)
    if not rights.holds:
        if rights.refusal == "consent_required":
            raise _consent_refusal()
        raise DomainError(
            "no_card", _("Voor reserveren heb je een bibliotheekpas nodig."), status=403
        )
    if rights.plan is not None and rights.plan.on:
        # a plan without printed copies could never collect it; a subscription that is off
        # may queue (the hold is passed over until it is on again)
        refuse_physical(rights.plan)
    if scope not in HoldScope.values:
        raise DomainError("invalid_scope", _("Kies waar het exemplaar vandaan mag komen."))
    if not pickup_location.is_active:
        raise DomainError("invalid_pickup", _("Op deze locatie kun je niets afhalen."))
    if edition.format in DIGITAL_FORMATS:
        raise DomainError("not_physical", _("Een digitale titel reserveer je bij het lenen."))
    if edition.format == Format.THING:
        raise DomainError(
            "thing_not_holdable",
            _("Een ding van de bibliotheek reserveer je voor vaste dagen in de agenda."),
            status=409,
        )
    if item is not None and item.edition_id != edition.pk:
        raise DomainError("invalid_item", _("Dit exemplaar hoort niet bij deze titel."))
    copies = Item.objects.filter(edition=edition).exclude(
        status__in=(ItemStatus.WITHDRAWN, ItemStatus.MISSING)
    )
    if item is not None:
        copies = copies.filter(pk=item.pk)
    elif scope == HoldScope.LOCATION:
        copies = copies.filter(home_location=pickup_location)
    elif scope == HoldScope.ORGANISATION:
        copies = copies.filter(organisation_id=pickup_location.organisation_id)
    if not copies.exists():
        raise DomainError(
            "no_copies", _("Er is geen exemplaar dat je hier kunt afhalen."), status=409
        )
    try:
        with transaction.atomic():
            _lock_person(patron)
            if Loan.objects.filter(
                patron=patron, edition=edition, returned_at__isnull=True
            ).exists():
                raise DomainError(
                    "already_on_loan", _("Je hebt deze titel al geleend."), status=409
                )
            active = Hold.objects.filter(patron=patron, status__in=ACTIVE_HOLD).count()
            if active >= rights.max_holds:
                raise DomainError(
                    "hold_limit_reached",
                    _("Je hebt al %(n)s reserveringen, het maximum.") % {"n": active},
                    status=409,
                )
            hold = Hold.objects.create(
                patron=patron,
                edition=edition,
                item=item,
                scope=scope,
                pickup_location=pickup_location,
                not_before=not_before,
            )
            audit_record(
                action="circulation.hold_placed",
                actor=_staff_actor(actor, patron.pk),
                subject=hold,
                organisation_id=pickup_location.organisation_id,
                data={"edition": edition.pk, "scope": scope, "pickup": pickup_location.pk},
            )
    except IntegrityError as exc:
        raise DomainError(
            "hold_exists", _("Je hebt deze titel al gereserveerd."), status=409
        ) from exc
    return hold


def _end_hold(hold: Hold, status: str) -> None:
    Hold.objects.filter(pk=hold.pk).update(
        status=status, ended_at=clock.now(), updated_at=clock.now()
    )
    hold.status = status


def hold_cancel(hold: Hold, *, actor=None) -> Hold:
    """Cancel ``hold``. A copy waiting on the hold shelf for it stays there until a desk
    clears it (it is on the "to clear" list); one in transit finishes its journey and is routed
    on arrival."""
    with transaction.atomic():
        locked = Hold.objects.select_for_update(of=("self",)).filter(pk=hold.pk).first()
        if locked is None or locked.status not in ACTIVE_HOLD:
            raise DomainError("hold_closed", _("Deze reservering is al afgesloten."), status=409)
        _end_hold(locked, HoldStatus.CANCELLED)
        audit_record(
            action="circulation.hold_cancelled",
            actor=_staff_actor(actor, locked.patron_id),
            subject=locked,
            organisation_id=locked.pickup_location.organisation_id,
            data={"trapped_item": locked.trapped_item_id},
        )
    return locked


def hold_pause(hold: Hold, *, not_before: dt.date | None, actor=None) -> Hold:
    """Keep a waiting hold in the queue but skip it until ``not_before`` (None: resume)."""
    with transaction.atomic():
        updated = Hold.objects.filter(pk=hold.pk, status=HoldStatus.WAITING).update(
            not_before=not_before, updated_at=clock.now()
        )
        if not updated:
            raise DomainError(
                "hold_not_waiting",
                _("Alleen een reservering in de wachtrij kun je pauzeren."),
                status=409,
            )
        audit_record(
            action="circulation.hold_paused",
            actor=_staff_actor(actor, hold.patron_id),
            subject=hold,
            data={"not_before": not_before.isoformat() if not_before else None},
        )
    hold.not_before = not_before
    return hold


def hold_change_pickup(hold: Hold, *, pickup_location, actor=None) -> Hold:
    """Pick up somewhere else. Only while the hold waits: a trapped copy is already on its way."""
    if not pickup_location.is_active:
        raise DomainError("invalid_pickup", _("Op deze locatie kun je niets afhalen."))
    with transaction.atomic():
        updated = Hold.objects.filter(pk=hold.pk, status=HoldStatus.WAITING).update(
            pickup_location=pickup_location, updated_at=clock.now()
        )
        if not updated:
            raise DomainError(
                "hold_not_waiting",
                _("Het exemplaar is al onderweg; de afhaallocatie kan niet meer veranderen."),
                status=409,
            )
        audit_record(
            action="circulation.hold_pickup_changed",
            actor=_staff_actor(actor, hold.patron_id),
            subject=hold,
            organisation_id=pickup_location.organisation_id,
            data={"pickup": pickup_location.pk},
        )
    hold.pickup_location = pickup_location
    return hold


def expire_holds(*, today: dt.date | None = None) -> int:
    """Holds left on the shelf past their date expire; their copies go on the "to clear" list
    and pass to the next in line when a desk scans them."""
    today = today or _local_today()
    expired = 0
    for pk in list(
        Hold.objects.filter(status=HoldStatus.READY, ready_until__lt=today).values_list(
            "pk", flat=True
        )
    ):
        with transaction.atomic():
            hold = (
                Hold.objects.select_for_update(of=("self",))
                .filter(pk=pk, status=HoldStatus.READY)
                .first()
            )
            if hold is None:
                continue
            _end_hold(hold, HoldStatus.EXPIRED)
            audit_record(
                action="circulation.hold_expired",
                subject=hold,
                organisation_id=hold.pickup_location.organisation_id,
                data={"trapped_item": hold.trapped_item_id},
            )
            expired += 1
    return expired


# --- loss ------------------------------------------------------------------------------------


def declare_lost(loan: Loan, *, actor=None) -> list[Charge]:
    """The borrower lost the copy: the loan ends, the copy is missing, and the borrower owes
    its replacement cost (plus the organisation's administration fee) — under-18s too: this
    is no fee for borrowing."""
    with transaction.atomic():
        _lock_item_of(loan)
        locked = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("item", "patron", "edition")
            .filter(pk=loan.pk, returned_at__isnull=True)
            .first()
        )
        if locked is None:
            raise DomainError("loan_closed", _("Deze uitlening is al afgesloten."), status=409)
        charges = []
        if locked.patron is not None:
            rules = rules_for(locked.organisation_id)
            for kind, amount in (
                (ChargeKind.LOST, locked.item.replacement_cost_cents),
                (ChargeKind.LOST_ADMIN, rules.lost_fee_cents),
            ):
                if amount > 0:
                    charge = Charge.objects.create(
                        patron=locked.patron,
                        organisation_id=locked.organisation_id,
                        loan=locked,
                        kind=kind,
                        amount_cents=amount,
                        description=str(locked.item.barcode),
                    )
                    _report_charge(charge, locked.edition.title)
                    charges.append(charge)
        locked.returned_at = clock.now()
        locked.return_location_id = locked.item.location_id
        locked.save(update_fields=["returned_at", "return_location", "updated_at"])
        catalog_services.item_set_status(locked.item, ItemStatus.MISSING, actor=actor, audit=False)
        audit_record(
            action="circulation.lost",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={
                "item": locked.item.barcode,
                "charged_cents": sum(c.amount_cents for c in charges),
            },
        )
    return charges
