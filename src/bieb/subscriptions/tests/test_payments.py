"""Online payments: Mollie's API through recorded answers (only ``requests.Session.request`` is
replaced), the local test provider end to end through the Django test client, the webhook
(replay, unknown id, provider trouble), the resident's own invoices only, and the same webhook
twice at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import mail

from bieb.accounts.tests.factories import OrganisationFactory, UserFactory
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent
from bieb.subscriptions import ledger, mandates, payments
from bieb.subscriptions.invoicing import NewLine, invoice_create
from bieb.subscriptions.models import (
    Invoice,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SequenceType,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db
D = dt.date
DAY = D(2025, 3, 3)
DATA = Path(__file__).parent / "data" / "mollie"
MOLLIE = "https://api.mollie.com/v2"
TR = "tr_WDqYK6vllg"


def on(day: dt.date, hour: int = 12, minute: int = 0):
    return clock.frozen(
        dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.AMSTERDAM)
    )


@pytest.fixture(autouse=True)
def noon():
    with on(DAY):
        yield


@pytest.fixture
def local(settings):
    settings.BIEB_PAYMENT_PROVIDER = "local"


@pytest.fixture
def mollie(settings, monkeypatch):
    settings.BIEB_PAYMENT_PROVIDER = "mollie"
    settings.MOLLIE_API_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
    settings.BIEB_SITE_URL = "https://bieb.example"
    fake = FakeMollie()
    # the one boundary replaced: every request a Session makes
    monkeypatch.setattr(
        requests.Session,
        "request",
        lambda session, method, url, **kw: fake.request(method, url, **kw),
    )
    return fake


class FakeMollie:
    """Mollie's HTTP side: answers from recorded files, and a log of what was asked."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list] = {}
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def on(self, method: str, path: str, status: int = 200, body: str | None = None, *, error=None):
        """Answer ``method path`` with the recorded ``body`` file (the last answer repeats)."""
        self.routes.setdefault((method, path), []).append((status, body, error))

    def request(self, method, url, **kwargs):
        with self.lock:
            self.calls.append({"method": method, "url": url, **kwargs})
            answers = self.routes[(method, url.removeprefix(MOLLIE))]
            status, body, error = answers.pop(0) if len(answers) > 1 else answers[0]
        if error is not None:
            raise error
        response = requests.Response()
        response.status_code = status
        response.url = url
        response.headers["Content-Type"] = "application/hal+json"
        response._content = (DATA / body).read_bytes() if body else b""
        return response

    def asked(self, method: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == method]


def invoice_for(person, amount: int = 1_234, *, org=None) -> Invoice:
    org = org or OrganisationFactory()
    return invoice_create(
        person=person,
        organisation_id=org.pk,
        lines=[NewLine(LineKind.FEE, "Boek kwijt", amount, 0)],
    )


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message
    return caught.value


def start(person, invoices, method=PaymentMethod.IDEAL, **kw) -> Payment:
    return payments.payment_start(
        person=person,
        invoices=invoices,
        method=method,
        return_url=lambda p: f"https://bieb.example/mijn/betalen/{p.pk}",
        **kw,
    )


# --- Mollie --------------------------------------------------------------------------------------


def test_mollie_start_sends_the_documented_request_and_keeps_id_and_checkout(mollie):
    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")

    payment = start(person, [invoice])

    assert (payment.provider_id, payment.status, payment.amount_cents) == (TR, "open", 1_234)
    assert payment.checkout_url == "https://www.mollie.com/checkout/select-method/WDqYK6vllg"
    [call] = mollie.calls
    assert call["json"] == {
        "amount": {"currency": "EUR", "value": "12.34"},
        "description": f"de Bibliotheek, factuur {invoice.number}",
        "redirectUrl": f"https://bieb.example/mijn/betalen/{payment.pk}",
        "webhookUrl": "https://bieb.example/betalen/webhook/mollie",
        "method": "ideal",
        "sequenceType": "oneoff",
        "locale": "nl_NL",
        "metadata": {"payment": payment.pk},
    }
    assert call["headers"]["Authorization"] == "Bearer test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
    assert call["headers"]["Idempotency-Key"] == f"bieb-payment-{payment.pk}"
    assert call["timeout"]
    assert AuditEvent.objects.get(action="subscriptions.payment_start").data["provider_id"] == TR


