"""The circulation API: a desk lends and takes in over ``/api/v1/circulation``, a resident sees,
renews and reserves over ``/api/v1/me``. Every refusal is JSON with a stable code; staff act
only at their own organisation's locations, residents only on their own loans and holds."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.api.services import token_create
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory
from bieb.circulation import services
from bieb.circulation.models import Charge, Hold, HoldStatus, Loan
from bieb.circulation.tests.factories import adult, child, copy_at, network, policy
from bieb.core import clock
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

CHECKOUTS = "/api/v1/circulation/checkouts"
CHECKINS = "/api/v1/circulation/checkins"
LOANS = "/api/v1/me/loans"
HOLDS = "/api/v1/me/holds"


def later(days: int):
    return clock.frozen(clock.now() + dt.timedelta(days=days))


def call(client, method: str, url: str, user=None, body=None, raw: str | None = None):
    headers = {}
    if user is not None:
        _, secret = token_create(user=user)
        headers["Authorization"] = f"Bearer {secret}"
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return client.generic(
        method, url, data=data or "", content_type="application/json", headers=headers
    )


def error_of(response, status: int) -> str:
    """The error code of a JSON error answer with ``status``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]["code"]


@pytest.fixture
def net():
    return network()


@pytest.fixture
def desk(net):
    return staff_member(StaffRole.Role.DESK, net.org)


# --- checkout: who may ---------------------------------------------------------------------


def test_desk_staff_lend_a_copy_by_card_number_at_their_location(client, net, desk):
    policy(net.org, loan_days=14)
    item = copy_at(net.main, edition=EditionFactory(title="De avonden"))
    person = adult()

    with clock.frozen(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)):
        response = call(
            client,
            "POST",
            CHECKOUTS,
            desk,
            {"patron": person.card_number, "barcode": item.barcode, "location": net.main.pk},
        )

    assert response.status_code == 201, response.content
    loan = Loan.objects.get(item=item, returned_at__isnull=True)
    assert response.json() == {
        "id": loan.pk,
        "barcode": item.barcode,
        "title": "De avonden",
        "edition_id": item.edition_id,
        "patron_id": person.pk,
        "checked_out_at": "2025-03-03T12:00:00Z",
        "due_date": "2025-03-17",
        "location": {"id": net.main.pk, "name": net.main.name, "slug": net.main.slug},
    }
    assert (loan.patron, loan.channel, loan.checkout_location) == (person, "api", net.main)
    assert Item.objects.get(pk=item.pk).status == ItemStatus.ON_LOAN
    event = AuditEvent.objects.get(action="circulation.checkout")
    assert event.actor_id == desk.pk


def test_a_patron_may_be_named_by_account_id_and_the_location_by_slug(client, net):
    manager = staff_member(StaffRole.Role.MANAGER, net.org)
    item = copy_at(net.branch)
    person = adult()

    response = call(
        client,
        "POST",
        CHECKOUTS,
        manager,
        {"patron": person.pk, "barcode": item.barcode, "location": net.branch.slug},
    )

    assert response.status_code == 201, response.content
    assert Loan.objects.get(pk=response.json()["id"]).patron == person


def test_a_copy_of_another_library_is_lent_at_the_desk_where_it_is(client, net, desk):
    visiting = copy_at(net.elsewhere)  # came here for a hold, or was returned here

    response = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": adult().card_number, "barcode": visiting.barcode, "location": net.main.pk},
    )

    assert response.status_code == 201, response.content
    assert Loan.objects.get(item=visiting).organisation == net.other_org


def test_staff_of_one_library_cannot_lend_at_a_location_of_another(client, net, desk):
    item = copy_at(net.elsewhere)
    body = {"patron": adult().card_number, "barcode": item.barcode}

    by_id = call(client, "POST", CHECKOUTS, desk, {**body, "location": net.elsewhere.pk})
    by_slug = call(client, "POST", CHECKOUTS, desk, {**body, "location": net.elsewhere.slug})
    missing = call(client, "POST", CHECKOUTS, desk, {**body, "location": "bestaat-niet"})
    odd = call(client, "POST", CHECKOUTS, desk, {**body, "location": "²"})

    assert error_of(by_id, 404) == "unknown_location"
    assert error_of(by_slug, 404) == "unknown_location"
    # a location elsewhere looks exactly like one that does not exist
    assert by_id.json() == missing.json() == odd.json()
    assert not Loan.objects.exists()
    assert Item.objects.get(pk=item.pk).status == ItemStatus.AVAILABLE


