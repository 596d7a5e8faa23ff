"""Staff screens under ``/medewerkers/``. Every view is wrapped in ``access.staff_required``
and fetches objects through ``access.access_*``: other organisations' members and locations
answer 404, a missing role 403, an anonymous caller is sent to log in."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bieb.accounts import access, forms, selectors
from bieb.accounts.access import MEMBER_ROLES, Role, staff_required
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError


@never_cache
@staff_required()
def staff_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/staff/home.html",
        {
            "roles": access.roles_of(user),
            "is_network_admin": access.is_network_admin(user),
            "can_look_up_members": access.has_role(user, *MEMBER_ROLES),
            "can_manage_locations": access.has_role(user, Role.MANAGER),
            "can_program": access.has_role(user, Role.PROGRAMMER, Role.MANAGER),
            "can_use_door": access.has_role(user, Role.PROGRAMMER, Role.MANAGER, Role.DESK),
            "can_lend_things": access.has_role(user, Role.DESK, Role.COLLECTION, Role.MANAGER),
        },
    )


@never_cache
@staff_required(*MEMBER_ROLES)
def member_search(request: HttpRequest) -> HttpResponse:
    form = forms.MemberSearchForm(request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = selectors.members_search(
            organisation_ids=request.staff_organisation_ids, query=form.cleaned_data["q"]
        )
    return render(request, "accounts/staff/member_search.html", {"form": form, "results": results})


@never_cache
@staff_required(*MEMBER_ROLES)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    member = access.access_member(request.user, member_id, need="read")
    # Staff reading a resident's private data is itself a fact the resident may ask about.
    audit_record(
        action="person.viewed_by_staff",
        actor=request.user,
        subject=member,
        organisation_id=member.home_organisation_id,
    )
    return render(
        request,
        "accounts/staff/member_detail.html",
        {
            "member": member,
            "household_size": len(selectors.household_members(user=member)),
            "guardian_links": selectors.guardian_links_as_child(user=member),
            "has_consent": access.has_guardian_consent(member),
        },
    )


@never_cache
@staff_required(Role.MANAGER)
def locations(request: HttpRequest) -> HttpResponse:
    from bieb.network.models import Location

    rows = (
        Location.objects.filter(organisation_id__in=request.staff_organisation_ids)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )
    return render(request, "accounts/staff/locations.html", {"locations": rows})


def _hours_initial(location) -> list[dict]:
    return [
        {"weekday": p.weekday, "opens": p.opens, "closes": p.closes, "kind": p.kind}
        for p in location.opening_periods.order_by("weekday", "opens")
    ]


def _hours_page(request, location, *, formset=None, exception_form=None, status=200):
    from bieb.network.models import OpeningException

    return render(
        request,
        "accounts/staff/location_hours.html",
        {
            "location": location,
            "formset": formset or forms.OpeningPeriodFormSet(initial=_hours_initial(location)),
            "exception_form": exception_form or forms.OpeningExceptionForm(),
            "exceptions": OpeningException.objects.filter(
                location=location, date__gte=clock.today()
            ).order_by("date", "opens")[:30],
        },
        status=status,
    )


@never_cache
@staff_required(Role.MANAGER)
def location_hours(request: HttpRequest, location_id: int) -> HttpResponse:
    from bieb.network import services as network_services

    location = access.access_location(request.user, location_id, need="manage")
    if request.method != "POST":
        return _hours_page(request, location)
    formset = forms.OpeningPeriodFormSet(request.POST)
    if formset.is_valid():
        periods = [
            {
                "weekday": f.cleaned_data["weekday"],
                "opens": f.cleaned_data["opens"],
                "closes": f.cleaned_data["closes"],
                "kind": f.cleaned_data["kind"],
            }
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("is_empty")
        ]
        try:
            network_services.location_set_hours(
                location=location, periods=periods, actor=request.user
            )
        except DomainError as exc:
            formset._non_form_errors = formset.error_class([exc.message])
        else:
            messages.success(request, _("De openingstijden zijn opgeslagen."))
            return redirect("accounts:location_hours", location_id=location.pk)
    return _hours_page(request, location, formset=formset, status=400)


@staff_required(Role.MANAGER)
@require_POST
def location_exception(request: HttpRequest, location_id: int) -> HttpResponse:
    from bieb.network import services as network_services

    location = access.access_location(request.user, location_id, need="manage")
    form = forms.OpeningExceptionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            network_services.location_add_exception(
                location=location,
                date=data["date"],
                closed=data["closed"],
                opens=data["opens"],
                closes=data["closes"],
                kind=data["kind"] or "staffed",
                reason=data["reason"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("De afwijkende openingstijd is toegevoegd."))
            return redirect("accounts:location_hours", location_id=location.pk)
    return _hours_page(request, location, exception_form=form, status=400)
