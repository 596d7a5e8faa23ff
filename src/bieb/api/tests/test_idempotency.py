"""``Idempotency-Key`` on API writes (decision 0013): a retry gets the first answer and does
nothing again; a key used for another request is refused; the key is stored in the
transaction of the effect, so a crash leaves neither and two requests at once make one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from bieb.api.models import IdempotencyKey
from bieb.api.services import idempotency_keys_purge, token_create
from bieb.circulation.tests.test_races import at_once
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.subscriptions import services
from bieb.subscriptions.models import Subscription, SwitchOff
from bieb.subscriptions.tests.factories import adult, plan

SUB = "/api/v1/me/subscription"
MOMENT = dt.datetime(2025, 5, 1, 12, tzinfo=clock.AMSTERDAM)


def post(client, url: str, secret: str, *, key: str | None = None, body=None, raw=None):
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    return client.generic("POST", url, data=data, content_type="application/json", headers=headers)


def secret_for(person) -> str:
    return token_create(user=person)[1]


@pytest.fixture
def basis(db):
    return plan(code="basis", monthly=475, yearly=5_500)


@pytest.fixture
def person(db):
    return adult()


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_answer_and_does_nothing_again(client, person, basis):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        first = post(client, SUB, secret, key="k-1", body={"plan": "basis", "interval": "month"})
        # the same JSON, other spacing and key order
        retry = post(
            client, SUB, secret, key="k-1", raw='{ "interval" : "month", "plan": "basis" }'
        )

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Subscription.objects.filter(person=person).count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.subscribe").count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.user_id, row.key, row.method, row.path, row.status_code) == (
        person.pk,
        "k-1",
        "POST",
        SUB,
        201,
    )


@pytest.mark.django_db
def test_the_same_key_for_another_request_is_refused_and_does_nothing(client, person, basis):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        post(client, SUB, secret, key="k-1", body={"plan": "basis"})
        other_body = post(
            client, SUB, secret, key="k-1", body={"plan": "basis", "interval": "year"}
        )
        other_path = post(client, f"{SUB}/off", secret, key="k-1")

    for response in (other_body, other_path):
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert response.json()["error"]["details"] == {"header": "Idempotency-Key"}
    assert not SwitchOff.objects.exists()
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_a_person(client, person, basis):
    other = adult()
    with clock.frozen(MOMENT):
        mine = post(client, SUB, secret_for(person), key="same", body={"plan": "basis"})
        theirs = post(client, SUB, secret_for(other), key="same", body={"plan": "basis"})

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert Subscription.objects.count() == 2


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_even_when_it_would_now_succeed(client, person, basis):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        services.subscribe(person=person, plan_code="basis")
        refused = post(client, f"{SUB}/on", secret, key="switch-on")
        services.subscription_switch_off(person=person)
        replayed = post(client, f"{SUB}/on", secret, key="switch-on")
        fresh = post(client, f"{SUB}/on", secret, key="switch-on-2")

    assert refused.status_code == replayed.status_code == 409
    assert refused.json()["error"]["code"] == "not_switched_off"
    assert replayed.content == refused.content
    assert replayed["Idempotent-Replayed"] == "true"
    assert fresh.status_code == 200 and fresh.json()["on"] is True


@pytest.mark.django_db
def test_invalid_input_and_missing_auth_store_no_key(client, person, basis):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        invalid = post(client, SUB, secret, key="k-1", body={})
        anonymous = client.post(
            SUB, data="{}", content_type="application/json", headers={"Idempotency-Key": "k-2"}
        )
        then_valid = post(client, SUB, secret, key="k-1", body={"plan": "basis"})

    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_input"
    assert anonymous.status_code == 401
    assert then_valid.status_code == 201
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-1"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "sleutel-é"])
def test_a_malformed_key_is_refused(client, person, basis, key):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        response = post(client, SUB, secret, key=key, body={"plan": "basis"})

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not Subscription.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_without_the_header_nothing_is_stored(client, person, basis):
    with clock.frozen(MOMENT):
        response = post(client, SUB, secret_for(person), body={"plan": "basis"})

    assert response.status_code == 201
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_key_is_forgotten_after_24_hours_and_purged(client, person, basis):
    secret = secret_for(person)
    with clock.frozen(MOMENT):
        services.subscribe(person=person, plan_code="basis")
        post(client, f"{SUB}/off", secret, key="off")
        services.subscription_switch_on(person=person)
        post(client, f"{SUB}/cancel", secret, key="cancel")
    with clock.frozen(MOMENT + dt.timedelta(hours=23, minutes=59)):
        within = post(client, f"{SUB}/off", secret, key="off")
    with clock.frozen(MOMENT + dt.timedelta(hours=24, minutes=1)):
        after = post(client, f"{SUB}/off", secret, key="off")
        purged = idempotency_keys_purge()

    assert within["Idempotent-Replayed"] == "true"
    assert after.status_code == 200 and "Idempotent-Replayed" not in after
    assert after.json()["on"] is False  # done again: switched off on 2 May
    assert purged == 1  # "cancel"; "off" was claimed afresh a minute ago
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["off"]


# --- never an effect without its key, nor a key without its effect ---------------------------

urls = pytest.mark.urls("bieb.api.tests.urls")


@urls
@pytest.mark.django_db
def test_a_crash_after_the_effect_leaves_neither_effect_nor_key(client, person):
    secret = secret_for(person)
    response = post(client, "/test-errors/idempotent-crash", secret, key="k-1")

    assert response.status_code == 500
    assert not AuditEvent.objects.filter(action="test.effect").exists()
    assert not IdempotencyKey.objects.exists()


@urls
@pytest.mark.django_db
def test_a_refusal_undoes_what_the_handler_wrote_but_keeps_the_answer(client, person):
    secret = secret_for(person)
    first = post(client, "/test-errors/idempotent-refusal", secret, key="k-1")
    retry = post(client, "/test-errors/idempotent-refusal", secret, key="k-1")

    assert first.status_code == retry.status_code == 409
    assert retry.content == first.content and retry["Idempotent-Replayed"] == "true"
    assert not AuditEvent.objects.filter(action="test.effect").exists()
    assert IdempotencyKey.objects.get().status_code == 409


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_make_one_subscription_and_one_answer():
    person = adult()
    plan(code="basis")
    # two tokens (two devices): one token would queue the requests on its last-used update
    phone, laptop = secret_for(person), secret_for(person)
    body = {"plan": "basis"}

    with clock.frozen(MOMENT):
        results = at_once(
            lambda: post(Client(), SUB, phone, key="double-click", body=body),
            lambda: post(Client(), SUB, laptop, key="double-click", body=body),
        )

    assert [r.status_code for r in results] == [201, 201], results
    assert results[0].content == results[1].content
    assert sorted(r.get("Idempotent-Replayed", "") for r in results) == ["", "true"]
    assert Subscription.objects.filter(person=person).count() == 1
    assert AuditEvent.objects.filter(action="subscriptions.subscribe").count() == 1
    assert IdempotencyKey.objects.filter(status_code=201).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_different_requests_with_one_key_at_once_do_one_of_them():
    person = adult()
    plan(code="basis")
    phone, laptop = secret_for(person), secret_for(person)

    with clock.frozen(MOMENT):
        results = at_once(
            lambda: post(Client(), SUB, phone, key="k", body={"plan": "basis"}),
            lambda: post(
                Client(), SUB, laptop, key="k", body={"plan": "basis", "interval": "year"}
            ),
        )

    assert sorted(r.status_code for r in results) == [201, 422], results
    refused = next(r for r in results if r.status_code == 422)
    assert refused.json()["error"]["code"] == "idempotency_key_reused"
    assert Subscription.objects.filter(person=person).count() == 1
