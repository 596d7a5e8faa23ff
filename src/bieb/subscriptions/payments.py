"""Online payments: a resident pays open invoices at a payment provider (iDEAL | Wero or card).

**Flow.** ``payment_start`` makes an open ``Payment`` for the invoices (``ledger.payment_create``),
asks the provider for a checkout (``provider.create``) and stores the provider's id (``tr_...``)
and checkout URL on it; the resident is sent to the checkout. When the status changes the
provider calls our webhook with nothing but ``id=tr_...``. ``webhook_handle`` never trusts the
request: it asks the provider for the payment (``provider.fetch``) and applies what the provider
says with ``ledger`` (paid settles the invoices; failed, canceled or expired frees them again),
recording a ``WebhookEvent(provider, "<id>:<status>")`` in the same transaction as the effect.
The event is unique, so a replay, or the same webhook twice at once, changes nothing.

**Providers** have one small interface (``create``, ``fetch``, ``owns``):

- ``MollieProvider``: Mollie's Payments API v2 over ``requests`` (``POST /v2/payments``,
  ``GET /v2/payments/{id}``; a ``first`` payment first makes a customer, ``POST /v2/customers``).
- ``LocalTestProvider``: the demo's own provider. Its ids are ``tr_local_...``; its checkout is a
  page of this site (``/betalen/test/<id>``, opened with a signed token that also carries the
  return URL) where the person chooses paid, failed or canceled. The choice is its state: a
  ``WebhookEvent`` of provider ``local-checkout`` (unique per payment, so one choice only); an
  open test payment nobody finished expires after ``LOCAL_EXPIRES``. After the choice it runs
  the same webhook handling Mollie's call would, in-process, with only the id.

``BIEB_PAYMENT_PROVIDER`` chooses (``mollie`` or ``local``); unset, it is ``local`` when
``DEBUG`` is on and nothing otherwise (online payment is then unavailable): the test provider
marks invoices paid without money, so production never gets it by accident.

Provider trouble (5xx, timeouts, refusals, answers we cannot read) is a ``ProviderError``, a
``DomainError`` with a stable code; nothing is applied half: a checkout that could not be made
cancels its payment (the invoices are free again), a webhook that could not fetch answers 503
so the provider tries again later.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound
from bieb.subscriptions import ledger
from bieb.subscriptions.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SequenceType,
    WebhookEvent,
)

__all__ = [
    "LOCAL_EXPIRES",
    "ONLINE_METHODS",
    "CheckoutRequest",
    "LocalTestProvider",
    "MollieProvider",
    "ProviderError",
    "ProviderPayment",
    "local_checkout_choose",
    "local_checkout_read",
    "online_payment_available",
    "open_invoices",
    "own_invoice",
    "own_payment",
    "payment_invoice_numbers",
    "payment_refresh",
    "payment_start",
    "payments_reconcile",
    "provider_for",
    "suspended_for_payment",
    "under_way",
    "webhook_handle",
]

logger = logging.getLogger(__name__)

ONLINE_METHODS = (PaymentMethod.IDEAL, PaymentMethod.CARD)
#: Mollie's payment statuses we act on; anything else is recorded and ignored
FINAL_FAILED = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)
#: a test payment nobody finished expires like an iDEAL payment at Mollie
LOCAL_EXPIRES = dt.timedelta(minutes=15)
#: how long the local checkout link works
LOCAL_TOKEN_MAX_AGE = 24 * 3600
#: the WebhookEvent provider under which the local test provider keeps the person's choice
LOCAL_CHOICE = "local-checkout"
#: what the person may choose on the local checkout page
LOCAL_CHOICES = (PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CANCELED)
_SALT = "bieb.subscriptions.payments.local"
_MOLLIE_ID = re.compile(r"^tr_[A-Za-z0-9]{4,40}$")
_LOCAL_ID = re.compile(r"^tr_local_[0-9a-f]{16}$")


# --- the provider interface ---------------------------------------------------------------------


class ProviderError(DomainError):
    """The provider could not be asked or did not agree; ``code`` says which."""

    status = 503


def _unavailable(code: str = "provider_unavailable") -> ProviderError:
    return ProviderError(
        code,
        _("De betaaldienst is nu niet bereikbaar. Probeer het over een paar minuten opnieuw."),
    )


def _refused(detail: str = "") -> ProviderError:
    return ProviderError(
        "provider_refused",
        _(
            "De betaaldienst kon deze betaling niet aanmaken. Probeer het later opnieuw of "
            "vraag je bibliotheek om hulp."
        ),
        status=502,
        details={"provider": detail[:200]} if detail else None,
    )


def _bad_answer() -> ProviderError:
    return ProviderError(
        "provider_bad_answer",
        _("De betaaldienst gaf een antwoord dat we niet begrijpen. Probeer het later opnieuw."),
        status=502,
    )


@dataclasses.dataclass(frozen=True)
class CheckoutRequest:
    """What we ask a provider for: a payment of ``amount_cents`` (EUR)."""

    amount_cents: int
    description: str
    redirect_url: str
    webhook_url: str
    method: str
    #: ``oneoff``, or ``first`` (a first payment that gives a mandate for later collections)
    sequence_type: str
    metadata: dict[str, Any]
    #: the same key for the same payment: a retried request makes nothing twice
    idempotency_key: str
    customer_name: str = ""
    customer_email: str = ""


@dataclasses.dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider sees it."""

    id: str
    status: str
    amount_cents: int
    currency: str = "EUR"
    checkout_url: str = ""
    sequence_type: str = "oneoff"
    #: the mandate a paid ``first`` payment established at the provider (Mollie ``mdt_...``)
    mandate_id: str = ""
    #: the account the bank paid from (iDEAL's ``details.consumerAccount`` / ``consumerName``):
    #: verified by the person's own bank, it is the account a first payment's mandate is for
    consumer_account: str = ""
    consumer_name: str = ""


