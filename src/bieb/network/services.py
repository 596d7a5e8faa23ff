"""Writes to the network: organisations, locations, opening hours, reference data.

Every service is keyword-only, validates its input and raises ``DomainError`` with a stable
code, runs in one transaction (nothing is half-saved) and writes an audit row for the change.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumValidationError

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound
from bieb.network import validation
from bieb.network.geo import coordinates_are_valid
from bieb.network.models import (
    Location,
    Municipality,
    OpeningException,
    OpeningKind,
    OpeningPeriod,
    Organisation,
    PostcodeArea,
)
from bieb.network.reference import reference_data_load

__all__ = [
    "location_add_exception",
    "location_create",
    "location_remove_exception",
    "location_set_hours",
    "location_update",
    "organisation_create",
    "reference_data_load",
]

# Fields a caller may change through ``location_update``.
LOCATION_UPDATABLE_FIELDS = frozenset(
    {
        "kind",
        "name",
        "description",
        "street",
        "house_number",
        "postcode",
        "city",
        "municipality_code",
        "lat",
        "lon",
        "phone",
        "wheelchair_accessible",
        "accessible_toilet",
        "hearing_loop",
        "accessibility_notes",
        "study_places",
        "has_makerspace",
        "meeting_rooms",
        "has_wifi",
        "has_printing",
        "is_active",
    }
)
_BOOLEAN_FIELDS = frozenset(
    {
        "wheelchair_accessible",
        "accessible_toilet",
        "hearing_loop",
        "has_makerspace",
        "has_wifi",
        "has_printing",
        "is_active",
    }
)
_COUNT_FIELDS = frozenset({"study_places", "meeting_rooms"})
_TEXT_LIMITS = {
    "name": 150,
    "street": 120,
    "house_number": 12,
    "city": 100,
    "phone": 20,
    "description": 5000,
    "accessibility_notes": 2000,
}


def _invalid(code: str, message: str, field: str) -> DomainError:
    return DomainError(code, message, details={"field": field})


# --- organisations --------------------------------------------------------------------------


def organisation_create(
    *,
    name: str,
    code: str,
    kvk_number: str,
    municipality_codes: Sequence[str] = (),
    website: str = "",
    email: str = "",
    phone: str = "",
    slug: str | None = None,
    actor: Any = None,
) -> Organisation:
    """Create a library organisation serving the given municipalities (CBS codes).

    Guarantees: the KvK number is eight digits and unique, the slug and code are unique, every
    municipality exists; on any refusal nothing is saved. Audited.
    """
    name = (name or "").strip()
    if not name or len(name) > 150:
        raise _invalid("invalid_name", _("Vul een naam in van hoogstens 150 tekens."), "name")
    code = (code or "").strip().upper()
    if not code or len(code) > 12:
        raise _invalid("invalid_code", _("Vul een korte code in van hoogstens 12 tekens."), "code")
    try:
        kvk = validation.kvk_validate(kvk_number)
    except StdnumValidationError:
        raise _invalid(
            "invalid_kvk", _("Dit is geen geldig KvK-nummer. Vul de 8 cijfers in."), "kvk_number"
        ) from None
    slug = slugify(slug or name)[:80]
    if not slug:
        raise _invalid("invalid_slug", _("Kies een naam met letters of cijfers."), "slug")
    municipalities = _municipalities_for(municipality_codes)

    with transaction.atomic():
        if Organisation.objects.filter(slug=slug).exists():
            raise _invalid(
                "duplicate_organisation", _("Er is al een organisatie met deze naam."), "slug"
            )
        if Organisation.objects.filter(code=code).exists():
            raise _invalid(
                "duplicate_organisation", _("Er is al een organisatie met deze code."), "code"
            )
        if Organisation.objects.filter(kvk_number=kvk).exists():
            raise _invalid(
                "duplicate_organisation",
                _("Er is al een organisatie met dit KvK-nummer."),
                "kvk_number",
            )
        try:
            with transaction.atomic():
                organisation = Organisation.objects.create(
                    name=name,
                    slug=slug,
                    code=code,
                    kvk_number=kvk,
                    website=website,
                    email=email,
                    phone=phone,
                )
        except IntegrityError:
            raise DomainError(
                "duplicate_organisation", _("Er is al een organisatie met deze gegevens.")
            ) from None
        organisation.municipalities.set(municipalities)
        audit_record(
            action="network.organisation_created",
            actor=actor,
            subject=organisation,
            organisation_id=organisation.pk,
            data={"code": code, "municipalities": sorted(m.cbs_code for m in municipalities)},
        )
    return organisation


def _municipalities_for(codes: Iterable[str]) -> list[Municipality]:
    wanted = sorted({(code or "").strip().upper() for code in codes})
    found = list(Municipality.objects.filter(cbs_code__in=wanted))
    missing = sorted(set(wanted) - {m.cbs_code for m in found})
    if missing:
        raise DomainError(
            "unknown_municipality",
            _("Deze gemeente kennen we niet: %(codes)s. Gebruik de CBS-code, zoals GM0363.")
            % {"codes": ", ".join(missing)},
            details={"field": "municipality_codes", "codes": missing},
        )
    return found


# --- locations ------------------------------------------------------------------------------


def _clean_location(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and complete location fields; returns model field values."""
    cleaned: dict[str, Any] = {}
    kind = values.get("kind")
    if kind not in Location.Kind.values:
        raise _invalid("invalid_kind", _("Kies een geldige soort locatie."), "kind")
    cleaned["kind"] = kind
    for field, limit in _TEXT_LIMITS.items():
        text = str(values.get(field) or "").strip()
        if len(text) > limit:
            raise _invalid(
                "invalid_text",
                _("Dit veld is te lang (hoogstens %(limit)s tekens).") % {"limit": limit},
                field,
            )
        cleaned[field] = text
    for field in ("name", "street", "house_number"):
        if not cleaned[field]:
            raise _invalid("missing_field", _("Vul dit veld in."), field)

    try:
        postcode = validation.postcode_normalise(str(values.get("postcode") or ""))
    except StdnumValidationError:
        raise _invalid(
            "invalid_postcode",
            _("Dit is geen geldige postcode. Gebruik vier cijfers en twee letters, zoals 1011 AB."),
            "postcode",
        ) from None
    cleaned["postcode"] = postcode
    area = PostcodeArea.objects.select_related("municipality").filter(pc4=postcode[:4]).first()

    lat, lon = values.get("lat"), values.get("lon")
    if lat is None and lon is None:
        if area is None:
            raise _invalid(
                "unknown_postcode",
                _("Deze postcode kennen we niet. Vul de coördinaten van de locatie in."),
                "postcode",
            )
        lat, lon = area.lat, area.lon
    if not coordinates_are_valid(lat, lon):
        raise _invalid(
            "invalid_coordinates",
            _("Vul een geldige breedte- en lengtegraad in."),
            "lat",
        )
    cleaned["lat"], cleaned["lon"] = float(lat), float(lon)

    municipality_code = values.get("municipality_code")
    if municipality_code:
        municipality = Municipality.objects.filter(
            cbs_code=str(municipality_code).strip().upper()
        ).first()
    else:
        municipality = area.municipality if area else None
    if municipality is None:
        raise _invalid(
            "unknown_municipality",
            _("We weten niet in welke gemeente deze locatie ligt. Kies de gemeente."),
            "municipality_code",
        )
    cleaned["municipality"] = municipality
    if not cleaned["city"]:
        cleaned["city"] = area.place if area and area.place else municipality.name

    for field in _BOOLEAN_FIELDS:
        if field in values:
            cleaned[field] = bool(values[field])
    for field in _COUNT_FIELDS:
        count = values.get(field, 0)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10_000:
            raise _invalid("invalid_facilities", _("Vul een aantal van 0 of meer in."), field)
        cleaned[field] = count
    return cleaned


