"""Public API of programming, mounted at ``/api/v1/activities``: the programme with its
filters, one activity with every session, and registering for one (signed in).

The handlers parse, call ``selectors`` or ``services`` and answer. Reads are public
(``auth=None`` on each operation); registering needs a signed-in resident and accepts
``Idempotency-Key``. Every refusal is the service's ``DomainError`` with its stable code.
The resident's own registrations live at ``/api/v1/me/registrations``
(``bieb.api.me_programming``), which answers them in the shape defined here.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.api.idempotency import idempotent
from bieb.catalog.models import Edition, Work
from bieb.core import clock
from bieb.programming import selectors, services
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    PaymentState,
    Registration,
    RegistrationStatus,
)
from bieb.programming.recurrence import Session
from bieb.subscriptions.models import InvoiceStatus

router = Router(tags=["activities"])

MAX_LIMIT = selectors.MAX_PAGE_SIZE
MAX_OFFSET = selectors.CANDIDATE_CAP


# --- schemas ---------------------------------------------------------------------------------


class ActivityFilters(Schema):
    """The programme's filters; every one is optional and they combine (AND)."""

    organisation: str | None = Field(
        None, max_length=100, description="Slug of a library organisation: only its activities."
    )
    location: str | None = Field(
        None, max_length=100, description="Slug of a location: only activities held there."
    )
    date_from: dt.date | None = Field(
        None, description="A session on or after this day (Dutch calendar day, YYYY-MM-DD)."
    )
    date_to: dt.date | None = Field(
        None, description="A session on or before this day (inclusive, YYYY-MM-DD)."
    )
    audience: str | None = Field(
        None,
        max_length=20,
        description="toddlers, primary, teens, adults, seniors, families, everyone.",
    )
    age: int | None = Field(
        None, description="An age (0-120): activities whose age range holds it (or have none)."
    )
    theme: str | None = Field(None, max_length=60, description="A theme, ignoring case.")
    challenge: str | None = Field(
        None,
        max_length=30,
        description="The network agenda's challenge: literate, information_society, lifelong.",
    )
    programme: str | None = Field(
        None,
        max_length=30,
        description="A national programme: boekstart, dbos, digisterker, klik_en_tik, taalhuis, "
        "ido, leesbevordering, debat.",
    )
    price: str | None = Field(None, max_length=10, description="free, paid or credits.")
    kind: str | None = Field(
        None, max_length=20, description="event, series, course, consultation or school."
    )
    with_spaces: bool = Field(
        False, description="true: only activities with seats left (or without registration)."
    )
    near: str | None = Field(
        None,
        max_length=100,
        description="A postcode (3512 or 3512 JK) or a place: activities within `radius_km`, "
        "nearest first (each with `distance_km`).",
    )
    radius_km: float = Field(
        selectors.NEAR_RADIUS_KM, description="With `near`: how far to look, up to 100 km."
    )
    sort: Literal["date", "distance"] | None = Field(
        None, description="`date` (default) or, with `near`, `distance` (the default then)."
    )
    q: str | None = Field(None, max_length=100, description="Words in the title or summary.")
    limit: int = Field(
        selectors.PAGE_SIZE, ge=1, le=MAX_LIMIT, description="Activities per page, 1 to 100."
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many to skip.")


class OrganisationRef(Schema):
    slug: str
    name: str


class LocationRef(Schema):
    slug: str
    name: str
    city: str
    lat: float
    lon: float


class AgesOut(Schema):
    min: int | None = Field(description="The youngest age it is meant for; null: no lower bound.")
    max: int | None = Field(description="The oldest age it is meant for; null: no upper bound.")


class PriceOut(Schema):
    kind: Literal["free", "paid", "credits"] = Field(
        description="`free`; `paid` (per seat, online or at the door); `credits` (the "
        "activity credits of your plan, `credits` per seat)."
    )
    amount_cents: int = Field(
        description="Euro cents per seat, VAT included; for `credits`: what you pay per seat "
        "without credits left (0: credits only)."
    )
    credits: int = Field(description="Activity credits per seat (kind `credits`).")
    pay_at_door: bool = Field(description="Paying at the door is allowed.")


class ActivityOut(Schema):
    """An activity in the programme, at its next session."""

    id: int
    slug: str
    title: str
    summary: str
    kind: str
    audience: str
    ages: AgesOut
    language_level: str | None
    theme: str | None
    challenge: str = Field(description="literate, information_society or lifelong.")
    programme: str | None = Field(description="The national programme it serves, if any.")
    organisation: OrganisationRef
    location: LocationRef
    starts_at: dt.datetime | None = Field(
        description="Start of the next session (running or to come; the last one when all "
        "are over), with the Dutch offset."
    )
    ends_at: dt.datetime | None = Field(description="End of that session.")
    sessions: int = Field(description="How many sessions it has (1 for a one-off).")
    rrule: str | None = Field(
        description="RFC 5545 recurrence of a series or course (FREQ=WEEKLY;COUNT=6)."
    )
    price: PriceOut
    capacity: int = Field(description="Seats; 0: no registration needed, just walk in.")
    seats_left: int
    waitlist: bool = Field(
        description="Full: a registration now goes on the waitlist (false without registration)."
    )
    status: Literal["published", "cancelled"]
    url: str = Field(description="The activity's page on the website.")
    distance_km: float | None = Field(description="From the `near` place; null without it.")


class ActivityListOut(Schema):
    count: int = Field(description="Activities matching the filters, on every page together.")
    limit: int
    offset: int
    truncated: bool = Field(
        description="Very many activities matched: only the first 5,000 by date were weighed."
    )
    results: list[ActivityOut]


class SessionOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    is_past: bool
    is_next: bool


class PartnerOut(Schema):
    name: str
    kind: str
    website: str


class WorkOut(Schema):
    id: int = Field(description="The catalogue work.")
    title: str
    edition_id: int | None = Field(
        description="An edition of it (`GET /api/v1/catalog/editions/{edition_id}`)."
    )


class ActivityDetailOut(ActivityOut):
    description: str
    accessibility: str
    room: str | None = Field(description="The room or stage at the location, if named.")
    max_group_size: int = Field(description="The most seats one registration may take.")
    registration_open: bool = Field(
        description="Registering is possible now (published, not begun, with seats or a waitlist)."
    )
    cancel_reason: str | None
    all_sessions: list[SessionOut]
    partners: list[PartnerOut]
    works: list[WorkOut]


class RegistrationIn(Schema):
    seats: StrictInt = Field(
        1,
        description="Seats to take: more than 1 for a family or a class (up to the "
        "activity's `max_group_size`).",
    )
    pay_at_door: StrictBool = Field(
        False, description="Pay at the door instead of online (when the activity allows it)."
    )


class RegisteredActivityOut(Schema):
    id: int
    slug: str
    title: str
    status: Literal["published", "cancelled"]
    starts_at: dt.datetime = Field(description="Start of the first session.")
    ends_at: dt.datetime = Field(description="End of the last session.")
    next_starts_at: dt.datetime | None = Field(
        description="Start of the next session; null when it is over."
    )
    location: LocationRef
    url: str


class RegistrationOut(Schema):
    """A registration for an activity."""

    id: int
    status: Literal["unconfirmed", "confirmed", "waitlisted", "offered", "cancelled", "expired"] = (
        Field(
            description="`confirmed`: you have your seats; `waitlisted`: you wait for a seat; "
            "`offered`: a seat came free for you, accept it at `url` before "
            "`offer_expires_at`; `cancelled`; `expired` (an offer or online payment not made "
            "in time)."
        )
    )
    seats: int
    payment: Literal["none", "credits", "online", "at_door"] = Field(
        description="How the seats are paid: `none` (free, or not yet decided while waiting), "
        "`credits`, `online` (see `pay_url`) or `at_door`."
    )
    credits_used: int
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    offer_expires_at: dt.datetime | None = Field(
        description="Until when an offered seat, or a seat waiting for an online payment, is "
        "held for you."
    )
    cancelled_at: dt.datetime | None
    url: str = Field(
        description="Your registration's page: the QR code for the door, accept an offer, "
        "cancel. Keep it to yourself."
    )
    pay_url: str | None = Field(
        description="Where to pay online, while the invoice for the seats is open."
    )
    activity: RegisteredActivityOut


# --- building answers ------------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(clock.AMSTERDAM) if moment is not None else None


def _absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _location_ref(location) -> LocationRef:
    return LocationRef(
        slug=location.slug,
        name=location.name,
        city=location.city,
        lat=location.lat,
        lon=location.lon,
    )


def _activity_fields(
    request: HttpRequest,
    activity: Activity,
    *,
    session: Session | None,
    distance_km: float | None = None,
) -> dict:
    sessions = selectors.activity_sessions(activity)
    if session is None and sessions:
        session = sessions[-1]  # every session is over: show the last
    return {
        "id": activity.pk,
        "slug": activity.slug,
        "title": activity.title,
        "summary": activity.summary,
        "kind": activity.kind,
        "audience": activity.audience,
        "ages": AgesOut(min=activity.age_min, max=activity.age_max),
        "language_level": activity.language_level or None,
        "theme": activity.theme or None,
        "challenge": activity.challenge,
        "programme": activity.programme or None,
        "organisation": OrganisationRef(
            slug=activity.organisation.slug, name=activity.organisation.name
        ),
        "location": _location_ref(activity.location),
        "starts_at": _local(session.starts_at if session else None),
        "ends_at": _local(session.ends_at if session else None),
        "sessions": max(len(sessions), 1),
        "rrule": activity.rrule or None,
        "price": PriceOut(
            kind=activity.price_kind,
            amount_cents=activity.price_cents,
            credits=activity.credits,
            pay_at_door=activity.pay_at_door,
        ),
        "capacity": activity.capacity,
        "seats_left": activity.seats_left,
        "waitlist": activity.needs_registration and activity.seats_left <= 0,
        "status": activity.status,
        "url": _absolute(request, "programming:detail", activity.slug),
        "distance_km": round(distance_km, 2) if distance_km is not None else None,
    }


def registration_out(request: HttpRequest, registration: Registration) -> RegistrationOut:
    """The API's answer for ``registration`` (its activity, location and invoice loaded)."""
    activity = registration.activity
    next_one = selectors.next_session(activity)
    invoice = registration.invoice if registration.invoice_id else None
    pay_url = None
    if (
        registration.payment == PaymentState.ONLINE
        and invoice is not None
        and invoice.status == InvoiceStatus.OPEN
        and registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)
    ):
        pay_url = _absolute(request, "payments:pay_invoice", invoice.pk)
    return RegistrationOut(
        id=registration.pk,
        status=registration.status,
        seats=registration.seats,
        payment=registration.payment or "none",
        credits_used=registration.credits_used,
        created_at=_local(registration.created_at),
        confirmed_at=_local(registration.confirmed_at),
        offer_expires_at=_local(registration.offer_expires_at),
        cancelled_at=_local(registration.cancelled_at),
        url=_absolute(request, "programming:registration", registration.token),
        pay_url=pay_url,
        activity=RegisteredActivityOut(
            id=activity.pk,
            slug=activity.slug,
            title=activity.title,
            status=activity.status,
            starts_at=_local(activity.starts_at),
            ends_at=_local(activity.last_ends_at),
            next_starts_at=_local(next_one.starts_at if next_one else None),
            location=_location_ref(activity.location),
            url=_absolute(request, "programming:detail", activity.slug),
        ),
    )