class Provider(Protocol):
    name: str

    def owns(self, provider_id: str) -> bool: ...

    def create(self, request: CheckoutRequest) -> ProviderPayment: ...

    def fetch(self, provider_id: str) -> ProviderPayment | None: ...


def _value(cents: int) -> str:
    """Cents as Mollie writes money: ``"12.34"`` (always two decimals)."""
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(value: str) -> int:
    amount = Decimal(value)
    cents = amount * 100
    if amount < 0 or cents != cents.to_integral_value():
        raise ValueError(value)
    return int(cents)


# --- Mollie ---------------------------------------------------------------------------------------


class MollieProvider:
    """Mollie's Payments API v2. Only the HTTP boundary (``requests.Session``) talks to Mollie."""

    name = "mollie"
    base_url = "https://api.mollie.com/v2"
    #: (connect, read) seconds: a webhook answer must not wait long on Mollie
    timeout = (5, 15)

    def __init__(self, api_key: str, *, session: requests.Session | None = None) -> None:
        if not api_key:
            raise ProviderError(
                "provider_not_configured",
                _(
                    "Online betalen is nu niet mogelijk. Betaal via je bank of bij de balie van "
                    "je bibliotheek."
                ),
            )
        self.api_key = api_key
        self.session = session or requests.Session()

    def owns(self, provider_id: str) -> bool:
        return bool(_MOLLIE_ID.match(provider_id))

    def _call(self, method: str, path: str, *, body=None, key: str = "") -> dict[str, Any] | None:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/hal+json",
            "User-Agent": "bieb (+https://bieb.nl)",
        }
        if key:
            headers["Idempotency-Key"] = key
        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", json=body, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            logger.warning("mollie %s %s: timeout", method, path)
            raise _unavailable("provider_timeout") from None
        except requests.RequestException as exc:
            logger.warning("mollie %s %s: %s", method, path, type(exc).__name__)
            raise _unavailable() from None
        if method == "GET" and response.status_code == 404:
            return None
        if response.status_code >= 500 or response.status_code == 429:
            logger.warning("mollie %s %s: HTTP %s", method, path, response.status_code)
            raise _unavailable()
        try:
            data = response.json()
        except ValueError:
            raise _bad_answer() from None
        if response.status_code >= 400:
            detail = data.get("detail", "") if isinstance(data, dict) else ""
            logger.warning("mollie %s %s: HTTP %s %s", method, path, response.status_code, detail)
            raise _refused(str(detail))
        if not isinstance(data, dict):
            raise _bad_answer()
        return data

    def create(self, request: CheckoutRequest) -> ProviderPayment:
        body: dict[str, Any] = {
            "amount": {"currency": "EUR", "value": _value(request.amount_cents)},
            "description": request.description[:255],
            "redirectUrl": request.redirect_url,
            "webhookUrl": request.webhook_url,
            "method": request.method,
            "sequenceType": request.sequence_type,
            "locale": "nl_NL",
            "metadata": request.metadata,
        }
        if request.sequence_type == "first":
            # a first payment belongs to a customer at Mollie; the mandate hangs on it
            customer = self._call(
                "POST",
                "/customers",
                body={
                    "name": request.customer_name[:255],
                    "email": request.customer_email,
                    "metadata": request.metadata,
                },
                key=f"{request.idempotency_key}-customer",
            )
            body["customerId"] = _field(customer, "id")
        created = self._parse(
            self._call("POST", "/payments", body=body, key=request.idempotency_key)
        )
        if not created.checkout_url:
            raise _bad_answer()
        return created

    def fetch(self, provider_id: str) -> ProviderPayment | None:
        if not self.owns(provider_id):
            return None
        data = self._call("GET", f"/payments/{provider_id}")
        return None if data is None else self._parse(data)

    @staticmethod
    def _parse(data: dict[str, Any] | None) -> ProviderPayment:
        try:
            amount = data["amount"]
            links = data.get("_links") or {}
            return ProviderPayment(
                id=str(data["id"]),
                status=str(data["status"]),
                amount_cents=_cents(str(amount["value"])),
                currency=str(amount["currency"]),
                checkout_url=str((links.get("checkout") or {}).get("href") or ""),
                sequence_type=str(data.get("sequenceType") or "oneoff"),
                mandate_id=str(data.get("mandateId") or ""),
                consumer_account=str((data.get("details") or {}).get("consumerAccount") or ""),
                consumer_name=str((data.get("details") or {}).get("consumerName") or ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise _bad_answer() from None


def _field(data: dict[str, Any] | None, name: str) -> str:
    if not isinstance(data, dict) or not data.get(name):
        raise _bad_answer()
    return str(data[name])


# --- the local test provider ----------------------------------------------------------------------


#: the account the local test bank pays from
LOCAL_TEST_IBAN = "NL91ABNA0417164300"


class LocalTestProvider:
    """The demo's provider, served by this site. It keeps no table of its own: a payment is the
    ``Payment`` row with its ``tr_local_...`` id, and the person's choice on its checkout page
    is a ``WebhookEvent`` of provider ``LOCAL_CHOICE`` (one per payment)."""

    name = "local"

    def owns(self, provider_id: str) -> bool:
        return bool(_LOCAL_ID.match(provider_id))

    def create(self, request: CheckoutRequest) -> ProviderPayment:
        provider_id = f"tr_local_{secrets.token_hex(8)}"
        token = signing.dumps({"id": provider_id, "return": request.redirect_url}, salt=_SALT)
        url = reverse("payments:test_checkout", args=[provider_id])
        return ProviderPayment(
            id=provider_id,
            status=PaymentStatus.OPEN,
            amount_cents=request.amount_cents,
            checkout_url=f"{url}?{urlencode({'token': token})}",
            sequence_type=request.sequence_type,
        )

    def fetch(self, provider_id: str) -> ProviderPayment | None:
        if not self.owns(provider_id):
            return None
        payment = Payment.objects.filter(provider_id=provider_id).first()
        if payment is None:
            return None
        chosen = (
            WebhookEvent.objects.filter(provider=LOCAL_CHOICE, event_id=f"{provider_id}:choice")
            .values_list("outcome", flat=True)
            .first()
        )
        status = chosen or (
            PaymentStatus.EXPIRED
            if clock.now() - payment.created_at > LOCAL_EXPIRES
            else PaymentStatus.OPEN
        )
        first = payment.sequence_type == SequenceType.FIRST
        return ProviderPayment(
            id=provider_id,
            status=status,
            amount_cents=payment.amount_cents,
            checkout_url=payment.checkout_url,
            sequence_type="first" if first else "oneoff",
            mandate_id=f"mdt_local_{payment.pk}" if first and status == PaymentStatus.PAID else "",
            # the test bank pays from the IBAN of the Dutch test examples
            consumer_account=LOCAL_TEST_IBAN if status == PaymentStatus.PAID else "",
            consumer_name=payment.person.full_name if status == PaymentStatus.PAID else "",
        )


# --- choosing the provider ----------------------------------------------------------------------


def _configured_name() -> str:
    name = getattr(settings, "BIEB_PAYMENT_PROVIDER", None)
    if name is None:
        name = "local" if settings.DEBUG else ""
    return str(name).strip().lower()


def provider_for() -> Provider:
    """The configured provider (``BIEB_PAYMENT_PROVIDER``); refuses when there is none."""
    name = _configured_name()
    if name == "mollie":
        return MollieProvider(getattr(settings, "MOLLIE_API_KEY", ""))
    if name == "local":
        return LocalTestProvider()
    raise ProviderError(
        "provider_not_configured",
        _(
            "Online betalen is nu niet mogelijk. Betaal via je bank of bij de balie van "
            "je bibliotheek."
        ),
    )


def _provider_named(name: str) -> Provider:
    """The provider a webhook URL names; only the configured one answers."""
    if not name or name != _configured_name():
        raise NotFound("provider_unknown", _("Deze betaaldienst kennen we niet."))
    return provider_for()


# --- reading ------------------------------------------------------------------------------------


def open_invoices(person: Any) -> QuerySet[Invoice]:
    """The person's invoices with something still to pay, oldest due date first."""
    return Invoice.objects.filter(
        person_id=person.pk,
        kind=DocumentKind.INVOICE,
        status=InvoiceStatus.OPEN,
        settled_cents__lt=F("total_cents"),
    ).order_by("due_on", "pk")


def own_invoice(person: Any, invoice_id: int) -> Invoice | None:
    """One of the person's own final invoices; None for someone else's (callers answer 404)."""
    return (
        Invoice.objects.filter(pk=invoice_id, person_id=person.pk, kind=DocumentKind.INVOICE)
        .exclude(status=InvoiceStatus.DRAFT)
        .first()
    )


def own_payment(person: Any, payment_id: int) -> Payment | None:
    return Payment.objects.filter(pk=payment_id, person_id=person.pk).first()


def online_payment_available() -> bool:
    """Whether a provider is configured (the pay page says so instead of offering a form)."""
    name = _configured_name()
    return name == "local" or (name == "mollie" and bool(getattr(settings, "MOLLIE_API_KEY", "")))


def suspended_for_payment(person: Any) -> bool:
    """Whether dunning switched the person's subscription off (paying switches it on)."""
    from bieb.subscriptions.models import Subscription

    return Subscription.objects.filter(
        person_id=person.pk, parent__isnull=True, suspended_for_payment_at__isnull=False
    ).exists()


def payment_invoice_numbers(payment: Payment) -> list[str]:
    return sorted(
        Invoice.objects.filter(allocations__payment=payment).values_list("number", flat=True)
    )


def in_flight_invoice_ids(invoice_ids: list[int]) -> set[int]:
    """Invoices that are already in a payment under way (not offered for another one)."""
    return set(under_way(invoice_ids))


def under_way(invoice_ids: list[int]) -> dict[int, str]:
    """For invoices in a payment under way: the method of that payment (a direct debit being
    collected, or an online checkout that paying again continues)."""
    return dict(
        Invoice.objects.filter(
            pk__in=invoice_ids, allocations__payment__status__in=ledger.IN_FLIGHT
        ).values_list("pk", "allocations__payment__method")
    )


# --- starting a payment -------------------------------------------------------------------------


def _site_url() -> str:
    from bieb.accounts.mail import site_url_or_default

    return site_url_or_default()


def _description(payment: Payment) -> str:
    numbers = payment_invoice_numbers(payment)
    with translation.override("nl"):  # on the bank statement, whatever the page's language
        text = _("de Bibliotheek, factuur %(numbers)s") % {"numbers": ", ".join(numbers)}
    return text[:255]


def _refresh_under_way(person: Any, invoice_ids: list[int]) -> Payment | None:
    """Ask the provider about online payments under way for these invoices (a checkout left
    half-way, a webhook that never came). Returns one that is still open, to continue."""
    still_open = None
    under_way = (
        Payment.objects.filter(
            person_id=person.pk,
            method__in=ONLINE_METHODS,
            status__in=ledger.IN_FLIGHT,
            allocations__invoice_id__in=invoice_ids,
        )
        .distinct()
        .order_by("pk")
    )
    for payment in under_way:
        if not payment.provider_id:
            _cancel_unstarted(payment)
            continue
        # a provider that is away leaves the payment under way
        with contextlib.suppress(DomainError):
            webhook_handle(_provider_name_of(payment), payment.provider_id)
        payment.refresh_from_db()
        if payment.status in ledger.IN_FLIGHT and payment.checkout_url:
            still_open = payment
    return still_open


def _provider_name_of(payment: Payment) -> str:
    return "local" if _LOCAL_ID.match(payment.provider_id) else "mollie"


def _cancel_unstarted(payment: Payment, *, older_than: dt.timedelta = dt.timedelta(minutes=10)):
    """A payment the provider never got (the process stopped in between) frees its invoices."""
    if clock.now() - payment.created_at >= older_than:
        ledger.payment_mark_failed(
            payment, code="noprov", reason="never sent to the provider", status="canceled"
        )


def payment_start(
    *,
    person: Any,
    invoices: Any,
    method: str,
    return_url: str | Callable[[Payment], str],
    actor: Any = None,
    first: bool = False,
    webhook_url: str | None = None,
) -> Payment:
    """Start an online payment of ``method`` for what is outstanding on ``invoices`` (the
    person's own open invoices) and return it with ``checkout_url`` to send the person to.

    ``return_url`` is where the provider sends the person back (absolute), or a function of
    the new payment that gives it. ``first`` asks for a first payment that gives the provider a
    mandate (``docs/payments.md``: what is and is not built). When an online payment for these
    invoices is still open at the provider, that one is returned to continue. Refusals:
    ``method_unknown``, ``nothing_to_pay`` (409) and the provider's codes; when the provider
    fails nothing stays under way (the new payment is canceled)."""
    if method not in ONLINE_METHODS:
        raise DomainError("method_unknown", _("Kies iDEAL | Wero of creditcard."))
    provider = provider_for()
    invoice_ids = sorted({invoice.pk for invoice in invoices})
    continuing = _refresh_under_way(person, invoice_ids)
    try:
        payment = ledger.payment_create(
            person=person,
            method=method,
            invoices=Invoice.objects.filter(pk__in=invoice_ids),
            actor=actor,
            sequence_type=SequenceType.FIRST if first else "",
        )
    except DomainError as refusal:
        if refusal.code == "nothing_to_pay" and continuing is not None:
            return continuing
        raise
    request = CheckoutRequest(
        amount_cents=payment.amount_cents,
        description=_description(payment),
        redirect_url=return_url(payment) if callable(return_url) else return_url,
        webhook_url=webhook_url or _site_url() + reverse("payments:webhook", args=[provider.name]),
        method=method,
        sequence_type="first" if first else "oneoff",
        metadata={"payment": payment.pk},
        idempotency_key=f"bieb-payment-{payment.pk}",
        customer_name=getattr(person, "full_name", "") or "",
        customer_email=getattr(person, "email", "") or "",
    )
    try:
        created = provider.create(request)
        if created.amount_cents != payment.amount_cents or created.currency != "EUR":
            raise _bad_answer()
    except ProviderError as exc:
        # nothing stays half-way: the invoices are free again, and no dunning follows
        ledger.payment_mark_failed(
            payment, code="provider", reason=exc.code, status="canceled", actor=actor
        )
        raise
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, provider_id="").update(
            provider_id=created.id, checkout_url=created.checkout_url
        )
        audit_record(
            action="subscriptions.payment_start",
            actor=actor if actor is not None else person,
            subject=payment,
            organisation_id=getattr(person, "home_organisation_id", None),
            data={"provider": provider.name, "provider_id": created.id, "first": first},
        )
    payment.refresh_from_db()
    return payment


def payment_refresh(payment: Payment) -> Payment:
    """Ask the provider about a payment still under way and apply what it says (the return
    page: the person may be back before the webhook). A provider that is away changes nothing."""
    if payment.status in ledger.IN_FLIGHT and payment.provider_id:
        with contextlib.suppress(DomainError):
            webhook_handle(_provider_name_of(payment), payment.provider_id)
        payment.refresh_from_db()
    return payment


# --- the webhook --------------------------------------------------------------------------------


def webhook_handle(provider_name: str, payment_id: str) -> str:
    """Apply what the provider says about ``payment_id`` (the only thing a webhook carries).

    Returns the outcome: ``paid``, ``failed``, ``canceled``, ``expired``, ``pending``, ``open``,
    ``already_paid``, ``already_final``, ``ignored``, ``replay`` (this status was handled
    before), ``unknown`` (no payment of ours has that id: nothing happens) or
    ``amount_mismatch``. The status is fetched outside any transaction; the effect and its
    ``WebhookEvent`` are written in one, so it applies once however often it comes. A provider
    that cannot be asked raises ``ProviderError`` (the caller answers 503; Mollie retries)."""
    provider = _provider_named(provider_name)
    payment_id = (payment_id or "").strip()
    payment = (
        Payment.objects.filter(provider_id=payment_id).first()
        if provider.owns(payment_id)
        else None
    )
    if payment is None:
        audit_record(
            action="subscriptions.webhook_unknown",
            data={"provider": provider.name, "id": payment_id[:64]},
        )
        return "unknown"
    remote = provider.fetch(payment_id)
    if remote is None:
        # ours, but the provider does not know it: the wrong API key (test or live)
        logger.error("%s does not know payment %s", provider.name, payment_id)
        raise _unavailable("provider_unknown_payment")
    if (
        remote.id != payment_id
        or remote.amount_cents != payment.amount_cents
        or remote.currency != "EUR"
    ):
        audit_record(
            action="subscriptions.webhook_mismatch",
            subject=payment,
            data={"provider": provider.name, "amount_cents": remote.amount_cents},
        )
        return "amount_mismatch"
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider.name,
                    event_id=f"{payment_id}:{remote.status}"[:100],
                    payment=locked,
                )
        except IntegrityError:
            return "replay"
        outcome = _apply(locked, remote)
        event.outcome = outcome
        event.save(update_fields=["outcome"])
        audit_record(
            action="subscriptions.webhook",
            subject=locked,
            data={
                "provider": provider.name,
                "status": remote.status,
                "outcome": outcome,
                "mandate": remote.mandate_id,
            },
        )
    return outcome


