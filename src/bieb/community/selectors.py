"""Reads of the community board that views, the API and other apps may use.

Residents are shown by ``author_label`` (first name and the initial of the last name), never
by e-mail address; a post's place is its postcode area and the distance to it. Photos are
listed without their bytes (``photo_public`` gives one photo to serve).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Power
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from bieb.community.models import (
    Category,
    Conversation,
    Exchange,
    ExchangeStatus,
    Photo,
    Post,
    PostKind,
    PostType,
    SavedSearch,
)
from bieb.core.errors import NotFound
from bieb.network.geo import bounding_box, haversine_km

DEFAULT_RADIUS_KM = 10
MAX_RADIUS_KM = 50
MAX_LIMIT = 100
QUERY_MAX_LENGTH = 100

#: Dutch name particles skipped for the initial ("de Vries" -> "V.")
PARTICLES = frozenset(
    "de den der des het 't te ten ter van von vande vanden op in 'd d' la le du".split()  # noqa: SIM905
)


#: kilometres per degree of latitude (and of longitude at the equator)
KM_PER_DEGREE = 111.195
#: candidates ranked exactly beyond the page (ties and the flat-earth approximation)
RANK_MARGIN = 50
#: the flat-earth circle (squared) is widened and narrowed by this factor around the
#: radius; between the two the exact distance decides (the flat earth errs < 1 % at 50 km)
EDGE_MARGIN = 1.05


def _squared_degrees(lat: float, lon: float):
    """Squared flat-earth distance in degrees from (``lat``, ``lon``), as a SQL expression."""
    stretch = math.cos(math.radians(lat))
    return Power(F("lat") - lat, 2) + Power((F("lon") - lon) * stretch, 2)


def post_path(post_id: int) -> str:
    """The path of a post's page (``community:post``), for links in mail."""
    try:
        return reverse("community:post", args=[post_id])
    except NoReverseMatch:  # the board's URLs are not mounted (tests of services alone)
        return f"/community/{post_id}"


def author_label(person: Any) -> str:
    """ "Anna V.": the first name and the initial of the last name (particles skipped)."""
    if person is None or getattr(person, "anonymised_at", None):
        return _("oud-deelnemer")
    first = " ".join((getattr(person, "first_name", "") or "").split())
    parts = [p for p in (getattr(person, "last_name", "") or "").split() if p]
    main = [p for p in parts if p.casefold() not in PARTICLES] or parts
    initial = f"{main[0][0].upper()}." if main else ""
    label = " ".join(part for part in (first, initial) if part)
    return label or _("bewoner")


def completed_exchanges(person: Any) -> int:
    """How many exchanges ``person`` completed, as giver or receiver."""
    if person is None or getattr(person, "pk", None) is None:
        return 0
    return Exchange.objects.filter(
        Q(giver_id=person.pk) | Q(receiver_id=person.pk), status=ExchangeStatus.DONE
    ).count()


def completed_exchanges_of(person_ids: Iterable[int]) -> dict[int, int]:
    """Completed exchanges per person id, as ``completed_exchanges`` counts them for one person:
    a ``defaultdict`` (an id not in it gives 0), two queries for any number of people."""
    ids = {pk for pk in person_ids if pk is not None}
    counts: dict[int, int] = defaultdict(int)
    if not ids:
        return counts
    done = Exchange.objects.filter(status=ExchangeStatus.DONE).order_by()
    for side in ("giver_id", "receiver_id"):
        rows = done.filter(**{f"{side}__in": ids}).values(side).annotate(n=Count("pk"))
        for row in rows:
            counts[row[side]] += row["n"]
    return counts


