"""The iCalendar feeds: they parse with ``icalendar``, carry UID, DTSTART/DTEND with a time
zone, LOCATION, URL and the series' RRULE/EXDATE; a consumer expanding the RRULE finds the
same sessions as we do, across daylight saving time; cancellations reach calendars; the
personal feed is secret and shows only its owner's registrations."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.rrule import rrulestr
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from bieb.core import clock
from bieb.programming import recurrence, selectors
from bieb.programming.models import CalendarFeed
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dutch():
    # an API request with Accept-Language: en activates English for the whole thread; keep
    # it inside the test that asked for it
    with translation.override("nl"):
        yield


NOW = dt.datetime(2025, 3, 12, 11, 0, tzinfo=clock.AMSTERDAM)  # a Wednesday before DST
UTC = dt.UTC


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield NOW


def parse(response) -> Calendar:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def local(day: int, hour: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=clock.AMSTERDAM)


def test_national_feed_carries_every_property_a_calendar_needs(client):
    location = f.location(name="Bibliotheek Neude", street="Neude", house_number="11")
    course = f.activity(
        title="Klik & Tik",
        location=location,
        kind="course",
        starts_at=local(20, 19),
        rrule="FREQ=WEEKLY;BYDAY=TH;UNTIL=20250417T190000",
        exdates=["2025-04-03"],
        audience="seniors",
        challenge="information_society",
    )
    f.activity(title="Concept", status="draft")

    response = client.get("/activiteiten.ics")
    calendar = parse(response)

    assert response["Content-Disposition"] == 'inline; filename="activiteiten.ics"'
    assert "public" in response["Cache-Control"] and "max-age=900" in response["Cache-Control"]
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    found = events(calendar)
    assert list(found) == [f"activity-{course.pk}@bieb.nl"]
    event = found[f"activity-{course.pk}@bieb.nl"]
    assert str(event["SUMMARY"]) == "Klik & Tik"
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event["DTSTART"].dt == local(20, 19)
    assert event["DTEND"].dt == local(20, 21)
    assert event["DTEND"].params["TZID"] == "Europe/Amsterdam"
    assert "Bibliotheek Neude" in str(event["LOCATION"])
    assert "Neude 11" in str(event["LOCATION"])
    assert str(event["URL"]) == "http://testserver" + reverse(
        "programming:detail", args=[course.slug]
    )
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    # RFC 5545: with a zoned DTSTART, UNTIL is in UTC (17 April 19:00 CEST = 17:00Z)
    assert event["RRULE"]["UNTIL"] == [dt.datetime(2025, 4, 17, 17, 0, tzinfo=UTC)]
    assert [d.dt for d in event["EXDATE"].dts] == [local(3, 19, month=4)]
    assert "senioren" in event["CATEGORIES"].cats
    assert event["LAST-MODIFIED"].dt == course.updated_at
    assert event["DTSTAMP"].dt == NOW.astimezone(UTC)


def test_a_consumer_expanding_the_rrule_finds_our_sessions_across_dst(client):
    course = f.activity(
        starts_at=local(20, 19), rrule="FREQ=WEEKLY;COUNT=4", exdates=["2025-04-03"]
    )

    event = events(parse(client.get("/activiteiten.ics")))[f"activity-{course.pk}@bieb.nl"]
    start = event["DTSTART"].dt
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    excluded = {d.dt for d in event["EXDATE"].dts}
    theirs = [moment for moment in rule if moment not in excluded]

    ours = [s.starts_at for s in recurrence.activity_sessions(course)]
    assert theirs == ours
    # 27 March is before the clocks go forward (18:00Z), 10 April after (17:00Z): 19:00 local
    assert theirs[1].astimezone(UTC).hour == 18
    assert theirs[2] == local(10, 19, month=4)
    assert theirs[2].astimezone(UTC).hour == 17


def test_a_recently_cancelled_activity_stays_in_the_feed_as_cancelled(client):
    cancelled = f.activity(status="cancelled", cancel_reason="De spreker is ziek.")
    f.activity(status="cancelled", cancelled_at=NOW - dt.timedelta(days=30), title="Lang geleden")

    found = events(parse(client.get("/activiteiten.ics")))

    assert list(found) == [f"activity-{cancelled.pk}@bieb.nl"]
    event = found[f"activity-{cancelled.pk}@bieb.nl"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Geannuleerd")
    assert "De spreker is ziek." in str(event["DESCRIPTION"])


def test_ended_activities_leave_the_feed_after_a_day():
    f.activity(title="Gisteren", starts_at=local(11, 9))
    f.activity(title="Vorige week", starts_at=local(4, 9))
    assert [a.title for a in selectors.feed_activities()] == ["Gisteren"]


def test_public_room_bookings_are_in_the_feeds(client):
    booking = f.booking(title="Buurtfeest")
    event = events(parse(client.get("/activiteiten.ics")))[f"booking-{booking.pk}@bieb.nl"]
    assert str(event["SUMMARY"]) == "Buurtfeest"
    assert booking.room.name in str(event["LOCATION"])


def test_organisation_location_and_audience_feeds_are_scoped(client):
    here = f.activity(title="Hier", audience="teens")
    elsewhere_same_org = f.activity(
        title="Andere vestiging", organisation=here.organisation, audience="adults"
    )
    f.activity(title="Ander organisatie", audience="teens")

    organisation = parse(
        client.get(reverse("programming:feed_organisation", args=[here.organisation.slug]))
    )
    location = parse(client.get(reverse("programming:feed_location", args=[here.location.slug])))
    teens = parse(client.get(reverse("programming:feed_audience", args=["teens"])))

    assert {str(e["SUMMARY"]) for e in organisation.walk("VEVENT")} == {
        "Hier",
        "Andere vestiging",
    }
    assert [str(e["SUMMARY"]) for e in location.walk("VEVENT")] == ["Hier"]
    assert {str(e["SUMMARY"]) for e in teens.walk("VEVENT")} == {"Hier", "Ander organisatie"}
    assert elsewhere_same_org.location != here.location


def test_unknown_scopes_are_404(client):
    assert client.get("/activiteiten/doelgroep/marsmannetjes.ics").status_code == 404
    assert client.get("/bibliotheken/bestaat-niet/activiteiten.ics").status_code == 404
    assert client.get("/locaties/bestaat-niet/activiteiten.ics").status_code == 404
    draft = f.activity(status="draft")
    assert client.get(f"/activiteiten/{draft.slug}.ics").status_code == 404


def test_one_activity_as_ics(client):
    activity = f.activity(title="Lezing")
    found = events(parse(client.get(reverse("programming:activity_ics", args=[activity.slug]))))
    assert list(found) == [f"activity-{activity.pk}@bieb.nl"]


def test_an_unchanged_feed_answers_304_to_its_etag(client):
    f.activity()
    first = client.get("/activiteiten.ics")
    with clock.frozen(NOW + dt.timedelta(minutes=5)):  # a new DTSTAMP, same content
        again = client.get("/activiteiten.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_national_feed_is_bounded_and_costs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, monkeypatch
):
    organisation = f.organisation()
    locations = [f.location(organisation=organisation) for _ in range(3)]
    for n in range(24):
        f.activity(
            organisation=organisation,
            location=locations[n % 3],
            starts_at=local(13, 10) + dt.timedelta(days=n),
            rrule="FREQ=WEEKLY;COUNT=3" if n % 2 else "",
        )
        f.booking(starts_at=local(13, 9) + dt.timedelta(days=n))
    monkeypatch.setattr(selectors, "FEED_LIMIT", 20)

    with django_assert_max_num_queries(2):
        calendar = parse(client.get("/activiteiten.ics"))

    uids = [str(e["UID"]) for e in calendar.walk("VEVENT")]
    assert sum(uid.startswith("activity-") for uid in uids) == 20
    assert sum(uid.startswith("booking-") for uid in uids) == 24


# --- the personal feed ------------------------------------------------------------------------


def test_personal_feed_shows_only_that_persons_live_registrations(client):
    person = f.UserFactory()
    other = f.UserFactory()
    feed = CalendarFeed.objects.create(person=person, token="geheim-" + "x" * 30)
    CalendarFeed.objects.create(person=other, token="anders-" + "y" * 30)
    confirmed = f.activity(title="Aangemeld")
    waiting = f.activity(title="Wachtlijst")
    dropped = f.activity(title="Afgemeld")
    theirs = f.activity(title="Van een ander")
    f.registration(activity=confirmed, person=person)
    f.registration(activity=waiting, person=person, status="waitlisted")
    f.registration(activity=dropped, person=person, status="cancelled", cancelled_at=NOW)
    f.registration(activity=theirs, person=other)

    response = client.get(reverse("programming:feed_personal", args=[feed.token]))
    calendar = parse(response)

    by_title = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(by_title) == {"Aangemeld", "Wachtlijst"}
    assert str(by_title["Aangemeld"]["STATUS"]) == "CONFIRMED"
    assert str(by_title["Wachtlijst"]["STATUS"]) == "TENTATIVE"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_personal_feed_tells_of_an_activity_cancelled_with_the_registration(client):
    person = f.UserFactory()
    feed = CalendarFeed.objects.create(person=person, token="t" * 43)
    activity = f.activity(status="cancelled", title="Gaat niet door")
    f.registration(activity=activity, person=person, status="cancelled", cancelled_at=NOW)

    calendar = parse(client.get(reverse("programming:feed_personal", args=[feed.token])))

    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_personal_feed_with_a_wrong_token_is_404(client):
    CalendarFeed.objects.create(person=f.UserFactory(), token="goed" + "g" * 39)
    response = client.get(reverse("programming:feed_personal", args=["fout" + "g" * 39]))
    assert response.status_code == 404
