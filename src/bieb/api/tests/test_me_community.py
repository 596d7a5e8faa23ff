"""``/api/v1/me/messages``: a resident's conversations in the community library with their
messages, paged, one conversation alone and further back in it. Nobody sees another
resident's conversation, and the other side is shown by first name and initial only."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from bieb.api.services import token_create
from bieb.community import messages
from bieb.community.models import Message, Post
from bieb.community.tests import factories as f
from bieb.core import clock

pytestmark = pytest.mark.django_db

MINE = "/api/v1/me/messages"
NOW = dt.datetime(2025, 3, 3, 10, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def dutch():
    with translation.override("nl"):
        yield


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def later(minutes: int):
    return clock.frozen(NOW + dt.timedelta(minutes=minutes))


def call(client, method: str, url: str, user=None, body=None):
    headers = {"Authorization": f"Bearer {token_create(user=user)[1]}"} if user else {}
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data=data, content_type="application/json", headers=headers)


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error"]["message"]
    return response.json()["error"]["code"]


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_response_over_the_api_is_read_back_by_both_sides(client):
    author = f.resident(first_name="Anna", last_name="van Dijk", email="anna@example.nl")
    bram = f.resident(first_name="Bram", last_name="Smit", email="bram@example.nl")
    offer = f.post(author=author, title="Ladder te leen")
    sent = call(
        client,
        "POST",
        f"/api/v1/community/posts/{offer.pk}/responses",
        bram,
        {"body": "Mag ik hem zaterdag lenen?"},
    )
    assert sent.status_code == 201, sent.content

    authors_view = call(client, "GET", MINE, author)
    [conversation] = results(authors_view)
    [mine] = results(call(client, "GET", MINE, bram))

    assert conversation["id"] == mine["id"] == sent.json()["conversation_id"]
    assert conversation["post"] == {
        "id": offer.pk,
        "title": "Ladder te leen",
        "status": "open",
        "url": f"http://testserver/community/{offer.pk}",
    }
    assert conversation["role"] == "author"
    assert conversation["other"] == {"id": bram.pk, "label": "Bram S."}
    assert (conversation["unread"], conversation["message_count"]) == (1, 1)
    assert conversation["last_message_at"] == NOW.isoformat()
    assert conversation["messages"] == [
        {
            "id": sent.json()["message_id"],
            "from_me": False,
            "body": "Mag ik hem zaterdag lenen?",
            "hidden": False,
            "sent_at": NOW.isoformat(),
            "read_at": None,
        }
    ]
    assert conversation["more_messages"] is False
    assert (mine["role"], mine["other"]["label"], mine["unread"]) == ("responder", "Anna D.", 0)
    assert mine["messages"][0]["from_me"] is True
    assert "@example.nl" not in authors_view.content.decode()
    assert "van Dijk" not in call(client, "GET", MINE, bram).content.decode()


def test_another_residents_conversation_is_not_visible(client):
    anna, bram, stranger = f.resident(), f.resident(), f.resident()
    theirs = messages.respond(post=f.post(author=anna), person=bram, body="Hallo").conversation
    own = messages.respond(post=f.post(author=stranger), person=anna, body="Hoi").conversation

    listed = results(call(client, "GET", MINE, stranger))
    alone = call(client, "GET", f"{MINE}?conversation={theirs.pk}", stranger)
    missing = call(client, "GET", f"{MINE}?conversation=999999", stranger)

    assert [c["id"] for c in listed] == [own.pk]
    assert error_of(alone, 404) == "conversation_not_found"
    assert alone.json()["error"]["message"] == missing.json()["error"]["message"]
    assert error_of(missing, 404) == "conversation_not_found"
    assert results(call(client, "GET", MINE, f.resident())) == []


def test_conversations_are_paged_newest_activity_first(client):
    anna = f.resident()
    made = []
    for minutes in range(4):
        with later(minutes):
            made.append(messages.respond(post=f.post(), person=anna, body="Hoi").conversation_id)
    with later(10):  # the oldest conversation has news
        messages.respond(post=Post.objects.get(conversations=made[0]), person=anna, body="En?")
    order = [made[0], made[3], made[2], made[1]]

    first = call(client, "GET", f"{MINE}?limit=3", anna)
    second = call(client, "GET", f"{MINE}?limit=3&offset=3", anna)

    assert [c["id"] for c in results(first)] == order[:3]
    assert [c["id"] for c in results(second)] == order[3:]
    assert first.json()["count"] == second.json()["count"] == 4
    assert (second.json()["limit"], second.json()["offset"]) == (3, 3)
    assert results(first)[0]["message_count"] == 2


def test_one_conversation_is_read_further_back_with_before(client):
    anna = f.resident()
    offer = f.post(author=anna)
    bram = f.resident()
    sent = []
    for minutes in range(5):
        with later(minutes):
            sent.append(messages.respond(post=offer, person=bram, body=f"Bericht {minutes}").pk)
    conversation_id = Message.objects.get(pk=sent[0]).conversation_id
    url = f"{MINE}?conversation={conversation_id}&messages=2"

    newest = results(call(client, "GET", url, anna))[0]
    back = results(call(client, "GET", f"{url}&before={newest['messages'][0]['id']}", anna))[0]
    oldest = results(call(client, "GET", f"{url}&before={back['messages'][0]['id']}", anna))[0]
    none = results(call(client, "GET", f"{MINE}?messages=0", anna))[0]

    assert [m["id"] for m in newest["messages"]] == sent[3:]
    assert newest["more_messages"] is True
    assert [m["id"] for m in back["messages"]] == sent[1:3]
    assert back["more_messages"] is True
    assert [m["id"] for m in oldest["messages"]] == sent[:1]
    assert oldest["more_messages"] is False
    assert (none["messages"], none["more_messages"], none["message_count"]) == ([], True, 5)


@pytest.mark.parametrize(
    "query",
    ["before={message}", "conversation={conversation}&before={other_message}"],
)
def test_before_needs_a_message_of_the_conversation_asked_for(client, query):
    anna = f.resident()
    message = messages.respond(post=f.post(), person=anna, body="Hoi")
    other = messages.respond(post=f.post(), person=anna, body="Hallo")
    url = f"{MINE}?" + query.format(
        message=message.pk, conversation=message.conversation_id, other_message=other.pk
    )

    response = call(client, "GET", url, anna)

    assert error_of(response, 400) == "filter_invalid"
    assert response.json()["error"]["details"] == {"field": "before"}


def test_a_hidden_message_is_listed_without_its_text(client):
    anna, bram = f.resident(), f.resident()
    message = messages.respond(post=f.post(author=anna), person=bram, body="Iets grofs")
    Message.objects.filter(pk=message.pk).update(hidden_reason="Grof taalgebruik.")

    [conversation] = results(call(client, "GET", MINE, anna))

    assert conversation["messages"][0]["body"] == ""
    assert conversation["messages"][0]["hidden"] is True
    assert conversation["unread"] == 0


@pytest.mark.parametrize(
    ("query", "code"), [("limit=101", "invalid_input"), ("messages=101", "invalid_input")]
)
def test_bad_paging_is_refused(client, query, code):
    assert error_of(call(client, "GET", f"{MINE}?{query}", f.resident()), 422) == code


def test_signing_in_is_required(client):
    assert error_of(client.get(MINE), 401) == "not_authenticated"


def _conversations(person, count: int) -> None:
    for _n in range(count):
        other = f.resident()
        messages.respond(post=f.post(author=person), person=other, body="Hallo")
        messages.respond(post=f.post(author=other), person=person, body="Hoi")


def test_the_list_costs_the_same_few_queries_for_many_conversations(
    client, django_assert_max_num_queries
):
    anna = f.resident()
    headers = {"Authorization": f"Bearer {token_create(user=anna)[1]}"}
    _conversations(anna, 1)
    with django_assert_max_num_queries(4) as few:  # token, its use, the page, its messages
        assert len(results(client.get(f"{MINE}?limit=100", headers=headers))) == 2
    _conversations(anna, 10)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(results(client.get(f"{MINE}?limit=100", headers=headers))) == 22
