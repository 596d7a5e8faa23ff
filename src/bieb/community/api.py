"""Public API of the community library, mounted at ``/api/v1/community``: the board of offers
and requests with its filters, one post, and, signed in, placing a post, responding to one and
reporting a post, a message or a resident. A resident's conversations are at
``/api/v1/me/messages`` (``bieb.api.me_community``).

The handlers parse, call ``selectors`` or the services (``posts``, ``messages``,
``moderation``) and answer; every refusal is the service's ``DomainError`` with its stable
code. Reads are public (``auth=None``); the one read that depends on who asks (a hidden post is
shown to its author) reads the optional credentials itself (``_viewer``). Writes need a
signed-in resident and accept ``Idempotency-Key``.

What the board shows of residents is what its pages show: the first name and initial
(``selectors.author_label``) and the number of completed exchanges, never an e-mail address,
a full name or an account id; a post's place is its four-digit postcode area, never an
address. A resident can be reported by id only by someone who has a conversation with them
(``/me/messages`` gives the other side's id), so ids cannot be tried one after another.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from bieb.accounts.models import User
from bieb.api.auth import bearer_auth, resident_auth
from bieb.api.errors import error_responses
from bieb.api.idempotency import idempotent
from bieb.community import messages, moderation, posts, selectors
from bieb.community.models import (
    Category,
    Conversation,
    Message,
    Photo,
    Post,
    PostKind,
    PostStatus,
    PostType,
    ReportReason,
    Terms,
)
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.network.models import Municipality, PostcodeArea

router = Router(tags=["community"])

MAX_LIMIT = selectors.MAX_LIMIT
MAX_OFFSET = 100_000

# The choices of the models, as OpenAPI enums (a value outside them answers 422).
TypeName = Literal[tuple(PostType.values)]
KindName = Literal[tuple(PostKind.values)]
CategoryName = Literal[tuple(Category.values)]
TermsName = Literal[tuple(Terms.values)]
StatusName = Literal[tuple(PostStatus.values)]
ReasonName = Literal[tuple(ReportReason.values)]


# --- schemas ---------------------------------------------------------------------------------


class PostFilters(Schema):
    """The board's filters; every one is optional and they combine (AND)."""

    type: TypeName | None = Field(None, description="`offer` or `request`.")
    kind: KindName | None = Field(
        None, description="`thing`, `skill`, `knowledge`, `time` (volunteering) or `idea`."
    )
    category: CategoryName | None = Field(None, description="One of the board's categories.")
    q: str | None = Field(
        None, max_length=selectors.QUERY_MAX_LENGTH, description="Every word in title or text."
    )
    near: str | None = Field(
        None,
        max_length=100,
        description="A postcode (3511 or 3511 AB) or a place: only posts within `radius_km` "
        "of it, nearest first, each with `distance_km`.",
    )
    radius_km: int = Field(
        selectors.DEFAULT_RADIUS_KM,
        ge=1,
        le=selectors.MAX_RADIUS_KM,
        description="With `near`: how far to look, 1 to 50 km.",
    )
    municipality: str | None = Field(
        None,
        max_length=10,
        description="CBS code of a municipality (GM0344): only posts in it.",
        examples=["GM0344"],
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Posts per page, 1 to 100.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many to skip.")


class MunicipalityRef(Schema):
    cbs_code: str
    name: str


class AreaOut(Schema):
    """Where a post is: a four-digit postcode area, never an address."""

    pc4: str = Field(description="The four digits of the postcode area.")
    place: str = Field(description="The place the area belongs to (may be empty).")
    municipality: MunicipalityRef | None


class AuthorOut(Schema):
    label: str = Field(description="First name and the initial of the last name: 'Anna V.'.")
    completed_exchanges: int = Field(
        description="How often this resident completed an exchange (lent, gave, helped or "
        "received). No ratings."
    )


class PhotoOut(Schema):
    id: int
    url: str | None = Field(description="The photo (JPEG, at most 1600 px, no metadata).")
    thumbnail_url: str | None = Field(description="A small version (at most 400 px).")
    alt: str = Field(description="A description of the photo for people who cannot see it.")
    width: int
    height: int


class PostOut(Schema):
    """An offer or a request on the board."""

    id: int
    type: TypeName
    kind: KindName
    category: CategoryName
    title: str = Field(description="Plain text: never HTML.")
    body: str = Field(
        description="Plain text with line breaks: never HTML. Links in it are text; show them "
        "as text with a warning, never as links."
    )
    terms: TermsName = Field(
        description="`lend`, `give` or `swap` for a thing; `help` for skills, knowledge, time "
        "and ideas."
    )
    availability: str = Field(description="When, in the author's words (plain text).")
    status: StatusName = Field(
        description="`open`; `closed` (no longer on the board); `hidden` (by a moderator: "
        "only its author sees it)."
    )
    area: AreaOut
    distance_km: float | None = Field(description="From the `near` place; null without it.")
    author: AuthorOut
    photos: list[PhotoOut]
    created_at: dt.datetime
    url: str | None = Field(description="The post's page on the website.")


class PostListOut(Schema):
    count: int = Field(description="Posts matching the filters, on every page together.")
    limit: int
    offset: int
    results: list[PostOut]


class PostDetailOut(PostOut):
    own: bool = Field(description="You wrote it (signed in).")
    hidden_reason: str | None = Field(
        description="Why a moderator hid it: only for its author, only when hidden."
    )
    closed_at: dt.datetime | None
    links: list[str] = Field(
        description="Web addresses found in the text: show them as text with a warning."
    )


class PostIn(Schema):
    type: TypeName = Field(description="`offer` or `request`.")
    kind: KindName
    category: CategoryName
    title: str = Field(max_length=posts.TITLE_MAX, examples=["Klopboormachine te leen"])
    body: str = Field(max_length=posts.BODY_MAX, description="Plain text; HTML is removed.")
    terms: TermsName | None = Field(
        None,
        description="For a thing: `lend`, `give` or `swap` (required). Other kinds are always "
        "`help`.",
    )
    availability: str = Field(
        "", max_length=posts.AVAILABILITY_MAX, description="When, in your words."
    )
    acknowledge_personal: StrictBool = Field(
        False,
        description="true: you know the text holds what looks like an address, phone number "
        "or e-mail address and want it public anyway (after a 409 `personal_details`).",
    )


class ResponseIn(Schema):
    body: str = Field(min_length=1, max_length=messages.BODY_MAX, description="Plain text.")


class ResponseOut(Schema):
    conversation_id: int = Field(
        description="Your conversation with the author: `GET /api/v1/me/messages"
        "?conversation={conversation_id}`."
    )
    message_id: int
    sent_at: dt.datetime


class ReportIn(Schema):
    reason: ReasonName = Field(
        description="`spam`, `rude` (rude, hurtful or discriminating), `unsafe` (unsafe or "
        "illegal), `privacy` (shares personal details) or `other`."
    )
    note: str = Field("", max_length=500, description="What the moderators should know.")
    post_id: StrictInt | None = Field(None, description="The post you report.")
    message_id: StrictInt | None = Field(
        None, description="A message of one of your own conversations."
    )
    person_id: StrictInt | None = Field(
        None,
        description="A resident you have a conversation with (`other.id` in "
        "`GET /api/v1/me/messages`).",
    )


class ReportOut(Schema):
    id: int
    status: Literal["open", "handled"]


# --- building answers ------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(clock.AMSTERDAM) if moment is not None else None


def _absolute(request: HttpRequest, name: str, *args: Any) -> str | None:
    """The absolute URL of a page of the website, or None while it is not mounted."""
    try:
        return request.build_absolute_uri(reverse(name, args=args))
    except NoReverseMatch:
        return None


def _site_url(request: HttpRequest) -> str:
    return getattr(settings, "BIEB_SITE_URL", "") or request.build_absolute_uri("/")


def _photo_out(request: HttpRequest, photo: Photo, post: Post, number: int) -> PhotoOut:
    return PhotoOut(
        id=photo.pk,
        url=_absolute(request, "community:photo", photo.pk),
        thumbnail_url=_absolute(request, "community:photo_thumb", photo.pk),
        alt=photo.alt or _("Foto %(n)s bij %(title)s") % {"n": number, "title": post.title},
        width=photo.width,
        height=photo.height,
    )


def _fields(
    request: HttpRequest,
    post: Post,
    *,
    places: dict[str, str],
    photos: list[Photo],
    exchanges: int,
) -> dict[str, Any]:
    municipality = post.municipality if post.municipality_id else None
    return {
        "id": post.pk,
        "type": post.type,
        "kind": post.kind,
        "category": post.category,
        "title": post.title,
        "body": post.body,
        "terms": post.terms,
        "availability": post.availability,
        "status": post.status,
        "area": AreaOut(
            pc4=post.pc4,
            place=places.get(post.pc4, ""),
            municipality=(
                MunicipalityRef(cbs_code=municipality.cbs_code, name=municipality.name)
                if municipality is not None
                else None
            ),
        ),
        "distance_km": getattr(post, "distance_km", None),
        "author": AuthorOut(
            label=getattr(post, "author_label", None) or selectors.author_label(post.author),
            completed_exchanges=exchanges,
        ),
        "photos": [
            _photo_out(request, photo, post, number) for number, photo in enumerate(photos, start=1)
        ],
        "created_at": _local(post.created_at),
        "url": _absolute(request, "community:post", post.pk),
    }


def _places(pc4s: Iterable[str]) -> dict[str, str]:
    wanted = set(pc4s)
    if not wanted:
        return {}
    return dict(PostcodeArea.objects.filter(pc4__in=wanted).values_list("pc4", "place"))


def posts_out(request: HttpRequest, found: list[Post]) -> list[PostOut]:
    """A page of the board's posts (``selectors.board``): four queries more, whatever the size
    (places, photos, and completed exchanges as giver and as receiver)."""
    places = _places(post.pc4 for post in found)
    with_photos = [post.pk for post in found if getattr(post, "photo_count", 0)]
    photos: dict[int, list[Photo]] = defaultdict(list)
    if with_photos:
        for photo in (
            Photo.objects.filter(post_id__in=with_photos)
            .only("pk", "post_id", "alt", "width", "height")
            .order_by("pk")
        ):
            photos[photo.post_id].append(photo)
    exchanges = selectors.completed_exchanges_of(post.author_id for post in found)
    return [
        PostOut(
            **_fields(
                request,
                post,
                places=places,
                photos=photos.get(post.pk, []),
                exchanges=exchanges.get(post.author_id, 0),
            )
        )
        for post in found
    ]


def post_detail_out(request: HttpRequest, post: Post) -> PostDetailOut:
    """One post as ``selectors.post_public`` gives it (with ``photo_list``, ``links``,
    ``is_own``)."""
    own = bool(getattr(post, "is_own", False))
    return PostDetailOut(
        **_fields(
            request,
            post,
            places=_places([post.pc4]),
            photos=post.photo_list,
            exchanges=selectors.completed_exchanges(post.author),
        ),
        own=own,
        hidden_reason=(post.hidden_reason or None)
        if own and post.status == PostStatus.HIDDEN
        else None,
        closed_at=_local(post.closed_at),
        links=list(post.links),
    )


# --- who asks, and what they point at ----------------------------------------------------------


def _viewer(request: HttpRequest) -> Any:
    """The signed-in person of a public read, or None: a bearer token (a bad one answers 401
    ``invalid_token``, as everywhere) or the browser session."""
    person = bearer_auth(request) if request.headers.get("Authorization") else None
    if person is not None:
        return person
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return user
    return None


def post_not_found() -> NotFound:
    return NotFound("post_not_found", _("Dit bericht bestaat niet (meer)."))


def _unknown(code: str) -> NotFound:
    return NotFound(code, _("Dit bestaat niet of je hebt er geen toegang toe."))


def visible_post(post_id: int, person: Any) -> Post:
    """The post, unless a moderator hid it and ``person`` did not write it (404
    ``post_not_found``: a hidden post is not there for anyone else)."""
    post = (
        Post.objects.filter(pk=post_id)
        .exclude(Q(status=PostStatus.HIDDEN) & ~Q(author_id=getattr(person, "pk", None)))
        .first()
    )
    if post is None:
        raise post_not_found()
    return post


def _own_message(message_id: int, person: Any) -> Message:
    """A message of one of the person's own conversations (anything else: 404)."""
    message = (
        Message.objects.filter(pk=message_id)
        .filter(
            Q(conversation__responder_id=person.pk) | Q(conversation__post__author_id=person.pk)
        )
        .first()
    )
    if message is None:
        raise _unknown("message_not_found")
    return message


def _conversation_partner(person_id: int, person: Any) -> Any:
    """A resident ``person`` has a conversation with (anyone else: 404, so ids say nothing)."""
    shared = Conversation.objects.filter(
        Q(responder_id=person.pk, post__author_id=person_id)
        | Q(post__author_id=person.pk, responder_id=person_id)
    )
    other = User.objects.filter(pk=person_id).first() if shared.exists() else None
    if other is None:
        raise _unknown("person_not_found")
    return other


# --- operations ------------------------------------------------------------------------------


@router.get(
    "/posts",
    auth=None,
    response={200: PostListOut, **error_responses(400, 404, 422)},
    operation_id="community_posts_list",
    url_name="community_posts",
    summary="The community board: open offers and requests, newest (or nearest) first",
    description=(
        "Open offers and requests of residents: things to lend, give or swap, skills, "
        "knowledge, time and ideas for activities. Filters combine; newest first, or nearest "
        "first with `near` (each post then has `distance_km`, counted between postcode "
        "areas). `count` is the number on all pages; `limit` (1-100, default 20) and `offset` "
        "page through them. Residents are shown by first name and initial, places by their "
        "four-digit postcode area. Texts are plain text. Errors: 400 `place_not_found` "
        "(`near` is no postcode or place we know); 404 `unknown_municipality`; 422 "
        "`invalid_input` (a value that is not one of the choices, or out of range; "
        "`details.fields` names it)."
    ),
)
def posts_list(request: HttpRequest, filters: Query[PostFilters]) -> PostListOut:
    municipality = None
    if filters.municipality:
        municipality = Municipality.objects.filter(
            cbs_code=filters.municipality.strip().upper()
        ).first()
        if municipality is None:
            raise NotFound(
                "unknown_municipality",
                _("Deze gemeente kennen we niet."),
                details={"field": "municipality"},
            )
    near = (filters.near or "").strip() or None
    board = selectors.board(
        municipality=municipality,
        near=near,
        radius_km=filters.radius_km,
        type=filters.type or "",
        kind=filters.kind or "",
        category=filters.category or "",
        q=filters.q or "",
        limit=filters.limit,
        offset=filters.offset,
    )
    if board.place_unknown:
        raise DomainError(
            "place_not_found",
            _(
                "We vinden geen postcode of plaats die hierop lijkt. Vul een postcode in, zoals 3512."
            ),
            details={"field": "near"},
        )
    return PostListOut(
        count=board.total,
        limit=filters.limit,
        offset=filters.offset,
        results=posts_out(request, board.posts),
    )


@router.get(
    "/posts/{post_id}",
    auth=None,
    response={200: PostDetailOut, **error_responses(401, 404, 422)},
    operation_id="community_post_get",
    url_name="community_post",
    summary="One offer or request, with its photos",
    description=(
        "An open or closed post (`status`). A post a moderator hid is not found, except by "
        "its author when signed in (optional: a bearer token or the browser session), who "
        "also gets `hidden_reason`. `links` lists web addresses in the text: show them as "
        "text with a warning, never as links. Errors: 401 `invalid_token` (a token was sent "
        "but is unknown, expired or revoked); 404 `post_not_found`; 422 `invalid_input` (the "
        "id is not a number)."
    ),
)
def post_get(request: HttpRequest, post_id: int) -> PostDetailOut:
    try:
        post = selectors.post_public(post_id, viewer=_viewer(request))
    except NotFound:
        raise post_not_found() from None
    return post_detail_out(request, post)


@router.post(
    "/posts",
    auth=resident_auth,
    response={201: PostDetailOut, **error_responses(400, 401, 403, 409, 422, 429)},
    operation_id="community_post_create",
    url_name="community_posts_create",
    summary="Place an offer or a request",
    description=(
        "Places your post in your own four-digit postcode area (from your profile; never "
        "your address) and tells residents with matching posts or saved searches. HTML is "
        "removed: texts are kept as plain text. Photos cannot be added through the API in "
        "this version: add them on the post's page (`url`). A text that looks like it holds "
        "an address, a phone number or an e-mail address is refused once with 409 "
        "`personal_details` (`details.kinds`: `address`, `phone`, `email`); send it again "
        "with `acknowledge_personal` true to place it anyway. Under 16 without a guardian's "
        "consent only ideas for activities may be posted. At most 5 posts a day. Answers "
        "201 with the post. Refusals: 400 `title_required`, `body_required`, "
        "`terms_invalid` (a thing needs `lend`, `give` or `swap`), `word_filtered` (words "
        "the library keeps off the board), `postcode_required` (fill in your postcode on "
        "the website first), `idempotency_key_invalid`; 401 `not_authenticated`, "
        "`invalid_token`; 403 `suspended`, `consent_required`, `csrf_failed`; 409 "
        "`personal_details`, `duplicate_post` (the same title and text within 24 hours), "
        "`email_unconfirmed`; 422 `invalid_input`, `idempotency_key_reused`; 429 "
        "`rate_limited`."
    ),
)
@idempotent
def post_create(request: HttpRequest, payload: PostIn):
    person = request.auth
    post = posts.post_create(
        person=person,
        type=payload.type,
        kind=payload.kind,
        category=payload.category,
        title=payload.title,
        body=payload.body,
        terms=payload.terms or "",
        availability=payload.availability,
        acknowledge_personal=payload.acknowledge_personal,
        site_url=_site_url(request),
    )
    return Status(201, post_detail_out(request, selectors.post_public(post.pk, viewer=person)))


@router.post(
    "/posts/{post_id}/responses",
    auth=resident_auth,
    response={201: ResponseOut, **error_responses(400, 401, 403, 404, 409, 422, 429)},
    operation_id="community_post_respond",
    url_name="community_post_responses",
    summary="Respond to an offer or a request",
    description=(
        "Sends your message to the post's author in your conversation about it (made on the "
        "first response, reused after). The author is mailed that there is a message, "
        "without its text; nobody sees your e-mail address. Read the conversation at "
        "`GET /api/v1/me/messages?conversation={conversation_id}`. Refusals: 400 "
        "`body_required`, `idempotency_key_invalid`; 401 `not_authenticated`, "
        "`invalid_token`; 403 `blocked` (one of you blocked the other), `suspended`, "
        "`consent_required` (under 16 without a guardian's consent), `csrf_failed`; 404 "
        "`post_not_found`; 409 `own_post`, `post_not_open` (closed or hidden), "
        "`email_unconfirmed`; 422 `invalid_input`, `idempotency_key_reused`; 429 "
        "`rate_limited` (too many new conversations or messages)."
    ),
)
@idempotent
def post_respond(request: HttpRequest, post_id: int, payload: ResponseIn):
    person = request.auth
    post = visible_post(post_id, person)
    message = messages.respond(
        post=post, person=person, body=payload.body, site_url=_site_url(request)
    )
    return Status(
        201,
        ResponseOut(
            conversation_id=message.conversation_id,
            message_id=message.pk,
            sent_at=_local(message.sent_at),
        ),
    )


@router.post(
    "/reports",
    auth=resident_auth,
    response={201: ReportOut, **error_responses(400, 401, 403, 404, 422, 429)},
    operation_id="community_report_create",
    url_name="community_reports",
    summary="Report a post, a message or a resident to the moderators",
    description=(
        "Name exactly one of `post_id`, `message_id` (a message of one of your own "
        "conversations) and `person_id` (a resident you have a conversation with). The "
        "moderators of the resident's library look at it; you are not named to the resident. "
        "Reporting the same thing again while your report is open answers that report. "
        "Allowed while suspended. At most 10 reports a day. Refusals: 400 `report_subject` "
        "(none or more than one named), `report_self`, `idempotency_key_invalid`; 401 "
        "`not_authenticated`, `invalid_token`; 403 `csrf_failed`; 404 `post_not_found`, "
        "`message_not_found` (also a message of a conversation you are not part of), "
        "`person_not_found`; 422 `invalid_input`, `idempotency_key_reused`; 429 "
        "`rate_limited`."
    ),
)
@idempotent
def report_create(request: HttpRequest, payload: ReportIn):
    person = request.auth
    post = visible_post(payload.post_id, person) if payload.post_id is not None else None
    message = _own_message(payload.message_id, person) if payload.message_id is not None else None
    other = (
        _conversation_partner(payload.person_id, person) if payload.person_id is not None else None
    )
    report = moderation.report_create(
        reporter=person,
        reason=payload.reason,
        note=payload.note,
        post=post,
        message=message,
        person=other,
    )
    return Status(201, ReportOut(id=report.pk, status=report.status))
