"""Figures of the community library for the insights issue and the staff screens.

- *exchanges made*: exchanges marked done in the period;
- *residents taking part*: distinct residents who posted, responded or exchanged in the
  period, by age group and by municipality;
- *offers and requests by kind*: posts placed in the period;
- *handovers at each location*: handovers picked up in the period, per location.

Privacy: a group (an age group, a municipality, a location) of fewer than ``MIN_GROUP`` is
given as ``None``, so nobody can be singled out; totals are counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from bieb.community.models import (
    Conversation,
    Exchange,
    ExchangeStatus,
    Handover,
    HandoverStatus,
    Post,
    PostKind,
    PostType,
)
from bieb.core import clock
from bieb.subscriptions.figures import PRIVACY_THRESHOLD

#: the project's privacy rule: statistics about people only for groups of 10 or more
MIN_GROUP = PRIVACY_THRESHOLD
AGE_GROUPS = (
    ("0-15", 0, 15),
    ("16-17", 16, 17),
    ("18-34", 18, 34),
    ("35-64", 35, 64),
    ("65+", 65, 200),
)


def age_group(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    for label, low, high in AGE_GROUPS:
        if low <= age <= high:
            return label
    return "unknown"


def _shown(counter: Counter) -> dict[str, int | None]:
    return {key: (n if n >= MIN_GROUP else None) for key, n in sorted(counter.items())}


@dataclass
class CommunityFigures:
    date_from: dt.date
    date_to: dt.date
    exchanges_done: int = 0
    participants: int = 0
    participants_by_age_group: dict[str, int | None] = field(default_factory=dict)
    participants_by_municipality: dict[str, int | None] = field(default_factory=dict)
    posts_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    handovers_by_location: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "exchanges_done": self.exchanges_done,
            "participants": self.participants,
            "participants_by_age_group": self.participants_by_age_group,
            "participants_by_municipality": self.participants_by_municipality,
            "posts_by_kind": self.posts_by_kind,
            "handovers_by_location": self.handovers_by_location,
        }


def _period(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=clock.AMSTERDAM)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=clock.AMSTERDAM)
    return start, end


def community_figures(
    *,
    date_from: dt.date,
    date_to: dt.date,
    municipality_ids=None,
) -> CommunityFigures:
    """The figures of the period ``date_from``..``date_to`` (days in the Netherlands), for the
    posts placed in ``municipality_ids`` (all when None)."""
    from bieb.accounts.models import User

    start, end = _period(date_from, date_to)
    figures = CommunityFigures(date_from=date_from, date_to=date_to)
    posts = Post.objects.all()
    if municipality_ids is not None:
        posts = posts.filter(municipality_id__in=list(municipality_ids))
    placed = posts.filter(created_at__gte=start, created_at__lt=end)
    by_kind = {kind: {t: 0 for t in PostType.values} for kind in PostKind.values}
    for kind, type_ in placed.values_list("kind", "type"):
        by_kind[kind][type_] += 1
    figures.posts_by_kind = by_kind

    exchanges = Exchange.objects.filter(post__in=posts)
    figures.exchanges_done = exchanges.filter(
        status=ExchangeStatus.DONE, done_at__gte=start, done_at__lt=end
    ).count()

    people: set[int] = set(placed.values_list("author_id", flat=True))
    people |= set(
        Conversation.objects.filter(
            post__in=posts, created_at__gte=start, created_at__lt=end
        ).values_list("responder_id", flat=True)
    )
    for giver, receiver in exchanges.filter(created_at__gte=start, created_at__lt=end).values_list(
        "giver_id", "receiver_id"
    ):
        people.update(p for p in (giver, receiver) if p)
    people.discard(None)
    figures.participants = len(people)
    year = date_to.year
    ages: Counter = Counter()
    places: Counter = Counter()
    for birth_date, birth_year, municipality in User.objects.filter(pk__in=people).values_list(
        "birth_date", "birth_year", "municipality__name"
    ):
        ages[age_group(birth_date.year if birth_date else birth_year, year)] += 1
        places[municipality or "unknown"] += 1
    figures.participants_by_age_group = _shown(ages)
    figures.participants_by_municipality = _shown(places)

    handovers = Handover.objects.filter(
        exchange__post__in=posts,
        status=HandoverStatus.PICKED_UP,
        picked_up_at__gte=start,
        picked_up_at__lt=end,
    )
    figures.handovers_by_location = _shown(
        Counter(handovers.values_list("location__name", flat=True))
    )
    return figures
