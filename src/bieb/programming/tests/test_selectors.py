"""The public read side: the programme's filters and order, near-me, room bookings in the
programme, one activity's page and its schema.org JSON-LD."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.network.tests.factories import PostcodeAreaFactory
from bieb.programming import selectors
from bieb.programming.models import RoomBooking
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dutch():
    # an API request with Accept-Language: en activates English for the whole thread; keep
    # it inside the test that asked for it
    with translation.override("nl"):
        yield


# A Wednesday in winter, 11:00 in Amsterdam; "tomorrow 19:00" is Thursday 9 January.
NOW = dt.datetime(2025, 1, 8, 11, 0, tzinfo=clock.AMSTERDAM)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield NOW


def titles(result) -> list[str]:
    return [entry.title for entry in result.entries]


def at(day: int, hour: int, month: int = 1) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=clock.AMSTERDAM)


def test_factories_make_a_published_activity_with_its_last_end_from_the_recurrence():
    activity = f.activity(rrule="FREQ=WEEKLY;COUNT=3")
    assert activity.status == "published"
    assert activity.starts_at == at(9, 19)
    assert activity.last_ends_at == at(23, 21)
    assert f.room().capacity == 30
    assert f.partner().kind == "school"
    assert f.booking().is_public
    assert f.registration(activity=activity).status == "confirmed"


# --- what the programme holds -----------------------------------------------------------------


def test_programme_lists_published_upcoming_activities_but_not_drafts_cancelled_or_ended():
    f.activity(title="Gepubliceerd")
    f.activity(title="Concept", status="draft")
    f.activity(title="Geannuleerd", status="cancelled")
    f.activity(title="Voorbij", starts_at=at(6, 19))

    result = selectors.programme()

    assert titles(result) == ["Gepubliceerd"]
    assert result.total == 1


def test_programme_orders_by_next_session_so_a_running_series_sits_at_its_next_meeting():
    # a weekly course that began last Monday: its next meeting is Monday 13 January
    f.activity(title="Lopende cursus", starts_at=at(6, 19), rrule="FREQ=WEEKLY;COUNT=4")
    f.activity(title="Vrijdag", starts_at=at(10, 14))
    f.activity(title="Dinsdag", starts_at=at(14, 10))

    result = selectors.programme()

    assert titles(result) == ["Vrijdag", "Lopende cursus", "Dinsdag"]
    course = result.entries[1]
    assert course.starts_at == at(13, 19)
    assert course.ends_at == at(13, 21)


def test_a_session_running_now_keeps_the_activity_in_the_programme():
    f.activity(title="Nu bezig", starts_at=at(8, 10))
    assert titles(selectors.programme()) == ["Nu bezig"]


def test_programme_pages_with_limit_and_offset():
    for day in range(9, 14):
        f.activity(title=f"Dag {day}", starts_at=at(day, 19))

    first = selectors.programme(limit=2)
    third = selectors.programme(limit=2, offset=4)

    assert titles(first) == ["Dag 9", "Dag 10"]
    assert first.total == 5 and first.has_next and not first.has_previous
    assert titles(third) == ["Dag 13"]
    assert not third.has_next


# --- filters, each narrowing ------------------------------------------------------------------


def test_filter_by_organisation_and_location_instance_or_slug():
    here = f.activity(title="Hier")
    f.activity(title="Elders")

    assert titles(selectors.programme(organisation=here.organisation)) == ["Hier"]
    assert titles(selectors.programme(organisation=here.organisation.slug)) == ["Hier"]
    assert titles(selectors.programme(location=here.location.slug)) == ["Hier"]
    with pytest.raises(NotFound):
        selectors.programme(organisation="bestaat-niet")


def test_filter_by_date_window_counts_a_series_only_when_a_session_falls_in_it():
    # every other week: 9 and 23 January; nothing in the week of 13-19 January
    f.activity(title="Om de week", starts_at=at(9, 19), rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=2")
    f.activity(title="Vijftien", starts_at=at(15, 19))
    f.activity(title="Februari", starts_at=at(3, 19, month=2))

    window = selectors.programme(date_from=dt.date(2025, 1, 13), date_to=dt.date(2025, 1, 19))
    later = selectors.programme(date_from=dt.date(2025, 1, 20), date_to=dt.date(2025, 1, 31))

    assert titles(window) == ["Vijftien"]
    assert titles(later) == ["Om de week"]
    assert later.entries[0].starts_at == at(23, 19)


def test_filter_by_audience_age_theme_challenge_programme_and_kind():
    f.activity(
        title="Voorlezen",
        audience="toddlers",
        age_min=0,
        age_max=4,
        theme="Voorlezen",
        challenge="literate",
        programme="boekstart",
        kind="event",
    )
    f.activity(
        title="Klik en Tik",
        audience="seniors",
        theme="Digitaal",
        challenge="information_society",
        programme="klik_en_tik",
        kind="course",
    )

    assert titles(selectors.programme(audience="toddlers")) == ["Voorlezen"]
    assert titles(selectors.programme(age=3)) == ["Voorlezen", "Klik en Tik"]  # no range: all
    assert titles(selectors.programme(age=30)) == ["Klik en Tik"]
    assert titles(selectors.programme(theme="digitaal")) == ["Klik en Tik"]
    assert titles(selectors.programme(challenge="literate")) == ["Voorlezen"]
    assert titles(selectors.programme(programme="klik_en_tik")) == ["Klik en Tik"]
    assert titles(selectors.programme(kind="course")) == ["Klik en Tik"]


def test_filter_by_price():
    f.activity(title="Gratis")
    f.activity(title="Betaald", price_kind="paid", price_cents=750)
    f.activity(title="Tegoed", price_kind="credits", credits=1)

    assert titles(selectors.programme(price="free")) == ["Gratis"]
    assert titles(selectors.programme(price="paid")) == ["Betaald"]
    assert titles(selectors.programme(price="credits")) == ["Tegoed"]


def test_filter_with_spaces_keeps_walk_ins_and_activities_with_seats_left():
    f.activity(title="Vol", capacity=10, seats_taken=10)
    f.activity(title="Plaats", capacity=10, seats_taken=9)
    f.activity(title="Inloop", capacity=0)

    assert titles(selectors.programme(with_spaces=True)) == ["Plaats", "Inloop"]


def test_filter_by_words_in_title_or_summary():
    f.activity(title="Schrijfcafé", summary="Samen schrijven")
    f.activity(title="Lezing", summary="Over het klimaat")

    assert titles(selectors.programme(query="klimaat")) == ["Lezing"]
    assert titles(selectors.programme(query="SCHRIJF")) == ["Schrijfcafé"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"audience": "martians"}, "audience"),
        ({"price": "cheap"}, "price"),
        ({"age": 300}, "age"),
        ({"date_from": dt.date(2025, 2, 1), "date_to": dt.date(2025, 1, 1)}, "date_to"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_filters_are_refused_with_the_field(kwargs, field):
    with pytest.raises(DomainError) as caught:
        selectors.programme(**kwargs)
    assert caught.value.code == "filter_invalid"
    assert caught.value.details["field"] == field


# --- near me ----------------------------------------------------------------------------------


def test_near_a_postcode_keeps_activities_within_the_radius_nearest_first():
    PostcodeAreaFactory(pc4="3512", place="Utrecht", lat=52.0907, lon=5.1214)
    near = f.location(name="Neude", lat=52.0928, lon=5.1195)  # ~0.3 km
    farther = f.location(name="Overvecht", lat=52.1160, lon=5.1030)  # ~3 km
    far = f.location(name="Amersfoort", lat=52.1561, lon=5.3878)  # ~20 km
    f.activity(title="Later maar dichtbij", location=near, starts_at=at(20, 19))
    f.activity(title="Morgen iets verder", location=farther)
    f.activity(title="Ver weg", location=far)

    result = selectors.programme(near="3512 AB")

    assert titles(result) == ["Later maar dichtbij", "Morgen iets verder"]
    assert result.point.label.startswith("3512")
    assert result.entries[0].distance_km < result.entries[1].distance_km < 5
    # sort by date keeps the radius but orders by the next session
    by_date = selectors.programme(near="3512", sort="date")
    assert titles(by_date) == ["Morgen iets verder", "Later maar dichtbij"]
    # a bigger radius takes Amersfoort in
    assert "Ver weg" in titles(selectors.programme(near="3512", radius_km=30))


def test_near_an_unknown_place_is_refused():
    with pytest.raises(DomainError) as caught:
        selectors.programme(near="Atlantis")
    assert caught.value.code == "place_not_found"
    assert caught.value.details == {"field": "near"}


# --- public room bookings ---------------------------------------------------------------------


def test_approved_public_room_bookings_appear_in_the_programme_between_activities():
    activity = f.activity(title="Lezing")  # tomorrow 19:00
    room = f.room(location=activity.location)
    f.booking(title="Buurtfeest", room=room)  # tomorrow 14:00
    f.booking(title="Besloten", room=room, is_public=False, starts_at=f.tomorrow_at(10))
    f.booking(
        title="Aangevraagd",
        room=room,
        status=RoomBooking.Status.REQUESTED,
        starts_at=f.tomorrow_at(8),
    )
    f.booking(title="Sessie van de lezing", room=room, activity=activity, starts_at=at(10, 9))

    result = selectors.programme()

    assert titles(result) == ["Buurtfeest", "Lezing"]
    assert not result.entries[0].is_activity
    assert result.entries[0].location == activity.location
    assert titles(selectors.programme(location=activity.location)) == ["Buurtfeest", "Lezing"]
    assert titles(selectors.programme(kind=selectors.ROOM_EVENT_KIND)) == ["Buurtfeest"]
    # bookings have no audience or price: such filters leave them out
    assert titles(selectors.programme(audience="adults")) == ["Lezing"]
    assert titles(selectors.programme(price="free")) == ["Lezing"]


# --- query counts -----------------------------------------------------------------------------


def test_programme_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    PostcodeAreaFactory(pc4="3511", lat=52.09, lon=5.11)
    for n in range(30):
        f.activity(
            starts_at=f.tomorrow_at(9) + dt.timedelta(days=n),
            rrule="FREQ=WEEKLY;COUNT=3" if n % 2 else "",
        )
        f.booking(starts_at=f.tomorrow_at(8) + dt.timedelta(days=n))

    with django_assert_max_num_queries(4):
        result = selectors.programme(limit=20)
    assert len(result.entries) == 20 and result.total == 60
    with django_assert_max_num_queries(6):
        near = selectors.programme(near="3511", limit=50)
    assert len(near.entries) == 50


# --- one activity -----------------------------------------------------------------------------


def test_activity_public_shows_published_and_cancelled_but_not_drafts():
    published = f.activity()
    cancelled = f.activity(status="cancelled")
    draft = f.activity(status="draft")

    assert selectors.activity_public(published.slug) == published
    assert selectors.activity_public(cancelled.slug) == cancelled
    assert selectors.activity_public(pk=published.pk) == published
    with pytest.raises(NotFound) as caught:
        selectors.activity_public(draft.slug)
    assert caught.value.code == "activity_not_found"


def test_next_session_and_session_states_of_a_running_series():
    activity = f.activity(starts_at=at(6, 19), rrule="FREQ=WEEKLY;COUNT=3", exdates=["2025-01-13"])

    assert selectors.next_session(activity).starts_at == at(20, 19)
    lines = selectors.sessions_with_state(activity)
    assert [(line.starts_at.day, line.is_past, line.is_next) for line in lines] == [
        (6, True, False),
        (20, False, True),
    ]
    assert selectors.next_session(activity, at=at(21, 12)) is None


def test_activity_detail_has_partners_works_and_availability(django_assert_max_num_queries):
    from bieb.catalog.tests.factories import EditionFactory

    edition = EditionFactory(title="Jip en Janneke")
    school = f.partner(name="OBS De Regenboog")
    activity = f.activity(partners=[school], works=[edition.work], capacity=10, seats_taken=9)

    with django_assert_max_num_queries(4):
        detail = selectors.activity_detail(activity.slug)

    assert detail.partners == [school]
    assert detail.works == [selectors.WorkLink("Jip en Janneke", edition.pk)]
    assert detail.availability == "few"
    assert detail.registration_open


# --- JSON-LD ----------------------------------------------------------------------------------


def test_json_ld_is_a_schema_org_event_with_place_offer_and_offset():
    location = f.location(name="Bibliotheek <Neude>")
    activity = f.activity(
        title="Voorlezen & zingen",
        location=location,
        audience="toddlers",
        age_min=0,
        age_max=4,
        capacity=10,
        seats_taken=10,
        price_kind="paid",
        price_cents=350,
    )

    text = selectors.activity_json_ld(activity, "https://bieb.example/activiteiten/x")
    data = json.loads(text)

    assert "<" not in text and "&" not in text  # cannot leave its script element
    assert data["@type"] == "Event"
    assert data["name"] == "Voorlezen & zingen"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["startDate"] == "2025-01-09T19:00:00+01:00"
    assert data["endDate"] == "2025-01-09T21:00:00+01:00"
    assert data["location"]["@type"] == "Place"
    assert data["location"]["name"] == "Bibliotheek <Neude>"
    assert data["location"]["address"]["@type"] == "PostalAddress"
    assert data["organizer"]["name"] == activity.organisation.name
    assert data["offers"]["price"] == "3.50"
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["offers"]["availability"] == "https://schema.org/SoldOut"
    assert data["isAccessibleForFree"] is False
    assert data["typicalAgeRange"] == "0-4"
    assert "eventSchedule" not in data


def test_json_ld_of_a_cancelled_series_has_a_schedule_and_sessions_across_dst():
    activity = f.activity(
        starts_at=dt.datetime(2025, 3, 20, 19, tzinfo=clock.AMSTERDAM),
        rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=3",
        status="cancelled",
        partners=[f.partner(name="Buurthuis")],
    )

    data = json.loads(selectors.activity_json_ld(activity, "https://bieb.example/a"))

    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert data["eventSchedule"]["@type"] == "Schedule"
    assert data["eventSchedule"]["repeatFrequency"] == "P1W"
    assert data["eventSchedule"]["byDay"] == ["https://schema.org/Thursday"]
    assert data["eventSchedule"]["repeatCount"] == 3
    # 19:00 before and after the clocks go forward on 30 March
    assert [sub["startDate"] for sub in data["subEvent"]] == [
        "2025-03-20T19:00:00+01:00",
        "2025-03-27T19:00:00+01:00",
        "2025-04-03T19:00:00+02:00",
    ]
    assert [org["name"] for org in data["organizer"]] == [activity.organisation.name, "Buurthuis"]


# --- filter options ---------------------------------------------------------------------------


def test_filter_options_offer_every_choice_and_the_themes_in_scope():
    here = f.activity(theme="Poëzie")
    f.activity(theme="poëzie", organisation=here.organisation)
    f.activity(theme="Techniek")
    f.activity(theme="Verborgen", status="draft")

    options = selectors.programme_filter_options(organisation=here.organisation)

    assert options.themes == [("poëzie", "Poëzie")] or options.themes == [("poëzie", "poëzie")]
    assert ("toddlers", "peuters en dreumesen (0-4)") in options.audiences
    assert (selectors.ROOM_EVENT_KIND, str(selectors.ROOM_EVENT_LABEL)) in options.kinds
    assert [value for value, _label in options.prices] == ["free", "paid", "credits"]
    assert "" not in [value for value, _label in options.programmes]


def test_activity_detail_by_id_as_well():
    activity = f.activity()
    assert selectors.activity_detail(pk=activity.pk).activity == activity
