"""Online payment screens and the provider's webhook.

- ``/mijn/betalen`` and ``/mijn/facturen/<id>/betalen`` (signed in): the resident's own open
  invoices, a choice of iDEAL | Wero or creditcard, and a button that starts the payment and
  sends them to the provider's checkout. Someone else's invoice answers 404.
- ``/mijn/betalen/<id>`` (signed in): where the provider sends the person back; shows what the
  provider says now. Someone else's payment answers 404.
- ``/betalen/webhook/<provider>`` (POST, no session, no CSRF token: the provider calls it with
  ``id=tr_...`` only). 200 for every id, known or not (nothing to retry, nothing to learn); 503
  when the provider could not be asked, so it tries again; 404 for a provider not in use.
- ``/betalen/test/<id>?token=...``: the local test provider's checkout (demo only; 404 when
  another provider is in use or the token is not the one the checkout URL carries).

Every screen works without JavaScript: plain forms, POST-redirect.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.core.money import format_eur
from bieb.subscriptions import mandates, payments
from bieb.subscriptions.models import InvoiceStatus, PaymentMethod, PaymentStatus


class PayForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("Hoe wil je betalen?"),
        choices=[
            (PaymentMethod.IDEAL, gettext_lazy("iDEAL | Wero (via je eigen bank)")),
            (PaymentMethod.CARD, gettext_lazy("Creditcard")),
        ],
        initial=PaymentMethod.IDEAL,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Kies hoe je wilt betalen.")},
    )


class PayAndMandateForm(PayForm):
    """The pay form for a person without a mandate: with iDEAL they may also let later
    invoices be collected from the account they pay from."""

    mandate = forms.BooleanField(
        label=gettext_lazy(
            "Betaal je volgende facturen automatisch: ik machtig de bibliotheek om ze af te "
            "schrijven van de rekening waarmee ik nu met iDEAL betaal."
        ),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("mandate") and data.get("method") != PaymentMethod.IDEAL:
            self.add_error("mandate", _("Een machtiging geef je met een betaling via iDEAL."))
        return data


class LocalChoiceForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Wat gebeurt er met deze testbetaling?"),
        choices=[
            (PaymentStatus.PAID, gettext_lazy("Betaald")),
            (PaymentStatus.FAILED, gettext_lazy("Mislukt")),
            (PaymentStatus.CANCELED, gettext_lazy("Geannuleerd")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Kies wat er met de betaling gebeurt.")},
    )


# --- the resident -------------------------------------------------------------------------------


def _rows(invoices, under_way: dict[int, str]) -> list[dict]:
    today = clock.today()
    return [
        {
            "invoice": invoice,
            "amount": format_eur(invoice.outstanding_cents),
            "late": invoice.due_on is not None and invoice.due_on < today,
            "collecting": under_way.get(invoice.pk) == PaymentMethod.DIRECT_DEBIT,
            "online": under_way.get(invoice.pk) in payments.ONLINE_METHODS,
        }
        for invoice in invoices
    ]


def _pay(request: HttpRequest, invoices: list, *, single=None) -> HttpResponse:
    """The pay page for ``invoices`` (the person's own), and starting the payment. Invoices
    being collected by direct debit are shown but not paid again."""
    owing = [i for i in invoices if i.status == InvoiceStatus.OPEN and i.outstanding_cents > 0]
    under_way = payments.under_way([i.pk for i in owing])
    payable = [i for i in owing if under_way.get(i.pk) != PaymentMethod.DIRECT_DEBIT]
    can_mandate = mandates.mandate_of(request.user) is None
    form = (PayAndMandateForm if can_mandate else PayForm)(
        request.POST if request.method == "POST" else None
    )
    refusal, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            payment = payments.payment_start(
                person=request.user,
                invoices=payable,
                method=form.cleaned_data["method"],
                return_url=lambda p: request.build_absolute_uri(
                    reverse("payments:result", args=[p.pk])
                ),
                actor=request.user,
                first=bool(form.cleaned_data.get("mandate")),
            )
        except DomainError as exc:
            refusal, status = exc.message, exc.status
        else:
            return redirect(payment.checkout_url)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "subscriptions/payments/pay.html",
        {
            "single": single,
            "rows": _rows(owing, under_way),
            "payable": bool(payable),
            "total": format_eur(sum(i.outstanding_cents for i in payable)),
            "form": form,
            "refusal": refusal,
            "available": payments.online_payment_available(),
            "suspended": payments.suspended_for_payment(request.user),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pay_open(request: HttpRequest) -> HttpResponse:
    return _pay(request, list(payments.open_invoices(request.user)))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pay_invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = payments.own_invoice(request.user, invoice_id)
    if invoice is None:
        raise Http404(_("Deze factuur bestaat niet."))
    return _pay(request, [invoice], single=invoice)


@never_cache
@login_required
@require_GET
def result(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = payments.own_payment(request.user, payment_id)
    if payment is None:
        raise Http404(_("Deze betaling bestaat niet."))
    payment = payments.payment_refresh(payment)
    return render(
        request,
        "subscriptions/payments/result.html",
        {
            "payment": payment,
            "amount": format_eur(payment.amount_cents),
            "numbers": payments.payment_invoice_numbers(payment),
            "under_way": payment.status in (PaymentStatus.OPEN, PaymentStatus.PENDING),
            "paid": payment.status == PaymentStatus.PAID,
            "suspended": payments.suspended_for_payment(request.user),
        },
    )


# --- the provider -------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    payment_id = request.POST.get("id", "")
    if not payment_id:
        return HttpResponse("id missing", status=400, content_type="text/plain")
    try:
        payments.webhook_handle(provider, payment_id)
    except NotFound:
        raise Http404(_("Deze betaaldienst kennen we niet.")) from None
    except DomainError as exc:
        # the provider could not be asked: answer an error so it calls again later
        return HttpResponse(exc.code, status=503, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


@never_cache
@require_http_methods(["GET", "POST"])
def local_checkout(request: HttpRequest, provider_id: str) -> HttpResponse:
    token = request.POST.get("token") or request.GET.get("token") or ""
    try:
        checkout = payments.local_checkout_read(provider_id=provider_id, token=token)
    except NotFound:
        raise Http404(_("Deze testbetaling bestaat niet (meer).")) from None
    form = LocalChoiceForm(request.POST if request.method == "POST" else None)
    refusal, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            done = payments.local_checkout_choose(
                provider_id=provider_id, token=token, status=form.cleaned_data["status"]
            )
        except DomainError as exc:
            refusal, status = exc.message, exc.status
        else:
            return redirect(done.return_url or reverse("payments:pay_open"))
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "subscriptions/payments/test_checkout.html",
        {
            "checkout": checkout,
            "payment": checkout.payment,
            "amount": format_eur(checkout.payment.amount_cents),
            "chosen_label": PaymentStatus(checkout.chosen).label if checkout.chosen else "",
            "form": form,
            "token": token,
            "refusal": refusal,
        },
        status=status,
    )
