"""Registration through the web pages, end to end with the Django test client: residents and
visitors register, confirm, wait, get offered a seat, accept, cancel; credits, online payment
and paying at the door. What the person sees (status, message) and what the database holds
(one registration, seats taken, credits, invoices, mail) are both checked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from bieb.accounts.models import GuardianLink
from bieb.accounts.tests.factories import UserFactory, years_ago
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.programming import services
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    PaymentState,
    PriceKind,
    Registration,
    RegistrationStatus,
)
from bieb.programming.tests.factories import activity

pytestmark = pytest.mark.django_db


def resident(**kw):
    """A signed-up adult whose e-mail address is confirmed."""
    kw.setdefault("email_verified_at", clock.now())
    return UserFactory(**kw)


def register_url(act: Activity) -> str:
    return reverse("programming:register", args=[act.slug])


def page_of(registration: Registration) -> str:
    return reverse("programming:registration", args=[registration.token])


def seats_taken(act: Activity) -> int:
    return Activity.objects.get(pk=act.pk).seats_taken


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST as ``client`` (log in with ``client.force_login``), running on-commit work
    (the mail) as a real commit would."""

    def send(url: str, data: dict | None = None, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **kw)

    return send


def text(response) -> str:
    return response.content.decode()


# --- residents ---------------------------------------------------------------------------------


def test_a_resident_registers_gets_a_seat_a_mail_with_the_link_and_sees_the_qr(client, post):
    act = activity(title="Schrijfavond", capacity=10)
    person = resident(email="fenna@example.nl")
    client.force_login(person)

    form = client.get(register_url(act))
    assert form.status_code == 200
    assert "Schrijfavond" in text(form) and "Gratis." in text(form)

    response = post(register_url(act))
    registration = Registration.objects.get(activity=act, person=person)
    assert response.status_code == 302 and response.url == page_of(registration)
    assert registration.status == RegistrationStatus.CONFIRMED and registration.seats == 1
    assert seats_taken(act) == 1
    assert [m.to for m in mail.outbox] == [["fenna@example.nl"]]
    assert "Schrijfavond" in mail.outbox[0].subject
    assert "http://testserver" + page_of(registration) in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="programming.register").count() == 1

    shown = client.get(response.url)
    body = text(shown)
    assert "Je bent aangemeld." in body and "Aangemeld" in body
    assert '<svg role="img" aria-label="QR-code van je aanmelding voor Schrijfavond"' in body


def test_registering_twice_says_so_and_keeps_one_registration(client, post):
    act = activity()
    person = resident()
    client.force_login(person)
    post(register_url(act))

    again = post(register_url(act))

    assert again.status_code == 409
    assert "Je bent al aangemeld voor deze activiteit." in text(again)
    assert Registration.objects.filter(activity=act, person=person).count() == 1
    assert seats_taken(act) == 1


def test_a_family_takes_its_seats_and_more_than_the_group_size_is_refused(client, post):
    act = activity(capacity=10, max_group_size=4)
    client.force_login(resident())
    form = client.get(register_url(act))
    assert "Met hoeveel mensen kom je?" in text(form)
    assert 'max="4"' in text(form)

    refused = post(register_url(act), {"seats": "5"})
    assert refused.status_code == 400
    assert "hoogstens 4 plaats(en)" in text(refused)
    assert not Registration.objects.exists() and seats_taken(act) == 0

    post(register_url(act), {"seats": "3"})
    assert Registration.objects.get().seats == 3
    assert seats_taken(act) == 3


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"status": ActivityStatus.CANCELLED}, "Deze activiteit is geannuleerd."),
        (
            {
                "starts_at": clock.now() - dt.timedelta(days=2),
                "ends_at": clock.now() - dt.timedelta(days=2) + dt.timedelta(hours=2),
            },
            "die is al begonnen",
        ),
    ],
    ids=["cancelled", "past"],
)
def test_a_past_or_cancelled_activity_refuses_and_shows_no_form(client, post, state, message):
    act = activity(**state)
    client.force_login(resident())

    page = client.get(register_url(act))
    assert message in text(page) and 'type="submit">Aanmelden' not in text(page)
    refused = post(register_url(act))

    assert refused.status_code == 409 and message in text(refused)
    assert not Registration.objects.exists()


