"""Safe messages between residents: responses to a post, conversations, blocks and the choice
to share contact details.

- One conversation per post and responder (a database constraint): a second response adds a
  message to it.
- Nobody sees another resident's e-mail address unless that resident chose to share it in
  this conversation (``contact_share``); a block hides it again.
- A block works both ways and says nothing about who blocked whom: "you cannot send messages
  to this resident".
- Under 16 without a guardian's consent there is no one-to-one contact either way: such a
  resident does not write, share an address, or get responses and messages
  (``other_cannot_exchange``); their ideas go to the library.
- Bodies are plain text (``text.clean``); links stay text, templates warn next to them.
- The recipient is mailed that there is a new message, with a link and never the text, at most
  once an hour per conversation (``_mail_due``).

Locks: a write first locks the sender's account row (PostgreSQL; SQLite serialises writers at
``BEGIN IMMEDIATE``), so the rate limits and the "one mail an hour" rule are counted by one
writer at a time per sender.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from bieb.accounts.access import has_guardian_consent
from bieb.accounts.mail import site_url_or_default
from bieb.accounts.models import User
from bieb.community import guard, notify, text
from bieb.community.models import Block, Conversation, Message, Post, PostStatus
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied

__all__ = [
    "MAIL_EVERY",
    "access_conversation",
    "block",
    "blocked_between",
    "contact_of_other",
    "contact_share",
    "conversation_read",
    "conversation_view",
    "message_send",
    "messages_of",
    "other_party",
    "page_link",
    "respond",
    "unblock",
]

BODY_MAX = 2000
#: at most one "new message" mail per conversation and recipient in this time
MAIL_EVERY = dt.timedelta(hours=1)

#: fallback paths while the community's URLs are not wired (``page_link``)
_FALLBACK_PATHS = {
    "community:conversation": "/mijn/berichten/{0}",
    "community:messages": "/mijn/berichten",
    "community:handovers_mine": "/mijn/overdrachten",
    "community:profile_mine": "/mijn/community/profiel",
}


def page_link(name: str, *args: Any, site_url: str = "") -> str:
    """The absolute link to a community page for e-mail."""
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        path = _FALLBACK_PATHS[name].format(*args)
    return site_url_or_default(site_url) + path


# --- refusals --------------------------------------------------------------------------------


def not_found() -> NotFound:
    return NotFound("not_found", _("Dit bestaat niet of je hebt er geen toegang toe."))


def _blocked() -> DomainError:
    return PermissionDenied("blocked", _("Je kunt deze bewoner geen berichten sturen."))


def _cannot_exchange() -> DomainError:
    """The other side is under 16 without a guardian's consent: no one-to-one contact with
    them, whoever starts it (the refusal says nothing of their age)."""
    return DomainError(
        "other_cannot_exchange",
        _("Met deze bewoner kun je op dit moment niets afspreken."),
        status=409,
    )


def _post_not_open() -> DomainError:
    return DomainError(
        "post_not_open",
        _("Dit aanbod of deze vraag staat niet meer open. Kijk op het prikbord voor andere."),
        status=409,
    )


def _clean_body(body: Any) -> str:
    cleaned = text.clean(body, max_length=BODY_MAX)
    if not cleaned:
        raise DomainError("body_required", _("Schrijf een bericht."), details={"field": "body"})
    return cleaned


# --- reads -------------------------------------------------------------------------------------


def is_participant(conversation: Conversation, person: Any) -> bool:
    pk = getattr(person, "pk", None)
    return pk is not None and pk in (conversation.responder_id, conversation.post.author_id)


def other_party(conversation: Conversation, person: Any):
    """The other resident in ``conversation`` (``person`` must take part)."""
    if person.pk == conversation.responder_id:
        return conversation.post.author
    return conversation.responder


def blocked_between(a_id: int | None, b_id: int | None) -> bool:
    """Whether either of two residents blocked the other."""
    if a_id is None or b_id is None:
        return False
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def access_conversation(person: Any, conversation_id: Any) -> Conversation:
    """The conversation, for one of its two residents; ``NotFound`` for everyone else."""
    if person is None or not getattr(person, "is_authenticated", False):
        raise PermissionDenied("login_required", _("Log in om dit te bekijken."), status=401)
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise not_found() from None
    conversation = (
        Conversation.objects.select_related("post", "post__author", "responder")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or not is_participant(conversation, person):
        raise not_found()
    return conversation


def _unread_count(person: Any) -> Subquery:
    return Subquery(
        Message.objects.filter(
            conversation_id=OuterRef("pk"), read_at__isnull=True, hidden_reason=""
        )
        .exclude(sender_id=person.pk)
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def messages_of(person: Any) -> QuerySet[Conversation]:
    """The conversations of ``person`` (about their own posts and the ones they responded
    to), newest activity first, each with ``unread``: messages from the other side not yet
    read."""
    return (
        Conversation.objects.filter(Q(responder_id=person.pk) | Q(post__author_id=person.pk))
        .select_related("post", "post__author", "responder")
        .annotate(unread=Coalesce(_unread_count(person), Value(0)))
        .order_by("-last_message_at", "-pk")
    )


def contact_of_other(conversation: Conversation, viewer: Any) -> str:
    """The other resident's e-mail address if they chose to share it with ``viewer`` here
    (and neither blocked the other), else ``""``. The phone number is not kept in accounts."""
    if not is_participant(conversation, viewer):
        return ""
    viewer_is_responder = viewer.pk == conversation.responder_id
    shares = (
        conversation.author_shares_contact
        if viewer_is_responder
        else conversation.responder_shares_contact
    )
    if not shares:
        return ""
    other = other_party(conversation, viewer)
    if other is None or not other.is_active or blocked_between(viewer.pk, other.pk):
        return ""
    return other.email


def conversation_view(conversation: Conversation, person: Any) -> dict[str, Any]:
    """What the conversation page shows ``person``: the messages (a message hidden by a
    moderator without its text), the other side's first name, their contact details when
    shared, whether ``person`` shares theirs, whether a block stands between them, and the
    exchange agreed in it (or None)."""
    if not is_participant(conversation, person):
        raise not_found()
    other = other_party(conversation, person)
    shown = []
    for message in conversation.messages.all():
        if message.hidden_reason:
            message.body = ""
        shown.append(message)
    is_responder = person.pk == conversation.responder_id
    exchange = getattr(conversation, "exchange", None) if conversation.pk else None
    return {
        "conversation": conversation,
        "post": conversation.post,
        "messages": shown,
        "other_first_name": (other.first_name if other is not None else "") or _("bewoner"),
        "other_contact": contact_of_other(conversation, person),
        "i_share": (
            conversation.responder_shares_contact
            if is_responder
            else conversation.author_shares_contact
        ),
        "blocked": blocked_between(person.pk, getattr(other, "pk", None)),
        "is_author": not is_responder,
        "exchange": exchange,
    }


# --- writes ------------------------------------------------------------------------------------


def _lock_person(person: Any) -> None:
    """Lock the person's account row: their counts (rates, mails) are taken one at a time."""
    User.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).first()


