"""Public pages of programming: the programme (national, per organisation, per location) with a
GET filter form, an activity's page with its schema.org JSON-LD, and the iCalendar feeds
(national, organisation, location, audience, one activity, and a person's own feed behind a
secret token). No log-in needed; everything works without JavaScript.

Views parse the request, call ``selectors`` and render; the words for prices, seats and dates
are put together here (``ActivityCard``) so the templates stay simple.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.formats import date_format, number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from bieb.core.errors import DomainError, NotFound
from bieb.network.models import Location, Organisation
from bieb.network.presentation import distance_label
from bieb.programming import ical, selectors
from bieb.programming.models import (
    LIVE_STATUSES,
    Activity,
    ActivityKind,
    Audience,
    Challenge,
    LanguageLevel,
    PriceKind,
    Programme,
    Registration,
    RegistrationStatus,
)

#: public feeds may be cached by clients and proxies this long (seconds)
FEED_MAX_AGE = 15 * 60
PAGE_MAX = selectors.CANDIDATE_CAP // selectors.PAGE_SIZE


# --- words ------------------------------------------------------------------------------------


def euro(cents: int) -> str:
    """``€ 7,50`` (Dutch) for an amount in cents."""
    return "€ " + number_format(cents / 100, decimal_pos=2, use_l10n=True)


def price_label(activity: Activity) -> str:
    if activity.price_kind == PriceKind.FREE:
        return _("Gratis")
    if activity.price_kind == PriceKind.CREDITS:
        label = _("%(credits)s activiteitentegoed") % {"credits": activity.credits}
        if activity.price_cents:
            label = _("%(credits)s, zonder tegoed %(price)s") % {
                "credits": label,
                "price": euro(activity.price_cents),
            }
        return label
    label = euro(activity.price_cents)
    if activity.pay_at_door:
        label = _("%(price)s, betalen aan de deur") % {"price": label}
    return label


def availability_label(activity: Activity) -> str:
    state = selectors.activity_availability(activity)
    if state == selectors.AVAILABILITY_WALK_IN:
        return _("Aanmelden niet nodig, loop binnen")
    if state == selectors.AVAILABILITY_FULL:
        return _("Vol, aanmelden kan voor de wachtlijst")
    if state == selectors.AVAILABILITY_FEW:
        return ngettext(
            "Nog maar %(seats)s plaats vrij",
            "Nog maar %(seats)s plaatsen vrij",
            activity.seats_left,
        ) % {"seats": activity.seats_left}
    return ngettext(
        "Nog %(seats)s plaats vrij", "Nog %(seats)s plaatsen vrij", activity.seats_left
    ) % {"seats": activity.seats_left}


def age_label(activity: Activity) -> str:
    low, high = activity.age_min, activity.age_max
    if low is not None and high is not None:
        return _("%(low)s tot en met %(high)s jaar") % {"low": low, "high": high}
    if low is not None:
        return _("vanaf %(low)s jaar") % {"low": low}
    if high is not None:
        return _("tot en met %(high)s jaar") % {"high": high}
    return ""


@dataclass(frozen=True)
class ActivityCard:
    """One programme entry with its words ready for the template."""

    entry: selectors.ProgrammeEntry
    url: str
    kind_label: str
    price: str
    availability: str
    availability_state: str
    audience: str
    distance: str


def _card(entry: selectors.ProgrammeEntry) -> ActivityCard:
    distance = distance_label(entry.distance_km) if entry.distance_km is not None else ""
    activity = entry.activity
    if activity is None:
        return ActivityCard(
            entry=entry,
            url="",
            kind_label=str(selectors.ROOM_EVENT_LABEL),
            price="",
            availability="",
            availability_state="",
            audience="",
            distance=distance,
        )
    audience = str(Audience(activity.audience).label)
    ages = age_label(activity)
    return ActivityCard(
        entry=entry,
        url=reverse("programming:detail", args=[activity.slug]),
        kind_label=str(ActivityKind(activity.kind).label),
        price=price_label(activity),
        availability=availability_label(activity),
        availability_state=selectors.activity_availability(activity),
        audience=f"{audience}, {ages}" if ages else audience,
        distance=distance,
    )


# --- the filter form --------------------------------------------------------------------------


def _choices(options: list[tuple[str, str]], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *options]


class ProgrammeFilterForm(forms.Form):
    """The programme's GET filters; names match ``selectors.programme`` where they can."""

    q = forms.CharField(label=gettext_lazy("Zoek op woord"), required=False, max_length=100)
    date_from = forms.DateField(
        label=gettext_lazy("Vanaf"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("Tot en met"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    audience = forms.ChoiceField(label=gettext_lazy("Voor wie"), required=False)
    age = forms.IntegerField(
        label=gettext_lazy("Leeftijd"),
        required=False,
        min_value=0,
        max_value=120,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Soort"), required=False)
    theme = forms.ChoiceField(label=gettext_lazy("Thema"), required=False)
    challenge = forms.ChoiceField(label=gettext_lazy("Maatschappelijke opgave"), required=False)
    programme = forms.ChoiceField(label=gettext_lazy("Programma"), required=False)
    price = forms.ChoiceField(label=gettext_lazy("Prijs"), required=False)
    spaces = forms.BooleanField(label=gettext_lazy("Alleen met plaatsen vrij"), required=False)
    near = forms.CharField(
        label=gettext_lazy("In de buurt van (postcode of plaats)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Volgorde"),
        required=False,
        choices=[
            # short enough for a phone: a select does not wrap its text
            ("", gettext_lazy("datum (met postcode: afstand)")),
            (selectors.SORT_DATE, gettext_lazy("datum")),
            (selectors.SORT_DISTANCE, gettext_lazy("afstand")),
        ],
    )

    field_order = ["q", "near", "date_from", "date_to", "audience", "age", "kind", "theme"]

    def __init__(self, *args, options: selectors.FilterOptions, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            widget = bound.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "utrecht-select utrecht-select--html-select"
            elif not isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "utrecht-textbox utrecht-textbox--html-input"
        everyone = _("alle")
        self.fields["audience"].choices = _choices(options.audiences, everyone)
        self.fields["kind"].choices = _choices(options.kinds, everyone)
        self.fields["challenge"].choices = _choices(options.challenges, everyone)
        self.fields["programme"].choices = _choices(options.programmes, everyone)
        self.fields["price"].choices = _choices(options.prices, everyone)
        themes = list(options.themes)
        # a theme in the address that no upcoming activity has still filters (to nothing)
        theme = (self.data.get("theme") or "").strip() if self.is_bound else ""
        if theme and theme not in {value for value, _label in themes}:
            themes.append((theme, theme))
        if themes:
            self.fields["theme"].choices = _choices(themes, everyone)
        else:  # a list with only "alle" is no choice at all: leave the field out
            del self.fields["theme"]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("De einddatum ligt voor de begindatum."))
        return data

    def mark_invalid_fields(self) -> None:
        """Point each invalid input at its error message (``aria-describedby``)."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].id_for_label}-error"

    def filters(self) -> dict:
        """The valid filters as keyword arguments of ``selectors.programme``."""
        return filters_of(getattr(self, "cleaned_data", {}))

    #: shorter words than the field labels, for the line that sums up the active filters
    SHORT_LABELS = {
        "q": gettext_lazy("Woord"),
        "near": gettext_lazy("In de buurt van"),
    }

    def active_labels(self) -> list[str]:
        """The filters in use, in words ("Voor wie: senioren"), in the form's order; a field
        with an error filters nothing and is left out."""
        data = getattr(self, "cleaned_data", {})
        labels = []
        for name, field in self.fields.items():
            value = data.get(name)
            if name == "sort" or name in self.errors or value in (None, "", False):
                continue
            label = self.SHORT_LABELS.get(name, field.label)
            if isinstance(field, forms.BooleanField):
                labels.append(str(label))
                continue
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            elif isinstance(value, dt.date):
                value = date_format(value, "j F Y")
            labels.append(f"{label}: {value}")
        return labels


def filters_of(data: dict) -> dict:
    """Cleaned form data as keyword arguments of ``selectors.programme`` (``{}``: none)."""
    return {
        "query": data.get("q") or "",
        "date_from": data.get("date_from"),
        "date_to": data.get("date_to"),
        "audience": data.get("audience") or "",
        "age": data.get("age"),
        "kind": data.get("kind") or "",
        "theme": data.get("theme") or "",
        "challenge": data.get("challenge") or "",
        "programme": data.get("programme") or "",
        "price": data.get("price") or "",
        "with_spaces": bool(data.get("spaces")),
        "near": data.get("near") or None,
        "sort": data.get("sort") or "",
    }


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


def _site_url(request: HttpRequest) -> str:
    return (getattr(settings, "BIEB_SITE_URL", "") or request.build_absolute_uri("/")).rstrip("/")


def _feed_links(request: HttpRequest, path: str) -> dict[str, str]:
    """The https address of a feed and its ``webcal://`` subscription address."""
    absolute = _site_url(request) + path
    return {"url": absolute, "webcal": "webcal://" + absolute.split("://", 1)[-1]}


def _programme_page(
    request: HttpRequest,
    *,
    organisation: Organisation | None = None,
    location: Location | None = None,
    heading: str,
    feed_path: str,
) -> HttpResponse:
    options = selectors.programme_filter_options(organisation=organisation, location=location)
    form = ProgrammeFilterForm(request.GET or None, options=options)
    if form.is_bound:
        form.is_valid()  # invalid fields show their error; the valid ones still filter
    filters = form.filters()
    number = _page_number(request)
    limit = selectors.PAGE_SIZE
    try:
        result = selectors.programme(
            organisation=organisation,
            location=location,
            limit=limit,
            offset=(number - 1) * limit,
            **filters,
        )
    except DomainError as exc:
        # an unknown place (or a value the form let through): say so at the field, and show
        # the programme without that filter
        field_name = exc.details.get("field", "")
        form_field = {"query": "q", "with_spaces": "spaces"}.get(field_name, field_name)
        form.add_error(form_field if form_field in form.fields else None, exc.message)
        filters = {**filters, field_name: filters_of({}).get(field_name)}
        filters = {key: filters[key] for key in filters_of({})}
        result = selectors.programme(
            organisation=organisation,
            location=location,
            limit=limit,
            offset=(number - 1) * limit,
            **filters,
        )
    form.mark_invalid_fields()
    pages = max(1, -(-result.total // limit))
    active = any(value not in (None, "", False) for key, value in filters.items() if key != "sort")
    without_near = request.GET.copy()
    for key in ("near", "page"):
        without_near.pop(key, None)
    return render(
        request,
        "programming/public/programme.html",
        {
            "heading": heading,
            "organisation": organisation,
            "location": location,
            "form": form,
            "filters_active": active or bool(form.errors),
            # on a phone the open panel pushes the results far down: open it only to show
            # what to correct; after filtering, a line says what is filtered
            "filters_open": bool(form.errors),
            "active_filters": form.active_labels(),
            "radius_km": number_format(selectors.NEAR_RADIUS_KM, decimal_pos=0),
            "without_near_url": (
                f"{request.path}?{without_near.urlencode()}" if without_near else request.path
            ),
            "result": result,
            "cards": [_card(entry) for entry in result.entries],
            "page": {"number": number, "pages": pages},
            "previous_url": _page_url(request, number - 1) if number > 1 else "",
            "next_url": _page_url(request, number + 1) if result.has_next else "",
            "first_url": _page_url(request, 1),
            "clear_url": request.path,
            "feed": _feed_links(request, feed_path),
        },
    )


# --- programme pages --------------------------------------------------------------------------


@require_safe
def programme_page(request: HttpRequest) -> HttpResponse:
    return _programme_page(
        request,
        heading=_("Activiteiten in de bibliotheek"),
        feed_path=reverse("programming:feed_national"),
    )


def _organisation(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404(_("Deze bibliotheekorganisatie bestaat niet."))
    return organisation


def _location(slug: str) -> Location:
    location = (
        Location.objects.filter(slug=slug, is_active=True).select_related("organisation").first()
    )
    if location is None:
        raise Http404(_("Deze locatie bestaat niet (meer)."))
    return location


@require_safe
def organisation_programme(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(slug)
    return _programme_page(
        request,
        organisation=organisation,
        heading=_("Activiteiten van %(name)s") % {"name": organisation.name},
        feed_path=reverse("programming:feed_organisation", args=[organisation.slug]),
    )


@require_safe
def location_programme(request: HttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    return _programme_page(
        request,
        location=location,
        heading=_("Activiteiten in %(name)s") % {"name": location.name},
        feed_path=reverse("programming:feed_location", args=[location.slug]),
    )


# --- one activity -----------------------------------------------------------------------------


def register_url(slug: str) -> str:
    """The registration page of an activity."""
    return reverse("programming:register", args=[slug])


@require_safe
def activity_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        detail = selectors.activity_detail(slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    activity = detail.activity
    site = _site_url(request)
    url = site + reverse("programming:detail", args=[activity.slug])
    mine = (
        Registration.objects.filter(
            activity=activity, person_id=request.user.pk, status__in=LIVE_STATUSES
        )
        .only("token", "status")
        .first()
        if request.user.is_authenticated
        else None
    )
    organisation_url = site + reverse("network:organisation", args=[activity.organisation.slug])
    return render(
        request,
        "programming/public/detail.html",
        {
            "detail": detail,
            "activity": activity,
            "location": activity.location,
            "kind_label": ActivityKind(activity.kind).label,
            "audience_label": Audience(activity.audience).label,
            "age": age_label(activity),
            "challenge_label": Challenge(activity.challenge).label,
            "programme_label": Programme(activity.programme).label if activity.programme else "",
            "language_level": LanguageLevel(activity.language_level).label
            if activity.language_level
            else "",
            "price": price_label(activity),
            "availability": availability_label(activity),
            "register_url": register_url(activity.slug) if detail.registration_open else "",
            "my_registration": mine,
            # json_for_script escapes <, > and & so the JSON cannot leave its script element
            "json_ld": mark_safe(  # noqa: S308
                selectors.activity_json_ld(
                    activity, url, organisation_url=organisation_url, partners=detail.partners
                )
            ),
            "activity_ics": reverse("programming:activity_ics", args=[activity.slug]),
            "feeds": [
                (
                    _("Alle activiteiten van %(name)s") % {"name": activity.organisation.name},
                    _feed_links(
                        request,
                        reverse("programming:feed_organisation", args=[activity.organisation.slug]),
                    ),
                ),
                (
                    _("Alle activiteiten in %(name)s") % {"name": activity.location.name},
                    _feed_links(
                        request,
                        reverse("programming:feed_location", args=[activity.location.slug]),
                    ),
                ),
            ],
        },
    )


# --- iCalendar feeds --------------------------------------------------------------------------


def _ics_response(
    request: HttpRequest, body: bytes, *, filename: str, public: bool = True
) -> HttpResponse:
    response = HttpResponse(body, content_type=ical.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    if public:
        patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
        etag = '"' + _digest(body) + '"'
        response["ETag"] = etag
        conditional = get_conditional_response(request, etag=etag, response=response)
        return conditional
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _digest(body: bytes) -> str:
    # DTSTAMP changes every second; leave it out so an unchanged feed keeps its ETag
    lines = b"\n".join(line for line in body.splitlines() if not line.startswith(b"DTSTAMP:"))
    return hashlib.sha256(lines).hexdigest()[:32]


def _calendar(
    request: HttpRequest,
    *,
    name: str,
    activities,
    bookings=(),
    tentative=(),
    description: str = "",
    private: bool = False,
) -> bytes:
    site = _site_url(request)

    def url_for(activity: Activity) -> str:
        return site + reverse("programming:detail", args=[activity.slug])

    def booking_url_for(booking) -> str:
        return site + reverse("programming:location_programme", args=[booking.room.location.slug])

    if private:  # a personal feed: small, and never shared through the cache
        return ical.build_calendar(
            name=name,
            activities=activities,
            url_for=url_for,
            bookings=bookings,
            booking_url_for=booking_url_for,
            tentative=tentative,
            description=description,
        )
    return ical.build_calendar_cached(
        name=name,
        activities=activities,
        url_for=url_for,
        bookings=bookings,
        booking_url_for=booking_url_for,
        description=description,
        site=site,
    )


@require_safe
def feed_national(request: HttpRequest) -> HttpResponse:
    body = _calendar(
        request,
        name=_("Activiteiten van de Bibliotheek"),
        description=_("Alle activiteiten van de bibliotheken in Nederland."),
        activities=selectors.feed_activities(),
        bookings=selectors.feed_bookings(),
    )
    return _ics_response(request, body, filename="activiteiten.ics")


@require_safe
def feed_organisation(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(slug)
    body = _calendar(
        request,
        name=_("Activiteiten van %(name)s") % {"name": organisation.name},
        activities=selectors.feed_activities(organisation=organisation),
        bookings=selectors.feed_bookings(organisation=organisation),
    )
    return _ics_response(request, body, filename=f"{organisation.slug}.ics")


@require_safe
def feed_location(request: HttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    body = _calendar(
        request,
        name=_("Activiteiten in %(name)s") % {"name": location.name},
        activities=selectors.feed_activities(location=location),
        bookings=selectors.feed_bookings(location=location),
    )
    return _ics_response(request, body, filename=f"{location.slug}.ics")


@require_safe
def feed_audience(request: HttpRequest, audience: str) -> HttpResponse:
    if audience not in Audience.values:
        raise Http404(_("Deze doelgroep bestaat niet."))
    body = _calendar(
        request,
        name=_("Activiteiten voor %(audience)s") % {"audience": Audience(audience).label},
        activities=selectors.feed_activities(audience=audience),
    )
    return _ics_response(request, body, filename=f"activiteiten-{audience}.ics")


@require_safe
def activity_ics(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        activity = selectors.activity_public(slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    body = _calendar(request, name=activity.title, activities=[activity])
    return _ics_response(request, body, filename=f"{activity.slug}.ics")


@never_cache
@require_safe
def feed_personal(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registrations = selectors.personal_feed(token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    activities = {}
    tentative = set()
    for registration in registrations:
        activities[registration.activity_id] = registration.activity
        if registration.status in (RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED):
            tentative.add(registration.activity_id)
    body = _calendar(
        request,
        name=_("Mijn activiteiten in de bibliotheek"),
        activities=activities.values(),
        tentative=tentative,
        private=True,
    )
    return _ics_response(request, body, filename="mijn-activiteiten.ics", public=False)


__all__ = [
    "activity_ics",
    "activity_page",
    "feed_audience",
    "feed_location",
    "feed_national",
    "feed_organisation",
    "feed_personal",
    "location_programme",
    "organisation_programme",
    "programme_page",
]
