"""The resident's screens: ``/mijn/leningen`` (renew; the history only for those who keep it),
``/mijn/reserveringen`` (cancel, pause, resume, change the pick-up location) and placing a
hold from a title's page (``/titels/<id>/reserveren``).

Every page needs a log-in; a loan or hold of someone else answers 404. Buttons are plain
forms (POST-redirect-GET) and the outcome is a message at the top of the next page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts import access
from bieb.catalog.models import Edition
from bieb.circulation import desk_selectors, forms, selectors, services
from bieb.circulation.entitlements import entitlements_for
from bieb.circulation.models import HoldStatus, Notice
from bieb.core import clock
from bieb.core.errors import DomainError


def _day(value) -> str:
    return date_format(value, "j F Y")


# --- loans -----------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def my_loans(request: HttpRequest) -> HttpResponse:
    person = request.user
    today = clock.today()
    return render(
        request,
        "circulation/mine/loans.html",
        {
            "rows": selectors.loan_lines(
                selectors.open_loans(patron=person, today=today), today=today
            ),
            "history": list(selectors.returned_loans(patron=person)[:100]),
            "keeps_history": person.keep_loan_history,
            "today": today,
            "notices": list(
                Notice.objects.filter(patron=person).order_by("-created_at", "-pk")[:10]
            ),
        },
    )


@login_required
@require_POST
def loan_renew(request: HttpRequest, loan_id: int) -> HttpResponse:
    loan = desk_selectors.own_open_loan(person=request.user, loan_id=loan_id)
    if loan is None:
        raise Http404(_("Deze uitlening bestaat niet of is al afgesloten."))
    try:
        renewed = services.renew(loan, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Verlengd: %(title)s. Breng het uiterlijk %(date)s terug.")
            % {"title": renewed.edition.title, "date": _day(renewed.due_date)},
        )
    return redirect("circulation:my_loans")


# --- holds -----------------------------------------------------------------------------------


def _with_positions(holds) -> list:
    """The holds, each with ``position``: its place in the queue (waiting holds only)."""
    holds = list(holds)
    for hold in holds:
        hold.position = selectors.queue_position(hold)
    return holds


@never_cache
@login_required
@require_GET
def my_holds(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "circulation/mine/holds.html",
        {
            "holds": _with_positions(selectors.active_holds(patron=request.user)),
            "today": clock.today(),
            "pause_min": clock.today().isoformat(),
        },
    )


def _own_hold(request: HttpRequest, hold_id: int):
    hold = desk_selectors.own_hold(person=request.user, hold_id=hold_id)
    if hold is None:
        raise Http404(_("Deze reservering bestaat niet."))
    return hold


@login_required
@require_POST
def hold_cancel(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    try:
        services.hold_cancel(hold, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Je reservering van %(title)s is geannuleerd.") % {"title": hold.edition.title},
        )
    return redirect("circulation:my_holds")


@login_required
@require_POST
def hold_pause(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    form = forms.HoldPauseForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("not_before", [_("Kies een datum.")]):
            messages.error(request, f"{hold.edition.title}: {error}")
        return redirect("circulation:my_holds")
    day = form.cleaned_data["not_before"]
    try:
        services.hold_pause(hold, not_before=day, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(title)s is gepauzeerd. Vanaf %(date)s doe je weer mee.")
            % {"title": hold.edition.title, "date": _day(day)},
        )
    return redirect("circulation:my_holds")


@login_required
@require_POST
def hold_resume(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    try:
        services.hold_pause(hold, not_before=None, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(title)s doet weer mee in de wachtrij.") % {"title": hold.edition.title}
        )
    return redirect("circulation:my_holds")


@never_cache
@login_required
def hold_pickup(request: HttpRequest, hold_id: int) -> HttpResponse:
    """Choose another pick-up location (only while the hold waits in the queue)."""
    hold = _own_hold(request, hold_id)
    person = request.user
    changeable = hold.status == HoldStatus.WAITING
    form = forms.HoldPickupForm(
        request.POST if request.method == "POST" else None,
        person=person,
        initial={"pickup_location": str(hold.pickup_location_id)},
    )
    status = 200
    if request.method == "POST" and changeable and form.is_valid():
        location = form.cleaned_data["pickup_location"]
        try:
            services.hold_change_pickup(hold, pickup_location=location, actor=person)
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.status
        else:
            messages.success(
                request,
                _("Je haalt %(title)s af in %(location)s.")
                % {"title": hold.edition.title, "location": location.name},
            )
            return redirect("circulation:my_holds")
    elif request.method == "POST":
        status = 409 if not changeable else 400
    return render(
        request,
        "circulation/mine/hold_pickup.html",
        {"hold": hold, "form": form, "changeable": changeable},
        status=status,
    )


# --- placing a hold --------------------------------------------------------------------------


@never_cache
@login_required
def hold_place(request: HttpRequest, edition_id: int) -> HttpResponse:
    """Reserve a physical title for pick-up at a location of the person's choice."""
    edition = Edition.objects.filter(pk=edition_id).first()
    if edition is None or edition.is_digital:
        raise Http404(_("Deze titel bestaat niet of reserveer je bij het lenen."))
    person = request.user
    refusal = ""
    if not access.has_guardian_consent(person):
        refusal = _(
            "Je ouder of voogd moet eerst toestemming geven. Vraag het via Mijn bibliotheek aan."
        )
    elif not entitlements_for(person).holds:
        refusal = _(
            "Voor reserveren heb je een bibliotheekpas nodig. Vraag er een aan bij de balie."
        )
    form = forms.HoldPlaceForm(request.POST if request.method == "POST" else None, person=person)
    status = 200
    if request.method == "POST" and refusal:
        status = 403
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hold = services.hold_place(
                patron=person,
                edition=edition,
                pickup_location=data["pickup_location"],
                scope=data["scope"],
                actor=person,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.status
        else:
            messages.success(
                request,
                _("Gereserveerd: %(title)s. Je krijgt bericht zodra het klaarligt in %(location)s.")
                % {"title": edition.title, "location": hold.pickup_location.name},
            )
            return redirect("circulation:my_holds")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "circulation/mine/hold_place.html",
        {"edition": edition, "form": form, "refusal": refusal},
        status=status,
    )
