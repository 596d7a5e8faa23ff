"""Interoperability of the programme with what reads it: calendar programs (RFC 5545 through the
``icalendar`` package, with ``dateutil`` expanding recurrences as a client does), search
engines (schema.org ``Event`` JSON-LD as Google's event rich result wants it) and API clients
(the OpenAPI document, errors, paging and ``Idempotency-Key``).

Each test reads the feed, page or answer as an outsider would: from the bytes served."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from dateutil import rrule as du
from django.test import Client
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from bieb.api.services import token_create
from bieb.core import clock
from bieb.programming import ical, recurrence, selectors, services
from bieb.programming.models import Activity, CalendarFeed, PriceKind
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db

UTC = dt.UTC
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2025, 3, 12, 11, 0, tzinfo=clock.AMSTERDAM)  # a Wednesday before DST


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen(NOW):
        yield


@pytest.fixture(autouse=True)
def dutch():
    # an English API request activates English for the thread; keep it inside each test
    with translation.override("nl"):
        yield


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=clock.AMSTERDAM)


def later(**delta):
    return clock.frozen(NOW + dt.timedelta(**delta))


def feed(client, url: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def calendar_of(response) -> Calendar:
    return Calendar.from_ical(response.content)


def only_event(response):
    (event,) = calendar_of(response).walk("VEVENT")
    return event


def activity_feed(client, activity: Activity, **headers):
    return feed(client, reverse("programming:activity_ics", args=[activity.slug]), **headers)


# --- iCalendar: every feed is clean RFC 5545 ---------------------------------------------------


def assert_clean_ical(body: bytes) -> Calendar:
    """What a strict reader checks: CRLF line ends, folded at 75 octets without splitting a
    UTF-8 character, every TZID defined, and the properties every VEVENT needs."""
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never cuts a character in two
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert not component.errors, (component.name, component.errors)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    defined = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    assert calendar.get_used_tzids() <= defined
    for event in calendar.walk("VEVENT"):
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
            assert name in event, (name, event)
        for name in ("DTSTAMP", "CREATED", "LAST-MODIFIED"):  # UTC, written with "Z"
            assert event[name].to_ical().endswith(b"Z"), (name, event[name].to_ical())
            assert event[name].dt.utcoffset() == dt.timedelta(0)
        assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
        assert event["DTEND"].params["TZID"] == "Europe/Amsterdam"
        assert event["DTEND"].dt > event["DTSTART"].dt
    return calendar


def test_every_feed_parses_cleanly_with_icalendar(client):
    organisation = f.organisation(email="agenda@bibliotheek.example")
    location = f.location(organisation=organisation)
    series = f.activity(
        location=location,
        audience="teens",
        starts_at=local(2025, 3, 20, 19),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=["2025-04-03"],
    )
    f.activity(location=location, status="cancelled", cancel_reason="Ziek")
    f.booking(room=f.room(location=location), title="Buurtfeest")
    person = f.UserFactory()
    f.registration(activity=series, person=person)
    token = services.calendar_feed_for(person=person).token

    urls = [
        "/activiteiten.ics",
        reverse("programming:feed_organisation", args=[organisation.slug]),
        reverse("programming:feed_location", args=[location.slug]),
        reverse("programming:feed_audience", args=["teens"]),
        reverse("programming:activity_ics", args=[series.slug]),
        reverse("programming:feed_personal", args=[token]),
    ]
    for url in urls:
        calendar = assert_clean_ical(feed(client, url).content)
        assert calendar.walk("VEVENT"), url
        assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]


def test_an_empty_feed_is_a_valid_calendar_without_a_time_zone(client):
    calendar = assert_clean_ical(feed(client, "/activiteiten.ics").content)

    assert calendar.walk("VEVENT") == []
    assert calendar.walk("VTIMEZONE") == []


# --- the time zone ----------------------------------------------------------------------------


def _onsets(vtimezone, until: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(UTC moment, offset from then on) of every onset, read as RFC 5545 section 3.6.5 says:
    DTSTART, RDATE and RRULE give the wall-clock time in the offset *before* the change."""
    found = []
    for observance in vtimezone.subcomponents:
        start = observance["DTSTART"].dt
        assert start.tzinfo is None  # a local time, never UTC or with a TZID
        offset_from = observance["TZOFFSETFROM"].td
        offset_to = observance["TZOFFSETTO"].td
        starts = [start]
        if "RRULE" in observance:
            rule = du.rrulestr(observance["RRULE"].to_ical().decode(), dtstart=start)
            starts = list(rule.between(start, until, inc=True))
            assert starts[0] == start  # DTSTART is the rule's first onset (RFC 5545)
        for rdate in observance.get("RDATE", []) if "RDATE" in observance else []:
            starts += [value.dt for value in rdate.dts]
        found += [((moment - offset_from).replace(tzinfo=UTC), offset_to) for moment in starts]
    return sorted(found)