def test_a_draft_is_not_found(client):
    act = activity(status=ActivityStatus.DRAFT)
    assert client.get(register_url(act)).status_code == 404


def test_an_account_with_an_unconfirmed_email_address_is_refused(client, post):
    act = activity()
    client.force_login(UserFactory(email_verified_at=None))

    assert "Bevestig eerst je e-mailadres" in text(client.get(register_url(act)))
    refused = post(register_url(act))

    assert refused.status_code == 409 and "Bevestig eerst je e-mailadres" in text(refused)
    assert not Registration.objects.exists() and not mail.outbox


def test_a_child_under_16_needs_a_guardians_consent(client, post):
    act = activity(audience="teens")
    child = resident(birth_date=years_ago(13))
    client.force_login(child)

    refused = post(register_url(act))
    assert refused.status_code == 403 and "ouder of voogd" in text(refused)
    assert not Registration.objects.exists()

    GuardianLink.objects.create(
        guardian=resident(birth_date=years_ago(40)), child=child, consent_given_at=clock.now()
    )
    post(register_url(act))
    assert Registration.objects.get().status == RegistrationStatus.CONFIRMED


# --- visitors ----------------------------------------------------------------------------------


def test_a_visitor_registers_confirms_by_post_and_gets_the_seat(client, post):
    act = activity(title="Voorleesochtend", capacity=5)
    form = client.get(register_url(act))
    assert "bevestig" in text(form).lower() and reverse("accounts:login") in text(form)

    response = post(register_url(act), {"name": "Sam Visser", "email": "Sam@Example.NL"})
    registration = Registration.objects.get()
    # back to the activity with "check your mail": the page behind the link in the mail (with
    # its confirm button) is not shown to whoever typed the address
    assert response.url == reverse("programming:detail", args=[act.slug])
    after = text(client.get(response.url))
    assert "Bijna klaar: we stuurden een e-mail naar sam@example.nl" in after
    assert registration.token not in after
    assert registration.status == RegistrationStatus.UNCONFIRMED
    assert registration.email == "sam@example.nl" and registration.person is None
    assert seats_taken(act) == 0  # no seat before the address is confirmed
    assert [m.to for m in mail.outbox] == [["sam@example.nl"]]
    assert page_of(registration) in mail.outbox[0].body

    waiting = client.get(page_of(registration))
    assert "E-mailadres nog niet bevestigd" in text(waiting)
    assert "<svg" not in text(waiting)  # no QR code without a seat
    # opening the link changes nothing (mail scanners follow links); the button does
    assert Registration.objects.get().status == RegistrationStatus.UNCONFIRMED

    confirmed = post(reverse("programming:registration_confirm", args=[registration.token]))
    assert confirmed.url == page_of(registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert seats_taken(act) == 1
    assert "Je e-mailadres is bevestigd en je bent aangemeld." in text(
        client.get(page_of(registration))
    )
    assert len(mail.outbox) == 2 and "aangemeld" in mail.outbox[1].subject


def test_a_visitor_needs_name_and_valid_address(client, post):
    act = activity()
    refused = post(register_url(act), {"name": "", "email": "geen-adres"})
    assert refused.status_code == 400
    assert "Vul een geldig e-mailadres in." in text(refused)
    assert not Registration.objects.exists()


def test_a_visitor_cannot_register_twice_with_the_same_address(client, post):
    act = activity()
    post(register_url(act), {"name": "Sam", "email": "sam@example.nl"})
    again = post(register_url(act), {"name": "Sam", "email": "SAM@example.nl"})
    assert again.status_code == 409 and "al aangemeld" in text(again)
    assert "De link naar je aanmelding staat in de e-mail" in text(again)
    assert Registration.objects.count() == 1


def test_a_visitor_is_sent_to_log_in_for_an_activity_paid_online(client, post):
    act = activity(price_kind=PriceKind.PAID, price_cents=500)
    page = client.get(register_url(act))
    assert "log in of maak een gratis account" in text(page)
    refused = post(register_url(act), {"name": "Sam", "email": "sam@example.nl"})
    assert refused.status_code == 409 and not Registration.objects.exists()


# --- the waitlist ------------------------------------------------------------------------------


def full_activity(capacity: int = 1, **kw) -> tuple[Activity, Registration]:
    # three days ahead: an offer's 24 hours end before the activity starts
    kw.setdefault("starts_at", clock.now() + dt.timedelta(days=3))
    act = activity(capacity=capacity, offer_hours=24, **kw)
    first = services.register(activity=act, person=resident())
    return act, first


def test_a_full_activity_puts_the_next_on_the_waitlist_with_their_place(client, post):
    act, _first = full_activity()
    services.register(activity=act, person=resident())
    person = resident()
    client.force_login(person)

    response = post(register_url(act))
    registration = Registration.objects.get(person=person)
    assert registration.status == RegistrationStatus.WAITLISTED
    page = text(client.get(response.url))
    assert "je staat op de wachtlijst" in page
    assert "Je bent nummer 2 op de wachtlijst." in page
    assert "wachtlijst" in mail.outbox[-1].subject


def test_cancelling_offers_the_seat_to_the_first_waiting_who_accepts(client, post):
    act, first = full_activity()
    waiting_person = resident(email="wacht@example.nl")
    waiting = services.register(activity=act, person=waiting_person)
    assert waiting.status == RegistrationStatus.WAITLISTED

    # the first person cancels through their link, after a confirmation page
    ask = client.get(reverse("programming:registration_cancel", args=[first.token]))
    assert ask.status_code == 200 and "Weet je het zeker?" in text(ask)
    assert Registration.objects.get(pk=first.pk).status == RegistrationStatus.CONFIRMED
    done = post(reverse("programming:registration_cancel", args=[first.token]))
    assert done.url == page_of(first)
    assert Registration.objects.get(pk=first.pk).status == RegistrationStatus.CANCELLED
    assert "Afgemeld" in text(client.get(page_of(first)))

    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED and waiting.offer_expires_at
    offered_mail = [m for m in mail.outbox if m.to == ["wacht@example.nl"]]
    assert offered_mail and "plaats vrij" in offered_mail[-1].subject
    assert page_of(waiting) in offered_mail[-1].body
    assert seats_taken(act) == 1  # the seat is held for the offer

    page = text(client.get(page_of(waiting)))
    assert "Plaats aangeboden tot" in page and "Plaats aannemen" in page
    accepted = post(reverse("programming:registration_accept", args=[waiting.token]))
    assert accepted.url == page_of(waiting)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert seats_taken(act) == 1


def test_an_offer_not_taken_in_time_expires_and_goes_to_the_next(client, post):
    act, first = full_activity()
    second = services.register(activity=act, person=resident())
    third = services.register(activity=act, person=resident())
    services.registration_cancel(registration=first)
    second.refresh_from_db()
    assert second.status == RegistrationStatus.OFFERED

    with clock.frozen(second.offer_expires_at + dt.timedelta(minutes=1)):
        assert "Verlopen" in text(client.get(page_of(second)))  # shown at once
        refused = post(reverse("programming:registration_accept", args=[second.token]))
        assert refused.status_code == 302
        assert "niet op tijd aangenomen" in text(client.get(page_of(second)))
        services.offers_expire()

    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == RegistrationStatus.EXPIRED
    assert third.status == RegistrationStatus.OFFERED
    assert seats_taken(act) == 1


def test_a_cancelled_registration_cannot_be_cancelled_again(client, post):
    act, first = full_activity()
    post(reverse("programming:registration_cancel", args=[first.token]))
    again = client.get(reverse("programming:registration_cancel", args=[first.token]))
    assert again.status_code == 302
    refused = post(reverse("programming:registration_cancel", args=[first.token]))
    assert refused.status_code == 302
    assert "al afgemeld of verlopen" in text(client.get(page_of(first)))
    assert seats_taken(act) == 0


# --- money -------------------------------------------------------------------------------------


def credits_subscriber(credits_per_month: int):
    from bieb.subscriptions import services as subscription_services
    from bieb.subscriptions.tests.factories import plan

    plan(code="activiteiten", activity_credits_per_month=credits_per_month)
    person = resident(birth_date=years_ago(40))
    subscription_services.subscribe(person=person, plan_code="activiteiten")
    return person


def credits_left(person) -> int:
    from bieb.subscriptions.selectors import usage_of

    return next(m.left for m in usage_of(person).meters if m.meter == "activity_credits")


def test_a_credits_activity_uses_the_meter_and_cancelling_gives_it_back(client, post):
    act = activity(price_kind=PriceKind.CREDITS, credits=2, max_group_size=2)
    person = credits_subscriber(5)
    client.force_login(person)
    assert "Je hebt deze maand nog 5 activiteitentegoed." in text(client.get(register_url(act)))

    response = post(register_url(act), {"seats": "2"})
    registration = Registration.objects.get()
    assert response.url == page_of(registration)
    assert registration.payment == PaymentState.CREDITS and registration.credits_used == 4
    assert credits_left(person) == 1
    assert "Betaald met 4 activiteitentegoed." in text(client.get(page_of(registration)))

    post(reverse("programming:registration_cancel", args=[registration.token]))
    assert credits_left(person) == 5


def test_a_credits_activity_without_credits_left_and_no_price_is_refused(client, post):
    act = activity(price_kind=PriceKind.CREDITS, credits=3)
    person = credits_subscriber(2)
    client.force_login(person)
    refused = post(register_url(act))
    assert refused.status_code == 409 and "niet genoeg activiteitentegoed" in text(refused)
    assert not Registration.objects.exists() and seats_taken(act) == 0
    assert credits_left(person) == 2


def test_a_paid_activity_makes_an_invoice_sends_to_pay_and_expires_unpaid(client, post):
    from bieb.subscriptions.models import Invoice, InvoiceStatus, LineKind

    act = activity(price_kind=PriceKind.PAID, price_cents=750, max_group_size=2)
    person = resident()
    client.force_login(person)
    assert "€ 7,50 per plaats." in text(client.get(register_url(act)))

    response = post(register_url(act), {"seats": "2"})
    registration = Registration.objects.get()
    invoice = Invoice.objects.get()
    assert response.url == reverse("payments:pay_invoice", args=[invoice.pk])
    assert registration.payment == PaymentState.ONLINE and registration.invoice == invoice
    assert invoice.status == InvoiceStatus.OPEN and invoice.total_cents == 1500
    assert list(invoice.lines.values_list("kind", flat=True)) == [LineKind.ACTIVITY]
    pay_page = client.get(response.url)
    assert pay_page.status_code == 200
    assert "Je plaats is vastgehouden. Betaal vóór" in text(pay_page)

    page = text(client.get(page_of(registration)))
    assert "Betaal nu" in page and "Nog niet betaald: € 15,00" in page
    assert reverse("payments:pay_invoice", args=[invoice.pk]) in page
    mine = text(client.get(reverse("programming:mine")))
    assert "nog niet betaald" in mine

    with clock.frozen(registration.offer_expires_at + dt.timedelta(minutes=1)):
        services.offers_expire()
    registration.refresh_from_db()
    invoice.refresh_from_db()
    assert registration.status == RegistrationStatus.EXPIRED
    assert invoice.status == InvoiceStatus.VOID
    assert seats_taken(act) == 0
    assert "Verlopen" in text(client.get(page_of(registration)))


def test_paying_at_the_door_takes_the_seat_without_an_invoice(client, post):
    from bieb.subscriptions.models import Invoice

    act = activity(price_kind=PriceKind.PAID, price_cents=500, pay_at_door=True)
    person = resident()
    client.force_login(person)
    form = text(client.get(register_url(act)))
    assert "Ik betaal aan de deur" in form

    response = post(register_url(act), {"pay_at_door": "on"})
    registration = Registration.objects.get()
    assert response.url == page_of(registration)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.payment == PaymentState.AT_DOOR
    assert not Invoice.objects.exists()
    assert "Je betaalt aan de deur." in text(client.get(page_of(registration)))


def test_a_visitor_pays_at_the_door_where_the_activity_allows_it(client, post):
    act = activity(price_kind=PriceKind.PAID, price_cents=500, pay_at_door=True)
    page = text(client.get(register_url(act)))
    assert "Zonder account betaal je aan de deur." in page
    post(register_url(act), {"name": "Sam", "email": "sam@example.nl"})
    registration = Registration.objects.get()
    post(reverse("programming:registration_confirm", args=[registration.token]))
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.payment == PaymentState.AT_DOOR
