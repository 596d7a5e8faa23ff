"""``/api/v1/me/registrations``: a resident's own registrations for activities, listed newest
first and paged, and cancelled, which offers the freed seats at once to the first on the
waitlist. Nobody sees or cancels another person's registration."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from bieb.api.services import token_create
from bieb.core import clock
from bieb.programming import services
from bieb.programming.models import PriceKind, Registration
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dutch():
    # an API request with Accept-Language: en activates English for the whole thread; keep
    # it inside the test that asked for it
    with translation.override("nl"):
        yield


MINE = "/api/v1/me/registrations"
NOW = dt.datetime(2025, 3, 3, 10, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def resident(**kw):
    return f.UserFactory(email_verified_at=clock.now(), **kw)


def call(client, method: str, url: str, user=None, body=None, headers=None):
    headers = dict(headers or {})
    if user is not None:
        headers["Authorization"] = f"Bearer {token_create(user=user)[1]}"
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data=data, content_type="application/json", headers=headers)


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return body["error"]["code"]


def registered(person, activity, seats: int = 1) -> Registration:
    return services.register(activity=activity, person=person, seats=seats)


def later(minutes: int):
    return clock.frozen(NOW + dt.timedelta(minutes=minutes))


# --- the list --------------------------------------------------------------------------------


def test_the_list_holds_only_your_own_registrations_newest_first(client):
    anna, bram = resident(), resident()
    first = registered(anna, f.activity(title="Voorlezen"))
    with later(5):
        registered(bram, f.activity())
        second = registered(anna, f.activity(title="Klik & Tik", capacity=1, seats_taken=1))
    with later(10):
        cancelled = registered(anna, f.activity(title="Debat"))
        services.registration_cancel(registration=cancelled, actor=anna)

    response = call(client, "GET", MINE, anna)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [cancelled.pk, second.pk, first.pk]
    assert [r["status"] for r in body["results"]] == ["cancelled", "waitlisted", "confirmed"]
    newest = body["results"][0]
    assert newest["activity"]["title"] == "Debat"
    assert newest["cancelled_at"] == "2025-03-03T10:10:00+01:00"
    assert body["results"][2]["url"] == f"http://testserver/aanmelding/{first.token}"


def test_the_list_is_paged_and_can_show_only_live_registrations(client):
    anna = resident()
    made = []
    for minutes in range(4):
        with later(minutes):
            made.append(registered(anna, f.activity()))
    services.registration_cancel(registration=made[0], actor=anna)

    page = call(client, "GET", f"{MINE}?limit=2&offset=1", anna).json()
    live = call(client, "GET", f"{MINE}?live=true", anna).json()
    ended = call(client, "GET", f"{MINE}?live=false", anna).json()

    assert page["count"] == 4
    assert [r["id"] for r in page["results"]] == [made[2].pk, made[1].pk]
    assert [r["id"] for r in live["results"]] == [made[3].pk, made[2].pk, made[1].pk]
    assert [r["id"] for r in ended["results"]] == [made[0].pk]
    assert error_of(call(client, "GET", f"{MINE}?limit=500", anna), 422) == "invalid_input"


def test_an_open_online_payment_has_a_pay_link(client):
    anna = resident()
    activity = f.activity(price_kind=PriceKind.PAID, price_cents=500)
    registration = registered(anna, activity)

    item = call(client, "GET", MINE, anna).json()["results"][0]

    assert item["payment"] == "online"
    assert item["pay_url"] == (f"http://testserver/mijn/facturen/{registration.invoice_id}/betalen")


def test_the_list_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    anna = resident()
    secret = token_create(user=anna)[1]
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(2):
        registered(anna, f.activity(rrule="FREQ=WEEKLY;COUNT=3"))
    with django_assert_max_num_queries(4) as few:  # token, its use, count, page
        assert len(client.get(MINE, headers=headers).json()["results"]) == 2
    for _ in range(10):
        registered(anna, f.activity())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(MINE, headers=headers).json()["results"]) == 12


def test_the_list_needs_a_signed_in_person(client):
    assert error_of(call(client, "GET", MINE), 401) == "not_authenticated"


# --- cancelling ------------------------------------------------------------------------------


def test_cancelling_frees_the_seat_and_offers_it_to_the_first_on_the_waitlist(client):
    anna, bram, carla = resident(), resident(), resident()
    activity = f.activity(capacity=1, offer_hours=24)
    mine = registered(anna, activity)
    with later(1):
        bram_waits = registered(bram, activity)
    with later(2):
        registered(carla, activity)

    response = call(client, "DELETE", f"{MINE}/{mine.pk}", anna)

    assert response.status_code == 204, response.content
    assert response.content == b""
    mine.refresh_from_db()
    assert mine.status == "cancelled"
    offered = call(client, "GET", MINE, bram).json()["results"][0]
    assert offered["id"] == bram_waits.pk
    assert offered["status"] == "offered"
    assert offered["offer_expires_at"] == "2025-03-04T10:00:00+01:00"
    assert call(client, "GET", MINE, carla).json()["results"][0]["status"] == "waitlisted"


def test_cancelling_twice_is_refused(client):
    anna = resident()
    mine = registered(anna, f.activity())
    call(client, "DELETE", f"{MINE}/{mine.pk}", anna)

    again = call(client, "DELETE", f"{MINE}/{mine.pk}", anna)

    assert error_of(again, 409) == "registration_not_live"


def test_another_person_s_registration_is_not_found(client):
    anna, bram = resident(), resident()
    bram_s = registered(bram, f.activity())

    response = call(client, "DELETE", f"{MINE}/{bram_s.pk}", anna)

    assert error_of(response, 404) == "registration_not_found"
    assert error_of(call(client, "DELETE", f"{MINE}/999999", anna), 404) == (
        "registration_not_found"
    )
    bram_s.refresh_from_db()
    assert bram_s.status == "confirmed"


def test_cancelling_needs_a_signed_in_person(client):
    mine = registered(resident(), f.activity())

    assert error_of(call(client, "DELETE", f"{MINE}/{mine.pk}"), 401) == "not_authenticated"


def test_a_cancel_retried_with_the_same_key_is_replayed(client):
    anna = resident()
    mine = registered(anna, f.activity())
    headers = {
        "Authorization": f"Bearer {token_create(user=anna)[1]}",
        "Idempotency-Key": "afmelden-1",
    }

    first = call(client, "DELETE", f"{MINE}/{mine.pk}", headers=headers)
    retry = call(client, "DELETE", f"{MINE}/{mine.pk}", headers=headers)

    assert first.status_code == retry.status_code == 204
    assert retry["Idempotent-Replayed"] == "true"


def test_refusals_speak_english_when_asked(client):
    anna = resident()

    response = call(client, "DELETE", f"{MINE}/999999", anna, headers={"Accept-Language": "en"})

    assert error_of(response, 404) == "registration_not_found"
