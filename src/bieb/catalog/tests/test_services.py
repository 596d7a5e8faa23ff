"""Items, their status and the licences: the writes circulation will build on."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from bieb.accounts.tests.factories import LocationFactory
from bieb.catalog import search, services
from bieb.catalog.models import DigitalLicence, Edition, Format, Item, ItemStatus, LicenceModel
from bieb.catalog.tests.factories import DigitalLicenceFactory, EditionFactory, ItemFactory
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_new_copy_makes_the_edition_available_and_is_audited():
    edition = EditionFactory()
    location = LocationFactory()
    assert not edition.available_now

    item = services.item_create(
        edition=edition, location=location, barcode="3000000000017", shelf_mark="R REVE"
    )

    edition.refresh_from_db()
    assert edition.available_now
    assert item.organisation_id == location.organisation_id
    assert item.home_location == item.location == location
    assert AuditEvent.objects.filter(action="catalog.item_created").count() == 1


@pytest.mark.parametrize("barcode", ["", " ", "x" * 33, "12 34", "<script>"])
def test_a_bad_barcode_is_refused_with_a_code(barcode):
    with pytest.raises(DomainError) as refused:
        services.item_create(edition=EditionFactory(), location=LocationFactory(), barcode=barcode)
    assert refused.value.code == "invalid_barcode"
    assert Item.objects.count() == 0


def test_a_taken_barcode_is_refused_and_nothing_is_half_saved():
    existing = ItemFactory()
    edition = EditionFactory()

    with pytest.raises(DomainError) as refused:
        services.item_create(edition=edition, location=LocationFactory(), barcode=existing.barcode)

    assert refused.value.code == "barcode_taken"
    assert refused.value.status == 409
    assert not Item.objects.filter(edition=edition).exists()
    assert not AuditEvent.objects.filter(action="catalog.item_created").exists()


def test_a_digital_edition_gets_licences_not_copies():
    with pytest.raises(DomainError) as refused:
        services.item_create(
            edition=EditionFactory(format=Format.EBOOK), location=LocationFactory(), barcode="A1"
        )
    assert refused.value.code == "digital_edition_has_no_items"


def test_lending_the_last_copy_on_the_shelf_makes_the_edition_unavailable():
    item = ItemFactory()
    services.edition_refresh_availability([item.edition_id])
    due = clock.today() + dt.timedelta(days=21)

    services.item_set_status(item, ItemStatus.ON_LOAN, due_date=due)

    item.refresh_from_db()
    assert item.status == ItemStatus.ON_LOAN
    assert item.due_date == due
    assert not Edition.objects.get(pk=item.edition_id).available_now

    other = LocationFactory(organisation=item.organisation)
    services.item_set_status(item, ItemStatus.IN_TRANSIT, location=other)
    item.refresh_from_db()
    assert (item.status, item.location, item.due_date) == (ItemStatus.IN_TRANSIT, other, None)

    services.item_set_status(item, ItemStatus.AVAILABLE)
    assert Edition.objects.get(pk=item.edition_id).available_now
    event = AuditEvent.objects.filter(action="catalog.item_status").latest("pk")
    assert event.data["from"] == ItemStatus.IN_TRANSIT
    assert event.data["to"] == ItemStatus.AVAILABLE


def test_the_available_now_filter_follows_the_copies(search_index):
    item = ItemFactory(edition__title="Kikker is verliefd")
    search_index(item.edition)
    services.edition_refresh_availability([item.edition_id])

    def available_hits() -> list[int]:
        return search.search(search.parse_query({"q": "kikker", "available": "1"})).edition_ids

    assert available_hits() == [item.edition_id]
    services.item_set_status(item, ItemStatus.ON_LOAN, due_date=clock.today())
    assert available_hits() == []
    services.item_set_status(item, ItemStatus.AVAILABLE)
    assert available_hits() == [item.edition_id]


def test_a_loan_needs_a_due_date_and_withdrawn_copies_stay_withdrawn():
    item = ItemFactory()
    with pytest.raises(DomainError) as refused:
        services.item_set_status(item, ItemStatus.ON_LOAN)
    assert refused.value.code == "due_date_required"

    services.item_set_status(item, ItemStatus.WITHDRAWN)
    with pytest.raises(DomainError) as refused:
        services.item_set_status(item, ItemStatus.AVAILABLE)
    assert refused.value.code == "invalid_status_change"
    with pytest.raises(DomainError) as refused:
        services.item_set_status(item, "stolen")
    assert refused.value.code == "invalid_status"


def test_a_stale_copy_of_the_item_cannot_overwrite_a_newer_status():
    item = ItemFactory()
    stale = Item.objects.get(pk=item.pk)
    services.item_set_status(item, ItemStatus.ON_LOAN, due_date=clock.today())

    with pytest.raises(DomainError) as refused:
        services.item_set_status(stale, ItemStatus.REPAIR)

    assert refused.value.code == "item_status_changed"
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ON_LOAN


@pytest.mark.django_db(transaction=True)
def test_two_desks_lending_one_copy_at_once_lend_it_once():
    item = ItemFactory()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def lend() -> None:
        seen = Item.objects.get(pk=item.pk)  # each desk read "available"
        try:
            barrier.wait()
            services.item_set_status(seen, ItemStatus.ON_LOAN, due_date=clock.today())
            outcomes.append("lent")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=lend) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    connections.close_all()
    assert sorted(outcomes) == ["item_status_changed", "lent"]
    assert AuditEvent.objects.filter(action="catalog.item_status").count() == 1


@pytest.mark.parametrize(
    ("fields", "available"),
    [
        ({"model": LicenceModel.ALWAYS, "concurrent_users": 1, "active_loans": 0}, True),
        ({"model": LicenceModel.ONE_COPY_ONE_USER, "active_loans": 0}, True),
        ({"model": LicenceModel.ONE_COPY_ONE_USER, "active_loans": 1}, False),
        ({"model": LicenceModel.CONCURRENT, "concurrent_users": 3, "active_loans": 2}, True),
        ({"model": LicenceModel.CONCURRENT, "concurrent_users": 3, "active_loans": 3}, False),
        ({"model": LicenceModel.METERED_LOANS, "loans_total": 5, "loans_used": 4}, True),
        ({"model": LicenceModel.METERED_LOANS, "loans_total": 5, "loans_used": 5}, False),
        ({"model": LicenceModel.METERED_TIME, "valid_until": "today"}, True),
        ({"model": LicenceModel.METERED_TIME, "valid_until": "yesterday"}, False),
        ({"model": LicenceModel.ALWAYS, "is_active": False}, False),
        ({"model": LicenceModel.ALWAYS, "valid_from": "tomorrow"}, False),
    ],
)
def test_a_digital_edition_is_available_when_a_licence_has_room_today(fields, available):
    days = {"today": 0, "yesterday": -1, "tomorrow": 1}
    for key in ("valid_until", "valid_from"):
        if key in fields:
            fields[key] = clock.today() + dt.timedelta(days=days[fields[key]])
    licence = DigitalLicenceFactory(**fields)

    services.edition_refresh_availability([licence.edition_id])

    assert Edition.objects.get(pk=licence.edition_id).available_now is available


def test_the_database_refuses_counts_past_a_licence_limit():
    licence = DigitalLicenceFactory(model=LicenceModel.CONCURRENT, concurrent_users=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        DigitalLicence.objects.filter(pk=licence.pk).update(active_loans=3)
    metered = DigitalLicenceFactory(model=LicenceModel.METERED_LOANS, loans_total=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        DigitalLicence.objects.filter(pk=metered.pk).update(loans_used=3)


def test_licence_create_checks_its_input():
    ebook = EditionFactory(format=Format.EBOOK)
    with pytest.raises(DomainError) as refused:
        services.licence_create(edition=EditionFactory(), model=LicenceModel.ALWAYS)
    assert refused.value.code == "not_digital"
    with pytest.raises(DomainError) as refused:
        services.licence_create(edition=ebook, model=LicenceModel.METERED_LOANS)
    assert refused.value.code == "loans_total_required"
    with pytest.raises(DomainError) as refused:
        services.licence_create(edition=ebook, model=LicenceModel.METERED_TIME)
    assert refused.value.code == "valid_until_required"
    with pytest.raises(DomainError) as refused:
        services.licence_create(edition=ebook, model="rent-to-own")
    assert refused.value.code == "invalid_licence_model"

    licence = services.licence_create(
        edition=ebook, model=LicenceModel.ONE_COPY_ONE_USER, concurrent_users=9
    )
    assert licence.concurrent_users == 1  # one copy, one user whatever was asked
    ebook.refresh_from_db()
    assert ebook.available_now
    assert AuditEvent.objects.filter(action="catalog.licence_created").count() == 1