def test_the_time_zone_changes_at_the_right_moment_in_spring_and_autumn(client):
    f.activity(starts_at=local(2025, 3, 20, 19))
    (vtimezone,) = calendar_of(feed(client, "/activiteiten.ics")).walk("VTIMEZONE")
    onsets = _onsets(vtimezone, dt.datetime(2036, 1, 1))
    assert {str(o["TZNAME"]) for o in vtimezone.subcomponents} == {"CET", "CEST"}

    def offset_at(moment: dt.datetime) -> dt.timedelta:
        return [offset for start, offset in onsets if start <= moment][-1]

    checked = 0
    for year in range(2025, 2036):
        for month in (3, 10):
            last_sunday = max(
                dt.date(year, month, day)
                for day in range(25, 32)
                if dt.date(year, month, day).weekday() == 6
            )
            moment = dt.datetime.combine(last_sunday, dt.time(), tzinfo=UTC) - dt.timedelta(hours=3)
            for _quarter in range(6 * 4 * 2):  # every 15 minutes, 21:00Z to 21:00Z
                assert offset_at(moment) == moment.astimezone(AMSTERDAM).utcoffset(), moment
                moment += dt.timedelta(minutes=15)
                checked += 1
        for month in range(1, 13):  # and in the middle of every month
            moment = dt.datetime(year, month, 15, 12, tzinfo=UTC)
            assert offset_at(moment) == moment.astimezone(AMSTERDAM).utcoffset(), moment
    assert checked == 11 * 2 * 48
    # the spring change: 02:00 CET becomes 03:00 CEST, i.e. 01:00Z (not 02:00Z)
    spring = dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert offset_at(spring - dt.timedelta(seconds=1)) == dt.timedelta(hours=1)
    assert offset_at(spring) == dt.timedelta(hours=2)


def test_the_time_zone_is_written_as_a_yearly_rule():
    text = ical.amsterdam_vtimezone().to_ical().decode()

    assert "DTSTART:19960331T020000" in text  # before the spring change: CET
    assert "DTSTART:19961027T030000" in text  # before the autumn change: CEST
    assert text.count("RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=") == 2
    assert "RDATE" not in text


# --- dates, stamps and identity ---------------------------------------------------------------


def test_uid_stays_the_same_across_requests_and_edits(client):
    activity = f.activity(title="Lezing")
    first = only_event(activity_feed(client, activity))

    with later(minutes=5):
        again = only_event(activity_feed(client, activity))
    with later(hours=1):
        data = services.ActivityInput.of(activity)
        data.title = "Lezing (nieuwe spreker)"
        services.activity_update(activity=activity, data=data, actor=None)
        edited = only_event(activity_feed(client, activity))

    assert str(first["UID"]) == str(again["UID"]) == str(edited["UID"])
    assert str(first["UID"]) == f"activity-{activity.pk}@bieb.nl"
    assert str(edited["SUMMARY"]) == "Lezing (nieuwe spreker)"


