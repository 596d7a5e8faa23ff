"""The screens of the library of things through the test client: the public catalogue and a
thing's calendar, a resident's booking and its refusals, "my things", and the desk's settings,
lending, taking back and repair, each scoped to the staff's own library."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from bieb.accounts.tests.factories import LocationFactory
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.catalog.tests.factories import EditionFactory, ItemFactory
from bieb.circulation.models import Loan
from bieb.community import things
from bieb.community.models import ThingBooking, ThingBookingStatus, ThingSettings
from bieb.community.tests.factories import library, resident, staff
from bieb.community.tests.test_things import subscriber, thing
from bieb.core import clock
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

#: a Monday
NOON = dt.datetime(2025, 3, 10, 12, 0, tzinfo=clock.AMSTERDAM)
TODAY = NOON.date()


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _noon():
    with clock.frozen(NOON):
        yield


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


def page(response) -> str:
    return response.content.decode()


def book(person, item, first: int, last: int) -> ThingBooking:
    return things.thing_book(person=person, item=item, first_day=day(first), last_day=day(last))


# --- the catalogue -----------------------------------------------------------------------------


def test_the_catalogue_groups_things_by_library_and_location_for_everyone(client):
    utrecht = LocationFactory(organisation=library(), name="Neude")
    drill = thing(utrecht, title="Klopboormachine", deposit_cents=2_500, max_days=5)
    thing(utrecht, title="Naaimachine")
    thing(LocationFactory(organisation=library("GM0363"), name="OBA Oosterdok"), title="Beamer")
    thing(utrecht, title="Afgevoerde tent", status=ItemStatus.WITHDRAWN)
    ItemFactory(edition=EditionFactory(title="Een boek", format=Format.BOOK))
    book(subscriber(), drill, 0, 1)

    response = client.get(reverse("community:things"))

    assert response.status_code == 200
    html = page(response)
    assert "3 dingen" in html
    assert "Afgevoerde tent" not in html and "Een boek" not in html
    listing = html[html.index('class="community-status"') :]
    assert listing.index(library().name) < listing.index("Neude") < listing.index("Klopboormachine")
    assert "OBA Oosterdok" in html and "Beamer" in html
    assert "Vandaag bezet" in html  # the booked drill
    assert "borg € 25,00" in html and "tot 5 dagen" in html
    assert reverse("community:thing", args=[drill.pk]) in html


def test_the_catalogue_filters_by_location_municipality_and_a_free_day(client):
    neude = LocationFactory(organisation=library(), name="Neude")
    drill = thing(neude, title="Klopboormachine", buffer_days=2)
    thing(neude, title="Naaimachine", status=ItemStatus.REPAIR)
    thing(LocationFactory(organisation=library("GM0363")), title="Beamer")
    book(subscriber(), drill, 3, 4)  # blocked from day 3 through day 6

    by_location = page(client.get(reverse("community:things"), {"locatie": neude.pk}))
    by_municipality = page(
        client.get(reverse("community:things"), {"gemeente": neude.municipality.cbs_code})
    )
    free_day_6 = page(client.get(reverse("community:things"), {"vrij_op": day(6).isoformat()}))
    free_day_7 = page(client.get(reverse("community:things"), {"vrij_op": day(7).isoformat()}))

    assert "Klopboormachine" in by_location and "Beamer" not in by_location
    assert "Naaimachine" in by_municipality and "Beamer" not in by_municipality
    # a buffer day is not free, and a thing in repair is never free
    assert "Klopboormachine" not in free_day_6 and "Naaimachine" not in free_day_6
    assert "Beamer" in free_day_6
    assert "Klopboormachine" in free_day_7


def test_the_catalogue_finds_a_thing_by_a_word_of_its_name(client):
    neude = LocationFactory(organisation=library(), name="Neude")
    thing(neude, title="Klopboormachine")
    thing(neude, title="Naaimachine")

    found = page(client.get(reverse("community:things"), {"zoek": "naai"}))
    none = page(client.get(reverse("community:things"), {"zoek": "kano"}))

    assert "Naaimachine" in found and "Klopboormachine" not in found
    assert "1 ding" in found and "Alle dingen tonen" in found
    assert "Geen dingen gevonden. Probeer een ander woord" in none


def test_a_free_day_in_the_past_is_explained_and_filters_nothing(client):
    thing(title="Klopboormachine")

    response = client.get(reverse("community:things"), {"vrij_op": day(-1).isoformat()})

    html = page(response)
    assert "Kies een dag vanaf vandaag." in html
    assert 'aria-invalid="true"' in html
    assert "Klopboormachine" in html


def test_the_catalogue_costs_the_same_queries_for_two_things_as_for_twelve(client):
    location = LocationFactory(organisation=library())
    for n in range(2):
        thing(location, title=f"Ding {n}")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("community:things"))
    for n in range(10):
        thing(LocationFactory(organisation=library("GM0363")), title=f"Ander ding {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("community:things"))

    assert "12 dingen" in page(response)
    assert len(many) == len(few)


# --- one thing ---------------------------------------------------------------------------------


def test_a_thing_shows_how_it_is_lent_and_a_calendar_in_words(client):
    drill = thing(title="Klopboormachine", buffer_days=2, deposit_cents=2_500, max_days=5)
    drill.edition.description = "Met <b>koffer</b> en boortjes."
    drill.edition.save()
    book(subscriber(), drill, 2, 3)

    response = client.get(reverse("community:thing", args=[drill.pk]))

    html = page(response)
    assert response.status_code == 200
    assert "Met &lt;b&gt;koffer&lt;/b&gt; en boortjes." in html
    assert "€ 25,00, te betalen aan de balie" in html
    assert "ten hoogste 5 dagen achter elkaar" in html
    assert "2 dagen om na te kijken" in html
    assert "Boortjes zitten in de koffer." in html  # the instructions
    assert "Beschikbaarheid in maart 2025" in html
    assert "maart: gereserveerd" in html and "maart: wordt nagekeken" in html
    assert "maart: vrij" in html and "maart: voorbij" in html
    assert "(vandaag)" in html
    # a visitor is asked to log in and gets no form (or day links)
    assert "Log in om te reserveren" in html
    assert 'name="first_day"' not in html and "kies als eerste dag" not in html


def test_the_calendar_moves_by_month_within_what_can_be_booked(client):
    drill = thing()
    url = reverse("community:thing", args=[drill.pk])

    this_month = page(client.get(url))
    april = page(client.get(url, {"maand": "2025-04"}))
    too_early = page(client.get(url, {"maand": "2024-01"}))
    too_late = page(client.get(url, {"maand": "2030-01"}))
    nonsense = client.get(url, {"maand": "april"})

    assert "?maand=2025-04#kalender" in this_month and "?maand=2025-02" not in this_month
    assert "Beschikbaarheid in april 2025" in april and "?maand=2025-03#kalender" in april
    assert "Beschikbaarheid in maart 2025" in too_early
    # 180 days from 10 March 2025 is 6 September 2025
    assert "Beschikbaarheid in september 2025" in too_late and "?maand=2025-10" not in too_late
    assert nonsense.status_code == 200


def test_a_picked_day_fills_in_the_booking_form(client):
    drill = thing()
    client.force_login(subscriber())
    url = reverse("community:thing", args=[drill.pk])

    html = page(client.get(url))
    picked = page(client.get(url, {"maand": "2025-03", "van": day(4).isoformat()}))

    assert f"van={day(4).isoformat()}#reserveren" in html
    assert "kies als eerste dag" in html
    assert f'value="{day(4).isoformat()}"' in picked


def test_only_things_are_shown_and_withdrawn_ones_are_gone(client):
    book_copy = ItemFactory(edition=EditionFactory(format=Format.BOOK))
    tent = thing(status=ItemStatus.WITHDRAWN)

    assert client.get(reverse("community:thing", args=[book_copy.pk])).status_code == 404
    assert client.get(reverse("community:thing", args=[tent.pk])).status_code == 404
    assert client.get(reverse("community:thing", args=[999_999])).status_code == 404


# --- booking -----------------------------------------------------------------------------------


def test_a_subscriber_books_a_thing_and_finds_it_under_my_things(client, sent):
    drill = thing(title="Klopboormachine", deposit_cents=2_500)
    person = subscriber()
    client.force_login(person)

    with sent():
        response = client.post(
            reverse("community:thing", args=[drill.pk]),
            {"first_day": day(1).isoformat(), "last_day": day(3).isoformat()},
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("community:things_mine")
    booking = ThingBooking.objects.get()
    assert (booking.person, booking.first_day, booking.last_day) == (person, day(1), day(3))
    [email] = mail.outbox
    assert email.to == [person.email]
    mine = client.get(reverse("community:things_mine"))
    html = page(mine)
    assert (
        "Gereserveerd: Klopboormachine, dinsdag 11 maart tot en met donderdag 13 maart 2025" in html
    )
    assert "Borg: € 25,00, aan de balie" in html
    assert reverse("community:thing_cancel", args=[booking.pk]) in html
    # the thing's page tells the resident they have it booked
    assert "Je hebt dit ding gereserveerd" in page(
        client.get(reverse("community:thing", args=[drill.pk]))
    )


def test_a_visitor_who_books_is_asked_to_log_in(client):
    drill = thing()

    response = client.post(
        reverse("community:thing", args=[drill.pk]),
        {"first_day": day(1).isoformat(), "last_day": day(1).isoformat()},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not ThingBooking.objects.exists()


def _post_booking(client, item, first: int, last: int):
    return client.post(
        reverse("community:thing", args=[item.pk]),
        {"first_day": day(first).isoformat(), "last_day": day(last).isoformat()},
    )


def test_days_already_taken_are_refused_with_the_reason(client):
    drill = thing(buffer_days=2)
    book(subscriber(), drill, 1, 2)  # blocked through day 4
    client.force_login(subscriber())

    response = _post_booking(client, drill, 4, 5)

    assert response.status_code == 409
    assert "Dit ding is op (een deel van) die dagen al gereserveerd" in page(response)
    assert 'role="alert"' in page(response)
    assert ThingBooking.objects.count() == 1


def test_the_plans_number_of_things_is_refused_with_the_reason(client):
    person = subscriber(things_at_once=1)
    book(person, thing(), 1, 1)
    client.force_login(person)

    response = _post_booking(client, thing(), 5, 5)

    assert response.status_code == 409
    assert "het maximum van je abonnement" in page(response)


@pytest.mark.parametrize(
    ("make_person", "status", "text"),
    [
        (resident, 403, "Spullen uit de bieb van dingen lenen kan met een abonnement"),
        (
            lambda: subscriber(things_at_once=0),
            403,
            "zit niet in je abonnement",
        ),
    ],
    ids=["no_subscription", "plan_excludes_things"],
)
def test_a_resident_without_things_in_their_plan_is_sent_to_my_subscription(
    client, make_person, status, text
):
    client.force_login(make_person())

    response = _post_booking(client, thing(), 1, 1)

    assert response.status_code == status
    html = page(response)
    assert text in html
    assert reverse("subscriptions:mine") in html
    assert not ThingBooking.objects.exists()


def test_a_resident_whose_plan_has_no_things_is_told_before_filling_in_days(client):
    drill = thing()
    client.force_login(subscriber(things_at_once=0))

    html = page(client.get(reverse("community:thing", args=[drill.pk])))

    booking = html.split('id="reserveren"')[1].split("</section>")[0]
    assert "zit niet in je abonnement" in booking
    assert reverse("subscriptions:mine") in booking
    assert 'name="first_day"' not in booking  # no form that can only be refused


def test_a_refused_booking_answers_at_the_form_in_the_month_asked_for(client):
    drill = thing(buffer_days=2)
    book(subscriber(), drill, 40, 41)
    client.force_login(subscriber())
    month = day(40).strftime("%Y-%m")

    html = page(client.get(reverse("community:thing", args=[drill.pk]), {"maand": month}))
    refused = page(_post_booking(client, drill, 40, 41))

    # the browser comes back at the form (with its refusal), not at the top of the page
    assert (
        f'action="{reverse("community:thing", args=[drill.pk])}?maand={month}#reserveren"' in html
    )
    caption = refused.split('id="kalender"')[1].split("</caption>")[0]
    assert f"Beschikbaarheid in {date_format(day(40), 'F Y')}" in caption
    assert 'value="' + day(40).isoformat() + '"' in refused


def test_a_thing_out_of_service_cannot_be_booked(client):
    broken = thing(status=ItemStatus.REPAIR)
    client.force_login(subscriber())

    shown = page(client.get(reverse("community:thing", args=[broken.pk])))
    response = _post_booking(client, broken, 1, 1)

    assert "Dit ding is nu niet te leen (in reparatie)" in shown
    assert "maart: niet te leen" in shown
    assert response.status_code == 409
    assert not ThingBooking.objects.exists()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        (
            {"first_day": "2025-03-14", "last_day": "2025-03-12"},
            "De laatste dag ligt voor de eerste",
        ),
        ({"first_day": "2025-03-01", "last_day": "2025-03-02"}, "Kies een dag vanaf vandaag."),
        ({"first_day": "gisteren", "last_day": ""}, "Vul een datum in"),
        ({"first_day": "2025-03-11", "last_day": "2025-03-25"}, "ten hoogste 7 dagen"),
    ],
    ids=["reversed", "past", "not_a_date", "too_long"],
)
def test_wrong_days_are_shown_at_their_field(client, data, field_error):
    client.force_login(subscriber())

    response = client.post(reverse("community:thing", args=[thing().pk]), data)

    assert response.status_code == 400
    html = page(response)
    assert field_error in html
    assert 'aria-invalid="true"' in html
    assert not ThingBooking.objects.exists()


def test_a_suspended_resident_is_told_why(client):
    from bieb.community.tests.factories import suspend

    person = subscriber()
    suspend(person, reason="Spam op het prikbord.")
    client.force_login(person)

    response = _post_booking(client, thing(), 1, 1)

    assert response.status_code == 403
    assert "Reden: Spam op het prikbord." in page(response)


# --- mine and cancelling -----------------------------------------------------------------------


def test_a_resident_cancels_their_own_booking(client):
    person = subscriber()
    booking = book(person, thing(title="Naaimachine"), 2, 3)
    client.force_login(person)
    url = reverse("community:thing_cancel", args=[booking.pk])

    assert client.get(url).status_code == 405
    response = client.post(url)

    assert response["Location"] == reverse("community:things_mine")
    assert ThingBooking.objects.get().status == ThingBookingStatus.CANCELLED
    html = page(client.get(reverse("community:things_mine")))
    assert "Je hebt nu niets gereserveerd." in html
    assert "geannuleerd" in html  # under "Eerder"
    # twice: the refusal is shown, nothing breaks
    again = client.post(url, follow=True)
    assert "al uitgeleend, teruggebracht of geannuleerd" in page(again)


def test_another_residents_booking_cannot_be_cancelled_or_seen(client):
    booking = book(subscriber(), thing(), 2, 3)
    client.force_login(resident())

    assert client.post(reverse("community:thing_cancel", args=[booking.pk])).status_code == 404
    assert client.post(reverse("community:thing_cancel", args=[999_999])).status_code == 404
    assert ThingBooking.objects.get().status == ThingBookingStatus.BOOKED


def test_my_things_and_cancelling_need_a_log_in(client):
    booking = book(subscriber(), thing(), 2, 3)

    mine = client.get(reverse("community:things_mine"))
    cancel = client.post(reverse("community:thing_cancel", args=[booking.pk]))

    assert mine.status_code == 302 and mine["Location"].startswith(reverse("accounts:login"))
    assert cancel.status_code == 302 and cancel["Location"].startswith(reverse("accounts:login"))
    assert ThingBooking.objects.get().status == ThingBookingStatus.BOOKED


# --- staff -------------------------------------------------------------------------------------


def test_the_desk_sees_todays_pick_ups_and_returns_of_its_own_library(client):
    drill = thing(title="Klopboormachine", deposit_cents=2_500)
    sewing = thing(drill.home_location, title="Naaimachine")
    desk = staff("desk", drill.organisation)
    picker = subscriber(first_name="Piet", last_name="Pieters")
    booking = book(picker, drill, 0, 2)
    returner = subscriber()
    lent = book(returner, sewing, 0, 0)
    things.thing_lend(booking=lent, actor=desk, location=sewing.home_location)
    book(subscriber(), thing(drill.home_location, title="Beamer"), 5, 6)  # not today
    thing(LocationFactory(organisation=library("GM0363")), title="Statafel")  # elsewhere
    client.force_login(desk)

    response = client.get(reverse("community:staff_things"))

    html = page(response)
    assert response.status_code == 200
    pickups = html[html.index("pickups-heading") : html.index("returns-heading")]
    returns = html[html.index("returns-heading") : html.index("things-heading")]
    assert "Uitlenen: Klopboormachine" in pickups and "Beamer" not in pickups
    assert f"Piet Pieters (pas …{picker.card_number[-4:]})" in pickups
    assert "borg € 25,00" in pickups
    assert "Innemen: Naaimachine" in returns
    assert f"#booking-{booking.pk}" in pickups
    assert "Statafel" not in html


@pytest.mark.parametrize(
    ("role", "status"),
    [("programmer", 403), ("collection", 200), ("manager", 200), ("desk", 200)],
)
def test_the_things_desk_is_for_desk_collection_and_managers(client, role, status):
    client.force_login(staff(role, library()))
    assert client.get(reverse("community:staff_things")).status_code == status


def test_residents_and_visitors_do_not_reach_the_things_desk(client):
    drill = thing()
    assert client.get(reverse("community:staff_things")).status_code == 302
    client.force_login(subscriber())
    assert client.get(reverse("community:staff_things")).status_code == 403
    assert client.get(reverse("community:staff_thing", args=[drill.pk])).status_code == 403


def test_staff_of_another_library_get_not_found_for_its_things(client):
    drill = thing()
    booking = book(subscriber(), drill, 0, 1)
    client.force_login(staff("desk", library("GM0363")))

    assert client.get(reverse("community:staff_thing", args=[drill.pk])).status_code == 404
    lend = client.post(
        reverse("community:thing_lend", args=[booking.pk]),
        {f"lend-{booking.pk}-location": drill.home_location_id},
    )
    assert lend.status_code == 404
    assert client.post(reverse("community:thing_repair", args=[drill.pk])).status_code == 404
    assert client.post(reverse("community:thing_cancel", args=[booking.pk])).status_code == 404
    assert ThingBooking.objects.get().status == ThingBookingStatus.BOOKED
    assert Item.objects.get(pk=drill.pk).status == ItemStatus.AVAILABLE


def test_staff_set_how_a_thing_is_lent(client):
    drill = thing()
    client.force_login(staff("manager", drill.organisation))
    url = reverse("community:staff_thing", args=[drill.pk])

    wrong = client.post(
        url, {"buffer_days": "20", "deposit": "tien euro", "max_days": "7", "instructions": ""}
    )
    right = client.post(
        url,
        {
            "buffer_days": "3",
            "deposit": "12,50",
            "max_days": "14",
            "instructions": "<script>x</script>Met koffer",
        },
    )

    assert wrong.status_code == 400
    assert "Vul een bedrag in euro" in page(wrong)
    assert right.status_code == 302
    settings = ThingSettings.objects.get(item=drill)
    assert (settings.buffer_days, settings.deposit_cents, settings.max_days) == (3, 1_250, 14)
    assert settings.instructions == "Met koffer"
    assert 'value="12,50"' in page(client.get(url))
    assert AuditEvent.objects.filter(action="community.thing_settings").exists()


def test_a_deposit_beyond_the_services_bound_is_refused_at_its_field(client):
    drill = thing()
    client.force_login(staff("desk", drill.organisation))

    response = client.post(
        reverse("community:staff_thing", args=[drill.pk]),
        {"buffer_days": "1", "deposit": "2000", "max_days": "7", "instructions": ""},
    )

    assert response.status_code == 400
    html = page(response)
    assert "De borg is 0 tot 1000 euro." in html
    assert 'id="deposit-error"' in html and 'aria-invalid="true"' in html
    assert ThingSettings.objects.get(item=drill).deposit_cents == 0


def test_the_desk_lends_with_the_deposit_and_takes_it_back(client):
    drill = thing(title="Klopboormachine", deposit_cents=2_500)
    person = subscriber()
    booking = book(person, drill, 0, 2)
    client.force_login(staff("desk", drill.organisation))
    lend_url = reverse("community:thing_lend", args=[booking.pk])
    prefix = f"lend-{booking.pk}"

    shown = page(client.get(reverse("community:staff_thing", args=[drill.pk])))
    assert f'name="{prefix}-deposit_received"' in shown
    assert client.get(lend_url).status_code == 405
    no_deposit = client.post(lend_url, {f"{prefix}-location": drill.home_location_id})
    assert no_deposit.status_code == 409
    assert "Vraag eerst de borg van € 25,00" in page(no_deposit)
    assert not Loan.objects.exists()

    lent = client.post(
        lend_url,
        {
            f"{prefix}-location": drill.home_location_id,
            f"{prefix}-deposit_received": "on",
            f"{prefix}-condition_out": "Compleet",
        },
    )

    assert lent.status_code == 302
    stored = ThingBooking.objects.get()
    assert (stored.status, stored.condition_out) == (ThingBookingStatus.LENT, "Compleet")
    assert Loan.objects.get().patron == person
    return_prefix = f"return-{booking.pk}"
    assert f'name="{return_prefix}-needs_repair"' in page(
        client.get(reverse("community:staff_thing", args=[drill.pk]))
    )

    with clock.frozen(NOON + dt.timedelta(days=2)):
        back = client.post(
            reverse("community:thing_return", args=[booking.pk]),
            {
                f"{return_prefix}-location": drill.home_location_id,
                f"{return_prefix}-condition_back": "Schoon",
            },
            follow=True,
        )

    # the desk is told the amount to give back (it was received at the lending)
    assert "Teruggebracht. Geef de borg van € 25,00 terug." in page(back)
    stored.refresh_from_db()
    assert (stored.status, stored.condition_back) == (ThingBookingStatus.RETURNED, "Schoon")
    assert Loan.objects.get().returned_at is not None
    assert "Terug: Schoon" in page(back)


def test_a_booking_that_has_not_started_is_not_lent(client):
    drill = thing()
    booking = book(subscriber(), drill, 3, 4)
    client.force_login(staff("desk", drill.organisation))

    shown = page(client.get(reverse("community:staff_thing", args=[drill.pk])))
    response = client.post(
        reverse("community:thing_lend", args=[booking.pk]),
        {f"lend-{booking.pk}-location": drill.home_location_id},
    )

    assert "Uitlenen kan vanaf donderdag 13 maart." in shown
    assert response.status_code == 409
    assert "Lenen kan vanaf die dag" in page(response)


def test_a_broken_return_goes_to_repair_and_later_bookings_are_cancelled(client, sent):
    drill = thing()
    desk = staff("desk", drill.organisation)
    booking = book(subscriber(), drill, 0, 1)
    later = subscriber()
    book(later, drill, 5, 5)
    things.thing_lend(booking=booking, actor=desk, location=drill.home_location)
    client.force_login(desk)
    prefix = f"return-{booking.pk}"

    with sent():
        response = client.post(
            reverse("community:thing_return", args=[booking.pk]),
            {
                f"{prefix}-location": drill.home_location_id,
                f"{prefix}-condition_back": "Motor kapot",
                f"{prefix}-needs_repair": "on",
            },
            follow=True,
        )

    assert "naar reparatie" in page(response)
    assert "In reparatie: niemand kan dit ding nu reserveren." in page(response)
    assert Item.objects.get(pk=drill.pk).status == ItemStatus.REPAIR
    assert [m.to for m in mail.outbox] == [[later.email]]

    repaired = client.post(reverse("community:thing_repaired", args=[drill.pk]), follow=True)

    assert "weer te leen" in page(repaired)
    assert Item.objects.get(pk=drill.pk).status == ItemStatus.AVAILABLE


def test_a_thing_found_broken_on_the_shelf_goes_to_repair(client):
    drill = thing()
    book(subscriber(), drill, 4, 4)
    client.force_login(staff("desk", drill.organisation))

    response = client.post(
        reverse("community:thing_repair", args=[drill.pk]),
        {"repair-note": "Snoer beschadigd"},
        follow=True,
    )
    twice = client.post(reverse("community:thing_repaired", args=[drill.pk]), follow=True)
    again = client.post(reverse("community:thing_repaired", args=[drill.pk]), follow=True)

    assert "In reparatie. 1 reservering is geannuleerd" in page(response)
    assert "weer te leen" in page(twice)
    assert "Dit ding is niet in reparatie." in page(again)
    assert AuditEvent.objects.get(action="community.thing_repair").data["note"] == (
        "Snoer beschadigd"
    )


def test_staff_cancel_a_booking_and_the_resident_is_told_why(client, sent):
    drill = thing()
    person = subscriber()
    booking = book(person, drill, 3, 4)
    client.force_login(staff("manager", drill.organisation))

    with sent():
        response = client.post(
            reverse("community:thing_cancel", args=[booking.pk]),
            {f"cancel-{booking.pk}-reason": "De locatie is die dagen dicht."},
        )

    assert response["Location"] == reverse("community:staff_thing", args=[drill.pk])
    assert ThingBooking.objects.get().status == ThingBookingStatus.CANCELLED
    [email] = mail.outbox
    assert email.to == [person.email]
    assert "De locatie is die dagen dicht." in email.body
