"""API tokens: a resident's key for programs that call the API on their behalf.

The secret is shown once, when the token is made; only its SHA-256 hash is stored, so a copy of
the database gives no working token. ``key_prefix`` (the first characters of the secret) lets a
person recognise a token in their list without the secret.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bieb.core import clock

TOKEN_LIFETIME = dt.timedelta(days=90)


def default_expiry() -> dt.datetime:
    return clock.now() + TOKEN_LIFETIME


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("naam"), max_length=100, blank=True)
    key_prefix = models.CharField(_("begin van de sleutel"), max_length=16, db_index=True)
    key_hash = models.CharField(_("hash van de sleutel"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("gemaakt op"), default=clock.now, editable=False)
    last_used_at = models.DateTimeField(_("laatst gebruikt op"), null=True, blank=True)
    expires_at = models.DateTimeField(_("verloopt op"), default=default_expiry)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)

    class Meta:
        verbose_name = _("API-token")
        verbose_name_plural = _("API-tokens")
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="api_token_user_revoked"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_created",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True)
                | models.Q(revoked_at__gte=models.F("created_at")),
                name="api_token_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.name or self.user_id})"

    def is_active_at(self, moment: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > moment


#: how long an ``Idempotency-Key`` is remembered (decision 0013)
IDEMPOTENCY_KEY_LIFETIME = dt.timedelta(hours=24)


class IdempotencyKey(models.Model):
    """The answer to an API write sent with an ``Idempotency-Key`` header, kept so that a
    retry of the same request gets the same answer without doing anything again.

    Written in the same transaction as the write's effect (``bieb.api.idempotency``): the key
    and the effect are committed together or not at all, and the unique constraint makes a
    second request with the key wait for the first and then replay its answer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("sleutel"), max_length=255)
    method = models.CharField(_("methode"), max_length=10)
    path = models.TextField(_("pad"))
    #: SHA-256 of method, path and the (canonical JSON) body
    request_hash = models.CharField(_("hash van het verzoek"), max_length=64)
    #: empty only inside the transaction that is still doing the work
    status_code = models.PositiveSmallIntegerField(_("statuscode"), null=True, blank=True)
    response_body = models.TextField(_("antwoord"), blank=True)
    created_at = models.DateTimeField(_("gemaakt op"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("idempotentiesleutel")
        verbose_name_plural = _("idempotentiesleutels")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_one_per_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key} ({self.method} {self.path})"
