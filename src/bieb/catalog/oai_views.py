"""OAI-PMH 2.0 data provider at ``/oai``: reads the arguments, answers with the protocol's XML.

Public and read-only, so no session, no log-in and no CSRF token: harvesters POST from other
servers. Protocol errors are answered with HTTP 200 and the protocol's ``error`` element, as
OAI-PMH has its own error layer; only a method other than GET, HEAD or POST is refused by HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bieb.catalog.interop import oai

CONTENT_TYPE = "text/xml; charset=utf-8"
FORM = "application/x-www-form-urlencoded"


def _arguments(request: HttpRequest) -> Mapping[str, Sequence[str]] | None:
    """Every value of every argument (repeats are a protocol error, so keep them all), from the
    query string for GET and from the form-encoded body for POST; None when unreadable."""
    if request.method == "POST" and request.content_type != FORM:
        return None
    try:
        data = request.POST if request.method == "POST" else request.GET
        return {key: data.getlist(key) for key in data}
    except SuspiciousOperation:  # too many fields, too large a body: not readable as OAI-PMH
        return None


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    site_url = getattr(settings, "BIEB_SITE_URL", "") or request.build_absolute_uri("/")
    base_url = site_url.rstrip("/") + reverse("catalog:oai")
    body = oai.respond(_arguments(request), base_url=base_url, site_url=site_url)
    return HttpResponse(body, content_type=CONTENT_TYPE)
