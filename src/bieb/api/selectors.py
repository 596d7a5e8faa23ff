"""Reads of API tokens."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from bieb.api.models import ApiToken
from bieb.core import clock
from bieb.core.errors import NotFound


def token_hash(secret: str) -> str:
    """The stored form of a token secret: SHA-256, hex. Secrets are random, so no salt is needed."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_for_secret(*, secret: str) -> ApiToken | None:
    """The active (not revoked, not expired) token with this secret and its user, or None."""
    if not secret:
        return None
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True, expires_at__gt=clock.now())
        .first()
    )


def token_list(*, user) -> QuerySet[ApiToken]:
    """The user's tokens that are not revoked (expired ones included), newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def token_get_for_user(*, user, token_id: int) -> ApiToken:
    """One of the user's own not-revoked tokens. Anyone else's token is "not found", never 403."""
    token = token_list(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("token_not_found", _("Dit token bestaat niet of is al ingetrokken."))
    return token
