"""The circulation rules page (``/medewerkers/uitleenregels``): a manager sets their
organisation's loan policies (loan days, renewals, maximum loans, late fee) and its other
choices (floating collection, days on the hold shelf, fee for a lost copy).

Which rules: ``?organisatie=CODE`` (a form field of the same name on the POSTs). Managers see
their own organisations (the first by name without the parameter); another organisation's
code answers 404. Network administrators may open every organisation and the network defaults
(``?organisatie=landelijk``, and without the parameter); the network defaults are shown
read-only to everyone else. Every change is a plain form POST followed by a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bieb.accounts import access
from bieb.accounts.access import Role, staff_required
from bieb.circulation import forms_rules, rules_selectors, rules_services
from bieb.core.errors import DomainError

NETWORK_SCOPE = rules_selectors.NETWORK_SCOPE
SCOPE_PARAM = "organisatie"
POLICY_PREFIX = "leenregel"
RULES_PREFIX = "regels"
# the form field a refusal of ``rules_services`` belongs to (``details["field"]``)
POLICY_ERROR_FIELDS = {
    "format": "format",
    "category": "category",
    "loan_days": "loan_days",
    "max_renewals": "max_renewals",
    "max_loans": "max_loans",
    "overdue_fee_cents_per_day": "overdue_fee",
    "overdue_fee_max_cents": "overdue_fee_max",
}
RULES_ERROR_FIELDS = {
    "floating": "floating",
    "hold_shelf_days": "hold_shelf_days",
    "lost_fee_cents": "lost_fee",
}


@dataclass
class Scope:
    """Whose rules: an organisation, or the network defaults (``organisation`` None)."""

    organisation: Any = None

    @property
    def code(self) -> str:
        return self.organisation.code if self.organisation is not None else NETWORK_SCOPE

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.pk if self.organisation is not None else None

    @property
    def name(self) -> str:
        if self.organisation is None:
            return _("Landelijke standaard")
        return self.organisation.name


def _scope(request: HttpRequest, code: str | None) -> Scope:
    """The scope ``code`` names, if the caller may manage it; 404 otherwise."""
    user = request.user
    is_admin = access.is_network_admin(user)
    code = (code or "").strip()
    if not code:
        if is_admin:
            return Scope(None)
        mine = rules_selectors.organisations_named(request.staff_organisation_ids)
        if not mine:
            raise Http404(_("Je beheert geen bibliotheekorganisatie."))
        return Scope(mine[0])
    if code == NETWORK_SCOPE:
        if not is_admin:
            raise Http404(_("De landelijke standaard wordt beheerd door een landelijk beheerder."))
        return Scope(None)
    organisation = rules_selectors.organisation_by_code(code)
    if organisation is None:
        raise Http404(_("Deze organisatie bestaat niet of je hebt er geen toegang toe."))
    # raises NotFound (404) for another organisation; staff_required turns it into a 404
    return Scope(access.access_organisation(user, organisation.pk, need="manage"))


def _page_url(scope: Scope, anchor: str = "") -> str:
    url = reverse("circulation:rules") + "?" + urlencode({SCOPE_PARAM: scope.code})
    return url + (f"#{anchor}" if anchor else "")


def _choices(request: HttpRequest, scope: Scope) -> list[tuple[str, str]]:
    """The scopes the caller may switch to (empty when there is only one)."""
    choices = []
    if access.is_network_admin(request.user):
        choices.append((NETWORK_SCOPE, _("Landelijke standaard")))
    for organisation in rules_selectors.organisations_named(request.staff_organisation_ids):
        choices.append((organisation.code, organisation.name))
    return choices if len(choices) > 1 else []


def _policy_initial(policy) -> dict[str, Any]:
    return {
        "format": policy.format,
        "category": policy.category,
        "loan_days": policy.loan_days,
        "max_renewals": policy.max_renewals,
        "max_loans": policy.max_loans,
        "overdue_fee": policy.overdue_fee_cents_per_day,
        "overdue_fee_max": policy.overdue_fee_max_cents,
    }


def _editing(request: HttpRequest, scope: Scope):
    """The own policy named by ``?wijzig=ID``, to fill in the form; None when absent."""
    raw = request.GET.get("wijzig", "")
    if not raw.isdigit():
        return None
    return rules_selectors.policy_in_scope(int(raw), scope.organisation_id)


def _render(
    request: HttpRequest,
    scope: Scope,
    *,
    policy_form=None,
    rules_form=None,
    editing=None,
    status: int = 200,
) -> HttpResponse:
    overview = rules_selectors.policy_overview(scope.organisation_id)
    summary = None
    if scope.organisation is not None:
        summary = rules_selectors.rules_summary(scope.organisation.pk)
        if rules_form is None:
            rules = summary.rules
            rules_form = forms_rules.RulesForm(
                prefix=RULES_PREFIX,
                initial={
                    "floating": rules.floating,
                    "hold_shelf_days": rules.hold_shelf_days,
                    "lost_fee": rules.lost_fee_cents,
                },
            )
    if policy_form is None:
        source = editing or overview.builtin
        initial = _policy_initial(source)
        if editing is None:
            initial.update(format="", category="")
        policy_form = forms_rules.PolicyForm(prefix=POLICY_PREFIX, initial=initial)
    return render(
        request,
        "circulation/rules/page.html",
        {
            "scope": scope,
            "scope_param": SCOPE_PARAM,
            "choices": _choices(request, scope),
            "is_network_admin": access.is_network_admin(request.user),
            "network_scope": NETWORK_SCOPE,
            "overview": overview,
            "summary": summary,
            "policy_form": policy_form,
            "rules_form": rules_form,
            "editing": editing,
        },
        status=status,
    )


def _form_error(form, fields: dict[str, str], exc: DomainError) -> None:
    form.add_error(fields.get(exc.details.get("field", "")), exc.message)


# --- views -----------------------------------------------------------------------------------


@never_cache
@staff_required(Role.MANAGER)
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    scope = _scope(request, request.GET.get(SCOPE_PARAM))
    return _render(request, scope, editing=_editing(request, scope))


@staff_required(Role.MANAGER)
@require_POST
def rules_policy_save(request: HttpRequest) -> HttpResponse:
    """Add a loan policy, or change the one for the same format and category."""
    scope = _scope(request, request.POST.get(SCOPE_PARAM))
    form = forms_rules.PolicyForm(request.POST, prefix=POLICY_PREFIX)
    if not form.is_valid():
        return _render(request, scope, policy_form=form, status=400)
    data = form.cleaned_data
    try:
        policy = rules_services.policy_save(
            organisation=scope.organisation,
            format=data["format"],
            category=data["category"],
            loan_days=data["loan_days"],
            max_renewals=data["max_renewals"],
            max_loans=data["max_loans"],
            overdue_fee_cents_per_day=data["overdue_fee"],
            overdue_fee_max_cents=data["overdue_fee_max"],
            actor=request.user,
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        _form_error(form, POLICY_ERROR_FIELDS, exc)
        return _render(request, scope, policy_form=form, status=exc.status)
    messages.success(
        request,
        _("Leenregel opgeslagen: %(format)s, %(category)s.")
        % {
            "format": rules_selectors.format_label(policy.format),
            "category": rules_selectors.category_label(policy.category),
        },
    )
    return redirect(_page_url(scope, "leenregels"))


@staff_required(Role.MANAGER)
@require_POST
def rules_policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Delete one of the scope's own loan policies (404 for anyone else's)."""
    policy = rules_selectors.policy_by_id(policy_id)
    if policy is None:
        raise Http404(_("Deze leenregel bestaat niet (meer)."))
    if policy.organisation_id is None:
        scope = _scope(request, NETWORK_SCOPE)
    else:
        scope = Scope(
            access.access_organisation(request.user, policy.organisation_id, need="manage")
        )
    rules_services.policy_delete(policy=policy, actor=request.user)
    messages.success(
        request,
        _("Leenregel verwijderd: %(format)s, %(category)s.")
        % {
            "format": rules_selectors.format_label(policy.format),
            "category": rules_selectors.category_label(policy.category),
        },
    )
    return redirect(_page_url(scope, "leenregels"))


@staff_required(Role.MANAGER)
@require_POST
def rules_save(request: HttpRequest) -> HttpResponse:
    """Save the organisation's floating switch, hold shelf days and fee for a lost copy."""
    scope = _scope(request, request.POST.get(SCOPE_PARAM))
    if scope.organisation is None:
        raise Http404(_("De landelijke standaard heeft geen eigen regels; kies een organisatie."))
    form = forms_rules.RulesForm(request.POST, prefix=RULES_PREFIX)
    if not form.is_valid():
        return _render(request, scope, rules_form=form, status=400)
    data = form.cleaned_data
    try:
        rules_services.rules_save(
            organisation=scope.organisation,
            floating=data["floating"],
            hold_shelf_days=data["hold_shelf_days"],
            lost_fee_cents=data["lost_fee"],
            actor=request.user,
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        _form_error(form, RULES_ERROR_FIELDS, exc)
        return _render(request, scope, rules_form=form, status=exc.status)
    messages.success(request, _("De regels van %(name)s zijn opgeslagen.") % {"name": scope.name})
    return redirect(_page_url(scope, "regels"))
