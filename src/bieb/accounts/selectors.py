"""Reads about people that other apps (and the API) may use."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from bieb.accounts import access, cards
from bieb.accounts.models import GuardianLink, StaffRole, User


def person_profile(*, user: User) -> dict:
    """The person as ``/api/v1/me`` shows them."""
    organisation = user.home_organisation if user.home_organisation_id else None
    household = user.household if user.household_id else None
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "birth_date": user.birth_date,
        "age": user.age,
        "is_youth": user.is_youth,
        "card_number": user.card_number,
        "home_organisation": (
            {"id": organisation.pk, "name": organisation.name, "slug": organisation.slug}
            if organisation
            else None
        ),
        "household": (
            {
                "id": household.pk,
                "name": household.name,
                "is_manager": household.manager_id == user.pk,
            }
            if household
            else None
        ),
        "roles": [
            {
                "role": r.role,
                "organisation_slug": r.organisation.slug if r.organisation_id else None,
            }
            for r in access.roles_of(user)
        ],
        "email_verified": user.email_verified_at is not None,
        "keep_loan_history": user.keep_loan_history,
        "preferred_language": user.preferred_language,
    }


def household_members(*, user: User) -> list[User]:
    """The members of ``user``'s household (empty when they have none), oldest account first."""
    if not user.household_id:
        return []
    return list(User.objects.filter(household_id=user.household_id).order_by("pk"))


def guardian_links_as_guardian(*, user: User) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(guardian=user).select_related("child").order_by("pk")


def guardian_links_as_child(*, user: User) -> QuerySet[GuardianLink]:
    return GuardianLink.objects.filter(child=user).select_related("guardian").order_by("pk")


def members_search(*, organisation_ids: set[int], query: str, limit: int = 50) -> list[User]:
    """Members whose home organisation is one of ``organisation_ids`` matching ``query``: an
    exact card number, an exact e-mail address, or the start of a first or last name."""
    query = (query or "").strip()
    if not query or not organisation_ids:
        return []
    scoped = User.objects.filter(
        home_organisation_id__in=organisation_ids, anonymised_at__isnull=True
    ).select_related("home_organisation")
    compact = "".join(query.split())
    if compact.isdigit():
        if not cards.card_number_is_valid(compact):
            return []
        return list(scoped.filter(card_number=compact)[:limit])
    if "@" in query:
        return list(scoped.filter(email=query.lower())[:limit])
    condition = Q()
    for word in query.split()[:3]:
        condition &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
    return list(scoped.filter(condition).order_by("last_name", "first_name", "pk")[:limit])


def staff_roles_in(*, organisation_ids: set[int]) -> QuerySet[StaffRole]:
    return (
        StaffRole.objects.filter(organisation_id__in=organisation_ids)
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__last_name", "role")
    )


def person_by_card(card_number: str) -> User | None:
    """The person holding library card ``card_number`` (spaces allowed), anywhere in the
    country: one national account. Anonymised accounts have no card any more; inactive ones
    are returned, so a desk or machine can say why lending is refused."""
    number = "".join((card_number or "").split())
    if not number.isdigit() or len(number) > 14:
        return None
    return User.objects.filter(card_number=number, anonymised_at__isnull=True).first()
