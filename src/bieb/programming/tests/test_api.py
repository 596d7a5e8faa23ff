"""``/api/v1/activities``: the public programme with its filters and paging, one activity with
its sessions, partners and catalogue titles, and registering over the API (signed in, with
``Idempotency-Key``). Every refusal is JSON with the service's stable code."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from bieb.api.models import IdempotencyKey
from bieb.api.services import token_create
from bieb.catalog.tests.factories import EditionFactory
from bieb.core import clock
from bieb.network.models import PostcodeArea
from bieb.programming.models import PriceKind, Registration
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dutch():
    # an API request with Accept-Language: en activates English for the whole thread; keep
    # it inside the test that asked for it
    with translation.override("nl"):
        yield


LIST = "/api/v1/activities"
NOW = dt.datetime(2025, 3, 3, 10, tzinfo=clock.AMSTERDAM)  # a Monday morning


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def resident(**kw):
    """A signed-up resident whose e-mail address is confirmed."""
    return f.UserFactory(email_verified_at=clock.now(), **kw)


def call(client, method: str, url: str, user=None, body=None, headers=None, raw=None):
    headers = dict(headers or {})
    if user is not None:
        headers["Authorization"] = f"Bearer {token_create(user=user)[1]}"
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    return client.generic(method, url, data=data, content_type="application/json", headers=headers)


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]["code"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def day(days: int, hour: int = 19) -> dt.datetime:
    return f.at_local(NOW.date() + dt.timedelta(days=days), hour)


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_published_upcoming_activities_soonest_first_with_their_facts(client):
    library = f.organisation(name="Bibliotheek Utrecht", slug="bibliotheek-utrecht")
    branch = f.location(organisation=library, name="Neude", slug="neude", city="Utrecht")
    course = f.activity(
        location=branch,
        title="Digisterker",
        kind="course",
        starts_at=day(2, 10),
        rrule="FREQ=WEEKLY;COUNT=4",
        audience="seniors",
        age_min=60,
        challenge="information_society",
        programme="digisterker",
        price_kind=PriceKind.PAID,
        price_cents=1_500,
        pay_at_door=True,
        capacity=12,
        seats_taken=12,
    )
    lecture = f.activity(location=branch, starts_at=day(1))
    f.activity(location=branch, starts_at=day(1), status="draft")
    f.activity(location=branch, starts_at=day(1), status="cancelled")
    f.activity(location=branch, starts_at=day(-3), title="Voorbij")
    f.booking(room=f.room(location=branch), starts_at=day(1, 14))  # a room event: no activity

    response = client.get(LIST)

    assert ids(response) == [lecture.pk, course.pk]
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 20, 0)
    item = body["results"][1]
    assert item["slug"] == course.slug
    assert item["kind"] == "course"
    assert item["audience"] == "seniors"
    assert item["ages"] == {"min": 60, "max": None}
    assert item["challenge"] == "information_society"
    assert item["programme"] == "digisterker"
    assert item["organisation"] == {"slug": "bibliotheek-utrecht", "name": "Bibliotheek Utrecht"}
    assert item["location"]["slug"] == "neude"
    assert item["location"]["city"] == "Utrecht"
    assert {"lat", "lon"} <= set(item["location"])
    assert item["starts_at"] == "2025-03-05T10:00:00+01:00"
    assert item["ends_at"] == "2025-03-05T12:00:00+01:00"
    assert item["sessions"] == 4
    assert item["rrule"] == "FREQ=WEEKLY;COUNT=4"
    assert item["price"] == {
        "kind": "paid",
        "amount_cents": 1_500,
        "credits": 0,
        "pay_at_door": True,
    }
    assert (item["capacity"], item["seats_left"], item["waitlist"]) == (12, 0, True)
    assert item["status"] == "published"
    assert item["url"] == f"http://testserver/activiteiten/{course.slug}"
    assert item["distance_km"] is None
    assert body["results"][0]["waitlist"] is False


def test_a_running_series_is_listed_at_its_current_or_next_session(client):
    series = f.activity(starts_at=day(-14, 9), rrule="FREQ=WEEKLY;COUNT=4")

    item = client.get(LIST).json()["results"][0]

    assert item["id"] == series.pk
    assert item["starts_at"] == day(0, 9).isoformat()  # today's 9:00-11:00 runs: it is "next"
    assert item["sessions"] == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("audience=toddlers", ["peuters"]),
        ("age=3", ["peuters", "iedereen"]),
        ("age=40", ["iedereen", "betaald"]),
        ("price=paid", ["betaald"]),
        ("price=free", ["peuters", "iedereen"]),
        ("challenge=literate", ["peuters"]),
        ("programme=boekstart", ["peuters"]),
        ("kind=course", ["betaald"]),
        ("theme=Voorlezen", ["peuters"]),
        ("with_spaces=true", ["peuters", "iedereen"]),
        ("q=iedereen", ["iedereen"]),
        ("date_from=2025-03-06", ["iedereen", "betaald"]),
        ("date_to=2025-03-05", ["peuters", "iedereen"]),
        ("date_from=2025-03-07&date_to=2025-03-07", ["iedereen"]),
        ("organisation=elders", ["betaald"]),
        ("location=elders-centrum", ["betaald"]),
    ],
)
def test_filters(client, query, expected):
    here = f.location(slug="hier")
    there = f.location(organisation=f.organisation(slug="elders"), slug="elders-centrum")
    f.activity(
        title="peuters",
        location=here,
        starts_at=day(1, 10),
        audience="toddlers",
        age_min=0,
        age_max=4,
        challenge="literate",
        programme="boekstart",
        theme="voorlezen",
    )
    f.activity(title="iedereen", location=here, starts_at=day(2, 10), rrule="FREQ=DAILY;COUNT=3")
    f.activity(
        title="betaald",
        location=there,
        starts_at=day(3),
        kind="course",
        age_min=18,
        price_kind=PriceKind.PAID,
        price_cents=500,
        capacity=5,
        seats_taken=5,
    )

    response = client.get(f"{LIST}?{query}")

    assert [item["title"] for item in response.json()["results"]] == expected


def test_near_a_postcode_orders_by_distance_and_leaves_far_venues_out(client):
    PostcodeArea.objects.create(pc4="3512", place="Utrecht", lat=52.09, lon=5.12)
    close = f.activity(location=f.location(lat=52.10, lon=5.12), starts_at=day(5))
    closer = f.activity(location=f.location(lat=52.09, lon=5.121), starts_at=day(6))
    f.activity(location=f.location(lat=53.2, lon=6.56), starts_at=day(1))  # Groningen

    response = client.get(f"{LIST}?near=3512")

    assert ids(response) == [closer.pk, close.pk]
    distances = [item["distance_km"] for item in response.json()["results"]]
    assert 0 <= distances[0] < distances[1] < 2
    assert ids(client.get(f"{LIST}?near=3512&sort=date")) == [close.pk, closer.pk]


def test_paging_gives_the_total_and_one_window(client):
    made = [f.activity(starts_at=day(1 + n)) for n in range(5)]

    first = client.get(f"{LIST}?limit=2").json()
    last = client.get(f"{LIST}?limit=2&offset=4").json()

    assert first["count"] == last["count"] == 5
    assert [item["id"] for item in first["results"]] == [made[0].pk, made[1].pk]
    assert [item["id"] for item in last["results"]] == [made[4].pk]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("audience=aliens", 400, "filter_invalid"),
        ("price=cheap", 400, "filter_invalid"),
        ("date_from=2025-03-10&date_to=2025-03-01", 400, "filter_invalid"),
        ("age=200", 400, "filter_invalid"),
        ("near=Nergenshuizen", 400, "place_not_found"),
        ("organisation=bestaat-niet", 404, "unknown_organisation"),
        ("location=bestaat-niet", 404, "unknown_location"),
        ("date_from=morgen", 422, "invalid_input"),
        ("age=oud", 422, "invalid_input"),
        ("with_spaces=misschien", 422, "invalid_input"),
        ("limit=101", 422, "invalid_input"),
        ("limit=0", 422, "invalid_input"),
        ("offset=-1", 422, "invalid_input"),
        ("sort=random", 422, "invalid_input"),
    ],
)
def test_bad_filters_are_refused_with_a_stable_code(client, query, status, code):
    assert error_of(client.get(f"{LIST}?{query}"), status) == code


def test_the_list_costs_the_same_few_queries_for_many_activities(
    client, django_assert_max_num_queries
):
    organisation = f.organisation(slug="veel")
    for n in range(3):
        f.activity(organisation=organisation, starts_at=day(1 + n), rrule="FREQ=WEEKLY;COUNT=3")
    with django_assert_max_num_queries(3) as few:  # organisation, candidates, the page
        assert len(ids(client.get(f"{LIST}?organisation=veel"))) == 3
    for n in range(20):
        f.activity(organisation=organisation, starts_at=day(2 + n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(client.get(f"{LIST}?organisation=veel&limit=100"))) == 23


def test_english_messages_with_accept_language(client):
    response = client.get(f"{LIST}?audience=aliens", headers={"Accept-Language": "en"})

    assert error_of(response, 400) == "filter_invalid"
    assert response.json()["error"]["details"] == {"field": "audience"}


# --- one activity ----------------------------------------------------------------------------


def test_one_activity_with_every_session_its_partners_and_catalogue_titles(client):
    edition = EditionFactory(title="Jip en Janneke")
    work = edition.work
    school = f.partner(name="Obs De Regenboog", website="https://regenboog.example.nl")
    series = f.activity(
        organisation=school.organisation,
        starts_at=day(-7, 10),
        rrule="FREQ=WEEKLY;COUNT=3",
        description="Elke maandag voorlezen.",
        accessibility="Rolstoeltoegankelijk; ringleiding.",
        partners=[school],
        works=[work],
        max_group_size=4,
    )

    response = client.get(f"{LIST}/{series.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == series.pk
    assert body["description"] == "Elke maandag voorlezen."
    assert body["accessibility"] == "Rolstoeltoegankelijk; ringleiding."
    assert body["max_group_size"] == 4
    assert body["starts_at"] == day(0, 10).isoformat()  # today's session is the next one
    assert [s["starts_at"] for s in body["all_sessions"]] == [
        day(-7, 10).isoformat(),
        day(0, 10).isoformat(),
        day(7, 10).isoformat(),
    ]
    assert [(s["is_past"], s["is_next"]) for s in body["all_sessions"]] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert body["partners"] == [
        {"name": "Obs De Regenboog", "kind": "school", "website": "https://regenboog.example.nl"}
    ]
    assert body["works"] == [{"id": work.pk, "title": "Jip en Janneke", "edition_id": edition.pk}]
    assert body["registration_open"] is False  # the first session has begun
    assert body["cancel_reason"] is None


def test_a_cancelled_activity_is_shown_with_its_reason_and_a_draft_is_not_found(client):
    cancelled = f.activity(status="cancelled", cancel_reason="De spreker is ziek.")
    draft = f.activity(status="draft")

    shown = client.get(f"{LIST}/{cancelled.pk}")

    assert shown.status_code == 200
    assert shown.json()["status"] == "cancelled"
    assert shown.json()["cancel_reason"] == "De spreker is ziek."
    assert shown.json()["registration_open"] is False
    assert error_of(client.get(f"{LIST}/{draft.pk}"), 404) == "activity_not_found"
    assert error_of(client.get(f"{LIST}/999999"), 404) == "activity_not_found"


def test_the_detail_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    works = [EditionFactory().work for _ in range(5)]
    partners = [f.partner() for _ in range(5)]
    activity = f.activity(partners=partners, works=works, rrule="FREQ=WEEKLY;COUNT=10")

    with django_assert_max_num_queries(4):
        assert client.get(f"{LIST}/{activity.pk}").status_code == 200


# --- registering -----------------------------------------------------------------------------


def register_url(activity) -> str:
    return f"{LIST}/{activity.pk}/registrations"


def test_registering_gives_a_confirmed_registration_with_its_page(client):
    person = resident()
    activity = f.activity(capacity=10, max_group_size=4)

    response = call(client, "POST", register_url(activity), person, {"seats": 3})

    assert response.status_code == 201, response.content
    body = response.json()
    registration = Registration.objects.get(person=person)
    assert body["id"] == registration.pk
    assert body["status"] == "confirmed"
    assert body["seats"] == 3
    assert body["payment"] == "none"
    assert body["pay_url"] is None
    assert body["offer_expires_at"] is None
    assert body["url"] == f"http://testserver/aanmelding/{registration.token}"
    assert body["activity"]["id"] == activity.pk
    assert body["activity"]["url"] == f"http://testserver/activiteiten/{activity.slug}"
    activity.refresh_from_db()
    assert activity.seats_taken == 3


def test_registering_without_a_body_takes_one_seat(client):
    response = call(client, "POST", register_url(f.activity()), resident())

    assert response.status_code == 201, response.content
    assert response.json()["seats"] == 1


def test_registering_twice_is_refused(client):
    person = resident()
    activity = f.activity()
    call(client, "POST", register_url(activity), person, {"seats": 1})

    again = call(client, "POST", register_url(activity), person, {"seats": 1})

    assert error_of(again, 409) == "already_registered"
    assert Registration.objects.filter(person=person).count() == 1


def test_a_full_activity_puts_you_on_the_waitlist(client):
    activity = f.activity(capacity=2, seats_taken=2)

    response = call(client, "POST", register_url(activity), resident())

    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted"


def test_a_paid_activity_gives_a_pay_link_or_pays_at_the_door(client):
    activity = f.activity(price_kind=PriceKind.PAID, price_cents=750, pay_at_door=True)

    online = call(client, "POST", register_url(activity), resident())
    at_door = call(client, "POST", register_url(activity), resident(), {"pay_at_door": True})

    assert online.status_code == 201, online.content
    body = online.json()
    registration = Registration.objects.get(pk=body["id"])
    assert body["payment"] == "online"
    assert body["pay_url"] == (f"http://testserver/mijn/facturen/{registration.invoice_id}/betalen")
    assert body["offer_expires_at"] == "2025-03-03T10:30:00+01:00"  # the seat waits 30 minutes
    assert at_door.json()["payment"] == "at_door"
    assert at_door.json()["pay_url"] is None


@pytest.mark.parametrize(
    ("make", "body", "status", "code"),
    [
        (lambda: f.activity(max_group_size=2), {"seats": 3}, 400, "too_many_seats"),
        (lambda: f.activity(), {"seats": 0}, 400, "seats_invalid"),
        (lambda: f.activity(), {"pay_at_door": True}, 400, "pay_at_door_not_allowed"),
        (lambda: f.activity(status="cancelled"), {}, 409, "activity_cancelled"),
        (lambda: f.activity(starts_at=day(0, 9)), {}, 409, "activity_started"),
        (lambda: f.activity(capacity=0), {}, 409, "no_registration"),
        (lambda: f.activity(status="draft"), {}, 404, "activity_not_found"),
        (lambda: f.activity(), {"seats": "2"}, 422, "invalid_input"),
        (lambda: f.activity(), {"seats": 1.5}, 422, "invalid_input"),
        (lambda: f.activity(), {"pay_at_door": "ja"}, 422, "invalid_input"),
    ],
)
def test_refusals_keep_the_service_codes(client, make, body, status, code):
    response = call(client, "POST", register_url(make()), resident(), body)

    assert error_of(response, status) == code
    assert not Registration.objects.exists()


def test_broken_json_is_the_api_s_bad_request(client):
    response = call(client, "POST", register_url(f.activity()), resident(), raw="{seats: 2")

    assert error_of(response, 400) == "bad_request"
    assert not Registration.objects.exists()


def test_an_unconfirmed_e_mail_address_must_be_confirmed_first(client):
    person = f.UserFactory(email_verified_at=None)

    response = call(client, "POST", register_url(f.activity()), person)

    assert error_of(response, 409) == "email_unconfirmed"


def test_a_child_without_consent_is_refused(client):
    child = resident(birth_date=NOW.date().replace(year=NOW.year - 12))

    response = call(client, "POST", register_url(f.activity()), child)

    assert error_of(response, 403) == "consent_required"


def test_registering_needs_a_signed_in_person(client):
    response = call(client, "POST", register_url(f.activity()))

    assert error_of(response, 401) == "not_authenticated"


def test_a_retry_with_the_same_idempotency_key_replays_and_registers_once(client):
    person = resident()
    secret = token_create(user=person)[1]
    activity = f.activity(capacity=5, max_group_size=2)
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "aanmelden-1"}

    first = call(client, "POST", register_url(activity), body={"seats": 2}, headers=headers)
    retry = call(client, "POST", register_url(activity), body={"seats": 2}, headers=headers)
    other = call(client, "POST", register_url(activity), body={"seats": 1}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Registration.objects.filter(person=person).count() == 1
    activity.refresh_from_db()
    assert activity.seats_taken == 2
    assert error_of(other, 422) == "idempotency_key_reused"
    assert IdempotencyKey.objects.filter(user=person).count() == 1


def test_a_refusal_is_replayed_too(client):
    person = resident()
    activity = f.activity()
    call(client, "POST", register_url(activity), person)
    headers = {
        "Authorization": f"Bearer {token_create(user=person)[1]}",
        "Idempotency-Key": "nog-eens",
    }

    first = call(client, "POST", register_url(activity), headers=headers)
    retry = call(client, "POST", register_url(activity), headers=headers)

    assert error_of(first, 409) == "already_registered"
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"


def test_refusals_speak_english_when_asked(client):
    person = resident()
    activity = f.activity(status="cancelled")

    response = call(
        client, "POST", register_url(activity), person, headers={"Accept-Language": "en"}
    )

    assert error_of(response, 409) == "activity_cancelled"
