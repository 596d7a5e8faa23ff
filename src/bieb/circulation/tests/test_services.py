"""Circulation services: what a desk, a self-service machine and a resident see happen."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.accounts.models import StaffRole
from bieb.catalog.models import Edition, Format, Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.entitlements import entitlements_for
from bieb.circulation.models import (
    Charge,
    ChargeKind,
    Hold,
    HoldScope,
    HoldStatus,
    Loan,
    OrganisationRules,
    PatronCategory,
    Transfer,
    TransferReason,
    TransferStatus,
)
from bieb.circulation.tests.factories import adult, child, copy_at, network, policy
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def later(n: int):
    """A frozen clock ``n`` days from now."""
    return clock.frozen(clock.now() + days(n))


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


# --- entitlements ----------------------------------------------------------------------------


def test_the_category_comes_from_age_and_staff_role():
    net = network()
    staff = adult()
    StaffRole.objects.create(user=staff, organisation=net.org, role=StaffRole.Role.DESK)

    assert entitlements_for(child()).category == PatronCategory.YOUTH
    assert entitlements_for(adult()).category == PatronCategory.ADULT
    assert entitlements_for(staff).category == PatronCategory.STAFF
    assert entitlements_for(child()).pays_fees is False
    assert entitlements_for(adult()).pays_fees is True


def test_without_a_card_a_person_may_only_borrow_digitally():
    rights = entitlements_for(adult(card_number=None))
    assert (rights.physical, rights.digital, rights.holds) == (False, True, False)


# --- checkout --------------------------------------------------------------------------------


def test_checkout_lends_the_copy_until_the_policy_due_date_and_audits_it():
    net = network()
    item = copy_at(net.main)
    policy(net.org, loan_days=14)
    person = adult()

    loan = services.checkout(patron=person, barcode=item.barcode, location=net.main)

    item.refresh_from_db()
    assert loan.due_date == clock.today() + days(14)
    assert (item.status, item.due_date) == (ItemStatus.ON_LOAN, loan.due_date)
    assert loan.category == PatronCategory.ADULT
    assert AuditEvent.objects.filter(
        action="circulation.checkout", subject=f"circulation.loan:{loan.pk}"
    ).exists()
    assert Edition.objects.get(pk=item.edition_id).available_now is False


def test_the_most_specific_policy_wins():
    net = network()
    book = copy_at(net.main)
    film = copy_at(net.main, EditionFactory(format=Format.FILM))
    policy(None, loan_days=28)
    policy(net.org, format=Format.FILM, loan_days=7)
    policy(net.org, format=Format.FILM, category=PatronCategory.YOUTH, loan_days=10)
    person, kid = adult(), child()

    assert services.checkout(
        patron=person, barcode=book.barcode, location=net.main
    ).due_date == clock.today() + days(28)
    assert services.checkout(
        patron=kid, barcode=film.barcode, location=net.main
    ).due_date == clock.today() + days(10)


def test_a_copy_on_loan_is_refused_with_a_clear_code():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    error = refused(
        "item_on_loan", services.checkout, patron=adult(), barcode=item.barcode, location=net.main
    )
    assert error.status == 409
    assert Loan.objects.filter(item=item).count() == 1


def test_an_unknown_barcode_is_not_found():
    error = refused(
        "item_unknown", services.checkout, patron=adult(), barcode="nope", location=network().main
    )
    assert error.status == 404


def test_the_loan_limit_is_enforced():
    net = network()
    policy(net.org, max_loans=2)
    person = adult()
    for _ in range(2):
        services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)

    refused(
        "limit_reached",
        services.checkout,
        patron=person,
        barcode=copy_at(net.main).barcode,
        location=net.main,
    )
    assert Loan.objects.filter(patron=person, returned_at__isnull=True).count() == 2


def test_no_card_no_physical_loan():
    net = network()
    refused(
        "no_card",
        services.checkout,
        patron=adult(card_number=None),
        barcode=copy_at(net.main).barcode,
        location=net.main,
    )


@pytest.mark.parametrize("status", [ItemStatus.REPAIR, ItemStatus.MISSING, ItemStatus.WITHDRAWN])
def test_copies_that_are_not_on_the_shelf_cannot_be_lent(status):
    net = network()
    item = copy_at(net.main, status=status)
    refused(
        "item_not_lendable",
        services.checkout,
        patron=adult(),
        barcode=item.barcode,
        location=net.main,
    )


# --- checkin and routing ---------------------------------------------------------------------


def test_a_copy_returned_at_home_goes_back_on_the_shelf():
    net = network()
    item = copy_at(net.main)
    person = adult()
    loan = services.checkout(patron=person, barcode=item.barcode, location=net.main)

    result = services.checkin(barcode=item.barcode, location=net.main)

    item.refresh_from_db()
    loan.refresh_from_db()
    assert result.destination == "shelf"
    assert (item.status, item.location_id, item.due_date) == (
        ItemStatus.AVAILABLE,
        net.main.pk,
        None,
    )
    assert loan.returned_at is not None and loan.return_location_id == net.main.pk


def test_a_copy_returned_elsewhere_travels_home_unless_the_collection_floats():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    result = services.checkin(barcode=item.barcode, location=net.elsewhere)

    item.refresh_from_db()
    assert (result.destination, result.to_location) == ("transit", net.main)
    assert (item.status, item.location_id) == (ItemStatus.IN_TRANSIT, net.main.pk)
    transfer = Transfer.objects.get(item=item)
    assert (
        transfer.from_location_id,
        transfer.to_location_id,
        transfer.reason,
        transfer.status,
    ) == (net.elsewhere.pk, net.main.pk, TransferReason.HOME, TransferStatus.TO_SEND)

    services.transfer_send(transfer)
    arrived = services.checkin(barcode=item.barcode, location=net.main)

    item.refresh_from_db()
    transfer.refresh_from_db()
    assert arrived.destination == "shelf"
    assert item.status == ItemStatus.AVAILABLE
    assert transfer.status == TransferStatus.RECEIVED and transfer.received_at is not None


def test_a_floating_collection_keeps_a_copy_where_it_was_returned_within_the_organisation():
    net = network()
    OrganisationRules.objects.create(organisation=net.org, floating=True)
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    result = services.checkin(barcode=item.barcode, location=net.branch)
    item.refresh_from_db()
    assert result.destination == "shelf"
    assert (item.status, item.location_id, item.home_location_id) == (
        ItemStatus.AVAILABLE,
        net.branch.pk,
        net.main.pk,
    )

    # returned in another organisation it still goes home
    services.checkout(patron=adult(), barcode=item.barcode, location=net.branch)
    assert services.checkin(barcode=item.barcode, location=net.elsewhere).destination == "transit"


def test_a_late_return_costs_an_adult_the_policy_fee_up_to_its_cap_and_a_child_nothing():
    net = network()
    policy(net.org, overdue_fee_cents_per_day=25, overdue_fee_max_cents=300, loan_days=21)
    grown, kid = adult(), child()
    a, b, c = copy_at(net.main), copy_at(net.main), copy_at(net.main)
    services.checkout(patron=grown, barcode=a.barcode, location=net.main)
    services.checkout(patron=grown, barcode=b.barcode, location=net.main)
    services.checkout(patron=kid, barcode=c.barcode, location=net.main)

    with later(21 + 3):
        three_days = services.checkin(barcode=a.barcode, location=net.main)
        child_late = services.checkin(barcode=c.barcode, location=net.main)
    with later(21 + 40):
        capped = services.checkin(barcode=b.barcode, location=net.main)

    assert three_days.was_late_days == 3 and three_days.charge.amount_cents == 75
    assert capped.charge.amount_cents == 300
    assert child_late.was_late_days == 3 and child_late.charge is None
    assert sorted(Charge.objects.values_list("amount_cents", flat=True)) == [75, 300]
    assert not Charge.objects.filter(patron=kid).exists()


def test_returned_loans_forget_the_borrower_unless_they_keep_a_history():
    net = network()
    forgetful, keeper = adult(), adult(keep_loan_history=True)
    a, b = copy_at(net.main), copy_at(net.main)
    first = services.checkout(patron=forgetful, barcode=a.barcode, location=net.main)
    second = services.checkout(patron=keeper, barcode=b.barcode, location=net.main)

    services.checkin(barcode=a.barcode, location=net.main)
    services.checkin(barcode=b.barcode, location=net.main)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.patron_id is None  # the anonymous statistic stays
    assert (first.edition_id, first.organisation_id, first.category) == (
        a.edition_id,
        net.org.pk,
        PatronCategory.ADULT,
    )
    assert second.patron_id == keeper.pk


# --- renewals --------------------------------------------------------------------------------


def test_renewing_extends_from_the_due_date_until_the_limit():
    net = network()
    policy(net.org, loan_days=21, max_renewals=1)
    item = copy_at(net.main)
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    renewed = services.renew(loan)

    assert renewed.due_date == clock.today() + days(42)
    assert Item.objects.get(pk=item.pk).due_date == renewed.due_date
    refused("renewal_limit", services.renew, loan)


def test_a_title_someone_waits_for_cannot_be_renewed():
    net = network()
    item = copy_at(net.main)
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)

    refused("reserved", services.renew, loan)


def test_automatic_renewal_renews_what_it_may_and_leaves_the_rest():
    net = network()
    policy(net.org, loan_days=21, max_renewals=5)
    free, wanted = copy_at(net.main), copy_at(net.main)
    a = services.checkout(patron=adult(), barcode=free.barcode, location=net.main)
    b = services.checkout(patron=adult(), barcode=wanted.barcode, location=net.main)
    services.hold_place(patron=adult(), edition=wanted.edition, pickup_location=net.main)

    with later(20):
        outcome = services.auto_renew()

    assert outcome == {"renewed": 1, "refused": 1}
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.due_date == clock.today() + days(42) and a.renewals == 1
    assert b.renewals == 0


# --- holds -----------------------------------------------------------------------------------


def test_a_returned_copy_is_trapped_for_the_first_in_line_at_the_pickup_location():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    first, second = adult(), adult()
    with later(0):
        h1 = services.hold_place(patron=first, edition=item.edition, pickup_location=net.main)
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        h2 = services.hold_place(patron=second, edition=item.edition, pickup_location=net.main)

    result = services.checkin(barcode=item.barcode, location=net.main)

    h1.refresh_from_db()
    h2.refresh_from_db()
    item.refresh_from_db()
    assert (result.destination, result.hold) == ("hold_shelf", h1)
    assert (h1.status, h1.trapped_item_id, h1.ready_until) == (
        HoldStatus.READY,
        item.pk,
        clock.today() + days(7),
    )
    assert h2.status == HoldStatus.WAITING
    assert item.status == ItemStatus.ON_HOLD_SHELF
    # only the person it waits for may take it
    refused(
        "item_on_hold", services.checkout, patron=second, barcode=item.barcode, location=net.main
    )
    services.checkout(patron=first, barcode=item.barcode, location=net.main)
    h1.refresh_from_db()
    assert h1.status == HoldStatus.COLLECTED


def test_a_copy_returned_elsewhere_travels_to_the_pickup_location_and_waits_there():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    hold = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.branch)

    on_the_way = services.checkin(barcode=item.barcode, location=net.elsewhere)
    hold.refresh_from_db()
    assert (on_the_way.destination, on_the_way.to_location) == ("transit", net.branch)
    assert hold.status == HoldStatus.IN_TRANSIT
    transfer = Transfer.objects.get(item=item, status=TransferStatus.TO_SEND)
    assert (transfer.reason, transfer.hold_id) == (TransferReason.HOLD, hold.pk)

    arrived = services.checkin(barcode=item.barcode, location=net.branch)
    hold.refresh_from_db()
    assert arrived.destination == "hold_shelf"
    assert hold.status == HoldStatus.READY
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ON_HOLD_SHELF


def test_hold_scope_decides_which_copies_may_serve_it():
    net = network()
    item = copy_at(net.elsewhere)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.elsewhere)
    # a copy of another organisation exists only there: a hold limited to my organisation finds none
    refused(
        "no_copies",
        services.hold_place,
        patron=adult(),
        edition=item.edition,
        pickup_location=net.main,
        scope=HoldScope.ORGANISATION,
    )
    national = services.hold_place(
        patron=adult(), edition=item.edition, pickup_location=net.main, scope=HoldScope.NATIONAL
    )

    assert services.checkin(barcode=item.barcode, location=net.elsewhere).hold == national


def test_a_paused_hold_is_skipped_until_its_date():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    paused = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    services.hold_pause(paused, not_before=clock.today() + days(10))
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        next_one = services.hold_place(
            patron=adult(), edition=item.edition, pickup_location=net.main
        )

    assert services.checkin(barcode=item.barcode, location=net.main).hold == next_one


def test_a_second_hold_on_the_same_title_is_refused():
    net = network()
    item = copy_at(net.main)
    person = adult()
    services.hold_place(patron=person, edition=item.edition, pickup_location=net.main)
    refused(
        "hold_exists",
        services.hold_place,
        patron=person,
        edition=item.edition,
        pickup_location=net.branch,
    )


def test_changing_the_pickup_location_only_while_waiting():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    hold = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)

    services.hold_change_pickup(hold, pickup_location=net.branch)
    assert services.checkin(barcode=item.barcode, location=net.main).to_location == net.branch
    refused("hold_not_waiting", services.hold_change_pickup, hold, pickup_location=net.main)


def test_an_expired_hold_passes_the_copy_to_the_next_in_line_when_the_shelf_is_cleared():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    first = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        second = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)

    with later(8):
        assert services.expire_holds() == 1
        result = services.checkin(barcode=item.barcode, location=net.main)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == HoldStatus.EXPIRED
    assert (result.destination, result.hold, second.status) == (
        "hold_shelf",
        second,
        HoldStatus.READY,
    )


def test_a_cancelled_hold_frees_its_copy_for_anyone():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    hold = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)

    services.hold_cancel(hold)
    assert services.checkin(barcode=item.barcode, location=net.main).destination == "shelf"
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)


def test_a_hold_on_one_copy_is_served_by_that_copy_only():
    net = network()
    edition = EditionFactory()
    wanted, other = copy_at(net.main, edition), copy_at(net.main, edition)
    person = adult()
    hold = services.hold_place(
        patron=person, edition=edition, item=wanted, pickup_location=net.main
    )

    assert services.checkin(barcode=other.barcode, location=net.main).hold is None
    refused(
        "item_on_hold", services.checkout, patron=adult(), barcode=wanted.barcode, location=net.main
    )
    assert services.checkin(barcode=wanted.barcode, location=net.main).hold == hold


# --- loss ------------------------------------------------------------------------------------


def test_a_lost_copy_costs_its_replacement_and_the_administration_fee():
    net = network()
    OrganisationRules.objects.create(organisation=net.org, lost_fee_cents=500)
    item = copy_at(net.main, replacement_cost_cents=2495)
    kid = child()
    loan = services.checkout(patron=kid, barcode=item.barcode, location=net.main)

    charges = services.declare_lost(loan)

    assert sorted((c.kind, c.amount_cents) for c in charges) == [
        (ChargeKind.LOST, 2495),
        (ChargeKind.LOST_ADMIN, 500),
    ]
    assert Item.objects.get(pk=item.pk).status == ItemStatus.MISSING
    refused("loan_closed", services.declare_lost, loan)
    # found again at the desk: back on the shelf
    assert services.checkin(barcode=item.barcode, location=net.main).destination == "shelf"
    assert Hold.objects.count() == 0


def test_a_holder_who_takes_the_copy_before_it_travels_cancels_its_transfer():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    holder = adult()
    hold = services.hold_place(patron=holder, edition=item.edition, pickup_location=net.branch)
    services.checkin(barcode=item.barcode, location=net.main)  # off to the branch

    services.checkout(patron=holder, barcode=item.barcode, location=net.main)

    hold.refresh_from_db()
    assert hold.status == HoldStatus.COLLECTED
    assert not Transfer.objects.filter(item=item, status__in=("to_send", "in_transit")).exists()
    assert services.checkin(barcode=item.barcode, location=net.main).destination == "shelf"


# --- review fixes: consent, own holds, overdue renewals, forgetting -------------------------


def test_under_16_without_guardian_consent_borrows_at_the_desk_but_places_no_hold():
    from bieb.accounts.models import GuardianLink

    net = network()
    kid = child()  # ten years old
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    refused(
        "consent_required",
        services.hold_place,
        patron=kid,
        edition=item.edition,
        pickup_location=net.main,
    )
    assert entitlements_for(kid).digital is False
    services.checkout(patron=kid, barcode=copy_at(net.main).barcode, location=net.main)

    GuardianLink.objects.create(guardian=adult(), child=kid, consent_given_at=clock.now())
    services.hold_place(patron=kid, edition=item.edition, pickup_location=net.main)


def test_borrowing_another_copy_ends_my_place_in_the_queue_and_my_own_hold_does_not_block_renewal():
    net = network()
    edition = EditionFactory()
    out, other = copy_at(net.main, edition), copy_at(net.main, edition)
    services.checkout(patron=adult(), barcode=out.barcode, location=net.main)
    services.checkout(patron=adult(), barcode=other.barcode, location=net.main)
    person = adult()
    hold = services.hold_place(patron=person, edition=edition, pickup_location=net.main)
    services.checkin(barcode=other.barcode, location=net.main)  # trapped for the person
    hold.refresh_from_db()
    assert hold.status == HoldStatus.READY

    loan = services.checkout(patron=person, barcode=other.barcode, location=net.main)

    hold.refresh_from_db()
    assert hold.status == HoldStatus.COLLECTED
    assert services.renew(loan).renewals == 1


def test_an_overdue_loan_with_a_late_fee_is_not_renewed_but_a_childs_is():
    net = network()
    policy(net.org, loan_days=21, overdue_fee_cents_per_day=25)
    grown, kid = adult(), child()
    a = services.checkout(patron=grown, barcode=copy_at(net.main).barcode, location=net.main)
    b = services.checkout(patron=kid, barcode=copy_at(net.main).barcode, location=net.main)

    with later(25):
        refused("overdue", services.renew, a)
        assert services.renew(b).due_date == clock.today() + days(21)
        assert services.auto_renew() == {"renewed": 0, "refused": 0}
        result = services.checkin(barcode=a.item.barcode, location=net.main)
    assert result.charge.amount_cents == 4 * 25


def test_a_return_without_history_leaves_nothing_that_links_the_person_to_the_title():
    from bieb.circulation.models import Notice

    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    person = adult()
    hold = services.hold_place(
        patron=person, edition=item.edition, pickup_location=net.main, actor=person
    )
    services.checkin(barcode=item.barcode, location=net.main)
    loan = services.checkout(patron=person, barcode=item.barcode, location=net.main)
    services.renew(loan, actor=person)

    services.checkin(barcode=item.barcode, location=net.main)

    assert not Loan.objects.filter(patron=person).exists()
    assert not Hold.objects.filter(pk=hold.pk).exists()
    assert not Notice.objects.filter(patron=person).exists()
    assert not AuditEvent.objects.filter(actor=person).exists()
