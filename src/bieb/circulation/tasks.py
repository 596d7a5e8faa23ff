"""Background tasks of circulation (django-tasks, database backend).

``send_notice`` e-mails one notice; ``daily_jobs`` is the nightly round: automatic renewals,
expired holds, ended digital loans, then the notices. ``bieb circulation worker`` runs the
task worker and enqueues ``daily_jobs`` once a day; ``bieb circulation jobs`` runs the round
at once (for cron or by hand).
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bieb.core import clock


@task()
def send_notice(notice_id: int) -> bool:
    from bieb.circulation import notices

    return notices.send(notice_id)


def run_daily_jobs(today: dt.date | None = None) -> dict[str, object]:
    from bieb.circulation import notices, services

    today = today or clock.today()
    report: dict[str, object] = {"date": today.isoformat()}
    report["auto_renew"] = services.auto_renew(today=today)
    report["holds_expired"] = services.expire_holds(today=today)
    try:
        from bieb.circulation import digital
    except ImportError:  # digital lending not installed in this build
        digital = None
    if digital is not None and hasattr(digital, "expire_digital_loans"):
        report["digital_loans_ended"] = digital.expire_digital_loans()
        if hasattr(digital, "expire_digital_holds"):
            report["digital_holds_expired"] = digital.expire_digital_holds()
    report["notices"] = notices.daily_notices(today=today)
    return report


@task()
def daily_jobs(day: str | None = None) -> dict[str, object]:
    report = run_daily_jobs(dt.date.fromisoformat(day) if day else None)
    if day is None:
        schedule_daily_jobs()
    return report


#: the nightly round runs at this local hour
DAILY_HOUR = 2


def next_daily_run(now: dt.datetime | None = None) -> dt.datetime:
    """The next ``DAILY_HOUR`` o'clock in the Netherlands, as an aware datetime."""
    local = (now or clock.now()).astimezone(clock.AMSTERDAM)
    run = local.replace(hour=DAILY_HOUR, minute=0, second=0, microsecond=0)
    if run <= local:
        run = (run + dt.timedelta(days=1)).replace(hour=DAILY_HOUR)
    return run


def schedule_daily_jobs() -> bool:
    """Queue the next nightly round unless one is queued already (the worker calls this at
    start and after each round, so the schedule keeps itself going)."""
    from django_tasks_db.models import DBTaskResult

    path = f"{daily_jobs.func.__module__}.{daily_jobs.func.__qualname__}"
    if DBTaskResult.objects.filter(task_path=path, status="READY").exists():
        return False
    daily_jobs.using(run_after=next_daily_run()).enqueue()
    return True
