"""Which waiting holds a copy may serve: the one queue rule, shared by the services that
trap copies, the renewal check and the desk's pull list.

The values may be plain (one copy in hand) or ``OuterRef`` expressions (a subquery per row
of a list), so the rule is written once for both."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from bieb.circulation.models import HoldScope


def open_now_q(today: dt.date) -> Q:
    """Holds not paused today (``not_before`` unset or reached)."""
    return Q(not_before__isnull=True) | Q(not_before__lte=today)


def serves_copy_q(*, item_id: Any, organisation_id: Any, home_location_id: Any) -> Q:
    """Holds the copy may serve: one on this very copy, or one on the title whose scope
    covers the copy — national, picked up in the copy's organisation, or picked up at its
    home location."""
    in_scope = (
        Q(scope=HoldScope.NATIONAL)
        | Q(scope=HoldScope.ORGANISATION, pickup_location__organisation_id=organisation_id)
        | Q(scope=HoldScope.LOCATION, pickup_location_id=home_location_id)
    )
    return Q(item_id=item_id) | (Q(item__isnull=True) & in_scope)
