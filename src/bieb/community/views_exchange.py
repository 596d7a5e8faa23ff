"""Safe exchange between residents, and the library desk that passes things on.

Residents (log-in; a conversation, exchange or handover of someone else answers 404):

- ``POST /community/<id>/reageren``: respond to a post; the conversation with its author is
  made (or continued) and opened. A refusal (blocked, under 16 without consent, suspended,
  closed, rate limit) is shown on a small page with the way back to the post.
- ``/mijn/berichten``: the conversations, with unread counts, the post's title and the other
  side's first name and initial.
- ``/mijn/berichten/<id>``: the messages (links are plain text with a warning), writing back,
  sharing one's own e-mail address (and seeing the other's when shared), blocking, and the
  exchange: the author agrees, either side marks it done or calls it off, both may thank once,
  and the giver arranges a handover at a library location. Opening it marks it read.
- ``/mijn/overdrachten``: handovers as giver and receiver. Only a hash of the pickup code is
  kept, so the receiver is told it is in their e-mail; it is never shown again.
- ``/mijn/community/profiel`` and ``/community/deelnemer/<id>``: completed exchanges and the
  thanks received; no stars. Public profiles exist only for residents who take part openly
  (a visible post, or a completed exchange), so an id tells nothing about anyone else.

The desk (desk staff and managers of the location's organisation; another organisation's
location answers 404): ``/medewerkers/halen-en-brengen`` lists the handover locations,
``/medewerkers/halen-en-brengen/<location>`` what is announced and what lies there, with the
actions: received from the giver, handed over for the right code (wrong codes show the tries
left; a locked handover asks for an ID check and an unlock), and given back to the giver.

Views parse, call one service and render; every change is a POST with CSRF followed by a
redirect, and nothing needs JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from bieb.accounts import access
from bieb.accounts.access import MEMBER_ROLES, staff_required
from bieb.accounts.models import User
from bieb.community import exchanges, guard, handovers, selectors, text
from bieb.community import forms_exchange as forms
from bieb.community import messages as chat
from bieb.community.models import (
    Block,
    Conversation,
    Exchange,
    ExchangeStatus,
    Handover,
    HandoverStatus,
    Post,
    PostKind,
    PostStatus,
    PostType,
    Thanks,
)
from bieb.core.errors import DomainError, NotFound
from bieb.network.models import Location
from bieb.network.presentation import distance_label
from bieb.network.selectors import locations_nearest

#: conversations and handovers listed on one page (the newest)
LIST_MAX = 200
#: library locations offered for a handover
HANDOVER_CHOICES = 20
#: locations further than this from the post's area are left out of the choice (unless fewer
#: than HANDOVER_NEAR_MIN are nearer): nobody in Amsterdam brings a drill to Maastricht
HANDOVER_FAR_KM = 50
HANDOVER_NEAR_MIN = 3
#: the states in which a handover is under way (its code is in use)
OPEN_HANDOVER = (
    HandoverStatus.ANNOUNCED,
    HandoverStatus.WAITING,
    HandoverStatus.OVERDUE,
    HandoverStatus.LOCKED,
)


# --- helpers -----------------------------------------------------------------------------------


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _day(value: Any) -> str:
    return date_format(value, "j F Y") if value else ""


def _link(name: str, *args: Any) -> str:
    """The path of a page of another part of the community, or "" while it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _conversation(request: HttpRequest, pk: int) -> Conversation:
    try:
        return chat.access_conversation(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _conversation_url(conversation_id: int, anchor: str = "") -> str:
    url = reverse("community:conversation", args=[conversation_id])
    return f"{url}#{anchor}" if anchor else url


def _exchange_of(conversation: Conversation) -> Exchange:
    exchange = (
        Exchange.objects.select_related("post", "giver", "receiver")
        .filter(conversation_id=conversation.pk)
        .first()
    )
    if exchange is None:
        raise Http404(_("Jullie hebben hier nog geen afspraak over."))
    return exchange


def _label(person: Any) -> str:
    return selectors.author_label(person)


def _has_public_profile(person: Any) -> bool:
    """Whether ``person`` takes part openly: a post others can see, or a completed exchange."""
    if person is None or not person.is_active or person.anonymised_at is not None:
        return False
    return (
        Post.objects.filter(
            author_id=person.pk, status__in=(PostStatus.OPEN, PostStatus.CLOSED)
        ).exists()
        or selectors.completed_exchanges(person) > 0
    )


def _act(
    request: HttpRequest, call: Callable[[], Any], success: Callable[[Any], str], target: str
) -> HttpResponse:
    """Run one service; its refusal or ``success(result)`` is the message on ``target``."""
    try:
        result = call()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success(result))
    return redirect(target)


