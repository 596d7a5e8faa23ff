"""Background tasks of circulation (django-tasks, database backend).

``send_notice`` e-mails one notice; ``daily_jobs`` is the nightly round: automatic renewals,
expired holds, ended digital loans, the notices, and the loans of the days before counted as
use of the borrowers' subscriptions (``report_loan_use``). ``bieb circulation worker`` runs
the task worker and enqueues ``daily_jobs`` once a day; ``bieb circulation jobs`` runs the
round at once (for cron or by hand).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count
from django_tasks import task

from bieb.core import clock, rows, schedule

log = logging.getLogger("bieb.circulation")

#: ``subscriptions.models.Meter.LOANS``: physical loans, counted per lending organisation
LOANS_METER = "loans"
#: the audit action that marks a day's loans as counted; its subject names the day
USE_REPORTED = "circulation.loan_use_reported"
#: a day is counted only once it has been over this long (see ``loan_use_counted``)
USE_GRACE = dt.timedelta(minutes=10)
#: days missed (the worker was down) are counted up to this many days back
USE_CATCH_UP_DAYS = 31
#: PostgreSQL advisory lock of the report (a constant of this application)
_USE_LOCK = 0x62696562_0001


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
    report["loan_use"] = report_loan_use(today=today)
    return report


# --- physical loans as use of the subscription ----------------------------------------------


def _use_subject(day: dt.date) -> str:
    return f"circulation.loan_use:{day.isoformat()}"


def _lock_use_report(*, shared: bool) -> None:
    """Take the report's lock for the rest of the transaction: exclusive for the report,
    shared for a return that counts a loan itself. SQLite needs none: it serialises every
    writing transaction from ``BEGIN IMMEDIATE``."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    rows.value(f"SELECT {function}(%s)", [_USE_LOCK])


def _reported_since(first: dt.date, last: dt.date) -> dt.date | None:
    """The latest day from ``first`` to ``last`` whose loans the report has counted."""
    from bieb.core.models import AuditEvent

    first = max(first, last - dt.timedelta(days=USE_CATCH_UP_DAYS))
    subjects = {
        _use_subject(first + dt.timedelta(days=n)): first + dt.timedelta(days=n)
        for n in range((last - first).days + 1)
    }
    if not subjects:
        return None
    found = AuditEvent.objects.filter(action=USE_REPORTED, subject__in=list(subjects))
    days = [subjects[s] for s in found.values_list("subject", flat=True)]
    return max(days, default=None)


def loan_use_counted(day: dt.date) -> bool:
    """Whether the report has passed ``day``: asked (inside its transaction) by a return that
    is about to take the borrower's name off a loan lent on ``day``. True: the report counted
    the day's loans that still named their borrower (this one among them), or the day lies
    before reporting began — either way the return counts nothing. False: the report has not
    reached the day and, the name gone, will not see this loan; the return counts it.

    A loan lent today is never counted yet (the report counts a day from ``USE_GRACE`` after
    its end: no statement). Otherwise the process's memory answers when it can (the report
    only moves forward, ``policies.counted_through``); else its marker rows are read under the
    report's shared lock, so a report running now either counted the loan before this reads
    its marker, or starts after this return has committed and no longer sees the name."""
    from bieb.circulation import policies

    today = clock.today()
    if day >= today:
        return False
    through = policies.counted_through()
    if through is not None and day <= through:
        return True
    _lock_use_report(shared=True)
    reported = _reported_since(day, today)
    if reported is None:
        return False
    policies.remember_counted_through(reported)
    return True


def report_loan_use(*, today: dt.date | None = None) -> dict[str, object]:
    """Count the physical loans of the days before ``today`` as use of the borrowers'
    subscriptions: one ``subscriptions.services.usage_record`` per borrower and lending
    organisation (the copy's, whose policy lent it) with the number of copies lent that day,
    for borrowers who had a subscription that day. Loans of people without one are not use of
    a subscription and are not counted (decision 0015).

    Exactly once per day: each day is counted in one transaction under the report's lock,
    with an audit row whose subject names the day as its marker; a day with a marker is
    skipped, so running the round twice, or two workers at once, counts nothing twice. Days
    are counted in order, from the day after the last marker (within ``USE_CATCH_UP_DAYS``;
    the first run: yesterday) up to yesterday, and a day only from ``USE_GRACE`` after its
    end. A loan whose borrower's name went before its day was counted (a return by someone
    who keeps no loan history) was counted by that return (``loan_use_counted``)."""
    today = today or clock.today()
    yesterday = today - dt.timedelta(days=1)
    last = _reported_since(yesterday - dt.timedelta(days=USE_CATCH_UP_DAYS), yesterday)
    first = last + dt.timedelta(days=1) if last is not None else yesterday
    counted: dict[str, object] = {}
    day = first
    while day <= yesterday and _day_over(day):
        counted[day.isoformat()] = _report_day(day)
        day += dt.timedelta(days=1)
    return counted


def _day_over(day: dt.date) -> bool:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=clock.AMSTERDAM)
    return clock.now() >= end + USE_GRACE


def _report_day(day: dt.date) -> dict[str, int] | str:
    from bieb.accounts.models import User
    from bieb.circulation.entitlements import person_state
    from bieb.circulation.models import Loan
    from bieb.core.audit import audit_record
    from bieb.subscriptions import services as subscriptions

    start = dt.datetime.combine(day, dt.time(), tzinfo=clock.AMSTERDAM)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=clock.AMSTERDAM)
    with transaction.atomic():
        _lock_use_report(shared=False)
        if _reported_since(day, day) is not None:
            return "already"
        per_person: dict[int, dict[int, int]] = defaultdict(dict)
        for row in (
            Loan.objects.filter(
                checked_out_at__gte=start, checked_out_at__lt=end, patron__isnull=False
            )
            .values("patron_id", "organisation_id")
            .annotate(n=Count("id"))
            .order_by("patron_id", "organisation_id")
        ):
            per_person[row["patron_id"]][row["organisation_id"]] = row["n"]
        people = User.objects.in_bulk(list(per_person))
        reported = loans = 0
        for person_id, by_organisation in per_person.items():
            person = people.get(person_id)
            if person is None or person_state(person, today=day).plan is None:
                continue
            for organisation_id, n in by_organisation.items():
                subscriptions.usage_record(
                    person=person,
                    meter=LOANS_METER,
                    organisation_id=organisation_id,
                    amount=n,
                    day=day,
                )
                reported += 1
                loans += n
        audit_record(
            action=USE_REPORTED,
            subject=_use_subject(day),
            data={"day": day.isoformat(), "meters": reported, "loans": loans},
        )
    log.info("loan use of %s: %s loans on %s meters", day, loans, reported)
    return {"meters": reported, "loans": loans}


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
    return schedule.next_local_time(DAILY_HOUR, now)


def schedule_daily_jobs() -> bool:
    """Queue the next nightly round unless one is queued already (the worker calls this at start and
    after each round, so the schedule keeps itself going)."""
    return schedule.enqueue_once(daily_jobs, run_after=next_daily_run())