def test_mollie_paid_webhook_settles_the_invoice_once_and_a_replay_changes_nothing(mollie, client):
    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")
    mollie.on("GET", f"/payments/{TR}", 200, "payment_paid.json")
    start(person, [invoice])

    first = client.post("/betalen/webhook/mollie", {"id": TR})
    again = client.post("/betalen/webhook/mollie", {"id": TR})

    assert (first.status_code, again.status_code) == (200, 200)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.PAID, 1_234)
    assert Payment.objects.get().status == PaymentStatus.PAID
    assert list(
        WebhookEvent.objects.filter(provider="mollie").values_list("event_id", "outcome")
    ) == [(f"{TR}:paid", "paid")]
    assert AuditEvent.objects.filter(action="subscriptions.payment_paid").count() == 1
    # the webhook is only a nudge: both times the status was fetched from Mollie
    assert [c["url"] for c in mollie.asked("GET")] == [f"{MOLLIE}/payments/{TR}"] * 2
    assert payments.webhook_handle("mollie", TR) == "replay"


@pytest.mark.parametrize(
    ("answer", "status", "dunning_on"),
    [
        ("payment_failed.json", PaymentStatus.FAILED, DAY),
        ("payment_canceled.json", PaymentStatus.CANCELED, None),
        ("payment_expired.json", PaymentStatus.EXPIRED, None),
    ],
)
def test_mollie_failed_canceled_or_expired_frees_the_invoice(
    mollie, client, answer, status, dunning_on
):
    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")
    mollie.on("GET", f"/payments/{TR}", 200, answer)
    start(person, [invoice])

    assert client.post("/betalen/webhook/mollie", {"id": TR}).status_code == 200

    payment = Payment.objects.get()
    invoice.refresh_from_db()
    assert payment.status == status and payment.failed_at is not None
    assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.OPEN, 0)
    # only a failed payment starts dunning; a person who canceled is not chased for it
    assert invoice.next_dunning_on == dunning_on
    assert payments.in_flight_invoice_ids([invoice.pk]) == set()


def test_mollie_pending_is_recorded_and_a_later_paid_settles(mollie):
    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")
    mollie.on("GET", f"/payments/{TR}", 200, "payment_pending.json")
    mollie.on("GET", f"/payments/{TR}", 200, "payment_paid.json")
    start(person, [invoice], method=PaymentMethod.CARD)

    assert payments.webhook_handle("mollie", TR) == "pending"
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert payments.webhook_handle("mollie", TR) == "paid"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_an_unknown_id_answers_200_does_nothing_and_asks_nobody(mollie, client):
    person = UserFactory()
    invoice = invoice_for(person)

    for unknown in ("tr_doesNotExist1", "tr_local_0123456789abcdef", "cst_8wmqcHMN4U", "x" * 500):
        response = client.post("/betalen/webhook/mollie", {"id": unknown})
        assert response.status_code == 200

    assert mollie.calls == []
    assert WebhookEvent.objects.count() == 0 and Payment.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    unknown_rows = AuditEvent.objects.filter(action="subscriptions.webhook_unknown")
    assert unknown_rows.count() == 4
    assert all(len(row.data["id"]) <= 64 for row in unknown_rows)


def test_the_webhook_wants_a_post_with_an_id_for_the_provider_in_use(mollie, client):
    assert client.get("/betalen/webhook/mollie").status_code == 405
    assert client.post("/betalen/webhook/mollie", {}).status_code == 400
    assert (
        client.post("/betalen/webhook/local", {"id": "tr_local_0123456789abcdef"}).status_code
        == 404
    )
    assert client.post("/betalen/webhook/stripe", {"id": TR}).status_code == 404


