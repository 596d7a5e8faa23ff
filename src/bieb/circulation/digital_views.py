"""Digital lending on the site (the OPDS catalogue for reading apps is in ``opds_views``).

Resident pages (a log-in; plain forms, POST-redirect-GET, no JavaScript needed):
``/mijn/digitaal`` (loans with read/listen links and an audio player, holds), borrowing and
queueing from a title's page, giving back, leaving a queue.

Files: ``/digitaal/inhoud/<token>`` serves a loan's file to whoever holds the signed link (a
browser's audio element or a reading app sends no log-in with it): EPUB as a download, audio
and video inline with HTTP range requests so players can seek. ``/digitaal/omslag/<id>.png``
is a placeholder cover for apps.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from bieb.catalog.models import DIGITAL_FORMATS, Edition
from bieb.circulation import digital, digital_files, digital_links, digital_selectors
from bieb.circulation.models import DigitalHold, DigitalLoan
from bieb.circulation.ranges import ranged_file_response
from bieb.core import clock
from bieb.core.errors import DomainError


def _moment(value) -> str:
    return date_format(value.astimezone(clock.AMSTERDAM), "j F Y, H:i")


def digital_edition(edition_id: int) -> Edition:
    edition = Edition.objects.filter(pk=edition_id, format__in=DIGITAL_FORMATS).first()
    if edition is None:
        raise Http404(_("Deze digitale titel bestaat niet."))
    return edition


def content_url(request: HttpRequest, loan: DigitalLoan, *, absolute: bool = False) -> str:
    path = reverse("digital:content", args=[digital_links.content_token(loan)])
    return request.build_absolute_uri(path) if absolute else path


def filename_for(loan: DigitalLoan, extension: str) -> str:
    return f"{slugify(loan.edition.title)[:60] or 'titel'}-{loan.pk}.{extension}"


# --- resident pages --------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """``/mijn/digitaal``: running loans (read, listen, give back) and waiting lists."""
    person = request.user
    loans = []
    for loan in digital_selectors.open_digital_loans(person):
        content = digital_files.content_for(loan.edition)
        loans.append(
            {
                "loan": loan,
                "content": content,
                "url": content_url(request, loan) if content else "",
                "filename": filename_for(loan, content.extension) if content else "",
            }
        )
    holds = [
        {"hold": hold, "position": hold.position}
        for hold in digital_selectors.open_digital_holds(person)
    ]
    return render(
        request,
        "circulation/digital/mine.html",
        {
            "loans": loans,
            "holds": holds,
            "link_minutes": digital_links.LINK_SECONDS // 60,
            "opds_url": request.build_absolute_uri(reverse("digital:opds")),
            "opds2_url": request.build_absolute_uri(reverse("digital:opds2")),
        },
    )


@login_required
@require_POST
def borrow(request: HttpRequest, edition_id: int) -> HttpResponse:
    """ "Nu lenen" on a title's page."""
    edition = digital_edition(edition_id)
    try:
        loan = digital.digital_checkout(patron=request.user, edition=edition, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:edition", edition.pk)
    messages.success(
        request,
        _("Geleend: %(title)s. Je kunt het gebruiken tot %(until)s.")
        % {"title": edition.title, "until": _moment(loan.expires_at)},
    )
    return redirect(f"{reverse('digital:mine')}#lening-{loan.pk}")


@login_required
@require_POST
def hold_place(request: HttpRequest, edition_id: int) -> HttpResponse:
    """ "Op de wachtlijst" on a title's page."""
    edition = digital_edition(edition_id)
    try:
        hold = digital.digital_hold_place(patron=request.user, edition=edition, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:edition", edition.pk)
    messages.success(
        request,
        _(
            "Je staat op de wachtlijst voor %(title)s (plaats %(n)s). Je krijgt bericht zodra je "
            "het kunt lenen."
        )
        % {"title": edition.title, "n": digital.digital_hold_position(hold)},
    )
    return redirect("digital:mine")


@login_required
@require_POST
def give_back(request: HttpRequest, loan_id: int) -> HttpResponse:
    loan = (
        DigitalLoan.objects.select_related("edition")
        .filter(pk=loan_id, patron=request.user, returned_at__isnull=True)
        .first()
    )
    if loan is None:
        raise Http404(_("Deze uitlening bestaat niet of is al afgesloten."))
    try:
        digital.digital_return(loan, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Teruggegeven: %(title)s.") % {"title": loan.edition.title})
    return redirect("digital:mine")


@login_required
@require_POST
def hold_cancel(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = (
        DigitalHold.objects.select_related("edition")
        .filter(pk=hold_id, patron=request.user, status__in=digital.ACTIVE_DIGITAL_HOLD)
        .first()
    )
    if hold is None:
        raise Http404(_("Deze reservering bestaat niet of is al afgesloten."))
    try:
        digital.digital_hold_cancel(hold, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Je staat niet meer op de wachtlijst voor %(title)s.")
            % {"title": hold.edition.title},
        )
    return redirect("digital:mine")


# --- the file behind a signed link ----------------------------------------------------------


@require_safe
def content(request: HttpRequest, token: str) -> HttpResponse:
    """The loan's file: an EPUB to download, audio or video to play (and seek) in place."""
    try:
        loan = digital_links.loan_for_token(token)
    except DomainError as exc:
        return render(
            request,
            "circulation/digital/link_problem.html",
            {"message": exc.message, "code": exc.code},
            status=exc.status,
        )
    found = digital_files.content_for(loan.edition)
    if found is None:
        return render(
            request,
            "circulation/digital/link_problem.html",
            {
                "message": _("Het bestand van deze titel is er (nog) niet. Probeer het later."),
                "code": "content_missing",
            },
            status=404,
        )
    response = ranged_file_response(
        request,
        found.path,
        content_type=found.media_type,
        filename=filename_for(loan, found.extension),
        attachment=not (found.is_audio or found.is_video),
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def cover(request: HttpRequest, edition_id: int) -> HttpResponse:
    """A placeholder cover for a digital title (reading apps and OPDS 2 want an image)."""
    edition = digital_edition(edition_id)
    response = HttpResponse(digital_files.build_cover_png(edition.format), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response
