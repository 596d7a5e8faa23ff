"""The screens of safe exchange: responding, conversations, exchanges, handovers, profiles and
the halen-en-brengen desk. Every refusal shows its reason; another person's conversation,
handover or location answers 404; e-mail never carries what residents wrote; the pickup code
is never shown on a page."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bieb.accounts.models import GuardianLink
from bieb.accounts.tests.factories import LocationFactory
from bieb.community import exchanges, handovers, messages
from bieb.community.models import (
    Block,
    Conversation,
    Exchange,
    ExchangeStatus,
    Handover,
    HandoverStatus,
    Message,
    Post,
    Thanks,
)
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

SECRET = "Mijn geheime zin 7Q9Z"


def page(response) -> str:
    return response.content.decode()


def main(response) -> str:
    """The page's main content without the tags (what a reader gets)."""
    html = page(response)
    html = html[html.index("<main") : html.index("</main>")]
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client) -> list[str]:
    """The messages waiting for the next page (read via a page that shows them)."""
    return flashes(client.get(reverse("community:messages")))


@dataclass
class Talk:
    post: Post
    author: object
    responder: object
    conversation: Conversation


def talk(*, post_type: str = Post.Type.OFFER, responder=None, **post_kw) -> Talk:
    author = post_kw.pop("author", None) or f.resident(first_name="Gerrit", last_name="Bakker")
    post = f.post(author=author, type=post_type, title="Klopboormachine", **post_kw)
    responder = responder or f.resident(first_name="Anna", last_name="de Vries")
    message = messages.respond(post=post, person=responder, body="Heb je hem zaterdag?")
    return Talk(post, author, responder, message.conversation)


def agreed(**kw) -> tuple[Talk, Exchange]:
    t = talk(**kw)
    return t, exchanges.exchange_agree(conversation=t.conversation, person=t.author)


def desk_location(organisation=None, **kw):
    return LocationFactory(
        organisation=organisation or f.library(),
        municipality=f.municipality("GM0344"),
        lat=52.0907,
        lon=5.1214,
        name=kw.pop("name", "Bibliotheek Neude"),
        **kw,
    )


def url(name: str, *args) -> str:
    return reverse(f"community:{name}", args=args)


# --- responding --------------------------------------------------------------------------------


def test_responding_opens_the_conversation_and_mails_the_author_without_the_text(
    client, django_capture_on_commit_callbacks
):
    post = f.post(title="Klopboormachine")
    neighbour = f.resident(first_name="Anna", last_name="de Vries")
    client.force_login(neighbour)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("respond", post.pk), {"body": SECRET})

    conversation = Conversation.objects.get(post=post, responder=neighbour)
    assert response.status_code == 302
    assert response["Location"] == url("conversation", conversation.pk) + "#bericht-laatste"
    assert conversation.messages.get().body == SECRET
    [sent] = mail.outbox
    assert sent.to == [post.author.email]
    assert SECRET not in sent.body and SECRET not in sent.subject
    assert url("conversation", conversation.pk) in sent.body
    assert neighbour.email not in sent.body


def test_responding_again_continues_the_same_conversation(client):
    t = talk()
    client.force_login(t.responder)

    response = client.post(url("respond", t.post.pk), {"body": "Nog één vraag."})

    assert response["Location"].startswith(url("conversation", t.conversation.pk))
    assert Conversation.objects.count() == 1
    assert t.conversation.messages.count() == 2


def test_responding_needs_a_log_in_and_a_post(client):
    post = f.post()

    anonymous = client.post(url("respond", post.pk), {"body": "Hoi"})
    looking = client.get(url("respond", post.pk))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert anonymous["Location"].endswith("next=" + url("post", post.pk))
    assert looking.status_code == 302 and looking["Location"] == url("post", post.pk)
    client.force_login(f.resident())
    assert client.post(url("respond", 999_999), {"body": "Hoi"}).status_code == 404
    hidden = f.post(status=Post.Status.HIDDEN)
    assert client.post(url("respond", hidden.pk), {"body": "Hoi"}).status_code == 404
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("situation", "status", "words"),
    [
        ("blocked_by_author", 403, "Je kunt deze bewoner geen berichten sturen."),
        ("blocked_author", 403, "Je kunt deze bewoner geen berichten sturen."),
        ("youth", 403, "toestemming van je ouder of voogd"),
        ("suspended", 403, "Reden: Spam op het prikbord."),
        ("own_post", 409, "Dit is je eigen aanbod of vraag"),
        ("closed", 409, "staat niet meer open"),
        ("unconfirmed", 409, "Bevestig eerst je e-mailadres"),
    ],
)
def test_a_refused_response_says_why_and_sends_nothing(client, situation, status, words):
    post = f.post()
    person = f.resident()
    if situation == "blocked_by_author":
        f.block(post.author, person)
    elif situation == "blocked_author":
        f.block(person, post.author)
    elif situation == "youth":
        person = f.youth()
    elif situation == "suspended":
        f.suspend(person)
    elif situation == "own_post":
        person = post.author
    elif situation == "closed":
        Post.objects.filter(pk=post.pk).update(status=Post.Status.CLOSED)
    elif situation == "unconfirmed":
        person = f.resident(email_verified_at=None)
    client.force_login(person)

    response = client.post(url("respond", post.pk), {"body": SECRET})

    assert response.status_code == status
    assert "Je reactie is niet verstuurd." in main(response)
    assert words in main(response)
    assert url("post", post.pk) in page(response)
    assert not Message.objects.exists()
    # a refusal that waiting or writing cannot mend offers no form to try again
    assert 'name="body"' not in page(response)


