"""Rooms and stages for residents and partners: the bookable rooms with when they are taken
(``/zalen``), a request for one's own event (``/zalen/<id>/aanvragen``) and one's own requests
with the library's answer (``/mijn/zaalaanvragen``).

Who booked a room is nobody else's business: the public list shows only *when* a room is
taken. Rooms that are not open to the public can be requested only by staff of the location's
organisation (for anyone else they do not exist: 404). Staff decide on the requests at
``/medewerkers/zalen`` (``views_staff``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bieb.accounts import access
from bieb.accounts.models import PartnerMembership
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.network.models import Organisation
from bieb.programming import forms_staff as forms
from bieb.programming import services
from bieb.programming.models import BookingStatus, Partner, Room, RoomBooking

#: the public list shows when rooms are taken this far ahead
TAKEN_AHEAD = dt.timedelta(days=14)
PER_PAGE = 20


def _signed_in(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active)


@require_GET
def rooms(request: HttpRequest) -> HttpResponse:
    """Bookable rooms (optionally of one library organisation or in one place), each with its
    approved bookings of the coming two weeks as times it is taken. Three queries a page."""
    queryset = (
        Room.objects.filter(is_active=True, bookable_by_public=True, location__is_active=True)
        .select_related("location__organisation")
        .order_by("location__city", "location__name", "name")
    )
    organisation_slug = request.GET.get("organisatie", "")
    place = " ".join(request.GET.get("plaats", "").split())[:100]
    if organisation_slug:
        queryset = queryset.filter(location__organisation__slug=organisation_slug)
    if place:
        queryset = queryset.filter(
            Q(location__city__icontains=place) | Q(location__name__icontains=place)
        )
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("pagina"))
    now = clock.now()
    taken: dict[int, list[dict]] = defaultdict(list)
    for booking in (
        RoomBooking.objects.filter(
            room_id__in=[room.pk for room in page.object_list],
            status=BookingStatus.APPROVED,
            starts_at__lt=now + TAKEN_AHEAD,
            ends_at__gt=now,
        )
        .order_by("starts_at")
        .only("room_id", "starts_at", "ends_at")
    ):
        taken[booking.room_id].append(
            {
                "starts_at": booking.starts_at.astimezone(clock.AMSTERDAM),
                "ends_at": booking.ends_at.astimezone(clock.AMSTERDAM),
            }
        )
    for room in page.object_list:
        room.taken = taken.get(room.pk, [])
    organisations = (
        Organisation.objects.filter(
            locations__rooms__is_active=True, locations__rooms__bookable_by_public=True
        )
        .distinct()
        .order_by("name")
    )
    return render(
        request,
        "programming/rooms/list.html",
        {
            "page": page,
            "organisation_slug": organisation_slug,
            "place": place,
            "organisations": organisations,
            "query": f"organisatie={organisation_slug}&plaats={place}",
        },
    )


def _requestable_room(request: HttpRequest, room_id: int) -> tuple[Room, bool]:
    """The room and whether the caller is staff of its organisation; 404 for a room that is
    not in use, or not open to the public and the caller is not staff there."""
    room = (
        Room.objects.select_related("location__organisation")
        .filter(pk=room_id, is_active=True, location__is_active=True)
        .first()
    )
    if room is None:
        raise Http404(_("Deze zaal bestaat niet."))
    is_staff_here = room.location.organisation_id in access.organisations_with_role(request.user)
    if not room.bookable_by_public and not is_staff_here:
        raise Http404(_("Deze zaal bestaat niet."))
    return room, is_staff_here


def _partners_for(request: HttpRequest, room: Room, is_staff_here: bool) -> list[Partner]:
    """On whose behalf the caller may ask: every partner of the library for its staff; for
    a partner account, the library's partners with the account's partner name."""
    organisation_id = room.location.organisation_id
    partners = Partner.objects.filter(organisation_id=organisation_id)
    if is_staff_here:
        return list(partners)
    names = [
        name.lower()
        for name in PartnerMembership.objects.filter(
            user_id=request.user.pk, organisation_id=organisation_id
        ).values_list("partner_name", flat=True)
    ]
    return [p for p in partners if p.name.lower() in names] if names else []


@never_cache
def room_request(request: HttpRequest, room_id: int) -> HttpResponse:
    """GET: the room and a form; POST: the request (staff of the library decide on it)."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    with access.http_errors():
        access.access_account_features(request.user)
    room, is_staff_here = _requestable_room(request, room_id)
    partners = _partners_for(request, room, is_staff_here)
    form = forms.RoomRequestForm(
        request.POST if request.method == "POST" else None, partners=partners
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            starts_at, ends_at = form.moments()
            partner_id = form.cleaned_data.get("partner")
            try:
                booking = services.room_booking_request(
                    room=room,
                    person=request.user,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    expected_people=form.cleaned_data["expected_people"],
                    is_public=form.cleaned_data["is_public"],
                    partner=next((p for p in partners if p.pk == partner_id), None),
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _(
                        "Je aanvraag voor %(room)s is verstuurd. De bibliotheek laat je weten of "
                        "het kan; je ziet het antwoord hier."
                    )
                    % {"room": booking.room.name},
                )
                return redirect("programming:my_bookings")
    now = clock.now()
    taken = [
        {
            "starts_at": b.starts_at.astimezone(clock.AMSTERDAM),
            "ends_at": b.ends_at.astimezone(clock.AMSTERDAM),
        }
        for b in RoomBooking.objects.filter(
            room=room,
            status=BookingStatus.APPROVED,
            starts_at__lt=now + TAKEN_AHEAD,
            ends_at__gt=now,
        ).order_by("starts_at")
    ]
    return render(
        request,
        "programming/rooms/request.html",
        {"room": room, "form": form, "taken": taken},
        status=status,
    )


@never_cache
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    """The caller's own room requests, newest first, with the library's answer."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    now = clock.now()
    bookings = list(
        RoomBooking.objects.filter(requested_by=request.user, activity__isnull=True)
        .select_related("room__location", "partner")
        .order_by("-starts_at", "-pk")[:200]
    )
    for booking in bookings:
        booking.local_start = booking.starts_at.astimezone(clock.AMSTERDAM)
        booking.local_end = booking.ends_at.astimezone(clock.AMSTERDAM)
        booking.can_cancel = booking.ends_at > now and booking.status in (
            BookingStatus.REQUESTED,
            BookingStatus.APPROVED,
        )
    return render(request, "programming/rooms/mine.html", {"bookings": bookings})


def my_booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    """POST: withdraw one's own request (or cancel an approved booking of one's own)."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    booking = RoomBooking.objects.filter(
        pk=booking_id, requested_by=request.user, activity__isnull=True
    ).first()
    if booking is None:
        raise Http404(_("Deze aanvraag bestaat niet."))
    if booking.ends_at <= clock.now():
        messages.error(request, _("Deze reservering is al voorbij."))
        return redirect("programming:my_bookings")
    try:
        services.room_booking_cancel(booking=booking, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Je aanvraag '%(title)s' is geannuleerd.") % {"title": booking.title}
        )
    return redirect("programming:my_bookings")
