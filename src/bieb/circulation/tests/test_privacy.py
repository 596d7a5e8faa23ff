"""A person's circulation data under the account's privacy rules: export, forgetting the loan
history, and deleting the account."""

from __future__ import annotations

import pytest

from bieb.accounts import services as account_services
from bieb.accounts.tests.factories import PASSWORD
from bieb.circulation import services
from bieb.circulation.models import Charge, ChargeKind, Hold, HoldStatus, Loan, Notice
from bieb.circulation.tests.factories import adult, copy_at, network
from bieb.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_the_export_holds_loans_holds_and_charges_of_the_person_only():
    net = network()
    person, other = adult(keep_loan_history=True), adult()
    returned, open_, theirs = copy_at(net.main), copy_at(net.main), copy_at(net.main)
    services.checkout(patron=person, barcode=returned.barcode, location=net.main)
    services.checkin(barcode=returned.barcode, location=net.main)
    services.checkout(patron=person, barcode=open_.barcode, location=net.main)
    services.checkout(patron=other, barcode=theirs.barcode, location=net.main)
    services.hold_place(patron=person, edition=theirs.edition, pickup_location=net.main)

    data = account_services.person_export(user=person)["circulation"]

    assert sorted(loan["barcode"] for loan in data["loans"]) == sorted(
        [returned.barcode, open_.barcode]
    )
    assert [hold["status"] for hold in data["holds"]] == [HoldStatus.WAITING]
    assert theirs.barcode not in str(data)


def test_switching_the_history_off_forgets_every_returned_loan():
    net = network()
    person = adult(keep_loan_history=True)
    item, still_out = copy_at(net.main), copy_at(net.main)
    services.checkout(patron=person, barcode=item.barcode, location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)
    services.checkout(patron=person, barcode=still_out.barcode, location=net.main)
    assert Loan.objects.filter(patron=person).count() == 2

    account_services.person_update(user=person, actor=person, keep_loan_history=False)

    assert list(Loan.objects.filter(patron=person).values_list("item_id", flat=True)) == [
        still_out.pk
    ]
    assert Loan.objects.filter(item=item, patron__isnull=True).count() == 1  # the statistic


def test_an_account_with_copies_on_loan_cannot_be_deleted_until_they_are_back():
    net = network()
    person = adult()
    item = copy_at(net.main)
    services.checkout(patron=person, barcode=item.barcode, location=net.main)

    with pytest.raises(DomainError) as info:
        account_services.person_delete(user=person, actor=person)
    assert info.value.code == "open_loans"
    person.refresh_from_db()
    assert not person.is_anonymised

    services.checkin(barcode=item.barcode, location=net.main)
    account_services.person_delete(user=person, actor=person)
    person.refresh_from_db()
    assert person.is_anonymised


def test_open_charges_block_deletion_and_holds_end_with_the_account(client):
    net = network()
    person = adult()
    wanted = copy_at(net.main)
    services.checkout(patron=adult(), barcode=wanted.barcode, location=net.main)
    hold = services.hold_place(patron=person, edition=wanted.edition, pickup_location=net.main)
    charge = Charge.objects.create(
        patron=person, organisation=net.org, kind=ChargeKind.LOST, amount_cents=1995
    )

    client.force_login(person)
    response = client.post("/mijn/account-verwijderen", {"confirm": "on", "password": PASSWORD})
    # the page says what to do, and nothing is deleted
    assert response.status_code == 200
    assert "kosten open" in response.content.decode()
    person.refresh_from_db()
    assert not person.is_anonymised

    Charge.objects.filter(pk=charge.pk).update(billed_at=charge.created_at)
    account_services.person_delete(user=person, actor=person)

    # the hold ended with the account, and nothing of it is kept
    assert not Hold.objects.filter(pk=hold.pk).exists()
    assert not Notice.objects.filter(patron=person).exists()
    assert Hold.objects.filter(patron=person, status=HoldStatus.WAITING).count() == 0
