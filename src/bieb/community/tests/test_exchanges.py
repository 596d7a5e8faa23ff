"""Exchanges: agreeing, done or cancelled, thanks once per side, and a profile without stars."""

from __future__ import annotations

import pytest
from django.core import mail

from bieb.accounts.tests.factories import LocationFactory, years_ago
from bieb.community import exchanges, handovers, messages
from bieb.community.models import Exchange, ExchangeStatus, Handover, HandoverStatus, Post
from bieb.community.tests import factories as f
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


def talk(post: Post, responder=None):
    """A conversation started the real way: ``responder`` responds to ``post``."""
    responder = responder or f.resident()
    return messages.respond(post=post, person=responder, body="Interesse!").conversation


def agreed(post_type: str = Post.Type.OFFER, **post_kw):
    offer = f.post(type=post_type, **post_kw)
    conversation = talk(offer)
    return exchanges.exchange_agree(conversation=conversation, person=offer.author)


# --- agreeing ----------------------------------------------------------------------------------


def test_for_an_offer_the_author_gives_and_the_responder_receives(
    django_capture_on_commit_callbacks,
):
    offer = f.post(type=Post.Type.OFFER)
    neighbour = f.resident(birth_date=years_ago(70))
    conversation = talk(offer, neighbour)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        exchange = exchanges.exchange_agree(conversation=conversation, person=offer.author)

    assert (exchange.giver, exchange.receiver) == (offer.author, neighbour)
    assert exchange.status == ExchangeStatus.AGREED and exchange.conversation == conversation
    assert exchange.giver_birth_year == offer.author.birth_date.year
    assert exchange.receiver_birth_year == neighbour.birth_date.year
    assert exchange.municipality == offer.municipality
    assert AuditEvent.objects.filter(action="community.exchange_agree").count() == 1
    assert [m.to for m in mail.outbox] == [[neighbour.email]]


def test_for_a_request_the_responder_gives_and_the_author_receives():
    request = f.post(type=Post.Type.REQUEST)
    helper = f.resident()

    exchange = exchanges.exchange_agree(conversation=talk(request, helper), person=request.author)

    assert (exchange.giver, exchange.receiver) == (helper, request.author)


def test_only_the_author_agrees():
    offer = f.post()
    neighbour = f.resident()
    conversation = talk(offer, neighbour)

    error = refused(
        "not_author", lambda: exchanges.exchange_agree(conversation=conversation, person=neighbour)
    )
    assert error.status == 403
    refused(
        "not_found",
        lambda: exchanges.exchange_agree(conversation=conversation, person=f.resident()),
    )


def test_agreeing_twice_is_refused_but_after_a_cancellation_it_revives():
    exchange = agreed()
    conversation = exchange.conversation
    author = exchange.post.author
    refused(
        "exchange_exists",
        lambda: exchanges.exchange_agree(conversation=conversation, person=author),
    )

    exchanges.exchange_cancel(exchange=exchange, person=exchange.receiver)
    again = exchanges.exchange_agree(conversation=conversation, person=author)

    assert again.pk == exchange.pk and again.status == ExchangeStatus.AGREED
    assert Exchange.objects.count() == 1


def test_no_agreement_on_a_closed_post_or_across_a_block():
    offer = f.post()
    neighbour = f.resident()
    conversation = talk(offer, neighbour)
    f.block(neighbour, offer.author)
    refused(
        "blocked", lambda: exchanges.exchange_agree(conversation=conversation, person=offer.author)
    )
    messages.unblock(person=neighbour, other=offer.author)
    Post.objects.filter(pk=offer.pk).update(status=Post.Status.CLOSED)
    refused(
        "post_not_open",
        lambda: exchanges.exchange_agree(conversation=conversation, person=offer.author),
    )


def test_youth_rules_hold_for_both_sides():
    offer = f.post()
    child = f.youth(consent=True)
    conversation = talk(offer, child)
    # the guardian's consent is withdrawn after the child responded
    child.guardian_links.update(consent_given_at=None)

    refused(
        "other_cannot_exchange",
        lambda: exchanges.exchange_agree(conversation=conversation, person=offer.author),
    )

    young_author = f.youth(age=14)
    own = f.post(author=young_author)
    # written straight to the database: nobody can respond to a post of a child without
    # consent (``other_cannot_exchange``), but a conversation may date from before
    conversation = f.conversation(own)
    refused(
        "consent_required",
        lambda: exchanges.exchange_agree(conversation=conversation, person=young_author),
    )


def test_a_child_with_consent_can_make_an_exchange():
    offer = f.post()
    exchange = exchanges.exchange_agree(
        conversation=talk(offer, f.youth(consent=True)), person=offer.author
    )
    assert exchange.receiver.is_youth


def test_a_suspended_responder_cannot_be_agreed_with():
    offer = f.post()
    neighbour = f.resident()
    conversation = talk(offer, neighbour)
    f.suspend(neighbour)
    refused(
        "other_cannot_exchange",
        lambda: exchanges.exchange_agree(conversation=conversation, person=offer.author),
    )


# --- done and cancelled --------------------------------------------------------------------------


