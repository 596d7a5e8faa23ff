"""The pages of the resident's and visitor's side: the registration by its secret link (headers,
status in words, the QR code, buttons only by POST), ``/mijn/activiteiten`` (coming and past,
attendance, the personal feed link and making a new one) and the QR code itself."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import UserFactory, staff_member
from bieb.core import clock
from bieb.programming import services
from bieb.programming.models import (
    Attendance,
    AttendanceMethod,
    CalendarFeed,
    PriceKind,
    Registration,
    RegistrationStatus,
)
from bieb.programming.qr import qr_svg
from bieb.programming.tests.factories import activity, registration

pytestmark = pytest.mark.django_db


def resident(**kw):
    kw.setdefault("email_verified_at", clock.now())
    return UserFactory(**kw)


def page_of(reg: Registration) -> str:
    return reverse("programming:registration", args=[reg.token])


def text(response) -> str:
    return response.content.decode()


# --- the registration page ---------------------------------------------------------------------


def test_the_token_page_is_private_not_cached_not_indexed_and_never_refers_its_address(client):
    """``strict-origin``: a referrer holds at most the site's origin, never the token (and,
    unlike ``no-referrer``, the page's forms still carry an Origin the CSRF check accepts)."""
    reg = registration(activity=activity())
    response = client.get(page_of(reg))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "strict-origin"
    assert "noindex" in response["X-Robots-Tag"]
    cancel = client.get(reverse("programming:registration_cancel", args=[reg.token]))
    assert cancel["Referrer-Policy"] == "strict-origin" and "noindex" in cancel["X-Robots-Tag"]
    image = client.get(reverse("programming:registration_qr", args=[reg.token]))
    assert image["Referrer-Policy"] == "no-referrer" and "noindex" in image["X-Robots-Tag"]
    assert "no-store" in image["Cache-Control"]


def test_an_unknown_token_is_not_found(client):
    for name in ("registration", "registration_qr", "registration_cancel"):
        assert client.get(reverse(f"programming:{name}", args=["nope"])).status_code == 404
    assert (
        client.post(reverse("programming:registration_confirm", args=["x" * 80])).status_code == 404
    )


def test_changes_only_by_post_with_a_csrf_token():
    reg = registration(activity=activity())
    browser = Client(enforce_csrf_checks=True)
    for name in ("registration_confirm", "registration_accept"):
        assert browser.get(reverse(f"programming:{name}", args=[reg.token])).status_code == 405
    refused = browser.post(reverse("programming:registration_cancel", args=[reg.token]))
    assert refused.status_code == 403
    assert Registration.objects.get().status == RegistrationStatus.CONFIRMED


def test_the_page_says_the_status_in_words_with_the_waitlist_place():
    act = activity(capacity=1)
    cases = {
        RegistrationStatus.CONFIRMED: "Aangemeld",
        RegistrationStatus.CANCELLED: "Afgemeld",
        RegistrationStatus.EXPIRED: "Verlopen",
    }
    client = Client()
    for status, words in cases.items():
        reg = registration(activity=act, status=status)
        assert words in text(client.get(page_of(reg))), status
    first = registration(activity=act, status=RegistrationStatus.WAITLISTED)
    second = registration(activity=act, status=RegistrationStatus.WAITLISTED)
    assert "nummer 1 op de wachtlijst" in text(client.get(page_of(first)))
    assert "nummer 2 op de wachtlijst" in text(client.get(page_of(second)))
    offered = registration(
        activity=act,
        status=RegistrationStatus.OFFERED,
        offer_expires_at=clock.now() + dt.timedelta(hours=5),
    )
    assert "Plaats aangeboden tot" in text(client.get(page_of(offered)))


def test_an_activity_that_is_called_off_says_so_on_the_page():
    act = activity()
    reg = services.register(activity=act, person=resident())
    services.activity_cancel(activity=act, reason="De spreker is ziek.", actor=None)
    page = text(Client().get(page_of(reg)))
    assert "Deze activiteit gaat niet door." in page and "De spreker is ziek." in page
    assert "Afmelden" not in page and "<svg" not in page


