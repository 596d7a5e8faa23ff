"""Opening state: staffed vs self-service, exceptions, the next opening, clock changes."""

from __future__ import annotations

import datetime as dt

import pytest

from bieb.core import clock
from bieb.network import selectors, services
from bieb.network.presentation import opening_state_label
from bieb.network.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC
AMS = clock.AMSTERDAM


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


def state_at(location, moment: dt.datetime):
    state = selectors.location_opening_state(location=location, at=moment)
    return state, opening_state_label(state, now=moment)


def weekdays(opens: str, closes: str, kind: str, days=range(5)) -> list[dict]:
    return [{"weekday": d, "opens": opens, "closes": closes, "kind": kind} for d in days]


@pytest.fixture
def branch():
    location = LocationFactory()
    services.location_set_hours(
        location=location,
        periods=[
            *weekdays("08:00", "10:00", "self_service"),
            *weekdays("10:00", "17:00", "staffed"),
            *weekdays("17:00", "22:00", "self_service"),
        ],
        actor=None,
    )
    return location


def test_staffed_then_self_service_is_one_open_stretch(branch):
    # given a Monday at noon (2025-01-06 is a Monday)
    state, label = state_at(branch, ams(2025, 1, 6, 12, 0))
    # then
    assert state.is_open and state.kind == "staffed"
    assert state.closes_at == ams(2025, 1, 6, 17, 0)
    assert state.then_kind == "self_service" and state.then_until == ams(2025, 1, 6, 22, 0)
    assert state.next_opens_at == ams(2025, 1, 7, 8, 0)
    assert label == "nu open (bemand tot 17:00, daarna zelfservice tot 22:00)"


def test_early_self_service_before_staff_arrive(branch):
    state, label = state_at(branch, ams(2025, 1, 6, 9, 15))
    assert state.kind == "self_service"
    assert label == "nu open (zelfservice tot 10:00, daarna bemand tot 17:00)"


def test_late_evening_only_self_service(branch):
    state, label = state_at(branch, ams(2025, 1, 6, 21, 0))
    assert (state.is_open, state.kind, state.then_kind) == (True, "self_service", None)
    assert label == "nu open (zelfservice tot 22:00)"


def test_closed_at_night_names_the_next_opening_and_its_kind(branch):
    state, label = state_at(branch, ams(2025, 1, 6, 23, 0))
    assert not state.is_open
    assert state.next_opens_at == ams(2025, 1, 7, 8, 0)
    assert state.next_kind == "self_service"
    assert label == "opent di 08:00 (zelfservice)"


def test_friday_evening_opens_on_monday(branch):
    state, label = state_at(branch, ams(2025, 1, 10, 22, 30))
    assert state.next_opens_at == ams(2025, 1, 13, 8, 0)
    assert label == "opent ma 08:00 (zelfservice)"


def test_opens_at_spans_into_next_week():
    # given a service point that opens only on Monday morning
    location = LocationFactory()
    services.location_set_hours(
        location=location,
        periods=[{"weekday": 0, "opens": "09:00", "closes": "12:00", "kind": "staffed"}],
        actor=None,
    )
    # when it is Monday afternoon
    state, label = state_at(location, ams(2025, 1, 6, 13, 0))
    # then it opens next Monday
    assert not state.is_open
    assert state.next_opens_at == ams(2025, 1, 13, 9, 0)
    assert label == "opent ma 09:00 (bemand)"


def test_a_closed_exception_overrides_the_weekly_pattern(branch):
    # given Tuesday 7 January is a closed day
    with clock.frozen(ams(2025, 1, 1, 12, 0)):
        services.location_add_exception(
            location=branch, date=dt.date(2025, 1, 7), closed=True, reason="Studiedag", actor=None
        )
    # when it is Tuesday at noon
    state, label = state_at(branch, ams(2025, 1, 7, 12, 0))
    # then it is closed until Wednesday morning
    assert not state.is_open
    assert state.next_opens_at == ams(2025, 1, 8, 8, 0)
    assert label == "opent wo 08:00 (zelfservice)"
    # and on Monday evening the next opening skips Tuesday
    state, _ = state_at(branch, ams(2025, 1, 6, 23, 0))
    assert state.next_opens_at == ams(2025, 1, 8, 8, 0)


def test_special_hours_open_an_otherwise_closed_day(branch):
    # given Sunday 12 January has special self-service hours
    with clock.frozen(ams(2025, 1, 1, 12, 0)):
        services.location_add_exception(
            location=branch,
            date=dt.date(2025, 1, 12),
            closed=False,
            opens="12:00",
            closes="16:00",
            kind="self_service",
            reason="Boekenmarkt",
            actor=None,
        )
    state, label = state_at(branch, ams(2025, 1, 12, 13, 0))
    assert state.is_open and state.kind == "self_service"
    assert label == "nu open (zelfservice tot 16:00)"
    state, label = state_at(branch, ams(2025, 1, 11, 23, 0))
    assert state.next_opens_at == ams(2025, 1, 12, 12, 0)