def _unique_location_slug(base: str) -> str:
    base = slugify(base)[:90] or "locatie"
    taken = set(Location.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def location_create(
    *,
    organisation: Organisation,
    kind: str,
    name: str,
    street: str,
    house_number: str,
    postcode: str,
    city: str = "",
    municipality_code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    slug: str | None = None,
    description: str = "",
    phone: str = "",
    wheelchair_accessible: bool = False,
    accessible_toilet: bool = False,
    hearing_loop: bool = False,
    accessibility_notes: str = "",
    study_places: int = 0,
    has_makerspace: bool = False,
    meeting_rooms: int = 0,
    has_wifi: bool = False,
    has_printing: bool = False,
    is_active: bool = True,
    actor: Any = None,
) -> Location:
    """Create a location of ``organisation``.

    Guarantees: the postcode is valid and stored as ``"1234 AB"``; without coordinates the
    point of the postcode area is used; without a municipality code the municipality of the
    postcode area is used; the slug is unique (derived from the name when not given). Audited.
    """
    cleaned = _clean_location(dict(locals()))
    with transaction.atomic():
        if slug:
            slug = slugify(slug)[:100]
            if not slug or Location.objects.filter(slug=slug).exists():
                raise _invalid(
                    "duplicate_slug", _("Er is al een locatie met dit webadres."), "slug"
                )
        else:
            slug = _unique_location_slug(f"{cleaned['name']} {cleaned['city']}")
        try:
            with transaction.atomic():
                location = Location.objects.create(organisation=organisation, slug=slug, **cleaned)
        except IntegrityError:
            raise _invalid(
                "duplicate_slug", _("Er is al een locatie met dit webadres."), "slug"
            ) from None
        audit_record(
            action="network.location_created",
            actor=actor,
            subject=location,
            organisation_id=organisation.pk,
            data={"kind": location.kind, "slug": location.slug, "postcode": location.postcode},
        )
    return location


def location_update(*, location: Location, data: Mapping[str, Any], actor: Any = None) -> Location:
    """Change the given fields of ``location`` (see ``LOCATION_UPDATABLE_FIELDS``).

    Guarantees: the result passes the same validation as ``location_create``; unknown fields
    are refused; the change is saved whole or not at all. Audited with the changed fields.
    """
    unknown = sorted(set(data) - LOCATION_UPDATABLE_FIELDS)
    if unknown:
        raise DomainError(
            "unknown_field",
            _("Deze velden kun je niet wijzigen: %(fields)s.") % {"fields": ", ".join(unknown)},
            details={"fields": unknown},
        )
    current: dict[str, Any] = {
        field: getattr(location, field)
        for field in LOCATION_UPDATABLE_FIELDS - {"municipality_code"}
    }
    current["municipality_code"] = location.municipality.cbs_code
    if "postcode" in data and "lat" not in data and "lon" not in data:
        # A new postcode without coordinates moves the point to that postcode area.
        current["lat"] = current["lon"] = None
        if "municipality_code" not in data:
            current["municipality_code"] = None
    merged = {**current, **data}
    cleaned = _clean_location(merged)
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        changed = sorted(
            field for field, value in cleaned.items() if getattr(locked, field) != value
        )
        for field, value in cleaned.items():
            setattr(locked, field, value)
        locked.updated_at = clock.now()
        locked.save()
        audit_record(
            action="network.location_updated",
            actor=actor,
            subject=locked,
            organisation_id=locked.organisation_id,
            data={"fields": changed},
        )
    return locked


# --- opening hours --------------------------------------------------------------------------


def _clean_period(raw: Mapping[str, Any], *, index: int) -> tuple[int, dt.time, dt.time, str]:
    details = {"index": index}
    try:
        weekday = int(raw["weekday"])
        opens = validation.time_parse(raw["opens"])
        closes = validation.time_parse(raw["closes"])
    except (KeyError, TypeError, ValueError):
        raise DomainError(
            "invalid_hours",
            _("Vul voor elke periode een weekdag en een begin- en eindtijd (uu:mm) in."),
            details=details,
        ) from None
    kind = raw.get("kind", OpeningKind.STAFFED)
    if not 0 <= weekday <= 6 or kind not in OpeningKind.values:
        raise DomainError(
            "invalid_hours", _("Kies een geldige weekdag en soort openingstijd."), details=details
        )
    if closes <= opens:
        raise DomainError(
            "invalid_hours", _("De sluitingstijd moet na de openingstijd liggen."), details=details
        )
    return weekday, opens, closes, str(kind)


def _overlap(periods: Iterable[tuple[dt.time, dt.time]]) -> bool:
    ordered = sorted(periods)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


def location_set_hours(
    *, location: Location, periods: Sequence[Mapping[str, Any]], actor: Any = None
) -> None:
    """Replace the weekly opening pattern of ``location``.

    ``periods`` are dicts with ``weekday`` (0 = Monday), ``opens``, ``closes`` (times or
    ``"HH:MM"``, ``"24:00"`` = midnight) and ``kind`` (staffed / self_service). Guarantees: every
    period closes after it opens; periods of one day never overlap, whatever their kind (a
    moment is either staffed or self-service). Takes a row lock on the location. Audited.
    """
    cleaned = [_clean_period(raw, index=index) for index, raw in enumerate(periods)]
    for weekday in range(7):
        if _overlap((opens, closes) for day, opens, closes, _kind in cleaned if day == weekday):
            raise DomainError(
                "overlapping_hours",
                _("Openingstijden op dezelfde dag mogen elkaar niet overlappen."),
                details={"weekday": weekday},
            )
    with transaction.atomic():
        Location.objects.select_for_update().filter(pk=location.pk).first()
        OpeningPeriod.objects.filter(location=location).delete()
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(location=location, weekday=day, opens=opens, closes=closes, kind=kind)
            for day, opens, closes, kind in cleaned
        )
        audit_record(
            action="network.location_hours_set",
            actor=actor,
            subject=location,
            organisation_id=location.organisation_id,
            data={
                "periods": [
                    [day, validation.time_format(o), validation.time_format(c), kind]
                    for day, o, c, kind in sorted(cleaned)
                ]
            },
        )


