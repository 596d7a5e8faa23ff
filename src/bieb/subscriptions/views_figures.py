"""Staff screens of the subscription money: the figures and the settlement between
organisations (docs/settlement.md).

- ``/medewerkers/abonnementen/cijfers`` (any staff role): the figures of the caller's
  organisation; ``?organisatie=CODE`` picks another of theirs (another organisation's code:
  404). Network administrators see the network (``?organisatie=landelijk`` or no parameter)
  and may pick any organisation.
- ``/medewerkers/verrekening`` (managers, network administrators): network administrators see
  every settlement; managers see their own organisations' statement lines.
- ``/medewerkers/verrekening/<YYYY-MM>`` (network administrators): all lines of a month and
  that they add up to what came in.
- ``/medewerkers/verrekening/<YYYY-MM>/<CODE>``: one organisation's statement for a month
  (its managers and network administrators; another organisation's: 404).

Read-only pages: settling is ``bieb billing settle --month YYYY-MM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bieb.accounts import access
from bieb.accounts.access import Role, staff_required
from bieb.core.money import format_eur
from bieb.network.models import Organisation
from bieb.subscriptions import figures, settlement
from bieb.subscriptions.models import SettlementRule

SCOPE_PARAM = "organisatie"
#: the value of ``?organisatie=`` for the whole network (organisation codes look like "B0344")
NETWORK_SCOPE = "landelijk"


@dataclass(frozen=True)
class Scope:
    """Whose figures: an organisation's residents, or the whole network (None)."""

    organisation: Organisation | None = None

    @property
    def code(self) -> str:
        return self.organisation.code if self.organisation is not None else NETWORK_SCOPE

    @property
    def name(self) -> str:
        return self.organisation.name if self.organisation is not None else _("Het hele netwerk")


def _organisations(ids: set[int] | None = None) -> list[Organisation]:
    """Organisations by name (all of them when ``ids`` is None), for the picker."""
    queryset = Organisation.objects.only("pk", "name", "code").order_by("name", "pk")
    return list(queryset if ids is None else queryset.filter(pk__in=ids))


def _organisation(request: HttpRequest, code: str, *, need: str) -> Organisation:
    """The organisation ``code`` names if the caller holds a role for ``need`` in it; 404 for
    an unknown code and for another organisation alike (it must not learn which exist)."""
    organisation = Organisation.objects.filter(code=(code or "").strip()).first()
    if organisation is None:
        raise Http404(_("Deze organisatie bestaat niet of je hebt er geen toegang toe."))
    # NotFound for another organisation; staff_required turns it into a 404
    return access.access_organisation(request.user, organisation.pk, need=need)


def _figures_scope(request: HttpRequest) -> Scope:
    code = request.GET.get(SCOPE_PARAM, "").strip()
    is_admin = access.is_network_admin(request.user)
    if not code or code == NETWORK_SCOPE:
        if is_admin:
            return Scope(None)
        if code:
            raise Http404(_("De cijfers van het hele netwerk zijn voor landelijk beheerders."))
        mine = _organisations(request.staff_organisation_ids)
        if not mine:
            raise Http404(_("Je werkt niet voor een bibliotheekorganisatie."))
        return Scope(mine[0])
    return Scope(_organisation(request, code, need="staff"))


def _percent(value: Decimal) -> str:
    return f"{value:.1f}".replace(".", ",") + " %"


@never_cache
@staff_required()
@require_GET
def figures_page(request: HttpRequest) -> HttpResponse:
    scope = _figures_scope(request)
    numbers = figures.subscription_figures(
        organisation_id=scope.organisation.pk if scope.organisation else None
    )
    if access.is_network_admin(request.user):
        choices = [(NETWORK_SCOPE, _("Het hele netwerk"))] + [
            (o.code, o.name) for o in _organisations()
        ]
    else:
        choices = [(o.code, o.name) for o in _organisations(request.staff_organisation_ids)]
    return render(
        request,
        "subscriptions/figures/figures.html",
        {
            "scope": scope,
            "scope_param": SCOPE_PARAM,
            "choices": choices if len(choices) > 1 else [],
            "figures": numbers,
            "threshold": figures.PRIVACY_THRESHOLD,
            "mrr": format_eur(numbers.mrr_cents) if numbers.mrr_cents is not None else None,
            "churn": _percent(numbers.churn_percent) if numbers.churn_percent is not None else None,
            "churn_below": (
                _percent(numbers.churn_below_percent)
                if numbers.churn_below_percent is not None
                else None
            ),
        },
    )


