"""Dutch first: the site speaks Dutch unless the visitor chose English with the switch."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class DutchFirstMiddleware:
    """Ignore the browser's Accept-Language on site pages, so the language is Dutch until the
    visitor picks another with the language switch (a cookie). The API keeps honouring
    Accept-Language: programs ask for the language they want. Runs before LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
