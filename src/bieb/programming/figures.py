"""Figures of programming for the insights issue and the staff screens: per activity and per
societal challenge, registrations, attendance, no-shows, unique participants and age groups.

Definitions (``docs/programming.md``):
- *registrations*: registrations that got a seat (confirmed at some moment, ``confirmed_at``),
  and the seats they took;
- *attended*: of those, the ones checked in at one session or more; *attendances*: check-ins
  over all sessions (people present);
- *no-shows*: registrations still holding their seat at a session that has ended without a
  check-in, counted per session;
- *unique participants*: distinct people (accounts, or visitors' e-mail addresses) who came;
- *age groups* of the people who came, from the birth year kept on the registration.

Privacy: a figure that describes fewer than ``MIN_GROUP`` people is given as ``None`` in the
breakdowns (age groups), so no one can be singled out; totals per activity are counts of
registrations, shown to the organisation's own staff.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bieb.core import clock
from bieb.programming import recurrence
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Challenge,
    Registration,
    RegistrationStatus,
)
from bieb.subscriptions.figures import PRIVACY_THRESHOLD

#: the project's privacy rule: statistics about people only for groups of 10 or more
MIN_GROUP = PRIVACY_THRESHOLD
AGE_GROUPS = (
    ("0-4", 0, 4),
    ("5-12", 5, 12),
    ("13-17", 13, 17),
    ("18-64", 18, 64),
    ("65+", 65, 200),
)


def age_group(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    for label, low, high in AGE_GROUPS:
        if low <= age <= high:
            return label
    return "unknown"


@dataclass
class Figures:
    activities: int = 0
    sessions: int = 0
    registrations: int = 0
    seats: int = 0
    attended: int = 0
    attendances: int = 0
    no_shows: int = 0
    unique_participants: int = 0
    #: label -> people who came (None when fewer than MIN_GROUP)
    by_age_group: dict[str, int | None] = field(default_factory=dict)
    #: who came (account or e-mail key -> birth year); for totals only, never exported
    people: dict[str, int | None] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "activities": self.activities,
            "sessions": self.sessions,
            "registrations": self.registrations,
            "seats": self.seats,
            "attended": self.attended,
            "attendances": self.attendances,
            "no_shows": self.no_shows,
            "unique_participants": self.unique_participants,
            "by_age_group": self.by_age_group,
        }


def _suppressed(counter: Counter) -> dict[str, int | None]:
    labels = [label for label, _low, _high in AGE_GROUPS] + ["unknown"]
    return {label: (counter[label] if counter[label] >= MIN_GROUP else None) for label in labels}


def _collect(activities: list[Activity], now: dt.datetime) -> dict[int, Figures]:
    """Figures per activity id, in a fixed number of queries."""
    ids = [a.pk for a in activities]
    per: dict[int, Figures] = {a.pk: Figures(activities=1) for a in activities}
    ended_sessions: dict[int, list[dt.datetime]] = {}
    for activity in activities:
        sessions = recurrence.activity_sessions(activity)
        per[activity.pk].sessions = len(sessions)
        ended_sessions[activity.pk] = [s.starts_at for s in sessions if s.ends_at <= now]
    registrations = list(
        Registration.objects.filter(activity_id__in=ids, confirmed_at__isnull=False).values(
            "pk", "activity_id", "person_id", "email", "seats", "status", "birth_year"
        )
    )
    checked: dict[int, set[dt.datetime]] = defaultdict(set)
    for registration_id, session_start in Attendance.objects.filter(
        registration__activity_id__in=ids
    ).values_list("registration_id", "session_start"):
        checked[registration_id].add(session_start)
    people: dict[int, dict[str, int | None]] = defaultdict(dict)
    years = {a.pk: a.starts_at.astimezone(clock.AMSTERDAM).year for a in activities}
    for row in registrations:
        figures = per[row["activity_id"]]
        figures.registrations += 1
        figures.seats += row["seats"]
        came = checked.get(row["pk"], set())
        if came:
            figures.attended += 1
            figures.attendances += len(came)
            if row["person_id"]:
                who = f"p{row['person_id']}"
            elif row["email"]:
                who = f"e{row['email'].lower()}"
            else:  # anonymised: one person per registration
                who = f"r{row['pk']}"
            people[row["activity_id"]][who] = row["birth_year"]
        if row["status"] == RegistrationStatus.CONFIRMED:
            figures.no_shows += sum(
                1 for start in ended_sessions[row["activity_id"]] if start not in came
            )
    for activity_id, who in people.items():
        figures = per[activity_id]
        figures.unique_participants = len(who)
        counter = Counter(age_group(year, years[activity_id]) for year in who.values())
        figures.by_age_group = _suppressed(counter)
    for figures in per.values():
        if not figures.by_age_group:
            figures.by_age_group = _suppressed(Counter())
    for activity_id, figures in per.items():
        figures.people = people.get(activity_id, {})
    return per


def _activities(organisation_ids, date_from, date_to):
    queryset = Activity.objects.exclude(status=ActivityStatus.DRAFT)
    if organisation_ids is not None:
        queryset = queryset.filter(organisation_id__in=list(organisation_ids))
    if date_from is not None:
        queryset = queryset.filter(last_ends_at__date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(starts_at__date__lte=date_to)
    return list(queryset.order_by("pk"))


def activity_figures(activity: Activity, *, now: dt.datetime | None = None) -> Figures:
    """The figures of one activity."""
    return _collect([activity], now or clock.now())[activity.pk]


def figures_by_challenge(
    *,
    organisation_ids=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Figures]:
    """Figures per societal challenge (and ``"total"``) over the activities of
    ``organisation_ids`` (all when None) that ran in the period. Unique participants are
    counted once per challenge even when they came to several activities."""
    now = now or clock.now()
    activities = _activities(organisation_ids, date_from, date_to)
    per = _collect(activities, now)
    out: dict[str, Figures] = {c: Figures() for c in [*Challenge.values, "total"]}
    # who came -> their age group in the year of the activity (as ``activity_figures``), not
    # in the year the figures are asked for
    people: dict[str, dict[str, str]] = defaultdict(dict)
    for activity in activities:
        figures = per[activity.pk]
        year = activity.starts_at.astimezone(clock.AMSTERDAM).year
        groups = {who: age_group(birth, year) for who, birth in figures.people.items()}
        for key in (activity.challenge, "total"):
            target = out[key]
            target.activities += 1
            target.sessions += figures.sessions
            target.registrations += figures.registrations
            target.seats += figures.seats
            target.attended += figures.attended
            target.attendances += figures.attendances
            target.no_shows += figures.no_shows
            people[key].update(groups)
    for key, target in out.items():
        target.unique_participants = len(people[key])
        target.by_age_group = _suppressed(Counter(people[key].values()))
    return out
