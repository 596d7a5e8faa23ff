"""Staff screens of Abonnement 2.0 (``/medewerkers/abonnementen``): look up a resident's
subscription by card number or e-mail address, see its plan, state and invoices, switch it off
or on at the resident's request, and credit an invoice; and, for network administrators, the
plans with their prices and a form to schedule a new price.

Access (``bieb.accounts.access``, fail closed):

- looking up, reading and switching: desk staff and managers of the resident's home
  organisation (network administrators everywhere); a resident of another organisation
  answers 404 (``access_member``), a caller without the role 403;
- crediting: managers of the organisation that issued the invoice (desk staff 403, another
  organisation 404), because a credit note gives money back;
- plans and prices: network administrators only (403 for everyone else).

Every change goes through a service with ``actor`` the staff member, so the audit row names
them. Buttons are plain forms (POST-redirect-GET); refusals show next to the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts import access
from bieb.accounts import selectors as accounts_selectors
from bieb.accounts.access import MEMBER_ROLES, Role, staff_required
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.core.money import format_eur
from bieb.subscriptions import forms, invoicing, selectors, services
from bieb.subscriptions.models import (
    DocumentKind,
    InvoiceStatus,
    Plan,
    PlanPrice,
)
from bieb.subscriptions.views_mine import InvoiceRow, included, own_invoice

#: crediting an invoice gives money back: managers only
CREDIT_ROLES = (Role.MANAGER,)


def _day(value: dt.date) -> str:
    return date_format(value, "j F Y")


def _resident(request: HttpRequest, member_id: int):
    """The resident, if the caller serves their home organisation (404 otherwise). Nobody
    handles their own subscription from the staff side (crediting oneself): 404."""
    if member_id == request.user.pk:
        raise Http404
    return access.access_member(request.user, member_id, need="write")


# --- looking up ------------------------------------------------------------------------------


@never_cache
@staff_required(*MEMBER_ROLES)
@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """Find a resident by their whole card number or e-mail address; one match opens it."""
    form = forms.ResidentSearchForm(request.GET)
    results = None
    status = 200
    if form.is_valid() and form.cleaned_data["q"].strip():
        query = form.cleaned_data["q"].strip()
        if not ("".join(query.split()).isdigit() or "@" in query):
            form.add_error("q", _("Zoek op het hele pasnummer of het hele e-mailadres."))
            status = 400
        else:
            results = accounts_selectors.members_search(
                organisation_ids=request.staff_organisation_ids, query=query
            )
            if len(results) == 1:
                return redirect("subscriptions:staff_resident", member_id=results[0].pk)
    return render(
        request,
        "subscriptions/staff/lookup.html",
        {"form": form, "results": results},
        status=status,
    )


# --- one resident ----------------------------------------------------------------------------


def _resident_page(
    request: HttpRequest,
    member: Any,
    *,
    off_form: forms.StaffSwitchOffForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    today = clock.today()
    view = selectors.subscription_overview(member, today=today)
    rows = list(selectors.invoices_of(member))
    credit_organisations = access.organisations_with_role(request.user, *CREDIT_ROLES)
    context: dict[str, Any] = {
        "member": member,
        "view": view,
        "rows": [InvoiceRow(i) for i in rows],
        "creditable": {
            i.pk
            for i in rows
            if i.kind == DocumentKind.INVOICE and i.organisation_id in credit_organisations
        },
        "credit_note": DocumentKind.CREDIT_NOTE,
        "open": format_eur(sum(i.outstanding_cents for i in rows)),
        "off_form": off_form or forms.StaffSwitchOffForm(),
        "refusal": refusal,
    }
    if view is not None:
        context.update(
            included=included(view.plan),
            changes=view.changes,
            period_last_day=view.period.end - dt.timedelta(days=1),
        )
    return render(request, "subscriptions/staff/resident.html", context, status=status)


@never_cache
@staff_required(*MEMBER_ROLES)
@require_GET
def resident(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _resident(request, member_id)
    # staff reading a resident's subscription and invoices is a fact the resident may ask about
    audit_record(
        action="subscriptions.viewed_by_staff",
        actor=request.user,
        subject=member,
        organisation_id=member.home_organisation_id,
    )
    return _resident_page(request, member)


@staff_required(*MEMBER_ROLES)
@require_POST
def switch_off(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _resident(request, member_id)
    form = forms.StaffSwitchOffForm(request.POST)
    if not form.is_valid():
        return _resident_page(request, member, off_form=form, status=400)
    try:
        off = services.subscription_switch_off(
            person=member, from_date=form.cleaned_data["from_date"], actor=request.user
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return _resident_page(request, member, off_form=form, status=exc.status)
    messages.success(
        request,
        _("Het abonnement van %(name)s staat uit vanaf %(date)s.")
        % {"name": member.full_name, "date": _day(off.off_from)},
    )
    return redirect("subscriptions:staff_resident", member_id=member.pk)


@staff_required(*MEMBER_ROLES)
@require_POST
def switch_on(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _resident(request, member_id)
    try:
        services.subscription_switch_on(person=member, actor=request.user)
    except DomainError as exc:
        return _resident_page(request, member, refusal=exc.message, status=exc.status)
    messages.success(
        request, _("Het abonnement van %(name)s staat weer aan.") % {"name": member.full_name}
    )
    return redirect("subscriptions:staff_resident", member_id=member.pk)


@never_cache
@staff_required(*MEMBER_ROLES)
def invoice_credit(request: HttpRequest, member_id: int, invoice_id: int) -> HttpResponse:
    """GET: the invoice and a form; POST: a credit note for the amount, with the reason."""
    member = _resident(request, member_id)
    invoice = own_invoice(member, invoice_id)
    if invoice is None or invoice.kind != DocumentKind.INVOICE:
        raise Http404(_("Deze factuur bestaat niet."))
    # 403 without the manager role, 404 for an invoice another organisation issued
    access.access_organisation(request.user, invoice.organisation_id, need="manage")
    form = forms.InvoiceCreditForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                note = invoicing.invoice_credit(
                    invoice,
                    amount_cents=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Creditnota %(number)s van %(amount)s gemaakt op factuur %(invoice)s.")
                    % {
                        "number": note.number,
                        "amount": format_eur(note.total_cents),
                        "invoice": invoice.number,
                    },
                )
                return redirect("subscriptions:staff_resident", member_id=member.pk)
    credited = sum(c.total_cents for c in invoice.credit_notes.exclude(status=InvoiceStatus.DRAFT))
    return render(
        request,
        "subscriptions/staff/credit.html",
        {
            "member": member,
            "invoice": invoice,
            "row": InvoiceRow(invoice),
            "credited": format_eur(credited),
            "creditable": format_eur(invoice.total_cents - credited),
            "form": form,
        },
        status=status,
    )


# --- plans and prices (network administrators) -------------------------------------------------


def _prices_page(request: HttpRequest, form: forms.PlanPriceForm, status: int = 200):
    today = clock.today()
    plans = list(Plan.objects.filter(is_active=True).order_by("kind", "name"))
    in_effect = selectors.prices_in_effect(plans, today)
    scheduled: dict[int, list[PlanPrice]] = {}
    for price in PlanPrice.objects.filter(plan__in=plans, effective_from__gt=today).order_by(
        "effective_from"
    ):
        scheduled.setdefault(price.plan_id, []).append(price)

    def shown(price: PlanPrice | None) -> dict[str, Any] | None:
        if price is None:
            return None
        return {
            "effective_from": price.effective_from,
            "monthly": format_eur(price.monthly_cents),
            "yearly": format_eur(price.yearly_cents),
            "one_off": format_eur(price.one_off_cents) if price.one_off_cents else "",
            "vat": f"{price.vat_rate_bp / 100:g}".replace(".", ",")
            if price.vat_rate_bp is not None
            else "",
        }

    rows = [
        {
            "plan": plan,
            "now": shown(in_effect.get(plan.pk)),
            "later": [shown(p) for p in scheduled.get(plan.pk, [])],
        }
        for plan in plans
    ]
    return render(
        request,
        "subscriptions/staff/prices.html",
        {"rows": rows, "form": form},
        status=status,
    )


@never_cache
@staff_required(Role.NETWORK_ADMIN)
def prices(request: HttpRequest) -> HttpResponse:
    """Every active plan with its price today and the prices scheduled; POST schedules one."""
    plans = list(Plan.objects.filter(is_active=True).order_by("kind", "name"))
    if request.method != "POST":
        return _prices_page(request, forms.PlanPriceForm(plans=plans))
    form = forms.PlanPriceForm(request.POST, plans=plans)
    if not form.is_valid():
        return _prices_page(request, form, status=400)
    data = form.cleaned_data
    plan = next(p for p in plans if str(p.pk) == data["plan"])
    try:
        price = services.plan_price_schedule(
            plan=plan,
            monthly_cents=data["monthly"],
            yearly_cents=data["yearly"],
            one_off_cents=data["one_off"],
            vat_rate_bp=data["vat_rate"],
            effective_from=data["effective_from"],
            actor=request.user,
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return _prices_page(request, form, status=exc.status)
    messages.success(
        request,
        _("Nieuwe prijs voor %(plan)s vanaf %(date)s: %(month)s per maand, %(year)s per jaar.")
        % {
            "plan": plan.name,
            "date": _day(price.effective_from),
            "month": format_eur(price.monthly_cents),
            "year": format_eur(price.yearly_cents),
        },
    )
    return redirect("subscriptions:staff_prices")
