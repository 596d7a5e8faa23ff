"""Matching offers and requests, and telling residents about new posts.

- ``matches_for(post)``: open posts of the other type (offers for a request, requests for an
  offer), of the same kind (and category), within ``MATCH_RADIUS_KM`` of the post's area, not
  by the author and not between residents who blocked each other. The database narrows to a
  bounding box; the exact distance is counted here. Ranked by the words the titles share
  (most first), then by distance, then newest.
- ``notify_new_post(post)``: tells (a) the authors of matching posts (at most one such mail
  per resident per ``NOTICE_EVERY``) and (b) the residents whose saved searches match (at most
  one mail per search per ``NOTICE_EVERY``, counted with ``last_notified_at``). Never the author
  themself, never someone who blocked the author or whom the author blocked. The mail names
  the post's title and links to it; it does not say who wrote it.
- ``saved_search_create`` / ``saved_search_delete``: "notify me" from the resident's own area.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.community import guard, notify, text
from bieb.community.models import Block, Category, Post, PostKind, PostType, SavedSearch
from bieb.community.selectors import post_path
from bieb.core import clock
from bieb.core.audit import audit_record, subject_of
from bieb.core.errors import DomainError, NotFound
from bieb.core.models import AuditEvent
from bieb.network.geo import bounding_box, haversine_km

MATCH_RADIUS_KM = 10.0
#: at most one mail of each kind per resident (matches) or per saved search in this time
NOTICE_EVERY = dt.timedelta(hours=24)
MAX_SEARCHES = 10
MAX_SEARCH_RADIUS_KM = 50
#: the newest this many posts inside the box are ranked (a dense city has enough in them)
CANDIDATES = 2000
#: the audit action that records a "new matching post" mail (and so its once-a-day limit)
MATCH_NOTICE = "community.match_notice"

_WORD = re.compile(r"\w+")
#: words too common to say that two titles are about the same thing
STOPWORDS = frozenset(
    """de het een en of van voor met op in aan bij om te tot uit over door naar als die dat
    dit deze wie wat ik je jij u we wij ze zij mijn jouw ons onze zoek zoekt gezocht gevraagd
    aangeboden bied biedt leen lenen geven weggeven ruilen hulp help helpen iemand graag
    nodig mag kan wil for the and with a an to of""".split()  # noqa: SIM905
)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(value: str) -> set[str]:
    """The meaningful words of a text: folded, at least three letters, no stop words."""
    return {
        word
        for word in _WORD.findall(_fold(value))
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit()
    }


def _same_word(a: str, b: str) -> bool:
    """Equal, or one starts with the other and is at least four letters ("fiets", "fietsen";
    "boor", "boormachine")."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long.startswith(short)


def shared_words(a: set[str], b: set[str]) -> int:
    return sum(1 for word in a if any(_same_word(word, other) for other in b))


def _blocked_between(person_id: int) -> set[int]:
    """Residents who blocked ``person_id`` or whom they blocked."""
    pairs = Block.objects.filter(Q(blocker_id=person_id) | Q(blocked_id=person_id)).values_list(
        "blocker_id", "blocked_id"
    )
    return {a if b == person_id else b for a, b in pairs}


def _in_box(queryset, lat: float, lon: float, radius_km: float):
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_km)
    return queryset.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)


@dataclass
class Match:
    post: Post
    distance_km: float
    shared_words: int


