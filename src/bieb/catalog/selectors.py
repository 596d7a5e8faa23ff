"""Reads of the catalogue for the pages, the API and other apps.

Every list selector costs a fixed number of queries for a whole page of editions, however many
copies, locations and licences they have: availability is one grouped query over the items,
one over the locations they are at and one over the licences (``availability_for``), and the
other formats of the works are one more (``other_formats``).

Availability is shown to a resident: copies per location (nearest first when a point is known,
else the resident's own library first) and, for digital editions, whether a licence the
resident may use (a national one, or one of their library) has room now, or how long the wait
is. Without a home library every licence counts: a visitor can join any library.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.catalog.models import (
    DIGITAL_FORMATS,
    Contributor,
    ContributorRole,
    DigitalLicence,
    Edition,
    EditionContributor,
    Format,
    Identifier,
    Item,
    ItemStatus,
    LicenceModel,
    Subject,
)
from bieb.catalog.services import licence_open_q
from bieb.core import clock
from bieb.core.errors import DomainError, NotFound
from bieb.network.geo import haversine_km
from bieb.network.models import Location

__all__ = [
    "Availability",
    "DigitalAvailability",
    "EditionDetail",
    "EditionSummary",
    "LicenceState",
    "LocationHolding",
    "Page",
    "SubjectCount",
    "SubjectListing",
    "author_detail",
    "availability_for",
    "edition_detail",
    "edition_summaries",
    "new_editions",
    "other_formats",
    "subject_detail",
    "subject_list",
]

T = TypeVar("T")

#: "new in the collection" shows at most this many editions, newest first
NEW_LIMIT = 200
SUBJECT_TOP = 24
#: the letters of the subject index; anything else is under "#"
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")

_VERBS = {Format.EBOOK: "read", Format.AUDIOBOOK: "listen", Format.STREAMING: "watch"}


# --- pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. A number past the end gives an empty page, not an error."""

    items: list[T]
    number: int
    per_page: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)


def _check_page(page: int, per_page: int) -> None:
    if page < 1:
        raise DomainError("invalid_page", _("Het paginanummer moet 1 of hoger zijn."))
    if not 1 <= per_page <= 100:
        raise DomainError("invalid_per_page", _("Kies 1 tot en met 100 resultaten per pagina."))


def _page_ids(queryset: QuerySet, page: int, per_page: int, *, cap: int | None = None):
    """The edition ids on ``page`` of ``queryset`` and the total (at most ``cap``)."""
    _check_page(page, per_page)
    count = queryset.count()
    if cap is not None:
        count = min(count, cap)
    start = (page - 1) * per_page
    end = min(start + per_page, count)
    ids = list(queryset.values_list("pk", flat=True)[start:end]) if start < count else []
    return ids, count


# --- availability ---------------------------------------------------------------------------


@dataclass
class LocationHolding:
    """The copies of one edition at one location (where they are now, or are heading)."""

    location_id: int
    name: str
    slug: str
    kind_label: str
    organisation_id: int
    organisation_name: str
    organisation_slug: str
    organisation_code: str
    available: int = 0
    on_loan: int = 0
    in_transit: int = 0
    on_hold_shelf: int = 0
    #: in repair or missing: there, but not lendable
    unavailable: int = 0
    earliest_due: dt.date | None = None
    shelf_marks: list[str] = field(default_factory=list)
    distance_km: float | None = None
    is_home: bool = False

    @property
    def total(self) -> int:
        return (
            self.available + self.on_loan + self.in_transit + self.on_hold_shelf + self.unavailable
        )

    @property
    def status_label(self) -> str:
        """ "2 aanwezig, 1 uitgeleend" """
        parts = []
        if self.available:
            parts.append(_("%(n)d aanwezig") % {"n": self.available})
        if self.on_loan:
            parts.append(_("%(n)d uitgeleend") % {"n": self.on_loan})
        if self.in_transit:
            parts.append(_("%(n)d onderweg") % {"n": self.in_transit})
        if self.on_hold_shelf:
            parts.append(_("%(n)d klaargezet voor reservering") % {"n": self.on_hold_shelf})
        if self.unavailable:
            parts.append(_("%(n)d niet beschikbaar") % {"n": self.unavailable})
        return ", ".join(parts)


