"""Which loan policy applies: the most specific row for an organisation, format and patron
category, falling back to the network default and then to the built-in defaults."""

from __future__ import annotations

from django.db.models import Q

from bieb.circulation.models import LoanPolicy, OrganisationRules


def policy_for(organisation_id: int, format: str, category: str) -> LoanPolicy:
    candidates = LoanPolicy.objects.filter(
        Q(organisation_id=organisation_id) | Q(organisation_id__isnull=True),
        format__in=(format, ""),
        category__in=(category, ""),
    )
    best = None
    best_rank = (-1, -1, -1)
    for policy in candidates:
        rank = (
            int(policy.organisation_id is not None),
            int(policy.format != ""),
            int(policy.category != ""),
        )
        if rank > best_rank:
            best, best_rank = policy, rank
    return best or LoanPolicy(format=format, category=category)


def rules_for(organisation_id: int) -> OrganisationRules:
    rules = OrganisationRules.objects.filter(organisation_id=organisation_id).first()
    return rules or OrganisationRules(organisation_id=organisation_id)
