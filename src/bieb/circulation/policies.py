"""Which loan policy applies: the most specific row for an organisation, format and patron
category, falling back to the network default and then to the built-in defaults.

Both tables are small (a few rows per organisation) and read on every checkout and return,
so each process keeps them in memory for ``TTL`` seconds. A change made in this process
(``rules_services``, or any save or delete) empties the memory at once and again when its
transaction commits; other processes pick it up within ``TTL`` seconds (decision 0010).

The same memory keeps how far the nightly loan-use report has come (``counted_through``,
read by ``tasks.loan_use_counted`` when a return forgets its borrower): it only ever moves
forward, so it needs no time limit, and ``forget`` drops it with the rest.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from bieb.circulation.models import LoanPolicy, OrganisationRules

#: seconds a process trusts its copy of the policies and rules
TTL = 30.0

_lock = threading.Lock()
_memory: dict[str, object] = {}


def forget() -> None:
    """Drop this process's copy; the next question reads the tables again."""
    with _lock:
        _memory.clear()
        _counted.clear()


#: the last day the loan-use report is known to have passed (``tasks.loan_use_counted``)
_counted: dict[str, dt.date] = {}


def counted_through() -> dt.date | None:
    with _lock:
        return _counted.get("through")


def remember_counted_through(day: dt.date) -> None:
    """The loan-use report has passed ``day`` (a marker for it or a later day exists)."""
    with _lock:
        known = _counted.get("through")
        if known is None or day > known:
            _counted["through"] = day


def _tables() -> tuple[dict[tuple, list[LoanPolicy]], dict[int, OrganisationRules]]:
    with _lock:
        loaded = _memory.get("at")
        if loaded is not None and time.monotonic() - loaded < TTL:  # type: ignore[operator]
            return _memory["policies"], _memory["rules"]  # type: ignore[return-value]
    policies: dict[tuple, list[LoanPolicy]] = {}
    for policy in LoanPolicy.objects.all():
        policies.setdefault((policy.organisation_id, policy.format, policy.category), []).append(
            policy
        )
    rules = {row.organisation_id: row for row in OrganisationRules.objects.all()}
    with _lock:
        _memory.update(at=time.monotonic(), policies=policies, rules=rules)
    return policies, rules


def policy_for(organisation_id: int, format: str, category: str) -> LoanPolicy:
    policies, _rules = _tables()
    # most specific first: organisation over network, then format, then category
    for owner in (organisation_id, None):
        for fmt in (format, ""):
            for cat in (category, ""):
                found = policies.get((owner, fmt, cat))
                if found:
                    return found[0]
    return LoanPolicy(format=format, category=category)


def rules_for(organisation_id: int) -> OrganisationRules:
    _policies, rules = _tables()
    found = rules.get(organisation_id)
    return found or OrganisationRules(organisation_id=organisation_id)


def _changed(**_kwargs) -> None:
    forget()
    transaction.on_commit(forget)


for _model in (LoanPolicy, OrganisationRules):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"policies-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"policies-{_model.__name__}-del")
