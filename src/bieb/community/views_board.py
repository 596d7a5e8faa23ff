"""The community board: "halen en brengen" (bringing and fetching) of residents.

- ``/community`` (and ``/community/gemeente/<cbs>``): open offers and requests with a GET filter
  form (offer or request, kind, category, words, near a postcode or place within a distance,
  municipality), paged; no log-in needed.
- ``/community/<id>``: one post with its photos, its text as plain text (links are never made
  clickable: a warning says why), who wrote it (first name and initial, and how often they
  shared something: no stars) and, for the author, changes, closing and matching posts nearby.
- ``/community/nieuw``, ``.../wijzigen``, ``.../sluiten``, ``.../fotos``: the author's own posts.
  A text that looks like it holds an address, phone number or e-mail address is refused once
  with the kinds found; the author may confirm ("Ik weet het, plaats het toch").
- ``/community/foto/<id>.jpg`` and ``.../klein.jpg``: the re-encoded photos (a hidden post's
  photos only for its author).
- ``/mijn/community``: one's own posts (hidden ones with the moderator's reason) and saved
  searches ("notify me").
- ``/medewerkers/community/ideeen``: programmers and managers review residents' activity
  ideas; an approved idea becomes a draft activity in the programming screens.

Views parse, call one service or selector and render; changes are POST with CSRF and need no
JavaScript. Other parts of the community (responding, reporting, messages, the library of
things) are linked through ``page_link``, which gives "" while such a part is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
)
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from bieb.accounts import access
from bieb.accounts.access import Role, staff_required
from bieb.community import forms_board as forms
from bieb.community import guard, matching, photos, posts, selectors, text
from bieb.community import messages as conversations
from bieb.community.models import Category, Photo, Post, PostKind, PostStatus, PostType, Terms
from bieb.core.errors import DomainError, NotFound
from bieb.network.geo import haversine_km
from bieb.network.models import Municipality, Organisation, PostcodeArea
from bieb.network.presentation import distance_label
from bieb.network.validation import pc4_of
from bieb.programming.models import ActivityStatus

PAGE_SIZE = 20
#: pages beyond this are not offered (nobody pages that far; it bounds the work of a request)
PAGE_MAX = 500
#: photos of visible posts may be kept by browsers and proxies this long (seconds); short, so a
#: photo of a post a moderator hides soon stops being served from caches
PHOTO_MAX_AGE = 60 * 60
IDEA_ROLES = (Role.PROGRAMMER, Role.MANAGER)
MATCHES_SHOWN = 10


# --- small helpers -----------------------------------------------------------------------------


def page_link(name: str, *args: Any) -> str:
    """The path of a page of another part of the community, or "" while it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _signed_in(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active)


def _site_url(request: HttpRequest) -> str:
    return (getattr(settings, "BIEB_SITE_URL", "") or request.build_absolute_uri("/")).rstrip("/")


def _not_found(exc: DomainError | None = None) -> Http404:
    return Http404(exc.message if exc else _("Dit bericht bestaat niet (meer)."))


def _own_post(request: HttpRequest, pk: int) -> Post:
    """The caller's own post (any status); 404 for another's, so nothing about it leaks."""
    try:
        post = selectors.post_public(pk, viewer=request.user)
    except NotFound as exc:
        raise _not_found(exc) from exc
    if not post.is_own:
        raise _not_found()
    return post


def _place_names(pc4s: set[str]) -> dict[str, str]:
    if not pc4s:
        return {}
    return dict(PostcodeArea.objects.filter(pc4__in=pc4s).values_list("pc4", "place"))


def _place_label(post: Post, names: dict[str, str]) -> str:
    """ "3511 Utrecht": the postcode area and its place (never an address)."""
    place = names.get(post.pc4) or (post.municipality.name if post.municipality_id else "")
    return f"{post.pc4} {place}".strip()


def _type_label(post: Post) -> str:
    """ "aanbod" or "vraag"; an activity idea is neither: "idee voor een activiteit" (the
    templates then leave out the kind, which would say the same)."""
    if post.kind == PostKind.IDEA:
        return str(PostKind.IDEA.label)
    return str(PostType(post.type).label)


def _terms_label(post: Post) -> str:
    # an idea for an activity has no terms ("helpen" would say nothing)
    if post.kind == PostKind.IDEA:
        return ""
    return str(Terms(post.terms).label) if post.terms in Terms.values else ""


