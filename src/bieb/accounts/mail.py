"""E-mail to people about their account, always sent after the transaction commits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def site_url_or_default(site_url: str = "") -> str:
    """The absolute root URL for links in e-mail (the request's, or ``BIEB_SITE_URL``)."""
    url = site_url or getattr(settings, "BIEB_SITE_URL", "") or "http://127.0.0.1:8000/"
    return url.rstrip("/")


def mail_on_commit(
    *, to: str, template: str, context: dict[str, Any], language: str = "nl"
) -> None:
    """Render ``accounts/email/<template>_subject.txt`` and ``_body.txt`` and send them to
    ``to`` once the surrounding transaction has committed (never for rolled-back work)."""

    def send() -> None:
        with translation.override(language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
            body = render_to_string(f"accounts/email/{template}_body.txt", context)
        send_mail(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [to],
            fail_silently=False,
        )

    transaction.on_commit(send)
