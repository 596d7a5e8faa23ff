"""Demo and bench people. Idempotent (a second run adds nothing) and deterministic per seed.

``demo``: fixed log-ins for every role at "the demo library" (the first organisation by slug)
plus a few hundred residents in households, with youth members and consenting guardians.
``bench``: 1,000,000 residents spread over the organisations by the population of the
municipalities they serve, written with ``bulk_create`` in batches of 5,000 and one shared
unusable password, so it finishes in minutes on SQLite.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import slugify

from bieb.accounts import cards
from bieb.accounts.models import GuardianLink, Household, PartnerMembership, StaffRole, User
from bieb.core import clock

DEMO_PASSWORD = "bieb-demo-2026"
DEMO_RESIDENT_DOMAIN = "inwoner.demo.bieb.nl"
DEMO_RESIDENTS = 300
BENCH_DOMAIN = "bench.bieb.nl"
BENCH_RESIDENTS = 1_000_000
BENCH_BATCH = 5_000
# Fixed so bench data is the same whatever day it is generated.
BENCH_REFERENCE_DATE = dt.date(2026, 1, 1)
UNUSABLE_PASSWORD = "!seeded-account-without-password"  # "!" prefix: can never log in
_POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"

# email, role, first name, last name, age in years; every one at the demo library.
FIXED_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": "lid@demo.bieb.nl",
        "role": "resident",
        "first": "Sanne",
        "last": "de Vries",
        "age": 38,
    },
    {
        "email": "jeugd@demo.bieb.nl",
        "role": "youth",
        "first": "Noah",
        "last": "de Vries",
        "age": 12,
    },
    {
        "email": "balie@demo.bieb.nl",
        "role": "desk",
        "first": "Fatima",
        "last": "El Amrani",
        "age": 29,
    },
    {
        "email": "programmeur@demo.bieb.nl",
        "role": "programmer",
        "first": "Daan",
        "last": "Bakker",
        "age": 41,
    },
    {
        "email": "collectie@demo.bieb.nl",
        "role": "collection",
        "first": "Lotte",
        "last": "Visser",
        "age": 35,
    },
    {
        "email": "directie@demo.bieb.nl",
        "role": "manager",
        "first": "Pieter",
        "last": "Smit",
        "age": 52,
    },
    {
        "email": "flexpool@demo.bieb.nl",
        "role": "flexpool_coordinator",
        "first": "Emma",
        "last": "Mulder",
        "age": 46,
    },
    {
        "email": "landelijk@demo.bieb.nl",
        "role": "network_admin",
        "first": "Ruben",
        "last": "Jansen",
        "age": 44,
    },
    {
        "email": "school@demo.bieb.nl",
        "role": "partner_school",
        "first": "Ilse",
        "last": "Meijer",
        "age": 39,
    },
]


def _rng(key: str) -> random.Random:
    """A seeded generator: seeding must be repeatable, so not a cryptographic one."""
    return random.Random(key)  # noqa: S311


def _organisations() -> list:
    from bieb.network.models import Organisation

    return list(Organisation.objects.order_by("slug").prefetch_related("municipalities"))


def demo_library():
    """The demo library: the first organisation by slug (None before the network is seeded)."""
    from bieb.network.models import Organisation

    return Organisation.objects.order_by("slug").first()


def _birth_date(today: dt.date, age: int, rng: random.Random) -> dt.date:
    start = dt.date(today.year - age - 1, today.month, 1) + dt.timedelta(days=31)
    return start + dt.timedelta(days=rng.randrange(300))


def _postcode_areas_by_organisation(organisations: list) -> dict[int, list[tuple[str, int]]]:
    """(pc4, municipality id) of each organisation's municipalities."""
    from bieb.network.models import PostcodeArea

    areas_by_municipality: dict[int, list[str]] = defaultdict(list)
    for pc4, municipality_id in PostcodeArea.objects.filter(municipality__isnull=False).values_list(
        "pc4", "municipality_id"
    ):
        areas_by_municipality[municipality_id].append(pc4)
    result: dict[int, list[tuple[str, int]]] = {}
    for organisation in organisations:
        result[organisation.pk] = [
            (pc4, m.pk)
            for m in sorted(organisation.municipalities.all(), key=lambda m: m.cbs_code)
            for pc4 in sorted(areas_by_municipality.get(m.pk, []))
        ]
    return result


def _postcode(rng: random.Random, areas: list[tuple[str, int]]) -> tuple[str, int | None]:
    if not areas:
        return "", None
    pc4, municipality_id = areas[rng.randrange(len(areas))]
    letters = rng.choice(_POSTCODE_LETTERS) + rng.choice(_POSTCODE_LETTERS)
    return f"{pc4} {letters}", municipality_id


# --- demo ----------------------------------------------------------------------------------


