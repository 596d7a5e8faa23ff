"""Site pages of the national portal, the PWA files and the error handlers.

Error handlers (wired in ``bieb.config.urls``):
    handler404 = "bieb.portal.views.page_not_found"
    handler500 = "bieb.portal.views.server_error"
Paths under /api/ get the API's JSON error shape; every other path gets the HTML page.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from bieb.portal.branding import BRAND_BACKGROUND_COLOUR, BRAND_THEME_COLOUR

API_PREFIX = "/api/"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"privacy_url": reverse("portal:privacy")})


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/privacy.html", {"privacy_settings_url": reverse("accounts:privacy")}
    )


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/about.html")


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/offline.html")


@require_safe
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest. Names are translated; the app starts on the home page."""

    def icon(name: str, size: int, purpose: str = "any") -> dict:
        return {
            "src": static(f"portal/icons/{name}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    data = {
        "id": "/",
        "name": _("de Bibliotheek"),
        "short_name": _("Bibliotheek"),
        "description": _("de Bibliotheek — voor iedereen, waar je ook woont."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("portal:home") + "?bron=app",
        "scope": "/",
        "display": "standalone",
        "background_color": BRAND_BACKGROUND_COLOUR,
        "theme_color": BRAND_THEME_COLOUR,
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/manifest+json; charset=utf-8",
    )


def shell_version() -> str:
    """Changes whenever a shell file changes (their hashed names change in production)."""
    names = [
        "vendor/utrecht/component-library.css",
        "portal/bieb.css",
        "portal/app.js",
        "vendor/htmx/htmx.min.js",
        "portal/icons/icon-192.png",
        "portal/icons/favicon-32.png",
    ]
    joined = "|".join(static(name) for name in names)
    if settings.DEBUG:
        # Unhashed names in development: fold in the file contents so edits still update the cache.
        from django.contrib.staticfiles import finders

        for name in names:
            path = finders.find(name)
            if path:
                with open(path, "rb") as handle:
                    joined += hashlib.sha256(handle.read()).hexdigest()
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


@require_safe
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the root so it may control every page."""
    body = loader.render_to_string("portal/sw.js", {"version": shell_version()})
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON under /api/, the site's 404 page elsewhere."""
    if is_api_path(request):
        return api_error(
            "not_found",
            _("Dit adres bestaat niet in de API. Zie /api/v1/docs voor de beschikbare adressen."),
            404,
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: must work when the database or a context processor is what failed, so the
    HTML page is rendered without a request (no context processors, no session, no user)."""
    if is_api_path(request):
        return api_error(
            "server_error",
            _("Er ging bij ons iets mis. Probeer het over een paar minuten opnieuw."),
            500,
        )
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a translated page that says what to do (JSON under /api/)."""
    if is_api_path(request):
        return api_error(
            "csrf_failed",
            _("De beveiligingscontrole (CSRF) van dit verzoek is mislukt."),
            403,
        )
    return HttpResponse(loader.get_template("403_csrf.html").render(), status=403)