@pytest.mark.parametrize(
    "role", [StaffRole.Role.PROGRAMMER, StaffRole.Role.COLLECTION, "resident", "youth"]
)
def test_only_desk_staff_and_managers_may_lend(client, net, role):
    if role == "resident":
        caller = adult()
    elif role == "youth":
        caller = child()
    else:
        caller = staff_member(role, net.org)
    item = copy_at(net.main)

    response = call(
        client,
        "POST",
        CHECKOUTS,
        caller,
        {"patron": caller.card_number, "barcode": item.barcode, "location": net.main.pk},
    )

    assert error_of(response, 403) == "forbidden"
    assert not Loan.objects.exists()


def test_a_network_administrator_may_lend_anywhere(client, net):
    admin = staff_member(StaffRole.Role.NETWORK_ADMIN)
    item = copy_at(net.elsewhere)

    response = call(
        client,
        "POST",
        CHECKOUTS,
        admin,
        {"patron": adult().card_number, "barcode": item.barcode, "location": net.elsewhere.pk},
    )

    assert response.status_code == 201, response.content


def test_anonymous_callers_get_401(client, net):
    item = copy_at(net.main)
    body = {"patron": adult().card_number, "barcode": item.barcode, "location": net.main.pk}

    assert error_of(call(client, "POST", CHECKOUTS, body=body), 401) == "not_authenticated"
    assert error_of(call(client, "POST", CHECKINS, body=body), 401) == "not_authenticated"
    assert not Loan.objects.exists()


# --- checkout: refusals --------------------------------------------------------------------


def checkout_body(net, item, person) -> dict:
    return {"patron": person.card_number, "barcode": item.barcode, "location": net.main.pk}


def test_a_copy_on_loan_is_refused_with_item_on_loan(client, net, desk):
    item = copy_at(net.main)
    first, second = adult(), adult()
    assert call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, first)).status_code == 201

    response = call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, second))

    assert error_of(response, 409) == "item_on_loan"
    assert Loan.objects.get(item=item).patron == first


def test_the_loan_limit_answers_limit_reached(client, net, desk):
    policy(net.org, max_loans=1)
    person = adult()
    call(client, "POST", CHECKOUTS, desk, checkout_body(net, copy_at(net.main), person))

    response = call(client, "POST", CHECKOUTS, desk, checkout_body(net, copy_at(net.main), person))

    assert error_of(response, 409) == "limit_reached"
    assert Loan.objects.filter(patron=person).count() == 1


def test_a_copy_waiting_for_someone_else_answers_item_on_hold(client, net, desk):
    item = copy_at(net.main)
    services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)  # trapped on the hold shelf

    response = call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, adult()))

    assert error_of(response, 409) == "item_on_hold"


def test_a_copy_in_repair_answers_item_not_lendable(client, net, desk):
    item = copy_at(net.main, status=ItemStatus.REPAIR)

    response = call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, adult()))

    assert error_of(response, 409) == "item_not_lendable"


def test_a_digital_title_cannot_be_checked_out(client, net, desk):
    item = copy_at(net.main, edition=EditionFactory(format=Format.EBOOK))

    response = call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, adult()))

    assert error_of(response, 400) == "not_physical"


def test_borrowers_without_a_card_or_with_a_closed_account_are_refused(client, net, desk):
    item = copy_at(net.main)
    cardless = adult(card_number=None)
    closed = adult(is_active=False)

    no_card = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": cardless.pk, "barcode": item.barcode, "location": net.main.pk},
    )
    blocked = call(client, "POST", CHECKOUTS, desk, checkout_body(net, item, closed))

    assert error_of(no_card, 403) == "no_card"
    assert error_of(blocked, 403) == "account_blocked"
    assert not Loan.objects.exists()


