"""Base models and the audit log shared by every app. Nothing domain-specific lives here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bieb.core import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One important state change, written in the same transaction as the change itself.

    ``organisation_id`` scopes the row for staff reading the log (no FK: core knows no apps);
    ``subject`` names the changed thing as ``app.model:pk``; ``data`` holds the facts needed to
    explain the change, never secrets.
    """

    occurred_at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=80)
    subject = models.CharField(max_length=120, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["subject", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.subject}"
