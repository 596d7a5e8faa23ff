"""Screens of the library of things (``community.things`` decides; these views parse, call
one service and render).

Everyone:
- ``/dingen``: the libraries' things (catalogue items of format "thing", not withdrawn),
  grouped by organisation and location, with GET filters: location, municipality and "free
  on" a day;
- ``/dingen/<item>``: one thing: the catalogue's photo and description, how it is lent
  (instructions, deposit, most days, days kept free between loans), a month calendar as a
  table (every day says in words whether it is free, booked or being checked: colour is
  never the only sign), previous and next month, and for a signed-in resident a booking form
  (POST books; a refusal such as ``thing_taken`` or ``no_subscription`` is shown at the form).

Residents (signed in): ``/mijn/dingen`` (their bookings) and ``/mijn/dingen/<booking>/annuleren``
(POST; staff of the thing's library use it too, with a reason the resident is mailed).

Staff (``things.THING_STAFF`` of the thing's organisation; network administrators
everywhere; without the role 403, another organisation's thing 404):
``/medewerkers/dingen`` (the things with today's pick-ups and returns),
``/medewerkers/dingen/<item>`` (settings, calendar, bookings with lend / take back / cancel),
and the POSTs lend, take back, repair and repaired.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from bieb.accounts.access import staff_required
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.community import forms_things as forms
from bieb.community import things
from bieb.community.models import ThingBooking, ThingBookingStatus, ThingSettings
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.core.money import format_eur
from bieb.network.models import Location, Municipality, Organisation

THING_STAFF = things.THING_STAFF
PAGE_SIZE = 60
PAGE_MAX = 200
HISTORY_SHOWN = 10
MINE_PAST_SHOWN = 20
#: refusals of a booking that the resident solves in "Mijn abonnement"
SUBSCRIPTION_CODES = {"no_subscription", "subscription_switched_off", "plan_excludes_things"}


def _signed_in(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.user.is_active)


def _not_found() -> Http404:
    return Http404(_("Dit ding bestaat niet (meer)."))


def _things() -> QuerySet[Item]:
    """The things of every library that may be shown (not withdrawn)."""
    return Item.objects.filter(edition__format=Format.THING).exclude(status=ItemStatus.WITHDRAWN)


def _thing_or_404(item_id: int) -> Item:
    item = (
        _things()
        .select_related("edition", "organisation", "home_location", "home_location__municipality")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise _not_found()
    return item


def _deposit(cents: int) -> str:
    return format_eur(cents) if cents else ""


def _days(booking: ThingBooking) -> str:
    first, last = booking.first_day, booking.last_day
    if first == last:
        return date_format(first, "l j F Y")
    return _("%(first)s tot en met %(last)s") % {
        "first": date_format(first, "l j F"),
        "last": date_format(last, "l j F Y"),
    }


# --- the calendar ------------------------------------------------------------------------------


def _state_words() -> dict[str, str]:
    return {
        "past": _("voorbij"),
        "free": _("vrij"),
        "booked": _("gereserveerd"),
        "buffer": _("wordt nagekeken"),
        "unavailable": _("niet te leen"),
    }


def _weekdays() -> list[tuple[str, str]]:
    return [
        (_("ma"), _("maandag")),
        (_("di"), _("dinsdag")),
        (_("wo"), _("woensdag")),
        (_("do"), _("donderdag")),
        (_("vr"), _("vrijdag")),
        (_("za"), _("zaterdag")),
        (_("zo"), _("zondag")),
    ]


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today + dt.timedelta(days=things.BOOK_AHEAD_DAYS)
    return today.replace(day=1), last.replace(day=1)


def _month(request: HttpRequest, today: dt.date) -> dt.date:
    """The month asked for (``?maand=2025-04``), kept within this month and the last one
    that can be booked."""
    first, last = _month_bounds(today)
    try:
        year, month = (int(part) for part in request.GET.get("maand", "").split("-"))
        wanted = dt.date(year, month, 1)
    except ValueError:
        return first
    return min(max(wanted, first), last)


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_url(path: str, month: dt.date) -> str:
    return f"{path}?{urlencode({'maand': month.strftime('%Y-%m')})}#kalender"


def _calendar(item: Item, month: dt.date, *, today: dt.date, path: str, pick: bool) -> dict:
    """The month as weeks of cells for a table. With ``pick`` a free day links to the booking
    form with that day filled in."""
    found = things.availability(item, month)
    first, last = _month_bounds(today)
    words = _state_words()
    weeks = []
    for week in found.weeks:
        cells = []
        for day in week:
            if day is None:
                cells.append(None)
                continue
            pick_url = ""
            if pick and day.free:
                query = urlencode({"maand": month.strftime("%Y-%m"), "van": day.day.isoformat()})
                pick_url = f"{path}?{query}#reserveren"
            cells.append(
                {
                    "day": day.day,
                    "state": day.state,
                    "word": words[day.state],
                    "today": day.day == today,
                    "pick_url": pick_url,
                }
            )
        weeks.append(cells)
    return {
        "title": date_format(month, "F Y"),
        "weeks": weeks,
        "weekdays": _weekdays(),
        "words": words,
        "out_of_service": found.out_of_service,
        "previous_url": _month_url(path, _shift(month, -1)) if month > first else "",
        "next_url": _month_url(path, _shift(month, 1)) if month < last else "",
        "previous_label": date_format(_shift(month, -1), "F Y"),
        "next_label": date_format(_shift(month, 1), "F Y"),
    }


# --- the catalogue of things -------------------------------------------------------------------


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


def _filter_form(request: HttpRequest, base: QuerySet[Item]) -> forms.ThingsFilterForm:
    locations = Location.objects.filter(pk__in=base.values("home_location")).order_by("name", "pk")
    municipalities = Municipality.objects.filter(
        pk__in=base.values("home_location__municipality")
    ).order_by("name")
    form = forms.ThingsFilterForm(
        request.GET or None,
        locations=[(str(loc.pk), f"{loc.name}, {loc.city}") for loc in locations],
        municipalities=[(m.cbs_code, m.name) for m in municipalities],
    )
    if form.is_bound:
        form.is_valid()  # an invalid field shows its error; the valid ones still filter
    return form


def _free_on(form: forms.ThingsFilterForm, today: dt.date) -> dt.date | None:
    day = getattr(form, "cleaned_data", {}).get("vrij_op")
    if day is None:
        return None
    if day < today:
        form.add_error("vrij_op", _("Kies een dag vanaf vandaag."))
        return None
    if day > today + dt.timedelta(days=things.BOOK_AHEAD_DAYS):
        form.add_error(
            "vrij_op",
            _("Reserveren kan tot %(n)s dagen vooruit.") % {"n": things.BOOK_AHEAD_DAYS},
        )
        return None
    return day


def _taken_on(day: dt.date) -> QuerySet[ThingBooking]:
    """Live bookings that block ``day`` (their buffer days included)."""
    return ThingBooking.objects.filter(
        status__in=things.LIVE, first_day__lte=day, blocked_until__gte=day
    )


def _grouped(items: list[Item], today: dt.date) -> list[dict]:
    """Things by organisation, then location, each with its settings and today's state: three
    queries whatever the page size (the items, their settings, today's bookings)."""
    ids = [item.pk for item in items]
    settings = {s.item_id: s for s in ThingSettings.objects.filter(item_id__in=ids)}
    busy = set(_taken_on(today).filter(item_id__in=ids).values_list("item_id", flat=True))
    groups: list[dict] = []
    for item in items:
        if not groups or groups[-1]["organisation"].pk != item.organisation_id:
            groups.append({"organisation": item.organisation, "locations": []})
        places = groups[-1]["locations"]
        if not places or places[-1]["location"].pk != item.home_location_id:
            places.append({"location": item.home_location, "things": []})
        setting = settings.get(item.pk) or ThingSettings(item=item)
        if item.status in things.OUT_OF_SERVICE:
            state, word = (
                "unavailable",
                _("nu niet te leen (%(status)s)") % {"status": ItemStatus(item.status).label},
            )
        elif item.pk in busy:
            state, word = "booked", _("vandaag bezet")
        else:
            state, word = "free", _("vandaag vrij")
        places[-1]["things"].append(
            {
                "item": item,
                "url": reverse("community:thing", args=[item.pk]),
                "deposit": _deposit(setting.deposit_cents),
                "max_days": setting.max_days,
                "state": state,
                "word": word,
            }
        )
    return groups


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    base = _things()
    form = _filter_form(request, base)
    data = getattr(form, "cleaned_data", {})
    found = base
    if data.get("locatie"):
        found = found.filter(home_location_id=int(data["locatie"]))
    if data.get("gemeente"):
        found = found.filter(home_location__municipality__cbs_code=data["gemeente"])
    if data.get("zoek"):
        words = data["zoek"].split()
        for word in words[:5]:
            found = found.filter(
                Q(edition__title__icontains=word) | Q(edition__subtitle__icontains=word)
            )
    free_on = _free_on(form, today)
    if free_on is not None:
        found = found.exclude(status__in=things.OUT_OF_SERVICE).exclude(
            pk__in=_taken_on(free_on).values("item_id")
        )
    total = found.count()
    number = _page_number(request)
    offset = (number - 1) * PAGE_SIZE
    items = list(
        found.select_related("edition", "organisation", "home_location").order_by(
            "organisation__name",
            "organisation_id",
            "home_location__name",
            "home_location_id",
            "edition__title",
            "pk",
        )[offset : offset + PAGE_SIZE]
    )
    return render(
        request,
        "community/things/catalogue.html",
        {
            "form": form,
            "filtered": bool(
                data.get("zoek") or data.get("locatie") or data.get("gemeente") or free_on
            ),
            "free_on": free_on,
            "groups": _grouped(items, today),
            "total": total,
            "page": {"number": number, "pages": max(1, -(-total // PAGE_SIZE))},
            "previous_url": _page_url(request, number - 1) if number > 1 else "",
            "next_url": _page_url(request, number + 1) if offset + PAGE_SIZE < total else "",
        },
    )


# --- one thing ---------------------------------------------------------------------------------


def _initial_days(request: HttpRequest, today: dt.date) -> dict[str, dt.date]:
    """A day picked in the calendar (``?van=``) fills in both days of the form."""
    try:
        day = dt.date.fromisoformat(request.GET.get("van", ""))
    except ValueError:
        return {}
    if day < today:
        return {}
    return {"first_day": day, "last_day": day}


def _thing_page(
    request: HttpRequest,
    item: Item,
    *,
    form: forms.BookingForm | None = None,
    refusal: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    today = clock.today()
    signed_in = _signed_in(request)
    month = _month(request, today)
    chosen = getattr(form, "cleaned_data", {}).get("first_day") if form is not None else None
    if chosen is not None:
        # after a refused booking the calendar shows the month of the days asked for
        first, last = _month_bounds(today)
        month = min(max(chosen.replace(day=1), first), last)
    calendar = _calendar(item, month, today=today, path=request.path, pick=signed_in)
    if signed_in and refusal is None and item.status not in things.OUT_OF_SERVICE:
        # say before the days are filled in that the plan does not allow it (the service
        # refuses the booking the same way)
        try:
            things.things_allowed(request.user)
        except DomainError as exc:
            refusal = exc
    settings = things.settings_of(item)
    mine = []
    if signed_in:
        mine = list(
            ThingBooking.objects.filter(item=item, person=request.user)
            .filter(
                Q(status=ThingBookingStatus.LENT)
                | Q(status=ThingBookingStatus.BOOKED, last_day__gte=today)
            )
            .order_by("first_day", "pk")
        )
    return render(
        request,
        "community/things/thing.html",
        {
            "item": item,
            "edition": item.edition,
            "location": item.home_location,
            "settings": settings,
            "deposit": _deposit(settings.deposit_cents),
            "calendar": calendar,
            "out_of_service": item.status in things.OUT_OF_SERVICE,
            "status_label": ItemStatus(item.status).label,
            "signed_in": signed_in,
            "form": form or forms.BookingForm(initial=_initial_days(request, today)),
            "refusal": refusal,
            "subscription_refusal": refusal is not None and refusal.code in SUBSCRIPTION_CODES,
            "form_action": f"{request.path}?{urlencode({'maand': month.strftime('%Y-%m')})}"
            "#reserveren",
            "mine": [{"booking": b, "days": _days(b)} for b in mine],
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
            "book_ahead": things.BOOK_AHEAD_DAYS,
        },
        status=status,
    )


@never_cache
def thing(request: HttpRequest, item_id: int) -> HttpResponse:
    """GET: the thing and its calendar; POST: book it (``things.thing_book``)."""
    item = _thing_or_404(item_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if request.method != "POST":
        return _thing_page(request, item)
    if not _signed_in(request):
        return redirect_to_login(request.path)
    form = forms.BookingForm(request.POST)
    if not form.is_valid():
        return _thing_page(request, item, form=form, status=400)
    try:
        booking = things.thing_book(
            person=request.user,
            item=item,
            first_day=form.cleaned_data["first_day"],
            last_day=form.cleaned_data["last_day"],
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        form.add_domain_error(exc)
        return _thing_page(request, item, form=form, refusal=exc, status=exc.status)
    messages.success(
        request,
        _("Gereserveerd: %(title)s, %(days)s. Je krijgt een e-mail met de details.")
        % {"title": item.edition.title, "days": _days(booking)},
    )
    return redirect("community:things_mine")


# --- mine --------------------------------------------------------------------------------------


def _mine_status(booking: ThingBooking, today: dt.date) -> str:
    if booking.status == ThingBookingStatus.BOOKED and booking.last_day < today:
        return _("niet opgehaald")
    return str(ThingBookingStatus(booking.status).label)


@never_cache
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path())
    today = clock.today()
    bookings = ThingBooking.objects.filter(person=request.user).select_related(
        "item__edition", "item__home_location"
    )
    live = Q(status=ThingBookingStatus.LENT) | Q(
        status=ThingBookingStatus.BOOKED, last_day__gte=today
    )
    current = list(bookings.filter(live).order_by("first_day", "pk"))
    past = list(bookings.exclude(live).order_by("-first_day", "-pk")[:MINE_PAST_SHOWN])

    def row(booking: ThingBooking) -> dict[str, Any]:
        return {
            "booking": booking,
            "title": booking.item.edition.title,
            "url": reverse("community:thing", args=[booking.item_id]),
            "location": booking.item.home_location,
            "days": _days(booking),
            "status": _mine_status(booking, today),
            "deposit": _deposit(booking.deposit_cents),
            "cancellable": booking.status == ThingBookingStatus.BOOKED,
            "late": booking.status == ThingBookingStatus.LENT and booking.last_day < today,
        }

    return render(
        request,
        "community/things/mine.html",
        {"current": [row(b) for b in current], "past": [row(b) for b in past]},
    )


@never_cache
def cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    """POST: cancel a booking not lent yet (``things.thing_cancel``): one's own, or as staff
    of the thing's library (with a reason the resident is mailed)."""
    if not _signed_in(request):
        return redirect_to_login(reverse("community:things_mine"))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    booking = ThingBooking.objects.select_related("item__edition").filter(pk=booking_id).first()
    if booking is None:
        raise _not_found()
    by_person = booking.person_id == request.user.pk
    form = forms.CancelForm(request.POST, prefix=None if by_person else f"cancel-{booking.pk}")
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        things.thing_cancel(booking=booking, actor=request.user, reason=reason)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("De reservering van %(title)s (%(days)s) is geannuleerd.")
            % {"title": booking.item.edition.title, "days": _days(booking)},
        )
    if by_person:
        return redirect("community:things_mine")
    return redirect("community:staff_thing", item_id=booking.item_id)


# --- staff -------------------------------------------------------------------------------------


def _person_label(person: Any) -> str:
    """Who picks up: the name and the last four digits of the card, to check at the desk."""
    if person is None:
        return "—"
    card = person.card_number or ""
    name = person.full_name or person.email
    return _("%(name)s (pas …%(card)s)") % {"name": name, "card": card[-4:]} if card else name


def _staff_item(request: HttpRequest, item_id: int) -> Item:
    """A thing of one of the caller's organisations; 404 otherwise (so nothing leaks)."""
    item = (
        Item.objects.select_related("edition", "organisation", "home_location")
        .filter(pk=item_id, edition__format=Format.THING)
        .first()
    )
    if item is None or item.organisation_id not in set(request.staff_organisation_ids):
        raise _not_found()
    return item


def _staff_booking(request: HttpRequest, booking_id: int) -> ThingBooking:
    booking = (
        ThingBooking.objects.select_related(
            "person", "item__edition", "item__organisation", "item__home_location"
        )
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or booking.item.organisation_id not in set(request.staff_organisation_ids):
        raise _not_found()
    return booking


def _locations(item: Item) -> list[Location]:
    """Where the desk can lend or take in the thing: the active locations of its library
    (its home first)."""
    found = list(
        Location.objects.filter(organisation_id=item.organisation_id)
        .filter(Q(is_active=True) | Q(pk=item.home_location_id))
        .order_by("name", "pk")
    )
    found.sort(key=lambda location: location.pk != item.home_location_id)
    return found


def _booking_row(
    booking: ThingBooking,
    item: Item,
    locations: list[Location],
    today: dt.date,
    bound: dict[str, Any],
) -> dict[str, Any]:
    lend = back = cancel_form = None
    initial = {"location": item.home_location_id}
    if booking.status == ThingBookingStatus.BOOKED:
        name = f"lend-{booking.pk}"
        lend = bound.get(name) or forms.LendForm(
            prefix=name,
            locations=locations,
            deposit=bool(booking.deposit_cents),
            initial=initial,
        )
        name = f"cancel-{booking.pk}"
        cancel_form = bound.get(name) or forms.CancelForm(prefix=name)
    elif booking.status == ThingBookingStatus.LENT:
        name = f"return-{booking.pk}"
        back = bound.get(name) or forms.ReturnForm(
            prefix=name, locations=locations, initial=initial
        )
    return {
        "booking": booking,
        "person": _person_label(booking.person),
        "days": _days(booking),
        "deposit": _deposit(booking.deposit_cents),
        "status": _mine_status(booking, today),
        # the form is shown in the booking's days, and with the refusal of a try outside them
        "may_lend": lend is not None
        and (booking.first_day <= today <= booking.last_day or lend.is_bound),
        "lend": lend,
        "return": back,
        "cancel": cancel_form,
        "late": booking.status == ThingBookingStatus.LENT and booking.last_day < today,
    }


def _staff_thing_page(
    request: HttpRequest,
    item: Item,
    *,
    settings_form: forms.ThingSettingsForm | None = None,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    today = clock.today()
    bound = bound or {}
    settings = things.settings_of(item)
    locations = _locations(item)
    live = Q(status=ThingBookingStatus.LENT) | Q(
        status=ThingBookingStatus.BOOKED, last_day__gte=today
    )
    bookings = ThingBooking.objects.filter(item=item).select_related("person")
    active = list(bookings.filter(live).order_by("first_day", "pk"))
    history = list(bookings.exclude(live).order_by("-first_day", "-pk")[:HISTORY_SHOWN])
    return render(
        request,
        "community/things/staff_thing.html",
        {
            "item": item,
            "edition": item.edition,
            "status_label": ItemStatus(item.status).label,
            "settings_form": settings_form or forms.ThingSettingsForm.for_settings(settings),
            "calendar": _calendar(
                item, _month(request, today), today=today, path=request.path, pick=False
            ),
            "active": [_booking_row(b, item, locations, today, bound) for b in active],
            "history": [
                {
                    "booking": b,
                    "person": _person_label(b.person),
                    "days": _days(b),
                    "status": _mine_status(b, today),
                }
                for b in history
            ],
            "repair_form": bound.get("repair") or forms.RepairForm(prefix="repair")
            if item.status == ItemStatus.AVAILABLE
            else None,
            "in_repair": item.status == ItemStatus.REPAIR,
            "has_errors": any(getattr(f, "errors", None) for f in bound.values())
            or bool(settings_form is not None and settings_form.errors),
        },
        status=status,
    )


@never_cache
@staff_required(*THING_STAFF)
@require_safe
def staff_things(request: HttpRequest) -> HttpResponse:
    """The things of one of the caller's organisations (``?organisatie=``) with what is to be
    picked up and brought back today."""
    today = clock.today()
    mine = set(request.staff_organisation_ids)
    with_things = _things().filter(organisation_id__in=mine).values("organisation_id")
    organisations = list(Organisation.objects.filter(pk__in=with_things).order_by("name", "pk"))
    try:
        wanted = int(request.GET.get("organisatie", "0"))
    except ValueError:
        wanted = 0
    organisation = next(
        (o for o in organisations if o.pk == wanted), organisations[0] if organisations else None
    )
    items: list[Item] = []
    pickups: list[ThingBooking] = []
    returns: list[ThingBooking] = []
    if organisation is not None:
        items = list(
            _things()
            .filter(organisation=organisation)
            .select_related("edition", "home_location")
            .order_by("home_location__name", "edition__title", "pk")
        )
        ours = ThingBooking.objects.filter(item__organisation=organisation).select_related(
            "person", "item__edition"
        )
        pickups = list(
            ours.filter(
                status=ThingBookingStatus.BOOKED, first_day__lte=today, last_day__gte=today
            ).order_by("first_day", "pk")
        )
        returns = list(
            ours.filter(status=ThingBookingStatus.LENT, last_day__lte=today).order_by(
                "last_day", "pk"
            )
        )

    def row(booking: ThingBooking) -> dict[str, Any]:
        return {
            "booking": booking,
            "title": booking.item.edition.title,
            "url": reverse("community:staff_thing", args=[booking.item_id])
            + f"#booking-{booking.pk}",
            "person": _person_label(booking.person),
            "days": _days(booking),
            "deposit": _deposit(booking.deposit_cents),
            "late": booking.last_day < today,
        }

    return render(
        request,
        "community/things/staff_things.html",
        {
            "organisations": organisations,
            "organisation": organisation,
            "things": [
                {
                    "item": item,
                    "url": reverse("community:staff_thing", args=[item.pk]),
                    "status": ItemStatus(item.status).label,
                }
                for item in items
            ],
            "pickups": [row(b) for b in pickups],
            "returns": [row(b) for b in returns],
            "today": today,
        },
    )


@never_cache
@staff_required(*THING_STAFF)
def staff_thing(request: HttpRequest, item_id: int) -> HttpResponse:
    """GET: the thing's settings, calendar and bookings; POST: its settings."""
    item = _staff_item(request, item_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if request.method != "POST":
        return _staff_thing_page(request, item)
    form = forms.ThingSettingsForm(request.POST)
    if not form.is_valid():
        return _staff_thing_page(request, item, settings_form=form, status=400)
    try:
        things.thing_settings_set(
            actor=request.user,
            item=item,
            buffer_days=form.cleaned_data["buffer_days"],
            deposit_cents=form.cleaned_data["deposit"],
            max_days=form.cleaned_data["max_days"],
            instructions=form.cleaned_data.get("instructions") or "",
        )
    except NotFound:
        raise
    except DomainError as exc:
        form.add_domain_error(exc)
        return _staff_thing_page(request, item, settings_form=form, status=exc.status)
    messages.success(request, _("De instellingen zijn opgeslagen."))
    return redirect("community:staff_thing", item_id=item.pk)


def _refused(request, item, name: str, form, exc: DomainError) -> HttpResponse:
    """A refusal of the desk action ``name`` shown at its form. ``NotFound`` is a 404; a
    refusal about the resident (their plan, their card) is shown, not turned into a 403."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    form.add_domain_error(exc)
    return _staff_thing_page(request, item, bound={name: form}, status=exc.status)


@never_cache
@staff_required(*THING_STAFF)
@require_POST
def lend(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _staff_booking(request, booking_id)
    item = booking.item
    name = f"lend-{booking.pk}"
    form = forms.LendForm(
        request.POST,
        prefix=name,
        locations=_locations(item),
        deposit=bool(booking.deposit_cents),
    )
    if not form.is_valid():
        return _staff_thing_page(request, item, bound={name: form}, status=400)
    try:
        lent = things.thing_lend(
            booking=booking,
            actor=request.user,
            location=form.cleaned_data["location"],
            condition_out=form.cleaned_data.get("condition_out") or "",
            deposit_received=bool(form.cleaned_data.get("deposit_received")),
        )
    except DomainError as exc:
        return _refused(request, item, name, form, exc)
    messages.success(
        request,
        _("Uitgeleend aan %(person)s. Terugbrengen uiterlijk %(day)s.")
        % {"person": _person_label(lent.person), "day": date_format(lent.last_day, "l j F")},
    )
    return redirect("community:staff_thing", item_id=item.pk)


@never_cache
@staff_required(*THING_STAFF)
@require_POST
def take_back(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _staff_booking(request, booking_id)
    item = booking.item
    name = f"return-{booking.pk}"
    form = forms.ReturnForm(request.POST, prefix=name, locations=_locations(item))
    if not form.is_valid():
        return _staff_thing_page(request, item, bound={name: form}, status=400)
    needs_repair = bool(form.cleaned_data.get("needs_repair"))
    try:
        things.thing_return(
            booking=booking,
            actor=request.user,
            location=form.cleaned_data["location"],
            condition_back=form.cleaned_data.get("condition_back") or "",
            needs_repair=needs_repair,
        )
    except DomainError as exc:
        return _refused(request, item, name, form, exc)
    messages.success(
        request,
        _("Teruggebracht en naar reparatie. Latere reserveringen zijn geannuleerd.")
        if needs_repair
        else (
            _("Teruggebracht. Geef de borg van %(amount)s terug.")
            % {"amount": format_eur(booking.deposit_cents)}
            if booking.deposit_cents
            else _("Teruggebracht.")
        ),
    )
    return redirect("community:staff_thing", item_id=item.pk)


@never_cache
@staff_required(*THING_STAFF)
@require_POST
def repair(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _staff_item(request, item_id)
    form = forms.RepairForm(request.POST, prefix="repair")
    if not form.is_valid():
        return _staff_thing_page(request, item, bound={"repair": form}, status=400)
    try:
        cancelled = things.thing_repair(
            item=item, actor=request.user, note=form.cleaned_data.get("note") or ""
        )
    except DomainError as exc:
        return _refused(request, item, "repair", form, exc)
    messages.success(
        request,
        ngettext(
            "In reparatie. %(n)s reservering is geannuleerd; de bewoner krijgt een e-mail.",
            "In reparatie. %(n)s reserveringen zijn geannuleerd; de bewoners krijgen een e-mail.",
            len(cancelled),
        )
        % {"n": len(cancelled)}
        if cancelled
        else _("In reparatie. Er waren geen reserveringen om te annuleren."),
    )
    return redirect("community:staff_thing", item_id=item.pk)


@never_cache
@staff_required(*THING_STAFF)
@require_POST
def repaired(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _staff_item(request, item_id)
    try:
        things.thing_repaired(item=item, actor=request.user)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Gerepareerd: het ding is weer te leen."))
    return redirect("community:staff_thing", item_id=item.pk)
