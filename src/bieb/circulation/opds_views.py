"""The OPDS catalogue for reading apps: ``/opds`` (OPDS 1.2, Atom) and ``/opds/v2`` (OPDS
2.0, JSON) with the resident's loans and the titles they may borrow (the documents are built by
``interop/opds.py``).

Reading apps log in with HTTP Basic (card number or e-mail address, and password) or an API
token (``Authorization: Bearer``); a signed-in browser may read the feeds too. Without
credentials the answer is 401 with ``WWW-Authenticate: Basic`` and the OPDS authentication
document; too many wrong passwords lock out as on the log-in page (429).

Borrowing (``/opds/lenen/<id>``, ``/opds/v2/lenen/<id>``) costs a licence slot (a metered
licence one of its loans), so no foreign page may trigger it. A browser that answered the
feed's Basic challenge sends those credentials by itself with every later request to the
site, an ``<img src>`` or a form of another site included; the session cookie likewise. So
borrowing takes credentials from the ``Authorization`` header only (never the session), by
POST with Basic or Bearer, or by GET with a Bearer token only (OPDS does not say which method
fetches a borrow link and library apps GET it; a browser never adds a Bearer header by
itself); and a request a browser marks as coming from another site (``Sec-Fetch-Site``,
``Origin``) is refused whatever it carries. CSRF tokens do not apply: apps have none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from bieb.catalog.jsonld import bcp47
from bieb.catalog.models import Edition
from bieb.circulation import digital, digital_files, digital_selectors
from bieb.circulation.digital_views import content_url, digital_edition
from bieb.circulation.interop import opds
from bieb.core import clock
from bieb.core.errors import DomainError

FEED_PAGE_SIZE = 25
REALM = "de Bibliotheek"


# --- OPDS: who is asking ---------------------------------------------------------------------


class _LockedOut(Exception):
    pass


def _basic_credentials(header: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    username, sep, password = text.partition(":")
    return (username, password) if sep else None


#: a reading app polls its feeds with the same Basic credentials; once checked they are
#: trusted this long, so a poll costs no password hash, no log-in record, no lock-out log row
BASIC_TRUST_SECONDS = 300


def _trust_key(username: str, password: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{username}\x00{password}".encode(), hashlib.sha256
    ).hexdigest()
    return f"opds-basic:{digest}"


def _trusted_user(key: str):
    """The person these credentials were checked for a moment ago, if their password (hash)
    and account are unchanged since."""
    from bieb.accounts.models import User

    remembered = cache.get(key)
    if not remembered:
        return None
    user_id, password_hash = remembered
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not hmac.compare_digest(user.password, password_hash):
        cache.delete(key)
        return None
    return user


def _basic_user(request: HttpRequest, username: str, password: str):
    """The active person with this card number (or e-mail address) and password. Through
    ``authenticate`` so django-axes counts failures and locks out as on the log-in page;
    credentials that passed are trusted for ``BASIC_TRUST_SECONDS`` (only successes are
    remembered, so every wrong guess still goes through the lock-out)."""
    from bieb.accounts.models import User

    key = _trust_key(username, password)
    user = _trusted_user(key)
    if user is not None:
        return user
    compact = "".join(username.split())
    login = username.strip().lower()
    if compact.isdigit():
        email = (
            User.objects.filter(card_number=compact, is_active=True)
            .values_list("email", flat=True)
            .first()
        )
        login = email or compact
    user = authenticate(request, username=login, password=password)
    if user is not None:
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        cache.set(key, (user.pk, user.password), BASIC_TRUST_SECONDS)
        return user
    if getattr(request, "axes_locked_out", False):
        request.axes_locked_out = False  # type: ignore[attr-defined]  # we answer ourselves
        raise _LockedOut
    return None


def opds_user(request: HttpRequest, *, session: bool = True):
    """The person behind an OPDS request, or None. ``session``: a signed-in browser counts."""
    from bieb.api.selectors import token_for_secret
    from bieb.api.services import token_mark_used

    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        token = token_for_secret(secret=credentials.strip())
        if token is None or not token.user.is_active:
            return None
        token_mark_used(token=token)
        return token.user
    if scheme == "basic":
        pair = _basic_credentials(credentials)
        return _basic_user(request, *pair) if pair else None
    user = request.user
    if session and user.is_authenticated and user.is_active:
        return user
    return None


def _auth_document(request: HttpRequest) -> dict:
    return opds.authentication_document(
        id=request.build_absolute_uri(reverse("digital:opds_auth")),
        title=_("de Bibliotheek"),
        description=_("Log in met je pasnummer (of e-mailadres) en wachtwoord."),
        login_label=_("Pasnummer"),
        password_label=_("Wachtwoord"),
        links=[
            opds.Link(
                rel="start",
                href=request.build_absolute_uri(reverse("digital:opds2")),
                type=opds.OPDS2_FEED,
            ),
            opds.Link(
                rel="register",
                href=request.build_absolute_uri(reverse("accounts:register")),
                type="text/html",
            ),
        ],
    )


def _challenge(request: HttpRequest, *, locked_out: bool = False) -> HttpResponse:
    if locked_out:
        response = _problem(
            "locked_out",
            _(
                "Te veel mislukte pogingen om aan te melden. Wacht een kwartier en probeer het "
                "opnieuw."
            ),
            429,
        )
        response["Retry-After"] = "900"
        return response
    response = HttpResponse(
        json.dumps(_auth_document(request), ensure_ascii=False),
        status=401,
        content_type=opds.OPDS2_AUTHENTICATION,
    )
    response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    response["Link"] = (
        f"<{request.build_absolute_uri(reverse('digital:opds_auth'))}>; "
        f'rel="{opds.REL_AUTH_DOCUMENT}"; type="{opds.OPDS2_AUTHENTICATION}"'
    )
    response["Cache-Control"] = "no-store"
    response["Vary"] = "Authorization, Cookie"
    return response


def _problem(code: str, message: str, status: int, details: dict | None = None) -> HttpResponse:
    body = {"type": f"urn:bieb:error:{code}", "title": message, "status": status, "code": code}
    if details:
        body["details"] = details
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json"
    )


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Vary"] = "Authorization, Cookie"
    return response


def opds_view(*, session: bool = True):
    """Decorator: find the person (or answer 401/429) and pass them on as ``person``."""

    def decorate(view):
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                person = opds_user(request, session=session)
            except _LockedOut:
                return _challenge(request, locked_out=True)
            if person is None:
                return _challenge(request)
            return _private(view(request, person, *args, **kwargs))

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


# --- OPDS: building the feeds ----------------------------------------------------------------


def _url(request: HttpRequest, name: str, *args, query: str = "") -> str:
    path = reverse(name, args=args)
    return request.build_absolute_uri(f"{path}?{query}" if query else path)


#: the publication types reading apps know (Readium: an audiobook is schema.org/Audiobook)
_SCHEMA_TYPES = {"ebook": "Book", "audiobook": "Audiobook", "streaming": "Movie"}

_AVAILABILITY = {
    "loan": "available",
    "borrow": "available",
    "ready": "ready",
    "waiting": "reserved",
    "hold": "unavailable",
    "none": "unavailable",
}


def _publication(request: HttpRequest, edition: Edition, state, *, version: int):
    authors = [name.strip() for name in edition.contributors_text.split(";") if name.strip()]
    publication = opds.Publication(
        id=_url(request, "catalog:edition", edition.pk),
        title=edition.full_title,
        updated=edition.updated_at,
        authors=authors,
        language=bcp47(edition.language),
        summary=edition.description,
        identifier=f"urn:isbn:{edition.isbn}" if edition.isbn else "",
        issued=str(edition.year or ""),
        publisher=edition.publisher,
        schema_type=_SCHEMA_TYPES.get(edition.format, "Book"),
    )
    publication.images = [
        opds.Link(rel=rel, href=_url(request, "digital:cover", edition.pk), type="image/png")
        for rel in (opds.REL_IMAGE, opds.REL_THUMBNAIL)
    ]
    links = [opds.Link(rel="alternate", href=publication.id, type="text/html")]
    if state.loan is not None:
        found = digital_files.content_for(edition)
        links.append(
            opds.Link(
                rel=opds.REL_ACQUISITION,
                href=content_url(request, state.loan, absolute=True),
                type=found.media_type
                if found
                else digital_files.expected_media_type(edition.format),
                availability="available",
                until=state.loan.expires_at,
            )
        )
    else:
        borrow_name = "digital:opds_borrow" if version == 1 else "digital:opds2_borrow"
        links.append(
            opds.Link(
                rel=opds.REL_BORROW,
                href=_url(request, borrow_name, edition.pk),
                type=opds.ENTRY if version == 1 else opds.OPDS2_PUBLICATION,
                indirect=digital_files.media_type_for(edition),
                availability=_AVAILABILITY.get(state.state, ""),
                until=state.hold.ready_until if state.state == "ready" else None,
                holds=state.queue,
                position=state.position,
                copies_total=state.copies_total,
                copies_available=state.copies_available if state.copies_total is not None else None,
            )
        )
    publication.links = links
    return publication


def _feed_links(request: HttpRequest, *, version: int, self_name: str, query: str = "") -> list:
    if version == 1:
        start = opds.Link(
            rel="start", href=_url(request, "digital:opds"), type=opds.NAVIGATION_FEED
        )
        kind = opds.NAVIGATION_FEED if self_name == "digital:opds" else opds.ACQUISITION_FEED
    else:
        start = opds.Link(rel="start", href=_url(request, "digital:opds2"), type=opds.OPDS2_FEED)
        kind = opds.OPDS2_FEED
    return [opds.Link(rel="self", href=_url(request, self_name, query=query), type=kind), start]


def _atom(body: bytes, kind: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type=f"{kind};charset=utf-8", status=status)


def _json(body: dict, kind: str, status: int = 200) -> HttpResponse:
    return JsonResponse(
        body, content_type=kind, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _navigation(request: HttpRequest, version: int) -> list[opds.Link]:
    suffix = "" if version == 1 else "2"
    kind = opds.ACQUISITION_FEED if version == 1 else opds.OPDS2_FEED
    return [
        opds.Link(
            rel=opds.REL_SHELF if version == 1 else "http://opds-spec.org/shelf",
            href=_url(request, f"digital:opds{suffix}_loans"),
            type=kind,
            title=_("Mijn leningen"),
        ),
        opds.Link(
            rel="subsection",
            href=_url(request, f"digital:opds{suffix}_titles"),
            type=kind,
            title=_("E-books en luisterboeken om te lenen"),
        ),
    ]


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("pagina") or request.GET.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _titles_page(request: HttpRequest, person, version: int):
    paginator = Paginator(digital_selectors.borrowable_editions(person), FEED_PAGE_SIZE)
    number = min(_page_number(request), paginator.num_pages)
    editions = list(paginator.page(number).object_list)
    states = digital_selectors.digital_states(person, editions)
    publications = [_publication(request, e, states[e.pk], version=version) for e in editions]
    name = "digital:opds_titles" if version == 1 else "digital:opds2_titles"
    kind = opds.ACQUISITION_FEED if version == 1 else opds.OPDS2_FEED
    query = f"pagina={number}" if number > 1 else ""
    links = _feed_links(request, version=version, self_name=name, query=query)
    links.append(opds.Link(rel="first", href=_url(request, name), type=kind))
    last = paginator.num_pages
    links.append(
        opds.Link(
            rel="last",
            href=_url(request, name, query=f"pagina={last}" if last > 1 else ""),
            type=kind,
        )
    )
    if number > 1:
        previous = f"pagina={number - 1}" if number > 2 else ""
        links.append(opds.Link(rel="previous", href=_url(request, name, query=previous), type=kind))
    if number < last:
        links.append(
            opds.Link(rel="next", href=_url(request, name, query=f"pagina={number + 1}"), type=kind)
        )
    page = opds.Page(number=number, size=FEED_PAGE_SIZE, total=paginator.count)
    return publications, links, page


def _loans(request: HttpRequest, person, version: int):
    loans = list(digital_selectors.open_digital_loans(person))
    editions = [loan.edition for loan in loans]
    states = digital_selectors.digital_states(person, editions)
    return [_publication(request, e, states[e.pk], version=version) for e in editions]


# --- OPDS 1.2 --------------------------------------------------------------------------------


@require_safe
@opds_view()
def opds_root(request: HttpRequest, person) -> HttpResponse:
    """``/opds``: the navigation feed (loans, titles)."""
    body = opds.atom_feed(
        id=_url(request, "digital:opds"),
        title=_("de Bibliotheek: digitaal lenen"),
        updated=clock.now(),
        links=_feed_links(request, version=1, self_name="digital:opds"),
        navigation=[(link.href, "", link) for link in _navigation(request, 1)],
    )
    return _atom(body, opds.NAVIGATION_FEED)


@require_safe
@opds_view()
def opds_loans(request: HttpRequest, person) -> HttpResponse:
    """``/opds/leningen``: the person's running loans, each with a signed link to its file."""
    body = opds.atom_feed(
        id=_url(request, "digital:opds_loans"),
        title=_("Mijn leningen"),
        updated=clock.now(),
        links=_feed_links(request, version=1, self_name="digital:opds_loans"),
        publications=_loans(request, person, 1),
    )
    return _atom(body, opds.ACQUISITION_FEED)