# --- settlement ------------------------------------------------------------------------------


def _line_row(line: Any) -> dict[str, Any]:
    difference = line.amount_cents - line.collected_cents
    return {
        "line": line,
        "amount": format_eur(line.amount_cents),
        "collected": format_eur(line.collected_cents),
        "difference": format_eur(abs(difference)),
        "difference_cents": difference,
    }


def _basis(rule: str, units: int) -> str:
    if rule == SettlementRule.MUNICIPALITY:
        return format_eur(units)
    return f"{units:,}".replace(",", ".")


@never_cache
@staff_required(Role.MANAGER)
@require_GET
def settlements_page(request: HttpRequest) -> HttpResponse:
    """Network administrators: every settlement. Managers: their organisations' lines."""
    if access.is_network_admin(request.user):
        rows = [
            {
                "settlement": s,
                "collected": format_eur(s.collected_cents),
                "lines_total": format_eur(s.lines_total or 0),
                "adds_up": (s.lines_total or 0) == s.collected_cents,
            }
            for s in settlement.settlements_all()
        ]
        return render(
            request, "subscriptions/figures/settlements.html", {"settlements": rows, "admin": True}
        )
    rows = [
        {
            "settlement": month,
            "organisation": organisation,
            "amount": format_eur(line.amount_cents if line else 0),
            "collected": format_eur(line.collected_cents if line else 0),
            "difference_cents": (line.amount_cents - line.collected_cents) if line else 0,
            "difference": format_eur(abs(line.amount_cents - line.collected_cents) if line else 0),
        }
        for month, organisation, line in settlement.statements_of(request.staff_organisation_ids)
    ]
    return render(
        request, "subscriptions/figures/settlements.html", {"statements": rows, "admin": False}
    )


def _settlement(month: str):
    found = settlement.settlement_by_month(month)
    if found is None:
        raise Http404(_("Deze maand is (nog) niet verrekend."))
    return found


@never_cache
@staff_required(Role.NETWORK_ADMIN)
@require_GET
def settlement_page(request: HttpRequest, month: str) -> HttpResponse:
    """All lines of a month, their sums, and whether they add up (network administrators)."""
    found = _settlement(month)
    lines = settlement.settlement_lines(found)
    total_amount = sum(line.amount_cents for line in lines)
    total_collected = sum(line.collected_cents for line in lines)
    rows = [_line_row(line) | {"basis": _basis(found.rule, line.basis)} for line in lines]
    return render(
        request,
        "subscriptions/figures/settlement.html",
        {
            "settlement": found,
            "rows": rows,
            "collected": format_eur(found.collected_cents),
            "total_amount": format_eur(total_amount),
            "total_collected": format_eur(total_collected),
            "total_basis": _basis(found.rule, sum(line.basis for line in lines)),
            "adds_up": total_amount == found.collected_cents == total_collected,
        },
    )


@never_cache
@staff_required(Role.MANAGER)
@require_GET
def statement_page(request: HttpRequest, month: str, code: str) -> HttpResponse:
    """One organisation's statement for a month (its managers, network administrators)."""
    organisation = _organisation(request, code, need="manage")
    found = _settlement(month)
    statement = settlement.statement_for(found, organisation)
    share = None
    if statement.total_basis > 0 and statement.basis >= 0:
        share = _percent(
            (Decimal(statement.basis * 100) / statement.total_basis).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        )
    return render(
        request,
        "subscriptions/figures/statement.html",
        {
            "statement": statement,
            "settlement": found,
            "organisation": organisation,
            "basis": _basis(found.rule, statement.basis),
            "total_basis": _basis(found.rule, statement.total_basis),
            "share": share,
            "amount": format_eur(statement.amount_cents),
            "collected": format_eur(statement.collected_cents),
            "difference": format_eur(abs(statement.difference_cents)),
            "network_collected": format_eur(found.collected_cents),
            "is_network_admin": access.is_network_admin(request.user),
        },
    )
