"""The resident's "Mijn abonnement" (``/mijn/abonnement``): the plan in effect, switching off
and on, what is included, the next invoice with its exact amount, scheduled changes (each
with "ongedaan maken"), skipping next month, changing plan (the price difference is shown
before confirming), cancelling (the last day is shown before confirming), signing up, the
invoices with their PDF, and the direct-debit mandate.

Every page needs a log-in and shows only the person's own subscription, changes and invoices:
someone else's change or invoice answers 404. Buttons are plain forms (POST-redirect-GET); a
refusal of a service (``DomainError``) is shown next to the form it is about, with the
service's status code, never as a server error. Everything works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts.models import YOUTH_AGE, age_on
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.money import format_eur
from bieb.subscriptions import billing, forms, invoicing, mandates, selectors, services
from bieb.subscriptions.invoice_pdf import render as render_invoice_pdf
from bieb.subscriptions.models import (
    ChangeKind,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Plan,
    PlanKind,
    ScheduledChange,
)

ONE_DAY = dt.timedelta(days=1)
MINE = "subscriptions:mine"


def _day(value: dt.date) -> str:
    return date_format(value, "j F Y")


# --- what the screens read (candidates for ``selectors``) -----------------------------------


def own_invoice(person: Any, invoice_id: int) -> Invoice | None:
    return (
        Invoice.objects.filter(pk=invoice_id, person_id=person.pk)
        .exclude(status=InvoiceStatus.DRAFT)
        .first()
    )


@dataclass(frozen=True)
class PlanOffer:
    """A plan as the sign-up and change pages show it, with its price in effect today."""

    plan: Plan
    monthly_cents: int
    yearly_cents: int

    @property
    def monthly(self) -> str:
        return format_eur(self.monthly_cents)

    @property
    def yearly(self) -> str:
        return format_eur(self.yearly_cents)


def plan_offers(person: Any, today: dt.date, *, exclude: Plan | None = None) -> list[PlanOffer]:
    """The base plans a person of this age can choose that have a price today (two queries).
    The services still decide; this only leaves out what would certainly be refused."""
    plans = [
        p
        for p in selectors.plans_public()
        if p.kind == PlanKind.BASE and (exclude is None or p.pk != exclude.pk)
    ]
    age = age_on(person.birth_date, today)
    prices = selectors.prices_in_effect(plans, today)
    offers = [
        PlanOffer(plan, prices[plan.pk].monthly_cents, prices[plan.pk].yearly_cents)
        for plan in plans
        if plan.pk in prices and plan.admits_age(age)
    ]
    if age is not None and age < YOUTH_AGE:  # Wsob art. 13: under-18s pay nothing to borrow
        offers = [o for o in offers if not (o.monthly_cents or o.yearly_cents)]
    return offers


@dataclass(frozen=True)
class ChangePreview:
    """What changing to ``plan`` means, before it is confirmed (the same sums as
    ``services.subscription_change_plan``; a test holds them to it)."""

    plan: Plan
    #: ``upgrade`` (today) or ``downgrade`` (from the next period)
    kind: str
    effective_on: dt.date
    #: the whole-period prices compared, for the period the new plan starts in
    old_period_cents: int
    new_period_cents: int
    #: what the rest of the current period costs more (an upgrade; 0 for a downgrade)
    rest_difference_cents: int
    period: Any

    @property
    def period_difference_cents(self) -> int:
        return self.new_period_cents - self.old_period_cents

    # as the templates show them
    @property
    def old_period(self) -> str:
        return format_eur(self.old_period_cents)

    @property
    def new_period(self) -> str:
        return format_eur(self.new_period_cents)

    @property
    def period_difference(self) -> str:
        return format_eur(abs(self.period_difference_cents))

    @property
    def rest_difference(self) -> str:
        return format_eur(self.rest_difference_cents)

    @property
    def period_last_day(self) -> dt.date:
        return self.period.end - ONE_DAY


def _not_available() -> DomainError:
    return DomainError(
        "plan_not_available",
        _("Deze abonnementsvorm heeft nog geen prijs en is nog niet te krijgen."),
    )


def plan_change_preview(view: selectors.Overview, plan: Plan, today: dt.date) -> ChangePreview:
    """Upgrade or downgrade, and the amounts: ``services.plan_change_quote`` runs the change
    and rolls it back, so the page shows what confirming will do."""
    subscription, current = view.subscription, view.plan
    quote = services.plan_change_quote(person=subscription.person, plan_code=plan.code)
    start = quote.effective_on if quote.kind == "downgrade" else view.period.start
    try:
        old = billing.price_book_for([current.pk]).price(current.pk, subscription.interval, start)
    except LookupError:
        raise _not_available() from None
    return ChangePreview(
        plan,
        quote.kind,
        quote.effective_on,
        old,
        old + quote.period_price_difference_cents,
        quote.difference_cents,
        view.period,
    )


def _prices_only(view: selectors.Overview, plan: Plan) -> ChangePreview:
    """The whole-period prices side by side, for a confirm page that shows a refusal."""
    subscription, current = view.subscription, view.plan
    book = billing.price_book_for([current.pk, plan.pk])
    start = view.period.start
    try:
        old = book.price(current.pk, subscription.interval, start)
        new = book.price(plan.pk, subscription.interval, start)
    except LookupError:
        raise _not_available() from None
    return ChangePreview(plan, "", start, old, new, 0, view.period)


def cancel_last_day(subscription: Any, today: dt.date) -> dt.date:
    """The last day if the subscription is cancelled today (``services.cancel_quote``)."""
    return services.cancel_quote(person=subscription.person)


def masked_iban(iban: str) -> str:
    """An IBAN with all but its last four characters hidden, in groups of four."""
    compact = "".join((iban or "").split()).upper()
    hidden = "•" * max(len(compact) - 4, 0) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


# --- the overview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRow:
    change: ScheduledChange
    text: str


def _describe_change(change: ScheduledChange, plans: dict[int, Plan]) -> str:
    day = _day(change.effective_on)
    if change.kind == ChangeKind.OFF:
        return _("Gaat uit op %(date)s.") % {"date": day}
    if change.kind == ChangeKind.SKIP_NEXT_MONTH:
        return _("Je slaat de maand over die op %(date)s begint.") % {"date": day}
    if change.kind == ChangeKind.DOWNGRADE:
        plan = plans.get(change.to_plan_id) or change.to_plan
        return _("Vanaf %(date)s heb je %(plan)s.") % {"date": day, "plan": plan.name}
    return _("Opgezegd: je laatste dag is %(date)s.") % {
        "date": _day(change.effective_on - ONE_DAY)
    }


def included(limits: Any) -> list[tuple[str, str]]:
    """What a plan (or ``entitlements_for``'s answer) includes, in words: (label, value)."""
    return [
        (_("Boeken en meer tegelijk lenen"), str(limits.physical_loans)),
        (_("E-books en luisterboeken per maand"), str(limits.digital_loans_per_month)),
        (_("Films en series streamen"), _("ja") if limits.streaming else _("nee")),
        (_("Activiteiten per maand"), str(limits.activity_credits_per_month)),
        (_("Spullen tegelijk lenen"), str(limits.things_at_once)),
    ]


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice

    @property
    def total(self) -> str:
        return format_eur(self.invoice.total_cents)

    @property
    def outstanding(self) -> str:
        return format_eur(self.invoice.outstanding_cents)


def _next_invoice(preview: invoicing.Preview) -> dict[str, Any]:
    return {
        "issued_on": preview.issued_on,
        "lines": [(x.description, format_eur(x.amount_cents)) for x in preview.lines],
        "credit_lines": [(x.description, format_eur(x.amount_cents)) for x in preview.credit_lines],
        "total_cents": preview.total_cents,
        "total": format_eur(preview.total_cents),
        "vat": format_eur(preview.vat_cents),
        "credit_cents": preview.credit_cents,
        "credit": format_eur(preview.credit_cents),
    }


def _day_pass_context(person: Any, today: dt.date) -> dict[str, Any]:
    """The day pass on offer (adults without a subscription) and whether one is paid today."""
    age = age_on(person.birth_date, today)
    plan = Plan.objects.filter(kind=PlanKind.DAY_PASS, is_active=True).order_by("pk").first()
    if plan is None or (age is not None and age < YOUTH_AGE):
        return {}
    price = selectors.prices_in_effect([plan], today).get(plan.pk)
    if price is None or not price.one_off_cents:
        return {}
    return {
        "day_pass_price": format_eur(price.one_off_cents),
        "day_pass_today": selectors.day_pass_of(person, today=today) is not None,
    }


def _overview_context(person: Any, today: dt.date) -> dict[str, Any]:
    view = selectors.subscription_overview(person, today=today)
    rows = list(selectors.invoices_of(person))
    open_cents = sum(i.outstanding_cents for i in rows)
    context: dict[str, Any] = {
        "view": view,
        "today": today,
        "has_invoices": bool(rows),
        "open_cents": open_cents,
        "open": format_eur(open_cents),
    }
    if view is None:
        shared = selectors.household_subscription_of(person, today=today)
        if shared is not None:
            # a household member uses the manager's household plan, under their own limits
            context.update(
                shared=shared,
                included=included(selectors.entitlements_for(person, today=today)),
            )
        else:
            context.update(_day_pass_context(person, today))
        return context
    subscription = view.subscription
    entitlements = selectors.entitlements_for(person, today=today)
    context.update(
        subscription=subscription,
        entitlements=entitlements,
        # switched off, the entitlements are all zero: show what the plan gives when it is on
        included=included(entitlements if entitlements.on else view.plan),
        usage=selectors.usage_of(person, today=today),
        next_invoice=_next_invoice(invoicing.invoice_preview(subscription, today=today)),
        period_cost=format_eur(view.cost_whole_period_cents),
        period_last_day=view.period.end - ONE_DAY,
        changes=[ChangeRow(c, _describe_change(c, view.plans)) for c in view.changes],
        can_skip=subscription.interval == "month",
        skip_cutoff_days=services.SKIP_CUTOFF_DAYS,
        in_trial=subscription.trial_ends_on is not None and subscription.trial_ends_on > today,
    )
    return context


def _mine_page(
    request: HttpRequest,
    *,
    off_form: forms.SwitchOffForm | None = None,
    refusals: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    person = request.user
    context = _overview_context(person, clock.today())
    context.update(
        off_form=off_form or forms.SwitchOffForm(),
        refusals=refusals or {},
    )
    return render(request, "subscriptions/mine/overview.html", context, status=status)


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return _mine_page(request)


def _refused(request: HttpRequest, where: str, exc: DomainError) -> HttpResponse:
    """The overview again, with the refusal next to the button it is about (``where``)."""
    return _mine_page(request, refusals={where: exc.message}, status=exc.status)


@login_required
@require_POST
def switch_off(request: HttpRequest) -> HttpResponse:
    person = request.user
    form = forms.SwitchOffForm(request.POST)
    if not form.is_valid():
        return _mine_page(request, off_form=form, status=400)
    try:
        off = services.subscription_switch_off(
            person=person, from_date=form.cleaned_data["from_date"], actor=person
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return _mine_page(request, off_form=form, status=exc.status)
    if off.off_from > clock.today():
        messages.success(
            request,
            _("Je abonnement gaat uit op %(date)s. Tot die dag kun je dat ongedaan maken.")
            % {"date": _day(off.off_from)},
        )
    else:
        messages.success(
            request,
            _("Je abonnement staat uit. Vanaf vandaag betaal je niets, tot je het weer aanzet."),
        )
    return redirect(MINE)


@login_required
@require_POST
def switch_on(request: HttpRequest) -> HttpResponse:
    person = request.user
    try:
        services.subscription_switch_on(person=person, actor=person)
    except DomainError as exc:
        return _refused(request, "on", exc)
    messages.success(request, _("Je abonnement staat weer aan. Je kunt weer lenen."))
    return redirect(MINE)


@login_required
@require_POST
def skip_next_month(request: HttpRequest) -> HttpResponse:
    person = request.user
    try:
        change = services.subscription_skip_next_month(person=person, actor=person)
    except DomainError as exc:
        return _refused(request, "skip", exc)
    messages.success(
        request,
        _("Je slaat de maand over die op %(date)s begint. Die maand betaal je niets.")
        % {"date": _day(change.effective_on)},
    )
    return redirect(MINE)


@login_required
@require_POST
def change_undo(request: HttpRequest, change_id: int) -> HttpResponse:
    person = request.user
    try:
        change = services.subscription_change_undo(person=person, change_id=change_id, actor=person)
    except DomainError as exc:
        if exc.code == "change_unknown":
            raise Http404(exc.message) from exc
        return _mine_page(
            request, refusals={"change": exc.message, "change_id": change_id}, status=exc.status
        )
    messages.success(
        request,
        _("Ongedaan gemaakt: %(what)s") % {"what": _describe_change(change, {})},
    )
    return redirect(MINE)


# --- signing up ------------------------------------------------------------------------------


@never_cache
@login_required
def subscribe(request: HttpRequest) -> HttpResponse:
    """Choose a plan and pay per month or per year; POST takes it from today."""
    person = request.user
    today = clock.today()
    offers = plan_offers(person, today)
    form = forms.SubscribeForm(
        request.POST if request.method == "POST" else None, plans=[o.plan for o in offers]
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():  # the service refuses an under-16 without consent (403)
            data = form.cleaned_data
            try:
                subscription = services.subscribe(
                    person=person,
                    plan_code=data["plan"],
                    interval=data["interval"],
                    municipal_pass_code=data["municipal_pass_code"],
                    actor=person,
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Welkom! Je abonnement %(plan)s gaat vandaag in.")
                    % {"plan": subscription.plan.name},
                )
                return redirect(MINE)
    return render(
        request,
        "subscriptions/mine/subscribe.html",
        {
            "form": form,
            "offers": offers,
            "current": selectors.subscription_of(person, today=today),
        },
        status=status,
    )


# --- changing plan ---------------------------------------------------------------------------


@never_cache
@login_required
def change_plan(request: HttpRequest) -> HttpResponse:
    """Step one (GET): choose a plan. Step two (GET ``?plan=``): the price difference, and a
    button to confirm. POST: change (an upgrade today, a downgrade from the next period)."""
    person = request.user
    today = clock.today()
    view = selectors.subscription_overview(person, today=today)
    if view is None:
        return render(
            request,
            "subscriptions/mine/change_choose.html",
            {"view": None, "refusal": services.no_subscription().message},
        )
    offers = plan_offers(person, today, exclude=view.plan)
    plans = [o.plan for o in offers]
    if request.method == "POST":
        return _change_confirm(request, view, offers, today)
    if "plan" not in request.GET:
        form = forms.PlanChangeChoiceForm(plans=plans)
        return _choose_page(request, view, offers, form)
    form = forms.PlanChangeChoiceForm(request.GET, plans=plans)
    if not form.is_valid():
        return _choose_page(request, view, offers, form, status=400)
    plan = next(p for p in plans if p.code == form.cleaned_data["plan"])
    try:
        preview = plan_change_preview(view, plan, today)
    except DomainError as exc:
        form.add_domain_error(exc)
        return _choose_page(request, view, offers, form, status=exc.status)
    confirm = forms.PlanChangeConfirmForm(initial={"plan": plan.code})
    return _confirm_page(request, view, preview, confirm)


def _choose_page(request, view, offers, form, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "subscriptions/mine/change_choose.html",
        {"view": view, "offers": offers, "form": form, "interval": view.subscription.interval},
        status=status,
    )


def _confirm_page(request, view, preview, form, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "subscriptions/mine/change_confirm.html",
        {"view": view, "preview": preview, "form": form, "interval": view.subscription.interval},
        status=status,
    )


def _change_confirm(request: HttpRequest, view, offers, today: dt.date) -> HttpResponse:
    person = request.user
    form = forms.PlanChangeConfirmForm(request.POST)
    plan = None
    if form.is_valid():
        plan = next((o.plan for o in offers if o.plan.code == form.cleaned_data["plan"]), None)
    if plan is None:
        choose = forms.PlanChangeChoiceForm(request.POST, plans=[o.plan for o in offers])
        choose.is_valid()
        return _choose_page(request, view, offers, choose, status=400)
    try:
        preview = plan_change_preview(view, plan, today)
    except DomainError as refusal:
        try:
            preview = _prices_only(view, plan)  # the refusal is shown when confirming below
        except DomainError:
            choose = forms.PlanChangeChoiceForm(request.POST, plans=[o.plan for o in offers])
            choose.is_valid()
            choose.add_domain_error(refusal)
            return _choose_page(request, view, offers, choose, status=refusal.status)
    try:
        done = services.subscription_change_plan(
            person=person,
            plan_code=plan.code,
            municipal_pass_code=form.cleaned_data["municipal_pass_code"],
            actor=person,
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return _confirm_page(request, view, preview, form, status=exc.status)
    if done.kind == "upgrade":
        messages.success(
            request,
            _("Je hebt nu %(plan)s. De rest van deze periode kost %(amount)s meer.")
            % {"plan": plan.name, "amount": format_eur(done.difference_cents)},
        )
    else:
        messages.success(
            request,
            _("Vanaf %(date)s heb je %(plan)s. Tot die dag kun je dat ongedaan maken.")
            % {"date": _day(done.effective_on), "plan": plan.name},
        )
    return redirect(MINE)


# --- cancelling ------------------------------------------------------------------------------


@never_cache
@login_required
def cancel(request: HttpRequest) -> HttpResponse:
    """GET: what cancelling means (the last day); POST: cancel. As easy as signing up."""
    person = request.user
    today = clock.today()
    status = 200
    refusal = ""
    if request.method == "POST":
        try:
            change = services.subscription_cancel(person=person, actor=person)
        except DomainError as exc:
            refusal, status = exc.message, exc.status
        else:
            messages.success(
                request,
                _(
                    "Je abonnement is opgezegd. Je laatste dag is %(date)s. Tot die dag kun je "
                    "de opzegging ongedaan maken."
                )
                % {"date": _day(change.effective_on - ONE_DAY)},
            )
            return redirect(MINE)
    view = selectors.subscription_overview(person, today=today)
    context: dict[str, Any] = {"view": view, "refusal": refusal}
    if view is not None:
        subscription = view.subscription
        context["pending_cancel"] = next(
            (c for c in view.changes if c.kind == ChangeKind.CANCEL), None
        )
        if subscription.last_day is None:
            context["last_day"] = cancel_last_day(subscription, today)
    elif not refusal:
        context["refusal"] = services.no_subscription().message
    return render(request, "subscriptions/mine/cancel.html", context, status=status)


# --- invoices --------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def invoices(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.invoices_of(request.user))
    open_cents = sum(i.outstanding_cents for i in rows)
    return render(
        request,
        "subscriptions/mine/invoices.html",
        {
            "rows": [InvoiceRow(i) for i in rows],
            "open_cents": open_cents,
            "open": format_eur(open_cents),
            "credit_note": DocumentKind.CREDIT_NOTE,
        },
    )


@never_cache
@login_required
@require_GET
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The PDF of one of the person's own invoices or credit notes (404 for anyone else's)."""
    invoice = own_invoice(request.user, invoice_id)
    if invoice is None:
        raise Http404(_("Deze factuur bestaat niet."))
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


# --- payment method --------------------------------------------------------------------------


@never_cache
@login_required
def payment_method(request: HttpRequest) -> HttpResponse:
    """The active SEPA mandate (IBAN masked), and a form to give one (or a new one)."""
    person = request.user
    form = forms.MandateForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                mandates.mandate_create(
                    person=person,
                    iban=data["iban"],
                    account_holder=data["account_holder"],
                    actor=person,
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Dank je. We schrijven je facturen voortaan af van je rekening."),
                )
                return redirect("subscriptions:payment_method")
    mandate = mandates.mandate_of(person)
    return render(
        request,
        "subscriptions/mine/payment_method.html",
        {
            "form": form,
            "mandate": mandate,
            "masked_iban": masked_iban(mandate.iban) if mandate else "",
            "last_four": "".join(mandate.iban.split())[-4:] if mandate else "",
        },
        status=status,
    )


@login_required
@require_POST
def day_pass(request: HttpRequest) -> HttpResponse:
    """Buy a day pass for today: an invoice, then the online payment page."""
    try:
        invoice = services.day_pass_buy(person=request.user, actor=request.user)
    except DomainError as exc:
        return _refused(request, "day_pass", exc)
    if invoice.status == InvoiceStatus.PAID:
        messages.success(request, _("Je dagpas voor vandaag is betaald. Veel plezier!"))
        return redirect(MINE)
    return redirect("payments:pay_invoice", invoice_id=invoice.pk)
