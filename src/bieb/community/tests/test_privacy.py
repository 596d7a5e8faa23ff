"""The community's part of the account export and of deleting an account."""

from __future__ import annotations

import pytest

from bieb.accounts import services as accounts
from bieb.accounts.tests.factories import LocationFactory
from bieb.community.models import (
    Conversation,
    Exchange,
    ExchangeStatus,
    Handover,
    HandoverStatus,
    Message,
    Post,
    SavedSearch,
)
from bieb.community.tests.factories import conversation, exchange, post, resident, saved_search
from bieb.core.errors import DomainError

pytestmark = pytest.mark.django_db


def _story():
    anna, bram = resident(), resident()
    drill = post(author=anna, title="Boormachine te leen", body="Met boortjes.")
    lonely = post(author=anna, title="Naailes", kind="skill", terms="help")
    talk = conversation(drill, bram)
    Message.objects.create(conversation=talk, sender=bram, body="Mag ik hem lenen?")
    Message.objects.create(conversation=talk, sender=anna, body="Ja, zaterdag?")
    done = exchange(drill, giver=anna, receiver=bram, status=ExchangeStatus.DONE)
    saved_search(person=anna)
    return anna, bram, drill, lonely, talk, done


def test_the_export_holds_posts_messages_and_exchanges():
    anna, _bram, *_ = _story()
    data = accounts.person_export(user=anna)["community"]
    assert [p["title"] for p in data["posts"]] == ["Boormachine te leen", "Naailes"]
    assert [m["body"] for m in data["conversations"][0]["messages"]] == [
        "Mag ik hem lenen?",
        "Ja, zaterdag?",
    ]
    assert data["exchanges"][0]["role"] == "giver"
    assert len(data["saved_searches"]) == 1


def test_deleting_the_account_forgets_the_person_and_keeps_the_figures():
    anna, bram, drill, lonely, talk, done = _story()
    accounts.person_delete(user=anna, actor=anna)

    assert not Post.objects.filter(pk=lonely.pk).exists()
    kept = Post.objects.get(pk=drill.pk)  # an exchange was made on it: kept, emptied, hidden
    assert (kept.status, kept.title, kept.body) == ("hidden", "", "")
    assert not Message.objects.filter(body="Ja, zaterdag?").exists()
    assert Message.objects.filter(sender=bram).exists()  # the other side keeps theirs
    stored = Exchange.objects.get(pk=done.pk)
    assert stored.giver_id is None and stored.receiver_id == bram.pk
    assert not SavedSearch.objects.filter(person=anna).exists()
    assert Conversation.objects.filter(pk=talk.pk).exists()


def test_deleting_is_refused_while_a_thing_waits_at_the_desk():
    anna, bram, _drill, *_ = _story()
    agreed = exchange(post(author=anna), giver=anna, receiver=bram)
    Handover.objects.create(
        exchange=agreed,
        location=LocationFactory(),
        label="Spel voor Bram",
        code_hash="y" * 64,
        status=HandoverStatus.WAITING,
    )
    with pytest.raises(DomainError) as refused:
        accounts.person_delete(user=bram, actor=bram)
    assert refused.value.code == "handover_waiting"
    assert Post.objects.filter(author=anna).count() == 3
