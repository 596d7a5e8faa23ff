"""Digital licences under concurrency: many residents pressing "Nu lenen" at the same moment.

Threads wait at a barrier and act at once, each on its own database connection, on SQLite (the
write lock taken at BEGIN IMMEDIATE) and on PostgreSQL (row locks on the licences and the
conditional UPDATE of their counters). The counters and loans are checked afterwards.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, connections, transaction

from bieb.catalog import services as catalog_services
from bieb.catalog.models import DigitalLicence, Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital
from bieb.circulation.models import DigitalLoan
from bieb.circulation.tests.factories import adult
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


def outcomes(results: list[object]) -> Counter:
    return Counter("loan" if isinstance(r, DigitalLoan) else r for r in results)


def borrower(person, edition) -> Callable[[], object]:
    return lambda: digital.digital_checkout(patron=person, edition=edition)


def test_five_readers_racing_for_a_two_reader_licence_get_two_loans():
    edition = EditionFactory(format=Format.EBOOK)
    lic = catalog_services.licence_create(
        edition=edition, model=LicenceModel.CONCURRENT, concurrent_users=2
    )
    people = [adult() for _ in range(5)]

    results = at_once(*(borrower(person, edition) for person in people))

    assert outcomes(results) == {"loan": 2, "no_licence_available": 3}
    lic.refresh_from_db()
    assert (lic.active_loans, lic.loans_used) == (2, 2)
    assert DigitalLoan.objects.filter(licence=lic, returned_at__isnull=True).count() == 2
    assert AuditEvent.objects.filter(action="circulation.digital_checkout").count() == 2


def test_three_readers_racing_for_the_last_metered_loan_get_one():
    edition = EditionFactory(format=Format.AUDIOBOOK)
    lic = catalog_services.licence_create(
        edition=edition, model=LicenceModel.METERED_LOANS, concurrent_users=5, loans_total=2
    )
    digital.digital_return(digital.digital_checkout(patron=adult(), edition=edition))
    people = [adult() for _ in range(3)]

    results = at_once(*(borrower(person, edition) for person in people))

    assert outcomes(results) == {"loan": 1, "no_licence_available": 2}
    lic.refresh_from_db()
    assert (lic.active_loans, lic.loans_used, lic.loans_total) == (1, 2, 2)
    assert DigitalLoan.objects.filter(licence=lic).count() == 2


def test_one_reader_on_two_devices_borrows_once():
    edition = EditionFactory(format=Format.EBOOK)
    lic = catalog_services.licence_create(
        edition=edition, model=LicenceModel.CONCURRENT, concurrent_users=3
    )
    person = adult()

    results = at_once(borrower(person, edition), borrower(person, edition))

    assert outcomes(results) == {"loan": 1, "already_borrowed": 1}
    lic.refresh_from_db()
    assert (lic.active_loans, lic.loans_used) == (1, 1)


def test_a_return_racing_the_expiry_job_frees_the_slot_once():
    edition = EditionFactory(format=Format.EBOOK)
    lic = catalog_services.licence_create(
        edition=edition, model=LicenceModel.CONCURRENT, concurrent_users=2
    )
    loan = digital.digital_checkout(patron=adult(), edition=edition)
    other = digital.digital_checkout(patron=adult(), edition=edition)
    # it ran out a moment ago: the job and the reader's "give back" meet
    DigitalLoan.objects.filter(pk=loan.pk).update(
        expires_at=loan.started_at + dt.timedelta(microseconds=1)
    )

    results = at_once(lambda: digital.digital_return(loan), digital.expire_digital_loans)

    assert not any(isinstance(r, Exception) for r in results), results
    lic.refresh_from_db()
    assert lic.active_loans == 1  # the other loan; never released twice
    assert DigitalLoan.objects.get(returned_at__isnull=True) == other
    ended = AuditEvent.objects.filter(
        action__in=("circulation.digital_return", "circulation.digital_expired")
    )
    assert ended.count() == 1


def test_the_counters_never_pass_the_licence_in_the_database():
    edition = EditionFactory(format=Format.EBOOK)
    lic = catalog_services.licence_create(edition=edition, model=LicenceModel.ONE_COPY_ONE_USER)
    today = lic.created_at.date()

    assert catalog_services.licence_take(lic.pk, today) is True
    assert catalog_services.licence_take(lic.pk, today) is False
    # the check constraint refuses what a careless UPDATE would write
    with pytest.raises(IntegrityError), transaction.atomic():
        DigitalLicence.objects.filter(pk=lic.pk).update(active_loans=2)
    assert catalog_services.licence_release(lic.pk) is True
    assert catalog_services.licence_release(lic.pk) is False
    lic.refresh_from_db()
    assert (lic.active_loans, lic.loans_used) == (0, 1)
