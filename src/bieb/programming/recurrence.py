"""Sessions of an activity: the first one and, for a series or course, the RFC 5545
recurrence (RRULE with exception dates), expanded in Europe/Amsterdam so a weekly 19:00 stays
19:00 across daylight saving time.

``parse_rrule`` refuses what a programme cannot hold: a malformed rule, one that never ends
(no COUNT or UNTIL), more than ``MAX_SESSIONS`` sessions, or sessions more often than daily.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil import rrule as du
from django.utils.translation import gettext as _

from bieb.core.clock import AMSTERDAM
from bieb.core.errors import DomainError

#: the most sessions one activity may have (a weekly course of two school years)
MAX_SESSIONS = 100
_ALLOWED_FREQ = {du.DAILY, du.WEEKLY, du.MONTHLY, du.YEARLY}
_ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
}


@dataclass(frozen=True)
class Session:
    starts_at: dt.datetime
    ends_at: dt.datetime


def _invalid(message: str) -> DomainError:
    return DomainError("rrule_invalid", message, details={"field": "rrule"})


def normalise(text: str) -> str:
    """The rule as stored: upper case, without a leading ``RRULE:`` and spaces."""
    text = "".join((text or "").split()).upper()
    if text.startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text


def parse_rrule(text: str, first_start: dt.datetime) -> du.rrule | None:
    """The recurrence of ``text`` starting at ``first_start`` (aware), or None for no rule."""
    text = normalise(text)
    if not text:
        return None
    parts = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not value:
            raise _invalid(_("De herhaling (RRULE) is niet geldig: '%(part)s'.") % {"part": part})
        parts[name] = value
    unknown = set(parts) - _ALLOWED_PARTS
    if unknown:
        raise _invalid(
            _("De herhaling gebruikt %(parts)s; dat kan hier niet.")
            % {"parts": ", ".join(sorted(unknown))}
        )
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise _invalid(
            _("Een herhaling moet eindigen: geef een aantal keer (COUNT) of een einddatum (UNTIL).")
        )
    local_start = first_start.astimezone(AMSTERDAM).replace(tzinfo=None)
    try:
        # dateutil wants UNTIL in UTC when DTSTART is aware; expanding on the naive local
        # start keeps the wall-clock time across daylight saving time
        until = parts.get("UNTIL")
        if until and until.endswith("Z"):
            moment = dt.datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            parts["UNTIL"] = moment.astimezone(AMSTERDAM).strftime("%Y%m%dT%H%M%S")
        rule = du.rrulestr(
            ";".join(f"{k}={v}" for k, v in parts.items()), dtstart=local_start, forceset=False
        )
    except (ValueError, TypeError) as exc:
        raise _invalid(
            _("De herhaling (RRULE) is niet geldig: %(error)s") % {"error": exc}
        ) from exc
    if not isinstance(rule, du.rrule) or rule._freq not in _ALLOWED_FREQ:
        raise _invalid(_("Herhaal dagelijks, wekelijks, maandelijks of jaarlijks."))
    count = 0
    for _start in rule:
        count += 1
        if count > MAX_SESSIONS:
            raise _invalid(
                _("Een activiteit heeft hoogstens %(max)s bijeenkomsten.") % {"max": MAX_SESSIONS}
            )
    if count == 0:
        raise _invalid(_("Deze herhaling levert geen enkele bijeenkomst op."))
    return rule


def parse_exdates(values) -> list[str]:
    """Exception dates as sorted ISO dates (``YYYY-MM-DD``)."""
    out = set()
    for value in values or []:
        if isinstance(value, dt.date):
            out.add(value.isoformat())
            continue
        text = str(value).strip()
        if not text:
            continue
        try:
            out.add(dt.date.fromisoformat(text).isoformat())
        except ValueError as exc:
            raise DomainError(
                "exdate_invalid",
                _("'%(value)s' is geen datum (jjjj-mm-dd).") % {"value": text},
                details={"field": "exdates"},
            ) from exc
    return sorted(out)


def sessions_of(
    *, starts_at: dt.datetime, ends_at: dt.datetime, rrule: str = "", exdates=()
) -> list[Session]:
    """Every session, in order; exception dates are left out (the first one too)."""
    duration = ends_at - starts_at
    rule = parse_rrule(rrule, starts_at)
    skip = set(parse_exdates(exdates))
    if rule is None:
        starts = [starts_at.astimezone(AMSTERDAM)]
    else:
        starts = [_local(naive) for naive in rule]
    # the end is the start plus the duration in real time: a session across a clock change
    # lasts as long as the first one
    return [
        Session(start.astimezone(dt.UTC), start.astimezone(dt.UTC) + duration)
        for start in starts
        if start.date().isoformat() not in skip
    ]


def _local(naive: dt.datetime) -> dt.datetime:
    """A wall-clock time in the Netherlands as an aware datetime (``fold=0``: the first of
    an ambiguous hour)."""
    return naive.replace(tzinfo=AMSTERDAM)


def activity_sessions(activity) -> list[Session]:
    return sessions_of(
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        rrule=activity.rrule,
        exdates=activity.exdates,
    )
