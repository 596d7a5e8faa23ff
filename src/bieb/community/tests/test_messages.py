"""Safe messages: responses, conversations, blocks, shared contact details and the mails that
say there is a message without ever quoting it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from bieb.community import messages
from bieb.community.models import Block, Conversation, Message, Post
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

SECRET = "Mijn code voor het hek is 4711, kom om acht uur"


@pytest.fixture
def mails(django_capture_on_commit_callbacks):
    """Run a call and send the mails it queued on commit; returns the call's result."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


# --- responding --------------------------------------------------------------------------------


def test_a_response_starts_one_conversation_and_a_second_adds_to_it(mails):
    offer = f.post()
    neighbour = f.resident(first_name="Bram")

    first = mails(lambda: messages.respond(post=offer, person=neighbour, body="Mag ik hem lenen?"))
    second = messages.respond(post=offer, person=neighbour, body="Zaterdag kan ook.")

    assert first.conversation_id == second.conversation_id
    conversation = Conversation.objects.get()
    assert (conversation.post, conversation.responder) == (offer, neighbour)
    assert list(conversation.messages.values_list("body", flat=True)) == [
        "Mag ik hem lenen?",
        "Zaterdag kan ook.",
    ]
    assert AuditEvent.objects.filter(action="community.respond").count() == 1
    assert [m.to for m in mail.outbox] == [[offer.author.email]]


def test_the_body_is_plain_text_and_links_stay_text():
    offer = f.post()

    message = messages.respond(
        post=offer,
        person=f.resident(),
        body='<script>alert("x")</script>Hoi <b>daar</b>, zie https://example.nl/boor',
    )

    assert message.body == "Hoi daar , zie https://example.nl/boor"
    assert "<" not in message.body


def test_an_empty_body_is_refused():
    refused(
        "body_required",
        lambda: messages.respond(post=f.post(), person=f.resident(), body=" <b></b> "),
    )


def test_no_response_to_your_own_post():
    offer = f.post()
    refused("own_post", lambda: messages.respond(post=offer, person=offer.author, body="Hoi"))


@pytest.mark.parametrize("status", [Post.Status.CLOSED, Post.Status.HIDDEN])
def test_no_response_to_a_closed_or_hidden_post(status):
    gone = f.post(status=status)
    refused("post_not_open", lambda: messages.respond(post=gone, person=f.resident(), body="Hoi"))
    assert not Conversation.objects.exists()


def test_a_suspended_resident_cannot_respond():
    person = f.resident()
    f.suspend(person)
    error = refused("suspended", lambda: messages.respond(post=f.post(), person=person, body="Hoi"))
    assert error.status == 403


def test_an_unconfirmed_address_cannot_respond():
    person = f.resident(email_verified_at=None)
    refused("email_unconfirmed", lambda: messages.respond(post=f.post(), person=person, body="Hoi"))


def test_a_child_without_consent_is_refused_and_with_consent_may_respond():
    offer = f.post()
    refused(
        "consent_required",
        lambda: messages.respond(post=offer, person=f.youth(), body="Mag ik het spel lenen?"),
    )

    message = messages.respond(post=offer, person=f.youth(consent=True), body="Mag ik het?")

    assert message.pk and not Conversation.objects.exclude(pk=message.conversation_id).exists()


@pytest.mark.parametrize("who_blocks", ["author", "responder"])
def test_a_block_either_way_stops_the_response_without_saying_who(who_blocks):
    offer = f.post()
    neighbour = f.resident()
    if who_blocks == "author":
        f.block(offer.author, neighbour)
    else:
        f.block(neighbour, offer.author)

    error = refused(
        "blocked", lambda: messages.respond(post=offer, person=neighbour, body="Hallo?")
    )

    assert error.message == "Je kunt deze bewoner geen berichten sturen."
    assert not Message.objects.exists()


def test_too_many_new_conversations_a_day_are_refused():
    person = f.resident()
    for _ in range(15):
        messages.respond(post=f.post(), person=person, body="Interesse!")

    error = refused(
        "rate_limited", lambda: messages.respond(post=f.post(), person=person, body="Nog één")
    )
    assert error.status == 429
    assert Conversation.objects.filter(responder=person).count() == 15