# --- responding to a post ----------------------------------------------------------------------

#: refusals where writing the response again (later, or with text) can succeed
_RETRYABLE = {"body_required", "rate_limited"}


@never_cache
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: respond to post ``pk`` and open the conversation. A GET goes to the post."""
    viewer_id = request.user.pk if request.user.is_authenticated else None
    post = Post.objects.select_related("author").filter(pk=pk).first()
    if post is None or (post.status == PostStatus.HIDDEN and post.author_id != viewer_id):
        raise Http404(_("Dit bericht bestaat niet (meer)."))
    post_url = reverse("community:post", args=[post.pk])
    if request.method != "POST":
        return redirect(post_url)
    if viewer_id is None or not request.user.is_active:
        return redirect_to_login(post_url)
    form = forms.MessageForm(request.POST)
    error: DomainError | None = None
    if form.is_valid():
        try:
            message = chat.respond(
                post=post,
                person=request.user,
                body=form.cleaned_data["body"],
                site_url=_site_url(request),
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            error = exc
        else:
            messages.success(
                request,
                _("Je bericht is verstuurd. %(name)s krijgt een e-mail dat er een bericht is.")
                % {"name": _label(post.author)},
            )
            return redirect(_conversation_url(message.conversation_id, "bericht-laatste"))
    return render(
        request,
        "community/exchange/respond.html",
        {
            "post": post,
            "post_url": post_url,
            "error": error,
            "form": form,
            "retry": error is None or error.code in _RETRYABLE,
        },
        status=error.status if error else 400,
    )


# --- conversations -----------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def messages_list(request: HttpRequest) -> HttpResponse:
    me = request.user
    rows = []
    for conversation in chat.messages_of(me)[:LIST_MAX]:
        name = _label(chat.other_party(conversation, me))
        offer = conversation.post.type == PostType.OFFER
        if conversation.post.author_id == me.pk:
            summary = (
                _("%(name)s reageerde op je aanbod")
                if offer
                else _("%(name)s reageerde op je vraag")
            )
        else:
            summary = (
                _("Jij reageerde op het aanbod van %(name)s")
                if offer
                else _("Jij reageerde op de vraag van %(name)s")
            )
        rows.append(
            {
                "conversation": conversation,
                "url": reverse("community:conversation", args=[conversation.pk]),
                "summary": summary % {"name": name},
            }
        )
    return render(
        request,
        "community/exchange/messages.html",
        {"rows": rows, "unread": sum(row["conversation"].unread for row in rows)},
    )


def _handover_choices(post: Post) -> list[tuple[str, list[tuple[int, str]]]]:
    """Active branches, service points and lockers nearest to the post's area, as option
    groups: those in the post's municipality first, then the others, nearest first."""
    found = locations_nearest(
        lat=post.lat,
        lon=post.lon,
        limit=HANDOVER_CHOICES,
        kinds=handovers.HANDOVER_LOCATION_KINDS,
        with_hours=False,
    )
    near = [(location, distance) for location, distance in found if distance <= HANDOVER_FAR_KM]
    if len(near) >= HANDOVER_NEAR_MIN:
        found = near
    here: list[tuple[int, str]] = []
    further: list[tuple[int, str]] = []
    for location, distance in found:
        label = _("%(name)s, %(street)s %(number)s, %(city)s (%(distance)s)") % {
            "name": location.name,
            "street": location.street,
            "number": location.house_number,
            "city": location.city,
            "distance": distance_label(distance),
        }
        if location.kind == Location.Kind.LOCKER:
            label = _("%(label)s · afhaalkluis") % {"label": label}
        in_municipality = post.municipality_id and location.municipality_id == post.municipality_id
        (here if in_municipality else further).append((location.pk, label))
    groups = []
    if here:
        groups.append((_("In %(name)s") % {"name": post.municipality.name}, here))
    if further:
        groups.append((_("In de buurt") if here else _("Dichtbij"), further))
    return groups


