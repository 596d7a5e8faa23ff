"""API errors: JSON with a stable code and a translated message, never an HTML page.

Body of every error response::

    {"error": {"code": "invalid_postcode", "message": "…", "details": {…}}}

Services raise ``bieb.core.errors.DomainError`` (or a subclass) with a stable code; the API
turns it into this shape. Handlers may also raise ``ApiError`` directly.

``install_error_handlers(api)`` registers the handlers on a ``NinjaAPI``; ``bieb.api.urls.api``
uses it, and so can any other API instance (tests mount one with routes that fail on purpose).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from bieb.core.errors import DomainError

logger = logging.getLogger("bieb.api")

WWW_AUTHENTICATE = 'Bearer realm="bieb"'


class ApiError(DomainError):
    """An error raised in an API handler: ``code`` is stable, ``message`` is translated."""


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(Schema):
    """The body of every error response."""

    error: ErrorBody


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Document error statuses of an operation in OpenAPI: ``response={200: X, **error_responses(401)}``."""
    return dict.fromkeys(statuses, ErrorOut)


# Codes for errors raised by Ninja or Django itself with nothing but an HTTP status.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def status_message(status: int) -> str:
    messages = {
        400: _(
            "Het verzoek kon niet worden gelezen. Controleer de opmaak (JSON) en probeer het opnieuw."
        ),
        401: _("U bent niet aangemeld. Stuur een geldig token mee of meld u aan."),
        403: _("U heeft geen toestemming voor deze handeling."),
        404: _("Dit bestaat niet, of u heeft er geen toegang toe."),
        405: _("Deze methode is hier niet toegestaan."),
        409: _(
            "Dit botst met de huidige toestand. Haal de gegevens opnieuw op en probeer het opnieuw."
        ),
        413: _("Het verzoek is te groot."),
        415: _("Dit type inhoud wordt niet ondersteund. Stuur JSON."),
        429: _("Te veel verzoeken. Wacht even en probeer het dan opnieuw."),
    }
    return messages.get(status, _("Het verzoek kon niet worden uitgevoerd."))


def _field_message(error: dict[str, Any]) -> str:
    """A translated message for the common pydantic error types; pydantic's own text otherwise."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("Dit veld is verplicht.")
    if kind == "string_too_long":
        return _("Gebruik hoogstens %(limit)s tekens.") % {"limit": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Gebruik minstens %(limit)s tekens.") % {"limit": ctx.get("min_length")}
    if kind in {"string_type", "string_unicode"}:
        return _("Vul hier tekst in.")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("Vul hier een geheel getal in.")
    if kind in {"float_type", "float_parsing"}:
        return _("Vul hier een getal in.")
    if kind in {"bool_type", "bool_parsing"}:
        return _("Vul hier true of false in.")
    if kind in {"date_type", "date_parsing", "date_from_datetime_parsing"}:
        return _("Vul hier een datum in als JJJJ-MM-DD.")
    if kind == "less_than_equal":
        return _("Gebruik hoogstens %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "greater_than_equal":
        return _("Gebruik minstens %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "json_invalid":
        return _("Dit is geen geldige JSON.")
    if kind == "value_error":
        # Validators raise ValueError with a translated message; pydantic adds a prefix.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return str(error.get("msg", ""))


def _field_name(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str]:
    """(where, field) from a Ninja error location such as ("body", "payload", "email")."""
    where = str(loc[0]) if loc else ""
    path = [str(part) for part in loc[1:]]
    if where == "body":
        path = path[1:]  # drop the handler's parameter name: clients never see it
    return where, ".".join(path) or where


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields = []
    for error in errors:
        where, field = _field_name(error.get("loc") or ())
        fields.append(
            {
                "field": field,
                "in": where,
                "type": str(error.get("type", "")),
                "message": _field_message(error),
            }
        )
    return {"fields": fields}


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if details:
        body["details"] = details
    response = api.create_response(request, {"error": body}, status=status)
    _add_headers(response, status=status, details=details)
    return response


def _add_headers(response: HttpResponse, *, status: int, details: dict[str, Any] | None) -> None:
    if status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    retry_after = (details or {}).get("retry_after_seconds")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace Ninja's default handlers (``{"detail": …}``, HTML or traceback 500) with ours."""

    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = api.create_response(request, exc.as_dict(), status=exc.status)
        _add_headers(response, status=exc.status, details=exc.details)
        return response

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(
            api,
            request,
            status=422,
            code="invalid_input",
            message=_(
                "De invoer is niet geldig. Verbeter de genoemde velden en probeer het opnieuw."
            ),
            details=validation_details(exc.errors),
        )

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api, request, status=401, code="not_authenticated", message=status_message(401)
        )

    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        details = {"retry_after_seconds": round(exc.wait)} if exc.wait is not None else None
        return error_response(
            api,
            request,
            status=429,
            code="rate_limited",
            message=status_message(429),
            details=details,
        )

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        return error_response(
            api,
            request,
            status=status,
            code=STATUS_CODES.get(status, "http_error"),
            message=status_message(status),
        )

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        # The exception text may name a model or a lookup: never echo it.
        return error_response(
            api, request, status=404, code="not_found", message=status_message(404)
        )

    def on_forbidden(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return error_response(
            api, request, status=403, code="forbidden", message=status_message(403)
        )

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in API %s %s", request.method, request.path, exc_info=exc)
        return error_response(
            api,
            request,
            status=500,
            code="server_error",
            message=_(
                "Er ging aan onze kant iets mis. Probeer het later opnieuw; blijft het "
                "misgaan, neem dan contact op met uw bibliotheek."
            ),
        )

    # Lookup follows the exception's MRO, so the most specific class wins (core
    # PermissionDenied and NotFound are DomainErrors and keep their own code).
    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(DjangoPermissionDenied, on_forbidden)
    api.add_exception_handler(Exception, on_unexpected)
