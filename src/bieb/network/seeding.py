"""Seed the network: reference data, then demo (4 organisations) or bench (national) data.

Idempotent: organisations are keyed on slug, locations on slug, exceptions on (location,
date); what exists is left alone. Deterministic: one ``random.Random(seed)`` and a seeded Faker
drive every choice, in a fixed order. Holiday exceptions are the Dutch public holidays of the
coming twelve months, so they depend on ``clock.today()``. Rows are written with
``bulk_create`` (validated here with the same helpers the services use); seeding is not a
person's action, so it writes no audit rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.text import slugify
from faker import Faker

from bieb.core import clock
from bieb.network.geo import haversine_km
from bieb.network.models import (
    Location,
    LocationKind,
    Municipality,
    OpeningException,
    OpeningKind,
    OpeningPeriod,
    Organisation,
    PostcodeArea,
)
from bieb.network.reference import reference_data_load
from bieb.network.validation import END_OF_DAY, kvk_validate, postcode_normalise

S = OpeningKind.SELF_SERVICE
T = OpeningKind.STAFFED  # "bemand": staff present
BENCH_ORGANISATIONS = 140
BENCH_LOCATIONS = 800


# --- holidays -------------------------------------------------------------------------------


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (the anonymous algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def dutch_holidays(year: int) -> list[tuple[dt.date, str]]:
    """Public holidays on which libraries close, plus New Year's Eve (shorter hours)."""
    easter = easter_sunday(year)
    kings_day = dt.date(year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday it moves to Saturday the 26th
        kings_day = dt.date(year, 4, 26)
    return [
        (dt.date(year, 1, 1), "Nieuwjaarsdag"),
        (easter, "Eerste Paasdag"),
        (easter + dt.timedelta(days=1), "Tweede Paasdag"),
        (kings_day, "Koningsdag"),
        (easter + dt.timedelta(days=39), "Hemelvaartsdag"),
        (easter + dt.timedelta(days=49), "Eerste Pinksterdag"),
        (easter + dt.timedelta(days=50), "Tweede Pinksterdag"),
        (dt.date(year, 12, 25), "Eerste Kerstdag"),
        (dt.date(year, 12, 26), "Tweede Kerstdag"),
        (dt.date(year, 12, 31), "Oudejaarsdag"),
    ]


def coming_holidays(today: dt.date, days: int = 366) -> list[tuple[dt.date, str]]:
    last = today + dt.timedelta(days=days)
    return [
        (day, name)
        for year in (today.year, today.year + 1)
        for day, name in dutch_holidays(year)
        if today <= day <= last
    ]


# --- hours per kind -------------------------------------------------------------------------

Period = tuple[int, dt.time, dt.time, str]


def _t(text: str) -> dt.time:
    if text == "24:00":
        return END_OF_DAY
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def _week(spec: dict[Iterable[int], list[tuple[str, str, str]]]) -> list[Period]:
    periods = []
    for days, day_periods in spec.items():
        for weekday in days:
            for opens, closes, kind in day_periods:
                periods.append((weekday, _t(opens), _t(closes), kind))
    return periods


WEEKDAYS = (0, 1, 2, 3, 4)


def hours_for(kind: str, rng: random.Random, *, big: bool) -> list[Period]:
    """A realistic weekly pattern for a location of ``kind`` (big-city branches open longer)."""
    if kind == LocationKind.BRANCH:
        if big:
            return _week(
                {
                    WEEKDAYS: [("08:00", "10:00", S), ("10:00", "20:00", T), ("20:00", "22:00", S)],
                    (5,): [("08:00", "10:00", S), ("10:00", "17:00", T), ("17:00", "20:00", S)],
                    (6,): [("12:00", "17:00", T)],
                }
            )
        return _week(
            {
                (0,): [("08:00", "13:00", S), ("13:00", "17:30", T), ("17:30", "21:00", S)],
                (1, 2, 3, 4): [("08:00", "10:00", S), ("10:00", "17:30", T), ("17:30", "21:00", S)],
                (5,): [("08:00", "10:00", S), ("10:00", "13:00", T), ("13:00", "17:00", S)],
            }
        )
    if kind == LocationKind.SERVICE_POINT:
        staffed_days = sorted(rng.sample(range(5), 2))
        return _week(
            {
                tuple(staffed_days): [("09:00", "14:00", S), ("14:00", "17:00", T)],
                tuple(d for d in range(6) if d not in staffed_days): [("09:00", "17:00", S)],
            }
        )
    if kind == LocationKind.SCHOOL_LIBRARY:
        return _week(
            {
                (0, 1, 3, 4): [("08:30", "15:00", S)],
                (2,): [("08:30", "12:00", T), ("12:00", "14:00", S)],
            }
        )
    if kind == LocationKind.POPUP:
        return _week({(2,): [("13:00", "17:00", T)], (5,): [("10:00", "14:00", T)]})
    if kind == LocationKind.PARTNER_VENUE:
        consult_day = rng.randrange(5)
        return _week(
            {
                (consult_day,): [
                    ("09:00", "14:00", S),
                    ("14:00", "16:00", T),
                    ("16:00", "21:00", S),
                ],
                tuple(d for d in range(6) if d != consult_day): [("09:00", "21:00", S)],
            }
        )
    if kind == LocationKind.LOCKER:
        return _week({range(7): [("00:00", "24:00", S)]})
    # mobile library: one weekly stop
    start = rng.choice(["09:30", "13:30", "15:00"])
    end = {"09:30": "11:30", "13:30": "15:30", "15:00": "17:30"}[start]
    return _week({(rng.randrange(6),): [(start, end, T)]})


def holiday_exceptions(
    location: Location, holidays: list[tuple[dt.date, str]]
) -> list[OpeningException]:
    """Closed on public holidays; New Year's Eve staffed until 16:00. Lockers stay open."""
    if location.kind == LocationKind.LOCKER:
        return []
    rows = []
    for day, name in holidays:
        if name == "Oudejaarsdag":
            if (
                location.kind in {LocationKind.BRANCH, LocationKind.SERVICE_POINT}
                and day.weekday() < 6
            ):
                rows.append(
                    OpeningException(
                        location=location,
                        date=day,
                        closed=False,
                        opens=dt.time(10),
                        closes=dt.time(16),
                        kind=T,
                        reason=name,
                    )
                )
            continue
        rows.append(OpeningException(location=location, date=day, closed=True, reason=name))
    return rows


# --- building blocks ------------------------------------------------------------------------


def kvk_for(key: str, taken: set[str]) -> str:
    """A deterministic eight-digit KvK number for ``key``, distinct from ``taken``."""
    number = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 90_000_000 + 10_000_000
    while str(number) in taken:
        number = number + 1 if number < 99_999_999 else 10_000_000
    taken.add(str(number))
    return kvk_validate(str(number))


_LETTERS = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]
_POSTCODE_LETTERS = [pair for pair in _LETTERS if pair not in {"SA", "SD", "SS"}]