def test_either_side_marks_it_done_and_the_other_is_told(django_capture_on_commit_callbacks):
    exchange = agreed()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        done = exchanges.exchange_done(exchange=exchange, person=exchange.receiver)

    assert done.status == ExchangeStatus.DONE and done.done_at is not None
    assert [m.to for m in mail.outbox] == [[exchange.giver.email]]
    # done twice is done once
    assert exchanges.exchange_done(exchange=exchange, person=exchange.giver).status == "done"
    assert AuditEvent.objects.filter(action="community.exchange_done").count() == 1


def test_outsiders_cannot_mark_done_or_cancel():
    exchange = agreed()
    stranger = f.resident()
    refused("not_found", lambda: exchanges.exchange_done(exchange=exchange, person=stranger))
    refused("not_found", lambda: exchanges.exchange_cancel(exchange=exchange, person=stranger))


def test_a_cancelled_exchange_cannot_be_done_nor_cancelled_again():
    exchange = agreed()
    exchanges.exchange_cancel(exchange=exchange, person=exchange.giver, reason="Ziek")
    refused(
        "exchange_cancelled",
        lambda: exchanges.exchange_done(exchange=exchange, person=exchange.giver),
    )
    refused(
        "exchange_not_agreed",
        lambda: exchanges.exchange_cancel(exchange=exchange, person=exchange.receiver),
    )


def test_cancelling_calls_off_an_announced_handover_but_not_one_at_the_desk():
    exchange = agreed()
    desk_location = LocationFactory(organisation=f.library())
    issued = handovers.handover_create(
        exchange=exchange, person=exchange.giver, location=desk_location
    )
    handovers.handover_drop(
        handover=issued.handover, actor=f.staff("desk", desk_location.organisation)
    )

    refused(
        "handover_open",
        lambda: exchanges.exchange_cancel(exchange=exchange, person=exchange.receiver),
    )
    refused(
        "handover_open",
        lambda: exchanges.exchange_done(exchange=exchange, person=exchange.receiver),
    )

    Handover.objects.filter(pk=issued.handover.pk).update(status=HandoverStatus.PICKED_UP)
    other = agreed()
    announced = handovers.handover_create(
        exchange=other, person=other.giver, location=desk_location
    )
    exchanges.exchange_cancel(exchange=other, person=other.receiver)
    assert Handover.objects.get(pk=announced.handover.pk).status == HandoverStatus.CANCELLED


# --- thanks and the profile ----------------------------------------------------------------------


def test_thanks_once_per_side_after_done(django_capture_on_commit_callbacks):
    exchange = agreed()
    refused(
        "exchange_not_done",
        lambda: exchanges.thank(exchange=exchange, person=exchange.receiver, text="Top"),
    )
    exchanges.exchange_done(exchange=exchange, person=exchange.giver)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        thanks = exchanges.thank(
            exchange=exchange,
            person=exchange.receiver,
            text="<b>Super</b> geholpen, de boor werkte prima! " + "x" * 400,
        )

    assert thanks.text.startswith("Super geholpen") and len(thanks.text) <= 280
    assert "<" not in thanks.text
    assert [m.to for m in mail.outbox] == [[exchange.giver.email]]
    assert "Super geholpen" not in mail.outbox[0].body
    refused(
        "thanks_exists",
        lambda: exchanges.thank(exchange=exchange, person=exchange.receiver, text="Nog eens"),
    )
    assert exchanges.thank(exchange=exchange, person=exchange.giver).text == ""
    refused(
        "not_found", lambda: exchanges.thank(exchange=exchange, person=f.resident(), text="Hoi")
    )


def test_a_suspended_resident_cannot_thank():
    exchange = agreed()
    exchanges.exchange_done(exchange=exchange, person=exchange.giver)
    f.suspend(exchange.receiver)
    refused(
        "suspended",
        lambda: exchanges.thank(exchange=exchange, person=exchange.receiver, text="Dank"),
    )


def test_the_profile_counts_completed_exchanges_and_shows_thanks_newest_first():
    helper = f.resident(first_name="Henk", last_name="Bakker")
    first = agreed(author=helper)
    second = agreed(author=helper)
    agreed(author=helper)  # still agreed: not counted
    cancelled = agreed(author=helper)
    exchanges.exchange_cancel(exchange=cancelled, person=helper)
    for exchange, sentence in ((first, "Dank je wel!"), (second, "Heel fijn geholpen")):
        exchanges.exchange_done(exchange=exchange, person=helper)
        exchange.receiver.first_name = "Fatima"
        exchange.receiver.last_name = "El Amrani"
        exchange.receiver.save()
        exchanges.thank(exchange=exchange, person=exchange.receiver, text=sentence)
    exchanges.thank(exchange=first, person=helper, text="Jij ook bedankt")

    shown = exchanges.profile(helper)

    assert shown["completed_exchanges"] == 2
    assert shown["thanks_count"] == 2
    assert [t["text"] for t in shown["thanks"]] == ["Heel fijn geholpen", "Dank je wel!"]
    assert {t["first_name"] for t in shown["thanks"]} == {"Fatima"}
    assert all(set(t) == {"text", "first_name", "created_at"} for t in shown["thanks"])
    assert "El Amrani" not in repr(shown)
    assert exchanges.profile(first.receiver)["thanks"][0]["text"] == "Jij ook bedankt"
