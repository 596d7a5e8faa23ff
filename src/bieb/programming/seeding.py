"""Demo programme: partners, rooms and activities of the demo library (and a few elsewhere),
with registrations, a waitlist, a cancelled activity, a past course with attendance (for the
figures) and room bookings. Dates are relative to the day the demo is seeded. Idempotent:
nothing is added when the demo library has activities already. The bench profile adds none.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.db import transaction
from django.test.utils import override_settings

from bieb.accounts.models import User
from bieb.core import clock
from bieb.programming import recurrence, services
from bieb.programming.models import (
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    Partner,
    PartnerKind,
    Registration,
    RegistrationStatus,
    Room,
    RoomBooking,
)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.AMSTERDAM)


def _next_weekday(today: dt.date, weekday: int, weeks: int = 0) -> dt.date:
    days = (weekday - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=days + 7 * weeks)


# title, kind, audience, ages, challenge, programme, weekday, hour, hours, rrule, capacity,
# group, price kind, cents, credits, at door, partner kind, summary, accessibility
DEMO_ACTIVITIES = [
    (
        "Voorlezen voor peuters",
        "series",
        "toddlers",
        (0, 4),
        "literate",
        "boekstart",
        2,
        10,
        1,
        "FREQ=WEEKLY;COUNT=8",
        15,
        3,
        "free",
        0,
        0,
        False,
        "childcare",
        "Elke woensdagochtend lezen we samen prentenboeken voor, met liedjes en een knutselwerkje.",
        "Ruimte voor kinderwagens; de zaal is gelijkvloers.",
    ),
    (
        "Klik & Tik: de basis",
        "course",
        "seniors",
        (None, None),
        "information_society",
        "klik_en_tik",
        1,
        14,
        2,
        "FREQ=WEEKLY;COUNT=4",
        8,
        1,
        "credits",
        500,
        1,
        False,
        "welfare",
        "In vier middagen leer je werken met een computer of tablet: aanzetten, typen, internet.",
        "Er zijn laptops met grote toetsen; neem gerust een eigen tablet mee.",
    ),
    (
        "Digisterker: DigiD en de overheid",
        "course",
        "adults",
        (None, None),
        "information_society",
        "digisterker",
        3,
        10,
        2,
        "FREQ=WEEKLY;COUNT=3",
        10,
        1,
        "free",
        0,
        0,
        False,
        "municipality",
        "Leer in drie lessen inloggen met DigiD en je zaken met de overheid online regelen.",
        "",
    ),
    (
        "Spreekuur Informatiepunt Digitale Overheid",
        "consultation",
        "everyone",
        (None, None),
        "information_society",
        "ido",
        4,
        13,
        3,
        "FREQ=WEEKLY;COUNT=12",
        0,
        1,
        "free",
        0,
        0,
        False,
        "welfare",
        "Loop binnen met je vragen over toeslagen, belastingen of DigiD. Aanmelden hoeft niet.",
        "Rolstoeltoegankelijk; een ringleiding is aanwezig.",
    ),
    (
        "Taalcafé: Nederlands oefenen",
        "series",
        "adults",
        (None, None),
        "literate",
        "taalhuis",
        0,
        19,
        2,
        "FREQ=WEEKLY;COUNT=10",
        20,
        1,
        "free",
        0,
        0,
        False,
        "welfare",
        "Praat in een kleine groep Nederlands over het nieuws en het dagelijks leven.",
        "",
    ),
    (
        "Debat: de stad van morgen",
        "event",
        "adults",
        (16, None),
        "lifelong",
        "debat",
        3,
        20,
        2,
        "",
        80,
        4,
        "paid",
        750,
        0,
        True,
        "culture",
        "Bewoners, raadsleden en experts praten over wonen, groen en ontmoeten in de wijk.",
        "Het podium is bereikbaar met een lift; er is tolk NGT op aanvraag.",
    ),
    (
        "Schrijfworkshop voor tieners",
        "event",
        "teens",
        (12, 17),
        "literate",
        "leesbevordering",
        5,
        13,
        3,
        "",
        3,
        1,
        "free",
        0,
        0,
        False,
        "school",
        "Schrijf je eigen kort verhaal met een jeugdboekenschrijver.",
        "",
    ),
    (
        "Klassenbezoek: de Bibliotheek op school",
        "school",
        "primary",
        (8, 10),
        "literate",
        "dbos",
        1,
        9,
        2,
        "",
        60,
        30,
        "free",
        0,
        0,
        False,
        "school",
        "Een klas maakt kennis met de bibliotheek: zoeken, kiezen en lenen.",
        "",
    ),
]


def seed_programming(profile: str, seed: int) -> None:
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    if profile == "bench":
        return
    from bieb.accounts.seeding import demo_library

    library = demo_library()
    if library is None or Activity.objects.filter(organisation=library).exists():
        return
    locations = list(library.locations.filter(is_active=True).order_by("pk")[:2])
    if not locations:
        return
    rng = random.Random(f"programming:{seed}")  # noqa: S311 - repeatable demo data
    programmer = User.objects.filter(email="programmeur@demo.bieb.nl").first()
    today = clock.today()
    # the demo's registrations send no e-mail (nobody reads the demo residents' mail)
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        transaction.atomic(),
    ):
        partners = {
            kind: Partner.objects.get_or_create(
                organisation=library, name=name, defaults={"kind": kind}
            )[0]
            for kind, name in (
                (PartnerKind.CHILDCARE, "Kinderopvang De Boomhut"),
                (PartnerKind.WELFARE, "Welzijn in de Wijk"),
                (PartnerKind.MUNICIPALITY, "Gemeente, team Dienstverlening"),
                (PartnerKind.CULTURE, "Stadstheater"),
                (PartnerKind.SCHOOL, "Basisschool De Regenboog"),
            )
        }
        hall, _ = Room.objects.get_or_create(
            location=locations[0],
            name="Leeszaal",
            defaults={"capacity": 40, "facilities": "beamer, ringleiding, koffie en thee"},
        )
        stage, _ = Room.objects.get_or_create(
            location=locations[0],
            name="Podium",
            defaults={"capacity": 120, "is_stage": True, "facilities": "geluid, licht, vleugel"},
        )
        studio = Room.objects.get_or_create(
            location=locations[-1],
            name="Studio",
            defaults={
                "capacity": 12,
                "facilities": "laptops, printer",
                "bookable_by_public": False,
            },
        )[0]
        made = []
        for index, row in enumerate(DEMO_ACTIVITIES):
            (
                title,
                kind,
                audience,
                ages,
                challenge,
                programme,
                weekday,
                hour,
                hours,
                rrule,
                capacity,
                group,
                price_kind,
                cents,
                credits,
                at_door,
                partner_kind,
                summary,
                accessibility,
            ) = row
            day = _next_weekday(today, weekday, weeks=index % 2)
            room = {"Debat: de stad van morgen": stage, "Klik & Tik: de basis": studio}.get(
                title, hall if index in (0, 4) else None
            )
            data = services.ActivityInput(
                kind=kind,
                title=title,
                summary=summary,
                description=summary,
                audience=audience,
                age_min=ages[0],
                age_max=ages[1],
                challenge=challenge,
                programme=programme,
                location_id=(room.location_id if room else locations[index % len(locations)].pk),
                room_id=room.pk if room else None,
                starts_at=_at(day, hour),
                ends_at=_at(day, hour + hours),
                rrule=rrule,
                capacity=capacity,
                max_group_size=group,
                price_kind=price_kind,
                price_cents=cents,
                credits=credits,
                pay_at_door=at_door,
                accessibility=accessibility,
                partner_ids=[partners[partner_kind].pk],
            )
            activity = services.activity_create(organisation=library, data=data, actor=programmer)
            services.activity_publish(activity=activity, actor=programmer)
            made.append(activity)
        _registrations(made, rng)
        _past_course(library, locations[0], partners[PartnerKind.WELFARE], programmer, today, rng)
        _cancelled(library, locations[-1], programmer, today)
        _bookings(hall, stage, today)
        _elsewhere(library, today, programmer)


def _residents(rng: random.Random, n: int) -> list[User]:
    people = list(
        User.objects.filter(
            email__endswith="@inwoner.demo.bieb.nl", email_verified_at__isnull=False, is_active=True
        ).order_by("pk")[:200]
    )
    rng.shuffle(people)
    return [p for p in people if not p.needs_guardian_consent][:n]


def _registrations(activities: list[Activity], rng: random.Random) -> None:
    """Residents register through the services; the tiny teen workshop fills up and gets a
    waitlist; the demo resident is registered for the toddlers' series with two seats."""
    member = User.objects.filter(email="lid@demo.bieb.nl").first()
    people = _residents(rng, 40)
    by_title = {a.title: a for a in activities}
    for title, count in (
        ("Voorlezen voor peuters", 6),
        ("Digisterker: DigiD en de overheid", 7),
        ("Taalcafé: Nederlands oefenen", 12),
        ("Schrijfworkshop voor tieners", 5),
    ):
        activity = by_title[title]
        for person in people[:count]:
            services.register(activity=activity, person=person)
        people = people[count:] + people[:count]
    if member is not None:
        services.register(activity=by_title["Voorlezen voor peuters"], person=member, seats=2)
        services.register(
            activity=by_title["Debat: de stad van morgen"], person=member, pay_at_door=True
        )
    services.register(
        activity=by_title["Debat: de stad van morgen"],
        email="gast@example.nl",
        name="Gast van de bibliotheek",
    )


