"""``/api/v1/community``: the public board with its filters and paging, one post (a hidden one
only for its author), placing a post over the API (plain text, the personal-details step, the
rate limit, ``Idempotency-Key``), responding to a post and reporting a post, a message or a
resident. Residents are never shown by e-mail address or full name; every refusal is JSON
with the service's stable code."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from bieb.api.models import IdempotencyKey
from bieb.api.services import token_create
from bieb.community import messages, posts
from bieb.community.models import Conversation, Message, Post, Report
from bieb.community.tests import factories as f
from bieb.core import clock

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/community/posts"
REPORTS = "/api/v1/community/reports"
NOW = dt.datetime(2025, 3, 3, 10, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def dutch():
    # an API request with Accept-Language: en activates English for the whole thread
    with translation.override("nl"):
        yield


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


def later(minutes: int):
    return clock.frozen(NOW + dt.timedelta(minutes=minutes))


def bearer(person) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=person)[1]}"}


def call(client, method: str, url: str, user=None, body=None, headers=None):
    headers = {**(bearer(user) if user is not None else {}), **(headers or {})}
    data = json.dumps(body) if body is not None else ""
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


def new_post(**changes) -> dict:
    return {
        "type": "offer",
        "kind": "thing",
        "category": "tools",
        "title": "Klopboormachine te leen",
        "body": "Een stevige boormachine met een set boortjes.",
        "terms": "lend",
        "availability": "Zaterdagochtend",
        **changes,
    }


# --- the board -------------------------------------------------------------------------------


def test_the_board_lists_open_posts_newest_first_without_anyones_email_or_full_name(client):
    author = f.resident(first_name="Anna", last_name="de Vries", email="anna.devries@example.nl")
    older = f.post(author=author, title="Ladder te leen", availability="Weekend")
    f.exchange(older, status="done")
    f.exchange(f.post(author=author, status=Post.Status.CLOSED), status="done")
    with later(5):
        newer = f.post(type="request", kind="skill", category="digital", terms="help")
    f.post(status=Post.Status.CLOSED)
    f.post(status=Post.Status.HIDDEN)
    photo = posts.post_photo_add(post=older, person=author, file=f.upload(), alt="Een ladder")

    response = client.get(POSTS)

    assert ids(response) == [newer.pk, older.pk]
    body = response.json()
    assert (body["count"], body["limit"], body["offset"]) == (2, 20, 0)
    item = body["results"][1]
    assert item["type"] == "offer"
    assert (item["kind"], item["category"], item["terms"]) == ("thing", "tools", "lend")
    assert item["title"] == "Ladder te leen"
    assert item["availability"] == "Weekend"
    assert item["status"] == "open"
    assert item["area"] == {
        "pc4": "3511",
        "place": "Utrecht",
        "municipality": {"cbs_code": "GM0344", "name": "Utrecht"},
    }
    assert item["distance_km"] is None
    assert item["author"] == {"label": "Anna V.", "completed_exchanges": 2}
    assert item["photos"] == [
        {
            "id": photo.pk,
            "url": f"http://testserver/community/foto/{photo.pk}.jpg",
            "thumbnail_url": f"http://testserver/community/foto/{photo.pk}/klein.jpg",
            "alt": "Een ladder",
            "width": photo.width,
            "height": photo.height,
        }
    ]
    assert item["url"] == f"http://testserver/community/{older.pk}"
    assert item["created_at"] == NOW.isoformat()
    assert body["results"][0]["photos"] == []
    assert "anna.devries" not in response.content.decode()
    assert "de Vries" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=request", ["vraag"]),
        ("kind=skill", ["vraag"]),
        ("category=games", ["spel"]),
        ("q=kolonisten catan", ["spel"]),
        ("municipality=gm0356", ["nieuwegein"]),
        ("type=offer&category=tools", ["boor", "nieuwegein"]),
    ],
)
def test_the_filters_combine(client, query, expected):
    made = {
        "boor": f.post(title="Boormachine"),
        "vraag": f.post(type="request", kind="skill", category="digital", terms="help"),
        "spel": f.post(category="games", title="Kolonisten van Catan", body="Compleet spel."),
        "nieuwegein": f.post(author=f.resident(pc4="3431")),
    }
    expected_ids = sorted(made[name].pk for name in expected)

    assert sorted(ids(client.get(f"{POSTS}?{query}"))) == expected_ids


def test_near_a_postcode_lists_posts_within_the_radius_nearest_first(client):
    centre = f.post(author=f.resident(pc4="3511"))
    east = f.post(author=f.resident(pc4="3581"))
    nieuwegein = f.post(author=f.resident(pc4="3431"))
    f.post(author=f.resident(pc4="1011"))  # Amsterdam: far away
    f.area("3512")

    near = client.get(f"{POSTS}?near=3512&radius_km=5")
    wider = client.get(f"{POSTS}?near=3512&radius_km=12")
    by_place = client.get(f"{POSTS}?near=Nieuwegein&radius_km=1")

    assert ids(near) == [centre.pk, east.pk]
    distances = [item["distance_km"] for item in near.json()["results"]]
    assert 0 < distances[0] < distances[1] < 3
    assert ids(wider) == [centre.pk, east.pk, nieuwegein.pk]
    assert wider.json()["count"] == 3
    assert ids(by_place) == [nieuwegein.pk]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("near=Atlantis", 400, "place_not_found"),
        ("municipality=GM9999", 404, "unknown_municipality"),
        ("type=gift", 422, "invalid_input"),
        ("category=weapons", 422, "invalid_input"),
        ("radius_km=51", 422, "invalid_input"),
        ("radius_km=0", 422, "invalid_input"),
        ("limit=101", 422, "invalid_input"),
        ("offset=-1", 422, "invalid_input"),
    ],
)
def test_bad_filters_are_refused_with_a_stable_code(client, query, status, code):
    f.post()

    assert error_of(client.get(f"{POSTS}?{query}"), status) == code


def test_limit_and_offset_page_through_the_board(client):
    made = []
    for minutes in range(5):
        with later(minutes):
            made.append(f.post())
    newest_first = [post.pk for post in reversed(made)]

    first = client.get(f"{POSTS}?limit=2")
    third = client.get(f"{POSTS}?limit=2&offset=4")

    assert ids(first) == newest_first[:2]
    assert ids(third) == newest_first[4:]
    assert (third.json()["count"], third.json()["limit"], third.json()["offset"]) == (5, 2, 4)


def _busy_board(count: int) -> None:
    for _n in range(count):
        author = f.resident()
        post = f.post(author=author)
        posts.post_photo_add(post=post, person=author, file=f.upload(f.image_bytes((60, 40))))
        f.exchange(post, status="done")


@pytest.mark.parametrize("near", ["", "&near=3511"])
def test_the_board_costs_the_same_few_queries_for_many_posts(
    client, django_assert_max_num_queries, near
):
    _busy_board(2)
    # count and page (or: the place, the rows near it, the page), then places, photos and
    # completed exchanges (as giver and as receiver)
    with django_assert_max_num_queries(9) as few:
        assert len(ids(client.get(f"{POSTS}?limit=100{near}"))) == 2
    _busy_board(12)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(client.get(f"{POSTS}?limit=100{near}"))) == 14


# --- one post --------------------------------------------------------------------------------


def test_one_post_with_its_photos_and_links_as_text(client):
    author = f.resident(first_name="Bram", last_name="Jansen")
    post = f.post(author=author, body="Zie de handleiding op www.example.nl/boor.", pc4="3581")
    photo = posts.post_photo_add(post=post, person=author, file=f.upload())

    response = client.get(f"{POSTS}/{post.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == post.pk
    assert body["author"] == {"label": "Bram J.", "completed_exchanges": 0}
    assert body["area"]["pc4"] == "3581"
    assert body["links"] == ["www.example.nl/boor."]
    assert [p["id"] for p in body["photos"]] == [photo.pk]
    assert body["photos"][0]["alt"] == f"Foto 1 bij {post.title}"
    assert (body["own"], body["hidden_reason"], body["closed_at"]) == (False, None, None)


def test_a_closed_post_is_shown_and_a_hidden_one_only_to_its_author(client):
    author = f.resident()
    closed = f.post(status=Post.Status.CLOSED, closed_at=clock.now())
    hidden = f.post(author=author, status=Post.Status.HIDDEN, hidden_reason="Reclame.")

    assert client.get(f"{POSTS}/{closed.pk}").json()["status"] == "closed"
    assert error_of(client.get(f"{POSTS}/{hidden.pk}"), 404) == "post_not_found"
    assert error_of(call(client, "GET", f"{POSTS}/{hidden.pk}", f.resident()), 404) == (
        "post_not_found"
    )
    assert error_of(client.get(f"{POSTS}/999999"), 404) == "post_not_found"
    own = call(client, "GET", f"{POSTS}/{hidden.pk}", author)
    assert own.status_code == 200, own.content
    assert (own.json()["status"], own.json()["own"]) == ("hidden", True)
    assert own.json()["hidden_reason"] == "Reclame."
    client.force_login(author)
    assert client.get(f"{POSTS}/{hidden.pk}").json()["hidden_reason"] == "Reclame."


def test_a_bad_token_on_a_public_read_is_refused_rather_than_ignored(client):
    post = f.post()

    response = client.get(f"{POSTS}/{post.pk}", headers={"Authorization": "Bearer bieb_nope"})

    assert error_of(response, 401) == "invalid_token"


def test_one_post_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    author = f.resident()
    post = f.post(author=author)
    for _n in range(4):
        posts.post_photo_add(post=post, person=author, file=f.upload(f.image_bytes((60, 40))))

    with django_assert_max_num_queries(4):
        assert client.get(f"{POSTS}/{post.pk}").status_code == 200


# --- placing a post --------------------------------------------------------------------------


def test_placing_a_post_gives_it_back_as_plain_text_in_the_authors_area(client):
    anna = f.resident(pc4="3581", first_name="Anna", last_name="Smit")

    response = call(
        client,
        "POST",
        POSTS,
        anna,
        new_post(
            title='<script>alert("x")</script>Boor <b>te leen</b>',
            body="<p>Stevig</p><img src=x onerror=alert(1)>",
        ),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Boor te leen"
    assert body["body"] == "Stevig"
    assert "<" not in response.content.decode()
    assert body["area"]["pc4"] == "3581"
    assert body["author"]["label"] == "Anna S."
    assert body["own"] is True
    post = Post.objects.get()
    assert (post.pk, post.author, post.title) == (body["id"], anna, "Boor te leen")


def test_personal_details_are_refused_once_then_placed_when_acknowledged(client):
    anna = f.resident()
    text = new_post(body="Ophalen op Dorpsstraat 12 of bel 06-12345678.")

    first = call(client, "POST", POSTS, anna, text)
    second = call(client, "POST", POSTS, anna, {**text, "acknowledge_personal": True})

    assert error_of(first, 409) == "personal_details"
    assert first.json()["error"]["details"] == {"field": "body", "kinds": ["address", "phone"]}
    assert second.status_code == 201, second.content
    assert Post.objects.get().flagged_personal is True


def test_the_sixth_post_in_a_day_is_rate_limited(client):
    anna = f.resident()
    for n in range(5):
        made = call(client, "POST", POSTS, anna, new_post(title=f"Spullen {n}"))
        assert made.status_code == 201, made.content

    response = call(client, "POST", POSTS, anna, new_post(title="Nog meer"))

    assert error_of(response, 429) == "rate_limited"
    assert Post.objects.count() == 5


@pytest.mark.parametrize(
    ("person", "changes", "status", "code"),
    [
        (lambda: f.resident(), {"terms": "help"}, 400, "terms_invalid"),
        (lambda: f.resident(), {"title": "<b></b>"}, 400, "title_required"),
        (lambda: f.resident(postcode=""), {}, 400, "postcode_required"),
        (lambda: f.resident(email_verified_at=None), {}, 409, "email_unconfirmed"),
        (lambda: f.youth(), {}, 403, "consent_required"),
        (lambda: f.resident(), {"kind": "tool"}, 422, "invalid_input"),
        (lambda: f.resident(), {"acknowledge_personal": "ja"}, 422, "invalid_input"),
    ],
)
def test_a_post_that_cannot_be_placed_is_refused_with_the_services_code(
    client, person, changes, status, code
):
    response = call(client, "POST", POSTS, person(), new_post(**changes))

    assert error_of(response, status) == code
    assert not Post.objects.exists()


def test_suspended_residents_filtered_words_and_duplicates_are_refused(client):
    suspended, anna = f.resident(), f.resident()
    f.suspend(suspended)
    f.word_filter(f.library(), "rotzooi")
    call(client, "POST", POSTS, anna, new_post())

    assert error_of(call(client, "POST", POSTS, suspended, new_post()), 403) == "suspended"
    filtered = call(client, "POST", POSTS, anna, new_post(title="Rotzooi te koop"))
    assert error_of(filtered, 400) == "word_filtered"
    assert error_of(call(client, "POST", POSTS, anna, new_post()), 409) == "duplicate_post"
    assert error_of(call(client, "POST", POSTS, None, new_post()), 401) == "not_authenticated"
    assert Post.objects.count() == 1


def test_a_youth_without_consent_may_post_an_idea(client):
    child = f.youth()

    response = call(
        client,
        "POST",
        POSTS,
        child,
        new_post(kind="idea", category="games", title="Spelletjesmiddag", terms=None),
    )

    assert response.status_code == 201, response.content
    assert response.json()["terms"] == "help"


def test_a_retry_with_the_same_idempotency_key_gives_one_post(client):
    anna = f.resident()
    headers = {**bearer(anna), "Idempotency-Key": "boor-1"}

    first = call(client, "POST", POSTS, body=new_post(), headers=headers)
    retry = call(client, "POST", POSTS, body=new_post(), headers=headers)
    other = call(client, "POST", POSTS, body=new_post(title="Iets anders"), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Post.objects.count() == 1
    assert error_of(other, 422) == "idempotency_key_reused"
    assert IdempotencyKey.objects.filter(user=anna).count() == 1


def test_a_session_write_needs_the_csrf_token(client):
    from django.test import Client

    anna = f.resident()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(anna)

    response = strict.post(POSTS, data=json.dumps(new_post()), content_type="application/json")

    assert error_of(response, 403) == "csrf_failed"
    assert not Post.objects.exists()


# --- responding ------------------------------------------------------------------------------


def respond_url(post) -> str:
    return f"{POSTS}/{post.pk}/responses"


def test_a_response_starts_a_conversation_with_the_author(client):
    offer, bram = f.post(), f.resident()

    first = call(
        client, "POST", respond_url(offer), bram, {"body": "Mag ik hem <b>lenen</b> zaterdag?"}
    )
    second = call(client, "POST", respond_url(offer), bram, {"body": "Zaterdag?"})

    assert first.status_code == second.status_code == 201, first.content
    conversation = Conversation.objects.get()
    assert (conversation.post, conversation.responder) == (offer, bram)
    assert first.json()["conversation_id"] == second.json()["conversation_id"] == conversation.pk
    message = Message.objects.get(pk=first.json()["message_id"])
    assert (message.sender, message.body) == (bram, "Mag ik hem lenen zaterdag?")
    assert first.json()["sent_at"] == NOW.isoformat()


def test_responses_that_cannot_be_sent_are_refused_with_the_services_code(client):
    author, bram = f.resident(), f.resident()
    offer = f.post(author=author)
    closed = f.post(status=Post.Status.CLOSED)
    hidden = f.post(status=Post.Status.HIDDEN)
    blocked_by = f.post()
    f.block(blocked_by.author, bram)
    hello = {"body": "Hallo"}

    assert error_of(call(client, "POST", respond_url(offer), author, hello), 409) == "own_post"
    assert error_of(call(client, "POST", respond_url(closed), bram, hello), 409) == (
        "post_not_open"
    )
    assert error_of(call(client, "POST", respond_url(hidden), bram, hello), 404) == (
        "post_not_found"
    )
    assert error_of(call(client, "POST", respond_url(blocked_by), bram, hello), 403) == "blocked"
    assert error_of(call(client, "POST", respond_url(offer), f.youth(), hello), 403) == (
        "consent_required"
    )
    assert error_of(call(client, "POST", respond_url(offer), bram, {"body": "<p></p>"}), 400) == (
        "body_required"
    )
    assert error_of(call(client, "POST", respond_url(offer), bram, {}), 422) == "invalid_input"
    assert error_of(call(client, "POST", respond_url(offer), None, hello), 401) == (
        "not_authenticated"
    )
    assert not Message.objects.exists()


# --- reporting -------------------------------------------------------------------------------


def test_a_post_is_reported_once_while_the_report_is_open(client):
    offer, bram = f.post(), f.resident()

    first = call(client, "POST", REPORTS, bram, {"reason": "spam", "post_id": offer.pk})
    again = call(client, "POST", REPORTS, bram, {"reason": "spam", "post_id": offer.pk})

    assert first.status_code == again.status_code == 201, first.content
    assert first.json() == again.json() == {"id": Report.objects.get().pk, "status": "open"}
    report = Report.objects.get()
    assert (report.reporter, report.post, report.subject_person) == (bram, offer, offer.author)


def test_a_message_is_reported_only_by_someone_in_its_conversation(client):
    offer, bram, stranger = f.post(), f.resident(), f.resident()
    message = messages.respond(post=offer, person=bram, body="Koop mijn spullen!")

    outsider = call(client, "POST", REPORTS, stranger, {"reason": "spam", "message_id": message.pk})
    unknown = call(client, "POST", REPORTS, stranger, {"reason": "spam", "message_id": 999999})
    insider = call(
        client,
        "POST",
        REPORTS,
        offer.author,
        {"reason": "spam", "message_id": message.pk, "note": "Reclame"},
    )

    assert error_of(outsider, 404) == "message_not_found"
    assert outsider.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert error_of(unknown, 404) == "message_not_found"
    assert insider.status_code == 201, insider.content
    report = Report.objects.get()
    assert (report.message, report.subject_person, report.note) == (message, bram, "Reclame")


def test_a_resident_is_reported_only_by_someone_they_have_a_conversation_with(client):
    offer, bram, stranger = f.post(), f.resident(), f.resident()
    messages.respond(post=offer, person=bram, body="Hallo")

    by_partner = call(
        client, "POST", REPORTS, offer.author, {"reason": "rude", "person_id": bram.pk}
    )
    by_stranger = call(client, "POST", REPORTS, stranger, {"reason": "rude", "person_id": bram.pk})

    assert by_partner.status_code == 201, by_partner.content
    assert Report.objects.get().subject_person == bram
    assert error_of(by_stranger, 404) == "person_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"reason": "spam"}, 400, "report_subject"),
        ({"reason": "spam", "post_id": "POST", "message_id": "MESSAGE"}, 400, "report_subject"),
        ({"reason": "boring", "post_id": "POST"}, 422, "invalid_input"),
        ({"reason": "spam", "post_id": 999999}, 404, "post_not_found"),
        ({"reason": "spam", "post_id": "HIDDEN"}, 404, "post_not_found"),
        ({"reason": "spam", "post_id": "OWN"}, 400, "report_self"),
    ],
)
def test_reports_that_cannot_be_made_are_refused(client, body, status, code):
    anna, bram = f.resident(), f.resident()
    offer = f.post(author=bram)
    message = messages.respond(post=offer, person=anna, body="Hallo")
    named = {
        "POST": offer.pk,
        "MESSAGE": message.pk,
        "HIDDEN": f.post(status=Post.Status.HIDDEN).pk,
        "OWN": f.post(author=anna).pk,
    }
    body = {key: named.get(value, value) for key, value in body.items()}

    assert error_of(call(client, "POST", REPORTS, anna, body), status) == code
    assert not Report.objects.exists()


def test_reports_are_rate_limited(client):
    anna = f.resident()
    for _n in range(10):
        made = call(client, "POST", REPORTS, anna, {"reason": "spam", "post_id": f.post().pk})
        assert made.status_code == 201, made.content

    response = call(client, "POST", REPORTS, anna, {"reason": "spam", "post_id": f.post().pk})

    assert error_of(response, 429) == "rate_limited"


# --- the document ----------------------------------------------------------------------------


def test_every_community_operation_is_documented_with_its_errors(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    operations = {
        ("get", "/api/v1/community/posts"): {"400", "404", "422"},
        ("post", "/api/v1/community/posts"): {"400", "401", "403", "409", "422", "429"},
        ("get", "/api/v1/community/posts/{post_id}"): {"401", "404", "422"},
        ("post", "/api/v1/community/posts/{post_id}/responses"): {"401", "404", "409", "429"},
        ("post", "/api/v1/community/reports"): {"400", "401", "404", "422", "429"},
    }

    for (method, path), statuses in operations.items():
        operation = paths[path][method]
        assert operation["summary"], path
        assert "`" in operation["description"], path
        assert statuses <= set(operation["responses"]), path
        assert ("security" in operation) == (method == "post"), path
    assert (
        "cannot be added through the API in this version"
        in paths["/api/v1/community/posts"]["post"]["description"]
    )
