"""Values every page template needs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from bieb.accounts.access import roles_of
from bieb.portal.branding import BRAND_NAME, BRAND_TAGLINE, BRAND_THEME_COLOUR


def staff_member_check(request: HttpRequest) -> Callable[[], bool]:
    """A callable: the template engine calls it only where a page asks (the navigation, for
    signed-in people), so anonymous pages cost no query. ``roles_of`` caches on the user."""

    def is_staff_member() -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and roles_of(user))

    return is_staff_member


def portal(request: HttpRequest) -> dict:
    return {
        "brand_name": BRAND_NAME,
        "brand_tagline": BRAND_TAGLINE,
        "brand_theme_colour": BRAND_THEME_COLOUR,
        "is_staff_member": staff_member_check(request),
    }
