"""Staff screens of programming (``/medewerkers/activiteiten``, ``/medewerkers/zalen``,
``/medewerkers/partners``): programmers make, publish, duplicate and cancel activities and see
who registered and who came; at the door a desk or programmer checks people in by scanning their
QR code (a scanner types the link and presses Enter) or from the list; staff approve or reject
room requests and add rooms and partners.

Access (``bieb.accounts.access``, fail closed): programmers and managers of the activity's (or
room's) organisation; the door also to desk staff of that organisation; network administrators
everywhere. Another organisation's activity, registration, room or booking answers 404, a
caller without the role 403, an anonymous caller is sent to log in.

Every change goes through a service with ``actor`` the staff member (who audits it); the
buttons are plain forms (POST-redirect-GET) and need no JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts.access import Role, organisations_with_role, staff_required
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.money import format_eur
from bieb.network.models import Location, Organisation
from bieb.programming import forms_staff as forms
from bieb.programming import recurrence, services
from bieb.programming.models import (
    LIVE_STATUSES,
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    BookingStatus,
    Partner,
    PriceKind,
    Registration,
    RegistrationStatus,
    Room,
    RoomBooking,
)

#: who makes activities, decides on rooms and adds partners
PROGRAMMING_ROLES = (Role.PROGRAMMER, Role.MANAGER)
#: who may check people in at the door
DOOR_ROLES = (Role.PROGRAMMER, Role.MANAGER, Role.DESK)
PER_PAGE = 50
#: the registrations table lists live ones first
_STATUS_ORDER = {
    RegistrationStatus.CONFIRMED: 0,
    RegistrationStatus.OFFERED: 1,
    RegistrationStatus.WAITLISTED: 2,
    RegistrationStatus.UNCONFIRMED: 3,
    RegistrationStatus.CANCELLED: 4,
    RegistrationStatus.EXPIRED: 5,
}


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(clock.AMSTERDAM)


def _when(moment: dt.datetime) -> str:
    return date_format(_local(moment), "l j F Y, H:i")


def _own_activity(request: HttpRequest, activity_id: int) -> Activity:
    """The activity, if it belongs to an organisation where the caller holds the view's
    roles (``request.staff_organisation_ids``); 404 otherwise."""
    activity = (
        Activity.objects.select_related("organisation", "location", "room")
        .filter(pk=activity_id, organisation_id__in=request.staff_organisation_ids)
        .first()
    )
    if activity is None:
        raise Http404(_("Deze activiteit bestaat niet."))
    return activity


def _organisations(request: HttpRequest) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=request.staff_organisation_ids).order_by("name"))


def _public_link(activity: Activity) -> str:
    """The public page of a published activity (when the public pages are there)."""
    if activity.status == ActivityStatus.DRAFT:
        return ""
    try:
        return reverse("programming:detail", args=[activity.slug])
    except NoReverseMatch:
        return ""


def _name(registration: Registration) -> str:
    if registration.person_id and registration.person is not None:
        return registration.person.get_full_name() or registration.name or _("(zonder naam)")
    return registration.name or registration.email or _("(zonder naam)")


# --- the list ----------------------------------------------------------------------------------

WHEN_CHOICES = {
    "komend": _("Komend en nu"),
    "voorbij": _("Voorbij"),
    "alle": _("Alle"),
}


@never_cache
@staff_required(*PROGRAMMING_ROLES)
@require_GET
def activities(request: HttpRequest) -> HttpResponse:
    """The organisations' activities: drafts, published and cancelled, upcoming or past,
    with the seats taken and the length of the waitlist. A fixed number of queries."""
    when = request.GET.get("wanneer", "komend")
    if when not in WHEN_CHOICES:
        when = "komend"
    status = request.GET.get("status", "")
    if status not in ActivityStatus.values:
        status = ""
    now = clock.now()
    queryset = (
        Activity.objects.filter(organisation_id__in=request.staff_organisation_ids)
        .select_related("organisation", "location")
        .annotate(
            waitlisted=Count(
                "registrations",
                filter=Q(registrations__status=RegistrationStatus.WAITLISTED),
            )
        )
    )
    if status:
        queryset = queryset.filter(status=status)
    if when == "komend":
        queryset = queryset.filter(last_ends_at__gte=now).order_by("starts_at", "pk")
    elif when == "voorbij":
        queryset = queryset.filter(last_ends_at__lt=now).order_by("-starts_at", "-pk")
    else:
        queryset = queryset.order_by("-starts_at", "-pk")
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("pagina"))
    return render(
        request,
        "programming/staff/activities.html",
        {
            "page": page,
            "when": when,
            "status": status,
            "when_choices": WHEN_CHOICES.items(),
            "status_choices": ActivityStatus.choices,
            "several_organisations": len(request.staff_organisation_ids) > 1,
            "query": f"wanneer={when}&status={status}",
        },
    )


# --- making and changing -----------------------------------------------------------------------


@never_cache
@staff_required(*PROGRAMMING_ROLES)
def activity_new(request: HttpRequest) -> HttpResponse:
    """A new draft. With several organisations the caller first picks one
    (``?organisatie=<id>``)."""
    organisations = _organisations(request)
    chosen = request.GET.get("organisatie", "")
    organisation = next((o for o in organisations if str(o.pk) == chosen), None)
    if organisation is None and len(organisations) == 1:
        organisation = organisations[0]
    if organisation is None:
        if chosen:
            raise Http404(_("Deze organisatie bestaat niet."))
        return render(
            request, "programming/staff/choose_organisation.html", {"organisations": organisations}
        )
    form = forms.ActivityForm(
        request.POST if request.method == "POST" else None, organisation=organisation
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                activity = services.activity_create(
                    organisation=organisation, data=form.to_input(), actor=request.user
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Concept '%(title)s' opgeslagen. Publiceer het als alles klopt.")
                    % {"title": activity.title},
                )
                return redirect("programming:staff_activity", activity_id=activity.pk)
    return render(
        request,
        "programming/staff/activity_new.html",
        {"form": form, "organisation": organisation, "several": len(organisations) > 1},
        status=status,
    )


@dataclass
class SessionRow:
    number: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str  # "past", "now", "coming"
    checked_in: int = 0
    people: int = 0
    #: registrations with a seat that did not come (only once the session has ended)
    no_shows: int | None = None


@dataclass
class RegistrationRow:
    registration: Registration
    name: str
    attended: int = 0
    sessions_ended: int = 0
    checked_in_now: bool = False

    @property
    def live(self) -> bool:
        return self.registration.status in LIVE_STATUSES


@dataclass
class Overview:
    sessions: list[SessionRow] = field(default_factory=list)
    registrations: list[RegistrationRow] = field(default_factory=list)
    confirmed: int = 0
    waitlisted: int = 0
    offered: int = 0
    unconfirmed: int = 0
    no_shows: int = 0
    attendances: int = 0


def activity_overview(activity: Activity, *, now: dt.datetime | None = None) -> Overview:
    """Sessions with their attendance and no-shows, and every registration with how often
    it came. Three queries, whatever the number of sessions and registrations."""
    now = now or clock.now()
    try:
        sessions = recurrence.activity_sessions(activity)
    except DomainError:  # a stored rule today's validator refuses: show the first session
        sessions = [recurrence.Session(activity.starts_at, activity.ends_at)]
    registrations = list(
        Registration.objects.filter(activity=activity).select_related("person").order_by("pk")
    )
    present: dict[dt.datetime, dict[int, int]] = defaultdict(dict)
    for registration_id, session_start, people in Attendance.objects.filter(
        registration__activity=activity
    ).values_list("registration_id", "session_start", "present"):
        present[session_start][registration_id] = people
    overview = Overview()
    seated = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED]
    rows = {r.pk: RegistrationRow(r, _name(r)) for r in registrations}
    current = services.session_at(activity, now) if activity.status != "cancelled" else None
    for number, session in enumerate(sessions, start=1):
        if session.ends_at <= now:
            state = "past"
        elif session.starts_at <= now:
            state = "now"
        else:
            state = "coming"
        here = present.get(session.starts_at, {})
        row = SessionRow(number, _local(session.starts_at), _local(session.ends_at), state)
        row.checked_in = len(here)
        row.people = sum(here.values())
        if state == "past":
            missing = [
                r
                for r in seated
                if r.pk not in here and (r.confirmed_at is None or r.confirmed_at < session.ends_at)
            ]
            row.no_shows = len(missing)
            overview.no_shows += len(missing)
            for r in seated:
                if r.confirmed_at is None or r.confirmed_at < session.ends_at:
                    rows[r.pk].sessions_ended += 1
        for registration_id in here:
            if registration_id in rows:
                rows[registration_id].attended += 1
                if current is not None and session.starts_at == current.starts_at:
                    rows[registration_id].checked_in_now = True
        overview.attendances += len(here)
        overview.sessions.append(row)
    overview.registrations = sorted(
        rows.values(),
        key=lambda row: (_STATUS_ORDER.get(row.registration.status, 9), row.registration.pk),
    )
    for r in registrations:
        if r.status == RegistrationStatus.CONFIRMED:
            overview.confirmed += 1
        elif r.status == RegistrationStatus.WAITLISTED:
            overview.waitlisted += 1
        elif r.status == RegistrationStatus.OFFERED:
            overview.offered += 1
        elif r.status == RegistrationStatus.UNCONFIRMED:
            overview.unconfirmed += 1
    return overview


def _price_text(activity: Activity) -> str:
    if activity.price_kind == PriceKind.FREE:
        return _("gratis")
    if activity.price_kind == PriceKind.CREDITS:
        text = ngettext("%(n)s tegoed per plaats", "%(n)s tegoed per plaats", activity.credits) % {
            "n": activity.credits
        }
        if activity.price_cents:
            text += ", " + _("zonder tegoed %(price)s") % {
                "price": format_eur(activity.price_cents)
            }
        return text
    return format_eur(activity.price_cents) + " " + _("per plaats")


def _repeat_words(activity: Activity) -> str:
    """A rule the simple controls make, in words ("elke week, 10 keer"); "" for none or for
    an advanced rule (the page shows that one as it is)."""
    simple = forms.Repeat.of(activity.rrule) if activity.rrule else None
    if not simple or not simple[0]:
        return ""
    repeat, count = simple
    label = str(dict(forms.Repeat.CHOICES)[repeat])
    return ngettext("%(repeat)s, %(n)s keer", "%(repeat)s, %(n)s keer", count) % {
        "repeat": label,
        "n": count,
    }


def _exdates(activity: Activity) -> list[str]:
    days = []
    for day in activity.exdates or []:
        try:
            days.append(date_format(dt.date.fromisoformat(day), "j F Y"))
        except (TypeError, ValueError):
            days.append(str(day))
    return days


def _activity_page(
    request: HttpRequest, activity: Activity, form: forms.ActivityForm | None, status: int = 200
) -> HttpResponse:
    overview = activity_overview(activity)
    editable = activity.status != ActivityStatus.CANCELLED
    if form is None and editable:
        form = forms.ActivityForm(organisation=activity.organisation, activity=activity)
    return render(
        request,
        "programming/staff/activity.html",
        {
            "activity": activity,
            "form": form if editable else None,
            "overview": overview,
            "price": _price_text(activity),
            "repeat_words": _repeat_words(activity),
            "exdates": _exdates(activity),
            "public_link": _public_link(activity),
            "is_past": activity.last_ends_at < clock.now(),
            "works": list(activity.works.order_by("title")),
            "partners": list(activity.partners.all()),
        },
        status=status,
    )


@never_cache
@staff_required(*PROGRAMMING_ROLES)
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The facts, the edit form (POST saves it), the registrations and the attendance."""
    activity = _own_activity(request, activity_id)
    if request.method != "POST":
        return _activity_page(request, activity, None)
    if activity.status == ActivityStatus.CANCELLED:
        messages.error(request, _("Deze activiteit is geannuleerd en kan niet meer veranderen."))
        return redirect("programming:staff_activity", activity_id=activity.pk)
    form = forms.ActivityForm(request.POST, organisation=activity.organisation, activity=activity)
    if not form.is_valid():
        return _activity_page(request, activity, form, status=400)
    try:
        activity = services.activity_update(
            activity=activity, data=form.to_input(), actor=request.user
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        activity.refresh_from_db()
        return _activity_page(request, activity, form, status=exc.status)
    messages.success(request, _("Wijzigingen opgeslagen."))
    return redirect("programming:staff_activity", activity_id=activity.pk)


@staff_required(*PROGRAMMING_ROLES)
@require_POST
def activity_publish(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _own_activity(request, activity_id)
    try:
        services.activity_publish(activity=activity, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("'%(title)s' is gepubliceerd en staat in het programma.") % {"title": activity.title},
        )
    return redirect("programming:staff_activity", activity_id=activity.pk)


@staff_required(*PROGRAMMING_ROLES)
@require_POST
def activity_duplicate(request: HttpRequest, activity_id: int) -> HttpResponse:
    """A draft copy, a week (or whole weeks) later; the programmer adjusts and publishes it."""
    activity = _own_activity(request, activity_id)
    try:
        copy = services.activity_duplicate(activity=activity, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("programming:staff_activity", activity_id=activity.pk)
    messages.success(
        request,
        _(
            "Kopie gemaakt als concept, eerste bijeenkomst %(when)s. Pas aan wat anders is en publiceer."
        )
        % {"when": _when(copy.starts_at)},
    )
    return redirect("programming:staff_activity", activity_id=copy.pk)


@never_cache
@staff_required(*PROGRAMMING_ROLES)
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    """GET: what cancelling means and a reason; POST: cancel, and everyone registered is told."""
    activity = _own_activity(request, activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        messages.info(request, _("Deze activiteit is al geannuleerd."))
        return redirect("programming:staff_activity", activity_id=activity.pk)
    live = Registration.objects.filter(activity=activity, status__in=LIVE_STATUSES).count()
    form = forms.CancelActivityForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.activity_cancel(
                    activity=activity, reason=form.cleaned_data["reason"], actor=request.user
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    ngettext(
                        "Geannuleerd. %(n)s aanmelding kreeg bericht.",
                        "Geannuleerd. %(n)s aanmeldingen kregen bericht.",
                        live,
                    )
                    % {"n": live}
                    if live
                    else _("Geannuleerd. Er was nog niemand aangemeld."),
                )
                return redirect("programming:staff_activity", activity_id=activity.pk)
    return render(
        request,
        "programming/staff/cancel.html",
        {"activity": activity, "form": form, "live": live},
        status=status,
    )


@staff_required(*PROGRAMMING_ROLES)
@require_POST
def registration_cancel(request: HttpRequest, activity_id: int, registration_id: int):
    """Staff end one registration (at the person's request, or a double one). Its seats go to
    the first on the waitlist at once; the person is told."""
    activity = _own_activity(request, activity_id)
    registration = (
        Registration.objects.filter(pk=registration_id, activity=activity)
        .select_related("person")
        .first()
    )
    if registration is None:
        raise Http404(_("Deze aanmelding bestaat niet."))
    back = reverse("programming:staff_activity", args=[activity.pk]) + "#aanmeldingen"
    if registration.status not in LIVE_STATUSES:
        messages.info(
            request, _("De aanmelding van %(name)s is al afgemeld.") % {"name": _name(registration)}
        )
        return redirect(back)
    if request.POST.get("zeker") != "ja":
        # one tap in a long table must not end someone's place: ask first (still a POST, so
        # the address answers GET as before)
        return render(
            request,
            "programming/staff/registration_cancel.html",
            {"activity": activity, "registration": registration, "name": _name(registration)},
        )
    try:
        services.registration_cancel(
            registration=registration,
            actor=request.user,
            reason=_("afgemeld door de bibliotheek"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("De aanmelding van %(name)s is afgemeld.") % {"name": _name(registration)}
        )
    return redirect(back)


# --- the door ----------------------------------------------------------------------------------


@never_cache
@staff_required(*DOOR_ROLES)
@require_GET
def doors(request: HttpRequest) -> HttpResponse:
    """The published activities with a session at the door now (or soon, or just ended),
    for the desk: the way to the door page without the programmer's screens."""
    now = clock.now()
    candidates = (
        Activity.objects.filter(
            organisation_id__in=request.staff_organisation_ids,
            status=ActivityStatus.PUBLISHED,
            starts_at__lte=now + dt.timedelta(hours=3),
            last_ends_at__gte=now - services.CHECK_IN_WINDOW,
        )
        .select_related("location", "organisation")
        .order_by("starts_at", "pk")[:200]
    )
    rows = []
    for activity in candidates:
        session = services.session_at(activity, now)
        if session is not None:
            rows.append(
                {
                    "activity": activity,
                    "starts_at": _local(session.starts_at),
                    "ends_at": _local(session.ends_at),
                }
            )
    rows.sort(key=lambda row: row["starts_at"])
    return render(request, "programming/staff/doors.html", {"rows": rows})


def _door_key(activity: Activity) -> str:
    return f"bieb.door.{activity.pk}"


def _door_result(request: HttpRequest, activity: Activity, ok: bool, message: str) -> None:
    request.session[_door_key(activity)] = {"ok": ok, "message": message}


def _checked_in_message(attendance: Attendance, created: bool, registration: Registration) -> str:
    name = _name(registration)
    if not created:
        return _("%(name)s is al binnen (sinds %(time)s).") % {
            "name": name,
            "time": _local(attendance.checked_in_at).strftime("%H:%M"),
        }
    return ngettext(
        "Welkom, %(name)s: %(n)s persoon binnen.",
        "Welkom, %(name)s: %(n)s personen binnen.",
        attendance.present,
    ) % {"name": name, "n": attendance.present}


@never_cache
@staff_required(*DOOR_ROLES)
def door(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Check in at the door. POST ``action=scan`` (the QR code's link or its code),
    ``action=list`` (a registration from the list, with how many came) or ``action=undo``."""
    activity = _own_activity(request, activity_id)
    if request.method == "POST":
        _door_post(request, activity)
        return redirect("programming:staff_door", activity_id=activity.pk)
    session = services.session_at(activity) if activity.status == "published" else None
    rows = []
    counts = {"registered": 0, "checked_in": 0, "expected": 0, "registrations": 0}
    query = " ".join(request.GET.get("q", "").split())[:100]
    if session is not None:
        registrations = list(
            Registration.objects.filter(activity=activity, status=RegistrationStatus.CONFIRMED)
            .select_related("person")
            .order_by("name", "pk")
        )
        attendances = {
            a.registration_id: a
            for a in Attendance.objects.filter(
                registration__activity=activity, session_start=session.starts_at
            )
        }
        for registration in registrations:
            attendance = attendances.get(registration.pk)
            counts["registrations"] += 1
            counts["registered"] += registration.seats
            if attendance is not None:
                counts["checked_in"] += attendance.present
            else:
                counts["expected"] += registration.seats
            name = _name(registration)
            if query and query.lower() not in f"{name} {registration.email}".lower():
                continue
            rows.append({"registration": registration, "name": name, "attendance": attendance})
        rows.sort(key=lambda row: (row["attendance"] is not None, row["name"].lower()))
    next_session = None
    if session is None and activity.status == "published":
        now = clock.now()
        next_session = next(
            (s for s in recurrence.activity_sessions(activity) if s.starts_at > now), None
        )
    return render(
        request,
        "programming/staff/door.html",
        {
            "activity": activity,
            "session": session,
            "session_start": _local(session.starts_at) if session else None,
            "session_end": _local(session.ends_at) if session else None,
            "next_session": _local(next_session.starts_at) if next_session else None,
            "rows": rows,
            "counts": counts,
            "query": query,
            "result": request.session.pop(_door_key(activity), None),
            "can_program": activity.organisation_id
            in organisations_with_role(request.user, *PROGRAMMING_ROLES),
        },
    )


def _door_post(request: HttpRequest, activity: Activity) -> None:
    action = request.POST.get("action", "scan")
    try:
        if action == "undo":
            attendance = (
                Attendance.objects.select_related("registration__person", "registration__activity")
                .filter(pk=request.POST.get("attendance") or 0, registration__activity=activity)
                .first()
                if str(request.POST.get("attendance", "")).isdigit()
                else None
            )
            if attendance is None:
                _door_result(request, activity, False, _("Deze aanwezigheid bestaat niet (meer)."))
                return
            services.check_in_undo(attendance=attendance, actor=request.user)
            _door_result(
                request,
                activity,
                True,
                _("Binnenkomst van %(name)s teruggedraaid.")
                % {"name": _name(attendance.registration)},
            )
            return
        if action == "list":
            form = forms.DoorListForm(request.POST)
            if not form.is_valid() and "present" in form.errors:
                _door_result(request, activity, False, _("Vul in met hoeveel mensen ze kwamen."))
                return
            registration = (
                Registration.objects.select_related("person", "activity")
                .filter(pk=form.cleaned_data["registration"], activity=activity)
                .first()
                if form.is_valid()
                else None
            )
            if registration is None:
                _door_result(request, activity, False, _("Deze aanmelding staat niet op de lijst."))
                return
            attendance, created = services.check_in(
                activity=activity,
                registration=registration,
                actor=request.user,
                method=AttendanceMethod.LIST,
                present=form.cleaned_data.get("present"),
            )
            _door_result(
                request, activity, True, _checked_in_message(attendance, created, registration)
            )
            return
        form = forms.DoorScanForm(request.POST)
        if not form.is_valid():
            _door_result(request, activity, False, _("Scan de QR-code of typ de code."))
            return
        attendance, created = services.check_in(
            activity=activity,
            code=form.typed_door_code(),
            token=form.cleaned_data["code"],
            actor=request.user,
            method=AttendanceMethod.SCAN,
        )
        _door_result(
            request,
            activity,
            True,
            _checked_in_message(attendance, created, attendance.registration),
        )
    except DomainError as exc:
        _door_result(request, activity, False, exc.message)


# --- rooms ---------------------------------------------------------------------------------


def _week_start(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        day = clock.today()
    return day - dt.timedelta(days=day.weekday())


def _rooms_page(request: HttpRequest, room_form: forms.RoomForm | None = None, status: int = 200):
    ids = request.staff_organisation_ids
    organisations = _organisations(request)
    chosen = request.GET.get("organisatie", "")
    if chosen and chosen.isdigit() and int(chosen) in ids:
        ids = {int(chosen)}
    locations = list(
        Location.objects.filter(organisation_id__in=ids, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )
    rooms = list(
        Room.objects.filter(location__organisation_id__in=ids)
        .select_related("location")
        .order_by("location__name", "name")
    )
    now = clock.now()
    requests = list(
        RoomBooking.objects.filter(
            room__location__organisation_id__in=ids,
            status=BookingStatus.REQUESTED,
            ends_at__gte=now,
        )
        .select_related("room__location", "requested_by", "partner")
        .order_by("starts_at", "pk")
    )
    if requests:
        approved = list(
            RoomBooking.objects.filter(
                room_id__in={b.room_id for b in requests},
                status=BookingStatus.APPROVED,
                starts_at__lt=max(b.ends_at for b in requests),
                ends_at__gt=min(b.starts_at for b in requests),
            ).order_by("starts_at")
        )
        for booking in requests:
            booking.clash = next(
                (
                    a
                    for a in approved
                    if a.room_id == booking.room_id
                    and a.starts_at < booking.ends_at
                    and a.ends_at > booking.starts_at
                ),
                None,
            )
    monday = _week_start(request.GET.get("week", ""))
    week_from = forms.local_moment(monday, dt.time(0, 0))
    week_to = forms.local_moment(monday + dt.timedelta(days=7), dt.time(0, 0))
    per_room: dict[int, list[RoomBooking]] = defaultdict(list)
    for booking in (
        RoomBooking.objects.filter(
            room_id__in=[r.pk for r in rooms],
            status=BookingStatus.APPROVED,
            starts_at__lt=week_to,
            ends_at__gt=week_from,
        )
        .select_related("activity", "requested_by")
        .order_by("starts_at", "pk")
    ):
        booking.local_start = _local(booking.starts_at)
        booking.local_end = _local(booking.ends_at)
        per_room[booking.room_id].append(booking)
    week = [{"room": room, "bookings": per_room.get(room.pk, [])} for room in rooms]
    return render(
        request,
        "programming/staff/rooms.html",
        {
            "rooms": rooms,
            "requests": requests,
            "week": week,
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "previous_week": (monday - dt.timedelta(days=7)).isoformat(),
            "next_week": (monday + dt.timedelta(days=7)).isoformat(),
            "organisations": organisations,
            "chosen": chosen,
            "room_form": room_form or forms.RoomForm(locations=locations),
        },
        status=status,
    )


@never_cache
@staff_required(*PROGRAMMING_ROLES)
def rooms(request: HttpRequest) -> HttpResponse:
    """The rooms of the organisations' locations, the open requests to decide on, and a week
    of approved bookings per room. POST adds a room."""
    if request.method != "POST":
        return _rooms_page(request)
    locations = list(
        Location.objects.filter(
            organisation_id__in=request.staff_organisation_ids, is_active=True
        ).select_related("organisation")
    )
    form = forms.RoomForm(request.POST, locations=locations)
    if not form.is_valid():
        return _rooms_page(request, form, status=400)
    location = next(loc for loc in locations if loc.pk == form.cleaned_data["location"])
    try:
        room = services.room_create(
            location=location,
            name=form.cleaned_data["name"],
            capacity=form.cleaned_data["capacity"],
            is_stage=form.cleaned_data["is_stage"],
            facilities=form.cleaned_data["facilities"],
            bookable_by_public=form.cleaned_data["bookable_by_public"],
            actor=request.user,
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return _rooms_page(request, form, status=exc.status)
    messages.success(request, _("Zaal '%(name)s' toegevoegd.") % {"name": room.name})
    return redirect("programming:staff_rooms")


@staff_required(*PROGRAMMING_ROLES)
@require_POST
def booking_decide(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Approve or reject a room request, with a note for the requester. An approval that
    overlaps an approved booking is refused (``room_taken``)."""
    booking = (
        RoomBooking.objects.select_related("room__location")
        .filter(pk=booking_id, room__location__organisation_id__in=request.staff_organisation_ids)
        .first()
    )
    if booking is None:
        raise Http404(_("Deze aanvraag bestaat niet."))
    form = forms.BookingDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Kies goedkeuren of afwijzen."))
        return redirect("programming:staff_rooms")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.room_booking_decide(
            booking=booking, approve=approve, actor=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        messages.error(request, f"{booking.title}: {exc.message}")
    else:
        messages.success(
            request,
            (_("'%(title)s' goedgekeurd.") if approve else _("'%(title)s' afgewezen."))
            % {"title": booking.title},
        )
    return redirect("programming:staff_rooms")


# --- partners ----------------------------------------------------------------------------------


@never_cache
@staff_required(*PROGRAMMING_ROLES)
def partners(request: HttpRequest) -> HttpResponse:
    """The organisations' partners (with how many activities each co-organises); POST adds one."""
    organisations = _organisations(request)
    form = forms.PartnerForm(
        request.POST if request.method == "POST" else None, organisations=organisations
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            organisation = next(
                o for o in organisations if o.pk == form.cleaned_data["organisation"]
            )
            try:
                partner = services.partner_create(
                    organisation=organisation,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    website=form.cleaned_data["website"],
                    email=form.cleaned_data["email"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request, _("Partner '%(name)s' toegevoegd.") % {"name": partner.name}
                )
                return redirect("programming:staff_partners")
    rows = (
        Partner.objects.filter(organisation_id__in=request.staff_organisation_ids)
        .select_related("organisation")
        .annotate(activity_count=Count("activities"))
        .order_by("organisation__name", "name")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("pagina"))
    return render(
        request,
        "programming/staff/partners.html",
        {"page": page, "form": form, "several_organisations": len(organisations) > 1},
        status=status,
    )