def seed_people(profile: str, seed: int, *, size: int | None = None) -> None:
    """Seed people for ``profile`` ("demo" or "bench"); ``size`` overrides the bench size."""
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    organisations = _organisations()
    if not organisations:
        raise RuntimeError("Seed the network first: people need library organisations.")
    _seed_fixed_accounts(organisations[0], seed)
    if profile == "demo":
        _seed_demo_residents(organisations, seed)
    else:
        _seed_bench_residents(organisations, seed, BENCH_RESIDENTS if size is None else size)


def _seed_fixed_accounts(library, seed: int) -> None:
    if User.objects.filter(email=FIXED_ACCOUNTS[0]["email"]).exists():
        return
    rng = _rng(f"fixed:{seed}")
    today = clock.today()
    password_hash = make_password(DEMO_PASSWORD)  # one hash, shared by the demo log-ins
    areas = _postcode_areas_by_organisation([library]).get(library.pk, [])
    with transaction.atomic():
        people: dict[str, User] = {}
        for index, spec in enumerate(FIXED_ACCOUNTS, start=1):
            postcode, municipality_id = _postcode(rng, areas)
            birth_date = _birth_date(today, spec["age"], rng)
            person, _created = User.objects.get_or_create(
                email=spec["email"],
                defaults={
                    "first_name": spec["first"],
                    "last_name": spec["last"],
                    "birth_date": birth_date,
                    "birth_year": birth_date.year,
                    "postcode": postcode,
                    "municipality_id": municipality_id,
                    "home_organisation": library,
                    "card_number": cards.card_number_in_series(cards.SERIES_DEMO, index),
                    "email_verified_at": clock.now(),
                    "password": password_hash,
                },
            )
            people[spec["role"]] = person
            role = spec["role"]
            if role in StaffRole.Role.values:
                StaffRole.objects.get_or_create(
                    user=person,
                    organisation=None if role == StaffRole.Role.NETWORK_ADMIN else library,
                    role=role,
                )
            if role == "partner_school":
                PartnerMembership.objects.get_or_create(
                    user=person,
                    organisation=library,
                    kind=PartnerMembership.Kind.SCHOOL,
                    partner_name="Basisschool De Regenboog",
                )
        # The resident manages a household with the youth member and consents as guardian.
        resident, youth = people["resident"], people["youth"]
        if resident.household_id is None:
            household = Household.objects.create(name="Familie De Vries", manager=resident)
            User.objects.filter(pk__in=[resident.pk, youth.pk]).update(household=household)
        GuardianLink.objects.get_or_create(
            guardian=resident, child=youth, defaults={"consent_given_at": clock.now()}
        )


def _seed_demo_residents(organisations: list, seed: int) -> None:
    if User.objects.filter(email__endswith=f"@{DEMO_RESIDENT_DOMAIN}").exists():
        return
    from faker import Faker

    rng = _rng(f"demo:{seed}")
    faker = Faker("nl_NL")
    faker.seed_instance(seed)
    today = clock.today()
    now = clock.now()
    areas = _postcode_areas_by_organisation(organisations)
    library = organisations[0]
    sequence = 100  # card numbers of the demo series after the fixed accounts
    created = 0

    def person(last_name: str, age: int, organisation) -> User:
        nonlocal sequence, created
        sequence += 1
        created += 1
        first_name = faker.first_name()
        postcode, municipality_id = _postcode(rng, areas.get(organisation.pk, []))
        birth_date = _birth_date(today, age, rng)
        local = slugify(f"{first_name}.{last_name}").replace("-", ".") or "inwoner"
        return User.objects.create(
            email=f"{local}.{sequence}@{DEMO_RESIDENT_DOMAIN}",
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            birth_year=birth_date.year,
            postcode=postcode,
            municipality_id=municipality_id,
            home_organisation=organisation,
            card_number=cards.card_number_in_series(cards.SERIES_DEMO, sequence),
            email_verified_at=now if rng.random() < 0.9 else None,
            keep_loan_history=rng.random() < 0.3,
            date_joined=now - dt.timedelta(days=rng.randrange(3650)),
            password=UNUSABLE_PASSWORD,
        )

    with transaction.atomic():
        while created < DEMO_RESIDENTS:
            # Most demo residents live in the demo library's area, so its desk has members.
            organisation = library if rng.random() < 0.6 else rng.choice(organisations)
            last_name = faker.last_name()
            kind = rng.random()
            if kind < 0.35:  # single adult
                person(last_name, rng.randint(18, 90), organisation)
                continue
            adults = [person(last_name, rng.randint(28, 55), organisation)]
            if rng.random() < 0.7:
                adults.append(person(last_name, rng.randint(28, 55), organisation))
            kids = []
            if kind < 0.85:
                kids = [
                    person(last_name, rng.randint(3, 17), organisation)
                    for _ in range(rng.randint(1, 3))
                ]
            household = Household.objects.create(name=f"Familie {last_name}", manager=adults[0])
            User.objects.filter(pk__in=[p.pk for p in adults + kids]).update(household=household)
            for kid in kids:
                if kid.is_youth:
                    consented = not kid.needs_guardian_consent or rng.random() < 0.8
                    GuardianLink.objects.create(
                        guardian=adults[0],
                        child=kid,
                        consent_given_at=now if consented else None,
                    )