@require_safe
@opds_view()
def opds_titles(request: HttpRequest, person) -> HttpResponse:
    """``/opds/titels``: the titles the person may borrow or queue for, by title, paged."""
    publications, links, page = _titles_page(request, person, 1)
    body = opds.atom_feed(
        id=_url(request, "digital:opds_titles"),
        title=_("E-books en luisterboeken om te lenen"),
        updated=clock.now(),
        links=links,
        publications=publications,
        page=page,
    )
    return _atom(body, opds.ACQUISITION_FEED)


def _borrow_for_app(person, edition: Edition) -> tuple[int, DomainError | None]:
    """Borrow (201), or join the queue when every licence is lent (201), or say it is already
    borrowed (200); otherwise the refusal."""
    try:
        digital.digital_checkout(patron=person, edition=edition, actor=person)
        return 201, None
    except DomainError as exc:
        if exc.code == "already_borrowed":
            return 200, None
        if exc.code != "no_licence_available" or not exc.details.get("can_hold"):
            return exc.status, exc
    try:
        digital.digital_hold_place(patron=person, edition=edition, actor=person)
    except DomainError as exc:
        return exc.status, exc
    return 201, None


def _from_another_site(request: HttpRequest) -> bool:
    """A browser's request that another site started (apps send neither header)."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = f"{request.scheme}://{request.get_host()}"
    return origin.rstrip("/").lower() != own.lower()


def borrow_endpoint(view):
    """Decorator for the borrow views: only what an app does, never what a browser can be made
    to do (see the module docstring): POST with Basic or Bearer credentials, GET with a Bearer
    token only (405 with other credentials, 401 without any); nothing a browser marks as
    started by another site (403)."""

    authenticated = opds_view(session=False)(view)

    @csrf_exempt  # apps have no CSRF token; the checks below stand in for it
    @require_http_methods(["GET", "POST"])
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _from_another_site(request):
            return _private(
                _problem(
                    "cross_site",
                    _("Lenen via deze link kan alleen vanuit je leesapp."),
                    403,
                )
            )
        scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
        # without credentials: the 401 challenge, so that an app learns it must log in
        if request.method == "GET" and scheme not in ("", "bearer"):
            response = _problem(
                "borrow_by_post",
                _(
                    "Lenen gaat met een POST-verzoek. Een leesapp die de leenlink met GET opent, "
                    "meldt zich aan met een token (Authorization: Bearer)."
                ),
                405,
            )
            response["Allow"] = "POST"
            return _private(response)
        return authenticated(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@borrow_endpoint
def opds_borrow(request: HttpRequest, person, edition_id: int) -> HttpResponse:
    """``/opds/lenen/<id>``: a reading app borrows (POST with Basic or Bearer credentials, GET
    with a Bearer token); the answer is the title's entry with the acquisition link to the file
    (or its place in the queue)."""
    edition = digital_edition(edition_id)
    status, refusal = _borrow_for_app(person, edition)
    if refusal is not None:
        return _problem(refusal.code, refusal.message, refusal.status, refusal.details)
    publication = _publication(
        request, edition, digital_selectors.digital_state(person, edition), version=1
    )
    return _atom(opds.atom_entry_document(publication), opds.ENTRY, status=status)


# --- OPDS 2.0 --------------------------------------------------------------------------------


@require_safe
@opds_view()
def opds2_root(request: HttpRequest, person) -> HttpResponse:
    feed = opds.opds2_feed(
        title=_("de Bibliotheek: digitaal lenen"),
        links=[
            *_feed_links(request, version=2, self_name="digital:opds2"),
            opds.Link(
                rel=opds.REL_AUTH_DOCUMENT,
                href=_url(request, "digital:opds_auth"),
                type=opds.OPDS2_AUTHENTICATION,
            ),
        ],
        navigation=_navigation(request, 2),
    )
    return _json(feed, opds.OPDS2_FEED)


@require_safe
@opds_view()
def opds2_loans(request: HttpRequest, person) -> HttpResponse:
    feed = opds.opds2_feed(
        title=_("Mijn leningen"),
        links=_feed_links(request, version=2, self_name="digital:opds2_loans"),
        publications=_loans(request, person, 2),
    )
    return _json(feed, opds.OPDS2_FEED)


@require_safe
@opds_view()
def opds2_titles(request: HttpRequest, person) -> HttpResponse:
    publications, links, page = _titles_page(request, person, 2)
    feed = opds.opds2_feed(
        title=_("E-books en luisterboeken om te lenen"),
        links=links,
        publications=publications,
        page=page,
    )
    return _json(feed, opds.OPDS2_FEED)


@borrow_endpoint
def opds2_borrow(request: HttpRequest, person, edition_id: int) -> HttpResponse:
    """``/opds/v2/lenen/<id>``: as ``opds_borrow``, answering the OPDS 2.0 publication."""
    edition = digital_edition(edition_id)
    status, refusal = _borrow_for_app(person, edition)
    if refusal is not None:
        return _problem(refusal.code, refusal.message, refusal.status, refusal.details)
    publication = _publication(
        request, edition, digital_selectors.digital_state(person, edition), version=2
    )
    return _json(opds.publication_json(publication), opds.OPDS2_PUBLICATION, status=status)


@require_safe
def opds_auth(request: HttpRequest) -> HttpResponse:
    """``/opds/v2/authenticatie``: how to log in (OPDS Authentication 1.0); public."""
    return _json(_auth_document(request), opds.OPDS2_AUTHENTICATION)