def test_a_youth_with_a_guardians_consent_may_respond(client):
    post = f.post()
    client.force_login(f.youth(consent=True))

    response = client.post(url("respond", post.pk), {"body": "Mag ik hem lenen?"})

    assert response.status_code == 302
    assert Message.objects.get().body == "Mag ik hem lenen?"


def test_an_empty_response_keeps_the_form_with_the_error(client):
    post = f.post()
    client.force_login(f.resident())

    response = client.post(url("respond", post.pk), {"body": "  "})

    assert response.status_code == 400
    assert "Schrijf een bericht." in main(response)
    assert 'aria-invalid="true"' in page(response)
    assert not Conversation.objects.exists()


def test_too_many_new_conversations_are_refused_with_the_text_kept(client):
    person = f.resident()
    for _n in range(15):
        messages.respond(post=f.post(), person=person, body="Interesse")
    post = f.post()
    client.force_login(person)

    response = client.post(url("respond", post.pk), {"body": "Nummer zestien"})

    assert response.status_code == 429
    assert "Probeer het later opnieuw" in main(response)
    assert "Nummer zestien</textarea>" in page(response)
    assert not Conversation.objects.filter(post=post).exists()


# --- my messages -------------------------------------------------------------------------------


def test_my_messages_lists_conversations_with_unread_counts_and_no_e_mail(client):
    t = talk()
    messages.message_send(conversation=t.conversation, person=t.responder, body="Nog iets.")
    client.force_login(t.author)

    response = client.get(url("messages"))

    text = main(response)
    assert "Klopboormachine" in text
    assert "Anna V. reageerde op je aanbod" in text
    assert "2 nieuwe berichten" in text and "2 nieuw" in text
    assert t.responder.email not in page(response) and "de Vries" not in page(response)
    assert url("conversation", t.conversation.pk) in page(response)


def test_my_messages_takes_the_same_queries_for_one_or_many_conversations(client):
    me = f.resident()
    messages.respond(post=f.post(), person=me, body="Een")
    client.force_login(me)
    client.get(url("messages"))  # session and user loaded once
    with CaptureQueriesContext(connection) as one:
        client.get(url("messages"))
    for _n in range(4):
        messages.respond(post=f.post(), person=me, body="Meer")
    own = f.post(author=me)
    messages.respond(post=own, person=f.resident(), body="Op jouw bericht")

    with CaptureQueriesContext(connection) as many:
        response = client.get(url("messages"))

    assert len(response.context["rows"]) == 6
    assert len(many) == len(one)


