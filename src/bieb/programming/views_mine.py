"""The resident's and visitor's side of registration.

- ``/activiteiten/<slug>/aanmelden``: register. A signed-in resident chooses the seats (a
  family or class counts its people) and, where allowed, paying at the door; a visitor gives a
  name and an e-mail address and confirms by the link we mail. Refusals show on the form again
  (400/409), nothing saved.
- ``/aanmelding/<token>``: the registration by its secret link (also without an account):
  status in words, the QR code for the door, and buttons to confirm the e-mail address, accept
  an offered seat, pay, or cancel (with a confirmation page). Staff get no extra powers here.
- ``/mijn/activiteiten``: my registrations, coming and past (with attendance), and the secret
  address of my own calendar feed (a new one on request).

Every change is a POST with a CSRF token (POST-redirect-GET, the outcome a message on the next
page). Personal pages are never cached; token pages also send no referrer and ask search
engines not to index them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.money import format_eur
from bieb.programming import recurrence, selectors, services
from bieb.programming.forms_mine import OfferAcceptForm, RegisterForm
from bieb.programming.forms_staff import door_code_display
from bieb.programming.models import (
    LIVE_STATUSES,
    Activity,
    ActivityStatus,
    PaymentState,
    PriceKind,
    Registration,
    RegistrationStatus,
)
from bieb.programming.qr import qr_svg

#: how many earlier registrations ``/mijn/activiteiten`` lists
PAST_SHOWN = 50


#: Pages whose address holds a secret never send it on in a ``Referer``. Not ``no-referrer``:
#: with that policy browsers send ``Origin: null`` with the page's own forms, and Django's
#: CSRF check rightly refuses those POSTs; ``strict-origin`` sends at most the site's origin
#: (never the path with the token) and keeps the forms working.
SECRET_REFERRER_POLICY = "strict-origin"


def _secret_page(view=None, *, referrer_policy: str = SECRET_REFERRER_POLICY):
    """A page reached by a secret link: not cached, no secret in a referrer, not indexed."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response["Referrer-Policy"] = referrer_policy
            response["X-Robots-Tag"] = "noindex, nofollow"
            return response

        return never_cache(wrapped)

    return decorate(view) if view is not None else decorate


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _actor(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _open_invoice(registration: Registration):
    """The registration's invoice while it waits for an online payment, else None."""
    from bieb.subscriptions.models import InvoiceStatus

    invoice = registration.invoice
    if (
        registration.payment == PaymentState.ONLINE
        and registration.status == RegistrationStatus.CONFIRMED
        and invoice is not None
        and invoice.status == InvoiceStatus.OPEN
    ):
        return invoice
    return None


def _after_change(request: HttpRequest, registration: Registration, done: str) -> HttpResponse:
    """Say ``done`` and show the registration, or, when an online payment is due, send its
    own person to pay (the seat waits until ``offer_expires_at``)."""
    invoice = _open_invoice(registration)
    if invoice is not None and registration.person_id == getattr(request.user, "pk", None):
        messages.success(
            request,
            _(
                "Je plaats is vastgehouden. Betaal vóór %(until)s; daarna gaat hij naar iemand "
                "anders."
            )
            % {"until": date_format(localtime(registration.offer_expires_at), "j F, H:i")},
        )
        return redirect("payments:pay_invoice", invoice.pk)
    messages.success(request, done)
    return redirect("programming:registration", registration.token)


# --- register ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceFacts:
    """What a seat costs, in words, and (credits) what the person has left."""

    kind: str
    price: str
    credits: int
    credits_left: int | None


def _price_facts(activity: Activity, person: Any) -> PriceFacts:
    credits_left = None
    if activity.price_kind == PriceKind.CREDITS and person is not None:
        from bieb.subscriptions.selectors import usage_of

        meters = {m.meter: m for m in usage_of(person).meters}
        meter = meters.get("activity_credits")
        credits_left = (meter.left or 0) if meter is not None else 0
    return PriceFacts(
        kind=activity.price_kind,
        price=format_eur(activity.price_cents) if activity.price_cents else "",
        credits=activity.credits,
        credits_left=credits_left,
    )


def _closed_reason(activity: Activity) -> str:
    """Why nobody can register now, in words ("" when they can)."""
    if activity.status == ActivityStatus.CANCELLED:
        return _("Deze activiteit is geannuleerd.")
    if activity.capacity == 0:
        return _("Voor deze activiteit hoef je je niet aan te melden: loop gewoon binnen.")
    if activity.starts_at <= clock.now():
        return _("Aanmelden kan tot het begin van de (eerste) bijeenkomst; die is al begonnen.")
    return ""


def _person_refusal(person: Any) -> str:
    """Why this signed-in person cannot register at all ("" when they can)."""
    from bieb.accounts.access import has_guardian_consent

    if person.email_verified_at is None:
        return _(
            "Bevestig eerst je e-mailadres met de link die we je stuurden; daarna kun je je aanmelden."
        )
    if not has_guardian_consent(person):
        return _(
            "Je ouder of voogd moet eerst toestemming geven. Vraag het via Mijn bibliotheek aan."
        )
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, slug: str) -> HttpResponse:
    activity = (
        Activity.objects.select_related("location", "organisation")
        .exclude(status=ActivityStatus.DRAFT)
        .filter(slug=slug)
        .first()
    )
    if activity is None:
        raise Http404(_("Deze activiteit bestaat niet."))
    person = request.user if request.user.is_authenticated else None
    visitor = person is None
    existing = (
        Registration.objects.filter(activity=activity, person=person, status__in=LIVE_STATUSES)
        .only("token")
        .first()
        if person is not None
        else None
    )
    refusal = _closed_reason(activity) or (_person_refusal(person) if person else "")
    if visitor and not refusal and not (activity.is_free or activity.pay_at_door):
        refusal = _(
            "Voor deze activiteit betaal je online of met tegoed: log in of maak een gratis account."
        )
    form = RegisterForm(
        request.POST if request.method == "POST" else None, activity=activity, visitor=visitor
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                registration = services.register(
                    activity=activity,
                    person=person,
                    email=data.get("email", ""),
                    name=data.get("name", ""),
                    seats=form.seats_wanted,
                    pay_at_door=(
                        bool(data.get("pay_at_door"))
                        if not visitor
                        else activity.price_kind != PriceKind.FREE
                    ),
                    actor=person,
                    site_url=_site_url(request),
                )
            except DomainError as exc:
                if visitor and exc.code == "already_registered":
                    exc = DomainError(
                        exc.code,
                        _(
                            "Met dit e-mailadres ben je al aangemeld. De link naar je "
                            "aanmelding staat in de e-mail die we je stuurden (kijk ook bij "
                            "ongewenste e-mail)."
                        ),
                        status=exc.status,
                    )
                form.add_domain_error(exc)
                status = exc.status if exc.status in (400, 403, 404, 409) else 400
            else:
                if registration.status == RegistrationStatus.UNCONFIRMED:
                    # the address is proved by the link in the mail, not by this browser:
                    # the page behind that link (with its "confirm" button) is not shown here
                    messages.success(request, _registered_message(registration))
                    return redirect("programming:detail", activity.slug)
                return _after_change(request, registration, _registered_message(registration))
        else:
            status = 400
    sessions = recurrence.activity_sessions(activity)
    return render(
        request,
        "programming/mine/register.html",
        {
            "activity": activity,
            "form": form,
            "visitor": visitor,
            "refusal": refusal,
            "existing": existing,
            "sessions": sessions[:12],
            "more_sessions": max(len(sessions) - 12, 0),
            "session_count": len(sessions),
            "price": _price_facts(activity, person),
            "detail_url": _url("programming:detail", activity.slug),
            "login_url": reverse("accounts:login")
            + "?"
            + urlencode({"next": request.get_full_path()}),
        },
        status=status,
    )


def _registered_message(registration: Registration) -> str:
    if registration.status == RegistrationStatus.UNCONFIRMED:
        return _(
            "Bijna klaar: we stuurden een e-mail naar %(email)s. Bevestig je aanmelding met de "
            "link daarin; pas dan hebben we een plaats voor je. Geen e-mail? Kijk ook bij "
            "ongewenste e-mail."
        ) % {"email": registration.email}
    if registration.status == RegistrationStatus.WAITLISTED:
        return _(
            "De activiteit is vol: je staat op de wachtlijst. Komt er een plaats vrij, dan "
            "krijg je bericht."
        )
    return _("Je bent aangemeld. Laat de QR-code hieronder zien bij de deur.")


# --- the registration by its secret link -------------------------------------------------------


def _by_token(token: str) -> Registration:
    registration = (
        Registration.objects.select_related(
            "activity__location", "activity__organisation", "invoice"
        )
        .filter(token=token)
        .first()
        if token and len(token) <= 64
        else None
    )
    if registration is None:
        raise Http404(_("Deze aanmelding bestaat niet."))
    return registration


def _state(registration: Registration) -> str:
    """The status to show: an offer or e-mail confirmation past its deadline has lapsed
    already, even before the next round of ``offers_expire`` writes it down."""
    status = registration.status
    deadline = registration.offer_expires_at
    if (
        status in (RegistrationStatus.OFFERED, RegistrationStatus.UNCONFIRMED)
        and deadline is not None
        and deadline <= clock.now()
    ):
        return RegistrationStatus.EXPIRED
    return status


def _qr_label(registration: Registration) -> str:
    return _("QR-code van je aanmelding voor %(title)s") % {"title": registration.activity.title}


@_secret_page
@require_GET
def registration_detail(request: HttpRequest, token: str) -> HttpResponse:
    registration = _by_token(token)
    activity = registration.activity
    state = _state(registration)
    link = request.build_absolute_uri(reverse("programming:registration", args=[token]))
    sessions = recurrence.activity_sessions(activity)
    now = clock.now()
    upcoming = [s for s in sessions if s.ends_at >= now]
    invoice = _open_invoice(registration)
    return render(
        request,
        "programming/mine/registration.html",
        {
            "registration": registration,
            "activity": activity,
            "state": state,
            "position": selectors.waitlist_position(registration)
            if state == RegistrationStatus.WAITLISTED
            else None,
            "qr": qr_svg(link, label=_qr_label(registration))
            if state == RegistrationStatus.CONFIRMED
            else "",
            "link": link,
            "sessions": sessions[:12],
            "more_sessions": max(len(sessions) - 12, 0),
            "session_count": len(sessions),
            "over": not upcoming,
            "live": state in LIVE_STATUSES,
            "invoice": invoice,
            "amount": format_eur(invoice.total_cents) if invoice is not None else "",
            "pay_url": reverse("payments:pay_invoice", args=[invoice.pk]) if invoice else "",
            "offer_pay_at_door": (
                registration.person_id is not None
                and activity.pay_at_door
                and activity.price_kind != PriceKind.FREE
            ),
            "detail_url": _url("programming:detail", activity.slug),
            "activity_cancelled": activity.status == ActivityStatus.CANCELLED,
            "door_code": door_code_display(registration.token)
            if state == RegistrationStatus.CONFIRMED
            else "",
            "ics_url": _url("programming:activity_ics", activity.slug),
            # after cancelling or lapsing: the way back in, while registering is still open
            "register_again_url": _url("programming:register", activity.slug)
            if state not in LIVE_STATUSES and not _closed_reason(activity)
            else "",
            "own": registration.person_id is not None
            and registration.person_id == getattr(request.user, "pk", None),
        },
    )


@_secret_page(referrer_policy="no-referrer")  # an image: it has no forms
@require_GET
def registration_qr(request: HttpRequest, token: str) -> HttpResponse:
    registration = _by_token(token)
    link = request.build_absolute_uri(reverse("programming:registration", args=[token]))
    svg = qr_svg(link, label=_qr_label(registration), scale=8, sized=True)
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@_secret_page
@require_POST
def registration_confirm(request: HttpRequest, token: str) -> HttpResponse:
    registration = _by_token(token)
    try:
        registration = services.registration_confirm_email(
            token=registration.token, site_url=_site_url(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("programming:registration", registration.token)
    if registration.status == RegistrationStatus.CONFIRMED:
        messages.success(request, _("Je e-mailadres is bevestigd en je bent aangemeld."))
    elif registration.status == RegistrationStatus.WAITLISTED:
        messages.success(
            request,
            _("Je e-mailadres is bevestigd. De activiteit is vol: je staat op de wachtlijst."),
        )
    return redirect("programming:registration", registration.token)


@_secret_page
@require_POST
def registration_accept(request: HttpRequest, token: str) -> HttpResponse:
    registration = _by_token(token)
    form = OfferAcceptForm(request.POST)
    wants_door = form.is_valid() and form.cleaned_data["pay_at_door"]
    activity = registration.activity
    if registration.person_id is None:
        # a visitor has no account to pay online with: the door is their only way
        wants_door = activity.price_kind != PriceKind.FREE
    elif not activity.pay_at_door:
        wants_door = False
    try:
        registration = services.offer_accept(
            registration=registration, actor=_actor(request), pay_at_door=wants_door
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("programming:registration", registration.token)
    registration = _by_token(registration.token)
    return _after_change(request, registration, _("De plaats is van jou. Tot dan!"))


@_secret_page
@require_http_methods(["GET", "POST"])
def registration_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "weet je het zeker?"; POST cancels."""
    registration = _by_token(token)
    if request.method == "POST":
        try:
            services.registration_cancel(registration=registration, actor=_actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Je bent afgemeld voor %(title)s.") % {"title": registration.activity.title},
            )
        return redirect("programming:registration", registration.token)
    if registration.status not in LIVE_STATUSES:
        messages.info(request, _("Deze aanmelding is al afgemeld of verlopen."))
        return redirect("programming:registration", registration.token)
    return render(
        request,
        "programming/mine/cancel.html",
        {
            "registration": registration,
            "activity": registration.activity,
            # money and credits come back only before the first session (services)
            "refund": registration.activity.starts_at > clock.now()
            and (registration.credits_used > 0 or registration.invoice_id is not None),
        },
    )


# --- mine ----------------------------------------------------------------------------------------


@dataclass
class Row:
    """One of my registrations as ``/mijn/activiteiten`` shows it."""

    registration: Registration
    state: str
    first_start: Any
    session_count: int
    attended: int
    ended: bool
    unpaid: bool


def _rows(person: Any) -> tuple[list[Row], list[Row]]:
    """My coming registrations (live, soonest first) and the others (newest first)."""
    now = clock.now()
    registrations = (
        selectors.registrations_of(person)
        .annotate(attended=Count("attendances"))
        .order_by("activity__starts_at", "pk")
    )
    coming: list[Row] = []
    earlier: list[Row] = []
    for registration in registrations:
        activity = registration.activity
        sessions = recurrence.activity_sessions(activity)
        ended = activity.last_ends_at < now
        state = _state(registration)
        row = Row(
            registration=registration,
            state=state,
            first_start=(next((s for s in sessions if s.ends_at >= now), None) or sessions[0])
            if sessions
            else None,
            session_count=len(sessions),
            attended=registration.attended,
            ended=ended,
            unpaid=state == RegistrationStatus.CONFIRMED
            and _open_invoice(registration) is not None,
        )
        if not ended and state in LIVE_STATUSES:
            coming.append(row)
        else:
            earlier.append(row)
    earlier.sort(key=lambda r: (r.registration.activity.starts_at, r.registration.pk), reverse=True)
    return coming, earlier[:PAST_SHOWN]


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    person = request.user
    coming, earlier = _rows(person)
    feed = services.calendar_feed_for(person=person)
    feed_path = _url("programming:feed_personal", feed.token)
    response = render(
        request,
        "programming/mine/mine.html",
        {
            "coming": coming,
            "earlier": earlier,
            "feed_url": request.build_absolute_uri(feed_path) if feed_path else "",
            "webcal_url": ("webcal://" + request.get_host() + feed_path if feed_path else ""),
            "programme_url": _url("programming:programme"),
        },
    )
    # the page holds the feed's secret address
    response["Referrer-Policy"] = SECRET_REFERRER_POLICY
    return response


@login_required
@require_POST
def feed_reset(request: HttpRequest) -> HttpResponse:
    services.calendar_feed_for(person=request.user, reset=True)
    messages.success(
        request,
        _("Je agenda-link is vernieuwd. De oude werkt niet meer: zet de nieuwe in je agenda-app."),
    )
    return redirect("programming:mine")
