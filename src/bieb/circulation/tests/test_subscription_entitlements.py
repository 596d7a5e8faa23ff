"""Circulation asks the subscription (decision 0015): the plan decides for a person with one,
the patron category for a person without; charges are reported as fees; loans as use.

State is built with the real services of both apps (``subscriptions.services.subscribe``,
``subscription_switch_off`` ... and ``circulation.services``); the clock is frozen at noon in
Amsterdam on named days.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bieb.accounts import services as accounts_services
from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.catalog import services as catalog_services
from bieb.catalog.models import Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital, services, tasks
from bieb.circulation.entitlements import entitlements_for, person_state
from bieb.circulation.models import Charge, ChargeKind, Hold, HoldStatus, Loan
from bieb.circulation.tests.factories import adult, child, copy_at, network, policy
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.subscriptions import selectors
from bieb.subscriptions import services as subscriptions
from bieb.subscriptions.invoicing import billing_run
from bieb.subscriptions.models import Fee, Meter, PlanKind, UsageMeter
from bieb.subscriptions.tests.factories import plan

pytestmark = pytest.mark.django_db
D = dt.date
DAY = D(2026, 3, 10)


def at(day: dt.date, hour: int = 12):
    return clock.frozen(dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.AMSTERDAM))


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


@pytest.fixture
def net():
    return network()


@pytest.fixture
def plans():
    return {
        "basis": plan(code="basis", physical_loans=3, digital_loans_per_month=2),
        "digitaal": plan(code="digitaal", physical_loans=0, digital_loans_per_month=2),
        "account": plan(code="account", monthly=0, yearly=0),
        "huishouden": plan(code="huishouden", physical_loans=3, household_seats=3),
        "groot": plan(code="groot", monthly=2_000, physical_loans=50, digital_loans_per_month=20),
        "extra": plan(code="extra", kind=PlanKind.ADDON, physical_loans=2, monthly=100),
    }


def subscribed(code: str = "basis", **kwargs):
    person = adult(**kwargs)
    with at(DAY):
        subscriptions.subscribe(person=person, plan_code=code)
    return person


def lend(person, location, **kwargs) -> Loan:
    return services.checkout(
        patron=person, barcode=copy_at(location, **kwargs).barcode, location=location
    )


def nothing_charged() -> bool:
    return not Charge.objects.exists() and not Fee.objects.exists()


# --- what the statement answers ---------------------------------------------------------------


def _selector_view(person, day):
    answer = selectors.entitlements_for(person, today=day)
    if answer.refusal == "no_subscription":
        return None
    return (answer.plan_code, answer.on, answer.physical_loans, answer.digital_loans_per_month)


def test_the_person_statement_answers_what_the_subscription_selector_answers(plans):
    nobody = adult()
    on = subscribed()
    off = subscribed()
    later_off = subscribed()
    upgraded = subscribed()
    downgrading = subscribed("groot")
    cancelled = subscribed()
    with_addon = subscribed()
    manager = subscribed("huishouden")
    member = adult()
    with at(DAY):
        subscriptions.subscription_switch_off(person=off)
        subscriptions.subscription_switch_off(person=later_off, from_date=DAY + dt.timedelta(5))
        subscriptions.subscription_upgrade(person=upgraded, plan_code="groot")
        subscriptions.subscription_downgrade(person=downgrading, plan_code="basis")
        subscriptions.subscription_cancel(person=cancelled)
        subscriptions.addon_add(person=with_addon, plan_code="extra")
        household = accounts_services.household_create(user=manager, name="Jansen")
        accounts_services.household_add_member(
            household=household, card_number=member.card_number, email=member.email, actor=manager
        )
    people = [nobody, on, off, later_off, upgraded, downgrading, cancelled, with_addon]
    people += [manager, member]
    for person in people:
        person.refresh_from_db()

    for day in (DAY, DAY + dt.timedelta(7), D(2026, 5, 1)):
        with at(day):
            for person in people:
                mine = person_state(person).plan
                as_circulation = mine and (
                    mine.code,
                    mine.on,
                    mine.physical_loans,
                    mine.digital_loans_per_month,
                )
                assert as_circulation == _selector_view(person, day), (person, day)

    with at(DAY):
        assert person_state(member).plan.shared is True
        assert person_state(manager).plan.shared is False
        assert person_state(with_addon).plan.physical_loans == 3 + 2
        assert entitlements_for(nobody).plan is None


# --- lending at the desk ----------------------------------------------------------------------


def test_a_switched_off_resident_is_refused_at_the_desk_and_shown_the_way_out(client, net, plans):
    person = subscribed()
    copy = copy_at(net.main)
    client.force_login(staff_member(StaffRole.Role.DESK, net.org))
    url = reverse("circulation:desk_checkout", kwargs={"slug": net.main.slug})
    with at(DAY):
        subscriptions.subscription_switch_off(person=person)
        card = client.post(url, {"action": "card", "card": person.card_number}, follow=True)
        page = client.post(url, {"action": "item", "barcode": copy.barcode}, follow=True)

    # said at the card already, and the copy scanned after it is not lent either
    assert "Je abonnement staat uit" in card.content.decode()
    assert "Zet je abonnement aan in Mijn abonnement" in card.content.decode()
    assert not Loan.objects.exists()
    assert nothing_charged()
    assert page.status_code == 200


def test_switched_off_no_new_loans_those_in_hand_stay_and_on_again_lends(net, plans):
    person = subscribed()
    with at(DAY):
        kept = lend(person, net.main)
        subscriptions.subscription_switch_off(person=person)
        error = refused("subscription_switched_off", lend, person, net.main)
        assert error.status == 403 and "Zet je abonnement aan" in error.message
        # the loan in hand stays until it is due, and may be renewed (no surprise late fee)
        assert services.renew(kept).renewals == 1
    with at(DAY + dt.timedelta(3)):
        subscriptions.subscription_switch_on(person=person)
        lend(person, net.main)

    assert Loan.objects.filter(patron=person, returned_at__isnull=True).count() == 2
    assert nothing_charged()


def test_a_plan_without_printed_copies_cannot_borrow_or_reserve_them(net, plans):
    reader, free = subscribed("digitaal"), subscribed("account")
    copy = copy_at(net.main)
    with at(DAY):
        for person in (reader, free):
            error = refused("plan_excludes_physical", lend, person, net.main)
            assert "Kies een groter abonnement in Mijn abonnement" in error.message
            refused(
                "plan_excludes_physical",
                services.hold_place,
                patron=person,
                edition=copy.edition,
                pickup_location=net.main,
            )

    assert not Loan.objects.exists() and not Hold.objects.exists()


def test_the_plans_number_at_once_and_the_loan_policy_the_stricter_wins(net, plans):
    small_plan = subscribed()  # 3 at once
    small_policy = subscribed("groot")  # 50 at once
    policy(net.org, max_loans=5)
    policy(net.other_org, max_loans=2)
    with at(DAY):
        for _ in range(3):
            lend(small_plan, net.main)
        error = refused("plan_limit_reached", lend, small_plan, net.main)
        assert "3 exemplaren" in error.message and "groter abonnement" in error.message
        assert error.status == 409
        for _ in range(2):
            lend(small_policy, net.elsewhere)
        refused("limit_reached", lend, small_policy, net.elsewhere)
        lend(small_policy, net.main)  # this organisation's policy allows five

    assert Loan.objects.filter(patron=small_plan).count() == 3
    assert Loan.objects.filter(patron=small_policy).count() == 3


def test_a_household_member_borrows_on_the_managers_plan_under_their_own_limit(net, plans):
    manager = subscribed("huishouden", home_organisation=net.org)
    member = adult()
    with at(DAY):
        household = accounts_services.household_create(user=manager, name="De Vries")
        accounts_services.household_add_member(
            household=household, card_number=member.card_number, email=member.email, actor=manager
        )
        member.refresh_from_db()
        for _ in range(3):
            lend(member, net.main)
        refused("plan_limit_reached", lend, member, net.main)
        lend(manager, net.main)  # the manager's own three are theirs
        subscriptions.subscription_switch_off(person=manager)
        error = refused("subscription_switched_off", lend, member, net.main)

    assert "Vraag de beheerder van je huishouden" in error.message
    assert Loan.objects.filter(patron=member).count() == 3


def test_residents_without_a_subscription_borrow_by_their_category_as_before(net, plans):
    grown, kid = adult(), child()
    policy(None, category="adult", max_loans=2)
    with at(DAY):
        assert entitlements_for(grown).plan is None
        lend(grown, net.main)
        late = lend(kid, net.main)
        lend(grown, net.main)
        refused("limit_reached", lend, grown, net.main)
    with at(DAY + dt.timedelta(40)):
        result = services.checkin(barcode=late.item.barcode, location=net.main)

    assert result.was_late_days > 0 and result.charge is None  # under 18: never a fee
    assert nothing_charged()


# --- holds --------------------------------------------------------------------------------------


def test_a_hold_is_passed_over_while_switched_off_and_trapped_once_on_again(net, plans):
    first, second = subscribed(), adult()  # the first in line has a subscription
    edition = EditionFactory()
    copies = [copy_at(net.main, edition) for _ in range(2)]
    with at(DAY):
        for copy in copies:
            services.checkout(patron=adult(), barcode=copy.barcode, location=net.main)
        held_first = services.hold_place(patron=first, edition=edition, pickup_location=net.main)
        subscriptions.subscription_switch_off(person=first)
        # switched off, one may still queue: the place is kept
        held_second = services.hold_place(patron=second, edition=edition, pickup_location=net.main)
        result = services.checkin(barcode=copies[0].barcode, location=net.main)

    assert result.hold == held_second and result.destination == "hold_shelf"
    held_first.refresh_from_db()
    assert held_first.status == HoldStatus.WAITING and held_first.trapped_item is None
    with at(DAY + dt.timedelta(2)):
        subscriptions.subscription_switch_on(person=first)
        again = services.checkin(barcode=copies[1].barcode, location=net.main)

    assert again.hold == held_first
    held_first.refresh_from_db()
    assert held_first.status == HoldStatus.READY and held_first.trapped_item_id == copies[1].pk


# --- digital loans ------------------------------------------------------------------------------


def ebook(title="Max Havelaar"):
    edition = EditionFactory(title=title, format=Format.EBOOK)
    catalog_services.licence_create(edition=edition, model=LicenceModel.ALWAYS)
    return edition


def borrow(person, edition):
    return digital.digital_checkout(patron=person, edition=edition)


def test_digital_loans_count_per_month_and_stop_at_the_plans_number(net, plans):
    person = subscribed(home_organisation=net.org)  # two a month
    with at(DAY):
        borrow(person, ebook("Een"))
        borrow(person, ebook("Twee"))
        error = refused("plan_limit_reached", borrow, person, ebook("Drie"))
        meters = list(UsageMeter.objects.values_list("meter", "organisation_id", "used"))
    assert meters == [(Meter.DIGITAL_LOANS, net.org.pk, 2)]
    assert "2 e-books" in error.message and "10 april 2026" in error.message
    with at(D(2026, 4, 10)):  # the next period of a subscription that started on 10 March
        borrow(person, ebook("Vier"))


def test_digital_loans_refused_while_switched_off_or_outside_the_plan(net, plans):
    person = subscribed(home_organisation=net.org)
    outside = subscribed("account", home_organisation=net.org)
    edition = ebook()
    with at(DAY):
        subscriptions.subscription_switch_off(person=person)
        error = refused("subscription_switched_off", borrow, person, edition)
        refused("plan_excludes_digital", borrow, outside, edition)
        subscriptions.subscription_switch_on(person=person)
        borrow(person, edition)

    assert "Zet je abonnement aan" in error.message
    assert UsageMeter.objects.get().used == 1


def test_digital_loans_without_a_subscription_are_neither_limited_nor_counted(net, plans):
    person = adult(home_organisation=net.org)
    with at(DAY):
        for n in range(4):
            borrow(person, ebook(f"Titel {n}"))

    assert not UsageMeter.objects.exists()


# --- charges are reported as fees -----------------------------------------------------------


def test_a_late_return_reports_its_charge_once_as_a_fee_in_dutch_naming_the_title(net, plans):
    person = subscribed()
    policy(net.org, overdue_fee_cents_per_day=25, overdue_fee_max_cents=500)
    with at(DAY):
        loan = lend(person, net.main, edition=EditionFactory(title="De avonden"))
    with at(loan.due_date + dt.timedelta(4)), translation.override("en"):
        result = services.checkin(barcode=loan.item.barcode, location=net.branch)

    fee = Fee.objects.get()
    assert (fee.source, fee.source_id) == ("circulation.charge", result.charge.pk)
    assert (fee.person_id, fee.organisation_id) == (person.pk, net.org.pk)
    assert fee.amount_cents == result.charge.amount_cents == 100
    assert fee.description == "Te laat ingeleverd: De avonden (4 dagen)"


def test_a_lost_copy_reports_replacement_and_administration_fee(net, plans):
    from bieb.circulation.models import OrganisationRules

    OrganisationRules.objects.create(organisation=net.org, lost_fee_cents=750)
    kid = child()  # replacement is no fee for borrowing: youth too
    with at(DAY):
        loan = lend(
            kid, net.main, edition=EditionFactory(title="Pluk"), replacement_cost_cents=1995
        )
        charges = services.declare_lost(loan)

    fees = {f.source_id: f for f in Fee.objects.all()}
    assert sorted(fees) == sorted(c.pk for c in charges)
    by_kind = {c.kind: fees[c.pk] for c in charges}
    assert by_kind[ChargeKind.LOST].amount_cents == 1995
    assert by_kind[ChargeKind.LOST].description == "Vervanging van een verloren exemplaar: Pluk"
    assert by_kind[ChargeKind.LOST_ADMIN].amount_cents == 750
    assert by_kind[ChargeKind.LOST_ADMIN].description == "Administratiekosten bij verlies van Pluk"


def _late_charge(net) -> Charge:
    policy(net.org, overdue_fee_cents_per_day=50)
    person = adult(home_organisation=net.org)
    with at(DAY):
        loan = lend(person, net.main)
    with at(loan.due_date + dt.timedelta(2)):
        return services.checkin(barcode=loan.item.barcode, location=net.main).charge


def test_staff_waive_a_charge_and_its_fee_once(net, plans):
    charge = _late_charge(net)
    desk = staff_member(StaffRole.Role.DESK, net.org)

    with at(DAY + dt.timedelta(30)):
        waived = services.charge_waive(charge, actor=desk)
        refused("charge_waived", services.charge_waive, charge, actor=desk)

    assert waived.waived_at is not None
    assert Fee.objects.get(source_id=charge.pk).waived_at is not None
    assert AuditEvent.objects.filter(action="circulation.charge_waived").count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.fee_waive").count() == 1


def test_a_billed_charge_cannot_be_waived(net, plans):
    charge = _late_charge(net)
    billing_run(today=DAY + dt.timedelta(30))
    assert Fee.objects.get(source_id=charge.pk).invoice_line_id is not None

    with at(DAY + dt.timedelta(31)):
        error = refused(
            "charge_billed",
            services.charge_waive,
            charge,
            actor=staff_member(StaffRole.Role.MANAGER, net.org),
        )

    assert "factuur" in error.message
    charge.refresh_from_db()
    assert charge.waived_at is None
    assert Fee.objects.get(source_id=charge.pk).waived_at is None


def test_staff_of_another_organisation_cannot_waive(net, plans):
    charge = _late_charge(net)

    with pytest.raises(DomainError) as info:
        services.charge_waive(charge, actor=staff_member(StaffRole.Role.DESK, net.other_org))

    assert info.value.status == 404
    charge.refresh_from_db()
    assert charge.waived_at is None


# --- loans counted as use of the subscription ------------------------------------------------


def loans_used(person) -> dict[int, int]:
    return dict(
        UsageMeter.objects.filter(person=person, meter=Meter.LOANS).values_list(
            "organisation_id", "used"
        )
    )


def test_the_nightly_round_counts_yesterdays_loans_per_person_and_organisation_once(net, plans):
    person, other = subscribed(keep_loan_history=True), adult(keep_loan_history=True)
    with at(DAY):
        lend(person, net.main)
        lend(person, net.branch)
        lend(person, net.elsewhere)
        lend(other, net.main)
        assert loans_used(person) == {}  # the hot path counts nothing
    with at(DAY + dt.timedelta(1), 2):
        first = tasks.run_daily_jobs()
        second = tasks.run_daily_jobs()

    assert first["loan_use"] == {DAY.isoformat(): {"meters": 2, "loans": 3}}
    assert second["loan_use"] == {}
    assert loans_used(person) == {net.org.pk: 2, net.other_org.pk: 1}
    assert loans_used(other) == {}  # no subscription: not use of one
    assert AuditEvent.objects.filter(action=tasks.USE_REPORTED).count() == 1


def test_the_round_catches_up_missed_days_in_order_and_never_counts_a_day_twice(net, plans):
    person = subscribed("groot", keep_loan_history=True)
    for n in range(4):
        with at(DAY + dt.timedelta(n)):
            lend(person, net.main)
        if n == 0:  # the first round ever: from yesterday on
            with at(DAY + dt.timedelta(1), 2):
                first = tasks.report_loan_use()
    # the worker was down for two nights
    with at(DAY + dt.timedelta(4), 2):
        caught_up = tasks.report_loan_use()
        again = tasks.report_loan_use()
        twice = tasks._report_day(DAY + dt.timedelta(2))

    assert list(first) == [DAY.isoformat()]
    assert list(caught_up) == [(DAY + dt.timedelta(n)).isoformat() for n in (1, 2, 3)]
    assert again == {} and twice == "already"
    assert loans_used(person) == {net.org.pk: 4}


def test_a_day_is_counted_only_once_it_is_over(net, plans):
    person = subscribed(keep_loan_history=True)
    with at(DAY):
        lend(person, net.main)
    with clock.frozen(dt.datetime(2026, 3, 11, 0, 5, tzinfo=clock.AMSTERDAM)):
        assert tasks.report_loan_use() == {}
    with at(DAY + dt.timedelta(1), 2):
        assert tasks.report_loan_use() == {DAY.isoformat(): {"meters": 1, "loans": 1}}


def test_a_return_that_forgets_the_borrower_counts_the_loan_the_round_will_not_see(net, plans):
    forgets, keeps = subscribed(), subscribed(keep_loan_history=True)
    with at(DAY):
        same_day = lend(forgets, net.main)
        kept = lend(keeps, net.main)
        overnight = lend(forgets, net.branch)
        services.checkin(barcode=same_day.item.barcode, location=net.main)
        services.checkin(barcode=kept.item.barcode, location=net.main)
        assert loans_used(forgets) == {net.org.pk: 1}  # counted by the return
        assert loans_used(keeps) == {}  # its name stays: the round counts it
    with at(DAY + dt.timedelta(1), 1):  # after midnight, before the round
        services.checkin(barcode=overnight.item.barcode, location=net.main)
    with at(DAY + dt.timedelta(1), 2):
        report = tasks.report_loan_use()
    with at(DAY + dt.timedelta(2)):
        later = lend(forgets, net.main)
    with at(DAY + dt.timedelta(3), 2):
        tasks.report_loan_use()
        services.checkin(barcode=later.item.barcode, location=net.main)  # counted already

    assert report == {DAY.isoformat(): {"meters": 1, "loans": 1}}
    assert loans_used(forgets) == {net.org.pk: 3}
    assert loans_used(keeps) == {net.org.pk: 1}
    assert Loan.objects.filter(patron=forgets).count() == 0


# --- the hot path -------------------------------------------------------------------------------


def statements(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_checkout_and_return_ask_no_more_of_the_database_with_a_subscription(net, plans):
    """The subscription is read in the person's locking statement: lending to a resident with
    one costs exactly what lending to one without does."""
    policy(None)  # the policies are read once per process: warm them first
    with at(DAY):
        lend(adult(), net.main)
        counts = []
        for person in (adult(keep_loan_history=True), subscribed(keep_loan_history=True)):
            copy = copy_at(net.main)
            out = statements(
                lambda p=person, c=copy: services.checkout(
                    patron=p, barcode=c.barcode, location=net.main
                )
            )
            back = statements(lambda c=copy: services.checkin(barcode=c.barcode, location=net.main))
            counts.append((out, back))

    assert counts[0] == counts[1]
    # as before the switch-over (measured on the code before it): the savepoint and its
    # release, the person, the copy, the loan, the status, availability, the audit row; the
    # return: the copy, the loan read and update, status, availability, search, audit row
    assert counts[0] == (8, 9)


def test_a_charge_counts_as_owed_until_its_invoice_is_paid(net, plans):
    from bieb.circulation import privacy
    from bieb.circulation.sip2.patrons import patron_summary
    from bieb.core.errors import DomainError
    from bieb.subscriptions import ledger
    from bieb.subscriptions.invoicing import billing_run
    from bieb.subscriptions.models import Invoice, PaymentMethod

    charge = _late_charge(net)
    person = charge.patron
    assert patron_summary(person, net.org.pk).fees_cents == 100
    with pytest.raises(DomainError) as refused:
        privacy.before_delete(person)
    assert refused.value.code == "open_charges"

    billing_run(today=clock.today())  # the fee goes on an invoice: still owed
    invoice = Invoice.objects.get(person=person)
    assert patron_summary(person, net.org.pk).fees_cents == invoice.total_cents == 100
    with pytest.raises(DomainError):
        privacy.before_delete(person)

    ledger.payment_mark_paid(
        ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    )
    summary = patron_summary(person, net.org.pk)
    assert summary.fees_cents == 0 and summary.charges == []  # the machine lists no fine
    privacy.before_delete(person)  # nothing owed any more: no refusal


def test_a_digital_hold_is_passed_over_while_switched_off_and_keeps_its_place(net, plans):
    from bieb.circulation.models import DigitalHold

    edition = EditionFactory(title="Het Achterhuis", format=Format.EBOOK)
    catalog_services.licence_create(edition=edition, model=LicenceModel.ONE_COPY_ONE_USER)
    reader, first, second = (subscribed(home_organisation=net.org) for _ in range(3))
    with at(DAY):
        loan = borrow(reader, edition)
        first_hold = digital.digital_hold_place(patron=first, edition=edition)
        second_hold = digital.digital_hold_place(patron=second, edition=edition)
        subscriptions.subscription_switch_off(person=first)

        digital.digital_return(loan)

    first_hold.refresh_from_db()
    second_hold.refresh_from_db()
    assert (first_hold.status, second_hold.status) == (HoldStatus.WAITING, HoldStatus.READY)
    assert DigitalHold.objects.filter(patron=first, status=HoldStatus.WAITING).exists()


def test_the_self_service_machine_sees_charge_privileges_denied_while_switched_off(net, plans):
    from bieb.circulation.sip2.patrons import (
        CHARGE_DENIED,
        RENEWAL_DENIED,
        patron_status_flags,
        patron_summary,
    )

    person = subscribed(home_organisation=net.org)  # basis: 3 at once
    with at(DAY):
        on = patron_summary(person, net.org.pk)
        subscriptions.subscription_switch_off(person=person)
        off = patron_summary(person, net.org.pk)
    assert on.max_loans == 3 and patron_status_flags(on)[CHARGE_DENIED] == " "
    flags = patron_status_flags(off)
    assert flags[CHARGE_DENIED] == "Y" and flags[RENEWAL_DENIED] == " "  # renewing stays


def test_a_digital_hold_is_passed_over_when_the_months_e_books_are_used_up(net, plans):
    edition = EditionFactory(title="Kruimeltje", format=Format.EBOOK)
    catalog_services.licence_create(edition=edition, model=LicenceModel.ONE_COPY_ONE_USER)
    reader, busy, next_in_line = (subscribed(home_organisation=net.org) for _ in range(3))
    with at(DAY):
        loan = borrow(reader, edition)
        busy_hold = digital.digital_hold_place(patron=busy, edition=edition)
        next_hold = digital.digital_hold_place(patron=next_in_line, edition=edition)
        borrow(busy, ebook("Een"))
        borrow(busy, ebook("Twee"))  # basis: two a month, used up

        digital.digital_return(loan)

    busy_hold.refresh_from_db()
    next_hold.refresh_from_db()
    assert (busy_hold.status, next_hold.status) == (HoldStatus.WAITING, HoldStatus.READY)


def test_the_pull_list_leaves_out_titles_only_a_switched_off_holder_waits_for(net, plans):
    from bieb.circulation.desk_selectors import pull_list

    holder = subscribed(home_organisation=net.org)
    edition = EditionFactory(title="Alleen voor wie uit staat")
    copy_at(net.main, edition)
    with at(DAY):
        services.hold_place(patron=holder, edition=edition, pickup_location=net.branch)
        assert [row.edition for row in pull_list(location=net.main, today=DAY)] == [edition]
        subscriptions.subscription_switch_off(person=holder)
        assert pull_list(location=net.main, today=DAY) == []


def test_a_paid_day_pass_lends_as_the_pass_allows(net, plans):
    from bieb.subscriptions.models import Invoice, InvoiceStatus

    dagpas = plan(
        code="dagpas", kind=PlanKind.DAY_PASS, monthly=0, yearly=0, physical_loans=1,
        digital_loans_per_month=0,
    )  # fmt: skip
    dagpas.prices.update(one_off_cents=300)
    visitor = adult(home_organisation=net.org)
    with at(DAY):
        bought = subscriptions.day_pass_buy(person=visitor)
        Invoice.objects.filter(pk=bought.pk).update(status=InvoiceStatus.PAID)
        state = person_state(visitor).plan
        assert (state.code, state.physical_loans, state.shared) == ("dagpas", 1, False)
        lend(visitor, net.main)
        error = refused("plan_limit_reached", lend, visitor, net.main)
    assert "Vraag de beheerder" not in error.message  # the pass is the visitor's own


def test_a_switched_off_holder_does_not_keep_a_free_e_book_slot_from_others(net, plans):
    edition = EditionFactory(title="Het Achterhuis", format=Format.EBOOK)
    catalog_services.licence_create(edition=edition, model=LicenceModel.ONE_COPY_ONE_USER)
    reader, off, other = (subscribed(home_organisation=net.org) for _ in range(3))
    with at(DAY):
        loan = borrow(reader, edition)
        hold = digital.digital_hold_place(patron=off, edition=edition)
        subscriptions.subscription_switch_off(person=off)
        digital.digital_return(loan)

        borrow(other, edition)  # the free slot is lent, not kept for the holder who is off

    hold.refresh_from_db()
    assert hold.status == HoldStatus.WAITING  # still in the queue, in its place


def test_pays_fees_answers_as_the_entitlements_without_reading_the_subscription(net, plans):
    from bieb.circulation.entitlements import pays_fees

    grown, kid = adult(), child()
    young_staff = child()
    StaffRole.objects.create(user=young_staff, organisation=net.org, role=StaffRole.Role.DESK)
    for person in (grown, kid, young_staff):
        assert pays_fees(person) == entitlements_for(person).pays_fees
    with CaptureQueriesContext(connection) as queries:
        pays_fees(grown)
    assert len(queries) == 0
