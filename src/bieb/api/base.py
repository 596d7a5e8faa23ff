"""``BiebNinjaAPI``: a NinjaAPI whose every error answer is our JSON error shape."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern
from ninja import NinjaAPI

from bieb.api.errors import STATUS_CODES, error_response, install_error_handlers, status_message


class BiebNinjaAPI(NinjaAPI):
    """Installs the JSON error handlers, and answers a wrong HTTP method with a JSON 405.

    Ninja answers a method that a path does not offer with a plain-text 405 before any
    exception handler runs; the URL callbacks are wrapped to give the JSON shape instead.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        install_error_handlers(self)

    def _get_urls(self) -> list[Any]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._json_not_allowed(pattern.callback)
        return patterns

    def _json_not_allowed(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)  # keeps csrf_exempt: Ninja checks CSRF in its auth classes
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = error_response(
                    self,
                    request,
                    status=405,
                    code=STATUS_CODES[405],
                    message=status_message(405),
                    details={"allowed_methods": allowed.split(", ")},
                )
                response["Allow"] = allowed
            return response

        return wrapper
