"""Notices to residents: due soon, overdue, hold ready, hold expiring.

A notice is a row (shown in "mijn bibliotheek") and an e-mail sent by a background task
(``tasks.send_notice``) once the transaction that made it commits. Each notice has a ``key``
(kind, loan or hold, and the date it is about) that the database keeps unique, so a job that
runs twice, or two workers running it at once, tell a person once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bieb.circulation.models import Hold, HoldStatus, Loan, Notice, NoticeKind
from bieb.core import clock

#: "due soon" goes out this many days before the due date
DUE_SOON_DAYS = 3


def _notify(*, patron, kind: str, key: str, subject: str, body: str, loan=None, hold=None):
    """Create the notice once and send it after commit; None when it existed already."""
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                patron=patron, kind=kind, key=key, subject=subject, body=body, loan=loan, hold=hold
            )
    except IntegrityError:
        return None
    from bieb.circulation.tasks import send_notice

    transaction.on_commit(lambda: send_notice.enqueue(notice.pk))
    return notice


def _in_language(person, build):
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        return build()


def _day(value: dt.date) -> str:
    return date_format(value, "j F Y")


def hold_ready(hold: Hold) -> Notice | None:
    def build():
        title = hold.edition.title
        return (
            _("Je reservering ligt klaar: %(title)s") % {"title": title},
            _(
                "%(title)s ligt voor je klaar in %(location)s. Je kunt het ophalen tot en met"
                " %(until)s."
            )
            % {
                "title": title,
                "location": hold.pickup_location.name,
                "until": _day(hold.ready_until),
            },
        )

    subject, body = _in_language(hold.patron, build)
    return _notify(
        patron=hold.patron,
        kind=NoticeKind.HOLD_READY,
        key=f"hold_ready:{hold.pk}:{hold.trapped_item_id}",
        subject=subject,
        body=body,
        hold=hold,
    )


def _loan_notice(loan: Loan, kind: str) -> Notice | None:
    def build():
        title = loan.edition.title
        if kind == NoticeKind.DUE_SOON:
            return (
                _("Breng %(title)s uiterlijk %(due)s terug")
                % {"title": title, "due": _day(loan.due_date)},
                _(
                    "%(title)s moet uiterlijk %(due)s terug. Verlengen kan in Mijn Bibliotheek,"
                    " als niemand anders erop wacht."
                )
                % {"title": title, "due": _day(loan.due_date)},
            )
        return (
            _("%(title)s is te laat") % {"title": title},
            _(
                "%(title)s had %(due)s terug moeten zijn. Breng het terug in een bibliotheek naar"
                " keuze, of verleng het in Mijn Bibliotheek."
            )
            % {"title": title, "due": _day(loan.due_date)},
        )

    subject, body = _in_language(loan.patron, build)
    return _notify(
        patron=loan.patron,
        kind=kind,
        key=f"{kind}:{loan.pk}:{loan.due_date.isoformat()}",
        subject=subject,
        body=body,
        loan=loan,
    )


def _hold_expiring(hold: Hold) -> Notice | None:
    def build():
        title = hold.edition.title
        return (
            _("Laatste kans: haal %(title)s op") % {"title": title},
            _("%(title)s ligt nog tot en met %(until)s voor je klaar in %(location)s.")
            % {
                "title": title,
                "until": _day(hold.ready_until),
                "location": hold.pickup_location.name,
            },
        )

    subject, body = _in_language(hold.patron, build)
    return _notify(
        patron=hold.patron,
        kind=NoticeKind.HOLD_EXPIRING,
        key=f"hold_expiring:{hold.pk}:{hold.ready_until.isoformat()}",
        subject=subject,
        body=body,
        hold=hold,
    )


def daily_notices(*, today: dt.date | None = None) -> dict[str, int]:
    """Due soon (``DUE_SOON_DAYS`` ahead), overdue, and holds whose last day is tomorrow."""
    today = today or clock.today()
    counts = {"due_soon": 0, "overdue": 0, "hold_expiring": 0}
    open_loans = Loan.objects.filter(returned_at__isnull=True, patron__isnull=False).select_related(
        "patron", "edition"
    )
    for loan in open_loans.filter(due_date=today + dt.timedelta(days=DUE_SOON_DAYS)):
        counts["due_soon"] += bool(_loan_notice(loan, NoticeKind.DUE_SOON))
    for loan in open_loans.filter(due_date__lt=today):
        counts["overdue"] += bool(_loan_notice(loan, NoticeKind.OVERDUE))
    expiring = Hold.objects.filter(
        status=HoldStatus.READY, ready_until=today + dt.timedelta(days=1)
    ).select_related("patron", "edition", "pickup_location")
    for hold in expiring:
        counts["hold_expiring"] += bool(_hold_expiring(hold))
    return counts


def send(notice_id: int) -> bool:
    """E-mail the notice (once: the row is claimed before sending)."""
    notice = Notice.objects.select_related("patron").filter(pk=notice_id).first()
    if notice is None or notice.sent_at is not None:
        return False
    person = notice.patron
    if not person.email or person.is_anonymised:
        return False  # shown in mijn bibliotheek only; never marked as e-mailed
    # claimed before sending, so two workers send it once; given back if sending fails, so a
    # later run tries again and the page never says "sent" for mail that did not go
    claimed = Notice.objects.filter(pk=notice_id, sent_at__isnull=True).update(sent_at=clock.now())
    if not claimed:
        return False
    try:
        send_mail(notice.subject, notice.body, None, [person.email])
    except Exception:
        Notice.objects.filter(pk=notice_id).update(sent_at=None)
        raise
    return True