def test_too_many_messages_an_hour_are_refused_and_allowed_again_later():
    offer = f.post()
    person = f.resident()
    start = clock.now()
    with clock.frozen(start):
        for n in range(30):
            messages.respond(post=offer, person=person, body=f"Bericht {n}")
        refused("rate_limited", lambda: messages.respond(post=offer, person=person, body="31"))
    with clock.frozen(start + dt.timedelta(hours=1, minutes=1)):
        assert messages.respond(post=offer, person=person, body="Later").pk


# --- the conversation ---------------------------------------------------------------------------


def test_only_the_two_residents_can_write_in_a_conversation():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Hoi").conversation

    reply = messages.message_send(conversation=conversation, person=offer.author, body="Ja hoor")

    assert reply.sender == offer.author
    stranger = f.resident()
    error = refused(
        "not_found",
        lambda: messages.message_send(conversation=conversation, person=stranger, body="Ik ook"),
    )
    assert error.status == 404
    refused("not_found", lambda: messages.access_conversation(stranger, conversation.pk))
    assert messages.access_conversation(neighbour, conversation.pk) == conversation


def test_a_blocked_resident_cannot_message_in_an_existing_conversation():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Hoi").conversation
    messages.block(person=offer.author, other=neighbour)

    refused(
        "blocked",
        lambda: messages.message_send(conversation=conversation, person=neighbour, body="Hallo?"),
    )
    # and the one who blocked cannot write either, until they lift it
    refused(
        "blocked",
        lambda: messages.message_send(conversation=conversation, person=offer.author, body="Hm"),
    )
    assert messages.unblock(person=offer.author, other=neighbour) is True
    assert messages.message_send(conversation=conversation, person=neighbour, body="Weer").pk


def test_a_conversation_goes_on_after_the_post_closed_but_not_after_it_was_hidden():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Hoi").conversation
    Post.objects.filter(pk=offer.pk).update(status=Post.Status.CLOSED)

    assert messages.message_send(conversation=conversation, person=neighbour, body="Zaterdag?").pk

    Post.objects.filter(pk=offer.pk).update(status=Post.Status.HIDDEN, hidden_reason="Spam")
    refused(
        "post_not_open",
        lambda: messages.message_send(conversation=conversation, person=neighbour, body="Hoi"),
    )


def test_a_suspended_resident_cannot_message():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Hoi").conversation
    f.suspend(offer.author)
    refused(
        "suspended",
        lambda: messages.message_send(conversation=conversation, person=offer.author, body="Ja"),
    )


def test_messages_of_counts_unread_until_read():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Eerste-geheim").conversation
    messages.respond(post=offer, person=neighbour, body="Twee")
    messages.message_send(conversation=conversation, person=offer.author, body="Terug")
    other_offer = f.post()
    messages.respond(post=other_offer, person=neighbour, body="Ook deze?")

    unread = {c.pk: c.unread for c in messages.messages_of(offer.author)}
    assert unread == {conversation.pk: 2}
    assert sorted(c.unread for c in messages.messages_of(neighbour)) == [0, 1]

    assert messages.conversation_read(conversation, offer.author) == 2
    assert [c.unread for c in messages.messages_of(offer.author)] == [0]
    # reading your own messages marks nothing of the other side's
    assert Message.objects.filter(sender=offer.author, read_at__isnull=True).count() == 1


def test_reading_someone_elses_conversation_is_not_found():
    conversation = messages.respond(post=f.post(), person=f.resident(), body="Hoi").conversation
    refused("not_found", lambda: messages.conversation_read(conversation, f.resident()))


def test_a_hidden_message_is_shown_without_its_text_and_not_counted():
    offer = f.post()
    message = messages.respond(post=offer, person=f.resident(), body="Iets grofs")
    Message.objects.filter(pk=message.pk).update(hidden_reason="Grof")

    view = messages.conversation_view(message.conversation, offer.author)

    assert [m.body for m in view["messages"]] == [""]
    assert [c.unread for c in messages.messages_of(offer.author)] == [0]


