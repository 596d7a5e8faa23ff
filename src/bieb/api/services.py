"""Writes of API tokens (create, revoke, record use) and of idempotency keys (claim, record,
purge; the decorator that uses them is ``bieb.api.idempotency``)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.api.errors import ApiError
from bieb.api.models import IDEMPOTENCY_KEY_LIFETIME, TOKEN_LIFETIME, ApiToken, IdempotencyKey
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


# --- idempotency keys ------------------------------------------------------------------------


def idempotency_claim(
    *, user, key: str, method: str, path: str, request_hash: str
) -> IdempotencyKey:
    """The row for ``user``'s ``key``: either the stored answer of an earlier request (its
    ``status_code`` is set: replay it), or a new row claimed for this request (``status_code``
    empty: do the work, then ``idempotency_record``).

    The caller holds the transaction that does the work, so the claim and the effect commit
    together. A second request with the same key waits on the unique constraint (PostgreSQL)
    or on the write lock (SQLite) until the first commits, then gets its answer. A key older
    than ``IDEMPOTENCY_KEY_LIFETIME`` is forgotten and claimed afresh. The same key with
    another method, path or body is refused (422 ``idempotency_key_reused``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency_claim needs the transaction of the write it guards")
    now = clock.now()
    row = IdempotencyKey.objects.filter(user=user, key=key).first()
    if row is not None and row.created_at <= now - IDEMPOTENCY_KEY_LIFETIME:
        row.delete()
        row = None
    if row is None:
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    created_at=now,
                )
        except IntegrityError:
            # another request with this key committed first; read it (a new statement sees
            # committed rows under READ COMMITTED)
            row = IdempotencyKey.objects.filter(user=user, key=key).first()
            if row is None:
                raise
    if (row.method, row.path, row.request_hash) != (method, path, request_hash):
        raise ApiError(
            "idempotency_key_reused",
            _(
                "Deze Idempotency-Key is al gebruikt voor een ander verzoek. Gebruik voor elk "
                "nieuw verzoek een nieuwe sleutel."
            ),
            status=422,
            details={"header": "Idempotency-Key"},
        )
    if row.status_code is None:  # cannot be seen outside its own transaction; never guess
        raise ApiError(
            "idempotency_key_in_use",
            _("Een verzoek met deze Idempotency-Key is nog bezig. Probeer het zo opnieuw."),
            status=409,
        )
    return row


def idempotency_record(*, claim: IdempotencyKey, status_code: int, body: str) -> None:
    """Store the answer for a claimed key, in the transaction of the write it answers."""
    claim.status_code = status_code
    claim.response_body = body
    claim.save(update_fields=["status_code", "response_body"])


def idempotency_keys_purge(*, now: dt.datetime | None = None) -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_LIFETIME``; return how many. Safe to run at any
    time (a key past its lifetime is no longer honoured anyway)."""
    threshold = (now or clock.now()) - IDEMPOTENCY_KEY_LIFETIME
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lte=threshold).delete()
    return deleted
