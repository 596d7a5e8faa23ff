"""Matching offers and requests nearby, telling residents (once a day), and saved searches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from bieb.community import matching, posts, selectors
from bieb.community.models import Post, SavedSearch
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import DomainError

pytestmark = pytest.mark.django_db


def code_of(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def offer(person, title="Boormachine te leen", **kw):
    fields = {
        "type": "offer",
        "kind": "thing",
        "category": "tools",
        "title": title,
        "body": "Een stevige klopboormachine met boortjes.",
        "terms": "lend",
    }
    fields.update(kw)
    return posts.post_create(person=person, **fields)


def request(**kw):
    kw.setdefault("type", Post.Type.REQUEST)
    kw.setdefault("title", "Gezocht: boormachine")
    return f.post(**kw)


def mails_to(person) -> list:
    return [message for message in mail.outbox if message.to == [person.email]]


# --- matches ---------------------------------------------------------------------------------


def test_matches_are_nearby_posts_of_the_other_type_and_kind_most_alike_then_nearest():
    wanted = request(author=f.resident(pc4="3511"))
    near_ladder = f.post(title="Ladder", pc4="3512")
    drill_further = f.post(title="Boormachines", pc4="3581")
    drill_far = f.post(title="Boormachine", pc4="3431")  # Nieuwegein, about 8 km
    drill_near = f.post(title="Mijn boormachine", pc4="3512")
    f.post(title="Boormachine", pc4="1011")  # Amsterdam, 35 km
    request(title="Boormachine", pc4="3512")  # also a request
    f.post(title="Boormachine", kind="skill", pc4="3512")
    f.post(title="Boormachine", category="garden", pc4="3512")
    f.post(title="Boormachine", status=Post.Status.CLOSED, pc4="3512")
    f.post(title="Boormachine", status=Post.Status.HIDDEN, pc4="3512")
    f.post(title="Boormachine", author=wanted.author)

    found = matching.matches_for(wanted)

    assert [m.post for m in found] == [drill_near, drill_further, drill_far, near_ladder]
    assert [m.shared_words for m in found] == [1, 1, 1, 0]
    assert found[0].distance_km < found[1].distance_km < found[2].distance_km <= 10
    assert 7 < found[2].distance_km < 9
    assert len(matching.matches_for(wanted, limit=2)) == 2


def test_residents_who_blocked_each_other_do_not_match():
    wanted = request()
    blocker = f.post(pc4="3512")
    blocked = f.post(pc4="3512")
    f.block(blocker.author, wanted.author)
    f.block(wanted.author, blocked.author)

    assert matching.matches_for(wanted) == []


def test_the_authors_of_matching_requests_are_told_once_a_day_without_the_offerers_identity(
    django_capture_on_commit_callbacks,
):
    asker = f.resident(pc4="3512")
    wanted = request(author=asker)
    giver = f.resident(first_name="Gerrit", last_name="Bakker")
    start = clock.now()

    with clock.frozen(start), django_capture_on_commit_callbacks(execute=True):
        made = offer(giver)
    [message] = mails_to(asker)
    assert "Boormachine te leen" in message.subject
    assert selectors.post_path(made.pk) in message.body
    assert wanted.title in message.body
    assert "Gerrit" not in message.body and "Bakker" not in message.body
    assert giver.email not in message.body and giver.email not in message.subject
    assert mails_to(giver) == []

    with (
        clock.frozen(start + dt.timedelta(hours=2)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        offer(f.resident(), title="Nog een boormachine")
    assert len(mails_to(asker)) == 1

    with (
        clock.frozen(start + dt.timedelta(hours=25)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        offer(f.resident(), title="Boormachine van de buren")
    assert len(mails_to(asker)) == 2


def test_someone_who_blocked_the_author_is_not_told(django_capture_on_commit_callbacks):
    giver = f.resident()
    asker = f.resident()
    request(author=asker)
    f.saved_search(person=asker, type="offer")
    f.block(asker, giver)

    with django_capture_on_commit_callbacks(execute=True):
        offer(giver)

    assert mail.outbox == []


def test_a_refused_post_tells_nobody(django_capture_on_commit_callbacks):
    asker = f.resident()
    request(author=asker)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        offer(f.resident(), body="Bel 06-12345678")

    assert mail.outbox == []


# --- saved searches ------------------------------------------------------------------------


def test_saved_searches_that_match_are_told_once_per_search_per_day(
    django_capture_on_commit_callbacks,
):
    giver = f.resident(pc4="3511")
    fan = f.resident(pc4="3581")
    wide = f.saved_search(person=fan, type="offer", kind="thing", words="boor", radius_km=5)
    far = f.saved_search(person=f.resident(pc4="1011"), radius_km=10)
    other_words = f.saved_search(words="naaimachine")
    other_type = f.saved_search(type="request")
    other_category = f.saved_search(category="garden")
    own = f.saved_search(person=giver)
    start = clock.now()

    with clock.frozen(start), django_capture_on_commit_callbacks(execute=True):
        made = offer(giver)

    assert [m.to for m in mail.outbox] == [[fan.email]]
    [message] = mail.outbox
    assert "Boormachine te leen" in message.subject and selectors.post_path(made.pk) in message.body
    assert giver.first_name not in message.body.replace(f"Hallo {fan.first_name}", "")
    wide.refresh_from_db()
    assert wide.last_notified_at == start
    for search in (far, other_words, other_type, other_category, own):
        search.refresh_from_db()
        assert search.last_notified_at is None

    with (
        clock.frozen(start + dt.timedelta(hours=3)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        offer(f.resident(), title="Boor voor beton")
    assert len(mails_to(fan)) == 1
    assert len(mails_to(giver)) == 1  # their own search, for someone else's post

    with (
        clock.frozen(start + dt.timedelta(hours=25)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        offer(f.resident(), title="Boorset")
    assert len(mails_to(fan)) == 2


def test_a_resident_with_a_matching_post_and_a_saved_search_gets_one_mail(
    django_capture_on_commit_callbacks,
):
    asker = f.resident()
    request(author=asker)
    f.saved_search(person=asker, type="offer")

    with django_capture_on_commit_callbacks(execute=True):
        offer(f.resident())

    assert len(mails_to(asker)) == 1


def test_a_saved_search_is_made_from_the_residents_own_area():
    person = f.resident(pc4="3581", postcode="3581 KL")

    search = matching.saved_search_create(
        person=person, type="offer", kind="thing", category="", words=" <b>boor</b> ", radius_km=8
    )

    assert (search.pc4, search.lat, search.lon) == ("3581", f.area("3581").lat, f.area("3581").lon)
    assert (search.words, search.radius_km, search.category) == ("boor", 8, "")


def test_saved_search_refusals():
    person = f.resident()

    assert code_of(lambda: matching.saved_search_create(person=person, radius_km=0)) == (
        "radius_invalid"
    )
    assert code_of(lambda: matching.saved_search_create(person=person, radius_km=51)) == (
        "radius_invalid"
    )
    assert code_of(lambda: matching.saved_search_create(person=person, type="gift")) == (
        "invalid_choice"
    )
    assert code_of(
        lambda: matching.saved_search_create(person=f.resident(postcode=""), radius_km=5)
    ) == ("postcode_required")
    suspended = f.resident()
    f.suspend(suspended)
    assert code_of(lambda: matching.saved_search_create(person=suspended)) == "suspended"

    for n in range(matching.MAX_SEARCHES):
        matching.saved_search_create(person=person, words=f"woord{n}")
    assert code_of(lambda: matching.saved_search_create(person=person)) == "too_many_searches"


def test_a_resident_deletes_only_their_own_saved_search():
    person = f.resident()
    search = matching.saved_search_create(person=person, words="boor")

    assert code_of(
        lambda: matching.saved_search_delete(person=f.resident(), search_id=search.pk)
    ) == ("not_found")
    assert code_of(lambda: matching.saved_search_delete(person=person, search_id="x")) == (
        "not_found"
    )
    matching.saved_search_delete(person=person, search_id=search.pk)
    assert not SavedSearch.objects.exists()


def test_words_match_whole_words_and_their_longer_forms():
    assert matching.words_of("Gezocht: een FIETS, of twee fietsen!") == {"fiets", "twee", "fietsen"}
    assert matching.shared_words({"boor"}, {"boormachine"}) == 1
    assert matching.shared_words({"fiets"}, {"fietsen"}) == 1
    assert matching.shared_words({"bed"}, {"bedrijf"}) == 0
    assert matching.words_of("Café de Boom") == {"cafe", "boom"}