def _mandate_from_first_payment(payment: Payment, remote: ProviderPayment) -> str:
    """A paid first payment gives the person a SEPA mandate for the account their own bank
    paid from (the Dutch "machtigen via iDEAL"): later invoices are collected by direct debit
    (``sepa``). An account the mandate cannot be for (outside SEPA) leaves the payment paid
    and the person without a mandate, audited."""
    from bieb.subscriptions import mandates

    if not remote.consumer_account:
        return "paid"
    try:
        mandates.mandate_create(
            person=payment.person,
            iban=remote.consumer_account,
            account_holder=remote.consumer_name or payment.person.full_name or "-",
            actor=payment.person,
        )
    except DomainError as refusal:
        audit_record(
            action="subscriptions.first_payment_no_mandate",
            subject=payment,
            data={"code": refusal.code},
        )
        return "paid"
    return "paid_mandate"


def _apply(payment: Payment, remote: ProviderPayment) -> str:
    """Apply the provider's status to a locked payment (through ``ledger``)."""
    status = remote.status
    if status == PaymentStatus.PAID:
        if payment.status == PaymentStatus.PAID:
            return "already_paid"
        if payment.status in FINAL_FAILED:
            # we had it as failed (a SEPA return, a provider's earlier answer): a final state
            # stays final (``ledger``); the case is audited for the finance office to settle
            # by hand, and no mandate comes of it
            ledger.payment_mark_paid(payment)
            return "paid_after_final"
        ledger.payment_mark_paid(payment)
        if payment.sequence_type == SequenceType.FIRST:
            return _mandate_from_first_payment(payment, remote)
        return "paid"
    if status in FINAL_FAILED:
        if payment.status == PaymentStatus.PAID:
            return "ignored"  # a paid online payment does not fail afterwards (refunds differ)
        if payment.status in FINAL_FAILED:
            return "already_final"
        ledger.payment_mark_failed(payment, code=status[:8], reason=status, status=status)
        return status
    if status in (PaymentStatus.PENDING, "authorized"):
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.OPEN).update(
            status=PaymentStatus.PENDING
        )
        return "pending"
    if status == PaymentStatus.OPEN:
        return "open"
    return "ignored"


