"""Figures of the community for the insights issue: counts, and groups under 10 hidden."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.accounts.tests.factories import LocationFactory
from bieb.community import selectors
from bieb.community.models import ExchangeStatus, Handover, HandoverStatus
from bieb.community.tests.factories import conversation, exchange, post, resident
from bieb.core import clock

pytestmark = pytest.mark.django_db


def test_figures_count_exchanges_people_posts_and_handovers_and_hide_small_groups():
    today = clock.today()
    givers = [resident() for _ in range(11)]
    offers = [post(author=giver, type="offer", kind="thing") for giver in givers]
    post(author=givers[0], type="request", kind="skill")
    receivers = [resident(pc4="1011") for _ in range(3)]
    for offer, receiver in zip(offers[:3], receivers, strict=True):
        conversation(offer, receiver)
        done = exchange(offer, giver=offer.author, receiver=receiver, status=ExchangeStatus.DONE)
        done.done_at = clock.now()
        done.save(update_fields=["done_at"])
    handover = Handover.objects.create(
        exchange=done,
        location=LocationFactory(),
        label="Boormachine voor Anna J.",
        code_hash="x" * 64,
        status=HandoverStatus.PICKED_UP,
        picked_up_at=clock.now(),
    )

    figures = selectors.community_figures(
        date_from=today - dt.timedelta(days=1), date_to=today
    ).as_dict()

    assert figures["exchanges_done"] == 3
    assert figures["participants"] == 14
    assert figures["posts_by_kind"]["thing"] == {"offer": 11, "request": 0}
    assert figures["posts_by_kind"]["skill"] == {"offer": 0, "request": 1}
    # 14 adults of about 40: one group shown; Amsterdam's 3 people are too few to show
    assert figures["participants_by_age_group"]["35-64"] == 14
    assert None in figures["participants_by_municipality"].values()
    assert figures["handovers_by_location"] == {handover.location.name: None}
    # another period: nothing
    empty = selectors.community_figures(
        date_from=today - dt.timedelta(days=30), date_to=today - dt.timedelta(days=20)
    )
    assert (empty.exchanges_done, empty.participants) == (0, 0)
