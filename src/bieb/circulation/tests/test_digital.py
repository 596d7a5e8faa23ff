"""Digital lending: licence models, the waiting list, loans that end by themselves, signed links.

State is built with the real services (``licence_create``, ``digital_checkout`` ...); the
licence counters are read back from the database after each step.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import OrganisationFactory, staff_member
from bieb.catalog import services as catalog_services
from bieb.catalog.models import DigitalLicence, Edition, Format, LicenceModel
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import digital, digital_links, digital_selectors
from bieb.circulation.models import DigitalHold, DigitalLoan, HoldStatus, Notice
from bieb.circulation.tests.factories import adult, policy
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def ebook(title: str = "Max Havelaar", fmt: str = Format.EBOOK) -> Edition:
    return EditionFactory(title=title, format=fmt)


def licence(edition, model=LicenceModel.ONE_COPY_ONE_USER, **kwargs) -> DigitalLicence:
    return catalog_services.licence_create(edition=edition, model=model, **kwargs)


def counters(lic: DigitalLicence) -> tuple[int, int]:
    lic.refresh_from_db()
    return lic.active_loans, lic.loans_used


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def later(**delta):
    return clock.frozen(clock.now() + dt.timedelta(**delta))


def borrow(person, edition) -> DigitalLoan:
    return digital.digital_checkout(patron=person, edition=edition)


# --- licence models --------------------------------------------------------------------------


def test_one_copy_one_user_lends_to_one_reader_at_a_time():
    edition = ebook()
    lic = licence(edition, loan_days=21)
    first, second = adult(), adult()

    loan = borrow(first, edition)
    error = refused("no_licence_available", borrow, second, edition)

    assert counters(lic) == (1, 1)
    assert loan.licence == lic and loan.patron == first
    assert loan.expires_at - loan.started_at == dt.timedelta(days=21)
    assert error.status == 409
    assert error.details["position"] == 1 and error.details["can_hold"] is True
    assert error.details["wait_days"] == 21
    assert Edition.objects.get(pk=edition.pk).available_now is False


def test_n_concurrent_users_read_at_once_up_to_n():
    edition = ebook()
    lic = licence(edition, LicenceModel.CONCURRENT, concurrent_users=3)
    readers = [adult() for _ in range(4)]

    for person in readers[:3]:
        borrow(person, edition)

    refused("no_licence_available", borrow, readers[3], edition)
    assert counters(lic) == (3, 3)


def test_always_available_never_runs_out_and_never_queues():
    edition = ebook()
    lic = licence(edition, LicenceModel.ALWAYS)

    loans = [borrow(adult(), edition) for _ in range(5)]

    assert len({loan.pk for loan in loans}) == 5
    assert counters(lic) == (5, 5)
    refused("licence_available", digital.digital_hold_place, patron=adult(), edition=edition)
    assert Edition.objects.get(pk=edition.pk).available_now is True


def test_a_licence_metered_by_loans_counts_down_and_is_spent():
    edition = ebook()
    lic = licence(edition, LicenceModel.METERED_LOANS, concurrent_users=2, loans_total=3)
    people = [adult() for _ in range(4)]

    first = borrow(people[0], edition)
    digital.digital_return(first)
    borrow(people[1], edition)
    borrow(people[2], edition)  # the third and last loan
    assert counters(lic) == (2, 3)

    error = refused("no_licence_available", borrow, people[3], edition)
    assert error.details["can_hold"] is False
    refused("no_licence", digital.digital_hold_place, patron=people[3], edition=edition)
    # loans end, but a spent licence does not lend again
    with later(days=30):
        assert digital.expire_digital_loans() == 2
        assert counters(lic) == (0, 3)
        refused("no_licence_available", borrow, people[3], edition)
        assert Edition.objects.get(pk=edition.pk).available_now is False


def test_a_licence_metered_by_time_caps_the_loan_and_expires():
    edition = ebook()
    until = clock.today() + dt.timedelta(days=5)
    lic = licence(edition, LicenceModel.METERED_TIME, concurrent_users=2, valid_until=until)
    person = adult()

    loan = borrow(person, edition)

    last_moment = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), clock.AMSTERDAM)
    assert loan.expires_at == last_moment  # not 21 days: the licence ends first
    with later(days=7):
        assert digital.expire_digital_loans() == 1
        assert counters(lic) == (0, 1)
        assert Edition.objects.get(pk=edition.pk).available_now is False
        refused("no_licence_available", borrow, adult(), edition)


def test_own_library_first_then_national_and_always_available_before_both():
    home, other = OrganisationFactory(), OrganisationFactory()
    edition = ebook()
    national = licence(edition, LicenceModel.CONCURRENT, concurrent_users=5)
    own = licence(edition, LicenceModel.CONCURRENT, concurrent_users=1, organisation=home)
    theirs = licence(edition, LicenceModel.CONCURRENT, concurrent_users=5, organisation=other)

    first = borrow(adult(home_organisation=home), edition)
    second = borrow(adult(home_organisation=home), edition)
    stranger = borrow(adult(home_organisation=other), edition)

    assert (first.licence, second.licence) == (own, national)
    assert stranger.licence == theirs
    assert counters(national) == (1, 1)

    always = licence(edition, LicenceModel.ALWAYS)
    assert borrow(adult(home_organisation=home), edition).licence == always


def test_another_librarys_licence_is_not_for_me():
    edition = ebook()
    licence(
        edition, LicenceModel.CONCURRENT, concurrent_users=5, organisation=OrganisationFactory()
    )

    error = refused("no_licence_available", borrow, adult(), edition)

    assert error.details["can_hold"] is False
    assert not DigitalLoan.objects.exists()


def test_refusals_before_any_licence_is_touched():
    edition = ebook()
    lic = licence(edition)
    person = adult()
    book = EditionFactory(format=Format.BOOK)
    blocked = adult(is_active=False)

    refused("not_digital", borrow, person, book)
    error = refused("account_blocked", borrow, blocked, edition)
    borrow(person, edition)
    refused("already_borrowed", borrow, person, edition)

    assert error.status == 403
    assert counters(lic) == (1, 1)
    assert DigitalLoan.objects.filter(patron=person).count() == 1


def test_the_loan_limit_of_the_policy_applies_per_format():
    policy(None, format=Format.EBOOK, max_loans=1)
    person = adult()
    first, second = ebook("Een"), ebook("Twee")
    audio = ebook("Drie", Format.AUDIOBOOK)
    for edition in (first, second, audio):
        licence(edition, LicenceModel.ALWAYS)

    borrow(person, first)

    refused("limit_reached", borrow, person, second)
    assert borrow(person, audio).edition == audio


def test_checkout_and_return_write_audit_rows_and_forget_the_reader():
    edition = ebook()
    licence(edition)
    person = adult(keep_loan_history=False)
    keeper = adult(keep_loan_history=True)

    loan = borrow(person, edition)
    digital.digital_return(loan, actor=person)
    kept = borrow(keeper, edition)
    digital.digital_return(kept, actor=keeper)

    loan.refresh_from_db()
    kept.refresh_from_db()
    assert loan.returned_at is not None and loan.patron is None
    assert kept.patron == keeper
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions.count("circulation.digital_checkout") == 2
    assert actions.count("circulation.digital_return") == 2
    refused("loan_closed", digital.digital_return, loan)


def test_nothing_links_a_reader_without_history_to_a_returned_title():
    edition = ebook()
    lic = licence(edition)
    person = adult(keep_loan_history=False)
    first = borrow(adult(), edition)
    hold = digital.digital_hold_place(patron=person, edition=edition)
    digital.digital_return(first)  # the slot is offered to them, with a notice naming the title
    assert Notice.objects.filter(patron=person, key=f"digital_hold_ready:{hold.pk}").exists()

    loan = borrow(person, edition)
    digital.digital_return(loan, actor=person)

    loan.refresh_from_db()
    assert loan.patron is None
    own_rows = AuditEvent.objects.filter(actor=person)
    assert not own_rows.filter(subject__startswith="circulation.digitalloan:").exists()
    assert not own_rows.filter(subject__startswith="circulation.digitalhold:").exists()
    loan_rows = AuditEvent.objects.filter(subject=f"circulation.digitalloan:{loan.pk}")
    assert {row.action for row in loan_rows} == {
        "circulation.digital_checkout",
        "circulation.digital_return",
    }
    for row in loan_rows:
        assert row.actor is None
        assert row.data == {"loan": loan.pk, "licence": lic.pk}
    # their place on the waiting list and the notice about it went with the loan
    assert not DigitalHold.objects.filter(patron=person).exists()
    assert not Notice.objects.filter(patron=person, subject__contains=edition.title).exists()


def test_staff_acting_for_a_reader_stay_on_the_audit_row():
    edition = ebook()
    licence(edition)
    person = adult(keep_loan_history=False)
    desk = staff_member(StaffRole.Role.DESK, OrganisationFactory())
    keeper = adult(keep_loan_history=True)

    loan = digital.digital_checkout(patron=person, edition=edition, actor=desk)
    digital.digital_return(loan, actor=desk)
    kept = borrow(keeper, edition)
    digital.digital_return(kept, actor=keeper)

    checkout, giving_back = AuditEvent.objects.filter(
        subject=f"circulation.digitalloan:{loan.pk}"
    ).order_by("pk")
    assert (checkout.actor, giving_back.actor) == (desk, desk)
    # the reader's own actions name nobody, whether or not they keep a history
    assert not AuditEvent.objects.filter(actor=keeper).exists()


# --- the waiting list ------------------------------------------------------------------------


def test_holds_queue_in_order_and_a_return_offers_the_slot_to_the_first():
    edition = ebook()
    lic = licence(edition)
    reader, first, second = adult(), adult(), adult()
    loan = borrow(reader, edition)

    hold_1 = digital.digital_hold_place(patron=first, edition=edition)
    hold_2 = digital.digital_hold_place(patron=second, edition=edition)
    assert [digital.digital_hold_position(h) for h in (hold_1, hold_2)] == [1, 2]
    assert counters(lic) == (1, 1)
    lic.refresh_from_db()
    assert lic.holds_waiting == 2

    digital.digital_return(loan)

    hold_1.refresh_from_db()
    hold_2.refresh_from_db()
    assert hold_1.status == HoldStatus.READY
    window = dt.timedelta(hours=digital.HOLD_READY_HOURS)
    assert (
        clock.now() + window - dt.timedelta(minutes=1) < hold_1.ready_until <= clock.now() + window
    )
    assert hold_2.status == HoldStatus.WAITING
    # the freed slot is kept for the first: the second cannot take it
    error = refused("no_licence_available", borrow, second, edition)
    assert error.details["has_hold"] is True
    assert Notice.objects.filter(patron=first, key=f"digital_hold_ready:{hold_1.pk}").exists()

    taken = borrow(first, edition)

    hold_1.refresh_from_db()
    assert hold_1.status == HoldStatus.COLLECTED and taken.patron == first
    assert counters(lic) == (1, 2)


def test_a_stranger_cannot_jump_the_queue():
    edition = ebook()
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)
    loan = borrow(adult(), edition)
    digital.digital_hold_place(patron=adult(), edition=edition)

    digital.digital_return(loan)

    refused("no_licence_available", borrow, adult(), edition)


def test_an_offer_not_taken_up_passes_to_the_next():
    edition = ebook()
    licence(edition)
    loan = borrow(adult(), edition)
    first = digital.digital_hold_place(patron=adult(), edition=edition)
    second = digital.digital_hold_place(patron=adult(), edition=edition)
    digital.digital_return(loan)

    with later(hours=digital.HOLD_READY_HOURS + 1):
        assert digital.expire_digital_holds() == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == HoldStatus.EXPIRED
    assert second.status == HoldStatus.READY


def test_cancelling_an_offered_hold_passes_the_slot_on():
    edition = ebook()
    licence(edition)
    loan = borrow(adult(), edition)
    first = digital.digital_hold_place(patron=adult(), edition=edition)
    second = digital.digital_hold_place(patron=adult(), edition=edition)
    digital.digital_return(loan)

    digital.digital_hold_cancel(first)

    second.refresh_from_db()
    assert second.status == HoldStatus.READY
    refused("hold_closed", digital.digital_hold_cancel, first)


def test_hold_refusals():
    edition = ebook()
    licence(edition)
    reader, person = adult(), adult()
    borrow(reader, edition)

    refused("already_borrowed", digital.digital_hold_place, patron=reader, edition=edition)
    digital.digital_hold_place(patron=person, edition=edition)
    refused("hold_exists", digital.digital_hold_place, patron=person, edition=edition)
    refused(
        "not_digital",
        digital.digital_hold_place,
        patron=person,
        edition=EditionFactory(format=Format.BOOK),
    )
    assert DigitalHold.objects.filter(patron=person).count() == 1


def test_a_hold_is_passed_over_for_a_licence_its_holder_may_not_use():
    home, other = OrganisationFactory(), OrganisationFactory()
    edition = ebook()
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)  # national
    local = licence(edition, LicenceModel.CONCURRENT, concurrent_users=1, organisation=home)
    borrow(adult(home_organisation=other), edition)  # national slot
    local_loan = borrow(adult(home_organisation=home), edition)  # local slot
    outsider = digital.digital_hold_place(patron=adult(home_organisation=other), edition=edition)
    member = adult(home_organisation=home)
    local_hold = digital.digital_hold_place(patron=member, edition=edition)

    digital.digital_return(local_loan)

    outsider.refresh_from_db()
    local_hold.refresh_from_db()
    assert (outsider.status, local_hold.status) == (HoldStatus.WAITING, HoldStatus.READY)
    assert borrow(member, edition).licence == local


def test_a_hold_for_another_librarys_licence_does_not_block_this_librarys_free_one():
    library_a, library_b = OrganisationFactory(), OrganisationFactory()
    edition = ebook()
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)  # national
    own = licence(edition, LicenceModel.CONCURRENT, concurrent_users=1, organisation=library_a)
    borrow(adult(home_organisation=library_b), edition)  # the national slot
    loan_a = borrow(adult(home_organisation=library_a), edition)  # library A's slot
    outsider = digital.digital_hold_place(
        patron=adult(home_organisation=library_b), edition=edition
    )
    digital.digital_return(loan_a)  # A's slot is free; B's member cannot use it
    outsider.refresh_from_db()
    assert outsider.status == HoldStatus.WAITING
    member, other_member = adult(home_organisation=library_a), adult(home_organisation=library_a)

    state = digital_selectors.digital_state(other_member, edition)
    assert (state.state, state.copies_available) == ("borrow", 1)
    refused("licence_available", digital.digital_hold_place, patron=other_member, edition=edition)
    taken = borrow(member, edition)

    assert taken.licence == own
    assert counters(own) == (1, 2)
    # the B member still waits first for a slot they can use; a newcomer from B queues behind
    error = refused("no_licence_available", borrow, adult(home_organisation=library_b), edition)
    assert error.details["position"] == 2
    assert digital.digital_hold_position(outsider) == 1


def test_a_slot_nobody_was_offered_goes_to_the_queue_before_a_newcomer():
    """A licence bought while people wait: the next one to borrow or queue sees it offered to
    the first in line who may use it, not left for the nightly job."""
    library_a, library_b = OrganisationFactory(), OrganisationFactory()
    edition = ebook()
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)
    borrow(adult(), edition)
    outsider = digital.digital_hold_place(
        patron=adult(home_organisation=library_b), edition=edition
    )
    member = adult(home_organisation=library_a)
    waiting = digital.digital_hold_place(patron=member, edition=edition)
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1, organisation=library_a)

    error = refused("no_licence_available", borrow, adult(home_organisation=library_a), edition)

    waiting.refresh_from_db()
    outsider.refresh_from_db()
    assert (waiting.status, outsider.status) == (HoldStatus.READY, HoldStatus.WAITING)
    assert error.details["position"] == 3
    assert Notice.objects.filter(patron=member, key=f"digital_hold_ready:{waiting.pk}").exists()
    assert borrow(member, edition).patron == member


def test_the_first_in_line_borrows_a_slot_nobody_was_offered_without_a_notice():
    edition = ebook()
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)
    borrow(adult(), edition)
    person, second = adult(), adult()
    hold = digital.digital_hold_place(patron=person, edition=edition)
    behind = digital.digital_hold_place(patron=second, edition=edition)
    licence(edition, LicenceModel.CONCURRENT, concurrent_users=1)

    loan = borrow(person, edition)

    hold.refresh_from_db()
    behind.refresh_from_db()
    assert loan.patron == person and hold.status == HoldStatus.COLLECTED
    assert behind.status == HoldStatus.WAITING
    assert not Notice.objects.filter(patron=person).exists()


# --- loans end by themselves -----------------------------------------------------------------


def test_loans_end_at_expiry_and_the_slot_goes_to_the_queue():
    edition = ebook()
    lic = licence(edition, loan_days=14)
    person = adult()
    loan = borrow(person, edition)
    waiting = digital.digital_hold_place(patron=adult(), edition=edition)

    with later(days=13):
        assert digital.expire_digital_loans() == 0
    with later(days=14, seconds=1):
        assert digital.expire_digital_loans() == 1
        assert digital.expire_digital_loans() == 0  # twice is harmless

    loan.refresh_from_db()
    waiting.refresh_from_db()
    assert loan.returned_at == loan.expires_at
    assert counters(lic) == (0, 1)
    assert waiting.status == HoldStatus.READY
    assert AuditEvent.objects.filter(action="circulation.digital_expired").count() == 1


def test_an_expired_loan_does_not_block_borrowing_again_before_the_job_runs():
    edition = ebook()
    lic = licence(edition, loan_days=7)
    person = adult()
    borrow(person, edition)

    with later(days=8):
        assert list(digital_selectors.open_digital_loans(person)) == []
        again = borrow(person, edition)

    assert again.returned_at is None
    assert counters(lic) == (1, 2)
    assert DigitalLoan.objects.filter(patron=person, returned_at__isnull=True).count() == 1


def test_a_loan_past_its_end_counts_towards_no_limit_before_the_job_runs():
    policy(None, format=Format.EBOOK, max_loans=1)
    person = adult()
    first, second, busy = ebook("Een"), ebook("Twee"), ebook("Bezet")
    first_licence = licence(first, loan_days=7)
    licence(second, LicenceModel.ALWAYS)
    licence(busy)
    borrow(adult(), busy)
    old = borrow(person, first)
    waiting = digital.digital_hold_place(patron=adult(), edition=first)

    with later(days=8):
        # refused for another reason, the loan that ran out is closed all the same
        refused("no_licence_available", borrow, person, busy)
        old.refresh_from_db()
        assert old.returned_at == old.expires_at
        assert counters(first_licence) == (0, 1)
        waiting.refresh_from_db()
        assert waiting.status == HoldStatus.READY
        assert borrow(person, second).edition == second

    assert DigitalLoan.objects.filter(patron=person, returned_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="circulation.digital_expired").count() == 1


def test_a_slot_whose_loan_ran_out_is_free_before_the_job_runs():
    edition = ebook()
    lic = licence(edition, loan_days=7)
    loan = borrow(adult(), edition)
    newcomer = adult()
    assert digital_selectors.digital_state(newcomer, edition).state == "hold"

    with later(days=8):
        assert digital_selectors.digital_state(newcomer, edition).state == "borrow"
        refused("licence_available", digital.digital_hold_place, patron=newcomer, edition=edition)
        loan.refresh_from_db()
        assert loan.returned_at == loan.expires_at
        assert counters(lic) == (0, 1)
        assert borrow(newcomer, edition).licence == lic


# --- states for the pages --------------------------------------------------------------------


def test_digital_state_tells_what_a_person_can_do():
    edition = ebook()
    licence(edition)
    reader, waiter, newcomer = adult(), adult(), adult()

    assert digital_selectors.digital_state(newcomer, edition).state == "borrow"
    borrow(reader, edition)
    digital.digital_hold_place(patron=waiter, edition=edition)

    assert digital_selectors.digital_state(reader, edition).state == "loan"
    waiting = digital_selectors.digital_state(waiter, edition)
    assert (waiting.state, waiting.position, waiting.queue) == ("waiting", 1, 1)
    fresh = digital_selectors.digital_state(newcomer, edition)
    assert (fresh.state, fresh.position) == ("hold", 2)
    assert digital_selectors.digital_state(None, edition).state == "anonymous"


# --- signed links ----------------------------------------------------------------------------


def test_a_signed_link_names_an_open_loan_for_an_hour():
    edition = ebook()
    licence(edition)
    loan = borrow(adult(), edition)
    token = digital_links.content_token(loan)

    assert digital_links.loan_for_token(token) == loan
    refused("link_invalid", digital_links.loan_for_token, token[:-2] + "xx")
    refused("link_invalid", digital_links.loan_for_token, "12:abc")
    with later(seconds=digital_links.LINK_SECONDS + 1):
        assert refused("link_expired", digital_links.loan_for_token, token).status == 410
    digital.digital_return(loan)
    refused("loan_closed", digital_links.loan_for_token, token)