def test_mollie_down_during_the_webhook_answers_503_and_applies_nothing_until_it_is_back(
    mollie, client
):
    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")
    mollie.on("GET", f"/payments/{TR}", 503, "error_service_unavailable.json")
    mollie.on("GET", f"/payments/{TR}", error=requests.ReadTimeout("read timed out"))
    mollie.on("GET", f"/payments/{TR}", 200, "payment_paid.json")
    start(person, [invoice])

    assert client.post("/betalen/webhook/mollie", {"id": TR}).status_code == 503
    assert client.post("/betalen/webhook/mollie", {"id": TR}).status_code == 503
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and WebhookEvent.objects.count() == 0
    assert Payment.objects.get().status == PaymentStatus.OPEN

    assert client.post("/betalen/webhook/mollie", {"id": TR}).status_code == 200  # Mollie retries
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((503, "error_service_unavailable.json", None), "provider_unavailable"),
        ((None, None, requests.ConnectTimeout("connect timed out")), "provider_timeout"),
        (
            (None, None, requests.ConnectionError("name or service not known")),
            "provider_unavailable",
        ),
        ((401, "error_unauthorized.json", None), "provider_refused"),
        ((422, "error_unprocessable.json", None), "provider_refused"),
        ((201, None, None), "provider_bad_answer"),
    ],
)
def test_mollie_trouble_when_starting_leaves_nothing_under_way(mollie, answer, code):
    person = UserFactory()
    invoice = invoice_for(person)
    status, body, error = answer
    mollie.on("POST", "/payments", status or 200, body, error=error)

    refused(code, lambda: start(person, [invoice]))

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.CANCELED and payment.provider_id == ""
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents, invoice.next_dunning_on) == ("open", 0, None)
    assert payments.in_flight_invoice_ids([invoice.pk]) == set()  # payable again at once


def test_an_answer_for_another_amount_is_not_applied(mollie):
    person = UserFactory()
    invoice = invoice_for(person, amount=1_000)
    payment = ledger.payment_create(person=person, method=PaymentMethod.IDEAL, invoices=[invoice])
    Payment.objects.filter(pk=payment.pk).update(provider_id=TR)
    mollie.on("GET", f"/payments/{TR}", 200, "payment_paid.json")  # says 12.34

    assert payments.webhook_handle("mollie", TR) == "amount_mismatch"

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert Payment.objects.get().status == PaymentStatus.OPEN
    assert AuditEvent.objects.filter(action="subscriptions.webhook_mismatch").count() == 1


def test_a_mollie_checkout_made_for_another_amount_is_canceled(mollie):
    person = UserFactory()
    invoice = invoice_for(person, amount=999)
    mollie.on("POST", "/payments", 201, "payment_created.json")  # says 12.34

    refused("provider_bad_answer", lambda: start(person, [invoice]))

    assert Payment.objects.get().status == PaymentStatus.CANCELED


def test_a_first_payment_makes_a_customer_and_asks_for_sequence_first(mollie):
    person = UserFactory(first_name="Anna", last_name="de Vries", email="anna@example.org")
    invoice = invoice_for(person)
    mollie.on("POST", "/customers", 201, "customer_created.json")
    mollie.on("POST", "/payments", 201, "payment_first_created.json")
    mollie.on("GET", "/payments/tr_Fk2mWn8qPz", 200, "payment_first_paid.json")

    payment = start(person, [invoice], first=True)

    customer_call, payment_call = mollie.calls
    assert customer_call["json"]["name"] == "Anna de Vries"
    assert customer_call["json"]["email"] == "anna@example.org"
    assert payment_call["json"]["sequenceType"] == "first"
    assert payment_call["json"]["customerId"] == "cst_8wmqcHMN4U"
    assert customer_call["headers"]["Idempotency-Key"] != payment_call["headers"]["Idempotency-Key"]
    assert payment.sequence_type == SequenceType.FIRST
    assert payments.webhook_handle("mollie", "tr_Fk2mWn8qPz") == "paid_mandate"
    audit = AuditEvent.objects.get(action="subscriptions.webhook")
    assert audit.data["mandate"] == "mdt_h3gAaD5zP"
    assert "NL55INGB0000000000" not in json.dumps(audit.data)  # no IBAN in the audit log
    # the account the bank paid from is the one later invoices are collected from (SEPA)
    mandate = mandates.mandate_of(person)
    assert (mandate.iban, mandate.account_holder) == ("NL55INGB0000000000", "A. de Vries")
    assert mandate.sequence_type == SequenceType.FIRST  # its first collection is FRST