def test_staff_get_no_door_powers_on_the_token_page(client):
    act = activity()
    reg = registration(activity=act)
    client.force_login(staff_member(StaffRole.Role.PROGRAMMER, organisation=act.organisation))
    page = text(client.get(page_of(reg)))
    assert "Inchecken" not in page and "check_in" not in page
    assert not Attendance.objects.exists()


def test_accepting_an_offer_of_a_paid_activity_sends_the_resident_to_pay(client):
    from bieb.subscriptions.models import Invoice

    act = activity(price_kind=PriceKind.PAID, price_cents=600, pay_at_door=True)
    person = resident()
    reg = registration(activity=act, person=person, status=RegistrationStatus.OFFERED)
    client.force_login(person)
    assert "Ik betaal aan de deur" in text(client.get(page_of(reg)))

    response = client.post(reverse("programming:registration_accept", args=[reg.token]))

    invoice = Invoice.objects.get()
    assert response.url == reverse("payments:pay_invoice", args=[invoice.pk])
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.CONFIRMED and reg.invoice == invoice


def test_accepting_an_offer_and_paying_at_the_door(client):
    from bieb.subscriptions.models import Invoice

    act = activity(price_kind=PriceKind.PAID, price_cents=600, pay_at_door=True)
    person = resident()
    reg = registration(activity=act, person=person, status=RegistrationStatus.OFFERED)
    client.force_login(person)

    response = client.post(
        reverse("programming:registration_accept", args=[reg.token]), {"pay_at_door": "on"}
    )

    assert response.url == page_of(reg)
    reg.refresh_from_db()
    assert (reg.status, reg.payment) == (RegistrationStatus.CONFIRMED, "at_door")
    assert not Invoice.objects.exists()


def test_accepting_without_an_offer_says_there_is_none(client):
    reg = registration(activity=activity(), status=RegistrationStatus.WAITLISTED)
    response = client.post(reverse("programming:registration_accept", args=[reg.token]))
    assert response.url == page_of(reg)
    assert "Er staat geen plaats voor je klaar." in text(client.get(page_of(reg)))


def test_a_resident_already_registered_is_shown_the_way_to_it(client):
    act = activity()
    person = resident()
    reg = services.register(activity=act, person=person)
    client.force_login(person)
    page = text(client.get(reverse("programming:register", args=[act.slug])))
    assert "Je bent al aangemeld voor deze activiteit." in page and page_of(reg) in page


def test_a_confirmed_page_puts_the_qr_code_first_with_the_door_code_and_the_agenda(client):
    from bieb.programming.forms_staff import door_code_display

    act = activity(title="Lezing")
    person = resident()
    reg = services.register(activity=act, person=person)
    client.force_login(person)
    page = text(client.get(page_of(reg)))
    # on a phone the code for the door comes before the button to cancel
    assert page.index("Je QR-code voor bij de deur") < page.index(">Afmelden</a>")
    assert door_code_display(reg.token) in page
    assert reverse("programming:activity_ics", args=[act.slug]) in page
    assert "Je vindt deze pagina ook onder Mijn activiteiten." in page


def test_the_way_out_says_what_it_gives_up_and_the_way_back_in_after_cancelling():
    act = activity(capacity=1)
    client = Client()
    offered = registration(activity=act, status=RegistrationStatus.OFFERED)
    assert ">Plaats afslaan</a>" in text(client.get(page_of(offered)))
    waiting = registration(activity=act, status=RegistrationStatus.WAITLISTED)
    assert ">Van de wachtlijst af</a>" in text(client.get(page_of(waiting)))

    gone = registration(activity=act, status=RegistrationStatus.CANCELLED)
    page = text(client.get(page_of(gone)))
    assert ">Opnieuw aanmelden</a>" in page
    assert reverse("programming:register", args=[act.slug]) in page
    # not for an activity that is called off
    called_off = activity(status="cancelled")
    page = text(client.get(page_of(registration(activity=called_off, status="cancelled"))))
    assert "Opnieuw aanmelden" not in page