def matches_for(post: Post, *, limit: int = 20) -> list[Match]:
    """Open posts of the other type that may answer ``post``, nearest and most alike first."""
    other_type = PostType.REQUEST if post.type == PostType.OFFER else PostType.OFFER
    candidates = Post.objects.filter(
        status=Post.Status.OPEN, type=other_type, kind=post.kind
    ).exclude(author_id=post.author_id)
    if post.category:
        candidates = candidates.filter(category=post.category)
    blocked = _blocked_between(post.author_id)
    if blocked:
        candidates = candidates.exclude(author_id__in=blocked)
    rows = _in_box(candidates, post.lat, post.lon, MATCH_RADIUS_KM).order_by("-created_at", "-pk")
    own_words = words_of(post.title)
    ranked = []
    for pk, lat, lon, title, created_at in rows.values_list(
        "pk", "lat", "lon", "title", "created_at"
    )[:CANDIDATES]:
        distance = haversine_km(post.lat, post.lon, lat, lon)
        if distance <= MATCH_RADIUS_KM:
            shared = shared_words(own_words, words_of(title))
            ranked.append((-shared, round(distance, 1), -created_at.timestamp(), -pk, distance))
    ranked.sort()
    ranked = ranked[: max(0, limit)]
    by_pk = Post.objects.select_related("municipality").in_bulk([-row[3] for row in ranked])
    return [
        Match(post=by_pk[-row[3]], distance_km=round(row[4], 1), shared_words=-row[0])
        for row in ranked
        if -row[3] in by_pk
    ]


# --- telling residents -------------------------------------------------------------------------


def _recently_told_of_matches(person_ids: set[int], since: dt.datetime) -> set[int]:
    subjects = {f"accounts.user:{pk}": pk for pk in person_ids}
    if not subjects:
        return set()
    told = AuditEvent.objects.filter(
        action=MATCH_NOTICE, subject__in=list(subjects), occurred_at__gte=since
    ).values_list("subject", flat=True)
    return {subjects[subject] for subject in told}


def _search_matches(search: SavedSearch, post: Post, post_words: set[str]) -> bool:
    if haversine_km(search.lat, search.lon, post.lat, post.lon) > search.radius_km:
        return False
    wanted = words_of(search.words)
    return all(any(_same_word(word, other) for other in post_words) for word in wanted)


def notify_new_post(post: Post, *, site_url: str = "") -> list[int]:
    """Tell residents about a new open post (mail after commit); the ids of those told.

    Call inside the transaction that created the post: the once-a-day marks are written in
    it (an audit row per resident told of a match; ``last_notified_at`` of saved searches).
    """
    if post.status != Post.Status.OPEN:
        return []
    now = clock.now()
    since = now - NOTICE_EVERY
    author_id = post.author_id
    # either way: someone the author blocked is not matched with them either
    blockers = _blocked_between(author_id)
    told: list[int] = []
    path = post_path(post.pk)

    # (a) residents whose own open posts match
    own_post_of: dict[int, Post] = {}
    for match in matches_for(post, limit=200):
        other = match.post
        if other.author_id != author_id and other.author_id not in blockers:
            own_post_of.setdefault(other.author_id, other)
    recent = _recently_told_of_matches(set(own_post_of), since)
    people = _people({pk for pk in own_post_of if pk not in recent})
    for person_id, person in people.items():
        audit_record(
            action=MATCH_NOTICE,
            actor=None,
            subject=f"accounts.user:{person_id}",
            data={"post": post.pk, "their_post": own_post_of[person_id].pk},
        )
        notify.tell(
            person,
            "match_found",
            site_url=site_url,
            post_title=post.title,
            post_type=post.type,
            post_kind=post.get_kind_display(),
            their_title=own_post_of[person_id].title,
            path=path,
        )
        told.append(person_id)

    # (b) saved searches
    searches = SavedSearch.objects.filter(
        Q(type="") | Q(type=post.type),
        Q(kind="") | Q(kind=post.kind),
        Q(category="") | Q(category=post.category),
        Q(last_notified_at__isnull=True) | Q(last_notified_at__lt=since),
    ).exclude(person_id=author_id)
    if blockers:
        searches = searches.exclude(person_id__in=blockers)
    searches = _in_box(searches, post.lat, post.lon, MAX_SEARCH_RADIUS_KM)
    post_words = words_of(f"{post.title} {post.body}")
    by_person: dict[int, list[SavedSearch]] = defaultdict(list)
    for search in searches:
        if _search_matches(search, post, post_words):
            by_person[search.person_id].append(search)
    people = _people({pk for pk in by_person if pk not in told})
    for person_id, person in people.items():
        # a conditional UPDATE: two posts at once do not both mail for one search
        marked = (
            SavedSearch.objects.filter(pk__in=[s.pk for s in by_person[person_id]])
            .filter(Q(last_notified_at__isnull=True) | Q(last_notified_at__lt=since))
            .update(last_notified_at=now)
        )
        if not marked:
            continue
        notify.tell(
            person,
            "saved_search_found",
            site_url=site_url,
            post_title=post.title,
            post_type=post.type,
            post_kind=post.get_kind_display(),
            path=path,
        )
        told.append(person_id)
    return told


