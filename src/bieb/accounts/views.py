"""Account screens for residents: log in, register, "mijn bibliotheek", privacy.

Thin views: parse the form, call one service or selector, render. Every private page needs a
log-in; everything touching another person's data goes through ``bieb.accounts.access``.
Staff screens live in ``staff_views``.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from bieb.accounts import access, forms, selectors, services
from bieb.accounts.models import GuardianLink
from bieb.core.errors import DomainError

# --- log-in and lock-out -------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = forms.LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """django-axes calls this when log-in is locked. The page is the same whether or not the
    e-mail address has an account (failures are counted for unknown addresses too)."""
    return render(request, "accounts/lockout.html", status=403)


# --- registration and e-mail verification --------------------------------------------------


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@never_cache
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:mine")
    form = forms.RegistrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.person_register(
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                birth_date=data["birth_date"],
                postcode=data["postcode"],
                home_organisation=data["home_organisation"],
                guardian_email=data["guardian_email"],
                preferred_language=request.LANGUAGE_CODE
                if request.LANGUAGE_CODE in {"nl", "en"}
                else "nl",
                site_url=_site_url(request),
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            # The same answer for a new and an already registered address.
            return redirect("accounts:register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        person = services.person_verify_email(token=token)
    except DomainError as exc:
        return render(
            request,
            "accounts/verify_email.html",
            {"error": exc.message, "code": exc.code},
            status=400,
        )
    return render(request, "accounts/verify_email.html", {"person": person})


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    services.person_send_verification(user=request.user, site_url=_site_url(request))
    messages.success(request, _("We hebben een nieuwe bevestigingslink gestuurd."))
    return redirect("accounts:mine")


# --- password reset (Django's views, our templates and URLs) -------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = forms.PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- mijn bibliotheek ----------------------------------------------------------------------


@never_cache
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/mine.html",
        {
            "person": user,
            "profile": selectors.person_profile(user=user),
            "household_members": selectors.household_members(user=user),
            "children_links": selectors.guardian_links_as_guardian(user=user),
            "guardian_links": selectors.guardian_links_as_child(user=user),
            "roles": access.roles_of(user),
            "partner_memberships": user.partner_memberships.select_related("organisation"),
            "has_consent": access.has_guardian_consent(user),
            "is_staff_member": access.is_staff_member(user),
        },
    )


@never_cache
@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "postcode": user.postcode,
        "home_organisation": user.home_organisation_id,
        "preferred_language": user.preferred_language,
    }
    form = forms.ProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(user=user, actor=user, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Je gegevens zijn opgeslagen."))
            return redirect("accounts:mine")
    return render(request, "accounts/profile_edit.html", {"form": form})


@never_cache
@login_required
def household(request: HttpRequest) -> HttpResponse:
    """Show the household, create one (POST), or add a member (POST to ``household_add``)."""
    user = request.user
    create_form = forms.HouseholdCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and create_form.is_valid():
        try:
            services.household_create(user=user, name=create_form.cleaned_data["name"])
        except DomainError as exc:
            create_form.add_domain_error(exc)
        else:
            messages.success(request, _("Je huishouden is aangemaakt."))
            return redirect("accounts:household")
    return _household_page(request, create_form=create_form, add_form=forms.MemberByCardForm())


def _household_page(request, *, create_form=None, add_form=None, status=200) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/household.html",
        {
            "household": user.household if user.household_id else None,
            "members": selectors.household_members(user=user),
            "is_manager": bool(user.household_id and user.household.manager_id == user.pk),
            "create_form": create_form or forms.HouseholdCreateForm(),
            "add_form": add_form or forms.MemberByCardForm(),
            "has_consent": access.has_guardian_consent(user),
        },
        status=status,
    )


@login_required
@require_POST
def household_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.MemberByCardForm(request.POST)
    if form.is_valid():
        if not user.household_id:
            form.add_error(None, _("Maak eerst een huishouden aan."))
        else:
            try:
                member = services.household_add_member(
                    household=user.household,
                    card_number=form.cleaned_data["card_number"],
                    email=form.cleaned_data["email"],
                    actor=user,
                    site_url=_site_url(request),
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(
                    request, _("%(name)s hoort nu bij je huishouden.") % {"name": member.first_name}
                )
                return redirect("accounts:household")
    return _household_page(request, add_form=form, status=400)


@login_required
@require_POST
def household_leave(request: HttpRequest) -> HttpResponse:
    try:
        services.household_leave(user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Je hebt het huishouden verlaten."))
    return redirect("accounts:household")


@never_cache
@login_required
def children(request: HttpRequest) -> HttpResponse:
    """A guardian links a child (card number + e-mail) and consents, or consents to a pending
    request."""
    form = forms.MemberByCardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link = services.guardian_child_add(
                guardian=request.user,
                card_number=form.cleaned_data["card_number"],
                email=form.cleaned_data["email"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("Je hebt toestemming gegeven voor %(name)s.") % {"name": link.child.first_name},
            )
            return redirect("accounts:mine")
    return render(
        request,
        "accounts/children.html",
        {"form": form, "links": selectors.guardian_links_as_guardian(user=request.user)},
    )


@login_required
@require_POST
def child_consent(request: HttpRequest, link_id: int) -> HttpResponse:
    link = (
        GuardianLink.objects.select_related("child")
        .filter(pk=link_id, guardian=request.user)
        .first()
    )
    if link is None:
        raise Http404
    try:
        services.guardian_consent_give(guardian=request.user, child=link.child, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Je hebt toestemming gegeven voor %(name)s.") % {"name": link.child.first_name},
        )
    return redirect("accounts:mine")


@never_cache
@login_required
def guardian_consent(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the guardian's e-mail: log in (or register) first, then confirm with POST."""
    if request.method == "POST":
        try:
            link = services.guardian_consent_by_token(token=token, guardian=request.user)
        except DomainError as exc:
            return render(
                request, "accounts/guardian_consent.html", {"error": exc.message}, status=exc.status
            )
        messages.success(
            request,
            _("Je hebt toestemming gegeven voor %(name)s.") % {"name": link.child.first_name},
        )
        return redirect("accounts:mine")
    return render(request, "accounts/guardian_consent.html", {"token": token})


# --- privacy -------------------------------------------------------------------------------


@never_cache
@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.PrivacyForm(
        request.POST if request.method == "POST" else None,
        initial={"keep_loan_history": user.keep_loan_history},
    )
    if request.method == "POST" and form.is_valid():
        services.person_update(
            user=user, actor=user, keep_loan_history=form.cleaned_data["keep_loan_history"]
        )
        messages.success(request, _("Je privacykeuzes zijn opgeslagen."))
        return redirect("accounts:privacy")
    return render(request, "accounts/privacy.html", {"form": form})


@never_cache
@login_required
def privacy_export(request: HttpRequest) -> HttpResponse:
    data = services.person_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="mijn-bibliotheekgegevens.json"'
    return response


@never_cache
@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.DeleteAccountForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_delete(user=user, actor=user)
        except DomainError as exc:
            if exc.code == "forbidden":
                raise DjangoPermissionDenied(exc.message) from exc
            form.add_error(None, exc.message)  # e.g. copies still on loan: say what to do
        else:
            logout(request)
            return redirect("accounts:deleted")
    return render(request, "accounts/delete_account.html", {"form": form})


def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account_deleted.html")