def test_my_messages_needs_a_log_in(client):
    response = client.get(url("messages"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


# --- a conversation ----------------------------------------------------------------------------


def test_reading_a_conversation_marks_it_read_and_shows_links_as_text(client):
    t = talk()
    messages.message_send(
        conversation=t.conversation,
        person=t.responder,
        body="Kijk op https://evil.example.com/win <script>alert(1)</script> of www.boor.nl",
    )
    client.force_login(t.author)

    response = client.get(url("conversation", t.conversation.pk))

    html = page(response)
    assert response.status_code == 200
    assert "https://evil.example.com/win" in html and "www.boor.nl" in html
    assert not re.search(r"<a [^>]*href=\"[^\"]*(evil\.example|boor\.nl)", html)
    assert "<script>alert" not in html
    assert "Links in berichten zijn niet aanklikbaar" in main(response)
    assert "nieuw" in main(response)
    assert not Message.objects.filter(read_at__isnull=True).exclude(sender=t.author).exists()
    again = client.get(url("conversation", t.conversation.pk))
    assert ">nieuw<" not in page(again)


def test_another_persons_conversation_is_not_found(client):
    t = talk()
    client.force_login(f.resident())

    assert client.get(url("conversation", t.conversation.pk)).status_code == 404
    assert client.post(url("conversation", t.conversation.pk), {"body": "Hoi"}).status_code == 404
    for name in ("contact_share", "block", "unblock", "exchange_agree", "handover_create"):
        assert client.post(url(name, t.conversation.pk)).status_code == 404, name
    assert client.get(url("conversation", 999_999)).status_code == 404
    assert t.conversation.messages.count() == 1
    assert not Block.objects.exists() and not Exchange.objects.exists()


def test_writing_back_sends_the_message_and_mails_without_it(
    client, django_capture_on_commit_callbacks
):
    t = talk()
    client.force_login(t.author)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("conversation", t.conversation.pk), {"body": SECRET})

    assert response.status_code == 302
    assert t.conversation.messages.last().body == SECRET
    [sent] = mail.outbox
    assert sent.to == [t.responder.email]
    assert SECRET not in sent.body and SECRET not in sent.subject


def test_writing_to_someone_who_blocked_you_is_refused_on_the_page(client):
    t = talk()
    f.block(t.author, t.responder)
    client.force_login(t.responder)

    shown = client.get(url("conversation", t.conversation.pk))
    response = client.post(url("conversation", t.conversation.pk), {"body": "Hallo?"})

    assert "Je kunt deze bewoner geen berichten sturen." in main(shown)
    assert 'name="body"' not in page(shown)
    assert response.status_code == 403
    assert "Je kunt deze bewoner geen berichten sturen." in main(response)
    assert t.conversation.messages.count() == 1


def test_an_empty_message_is_refused_with_the_form(client):
    t = talk()
    client.force_login(t.author)

    response = client.post(url("conversation", t.conversation.pk), {"body": ""})

    assert response.status_code == 400
    assert "Schrijf een bericht." in main(response)
    assert t.conversation.messages.count() == 1


def test_a_youth_without_consent_sees_the_conversation_but_cannot_write(client):
    youth = f.youth(consent=True)
    t = talk(responder=youth)
    GuardianLink.objects.filter(child=youth).delete()  # the guardian withdrew it
    client.force_login(youth)

    shown = client.get(url("conversation", t.conversation.pk))
    response = client.post(url("conversation", t.conversation.pk), {"body": "Hoi"})

    assert "toestemming van je ouder of voogd" in main(shown)
    assert 'name="body"' not in page(shown)
    assert response.status_code == 403
    assert t.conversation.messages.count() == 1


def test_a_suspended_resident_reads_why_instead_of_the_form(client):
    t = talk()
    f.suspend(t.responder, reason="Herhaald reclame geplaatst.")
    client.force_login(t.responder)

    shown = client.get(url("conversation", t.conversation.pk))
    response = client.post(url("conversation", t.conversation.pk), {"body": "Hoi"})

    assert "Reden: Herhaald reclame geplaatst." in main(shown)
    assert 'name="body"' not in page(shown)
    assert response.status_code == 403
    assert t.conversation.messages.count() == 1


def test_contact_details_show_only_when_the_other_shares_them(client):
    t = talk()
    client.force_login(t.responder)
    before = client.get(url("conversation", t.conversation.pk))
    client.force_login(t.author)

    client.post(url("contact_share", t.conversation.pk), {"share": "1"})
    client.force_login(t.responder)
    shared = client.get(url("conversation", t.conversation.pk))
    f.block(t.responder, t.author)
    after_block = client.get(url("conversation", t.conversation.pk))

    assert t.author.email not in page(before)
    assert t.author.email in main(shared)
    assert "Gerrit B. deelt dit e-mailadres met je" in main(shared)
    assert t.author.email not in page(after_block)
    # the responder never shared: the author never sees theirs
    client.force_login(t.author)
    assert t.responder.email not in page(client.get(url("conversation", t.conversation.pk)))


def test_stop_sharing_hides_the_address_again(client):
    t = talk()
    client.force_login(t.author)
    client.post(url("contact_share", t.conversation.pk), {"share": "1"})

    client.post(url("contact_share", t.conversation.pk), {"share": "0"})

    t.conversation.refresh_from_db()
    assert not t.conversation.author_shares_contact
    client.force_login(t.responder)
    assert t.author.email not in page(client.get(url("conversation", t.conversation.pk)))


def test_block_and_unblock_from_the_conversation(client):
    t = talk()
    client.force_login(t.author)

    client.post(url("block", t.conversation.pk))
    shown = client.get(url("conversation", t.conversation.pk))
    client.force_login(t.responder)
    refused = client.post(url("conversation", t.conversation.pk), {"body": "Hallo"})
    client.force_login(t.author)
    client.post(url("unblock", t.conversation.pk))
    client.force_login(t.responder)
    allowed = client.post(url("conversation", t.conversation.pk), {"body": "Hallo"})

    assert "Je hebt Anna V. geblokkeerd." in main(shown)
    assert "Hef de blokkade van Anna V. op" in main(shown)
    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert not Block.objects.exists()
    assert AuditEvent.objects.filter(action="community.block").count() == 1
    assert AuditEvent.objects.filter(action="community.unblock").count() == 1


def test_block_and_unblock_need_a_post(client):
    t = talk()
    client.force_login(t.author)
    assert client.get(url("block", t.conversation.pk)).status_code == 405
    assert not Block.objects.exists()


# --- the exchange ------------------------------------------------------------------------------


def test_the_author_agrees_and_the_responder_is_told(client, django_capture_on_commit_callbacks):
    t = talk()
    client.force_login(t.author)
    shown = client.get(url("conversation", t.conversation.pk))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("exchange_agree", t.conversation.pk))

    exchange = Exchange.objects.get()
    assert "Maak de afspraak met Anna V." in main(shown)
    assert response["Location"].endswith("#afspraak")
    assert (exchange.giver, exchange.receiver) == (t.author, t.responder)
    assert [m.to for m in mail.outbox] == [[t.responder.email]]
    after = client.get(url("conversation", t.conversation.pk))
    assert "Afgesproken: jij brengt, Anna V. haalt." in main(after)


