"""A test-only API with routes that fail on purpose, to exercise every error handler.

It is a separate ``NinjaAPI`` with the same handlers as the real one (``install_error_handlers``),
mounted only by ``bieb.api.tests.urls``; nothing in production serves it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from ninja.errors import HttpError
from ninja.throttling import AnonRateThrottle

from bieb.api.auth import resident_auth
from bieb.api.base import BiebNinjaAPI
from bieb.api.idempotency import idempotent
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound, PermissionDenied

error_api = BiebNinjaAPI(title="errors under test", urls_namespace="api_errors_test", docs_url=None)


@error_api.get("/crash", auth=None)
def crash(request):
    raise RuntimeError("database password is hunter2")


@error_api.get("/django-forbidden", auth=None)
def django_forbidden(request):
    raise DjangoPermissionDenied("internal reason")


@error_api.get("/core-forbidden", auth=None)
def core_forbidden(request):
    raise PermissionDenied("not_your_organisation", "Dit is van een andere bibliotheek.")


@error_api.get("/core-not-found", auth=None)
def core_not_found(request):
    raise NotFound("unknown_location", "Deze vestiging bestaat niet.")


@error_api.get("/domain", auth=None)
def domain(request):
    raise DomainError(
        "invalid_postcode",
        "Vul een postcode in als 1234 AB.",
        details={"field": "postcode"},
    )


@error_api.get("/http-error", auth=None)
def http_error(request):
    raise HttpError(409, "internal conflict text")


@error_api.get("/throttled", auth=None, throttle=AnonRateThrottle("1/m"))
def throttled(request):
    return {"ok": True}


# Writes that fail after their effect, to prove an Idempotency-Key never outlives its effect.


@error_api.post("/idempotent-crash", auth=resident_auth)
@idempotent
def idempotent_crash(request):
    audit_record(action="test.effect", actor=request.auth)
    raise RuntimeError("crash after the effect")


@error_api.post("/idempotent-refusal", auth=resident_auth)
@idempotent
def idempotent_refusal(request):
    audit_record(action="test.effect", actor=request.auth)
    raise DomainError("refused_after_writing", "Geweigerd na het schrijven.", status=409)