def _with_photo(queryset: QuerySet[Post]) -> QuerySet[Post]:
    """Annotate ``first_photo_id`` and ``photo_count`` (no image bytes are read)."""
    first = Photo.objects.filter(post=OuterRef("pk")).order_by("pk").values("pk")[:1]
    photo_count = (
        Photo.objects.filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(first_photo_id=Subquery(first), photo_count=Subquery(photo_count))


def _decorate(posts: list[Post], distances: dict[int, float] | None = None) -> list[Post]:
    for post in posts:
        post.distance_km = round(distances[post.pk], 1) if distances else None
        post.author_label = author_label(post.author)
        post.photo_count = post.photo_count or 0
    return posts


@dataclass
class Board:
    posts: list[Post]
    total: int
    #: the point distances are counted from (``near``), or None
    point: Any = None
    #: ``near`` was given but no place or postcode was found for it
    place_unknown: bool = False
    radius_km: int = DEFAULT_RADIUS_KM
    filters: dict[str, str] = field(default_factory=dict)


def _bounded(value: Any, low: int, high: int, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def board(
    *,
    municipality: Any = None,
    near: str | None = None,
    radius_km: Any = DEFAULT_RADIUS_KM,
    type: str = "",
    kind: str = "",
    category: str = "",
    q: str = "",
    limit: Any = 20,
    offset: Any = 0,
) -> Board:
    """Open posts, newest first; with ``near`` (a postcode or place) only those within
    ``radius_km`` (1 to 50), nearest first, each with ``distance_km``. Unknown filter values
    are ignored; ``q`` keeps posts whose title or text holds every word.

    Each post has ``author_label``, ``distance_km`` (None without ``near``),
    ``first_photo_id`` and ``photo_count``; ``total`` counts all that match.
    """
    from bieb.network.selectors import point_for_query

    limit = _bounded(limit, 1, MAX_LIMIT, 20)
    offset = _bounded(offset, 0, 10**9, 0)
    radius = _bounded(radius_km, 1, MAX_RADIUS_KM, DEFAULT_RADIUS_KM)
    filters = {
        "type": type if type in PostType.values else "",
        "kind": kind if kind in PostKind.values else "",
        "category": category if category in Category.values else "",
    }
    queryset = Post.objects.filter(status=Post.Status.OPEN)
    for name, value in filters.items():
        if value:
            queryset = queryset.filter(**{name: value})
    if municipality is not None:
        queryset = queryset.filter(municipality_id=getattr(municipality, "pk", municipality))
    words = " ".join(str(q or "").split())[:QUERY_MAX_LENGTH].split()
    for word in words:
        queryset = queryset.filter(Q(title__icontains=word) | Q(body__icontains=word))
    filters["q"] = " ".join(words)

    if near is not None and str(near).strip():
        point = point_for_query(str(near))
        if point is None:
            return Board([], 0, None, True, radius, filters)
        min_lat, max_lat, min_lon, max_lon = bounding_box(point.lat, point.lon, radius)
        # the database orders by a flat-earth distance (within 1 % of the true one up to
        # 50 km; the cosine is a constant for the point, so SQLite needs no trigonometry) and
        # counts what lies within the radius; the first candidates are ranked exactly below
        squared = _squared_degrees(point.lat, point.lon)
        limit_squared = (radius / KM_PER_DEGREE) ** 2
        within = (
            queryset.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)
            .annotate(squared=squared)
            .filter(squared__lte=limit_squared * EDGE_MARGIN)
        )
        rows = within.order_by("squared", "-created_at", "-pk").values_list(
            "pk", "lat", "lon", "created_at"
        )[: offset + limit + RANK_MARGIN]
        ranked = []
        for pk, lat, lon, created_at in rows:
            distance = haversine_km(point.lat, point.lon, lat, lon)
            if distance <= radius:
                ranked.append((round(distance, 1), -created_at.timestamp(), -pk, distance))
        # inside the inner circle every post is within the radius; the thin ring between the
        # two circles is decided by the exact distance
        inner = limit_squared / EDGE_MARGIN
        total = within.filter(squared__lte=inner).count() + sum(
            1
            for lat, lon in within.filter(squared__gt=inner).values_list("lat", "lon")
            if haversine_km(point.lat, point.lon, lat, lon) <= radius
        )
        ranked.sort()
        page = ranked[offset : offset + limit]
        distances = {-row[2]: row[3] for row in page}
        by_pk = _with_photo(
            Post.objects.select_related("author", "municipality").filter(pk__in=distances)
        ).in_bulk()
        posts = [by_pk[-row[2]] for row in page if -row[2] in by_pk]
        return Board(_decorate(posts, distances), total, point, False, radius, filters)

    total = queryset.count()
    posts = list(
        _with_photo(queryset.select_related("author", "municipality")).order_by(
            "-created_at", "-pk"
        )[offset : offset + limit]
    )
    return Board(_decorate(posts), total, None, False, radius, filters)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def post_public(pk: Any, *, viewer: Any = None) -> Post:
    """One post (open or closed) with ``author_label``, ``photos`` (without their bytes) and
    ``links`` (links in the text, shown as plain text with a warning). A hidden post is not
    found, except for its author (who sees ``hidden_reason``)."""
    from bieb.community import text

    post = (
        Post.objects.select_related("author", "municipality", "activity").filter(pk=_pk(pk)).first()
    )
    viewer_id = getattr(viewer, "pk", None) if getattr(viewer, "is_authenticated", False) else None
    if post is None or (post.status == Post.Status.HIDDEN and post.author_id != viewer_id):
        raise NotFound("not_found", _("Dit bericht bestaat niet (meer)."))
    post.author_label = author_label(post.author)
    post.photo_list = list(
        Photo.objects.filter(post=post).only("pk", "post_id", "width", "height", "alt")
    )
    post.links = text.links_in(f"{post.body}\n{post.availability}")
    post.is_own = viewer_id is not None and viewer_id == post.author_id
    return post


def photo_public(pk: Any, *, viewer: Any = None, thumbnail: bool | None = None) -> Photo:
    """A photo to serve (``image`` and ``thumbnail`` bytes; only the one asked for when
    ``thumbnail`` is given), if its post may be seen."""
    queryset = Photo.objects.select_related("post")
    if thumbnail is not None:
        queryset = queryset.defer("image" if thumbnail else "thumbnail")
    photo = queryset.filter(pk=_pk(pk)).first()
    viewer_id = getattr(viewer, "pk", None) if getattr(viewer, "is_authenticated", False) else None
    if photo is None or (
        photo.post.status == Post.Status.HIDDEN and photo.post.author_id != viewer_id
    ):
        raise NotFound("not_found", _("Deze foto bestaat niet (meer)."))
    return photo


def my_posts(person: Any) -> list[Post]:
    """The person's own posts, every status (hidden ones with the reason), newest first, each
    with ``first_photo_id``, ``photo_count`` and ``conversation_count``."""
    if getattr(person, "pk", None) is None:
        return []
    conversations = (
        Conversation.objects.filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    posts = list(
        _with_photo(Post.objects.filter(author_id=person.pk).select_related("municipality"))
        .annotate(conversation_count=Subquery(conversations))
        .order_by("-created_at", "-pk")
    )
    for post in posts:
        post.photo_count = post.photo_count or 0
        post.conversation_count = post.conversation_count or 0
    return posts


def my_saved_searches(person: Any) -> list[SavedSearch]:
    if getattr(person, "pk", None) is None:
        return []
    return list(SavedSearch.objects.filter(person_id=person.pk).order_by("created_at", "pk"))


def ideas_to_review(organisation_ids: Any) -> list[Post]:
    """Open ideas for activities waiting for a decision of one of ``organisation_ids``: those
    of residents of these organisations, and of residents without a home organisation in a
    municipality they serve. Oldest first, each with ``author_label``."""
    from bieb.network.models import Organisation

    ids = {int(pk) for pk in organisation_ids or ()}
    if not ids:
        return []
    municipality_ids = Organisation.municipalities.through.objects.filter(
        organisation_id__in=ids
    ).values("municipality_id")
    posts = list(
        Post.objects.filter(
            kind=PostKind.IDEA, status=Post.Status.OPEN, idea_status__in=("", "pending")
        )
        .filter(
            Q(author__home_organisation_id__in=ids)
            | Q(author__home_organisation__isnull=True, municipality_id__in=municipality_ids)
        )
        .select_related("author", "municipality")
        .order_by("created_at", "pk")
    )
    for post in posts:
        post.author_label = author_label(post.author)
    return posts


def community_figures(*, date_from, date_to, municipality_ids=None):
    """Exchanges, participants (by age group and municipality), posts by kind and handovers per
    location of a period, groups under 10 hidden (``figures.community_figures``)."""
    from bieb.community import figures

    return figures.community_figures(
        date_from=date_from, date_to=date_to, municipality_ids=municipality_ids
    )