# --- operations ------------------------------------------------------------------------------


@router.get(
    "",
    auth=None,
    response={200: ActivityListOut, **error_responses(400, 404, 422)},
    operation_id="activities_list",
    url_name="activities",
    summary="The programme: activities and courses, filtered, soonest first",
    description=(
        "Published activities with a session that has not ended, ordered by their next "
        "session (nearest first with `near`, unless `sort=date`). Filters combine; `count` is "
        "the number on all pages, `limit` (1-100, default 20) and `offset` page through them. "
        "Times are ISO 8601 with the Dutch offset. Errors: 400 `filter_invalid` (a value "
        "that is not one of the choices; `details.field` names it), `place_not_found` (`near` "
        "is no postcode or place we know); 404 `unknown_organisation`, `unknown_location`; "
        "422 `invalid_input` (a date, number or true/false that cannot be read)."
    ),
)
def activities_list(request: HttpRequest, filters: Query[ActivityFilters]) -> ActivityListOut:
    result = _programme(filters)
    return ActivityListOut(
        count=result.total,
        limit=result.limit,
        offset=result.offset,
        truncated=result.truncated,
        results=[
            ActivityOut(
                **_activity_fields(
                    request,
                    entry.activity,
                    session=Session(entry.starts_at, entry.ends_at),
                    distance_km=entry.distance_km,
                )
            )
            for entry in result.entries
            if entry.activity is not None
        ],
    )


