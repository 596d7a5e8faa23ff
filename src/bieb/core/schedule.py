"""Nightly rounds on django-tasks: when the next one runs, and queueing it once.

An app's round is a task that, run without a date, queues its own next run, so the schedule
keeps itself going while a worker runs (``bieb circulation worker`` starts both rounds).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bieb.core import clock


def next_local_time(hour: int, now: dt.datetime | None = None) -> dt.datetime:
    """The next ``hour`` o'clock in the Netherlands after ``now``, as an aware datetime (a
    calendar day later, so daylight saving cannot move it)."""
    local = (now or clock.now()).astimezone(clock.AMSTERDAM)
    run = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if run <= local:
        run = (run + dt.timedelta(days=1)).replace(hour=hour)
    return run


def enqueue_once(task: Any, *, run_after: dt.datetime) -> bool:
    """Queue ``task`` to run at ``run_after`` unless a run of it is queued already."""
    from django_tasks_db.models import DBTaskResult

    path = f"{task.func.__module__}.{task.func.__qualname__}"
    if DBTaskResult.objects.filter(task_path=path, status="READY").exists():
        return False
    task.using(run_after=run_after).enqueue()
    return True
