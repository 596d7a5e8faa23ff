"""Staff screens: the desk (``/balie/<location>/uitlenen``, ``innemen``, ``lijsten``) and the
self-service machines' accounts (``/medewerkers/automaten``).

The desk screens are made for a barcode scanner that types like a keyboard and presses Enter:
one text field keeps the focus, every scan is a plain form POST followed by a redirect
(POST-redirect-GET), and the page shows the result of the scan at once, at the top, in a live
region. With JavaScript, htmx sends the scan in the background and updates the results while
the field keeps the focus; without it everything works the same. The person being served stays in the session (per location) until "Klaar".

Access: desk or manager role in the location's organisation (network administrators
everywhere); a location of another organisation answers 404 (``access.access_location``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts import access, cards
from bieb.accounts.access import Role, staff_required
from bieb.circulation import desk_selectors, forms, services
from bieb.circulation.entitlements import entitlements_for, person_state, refuse_physical
from bieb.circulation.models import TransferReason
from bieb.circulation.sip2 import terminals as terminal_accounts
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.core.money import format_eur

DESK_ROLES = desk_selectors.DESK_ROLES
MAX_SCANS = 50
# The field of the terminal form a refusal of ``sip2.terminals`` belongs to.
TERMINAL_ERROR_FIELDS = {
    "invalid_login": "login",
    "login_taken": "login",
    "invalid_location": "location",
}


# --- helpers ---------------------------------------------------------------------------------


def _desk_location(request: HttpRequest, slug: str):
    """The location whose desk the caller staffs, or 404 (unknown, or another organisation)."""
    location = desk_selectors.location_by_slug(slug)
    if location is None:
        raise Http404(_("Deze locatie bestaat niet."))
    return access.access_location(request.user, location.pk, need="members")


def _session_key(kind: str, location) -> str:
    return f"bieb.desk.{kind}.{location.pk}"


def _state(request: HttpRequest, kind: str, location) -> dict[str, Any]:
    state = request.session.get(_session_key(kind, location)) or {}
    return {"patron": state.get("patron"), "scans": list(state.get("scans", []))}


def _save(request: HttpRequest, kind: str, location, state: dict[str, Any]) -> None:
    state["scans"] = state["scans"][:MAX_SCANS]
    request.session[_session_key(kind, location)] = state


def _add_scan(state: dict[str, Any], **entry: Any) -> None:
    entry.setdefault("at", clock.now().isoformat())
    state["scans"].insert(0, entry)


def _day(value) -> str:
    return date_format(value, "j F Y")


def _desk_page(request, template: str, location, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"location": location, **context})


# --- desk home -------------------------------------------------------------------------------


@never_cache
@staff_required(*DESK_ROLES)
@require_GET
def desk_home(request: HttpRequest) -> HttpResponse:
    locations = list(desk_selectors.desk_locations(request.user))
    return render(request, "circulation/desk/home.html", {"locations": locations})


# --- checkout --------------------------------------------------------------------------------


@never_cache
@staff_required(*DESK_ROLES)
def desk_checkout(request: HttpRequest, slug: str) -> HttpResponse:
    """Scan a card, then items. POST ``action=card|item|end``; GET shows the session's scans."""
    location = _desk_location(request, slug)
    state = _state(request, "out", location)
    patron = desk_selectors.person_by_id(state["patron"])
    if request.method == "POST":
        action = request.POST.get("action", "item")
        if action == "end":
            request.session.pop(_session_key("out", location), None)
            messages.success(request, _("Klaar. De volgende klant kan komen."))
            return redirect("circulation:desk_checkout", slug=location.slug)
        if action == "card" or patron is None:
            _scan_card(request, location, state, request.POST.get("card", ""))
        else:
            _scan_item(request, location, state, patron)
        _save(request, "out", location, state)
        return redirect("circulation:desk_checkout", slug=location.slug)
    summary = (
        desk_selectors.patron_summary(person=patron, location=location, today=clock.today())
        if patron is not None
        else None
    )
    scans = state["scans"]
    return _desk_page(
        request,
        "circulation/desk/checkout.html",
        location,
        {"summary": summary, "scans": scans, "last": scans[0] if scans else None},
    )


