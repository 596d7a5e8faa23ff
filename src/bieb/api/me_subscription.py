"""``/api/v1/plans`` (public) and ``/api/v1/me/subscription``: the plans, and the signed-in
person's own subscription (Abonnement 2.0, ``docs/subscriptions.md``).

Reads go through ``bieb.subscriptions.selectors`` and ``billing``, changes through
``bieb.subscriptions.services``; every refusal is the service's ``DomainError`` with its stable
code. Only the person's own subscription and scheduled changes are ever found: someone else's
change id answers 404 (``change_unknown``). Every write accepts ``Idempotency-Key``
(``bieb.api.idempotency``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status

from bieb.api.auth import resident_auth
from bieb.api.errors import error_responses
from bieb.api.idempotency import idempotent
from bieb.api.schemas import (
    BillingLineOut,
    BillingPeriodOut,
    EntitlementsOut,
    InvoiceLineOut,
    InvoiceOut,
    MeterOut,
    PlanChangeIn,
    PlanChangeOut,
    PlanOut,
    PlanPriceOut,
    PlanRef,
    ScheduledChangeOut,
    SubscribeIn,
    SubscriptionOut,
    SwitchOffIn,
    UsageOut,
)
from bieb.core import clock
from bieb.core.errors import NotFound
from bieb.subscriptions import invoice_pdf, selectors, services
from bieb.subscriptions.models import Plan

plans_router = Router(tags=["subscriptions"])
router = Router(tags=["me"])

#: the refusals every write on an existing subscription may give
_WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


def _plan_ref(plan: Plan) -> PlanRef:
    return PlanRef(code=plan.code, name=plan.name)


# --- plans -----------------------------------------------------------------------------------


@plans_router.get(
    "",
    auth=None,
    response={200: list[PlanOut]},
    operation_id="plans_list",
    url_name="plans",
    summary="The plans you can choose, with what they include and cost today",
    description=(
        "Active public plans, by kind then name. Prices are in euro cents, VAT included "
        "(`vat_rate_bp`, 900 = 9 %); a price change applies from the next period of a "
        "subscription, never to one under way. A plan with `price` null cannot be taken yet."
    ),
)
def plans_list(request: HttpRequest) -> list[PlanOut]:
    plans = list(selectors.plans_public())
    prices = selectors.prices_in_effect(plans, clock.today())
    out = []
    for plan in plans:
        price = prices.get(plan.pk)
        out.append(
            PlanOut(
                code=plan.code,
                name=plan.name,
                description=plan.description,
                kind=plan.kind,
                entitlements=EntitlementsOut(
                    physical_loans=plan.physical_loans,
                    digital_loans_per_month=plan.digital_loans_per_month,
                    streaming=plan.streaming,
                    activity_credits_per_month=plan.activity_credits_per_month,
                    things_at_once=plan.things_at_once,
                    household_seats=plan.household_seats,
                ),
                min_age=plan.min_age,
                max_age=plan.max_age,
                trial_days=plan.trial_days,
                requires_municipal_pass=plan.requires_municipal_pass,
                vat_rate_bp=plan.vat_rate_bp,
                price=PlanPriceOut(
                    effective_from=price.effective_from,
                    monthly_cents=price.monthly_cents,
                    yearly_cents=price.yearly_cents,
                    one_off_cents=price.one_off_cents,
                )
                if price
                else None,
            )
        )
    return out


# --- the subscription as the resident sees it ------------------------------------------------


def _subscription_out(view: selectors.Overview) -> SubscriptionOut:
    subscription, plans = view.subscription, view.plans
    return SubscriptionOut(
        id=subscription.pk,
        plan=_plan_ref(view.plan),
        interval=subscription.interval,
        anchor_day=subscription.anchor_day,
        anchor_month=subscription.anchor_month,
        started_on=subscription.started_on,
        trial_ends_on=subscription.trial_ends_on,
        status=subscription.status,
        on=view.on,
        last_day=subscription.last_day,
        scheduled_changes=[
            ScheduledChangeOut(
                id=change.pk,
                kind=change.kind,
                effective_on=change.effective_on,
                to_plan=_plan_ref(plans[change.to_plan_id]) if change.to_plan_id else None,
            )
            for change in view.changes
        ],
        period=BillingPeriodOut(
            start=view.period.start,
            end=view.period.end,
            lines_so_far=[
                BillingLineOut(
                    plan=_plan_ref(plans[line.plan_id]),
                    first_day=line.first_day,
                    last_day=line.last_day,
                    days=line.days,
                    amount_cents=line.amount_cents,
                )
                for line in view.lines_so_far
            ],
            cost_so_far_cents=view.cost_so_far_cents,
            cost_whole_period_cents=view.cost_whole_period_cents,
        ),
    )


def _current(person) -> SubscriptionOut:
    view = selectors.subscription_overview(person)
    if view is None:
        raise services.no_subscription()
    return _subscription_out(view)


@router.get(
    "/subscription",
    auth=resident_auth,
    response={200: SubscriptionOut, **error_responses(401, 404)},
    operation_id="me_subscription_get",
    url_name="me_subscription",
    summary="Your subscription: plan, on or off, scheduled changes, this period's cost",
    description=(
        "`on` says whether it is switched on today; `scheduled_changes` lists what takes "
        "effect later (undo with `DELETE /me/subscription/changes/{id}`); `period` is the "
        "billing period today falls in, with the days billed so far (a day is billed when the "
        "subscription is on at its end). 404 `no_subscription` when you have none."
    ),
)
def me_subscription(request: HttpRequest) -> SubscriptionOut:
    return _current(request.auth)


# --- writes ----------------------------------------------------------------------------------


@router.post(
    "/subscription",
    auth=resident_auth,
    response={201: SubscriptionOut, **error_responses(400, 401, 403, 404, 409, 422)},
    operation_id="me_subscription_create",
    url_name="me_subscription",
    summary="Take a subscription, from today",
    description=(
        "Periods start today and on the same day every month (or year). A plan with a trial "
        "is free for its trial days the first time. Refusals: 400 `interval_unknown`, "
        "`plan_not_subscribable` (an add-on or day pass), `plan_not_available` (no price "
        "yet), `plan_not_for_age`, `youth_is_free` (under 18 only free plans), "
        "`municipal_pass_invalid`; 404 `plan_unknown`; 409 `already_subscribed`; 422 "
        "`invalid_input`, `idempotency_key_reused`."
    ),
)
@idempotent
def me_subscription_create(request: HttpRequest, payload: SubscribeIn):
    person = request.auth
    services.subscribe(
        person=person,
        plan_code=payload.plan,
        interval=payload.interval,
        municipal_pass_code=payload.municipal_pass_code,
        actor=person,
    )
    return Status(201, _current(person))


@router.post(
    "/subscription/off",
    auth=resident_auth,
    response={200: SubscriptionOut, **_WRITE_ERRORS},
    operation_id="me_subscription_off",
    url_name="me_subscription_off",
    summary="Switch your subscription off, now or from a date",
    description=(
        "Off days are not billed and nothing new can be borrowed (loans in hand stay). Today "
        "frees today; a later date is a scheduled change you can undo until then. Body "
        'optional: `{"from": "YYYY-MM-DD"}`. Refusals: 400 `date_in_past`; 404 '
        "`no_subscription`; 409 `already_switched_off`, `change_pending` (a switch-off or "
        "skipped month is planned then), `subscription_ending` (after your last day)."
    ),
)
@idempotent
def me_subscription_off(request: HttpRequest, payload: SwitchOffIn | None = None):
    person = request.auth
    services.subscription_switch_off(
        person=person, from_date=payload.from_date if payload else None, actor=person
    )
    return _current(person)


@router.post(
    "/subscription/on",
    auth=resident_auth,
    response={200: SubscriptionOut, **_WRITE_ERRORS},
    operation_id="me_subscription_on",
    url_name="me_subscription_on",
    summary="Switch your subscription on again, at once",
    description=(
        "Today is billed again and you may borrow again; ends a switch-off or skipped month "
        "in effect today. Refusals: 404 `no_subscription`; 409 `not_switched_off`; 409 "
        "`suspended_for_payment` (switched off for an unpaid invoice: paying it switches on)."
    ),
)
@idempotent
def me_subscription_on(request: HttpRequest):
    person = request.auth
    services.subscription_switch_on(person=person, actor=person)
    return _current(person)


@router.post(
    "/subscription/skip",
    auth=resident_auth,
    response={200: SubscriptionOut, **_WRITE_ERRORS},
    operation_id="me_subscription_skip",
    url_name="me_subscription_skip",
    summary="Skip the next month (monthly subscriptions)",
    description=(
        "The whole next period is off and not billed; undoable until it starts. Possible "
        f"until {services.SKIP_CUTOFF_DAYS} days before it starts. Refusals: 400 "
        "`skip_monthly_only`; 404 `no_subscription`; 409 `skip_too_late`, `already_skipped`, "
        "`change_pending`, `subscription_ending`."
    ),
)
@idempotent
def me_subscription_skip(request: HttpRequest):
    person = request.auth
    services.subscription_skip_next_month(person=person, actor=person)
    return _current(person)


@router.post(
    "/subscription/change",
    auth=resident_auth,
    response={200: PlanChangeOut, **_WRITE_ERRORS},
    operation_id="me_subscription_change",
    url_name="me_subscription_change",
    summary="Change plan: a dearer one today, a cheaper one from the next period",
    description=(
        "A plan that costs more for the current period is an upgrade: in effect today, the "
        "rest of the period billed per day at its price (`difference_cents`), a pending "
        "downgrade undone. A plan that costs the same or less is a downgrade from the start "
        "of the next period, a scheduled change you can undo (`change_id`). Refusals: 400 "
        "`plan_not_subscribable`, `plan_not_available`, `plan_not_for_age`, `youth_is_free`, "
        "`municipal_pass_invalid`; 404 `plan_unknown`, `no_subscription`; 409 `same_plan`, "
        "`change_pending` (a downgrade is already planned: undo it first), "
        "`subscription_ending`."
    ),
)
@idempotent
def me_subscription_change(request: HttpRequest, payload: PlanChangeIn) -> PlanChangeOut:
    person = request.auth
    done = services.subscription_change_plan(
        person=person,
        plan_code=payload.plan,
        municipal_pass_code=payload.municipal_pass_code,
        actor=person,
    )
    return PlanChangeOut(
        change=done.kind,
        effective_on=done.effective_on,
        change_id=done.change.pk if done.change else None,
        difference_cents=done.difference_cents,
        period_price_difference_cents=done.period_price_difference_cents,
        subscription=_current(person),
    )


@router.post(
    "/subscription/cancel",
    auth=resident_auth,
    response={200: SubscriptionOut, **_WRITE_ERRORS},
    operation_id="me_subscription_cancel",
    url_name="me_subscription_cancel",
    summary="Cancel your subscription",
    description=(
        "It runs to the end of the first term, or after it to the next monthly anchor day "
        "(`last_day` is the last day covered), then ends; a scheduled change you can undo "
        "until then. Refusals: 404 `no_subscription`; 409 `already_cancelled`."
    ),
)
@idempotent
def me_subscription_cancel(request: HttpRequest):
    person = request.auth
    services.subscription_cancel(person=person, actor=person)
    return _current(person)


@router.delete(
    "/subscription/changes/{change_id}",
    auth=resident_auth,
    response={204: None, **_WRITE_ERRORS},
    operation_id="me_subscription_change_undo",
    url_name="me_subscription_scheduled_change",
    summary="Undo a scheduled change before it takes effect",
    description=(
        "Undoes a planned switch-off, skipped month, downgrade or cancellation, and what it "
        "scheduled. Refusals: 404 `change_unknown` (not yours, or no such change), "
        "`no_subscription`; 409 `already_undone`, `change_in_effect`."
    ),
)
@idempotent
def me_subscription_change_undo(request: HttpRequest, change_id: int):
    person = request.auth
    services.subscription_change_undo(person=person, change_id=change_id, actor=person)
    return Status(204, None)


# --- usage and invoices ----------------------------------------------------------------------


@router.get(
    "/usage",
    auth=resident_auth,
    response={200: UsageOut, **error_responses(401)},
    operation_id="me_usage",
    url_name="me_usage",
    summary="What you used this period, against your plan's limits",
)
def me_usage(request: HttpRequest) -> UsageOut:
    person = request.auth
    usage = selectors.usage_of(person)
    rights = selectors.entitlements_for(person)
    return UsageOut(
        period_start=usage.period.start,
        period_end=usage.period.end,
        plan=rights.plan_code,
        on=rights.on,
        meters=[
            MeterOut(meter=m.meter, label=m.label, used=m.used, limit=m.limit, left=m.left)
            for m in usage.meters
        ],
    )


def _invoice_out(invoice) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.pk,
        kind=invoice.kind,
        number=invoice.number,
        status=invoice.status,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on if invoice.kind == "invoice" else None,
        total_cents=invoice.total_cents,
        vat_cents=invoice.vat_cents,
        outstanding_cents=invoice.outstanding_cents,
        corrects=invoice.corrects.number if invoice.corrects_id else None,
        pdf_url=reverse("api:me_invoice_pdf", kwargs={"invoice_id": invoice.pk}),
        lines=[
            InvoiceLineOut(
                kind=line.kind,
                description=line.description,
                first_day=line.first_day,
                last_day=line.last_day,
                days=line.days,
                amount_cents=line.amount_cents,
                vat_rate_bp=line.vat_rate_bp,
                vat_cents=line.vat_cents,
            )
            for line in invoice.lines.all()
        ],
    )


@router.get(
    "/invoices",
    auth=resident_auth,
    response={200: list[InvoiceOut], **error_responses(401)},
    operation_id="me_invoices",
    url_name="me_invoices",
    summary="Your invoices and credit notes, newest first",
)
def me_invoices(request: HttpRequest) -> list[InvoiceOut]:
    invoices = selectors.invoices_of(request.auth).prefetch_related("lines")
    return [_invoice_out(invoice) for invoice in invoices]


@router.get(
    "/invoices/{invoice_id}/pdf",
    auth=resident_auth,
    response={200: None, **error_responses(401, 404)},
    operation_id="me_invoice_pdf",
    url_name="me_invoice_pdf",
    summary="The PDF of one of your invoices or credit notes",
)
def me_invoice_pdf(request: HttpRequest, invoice_id: int):
    invoice = selectors.invoices_of(request.auth).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound("invoice_unknown", _("Deze factuur bestaat niet."))
    response = HttpResponse(invoice_pdf.render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response