def test_the_register_button_says_waitlist_when_the_activity_is_full(client):
    full = activity(capacity=2, seats_taken=2)
    client.force_login(resident())
    page = text(client.get(reverse("programming:register", args=[full.slug])))
    assert "Vol: je komt op de wachtlijst." in page
    assert ">Zet me op de wachtlijst</button>" in page


# --- the QR code ---------------------------------------------------------------------------------


def test_the_qr_code_is_an_accessible_svg_of_the_pages_absolute_link(client):
    act = activity(title="Taalcafé")
    reg = registration(activity=act)
    response = client.get(reverse("programming:registration_qr", args=[reg.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "QR-code van je aanmelding voor Taalcafé"
    assert root.find("{http://www.w3.org/2000/svg}title").text == root.get("aria-label")
    assert root.get("width") and root.get("height")
    link = "http://testserver" + page_of(reg)
    assert svg == qr_svg(link, label=root.get("aria-label"), scale=8, sized=True)
    assert svg != qr_svg(link + "x", label=root.get("aria-label"), scale=8, sized=True)


def test_qr_svg_escapes_its_label_and_sizes_by_css_inline():
    svg = qr_svg("https://example.nl/a", label='Tom & "Jerry" <b>')
    root = ET.fromstring(svg)
    assert root.get("aria-label") == 'Tom & "Jerry" <b>'
    assert root.get("width") is None and root.get("viewBox")


def test_the_page_shows_the_qr_only_with_a_seat(client):
    act = activity()
    seated = registration(activity=act)
    waiting = registration(activity=act, status=RegistrationStatus.WAITLISTED)
    assert '<svg role="img"' in text(client.get(page_of(seated)))
    assert "<svg" not in text(client.get(page_of(waiting)))


# --- mijn activiteiten ---------------------------------------------------------------------------


def test_mijn_activiteiten_needs_a_log_in(client):
    response = client.get(reverse("programming:mine"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url
    assert client.post(reverse("programming:feed_reset")).status_code == 302
    assert not CalendarFeed.objects.exists()


def test_mijn_activiteiten_lists_coming_and_past_with_attendance(client):
    person = resident()
    coming = activity(title="Komt nog")
    past_course = activity(
        title="Cursus voorbij",
        starts_at=clock.now() - dt.timedelta(days=30),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    past_missed = activity(title="Gemist", starts_at=clock.now() - dt.timedelta(days=10))
    someone_elses = activity(title="Van een ander")
    registration(activity=coming, person=person, seats=2)
    attended = registration(activity=past_course, person=person)
    Attendance.objects.create(
        registration=attended, session_start=past_course.starts_at, method=AttendanceMethod.SCAN
    )
    Attendance.objects.create(
        registration=attended,
        session_start=past_course.starts_at + dt.timedelta(weeks=1),
        method=AttendanceMethod.LIST,
    )
    registration(activity=past_missed, person=person)
    registration(activity=someone_elses)
    client.force_login(person)

    response = client.get(reverse("programming:mine"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    coming_part, _sep, earlier_part = page.partition("Eerder</h2>")
    assert "Komt nog" in coming_part and "2 plaatsen" in coming_part
    assert "Aanwezig geweest: 2 van 3 bijeenkomsten." in earlier_part
    assert "Gemist" in earlier_part and "Niet aanwezig geweest." in earlier_part
    assert "Van een ander" not in page


def test_the_feed_link_is_shown_and_a_new_one_replaces_it(client):
    person = resident()
    client.force_login(person)
    first = text(client.get(reverse("programming:mine")))
    token = CalendarFeed.objects.get(person=person).token
    try:
        feed_path = reverse("programming:feed_personal", args=[token])
    except NoReverseMatch:
        feed_path = ""
    if feed_path:
        assert "http://testserver" + feed_path in first
    else:
        assert "De agenda-link is nog niet beschikbaar." in first

    assert client.get(reverse("programming:feed_reset")).status_code == 405
    response = client.post(reverse("programming:feed_reset"))
    assert response.url == reverse("programming:mine")
    new_token = CalendarFeed.objects.get(person=person).token
    assert new_token != token
    after = text(client.get(response.url))
    assert "Je agenda-link is vernieuwd." in after
    assert token not in after