@dataclass(frozen=True)
class LicenceState:
    """One licence the resident may use, as the detail page and the API show it."""

    id: int
    organisation_name: str | None  # None: a national licence
    organisation_code: str | None
    model: str
    model_label: str
    concurrent_users: int | None  # None: unlimited ("always available")
    active_loans: int
    holds_waiting: int
    loans_left: int | None  # metered by loans only
    valid_until: dt.date | None
    loan_days: int
    open_now: bool


@dataclass(frozen=True)
class DigitalAvailability:
    """``state``: "now" (a licence has room), "wait" (join the waiting list) or "none" (no
    licence the resident may use lends it, now or later)."""

    state: str
    action: str  # "read" | "listen" | "watch"
    holds_waiting: int = 0
    wait_days: int | None = None
    licences: list[LicenceState] = field(default_factory=list)

    @property
    def now(self) -> bool:
        return self.state == "now"

    @property
    def label(self) -> str:
        if self.state == "now":
            return {
                "read": _("Direct lezen"),
                "listen": _("Direct luisteren"),
                "watch": _("Direct kijken"),
            }[self.action]
        if self.state == "wait":
            return ngettext(
                "Wachtlijst: %(n)d wachtende", "Wachtlijst: %(n)d wachtenden", self.holds_waiting
            ) % {"n": self.holds_waiting}
        return _("Nu niet digitaal te leen")

    @property
    def wait_label(self) -> str:
        if self.state != "wait" or self.wait_days is None:
            return ""
        return ngettext(
            "Verwachte wachttijd: ongeveer %(n)d dag",
            "Verwachte wachttijd: ongeveer %(n)d dagen",
            self.wait_days,
        ) % {"n": self.wait_days}


@dataclass
class Availability:
    """What a resident can get of one edition: copies per location, or the digital state."""

    edition_id: int
    format: str
    available: int = 0
    on_loan: int = 0
    in_transit: int = 0
    on_hold_shelf: int = 0
    unavailable: int = 0
    earliest_due: dt.date | None = None
    #: copies on the shelf at the resident's own library
    home_available: int = 0
    locations: list[LocationHolding] = field(default_factory=list)
    digital: DigitalAvailability | None = None

    @property
    def is_digital(self) -> bool:
        return self.format in DIGITAL_FORMATS

    @property
    def total(self) -> int:
        return (
            self.available + self.on_loan + self.in_transit + self.on_hold_shelf + self.unavailable
        )

    @property
    def locations_available(self) -> int:
        return sum(1 for row in self.locations if row.available)

    @property
    def now(self) -> bool:
        """Lendable now: a copy on a shelf or a digital licence with room."""
        return bool(self.available) or bool(self.digital and self.digital.now)

    @property
    def label(self) -> str:
        """One line for a result list: "Nu beschikbaar in 3 vestigingen", "Uitgeleend tot
        12 december", "Direct lezen", "Wachtlijst: 2 wachtenden"."""
        if self.digital is not None:
            return self.digital.label
        if self.available:
            return ngettext(
                "Nu beschikbaar in %(n)d vestiging",
                "Nu beschikbaar in %(n)d vestigingen",
                self.locations_available,
            ) % {"n": self.locations_available}
        if self.on_loan and self.earliest_due:
            return _("Uitgeleend tot %(date)s") % {"date": date_format(self.earliest_due, "j F")}
        if self.on_loan:
            return _("Uitgeleend")
        if self.on_hold_shelf:
            return _("Gereserveerd door een ander")
        if self.in_transit:
            return _("Onderweg naar een vestiging")
        if self.unavailable:
            return _("Tijdelijk niet beschikbaar")
        return _("Geen exemplaren in de collectie")


