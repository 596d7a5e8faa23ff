"""The demo circulation is real: every copy that is out has the loan, hold or transfer that
put it there, and seeding twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from bieb.catalog.models import Item, ItemStatus
from bieb.circulation.models import Hold, HoldStatus, Loan, Transfer, TransferStatus

pytestmark = pytest.mark.django_db


def test_demo_circulation_is_consistent_and_idempotent():
    call_command("seed", "--profile", "demo", stdout=StringIO())
    loans = Loan.objects.count()
    call_command("seed", "--profile", "demo", stdout=StringIO())
    assert Loan.objects.count() == loans > 0

    on_loan = set(Item.objects.filter(status=ItemStatus.ON_LOAN).values_list("pk", flat=True))
    open_loans = Loan.objects.filter(returned_at__isnull=True)
    assert set(open_loans.values_list("item_id", flat=True)) == on_loan
    assert not open_loans.values("item_id").annotate(n=Count("id")).filter(n__gt=1).exists()

    on_shelf = set(
        Item.objects.filter(status=ItemStatus.ON_HOLD_SHELF).values_list("pk", flat=True)
    )
    ready = Hold.objects.filter(status=HoldStatus.READY)
    assert set(ready.values_list("trapped_item_id", flat=True)) == on_shelf
    assert on_shelf, "the demo has something on the hold shelf"

    in_transit = set(Item.objects.filter(status=ItemStatus.IN_TRANSIT).values_list("pk", flat=True))
    moving = Transfer.objects.filter(status__in=(TransferStatus.TO_SEND, TransferStatus.IN_TRANSIT))
    assert set(moving.values_list("item_id", flat=True)) == in_transit
    assert Hold.objects.filter(status=HoldStatus.WAITING).exists()