@dataclass(frozen=True)
class PostCard:
    """One post on the board with its words ready for the template."""

    post: Post
    url: str
    type_label: str
    kind_label: str
    category_label: str
    terms_label: str
    place: str
    distance: str
    photo_url: str
    photo_alt: str


def _distance_words(distance_km: float | None) -> str:
    """ "1,2 km hiervandaan", "in hetzelfde postcodegebied", or "" (no point to count from)."""
    if distance_km is None:
        return ""
    if distance_km < 0.05:
        return _("in hetzelfde postcodegebied")
    return _("%(distance)s hiervandaan") % {"distance": distance_label(distance_km)}


def _cards(found: list[Post]) -> list[PostCard]:
    """Cards for a page of posts: two queries (places, photo descriptions), whatever the size."""
    names = _place_names({post.pc4 for post in found})
    photo_ids = [post.first_photo_id for post in found if post.first_photo_id]
    alts = (
        dict(Photo.objects.filter(pk__in=photo_ids).values_list("pk", "alt")) if photo_ids else {}
    )
    cards = []
    for post in found:
        photo_alt = ""
        if post.first_photo_id:
            photo_alt = alts.get(post.first_photo_id) or _("Foto bij %(title)s") % {
                "title": post.title
            }
        cards.append(
            PostCard(
                post=post,
                url=reverse("community:post", args=[post.pk]),
                type_label=_type_label(post),
                kind_label=str(PostKind(post.kind).label),
                category_label=str(Category(post.category).label),
                terms_label=_terms_label(post),
                place=_place_label(post, names),
                distance=_distance_words(post.distance_km),
                photo_url=(
                    reverse("community:photo_thumb", args=[post.first_photo_id])
                    if post.first_photo_id
                    else ""
                ),
                photo_alt=photo_alt,
            )
        )
    return cards


def _shared_label(count: int) -> str:
    if not count:
        return _("nieuw in de community")
    return ngettext("heeft %(n)s keer iets gedeeld", "heeft %(n)s keer iets gedeeld", count) % {
        "n": count
    }


# --- the board ---------------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(number, 1), PAGE_MAX)


def _page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    if number > 1:
        params["page"] = str(number)
    encoded = params.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def _municipality_choices(current: Municipality | None, requested: str) -> list[tuple[str, str]]:
    """Municipalities with open posts (with their number), the page's own, and a requested
    one that exists (so a shared link keeps working)."""
    rows = (
        Post.objects.filter(status=PostStatus.OPEN, municipality__isnull=False)
        .values("municipality__cbs_code", "municipality__name")
        .annotate(n=Count("pk"))
        .order_by("municipality__name")
    )
    choices = [
        (row["municipality__cbs_code"], f"{row['municipality__name']} ({row['n']})") for row in rows
    ]
    codes = {code for code, _label in choices}
    extra = [current] if current is not None else []
    if requested and requested not in codes:
        extra += list(Municipality.objects.filter(cbs_code=requested))
    for municipality in extra:
        if municipality.cbs_code not in codes:
            choices.append((municipality.cbs_code, municipality.name))
            codes.add(municipality.cbs_code)
    return choices