def test_an_edit_raises_the_sequence_and_changes_the_etag(client):
    activity = f.activity(starts_at=local(2025, 3, 20, 19))
    first = activity_feed(client, activity)
    before = only_event(first)
    assert int(before["SEQUENCE"]) == 0

    with later(hours=2):
        data = services.ActivityInput.of(activity)
        data.starts_at = local(2025, 3, 20, 20)
        data.ends_at = local(2025, 3, 20, 22)
        services.activity_update(activity=activity, data=data, actor=None)
        response = client.get(
            reverse("programming:activity_ics", args=[activity.slug]),
            headers={"If-None-Match": first["ETag"]},
        )

    assert response.status_code == 200  # not 304: the event changed
    assert response["ETag"] != first["ETag"]
    after = only_event(response)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["LAST-MODIFIED"].dt == (NOW + dt.timedelta(hours=2)).astimezone(UTC)
    assert after["DTSTART"].dt == local(2025, 3, 20, 20)


def test_a_cancellation_raises_the_sequence_and_says_cancelled(client):
    activity = f.activity(starts_at=local(2025, 3, 20, 19))
    first = activity_feed(client, activity)
    before = only_event(first)

    with later(minutes=30):
        services.activity_cancel(activity=activity, reason="De spreker is ziek.", actor=None)
        response = activity_feed(client, activity)
        national = only_event(feed(client, "/activiteiten.ics"))

    after = only_event(response)
    assert response["ETag"] != first["ETag"]
    assert str(after["STATUS"]) == "CANCELLED"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["LAST-MODIFIED"].dt == (NOW + dt.timedelta(minutes=30)).astimezone(UTC)
    assert str(after["UID"]) == str(before["UID"])
    assert str(national["STATUS"]) == "CANCELLED"
    assert int(national["SEQUENCE"]) == int(after["SEQUENCE"])


def test_sequence_only_grows_and_fits_an_ical_integer():
    activity = f.activity()
    assert ical.sequence(activity) == 0
    activity.updated_at = activity.created_at + dt.timedelta(seconds=90)
    assert ical.sequence(activity) == 90
    activity.cancelled_at = activity.created_at + dt.timedelta(days=3)
    assert ical.sequence(activity) == 3 * 86_400
    activity.updated_at = activity.created_at + dt.timedelta(days=365 * 100)
    assert ical.sequence(activity) == 2**31 - 1


# --- recurrence round trip ----------------------------------------------------------------------


def expand_like_a_client(event) -> list[dt.datetime]:
    """The sessions a calendar program finds: RRULE expanded from DTSTART, EXDATEs removed."""
    start = event["DTSTART"].dt
    rule = du.rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    excluded = set()
    if "EXDATE" in event:
        exdates = event["EXDATE"] if isinstance(event["EXDATE"], list) else [event["EXDATE"]]
        for exdate in exdates:
            # the same value type and zone as DTSTART, or a client will not match them
            assert exdate.params.get("TZID") == event["DTSTART"].params["TZID"]
            assert "VALUE" not in exdate.params or exdate.params["VALUE"] == "DATE-TIME"
            for value in exdate.dts:
                assert isinstance(value.dt, dt.datetime)
                excluded.add(value.dt)
    return [moment for moment in rule if moment not in excluded]


@pytest.mark.parametrize(
    ("starts_at", "rrule", "exdates"),
    [
        # twice a week through the spring change, ending on a date (UNTIL)
        (
            local(2025, 3, 18, 19),
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20250410T190000",
            ["2025-03-27", "2025-04-01"],
        ),
        # every other week through the autumn change, counted (COUNT)
        (local(2025, 10, 7, 10, 30), "FREQ=WEEKLY;INTERVAL=2;COUNT=5", ["2025-10-21"]),
        # monthly on the last Saturday, across both changes
        (local(2025, 2, 22, 14), "FREQ=MONTHLY;BYDAY=-1SA;COUNT=10", []),
    ],
)
def test_a_client_expanding_the_feed_finds_our_sessions_across_dst(
    client, starts_at, rrule, exdates
):
    activity = f.activity(starts_at=starts_at, rrule=rrule, exdates=exdates)

    event = only_event(activity_feed(client, activity))

    theirs = expand_like_a_client(event)
    ours = [session.starts_at for session in recurrence.activity_sessions(activity)]
    assert theirs == ours
    assert {moment.astimezone(AMSTERDAM).time() for moment in theirs} == {
        starts_at.astimezone(AMSTERDAM).time()
    }
    assert len({moment.astimezone(AMSTERDAM).utcoffset() for moment in theirs}) == 2
    assert event["DTEND"].dt - event["DTSTART"].dt == activity.ends_at - activity.starts_at
    until = event["RRULE"].get("UNTIL")
    if until:
        assert until[0].utcoffset() == dt.timedelta(0)  # RFC 5545: UTC with a zoned DTSTART
        assert b"Z" in event["RRULE"].to_ical()