def location_add_exception(
    *,
    location: Location,
    date: dt.date,
    closed: bool,
    opens: dt.time | str | None = None,
    closes: dt.time | str | None = None,
    kind: str = OpeningKind.STAFFED,
    reason: str = "",
    actor: Any = None,
) -> OpeningException:
    """Record hours for one date that replace the weekly pattern (closed, or a special period).

    Guarantees: the date is today or later; a closed day has no other exceptions; special
    periods close after they open and do not overlap other periods of that date. Takes a row
    lock on the location. Audited.
    """
    if not isinstance(date, dt.date) or date < clock.today():
        raise _invalid("invalid_date", _("Kies een datum van vandaag of later."), "date")
    reason = (reason or "").strip()
    if len(reason) > 120:
        raise _invalid("invalid_text", _("De reden is te lang (hoogstens 120 tekens)."), "reason")
    if kind not in OpeningKind.values:
        raise _invalid("invalid_hours", _("Kies een geldige soort openingstijd."), "kind")
    opens_time = closes_time = None
    if closed:
        if opens is not None or closes is not None:
            raise _invalid(
                "invalid_hours", _("Een gesloten dag heeft geen openingstijden."), "opens"
            )
    else:
        try:
            opens_time = validation.time_parse(opens)  # type: ignore[arg-type]
            closes_time = validation.time_parse(closes)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _invalid(
                "invalid_hours", _("Vul een begin- en eindtijd (uu:mm) in."), "opens"
            ) from None
        if closes_time <= opens_time:
            raise _invalid(
                "invalid_hours", _("De sluitingstijd moet na de openingstijd liggen."), "closes"
            )

    with transaction.atomic():
        Location.objects.select_for_update().filter(pk=location.pk).first()
        existing = list(OpeningException.objects.filter(location=location, date=date))
        if existing and (closed or any(exc.closed for exc in existing)):
            raise _invalid(
                "conflicting_exception",
                _("Voor deze datum zijn al afwijkende tijden. Verwijder die eerst."),
                "date",
            )
        if not closed and _overlap(
            [(opens_time, closes_time)] + [(exc.opens, exc.closes) for exc in existing]  # type: ignore[list-item]
        ):
            raise _invalid(
                "overlapping_hours",
                _("Deze tijden overlappen andere afwijkende tijden op die datum."),
                "opens",
            )
        exception = OpeningException.objects.create(
            location=location,
            date=date,
            closed=closed,
            opens=opens_time,
            closes=closes_time,
            kind=kind,
            reason=reason,
        )
        audit_record(
            action="network.location_exception_added",
            actor=actor,
            subject=location,
            organisation_id=location.organisation_id,
            data={
                "date": date.isoformat(),
                "closed": closed,
                "opens": validation.time_format(opens_time) if opens_time else None,
                "closes": validation.time_format(closes_time) if closes_time else None,
                "kind": kind,
                "reason": reason,
            },
        )
    return exception


def location_remove_exception(*, location: Location, exception_id: int, actor: Any = None) -> None:
    """Remove one exception of ``location``; an id of another location is unknown. Audited."""
    with transaction.atomic():
        exception = (
            OpeningException.objects.select_for_update()
            .filter(location=location, pk=exception_id)
            .first()
        )
        if exception is None:
            raise NotFound(
                "unknown_exception",
                _("Deze afwijkende openingstijd bestaat niet (meer)."),
            )
        exception.delete()
        audit_record(
            action="network.location_exception_removed",
            actor=actor,
            subject=location,
            organisation_id=location.organisation_id,
            data={"date": exception.date.isoformat(), "closed": exception.closed},
        )
