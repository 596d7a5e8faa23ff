"""Background work of the community (django-tasks, database backend).

``community_round`` runs every morning at 07:00 in the Netherlands: handovers not picked up
by their day are reported to the desk and both residents are told
(``handovers.handovers_overdue``). Run without a date it queues its next run; ``bieb
circulation worker`` starts it with the other rounds, ``bieb community jobs`` runs it at once
(for cron or by hand); it is safe to run twice (a reported handover is not reported again).
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bieb.core import clock, schedule

#: the round runs at this local hour (before the libraries open)
DAILY_HOUR = 7


def run_round(today: dt.date | None = None) -> dict[str, object]:
    from bieb.community import handovers

    today = today or clock.today()
    return {"date": today.isoformat(), "handovers_overdue": handovers.handovers_overdue(today)}


@task()
def community_round(day: str | None = None) -> dict[str, object]:
    report = run_round(dt.date.fromisoformat(day) if day else None)
    if day is None:
        schedule_round()
    return report


def schedule_round() -> bool:
    """Queue the next round unless one is queued already."""
    return schedule.enqueue_once(community_round, run_after=schedule.next_local_time(DAILY_HOUR))