def test_unknown_barcode_and_unknown_patron_are_404_with_their_own_codes(client, net, desk):
    item = copy_at(net.main)
    person = adult()
    unknown_card = person.card_number[:-1] + str((int(person.card_number[-1]) + 1) % 10)

    no_item = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": person.card_number, "barcode": "99999999", "location": net.main.pk},
    )
    no_card = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": unknown_card, "barcode": item.barcode, "location": net.main.pk},
    )
    no_id = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": 10**12, "barcode": item.barcode, "location": net.main.pk},
    )

    assert error_of(no_item, 404) == "item_unknown"
    assert error_of(no_card, 404) == "unknown_patron"
    assert error_of(no_id, 404) == "unknown_patron"
    assert no_card.json()["error"]["details"] == {"field": "patron"}


@pytest.mark.parametrize(
    ("patron", "status", "code"),
    [
        ("abc", 400, "invalid_patron"),
        ("", 400, "invalid_patron"),
        ("2030-0000", 400, "invalid_patron"),
        ("²", 400, "invalid_patron"),
        (-5, 400, "invalid_patron"),
        ("1" * 20, 404, "unknown_patron"),
        (True, 422, "invalid_input"),
        (1.5, 422, "invalid_input"),
        (None, 422, "invalid_input"),
    ],
)
def test_a_malformed_patron_is_refused_clearly(client, net, desk, patron, status, code):
    item = copy_at(net.main)

    response = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": patron, "barcode": item.barcode, "location": net.main.pk},
    )

    assert error_of(response, status) == code
    if status == 422:
        assert response.json()["error"]["details"]["fields"][0]["field"] == "patron"
    else:
        assert response.json()["error"]["details"] == {"field": "patron"}
    assert not Loan.objects.exists()


def test_missing_fields_answer_invalid_input_naming_each_field(client, net, desk):
    response = call(client, "POST", CHECKOUTS, desk, {})

    assert error_of(response, 422) == "invalid_input"
    fields = {f["field"] for f in response.json()["error"]["details"]["fields"]}
    assert fields == {"patron", "barcode", "location"}


def test_broken_json_is_a_400_and_huge_ids_are_not_found(client, net, desk):
    item = copy_at(net.main)

    broken = call(client, "POST", CHECKOUTS, desk, raw="{patron:")
    huge = call(
        client,
        "POST",
        CHECKOUTS,
        desk,
        {"patron": adult().card_number, "barcode": item.barcode, "location": 10**30},
    )

    assert error_of(broken, 400) == "bad_request"
    assert error_of(huge, 404) == "unknown_location"


# --- checkin -------------------------------------------------------------------------------


def test_a_copy_returned_at_home_goes_on_the_shelf(client, net, desk):
    item = copy_at(net.main)
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.main)

    response = call(
        client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.main.slug}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "barcode": item.barcode,
        "title": item.edition.title,
        "destination": "shelf",
        "to_location": {"id": net.main.pk, "name": net.main.name, "slug": net.main.slug},
        "hold_id": None,
        "loan_id": loan.pk,
        "late_days": 0,
        "charge_cents": 0,
    }
    assert Loan.objects.get(pk=loan.pk).returned_at is not None
    assert AuditEvent.objects.get(action="circulation.checkin").data["channel"] == "api"


def test_a_late_return_reports_the_days_and_the_fee(client, net, desk):
    policy(net.org, loan_days=21, overdue_fee_cents_per_day=25)
    item = copy_at(net.main)
    person = adult()
    services.checkout(patron=person, barcode=item.barcode, location=net.main)

    with later(21 + 4):
        response = call(
            client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.main.pk}
        )

    assert response.status_code == 200, response.content
    assert (response.json()["late_days"], response.json()["charge_cents"]) == (4, 100)
    assert Charge.objects.get(patron=person).amount_cents == 100


def test_a_return_for_a_hold_elsewhere_goes_in_transit(client, net, desk):
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    hold = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.branch)

    response = call(
        client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.main.pk}
    )

    body = response.json()
    assert (body["destination"], body["hold_id"]) == ("transit", hold.pk)
    assert body["to_location"]["id"] == net.branch.pk


