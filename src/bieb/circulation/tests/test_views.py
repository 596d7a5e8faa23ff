"""The desk screens, the resident's loans and holds, placing a hold and terminal accounts, through
the test client: what staff and residents see, what changes in the database, and who may do it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from bieb.accounts.models import GuardianLink, StaffRole
from bieb.accounts.tests.factories import UserFactory, staff_member
from bieb.catalog.models import Format, ItemStatus
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.models import (
    Hold,
    HoldScope,
    HoldStatus,
    Loan,
    Terminal,
    Transfer,
    TransferStatus,
)
from bieb.circulation.tests.factories import adult, child, copy_at, network, policy
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def later(n: int):
    return clock.frozen(clock.now() + days(n))


def text(response) -> str:
    return response.content.decode()


def desk_url(name: str, location) -> str:
    return reverse(f"circulation:{name}", kwargs={"slug": location.slug})


@pytest.fixture
def net():
    return network()


@pytest.fixture
def desk(client, net):
    """A client logged in as desk staff of ``net.org``."""
    client.force_login(staff_member(Role.DESK, net.org))
    return client


def scan_card(client, location, card):
    return client.post(desk_url("desk_checkout", location), {"action": "card", "card": card})


def scan_item(client, location, barcode, name="desk_checkout"):
    return client.post(desk_url(name, location), {"action": "item", "barcode": barcode})


# --- checkout --------------------------------------------------------------------------------


def test_desk_scans_a_card_then_items_and_sees_each_result_at_once(desk, net):
    # given a borrower and two copies, one already lent to someone else
    person = adult(first_name="Anna", last_name="Jansen")
    free = copy_at(net.main)
    lent = copy_at(net.main)
    services.checkout(patron=adult(), barcode=lent.barcode, location=net.main)
    policy(net.org, loan_days=14)

    # when the desk scans the card, then both copies (each scan a POST and a redirect)
    card = scan_card(desk, net.main, f" {person.card_number} ")
    first = scan_item(desk, net.main, free.barcode)
    second = scan_item(desk, net.main, lent.barcode)
    page = desk.get(desk_url("desk_checkout", net.main))

    # then each scan redirected back, the free copy is lent and the other refused with a reason
    assert [r.status_code for r in (card, first, second)] == [302, 302, 302]
    loan = Loan.objects.get(item=free, returned_at__isnull=True)
    assert loan.patron == person and loan.checkout_location == net.main
    assert loan.due_date == clock.today() + days(14)
    assert Loan.objects.filter(item=lent, returned_at__isnull=True).exclude(patron=person).exists()
    body = text(page)
    assert "Lener A.J. …" + person.card_number[-4:] in body
    assert "Uitgeleend tot" in body
    assert "Dit exemplaar is al uitgeleend" in body
    # the newest scan is announced in the live region and described on the focused field
    announce = body.split('id="desk-announce"')[1].split('id="desk-work"')[0]
    assert 'role="status"' in body and lent.barcode in announce and "Niet gelukt" in announce
    assert 'id="desk-barcode"' in body and "autofocus" in body
    assert [s["barcode"] for s in page.context["scans"]][:2] == [lent.barcode, free.barcode]
    # a desk seeing a person's loans is recorded
    assert AuditEvent.objects.filter(
        action="person.viewed_by_staff", subject=f"accounts.user:{person.pk}"
    ).exists()


def test_an_unknown_card_is_refused_and_no_one_is_being_served(desk, net):
    response = scan_card(desk, net.main, "29999999999999")
    page = desk.get(desk_url("desk_checkout", net.main))

    assert response.status_code == 302
    assert "Deze pas kennen we niet" in text(page)
    assert page.context["summary"] is None
    assert 'id="desk-card"' in text(page)


def test_an_inactive_account_cannot_borrow_at_the_desk(desk, net):
    person = adult(is_active=False)

    scan_card(desk, net.main, person.card_number)
    page = desk.get(desk_url("desk_checkout", net.main))

    assert page.context["summary"] is None
    assert "het account is niet actief" in text(page)


def test_scanning_the_next_customers_card_into_the_item_field_switches_borrower(desk, net):
    first, second = adult(), adult()
    item = copy_at(net.main)
    scan_card(desk, net.main, first.card_number)

    scan_item(desk, net.main, second.card_number)
    scan_item(desk, net.main, item.barcode)

    assert Loan.objects.get(item=item).patron == second
    assert not Loan.objects.filter(patron=first).exists()


def test_klaar_ends_the_customer_and_shows_the_card_field_again(desk, net):
    person = adult()
    scan_card(desk, net.main, person.card_number)

    response = desk.post(desk_url("desk_checkout", net.main), {"action": "end"}, follow=True)

    assert response.context["summary"] is None
    assert response.context["scans"] == []
    assert "De volgende klant kan komen" in text(response)
    # an item scanned now is taken as a card, not lent to the previous customer
    item = copy_at(net.main)
    scan_item(desk, net.main, item.barcode)
    assert not Loan.objects.filter(item=item).exists()


def test_the_customer_in_one_desk_session_stays_at_that_location(desk, net):
    person = adult()
    scan_card(desk, net.main, person.card_number)

    other = desk.get(desk_url("desk_checkout", net.branch))

    assert other.context["summary"] is None
    assert desk.get(desk_url("desk_checkout", net.main)).context["summary"].person == person


def test_checkout_works_as_a_plain_form_post_when_htmx_asks(desk, net):
    # htmx follows the redirect and swaps #desk-work; the server answers the same page
    person = adult()
    item = copy_at(net.main)
    scan_card(desk, net.main, person.card_number)

    response = desk.post(
        desk_url("desk_checkout", net.main),
        {"action": "item", "barcode": item.barcode},
        headers={"HX-Request": "true"},
        follow=True,
    )

    assert response.status_code == 200
    assert 'id="desk-work"' in text(response) and 'id="desk-announce"' in text(response)
    assert Loan.objects.filter(item=item, patron=person).exists()


@pytest.mark.parametrize("name", ["desk_checkout", "desk_checkin", "desk_lists"])
def test_desk_screens_are_for_desk_and_managers_of_the_locations_organisation(client, net, name):
    own, other = desk_url(name, net.main), desk_url(name, net.elsewhere)

    assert client.get(own).status_code == 302  # anonymous: log in first
    client.force_login(adult())
    assert client.get(own).status_code == 403
    client.force_login(staff_member(Role.PROGRAMMER, net.org))
    assert client.get(own).status_code == 403
    client.force_login(staff_member(Role.MANAGER, net.org))
    assert client.get(own).status_code == 200
    client.force_login(staff_member(Role.DESK, net.org))
    assert client.get(own).status_code == 200
    assert client.get(other).status_code == 404
    assert client.get(desk_url(name, type(net.main)(slug="bestaat-niet"))).status_code == 404
    client.force_login(staff_member(Role.NETWORK_ADMIN))
    assert client.get(other).status_code == 200


def test_desk_of_another_organisation_cannot_lend_there(client, net):
    client.force_login(staff_member(Role.DESK, net.other_org))
    item = copy_at(net.main)

    response = scan_card(client, net.main, adult().card_number)
    scan_item(client, net.main, item.barcode)

    assert response.status_code == 404
    assert not Loan.objects.filter(item=item).exists()


def test_desk_home_lists_the_locations_the_caller_staffs(desk, net):
    response = desk.get(reverse("circulation:desk_home"))

    assert response.status_code == 200
    assert set(response.context["locations"]) == {net.main, net.branch}
    assert desk_url("desk_checkin", net.branch) in text(response)
    assert net.elsewhere.name not in text(response)


# --- checkin ---------------------------------------------------------------------------------


def test_a_return_at_home_says_back_on_the_shelf(desk, net):
    item = copy_at(net.main, shelf_mark="ROMA JANS")
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    scan_item(desk, net.main, item.barcode, name="desk_checkin")
    page = desk.get(desk_url("desk_checkin", net.main))

    loan.refresh_from_db()
    assert loan.returned_at is not None
    announce = text(page).split('id="desk-announce"')[1].split('id="desk-work"')[0]
    assert "Terug in de kast" in announce
    assert "Plaatsing: ROMA JANS." in announce
    assert "circ-result--shelf" in announce


def test_a_return_for_a_hold_here_says_hold_shelf_with_initials_and_card_digits(desk, net):
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    waiting = adult(first_name="Bram", last_name="de Vries")
    services.hold_place(patron=waiting, edition=item.edition, pickup_location=net.main)

    scan_item(desk, net.main, item.barcode, name="desk_checkin")
    page = desk.get(desk_url("desk_checkin", net.main))

    scan = page.context["last"]
    assert scan["destination"] == "hold_shelf"
    assert scan["headline"] == (f"Op de reserveringsplank voor B.D. …{waiting.card_number[-4:]}")
    assert Hold.objects.get(patron=waiting).status == HoldStatus.READY


def test_a_late_return_elsewhere_says_transport_home_and_the_late_fee(desk, net):
    policy(net.other_org, overdue_fee_cents_per_day=20, loan_days=7)
    policy(net.org, overdue_fee_cents_per_day=30, loan_days=7)
    item = copy_at(net.elsewhere)  # belongs to the other organisation
    services.checkout(patron=adult(), barcode=item.barcode, location=net.elsewhere)

    with later(10):  # three days late at 20 cents a day (the item's organisation's policy)
        scan_item(desk, net.main, item.barcode, name="desk_checkin")
        page = desk.get(desk_url("desk_checkin", net.main))

    scan = page.context["last"]
    assert scan["destination"] == "transit"
    assert scan["headline"] == f"Transport naar {net.elsewhere.name}"
    assert f"Andere bibliotheekorganisatie: {net.other_org.name}." in scan["notes"]
    assert scan["fee"] == "€ 0,60"
    assert "te-laatgeld € 0,60" in text(page)
    assert Transfer.objects.get(item=item, status=TransferStatus.TO_SEND).to_location == (
        net.elsewhere
    )


def test_a_late_return_of_a_child_says_late_without_a_fee(desk, net):
    policy(net.org, overdue_fee_cents_per_day=30, loan_days=7)
    item = copy_at(net.main)
    services.checkout(patron=child(), barcode=item.barcode, location=net.main)

    with later(9):
        scan_item(desk, net.main, item.barcode, name="desk_checkin")
        scan = desk.get(desk_url("desk_checkin", net.main)).context["last"]

    assert "2 dagen te laat, zonder te-laatgeld." in scan["notes"]
    assert scan["fee"] == ""


def test_an_unknown_barcode_at_the_return_screen_says_so(desk, net):
    scan_item(desk, net.main, "BESTAAT-NIET", name="desk_checkin")
    scan = desk.get(desk_url("desk_checkin", net.main)).context["last"]

    assert scan["ok"] is False and scan["destination"] == "error"
    assert "Dit exemplaar kennen we niet" in scan["headline"]


def test_the_return_list_can_be_cleared(desk, net):
    item = copy_at(net.main)
    scan_item(desk, net.main, item.barcode, name="desk_checkin")

    response = desk.post(desk_url("desk_checkin", net.main), {"action": "clear"}, follow=True)

    assert response.context["scans"] == []


# --- lists -----------------------------------------------------------------------------------


def test_lists_show_what_to_send_and_verstuurd_puts_it_in_transit(desk, net):
    item = copy_at(net.branch)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.branch)
    services.checkin(barcode=item.barcode, location=net.main)  # travels home to the branch
    transfer = Transfer.objects.get(item=item)

    page = desk.get(desk_url("desk_lists", net.main))
    assert page.context["to_send"] == [transfer]
    assert f"Naar {net.branch.name}" in text(page)

    response = desk.post(
        reverse(
            "circulation:desk_transfer_send",
            kwargs={"slug": net.main.slug, "transfer_id": transfer.pk},
        )
    )

    transfer.refresh_from_db()
    assert response.status_code == 302 and response["Location"].endswith("#te-versturen")
    assert transfer.status == TransferStatus.IN_TRANSIT and transfer.sent_at is not None
    assert AuditEvent.objects.filter(action="circulation.transfer_sent").count() == 1
    # the branch now expects it
    client_branch = desk.get(desk_url("desk_lists", net.branch))
    assert client_branch.context["incoming"] == [transfer]
    assert desk.get(desk_url("desk_lists", net.main)).context["to_send"] == []


def test_verstuurd_twice_says_it_already_left(desk, net):
    item = copy_at(net.branch)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.branch)
    services.checkin(barcode=item.barcode, location=net.main)
    transfer = Transfer.objects.get(item=item)
    url = reverse(
        "circulation:desk_transfer_send", kwargs={"slug": net.main.slug, "transfer_id": transfer.pk}
    )

    desk.post(url)
    again = desk.post(url, follow=True)

    assert "Dit transport is al verstuurd." in text(again)
    assert AuditEvent.objects.filter(action="circulation.transfer_sent").count() == 1


def test_a_transfer_is_sent_only_from_the_location_it_leaves(desk, net):
    item = copy_at(net.branch)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.branch)
    services.checkin(barcode=item.barcode, location=net.main)
    transfer = Transfer.objects.get(item=item)

    wrong_place = desk.post(
        reverse(
            "circulation:desk_transfer_send",
            kwargs={"slug": net.branch.slug, "transfer_id": transfer.pk},
        )
    )
    get = desk.get(
        reverse(
            "circulation:desk_transfer_send",
            kwargs={"slug": net.main.slug, "transfer_id": transfer.pk},
        )
    )

    transfer.refresh_from_db()
    assert (wrong_place.status_code, get.status_code) == (404, 405)
    assert transfer.status == TransferStatus.TO_SEND


def test_lists_show_the_hold_shelf_and_what_to_clear_after_a_cancel(desk, net):
    waiting, leaving = adult(first_name="Cor", last_name="Bos"), adult()
    ready_item, cancelled_item = copy_at(net.main), copy_at(net.main)
    ready = services.hold_place(
        patron=waiting, edition=ready_item.edition, pickup_location=net.main
    )
    gone = services.hold_place(
        patron=leaving, edition=cancelled_item.edition, pickup_location=net.main
    )
    services.checkin(barcode=ready_item.barcode, location=net.main)  # trapped: on the shelf
    services.checkin(barcode=cancelled_item.barcode, location=net.main)
    services.hold_cancel(gone)

    page = desk.get(desk_url("desk_lists", net.main))

    assert [row.hold.pk for row in page.context["hold_shelf"]] == [ready.pk]
    assert page.context["hold_shelf"][0].label == f"C.B. …{waiting.card_number[-4:]}"
    assert page.context["to_clear"] == [cancelled_item]
    # scanning the copy to clear at the return screen shelves it
    scan_item(desk, net.main, cancelled_item.barcode, name="desk_checkin")
    cancelled_item.refresh_from_db()
    assert cancelled_item.status == ItemStatus.AVAILABLE
    assert desk.get(desk_url("desk_lists", net.main)).context["to_clear"] == []


def test_the_pull_list_shows_titles_someone_waits_for_with_a_copy_on_this_shelf(desk, net):
    wanted = EditionFactory(title="Gezocht")
    paused = EditionFactory(title="Gepauzeerd")
    local_only = EditionFactory(title="Alleen daar")
    on_shelf = copy_at(net.main, wanted, shelf_mark="R GEZO")
    copy_at(net.main, paused)
    copy_at(net.main, local_only)
    copy_at(net.main, local_only)  # a second copy: still one row for the title
    services.hold_place(patron=adult(), edition=wanted, pickup_location=net.branch)
    services.hold_place(
        patron=adult(),
        edition=paused,
        pickup_location=net.branch,
        not_before=clock.today() + days(10),
    )
    # a hold limited to the other organisation's location cannot be served from here
    copy_at(net.elsewhere, local_only)
    services.hold_place(
        patron=adult(),
        edition=local_only,
        pickup_location=net.elsewhere,
        scope=HoldScope.LOCATION,
    )

    pull = desk.get(desk_url("desk_lists", net.main)).context["pull"]

    assert [(row.edition.title, row.waiting, row.items) for row in pull] == [
        ("Gezocht", 1, [on_shelf])
    ]
    # scanning the pulled copy at the return screen sends it to the pick-up location
    scan_item(desk, net.main, on_shelf.barcode, name="desk_checkin")
    last = desk.get(desk_url("desk_checkin", net.main)).context["last"]
    assert last["headline"] == f"Transport naar {net.branch.name}"
    assert "Dit exemplaar was niet uitgeleend." in last["notes"]


def test_the_lists_page_costs_the_same_queries_for_one_row_or_many(
    desk, net, django_assert_num_queries
):
    def fill(n: int) -> None:
        for _ in range(n):
            item = copy_at(net.branch)
            services.checkout(patron=adult(), barcode=item.barcode, location=net.branch)
            services.checkin(barcode=item.barcode, location=net.main)
            waiting = copy_at(net.main)
            services.hold_place(patron=adult(), edition=waiting.edition, pickup_location=net.main)
            services.checkin(barcode=waiting.barcode, location=net.main)

    fill(1)
    url = desk_url("desk_lists", net.main)
    desk.get(url)  # warm the session and role caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        desk.get(url)
    fill(4)
    with django_assert_num_queries(len(one.captured_queries)):
        response = desk.get(url)
    assert len(response.context["to_send"]) == 5 and len(response.context["hold_shelf"]) == 5


# --- terminal accounts -----------------------------------------------------------------------


@pytest.fixture
def manager(client, net):
    client.force_login(staff_member(Role.MANAGER, net.org))
    return client


def test_a_manager_adds_a_terminal_and_sees_its_password_once(manager, net):
    response = manager.post(
        reverse("circulation:terminals"),
        {"location": net.branch.pk, "name": "Automaat bij de ingang", "login": "branch-sc1"},
    )

    terminal = Terminal.objects.get(login="branch-sc1")
    password = response.context["password"]
    assert response.status_code == 200
    assert terminal.location == net.branch and terminal.is_active
    assert password and password in text(response)
    assert password not in terminal.password_hash and check_password(
        password, terminal.password_hash
    )
    assert AuditEvent.objects.filter(action="circulation.terminal_created").exists()
    again = manager.get(reverse("circulation:terminals"))
    assert password not in text(again) and "branch-sc1" in text(again)


def test_a_taken_terminal_login_is_refused_on_the_field(manager, net):
    manager.post(
        reverse("circulation:terminals"),
        {"location": net.main.pk, "name": "Eerste", "login": "sc-1"},
    )

    response = manager.post(
        reverse("circulation:terminals"),
        {"location": net.branch.pk, "name": "Tweede", "login": "sc-1"},
    )

    assert response.status_code == 409
    assert response.context["form"].errors["login"]
    assert response.context["password"] is None
    assert Terminal.objects.filter(login="sc-1").count() == 1


def test_a_manager_cannot_add_a_terminal_at_another_organisations_location(manager, net):
    response = manager.post(
        reverse("circulation:terminals"),
        {"location": net.elsewhere.pk, "name": "Niet van ons", "login": "theirs-1"},
    )

    assert response.status_code == 400
    assert "location" in response.context["form"].errors
    assert not Terminal.objects.exists()


def test_a_manager_switches_a_terminal_off_but_not_another_organisations(manager, net):
    from bieb.circulation.sip2 import terminals

    ours, _ = terminals.terminal_create(location=net.main, login="ours-1", name="Ons")
    theirs, _ = terminals.terminal_create(location=net.elsewhere, login="theirs-1", name="Hun")

    off = manager.post(reverse("circulation:terminal_deactivate", args=[ours.pk]))
    other = manager.post(reverse("circulation:terminal_deactivate", args=[theirs.pk]))
    listed = manager.get(reverse("circulation:terminals"))

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (off.status_code, other.status_code) == (302, 404)
    assert (ours.is_active, theirs.is_active) == (False, True)
    assert listed.context["terminals"] == [ours]
    assert AuditEvent.objects.filter(action="circulation.terminal_deactivated").count() == 1


def test_desk_staff_do_not_manage_terminals(desk):
    assert desk.get(reverse("circulation:terminals")).status_code == 403


# --- my loans --------------------------------------------------------------------------------


@pytest.fixture
def resident(client):
    person = adult()
    client.force_login(person)
    client.person = person
    return client


def test_my_loans_shows_open_loans_and_renews_one(resident, net):
    policy(net.org, loan_days=14, max_renewals=2)
    item = copy_at(net.main)
    loan = services.checkout(patron=resident.person, barcode=item.barcode, location=net.main)

    page = resident.get(reverse("circulation:my_loans"))
    assert item.edition.title in text(page)
    assert reverse("circulation:loan_renew", args=[loan.pk]) in text(page)

    with later(7):
        response = resident.post(reverse("circulation:loan_renew", args=[loan.pk]), follow=True)

    loan.refresh_from_db()  # a renewal on day 7 adds the 14 days to the due date (day 14)
    assert loan.renewals == 1 and loan.due_date == clock.today() + days(28)
    assert "Verlengd:" in text(response)
    assert "1 van 2 keer verlengd" in text(response)


def test_my_loans_says_why_a_loan_cannot_be_renewed(resident, net):
    policy(net.org, max_renewals=1)
    waited_for, renewed = copy_at(net.main), copy_at(net.main)
    first = services.checkout(patron=resident.person, barcode=waited_for.barcode, location=net.main)
    second = services.checkout(patron=resident.person, barcode=renewed.barcode, location=net.main)
    services.hold_place(patron=adult(), edition=waited_for.edition, pickup_location=net.branch)
    services.renew(second)

    rows = {
        row.loan.pk: row for row in resident.get(reverse("circulation:my_loans")).context["rows"]
    }

    assert rows[first.pk].refusal == (
        "Iemand anders heeft deze titel gereserveerd; verlengen kan niet."
    )
    assert rows[second.pk].refusal == "Je hebt dit exemplaar al 1 keer verlengd, vaker kan niet."
    # and the service agrees when pressed anyway
    response = resident.post(reverse("circulation:loan_renew", args=[first.pk]), follow=True)
    assert "Iemand anders heeft deze titel gereserveerd" in text(response)
    first.refresh_from_db()
    assert first.renewals == 0


def test_a_hold_limited_to_another_organisation_does_not_block_a_renewal(resident, net):
    item = copy_at(net.main)
    loan = services.checkout(patron=resident.person, barcode=item.barcode, location=net.main)
    copy_at(net.elsewhere, item.edition)
    services.hold_place(
        patron=adult(),
        edition=item.edition,
        pickup_location=net.elsewhere,
        scope=HoldScope.ORGANISATION,
    )

    row = resident.get(reverse("circulation:my_loans")).context["rows"][0]

    assert row.renewable
    services.renew(loan)  # the service agrees


def test_nobody_renews_someone_elses_loan(resident, net):
    item = copy_at(net.main)
    theirs = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    response = resident.post(reverse("circulation:loan_renew", args=[theirs.pk]))

    theirs.refresh_from_db()
    assert response.status_code == 404 and theirs.renewals == 0


def test_loan_history_is_shown_only_to_those_who_keep_it(client, net):
    keeper, forgetter = adult(keep_loan_history=True), adult()
    for person, title in ((keeper, "Bewaard boek"), (forgetter, "Vergeten boek")):
        item = copy_at(net.main, EditionFactory(title=title))
        services.checkout(patron=person, barcode=item.barcode, location=net.main)
        services.checkin(barcode=item.barcode, location=net.main)

    client.force_login(keeper)
    kept = client.get(reverse("circulation:my_loans"))
    client.force_login(forgetter)
    forgotten = client.get(reverse("circulation:my_loans"))

    assert "Bewaard boek" in text(kept) and kept.context["history"][0].patron == keeper
    assert "Vergeten boek" not in text(forgotten) and forgotten.context["history"] == []
    assert "Zet het aan bij je privacykeuzes" in text(forgotten)
    assert reverse("accounts:privacy") in text(forgotten)


def test_my_loans_costs_the_same_queries_for_one_loan_or_many(
    resident, net, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def lend(n: int) -> None:
        for _ in range(n):
            item = copy_at(net.main)
            services.checkout(patron=resident.person, barcode=item.barcode, location=net.main)
            services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)

    lend(1)
    url = reverse("circulation:my_loans")
    resident.get(url)
    with CaptureQueriesContext(connection) as one:
        resident.get(url)
    lend(5)
    with django_assert_num_queries(len(one.captured_queries)):
        response = resident.get(url)
    assert len(response.context["rows"]) == 6


# --- my holds --------------------------------------------------------------------------------


def test_my_holds_shows_status_queue_position_and_ready_until(resident, net):
    queued, ready = EditionFactory(title="In de rij"), EditionFactory(title="Ligt klaar")
    copy_at(net.main, queued)
    ready_copy = copy_at(net.main, ready)
    services.checkout(patron=adult(), barcode=queued.items.get().barcode, location=net.main)
    services.hold_place(patron=adult(), edition=queued, pickup_location=net.main)
    services.hold_place(patron=resident.person, edition=queued, pickup_location=net.main)
    services.hold_place(patron=resident.person, edition=ready, pickup_location=net.main)
    services.checkin(barcode=ready_copy.barcode, location=net.main)

    page = resident.get(reverse("circulation:my_holds"))
    holds = page.context["holds"]

    assert [(h.edition.title, h.status, h.position) for h in holds] == [
        ("Ligt klaar", HoldStatus.READY, None),
        ("In de rij", HoldStatus.WAITING, 2),
    ]
    assert "Nummer 2 in de wachtrij." in text(page)
    assert f"Ligt klaar in {net.main.name}" in text(page)


def test_a_resident_pauses_resumes_and_cancels_a_hold(resident, net):
    edition = EditionFactory()
    copy_at(net.main, edition)
    hold = services.hold_place(patron=resident.person, edition=edition, pickup_location=net.main)
    until = clock.today() + days(14)

    resident.post(reverse("circulation:hold_pause", args=[hold.pk]), {"not_before": until})
    hold.refresh_from_db()
    assert hold.not_before == until
    assert "Gepauzeerd tot" in text(resident.get(reverse("circulation:my_holds")))

    resident.post(reverse("circulation:hold_resume", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.not_before is None

    resident.post(reverse("circulation:hold_cancel", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.status == HoldStatus.CANCELLED
    assert resident.get(reverse("circulation:my_holds")).context["holds"] == []


def test_a_pause_in_the_past_is_refused_with_a_reason(resident, net):
    edition = EditionFactory()
    copy_at(net.main, edition)
    hold = services.hold_place(patron=resident.person, edition=edition, pickup_location=net.main)

    response = resident.post(
        reverse("circulation:hold_pause", args=[hold.pk]),
        {"not_before": clock.today() - days(1)},
        follow=True,
    )

    hold.refresh_from_db()
    assert hold.not_before is None
    assert "Kies een datum na vandaag." in text(response)


def test_a_resident_changes_the_pick_up_location_while_waiting(resident, net):
    edition = EditionFactory()
    copy_at(net.main, edition)
    hold = services.hold_place(patron=resident.person, edition=edition, pickup_location=net.main)
    url = reverse("circulation:hold_pickup", args=[hold.pk])

    page = resident.get(url)
    response = resident.post(url, {"pickup_location": net.elsewhere.pk})

    hold.refresh_from_db()
    assert net.elsewhere.name in text(page)  # every active location, grouped by organisation
    assert response.status_code == 302 and hold.pickup_location == net.elsewhere


def test_the_pick_up_location_cannot_change_once_the_copy_is_trapped(resident, net):
    item = copy_at(net.main)
    hold = services.hold_place(
        patron=resident.person, edition=item.edition, pickup_location=net.main
    )
    services.checkin(barcode=item.barcode, location=net.main)
    url = reverse("circulation:hold_pickup", args=[hold.pk])

    page = resident.get(url)
    response = resident.post(url, {"pickup_location": net.branch.pk})

    hold.refresh_from_db()
    assert page.context["changeable"] is False and "<select" not in text(page)
    assert response.status_code == 409 and hold.pickup_location == net.main


def test_nobody_touches_someone_elses_hold(resident, net):
    edition = EditionFactory()
    copy_at(net.main, edition)
    theirs = services.hold_place(patron=adult(), edition=edition, pickup_location=net.main)

    statuses = [
        resident.post(reverse("circulation:hold_cancel", args=[theirs.pk])).status_code,
        resident.post(
            reverse("circulation:hold_pause", args=[theirs.pk]),
            {"not_before": clock.today() + days(3)},
        ).status_code,
        resident.get(reverse("circulation:hold_pickup", args=[theirs.pk])).status_code,
    ]

    theirs.refresh_from_db()
    assert statuses == [404, 404, 404]
    assert (theirs.status, theirs.not_before) == (HoldStatus.WAITING, None)


def test_resident_pages_need_a_log_in(client, net):
    for name in ("my_loans", "my_holds"):
        response = client.get(reverse(f"circulation:{name}"))
        assert response.status_code == 302 and response["Location"].startswith("/inloggen")


# --- placing a hold --------------------------------------------------------------------------


def test_the_edition_page_offers_reserveren_for_physical_titles_with_copies(client, net):
    book = copy_at(net.main).edition
    ebook = EditionFactory(format=Format.EBOOK)
    nothing = EditionFactory()
    hold_url = reverse("circulation:hold_place", args=[book.pk])

    assert hold_url in text(client.get(reverse("catalog:edition", args=[book.pk])))
    for edition in (ebook, nothing):
        page = text(client.get(reverse("catalog:edition", args=[edition.pk])))
        assert reverse("circulation:hold_place", args=[edition.pk]) not in page


def test_placing_a_hold_needs_a_log_in(client, net):
    edition = copy_at(net.main).edition
    url = reverse("circulation:hold_place", args=[edition.pk])

    for response in (client.get(url), client.post(url, {"pickup_location": net.main.pk})):
        assert response.status_code == 302
        assert response["Location"].startswith(f"/inloggen?next={url}")
    assert not Hold.objects.exists()


def test_a_resident_places_a_hold_for_pick_up_at_a_chosen_location(resident, net):
    edition = copy_at(net.main).edition
    url = reverse("circulation:hold_place", args=[edition.pk])

    form = resident.get(url)
    response = resident.post(
        url, {"pickup_location": net.branch.pk, "scope": HoldScope.ORGANISATION}
    )

    hold = Hold.objects.get(patron=resident.person)
    assert form.status_code == 200 and net.branch.name in text(form)
    assert response.status_code == 302 and response["Location"] == reverse("circulation:my_holds")
    assert (hold.edition, hold.pickup_location, hold.scope) == (
        edition,
        net.branch,
        HoldScope.ORGANISATION,
    )
    assert AuditEvent.objects.filter(action="circulation.hold_placed").exists()


def test_a_second_hold_on_the_same_title_is_refused_on_the_form(resident, net):
    edition = copy_at(net.main).edition
    url = reverse("circulation:hold_place", args=[edition.pk])
    resident.post(url, {"pickup_location": net.main.pk, "scope": HoldScope.NATIONAL})

    again = resident.post(url, {"pickup_location": net.main.pk, "scope": HoldScope.NATIONAL})

    assert again.status_code == 409
    assert "Je hebt deze titel al gereserveerd." in text(again)
    assert Hold.objects.filter(patron=resident.person).count() == 1


def test_an_inactive_pick_up_location_is_not_offered_nor_accepted(resident, net):
    edition = copy_at(net.main).edition
    net.branch.is_active = False
    net.branch.save(update_fields=["is_active"])
    url = reverse("circulation:hold_place", args=[edition.pk])

    form = resident.get(url)
    response = resident.post(url, {"pickup_location": net.branch.pk, "scope": "national"})

    assert net.branch.name not in text(form)
    assert response.status_code == 400 and not Hold.objects.exists()


def test_digital_titles_are_not_reserved_here(resident):
    ebook = EditionFactory(format=Format.EBOOK)
    assert resident.get(reverse("circulation:hold_place", args=[ebook.pk])).status_code == 404


def test_without_a_card_or_consent_the_hold_form_explains_why(client, net):
    edition = copy_at(net.main).edition
    url = reverse("circulation:hold_place", args=[edition.pk])
    without_card = adult(card_number=None)
    kid = child()

    client.force_login(without_card)
    card_page = client.get(url)
    client.force_login(kid)
    consent_page = client.get(url)
    refused = client.post(url, {"pickup_location": net.main.pk, "scope": "national"})
    GuardianLink.objects.create(guardian=adult(), child=kid, consent_given_at=clock.now())
    allowed = client.post(url, {"pickup_location": net.main.pk, "scope": "national"})

    assert "heb je een bibliotheekpas nodig" in text(card_page) and "<select" not in text(card_page)
    assert "toestemming" in text(consent_page)
    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert list(Hold.objects.values_list("patron", flat=True)) == [kid.pk]


# --- links from existing pages ---------------------------------------------------------------


def test_mijn_bibliotheek_and_the_staff_home_link_to_the_new_pages(client, net):
    client.force_login(UserFactory())
    mine = text(client.get(reverse("accounts:mine")))
    assert reverse("circulation:my_loans") in mine and reverse("circulation:my_holds") in mine

    client.force_login(staff_member(Role.DESK, net.org))
    desk_home = text(client.get(reverse("accounts:staff_home")))
    client.force_login(staff_member(Role.MANAGER, net.org))
    manager_home = text(client.get(reverse("accounts:staff_home")))
    assert reverse("circulation:desk_home") in desk_home
    assert reverse("circulation:terminals") not in desk_home
    assert reverse("circulation:terminals") in manager_home


def test_my_loans_gives_the_same_renewal_answer_as_renewing_would(resident, net):
    policy(net.org, loan_days=21, overdue_fee_cents_per_day=20)
    person = resident.person
    late = services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)
    wanted_edition = EditionFactory(title="Mijn eigen wachtrij")
    mine = copy_at(net.main, wanted_edition)
    other = copy_at(net.main, wanted_edition)
    services.checkout(patron=adult(), barcode=other.barcode, location=net.main)
    services.hold_place(patron=person, edition=wanted_edition, pickup_location=net.main)
    with clock.frozen(clock.now() + dt.timedelta(days=25)):
        own = services.checkout(patron=person, barcode=mine.barcode, location=net.main)
        rows = {
            row.loan.pk: row
            for row in resident.get(reverse("circulation:my_loans")).context["rows"]
        }

        # overdue with a late fee: the page says so, and renewing refuses the same way
        assert rows[late.pk].renewal_refusal == "overdue"
        assert "te laat" in rows[late.pk].refusal
        with pytest.raises(DomainError) as refused:
            services.renew(late)
        assert refused.value.code == "overdue"
        # borrowing another copy ended the person's own place in the queue: renewable
        assert rows[own.pk].renewable
        assert services.renew(own).renewals == 1