def _past_course(library, location, partner, programmer, today, rng) -> None:
    """A finished course with registrations and check-ins: the figures have something to show."""
    start = _at(today - dt.timedelta(days=35), 10)
    sessions = recurrence.sessions_of(
        starts_at=start, ends_at=start + dt.timedelta(hours=2), rrule="FREQ=WEEKLY;COUNT=4"
    )
    course = Activity.objects.create(
        organisation=library,
        location=location,
        kind="course",
        title="Digisterker (najaar)",
        slug=f"digisterker-najaar-{secrets.token_hex(3)}",
        summary="Een afgeronde Digisterker-cursus.",
        audience="adults",
        challenge="information_society",
        programme="digisterker",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=4",
        last_ends_at=sessions[-1].ends_at,
        capacity=14,
        seats_taken=12,
        status=ActivityStatus.PUBLISHED,
        published_at=start - dt.timedelta(days=30),
        created_by=programmer,
    )
    course.partners.set([partner])
    for person in _residents(rng, 12):
        registration = Registration.objects.create(
            activity=course,
            person=person,
            name=person.get_full_name(),
            seats=1,
            status=RegistrationStatus.CONFIRMED,
            token=secrets.token_urlsafe(32),
            created_at=start - dt.timedelta(days=10),
            confirmed_at=start - dt.timedelta(days=10),
            birth_year=person.birth_date.year if person.birth_date else None,
        )
        for session in sessions:
            if rng.random() < 0.8:
                Attendance.objects.create(
                    registration=registration,
                    session_start=session.starts_at,
                    checked_in_at=session.starts_at,
                    method=AttendanceMethod.LIST,
                    checked_in_by=programmer,
                )


