"""The programmer's screens: who sees what, making, changing, publishing, duplicating and
cancelling activities through the forms, and what a bad form leaves behind (nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bieb.accounts.models import StaffRole
from bieb.accounts.tests.factories import staff_member
from bieb.catalog.models import Edition, Work
from bieb.core import clock
from bieb.core.models import AuditEvent
from bieb.programming import selectors, services
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Registration,
    RegistrationStatus,
)
from bieb.programming.tests import factories as f

pytestmark = pytest.mark.django_db
Role = StaffRole.Role


@pytest.fixture
def world():
    org_a = f.organisation(name="Bibliotheek Aa")
    org_b = f.organisation(name="Bibliotheek Bee")
    loc_a = f.location(organisation=org_a, name="Vestiging Centrum")
    loc_b = f.location(organisation=org_b, name="Vestiging Bee")
    return {
        "org_a": org_a,
        "org_b": org_b,
        "loc_a": loc_a,
        "loc_b": loc_b,
        "programmer": staff_member(Role.PROGRAMMER, org_a, first_name="Pim"),
        "manager_b": staff_member(Role.MANAGER, org_b),
        "desk": staff_member(Role.DESK, org_a),
    }


def resident(**kw):
    return f.UserFactory(email_verified_at=clock.now(), **kw)


def form_data(location, **changes) -> dict:
    day = clock.today() + dt.timedelta(days=7)
    data = {
        "kind": "event",
        "title": "Voorlezen voor peuters",
        "summary": "Prentenboeken en liedjes voor de allerkleinsten.",
        "description": "",
        "audience": "toddlers",
        "age_min": "0",
        "age_max": "4",
        "language_level": "",
        "theme": "voorlezen",
        "challenge": "literate",
        "programme": "boekstart",
        "location": str(location.pk),
        "room": "",
        "works": "",
        "date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "end_date": "",
        "repeat": "",
        "sessions": "",
        "rrule": "",
        "exdates": "",
        "capacity": "20",
        "max_group_size": "3",
        "price_kind": "free",
        "price": "",
        "credits": "0",
        "accessibility": "Rolstoeltoegankelijk.",
        "offer_hours": "24",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def activity_of(org, **kw):
    return f.activity(
        organisation=org, location=kw.pop("location", None) or f.location(organisation=org), **kw
    )


# --- access ------------------------------------------------------------------------------------


def test_programmer_of_a_gets_404_for_b_and_a_resident_403(client, world):
    theirs = activity_of(world["org_b"], title="Activiteit van B")
    registration = f.registration(activity=theirs)
    client.force_login(world["programmer"])
    for name, args in [
        ("programming:staff_activity", [theirs.pk]),
        ("programming:staff_activity_cancel", [theirs.pk]),
        ("programming:staff_door", [theirs.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name, args in [
        ("programming:staff_activity_publish", [theirs.pk]),
        ("programming:staff_activity_duplicate", [theirs.pk]),
        ("programming:staff_registration_cancel", [theirs.pk, registration.pk]),
    ]:
        assert client.post(reverse(name, args=args)).status_code == 404, name
    assert Activity.objects.count() == 1
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED

    client.force_login(resident())
    assert client.get(reverse("programming:staff_activities")).status_code == 403
    assert client.get(reverse("programming:staff_activity", args=[theirs.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("programming:staff_activities"))
    assert response.status_code == 302 and "/inloggen" in response["Location"]


def test_desk_staff_may_use_the_door_but_not_the_programmers_screens(client, world):
    ours = activity_of(world["org_a"])
    client.force_login(world["desk"])
    assert client.get(reverse("programming:staff_door", args=[ours.pk])).status_code == 200
    assert client.get(reverse("programming:staff_doors")).status_code == 200
    assert client.get(reverse("programming:staff_activity", args=[ours.pk])).status_code == 403
    assert client.get(reverse("programming:staff_activities")).status_code == 403


def test_list_shows_own_activities_with_seats_and_waitlist_in_fixed_queries(client, world):
    full = activity_of(world["org_a"], title="Vol", capacity=2, seats_taken=2)
    f.registration(activity=full, seats=2)
    f.registration(activity=full, status=RegistrationStatus.WAITLISTED)
    f.registration(activity=full, status=RegistrationStatus.WAITLISTED)
    activity_of(world["org_b"], title="Niet van ons")
    activity_of(
        world["org_a"],
        title="Al geweest",
        starts_at=clock.now() - dt.timedelta(days=3),
        duration=dt.timedelta(hours=2),
    )
    client.force_login(world["programmer"])
    page = client.get(reverse("programming:staff_activities")).content.decode()
    assert "Vol" in page and "2 van 2 plaatsen bezet" in page and "2 op de wachtlijst" in page
    assert "Niet van ons" not in page and "Al geweest" not in page
    past = client.get(reverse("programming:staff_activities") + "?wanneer=voorbij").content
    assert b"Al geweest" in past and b"Vol" not in past

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("programming:staff_activities"))
    for n in range(8):
        activity_of(world["org_a"], title=f"Extra {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("programming:staff_activities"))
    assert len(many) == len(few)


# --- making and publishing ----------------------------------------------------------------------


def test_create_with_every_field_then_publish_and_it_is_in_the_programme(client, world):
    org, loc = world["org_a"], world["loc_a"]
    room = f.room(location=loc, name="Kinderhoek", capacity=25)
    school = f.partner(organisation=org, name="Basisschool De Linde")
    other_partner = f.partner(organisation=world["org_b"], name="Partner van B")
    work = Work.objects.create(title="Jip en Janneke", author_name="Annie M.G. Schmidt", key="jip")
    isbn_work = Work.objects.create(title="Nijntje", author_name="Dick Bruna", key="nijntje")
    Edition.objects.create(work=isbn_work, title="Nijntje", isbn="9789056475550")
    day = clock.today() + dt.timedelta(days=7)
    client.force_login(world["programmer"])

    response = client.post(
        reverse("programming:staff_activity_new"),
        form_data(
            loc,
            kind="series",
            room=str(room.pk),
            partners=[str(school.pk)],
            works=f"{work.pk}, 978-90-5647-555-0",
            repeat="weekly",
            sessions="4",
            exdates=(day + dt.timedelta(days=14)).strftime("%d-%m-%Y"),
            price_kind="paid",
            price="12,50",
            pay_at_door="on",
            language_level="A2",
        ),
    )
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programming:staff_activity", args=[activity.pk])
    assert activity.status == ActivityStatus.DRAFT
    assert activity.organisation == org and activity.created_by == world["programmer"]
    assert activity.price_cents == 1250 and activity.pay_at_door
    assert activity.rrule == "FREQ=WEEKLY;COUNT=4"
    assert activity.exdates == [(day + dt.timedelta(days=14)).isoformat()]
    assert activity.starts_at == dt.datetime(
        day.year, day.month, day.day, 10, tzinfo=clock.AMSTERDAM
    )
    assert activity.ends_at - activity.starts_at == dt.timedelta(hours=1)
    assert (activity.age_min, activity.age_max, activity.language_level) == (0, 4, "A2")
    assert activity.room == room and list(activity.partners.all()) == [school]
    assert set(activity.works.all()) == {work, isbn_work}
    assert other_partner.name not in client.get(response["Location"]).content.decode()

    # the edit form shows it as it was typed
    page = client.get(response["Location"]).content.decode()
    assert 'value="12,50"' in page and "Nijntje (" in page

    response = client.post(reverse("programming:staff_activity_publish", args=[activity.pk]))
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    assert activity.room_bookings.filter(status="approved").count() == 3  # 4 sessions, 1 skipped
    titles = [entry.title for entry in selectors.programme(organisation=org).entries]
    assert "Voorlezen voor peuters" in titles
    assert AuditEvent.objects.filter(action="programming.activity_publish").exists()


def test_a_programmer_with_two_organisations_chooses_one_first(client, world):
    both = staff_member(Role.PROGRAMMER, world["org_a"])
    StaffRole.objects.create(user=both, organisation=world["org_b"], role=Role.PROGRAMMER)
    client.force_login(both)
    page = client.get(reverse("programming:staff_activity_new")).content.decode()
    assert "Bibliotheek Aa" in page and "Bibliotheek Bee" in page
    url = reverse("programming:staff_activity_new") + f"?organisatie={world['org_b'].pk}"
    page = client.get(url).content.decode()
    assert "Vestiging Bee" in page and "Vestiging Centrum" not in page
    # the other organisation's location is not a choice for B
    response = client.post(url, form_data(world["loc_a"]))
    assert response.status_code == 400 and not Activity.objects.exists()
    response = client.post(url, form_data(world["loc_b"]))
    assert Activity.objects.get().organisation == world["org_b"]


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"end_time": "09:00"}, "end_time", "moet eindigen na het begin"),
        ({"rrule": "FREQ=WEEKLY"}, "rrule", "Een herhaling moet eindigen"),
        ({"rrule": "FREQ=WEEKLY;COUNT"}, "rrule", "is niet geldig"),
        ({"rrule": "FREQ=SOMETIMES;COUNT=3"}, "rrule", "is niet geldig"),
        ({"price_kind": "paid", "price": "12,5x"}, "price", "Vul een bedrag in euro"),
        ({"price_kind": "paid", "price": "12,505"}, "price", "hoogstens twee cijfers"),
        ({"price_kind": "paid", "price": ""}, "price", "Geef een prijs"),
        ({"repeat": "weekly", "sessions": ""}, "sessions", "Hoeveel bijeenkomsten"),
        (
            {"repeat": "weekly", "sessions": "3", "rrule": "FREQ=DAILY;COUNT=2"},
            "rrule",
            "niet allebei",
        ),
        ({"exdates": "31-02-2025"}, "exdates", "geen datum"),
        ({"works": "978-0-00-000000-0"}, "works", "geen werknummer en geen geldig ISBN"),
        ({"works": "999999"}, "works", "Geen titel in de catalogus"),
        ({"age_min": "12", "age_max": "4"}, "age_min", "hoger dan"),
        ({"title": "  "}, "title", "verplicht"),
    ],
)
def test_bad_input_gives_a_message_at_the_field_and_saves_nothing(
    client, world, changes, field_id, message
):
    client.force_login(world["programmer"])
    response = client.post(
        reverse("programming:staff_activity_new"), form_data(world["loc_a"], **changes)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'id="{field_id}-error"' in page
    assert not Activity.objects.exists()
    assert not AuditEvent.objects.filter(action="programming.activity_create").exists()


def test_a_never_ending_rule_through_the_simple_controls_cannot_happen_but_too_many_is_refused(
    client, world
):
    client.force_login(world["programmer"])
    response = client.post(
        reverse("programming:staff_activity_new"),
        form_data(world["loc_a"], repeat="weekly", sessions="101"),
    )
    assert response.status_code == 400 and not Activity.objects.exists()


def test_edit_saves_and_capacity_below_seats_taken_is_refused_with_nothing_changed(client, world):
    activity = activity_of(world["org_a"], location=world["loc_a"], capacity=10, title="Oud")
    for _n in range(3):
        services.register(activity=activity, person=resident())
    activity.refresh_from_db()
    assert activity.seats_taken == 3
    client.force_login(world["programmer"])
    url = reverse("programming:staff_activity", args=[activity.pk])
    page = client.get(url).content.decode()
    assert 'value="Oud"' in page

    data = form_data(world["loc_a"], title="Nieuw", capacity="2", audience="adults")
    start = activity.starts_at.astimezone(clock.AMSTERDAM)
    data.update(date=start.date().isoformat(), start_time="19:00", end_time="21:00")
    response = client.post(url, data)
    assert response.status_code == 409
    assert "Er zijn al 3 plaatsen bezet" in response.content.decode()
    assert 'id="capacity-error"' in response.content.decode()
    activity.refresh_from_db()
    assert (activity.title, activity.capacity) == ("Oud", 10)

    data["capacity"] = "12"
    response = client.post(url, data)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.title, activity.capacity, activity.seats_taken) == ("Nieuw", 12, 3)


def test_duplicate_makes_a_draft_a_week_later_and_opens_it(client, world):
    past = activity_of(
        world["org_a"],
        title="Taalcafé",
        starts_at=clock.now() - dt.timedelta(days=30),
        duration=dt.timedelta(hours=2),
    )
    client.force_login(world["programmer"])
    response = client.post(reverse("programming:staff_activity_duplicate", args=[past.pk]))
    copy = Activity.objects.exclude(pk=past.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programming:staff_activity", args=[copy.pk])
    assert copy.status == ActivityStatus.DRAFT and copy.title == "Taalcafé"
    assert copy.duplicated_from == past and copy.starts_at > clock.now()
    assert (copy.starts_at - past.starts_at) % dt.timedelta(weeks=1) == dt.timedelta(0)


def test_cancel_asks_a_reason_then_tells_everyone_registered(
    client, world, django_capture_on_commit_callbacks
):
    activity = activity_of(world["org_a"], capacity=2, title="Lezing")
    people = [resident(email=f"deelnemer{n}@example.nl") for n in range(3)]
    for person in people:
        services.register(activity=activity, person=person)
    mail.outbox.clear()
    client.force_login(world["programmer"])
    url = reverse("programming:staff_activity_cancel", args=[activity.pk])
    page = client.get(url).content.decode()
    assert "3 aanmeldingen vervallen" in page

    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "De spreker is ziek."})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED and activity.seats_taken == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert all("De spreker is ziek." in m.body for m in mail.outbox)
    assert not Registration.objects.filter(activity=activity).exclude(status="cancelled").exists()
    # a cancelled activity is no longer a form
    page = client.get(reverse("programming:staff_activity", args=[activity.pk])).content.decode()
    assert "Wijzigingen opslaan" not in page and "De spreker is ziek." in page


def test_staff_cancel_one_registration_and_the_first_waiting_is_offered_the_seat(client, world):
    activity = activity_of(world["org_a"], capacity=1)
    first, second = resident(), resident()
    seated = services.register(activity=activity, person=first)
    waiting = services.register(activity=activity, person=second)
    assert waiting.status == RegistrationStatus.WAITLISTED
    client.force_login(world["programmer"])
    url = reverse("programming:staff_registration_cancel", args=[activity.pk, seated.pk])
    # the button in the table asks first; nothing changes yet
    asked = client.post(url)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "afmelden?" in page and 'name="zeker" value="ja"' in page
    seated.refresh_from_db()
    assert seated.status == RegistrationStatus.CONFIRMED

    response = client.post(url, {"zeker": "ja"})
    assert response.status_code == 302
    seated.refresh_from_db()
    waiting.refresh_from_db()
    assert seated.status == RegistrationStatus.CANCELLED
    assert waiting.status == RegistrationStatus.OFFERED
    # a registration of another activity is not found through this one
    other = f.registration(activity=activity_of(world["org_a"]))
    response = client.post(
        reverse("programming:staff_registration_cancel", args=[activity.pk, other.pk]),
        {"zeker": "ja"},
    )
    assert response.status_code == 404
    # once more for the one already cancelled: said, not an error
    again = client.post(url, {"zeker": "ja"}, follow=True)
    assert "is al afgemeld" in again.content.decode()


def test_detail_shows_registrations_attendance_and_no_shows_after_sessions_end(client, world):
    activity = activity_of(
        world["org_a"],
        title="Cursus",
        rrule="FREQ=WEEKLY;COUNT=3",
        starts_at=f.tomorrow_at(19),
    )
    came = f.registration(activity=activity, person=f.UserFactory(first_name="Ans"), seats=2)
    f.registration(activity=activity, person=f.UserFactory(first_name="Bert"))
    f.registration(
        activity=activity,
        person=f.UserFactory(first_name="Cor"),
        status=RegistrationStatus.WAITLISTED,
    )
    first = activity.starts_at
    Attendance.objects.create(registration=came, session_start=first, method="scan", present=2)
    client.force_login(world["programmer"])
    url = reverse("programming:staff_activity", args=[activity.pk])
    with clock.frozen(first + dt.timedelta(days=1)):
        page = client.get(url).content.decode()
    assert "Ans" in page and "Bert" in page and "Cor" in page
    assert "1 aanmelding, 2 pers." in page
    assert "Niet gekomen, over alle afgelopen bijeenkomsten: 1." in page
    assert "1 van 1" in page  # Ans: present at 1 of 1 ended session
    assert "0 van 1" in page  # Bert


def test_the_edit_form_gives_back_what_it_shows(client, world):
    """Saving the edit form unchanged changes nothing: the simple recurrence, the exception
    dates, the price in euros and an advanced rule all come back as they were."""
    from bieb.programming.forms_staff import ActivityForm

    start = f.tomorrow_at(19, 30)
    skipped = (start + dt.timedelta(weeks=1)).date().isoformat()
    simple = activity_of(
        world["org_a"],
        location=world["loc_a"],
        rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=4",
        exdates=[skipped],
        starts_at=start,
        price_kind="paid",
        price_cents=1250,
    )
    advanced = activity_of(
        world["org_a"], location=world["loc_a"], rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"
    )
    client.force_login(world["programmer"])
    for activity in (simple, advanced):
        form = ActivityForm(organisation=world["org_a"], activity=activity)
        data = {}
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, dt.time):
                value = value.strftime("%H:%M")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, bool):
                if not value:
                    continue
                value = "on"
            data[name] = "" if value is None else value
        before = Activity.objects.get(pk=activity.pk)
        response = client.post(reverse("programming:staff_activity", args=[activity.pk]), data)
        assert response.status_code == 302, response.content.decode()[-3000:]
        after = Activity.objects.get(pk=activity.pk)
        for name in ("rrule", "exdates", "starts_at", "ends_at", "price_cents", "last_ends_at"):
            assert getattr(after, name) == getattr(before, name), name
    assert (
        'value="12,50"'
        in client.get(reverse("programming:staff_activity", args=[simple.pk])).content.decode()
    )


# --- the access matrix of these screens ----------------------------------------------------------

PROGRAM_OWN = {
    "anonymous": 302,
    "resident": 403,
    "desk": 403,
    "collection": 403,
    "programmer": 200,
    "manager": 200,
    "network_admin": 200,
}
PROGRAM_OTHER = {**PROGRAM_OWN, "programmer": 404, "manager": 404}
DOOR_OWN = {**PROGRAM_OWN, "desk": 200}
DOOR_OTHER = {**DOOR_OWN, "desk": 404, "programmer": 404, "manager": 404}
POST_ONLY = {**PROGRAM_OWN, "programmer": 405, "manager": 405, "network_admin": 405}
SIGNED_IN = {role: 200 for role in PROGRAM_OWN} | {"anonymous": 302}


def test_who_gets_which_page(client, world):
    ours = activity_of(world["org_a"])
    theirs = activity_of(world["org_b"])
    public_room = f.room(location=world["loc_a"])
    staff_room = f.room(location=world["loc_a"], bookable_by_public=False)
    users = {
        "anonymous": None,
        "resident": resident(),
        "desk": world["desk"],
        "collection": staff_member(Role.COLLECTION, world["org_a"]),
        "programmer": world["programmer"],
        "manager": staff_member(Role.MANAGER, world["org_a"]),
        "network_admin": staff_member(Role.NETWORK_ADMIN),
    }
    base = "/medewerkers/activiteiten"
    rows = [
        ("/medewerkers/activiteiten", PROGRAM_OWN),
        ("/medewerkers/activiteiten/nieuw", PROGRAM_OWN),
        (f"{base}/{ours.pk}", PROGRAM_OWN),
        (f"{base}/{theirs.pk}", PROGRAM_OTHER),
        (f"{base}/{ours.pk}/annuleren", PROGRAM_OWN),
        (f"{base}/{theirs.pk}/annuleren", PROGRAM_OTHER),
        (f"{base}/{ours.pk}/deur", DOOR_OWN),
        (f"{base}/{theirs.pk}/deur", DOOR_OTHER),
        ("/medewerkers/deur", DOOR_OWN),
        (f"{base}/{ours.pk}/publiceren", POST_ONLY),
        (f"{base}/{ours.pk}/kopieren", POST_ONLY),
        (f"{base}/999999/aanmeldingen/999999/afmelden", POST_ONLY),
        ("/medewerkers/zalen", PROGRAM_OWN),
        ("/medewerkers/zalen/aanvragen/999999", POST_ONLY),
        ("/medewerkers/partners", PROGRAM_OWN),
        ("/zalen", dict.fromkeys(PROGRAM_OWN, 200)),
        (f"/zalen/{public_room.pk}/aanvragen", SIGNED_IN),
        (
            f"/zalen/{staff_room.pk}/aanvragen",
            {**SIGNED_IN, "resident": 404, "desk": 200, "collection": 200},
        ),
        ("/mijn/zaalaanvragen", SIGNED_IN),
        (
            "/mijn/zaalaanvragen/999999/annuleren",
            {**SIGNED_IN} | dict.fromkeys(users, 405) | {"anonymous": 302},
        ),
    ]
    wrong = []
    for role, user in users.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for path, expected in rows:
            status = client.get(path).status_code
            if status != expected[role]:
                wrong.append((role, path, status, expected[role]))
    assert not wrong


def test_the_activity_page_says_the_repeat_in_words_and_the_dates_left_out(client, world):
    series = activity_of(
        world["org_a"],
        title="Taalcafé",
        starts_at=f.tomorrow_at(19),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=[(clock.today() + dt.timedelta(days=8)).isoformat()],
    )
    client.force_login(world["programmer"])
    page = client.get(reverse("programming:staff_activity", args=[series.pk])).content.decode()
    assert "elke week, 4 keer" in page and "FREQ=WEEKLY" not in page.split("Wijzigen")[0]
    assert "zonder:" in page
    # Dutch short months in the table (dec, not Dec)
    month = f.tomorrow_at(19).astimezone(clock.AMSTERDAM)
    from django.utils.formats import date_format

    assert date_format(month, "j b Y") in page


def test_cancelling_without_registrations_says_so(
    client, world, django_capture_on_commit_callbacks
):
    empty = activity_of(world["org_a"], title="Lezing")
    client.force_login(world["programmer"])
    url = reverse("programming:staff_activity_cancel", args=[empty.pk])
    assert "Er is nog niemand aangemeld." in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"reason": "De zaal lekt."}, follow=True)
    assert "Geannuleerd. Er was nog niemand aangemeld." in done.content.decode()


def test_a_pick_up_locker_is_no_place_for_an_activity(client, world):
    from bieb.network.models import LocationKind

    f.location(organisation=world["org_a"], name="Afhaalkluis Station", kind=LocationKind.LOCKER)
    client.force_login(world["programmer"])
    page = client.get(reverse("programming:staff_activity_new")).content.decode()
    assert "Vestiging Centrum" in page and "Afhaalkluis Station" not in page
