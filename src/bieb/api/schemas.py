"""Request and response bodies of the API's own operations (auth and /me, including the
person's loans, holds and subscription, and the public plans)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import BeforeValidator, StrictInt, WithJsonSchema

from bieb.core import clock


def _id_or_text(value: Any) -> str:
    """A whole number or a text, as text: ids, card numbers and slugs arrive either way."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(_("Vul hier een nummer of een tekst in."))


#: an id (a JSON number) or a text such as a slug or a card number; the handler reads it
IdOrText = Annotated[
    str,
    BeforeValidator(_id_or_text),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}]}),
]


class TokenCreateIn(Schema):
    email: str = Field(min_length=1, max_length=254, examples=["a.jansen@example.nl"])
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(
        "",
        max_length=100,
        description="Your own label for the token, e.g. the app that uses it.",
        examples=["Leesapp op mijn telefoon"],
    )


class TokenCreatedOut(Schema):
    token: str = Field(description="The secret. Shown only now: store it safely.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime


class TokenOut(Schema):
    """A token as listed: never the secret, only the first characters to recognise it."""

    id: int
    name: str
    key_prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime
    is_expired: bool

    @staticmethod
    def resolve_is_expired(obj) -> bool:
        return obj.expires_at <= clock.now()


class OrganisationRef(Schema):
    id: int
    name: str
    slug: str


class HouseholdRef(Schema):
    id: int
    name: str
    is_manager: bool


class RoleOut(Schema):
    role: str
    organisation_slug: str | None


class MeOut(Schema):
    """The signed-in person's own profile."""

    id: int
    email: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    age: int | None
    is_youth: bool
    card_number: str | None
    home_organisation: OrganisationRef | None
    household: HouseholdRef | None
    roles: list[RoleOut]
    email_verified: bool
    keep_loan_history: bool
    preferred_language: str


# --- /me/loans, /me/holds, /me/digital-loans ---------------------------------------------------


class LocationRef(Schema):
    id: int
    name: str
    slug: str


class LoanOut(Schema):
    """One of your loans (open, or returned and kept in your loan history)."""

    id: int
    edition_id: int
    title: str
    barcode: str
    checked_out_at: dt.datetime
    due_date: dt.date
    returned_at: dt.datetime | None
    renewals: int = Field(description="How often it was renewed so far.")
    max_renewals: int = Field(description="How often the lending library allows a renewal.")
    renewable: bool
    renewal_refusal: str | None = Field(
        description="Why it cannot be renewed now: `renewal_limit`, `reserved` (someone is "
        "waiting for it) or `loan_closed`; null when it can."
    )
    overdue_days: int = Field(description="Days past the due date; 0 when not late.")
    checkout_location: LocationRef


class HoldIn(Schema):
    edition: StrictInt = Field(
        description="The id of the title (edition) to reserve.", examples=[42]
    )
    pickup_location: IdOrText = Field(
        description="Where you will pick it up: a location id or slug.",
        examples=["centrale-bibliotheek"],
    )
    scope: Literal["location", "organisation", "national"] = Field(
        "national",
        description="Where a copy may come from: only the pick-up location, its library "
        "organisation, or the whole country.",
    )
    not_before: dt.date | None = Field(
        None, description="Keep your place in the queue but do not serve it before this day."
    )


class HoldOut(Schema):
    """One of your holds that is not finished yet."""

    id: int
    edition_id: int
    title: str
    status: Literal["waiting", "in_transit", "ready"]
    scope: str
    pickup_location: LocationRef
    placed_at: dt.datetime
    not_before: dt.date | None
    queue_position: int | None = Field(
        description="Your place in the queue for this title (1 = next); only while waiting."
    )
    ready_until: dt.date | None = Field(
        description="Pick it up at the latest on this day; only when ready."
    )


class DigitalLoanIn(Schema):
    edition: StrictInt = Field(
        description="The id of the e-book or audiobook edition.", examples=[42]
    )


class DigitalLoanOut(Schema):
    id: int
    edition_id: int
    title: str
    started_at: dt.datetime
    expires_at: dt.datetime


# --- /plans and /me/subscription ---------------------------------------------------------------


class EntitlementsOut(Schema):
    """What a plan includes; 0 means "not included"."""

    physical_loans: int = Field(description="Printed books and other copies at once.")
    digital_loans_per_month: int = Field(description="E-books and audiobooks per month.")
    streaming: bool
    activity_credits_per_month: int
    things_at_once: int = Field(description="Things from the library of things at once.")
    household_seats: int = Field(description="People in the household who share the plan.")


class PlanPriceOut(Schema):
    """The price in effect today, VAT included, in euro cents."""

    effective_from: dt.date
    monthly_cents: int
    yearly_cents: int
    one_off_cents: int = Field(description="The price of one pass (day pass); 0 otherwise.")


class PlanOut(Schema):
    code: str
    name: str
    description: str
    kind: Literal["base", "addon", "day_pass"] = Field(
        description="`base`: a subscription of its own; `addon`: extends a base plan; "
        "`day_pass`: one day, paid once."
    )
    entitlements: EntitlementsOut
    min_age: int | None
    max_age: int | None
    trial_days: int = Field(description="Free days at the start of a first subscription.")
    requires_municipal_pass: bool = Field(
        description="The reduced rate for holders of a stadspas: send `municipal_pass_code`."
    )
    vat_rate_bp: int = Field(description="VAT in basis points: 900 = 9 %.")
    price: PlanPriceOut | None = Field(
        description="null: the plan has no price yet and cannot be taken yet."
    )


class PlanRef(Schema):
    code: str
    name: str


class ScheduledChangeOut(Schema):
    """A change that takes effect later; undo it with `DELETE /me/subscription/changes/{id}`."""

    id: int
    kind: Literal["off", "skip_next_month", "downgrade", "cancel"]
    effective_on: dt.date
    to_plan: PlanRef | None = Field(description="The plan a downgrade switches to.")


class BillingLineOut(Schema):
    plan: PlanRef
    first_day: dt.date
    last_day: dt.date
    days: int
    amount_cents: int


class BillingPeriodOut(Schema):
    """The billing period today falls in, and what it costs."""

    start: dt.date
    end: dt.date = Field(description="The first day of the next period (not included).")
    lines_so_far: list[BillingLineOut] = Field(
        description="The billed days from the start of the period up to and including today."
    )
    cost_so_far_cents: int
    cost_whole_period_cents: int = Field(
        description="The whole period as things stand, scheduled changes included."
    )


class SubscriptionOut(Schema):
    """Your subscription."""

    id: int
    plan: PlanRef = Field(description="The plan in effect today.")
    interval: Literal["month", "year"]
    anchor_day: int = Field(description="Periods start on this day of the month (or the last).")
    anchor_month: int = Field(description="Yearly periods start in this month.")
    started_on: dt.date
    trial_ends_on: dt.date | None = Field(description="The first paid day after a free trial.")
    status: Literal["active", "ended"]
    on: bool = Field(description="Switched on today: you may borrow and it is billed.")
    last_day: dt.date | None = Field(description="The last day covered, once cancelled.")
    scheduled_changes: list[ScheduledChangeOut]
    period: BillingPeriodOut


class SubscribeIn(Schema):
    plan: str = Field(min_length=1, max_length=40, examples=["basis"])
    interval: str = Field(
        "month", max_length=10, description="`month` or `year`.", examples=["month"]
    )
    municipal_pass_code: str = Field(
        "", max_length=40, description="The stadspas code, for a plan that needs one."
    )


class SwitchOffIn(Schema):
    from_date: dt.date | None = Field(
        None,
        alias="from",
        description="Switch off from this day (today or later); default today.",
    )


class PlanChangeIn(Schema):
    plan: str = Field(min_length=1, max_length=40, examples=["compleet"])
    municipal_pass_code: str = Field("", max_length=40)


class PlanChangeOut(Schema):
    change: Literal["upgrade", "downgrade"] = Field(
        description="`upgrade`: in effect today; `downgrade`: from the start of the next period."
    )
    effective_on: dt.date
    change_id: int | None = Field(
        description="The scheduled change of a downgrade (undo it before `effective_on`)."
    )
    difference_cents: int = Field(
        description="What the rest of the current period costs more (an upgrade); 0 for a "
        "downgrade, which leaves the current period as it is."
    )
    period_price_difference_cents: int = Field(
        description="New minus old price of a whole period (month or year) from `effective_on`."
    )
    subscription: SubscriptionOut


class MeterOut(Schema):
    meter: Literal["loans", "digital_loans", "activity_credits"]
    label: str
    used: int = Field(description="Used in this period, at every library together.")
    limit: int | None = Field(
        description="The plan's limit per period; null: none per period (printed books are "
        "limited at once, not per month)."
    )
    left: int | None


class UsageOut(Schema):
    """What you used this period against what your plan includes. Reaching a limit is never
    charged: you are asked to wait for the next period or to choose a larger plan."""

    period_start: dt.date
    period_end: dt.date = Field(description="The first day of the next period (not included).")
    plan: str = Field(description="The plan code in effect, empty without a subscription.")
    on: bool
    meters: list[MeterOut]


class InvoiceLineOut(Schema):
    kind: Literal["subscription", "fee", "day_pass", "correction"]
    description: str
    first_day: dt.date | None
    last_day: dt.date | None
    days: int
    amount_cents: int = Field(description="VAT included.")
    vat_rate_bp: int
    vat_cents: int


class InvoiceOut(Schema):
    """An invoice or a credit note (a credit note takes its total off what you owe)."""

    id: int
    kind: Literal["invoice", "credit_note"]
    number: str
    status: Literal["open", "paid", "void", "uncollectible"]
    issued_on: dt.date
    due_on: dt.date | None
    total_cents: int
    vat_cents: int
    outstanding_cents: int = Field(description="What is still to pay (0 for a credit note).")
    corrects: str | None = Field(description="The number of the invoice a credit note corrects.")
    pdf_url: str
    lines: list[InvoiceLineOut]