# --- the local test provider's checkout ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LocalCheckout:
    payment: Payment
    return_url: str
    #: what was chosen already (the page then only links back), else ""
    chosen: str


def local_checkout_read(*, provider_id: str, token: str) -> LocalCheckout:
    """The local checkout page's payment; ``NotFound`` unless the local provider is the one
    in use and ``token`` is the signed one its ``checkout_url`` carries."""
    if _configured_name() != "local" or not LocalTestProvider().owns(provider_id):
        raise _no_checkout()
    try:
        data = signing.loads(token or "", salt=_SALT, max_age=LOCAL_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise _no_checkout() from None
    payment = Payment.objects.filter(provider_id=provider_id).first()
    if payment is None or not isinstance(data, dict) or data.get("id") != provider_id:
        raise _no_checkout()
    chosen = (
        WebhookEvent.objects.filter(provider=LOCAL_CHOICE, event_id=f"{provider_id}:choice")
        .values_list("outcome", flat=True)
        .first()
    )
    return LocalCheckout(
        payment=payment, return_url=str(data.get("return", "")), chosen=chosen or ""
    )


def _no_checkout() -> NotFound:
    return NotFound("test_payment_unknown", _("Deze testbetaling bestaat niet (meer)."))


def local_checkout_choose(*, provider_id: str, token: str, status: str) -> LocalCheckout:
    """The person's choice on the local checkout page (paid, failed or canceled), once; then
    the webhook handling runs as after Mollie's call, with only the id."""
    checkout = local_checkout_read(provider_id=provider_id, token=token)
    if status not in LOCAL_CHOICES:
        raise DomainError("test_choice_unknown", _("Kies betaald, mislukt of geannuleerd."))
    if clock.now() - checkout.payment.created_at > LOCAL_EXPIRES:
        raise DomainError(
            "test_payment_expired",
            _("Deze testbetaling is verlopen. Ga terug en start een nieuwe betaling."),
            status=409,
        )
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                provider=LOCAL_CHOICE,
                event_id=f"{provider_id}:choice",
                payment=checkout.payment,
                outcome=status,
            )
            audit_record(
                action="subscriptions.test_checkout",
                subject=checkout.payment,
                data={"provider_id": provider_id, "status": status},
            )
    except IntegrityError:
        raise DomainError(
            "test_payment_done",
            _("Deze testbetaling is al afgerond."),
            status=409,
        ) from None
    webhook_handle(LocalTestProvider.name, provider_id)
    return dataclasses.replace(checkout, chosen=status)


# --- catching up --------------------------------------------------------------------------------


def payments_reconcile(*, older_than: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, int]:
    """Ask the provider about online payments still under way after ``older_than`` (a webhook
    that never arrived, a test checkout left half-way) and apply what it says; cancel ones the
    provider never got. The daily dunning run calls it first, so nobody is reminded of an
    invoice they paid. Returns counts; a provider that is away is counted, not raised."""
    report = {"payments_checked": 0, "payments_changed": 0, "payments_provider_errors": 0}
    if not _configured_name():
        return report
    cutoff = clock.now() - older_than
    stale = Payment.objects.filter(
        method__in=ONLINE_METHODS,
        status__in=ledger.IN_FLIGHT,
        created_at__lt=cutoff,
    ).order_by("pk")
    for payment in stale:
        report["payments_checked"] += 1
        if not payment.provider_id:
            _cancel_unstarted(payment, older_than=older_than)
            report["payments_changed"] += 1
            continue
        try:
            outcome = webhook_handle(_provider_name_of(payment), payment.provider_id)
        except DomainError:
            report["payments_provider_errors"] += 1
            continue
        if outcome not in ("open", "pending", "replay", "unknown"):
            report["payments_changed"] += 1
    return report