def _scan_card(request: HttpRequest, location, state: dict[str, Any], raw: str) -> None:
    form = forms.CardScanForm({"card": raw})
    if not form.is_valid():
        _add_scan(state, kind="card", ok=False, message=_("Scan of typ een pasnummer."))
        return
    number = form.cleaned_data["card"]
    person = desk_selectors.patron_by_card(number)
    if person is None:
        _add_scan(
            state,
            kind="card",
            ok=False,
            barcode=number,
            message=_("Deze pas kennen we niet. Controleer het nummer of zoek het lid op."),
        )
        return
    rights = entitlements_for(person)
    label = desk_selectors.shelf_label(person)
    if not rights.physical:
        _add_scan(
            state,
            kind="card",
            ok=False,
            barcode=number,
            message=_("Met de pas %(label)s kan niet worden geleend: het account is niet actief.")
            % {"label": label},
        )
        return
    try:  # switched off, or a plan without printed copies: say so at the card, not the item
        refuse_physical(person_state(person).plan)
    except DomainError as refusal:
        _add_scan(
            state,
            kind="card",
            ok=False,
            barcode=number,
            message=_("Pas %(label)s: %(reason)s") % {"label": label, "reason": refusal.message},
        )
        return
    # A desk seeing a person's loans is itself a fact the person may ask about.
    audit_record(
        action="person.viewed_by_staff",
        actor=request.user,
        subject=person,
        organisation_id=location.organisation_id,
        data={"via": "desk", "location": location.pk},
    )
    state["patron"] = person.pk
    state["scans"] = []
    _add_scan(
        state,
        kind="card",
        ok=True,
        barcode=number,
        message=_("Pas %(label)s gescand. Scan nu de exemplaren.") % {"label": label},
    )


def _scan_item(request: HttpRequest, location, state: dict[str, Any], patron) -> None:
    form = forms.ItemScanForm(request.POST)
    if not form.is_valid():
        _add_scan(state, kind="item", ok=False, message=_("Scan of typ een barcode."))
        return
    barcode = form.cleaned_data["barcode"]
    if _is_other_card(barcode, patron):
        # The next customer's card, scanned into the item field: serve them.
        _scan_card(request, location, state, barcode)
        return
    try:
        loan = services.checkout(
            patron=patron, barcode=barcode, location=location, actor=request.user, channel="desk"
        )
    except DomainError as exc:
        _add_scan(
            state,
            kind="item",
            ok=False,
            barcode=barcode,
            title=desk_selectors.item_title(barcode),
            message=exc.message,
        )
        return
    _add_scan(
        state,
        kind="item",
        ok=True,
        barcode=barcode,
        title=loan.edition.title,
        due=loan.due_date.isoformat(),
        message=_("Uitgeleend tot %(date)s.") % {"date": _day(loan.due_date)},
    )


def _is_other_card(value: str, patron) -> bool:
    number = "".join(value.split())
    return (
        cards.card_number_is_valid(number)
        and number != patron.card_number
        and not desk_selectors.is_item_barcode(value)
        and desk_selectors.patron_by_card(number) is not None
    )


# --- checkin ---------------------------------------------------------------------------------


@never_cache
@staff_required(*DESK_ROLES)
def desk_checkin(request: HttpRequest, slug: str) -> HttpResponse:
    """Scan returned items; each scan says where the copy goes. POST ``action=item|clear``."""
    location = _desk_location(request, slug)
    state = _state(request, "in", location)
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            request.session.pop(_session_key("in", location), None)
            messages.success(request, _("De lijst is leeggemaakt."))
        else:
            _checkin_item(request, location, state)
            _save(request, "in", location, state)
        return redirect("circulation:desk_checkin", slug=location.slug)
    scans = state["scans"]
    return _desk_page(
        request,
        "circulation/desk/checkin.html",
        location,
        {"scans": scans, "last": scans[0] if scans else None},
    )


def _checkin_item(request: HttpRequest, location, state: dict[str, Any]) -> None:
    form = forms.ItemScanForm(request.POST)
    if not form.is_valid():
        _add_scan(
            state, ok=False, destination="error", headline=_("Scan of typ een barcode."), notes=[]
        )
        return
    barcode = form.cleaned_data["barcode"]
    try:
        result = services.checkin(
            barcode=barcode, location=location, actor=request.user, channel="desk"
        )
    except DomainError as exc:
        _add_scan(
            state,
            ok=False,
            barcode=barcode,
            title=desk_selectors.item_title(barcode),
            destination="error",
            headline=exc.message,
            notes=[],
        )
        return
    _add_scan(state, ok=True, barcode=barcode, **_instruction(result, location))