def _digital(
    edition_format: str, licences: list[LicenceState], today: dt.date
) -> DigitalAvailability:
    action = _VERBS.get(Format(edition_format), "read")
    if any(licence.open_now for licence in licences):
        return DigitalAvailability(state="now", action=action, licences=licences)
    # Licences that will lend again: current, and (metered by loans) not used up. The wait is
    # a cautious estimate: every copy turns over once per loan period.
    later = [
        licence
        for licence in licences
        if (licence.valid_until is None or licence.valid_until >= today)
        and (licence.loans_left is None or licence.loans_left > 0)
    ]
    if not later:
        return DigitalAvailability(state="none", action=action, licences=licences)
    holds = sum(licence.holds_waiting for licence in later)
    copies = sum(licence.concurrent_users or 1 for licence in later)
    loan_days = min(licence.loan_days for licence in later)
    wait_days = math.ceil((holds + 1) / copies) * loan_days
    return DigitalAvailability(
        state="wait", action=action, holds_waiting=holds, wait_days=wait_days, licences=licences
    )


_STATUS_FIELD = {
    ItemStatus.AVAILABLE: "available",
    ItemStatus.ON_LOAN: "on_loan",
    ItemStatus.IN_TRANSIT: "in_transit",
    ItemStatus.ON_HOLD_SHELF: "on_hold_shelf",
    ItemStatus.REPAIR: "unavailable",
    ItemStatus.MISSING: "unavailable",
}


