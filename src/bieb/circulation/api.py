"""Staff API of circulation, mounted at ``/api/v1/circulation/``: lend a copy and take one in
at a desk (or a self-service machine acting with a desk account's token).

Who may: desk staff and managers (and network administrators) acting at a location of their
own organisation. The copy may belong to any organisation: a copy of another library that
came here for a hold is lent here, and every location in the country takes returns. Anyone
else signed in gets 403 ``forbidden``; a location of another organisation answers 404
``unknown_location``, exactly like a location that does not exist.

The handlers parse, check access, call ``services`` and answer; every refusal is a
``DomainError`` with a stable code, turned into JSON by the API's error handlers.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from bieb.accounts.access import access_location
from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.api.schemas import IdOrText
from bieb.circulation import selectors, services
from bieb.core.errors import NotFound, PermissionDenied

router = Router(tags=["circulation"])

CHANNEL = "api"


class LocationRef(Schema):
    id: int
    name: str
    slug: str


class CheckoutIn(Schema):
    patron: IdOrText = Field(
        description="The borrower: library card number (14 digits) or account id.",
        examples=["20300000000017"],
    )
    barcode: str = Field(min_length=1, max_length=32, examples=["30000000000012"])
    location: IdOrText = Field(
        description="Where the copy is lent: the id or the slug of a location of your own "
        "organisation.",
        examples=["centrale-bibliotheek"],
    )


class CheckinIn(Schema):
    barcode: str = Field(min_length=1, max_length=32, examples=["30000000000012"])
    location: IdOrText = Field(
        description="Where the copy is taken in: the id or the slug of a location of your own "
        "organisation.",
        examples=["centrale-bibliotheek"],
    )


class CheckoutOut(Schema):
    """The new loan."""

    id: int
    barcode: str
    title: str
    edition_id: int
    patron_id: int
    checked_out_at: dt.datetime
    due_date: dt.date
    location: LocationRef


class CheckinOut(Schema):
    """What to do with the copy now."""

    barcode: str
    title: str
    destination: Literal["shelf", "hold_shelf", "transit"] = Field(
        description="`shelf`: put it on the shelf here; `hold_shelf`: on the hold shelf for "
        "`hold_id`; `transit`: send it to `to_location`."
    )
    to_location: LocationRef | None
    hold_id: int | None
    loan_id: int | None = Field(description="The loan this return ended, if it was on loan.")
    late_days: int
    charge_cents: int = Field(description="Late fee charged to the borrower, in euro cents.")


def _location_ref(location) -> LocationRef:
    return LocationRef(id=location.pk, name=location.name, slug=location.slug)


def desk_location(user, reference: int | str):
    """The location ``reference`` (id or slug) names, when ``user`` is desk staff or a manager
    of its organisation (or a network administrator).

    403 ``forbidden`` without such a role anywhere; 404 ``unknown_location`` for a location
    that does not exist or belongs to another organisation (the two look the same)."""
    location_id = selectors.location_for_reference(reference)
    try:
        # id 0 names nothing: the role is still checked first, so a resident gets 403
        return access_location(user, location_id or 0, need="members")
    except NotFound as exc:
        raise NotFound(
            "unknown_location",
            _(
                "Deze locatie bestaat niet of hoort niet bij uw organisatie. Kies een locatie "
                "waar u werkt."
            ),
            details={"field": "location"},
        ) from exc
    except PermissionDenied as exc:
        if exc.status == 401:
            raise
        raise PermissionDenied(
            "forbidden",
            _(
                "Alleen baliemedewerkers en de directie van een bibliotheek kunnen exemplaren "
                "uitlenen en innemen."
            ),
        ) from exc


@router.post(
    "/checkouts",
    auth=resident_auth,
    response={201: CheckoutOut, **error_responses(400, 401, 403, 404, 409, 422)},
    operation_id="circulation_checkout",
    url_name="circulation_checkouts",
    summary="Lend a copy to a borrower at a desk",
    description=(
        "For desk staff and managers at a location of their own organisation (a location of "
        "another organisation answers 404 `unknown_location`). The copy may belong to any "
        "library. Refusals: 400 `invalid_patron`, `not_physical`; 403 `forbidden` (no desk "
        "role), `no_card`, `account_blocked` (the borrower may not borrow); 404 "
        "`unknown_patron`, `item_unknown`, `unknown_location`; 409 `item_on_loan`, "
        "`item_on_hold` (waiting for someone else), `item_not_lendable`, `limit_reached`; "
        "422 `invalid_input`."
    ),
)
def checkout(request: HttpRequest, payload: CheckoutIn):
    location = desk_location(request.auth, payload.location)
    patron = selectors.patron_for_reference(payload.patron)
    loan = services.checkout(
        patron=patron,
        barcode=payload.barcode,
        location=location,
        actor=request.auth,
        channel=CHANNEL,
    )
    return Status(
        201,
        CheckoutOut(
            id=loan.pk,
            barcode=loan.item.barcode,
            title=loan.item.edition.title,
            edition_id=loan.edition_id,
            patron_id=patron.pk,
            checked_out_at=loan.checked_out_at,
            due_date=loan.due_date,
            location=_location_ref(location),
        ),
    )


@router.post(
    "/checkins",
    auth=resident_auth,
    response={200: CheckinOut, **error_responses(401, 403, 404, 409, 422)},
    operation_id="circulation_checkin",
    url_name="circulation_checkins",
    summary="Take a copy in at a desk and learn where it goes",
    description=(
        "Any location takes in a copy of any library: the loan ends (with a late fee where the "
        "lending library's policy has one; never for under-18s), then the copy goes to the "
        "hold shelf here, in transit to a hold's pick-up location or home, or on the shelf. "
        "For desk staff and managers at a location of their own organisation. Refusals: 403 "
        "`forbidden`; 404 `item_unknown`, `unknown_location`; 409 `item_not_lendable` "
        "(withdrawn copy), `hold_changed` (scan again); 422 `invalid_input`."
    ),
)
def checkin(request: HttpRequest, payload: CheckinIn):
    location = desk_location(request.auth, payload.location)
    result = services.checkin(
        barcode=payload.barcode, location=location, actor=request.auth, channel=CHANNEL
    )
    return CheckinOut(
        barcode=result.item.barcode,
        title=result.item.edition.title,
        destination=result.destination,
        to_location=_location_ref(result.to_location) if result.to_location else None,
        hold_id=result.hold.pk if result.hold else None,
        loan_id=result.loan.pk if result.loan else None,
        late_days=result.was_late_days,
        charge_cents=result.charge.amount_cents if result.charge else 0,
    )