def test_the_responder_cannot_agree(client):
    t = talk()
    client.force_login(t.responder)

    shown = client.get(url("conversation", t.conversation.pk))
    client.post(url("exchange_agree", t.conversation.pk))

    assert "Maak de afspraak" not in main(shown)
    assert "Dan maakt Gerrit B. de afspraak" in main(shown)
    assert "Alleen wie het aanbod of de vraag plaatste" in " ".join(follow_messages(client))
    assert not Exchange.objects.exists()


def test_done_then_thanks_once_and_it_shows_on_the_profile(client):
    t, exchange = agreed()
    client.force_login(t.responder)

    client.post(url("exchange_done", t.conversation.pk))
    shown = client.get(url("conversation", t.conversation.pk))
    client.post(url("thank", t.conversation.pk), {"text": "Top boor, <b>dank</b>!"})
    client.post(url("thank", t.conversation.pk), {"text": "Nog eens"})
    twice = follow_messages(client)

    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.DONE
    assert "Bedank Gerrit B." in main(shown)
    assert Thanks.objects.get().text == "Top boor, dank !"
    assert "Je hebt al bedankt voor deze afspraak." in twice
    profile = client.get(url("profile", t.author.pk))
    assert "Top boor, dank !" in main(profile)
    assert "Bedankt door Anna" in main(profile)
    assert "1 keer iets gedeeld" in main(profile)
    assert "Je hebt Gerrit B. bedankt." in main(client.get(url("conversation", t.conversation.pk)))


def test_thanks_before_done_is_refused(client):
    t, _exchange = agreed()
    client.force_login(t.responder)

    client.post(url("thank", t.conversation.pk), {"text": "Alvast bedankt"})

    assert "Bedanken kan als de afspraak gelukt is." in follow_messages(client)
    assert not Thanks.objects.exists()


def test_calling_it_off_keeps_the_reason_out_of_the_mail(
    client, django_capture_on_commit_callbacks
):
    t, exchange = agreed()
    client.force_login(t.responder)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("exchange_cancel", t.conversation.pk), {"reason": SECRET})

    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.CANCELLED
    [sent] = mail.outbox
    assert sent.to == [t.author.email] and SECRET not in sent.body
    event = AuditEvent.objects.get(action="community.exchange_cancel")
    assert event.data["reason"] == SECRET


def test_exchange_actions_without_an_exchange_are_not_found(client):
    t = talk()
    client.force_login(t.author)
    for name in ("exchange_done", "exchange_cancel", "thank", "handover_create"):
        assert client.post(url(name, t.conversation.pk)).status_code == 404, name


# --- handovers ---------------------------------------------------------------------------------


def test_the_giver_arranges_a_handover_and_never_sees_the_code(
    client, django_capture_on_commit_callbacks
):
    t, _exchange = agreed()
    here = desk_location()
    elsewhere = LocationFactory(
        organisation=f.library("GM0356"),
        municipality=f.municipality("GM0356"),
        name="Bibliotheek Nieuwegein",
        lat=52.0292,
        lon=5.0832,
    )
    LocationFactory(
        organisation=f.library(),
        municipality=f.municipality("GM0344"),
        kind="mobile",
        name="Bibliotheekbus",
        lat=52.09,
        lon=5.12,
    )
    client.force_login(t.author)
    form_page = client.get(url("conversation", t.conversation.pk))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("handover_create", t.conversation.pk), {"location": here.pk})
    after = client.get(response["Location"].split("#")[0])

    html = page(form_page)
    assert html.index("Bibliotheek Neude") < html.index("Bibliotheek Nieuwegein")
    assert '<optgroup label="In Utrecht">' in html
    assert "Bibliotheekbus" not in html
    handover = Handover.objects.get()
    assert handover.location == here and handover.status == HandoverStatus.ANNOUNCED
    [sent] = mail.outbox
    code = re.search(r"\b(\d{6})\b", sent.body).group(1)
    assert sent.to == [t.responder.email]
    assert code not in page(after) and code not in " ".join(flashes(after))
    assert "Aangemeld bij Bibliotheek Neude" in " ".join(flashes(after))
    assert elsewhere.pk != here.pk