def test_a_first_payment_through_the_pay_page_gives_a_mandate(local, client):
    person = UserFactory(first_name="Bo", last_name="Smit")
    invoice = invoice_for(person)
    client.force_login(person)
    page = client.get("/mijn/betalen").content.decode()
    assert "ik machtig de bibliotheek" in page

    refused_page = client.post("/mijn/betalen", {"method": "creditcard", "mandate": "on"})
    assert refused_page.status_code == 400
    assert "Een machtiging geef je met een betaling via iDEAL." in refused_page.content.decode()

    checkout = client.post("/mijn/betalen", {"method": "ideal", "mandate": "on"})["Location"]
    choose(client, checkout, "paid")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    mandate = mandates.mandate_of(person)
    assert mandate.iban == payments.LOCAL_TEST_IBAN and mandate.account_holder == "Bo Smit"
    assert "ik machtig de bibliotheek" not in client.get("/mijn/betalen").content.decode()


def test_online_payment_is_not_offered_without_a_provider(settings, client):
    settings.DEBUG = False
    if hasattr(settings, "BIEB_PAYMENT_PROVIDER"):
        del settings.BIEB_PAYMENT_PROVIDER
    person = UserFactory()
    invoice_for(person)
    client.force_login(person)

    page = client.get("/mijn/betalen")
    started = client.post("/mijn/betalen", {"method": "ideal"})

    assert "Online betalen is nu niet mogelijk" in page.content.decode()
    assert started.status_code == 503 and Payment.objects.count() == 0
    refused("provider_not_configured", lambda: start(person, Invoice.objects.all()))


# --- the local test provider, end to end ---------------------------------------------------------


def pay_online(client, path="/mijn/betalen", method="ideal"):
    """Start paying on ``path``; returns the checkout URL the site sent us to."""
    response = client.post(path, {"method": method})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def choose(client, checkout_url: str, status: str):
    page = client.get(checkout_url)
    assert page.status_code == 200
    token = parse_qs(urlsplit(checkout_url).query)["token"][0]
    return client.post(urlsplit(checkout_url).path, {"token": token, "status": status})


def test_local_flow_start_checkout_paid_webhook_and_the_return_page(local, client):
    person = UserFactory()
    invoice = invoice_for(person)
    client.force_login(person)

    page = client.get("/mijn/betalen")
    assert page.status_code == 200
    assert invoice.number in page.content.decode() and "€ 12,34" in page.content.decode()

    checkout = pay_online(client)
    payment = Payment.objects.get()
    assert checkout.startswith(f"/betalen/test/{payment.provider_id}?token=")
    assert payment.provider_id.startswith("tr_local_") and payment.status == "open"
    checkout_page = client.get(checkout).content.decode()
    assert "Testbetaling" in checkout_page and "€ 12,34" in checkout_page

    back = choose(client, checkout, "paid")

    assert back.status_code == 302
    assert back["Location"] == f"http://testserver/mijn/betalen/{payment.pk}"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.PAID, 1_234)
    result = client.get(f"/mijn/betalen/{payment.pk}").content.decode()
    assert "Betaald" in result and invoice.number in result
    # Mollie-style: the webhook carries only the id; again, nothing changes
    assert client.post("/betalen/webhook/local", {"id": payment.provider_id}).status_code == 200
    assert AuditEvent.objects.filter(action="subscriptions.payment_paid").count() == 1
    assert WebhookEvent.objects.filter(provider="local").count() == 1


def test_local_failed_then_paid_by_a_new_payment_settles_and_ends_dunning(local, client):
    person = UserFactory()
    invoice = invoice_for(person)
    client.force_login(person)

    choose(client, pay_online(client), "failed")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_dunning_on == DAY
    failed_page = client.get(f"/mijn/betalen/{Payment.objects.get().pk}").content.decode()
    assert "Niet betaald" in failed_page

    choose(client, pay_online(client, method="creditcard"), "paid")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents, invoice.next_dunning_on) == ("paid", 1_234, None)
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "paid"]


def test_local_canceled_frees_the_invoice_without_dunning(local, client):
    person = UserFactory()
    invoice = invoice_for(person)
    client.force_login(person)

    choose(client, pay_online(client), "canceled")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.next_dunning_on) == ("open", None)
    assert Payment.objects.get().status == PaymentStatus.CANCELED


def test_a_test_payment_is_finished_once(local, client):
    person = UserFactory()
    invoice_for(person)
    client.force_login(person)
    checkout = pay_online(client)
    choose(client, checkout, "paid")

    second = choose(client, checkout, "failed")

    assert second.status_code == 409
    assert "al afgerond" in second.content.decode()
    assert Payment.objects.get().status == PaymentStatus.PAID


