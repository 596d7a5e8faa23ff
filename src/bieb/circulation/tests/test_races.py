"""Never wrong under concurrency: desks, machines and returns racing on the same rows.

Each test starts threads that wait at a barrier and then act at once, each on its own database
connection, on SQLite (the write lock taken at BEGIN IMMEDIATE) and on PostgreSQL (row locks
and constraints). The invariants are checked in the database afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from bieb.catalog.models import Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.models import Hold, HoldStatus, Loan
from bieb.circulation.tests.factories import adult, copy_at, network, policy
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` in threads released together; each result is a return value or the code
    of the ``DomainError`` it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except DomainError as exc:
            results[index] = exc.code
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()
    return results


def test_two_desks_scanning_one_copy_lend_it_once():
    net = network()
    item = copy_at(net.main)
    a, b = adult(), adult()

    results = at_once(
        lambda: services.checkout(patron=a, barcode=item.barcode, location=net.main),
        lambda: services.checkout(patron=b, barcode=item.barcode, location=net.branch),
    )

    assert sorted(type(r).__name__ if isinstance(r, Loan) else r for r in results) == [
        "Loan",
        "item_on_loan",
    ]
    assert Loan.objects.filter(item=item, returned_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="circulation.checkout").count() == 1
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ON_LOAN


def test_one_person_at_two_desks_cannot_pass_the_loan_limit():
    net = network()
    policy(net.org, max_loans=1)
    person = adult()
    first, second = copy_at(net.main), copy_at(net.main)

    results = at_once(
        lambda: services.checkout(patron=person, barcode=first.barcode, location=net.main),
        lambda: services.checkout(patron=person, barcode=second.barcode, location=net.main),
    )

    assert sum(isinstance(r, Loan) for r in results) == 1
    assert "limit_reached" in results
    assert Loan.objects.filter(patron=person, returned_at__isnull=True).count() == 1


def test_two_copies_returned_at_once_serve_two_holds_and_never_one_twice():
    net = network()
    edition = EditionFactory()
    copies = [copy_at(net.main, edition), copy_at(net.main, edition), copy_at(net.main, edition)]
    for item in copies:
        services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    waiting = [
        services.hold_place(patron=adult(), edition=edition, pickup_location=net.main)
        for _ in range(2)
    ]

    results = at_once(
        *[
            lambda item=item: services.checkin(barcode=item.barcode, location=net.main)
            for item in copies
        ]
    )

    assert all(not isinstance(r, (str, Exception)) for r in results), results
    served = [r.hold.pk for r in results if r.hold is not None]
    assert sorted(served) == sorted(h.pk for h in waiting)
    trapped = list(
        Hold.objects.filter(status=HoldStatus.READY).values_list("trapped_item_id", flat=True)
    )
    assert len(trapped) == len(set(trapped)) == 2
    on_shelf = [r for r in results if r.destination == "shelf"]
    assert len(on_shelf) == 1


def test_the_same_copy_returned_at_two_desks_at_once_is_taken_in_once():
    net = network()
    item = copy_at(net.main)
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    results = at_once(
        lambda: services.checkin(barcode=item.barcode, location=net.main),
        lambda: services.checkin(barcode=item.barcode, location=net.main),
    )

    assert all(not isinstance(r, (str, Exception)) for r in results), results
    assert sum(r.loan is not None for r in results) == 1
    loan.refresh_from_db()
    assert loan.returned_at is not None
    assert Item.objects.get(pk=item.pk).status == ItemStatus.AVAILABLE


def test_lending_the_last_copy_while_another_comes_back_leaves_the_title_available():
    from bieb.catalog.models import Edition

    for _round in range(3):
        net = network()
        edition = EditionFactory()
        shelf, out = copy_at(net.main, edition), copy_at(net.main, edition)
        services.checkout(patron=adult(), barcode=out.barcode, location=net.main)
        borrower = adult()

        results = at_once(
            lambda shelf=shelf, who=borrower, at=net.main: services.checkout(
                patron=who, barcode=shelf.barcode, location=at
            ),
            lambda out=out, at=net.main: services.checkin(barcode=out.barcode, location=at),
        )

        assert not any(isinstance(r, (str, Exception)) for r in results), results
        assert Item.objects.get(pk=out.pk).status == ItemStatus.AVAILABLE
        # each desk recomputed "available now" after the other's change, not beside it
        assert Edition.objects.get(pk=edition.pk).available_now is True


def test_a_renewal_racing_the_return_of_the_same_copy_does_not_deadlock():
    for _round in range(3):
        net = network()
        item = copy_at(net.main)
        loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

        results = at_once(
            lambda loan=loan: services.renew(loan),
            lambda item=item, at=net.main: services.checkin(barcode=item.barcode, location=at),
        )

        assert not any(isinstance(r, Exception) for r in results), results
        assert results[0] == "loan_closed" or isinstance(results[0], Loan)
        assert Loan.objects.get(pk=loan.pk).returned_at is not None