def _board_page(request: HttpRequest, *, municipality: Municipality | None = None) -> HttpResponse:
    current_code = municipality.cbs_code if municipality else ""
    requested = request.GET.get("municipality", "").strip().upper()
    # a municipality chosen in the form has its own page (and "heel Nederland" the national one)
    if (
        "municipality" in request.GET
        and requested != current_code
        and (not requested or Municipality.objects.filter(cbs_code=requested).exists())
    ):
        params = request.GET.copy()
        for key in ("municipality", "page"):
            params.pop(key, None)
        target = (
            reverse("community:municipality_board", args=[requested])
            if requested
            else reverse("community:board")
        )
        encoded = params.urlencode()
        return redirect(f"{target}?{encoded}" if encoded else target)

    data = None
    if request.GET:
        data = request.GET.copy()
        if municipality is not None and "municipality" not in data:
            data["municipality"] = current_code
        # an absent distance is the default one (not the first in the list)
        if not data.get("radius"):
            data["radius"] = str(selectors.DEFAULT_RADIUS_KM)
    form = forms.BoardFilterForm(
        data,
        municipalities=_municipality_choices(municipality, requested),
        initial={"municipality": current_code},
    )
    if form.is_bound:
        form.is_valid()  # an invalid field shows its error; the valid ones still filter
    filters = form.filters()
    number = _page_number(request)
    offset = (number - 1) * PAGE_SIZE
    result = selectors.board(municipality=municipality, limit=PAGE_SIZE, offset=offset, **filters)
    if result.place_unknown:
        form.add_error(
            "near",
            _(
                "Deze postcode of plaats kennen we niet. Vul vier cijfers van een postcode in "
                "(bijvoorbeeld 3511) of de naam van een plaats."
            ),
        )
        filters["near"] = None
        result = selectors.board(
            municipality=municipality, limit=PAGE_SIZE, offset=offset, **filters
        )
    form.mark_invalid_fields()
    pages = max(1, -(-result.total // PAGE_SIZE))
    active = form.active_labels()
    heading = (
        _("Halen en brengen in %(name)s") % {"name": municipality.name}
        if municipality
        else _("Halen en brengen")
    )
    return render(
        request,
        "community/board/board.html",
        {
            "heading": heading,
            "municipality": municipality,
            "form": form,
            "filters_open": bool(form.errors),
            "active_filters": active,
            "filters_active": bool(active or form.errors),
            "result": result,
            "radius_label": _("%(n)s km") % {"n": result.radius_km},
            "cards": _cards(result.posts),
            "page": {"number": number, "pages": pages},
            "previous_url": _page_url(request, number - 1) if number > 1 else "",
            "next_url": _page_url(request, number + 1) if offset + PAGE_SIZE < result.total else "",
            "first_url": _page_url(request, 1),
            "clear_url": request.path,
            "search_form": forms.SavedSearchForm(
                initial={
                    "type": filters["type"],
                    "kind": filters["kind"],
                    "category": filters["category"],
                    "words": result.filters.get("q", ""),
                    "radius_km": filters["radius_km"] if filters["near"] else 5,
                }
            ),
            "signed_in": _signed_in(request),
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}",
            "things_url": page_link("community:things"),
            "messages_url": page_link("community:messages"),
        },
    )


@require_safe
def board(request: HttpRequest) -> HttpResponse:
    return _board_page(request)


@require_safe
def municipality_board(request: HttpRequest, cbs_code: str) -> HttpResponse:
    municipality = Municipality.objects.filter(cbs_code=cbs_code.upper()).first()
    if municipality is None:
        raise Http404(_("Deze gemeente kennen we niet."))
    if cbs_code != municipality.cbs_code:
        target = reverse("community:municipality_board", args=[municipality.cbs_code])
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target, permanent=True)
    return _board_page(request, municipality=municipality)


# --- one post ----------------------------------------------------------------------------------


def _distance_from_viewer(post: Post, viewer: Any) -> str:
    """How far the post's area is from the viewer's own postcode area, in words ("" unknown)."""
    pc4 = pc4_of(getattr(viewer, "postcode", "") or "") if viewer is not None else None
    if not pc4 or pc4 == post.pc4:
        return ""
    area = PostcodeArea.objects.filter(pc4=pc4).only("lat", "lon").first()
    if area is None:
        return ""
    return distance_label(haversine_km(area.lat, area.lon, post.lat, post.lon))


def _match_rows(post: Post) -> list[dict]:
    found = matching.matches_for(post, limit=MATCHES_SHOWN)
    names = _place_names({match.post.pc4 for match in found})
    return [
        {
            "post": match.post,
            "url": reverse("community:post", args=[match.post.pk]),
            "type_label": str(PostType(match.post.type).label),
            "place": _place_label(match.post, names),
            "distance": _distance_words(match.distance_km),
        }
        for match in found
    ]


def _conversation_rows(post: Post, viewer: Any) -> list[dict]:
    """The viewer's conversations about ``post``: for its author one per resident who
    responded (newest first), for anyone else their own (at most one). One query."""
    found = conversations.messages_of(viewer).filter(post_id=post.pk)[:MATCHES_SHOWN]
    rows = []
    for conversation in found:
        other = conversation.responder if post.is_own else post.author
        rows.append(
            {
                "url": reverse("community:conversation", args=[conversation.pk]),
                "other_label": selectors.author_label(other),
                "unread": conversation.unread,
                "last_message_at": conversation.last_message_at,
            }
        )
    return rows