def _people(ids: set[int]) -> dict[int, Any]:
    from bieb.accounts.models import User

    if not ids:
        return {}
    found = User.objects.filter(pk__in=ids, is_active=True, anonymised_at__isnull=True)
    return {person.pk: person for person in found.order_by("pk")}


# --- saved searches ----------------------------------------------------------------------------


def _choice(value: str, choices, field_name: str) -> str:
    value = (value or "").strip()
    if value and value not in choices.values:
        raise DomainError(
            "invalid_choice", _("Kies een geldige waarde."), details={"field": field_name}
        )
    return value


def saved_search_create(
    *,
    person: Any,
    type: str = "",
    kind: str = "",
    category: str = "",
    words: str = "",
    radius_km: int = 5,
) -> SavedSearch:
    """ "Notify me" about new posts like this within ``radius_km`` (1 to 50) of the person's own
    postcode area; at most ``MAX_SEARCHES`` per person."""
    from bieb.accounts.models import User
    from bieb.community.posts import area_of

    guard.check_may_take_part(person)
    type = _choice(type, PostType, "type")
    kind = _choice(kind, PostKind, "kind")
    category = _choice(category, Category, "category")
    words = text.clean(words, max_length=100, single_line=True)
    try:
        radius_km = int(radius_km)
    except (TypeError, ValueError):
        radius_km = 0
    if not 1 <= radius_km <= MAX_SEARCH_RADIUS_KM:
        raise DomainError(
            "radius_invalid",
            _("Kies een afstand van 1 tot %(n)s km.") % {"n": MAX_SEARCH_RADIUS_KM},
            details={"field": "radius_km"},
        )
    place = area_of(person)
    with transaction.atomic():
        # one person's searches are counted under a lock of their account row
        User.objects.select_for_update().filter(pk=person.pk).first()
        if SavedSearch.objects.filter(person_id=person.pk).count() >= MAX_SEARCHES:
            raise DomainError(
                "too_many_searches",
                _("Je kunt hoogstens %(n)s zoekopdrachten bewaren. Verwijder er eerst een.")
                % {"n": MAX_SEARCHES},
                status=409,
            )
        search = SavedSearch.objects.create(
            person=person,
            type=type,
            kind=kind,
            category=category,
            words=words,
            pc4=place.pc4,
            lat=place.lat,
            lon=place.lon,
            radius_km=radius_km,
        )
        audit_record(
            action="community.saved_search_create",
            actor=person,
            subject=search,
            data={"radius_km": radius_km},
        )
    return search


def saved_search_delete(*, person: Any, search_id: Any) -> None:
    """Remove one of the person's saved searches (another's, or none, is not found)."""
    try:
        pk = int(search_id)
    except (TypeError, ValueError):
        pk = 0
    with transaction.atomic():
        search = SavedSearch.objects.filter(pk=pk, person_id=getattr(person, "pk", None)).first()
        if search is None:
            raise NotFound("not_found", _("Deze zoekopdracht bestaat niet (meer)."))
        audit_record(
            action="community.saved_search_delete", actor=person, subject=subject_of(search)
        )
        search.delete()
