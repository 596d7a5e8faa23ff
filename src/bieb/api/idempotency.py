"""``Idempotency-Key`` for API writes (decision 0013).

A client that may retry a write (a timeout, a double tap) sends ``Idempotency-Key: <unique
value>``. The first request with a key does the work and its answer (status and JSON body) is
stored with the key; a later request by the same person with the same key, method, path and
body gets that answer again (header ``Idempotent-Replayed: true``) without doing anything. The
same key with a different request is refused: 422 ``idempotency_key_reused``.

Put ``@idempotent`` under the router's decorator::

    @router.post("/me/subscription", auth=resident_auth, ...)
    @idempotent
    def me_subscription_create(request, payload: SubscribeIn): ...

With the header, the whole operation (authentication, the handler, the answer) runs in one
transaction, and the key row is written in it: the effect and its key commit together or not
at all. A refusal (a ``DomainError``, status below 500) is stored and replayed too, and what
the handler wrote before refusing is undone; a server error (500) stores nothing and undoes
everything, so a retry does the work. Without the header nothing changes.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Header
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_args

from bieb.api import services
from bieb.api.errors import ApiError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_CLAIM = "_bieb_idempotency_claim"


def request_hash(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request: method, path with query, and the body as canonical JSON (keys
    sorted, no spaces), so the same JSON sent with other spacing or key order matches."""
    canonical = body
    if body.strip():
        try:
            canonical = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except ValueError:
            canonical = body
    digest = hashlib.sha256()
    for part in (method.encode("ascii"), path.encode("utf-8"), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _valid_key(value: str) -> str:
    key = value.strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise ApiError(
            "idempotency_key_invalid",
            _(
                "Een Idempotency-Key is 1 tot %(max)s zichtbare tekens (ASCII), bijvoorbeeld "
                "een UUID."
            )
            % {"max": MAX_KEY_LENGTH},
            details={"header": HEADER},
        )
    return key


def _replay(row) -> HttpResponse:
    response = HttpResponse(row.response_body, status=row.status_code)
    if row.response_body:
        response["Content-Type"] = "application/json; charset=utf-8"
    else:
        del response["Content-Type"]
    response[REPLAYED_HEADER] = "true"
    return response


def _in_one_transaction(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps the operation's whole run: one transaction when the header is sent; the answer
    is stored in it (below 500) or everything is undone (500)."""

    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if HEADER not in request.headers:
            return run(request, *args, **kwargs)
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            claim = getattr(request, _CLAIM, None)
            if claim is not None:
                if response.status_code >= 500 or isinstance(response, StreamingHttpResponse):
                    transaction.set_rollback(True)
                else:
                    services.idempotency_record(
                        claim=claim,
                        status_code=response.status_code,
                        body=response.content.decode("utf-8"),
                    )
        return response

    return wrapper


def idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make an API write honour ``Idempotency-Key`` (see the module docstring). The operation
    must authenticate a person: keys belong to the person who sent them."""
    # Ninja reads the handler's parameters from the signature; evaluate its annotations in the
    # handler's own module (they may be strings under ``from __future__ import annotations``).
    signature = inspect.signature(func, eval_str=True)

    @functools.wraps(func)
    def view(request: HttpRequest, *args: Any, idempotency_key: str | None = None, **kwargs: Any):
        person = getattr(request, "auth", None)
        if idempotency_key is None or getattr(person, "pk", None) is None:
            return func(request, *args, **kwargs)
        path = request.get_full_path()
        claim = services.idempotency_claim(
            user=person,
            key=_valid_key(idempotency_key),
            method=request.method or "",
            path=path,
            request_hash=request_hash(request.method or "", path, request.body),
        )
        if claim.status_code is not None:
            return _replay(claim)
        setattr(request, _CLAIM, claim)
        with transaction.atomic():  # a refusal undoes what the handler wrote, not the claim
            return func(request, *args, **kwargs)

    view.__signature__ = signature  # type: ignore[attr-defined]
    contribute_operation_args(
        view,
        "idempotency_key",
        str | None,
        Header(
            None,
            alias=HEADER,
            description="Any unique value (a UUID) to make a retry safe: the same request "
            "with the same key within 24 hours gets the first answer again without doing "
            "anything twice.",
        ),
    )
    return decorate_view(_in_one_transaction)(view)