def _programme(filters: ActivityFilters) -> selectors.ProgrammeResult:
    """The programme's activities (not the public room bookings, which have no page or
    registration of their own)."""
    return selectors.programme(
        organisation=filters.organisation or None,
        location=filters.location or None,
        date_from=filters.date_from,
        date_to=filters.date_to,
        audience=filters.audience or "",
        age=filters.age,
        theme=filters.theme or "",
        challenge=filters.challenge or "",
        programme=filters.programme or "",
        price=filters.price or "",
        kind=filters.kind or "",
        with_spaces=filters.with_spaces,
        near=filters.near or None,
        radius_km=filters.radius_km,
        query=filters.q or "",
        sort=filters.sort or "",
        limit=filters.limit,
        offset=filters.offset,
        include_room_events=False,
    )


@router.get(
    "/{activity_id}",
    auth=None,
    response={200: ActivityDetailOut, **error_responses(404, 422)},
    operation_id="activity_get",
    url_name="activity",
    summary="One activity with every session, its partners and catalogue titles",
    description=(
        "A published or cancelled activity (`status`; `cancel_reason` says why). "
        "`starts_at`/`ends_at` are its next session; `all_sessions` lists every one. "
        "`works` are titles from the catalogue it is about. Errors: 404 "
        "`activity_not_found` (no such activity, or not published); 422 `invalid_input` (the "
        "id is not a number)."
    ),
)
def activity_get(request: HttpRequest, activity_id: int) -> ActivityDetailOut:
    # The parts of ``selectors.activity_detail`` (which looks up by slug), by id: four queries.
    activity = selectors.activity_public(pk=activity_id)
    now = clock.now()
    next_one = selectors.next_session(activity, at=now)
    return ActivityDetailOut(
        **_activity_fields(request, activity, session=next_one),
        description=activity.description,
        accessibility=activity.accessibility,
        room=activity.room.name if activity.room_id else None,
        max_group_size=activity.max_group_size,
        # as services.register decides: published, with registration, first session to come
        registration_open=(
            activity.status == ActivityStatus.PUBLISHED
            and activity.needs_registration
            and activity.starts_at > now
        ),
        cancel_reason=(
            activity.cancel_reason or None if activity.status == ActivityStatus.CANCELLED else None
        ),
        all_sessions=[
            SessionOut(
                starts_at=_local(line.starts_at),
                ends_at=_local(line.ends_at),
                is_past=line.is_past,
                is_next=line.is_next,
            )
            for line in selectors.sessions_with_state(activity, at=now)
        ],
        partners=[
            PartnerOut(name=partner.name, kind=partner.kind, website=partner.website)
            for partner in activity.partners.order_by("name")
        ],
        works=_works_of(activity),
    )


