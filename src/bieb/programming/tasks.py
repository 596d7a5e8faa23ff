"""Background work of programming (django-tasks, database backend).

``round`` runs every quarter of an hour: offers from the waitlist and online payments that
were not taken in time end and their seats go to the next (``services.offers_expire``; the
same runs before every registration change on an activity, so nobody waits on the round to
register), invoices of registrations that ended while a payment was under way are settled once
the provider has answered (``services.ended_invoices_settle``), and reminders go out before
sessions (``services.reminders_send``). Run without
arguments, it queues its next run. ``bieb circulation worker`` starts it with the other rounds;
``bieb programming jobs`` runs it at once (for cron or by hand); it is safe to run twice.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bieb.core import clock, schedule

#: how often the round runs
EVERY = dt.timedelta(minutes=15)


def run_round(now: dt.datetime | None = None) -> dict[str, object]:
    from bieb.programming import services

    now = now or clock.now()
    return {
        "at": now.isoformat(),
        "expired": services.offers_expire(now=now),
        "invoices_settled": services.ended_invoices_settle(),
        "reminders": services.reminders_send(now=now),
    }


@task()
def programming_round(scheduled: bool = True) -> dict[str, object]:
    report = run_round()
    if scheduled:
        schedule_round()
    return report


def schedule_round() -> bool:
    """Queue the next round unless one is queued already."""
    return schedule.enqueue_once(programming_round, run_after=clock.now() + EVERY)