def test_far_away_libraries_are_not_offered_when_enough_are_near(client):
    t, _exchange = agreed()
    for n in range(3):
        desk_location(name=f"Vestiging Utrecht {n}")
    LocationFactory(
        organisation=f.library("GM0363"),
        municipality=f.municipality("GM0363"),
        name="Bibliotheek Ver Weg",
        lat=50.85,
        lon=5.69,
    )
    client.force_login(t.author)

    html = page(client.get(url("conversation", t.conversation.pk)))

    assert "Vestiging Utrecht 0" in html and "Bibliotheek Ver Weg" not in html


def test_after_the_pick_up_both_are_asked_whether_it_went_well_and_no_new_handover(client):
    d = at_desk()
    handovers.handover_pick_up(handover=d.handover, code=d.code, actor=d.staff)

    client.force_login(d.talk.author)  # the giver
    giver = main(client.get(url("conversation", d.talk.conversation.pk)))
    client.force_login(d.talk.responder)  # the receiver
    receiver = main(client.get(url("conversation", d.talk.conversation.pk)))

    for shown in (giver, receiver):
        assert "opgehaald bij Bibliotheek Neude. Is alles goed gegaan?" in shown
        assert "Het is gelukt" in shown
    assert "Aanmelden bij de bibliotheek" not in giver and "Liever niet thuis" not in giver
    assert "kan het naar een bibliotheek brengen" not in receiver


def test_while_it_lies_at_the_desk_there_is_no_done_button_that_would_be_refused(client):
    d = at_desk()  # dropped: it waits at the desk
    client.force_login(d.talk.responder)

    shown = main(client.get(url("conversation", d.talk.conversation.pk)))

    assert "Het ligt bij de bibliotheek. Is het opgehaald" in shown
    assert "Het is gelukt" not in shown


def test_help_is_agreed_in_words_of_help_and_not_handed_over_at_a_desk(client):
    t, _exchange = agreed(kind="skill", terms="help")
    desk_location()
    client.force_login(t.author)

    shown = main(client.get(url("conversation", t.conversation.pk)))

    assert "Afgesproken: jij helpt Anna V." in shown
    assert "brengt" not in shown.split("Afspraak", 1)[1].split("Contactgegevens")[0]
    assert "Doorgeven via de bibliotheek" not in shown
    assert "Aanmelden bij de bibliotheek" not in shown


def test_when_it_went_well_the_author_is_offered_to_close_the_post(client):
    t, exchange = agreed()
    exchanges.exchange_done(exchange=exchange, person=t.responder)
    client.force_login(t.author)

    html = page(client.get(url("conversation", t.conversation.pk)))

    assert "\u2018Klopboormachine\u2019 staat nog op het prikbord." in html
    assert f'href="{url("post_close", t.post.pk)}"' in html


def test_the_receiver_cannot_arrange_the_handover(client):
    t, _exchange = agreed()
    here = desk_location()
    client.force_login(t.responder)

    shown = client.get(url("conversation", t.conversation.pk))
    client.post(url("handover_create", t.conversation.pk), {"location": here.pk})

    assert 'name="location"' not in page(shown)
    assert "Wie het brengt, meldt de overdracht" in " ".join(follow_messages(client))
    assert not Handover.objects.exists()


def test_a_location_not_offered_is_refused(client):
    t, _exchange = agreed()
    far = LocationFactory(
        organisation=f.library("GM0363"), municipality=f.municipality("GM0363"), kind="mobile"
    )
    client.force_login(t.author)

    client.post(url("handover_create", t.conversation.pk), {"location": far.pk})

    assert "Kies een bibliotheeklocatie uit de lijst." in follow_messages(client)
    assert not Handover.objects.exists()


def test_my_handovers_show_both_sides_and_the_code_is_in_the_e_mail(
    client, django_capture_on_commit_callbacks
):
    t, exchange = agreed()
    here = desk_location()
    with django_capture_on_commit_callbacks(execute=True):
        issued = handovers.handover_create(exchange=exchange, person=t.author, location=here)

    client.force_login(t.responder)
    receiver = client.get(url("handovers_mine"))
    client.force_login(t.author)
    giver = client.get(url("handovers_mine"))

    assert issued.code not in page(receiver) and issued.code not in page(giver)
    assert "Je ophaalcode staat in de e-mail die we je stuurden." in main(receiver)
    assert "Gerrit B. brengt het, jij haalt het op." in main(receiver)
    assert "Bibliotheek Neude" in main(receiver) and "Stationsplein 1" in main(receiver)
    assert "Jij brengt het, Anna V. haalt het op." in main(giver)
    assert "ophaalcode staat in de e-mail" not in main(giver)
    assert "Overdracht annuleren" in main(giver)