def test_a_return_for_a_hold_here_goes_on_the_hold_shelf(client, net, desk):
    item = copy_at(net.main)
    hold = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)

    response = call(
        client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.main.pk}
    )

    assert (response.json()["destination"], response.json()["hold_id"]) == ("hold_shelf", hold.pk)
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.READY


def test_a_copy_of_another_library_returned_here_travels_home(client, net, desk):
    item = copy_at(net.elsewhere)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.elsewhere)

    response = call(
        client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.main.pk}
    )

    assert response.status_code == 200, response.content
    assert response.json()["destination"] == "transit"
    assert response.json()["to_location"]["id"] == net.elsewhere.pk


def test_staff_cannot_take_in_at_another_organisations_location(client, net, desk):
    item = copy_at(net.elsewhere)
    loan = services.checkout(patron=adult(), barcode=item.barcode, location=net.elsewhere)

    response = call(
        client, "POST", CHECKINS, desk, {"barcode": item.barcode, "location": net.elsewhere.pk}
    )

    assert error_of(response, 404) == "unknown_location"
    assert Loan.objects.get(pk=loan.pk).returned_at is None


def test_checkin_refusals(client, net, desk):
    withdrawn = copy_at(net.main, status=ItemStatus.WITHDRAWN)
    resident = adult()

    unknown = call(client, "POST", CHECKINS, desk, {"barcode": "nope", "location": net.main.pk})
    gone = call(
        client, "POST", CHECKINS, desk, {"barcode": withdrawn.barcode, "location": net.main.pk}
    )
    not_staff = call(
        client, "POST", CHECKINS, resident, {"barcode": withdrawn.barcode, "location": net.main.pk}
    )
    empty = call(client, "POST", CHECKINS, desk, {"barcode": "", "location": net.main.pk})

    assert error_of(unknown, 404) == "item_unknown"
    assert error_of(gone, 409) == "item_not_lendable"
    assert error_of(not_staff, 403) == "forbidden"
    assert error_of(empty, 422) == "invalid_input"


# --- /me/loans -----------------------------------------------------------------------------


def test_my_loans_lists_only_my_open_loans_soonest_due_first(client, net):
    policy(net.org, format=Format.FILM, loan_days=7)
    person = adult()
    book = copy_at(net.main, edition=EditionFactory(title="Het diner"))
    film = copy_at(net.main, edition=EditionFactory(title="Zwartboek", format=Format.FILM))
    with clock.frozen(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)):
        book_loan = services.checkout(patron=person, barcode=book.barcode, location=net.main)
        film_loan = services.checkout(patron=person, barcode=film.barcode, location=net.main)
        services.checkout(patron=adult(), barcode=copy_at(net.main).barcode, location=net.main)

        response = call(client, "GET", LOANS, person)

    assert response.status_code == 200, response.content
    body = response.json()
    assert [loan["id"] for loan in body] == [film_loan.pk, book_loan.pk]
    assert body[1] == {
        "id": book_loan.pk,
        "edition_id": book.edition_id,
        "title": "Het diner",
        "barcode": book.barcode,
        "checked_out_at": "2025-03-03T12:00:00Z",
        "due_date": "2025-03-24",
        "returned_at": None,
        "renewals": 0,
        "max_renewals": 2,
        "renewable": True,
        "renewal_refusal": None,
        "overdue_days": 0,
        "checkout_location": {"id": net.main.pk, "name": net.main.name, "slug": net.main.slug},
    }