def _photo_alt(photo: Photo, post: Post, number: int) -> str:
    return photo.alt or _("Foto %(n)s bij %(title)s") % {"n": number, "title": post.title}


@require_safe
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = request.user if _signed_in(request) else None
    try:
        post = selectors.post_public(pk, viewer=viewer)
    except NotFound as exc:
        raise _not_found(exc) from exc
    is_open = post.status == PostStatus.OPEN
    own = post.is_own
    may_exchange = viewer is not None and access.has_guardian_consent(viewer)
    photo_rows = [
        {
            "photo": photo,
            "alt": _photo_alt(photo, post, number),
            "url": reverse("community:photo", args=[photo.pk]),
            "thumb_url": reverse("community:photo_thumb", args=[photo.pk]),
        }
        for number, photo in enumerate(post.photo_list, start=1)
    ]
    talks = (
        _conversation_rows(post, viewer)
        if viewer is not None and page_link("community:messages")
        else []
    )
    activity_url = ""
    if post.activity is not None and post.activity.status == ActivityStatus.PUBLISHED:
        activity_url = page_link("programming:detail", post.activity.slug)
    response = render(
        request,
        "community/board/post.html",
        {
            "post": post,
            "is_open": is_open,
            "own": own,
            "type_label": _type_label(post),
            "kind_label": PostKind(post.kind).label,
            "category_label": Category(post.category).label,
            "terms_label": _terms_label(post),
            "place": _place_label(post, _place_names({post.pc4})),
            "distance": "" if own else _distance_from_viewer(post, viewer),
            "shared": _shared_label(selectors.completed_exchanges(post.author)),
            "profile_url": ""
            if post.author.anonymised_at
            else page_link("community:profile", post.author_id),
            "photos": photo_rows,
            "signed_in": viewer is not None,
            "may_exchange": may_exchange,
            # a resident already in conversation about it goes on there (one per post)
            "conversations": talks,
            "respond_url": page_link("community:respond", post.pk)
            if (is_open and not own and viewer is not None and not talks)
            else "",
            "report_url": page_link("community:report", post.pk)
            if (viewer is not None and not own)
            else "",
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
            "matches": _match_rows(post) if (own and is_open) else [],
            "activity_url": activity_url,
            "board_url": (
                reverse("community:municipality_board", args=[post.municipality.cbs_code])
                if post.municipality_id
                else reverse("community:board")
            ),
        },
    )
    if viewer is not None:
        # what a signed-in resident sees (their own hidden post, forms with their token) is
        # theirs alone
        add_never_cache_headers(response)
    return response


# --- photos ------------------------------------------------------------------------------------


def _photo_response(request: HttpRequest, pk: int, *, thumbnail: bool) -> HttpResponse:
    viewer = request.user if _signed_in(request) else None
    try:
        found = selectors.photo_public(pk, viewer=viewer, thumbnail=thumbnail)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(content_type="image/jpeg")
    # the bytes of a photo never change (a changed photo is a new one), so its id is its tag
    etag = f'"community-photo-{found.pk}-{"thumb" if thumbnail else "full"}"'
    response["ETag"] = etag
    if found.post.status == PostStatus.HIDDEN:
        # only its author sees it: never kept by a shared cache
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
    else:
        patch_cache_control(response, public=True, max_age=PHOTO_MAX_AGE)
    response["Content-Disposition"] = f'inline; filename="foto-{found.pk}.jpg"'
    # the response itself, or "304 Not Modified" when the caller has this photo already
    conditional = get_conditional_response(request, etag=etag, response=response)
    if conditional is not response:
        return conditional
    response.content = bytes(found.thumbnail if thumbnail else found.image)
    return response


@require_safe
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    return _photo_response(request, pk, thumbnail=False)


@require_safe
def photo_thumb(request: HttpRequest, pk: int) -> HttpResponse:
    return _photo_response(request, pk, thumbnail=True)


