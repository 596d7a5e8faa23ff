"""``/api/v1/me/registrations``: the signed-in person's own registrations for activities.

Only the person's own registrations are ever found: another person's id answers 404
``registration_not_found``, never 403, so ids reveal nothing. Registering is
``POST /api/v1/activities/{id}/registrations`` (``bieb.programming.api``); cancelling goes
through ``bieb.programming.services.registration_cancel``, which offers the seats at once to
the first on the waitlist.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.api.idempotency import idempotent
from bieb.core.errors import NotFound
from bieb.programming import selectors, services
from bieb.programming.api import RegistrationOut, registration_out
from bieb.programming.models import Registration

router = Router(tags=["me"])

MAX_LIMIT = 100
MAX_OFFSET = 100_000


class RegistrationsWindow(Schema):
    live: bool | None = Field(
        None,
        description="true: only registrations that still count (confirmed, waitlisted, "
        "offered); false: only cancelled and expired ones; leave out for all.",
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="1 to 100 per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class RegistrationListOut(Schema):
    count: int = Field(description="Your registrations on every page together.")
    limit: int
    offset: int
    results: list[RegistrationOut]


def _registrations_of(person, *, live: bool | None = None) -> QuerySet[Registration]:
    """The person's own registrations, newest first, with what the answer shows loaded."""
    return selectors.registrations_of(person, live=live).order_by("-created_at", "-pk")


def _own_registration(person, registration_id: int) -> Registration:
    found = _registrations_of(person).filter(pk=registration_id).first()
    if found is None:
        raise NotFound(
            "registration_not_found",
            _("Deze aanmelding bestaat niet, of is niet van jou."),
        )
    return found


@router.get(
    "/registrations",
    auth=resident_auth,
    response={200: RegistrationListOut, **error_responses(401, 422)},
    operation_id="me_registrations_list",
    url_name="me_registrations",
    summary="Your registrations for activities, newest first",
    description=(
        "Every registration you made, those that still count and those cancelled or "
        "expired, newest first; `live` narrows it down. `limit` (1-100, default 20) and "
        "`offset` page through them; `count` is the number on all pages. `url` is the "
        "registration's own page (its QR code for the door); `pay_url` is where to pay "
        "while an online payment is open."
    ),
)
def me_registrations(
    request: HttpRequest, window: Query[RegistrationsWindow]
) -> RegistrationListOut:
    registrations = _registrations_of(request.auth, live=window.live)
    page = registrations[window.offset : window.offset + window.limit]
    return RegistrationListOut(
        count=registrations.count(),
        limit=window.limit,
        offset=window.offset,
        results=[registration_out(request, registration) for registration in page],
    )


@router.delete(
    "/registrations/{registration_id}",
    auth=resident_auth,
    response={204: None, **error_responses(400, 401, 403, 404, 409, 422)},
    operation_id="me_registration_cancel",
    url_name="me_registration",
    summary="Cancel one of your registrations",
    description=(
        "Frees your seats (they are offered at once to the first on the waitlist) or your "
        "place on the waitlist; activity credits come back and an online payment is voided "
        "or credited. Answers 204 without a body. Refusals: 400 `idempotency_key_invalid`; "
        "403 `csrf_failed` (signed in with the browser session, without the CSRF token); "
        "404 `registration_not_found` (not yours, or no such registration); 409 "
        "`registration_not_live` (already cancelled or expired); 422 `idempotency_key_reused`."
    ),
)
@idempotent
def me_registration_cancel(request: HttpRequest, registration_id: int):
    person = request.auth
    registration = _own_registration(person, registration_id)
    services.registration_cancel(registration=registration, actor=person)
    return Status(204, None)