def test_my_loans_say_why_one_cannot_be_renewed(client, net):
    policy(net.org, loan_days=21, max_renewals=1)
    person = adult()
    renewed = copy_at(net.main)
    wanted = copy_at(net.main)
    free = copy_at(net.main)
    for item in (renewed, wanted, free):
        services.checkout(patron=person, barcode=item.barcode, location=net.main)
    services.renew(Loan.objects.get(item=renewed))
    services.hold_place(patron=adult(), edition=wanted.edition, pickup_location=net.branch)

    with later(50):
        body = {loan["barcode"]: loan for loan in call(client, "GET", LOANS, person).json()}

    assert (body[renewed.barcode]["renewable"], body[renewed.barcode]["renewal_refusal"]) == (
        False,
        "renewal_limit",
    )
    assert (body[wanted.barcode]["renewable"], body[wanted.barcode]["renewal_refusal"]) == (
        False,
        "reserved",
    )
    assert (body[free.barcode]["renewable"], body[free.barcode]["renewal_refusal"]) == (True, None)
    assert body[free.barcode]["overdue_days"] == 29
    assert body[renewed.barcode]["overdue_days"] == 8


def test_a_hold_in_another_organisation_scope_does_not_block_renewal(client, net):
    person = adult()
    item = copy_at(net.main)
    services.checkout(patron=person, barcode=item.barcode, location=net.main)
    copy_at(net.elsewhere, edition=item.edition)
    services.hold_place(
        patron=adult(), edition=item.edition, pickup_location=net.elsewhere, scope="organisation"
    )

    [loan] = call(client, "GET", LOANS, person).json()

    assert loan["renewable"] is True


def test_loan_history_only_for_people_who_keep_it(client, net):
    keeper, forgetter = adult(keep_loan_history=True), adult()
    for person in (keeper, forgetter):
        returned = copy_at(net.main)
        services.checkout(patron=person, barcode=returned.barcode, location=net.main)
        services.checkin(barcode=returned.barcode, location=net.main)
        services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)

    kept = call(client, "GET", LOANS + "?history=1", keeper).json()
    forgotten = call(client, "GET", LOANS + "?history=1", forgetter)
    still_open = call(client, "GET", LOANS, keeper).json()

    assert len(kept) == 1
    assert kept[0]["returned_at"] is not None
    assert (kept[0]["renewable"], kept[0]["renewal_refusal"]) == (False, "loan_closed")
    assert forgotten.status_code == 200
    assert forgotten.json() == []
    assert len(still_open) == 1
    assert still_open[0]["returned_at"] is None


