"""``/api/v1/me/loans``, ``/me/holds``, ``/me/digital-loans``: the signed-in person's own
borrowing.

Only the person's own loans and holds are ever found: another person's id answers 404
(``loan_not_found``, ``hold_not_found``), never 403, so ids reveal nothing. Reads go through
``bieb.circulation.selectors``, changes through ``bieb.circulation.services``.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from bieb.api.auth import resident_auth
from bieb.api.errors import ApiError, error_responses
from bieb.api.schemas import (
    DigitalLoanIn,
    DigitalLoanOut,
    HoldIn,
    HoldOut,
    LoanOut,
    LocationRef,
)
from bieb.circulation import selectors, services
from bieb.core.errors import DomainError, NotFound
from bieb.network.models import Location

router = Router(tags=["me"])

MAX_LIMIT = 500
MAX_OFFSET = 100_000


def _location_ref(location) -> LocationRef:
    return LocationRef(id=location.pk, name=location.name, slug=location.slug)


def _loan_out(line: selectors.LoanLine) -> LoanOut:
    loan = line.loan
    return LoanOut(
        id=loan.pk,
        edition_id=loan.edition_id,
        title=loan.edition.title,
        barcode=loan.item.barcode,
        checked_out_at=loan.checked_out_at,
        due_date=loan.due_date,
        returned_at=loan.returned_at,
        renewals=loan.renewals,
        max_renewals=line.max_renewals,
        renewable=line.renewable,
        renewal_refusal=line.renewal_refusal or None,
        overdue_days=line.overdue_days,
        checkout_location=_location_ref(loan.checkout_location),
    )


def _hold_out(hold) -> HoldOut:
    return HoldOut(
        id=hold.pk,
        edition_id=hold.edition_id,
        title=hold.edition.title,
        status=hold.status,
        scope=hold.scope,
        pickup_location=_location_ref(hold.pickup_location),
        placed_at=hold.placed_at,
        not_before=hold.not_before,
        queue_position=selectors.queue_position(hold),
        ready_until=hold.ready_until,
    )


def _check_window(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise DomainError(
            "invalid_limit",
            _("Kies een limit van 1 tot en met %(max)s.") % {"max": MAX_LIMIT},
            details={"field": "limit"},
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise DomainError(
            "invalid_offset",
            _("Kies een offset van 0 tot en met %(max)s.") % {"max": MAX_OFFSET},
            details={"field": "offset"},
        )


def _pickup_location(reference: int | str) -> Location:
    location_id = selectors.location_for_reference(reference)
    location = Location.objects.filter(pk=location_id).first() if location_id else None
    if location is None:
        raise NotFound(
            "unknown_location",
            _("Deze afhaallocatie bestaat niet. Kies een locatie van een bibliotheek."),
            details={"field": "pickup_location"},
        )
    return location


# --- loans -----------------------------------------------------------------------------------


@router.get(
    "/loans",
    auth=resident_auth,
    response={200: list[LoanOut], **error_responses(400, 401, 422)},
    operation_id="me_loans_list",
    url_name="me_loans",
    summary="Your loans: open ones, or with history=1 the ones you returned",
    description=(
        "Open loans come soonest due first, each saying whether it can be renewed now and, if "
        "not, why (`renewal_limit`, `reserved`). With `history=1`: the loans you returned, "
        "most recent first, but only while you keep a loan history (`keep_loan_history` in "
        "`GET /me`); otherwise the list is empty. `limit` 1 to 500 (default 100) and `offset` "
        "page through the list. Errors (400): `invalid_limit`, `invalid_offset`."
    ),
)
def me_loans(
    request: HttpRequest, history: bool = False, limit: int = 100, offset: int = 0
) -> list[LoanOut]:
    _check_window(limit, offset)
    person = request.auth
    if history:
        loans = selectors.returned_loans(patron=person)
    else:
        loans = selectors.open_loans(patron=person)
    return [_loan_out(line) for line in selectors.loan_lines(loans[offset : offset + limit])]


@router.post(
    "/loans/{loan_id}/renew",
    auth=resident_auth,
    response={200: LoanOut, **error_responses(401, 403, 404, 409, 422)},
    operation_id="me_loan_renew",
    url_name="me_loan_renew",
    summary="Renew one of your loans",
    description=(
        "Answers the loan with its new due date. Refusals: 404 `loan_not_found` (not your "
        "loan, or no such loan); 409 `loan_closed` (already returned), `renewal_limit`, "
        "`reserved` (someone is waiting for it), `not_renewable`."
    ),
)
def me_loan_renew(request: HttpRequest, loan_id: int) -> LoanOut:
    person = request.auth
    loan = selectors.loan_for_patron(patron=person, loan_id=loan_id)
    services.renew(loan, actor=person)
    renewed = selectors.open_loans(patron=person).filter(pk=loan.pk)
    return _loan_out(selectors.loan_lines(renewed)[0])


# --- holds -----------------------------------------------------------------------------------


@router.get(
    "/holds",
    auth=resident_auth,
    response={200: list[HoldOut], **error_responses(401)},
    operation_id="me_holds_list",
    url_name="me_holds",
    summary="Your holds that are not finished yet",
    description=(
        "Ready to collect first (with the last day to pick them up, `ready_until`), then on "
        "their way, then waiting (with your place in the queue, `queue_position`, 1 = next); "
        "each group in the order you placed them."
    ),
)
def me_holds(request: HttpRequest) -> list[HoldOut]:
    return [_hold_out(hold) for hold in selectors.active_holds(patron=request.auth)]


@router.post(
    "/holds",
    auth=resident_auth,
    response={201: HoldOut, **error_responses(400, 401, 403, 404, 409, 422)},
    operation_id="me_hold_place",
    url_name="me_holds",
    summary="Reserve a title for pick-up at a location",
    description=(
        "Refusals: 400 `invalid_pickup` (no pick-up at that location), `not_physical` (digital "
        "titles are borrowed with `POST /me/digital-loans`); 403 `no_card` (reserving needs a "
        "library card); 404 `unknown_edition`, `unknown_location`; 409 `hold_exists` (you "
        "already reserved it), `already_on_loan`, `hold_limit_reached`, `no_copies` (no copy "
        "within the chosen scope); 422 `invalid_input`."
    ),
)
def me_hold_place(request: HttpRequest, payload: HoldIn):
    person = request.auth
    edition = selectors.edition_for_id(payload.edition)
    pickup = _pickup_location(payload.pickup_location)
    hold = services.hold_place(
        patron=person,
        edition=edition,
        pickup_location=pickup,
        scope=payload.scope,
        not_before=payload.not_before,
        actor=person,
    )
    placed = selectors.active_holds(patron=person).get(pk=hold.pk)
    return Status(201, _hold_out(placed))


@router.delete(
    "/holds/{hold_id}",
    auth=resident_auth,
    response={204: None, **error_responses(401, 403, 404, 409, 422)},
    operation_id="me_hold_cancel",
    url_name="me_hold",
    summary="Cancel one of your holds",
    description=(
        "Refusals: 404 `hold_not_found` (not your hold, or no such hold); 409 `hold_closed` "
        "(already collected, cancelled or expired)."
    ),
)
def me_hold_cancel(request: HttpRequest, hold_id: int):
    person = request.auth
    hold = selectors.hold_for_patron(patron=person, hold_id=hold_id)
    services.hold_cancel(hold, actor=person)
    return Status(204, None)


# --- digital loans ---------------------------------------------------------------------------


@router.post(
    "/digital-loans",
    auth=resident_auth,
    response={201: DigitalLoanOut, **error_responses(400, 401, 403, 404, 409, 422, 503)},
    operation_id="me_digital_loan_create",
    url_name="me_digital_loans",
    summary="Borrow an e-book or audiobook",
    description=(
        "Lends the title under a licence of your library or a national one; it returns itself "
        "at `expires_at`. Refusals: 400 `not_digital` (a printed title: reserve it with "
        "`POST /me/holds`); 403 `account_blocked`; 404 `unknown_edition`; 409 "
        "`no_licence_available` (all lent; `details` says your place and the expected wait), "
        "`already_borrowed`, `limit_reached`; 422 `invalid_input`."
    ),
)
def me_digital_loan_create(request: HttpRequest, payload: DigitalLoanIn):
    person = request.auth
    edition = selectors.edition_for_id(payload.edition)
    digital_checkout = _digital_checkout()
    loan = digital_checkout(patron=person, edition=edition, actor=person)
    return Status(
        201,
        DigitalLoanOut(
            id=loan.pk,
            edition_id=loan.edition_id,
            title=edition.title,
            started_at=loan.started_at,
            expires_at=loan.expires_at,
        ),
    )


def _digital_checkout():
    """``circulation.digital.digital_checkout``, imported when first used: the digital lending
    service is built beside this API. Until it is there the operation answers 503, not 500."""
    try:
        from bieb.circulation.digital import digital_checkout
    except ModuleNotFoundError as exc:
        if exc.name != "bieb.circulation.digital":
            raise
        raise ApiError(
            "service_unavailable",
            _("Digitaal lenen is nog niet beschikbaar. Probeer het later opnieuw."),
            status=503,
        ) from exc
    return digital_checkout
