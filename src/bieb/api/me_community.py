"""``/api/v1/me/messages``: the signed-in resident's conversations in the community library,
with their messages.

Only the resident's own conversations are ever found (about their own posts, and the posts
they responded to): another conversation's id answers 404 ``conversation_not_found``, never
403, so ids reveal nothing. The other side is shown by first name and initial, never by
e-mail address; its account id is given only here, to report them
(``POST /api/v1/community/reports`` with ``person_id``). Responding is ``POST /api/v1/community/posts/{id}/responses``
(``bieb.community.api``).

Paging: ``limit``/``offset`` page the conversations (newest activity first); each carries its
newest ``messages`` messages (oldest of them first). To read further back in one
conversation, ask for it alone (``conversation``) with ``before``: the id of the oldest
message you have.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.community import messages as community_messages
from bieb.community.models import Conversation, Message
from bieb.community.selectors import author_label
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound

router = Router(tags=["me"])

MAX_LIMIT = 100
MAX_OFFSET = 100_000
MAX_MESSAGES = 100


class MessagesWindow(Schema):
    conversation: int | None = Field(
        None, ge=1, description="Only this conversation of yours (its `id`)."
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Conversations per page, 1 to 100.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    messages: int = Field(
        20,
        ge=0,
        le=MAX_MESSAGES,
        description="The newest messages shown of each conversation, 0 to 100.",
    )
    before: int | None = Field(
        None,
        ge=1,
        description="With `conversation`: only messages older than this message (its `id`), "
        "to read further back.",
    )


class PostRef(Schema):
    id: int
    title: str
    status: Literal["open", "closed", "hidden"]
    url: str | None = Field(description="The post's page on the website.")


class OtherOut(Schema):
    id: int = Field(
        description="To report this resident: `person_id` of `POST /api/v1/community/reports`."
    )
    label: str = Field(description="First name and the initial of the last name.")


class MessageOut(Schema):
    id: int
    from_me: bool
    body: str = Field(
        description="Plain text (links are text: show them with a warning); empty when a "
        "moderator hid it."
    )
    hidden: bool = Field(description="A moderator hid this message.")
    sent_at: dt.datetime
    read_at: dt.datetime | None = Field(description="When the recipient read it.")


class ConversationOut(Schema):
    id: int
    post: PostRef
    role: Literal["author", "responder"] = Field(
        description="`author`: about your own post; `responder`: you responded to it."
    )
    other: OtherOut
    unread: int = Field(description="Messages to you not read yet.")
    message_count: int
    created_at: dt.datetime
    last_message_at: dt.datetime
    messages: list[MessageOut] = Field(
        description="The newest `messages` messages (older than `before`), oldest first."
    )
    more_messages: bool = Field(
        description="There are older messages: ask again with `conversation` and `before` "
        "set to the id of the first message here."
    )


class ConversationListOut(Schema):
    count: int = Field(description="Your conversations on every page together.")
    limit: int
    offset: int
    results: list[ConversationOut]


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(clock.AMSTERDAM) if moment is not None else None


def _post_url(request: HttpRequest, post_id: int) -> str | None:
    try:
        return request.build_absolute_uri(reverse("community:post", args=[post_id]))
    except NoReverseMatch:
        return None


def _bad_before() -> DomainError:
    return DomainError(
        "filter_invalid",
        _(
            "Gebruik before alleen samen met conversation, met het nummer van een bericht uit "
            "dat gesprek."
        ),
        details={"field": "before"},
    )


def _newest_messages(
    conversation_ids: list[int], count: int, before: Message | None
) -> dict[int, list[Message]]:
    """Per conversation its newest ``count`` + 1 messages (older than ``before``), oldest
    first: one query for the whole page (a window function ranks them)."""
    if not conversation_ids or count == 0:
        return {}
    rows = Message.objects.filter(conversation_id__in=conversation_ids)
    if before is not None:
        rows = rows.filter(
            Q(sent_at__lt=before.sent_at) | Q(sent_at=before.sent_at, pk__lt=before.pk)
        )
    ranked = rows.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("conversation_id")],
            order_by=[F("sent_at").desc(), F("pk").desc()],
        )
    ).filter(rank__lte=count + 1)
    found: dict[int, list[Message]] = defaultdict(list)
    for message in ranked.order_by("conversation_id", "sent_at", "pk"):
        found[message.conversation_id].append(message)
    return found


def _message_out(message: Message, person: Any) -> MessageOut:
    hidden = bool(message.hidden_reason)
    return MessageOut(
        id=message.pk,
        from_me=message.sender_id == person.pk,
        body="" if hidden else message.body,
        hidden=hidden,
        sent_at=_local(message.sent_at),
        read_at=_local(message.read_at),
    )


def _conversation_out(
    request: HttpRequest,
    conversation: Conversation,
    person: Any,
    shown: list[Message],
    count: int,
) -> ConversationOut:
    if count == 0:
        more = conversation.message_count > 0
    else:
        more = len(shown) > count
        shown = shown[1:] if more else shown  # the extra one only says there are more
    is_author = conversation.post.author_id == person.pk
    other = community_messages.other_party(conversation, person)
    return ConversationOut(
        id=conversation.pk,
        post=PostRef(
            id=conversation.post.pk,
            title=conversation.post.title,
            status=conversation.post.status,
            url=_post_url(request, conversation.post.pk),
        ),
        role="author" if is_author else "responder",
        other=OtherOut(id=other.pk, label=author_label(other)),
        unread=conversation.unread,
        message_count=conversation.message_count,
        created_at=_local(conversation.created_at),
        last_message_at=_local(conversation.last_message_at),
        messages=[_message_out(message, person) for message in shown],
        more_messages=more,
    )


@router.get(
    "/messages",
    auth=resident_auth,
    response={200: ConversationListOut, **error_responses(400, 401, 404, 422)},
    operation_id="me_messages_list",
    url_name="me_messages",
    summary="Your conversations in the community, with their messages",
    description=(
        "Your conversations about your own offers and requests and about those you "
        "responded to, newest activity first; `limit` (1-100, default 20) and `offset` page "
        "through them, `count` is the number on all pages. Each has its post, the other "
        "resident (first name and initial), the number of unread messages to you and its "
        "newest `messages` messages (default 20), oldest first. `conversation` gives one "
        "conversation alone; with `before` (a message id) you read further back in it "
        "(`more_messages` says whether there is more). Reading here does not mark messages "
        "read. Errors: 400 `filter_invalid` (`before` without `conversation`, or not a "
        "message of it); 401 `not_authenticated`, `invalid_token`; 404 "
        "`conversation_not_found` (not yours, or no such conversation); 422 `invalid_input`."
    ),
)
def me_messages(request: HttpRequest, window: Query[MessagesWindow]) -> ConversationListOut:
    person = request.auth
    message_count = Subquery(
        Message.objects.filter(conversation_id=OuterRef("pk"))
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    conversations = community_messages.messages_of(person).annotate(
        message_count=Coalesce(message_count, Value(0))
    )
    before = None
    if window.conversation is not None:
        conversations = conversations.filter(pk=window.conversation)
        if window.before is not None:
            before = (
                Message.objects.filter(pk=window.before, conversation_id=window.conversation)
                .only("pk", "sent_at")
                .first()
            )
    elif window.before is not None:
        raise _bad_before()
    page = list(conversations[window.offset : window.offset + window.limit])
    if window.conversation is not None and not page and window.offset == 0:
        raise NotFound(
            "conversation_not_found", _("Dit bestaat niet of je hebt er geen toegang toe.")
        )
    if window.before is not None and before is None:
        raise _bad_before()
    count = (
        len(page) + window.offset
        if len(page) < window.limit and (page or window.offset == 0)
        else conversations.count()
    )
    shown = _newest_messages([c.pk for c in page], window.messages, before)
    return ConversationListOut(
        count=count,
        limit=window.limit,
        offset=window.offset,
        results=[
            _conversation_out(request, c, person, shown.get(c.pk, []), window.messages)
            for c in page
        ],
    )
