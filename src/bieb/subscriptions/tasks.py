"""The nightly round of subscriptions (django-tasks, database backend).

``run_daily_jobs(today)`` brings every subscription up to date and does the money of the day,
in this order: scheduled changes that took effect (``changes_apply_due``), residents turning
18 (``youth_transitions``), unpaid day passes lapsed, the billing run, direct debits past their collection date marked
paid (``sepa.sepa_settle_due``), and dunning. Each step is idempotent, so running the round
twice on a day changes nothing the second time. ``bieb circulation worker`` queues
``daily_jobs`` beside circulation's round; ``bieb billing jobs`` runs it at once.

The monthly SEPA collection file is not written here: the finance office writes it with
``bieb billing sepa-export`` for the collection date it agrees with its bank.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bieb.core import clock, schedule


def run_daily_jobs(today: dt.date | None = None) -> dict[str, object]:
    from bieb.subscriptions import dunning, invoicing, sepa, services

    today = today or clock.today()
    return {
        "date": today.isoformat(),
        "changes_applied": services.changes_apply_due(today=today),
        "youth": services.youth_transitions(today=today),
        "day_passes_lapsed": services.day_passes_lapse(today=today),
        "billing": invoicing.billing_run(today=today),
        "direct_debits_paid": sepa.sepa_settle_due(today=today),
        "dunning": dunning.dunning_run(today=today),
    }


@task()
def daily_jobs(day: str | None = None) -> dict[str, object]:
    report = run_daily_jobs(dt.date.fromisoformat(day) if day else None)
    if day is None:
        schedule_daily_jobs()
    return report


#: the round runs at this local hour, after circulation's (which reports the day's loans)
DAILY_HOUR = 3


def next_daily_run(now: dt.datetime | None = None) -> dt.datetime:
    """The next ``DAILY_HOUR`` o'clock in the Netherlands, as an aware datetime."""
    return schedule.next_local_time(DAILY_HOUR, now)


def schedule_daily_jobs() -> bool:
    """Queue the next round unless one is queued already (the worker calls this at start and
    after each round, so the schedule keeps itself going)."""
    return schedule.enqueue_once(daily_jobs, run_after=next_daily_run())
