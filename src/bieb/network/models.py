"""The national library network: municipalities, postcode areas, organisations, locations, hours.

Invariants live in the database (unique slugs and codes, coordinate ranges, closing after
opening, one "closed" exception per day). What a check constraint cannot express portably (no
overlapping periods on one day) is enforced by ``services.location_set_hours`` and
``services.location_add_exception``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bieb.core.models import TimeStampedModel

_LAT_RANGE = Q(lat__gte=-90) & Q(lat__lte=90)
_LON_RANGE = Q(lon__gte=-180) & Q(lon__lte=180)


class Municipality(models.Model):
    """A municipality of 1 January 2024 (CBS code ``GM0363``), with a representative point."""

    cbs_code = models.CharField(_("CBS-code"), max_length=6, unique=True)
    name = models.CharField(_("naam"), max_length=100)
    # Lower-case, accent-free, punctuation-free form of the name, for search ("s gravenhage").
    name_key = models.CharField(_("zoeknaam"), max_length=100, db_index=True, editable=False)
    province = models.CharField(_("provincie"), max_length=40)
    population = models.PositiveIntegerField(_("inwoners"), default=0)
    lat = models.FloatField(_("breedtegraad"))
    lon = models.FloatField(_("lengtegraad"))

    class Meta:
        verbose_name = _("gemeente")
        verbose_name_plural = _("gemeenten")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cbs_code__startswith="GM"), name="network_municipality_code_gm"
            ),
            models.CheckConstraint(condition=_LAT_RANGE, name="network_municipality_lat_range"),
            models.CheckConstraint(condition=_LON_RANGE, name="network_municipality_lon_range"),
        ]

    def __str__(self) -> str:
        return self.name


class PostcodeArea(models.Model):
    """A four-digit postcode area (PC4) with its population and a place point (GeoNames)."""

    pc4 = models.CharField(_("postcode (4 cijfers)"), max_length=4, unique=True)
    place = models.CharField(_("plaats"), max_length=100, blank=True)
    place_key = models.CharField(_("zoeknaam"), max_length=100, db_index=True, editable=False)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("gemeente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="postcode_areas",
    )
    inhabitants = models.PositiveIntegerField(_("inwoners"), null=True, blank=True)
    inhabitants_0_14 = models.PositiveIntegerField(_("inwoners 0-14 jaar"), null=True, blank=True)
    inhabitants_15_19 = models.PositiveIntegerField(_("inwoners 15-19 jaar"), null=True, blank=True)
    lat = models.FloatField(_("breedtegraad"))
    lon = models.FloatField(_("lengtegraad"))

    class Meta:
        verbose_name = _("postcodegebied")
        verbose_name_plural = _("postcodegebieden")
        ordering = ["pc4"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pc4__gte="1000") & Q(pc4__lte="9999"), name="network_pc4_range"
            ),
            models.CheckConstraint(condition=_LAT_RANGE, name="network_pc4_lat_range"),
            models.CheckConstraint(condition=_LON_RANGE, name="network_pc4_lon_range"),
        ]

    def __str__(self) -> str:
        return f"{self.pc4} {self.place}".strip()


class Organisation(TimeStampedModel):
    """A library organisation (a legal entity with a KvK number) serving one or more municipalities."""

    name = models.CharField(_("naam"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    code = models.CharField(_("code"), max_length=12, unique=True)
    kvk_number = models.CharField(_("KvK-nummer"), max_length=8, unique=True)
    municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("gemeenten"),
        related_name="organisations",
        blank=True,
    )
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mailadres"), blank=True)
    phone = models.CharField(_("telefoonnummer"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("bibliotheekorganisatie")
        verbose_name_plural = _("bibliotheekorganisaties")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="network_organisation_slug_set"),
            models.CheckConstraint(condition=~Q(code=""), name="network_organisation_code_set"),
        ]

    def __str__(self) -> str:
        return self.name


class LocationKind(models.TextChoices):
    BRANCH = "branch", _("vestiging")
    SERVICE_POINT = "service_point", _("servicepunt")
    SCHOOL_LIBRARY = "school_library", _("schoolbibliotheek")
    POPUP = "popup", _("pop-upbibliotheek")
    PARTNER_VENUE = "partner_venue", _("partnerlocatie")
    LOCKER = "locker", _("afhaalkluis")
    MOBILE = "mobile", _("bibliotheekbus")


class Location(TimeStampedModel):
    """A place where residents meet the library: a branch, a locker, a mobile library stop..."""

    Kind = LocationKind

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="locations",
    )
    kind = models.CharField(_("soort"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("naam"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("omschrijving"), blank=True)
    street = models.CharField(_("straat"), max_length=120)
    house_number = models.CharField(_("huisnummer"), max_length=12)
    postcode = models.CharField(_("postcode"), max_length=7)
    city = models.CharField(_("plaats"), max_length=100)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("gemeente"),
        on_delete=models.PROTECT,
        related_name="locations",
    )
    lat = models.FloatField(_("breedtegraad"))
    lon = models.FloatField(_("lengtegraad"))
    phone = models.CharField(_("telefoonnummer"), max_length=20, blank=True)
    # accessibility
    wheelchair_accessible = models.BooleanField(_("rolstoeltoegankelijk"), default=False)
    accessible_toilet = models.BooleanField(_("toegankelijk toilet"), default=False)
    hearing_loop = models.BooleanField(_("ringleiding"), default=False)
    accessibility_notes = models.TextField(_("toelichting toegankelijkheid"), blank=True)
    # facilities
    study_places = models.PositiveIntegerField(_("studieplekken"), default=0)
    has_makerspace = models.BooleanField(_("makerspace"), default=False)
    meeting_rooms = models.PositiveIntegerField(_("vergaderruimtes"), default=0)
    has_wifi = models.BooleanField(_("wifi"), default=False)
    has_printing = models.BooleanField(_("printen"), default=False)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("locatie")
        verbose_name_plural = _("locaties")
        ordering = ["name"]
        indexes = [
            # The nearest-location search filters on a lat/lon bounding box first.
            models.Index(fields=["lat", "lon"], name="network_location_latlon"),
            models.Index(fields=["organisation", "kind"], name="network_location_org_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="network_location_slug_set"),
            models.CheckConstraint(
                condition=Q(kind__in=LocationKind.values),
                name="network_location_kind_valid",
            ),
            models.CheckConstraint(condition=_LAT_RANGE, name="network_location_lat_range"),
            models.CheckConstraint(condition=_LON_RANGE, name="network_location_lon_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address_line(self) -> str:
        return f"{self.street} {self.house_number}".strip()


class OpeningKind(models.TextChoices):
    STAFFED = "staffed", _("bemand")
    SELF_SERVICE = "self_service", _("zelfservice")


WEEKDAY_CHOICES = [
    (0, pgettext_lazy("weekday", "maandag")),
    (1, pgettext_lazy("weekday", "dinsdag")),
    (2, pgettext_lazy("weekday", "woensdag")),
    (3, pgettext_lazy("weekday", "donderdag")),
    (4, pgettext_lazy("weekday", "vrijdag")),
    (5, pgettext_lazy("weekday", "zaterdag")),
    (6, pgettext_lazy("weekday", "zondag")),
]


class OpeningPeriod(models.Model):
    """One period of the weekly pattern. ``closes`` of 23:59:59.999999 means "until midnight"."""

    location = models.ForeignKey(
        Location,
        verbose_name=_("locatie"),
        on_delete=models.CASCADE,
        related_name="opening_periods",
    )
    weekday = models.PositiveSmallIntegerField(_("weekdag"), choices=WEEKDAY_CHOICES)
    opens = models.TimeField(_("opent"))
    closes = models.TimeField(_("sluit"))
    kind = models.CharField(
        _("soort"), max_length=20, choices=OpeningKind.choices, default=OpeningKind.STAFFED
    )

    class Meta:
        verbose_name = _("openingstijd")
        verbose_name_plural = _("openingstijden")
        ordering = ["location", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="network_period_closes_after_opens"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="network_period_weekday"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OpeningKind.values),
                name="network_period_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["location", "weekday", "opens"], name="network_period_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class OpeningException(models.Model):
    """Hours for one date that replace the weekly pattern: closed, or special periods."""

    location = models.ForeignKey(
        Location,
        verbose_name=_("locatie"),
        on_delete=models.CASCADE,
        related_name="opening_exceptions",
    )
    date = models.DateField(_("datum"))
    closed = models.BooleanField(_("gesloten"), default=True)
    opens = models.TimeField(_("opent"), null=True, blank=True)
    closes = models.TimeField(_("sluit"), null=True, blank=True)
    kind = models.CharField(
        _("soort"),
        max_length=20,
        choices=OpeningKind.choices,
        default=OpeningKind.STAFFED,
    )
    reason = models.CharField(_("reden"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("afwijkende openingstijd")
        verbose_name_plural = _("afwijkende openingstijden")
        ordering = ["location", "date", "opens"]
        indexes = [models.Index(fields=["location", "date"], name="network_exception_loc_date")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(closed=True, opens__isnull=True, closes__isnull=True)
                    | Q(
                        closed=False,
                        opens__isnull=False,
                        closes__isnull=False,
                        closes__gt=models.F("opens"),
                    )
                ),
                name="network_exception_hours_consistent",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OpeningKind.values),
                name="network_exception_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["location", "date"],
                condition=Q(closed=True),
                name="network_exception_one_closed_per_day",
            ),
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%Y-%m-%d} {_('gesloten')}"
        return f"{self.date:%Y-%m-%d} {self.opens:%H:%M}-{self.closes:%H:%M}"
