"""Demo community: offers and requests of demo residents near the demo library, a
conversation with an agreed exchange and a handover waiting at the desk, a finished exchange
with thanks, an idea for an activity to review, a report in the moderation queue, a word
filter, and the demo library's things lendable with buffer days and a deposit, one booked.
Idempotent: nothing is added when the demo residents have posts already. The bench profile adds
none. Mail is not sent while seeding.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from django.db import transaction
from django.test.utils import override_settings

from bieb.accounts.models import User
from bieb.core import clock
from bieb.core.errors import DomainError

# title, type, kind, category, terms, body
DEMO_POSTS = [
    (
        "Boormachine te leen",
        "offer",
        "thing",
        "tools",
        "lend",
        "Een klopboormachine met boortjes. Ophalen en terugbrengen via de bibliotheek.",
    ),
    (
        "Wie helpt mij met mijn smartphone?",
        "request",
        "skill",
        "digital",
        "help",
        "Ik wil leren videobellen met mijn kleinkinderen. Wie legt het rustig uit?",
    ),
    (
        "Kinderkleding maat 98-104",
        "offer",
        "thing",
        "children",
        "give",
        "Een tas met broeken en truien, netjes en gewassen.",
    ),
    (
        "Hulp bij de belastingaangifte",
        "offer",
        "knowledge",
        "forms",
        "help",
        "Oud-belastingadviseur helpt graag bij de aangifte, in de bibliotheek.",
    ),
    (
        "Ruilen: bordspellen",
        "offer",
        "thing",
        "games",
        "swap",
        "Kolonisten en Carcassonne, compleet. Ruilen tegen een ander spel.",
    ),
    (
        "Voorlezen aan peuters",
        "offer",
        "time",
        "language",
        "help",
        "Ik lees graag voor op woensdagochtend in de bibliotheek.",
    ),
    (
        "Fietsband plakken",
        "request",
        "skill",
        "repair",
        "help",
        "Wie leert mij een band plakken? Ik trakteer op koffie.",
    ),
    (
        "Idee: een repair café in de bibliotheek",
        "offer",
        "idea",
        "repair",
        "help",
        "Eén zaterdag per maand samen spullen repareren, met vrijwilligers uit de wijk.",
    ),
]


def seed_community(profile: str, seed: int) -> None:
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    if profile == "bench":
        return
    from bieb.accounts.seeding import demo_library
    from bieb.community.models import Post

    library = demo_library()
    if library is None:
        return
    residents = list(
        User.objects.filter(
            email__endswith="@inwoner.demo.bieb.nl",
            email_verified_at__isnull=False,
            is_active=True,
            home_organisation=library,
        )
        .exclude(postcode="")
        .order_by("pk")[:40]
    )
    residents = [p for p in residents if not p.needs_guardian_consent]
    member = User.objects.filter(email="lid@demo.bieb.nl").first()
    if len(residents) < 6 or Post.objects.filter(author__in=residents).exists():
        return
    rng = random.Random(f"community:{seed}")  # noqa: S311 - repeatable demo data
    rng.shuffle(residents)
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        transaction.atomic(),
    ):
        posts = _posts(residents)
        _exchanges(posts, residents, member, library)
        _moderation(posts, residents, library)
        _things(library, member)


def _posts(residents: list[User]) -> list:
    from bieb.community import posts as post_services

    made = []
    for index, (title, type_, kind, category, terms, body) in enumerate(DEMO_POSTS):
        made.append(
            post_services.post_create(
                person=residents[index % len(residents)],
                type=type_,
                kind=kind,
                category=category,
                title=title,
                body=body,
                terms=terms,
                availability="Doordeweeks na 17.00 uur",
            )
        )
    return made


def _exchanges(posts: list, residents: list[User], member, library) -> None:
    from bieb.community import exchanges, handovers, messages

    drill, phone_help = posts[0], posts[1]
    borrower = member if member is not None and member.postcode else residents[-1]
    talk = messages.respond(
        post=drill, person=borrower, body="Mag ik hem volgend weekend lenen?"
    ).conversation
    messages.message_send(
        conversation=talk, person=drill.author, body="Ja hoor! Ik breng hem naar de bibliotheek."
    )
    agreed = exchanges.exchange_agree(conversation=talk, person=drill.author)
    location = library.locations.filter(is_active=True, kind="branch").order_by("pk").first()
    if location is not None:
        handover = handovers.handover_create(
            exchange=agreed, person=drill.author, location=location
        ).handover
        desk = User.objects.filter(email="balie@demo.bieb.nl").first()
        if desk is not None:
            handovers.handover_drop(handover=handover, actor=desk)
    helper = residents[-2]
    chat = messages.respond(post=phone_help, person=helper, body="Ik help je graag.").conversation
    done = exchanges.exchange_agree(conversation=chat, person=phone_help.author)
    exchanges.exchange_done(exchange=done, person=phone_help.author)
    exchanges.thank(exchange=done, person=phone_help.author, text="Heel geduldig uitgelegd!")


def _moderation(posts: list, residents: list[User], library) -> None:
    from bieb.community import moderation

    moderation.report_create(
        reporter=residents[-3], reason="spam", note="Lijkt op reclame.", post=posts[4]
    )
    manager = User.objects.filter(email="directie@demo.bieb.nl").first()
    if manager is not None:
        moderation.word_filter_add(actor=manager, organisation=library, phrase="gratis geld")


def _things(library, member) -> None:
    from bieb.catalog.models import Format, Item, ItemStatus
    from bieb.community import things
    from bieb.community.models import ThingSettings

    manager = User.objects.filter(email="directie@demo.bieb.nl").first()
    items = list(
        Item.objects.filter(
            organisation=library, edition__format=Format.THING, status=ItemStatus.AVAILABLE
        ).order_by("pk")
    )
    for index, item in enumerate(items):
        if ThingSettings.objects.filter(item=item).exists():
            continue
        things.thing_settings_set(
            actor=manager,
            item=item,
            buffer_days=1,
            deposit_cents=2_500 if index == 0 else 0,
            max_days=7,
            instructions="Controleer bij het ophalen of alles compleet is.",
        )
    if not items:
        return
    from bieb.subscriptions.selectors import entitlements_for

    borrower = next(
        (
            person
            for person in [
                member,
                *User.objects.filter(home_organisation=library).order_by("pk")[:200],
            ]
            if person is not None and person.is_active and entitlements_for(person).things_at_once
        ),
        None,
    )
    if borrower is not None:
        start = clock.today() + dt.timedelta(days=3)
        with contextlib.suppress(DomainError):  # not lendable to this person today: no booking
            things.thing_book(
                person=borrower,
                item=items[0],
                first_day=start,
                last_day=start + dt.timedelta(days=2),
            )
