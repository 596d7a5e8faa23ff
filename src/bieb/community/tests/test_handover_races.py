"""Never more than five wrong tries, never handed over twice: pickup codes typed at once at the
desk, on SQLite (one writer at a time, BEGIN IMMEDIATE) and PostgreSQL (the conditional
UPDATE re-checked after a row lock wait, the location's row lock). The invariants are checked
in the database afterwards."""

from __future__ import annotations

import pytest

from bieb.accounts.tests.factories import LocationFactory
from bieb.circulation.tests.test_races import at_once
from bieb.community import handovers
from bieb.community.models import Handover, HandoverStatus
from bieb.community.tests import factories as f
from bieb.core.audit import subject_of
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_handover():
    giver, receiver = f.resident(), f.resident()
    exchange = f.exchange(f.post(author=giver), giver=giver, receiver=receiver)
    location = LocationFactory(organisation=f.library())
    desk = f.staff("desk", location.organisation)
    issued = handovers.handover_create(exchange=exchange, person=giver, location=location)
    handovers.handover_drop(handover=issued.handover, actor=desk)
    return issued, location, desk


def wrong_codes(right: str, count: int) -> list[str]:
    return [f"{(int(right) + n) % 1_000_000:06d}" for n in range(1, count + 1)]


def test_twenty_wrong_codes_and_the_right_one_at_once_never_pass_five_wrong_tries():
    issued, _location, desk = waiting_handover()
    handover = issued.handover

    calls = [
        lambda code=code: handovers.handover_pick_up(handover=handover, code=code, actor=desk)
        for code in wrong_codes(issued.code, 20)
    ]
    calls.insert(
        10, lambda: handovers.handover_pick_up(handover=handover, code=issued.code, actor=desk)
    )
    results = at_once(*calls)

    assert not [r for r in results if isinstance(r, Exception)], results
    picked = [r for r in results if isinstance(r, Handover)]
    codes = [r for r in results if isinstance(r, str)]
    assert set(codes) <= {"code_wrong", "handover_locked", "handover_not_waiting"}, codes
    fresh = Handover.objects.get(pk=handover.pk)
    counted = AuditEvent.objects.filter(
        action=handovers.WRONG_CODE, subject=subject_of(fresh)
    ).count()
    # every wrong code that was weighed was counted, and never more than five were
    assert fresh.wrong_tries == counted <= handovers.MAX_WRONG_TRIES
    assert codes.count("code_wrong") == min(counted, handovers.MAX_WRONG_TRIES - 1)
    assert len(picked) <= 1
    assert AuditEvent.objects.filter(action="community.handover_pick_up").count() == len(picked)
    if picked:
        # handed over before the fifth wrong try: the rest found nothing waiting
        assert fresh.status == HandoverStatus.PICKED_UP and fresh.picked_up_at is not None
    else:
        # five wrong tries came first: locked, and the right code was refused too
        assert fresh.status == HandoverStatus.LOCKED and counted == handovers.MAX_WRONG_TRIES
        assert codes.count("handover_locked") == len(results) - counted + 1


def test_the_right_code_at_five_desks_at_once_hands_it_over_once():
    issued, location, desk = waiting_handover()
    other_desk = f.staff("desk", location.organisation)

    results = at_once(
        *[
            lambda actor=actor: handovers.handover_pick_up(
                handover=issued.handover, code=issued.code, actor=actor
            )
            for actor in (desk, other_desk, desk, other_desk, desk)
        ],
        *[
            lambda: handovers.pick_up_with_code(location=location, code=issued.code, actor=desk)
            for _ in range(3)
        ],
    )

    assert sum(isinstance(r, Handover) for r in results) == 1, results
    direct, by_code = results[:5], results[5:]
    assert {r for r in direct if isinstance(r, str)} <= {"handover_not_waiting"}
    # by the code alone, a handover already picked up is not found waiting there (or, found
    # a moment before another desk handed it over, no longer waiting)
    assert {r for r in by_code if isinstance(r, str)} <= {"code_wrong", "handover_not_waiting"}
    assert Handover.objects.get().status == HandoverStatus.PICKED_UP
    assert AuditEvent.objects.filter(action="community.handover_pick_up").count() == 1


def test_guessing_codes_at_once_at_one_location_stops_at_twenty():
    issued, location, desk = waiting_handover()

    results = at_once(
        *[
            lambda code=code: handovers.pick_up_with_code(location=location, code=code, actor=desk)
            for code in wrong_codes(issued.code, 26)
        ]
    )

    assert results.count("code_wrong") == handovers.LOCATION_WRONG_LIMIT, results
    assert results.count("rate_limited") == 26 - handovers.LOCATION_WRONG_LIMIT
    assert (
        AuditEvent.objects.filter(action=handovers.WRONG_CODE, subject=subject_of(location)).count()
        == handovers.LOCATION_WRONG_LIMIT
    )
    assert Handover.objects.get().status == HandoverStatus.WAITING