def _cancelled(library, location, programmer, today) -> None:
    day = today + dt.timedelta(days=10)
    data = services.ActivityInput(
        kind="event",
        title="Lezing: vogels in de stad",
        summary="Een lezing over vogels die in de stad wonen.",
        audience="everyone",
        challenge="lifelong",
        location_id=location.pk,
        starts_at=_at(day, 19, 30),
        ends_at=_at(day, 21),
        capacity=40,
    )
    lecture = services.activity_create(organisation=library, data=data, actor=programmer)
    services.activity_publish(activity=lecture, actor=programmer)
    services.activity_cancel(
        activity=lecture,
        reason="De spreker is helaas ziek; we plannen een nieuwe datum.",
        actor=programmer,
    )


def _bookings(hall: Room, stage: Room, today: dt.date) -> None:
    resident = User.objects.filter(email="lid@demo.bieb.nl").first()
    day = _next_weekday(today, 5, weeks=1)
    RoomBooking.objects.create(
        room=hall,
        requested_by=resident,
        title="Repair Café",
        description="Buurtbewoners repareren samen kapotte spullen.",
        is_public=True,
        expected_people=25,
        starts_at=_at(day, 10),
        ends_at=_at(day, 13),
        status=RoomBooking.Status.APPROVED,
        decided_at=clock.now(),
    )
    RoomBooking.objects.create(
        room=stage,
        requested_by=resident,
        title="Optreden van het buurtkoor",
        is_public=True,
        expected_people=60,
        starts_at=_at(day, 15),
        ends_at=_at(day, 17),
    )


def _elsewhere(library, today, programmer) -> None:
    """A few activities at other libraries, for the national programme and its filters."""
    from bieb.network.models import Location, Organisation

    others = list(Organisation.objects.exclude(pk=library.pk).order_by("slug")[:4])
    titles = [
        ("Voorleesontbijt", "toddlers", "literate", "boekstart"),
        ("Hulp bij je smartphone", "seniors", "information_society", "klik_en_tik"),
        ("Filmavond met nagesprek", "adults", "lifelong", ""),
        ("Gamen in de bibliotheek", "teens", "lifelong", ""),
    ]
    for index, organisation in enumerate(others):
        location = (
            Location.objects.filter(organisation=organisation, is_active=True)
            .order_by("pk")
            .first()
        )
        if location is None:
            continue
        title, audience, challenge, programme = titles[index % len(titles)]
        day = today + dt.timedelta(days=3 + index * 2)
        data = services.ActivityInput(
            kind="event",
            title=title,
            summary=f"{title} in {location.city}.",
            audience=audience,
            challenge=challenge,
            programme=programme,
            location_id=location.pk,
            starts_at=_at(day, 15),
            ends_at=_at(day, 17),
            capacity=25,
        )
        activity = services.activity_create(organisation=organisation, data=data, actor=None)
        services.activity_publish(activity=activity, actor=None)