def _instruction(result: services.CheckinResult, location) -> dict[str, Any]:
    """What the desk must do with the copy, in words: one headline and a few notes."""
    item = result.item
    notes: list[str] = []
    if result.destination == "hold_shelf":
        patron = result.hold.patron if result.hold else None
        headline = _("Op de reserveringsplank voor %(label)s") % {
            "label": desk_selectors.shelf_label(patron)
        }
        if result.hold is not None and result.hold.ready_until:
            notes.append(
                _("Af te halen tot en met %(date)s.") % {"date": _day(result.hold.ready_until)}
            )
    elif result.destination == "transit":
        to = result.to_location
        headline = _("Transport naar %(location)s") % {"location": to.name}
        if to.organisation_id != location.organisation_id:
            notes.append(
                _("Andere bibliotheekorganisatie: %(name)s.") % {"name": to.organisation.name}
            )
        reason = result.transfer.reason if result.transfer else None
        if reason == TransferReason.HOLD:
            notes.append(_("Voor een reservering."))
        elif reason == TransferReason.HOME:
            notes.append(_("Terug naar de eigen vestiging."))
    else:
        headline = _("Terug in de kast")
        if item.shelf_mark:
            notes.append(_("Plaatsing: %(mark)s.") % {"mark": item.shelf_mark})
    if result.loan is None:
        notes.append(_("Dit exemplaar was niet uitgeleend."))
    elif result.was_late_days:
        if result.charge is not None:
            notes.append(
                ngettext(
                    "%(days)s dag te laat. Te-laatgeld: %(amount)s.",
                    "%(days)s dagen te laat. Te-laatgeld: %(amount)s.",
                    result.was_late_days,
                )
                % {"days": result.was_late_days, "amount": format_eur(result.charge.amount_cents)}
            )
        else:
            notes.append(
                ngettext(
                    "%(days)s dag te laat, zonder te-laatgeld.",
                    "%(days)s dagen te laat, zonder te-laatgeld.",
                    result.was_late_days,
                )
                % {"days": result.was_late_days}
            )
    return {
        "title": item.edition.title,
        "destination": result.destination,
        "headline": headline,
        "notes": notes,
        "fee": format_eur(result.charge.amount_cents) if result.charge else "",
    }


# --- lists -----------------------------------------------------------------------------------


@never_cache
@staff_required(*DESK_ROLES)
@require_GET
def desk_lists(request: HttpRequest, slug: str) -> HttpResponse:
    location = _desk_location(request, slug)
    today = clock.today()
    return _desk_page(
        request,
        "circulation/desk/lists.html",
        location,
        {
            "to_send": desk_selectors.transfers_to_send(location=location),
            "incoming": desk_selectors.transfers_incoming(location=location),
            "hold_shelf": desk_selectors.hold_shelf(location=location, today=today),
            "to_clear": desk_selectors.holds_to_clear(location=location),
            "pull": desk_selectors.pull_list(location=location, today=today),
        },
    )


@staff_required(*DESK_ROLES)
@require_POST
def desk_transfer_send(request: HttpRequest, slug: str, transfer_id: int) -> HttpResponse:
    """The copy leaves in the crate: the transfer is now in transit."""
    location = _desk_location(request, slug)
    transfer = desk_selectors.transfer_leaving(location=location, transfer_id=transfer_id)
    if transfer is None:
        raise Http404(_("Dit transport bestaat niet of vertrekt niet van deze locatie."))
    try:
        services.transfer_send(transfer, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(barcode)s is verstuurd naar %(location)s.")
            % {"barcode": transfer.item.barcode, "location": transfer.to_location.name},
        )
    return redirect(
        reverse("circulation:desk_lists", kwargs={"slug": location.slug}) + "#te-versturen"
    )


# --- terminal accounts -----------------------------------------------------------------------


@never_cache
@staff_required(Role.MANAGER)
def terminals(request: HttpRequest) -> HttpResponse:
    """The SIP2 accounts of the caller's organisations' self-service machines; POST adds one
    and shows its password once, on the answer to that POST (never again)."""
    organisation_ids = request.staff_organisation_ids
    form = forms.TerminalForm(
        request.POST if request.method == "POST" else None, organisation_ids=organisation_ids
    )
    created = password = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created, password = terminal_accounts.terminal_create(
                    location=data["location"],
                    name=data["name"],
                    login=data["login"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(TERMINAL_ERROR_FIELDS.get(exc.code), exc.message)
                status = exc.status
            else:
                form = forms.TerminalForm(organisation_ids=organisation_ids)
        else:
            status = 400
    return render(
        request,
        "circulation/terminals.html",
        {
            "form": form,
            "terminals": desk_selectors.terminals_of(organisation_ids=organisation_ids),
            "created": created,
            "password": password,
        },
        status=status,
    )


@staff_required(Role.MANAGER)
@require_POST
def terminal_deactivate(request: HttpRequest, terminal_id: int) -> HttpResponse:
    terminal = desk_selectors.terminal_in(
        organisation_ids=request.staff_organisation_ids, terminal_id=terminal_id
    )
    if terminal is None:
        raise Http404(_("Deze automaat bestaat niet of je hebt er geen toegang toe."))
    if terminal.is_active:
        terminal_accounts.terminal_set_active(terminal, active=False, actor=request.user)
    messages.success(
        request, _("%(name)s staat uit en kan niet meer inloggen.") % {"name": terminal.name}
    )
    return redirect("circulation:terminals")