def _works_of(activity: Activity) -> list[WorkOut]:
    """The catalogue works of ``activity``, each with an edition to link to (two queries)."""
    works = (
        Work.objects.filter(pk__in=activity.works.values("pk"))
        .order_by("title", "pk")
        .prefetch_related(
            Prefetch("editions", queryset=Edition.objects.order_by("pk").only("pk", "work_id"))
        )
    )
    return [
        WorkOut(
            id=work.pk,
            title=work.title,
            edition_id=next((edition.pk for edition in work.editions.all()), None),
        )
        for work in works
    ]


@router.post(
    "/{activity_id}/registrations",
    auth=resident_auth,
    response={201: RegistrationOut, **error_responses(400, 401, 403, 404, 409, 422)},
    operation_id="activity_register",
    url_name="activity_registrations",
    summary="Register for an activity (yourself, or a group)",
    description=(
        "Takes `seats` seats at once when they are free and nobody is waiting "
        "(`status` `confirmed`), else puts you on the waitlist in arrival order "
        "(`waitlisted`; when seats come free they are offered to you and you are told). A "
        "series or course is one registration for every session. Paying: free activities "
        "cost nothing; `credits` ones use your plan's activity credits; paid ones are paid "
        "online (`pay_url`; the seats wait 30 minutes for the payment) or, with "
        "`pay_at_door` true, at the door when the activity allows it. Body optional "
        '(`{"seats": 1, "pay_at_door": false}`). Refusals: 400 `seats_invalid`, '
        "`too_many_seats`, `pay_at_door_not_allowed`, `idempotency_key_invalid`; 403 "
        "`consent_required` (under 16, without a guardian's consent), `csrf_failed`; 404 "
        "`activity_not_found`; 409 `already_registered`, "
        "`activity_cancelled`, `activity_started`, `no_registration` (walk in, no "
        "registration), `email_unconfirmed` (confirm your e-mail address first), "
        "`no_credits`, `account_needed`; 422 `invalid_input`, `idempotency_key_reused`."
    ),
)
@idempotent
def activity_register(
    request: HttpRequest, activity_id: int, payload: RegistrationIn | None = None
):
    person = request.auth
    payload = payload or RegistrationIn()
    activity = selectors.activity_public(pk=activity_id)
    registration = services.register(
        activity=activity,
        person=person,
        seats=payload.seats,
        pay_at_door=payload.pay_at_door,
        actor=person,
        site_url=request.build_absolute_uri("/"),
    )
    fresh = (
        Registration.objects.select_related("activity__location", "invoice")
        .filter(pk=registration.pk)
        .first()
    )
    return Status(201, registration_out(request, fresh or registration))