def test_the_test_checkout_needs_its_own_signed_token(local, client):
    someone, other = UserFactory(), UserFactory()
    invoice_for(someone), invoice_for(other)
    client.force_login(someone)
    mine = pay_online(client)
    client.force_login(other)
    theirs = pay_online(client)
    my_id = urlsplit(mine).path.rsplit("/", 1)[1]
    their_token = parse_qs(urlsplit(theirs).query)["token"][0]

    assert client.get(f"/betalen/test/{my_id}").status_code == 404
    assert client.get(f"/betalen/test/{my_id}?token=nonsense").status_code == 404
    assert client.get(f"/betalen/test/{my_id}?token={their_token}").status_code == 404
    forged = client.post(f"/betalen/test/{my_id}", {"token": their_token, "status": "paid"})
    assert forged.status_code == 404
    assert set(Payment.objects.values_list("status", flat=True)) == {"open"}


def test_the_test_checkout_is_not_there_with_mollie(mollie, client):
    person = UserFactory()
    invoice = invoice_for(person)
    payment = ledger.payment_create(person=person, method="ideal", invoices=[invoice])
    Payment.objects.filter(pk=payment.pk).update(provider_id="tr_local_0123456789abcdef")

    assert client.get("/betalen/test/tr_local_0123456789abcdef?token=x").status_code == 404


def test_a_checkout_left_half_way_is_continued_and_after_it_expired_a_new_one_starts(local, client):
    person = UserFactory()
    invoice_for(person)
    client.force_login(person)
    first = pay_online(client)

    assert pay_online(client) == first  # back within a few minutes: the same checkout
    assert Payment.objects.count() == 1

    with on(DAY, 12, 20):  # the test provider expires an unfinished payment after 15 minutes
        later = pay_online(client)
        assert later != first
        assert sorted(Payment.objects.values_list("status", flat=True)) == ["expired", "open"]
        expired = Payment.objects.get(status="expired")
        assert (
            client.post(
                urlsplit(first).path,
                {"token": parse_qs(urlsplit(first).query)["token"][0], "status": "paid"},
            ).status_code
            == 409
        )
        assert Payment.objects.get(pk=expired.pk).status == PaymentStatus.EXPIRED


def test_the_return_page_asks_the_provider_when_the_webhook_is_late(local, client):
    person = UserFactory()
    invoice = invoice_for(person)
    client.force_login(person)
    pay_online(client)
    payment = Payment.objects.get()
    assert "We wachten nog" in client.get(f"/mijn/betalen/{payment.pk}").content.decode()
    # the choice is there, but its webhook never arrived
    WebhookEvent.objects.create(
        provider=payments.LOCAL_CHOICE, event_id=f"{payment.provider_id}:choice", outcome="paid"
    )

    page = client.get(f"/mijn/betalen/{payment.pk}").content.decode()

    assert "Betaald" in page
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_reconcile_applies_what_the_provider_says_about_payments_left_open(local):
    person = UserFactory()
    invoice = invoice_for(person)
    start(person, [invoice])
    never_sent = ledger.payment_create(
        person=person, method="ideal", invoices=[invoice_for(person, 500)]
    )

    assert payments.payments_reconcile()["payments_checked"] == 0  # not old enough
    with on(DAY, 14):
        report = payments.payments_reconcile()

    assert report == {"payments_checked": 2, "payments_changed": 2, "payments_provider_errors": 0}
    assert Payment.objects.get(pk=never_sent.pk).status == PaymentStatus.CANCELED
    assert Payment.objects.exclude(pk=never_sent.pk).get().status == PaymentStatus.EXPIRED
    assert Invoice.objects.filter(status="open").count() == 2  # both payable again


# --- only one's own ------------------------------------------------------------------------------


def test_someone_elses_invoice_and_payment_are_not_found(local, client):
    owner, other = UserFactory(), UserFactory()
    invoice = invoice_for(owner)
    client.force_login(owner)
    pay_online(client)
    payment = Payment.objects.get()
    client.force_login(other)

    assert client.get(f"/mijn/facturen/{invoice.pk}/betalen").status_code == 404
    assert (
        client.post(f"/mijn/facturen/{invoice.pk}/betalen", {"method": "ideal"}).status_code == 404
    )
    assert client.get(f"/mijn/betalen/{payment.pk}").status_code == 404
    page = client.get("/mijn/betalen").content.decode()
    assert invoice.number not in page and "geen openstaande facturen" in page
    assert Payment.objects.count() == 1


