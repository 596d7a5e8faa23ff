"""Halen en brengen through the library: the code is stored hashed, the desk takes the thing in
and hands it over for the right code, wrong codes lock, guessing at a desk is rate limited,
and what is not picked up in time is reported."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.core import mail
from django.db import connection

from bieb.accounts.tests.factories import LocationFactory
from bieb.community import handovers
from bieb.community.models import Exchange, ExchangeStatus, Handover, HandoverStatus
from bieb.community.tests import factories as f
from bieb.core import clock
from bieb.core.errors import DomainError
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.code
    return caught.value


@dataclass
class World:
    exchange: Exchange
    location: object
    desk: object


def world(**exchange_kw) -> World:
    giver = f.resident(first_name="Gerrit")
    receiver = f.resident(first_name="Anna", last_name="de Vries")
    exchange = f.exchange(
        f.post(author=giver, title="Klopboormachine"), giver=giver, receiver=receiver, **exchange_kw
    )
    location = LocationFactory(organisation=f.library(), name="Bibliotheek Neude")
    return World(exchange, location, f.staff("desk", location.organisation))


def created(w: World) -> handovers.IssuedCode:
    return handovers.handover_create(
        exchange=w.exchange, person=w.exchange.giver, location=w.location
    )


def dropped(w: World) -> handovers.IssuedCode:
    issued = created(w)
    handovers.handover_drop(handover=issued.handover, actor=w.desk)
    return issued


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- announcing --------------------------------------------------------------------------------


def test_the_code_goes_to_the_receiver_once_and_only_its_hash_is_stored(
    django_capture_on_commit_callbacks,
):
    w = world()

    with django_capture_on_commit_callbacks(execute=True):
        issued = created(w)

    assert re.fullmatch(r"\d{6}", issued.code)
    handover = Handover.objects.get()
    assert handover.status == HandoverStatus.ANNOUNCED
    assert handover.code_hash == handovers.code_hash(issued.code) != issued.code
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM community_handover WHERE id = %s", [handover.pk])
        row = cursor.fetchone()
    assert not any(issued.code in str(value) for value in row)
    assert handover.label == "Klopboormachine · Anna V."
    [sent] = mail.outbox
    assert sent.to == [w.exchange.receiver.email]
    assert issued.code in sent.body and issued.code not in sent.subject
    assert "Bibliotheek Neude" in sent.body
    event = AuditEvent.objects.get(action="community.handover_create")
    assert issued.code not in str(event.data)


def test_only_the_giver_announces_a_handover():
    w = world()
    error = refused(
        "not_giver",
        lambda: handovers.handover_create(
            exchange=w.exchange, person=w.exchange.receiver, location=w.location
        ),
    )
    assert error.status == 403
    refused(
        "not_found",
        lambda: handovers.handover_create(
            exchange=w.exchange, person=f.resident(), location=w.location
        ),
    )


@pytest.mark.parametrize(
    "place", [{"kind": "mobile"}, {"kind": "school_library"}, {"is_active": False}]
)
def test_the_location_must_be_an_active_branch_service_point_or_locker(place):
    w = world()
    unsuitable = LocationFactory(organisation=w.location.organisation, **place)
    refused(
        "location_unsuitable",
        lambda: handovers.handover_create(
            exchange=w.exchange, person=w.exchange.giver, location=unsuitable
        ),
    )
    locker = LocationFactory(organisation=w.location.organisation, kind="locker")
    assert handovers.handover_create(
        exchange=w.exchange, person=w.exchange.giver, location=locker
    ).code


def test_one_open_handover_per_agreed_exchange():
    w = world()
    created(w)
    refused("handover_exists", lambda: created(w))

    done = world(status=ExchangeStatus.DONE)
    refused("exchange_not_agreed", lambda: created(done))


def test_a_child_without_consent_cannot_announce_a_handover():
    child = f.youth()
    w = world()
    w.exchange.giver = child
    w.exchange.save()
    refused(
        "consent_required",
        lambda: handovers.handover_create(exchange=w.exchange, person=child, location=w.location),
    )


def test_an_announced_handover_can_be_called_off_until_it_is_at_the_desk():
    w = world()
    issued = created(w)
    handovers.handover_cancel(handover=issued.handover, person=w.exchange.receiver)
    assert Handover.objects.get().status == HandoverStatus.CANCELLED

    again = dropped(w)
    refused(
        "handover_not_announced",
        lambda: handovers.handover_cancel(handover=again.handover, person=w.exchange.giver),
    )
    refused(
        "not_found",
        lambda: handovers.handover_cancel(handover=again.handover, person=f.resident()),
    )


# --- the desk ----------------------------------------------------------------------------------


def test_the_desk_takes_it_in_for_a_week_and_the_receiver_is_told(
    django_capture_on_commit_callbacks,
):
    w = world()
    issued = created(w)
    mail.outbox.clear()
    today = clock.today()

    with django_capture_on_commit_callbacks(execute=True):
        handovers.handover_drop(handover=issued.handover, actor=w.desk)

    handover = Handover.objects.get()
    assert handover.status == HandoverStatus.WAITING
    assert handover.pick_up_by == today + dt.timedelta(days=7)
    assert handover.dropped_at is not None
    [sent] = mail.outbox
    assert sent.to == [w.exchange.receiver.email]
    assert issued.code not in sent.body
    refused(
        "handover_not_announced", lambda: handovers.handover_drop(handover=handover, actor=w.desk)
    )


def test_only_desk_staff_of_the_locations_organisation_take_it_in():
    w = world()
    issued = created(w)
    elsewhere = f.staff("desk", f.library("GM0363"))
    programmer = f.staff("programmer", w.location.organisation)

    assert (
        refused(
            "not_found", lambda: handovers.handover_drop(handover=issued.handover, actor=elsewhere)
        ).status
        == 404
    )
    assert (
        refused(
            "forbidden", lambda: handovers.handover_drop(handover=issued.handover, actor=programmer)
        ).status
        == 403
    )
    refused(
        "forbidden",
        lambda: handovers.handover_drop(handover=issued.handover, actor=w.exchange.receiver),
    )
    manager = f.staff("manager", w.location.organisation)
    assert handovers.handover_drop(handover=issued.handover, actor=manager).status == "waiting"


def test_the_right_code_hands_it_over_and_the_exchange_stays_agreed(
    django_capture_on_commit_callbacks,
):
    w = world()
    issued = dropped(w)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        handover = handovers.handover_pick_up(
            handover=issued.handover, code=f" {issued.code[:3]} {issued.code[3:]} ", actor=w.desk
        )

    assert handover.status == HandoverStatus.PICKED_UP
    assert Handover.objects.get().picked_up_at is not None
    assert Exchange.objects.get().status == ExchangeStatus.AGREED
    assert [m.to for m in mail.outbox] == [[w.exchange.giver.email]]
    refused(
        "handover_not_waiting",
        lambda: handovers.handover_pick_up(
            handover=issued.handover, code=issued.code, actor=w.desk
        ),
    )


def test_wrong_codes_count_down_and_the_fifth_locks():
    w = world()
    issued = dropped(w)
    bad = wrong_code(issued.code)

    answers = []
    for _ in range(4):
        error = refused(
            "code_wrong",
            lambda: handovers.handover_pick_up(handover=issued.handover, code=bad, actor=w.desk),
        )
        answers.append(error.details["tries_left"])
    assert answers == [4, 3, 2, 1]
    locked = refused(
        "handover_locked",
        lambda: handovers.handover_pick_up(handover=issued.handover, code=bad, actor=w.desk),
    )
    assert "identiteitsbewijs" in locked.message

    handover = Handover.objects.get()
    assert (handover.status, handover.wrong_tries) == (HandoverStatus.LOCKED, 5)
    # locked: the right code no longer works, and nothing more is counted
    refused(
        "handover_locked",
        lambda: handovers.handover_pick_up(handover=handover, code=issued.code, actor=w.desk),
    )
    assert Handover.objects.get().wrong_tries == 5
    assert AuditEvent.objects.filter(action="community.handover_code_wrong").count() == 5
    assert AuditEvent.objects.filter(action="community.handover_lock").count() == 1


def test_a_wrong_code_gives_no_hint_of_which_part_was_wrong():
    w = world()
    issued = dropped(w)
    near = issued.code[:5] + str((int(issued.code[5]) + 1) % 10)
    far = f"{(int(issued.code) + 500_000) % 1_000_000:06d}"

    answers = [
        refused(
            "code_wrong",
            lambda code=code: handovers.handover_pick_up(
                handover=issued.handover, code=code, actor=w.desk
            ),
        )
        for code in (near, far, "12a45")
    ]

    assert [a.message for a in answers] == [
        "Deze code klopt niet. Nog 4 pogingen.",
        "Deze code klopt niet. Nog 3 pogingen.",
        "Deze code klopt niet. Nog 2 pogingen.",
    ]
    assert [a.details for a in answers] == [{"tries_left": n} for n in (4, 3, 2)]
    # nothing typed is not a try
    refused(
        "code_required",
        lambda: handovers.handover_pick_up(handover=issued.handover, code=" ", actor=w.desk),
    )
    assert Handover.objects.get().wrong_tries == 3


def test_the_desk_unlocks_after_checking_id_and_the_tries_start_again():
    w = world()
    issued = dropped(w)
    for _ in range(5):
        with pytest.raises(DomainError):
            handovers.handover_pick_up(
                handover=issued.handover, code=wrong_code(issued.code), actor=w.desk
            )
    refused(
        "forbidden",
        lambda: handovers.handover_unlock(handover=issued.handover, actor=w.exchange.giver),
    )

    handovers.handover_unlock(handover=issued.handover, actor=w.desk)

    handover = Handover.objects.get()
    assert (handover.status, handover.wrong_tries) == (HandoverStatus.WAITING, 0)
    refused(
        "handover_not_locked",
        lambda: handovers.handover_unlock(handover=handover, actor=w.desk),
    )
    assert handovers.handover_pick_up(handover=handover, code=issued.code, actor=w.desk).status == (
        HandoverStatus.PICKED_UP
    )


def test_unlocking_with_a_new_code_mails_it_and_the_old_one_stops(
    django_capture_on_commit_callbacks,
):
    w = world()
    issued = dropped(w)
    for _ in range(5):
        with pytest.raises(DomainError):
            handovers.handover_pick_up(
                handover=issued.handover, code=wrong_code(issued.code), actor=w.desk
            )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        fresh = handovers.handover_unlock(handover=issued.handover, actor=w.desk, new_code=True)

    # the old code is still in use at the location when the new one is drawn: never the same
    assert fresh.code != issued.code
    [sent] = mail.outbox
    assert sent.to == [w.exchange.receiver.email] and fresh.code in sent.body
    refused(
        "code_wrong",
        lambda: handovers.handover_pick_up(
            handover=issued.handover, code=issued.code, actor=w.desk
        ),
    )
    assert handovers.handover_pick_up(handover=issued.handover, code=fresh.code, actor=w.desk)


# --- the code alone, at a location -----------------------------------------------------------------


def test_the_desk_finds_the_waiting_handover_by_its_code_at_that_location():
    w = world()
    first = dropped(w)
    second_world = world()
    second_world.location, second_world.desk = w.location, w.desk
    second = dropped(second_world)

    handover = handovers.pick_up_with_code(location=w.location, code=second.code, actor=w.desk)

    assert handover.pk == second.handover.pk
    assert Handover.objects.get(pk=first.handover.pk).status == HandoverStatus.WAITING
    # a code of another location does not work here
    other = world()
    at_other = dropped(other)
    refused(
        "code_wrong",
        lambda: handovers.pick_up_with_code(location=w.location, code=at_other.code, actor=w.desk),
    )
    refused(
        "not_found",
        lambda: handovers.pick_up_with_code(
            location=w.location, code=first.code, actor=f.staff("desk", f.library("GM0363"))
        ),
    )


def test_twenty_wrong_codes_an_hour_close_the_location_to_guessing():
    w = world()
    issued = dropped(w)
    start = clock.now()
    guesses = (
        f"{n:06d}"
        for n in range(1_000_000)
        if handovers.code_hash(f"{n:06d}") != issued.handover.code_hash
    )

    with clock.frozen(start):
        for _ in range(20):
            refused(
                "code_wrong",
                lambda: handovers.pick_up_with_code(
                    location=w.location, code=next(guesses), actor=w.desk
                ),
            )
        # now even the right code is refused: the answer must not tell right from wrong
        error = refused(
            "rate_limited",
            lambda: handovers.pick_up_with_code(
                location=w.location, code=issued.code, actor=w.desk
            ),
        )
    assert error.status == 429
    # the handover itself was never tried, so it is not locked
    assert Handover.objects.get().wrong_tries == 0

    with clock.frozen(start + dt.timedelta(hours=1, minutes=1)):
        handover = handovers.pick_up_with_code(location=w.location, code=issued.code, actor=w.desk)
    assert handover.status == HandoverStatus.PICKED_UP


# --- overdue and the desk list -------------------------------------------------------------------


def test_the_overdue_round_reports_once_and_tells_both_sides(django_capture_on_commit_callbacks):
    w = world()
    issued = dropped(w)
    mail.outbox.clear()
    pick_up_by = Handover.objects.get().pick_up_by

    assert handovers.handovers_overdue(pick_up_by) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert handovers.handovers_overdue(pick_up_by + dt.timedelta(days=1)) == 1
    assert handovers.handovers_overdue(pick_up_by + dt.timedelta(days=2)) == 0

    handover = Handover.objects.get()
    assert handover.status == HandoverStatus.OVERDUE and handover.reported_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [w.exchange.giver.email, w.exchange.receiver.email]
    )
    assert all(issued.code not in m.body for m in mail.outbox)
    # late, but still handed over for the right code
    assert handovers.handover_pick_up(handover=handover, code=issued.code, actor=w.desk).status == (
        HandoverStatus.PICKED_UP
    )


def test_the_desk_list_shows_what_lies_there_with_labels_only():
    w = world()
    waiting = dropped(w)
    announced_world = world()
    announced_world.location, announced_world.desk = w.location, w.desk
    created(announced_world)
    start = clock.now()

    with clock.frozen(start + dt.timedelta(days=3)):
        rows = handovers.desk_list(w.location)

    assert [(r.pk, r.label, r.status, r.days_waiting) for r in rows] == [
        (waiting.handover.pk, "Klopboormachine · Anna V.", "waiting", 3)
    ]
    text = repr(rows)
    for person in (w.exchange.giver, w.exchange.receiver):
        assert person.email not in text and person.last_name not in text