def test_a_handover_waiting_shows_its_pick_up_day(client):
    t, exchange = agreed()
    here = desk_location()
    issued = handovers.handover_create(exchange=exchange, person=t.author, location=here)
    handovers.handover_drop(handover=issued.handover, actor=f.staff("desk"))
    client.force_login(t.responder)

    response = client.get(url("handovers_mine"))

    day = clock.today() + dt.timedelta(days=handovers.PICK_UP_DAYS)
    assert "Ligt klaar tot en met" in main(response)
    assert str(day.day) in main(response)
    assert "Overdracht annuleren" not in main(response)


def test_either_side_cancels_an_announced_handover_and_nobody_else(client):
    t, exchange = agreed()
    issued = handovers.handover_create(exchange=exchange, person=t.author, location=desk_location())
    client.force_login(f.resident())

    stranger = client.post(url("handover_cancel", issued.handover.pk))
    client.force_login(t.responder)
    mine = client.post(url("handover_cancel", issued.handover.pk))

    assert stranger.status_code == 404
    assert mine.status_code == 302
    assert Handover.objects.get().status == HandoverStatus.CANCELLED


def test_my_handovers_need_a_log_in(client):
    assert client.get(url("handovers_mine")).status_code == 302


# --- profiles ----------------------------------------------------------------------------------


def test_a_public_profile_shows_the_label_the_count_and_thanks_and_nothing_personal(client):
    t, exchange = agreed()
    exchanges.exchange_done(exchange=exchange, person=t.author)
    exchanges.thank(exchange=exchange, person=t.responder, text="Heel behulpzaam")

    response = client.get(url("profile", t.author.pk))

    text = main(response)
    assert response.status_code == 200
    assert "Gerrit B." in text and "Bakker" not in page(response)
    assert t.author.email not in page(response)
    assert "1 keer iets gedeeld" in text and "Heel behulpzaam" in text
    assert "ster" not in text.replace("sterren", "")


def test_only_residents_who_take_part_openly_have_a_public_profile(client):
    t = talk()
    hidden_only = f.post(status=Post.Status.HIDDEN).author
    staff = f.staff("desk")

    assert client.get(url("profile", t.author.pk)).status_code == 200
    assert client.get(url("profile", t.responder.pk)).status_code == 404
    assert client.get(url("profile", hidden_only.pk)).status_code == 404
    assert client.get(url("profile", staff.pk)).status_code == 404
    assert client.get(url("profile", 999_999)).status_code == 404


def test_my_profile_lists_my_exchanges(client):
    t, _exchange = agreed()
    client.force_login(t.responder)

    response = client.get(url("profile_mine"))

    assert "Anderen zien je als Anna V." in main(response)
    assert "Klopboormachine" in main(response)
    assert "Gerrit B. brengt, jij haalt" in main(response)
    assert client.logout() is None
    assert client.get(url("profile_mine")).status_code == 302


# --- the desk ----------------------------------------------------------------------------------


@dataclass
class Desk:
    talk: Talk
    exchange: Exchange
    location: object
    staff: object
    handover: Handover
    code: str


def at_desk(*, dropped: bool = True) -> Desk:
    t, exchange = agreed()
    location = desk_location()
    staff = f.staff("desk", location.organisation)
    issued = handovers.handover_create(exchange=exchange, person=t.author, location=location)
    if dropped:
        handovers.handover_drop(handover=issued.handover, actor=staff)
    return Desk(t, exchange, location, staff, issued.handover, issued.code)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_desk_lists_the_handover_locations_of_its_own_organisation(client):
    d = at_desk()
    other = desk_location(organisation=f.library("GM0356"), name="Bibliotheek Nieuwegein")
    school = desk_location(kind="school_library", name="Schoolbieb De Klimop")
    client.force_login(d.staff)

    response = client.get(url("desk"))

    text = main(response)
    assert "Bibliotheek Neude" in text
    assert "1 ligt klaar of wacht op hulp" in text
    assert "Bibliotheek Nieuwegein" not in text and "Schoolbieb" not in text
    assert other.pk and school.pk


def test_the_desk_list_shows_what_waits_with_labels_and_no_codes(client):
    d = at_desk()
    t2, exchange2 = agreed()
    announced = handovers.handover_create(exchange=exchange2, person=t2.author, location=d.location)
    client.force_login(d.staff)

    response = client.get(url("desk_location", d.location.pk))

    text = main(response)
    assert response.status_code == 200
    assert "Klopboormachine · Anna V." in text
    assert "Ligt klaar" in text and "Ophalen uiterlijk" in text
    assert "Aangekondigd (1)" in text
    assert "Ontvangen van de brenger" in text
    assert d.code not in page(response) and announced.code not in page(response)
    assert d.talk.responder.email not in page(response)
    assert "de Vries" not in page(response)


