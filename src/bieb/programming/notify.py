"""E-mail about registrations and activities, sent after the transaction commits.

Templates: ``programming/email/<name>_subject.txt`` and ``_body.txt``; the context holds the
registration, its activity, the first session and the absolute link to the registration page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from bieb.accounts.mail import site_url_or_default
from bieb.core.clock import AMSTERDAM


def registration_link(registration: Any, site_url: str = "") -> str:
    return site_url_or_default(site_url) + reverse(
        "programming:registration", args=[registration.token]
    )


def address_of(registration: Any) -> tuple[str, str]:
    """(e-mail address, language) to write to about a registration."""
    person = registration.person
    if person is not None:
        return person.email, person.preferred_language or "nl"
    return registration.email, "nl"


def tell(registration: Any, template: str, *, site_url: str = "", **extra: Any) -> None:
    """Mail the person (or visitor) of ``registration`` once the transaction commits."""
    to, language = address_of(registration)
    if not to:
        return

    def send() -> None:
        from bieb.programming import recurrence

        activity = registration.activity
        sessions = recurrence.activity_sessions(activity)
        context = {
            "registration": registration,
            "activity": activity,
            "first_start": sessions[0].starts_at.astimezone(AMSTERDAM) if sessions else None,
            "sessions": len(sessions),
            "location": activity.location,
            "link": registration_link(registration, site_url),
            **extra,
        }
        with translation.override(language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"programming/email/{template}_subject.txt", context)
            body = render_to_string(f"programming/email/{template}_body.txt", context)
        send_mail(
            " ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False
        )

    # robust: one address that fails does not keep the mail from the others
    transaction.on_commit(send, robust=True)


def tell_booking(booking: Any, template: str, *, site_url: str = "") -> None:
    """Mail the person who asked for a room about the decision, once the transaction commits."""
    person = booking.requested_by
    if person is None or not person.email:
        return

    def send() -> None:
        context = {
            "booking": booking,
            "room": booking.room,
            "location": booking.room.location,
            "starts_at": booking.starts_at.astimezone(AMSTERDAM),
            "ends_at": booking.ends_at.astimezone(AMSTERDAM),
            "link": site_url_or_default(site_url) + reverse("programming:my_bookings"),
        }
        with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"programming/email/{template}_subject.txt", context)
            body = render_to_string(f"programming/email/{template}_body.txt", context)
        send_mail(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [person.email],
            fail_silently=False,
        )

    # robust: one address that fails does not keep the mail from the others
    transaction.on_commit(send, robust=True)