# --- writing posts -----------------------------------------------------------------------------


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Why the caller cannot post now, and what to do about it."""
    return render(
        request,
        "community/board/refused.html",
        {"error": exc, "code": exc.code},
        status=exc.status,
    )


def _personal_step(exc: DomainError) -> dict:
    """The warning about personal details: the kinds found and the confirmation box."""
    return {"message": exc.message, "kinds": (exc.details or {}).get("kinds", [])}


def _create_post(request: HttpRequest, form: forms.PostForm) -> Post:
    """The post and its photos, each with its description, in one transaction: a photo that is
    refused leaves nothing behind (and mails to matching residents are never sent)."""
    person = request.user
    with transaction.atomic():
        post = posts.post_create(
            person=person, site_url=_site_url(request), **form.service_arguments()
        )
        for slot, upload, alt in form.uploads():
            try:
                posts.post_photo_add(post=post, person=person, file=upload, alt=alt)
            except DomainError as exc:
                exc.details = {**(exc.details or {}), "field": f"photo_{slot}"}
                raise
    return post


@never_cache
def post_new(request: HttpRequest) -> HttpResponse:
    """A new offer or request; POST places it (``posts.post_create``)."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    person = request.user
    try:
        guard.check_may_take_part(person)
        place = posts.area_of(person)
    except DomainError as exc:
        return _refused(request, exc)
    ideas_only = not access.has_guardian_consent(person)
    posted = request.method == "POST"
    form = forms.PostForm(
        request.POST if posted else None, request.FILES if posted else None, ideas_only=ideas_only
    )
    status = 200
    personal = None
    if posted:
        status = 400
        if form.is_valid():
            try:
                post = _create_post(request, form)
            except DomainError as exc:
                status = exc.status
                if exc.code == "personal_details":
                    personal = _personal_step(exc)
                else:
                    form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("Je bericht staat op het prikbord.")
                    if post.kind != PostKind.IDEA
                    else _(
                        "Je idee staat op het prikbord. De bibliotheek kijkt ernaar en laat "
                        "je per e-mail weten wat ze ermee doet."
                    ),
                )
                return redirect("community:post", pk=post.pk)
    return render(
        request,
        "community/board/post_new.html",
        {
            "form": form,
            "ideas_only": ideas_only,
            "personal": personal,
            "photos_again": posted and bool(request.FILES),
            "place": f"{place.pc4} {place.place}".strip(),
            "max_photos": photos.MAX_PHOTOS,
        },
        status=status,
    )


def _edit_page(
    request: HttpRequest,
    post: Post,
    *,
    form=None,
    photo_form=None,
    personal=None,
    status: int = 200,
) -> HttpResponse:
    is_open = post.status == PostStatus.OPEN
    if form is None and is_open:
        form = forms.PostEditForm(post=post)
    room = is_open and len(post.photo_list) < photos.MAX_PHOTOS
    if photo_form is None and room:
        photo_form = forms.PhotoAddForm()
    return render(
        request,
        "community/board/post_edit.html",
        {
            "post": post,
            "is_open": is_open,
            "form": form if is_open else None,
            "photo_form": photo_form if room else None,
            "personal": personal,
            # a moderator's decision is not undone by removing what it was about
            "may_remove_photos": post.status != PostStatus.HIDDEN,
            "photos": [
                {
                    "photo": photo,
                    "alt": _photo_alt(photo, post, number),
                    "thumb_url": reverse("community:photo_thumb", args=[photo.pk]),
                }
                for number, photo in enumerate(post.photo_list, start=1)
            ],
            "max_photos": photos.MAX_PHOTOS,
        },
        status=status,
    )


@never_cache
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the text of one's own open post; its photos can be removed and added here."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    post = _own_post(request, pk)
    if request.method != "POST":
        return _edit_page(request, post)
    if post.status != PostStatus.OPEN:
        messages.error(
            request, _("Dit bericht is afgesloten of verborgen en kan niet meer worden gewijzigd.")
        )
        return _edit_page(request, post, status=409)
    form = forms.PostEditForm(request.POST, post=post)
    if not form.is_valid():
        return _edit_page(request, post, form=form, status=400)
    try:
        posts.post_update(post=post, person=request.user, **form.service_arguments())
    except DomainError as exc:
        personal = None
        if exc.code == "personal_details":
            personal = _personal_step(exc)
        else:
            form.add_domain_error(exc)
        return _edit_page(request, post, form=form, personal=personal, status=exc.status)
    messages.success(request, _("Je wijzigingen zijn opgeslagen."))
    return redirect("community:post", pk=post.pk)