# --- blocks ------------------------------------------------------------------------------------


def test_blocking_twice_is_once_and_yourself_not_at_all():
    person, other = f.resident(), f.resident()
    messages.block(person=person, other=other)
    messages.block(person=person, other=other)
    assert Block.objects.filter(blocker=person, blocked=other).count() == 1
    assert AuditEvent.objects.filter(action="community.block").count() == 1
    refused("block_self", lambda: messages.block(person=person, other=person))


def test_a_suspended_resident_can_still_block():
    person, other = f.resident(), f.resident()
    f.suspend(person)
    assert messages.block(person=person, other=other).pk


# --- contact details ----------------------------------------------------------------------------


def test_contact_details_are_shown_only_to_the_other_side_and_only_when_shared():
    offer = f.post()
    neighbour = f.resident()
    conversation = messages.respond(post=offer, person=neighbour, body="Hoi").conversation

    assert messages.contact_of_other(conversation, neighbour) == ""
    assert messages.contact_of_other(conversation, offer.author) == ""

    messages.contact_share(conversation=conversation, person=offer.author, share=True)
    conversation.refresh_from_db()

    assert messages.contact_of_other(conversation, neighbour) == offer.author.email
    # sharing yours does not show you theirs
    assert messages.contact_of_other(conversation, offer.author) == ""
    assert messages.contact_of_other(conversation, f.resident()) == ""
    view = messages.conversation_view(conversation, offer.author)
    assert view["i_share"] is True and view["other_contact"] == ""

    messages.block(person=neighbour, other=offer.author)
    assert messages.contact_of_other(conversation, neighbour) == ""
    messages.unblock(person=neighbour, other=offer.author)

    messages.contact_share(conversation=conversation, person=offer.author, share=False)
    conversation.refresh_from_db()
    assert messages.contact_of_other(conversation, neighbour) == ""
    assert AuditEvent.objects.filter(action="community.contact_share").count() == 2


def test_only_a_participant_can_share_contact_details():
    conversation = messages.respond(post=f.post(), person=f.resident(), body="Hoi").conversation
    refused(
        "not_found",
        lambda: messages.contact_share(conversation=conversation, person=f.resident(), share=True),
    )


# --- the mail ----------------------------------------------------------------------------------


def test_the_mail_says_there_is_a_message_with_a_link_and_never_the_text(mails):
    offer = f.post(title="Klopboormachine")
    neighbour = f.resident(first_name="Bram")

    message = mails(lambda: messages.respond(post=offer, person=neighbour, body=SECRET))

    [sent] = mail.outbox
    assert sent.to == [offer.author.email]
    assert SECRET not in sent.subject + sent.body
    assert "4711" not in sent.subject + sent.body
    assert "Bram" in sent.body and "Klopboormachine" in sent.body
    assert f"/{message.conversation_id}" in sent.body
    assert neighbour.email not in sent.body


def test_at_most_one_mail_an_hour_per_conversation(mails):
    offer = f.post()
    neighbour = f.resident()
    start = clock.now()
    with clock.frozen(start):
        conversation = mails(
            lambda: messages.respond(post=offer, person=neighbour, body="Eerste-geheim")
        ).conversation
    with clock.frozen(start + dt.timedelta(minutes=10)):
        mails(
            lambda: messages.message_send(
                conversation=conversation, person=neighbour, body="Tweede-geheim"
            )
        )
    with clock.frozen(start + dt.timedelta(minutes=20)):
        # the other direction is mailed on its own
        mails(
            lambda: messages.message_send(conversation=conversation, person=offer.author, body="Ja")
        )
    assert [m.to for m in mail.outbox] == [[offer.author.email], [neighbour.email]]

    with clock.frozen(start + dt.timedelta(minutes=75)):
        mails(
            lambda: messages.message_send(
                conversation=conversation, person=neighbour, body="Derde-geheim"
            )
        )

    assert [m.to for m in mail.outbox][-1] == [offer.author.email]
    assert len(mail.outbox) == 3
    for sent in mail.outbox:
        for body in ("Eerste-geheim", "Tweede-geheim", "Derde-geheim"):
            assert body not in sent.body