# --- bench ---------------------------------------------------------------------------------


def _bench_allocation(organisations: list, total: int) -> list[tuple[int, int]]:
    """(organisation id, number of residents) by the population the organisation serves
    (largest remainder, so the counts add up to ``total``)."""
    share: dict[int, float] = {}
    served_by: dict[int, int] = defaultdict(int)
    for organisation in organisations:
        for m in organisation.municipalities.all():
            served_by[m.pk] += 1
    for organisation in organisations:
        share[organisation.pk] = sum(
            m.population / served_by[m.pk] for m in organisation.municipalities.all()
        )
    weight = sum(share.values())
    if weight <= 0:
        share = {o.pk: 1.0 for o in organisations}
        weight = float(len(organisations))
    exact = {pk: total * s / weight for pk, s in share.items()}
    counts = {pk: int(v) for pk, v in exact.items()}
    rest = total - sum(counts.values())
    for pk in sorted(exact, key=lambda pk: (-(exact[pk] - counts[pk]), pk))[:rest]:
        counts[pk] += 1
    return [(o.pk, counts[o.pk]) for o in organisations]


def _seed_bench_residents(organisations: list, seed: int, total: int) -> None:
    domain = f"@{BENCH_DOMAIN}"
    if total <= 0 or User.objects.filter(email__endswith=domain).count() >= total:
        return
    from faker import Faker

    faker = Faker("nl_NL")
    faker.seed_instance(seed)
    first_names = sorted({faker.first_name() for _ in range(3000)})
    last_names = sorted({faker.last_name() for _ in range(3000)})
    allocation = _bench_allocation(organisations, total)
    bounds: list[int] = []
    org_ids: list[int] = []
    running = 0
    for org_id, count in allocation:
        if count:
            running += count
            bounds.append(running)
            org_ids.append(org_id)
    areas = _postcode_areas_by_organisation(organisations)
    reference = dt.datetime.combine(BENCH_REFERENCE_DATE, dt.time(9), tzinfo=dt.UTC)

    for batch_start in range(0, total, BENCH_BATCH):
        batch_end = min(batch_start + BENCH_BATCH, total)
        last_email = f"inwoner{batch_end - 1:07d}{domain}"
        if User.objects.filter(email=last_email).exists():
            continue  # this batch landed in an earlier run
        rng = _rng(f"bench:{seed}:{batch_start}")
        rows = []
        for n in range(batch_start, batch_end):
            org_id = org_ids[bisect.bisect_right(bounds, n)]
            postcode, municipality_id = _postcode(rng, areas.get(org_id, []))
            birth_date = BENCH_REFERENCE_DATE - dt.timedelta(days=rng.randrange(3 * 365, 95 * 365))
            rows.append(
                User(
                    email=f"inwoner{n:07d}{domain}",
                    password=UNUSABLE_PASSWORD,
                    first_name=first_names[rng.randrange(len(first_names))],
                    last_name=last_names[rng.randrange(len(last_names))],
                    birth_date=birth_date,
                    birth_year=birth_date.year,
                    postcode=postcode,
                    municipality_id=municipality_id,
                    home_organisation_id=org_id,
                    card_number=cards.card_number_in_series(cards.SERIES_BENCH, n),
                    email_verified_at=reference,
                    keep_loan_history=rng.random() < 0.25,
                    date_joined=reference - dt.timedelta(days=rng.randrange(20 * 365)),
                )
            )
        with transaction.atomic():
            User.objects.bulk_create(rows, batch_size=BENCH_BATCH, ignore_conflicts=True)


def demo_accounts() -> list[dict]:
    """The fixed demo log-ins: email, password, role, organisation, card_number."""
    people = {
        u.email: u
        for u in User.objects.filter(email__in=[s["email"] for s in FIXED_ACCOUNTS]).select_related(
            "home_organisation"
        )
    }
    library = demo_library()
    result = []
    for spec in FIXED_ACCOUNTS:
        person = people.get(spec["email"])
        organisation = (
            person.home_organisation if person and person.home_organisation_id else library
        )
        result.append(
            {
                "email": spec["email"],
                "password": DEMO_PASSWORD,
                "role": spec["role"],
                "organisation": organisation.name if organisation else None,
                "card_number": person.card_number if person else None,
            }
        )
    return result
