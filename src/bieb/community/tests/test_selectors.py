"""Reads of the board: near me and filters, one post, labels of residents, my posts, ideas."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.community import posts, selectors
from bieb.community.models import Photo, Post
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import NotFound

pytestmark = pytest.mark.django_db


def at(minutes_ago: int):
    return clock.now() - dt.timedelta(minutes=minutes_ago)


def test_the_board_shows_open_posts_newest_first_with_a_total():
    old = f.post(created_at=at(30))
    new = f.post(created_at=at(10))
    middle = f.post(created_at=at(20))
    f.post(status=Post.Status.CLOSED)
    f.post(status=Post.Status.HIDDEN)

    page = selectors.board(limit=2)

    assert (page.posts, page.total) == ([new, middle], 3)
    assert selectors.board(limit=2, offset=2).posts == [old]
    assert page.posts[0].distance_km is None and page.point is None


def test_the_board_filters_by_type_kind_category_words_and_municipality():
    drill = f.post(title="Boormachine", body="Met boortjes")
    wanted = f.post(type="request", title="Gezocht: ladder", body="Voor een dag.")
    skill = f.post(kind="skill", category="digital", title="Hulp met je telefoon", body="Uitleg.")
    amsterdam = f.post(
        author=f.resident(pc4="1011"), title="Boormachine in Amsterdam", body="Te leen."
    )

    assert selectors.board(type="request").posts == [wanted]
    assert selectors.board(kind="skill").posts == [skill]
    assert selectors.board(category="digital").posts == [skill]
    assert selectors.board(q="BOORTJES").posts == [drill]
    assert selectors.board(q="boormachine amsterdam").posts == [amsterdam]
    assert set(selectors.board(municipality=f.municipality("GM0344")).posts) == {
        drill,
        wanted,
        skill,
    }
    assert selectors.board(municipality=f.municipality("GM0363").pk).posts == [amsterdam]
    # unknown values are ignored rather than refused
    assert selectors.board(type="gift", kind="car", category="x").total == 4


def test_the_board_near_a_postcode_is_nearest_first_within_the_radius():
    here = f.post(pc4="3511", created_at=at(50))
    half_km = f.post(pc4="3512", created_at=at(1))
    two_km = f.post(pc4="3581", created_at=at(5))
    nieuwegein = f.post(pc4="3431")
    f.post(pc4="1011")

    page = selectors.board(near="3511 AB", radius_km=10)

    assert page.posts == [here, half_km, two_km, nieuwegein]
    assert page.total == 4
    assert [p.distance_km for p in page.posts][:2] == [0.0, 0.6]
    assert 7 < page.posts[-1].distance_km < 9
    assert page.point.label == "3511 Utrecht"
    assert selectors.board(near="3511", radius_km=5).posts == [here, half_km, two_km]
    assert selectors.board(near="3511", radius_km=10, limit=1, offset=1).posts == [half_km]
    assert selectors.board(near="3511", type="request").total == 0


def test_the_board_near_a_place_name_and_an_unknown_place():
    f.area("3512")
    f.area("3581")
    near_centre = f.post(pc4="3511")

    assert near_centre in selectors.board(near="utrecht").posts
    unknown = selectors.board(near="Atlantis")
    assert (unknown.posts, unknown.total, unknown.place_unknown) == ([], 0, True)


def test_the_board_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    for n in range(6):
        made = f.post(pc4="3512" if n % 2 else "3511")
        Photo.objects.create(post=made, image=b"x", thumbnail=b"y", width=1, height=1)
    f.area("3511")

    with django_assert_max_num_queries(5):
        page = selectors.board(near="3511")
    with django_assert_max_num_queries(2):
        newest = selectors.board()

    assert len(page.posts) == len(newest.posts) == 6
    assert all(p.photo_count == 1 and p.first_photo_id for p in page.posts)
    assert all(p.author_label.startswith("Anna ") for p in newest.posts)


def test_a_hidden_post_is_not_found_except_by_its_author():
    hidden = f.post(status=Post.Status.HIDDEN, hidden_reason="Reclame.")
    closed = f.post(status=Post.Status.CLOSED)
    photo = Photo.objects.create(post=hidden, image=b"x", thumbnail=b"y", width=1, height=1)

    with pytest.raises(NotFound):
        selectors.post_public(hidden.pk)
    with pytest.raises(NotFound):
        selectors.post_public(hidden.pk, viewer=f.resident())
    with pytest.raises(NotFound):
        selectors.photo_public(photo.pk)
    with pytest.raises(NotFound):
        selectors.post_public("1 or 1=1")
    seen = selectors.post_public(hidden.pk, viewer=hidden.author)
    assert seen.hidden_reason == "Reclame." and seen.is_own
    assert selectors.photo_public(photo.pk, viewer=hidden.author) == photo
    assert selectors.post_public(closed.pk).status == Post.Status.CLOSED


def test_a_post_page_has_the_label_photos_without_bytes_and_links_as_text():
    made = f.post(body="Zie www.example.nl/boor of https://x.test/a voor foto's.")
    Photo.objects.create(post=made, image=b"x" * 100, thumbnail=b"y", width=10, height=5)

    seen = selectors.post_public(str(made.pk))

    assert seen.author_label == selectors.author_label(made.author)
    assert [(p.width, p.height) for p in seen.photo_list] == [(10, 5)]
    assert "image" in seen.photo_list[0].get_deferred_fields()
    assert seen.links == ["www.example.nl/boor", "https://x.test/a"]


def test_a_resident_is_named_by_first_name_and_initial_never_the_email():
    person = f.resident(first_name="Fatima", last_name="de Vries", email="fatima@example.nl")

    assert selectors.author_label(person) == "Fatima V."
    assert selectors.author_label(f.resident(first_name="Jan", last_name="van der Berg")) == (
        "Jan B."
    )
    assert selectors.author_label(f.resident(first_name="Kees", last_name="")) == "Kees"
    nameless = f.resident(first_name="", last_name="", email="geheim@example.nl")
    assert "geheim" not in selectors.author_label(nameless)
    assert selectors.author_label(None) == "oud-deelnemer"


def test_completed_exchanges_count_done_ones_on_both_sides():
    person = f.resident()
    given = f.post(author=person)
    asked = f.post(author=person, type="request")
    f.exchange(given, status="done")
    f.exchange(asked, status="done")
    f.exchange(given, status="agreed")
    f.exchange(f.post(), status="cancelled")

    assert selectors.completed_exchanges(person) == 2
    assert selectors.completed_exchanges(f.resident()) == 0


def test_my_posts_lists_every_status_with_counts():
    person = f.resident()
    hidden = f.post(author=person, status=Post.Status.HIDDEN, created_at=at(20))
    open_one = f.post(author=person, created_at=at(10))
    f.conversation(open_one)
    f.post()

    mine = selectors.my_posts(person)

    assert mine == [open_one, hidden]
    assert (mine[0].conversation_count, mine[0].photo_count) == (1, 0)
    assert selectors.my_posts(None) == []


def test_ideas_to_review_are_those_of_the_organisations_residents():
    utrecht = f.library("GM0344")
    idea = posts.post_create(
        person=f.resident(),
        type="offer",
        kind="idea",
        category="games",
        title="Spelletjesmiddag",
        body="Elke maand bordspellen.",
        terms="",
    )
    homeless = f.post(
        author=f.resident(home_organisation=None),
        kind="idea",
        idea_status="pending",
        created_at=at(1),
    )
    f.post(kind="idea", idea_status="rejected")
    f.post(kind="thing")
    f.post(author=f.resident(pc4="1011"), kind="idea", idea_status="pending")

    assert selectors.ideas_to_review({utrecht.pk}) == [homeless, idea]  # oldest first
    assert selectors.ideas_to_review({f.library("GM0356").pk}) == []
    assert selectors.ideas_to_review(set()) == []


def test_my_saved_searches():
    person = f.resident()
    search = f.saved_search(person=person)
    f.saved_search()

    assert selectors.my_saved_searches(person) == [search]


def test_near_me_ranks_and_counts_like_the_exact_distance_in_a_busy_area():
    """Many posts in one box: the page and the count are those of the exact distance (the
    database's flat-earth order only picks the candidates)."""
    from bieb.network.geo import haversine_km

    near, far = f.area("3511"), f.area("3431")
    for n in range(30):
        f.post(pc4="3511" if n % 3 else "3431")
    f.post(pc4="1011")  # 35 km away: outside
    page = selectors.board(near="3511", radius_km=10, limit=12)
    posts = list(Post.objects.filter(status="open"))
    exact = sorted(
        (
            round(haversine_km(near.lat, near.lon, p.lat, p.lon), 1),
            -p.created_at.timestamp(),
            -p.pk,
        )
        for p in posts
        if haversine_km(near.lat, near.lon, p.lat, p.lon) <= 10
    )
    assert page.total == len(exact) == 30
    assert [p.pk for p in page.posts] == [-row[2] for row in exact[:12]]
    assert far.pc4 == "3431"