def test_special_hours_replace_the_whole_day(branch):
    with clock.frozen(ams(2025, 1, 1, 12, 0)):
        services.location_add_exception(
            location=branch,
            date=dt.date(2025, 1, 8),
            closed=False,
            opens="10:00",
            closes="13:00",
            actor=None,
        )
    state, label = state_at(branch, ams(2025, 1, 8, 9, 0))
    assert not state.is_open  # the usual 08:00 self-service does not apply
    state, label = state_at(branch, ams(2025, 1, 8, 12, 0))
    assert label == "nu open (bemand tot 13:00)"
    state, _ = state_at(branch, ams(2025, 1, 8, 14, 0))
    assert not state.is_open


@pytest.fixture
def sunday_library():
    location = LocationFactory()
    services.location_set_hours(
        location=location,
        periods=[{"weekday": 6, "opens": "10:00", "closes": "17:00", "kind": "staffed"}],
        actor=None,
    )
    return location


def test_spring_clock_change_keeps_wall_clock_hours(sunday_library):
    # 30 March 2025: clocks go from 02:00 to 03:00 (UTC+1 -> UTC+2)
    before = dt.datetime(2025, 3, 30, 7, 30, tzinfo=UTC)  # 09:30 summer time
    state, label = state_at(sunday_library, before)
    assert not state.is_open
    assert state.next_opens_at == dt.datetime(2025, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert label == "opent vandaag 10:00 (bemand)"
    state, label = state_at(sunday_library, dt.datetime(2025, 3, 30, 14, 30, tzinfo=UTC))
    assert state.is_open
    assert state.closes_at == dt.datetime(2025, 3, 30, 15, 0, tzinfo=UTC)  # 17:00 CEST
    assert label == "nu open (bemand tot 17:00)"
    # a week earlier (winter time) the same hours are an hour later in UTC
    state, _ = state_at(sunday_library, dt.datetime(2025, 3, 23, 8, 30, tzinfo=UTC))
    assert not state.is_open  # 09:30 CET
    assert state.next_opens_at == dt.datetime(2025, 3, 23, 9, 0, tzinfo=UTC)


def test_autumn_clock_change_keeps_wall_clock_hours(sunday_library):
    # 26 October 2025: clocks go from 03:00 back to 02:00 (UTC+2 -> UTC+1)
    state, _ = state_at(sunday_library, dt.datetime(2025, 10, 26, 8, 30, tzinfo=UTC))
    assert not state.is_open  # 09:30 CET, not 10:30
    assert state.next_opens_at == dt.datetime(2025, 10, 26, 9, 0, tzinfo=UTC)
    state, _ = state_at(sunday_library, dt.datetime(2025, 10, 26, 15, 30, tzinfo=UTC))
    assert state.is_open  # 16:30 CET
    assert state.closes_at == dt.datetime(2025, 10, 26, 16, 0, tzinfo=UTC)
    # Saturday evening (summer time) looks ahead across the change
    state, label = state_at(sunday_library, dt.datetime(2025, 10, 25, 20, 0, tzinfo=UTC))
    assert state.next_opens_at == dt.datetime(2025, 10, 26, 9, 0, tzinfo=UTC)
    assert label == "opent zo 10:00 (bemand)"


def test_locker_is_open_day_and_night_even_in_the_missing_hour():
    locker = LocationFactory(kind="locker")
    services.location_set_hours(
        location=locker,
        periods=[
            {"weekday": d, "opens": "00:00", "closes": "24:00", "kind": "self_service"}
            for d in range(7)
        ],
        actor=None,
    )
    moment = dt.datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST, just after the jump
    state, label = state_at(locker, moment)
    assert state.is_open and state.kind == "self_service"
    assert state.closes_at is None
    assert label == "nu open (zelfservice, dag en nacht)"


def test_without_hours_it_is_closed_with_no_next_opening():
    state, label = state_at(LocationFactory(), ams(2025, 1, 6, 12, 0))
    assert (state.is_open, state.next_opens_at) == (False, None)
    assert label == "gesloten"


def test_opening_state_defaults_to_the_clock(branch):
    with clock.frozen(ams(2025, 1, 6, 12, 0)):
        state = selectors.location_opening_state(location=branch)
    assert state.is_open and state.kind == "staffed"