def postcode_in(pc4: str, rng: random.Random) -> str:
    return postcode_normalise(pc4 + rng.choice(_POSTCODE_LETTERS))


@dataclass
class Planned:
    """A location to create, before it has an organisation object."""

    organisation_slug: str
    kind: str
    name: str
    area: PostcodeArea


class _Builder:
    """Turns planned locations into rows, with hours and exceptions, skipping existing slugs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not secrets)
        self.fake = Faker("nl_NL")
        self.fake.seed_instance(seed)
        self.today = clock.today()
        self.holidays = coming_holidays(self.today)

    def location(self, plan: Planned, organisation: Organisation, slug: str) -> Location:
        rng = self.rng
        kind = plan.kind
        is_building = kind in {LocationKind.BRANCH, LocationKind.SERVICE_POINT}
        big = (plan.area.municipality.population if plan.area.municipality else 0) > 150_000
        return Location(
            organisation=organisation,
            kind=kind,
            name=plan.name,
            slug=slug,
            street=self.fake.street_name(),
            house_number=str(rng.randint(1, 180)),
            postcode=postcode_in(plan.area.pc4, rng),
            city=plan.area.place or plan.area.municipality.name,
            municipality=plan.area.municipality,
            # Jitter of up to ~600 m: the PC4 point is a place point, not an address.
            lat=round(plan.area.lat + rng.uniform(-0.005, 0.005), 6),
            lon=round(plan.area.lon + rng.uniform(-0.008, 0.008), 6),
            phone=f"0{rng.randint(10, 99)}-{rng.randint(1_000_000, 9_999_999)}"
            if is_building
            else "",
            wheelchair_accessible=kind != LocationKind.MOBILE or rng.random() < 0.5,
            accessible_toilet=is_building and rng.random() < 0.85,
            hearing_loop=kind == LocationKind.BRANCH and rng.random() < 0.7,
            accessibility_notes=(
                "Lift aanwezig; invalidenparkeerplaats bij de ingang."
                if kind == LocationKind.BRANCH
                else ""
            ),
            study_places=rng.randint(20, 300)
            if kind == LocationKind.BRANCH and big
            else (rng.randint(4, 40) if is_building else 0),
            has_makerspace=kind == LocationKind.BRANCH and (big or rng.random() < 0.3),
            meeting_rooms=rng.randint(1, 6) if kind == LocationKind.BRANCH else 0,
            has_wifi=kind not in {LocationKind.LOCKER, LocationKind.MOBILE},
            has_printing=is_building,
        )

    def write(self, plans: list[Planned], organisations: dict[str, Organisation]) -> int:
        """Create the planned locations that do not exist yet; returns how many were created."""
        slugs = _unique_slugs(f"{plan.name}" for plan in plans)
        existing = set(Location.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        new_locations: list[Location] = []
        week_of: dict[str, list[Period]] = {}
        for plan, slug in zip(plans, slugs, strict=True):
            # Draw for every plan, new or not, so the same seed gives the same data.
            location = self.location(plan, organisations[plan.organisation_slug], slug)
            big = (plan.area.municipality.population or 0) > 150_000
            week = hours_for(plan.kind, self.rng, big=big)
            if slug in existing:
                continue
            new_locations.append(location)
            week_of[slug] = week
        Location.objects.bulk_create(new_locations, batch_size=500)
        created = {loc.slug: loc for loc in Location.objects.filter(slug__in=list(week_of))}
        OpeningPeriod.objects.bulk_create(
            (
                OpeningPeriod(location=created[slug], weekday=d, opens=o, closes=c, kind=k)
                for slug, week in week_of.items()
                for d, o, c, k in week
            ),
            batch_size=2000,
        )
        self.ensure_exceptions(Location.objects.filter(slug__in=slugs))
        return len(new_locations)

    def ensure_exceptions(self, locations: Iterable[Location]) -> None:
        locations = list(locations)
        dates = [day for day, _name in self.holidays]
        have = set(
            OpeningException.objects.filter(location__in=locations, date__in=dates).values_list(
                "location_id", "date"
            )
        )
        OpeningException.objects.bulk_create(
            (
                exc
                for location in locations
                for exc in holiday_exceptions(location, self.holidays)
                if (location.pk, exc.date) not in have
            ),
            batch_size=2000,
        )


def _unique_slugs(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    slugs = []
    for name in names:
        base = slugify(name)[:90] or "locatie"
        seen[base] += 1
        slugs.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return slugs


def _organisation(
    *,
    slug: str,
    name: str,
    code: str,
    municipalities: list[Municipality],
    kvk_taken: set[str],
    domain: str,
) -> Organisation:
    """Get or create the organisation keyed on slug; a new one serves ``municipalities``."""
    kvk = kvk_for(slug, kvk_taken)
    existing = Organisation.objects.filter(slug=slug).first()
    if existing:
        return existing
    organisation = Organisation.objects.create(
        slug=slug,
        name=name,
        code=code,
        kvk_number=kvk,
        website=f"https://www.{domain}.example",
        email=f"info@{domain}.example",
        phone="",
    )
    organisation.municipalities.set(municipalities)
    return organisation


def _pick_area(
    areas: list[PostcodeArea], rng: random.Random, place: str | None = None
) -> PostcodeArea:
    pool = [a for a in areas if place and a.place == place] or areas
    weights = [max(a.inhabitants or 0, 1) for a in pool]
    return rng.choices(pool, weights=weights, k=1)[0]


# --- demo -----------------------------------------------------------------------------------

DEMO_ORGANISATIONS = [
    # slug, name, code, municipalities, domain
    (
        "bibliotheek-amsterdam",
        "Bibliotheek Amsterdam",
        "BAM",
        ["Amsterdam", "Diemen"],
        "bibliotheekamsterdam",
    ),
    ("bibliotheek-utrecht", "Bibliotheek Utrecht", "BUT", ["Utrecht"], "bibliotheekutrecht"),
    (
        "bibliotheken-noordoost-fryslan",
        "Bibliotheken Noordoost Fryslân",
        "BNF",
        ["Noardeast-Fryslân", "Dantumadiel", "Achtkarspelen", "Tytsjerksteradiel"],
        "bibliothekennoordoostfryslan",
    ),
    (
        "bibliotheek-zuid-limburg",
        "Bibliotheek Zuid-Limburg",
        "BZL",
        ["Maastricht", "Eijsden-Margraten", "Meerssen", "Valkenburg aan de Geul"],
        "bibliotheekzuidlimburg",
    ),
]

# organisation slug, kind, name, pc4 (a real one), place hint for the pc4 fallback
DEMO_LOCATIONS = [
    ("bibliotheek-amsterdam", "branch", "Centrale Bibliotheek Amsterdam", "1011"),
    ("bibliotheek-amsterdam", "branch", "Bibliotheek Amsterdam-Noord", "1031"),
    ("bibliotheek-amsterdam", "branch", "Bibliotheek Amsterdam-Zuidoost", "1102"),
    ("bibliotheek-amsterdam", "branch", "Bibliotheek Diemen", "1111"),
    ("bibliotheek-amsterdam", "service_point", "Servicepunt Weesp", "1381"),
    ("bibliotheek-amsterdam", "school_library", "Schoolbibliotheek De Regenboog", "1055"),
    ("bibliotheek-amsterdam", "popup", "Pop-upbibliotheek Westerpark", "1051"),
    ("bibliotheek-amsterdam", "partner_venue", "Bibliotheekpunt Buurthuis De Pijp", "1072"),
    ("bibliotheek-amsterdam", "locker", "Afhaalkluis Station Sloterdijk", "1043"),
    ("bibliotheek-utrecht", "branch", "Bibliotheek Utrecht Neude", "3512"),
    ("bibliotheek-utrecht", "branch", "Bibliotheek Overvecht", "3573"),
    ("bibliotheek-utrecht", "branch", "Bibliotheek Leidsche Rijn", "3541"),
    ("bibliotheek-utrecht", "school_library", "Schoolbibliotheek Kanaleneiland", "3526"),
    ("bibliotheek-utrecht", "partner_venue", "Bibliotheekpunt Wijkcentrum Oog in Al", "3531"),
    ("bibliotheek-utrecht", "locker", "Afhaalkluis Utrecht Centraal", "3511"),
    ("bibliotheken-noordoost-fryslan", "branch", "Bibliotheek Dokkum", "Dokkum"),
    ("bibliotheken-noordoost-fryslan", "branch", "Bibliotheek Burgum", "Burgum"),
    ("bibliotheken-noordoost-fryslan", "service_point", "Servicepunt Buitenpost", "Buitenpost"),
    ("bibliotheken-noordoost-fryslan", "locker", "Afhaalkluis Kollum", "Kollum"),
    ("bibliotheken-noordoost-fryslan", "mobile", "Bibliotheekbus halte Holwerd", "Holwerd"),
    ("bibliotheken-noordoost-fryslan", "mobile", "Bibliotheekbus halte Damwâld", "Damwâld"),
    ("bibliotheek-zuid-limburg", "branch", "Bibliotheek Maastricht Centrum", "6211"),
    ("bibliotheek-zuid-limburg", "branch", "Bibliotheek Valkenburg", "Valkenburg"),
    ("bibliotheek-zuid-limburg", "service_point", "Servicepunt Eijsden", "Eijsden"),
    ("bibliotheek-zuid-limburg", "popup", "Pop-upbibliotheek Meerssen", "Meerssen"),
    ("bibliotheek-zuid-limburg", "locker", "Afhaalkluis Maastricht Randwyck", "6229"),
]


def _seed_demo(builder: _Builder) -> None:
    by_name = {m.name: m for m in Municipality.objects.all()}
    kvk_taken = set(Organisation.objects.values_list("kvk_number", flat=True))
    organisations = {}
    served: dict[str, list[Municipality]] = {}
    for slug, name, code, municipality_names, domain in DEMO_ORGANISATIONS:
        municipalities = [by_name[n] for n in municipality_names]
        served[slug] = municipalities
        organisations[slug] = _organisation(
            slug=slug,
            name=name,
            code=code,
            municipalities=municipalities,
            kvk_taken=kvk_taken,
            domain=domain,
        )
    areas = list(
        PostcodeArea.objects.filter(municipality__in=[m for ms in served.values() for m in ms])
        .select_related("municipality")
        .order_by("pc4")
    )
    by_pc4 = {a.pc4: a for a in areas}
    plans = []
    for org_slug, kind, name, where in DEMO_LOCATIONS:
        if where.isdigit():
            area = by_pc4[where]
        else:
            in_org = [a for a in areas if a.municipality in served[org_slug]]
            area = _pick_area(in_org, builder.rng, place=where)
        plans.append(Planned(org_slug, kind, name, area))
    builder.write(plans, organisations)


# --- bench ----------------------------------------------------------------------------------

_BENCH_KINDS = [
    (LocationKind.SERVICE_POINT, 25),
    (LocationKind.SCHOOL_LIBRARY, 25),
    (LocationKind.POPUP, 8),
    (LocationKind.PARTNER_VENUE, 17),
    (LocationKind.LOCKER, 15),
    (LocationKind.MOBILE, 10),
]
_SCHOOLS = ["De Regenboog", "De Fontein", "Het Kompas", "De Wereldboom", "De Klimop", "Het Palet"]
_PARTNERS = ["Buurthuis", "Dorpshuis", "Wijkcentrum", "Zorgcentrum", "Cultuurhuis"]


def _bench_name(kind: str, place: str, rng: random.Random, fake: Faker) -> str:
    if kind == LocationKind.BRANCH:
        return f"Bibliotheek {place}"
    if kind == LocationKind.SERVICE_POINT:
        return f"Servicepunt {place}"
    if kind == LocationKind.SCHOOL_LIBRARY:
        return f"Schoolbibliotheek {rng.choice(_SCHOOLS)} {place}"
    if kind == LocationKind.POPUP:
        return f"Pop-upbibliotheek {fake.street_name()} {place}"
    if kind == LocationKind.PARTNER_VENUE:
        return f"Bibliotheekpunt {rng.choice(_PARTNERS)} {place}"
    if kind == LocationKind.LOCKER:
        return f"Afhaalkluis {place} {fake.street_name()}"
    return f"Bibliotheekbus halte {place}"


def _seed_bench(builder: _Builder, *, locations: int = BENCH_LOCATIONS) -> None:
    rng = builder.rng
    municipalities = list(Municipality.objects.order_by("-population", "cbs_code"))
    seats = municipalities[:BENCH_ORGANISATIONS]
    members: dict[str, list[Municipality]] = {seat.cbs_code: [seat] for seat in seats}
    for municipality in municipalities[BENCH_ORGANISATIONS:]:
        same_province = [s for s in seats if s.province == municipality.province] or seats
        nearest = min(
            same_province,
            key=lambda s: (
                haversine_km(s.lat, s.lon, municipality.lat, municipality.lon),
                s.cbs_code,
            ),
        )
        members[nearest.cbs_code].append(municipality)

    kvk_taken = set(Organisation.objects.values_list("kvk_number", flat=True))
    organisations: dict[str, Organisation] = {}
    org_of_municipality: dict[int, str] = {}
    for seat in sorted(seats, key=lambda m: m.cbs_code):
        served = members[seat.cbs_code]
        name = f"Bibliotheek {seat.name}" if len(served) < 3 else f"Bibliotheek Regio {seat.name}"
        slug = slugify(name)
        organisations[slug] = _organisation(
            slug=slug,
            name=name,
            code=f"B{seat.cbs_code[2:]}",
            municipalities=served,
            kvk_taken=kvk_taken,
            domain=slug.replace("-", ""),
        )
        for municipality in served:
            org_of_municipality[municipality.pk] = slug

    areas_of: dict[int, list[PostcodeArea]] = defaultdict(list)
    for area in PostcodeArea.objects.select_related("municipality").order_by("pc4"):
        if area.municipality_id is not None:
            areas_of[area.municipality_id].append(area)

    plans: list[Planned] = []
    ordered = sorted(municipalities, key=lambda m: m.cbs_code)
    for municipality in ordered:  # one branch in the biggest place of every municipality
        area = max(areas_of[municipality.pk], key=lambda a: (a.inhabitants or 0, a.pc4))
        plans.append(
            Planned(
                org_of_municipality[municipality.pk],
                LocationKind.BRANCH,
                _bench_name(
                    LocationKind.BRANCH, area.place or municipality.name, rng, builder.fake
                ),
                area,
            )
        )
    extra = max(0, locations - len(plans))
    weights = [max(m.population, 1) for m in ordered]
    kinds, kind_weights = zip(*_BENCH_KINDS, strict=True)
    for _index in range(extra):
        municipality = rng.choices(ordered, weights=weights, k=1)[0]
        area = _pick_area(areas_of[municipality.pk], rng)
        kind = rng.choices(kinds, weights=kind_weights, k=1)[0]
        plans.append(
            Planned(
                org_of_municipality[municipality.pk],
                kind,
                _bench_name(kind, area.place or municipality.name, rng, builder.fake),
                area,
            )
        )
    builder.write(plans, organisations)


def seed_network(profile: str, seed: int) -> None:
    """Load reference data, then the ``demo`` or ``bench`` organisations and locations."""
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}; use 'demo' or 'bench'")
    reference_data_load()
    builder = _Builder(seed)
    with transaction.atomic():
        if profile == "demo":
            _seed_demo(builder)
        else:
            _seed_bench(builder)
