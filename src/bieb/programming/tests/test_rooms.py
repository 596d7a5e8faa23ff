"""Rooms and stages: residents see when a room is taken (not by whom), ask for it, and read the
answer; staff add rooms and partners and approve or reject; two approvals that overlap cannot
both stand, not even when ten are approved at the same moment (raced)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bieb.accounts.models import PartnerMembership, StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.circulation.tests.test_races import at_once
from bieb.core import clock
from bieb.programming import services
from bieb.programming.models import BookingStatus, Partner, Room, RoomBooking
from bieb.programming.tests import factories as f

Role = StaffRole.Role
db = pytest.mark.django_db


@pytest.fixture
def place():
    org = f.organisation(name="Bibliotheek Aa")
    loc = f.location(organisation=org, name="Vestiging Centrum", city="Amersfoort")
    return {
        "org": org,
        "loc": loc,
        "stage": f.room(
            location=loc, name="Podium", capacity=80, is_stage=True, facilities="geluid"
        ),
        "staff_only": f.room(location=loc, name="Vergaderkamer", bookable_by_public=False),
        "programmer": staff_member(Role.PROGRAMMER, org),
    }


def request_data(day: dt.date, start: str = "14:00", end: str = "16:00", **kw) -> dict:
    data = {
        "title": "Buurtavond over de speeltuin",
        "description": "Met koffie.",
        "date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "expected_people": "30",
    }
    data.update(kw)
    return data


# --- the public list -------------------------------------------------------------------------


@db
def test_public_list_shows_bookable_rooms_and_when_they_are_taken_not_by_whom(client, place):
    f.booking(room=place["stage"], title="Geheime verjaardag", starts_at=f.tomorrow_at(14))
    f.booking(
        room=place["stage"],
        title="Over drie weken",
        starts_at=f.tomorrow_at(14) + dt.timedelta(days=21),
    )
    page = client.get(reverse("programming:rooms")).content.decode()
    assert "Podium" in page and "Plaats voor 80 mensen" in page and "geluid" in page
    assert "Vergaderkamer" not in page
    assert "Geheime verjaardag" not in page and "Over drie weken" not in page
    assert f"{f.tomorrow_at(14):%H:%M}\u201316:00 bezet" in page  # an en dash
    assert page.count(" bezet</li>") == 1
    assert (
        "Podium" not in client.get(reverse("programming:rooms") + "?plaats=Zwolle").content.decode()
    )


# --- asking ------------------------------------------------------------------------------------


@db
def test_asking_needs_a_log_in_and_staff_only_rooms_do_not_exist_for_residents(client, place):
    url = reverse("programming:room_request", args=[place["stage"].pk])
    response = client.get(url)
    assert response.status_code == 302 and "/inloggen" in response["Location"]
    client.force_login(f.UserFactory())
    assert client.get(url).status_code == 200
    staff_only = reverse("programming:room_request", args=[place["staff_only"].pk])
    assert client.get(staff_only).status_code == 404
    client.force_login(place["programmer"])
    assert client.get(staff_only).status_code == 200


@db
def test_request_then_staff_approve_with_a_note_and_the_resident_reads_it(client, place):
    resident = f.UserFactory(first_name="Ria")
    day = clock.today() + dt.timedelta(days=3)
    client.force_login(resident)
    response = client.post(
        reverse("programming:room_request", args=[place["stage"].pk]),
        request_data(day, is_public="on"),
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "programming:my_bookings"
    )
    booking = RoomBooking.objects.get()
    assert booking.status == BookingStatus.REQUESTED and booking.is_public
    assert booking.requested_by == resident and booking.expected_people == 30
    assert booking.starts_at == dt.datetime(
        day.year, day.month, day.day, 14, tzinfo=clock.AMSTERDAM
    )
    assert "aangevraagd" in client.get(reverse("programming:my_bookings")).content.decode()

    client.force_login(place["programmer"])
    page = client.get(reverse("programming:staff_rooms")).content.decode()
    assert "Buurtavond over de speeltuin" in page and "Gevraagd door Ria" in page
    assert f'href="mailto:{resident.email}"' in page  # to ask the requester something first
    response = client.post(
        reverse("programming:staff_booking_decide", args=[booking.pk]),
        {"decision": "approve", "note": "De sleutel ligt bij de balie."},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED and booking.decided_by == place["programmer"]

    client.force_login(resident)
    page = client.get(reverse("programming:my_bookings")).content.decode()
    assert "goedgekeurd" in page and "De sleutel ligt bij de balie." in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "13:00"}, "Het einde moet na het begin liggen"),
        ({"expected_people": "500"}, "Deze zaal heeft plaats voor 80 mensen"),
        ({"title": ""}, "verplicht"),
        ({"start_time": "25:00"}, "Vul een tijd in"),
    ],
)
@db
def test_bad_requests_say_why_and_save_nothing(client, place, changes, message):
    client.force_login(f.UserFactory())
    day = clock.today() + dt.timedelta(days=3)
    response = client.post(
        reverse("programming:room_request", args=[place["stage"].pk]),
        request_data(day, **changes),
    )
    assert response.status_code in (400, 409)
    assert message in response.content.decode()
    assert not RoomBooking.objects.exists()


@db
def test_a_request_for_the_past_or_a_taken_time_is_refused(client, place):
    f.booking(room=place["stage"], starts_at=f.tomorrow_at(14))
    client.force_login(f.UserFactory())
    url = reverse("programming:room_request", args=[place["stage"].pk])
    response = client.post(url, request_data(clock.today() - dt.timedelta(days=1)))
    assert "niet voor het verleden" in response.content.decode()
    response = client.post(url, request_data(f.tomorrow_at(14).date(), "15:00", "17:00"))
    assert response.status_code == 409 and "al bezet" in response.content.decode()
    assert RoomBooking.objects.count() == 1


@db
def test_a_partner_account_asks_on_behalf_of_its_partner(client, place):
    school = f.partner(organisation=place["org"], name="Basisschool De Linde")
    f.partner(organisation=place["org"], name="Iemand anders")
    teacher = f.UserFactory()
    PartnerMembership.objects.create(
        user=teacher, organisation=place["org"], kind="school", partner_name="basisschool de linde"
    )
    client.force_login(teacher)
    url = reverse("programming:room_request", args=[place["stage"].pk])
    page = client.get(url).content.decode()
    assert "Basisschool De Linde" in page and "Iemand anders" not in page
    client.post(url, request_data(clock.today() + dt.timedelta(days=2), partner=str(school.pk)))
    assert RoomBooking.objects.get().partner == school


@db
def test_cancel_own_request_but_not_someone_elses(client, place):
    mine = services.room_booking_request(
        room=place["stage"],
        person=(resident := f.UserFactory()),
        title="Schaakclub",
        starts_at=f.tomorrow_at(10),
        ends_at=f.tomorrow_at(12),
    )
    theirs = services.room_booking_request(
        room=place["stage"],
        person=f.UserFactory(),
        title="Breiclub",
        starts_at=f.tomorrow_at(13),
        ends_at=f.tomorrow_at(14),
    )
    client.force_login(resident)
    page = client.get(reverse("programming:my_bookings")).content.decode()
    assert "Schaakclub" in page and "Breiclub" not in page
    response = client.post(reverse("programming:my_booking_cancel", args=[theirs.pk]))
    assert response.status_code == 404
    client.post(reverse("programming:my_booking_cancel", args=[mine.pk]))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED and theirs.status == BookingStatus.REQUESTED


# --- staff -------------------------------------------------------------------------------------


@db
def test_two_overlapping_approvals_the_second_is_refused_with_room_taken(client, place):
    day = clock.today() + dt.timedelta(days=4)
    first, second = (
        services.room_booking_request(
            room=place["stage"],
            person=f.UserFactory(),
            title=title,
            starts_at=f.at_local(day, start),
            ends_at=f.at_local(day, start + 2),
        )
        for title, start in (("Koor", 14), ("Toneel", 15))
    )
    client.force_login(place["programmer"])
    client.post(
        reverse("programming:staff_booking_decide", args=[first.pk]), {"decision": "approve"}
    )
    page = client.get(reverse("programming:staff_rooms")).content.decode()
    assert "Zaal bezet:" in page and "al goedgekeurd: Koor" in page
    response = client.post(
        reverse("programming:staff_booking_decide", args=[second.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    page = client.get(reverse("programming:staff_rooms")).content.decode()
    assert "Toneel: De zaal is op" in page and "al bezet" in page
    second.refresh_from_db()
    assert second.status == BookingStatus.REQUESTED
    # rejecting it still works, with a note
    client.post(
        reverse("programming:staff_booking_decide", args=[second.pk]),
        {"decision": "reject", "note": "Dan is het koor er al."},
    )
    second.refresh_from_db()
    assert (second.status, second.decision_note) == (
        BookingStatus.REJECTED,
        "Dan is het koor er al.",
    )


@db
def test_staff_see_and_decide_only_their_own_organisations_requests(client, place):
    booking = services.room_booking_request(
        room=place["stage"],
        person=f.UserFactory(),
        title="Lezing",
        starts_at=f.tomorrow_at(10),
        ends_at=f.tomorrow_at(11),
    )
    other = staff_member(Role.PROGRAMMER, f.organisation())
    client.force_login(other)
    assert "Lezing" not in client.get(reverse("programming:staff_rooms")).content.decode()
    response = client.post(
        reverse("programming:staff_booking_decide", args=[booking.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    client.force_login(staff_member(Role.DESK, place["org"]))
    assert client.get(reverse("programming:staff_rooms")).status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED


@db
def test_week_view_lists_approved_bookings_per_room(client, place):
    f.booking(room=place["stage"], title="Jazz op het podium", starts_at=f.tomorrow_at(20))
    f.booking(
        room=place["stage"],
        title="Geweigerd",
        starts_at=f.tomorrow_at(10),
        status=BookingStatus.REJECTED,
    )
    client.force_login(place["programmer"])
    week = f.tomorrow_at(20).date().isoformat()
    page = client.get(reverse("programming:staff_rooms") + f"?week={week}").content.decode()
    assert "Jazz op het podium" in page and "Geweigerd" not in page
    next_week = (f.tomorrow_at(20).date() + dt.timedelta(days=7)).isoformat()
    page = client.get(reverse("programming:staff_rooms") + f"?week={next_week}").content.decode()
    assert "Jazz op het podium" not in page


@db
def test_staff_add_a_room_and_a_duplicate_name_is_refused(client, place):
    client.force_login(place["programmer"])
    url = reverse("programming:staff_rooms")
    data = {
        "location": place["loc"].pk,
        "name": "Leeszaal",
        "capacity": "40",
        "facilities": "beamer",
        "bookable_by_public": "on",
    }
    assert client.post(url, data).status_code == 302
    room = Room.objects.get(name="Leeszaal")
    assert room.capacity == 40 and room.bookable_by_public and not room.is_stage
    response = client.post(url, data)
    assert response.status_code == 409
    assert "Deze locatie heeft al een zaal met die naam" in response.content.decode()
    other_location = f.location()
    response = client.post(url, {**data, "name": "Elders", "location": other_location.pk})
    assert response.status_code == 400 and not Room.objects.filter(name="Elders").exists()


@db
def test_partners_list_and_add(client, place):
    f.partner(organisation=f.organisation(), name="Partner van een ander")
    client.force_login(place["programmer"])
    url = reverse("programming:staff_partners")
    response = client.post(
        url,
        {
            "organisation": place["org"].pk,
            "name": "Welzijn Centrum",
            "kind": "welfare",
            "website": "welzijn.example",
            "email": "info@welzijn.example",
        },
    )
    assert response.status_code == 302
    partner = Partner.objects.get(name="Welzijn Centrum")
    assert partner.organisation == place["org"] and partner.website == "https://welzijn.example"
    page = client.get(url).content.decode()
    assert "Welzijn Centrum" in page and "Partner van een ander" not in page
    response = client.post(
        url, {"organisation": place["org"].pk, "name": "Welzijn Centrum", "kind": "welfare"}
    )
    assert response.status_code == 409 and "bestaat al" in response.content.decode()


# --- the race ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_overlapping_requests_approved_at_once_give_exactly_one_approval():
    org = f.organisation()
    room = f.room(location=f.location(organisation=org), capacity=50)
    staff = staff_member(Role.PROGRAMMER, org)
    start = f.tomorrow_at(14)
    requests = [
        services.room_booking_request(
            room=room,
            person=f.UserFactory(),
            title=f"Aanvraag {n}",
            starts_at=start + dt.timedelta(minutes=10 * n),
            ends_at=start + dt.timedelta(hours=2, minutes=10 * n),
        )
        for n in range(10)
    ]
    results = at_once(
        *[
            (lambda b=b: services.room_booking_decide(booking=b, approve=True, actor=staff))
            for b in requests
        ]
    )
    approved = RoomBooking.objects.filter(status=BookingStatus.APPROVED)
    assert approved.count() == 1
    assert sorted(r for r in results if isinstance(r, str)) == ["room_taken"] * 9
    assert RoomBooking.objects.filter(status=BookingStatus.REQUESTED).count() == 9
