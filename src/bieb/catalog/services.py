"""Writes to the catalogue outside the bulk import: items and their status, digital licences,
and the denormalised ``Edition.available_now`` flag both of them feed.

Other apps (circulation first) change item status only through ``item_set_status``. Every
service is keyword-only after its subject, validates its input and raises ``DomainError`` with a
stable code, runs in one transaction and writes an audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from bieb.catalog import search
from bieb.catalog.models import (
    DIGITAL_FORMATS,
    DigitalLicence,
    Edition,
    Item,
    ItemStatus,
    LicenceModel,
)
from bieb.core import clock, rows
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError

__all__ = [
    "edition_refresh_availability",
    "item_create",
    "item_set_status",
    "licence_create",
    "licence_note_waiting",
    "licence_open_q",
    "licence_release",
    "licence_take",
    "licences_for_lending",
]


def licence_open_q(today: dt.date) -> Q:
    """Licences that can lend a copy now: active, within their dates, with a free slot and
    (metered by loans) loans left. "Always available" licences only need to be active and
    current."""
    current = (
        Q(is_active=True)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    )
    room = Q(active_loans__lt=F("concurrent_users")) & (
        Q(loans_total__isnull=True) | Q(loans_used__lt=F("loans_total"))
    )
    return current & (Q(model=LicenceModel.ALWAYS) | room)


def _touch(edition_id: int) -> None:
    """A change of holdings changes the edition's OAI-PMH organisation sets: move its datestamp
    so incremental harvests pick it up."""
    Edition.objects.filter(pk=edition_id).update(updated_at=clock.now())


#: ``available_now`` as SQL both databases speak: a copy on the shelf, or a licence with room
#: today (the same rule as ``licence_open_q``, which tests hold it to)
_AVAILABLE_SQL = (
    "(EXISTS (SELECT 1 FROM catalog_item i WHERE i.edition_id = catalog_edition.id"
    " AND i.status = %s)"
    " OR EXISTS (SELECT 1 FROM catalog_digitallicence l WHERE l.edition_id = catalog_edition.id"
    " AND l.is_active AND (l.valid_from IS NULL OR l.valid_from <= %s)"
    " AND (l.valid_until IS NULL OR l.valid_until >= %s)"
    " AND (l.model = %s OR (l.active_loans < l.concurrent_users"
    " AND (l.loans_total IS NULL OR l.loans_used < l.loans_total)))))"
)


def edition_refresh_availability(edition_ids: Iterable[int]) -> int:
    """Recompute ``available_now`` for ``edition_ids``: a copy on the shelf somewhere, or a
    digital licence with room today. Returns the number of editions whose flag changed.

    One ``UPDATE ... RETURNING`` per 500 editions, written out rather than built by the ORM:
    circulation calls this on every checkout and return, where building the two ``Exists``
    queries cost more than running them."""
    ids = list(edition_ids)
    if not ids:
        return 0
    today = clock.today()
    rule = [ItemStatus.AVAILABLE.value, today, today, LicenceModel.ALWAYS.value]
    changed: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        changed += rows.column(
            f"UPDATE catalog_edition SET available_now = {_AVAILABLE_SQL}"  # noqa: S608
            f" WHERE id IN ({marks}) AND available_now <> {_AVAILABLE_SQL} RETURNING id",
            [*rule, *chunk, *rule],
        )
    if changed:
        # the "available now" filter and facet read the flag from the search index
        search.refresh_availability(changed)
    return len(changed)


def item_create(
    *,
    edition: Edition,
    location,
    barcode: str,
    shelf_mark: str = "",
    replacement_cost_cents: int = 0,
    actor=None,
) -> Item:
    """Add a physical copy of ``edition`` at ``location`` (its home and current place)."""
    barcode = (barcode or "").strip()
    if not barcode or len(barcode) > 32 or not barcode.isalnum():
        raise DomainError(
            "invalid_barcode",
            _("Een barcode bestaat uit 1 tot 32 letters en cijfers."),
            details={"field": "barcode"},
        )
    if edition.format in DIGITAL_FORMATS:
        raise DomainError(
            "digital_edition_has_no_items",
            _("Een digitale titel heeft geen exemplaren maar licenties."),
        )
    if replacement_cost_cents < 0:
        raise DomainError(
            "invalid_amount", _("Een bedrag kan niet negatief zijn."), details={"field": "cost"}
        )
    try:
        with transaction.atomic():
            item = Item.objects.create(
                edition=edition,
                organisation_id=location.organisation_id,
                home_location=location,
                location=location,
                barcode=barcode,
                shelf_mark=shelf_mark.strip()[:60],
                replacement_cost_cents=replacement_cost_cents,
            )
            edition_refresh_availability([edition.pk])
            _touch(edition.pk)
            audit_record(
                action="catalog.item_created",
                actor=actor,
                subject=item,
                organisation_id=location.organisation_id,
                data={"barcode": barcode, "edition": edition.pk, "location": location.pk},
            )
    except IntegrityError as exc:
        raise DomainError(
            "barcode_taken",
            _("Deze barcode is al in gebruik."),
            status=409,
            details={"field": "barcode"},
        ) from exc
    return item


# Status changes a desk or circulation may make; the rest (e.g. withdrawn -> on loan) is refused.
_ALLOWED = {
    ItemStatus.AVAILABLE: {
        ItemStatus.ON_LOAN,
        ItemStatus.IN_TRANSIT,
        ItemStatus.ON_HOLD_SHELF,
        ItemStatus.REPAIR,
        ItemStatus.MISSING,
        ItemStatus.WITHDRAWN,
    },
    ItemStatus.ON_LOAN: {
        ItemStatus.AVAILABLE,
        ItemStatus.IN_TRANSIT,
        ItemStatus.ON_HOLD_SHELF,
        ItemStatus.MISSING,
        ItemStatus.ON_LOAN,  # renewal: a new due date
    },
    ItemStatus.IN_TRANSIT: {
        ItemStatus.AVAILABLE,
        ItemStatus.ON_HOLD_SHELF,
        ItemStatus.MISSING,
        ItemStatus.ON_LOAN,
    },
    ItemStatus.ON_HOLD_SHELF: {
        ItemStatus.ON_LOAN,
        ItemStatus.AVAILABLE,
        ItemStatus.IN_TRANSIT,
        ItemStatus.MISSING,
    },
    ItemStatus.REPAIR: {ItemStatus.AVAILABLE, ItemStatus.WITHDRAWN, ItemStatus.MISSING},
    ItemStatus.MISSING: {ItemStatus.AVAILABLE, ItemStatus.WITHDRAWN, ItemStatus.IN_TRANSIT},
    ItemStatus.WITHDRAWN: set(),
}


def item_set_status(
    item: Item,
    status: str,
    *,
    location=None,
    due_date: dt.date | None = None,
    actor=None,
    audit: bool = True,
    edition_available: bool | None = None,
) -> Item:
    """Move ``item`` to ``status`` (and ``location``: where it is now, or is heading in
    transit). ``due_date`` is required for, and only kept with, "on loan". ``audit=False``
    is for a caller that records the change in its own audit row in the same transaction
    (circulation's checkout, return and loss rows name the copy and both statuses).

    "Available now" is recounted after the change, under the edition's row lock, so two desks
    changing copies of one title count one after the other. ``edition_available`` is for a
    caller that already holds that lock (circulation's scan locks the copy and its edition):
    the edition's ``available_now`` as it stands in this transaction, or False when unsure.
    When it is True and a copy is still on the shelf after the change (this one, or another,
    as the UPDATE itself reports), the flag cannot change and the recount is skipped. None
    (the default) means the caller holds no lock: it is taken here, after the copy's, the
    order circulation takes them in.

    The change is a conditional UPDATE on the status the caller saw, so two desks acting on
    one copy at once cannot both win: the loser gets ``item_status_changed``.
    """
    if status not in ItemStatus.values:
        raise DomainError("invalid_status", _("Onbekende status van een exemplaar."))
    if status == ItemStatus.ON_LOAN and due_date is None:
        raise DomainError("due_date_required", _("Een uitlening heeft een inleverdatum nodig."))
    previous = item.status
    if status not in _ALLOWED[ItemStatus(previous)]:
        raise DomainError(
            "invalid_status_change",
            _("Een exemplaar met status '%(old)s' kan niet naar '%(new)s'.")
            % {"old": ItemStatus(previous).label, "new": ItemStatus(status).label},
            status=409,
        )
    new_location = location or item.location
    now = clock.now()
    # No savepoint (two round trips less on every checkout and return): the refusal is raised
    # after the block, which has written nothing then, so a caller that catches it may go on
    # in its transaction.
    with transaction.atomic(savepoint=False):
        # written out: circulation runs this on every checkout and return (``core.rows``)
        others_on_shelf = rows.column(
            "UPDATE catalog_item SET status = %s, location_id = %s, due_date = %s,"
            " updated_at = %s WHERE id = %s AND status = %s"
            " RETURNING EXISTS (SELECT 1 FROM catalog_item o WHERE o.status = %s"
            " AND o.edition_id = catalog_item.edition_id AND o.id <> catalog_item.id)",
            [
                status,
                new_location.pk,
                rows.date(due_date if status == ItemStatus.ON_LOAN else None),
                rows.moment(now),
                item.pk,
                previous,
                ItemStatus.AVAILABLE.value,
            ],
        )
        updated = bool(others_on_shelf)
        if updated:
            on_shelf = status == ItemStatus.AVAILABLE or bool(others_on_shelf[0])
            if edition_available is None:
                Edition.objects.select_for_update().filter(pk=item.edition_id).values_list(
                    "pk"
                ).first()
            if not (edition_available and on_shelf):
                edition_refresh_availability([item.edition_id])
            if ItemStatus.WITHDRAWN in (status, previous):
                _touch(item.edition_id)
        if updated and audit:
            audit_record(
                action="catalog.item_status",
                actor=actor,
                subject=item,
                organisation_id=item.organisation_id,
                data={
                    "from": previous,
                    "to": status,
                    "location": new_location.pk,
                    "due_date": due_date.isoformat() if due_date else None,
                },
            )
    if not updated:
        raise DomainError(
            "item_status_changed",
            _("Dit exemplaar is intussen door iemand anders gewijzigd. Scan het opnieuw."),
            status=409,
        )
    item.status = status
    item.location = new_location
    item.due_date = due_date if status == ItemStatus.ON_LOAN else None
    item.updated_at = now
    return item


def licence_create(
    *,
    edition: Edition,
    model: str,
    organisation=None,
    concurrent_users: int = 1,
    loans_total: int | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    loan_days: int = 21,
    provider: str = "",
    actor=None,
) -> DigitalLicence:
    """Register a licence for a digital edition; ``organisation=None`` is a national one."""
    if edition.format not in DIGITAL_FORMATS:
        raise DomainError(
            "not_digital",
            _("Alleen e-books, luisterboeken en streamingtitels hebben een licentie."),
        )
    if model not in LicenceModel.values:
        raise DomainError("invalid_licence_model", _("Onbekende licentievorm."))
    if model == LicenceModel.ONE_COPY_ONE_USER:
        concurrent_users = 1
    if concurrent_users < 1 or not 1 <= loan_days <= 366:
        raise DomainError(
            "invalid_licence", _("Een licentie heeft minstens één lezer en 1 tot 366 leendagen.")
        )
    if model == LicenceModel.METERED_LOANS and not loans_total:
        raise DomainError(
            "loans_total_required",
            _("Een licentie met een beperkt aantal uitleningen heeft dat aantal nodig."),
        )
    if model == LicenceModel.METERED_TIME and valid_until is None:
        raise DomainError(
            "valid_until_required", _("Een licentie met een looptijd heeft een einddatum nodig.")
        )
    if valid_from and valid_until and valid_until < valid_from:
        raise DomainError("invalid_period", _("De einddatum ligt voor de begindatum."))
    with transaction.atomic():
        licence = DigitalLicence.objects.create(
            edition=edition,
            organisation=organisation,
            model=model,
            concurrent_users=concurrent_users,
            loans_total=loans_total,
            valid_from=valid_from,
            valid_until=valid_until,
            loan_days=loan_days,
            provider=provider[:120],
        )
        edition_refresh_availability([edition.pk])
        _touch(edition.pk)
        audit_record(
            action="catalog.licence_created",
            actor=actor,
            subject=licence,
            organisation_id=organisation.pk if organisation else None,
            data={"edition": edition.pk, "model": model, "users": concurrent_users},
        )
    return licence


# --- licence counters (digital lending) -------------------------------------------------------
# Circulation lends e-books and audiobooks under these licences. The counters change only here,
# by conditional UPDATEs, so two residents taking the last slot at once cannot both get it; the
# check constraints on ``DigitalLicence`` are the last guard. Circulation's loan audit rows
# record which licence a loan used, so the counters themselves write no audit row.


def licences_for_lending(
    *,
    edition_id: int,
    organisation_id: int | None = None,
    all_organisations: bool = False,
    lock: bool = False,
) -> list[DigitalLicence]:
    """The active licences of ``edition_id`` a member of ``organisation_id`` may borrow under:
    national ones and their own library's (``organisation_id`` None: national ones only;
    ``all_organisations``: every active licence of the edition). ``lock`` takes their row locks
    in primary-key order (``SELECT ... FOR UPDATE``), which serialises lending decisions about
    one title without blocking other titles."""
    query = DigitalLicence.objects.filter(edition_id=edition_id, is_active=True)
    if not all_organisations:
        usable = Q(organisation__isnull=True)
        if organisation_id is not None:
            usable |= Q(organisation_id=organisation_id)
        query = query.filter(usable)
    if lock:
        query = query.select_for_update()
    return list(query.order_by("pk"))


def licence_take(licence_id: int, today: dt.date) -> bool:
    """Count one loan against the licence, if it has room today: a slot free (or "always
    available"), loans left (metered by loans) and within its dates. One conditional UPDATE:
    True when the loan was counted, False when the licence had no room."""
    try:
        with transaction.atomic():
            updated = DigitalLicence.objects.filter(licence_open_q(today), pk=licence_id).update(
                active_loans=F("active_loans") + 1,
                loans_used=F("loans_used") + 1,
                updated_at=clock.now(),
            )
    except IntegrityError:  # a check constraint refused a count past a limit
        return False
    return bool(updated)


def licence_release(licence_id: int) -> bool:
    """A loan under the licence ended: free its slot. ``loans_used`` stays (metered licences
    count down, they never count back). False when no loan was counted (nothing to free)."""
    updated = DigitalLicence.objects.filter(pk=licence_id, active_loans__gt=0).update(
        active_loans=F("active_loans") - 1, updated_at=clock.now()
    )
    return bool(updated)


def licence_note_waiting(*, edition_id: int, waiting: int) -> None:
    """Keep ``holds_waiting`` for the catalogue's wait estimate. A digital waiting list is one
    queue per title, so the whole count goes on one licence (the national one if there is one,
    else the oldest) and the others show none: the detail page adds them up."""
    licences = list(
        DigitalLicence.objects.filter(edition_id=edition_id)
        .order_by(F("organisation_id").asc(nulls_first=True), "pk")
        .values_list("pk", "holds_waiting")
    )
    for index, (pk, current) in enumerate(licences):
        wanted = max(0, waiting) if index == 0 else 0
        if current != wanted:
            DigitalLicence.objects.filter(pk=pk).update(holds_waiting=wanted)