# --- text -------------------------------------------------------------------------------------


def test_commas_semicolons_backslashes_and_newlines_survive(client):
    organisation = f.organisation(name="Bibliotheek Rivierenland, Tiel: centrum", email="a@b.nl")
    location = f.location(
        organisation=organisation, name="Zaal; boven, links", street="Markt", house_number="1"
    )
    title = 'Lezing, debat; "Wat nu?" \\ slot'
    description = "Eerste regel\r\nTweede regel; met, tekens\nDerde \\ regel"
    activity = f.activity(
        location=location,
        title=title,
        summary="Kort, en; bondig",
        description=description,
        theme="Kunst, cultuur",
    )

    response = activity_feed(client, activity)
    body = response.content
    assert_clean_ical(body)
    event = only_event(response)

    unfolded = body.replace(b"\r\n ", b"").decode()
    assert 'SUMMARY:Lezing\\, debat\\; "Wat nu?" \\\\ slot\r\n' in unfolded
    assert str(event["SUMMARY"]) == title
    assert "Eerste regel\nTweede regel; met, tekens\nDerde \\ regel" in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]).startswith("Zaal; boven, links, Markt 1")
    assert "Kunst, cultuur" in event["CATEGORIES"].cats
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:a@b.nl"
    assert organizer.params["CN"] == "Bibliotheek Rivierenland, Tiel: centrum"


def test_long_titles_with_accents_and_emoji_are_folded_cleanly(client):
    title = "Voorlezen met Café Ééndracht " + "😀" * 30 + " en één slot"
    activity = f.activity(title=title[:150])

    response = activity_feed(client, activity)

    assert_clean_ical(response.content)
    assert str(only_event(response)["SUMMARY"]) == title[:150]


# --- caching ----------------------------------------------------------------------------------


