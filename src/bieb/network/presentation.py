"""Words for opening states and distances, shared by the pages and the API."""

from __future__ import annotations

import datetime as dt

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from bieb.core.clock import AMSTERDAM
from bieb.network.hours import OpeningState
from bieb.network.models import OpeningKind
from bieb.network.validation import time_format


def weekday_abbreviation(weekday: int) -> str:
    return [
        pgettext("weekday abbreviation", "ma"),
        pgettext("weekday abbreviation", "di"),
        pgettext("weekday abbreviation", "wo"),
        pgettext("weekday abbreviation", "do"),
        pgettext("weekday abbreviation", "vr"),
        pgettext("weekday abbreviation", "za"),
        pgettext("weekday abbreviation", "zo"),
    ][weekday]


def _kind_word(kind: str | None) -> str:
    if kind == OpeningKind.SELF_SERVICE:
        return _("zelfservice")
    return _("bemand")


def _clock(moment: dt.datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    if local.time() == dt.time(0):
        return "24:00"
    return time_format(local.time())


def _when(moment: dt.datetime, now: dt.datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    today = now.astimezone(AMSTERDAM).date()
    day = weekday_abbreviation(local.weekday())
    if local.date() == today:
        day = _("vandaag")
    elif (local.date() - today).days > 7:
        day = f"{day} {local.day}-{local.month}"
    return f"{day} {time_format(local.time())}"


def opening_state_label(state: OpeningState, *, now: dt.datetime) -> str:
    """``"nu open (bemand tot 17:00, daarna zelfservice tot 22:00)"`` or ``"opent di 09:00 (bemand)"``."""
    if state.is_open:
        if state.closes_at is None:
            return _("nu open (%(kind)s, dag en nacht)") % {"kind": _kind_word(state.kind)}
        current = _("%(kind)s tot %(time)s") % {
            "kind": _kind_word(state.kind),
            "time": _clock(state.closes_at),
        }
        if state.then_kind:
            if state.then_until is None:
                then = _("daarna %(kind)s") % {"kind": _kind_word(state.then_kind)}
            else:
                then = _("daarna %(kind)s tot %(time)s") % {
                    "kind": _kind_word(state.then_kind),
                    "time": _clock(state.then_until),
                }
            return _("nu open (%(current)s, %(then)s)") % {"current": current, "then": then}
        return _("nu open (%(current)s)") % {"current": current}
    if state.next_opens_at is None:
        return _("gesloten")
    return _("opent %(when)s (%(kind)s)") % {
        "when": _when(state.next_opens_at, now),
        "kind": _kind_word(state.next_kind),
    }


def distance_label(distance_km: float) -> str:
    """``"1,2 km"`` in Dutch, ``"1.2 km"`` in English (follows the active language)."""
    return _("%(distance)s km") % {
        "distance": number_format(round(distance_km, 1), decimal_pos=1, use_l10n=True)
    }
