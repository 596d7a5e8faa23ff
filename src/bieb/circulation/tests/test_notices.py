"""Notices and the nightly round: what a resident is told, once, and in their language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from bieb.circulation import notices, services, tasks
from bieb.circulation.models import Hold, HoldStatus, Notice, NoticeKind
from bieb.circulation.tests.factories import adult, copy_at, network, policy
from bieb.core import clock

pytestmark = pytest.mark.django_db


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_a_trapped_hold_tells_the_resident_once_by_mail_and_in_mijn_bibliotheek(
    django_capture_on_commit_callbacks,
):
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    person = adult(email="wachter@example.nl")
    hold = services.hold_place(patron=person, edition=item.edition, pickup_location=net.main)

    with django_capture_on_commit_callbacks(execute=True):
        services.checkin(barcode=item.barcode, location=net.main)

    notice = Notice.objects.get(patron=person)
    assert notice.kind == NoticeKind.HOLD_READY and notice.hold_id == hold.pk
    assert notice.sent_at is not None
    assert [m.to for m in mail.outbox] == [["wachter@example.nl"]]
    assert item.edition.title in mail.outbox[0].subject
    assert net.main.name in mail.outbox[0].body
    # sending again does nothing
    assert notices.send(notice.pk) is False
    assert len(mail.outbox) == 1


def test_the_nightly_round_sends_due_soon_and_overdue_notices_once(
    django_capture_on_commit_callbacks,
):
    net = network()
    policy(net.org, loan_days=21, max_renewals=0)  # no automatic renewal
    soon, late = adult(), adult(preferred_language="en")
    services.checkout(patron=soon, barcode=copy_at(net.main).barcode, location=net.main)
    with clock.frozen(clock.now() - days(10)):
        services.checkout(patron=late, barcode=copy_at(net.main).barcode, location=net.main)

    with clock.frozen(clock.now() + days(18)), django_capture_on_commit_callbacks(execute=True):
        first = tasks.run_daily_jobs()
        second = tasks.run_daily_jobs()

    assert first["notices"] == {"due_soon": 1, "overdue": 1, "hold_expiring": 0}
    assert second["notices"] == {"due_soon": 0, "overdue": 0, "hold_expiring": 0}
    assert first["auto_renew"] == {"renewed": 0, "refused": 0}  # an overdue loan is not renewed
    kinds = dict(Notice.objects.values_list("patron_id", "kind"))
    assert kinds == {soon.pk: NoticeKind.DUE_SOON, late.pk: NoticeKind.OVERDUE}
    english = Notice.objects.get(patron=late)
    assert "late" in english.subject.lower()  # the resident's own language
    assert len(mail.outbox) == 2


def test_the_nightly_round_renews_expires_and_warns_about_the_last_day():
    net = network()
    policy(net.org, loan_days=21, max_renewals=3)
    renewable = copy_at(net.main)
    services.checkout(patron=adult(), barcode=renewable.barcode, location=net.main)
    waiting_copy = copy_at(net.main)
    services.checkout(patron=adult(), barcode=waiting_copy.barcode, location=net.main)
    hold = services.hold_place(
        patron=adult(), edition=waiting_copy.edition, pickup_location=net.main
    )
    services.checkin(barcode=waiting_copy.barcode, location=net.main)
    hold.refresh_from_db()

    with clock.frozen(clock.now() + days(6)):
        report = tasks.run_daily_jobs()
    assert report["notices"]["hold_expiring"] == 1
    assert report["holds_expired"] == 0
    with clock.frozen(clock.now() + days(8)):
        report = tasks.run_daily_jobs()
    assert report["holds_expired"] == 1
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.EXPIRED
    with clock.frozen(clock.now() + days(20)):
        report = tasks.run_daily_jobs()
    assert report["auto_renew"]["renewed"] == 1


def test_the_jobs_command_prints_the_report(capsys):
    call_command("circulation", "jobs", "--date", clock.today().isoformat())
    out = capsys.readouterr().out
    assert '"auto_renew"' in out and '"notices"' in out


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_queued_notices_through_the_database_queue():
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    person = adult(email="db-queue@example.nl")
    services.hold_place(patron=person, edition=item.edition, pickup_location=net.main)
    backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with override_settings(TASKS=backend):
        services.checkin(barcode=item.barcode, location=net.main)
        assert mail.outbox == []  # queued, not sent
        call_command("circulation", "worker", "--batch", verbosity=0)

    assert [m.to for m in mail.outbox] == [["db-queue@example.nl"]]
    assert Notice.objects.get(patron=person).sent_at is not None


def test_the_next_nightly_round_is_at_two_in_the_night_amsterdam_time():
    evening = dt.datetime(2026, 3, 28, 23, 30, tzinfo=clock.AMSTERDAM)
    run = tasks.next_daily_run(evening)
    assert run.astimezone(clock.AMSTERDAM).replace(tzinfo=None) == dt.datetime(2026, 3, 29, 2, 0)
    early = dt.datetime(2026, 11, 29, 1, 0, tzinfo=clock.AMSTERDAM)
    assert tasks.next_daily_run(early).astimezone(clock.AMSTERDAM).hour == 2
    assert tasks.next_daily_run(early).date() == dt.date(2026, 11, 29)


def test_notices_show_in_mijn_leningen(client):
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    person = adult()
    services.hold_place(patron=person, edition=item.edition, pickup_location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)

    client.force_login(person)
    html = client.get("/mijn/leningen").content.decode()

    assert "Je reservering ligt klaar" in html
    assert item.edition.title in html


def test_a_failed_e_mail_is_not_marked_sent_and_no_address_means_no_e_mail(monkeypatch):
    net = network()
    item = copy_at(net.main)
    services.checkout(patron=adult(), barcode=item.barcode, location=net.main)
    person = adult(email="kapot@example.nl")
    services.hold_place(patron=person, edition=item.edition, pickup_location=net.main)
    services.checkin(barcode=item.barcode, location=net.main)
    notice = Notice.objects.get(patron=person)

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(notices, "send_mail", broken)
    with pytest.raises(OSError):
        notices.send(notice.pk)
    notice.refresh_from_db()
    assert notice.sent_at is None  # tried again later; the page does not say "sent"

    monkeypatch.undo()
    type(person).objects.filter(pk=person.pk).update(email="")
    assert notices.send(notice.pk) is False
    notice.refresh_from_db()
    assert notice.sent_at is None
