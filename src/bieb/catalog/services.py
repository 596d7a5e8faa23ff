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
from django.db.models import Exists, F, OuterRef, Q
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
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError

__all__ = [
    "edition_refresh_availability",
    "item_create",
    "item_set_status",
    "licence_create",
    "licence_open_q",
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


def edition_refresh_availability(edition_ids: Iterable[int]) -> int:
    """Recompute ``available_now`` for ``edition_ids``: a copy on the shelf somewhere, or a
    digital licence with room today. Returns the number of editions whose flag changed."""
    ids = list(edition_ids)
    if not ids:
        return 0
    today = clock.today()
    changed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        shelf = Item.objects.filter(edition=OuterRef("pk"), status=ItemStatus.AVAILABLE)
        licence = DigitalLicence.objects.filter(licence_open_q(today), edition=OuterRef("pk"))
        now_available = Exists(shelf) | Exists(licence)
        changed += (
            Edition.objects.filter(pk__in=chunk, available_now=False)
            .filter(now_available)
            .update(available_now=True)
        )
        changed += (
            Edition.objects.filter(pk__in=chunk, available_now=True)
            .exclude(now_available)
            .update(available_now=False)
        )
    if changed:
        # the "available now" filter and facet read the flag from the search index
        search.refresh_availability(ids)
    return changed


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
) -> Item:
    """Move ``item`` to ``status`` (and ``location``: where it is now, or is heading in
    transit). ``due_date`` is required for, and only kept with, "on loan".

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
    with transaction.atomic():
        updated = Item.objects.filter(pk=item.pk, status=previous).update(
            status=status,
            location=new_location,
            due_date=due_date if status == ItemStatus.ON_LOAN else None,
            updated_at=now,
        )
        if not updated:
            raise DomainError(
                "item_status_changed",
                _("Dit exemplaar is intussen door iemand anders gewijzigd. Scan het opnieuw."),
                status=409,
            )
        edition_refresh_availability([item.edition_id])
        if ItemStatus.WITHDRAWN in (status, previous):
            _touch(item.edition_id)
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