def test_public_feeds_may_be_cached_and_answer_304_until_they_change(client):
    here = f.activity()
    url = reverse("programming:feed_organisation", args=[here.organisation.slug])
    first = feed(client, url)
    assert "public" in first["Cache-Control"] and "max-age=900" in first["Cache-Control"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', first["ETag"])

    with later(minutes=20):  # another DTSTAMP; nothing else changed
        unchanged = client.get(url, headers={"If-None-Match": first["ETag"]})
        f.activity(title="Elders")  # another organisation: not in this feed
        still = client.get(url, headers={"If-None-Match": first["ETag"]})
        f.activity(organisation=here.organisation, title="Hier ook")
        changed = client.get(url, headers={"If-None-Match": first["ETag"]})

    assert unchanged.status_code == 304
    assert unchanged["ETag"] == first["ETag"]
    assert "max-age=900" in unchanged["Cache-Control"]
    assert unchanged.content == b""
    assert still.status_code == 304
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_personal_feed_is_never_cached_and_a_wrong_or_old_token_is_404(client):
    person = f.UserFactory()
    f.registration(activity=f.activity(title="Mijn lezing"), person=person)
    token = services.calendar_feed_for(person=person).token
    url = reverse("programming:feed_personal", args=[token])

    response = feed(client, url)
    again = client.get(url, headers={"If-None-Match": '"*"'})
    new_token = services.calendar_feed_for(person=person, reset=True).token

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert "ETag" not in response
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert again.status_code == 200
    assert client.get(url).status_code == 404  # the old address stopped working
    assert feed(client, reverse("programming:feed_personal", args=[new_token]))
    assert client.get(reverse("programming:feed_personal", args=["x" * 43])).status_code == 404
    assert client.get("/activiteiten/agenda/.ics").status_code == 404
    assert CalendarFeed.objects.count() == 1


# --- schema.org Event JSON-LD -------------------------------------------------------------------

LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def json_ld_of_page(client, activity: Activity) -> tuple[str, dict]:
    response = client.get(reverse("programming:detail", args=[activity.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    (text,) = LD_JSON.findall(html)
    return text, json.loads(text)


def test_json_ld_cannot_break_out_of_its_script_element(client):
    title = "</script><script>alert(1)</script><!-- & ]]>"
    activity = f.activity(title=title, summary="<b>vet</b> & </SCRIPT>")

    text, data = json_ld_of_page(client, activity)

    assert "<" not in text and ">" not in text and "&" not in text
    assert data["name"] == title
    assert data["description"] == "<b>vet</b> & </SCRIPT>"


def test_json_ld_has_what_an_event_rich_result_needs(client):
    location = f.location(name="Bibliotheek Neude", street="Neude", house_number="11")
    activity = f.activity(
        location=location,
        title="Schrijfcursus",
        summary="Leer schrijven in zes avonden.",
        starts_at=local(2025, 3, 20, 19, 30),
        price_kind=PriceKind.PAID,
        price_cents=1_250,
        capacity=12,
        seats_taken=3,
        accessibility="Rolstoeltoegankelijk; ringleiding.",
    )

    _text, data = json_ld_of_page(client, activity)

    # required by Google: name, startDate (with offset), location with its address
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Schrijfcursus"
    assert data["startDate"] == "2025-03-20T19:30:00+01:00"
    place = data["location"]
    assert place["@type"] == "Place"
    assert place["name"] == "Bibliotheek Neude"
    assert place["address"]["@type"] == "PostalAddress"
    assert place["address"]["streetAddress"] == "Neude 11"
    assert {"postalCode", "addressLocality", "addressCountry"} <= set(place["address"])
    # recommended
    assert data["description"] == "Leer schrijven in zes avonden."
    assert data["endDate"] == "2025-03-20T21:30:00+01:00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    page_url = "http://testserver" + reverse("programming:detail", args=[activity.slug])
    assert data["url"] == page_url
    offer = data["offers"]
    assert offer["@type"] == "Offer"
    assert (offer["price"], offer["priceCurrency"]) == ("12.50", "EUR")
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["url"] == page_url
    assert offer["validFrom"] == "2025-03-12T11:00:00+01:00"
    assert data["organizer"]["@type"] == "Organization"
    assert data["organizer"]["name"] == activity.organisation.name
    assert data["organizer"]["url"].startswith("http://testserver/")
    # accessibilityFeature belongs to a CreativeWork: the text is a feature of the venue
    assert "accessibilityFeature" not in data
    assert place["amenityFeature"] == {
        "@type": "LocationFeatureSpecification",
        "name": "Toegankelijkheid",
        "value": "Rolstoeltoegankelijk; ringleiding.",
    }


def test_json_ld_of_a_free_walk_in_and_of_a_cancelled_activity(client):
    free = f.activity(capacity=0)
    cancelled = f.activity(status="cancelled", cancel_reason="Ziek")

    _text, walk_in = json_ld_of_page(client, free)
    _text, gone = json_ld_of_page(client, cancelled)

    assert walk_in["isAccessibleForFree"] is True
    assert walk_in["offers"]["price"] == "0.00"
    assert walk_in["offers"]["availability"] == "https://schema.org/InStock"
    assert "maximumAttendeeCapacity" not in walk_in
    assert gone["eventStatus"] == "https://schema.org/EventCancelled"
    assert gone["startDate"]  # a cancelled event keeps its date


def schedule_of(**kw) -> dict | None:
    activity = f.activity(**kw)
    return json.loads(selectors.activity_json_ld(activity, "https://bieb.example/a")).get(
        "eventSchedule"
    )


def test_json_ld_schedule_says_what_the_rule_says_or_nothing():
    weekly = schedule_of(starts_at=local(2025, 3, 18, 19), rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4")
    second_tuesday = schedule_of(
        starts_at=local(2025, 3, 11, 14), rrule="FREQ=MONTHLY;BYDAY=2TU;COUNT=3"
    )
    on_the_first = schedule_of(
        starts_at=local(2025, 4, 1, 10), rrule="FREQ=MONTHLY;BYMONTHDAY=1;COUNT=3"
    )
    last_saturday = schedule_of(
        starts_at=local(2025, 3, 29, 10), rrule="FREQ=MONTHLY;BYDAY=-1SA;COUNT=3"
    )
    mixed = schedule_of(starts_at=local(2025, 3, 3, 10), rrule="FREQ=MONTHLY;BYDAY=1MO,3WE;COUNT=3")

    assert weekly["repeatFrequency"] == "P1W"
    assert weekly["byDay"] == ["https://schema.org/Tuesday", "https://schema.org/Thursday"]
    assert (weekly["startTime"], weekly["endTime"]) == ("19:00:00", "21:00:00")
    assert weekly["scheduleTimezone"] == "Europe/Amsterdam"
    assert second_tuesday["repeatFrequency"] == "P1M"
    assert second_tuesday["byDay"] == ["https://schema.org/Tuesday"]
    assert second_tuesday["byMonthWeek"] == [2]
    assert on_the_first["byMonthDay"] == [1]
    assert last_saturday is None  # byMonthWeek cannot say "the last"
    assert mixed is None


def test_json_ld_of_a_series_lists_every_session_even_without_a_schedule():
    activity = f.activity(starts_at=local(2025, 3, 29, 10), rrule="FREQ=MONTHLY;BYDAY=-1SA;COUNT=3")

    data = json.loads(selectors.activity_json_ld(activity, "https://bieb.example/a"))

    assert "eventSchedule" not in data
    assert [sub["startDate"] for sub in data["subEvent"]] == [
        "2025-03-29T10:00:00+01:00",
        "2025-04-26T10:00:00+02:00",
        "2025-05-31T10:00:00+02:00",
    ]
    assert data["startDate"] == "2025-03-29T10:00:00+01:00"
    assert data["endDate"] == "2025-05-31T12:00:00+02:00"
    assert all(sub["location"]["address"] for sub in data["subEvent"])


# --- the API ----------------------------------------------------------------------------------


def test_the_openapi_document_describes_the_programming_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    expected = {
        ("/api/v1/activities", "get"): ("activities_list", "200", "ActivityListOut"),
        ("/api/v1/activities/{activity_id}", "get"): ("activity_get", "200", "ActivityDetailOut"),
        ("/api/v1/activities/{activity_id}/registrations", "post"): (
            "activity_register",
            "201",
            "RegistrationOut",
        ),
        ("/api/v1/me/registrations", "get"): (
            "me_registrations_list",
            "200",
            "RegistrationListOut",
        ),
        ("/api/v1/me/registrations/{registration_id}", "delete"): (
            "me_registration_cancel",
            "204",
            None,
        ),
    }
    for (path, method), (operation_id, success, out) in expected.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"] and operation["description"]
        assert success in operation["responses"]
        if out:
            content = operation["responses"][success]["content"]["application/json"]
            assert content["schema"]["$ref"] == f"#/components/schemas/{out}"
            assert out in components
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")):
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut", (path, status)
        if method in ("post", "delete"):
            names = {p["name"] for p in operation["parameters"]}
            assert "Idempotency-Key" in names
            assert {"400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
            assert operation["security"]
        assert "422" in operation["responses"]  # every one reads a number from the request

    params = {p["name"]: p for p in paths["/api/v1/activities"]["get"]["parameters"]}
    date_schema = json.dumps(params["date_from"]["schema"])
    assert '"format": "date"' in date_schema
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["offset"]["schema"]["maximum"] == selectors.CANDIDATE_CAP
    assert "security" not in paths["/api/v1/activities"]["get"]
    registration = components["RegistrationOut"]["properties"]
    assert set(registration["status"]["enum"]) == {
        "unconfirmed",
        "confirmed",
        "waitlisted",
        "offered",
        "cancelled",
        "expired",
    }


def error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2025-02-30", "date_from"),
        ("date_to=morgen", "date_to"),
        ("age=3.5", "age"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        (f"offset={selectors.CANDIDATE_CAP + 1}", "offset"),
        ("radius_km=ver", "radius_km"),
    ],
)
def test_unreadable_filters_are_422_invalid_input_naming_the_field(client, query, field):
    error = error_body(client.get(f"/api/v1/activities?{query}"), 422)

    assert error["code"] == "invalid_input"
    (problem,) = error["details"]["fields"]
    assert (problem["field"], problem["in"]) == (field, "query")
    assert problem["message"]


def test_an_id_that_is_no_number_is_422_and_one_beyond_any_column_404(client):
    person = f.UserFactory(email_verified_at=NOW)
    headers = {"Authorization": f"Bearer {token_create(user=person)[1]}"}
    huge = 2**70

    shown = client.get(f"/api/v1/activities/{huge}")
    not_a_number = client.get("/api/v1/activities/lezing")
    registered = client.post(
        f"/api/v1/activities/{huge}/registrations", headers=headers, content_type="application/json"
    )
    cancelled = client.delete(f"/api/v1/me/registrations/{huge}", headers=headers)

    assert error_body(shown, 404)["code"] == "activity_not_found"
    assert error_body(not_a_number, 422)["details"]["fields"][0]["field"] == "activity_id"
    assert error_body(registered, 404)["code"] == "activity_not_found"
    assert error_body(cancelled, 404)["code"] == "registration_not_found"


def test_my_registrations_page_limits(client):
    person = f.UserFactory(email_verified_at=NOW)
    headers = {"Authorization": f"Bearer {token_create(user=person)[1]}"}

    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("offset=-1", "offset")):
        error = error_body(client.get(f"/api/v1/me/registrations?{query}", headers=headers), 422)
        assert error["details"]["fields"][0]["field"] == field
    assert client.get("/api/v1/me/registrations?limit=100", headers=headers).status_code == 200


def test_idempotency_keys_on_register_and_cancel(client):
    person = f.UserFactory(email_verified_at=NOW)
    secret = token_create(user=person)[1]
    first, second = f.activity(), f.activity()

    def send(method: str, url: str, key: str):
        headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": key}
        return client.generic(
            method, url, data="", content_type="application/json", headers=headers
        )

    one = send("POST", f"/api/v1/activities/{first.pk}/registrations", "aanmelden-1")
    two = send("POST", f"/api/v1/activities/{second.pk}/registrations", "aanmelden-2")
    reused = send("POST", f"/api/v1/activities/{second.pk}/registrations", "aanmelden-1")
    mine = one.json()["id"]
    cancel = send("DELETE", f"/api/v1/me/registrations/{mine}", "afmelden-1")
    replay = send("DELETE", f"/api/v1/me/registrations/{mine}", "afmelden-1")
    other = send("DELETE", f"/api/v1/me/registrations/{two.json()['id']}", "afmelden-1")
    blank = send("DELETE", f"/api/v1/me/registrations/{two.json()['id']}", " ")
    bad = send("POST", f"/api/v1/activities/{second.pk}/registrations", "sleutel\u00e9")

    assert (one.status_code, two.status_code) == (201, 201)
    assert error_body(reused, 422)["code"] == "idempotency_key_reused"
    assert (cancel.status_code, replay.status_code) == (204, 204)
    assert replay["Idempotent-Replayed"] == "true"
    assert error_body(other, 422)["code"] == "idempotency_key_reused"
    assert error_body(blank, 400)["code"] == "idempotency_key_invalid"
    assert error_body(bad, 400)["code"] == "idempotency_key_invalid"
    second_registration = person.activity_registrations.get(activity=second)
    assert second_registration.status == "confirmed"  # neither refusal cancelled it


def test_a_browser_session_write_without_the_csrf_token_is_refused(client):
    person = f.UserFactory(email_verified_at=NOW)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    activity = f.activity()

    response = browser.post(
        f"/api/v1/activities/{activity.pk}/registrations", content_type="application/json"
    )

    assert error_body(response, 403)["code"] == "csrf_failed"
    assert not person.activity_registrations.exists()
