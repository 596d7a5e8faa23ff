"""Reads for the circulation rules page (``/medewerkers/uitleenregels``): an organisation's loan
policies beside the network defaults, and for each row which loans it decides now.

"Which loans a row decides" uses the rule of ``policies.policy_for`` (organisation over
network, then format, then category) over every format and patron category, so the page says
what checkout will do. Every read is a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from bieb.catalog.models import Format
from bieb.circulation.models import LoanPolicy, OrganisationRules, PatronCategory
from bieb.circulation.policies import rules_for
from bieb.core.money import format_eur
from bieb.network.models import Organisation

#: the value of ``?organisatie=`` for the network defaults (organisation codes are "B0344")
NETWORK_SCOPE = "landelijk"

Key = tuple[str, str]  # (format, category)


# --- organisations ---------------------------------------------------------------------------


def organisation_by_code(code: str) -> Organisation | None:
    code = (code or "").strip()
    if not code:
        return None
    return Organisation.objects.filter(code=code).first()


def organisations_named(organisation_ids: set[int]) -> list[Organisation]:
    """The organisations ``organisation_ids``, by name (for the picker)."""
    return list(Organisation.objects.filter(pk__in=organisation_ids).only("pk", "name", "code"))


# --- policies --------------------------------------------------------------------------------


def _rank(policy: LoanPolicy) -> tuple[int, int, int]:
    """The order of ``policies.policy_for``: organisation over network, format, category."""
    return (
        int(policy.organisation_id is not None),
        int(policy.format != ""),
        int(policy.category != ""),
    )


def _covers(policy: LoanPolicy, key: Key) -> bool:
    return policy.format in (key[0], "") and policy.category in (key[1], "")


def _all_keys() -> list[Key]:
    return [(f, c) for c in PatronCategory.values for f in Format.values]


def winners(policies: list[LoanPolicy]) -> dict[Key, LoanPolicy]:
    """For every (format, category), the policy ``policy_for`` picks among ``policies`` (keys
    no policy covers are left out: the built-in defaults apply there)."""
    chosen: dict[Key, LoanPolicy] = {}
    for key in _all_keys():
        candidates = [p for p in policies if _covers(p, key)]
        if candidates:
            chosen[key] = max(candidates, key=_rank)
    return chosen


def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return _("%(first)s en %(last)s") % {"first": ", ".join(labels[:-1]), "last": labels[-1]}


def format_label(value: str) -> str:
    return str(Format(value).label) if value in Format.values else (value or _("alle vormen"))


def category_label(value: str) -> str:
    if value in PatronCategory.values:
        return str(PatronCategory(value).label)
    return value or _("alle lenerscategorieën")


def _formats_text(won: list[str], universe: list[str]) -> str:
    if len(universe) == 1:
        return format_label(universe[0])
    if len(won) == len(universe):
        return _("alle vormen")
    missing = [f for f in universe if f not in won]
    if len(missing) <= min(3, len(won)):
        return _("alle vormen behalve %(formats)s") % {
            "formats": _join([format_label(f) for f in missing])
        }
    return _join([format_label(f) for f in won])


def describe_keys(keys: set[Key], *, format: str = "", category: str = "") -> str:
    """``keys`` in words, within the scope of a row for ``format`` and ``category``:
    "volwassene en medewerker: alle vormen behalve boek"; empty when ``keys`` is."""
    formats = [format] if format else list(Format.values)
    categories = [category] if category else list(PatronCategory.values)
    groups: dict[str, list[str]] = {}
    for cat in categories:
        won = [f for f in formats if (f, cat) in keys]
        if won:
            groups.setdefault(_formats_text(won, formats), []).append(cat)
    parts = []
    for text, cats in groups.items():
        if len(cats) == len(PatronCategory.values):
            who = _("alle lenerscategorieën")
        else:
            who = _join([category_label(c) for c in cats])
        parts.append(f"{who}: {text}")
    return "; ".join(parts)


@dataclass
class PolicyRow:
    policy: LoanPolicy
    format: str
    category: str
    loan_days: int
    max_renewals: int
    max_loans: int
    fee_per_day: str
    fee_max: str
    applies: bool
    applies_to: str


@dataclass
class PolicyOverview:
    own: list[PolicyRow] = field(default_factory=list)  # the scope's own rows
    network: list[PolicyRow] = field(default_factory=list)  # the defaults, for reference
    uncovered: str = ""  # what no row covers (the built-in defaults apply there)
    builtin: LoanPolicy = field(default_factory=LoanPolicy)


def _row(policy: LoanPolicy, won: set[Key]) -> PolicyRow:
    text = describe_keys(won, format=policy.format, category=policy.category)
    return PolicyRow(
        policy=policy,
        format=format_label(policy.format),
        category=category_label(policy.category),
        loan_days=policy.loan_days,
        max_renewals=policy.max_renewals,
        max_loans=policy.max_loans,
        fee_per_day=format_eur(policy.overdue_fee_cents_per_day),
        fee_max=(
            format_eur(policy.overdue_fee_max_cents)
            if policy.overdue_fee_max_cents
            else _("geen maximum")
        ),
        applies=bool(won),
        applies_to=text or _("niets: meer specifieke leenregels gaan voor"),
    )


def _order(policy: LoanPolicy) -> tuple:
    formats, categories = list(Format.values), list(PatronCategory.values)
    return (
        policy.format != "",
        formats.index(policy.format) if policy.format in formats else -1,
        policy.category != "",
        categories.index(policy.category) if policy.category in categories else -1,
    )


def policy_overview(organisation_id: int | None) -> PolicyOverview:
    """The loan policies of ``organisation_id`` (``None``: the network defaults are the own
    rows) and the network defaults, each with the loans it decides for that organisation."""
    scope = Q(organisation__isnull=True)
    if organisation_id is not None:
        scope |= Q(organisation_id=organisation_id)
    policies = sorted(LoanPolicy.objects.filter(scope), key=_order)
    chosen = winners(policies)
    won: dict[int, set[Key]] = {}
    for key, policy in chosen.items():
        won.setdefault(policy.pk, set()).add(key)
    overview = PolicyOverview(
        uncovered=describe_keys({k for k in _all_keys() if k not in chosen}),
    )
    for policy in policies:
        row = _row(policy, won.get(policy.pk, set()))
        if policy.organisation_id is None and organisation_id is not None:
            overview.network.append(row)
        else:
            overview.own.append(row)
    return overview


def policy_in_scope(policy_id: int, organisation_id: int | None) -> LoanPolicy | None:
    """The policy ``policy_id`` if it belongs to ``organisation_id`` (``None``: the network)."""
    return LoanPolicy.objects.filter(pk=policy_id, organisation_id=organisation_id).first()


def policy_by_id(policy_id: int) -> LoanPolicy | None:
    return LoanPolicy.objects.filter(pk=policy_id).first()


# --- organisation rules ----------------------------------------------------------------------


@dataclass
class RulesSummary:
    rules: OrganisationRules  # unsaved when the organisation has no row: the defaults
    saved: bool
    lost_fee: str


def rules_summary(organisation_id: int) -> RulesSummary:
    rules = rules_for(organisation_id)
    return RulesSummary(
        rules=rules, saved=rules.pk is not None, lost_fee=format_eur(rules.lost_fee_cents)
    )
