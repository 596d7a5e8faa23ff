"""E-mail to residents about the community, sent after the transaction commits. Messages are
never quoted: a notification says that there is something to read, not what (the content
stays inside the platform). Templates: ``community/email/<name>_subject.txt`` and
``_body.txt``; the context always has ``site_url`` (absolute, no trailing slash)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from bieb.accounts.mail import site_url_or_default


def tell(person: Any, template: str, *, site_url: str = "", **context: Any) -> None:
    """Mail ``person`` (an account) with ``template`` once the transaction commits."""
    if person is None or not getattr(person, "email", "") or not person.is_active:
        return
    to, language = person.email, getattr(person, "preferred_language", "") or "nl"

    def send() -> None:
        data = {"person": person, "site_url": site_url_or_default(site_url), **context}
        with translation.override(language or settings.LANGUAGE_CODE):
            subject = render_to_string(f"community/email/{template}_subject.txt", data)
            body = render_to_string(f"community/email/{template}_body.txt", data)
        send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [to])

    transaction.on_commit(send)