def test_paying_one_invoice_pays_that_one_only(local, client):
    person = UserFactory()
    org = OrganisationFactory()
    one, two = invoice_for(person, 1_000, org=org), invoice_for(person, 2_500, org=org)
    client.force_login(person)

    page = client.get(f"/mijn/facturen/{two.pk}/betalen").content.decode()
    assert "€ 25,00" in page and one.number not in page
    choose(client, pay_online(client, f"/mijn/facturen/{two.pk}/betalen"), "paid")

    one.refresh_from_db(), two.refresh_from_db()
    assert (one.status, two.status) == ("open", "paid")
    assert Payment.objects.get().amount_cents == 2_500
    paid_page = client.get(f"/mijn/facturen/{two.pk}/betalen").content.decode()
    assert "Deze factuur is betaald" in paid_page


def test_pay_all_settles_every_open_invoice_to_the_cent(local, client):
    person = UserFactory()
    org = OrganisationFactory()
    amounts = [1, 999, 1_234, 10_000]
    invoices = [invoice_for(person, a, org=org) for a in amounts]
    client.force_login(person)

    assert "€ 122,34" in client.get("/mijn/betalen").content.decode()
    choose(client, pay_online(client), "paid")

    for invoice, amount in zip(invoices, amounts, strict=True):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.settled_cents) == ("paid", amount)
    assert Payment.objects.get().amount_cents == sum(amounts)


def test_a_method_that_is_not_online_is_refused(local):
    person = UserFactory()
    refused("method_unknown", lambda: start(person, [invoice_for(person)], method="directdebit"))
    assert Payment.objects.count() == 0
    assert mail.outbox == []


# --- the same webhook twice at once --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_local_webhook_twice_at_once_applies_once(local):
    from bieb.circulation.tests.test_races import at_once

    person = UserFactory()
    invoice = invoice_for(person)
    payment = start(person, [invoice])
    WebhookEvent.objects.create(
        provider=payments.LOCAL_CHOICE, event_id=f"{payment.provider_id}:choice", outcome="paid"
    )

    results = at_once(
        lambda: payments.webhook_handle("local", payment.provider_id),
        lambda: payments.webhook_handle("local", payment.provider_id),
    )

    assert sorted(results) == ["paid", "replay"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.PAID, 1_234)
    assert AuditEvent.objects.filter(action="subscriptions.payment_paid").count() == 1
    assert WebhookEvent.objects.filter(provider="local").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_mollie_webhook_twice_at_once_applies_once(mollie):
    from bieb.circulation.tests.test_races import at_once

    person = UserFactory()
    invoice = invoice_for(person)
    mollie.on("POST", "/payments", 201, "payment_created.json")
    mollie.on("GET", f"/payments/{TR}", 200, "payment_paid.json")
    start(person, [invoice])

    results = at_once(
        lambda: payments.webhook_handle("mollie", TR),
        lambda: payments.webhook_handle("mollie", TR),
    )

    assert sorted(results) == ["paid", "replay"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_cents) == (InvoiceStatus.PAID, 1_234)
    assert AuditEvent.objects.filter(action="subscriptions.payment_paid").count() == 1


def test_an_invoice_being_collected_is_shown_but_not_paid_twice(local, client):
    person = UserFactory()
    org = OrganisationFactory()
    collected, other = invoice_for(person, 1_000, org=org), invoice_for(person, 2_000, org=org)
    ledger.payment_create(person=person, method=PaymentMethod.DIRECT_DEBIT, invoices=[collected])
    client.force_login(person)

    page = client.get("/mijn/betalen").content.decode()
    assert "automatisch van je rekening afgeschreven" in page
    assert "Betaal € 20,00" in page  # only the other one
    choose(client, pay_online(client), "paid")

    collected.refresh_from_db(), other.refresh_from_db()
    assert (collected.status, other.status) == ("open", "paid")
    assert Payment.objects.get(method="ideal").amount_cents == 2_000
    only_collected = client.get(f"/mijn/facturen/{collected.pk}/betalen")
    assert "Je hoeft nu niets te doen" in only_collected.content.decode()
    assert (
        client.post(f"/mijn/facturen/{collected.pk}/betalen", {"method": "ideal"}).status_code
        == 409
    )