def _check_message_rate(person: Any) -> None:
    guard.check_rate(
        person,
        "message",
        lambda since: Message.objects.filter(sender_id=person.pk, sent_at__gte=since).count(),
    )


def _mail_due(conversation: Conversation, recipient: Any, now: dt.datetime) -> bool:
    """Whether the recipient gets a mail for a message about to be sent ``now``: not when an
    earlier message to them in this conversation was sent within ``MAIL_EVERY``, so two
    mails about one conversation are always at least that far apart. (Counted from the
    messages: the model keeps no "last mailed" moment.)"""
    return not (
        Message.objects.filter(conversation_id=conversation.pk, sent_at__gt=now - MAIL_EVERY)
        .exclude(sender_id=recipient.pk)
        .exists()
    )


def _add_message(
    conversation: Conversation, sender: Any, recipient: Any, body: str, site_url: str
) -> Message:
    now = clock.now()
    mail = recipient is not None and _mail_due(conversation, recipient, now)
    message = Message.objects.create(
        conversation=conversation, sender=sender, body=body, sent_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    conversation.last_message_at = now
    if mail:
        notify.tell(
            recipient,
            "message_new",
            site_url=site_url,
            post_title=conversation.post.title,
            sender_first_name=sender.first_name or _("een bewoner"),
            link=page_link("community:conversation", conversation.pk, site_url=site_url),
        )
    return message


def respond(*, post: Post, person: Any, body: str, site_url: str = "") -> Message:
    """``person`` responds to ``post``: the conversation with its author (made on the first
    response, reused after) gets the message, and the author is told there is one.

    Refusals: ``own_post``, ``post_not_open`` (closed or hidden), the guard's
    (``login_required``, ``email_unconfirmed``, ``suspended``, ``consent_required``),
    ``blocked`` (either way), ``other_cannot_exchange`` (the author is under 16 without a
    guardian's consent: their ideas are for the library, not for one-to-one contact),
    ``rate_limited`` (new conversations: ``response``; every message: ``message``),
    ``body_required``."""
    guard.check_may_exchange(person)
    cleaned = _clean_body(body)
    with transaction.atomic():
        _lock_person(person)
        # the post's row only: locking its author too could cross a response of theirs
        fresh = (
            Post.objects.select_for_update(of=("self",))
            .select_related("author")
            .filter(pk=post.pk)
            .first()
        )
        if fresh is None:
            raise not_found()
        if fresh.author_id == person.pk:
            raise DomainError(
                "own_post",
                _("Dit is je eigen aanbod of vraag; daar reageer je niet op."),
                status=409,
            )
        if fresh.status != PostStatus.OPEN or not fresh.author.is_active:
            raise _post_not_open()
        if blocked_between(person.pk, fresh.author_id):
            raise _blocked()
        if not has_guardian_consent(fresh.author):
            raise _cannot_exchange()
        conversation = Conversation.objects.filter(post_id=fresh.pk, responder_id=person.pk).first()
        if conversation is None:
            guard.check_rate(
                person,
                "response",
                lambda since: Conversation.objects.filter(
                    responder_id=person.pk, created_at__gte=since
                ).count(),
            )
        _check_message_rate(person)
        if conversation is None:
            now = clock.now()
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        post=fresh, responder=person, created_at=now, last_message_at=now
                    )
            except IntegrityError:  # the same person at two windows: one conversation
                conversation = Conversation.objects.get(post_id=fresh.pk, responder_id=person.pk)
            else:
                audit_record(
                    action="community.respond",
                    actor=person,
                    subject=conversation,
                    organisation_id=person.home_organisation_id,
                    data={"post": fresh.pk},
                )
        conversation.post = fresh
        return _add_message(conversation, person, fresh.author, cleaned, site_url)


