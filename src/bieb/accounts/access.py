"""The one authorization entry point. Every view and API operation that touches private or
organisation data asks here.

Rules (fail closed):
- anonymous callers get ``PermissionDenied`` (views redirect them to log in first);
- a caller without a suitable role gets ``PermissionDenied`` (403);
- a caller with the role, but asking for an object outside their organisations, gets
  ``NotFound`` (404): they must not learn that the object exists;
- a network administrator may act in every organisation;
- a person may always read and change their own account.

``access_*`` functions return the object or raise ``bieb.core.errors.NotFound`` /
``PermissionDenied``. Views use ``staff_required`` and ``http_errors`` to turn those into
Django's 403/404 responses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from bieb.accounts.models import GuardianLink, StaffRole, User
from bieb.core.errors import DomainError, NotFound, PermissionDenied

Role = StaffRole.Role
ORGANISATION_ROLES = tuple(r for r in Role.values if r != Role.NETWORK_ADMIN)
MEMBER_ROLES = (Role.DESK, Role.MANAGER)

# What each ``need`` asks of a staff member in an organisation.
NEED_ROLES: dict[str, tuple[str, ...]] = {
    "staff": ORGANISATION_ROLES,
    "members": MEMBER_ROLES,
    "manage": (Role.MANAGER,),
    **{role: (role,) for role in ORGANISATION_ROLES},
}

_CACHE_ATTR = "_bieb_staff_roles"


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _login_required() -> PermissionDenied:
    return PermissionDenied("login_required", _("Log in om dit te bekijken."), status=401)


def _wrong_role() -> PermissionDenied:
    return PermissionDenied("forbidden", _("Je hebt geen toegang tot deze pagina."))


def _not_found() -> NotFound:
    return NotFound("not_found", _("Dit bestaat niet of je hebt er geen toegang toe."))


def forget_roles(user: Any) -> None:
    """Drop the per-object role cache (after granting or revoking a role)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user: Any) -> list[StaffRole]:
    """The staff roles of ``user`` (empty for anonymous callers), cached on the user object."""
    if not _authenticated(user):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            StaffRole.objects.filter(user_id=user.pk)
            .select_related("organisation")
            .order_by("organisation__name", "role")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def is_network_admin(user: Any) -> bool:
    return any(r.role == Role.NETWORK_ADMIN for r in roles_of(user))


def is_staff_member(user: Any) -> bool:
    return bool(roles_of(user))


def _roles_for(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    return wanted or set(ORGANISATION_ROLES)


def organisations_with_role(user: Any, *roles: str) -> set[int]:
    """Ids of the organisations where ``user`` holds one of ``roles`` (any role when none given).

    A network administrator holds every role in every organisation.
    """
    if not _authenticated(user):
        return set()
    if is_network_admin(user):
        from bieb.network.models import Organisation

        return set(Organisation.objects.values_list("pk", flat=True))
    wanted = _roles_for(roles)
    return {r.organisation_id for r in roles_of(user) if r.role in wanted and r.organisation_id}


def has_role(user: Any, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` somewhere (network administrators always do)."""
    if is_network_admin(user):
        return True
    wanted = _roles_for(roles)
    return any(r.role in wanted for r in roles_of(user))


def _need_roles(need: str) -> tuple[str, ...]:
    try:
        return NEED_ROLES[need]
    except KeyError:
        raise ValueError(f"unknown need {need!r}") from None


def access_organisation(user: Any, organisation_id: int, *, need: str = "staff"):
    """The organisation, if ``user`` holds a role for ``need`` in it."""
    from bieb.network.models import Organisation

    if not _authenticated(user):
        raise _login_required()
    roles = _need_roles(need)
    if not has_role(user, *roles):
        raise _wrong_role()
    if organisation_id not in organisations_with_role(user, *roles):
        raise _not_found()
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise _not_found()
    return organisation


def access_location(user: Any, location_id: int, *, need: str = "manage"):
    """The location, if ``user`` holds a role for ``need`` in the location's organisation."""
    from bieb.network.models import Location

    if not _authenticated(user):
        raise _login_required()
    roles = _need_roles(need)
    if not has_role(user, *roles):
        raise _wrong_role()
    location = Location.objects.select_related("organisation").filter(pk=location_id).first()
    if location is None or location.organisation_id not in organisations_with_role(user, *roles):
        raise _not_found()
    return location


def access_member(user: Any, member_id: int, *, need: str = "read") -> User:
    """A person's account, for the person themselves, a consenting guardian (read only), or
    desk staff and managers of the person's home organisation (and network administrators).
    """
    if need not in {"read", "write"}:
        raise ValueError(f"unknown need {need!r}")
    if not _authenticated(user):
        raise _login_required()
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        raise _not_found() from None
    member = User.objects.filter(pk=member_id, anonymised_at__isnull=True).first()
    if member_id == user.pk:
        if member is None:
            raise _not_found()
        return member
    if (
        need == "read"
        and member is not None
        and GuardianLink.objects.filter(
            guardian_id=user.pk, child_id=member_id, consent_given_at__isnull=False
        ).exists()
    ):
        return member
    if not has_role(user, *MEMBER_ROLES):
        raise _wrong_role()
    if member is None or member.home_organisation_id not in organisations_with_role(
        user, *MEMBER_ROLES
    ):
        raise _not_found()
    return member


def has_guardian_consent(user: Any) -> bool:
    """Whether ``user`` may use account features (always, from 16; with consent below)."""
    if not _authenticated(user):
        return False
    if not user.needs_guardian_consent:
        return True
    return GuardianLink.objects.filter(child_id=user.pk, consent_given_at__isnull=False).exists()


def access_account_features(user: Any) -> None:
    """Refuse account features beyond browsing to members under 16 without guardian consent."""
    if not _authenticated(user):
        raise _login_required()
    if not has_guardian_consent(user):
        raise PermissionDenied(
            "consent_required",
            _(
                "Je ouder of voogd moet eerst toestemming geven. "
                "Vraag het via Mijn bibliotheek aan."
            ),
        )


# --- views ---------------------------------------------------------------------------------


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn access refusals into Django's 404 and 403 responses inside a view."""
    try:
        yield
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc


def staff_required(*roles: str) -> Callable:
    """View decorator: log-in required, then one of ``roles`` in some organisation.

    Anonymous callers are redirected to log in; callers without the role get 403. The view
    receives ``request.staff_organisation_ids``: where the caller holds one of the roles.
    DomainError refusals raised inside the view become 404/403.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any):
            user = request.user
            if not _authenticated(user):
                return redirect_to_login(request.get_full_path())
            if not has_role(user, *roles):
                raise DjangoPermissionDenied(_("Je hebt geen toegang tot deze pagina."))
            request.staff_organisation_ids = organisations_with_role(user, *roles)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc

        return wrapped

    return decorator


__all__ = [
    "DomainError",
    "access_account_features",
    "access_location",
    "access_member",
    "access_organisation",
    "has_guardian_consent",
    "has_role",
    "http_errors",
    "is_network_admin",
    "organisations_with_role",
    "roles_of",
    "staff_required",
]
