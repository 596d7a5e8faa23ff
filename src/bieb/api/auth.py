"""How API callers prove who they are.

- ``BearerTokenAuth``: ``Authorization: Bearer bieb_…`` with a token from ``POST /auth/token``.
  Revoked or expired tokens, and tokens of deactivated accounts, are refused with 401
  ``invalid_token``. On success ``request.auth`` and ``request.user`` are the token's user and
  ``request.api_token`` is the token.
- ``SessionAuth``: the browser session of the signed-in resident (the portal's own pages call
  the API this way). Unsafe methods need the CSRF token, as every Django form does.

Every operation states its auth explicitly: ``auth=None`` (public), ``auth=bearer_auth`` or
``auth=resident_auth`` (either of the two). The API default is ``resident_auth``, so an
operation that forgets to say fails closed.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from bieb.api.errors import ApiError
from bieb.api.selectors import token_for_secret
from bieb.api.services import token_mark_used


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_for_secret(secret=token.strip())
        if api_token is None or not api_token.user.is_active:
            raise ApiError(
                "invalid_token",
                _(
                    "Dit token is ongeldig, verlopen of ingetrokken. Vraag een nieuw token aan "
                    "via POST /api/v1/auth/token."
                ),
                status=401,
            )
        token_mark_used(token=api_token)
        request.api_token = api_token  # type: ignore[attr-defined]
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """Django's session, CSRF-protected. Without a session cookie it simply does not apply."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if not key:
            return None  # no session to protect: skip CSRF, answer 401 rather than 403
        if (
            self.csrf
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise ApiError(
                "csrf_failed",
                _(
                    "De CSRF-controle is mislukt. Stuur de CSRF-token mee in de kop "
                    "X-CSRFToken, of gebruik een API-token."
                ),
                status=403,
            )
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


bearer_auth = BearerTokenAuth()
session_auth = SessionAuth()
# A signed-in resident: by token (programs, apps) or by browser session (the portal).
resident_auth = [bearer_auth, session_auth]


def authenticate_credentials(request: HttpRequest, *, email: str, password: str) -> Any:
    """The active user with these credentials, or an ``ApiError``.

    Goes through ``django.contrib.auth.authenticate`` so django-axes counts failures and locks
    out exactly as on the log-in page (per e-mail address and per client). A wrong password and
    an unknown address give the same answer. A success counts as a log-in (``user_logged_in``),
    which resets the failure count and records ``last_login``.
    """
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is not None:
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return user
    if getattr(request, "axes_locked_out", False):
        # We answer in JSON ourselves; without this AxesMiddleware would swap our response
        # for the site's lock-out page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        cool_off = get_cool_off(request)
        seconds = int(cool_off.total_seconds()) if cool_off else 0
        raise ApiError(
            "locked_out",
            _(
                "Te veel mislukte pogingen om aan te melden. Wacht %(minutes)s minuten en "
                "probeer het dan opnieuw, of stel uw wachtwoord opnieuw in."
            )
            % {"minutes": max(1, -(-seconds // 60))},
            status=429,
            details={"retry_after_seconds": seconds} if seconds else None,
        )
    raise ApiError(
        "invalid_credentials",
        _("Het e-mailadres of het wachtwoord klopt niet. Controleer ze en probeer het opnieuw."),
        status=401,
    )