def message_send(
    *, conversation: Conversation, person: Any, body: str, site_url: str = ""
) -> Message:
    """``person`` writes in a conversation they take part in (anyone else: ``not_found``).

    Refusals as ``respond``: the guard's, ``post_not_open`` when a moderator hid the post
    (a closed post's conversation goes on: the two may still be arranging the handover),
    ``blocked``, ``other_cannot_exchange`` (the other is under 16 without a guardian's
    consent, e.g. since it was withdrawn), ``rate_limited``, ``body_required``."""
    if not is_participant(conversation, person):
        raise not_found()
    guard.check_may_exchange(person)
    cleaned = _clean_body(body)
    with transaction.atomic():
        _lock_person(person)
        fresh = (
            Conversation.objects.select_related("post", "post__author", "responder")
            .filter(pk=conversation.pk)
            .first()
        )
        if fresh is None:
            raise not_found()
        if fresh.post.status == PostStatus.HIDDEN:
            raise _post_not_open()
        other = other_party(fresh, person)
        if other is None or not other.is_active:
            raise _blocked()
        if blocked_between(person.pk, other.pk):
            raise _blocked()
        if not has_guardian_consent(other):
            raise _cannot_exchange()
        _check_message_rate(person)
        message = _add_message(fresh, person, other, cleaned, site_url)
    conversation.last_message_at = fresh.last_message_at
    return message


def conversation_read(conversation: Conversation, person: Any) -> int:
    """Mark the messages ``person`` received in ``conversation`` read; how many were new."""
    if not is_participant(conversation, person):
        raise not_found()
    return (
        Message.objects.filter(conversation_id=conversation.pk, read_at__isnull=True)
        .exclude(sender_id=person.pk)
        .update(read_at=clock.now())
    )


def _check_person(person: Any) -> None:
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        raise PermissionDenied("login_required", _("Log eerst in."), status=401)


def block(*, person: Any, other: Any) -> Block:
    """``person`` blocks ``other``: no messages either way from now on, and shared contact
    details are hidden. Allowed to every resident, suspended or not. Blocking twice is the
    same as once."""
    _check_person(person)
    if other is None or other.pk == person.pk:
        raise DomainError("block_self", _("Je kunt jezelf niet blokkeren."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                made = Block.objects.create(blocker=person, blocked=other)
        except IntegrityError:
            return Block.objects.get(blocker_id=person.pk, blocked_id=other.pk)
        audit_record(
            action="community.block",
            actor=person,
            subject=made,
            organisation_id=person.home_organisation_id,
            data={"blocked": other.pk},
        )
    return made


def unblock(*, person: Any, other: Any) -> bool:
    """``person`` lifts their block of ``other`` (a block by ``other`` stays). Whether there
    was one."""
    _check_person(person)
    with transaction.atomic():
        deleted, _rows = Block.objects.filter(blocker_id=person.pk, blocked_id=other.pk).delete()
        if deleted:
            audit_record(
                action="community.unblock",
                actor=person,
                subject=f"accounts.user:{other.pk}",
                organisation_id=person.home_organisation_id,
            )
    return bool(deleted)


def contact_share(*, conversation: Conversation, person: Any, share: bool) -> Conversation:
    """``person`` shows (or hides again) their e-mail address to the other side of
    ``conversation``. Only the two residents may (anyone else: ``not_found``); showing it
    needs the guard's ``check_may_exchange`` (``suspended``, ``consent_required``)."""
    if not is_participant(conversation, person):
        raise not_found()
    _check_person(person)
    if share:
        # showing one's address is one-to-one contact: not while suspended, nor under 16
        # without a guardian's consent (hiding it again is always allowed)
        guard.check_may_exchange(person)
    field = (
        "responder_shares_contact"
        if person.pk == conversation.responder_id
        else "author_shares_contact"
    )
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(**{field: bool(share)})
        setattr(conversation, field, bool(share))
        audit_record(
            action="community.contact_share",
            actor=person,
            subject=conversation,
            organisation_id=person.home_organisation_id,
            data={"share": bool(share)},
        )
    return conversation
