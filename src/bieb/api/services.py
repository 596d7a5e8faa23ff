"""Writes of API tokens: create, revoke, record use."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.api.errors import ApiError
from bieb.api.models import TOKEN_LIFETIME, ApiToken
from bieb.api.selectors import token_hash
from bieb.core import clock
from bieb.core.audit import audit_record

TOKEN_PREFIX = "bieb_"
KEY_PREFIX_LENGTH = 12  # "bieb_" and 7 characters of the random part
MAX_ACTIVE_TOKENS = 20
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_create(*, user, name: str = "", actor=None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; return it and its secret.

    Guarantees: the secret is returned here once and never stored (only its SHA-256 hash);
    the token expires ``TOKEN_LIFETIME`` after now; a person has at most ``MAX_ACTIVE_TOKENS``
    active tokens (counted under a lock on the user row, so parallel requests cannot pass it);
    an audit row ``api.token_created`` is written in the same transaction.
    """
    now = clock.now()
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        active = ApiToken.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=now
        ).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ApiError(
                "too_many_tokens",
                _(
                    "U heeft al %(limit)s actieve tokens. Trek een token in dat u niet meer "
                    "gebruikt en probeer het opnieuw."
                )
                % {"limit": MAX_ACTIVE_TOKENS},
                status=409,
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            key_prefix=secret[:KEY_PREFIX_LENGTH],
            key_hash=token_hash(secret),
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
        audit_record(
            action="api.token_created",
            actor=actor if actor is not None else user,
            subject=token,
            data={
                "user_id": user.pk,
                "name": token.name,
                "key_prefix": token.key_prefix,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, secret


def token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke ``token`` from now on. Returns False when it was already revoked.

    Guarantees: a conditional UPDATE (``revoked_at IS NULL``) makes revocation happen once even
    when two requests race; the audit row ``api.token_revoked`` is written only by the one
    that revoked it, in the same transaction.
    """
    now = clock.now()
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not changed:
            return False
        token.revoked_at = now
        audit_record(
            action="api.token_revoked",
            actor=actor,
            subject=token,
            data={"user_id": token.user_id, "name": token.name, "key_prefix": token.key_prefix},
        )
    return True


def token_mark_used(*, token: ApiToken) -> None:
    """Record that ``token`` was used now, at most once a minute per token.

    A busy client would otherwise write on every request; the conditional UPDATE keeps
    parallel requests from writing the same minute twice.
    """
    now = clock.now()
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > threshold:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold)
    ).update(last_used_at=now)
    token.last_used_at = now