def _conversation_page(
    request: HttpRequest,
    conversation: Conversation,
    *,
    message_form: forms.MessageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    me = request.user
    view = chat.conversation_view(conversation, me)
    # what was unread is marked "nieuw" on this page, and read from now on
    chat.conversation_read(conversation, me)
    post = conversation.post
    other = chat.other_party(conversation, me)
    other_active = other is not None and other.is_active
    # why this resident may not write or exchange now (under 16 without consent, suspended,
    # e-mail unconfirmed), shown instead of the forms; the services refuse the same
    try:
        guard.check_may_exchange(me)
        refusal = ""
    except DomainError as exc:
        refusal = exc.message
    may_exchange = not refusal
    blocked = view["blocked"]
    i_blocked = other is not None and (
        Block.objects.filter(blocker_id=me.pk, blocked_id=other.pk).exists()
    )
    rows = [
        {
            "message": message,
            "mine": message.sender_id == me.pk,
            "new": message.sender_id != me.pk and message.read_at is None,
            "links": text.links_in(message.body),
            "sender": _("Jij")
            if message.sender_id == me.pk
            else (_label(other) if message.sender_id else _("oud-deelnemer")),
            "report_url": _link("community:report_message", message.pk)
            if message.sender_id not in (None, me.pk) and not message.hidden_reason
            else "",
        }
        for message in view["messages"]
    ]

    exchange: Exchange | None = view["exchange"]
    side = ""
    handover_rows: list[Handover] = []
    open_handover = None
    picked_up = None
    thanked = False
    if exchange is not None:
        side = (
            "giver"
            if exchange.giver_id == me.pk
            else ("receiver" if exchange.receiver_id == me.pk else "")
        )
        handover_rows = list(
            Handover.objects.filter(exchange_id=exchange.pk)
            .select_related("location")
            .order_by("-created_at", "-pk")[:5]
        )
        open_handover = next((h for h in handover_rows if h.status in OPEN_HANDOVER), None)
        picked_up = next((h for h in handover_rows if h.status == HandoverStatus.PICKED_UP), None)
        thanked = Thanks.objects.filter(exchange_id=exchange.pk, author_id=me.pk).exists()
    agreed = exchange is not None and exchange.status == ExchangeStatus.AGREED
    # only things pass through a library desk (help, knowledge and time do not); once picked
    # up, the next step is "het is gelukt", not a second handover
    is_thing = post.kind == PostKind.THING
    can_arrange = (
        side == "giver"
        and agreed
        and is_thing
        and open_handover is None
        and picked_up is None
        and may_exchange
    )
    can_agree = (
        view["is_author"]
        and post.status == PostStatus.OPEN
        and (exchange is None or exchange.status == ExchangeStatus.CANCELLED)
        and not blocked
        and other_active
        and may_exchange
    )
    return render(
        request,
        "community/exchange/conversation.html",
        {
            # not "messages": that name is Django's messages framework in the base template
            **{key: value for key, value in view.items() if key != "messages"},
            "rows": rows,
            "other": other,
            "other_label": _label(other),
            "other_profile_url": reverse("community:profile", args=[other.pk])
            if _has_public_profile(other)
            else "",
            "post_url": reverse("community:post", args=[post.pk]),
            "post_hidden": post.status == PostStatus.HIDDEN,
            "may_exchange": may_exchange,
            "refusal": refusal,
            "i_blocked": i_blocked,
            "can_send": not blocked and other_active and post.status != PostStatus.HIDDEN,
            "message_form": message_form or forms.MessageForm(),
            "can_agree": can_agree,
            "offer": post.type == PostType.OFFER,
            "side": side,
            "agreed": agreed,
            "done": exchange is not None and exchange.status == ExchangeStatus.DONE,
            "thanked": thanked,
            "thanks_form": forms.ThanksForm(),
            "cancel_form": forms.CancelForm(),
            "handover_rows": handover_rows,
            "open_handover": open_handover,
            "picked_up": picked_up,
            "is_thing": is_thing,
            "post_open": post.status == PostStatus.OPEN,
            "handover_form": forms.HandoverForm(choices=_handover_choices(post))
            if can_arrange
            else None,
            "pick_up_days": handovers.PICK_UP_DAYS,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the conversation (and it is read). POST: a message in it."""
    found = _conversation(request, pk)
    if request.method != "POST":
        return _conversation_page(request, found)
    form = forms.MessageForm(request.POST)
    if not form.is_valid():
        return _conversation_page(request, found, message_form=form, status=400)
    try:
        chat.message_send(
            conversation=found,
            person=request.user,
            body=form.cleaned_data["body"],
            site_url=_site_url(request),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        form.add_error("body", exc.message)
        return _conversation_page(request, found, message_form=form, status=exc.status)
    messages.success(request, _("Je bericht is verstuurd."))
    return redirect(_conversation_url(found.pk, "bericht-laatste"))


@login_required
@require_POST
def contact_share(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    share = request.POST.get("share") == "1"
    other = _label(chat.other_party(found, request.user))
    return _act(
        request,
        lambda: chat.contact_share(conversation=found, person=request.user, share=share),
        lambda _result: (
            (
                _("%(name)s ziet nu je e-mailadres.")
                if share
                else _("%(name)s ziet je e-mailadres niet meer.")
            )
            % {"name": other}
        ),
        _conversation_url(found.pk, "contact"),
    )


@login_required
@require_POST
def block(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    other = chat.other_party(found, request.user)
    if other is None:
        raise Http404(_("Deze bewoner doet niet meer mee."))
    return _act(
        request,
        lambda: chat.block(person=request.user, other=other),
        lambda _result: (
            _(
                "Je hebt %(name)s geblokkeerd. Jullie kunnen elkaar geen berichten meer sturen en "
                "gedeelde e-mailadressen zijn verborgen."
            )
            % {"name": _label(other)}
        ),
        _conversation_url(found.pk, "blokkeren"),
    )


@login_required
@require_POST
def unblock(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    other = chat.other_party(found, request.user)
    if other is None:
        raise Http404(_("Deze bewoner doet niet meer mee."))
    return _act(
        request,
        lambda: chat.unblock(person=request.user, other=other),
        lambda lifted: (
            (
                _("Je blokkade van %(name)s is opgeheven.")
                if lifted
                else _("Je had %(name)s niet geblokkeerd.")
            )
            % {"name": _label(other)}
        ),
        _conversation_url(found.pk, "blokkeren"),
    )


# --- the exchange ------------------------------------------------------------------------------


@login_required
@require_POST
def exchange_agree(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    return _act(
        request,
        lambda: exchanges.exchange_agree(
            conversation=found, person=request.user, site_url=_site_url(request)
        ),
        lambda made: (
            (
                _(
                    "Afgesproken. %(name)s krijgt daar bericht van. Spreek hieronder af hoe het "
                    "verder gaat, bijvoorbeeld via een bibliotheek."
                )
                if found.post.kind == PostKind.THING
                else _(
                    "Afgesproken. %(name)s krijgt daar bericht van. Spreek in het gesprek af "
                    "waar en wanneer, bijvoorbeeld in de bibliotheek."
                )
            )
            % {"name": _label(found.responder)}
        ),
        _conversation_url(found.pk, "afspraak"),
    )


@login_required
@require_POST
def exchange_done(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    exchange = _exchange_of(found)
    return _act(
        request,
        lambda: exchanges.exchange_done(
            exchange=exchange, person=request.user, site_url=_site_url(request)
        ),
        lambda _result: _("Fijn dat het gelukt is! Je kunt de ander nu bedanken."),
        _conversation_url(found.pk, "afspraak"),
    )


@login_required
@require_POST
def exchange_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    exchange = _exchange_of(found)
    form = forms.CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        lambda: exchanges.exchange_cancel(
            exchange=exchange, person=request.user, reason=reason, site_url=_site_url(request)
        ),
        lambda _result: _("De afspraak gaat niet door. De ander krijgt daar bericht van."),
        _conversation_url(found.pk, "afspraak"),
    )


@login_required
@require_POST
def thank(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    exchange = _exchange_of(found)
    form = forms.ThanksForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("text", []):
            messages.error(request, error)
        return redirect(_conversation_url(found.pk, "bedanken"))
    return _act(
        request,
        lambda: exchanges.thank(
            exchange=exchange,
            person=request.user,
            text=form.cleaned_data["text"],
            site_url=_site_url(request),
        ),
        lambda _result: _("Bedankt! De ander ziet je bedankje op het profiel."),
        _conversation_url(found.pk, "bedanken"),
    )


# --- handovers (the residents) -----------------------------------------------------------------


@login_required
@require_POST
def handover_create(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(request, pk)
    exchange = _exchange_of(found)
    target = _conversation_url(found.pk, "overdracht")
    form = forms.HandoverForm(request.POST, choices=_handover_choices(found.post))
    if not form.is_valid():
        for error in form.errors.get("location", []):
            messages.error(request, error)
        return redirect(target)
    location = Location.objects.filter(pk=form.cleaned_data["location"]).first()
    if location is None:
        messages.error(request, _("Kies een bibliotheeklocatie uit de lijst."))
        return redirect(target)
    # the plain code in the result is for the receiver's e-mail only: never shown here
    return _act(
        request,
        lambda: handovers.handover_create(
            exchange=exchange, person=request.user, location=location, site_url=_site_url(request)
        ),
        lambda _issued: (
            _(
                "Aangemeld bij %(place)s. Breng het daar naar de balie. %(name)s krijgt de "
                "ophaalcode per e-mail en hoort van ons zodra het klaarligt."
            )
            % {"place": location.name, "name": _label(exchange.receiver)}
        ),
        target,
    )


@login_required
@require_POST
def handover_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    handover = (
        Handover.objects.filter(pk=pk)
        .filter(Q(exchange__giver_id=request.user.pk) | Q(exchange__receiver_id=request.user.pk))
        .first()
    )
    if handover is None:
        raise Http404(_("Deze overdracht bestaat niet of is niet van jou."))
    return _act(
        request,
        lambda: handovers.handover_cancel(
            handover=handover, person=request.user, site_url=_site_url(request)
        ),
        lambda _result: _("De overdracht gaat niet door. De ander krijgt daar bericht van."),
        reverse("community:handovers_mine"),
    )


@never_cache
@login_required
@require_safe
def handovers_mine(request: HttpRequest) -> HttpResponse:
    me = request.user
    rows = []
    found = handovers.handovers_of(me).select_related("exchange__giver", "exchange__receiver")
    for handover in found[:LIST_MAX]:
        exchange = handover.exchange
        giving = exchange.giver_id == me.pk
        rows.append(
            {
                "handover": handover,
                "giving": giving,
                "other_label": _label(exchange.receiver if giving else exchange.giver),
                "post_title": exchange.post.title,
                "conversation_url": reverse(
                    "community:conversation", args=[exchange.conversation_id]
                )
                if exchange.conversation_id
                else "",
                "is_open": handover.status in OPEN_HANDOVER,
            }
        )
    return render(
        request,
        "community/exchange/handovers.html",
        {
            "open_rows": [row for row in rows if row["is_open"]],
            "past_rows": [row for row in rows if not row["is_open"]],
            "pick_up_days": handovers.PICK_UP_DAYS,
        },
    )


# --- profiles ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def profile_mine(request: HttpRequest) -> HttpResponse:
    me = request.user
    rows = []
    for exchange in exchanges.exchanges_of(me)[:LIST_MAX]:
        giving = exchange.giver_id == me.pk
        rows.append(
            {
                "exchange": exchange,
                "giving": giving,
                "other_label": _label(exchange.receiver if giving else exchange.giver),
                "status_label": ExchangeStatus(exchange.status).label,
                "url": reverse("community:conversation", args=[exchange.conversation_id])
                if exchange.conversation_id
                else "",
            }
        )
    public = _has_public_profile(me)
    return render(
        request,
        "community/exchange/profile_mine.html",
        {
            "label": _label(me),
            "profile": exchanges.profile(me),
            "rows": rows,
            "public_url": reverse("community:profile", args=[me.pk]) if public else "",
        },
    )


@require_safe
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    person = User.objects.filter(pk=pk).first()
    if not _has_public_profile(person):
        raise Http404(_("Dit profiel bestaat niet."))
    return render(
        request,
        "community/exchange/profile.html",
        {
            "label": _label(person),
            "profile": exchanges.profile(person),
            "own": request.user.is_authenticated and request.user.pk == person.pk,
            "person_pk": person.pk,
        },
    )


# --- the desk ----------------------------------------------------------------------------------


@never_cache
@staff_required(*MEMBER_ROLES)
@require_safe
def desk(request: HttpRequest) -> HttpResponse:
    at_desk = Q(
        community_handovers__status__in=(
            HandoverStatus.WAITING,
            HandoverStatus.OVERDUE,
            HandoverStatus.LOCKED,
        )
    )
    locations = (
        Location.objects.filter(
            organisation_id__in=request.staff_organisation_ids,
            is_active=True,
            kind__in=handovers.HANDOVER_LOCATION_KINDS,
        )
        .select_related("organisation")
        .annotate(
            waiting=Count("community_handovers", filter=at_desk),
            announced=Count(
                "community_handovers",
                filter=Q(community_handovers__status=HandoverStatus.ANNOUNCED),
            ),
        )
        .order_by("organisation__name", "name")
    )
    return render(request, "community/exchange/desk.html", {"locations": list(locations)})


def _desk_location(request: HttpRequest, location_id: int) -> Location:
    """The location, for its desk (``access_location``: 404 for another organisation)."""
    return access.access_location(request.user, location_id, need="members")


def _givers(handover_ids: list[int]) -> dict[int, str]:
    """Who brought each handover (first name and initial), for the ID check when the desk
    gives a thing back."""
    rows = Handover.objects.filter(pk__in=handover_ids).values(
        "pk",
        "exchange__giver_id",
        "exchange__giver__first_name",
        "exchange__giver__last_name",
        "exchange__giver__anonymised_at",
    )
    return {
        row["pk"]: _label(
            SimpleNamespace(
                first_name=row["exchange__giver__first_name"],
                last_name=row["exchange__giver__last_name"],
                anonymised_at=row["exchange__giver__anonymised_at"],
            )
            if row["exchange__giver_id"]
            else None
        )
        for row in rows
    }


@never_cache
@staff_required(*MEMBER_ROLES)
@require_safe
def desk_location(request: HttpRequest, location_id: int) -> HttpResponse:
    location = _desk_location(request, location_id)
    rows = handovers.desk_list(location)
    announced = handovers.announced_at(location)
    # who brings or brought it: the desk asks for that name when someone comes by
    givers = _givers([row.pk for row in rows] + [row["pk"] for row in announced])
    for row in announced:
        row["giver"] = givers.get(row["pk"], "")
    return render(
        request,
        "community/exchange/desk_location.html",
        {
            "location": location,
            "rows": [{**asdict(row), "giver": givers.get(row.pk, "")} for row in rows],
            "announced": announced,
            "code_form": forms.CodeForm(),
            "max_tries": handovers.MAX_WRONG_TRIES,
            "pick_up_days": handovers.PICK_UP_DAYS,
        },
    )


def _desk_handover(request: HttpRequest, location_id: int, pk: int) -> tuple[Location, Handover]:
    location = _desk_location(request, location_id)
    handover = Handover.objects.filter(pk=pk, location_id=location.pk).first()
    if handover is None:
        raise Http404(_("Deze zending ligt niet op deze locatie."))
    return location, handover


def _desk_url(location: Location, anchor: str = "") -> str:
    url = reverse("community:desk_location", args=[location.pk])
    return f"{url}#{anchor}" if anchor else url


@staff_required(*MEMBER_ROLES)
@require_POST
def handover_drop(request: HttpRequest, location_id: int, pk: int) -> HttpResponse:
    location, handover = _desk_handover(request, location_id, pk)
    return _act(
        request,
        lambda: handovers.handover_drop(
            handover=handover, actor=request.user, site_url=_site_url(request)
        ),
        lambda dropped: (
            _(
                "Ontvangen: “%(label)s”. Leg het bij de spullen voor halen en brengen; de "
                "ontvanger krijgt bericht en kan het tot en met %(day)s ophalen."
            )
            % {"label": dropped.label, "day": _day(dropped.pick_up_by)}
        ),
        _desk_url(location),
    )


def _code(request: HttpRequest) -> str | None:
    form = forms.CodeForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("code", []):
            messages.error(request, error)
        return None
    return form.cleaned_data["code"]


def _handed_over(handover: Handover) -> str:
    return _("De code klopt. Geef “%(label)s” mee; wie het bracht krijgt bericht.") % {
        "label": handover.label
    }


@staff_required(*MEMBER_ROLES)
@require_POST
def handover_pick_up(request: HttpRequest, location_id: int, pk: int) -> HttpResponse:
    location, handover = _desk_handover(request, location_id, pk)
    code = _code(request)
    if code is None:
        return redirect(_desk_url(location, f"zending-{handover.pk}"))
    return _act(
        request,
        lambda: handovers.handover_pick_up(
            handover=handover, code=code, actor=request.user, site_url=_site_url(request)
        ),
        _handed_over,
        _desk_url(location, f"zending-{handover.pk}"),
    )


@staff_required(*MEMBER_ROLES)
@require_POST
def handover_pick_up_code(request: HttpRequest, location_id: int) -> HttpResponse:
    """The desk types only the code the resident gives."""
    location = _desk_location(request, location_id)
    code = _code(request)
    if code is None:
        return redirect(_desk_url(location))
    return _act(
        request,
        lambda: handovers.pick_up_with_code(
            location=location, code=code, actor=request.user, site_url=_site_url(request)
        ),
        _handed_over,
        _desk_url(location),
    )


@staff_required(*MEMBER_ROLES)
@require_POST
def handover_unlock(request: HttpRequest, location_id: int, pk: int) -> HttpResponse:
    location, handover = _desk_handover(request, location_id, pk)
    form = forms.UnlockForm(request.POST)
    new_code = form.is_valid() and form.cleaned_data["new_code"]
    return _act(
        request,
        lambda: handovers.handover_unlock(
            handover=handover, actor=request.user, new_code=new_code, site_url=_site_url(request)
        ),
        lambda _result: (
            _(
                "De blokkade is opgeheven en de ontvanger krijgt een nieuwe code per e-mail. "
                "Vraag om die code."
            )
            if new_code
            else _("De blokkade is opgeheven. Vraag opnieuw om de code.")
        ),
        _desk_url(location, f"zending-{handover.pk}"),
    )


@staff_required(*MEMBER_ROLES)
@require_POST
def handover_return(request: HttpRequest, location_id: int, pk: int) -> HttpResponse:
    location, handover = _desk_handover(request, location_id, pk)
    form = forms.ReturnForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("id_checked", []):
            messages.error(request, error)
        return redirect(_desk_url(location, f"zending-{handover.pk}"))
    return _act(
        request,
        lambda: handovers.handover_return_to_giver(
            handover=handover, actor=request.user, site_url=_site_url(request)
        ),
        lambda returned: (
            _("“%(label)s” is teruggegeven aan wie het bracht. Beiden krijgen bericht.")
            % {"label": returned.label}
        ),
        _desk_url(location),
    )