@pytest.mark.parametrize("who", ["resident", "programmer"])
def test_the_desk_is_for_desk_staff_and_managers(client, who):
    d = at_desk()
    person = f.resident() if who == "resident" else f.staff("programmer", d.location.organisation)
    client.force_login(person)

    assert client.get(url("desk")).status_code == 403
    assert client.get(url("desk_location", d.location.pk)).status_code == 403
    assert (
        client.post(url("handover_pick_up", d.location.pk, d.handover.pk), {"code": d.code})
    ).status_code == 403
    assert Handover.objects.get().status == HandoverStatus.WAITING


def test_the_desk_needs_a_log_in(client):
    d = at_desk()
    for path in (url("desk"), url("desk_location", d.location.pk)):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login")
        )


def test_staff_of_another_organisation_get_not_found(client):
    d = at_desk()
    stranger = f.staff("desk", f.library("GM0356"))
    client.force_login(stranger)
    loc, pk = d.location.pk, d.handover.pk

    assert client.get(url("desk_location", loc)).status_code == 404
    assert client.post(url("handover_pick_up", loc, pk), {"code": d.code}).status_code == 404
    assert client.post(url("handover_pick_up_code", loc), {"code": d.code}).status_code == 404
    assert client.post(url("handover_drop", loc, pk)).status_code == 404
    assert client.post(url("handover_unlock", loc, pk)).status_code == 404
    assert client.post(url("handover_return", loc, pk), {"id_checked": "on"}).status_code == 404
    assert Handover.objects.get().status == HandoverStatus.WAITING


def test_a_handover_of_another_location_is_not_found_there(client):
    d = at_desk()
    second = desk_location(name="Bibliotheek Overvecht")
    client.force_login(d.staff)

    response = client.post(url("handover_pick_up", second.pk, d.handover.pk), {"code": d.code})

    assert response.status_code == 404
    assert Handover.objects.get().status == HandoverStatus.WAITING


def test_the_desk_takes_an_announced_thing_in(client, django_capture_on_commit_callbacks):
    d = at_desk(dropped=False)
    client.force_login(d.staff)
    mail.outbox.clear()
    listed = main(client.get(url("desk_location", d.location.pk)))
    # the desk asks the name of who brings it
    assert "Klopboormachine · Anna V. Wordt gebracht door Gerrit B." in listed

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("handover_drop", d.location.pk, d.handover.pk))

    d.handover.refresh_from_db()
    assert response["Location"] == url("desk_location", d.location.pk)
    assert d.handover.status == HandoverStatus.WAITING
    assert [m.to for m in mail.outbox] == [[d.talk.responder.email]]
    assert d.code not in mail.outbox[0].body


def test_the_right_code_hands_it_over(client, django_capture_on_commit_callbacks):
    d = at_desk()
    client.force_login(d.staff)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("handover_pick_up", d.location.pk, d.handover.pk),
            {"code": f"{d.code[:3]} {d.code[3:]}"},
        )

    d.handover.refresh_from_db()
    assert d.handover.status == HandoverStatus.PICKED_UP
    assert response["Location"].endswith(f"#zending-{d.handover.pk}")
    shown = client.get(url("desk_location", d.location.pk))
    assert "De code klopt. Geef “Klopboormachine · Anna V.” mee" in " ".join(flashes(shown))
    assert [m.to for m in mail.outbox] == [[d.talk.author.email]]


def test_wrong_codes_show_the_tries_left_then_lock_and_the_desk_unlocks(
    client, django_capture_on_commit_callbacks
):
    d = at_desk()
    client.force_login(d.staff)
    target = url("handover_pick_up", d.location.pk, d.handover.pk)

    client.post(target, {"code": wrong(d.code)})
    first = flashes(client.get(url("desk_location", d.location.pk)))
    for _n in range(handovers.MAX_WRONG_TRIES - 1):
        client.post(target, {"code": wrong(d.code)})
    locked_page = client.get(url("desk_location", d.location.pk))
    client.post(target, {"code": d.code})
    still_locked = flashes(client.get(url("desk_location", d.location.pk)))

    assert first == ["Deze code klopt niet. Nog 4 pogingen."]
    assert any("Controleer het identiteitsbewijs" in m for m in flashes(locked_page))
    assert "Geblokkeerd" in main(locked_page)
    assert "hef de blokkade op" in main(locked_page)
    assert any("geblokkeerd" in m for m in still_locked)
    assert Handover.objects.get().status == HandoverStatus.LOCKED

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("handover_unlock", d.location.pk, d.handover.pk), {"new_code": "on"})
    unlocked = client.get(url("desk_location", d.location.pk))
    handover = Handover.objects.get()
    [sent] = mail.outbox
    new_code = re.search(r"\b(\d{6})\b", sent.body).group(1)
    assert handover.status == HandoverStatus.WAITING and handover.wrong_tries == 0
    assert sent.to == [d.talk.responder.email]
    assert new_code not in page(unlocked)
    client.post(target, {"code": d.code})
    assert Handover.objects.get().status == HandoverStatus.WAITING  # the old code stopped
    client.post(target, {"code": new_code})
    assert Handover.objects.get().status == HandoverStatus.PICKED_UP