def queries_for(client, url: str, headers: dict) -> tuple[int, list]:
    """How many queries one GET of ``url`` takes, and its JSON body."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries), response.json()


def test_my_loans_and_holds_take_a_fixed_number_of_queries(client, net):
    person = adult()
    _, secret = token_create(user=person)
    headers = {"Authorization": f"Bearer {secret}"}

    def lend_and_reserve():
        services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)
        lent = copy_at(net.branch)
        services.checkout(patron=adult(), barcode=lent.barcode, location=net.branch)
        services.hold_place(patron=person, edition=lent.edition, pickup_location=net.main)

    lend_and_reserve()
    client.get(LOANS, headers=headers)  # the token's first use writes last_used_at
    loans_once, loans = queries_for(client, LOANS, headers)
    holds_once, holds = queries_for(client, HOLDS, headers)
    assert (len(loans), len(holds)) == (1, 1)
    for _ in range(5):
        lend_and_reserve()

    loans_many, loans = queries_for(client, LOANS, headers)
    holds_many, holds = queries_for(client, HOLDS, headers)

    assert (len(loans), len(holds)) == (6, 6)
    assert (loans_many, holds_many) == (loans_once, holds_once)


def test_my_loans_page_and_refuse_a_bad_window(client, net):
    person = adult()
    for _ in range(3):
        services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)

    page = call(client, "GET", LOANS + "?limit=2&offset=2", person)
    too_many = call(client, "GET", LOANS + "?limit=0", person)
    negative = call(client, "GET", LOANS + "?offset=-1", person)
    not_a_number = call(client, "GET", LOANS + "?limit=veel", person)

    assert len(page.json()) == 1
    assert error_of(too_many, 400) == "invalid_limit"
    assert error_of(negative, 400) == "invalid_offset"
    assert error_of(not_a_number, 422) == "invalid_input"
    assert error_of(call(client, "GET", LOANS), 401) == "not_authenticated"


# --- renew ---------------------------------------------------------------------------------


def test_i_renew_my_own_loan(client, net):
    policy(net.org, loan_days=21)
    person = adult()
    item = copy_at(net.main)
    with clock.frozen(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)):
        loan = services.checkout(patron=person, barcode=item.barcode, location=net.main)
        response = call(client, "POST", f"{LOANS}/{loan.pk}/renew", person)

    assert response.status_code == 200, response.content
    assert (response.json()["due_date"], response.json()["renewals"]) == ("2025-04-14", 1)
    assert Loan.objects.get(pk=loan.pk).due_date == dt.date(2025, 4, 14)
    # audited, without naming the person: a history they did not choose to keep
    assert AuditEvent.objects.get(action="circulation.renew").actor_id is None


def test_renewing_someone_elses_loan_is_not_found(client, net):
    owner, other = adult(), adult()
    loan = services.checkout(patron=owner, barcode=copy_at(net.main).barcode, location=net.main)

    theirs = call(client, "POST", f"{LOANS}/{loan.pk}/renew", other)
    nothing = call(client, "POST", f"{LOANS}/{loan.pk + 1000}/renew", other)

    assert error_of(theirs, 404) == "loan_not_found"
    assert theirs.json() == nothing.json()
    assert Loan.objects.get(pk=loan.pk).renewals == 0


def test_staff_cannot_renew_a_members_loan_through_me(client, net, desk):
    loan = services.checkout(patron=adult(), barcode=copy_at(net.main).barcode, location=net.main)

    response = call(client, "POST", f"{LOANS}/{loan.pk}/renew", desk)

    assert error_of(response, 404) == "loan_not_found"


def test_renewal_refusals(client, net):
    policy(net.org, max_renewals=1)
    person = adult(keep_loan_history=True)
    limit = services.checkout(patron=person, barcode=copy_at(net.main).barcode, location=net.main)
    services.renew(limit)
    wanted_item = copy_at(net.main)
    wanted = services.checkout(patron=person, barcode=wanted_item.barcode, location=net.main)
    services.hold_place(patron=adult(), edition=wanted_item.edition, pickup_location=net.main)
    returned_item = copy_at(net.main)
    returned = services.checkout(patron=person, barcode=returned_item.barcode, location=net.main)
    services.checkin(barcode=returned_item.barcode, location=net.main)

    assert error_of(call(client, "POST", f"{LOANS}/{limit.pk}/renew", person), 409) == (
        "renewal_limit"
    )
    assert error_of(call(client, "POST", f"{LOANS}/{wanted.pk}/renew", person), 409) == "reserved"
    assert error_of(call(client, "POST", f"{LOANS}/{returned.pk}/renew", person), 409) == (
        "loan_closed"
    )


@pytest.mark.parametrize("loan_id", ["abc", "1.5"])
def test_a_malformed_loan_id_is_invalid_input(client, net, loan_id):
    response = call(client, "POST", f"{LOANS}/{loan_id}/renew", adult())

    assert error_of(response, 422) == "invalid_input"


def test_a_huge_or_zero_loan_id_is_not_found(client, net):
    person = adult()

    assert error_of(call(client, "POST", f"{LOANS}/{10**30}/renew", person), 404) == (
        "loan_not_found"
    )
    assert error_of(call(client, "POST", f"{LOANS}/0/renew", person), 404) == "loan_not_found"


# --- /me/holds -----------------------------------------------------------------------------


def test_i_place_a_hold_and_see_my_place_in_the_queue(client, net):
    item = copy_at(net.main, edition=EditionFactory(title="Tirza"))
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    first = services.hold_place(patron=adult(), edition=item.edition, pickup_location=net.main)
    person = adult()

    response = call(
        client,
        "POST",
        HOLDS,
        person,
        {"edition": item.edition_id, "pickup_location": net.branch.slug, "scope": "organisation"},
    )

    assert response.status_code == 201, response.content
    hold = Hold.objects.get(patron=person)
    body = response.json()
    assert body["id"] == hold.pk
    assert (body["title"], body["status"], body["scope"]) == ("Tirza", "waiting", "organisation")
    assert body["pickup_location"] == {
        "id": net.branch.pk,
        "name": net.branch.name,
        "slug": net.branch.slug,
    }
    assert (body["queue_position"], body["ready_until"], body["not_before"]) == (2, None, None)
    assert AuditEvent.objects.get(action="circulation.hold_placed", subject__endswith=str(hold.pk))
    services.hold_cancel(first)
    [listed] = call(client, "GET", HOLDS, person).json()
    assert listed["queue_position"] == 1


def test_my_holds_list_only_my_active_holds_with_their_state(client, net):
    person = adult()
    waiting_item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=waiting_item.barcode, location=net.main)
    waiting = services.hold_place(
        patron=person,
        edition=waiting_item.edition,
        pickup_location=net.main,
        not_before=dt.date(2030, 1, 1),
    )
    ready_item = copy_at(net.main)
    ready = services.hold_place(patron=person, edition=ready_item.edition, pickup_location=net.main)
    services.checkin(barcode=ready_item.barcode, location=net.main)
    cancelled = services.hold_place(
        patron=person, edition=copy_at(net.main).edition, pickup_location=net.main
    )
    services.hold_cancel(cancelled)
    services.hold_place(patron=adult(), edition=copy_at(net.main).edition, pickup_location=net.main)

    body = call(client, "GET", HOLDS, person).json()

    assert [h["id"] for h in body] == [ready.pk, waiting.pk]  # ready to collect first
    ready_until = Hold.objects.get(pk=ready.pk).ready_until.isoformat()
    assert (body[0]["status"], body[0]["queue_position"], body[0]["ready_until"]) == (
        "ready",
        None,
        ready_until,
    )
    assert (body[1]["status"], body[1]["queue_position"], body[1]["not_before"]) == (
        "waiting",
        1,
        "2030-01-01",
    )


def test_a_second_hold_on_the_same_title_answers_hold_exists(client, net):
    item = copy_at(net.main)
    person = adult()
    body = {"edition": item.edition_id, "pickup_location": net.main.pk}
    assert call(client, "POST", HOLDS, person, body).status_code == 201

    response = call(client, "POST", HOLDS, person, body)

    assert error_of(response, 409) == "hold_exists"
    assert Hold.objects.filter(patron=person).count() == 1


def test_hold_refusals_from_the_services(client, net):
    person = adult()
    inactive = copy_at(net.main).home_location
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    open_item = copy_at(net.branch)
    ebook = EditionFactory(format=Format.EBOOK)
    elsewhere_only = copy_at(net.elsewhere)
    borrowed = copy_at(net.branch)
    services.checkout(patron=person, barcode=borrowed.barcode, location=net.branch)

    def place(user, **body):
        return call(client, "POST", HOLDS, user, {"pickup_location": net.branch.pk, **body})

    assert error_of(place(adult(card_number=None), edition=open_item.edition_id), 403) == "no_card"
    assert error_of(place(person, edition=ebook.pk), 400) == "not_physical"
    assert (
        error_of(
            place(person, edition=elsewhere_only.edition_id, scope="organisation"),
            409,
        )
        == "no_copies"
    )
    assert error_of(place(person, edition=borrowed.edition_id), 409) == "already_on_loan"
    assert (
        error_of(
            call(
                client,
                "POST",
                HOLDS,
                person,
                {"edition": open_item.edition_id, "pickup_location": inactive.pk},
            ),
            400,
        )
        == "invalid_pickup"
    )
    assert not Hold.objects.filter(patron=person).exists()


def test_the_hold_limit_answers_hold_limit_reached(client, net):
    person = adult()
    for _ in range(20):
        services.hold_place(
            patron=person, edition=copy_at(net.main).edition, pickup_location=net.main
        )

    response = call(
        client,
        "POST",
        HOLDS,
        person,
        {"edition": copy_at(net.main).edition_id, "pickup_location": net.main.pk},
    )

    assert error_of(response, 409) == "hold_limit_reached"


def test_bad_hold_input_answers_a_clear_code(client, net):
    person = adult()
    item = copy_at(net.main)

    no_title = call(client, "POST", HOLDS, person, {"edition": 10**9, "pickup_location": 1})
    no_place = call(
        client, "POST", HOLDS, person, {"edition": item.edition_id, "pickup_location": "nergens"}
    )
    bad_scope = call(
        client,
        "POST",
        HOLDS,
        person,
        {"edition": item.edition_id, "pickup_location": net.main.pk, "scope": "world"},
    )
    missing = call(client, "POST", HOLDS, person, {"pickup_location": net.main.pk})
    bad_date = call(
        client,
        "POST",
        HOLDS,
        person,
        {"edition": item.edition_id, "pickup_location": net.main.pk, "not_before": "morgen"},
    )

    assert error_of(no_title, 404) == "unknown_edition"
    assert error_of(no_place, 404) == "unknown_location"
    assert no_place.json()["error"]["details"] == {"field": "pickup_location"}
    assert error_of(bad_scope, 422) == "invalid_input"
    assert bad_scope.json()["error"]["details"]["fields"][0]["field"] == "scope"
    assert error_of(missing, 422) == "invalid_input"
    assert missing.json()["error"]["details"]["fields"][0]["field"] == "edition"
    assert error_of(bad_date, 422) == "invalid_input"
    assert not Hold.objects.exists()


def test_i_cancel_my_own_hold_but_not_someone_elses(client, net):
    owner, other = adult(), adult()
    hold = services.hold_place(
        patron=owner, edition=copy_at(net.main).edition, pickup_location=net.main
    )

    theirs = call(client, "DELETE", f"{HOLDS}/{hold.pk}", other)
    assert error_of(theirs, 404) == "hold_not_found"
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.WAITING

    mine = call(client, "DELETE", f"{HOLDS}/{hold.pk}", owner)
    assert mine.status_code == 204
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.CANCELLED
    assert AuditEvent.objects.get(action="circulation.hold_cancelled").actor_id is None

    again = call(client, "DELETE", f"{HOLDS}/{hold.pk}", owner)
    assert error_of(again, 409) == "hold_closed"
    assert error_of(call(client, "DELETE", f"{HOLDS}/abc", owner), 422) == "invalid_input"
    assert error_of(call(client, "DELETE", f"{HOLDS}/{10**30}", owner), 404) == "hold_not_found"


def test_my_holds_need_a_signed_in_person(client, net):
    assert error_of(call(client, "GET", HOLDS), 401) == "not_authenticated"
    assert error_of(call(client, "POST", HOLDS, body={}), 401) == "not_authenticated"
    assert error_of(call(client, "DELETE", f"{HOLDS}/1"), 401) == "not_authenticated"
    assert error_of(call(client, "POST", f"{LOANS}/1/renew"), 401) == "not_authenticated"


def test_the_operations_are_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    expected = {
        ("/api/v1/circulation/checkouts", "post"): "circulation_checkout",
        ("/api/v1/circulation/checkins", "post"): "circulation_checkin",
        ("/api/v1/me/loans", "get"): "me_loans_list",
        ("/api/v1/me/loans/{loan_id}/renew", "post"): "me_loan_renew",
        ("/api/v1/me/holds", "get"): "me_holds_list",
        ("/api/v1/me/holds", "post"): "me_hold_place",
        ("/api/v1/me/holds/{hold_id}", "delete"): "me_hold_cancel",
        ("/api/v1/me/digital-loans", "post"): "me_digital_loan_create",
    }
    for (path, method), operation_id in expected.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["security"], path
        assert "401" in operation["responses"], path


def test_the_website_session_works_and_changes_need_the_csrf_token(net):
    person = adult()
    item = copy_at(net.main)
    services.checkout(patron=person, barcode=item.barcode, location=net.main)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)

    listed = browser.get(LOANS)
    no_token = browser.post(
        HOLDS,
        data=json.dumps({"edition": copy_at(net.main).edition_id, "pickup_location": net.main.pk}),
        content_type="application/json",
    )

    assert [loan["barcode"] for loan in listed.json()] == [item.barcode]
    assert error_of(no_token, 403) == "csrf_failed"
    assert not Hold.objects.exists()