@never_cache
def post_close(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: are you sure? POST: close one's own post (found, given away, no longer needed)."""
    if not _signed_in(request):
        return redirect_to_login(reverse("community:post", args=[pk]))
    post = _own_post(request, pk)
    if request.method != "POST":
        return render(request, "community/board/post_close.html", {"post": post})
    try:
        posts.post_close(post=post, person=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("'%(title)s' is afgesloten en staat niet meer op het prikbord.")
            % {"title": post.title},
        )
    return redirect("community:post", pk=post.pk)


@never_cache
def photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(reverse("community:post_edit", args=[pk]))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    post = _own_post(request, pk)
    form = forms.PhotoAddForm(request.POST, request.FILES)
    # the form is far down the page: say at the top too that the photo was not added
    not_added = _("De foto is niet toegevoegd. Bij 'Foto toevoegen' staat wat er mis is.")
    if not form.is_valid():
        messages.error(request, not_added)
        return _edit_page(request, post, photo_form=form, status=400)
    try:
        posts.post_photo_add(
            post=post,
            person=request.user,
            file=form.cleaned_data["photo"],
            alt=form.cleaned_data.get("alt") or "",
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        messages.error(request, not_added)
        return _edit_page(request, post, photo_form=form, status=exc.status)
    messages.success(request, _("De foto is toegevoegd."))
    return redirect("community:post_edit", pk=post.pk)


@never_cache
def photo_remove(request: HttpRequest, pk: int, photo_pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(reverse("community:post_edit", args=[pk]))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    post = _own_post(request, pk)
    try:
        posts.post_photo_remove(post=post, person=request.user, photo_id=photo_pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("community:post_edit", pk=post.pk)
    messages.success(request, _("De foto is verwijderd."))
    return redirect("community:post_edit", pk=post.pk)


# --- mine --------------------------------------------------------------------------------------


def _search_label(search) -> str:
    """ "aanbod · spullen · met de woorden boor · binnen 5 km van 3511"."""
    parts = []
    if search.type:
        parts.append(str(PostType(search.type).label))
    if search.kind:
        parts.append(str(PostKind(search.kind).label))
    if search.category:
        parts.append(str(Category(search.category).label))
    if search.words:
        parts.append(_("met de woorden %(words)s") % {"words": search.words})
    if not parts:
        parts.append(_("alles"))
    parts.append(_("binnen %(km)s km van %(pc4)s") % {"km": search.radius_km, "pc4": search.pc4})
    return " · ".join(parts)


def _mine_page(request: HttpRequest, *, search_form=None, status: int = 200) -> HttpResponse:
    mine_posts = selectors.my_posts(request.user)
    searches = selectors.my_saved_searches(request.user)
    names = _place_names({post.pc4 for post in mine_posts})
    return render(
        request,
        "community/board/mine.html",
        {
            "posts": [
                {
                    "post": post,
                    "type_label": _type_label(post),
                    "kind_label": PostKind(post.kind).label,
                    "status_label": PostStatus(post.status).label,
                    "place": _place_label(post, names),
                }
                for post in mine_posts
            ],
            "searches": [{"search": s, "label": _search_label(s)} for s in searches],
            "search_form": search_form or forms.SavedSearchForm(),
            "may_save": len(searches) < matching.MAX_SEARCHES,
            "max_searches": matching.MAX_SEARCHES,
            "messages_url": page_link("community:messages"),
        },
        status=status,
    )


@never_cache
def mine(request: HttpRequest) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _mine_page(request)


@never_cache
def search_save(request: HttpRequest) -> HttpResponse:
    """ "Notify me": save the filters as a search from one's own postcode area."""
    if not _signed_in(request):
        return redirect_to_login(reverse("community:mine"))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = forms.SavedSearchForm(request.POST)
    if not form.is_valid():
        return _mine_page(request, search_form=form, status=400)
    try:
        matching.saved_search_create(person=request.user, **form.cleaned_data)
    except DomainError as exc:
        form.add_domain_error(exc)
        return _mine_page(request, search_form=form, status=exc.status)
    messages.success(
        request,
        _("Opgeslagen. We mailen je als er een nieuw bericht bij komt dat hierbij past."),
    )
    return redirect("community:mine")


@never_cache
def search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(reverse("community:mine"))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        matching.saved_search_delete(person=request.user, search_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("De zoekopdracht is verwijderd."))
    return redirect("community:mine")


# --- activity ideas (staff) --------------------------------------------------------------------


@never_cache
@staff_required(*IDEA_ROLES)
@require_safe
def ideas(request: HttpRequest) -> HttpResponse:
    """Residents' ideas for activities waiting for a decision of the caller's organisations."""
    waiting = selectors.ideas_to_review(request.staff_organisation_ids)
    names = _place_names({post.pc4 for post in waiting})
    return render(
        request,
        "community/board/ideas.html",
        {"ideas": [{"post": post, "place": _place_label(post, names)} for post in waiting]},
    )


def _reviewable_idea(request: HttpRequest, pk: int) -> tuple[Post, Organisation]:
    """The idea and the organisation that reviews it, if the caller is its programmer or
    manager; 404 otherwise (and for hidden posts and posts that are no idea)."""
    idea = (
        Post.objects.select_related("author", "municipality", "activity")
        .filter(pk=pk, kind=PostKind.IDEA)
        .exclude(status=PostStatus.HIDDEN)
        .first()
    )
    if idea is None:
        raise Http404(_("Dit idee bestaat niet (meer)."))
    allowed = posts.idea_organisation_ids(idea) & set(request.staff_organisation_ids)
    if not allowed:
        raise Http404(_("Dit bestaat niet of je hebt er geen toegang toe."))
    return idea, Organisation.objects.get(pk=min(allowed))


@never_cache
@staff_required(*IDEA_ROLES)
def idea_review(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the idea with a form to approve it (a draft activity) or to reject it (a note).
    POST ``decision=approve|reject``: ``posts.idea_review``."""
    idea, organisation = _reviewable_idea(request, pk)
    pending = idea.status == PostStatus.OPEN and idea.idea_status in ("", posts.IDEA_PENDING)
    decision = request.POST.get("decision", "") if request.method == "POST" else ""
    approve_form = forms.IdeaApproveForm(
        request.POST if decision == "approve" else None,
        prefix="approve",
        organisation=organisation,
        idea=idea,
    )
    reject_form = forms.IdeaRejectForm(
        request.POST if decision == "reject" else None, prefix="reject"
    )
    status = 200
    if request.method == "POST":
        status = 400
        if not pending:
            messages.error(request, _("Over dit idee is al besloten, of het is niet meer open."))
            status = 409
        elif decision == "approve" and approve_form.is_valid():
            try:
                reviewed = posts.idea_review(
                    post=idea,
                    actor=request.user,
                    approve=True,
                    note=approve_form.cleaned_data.get("note") or "",
                    activity_data=approve_form.to_input(),
                    site_url=_site_url(request),
                )
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                approve_form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _(
                        "Het idee is goedgekeurd en de bewoner is ingelicht. Maak de activiteit "
                        "hier af en publiceer haar."
                    ),
                )
                return redirect("programming:staff_activity", activity_id=reviewed.activity_id)
        elif decision == "reject" and reject_form.is_valid():
            try:
                posts.idea_review(
                    post=idea,
                    actor=request.user,
                    approve=False,
                    note=reject_form.cleaned_data["note"],
                    site_url=_site_url(request),
                )
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                reject_form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("Het idee is afgewezen en de bewoner is ingelicht."))
                return redirect("community:ideas")
    photo_rows = [
        {
            "alt": _photo_alt(photo, idea, number),
            "url": reverse("community:photo", args=[photo.pk]),
            "thumb_url": reverse("community:photo_thumb", args=[photo.pk]),
        }
        for number, photo in enumerate(
            Photo.objects.filter(post=idea).only("pk", "post_id", "alt"), start=1
        )
    ]
    return render(
        request,
        "community/board/idea_review.html",
        {
            "idea": idea,
            "organisation": organisation,
            "pending": pending,
            "author_label": selectors.author_label(idea.author),
            "place": _place_label(idea, _place_names({idea.pc4})),
            "links": text.links_in(idea.body),
            "photos": photo_rows,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "activity_url": page_link("programming:staff_activity", idea.activity_id)
            if idea.activity_id
            else "",
        },
        status=status,
    )
