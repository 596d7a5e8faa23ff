"""Write audit rows. Call inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from django.db import models

from bieb.core import rows
from bieb.core.models import AuditEvent


def subject_of(instance: models.Model) -> str:
    return f"{instance._meta.label_lower}:{instance.pk}"


def audit_record(
    *,
    action: str,
    actor: Any = None,
    subject: models.Model | str = "",
    organisation_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record ``action`` on ``subject`` by ``actor`` (a user or None for the system)."""
    if isinstance(subject, models.Model):
        subject = subject_of(subject)
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    # one written-out INSERT: every checkout and return writes a row (``core.rows``)
    return rows.insert(
        AuditEvent(
            action=action,
            actor=actor_obj,
            subject=subject,
            organisation_id=organisation_id,
            data=data or {},
        )
    )