def test_the_desk_types_only_the_code(client):
    d = at_desk()
    client.force_login(d.staff)

    client.post(url("handover_pick_up_code", d.location.pk), {"code": wrong(d.code)})
    wrong_page = flashes(client.get(url("desk_location", d.location.pk)))
    client.post(url("handover_pick_up_code", d.location.pk), {"code": ""})
    empty = flashes(client.get(url("desk_location", d.location.pk)))
    client.post(url("handover_pick_up_code", d.location.pk), {"code": d.code})

    assert wrong_page == ["Deze code klopt niet."]
    assert empty == ["Vul de ophaalcode in."]
    assert Handover.objects.get().status == HandoverStatus.PICKED_UP


def test_giving_back_to_the_giver_needs_the_id_check(client, django_capture_on_commit_callbacks):
    d = at_desk()
    client.force_login(d.staff)
    shown = client.get(url("desk_location", d.location.pk))

    client.post(url("handover_return", d.location.pk, d.handover.pk))
    unchecked = flashes(client.get(url("desk_location", d.location.pk)))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("handover_return", d.location.pk, d.handover.pk), {"id_checked": "on"})

    assert "gebracht door Gerrit B." in main(shown)
    assert any("identiteitsbewijs" in m for m in unchecked)
    assert Handover.objects.get().status == HandoverStatus.CANCELLED
    assert AuditEvent.objects.filter(action="community.handover_returned").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [d.talk.author.email, d.talk.responder.email]
    )
    assert "Er ligt hier niets voor bewoners." in main(
        client.get(url("desk_location", d.location.pk))
    )


# --- the service: handover_return_to_giver -----------------------------------------------------


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


@pytest.mark.parametrize("state", ["waiting", "overdue", "locked"])
def test_return_to_giver_cancels_a_thing_at_the_desk_and_tells_both(
    state, django_capture_on_commit_callbacks
):
    d = at_desk()
    Handover.objects.filter(pk=d.handover.pk).update(status=state)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        returned = handovers.handover_return_to_giver(handover=d.handover, actor=d.staff)

    assert returned.status == HandoverStatus.CANCELLED
    assert Handover.objects.get().status == HandoverStatus.CANCELLED
    event = AuditEvent.objects.get(action="community.handover_returned")
    assert event.data["previous"] == state
    assert event.organisation_id == d.location.organisation_id
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert set(bodies) == {d.talk.author.email, d.talk.responder.email}
    assert "weer meegenomen" in bodies[d.talk.author.email]
    assert "teruggegeven aan wie het bracht" in bodies[d.talk.responder.email]
    assert d.code not in " ".join(bodies.values())
    # the exchange stays agreed, and may now be called off (nothing lies at the desk)
    d.exchange.refresh_from_db()
    assert d.exchange.status == ExchangeStatus.AGREED
    exchanges.exchange_cancel(exchange=d.exchange, person=d.talk.author)
    # the old code is no longer in use at the location
    refused(
        "code_wrong",
        lambda: handovers.pick_up_with_code(location=d.location, code=d.code, actor=d.staff),
    )


@pytest.mark.parametrize("state", ["announced", "picked_up", "cancelled"])
def test_return_to_giver_refuses_what_is_not_at_the_desk(state):
    d = at_desk(dropped=False)
    Handover.objects.filter(pk=d.handover.pk).update(status=state)

    refused(
        "handover_not_at_desk",
        lambda: handovers.handover_return_to_giver(handover=d.handover, actor=d.staff),
    )

    assert Handover.objects.get().status == state
    assert not AuditEvent.objects.filter(action="community.handover_returned").exists()


def test_return_to_giver_is_for_the_desk_of_the_location():
    d = at_desk()
    stranger = f.staff("desk", f.library("GM0356"))

    refused(
        "not_found",
        lambda: handovers.handover_return_to_giver(handover=d.handover, actor=stranger),
    )
    refused(
        "forbidden",
        lambda: handovers.handover_return_to_giver(handover=d.handover, actor=d.talk.author),
    )
    assert Handover.objects.get().status == HandoverStatus.WAITING