def _earlier(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def availability_for(
    edition_ids: Iterable[int],
    *,
    organisation_id: int | None = None,
    near: tuple[float, float] | None = None,
) -> dict[int, Availability]:
    """Availability of ``edition_ids`` for a resident of ``organisation_id`` (their home
    library, if known) at ``near`` (lat, lon), in four queries whatever their number.

    Locations come nearest first when ``near`` is given, else the home library's first, then
    those with copies on the shelf, then by name. Withdrawn copies do not count.
    """
    ids = sorted({int(pk) for pk in edition_ids})
    if not ids:
        return {}
    today = clock.today()
    result = {
        pk: Availability(edition_id=pk, format=fmt)
        for pk, fmt in Edition.objects.filter(pk__in=ids).values_list("pk", "format")
    }
    if not result:
        return {}

    grouped = (
        Item.objects.filter(edition_id__in=ids)
        .exclude(status=ItemStatus.WITHDRAWN)
        .values("edition_id", "location_id", "status", "shelf_mark")
        .annotate(copies=Count("id"), due=Min("due_date"))
        .order_by()
    )
    rows = list(grouped)
    locations = {
        location.pk: location
        for location in Location.objects.filter(
            pk__in={row["location_id"] for row in rows}
        ).select_related("organisation")
    }
    holdings: dict[tuple[int, int], LocationHolding] = {}
    for row in rows:
        location = locations[row["location_id"]]
        key = (row["edition_id"], location.pk)
        holding = holdings.get(key)
        if holding is None:
            holding = holdings[key] = LocationHolding(
                location_id=location.pk,
                name=location.name,
                slug=location.slug,
                kind_label=str(location.get_kind_display()),
                organisation_id=location.organisation_id,
                organisation_name=location.organisation.name,
                organisation_slug=location.organisation.slug,
                organisation_code=location.organisation.code,
                distance_km=(
                    round(haversine_km(near[0], near[1], location.lat, location.lon), 1)
                    if near
                    else None
                ),
                is_home=location.organisation_id == organisation_id,
            )
        name = _STATUS_FIELD[ItemStatus(row["status"])]
        setattr(holding, name, getattr(holding, name) + row["copies"])
        if row["status"] == ItemStatus.ON_LOAN:
            holding.earliest_due = _earlier(holding.earliest_due, row["due"])
        mark = row["shelf_mark"]
        if mark and mark not in holding.shelf_marks:
            holding.shelf_marks.append(mark)
    for (edition_id, _location_id), holding in holdings.items():
        availability = result[edition_id]
        availability.locations.append(holding)
        availability.available += holding.available
        availability.on_loan += holding.on_loan
        availability.in_transit += holding.in_transit
        availability.on_hold_shelf += holding.on_hold_shelf
        availability.unavailable += holding.unavailable
        availability.earliest_due = _earlier(availability.earliest_due, holding.earliest_due)
        if holding.is_home:
            availability.home_available += holding.available
    for availability in result.values():
        availability.locations.sort(key=_location_order(near))
        for holding in availability.locations:
            holding.shelf_marks.sort()

    digital_ids = [pk for pk, a in result.items() if a.is_digital]
    if digital_ids:
        licences: dict[int, list[LicenceState]] = defaultdict(list)
        query = DigitalLicence.objects.filter(edition_id__in=digital_ids, is_active=True)
        if organisation_id is not None:
            query = query.filter(Q(organisation__isnull=True) | Q(organisation_id=organisation_id))
        for licence in (
            query.select_related("organisation")
            .annotate(
                open_now=ExpressionWrapper(licence_open_q(today), output_field=BooleanField())
            )
            .order_by(F("organisation_id").asc(nulls_first=True), "pk")
        ):
            always = licence.model == LicenceModel.ALWAYS
            licences[licence.edition_id].append(
                LicenceState(
                    id=licence.pk,
                    organisation_name=licence.organisation.name if licence.organisation else None,
                    organisation_code=licence.organisation.code if licence.organisation else None,
                    model=licence.model,
                    model_label=str(licence.get_model_display()),
                    concurrent_users=None if always else licence.concurrent_users,
                    active_loans=licence.active_loans,
                    holds_waiting=licence.holds_waiting,
                    loans_left=(
                        licence.loans_total - licence.loans_used
                        if licence.loans_total is not None
                        else None
                    ),
                    valid_until=licence.valid_until,
                    loan_days=licence.loan_days,
                    open_now=bool(licence.open_now),
                )
            )
        for pk in digital_ids:
            result[pk].digital = _digital(result[pk].format, licences.get(pk, []), today)
    return result


def _location_order(near: tuple[float, float] | None):
    if near is not None:
        return lambda h: (h.distance_km, h.name, h.location_id)
    return lambda h: (not h.is_home, not h.available, h.organisation_name, h.name, h.location_id)


# --- formats of a work ----------------------------------------------------------------------


def other_formats(work_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """Every edition of ``work_ids`` as ``(edition_id, format)``, per work, in the order of
    the format list (book first) and then oldest first. One query."""
    order = {value: index for index, value in enumerate(Format.values)}
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for work_id, pk, fmt in (
        Edition.objects.filter(work_id__in=set(work_ids))
        .values_list("work_id", "pk", "format")
        .order_by("work_id", "pk")
    ):
        found[work_id].append((pk, fmt))
    for editions in found.values():
        editions.sort(key=lambda e: (order.get(e[1], 99), e[0]))
    return dict(found)


def _formats_besides(
    edition: Edition, editions: Sequence[tuple[int, str]]
) -> list[tuple[int, str]]:
    """One edition per format other than ``edition``'s own: "also as e-book / audiobook"."""
    seen = {edition.format}
    chosen = []
    for pk, fmt in editions:
        if fmt not in seen:
            seen.add(fmt)
            chosen.append((pk, fmt))
    return chosen


# --- result lists ---------------------------------------------------------------------------


@dataclass
class EditionSummary:
    """An edition as a result list shows it."""

    edition: Edition
    credits: list[EditionContributor]
    availability: Availability
    #: one other edition per other format of the work: ``(edition_id, format)``
    formats: list[tuple[int, str]]
    #: every edition of the work, this one included: ``(edition_id, format)``
    work_editions: list[tuple[int, str]]

    @property
    def format_links(self) -> list[tuple[int, str]]:
        """``(edition_id, format label)`` of the other formats."""
        return [(pk, str(Format(fmt).label)) for pk, fmt in self.formats]


def _credits_query() -> QuerySet[EditionContributor]:
    return EditionContributor.objects.select_related("contributor").order_by("position", "pk")


def edition_summaries(
    edition_ids: Sequence[int],
    *,
    organisation_id: int | None = None,
    near: tuple[float, float] | None = None,
) -> list[EditionSummary]:
    """The editions ``edition_ids`` in that order, with makers, availability and the other
    formats of their works: seven queries for any number of editions."""
    ids = list(dict.fromkeys(int(pk) for pk in edition_ids))
    if not ids:
        return []
    editions = {
        edition.pk: edition
        for edition in Edition.objects.filter(pk__in=ids).prefetch_related(
            Prefetch("credits", queryset=_credits_query())
        )
    }
    availability = availability_for(editions, organisation_id=organisation_id, near=near)
    formats = other_formats({edition.work_id for edition in editions.values()})
    summaries = []
    for pk in ids:
        edition = editions.get(pk)
        if edition is None:  # removed between the search and now
            continue
        work_editions = formats.get(edition.work_id, [])
        summaries.append(
            EditionSummary(
                edition=edition,
                credits=list(edition.credits.all()),
                availability=availability[pk],
                formats=_formats_besides(edition, work_editions),
                work_editions=work_editions,
            )
        )
    return summaries


# --- an edition -----------------------------------------------------------------------------


@dataclass
class EditionDetail:
    edition: Edition
    credits: list[EditionContributor]
    subjects: list[Subject]
    identifiers: list[Identifier]
    availability: Availability
    #: the other editions of the work, book first
    other_editions: list[Edition]


def edition_detail(
    edition_id: int,
    *,
    organisation_id: int | None = None,
    near: tuple[float, float] | None = None,
) -> EditionDetail:
    """An edition with its work, makers, subjects, identifiers, holdings per location,
    licences and the other editions of its work. Raises ``NotFound`` (``unknown_edition``)."""
    edition = (
        Edition.objects.select_related("work")
        .prefetch_related(
            Prefetch("credits", queryset=_credits_query()),
            Prefetch("subjects", queryset=Subject.objects.order_by("label")),
            Prefetch("identifiers", queryset=Identifier.objects.order_by("-is_valid", "pk")),
        )
        .filter(pk=edition_id)
        .first()
    )
    if edition is None:
        raise NotFound("unknown_edition", _("Deze titel bestaat niet (meer) in de catalogus."))
    order = {value: index for index, value in enumerate(Format.values)}
    others = sorted(
        Edition.objects.filter(work_id=edition.work_id).exclude(pk=edition.pk),
        key=lambda e: (order.get(e.format, 99), e.pk),
    )
    return EditionDetail(
        edition=edition,
        credits=list(edition.credits.all()),
        subjects=list(edition.subjects.all()),
        identifiers=list(edition.identifiers.all()),
        availability=availability_for([edition.pk], organisation_id=organisation_id, near=near)[
            edition.pk
        ],
        other_editions=others,
    )


# --- makers ---------------------------------------------------------------------------------


@dataclass
class AuthorDetail:
    contributor: Contributor
    #: the roles the maker has across the catalogue, e.g. ["auteur", "vertaler"]
    roles: list[str]
    page: Page[EditionSummary]


def author_detail(
    slug: str,
    *,
    page: int = 1,
    per_page: int = 20,
    organisation_id: int | None = None,
) -> AuthorDetail:
    """A maker and their editions, newest first. Raises ``NotFound`` (``unknown_contributor``)."""
    contributor = Contributor.objects.filter(slug=slug).first()
    if contributor is None:
        raise NotFound("unknown_contributor", _("Deze maker staat niet in de catalogus."))
    editions = Edition.objects.filter(
        Exists(EditionContributor.objects.filter(edition=OuterRef("pk"), contributor=contributor))
    ).order_by(F("year").desc(nulls_last=True), "title", "pk")
    ids, count = _page_ids(editions, page, per_page)
    roles = (
        EditionContributor.objects.filter(contributor=contributor)
        .values_list("role", flat=True)
        .distinct()
        .order_by("role")
    )
    return AuthorDetail(
        contributor=contributor,
        roles=[str(ContributorRole(role).label) for role in roles],
        page=Page(
            items=edition_summaries(ids, organisation_id=organisation_id),
            number=page,
            per_page=per_page,
            count=count,
        ),
    )


# --- subjects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectCount:
    slug: str
    label: str
    kind_label: str
    editions: int


@dataclass
class SubjectListing:
    #: the subjects with the most editions
    top: list[SubjectCount]
    #: the alphabetical index (of ``letter`` when one is chosen)
    page: Page[SubjectCount]
    letter: str
    letters: tuple[str, ...] = LETTERS


def _subject_counts(subjects: Iterable[Subject]) -> list[SubjectCount]:
    return [
        SubjectCount(slug=s.slug, label=s.label, kind_label=str(s.get_kind_display()), editions=s.n)
        for s in subjects
    ]


def subject_list(
    *, letter: str = "", page: int = 1, per_page: int = 100, top: int = SUBJECT_TOP
) -> SubjectListing:
    """Subjects that have editions: the ``top`` biggest, and an alphabetical index (all of
    them, or those starting with ``letter``; "#" for the rest), with edition counts."""
    _check_page(page, per_page)
    letter = letter.lower()[:1]
    if letter and letter not in LETTERS and letter != "#":
        raise DomainError("invalid_letter", _("Kies een letter van A tot en met Z."))
    through = Edition.subjects.through
    biggest = (
        Subject.objects.annotate(n=Count("editions")).filter(n__gt=0).order_by("-n", "label")[:top]
    )
    listed = Subject.objects.filter(Exists(through.objects.filter(subject_id=OuterRef("pk"))))
    if letter == "#":
        starts = Q()
        for each in LETTERS:
            starts |= Q(key__startswith=each)
        listed = listed.exclude(starts)
    elif letter:
        listed = listed.filter(key__startswith=letter)
    count = listed.count()
    start = (page - 1) * per_page
    rows = []
    if start < count:
        per_subject = (
            through.objects.filter(subject_id=OuterRef("pk"))
            .order_by()
            .values("subject_id")
            .annotate(c=Count("*"))
            .values("c")
        )
        rows = list(
            listed.annotate(n=Coalesce(Subquery(per_subject), 0)).order_by("key", "pk")[
                start : start + per_page
            ]
        )
    return SubjectListing(
        top=_subject_counts(biggest),
        page=Page(items=_subject_counts(rows), number=page, per_page=per_page, count=count),
        letter=letter,
    )


@dataclass
class SubjectDetail:
    subject: Subject
    page: Page[EditionSummary]


def subject_detail(
    slug: str,
    *,
    page: int = 1,
    per_page: int = 20,
    organisation_id: int | None = None,
) -> SubjectDetail:
    """A subject and its editions, newest first. Raises ``NotFound`` (``unknown_subject``)."""
    subject = Subject.objects.filter(slug=slug).first()
    if subject is None:
        raise NotFound("unknown_subject", _("Dit onderwerp staat niet in de catalogus."))
    through = Edition.subjects.through
    editions = Edition.objects.filter(
        Exists(through.objects.filter(edition_id=OuterRef("pk"), subject_id=subject.pk))
    ).order_by(F("year").desc(nulls_last=True), "title", "pk")
    ids, count = _page_ids(editions, page, per_page)
    return SubjectDetail(
        subject=subject,
        page=Page(
            items=edition_summaries(ids, organisation_id=organisation_id),
            number=page,
            per_page=per_page,
            count=count,
        ),
    )


# --- new in the collection ------------------------------------------------------------------


def new_editions(
    *,
    limit: int = NEW_LIMIT,
    held_by: int | None = None,
    page: int = 1,
    per_page: int = 20,
    organisation_id: int | None = None,
) -> Page[EditionSummary]:
    """The ``limit`` newest editions in the catalogue, newest first; with ``held_by`` only
    those that organisation holds (copies, or a licence of its own). ``organisation_id`` is
    the resident's library for the availability shown."""
    editions = Edition.objects.order_by("-created_at", "-pk")
    if held_by is not None:
        editions = editions.filter(
            Exists(
                Item.objects.filter(edition_id=OuterRef("pk"), organisation_id=held_by).exclude(
                    status=ItemStatus.WITHDRAWN
                )
            )
            | Exists(
                DigitalLicence.objects.filter(
                    edition_id=OuterRef("pk"), organisation_id=held_by, is_active=True
                )
            )
        )
    ids, count = _page_ids(editions, page, per_page, cap=limit)
    return Page(
        items=edition_summaries(ids, organisation_id=organisation_id),
        number=page,
        per_page=per_page,
        count=count,
    )
