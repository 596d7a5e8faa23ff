"""The national catalogue: works, editions (manifestations), items (physical copies), digital
licences, contributors and subjects.

FRBR in the small: a ``Work`` groups the ``Edition`` rows that carry the same text or film (the
book, the large-print book, the e-book, the audiobook, the film); an ``Item`` is one physical
copy of an edition owned by one organisation; a ``DigitalLicence`` is what an organisation (or
the whole network, ``organisation`` empty) bought for a digital edition.

Invariants in the database: one edition per (source, source id); unique barcodes; item and
licence counters never below zero or above their limit; status and format values from their
choices. The search index is kept by ``bieb.catalog.search`` (FTS5 on SQLite, tsvector on
PostgreSQL) and refreshed by the services that change editions.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bieb.core.models import TimeStampedModel


class Format(models.TextChoices):
    BOOK = "book", _("boek")
    LARGE_PRINT = "large_print", _("grote letter")
    EBOOK = "ebook", _("e-book")
    AUDIOBOOK = "audiobook", _("luisterboek")
    AUDIO_CD = "audio_cd", _("luisterboek op cd")
    FILM = "film", _("film (dvd/blu-ray)")
    STREAMING = "streaming", _("film (streaming)")
    MUSIC = "music", _("muziek")
    GAME = "game", _("spel")
    MAGAZINE = "magazine", _("tijdschrift")
    THING = "thing", _("ding")


#: Formats lent as a file or a stream under a licence instead of as a physical item.
DIGITAL_FORMATS = frozenset({Format.EBOOK, Format.AUDIOBOOK, Format.STREAMING})


class Audience(models.TextChoices):
    TODDLER = "toddler", _("peuters en kleuters (0-4)")
    CHILD = "child", _("kinderen (4-12)")
    TEEN = "teen", _("jongeren (12-18)")
    ADULT = "adult", _("volwassenen")
    ALL = "all", _("alle leeftijden")


class AviLevel(models.TextChoices):
    """AVI-Plus reading levels used on Dutch children's books (M = midden, E = eind)."""

    START = "Start", "AVI Start"
    M3 = "M3", "AVI M3"
    E3 = "E3", "AVI E3"
    M4 = "M4", "AVI M4"
    E4 = "E4", "AVI E4"
    M5 = "M5", "AVI M5"
    E5 = "E5", "AVI E5"
    M6 = "M6", "AVI M6"
    E6 = "E6", "AVI E6"
    M7 = "M7", "AVI M7"
    E7 = "E7", "AVI E7"
    PLUS = "Plus", "AVI Plus"


class ContributorRole(models.TextChoices):
    AUTHOR = "author", _("auteur")
    EDITOR = "editor", _("redacteur")
    ILLUSTRATOR = "illustrator", _("illustrator")
    TRANSLATOR = "translator", _("vertaler")
    NARRATOR = "narrator", _("verteller")
    DIRECTOR = "director", _("regisseur")
    PERFORMER = "performer", _("uitvoerende")
    OTHER = "other", _("medewerker")


class Contributor(models.Model):
    """A person or body named on editions; ``name`` is in catalogue order ("Reve, Gerard")."""

    name = models.CharField(_("naam"), max_length=255)
    #: lower-case, accent-free ``name`` without punctuation: the upsert and author-page key
    key = models.CharField(_("sleutel"), max_length=255, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    dates = models.CharField(_("levensjaren"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("maker")
        verbose_name_plural = _("makers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return display_name_of(self.name)


def display_name_of(name: str) -> str:
    """ "Reve, Gerard" reads as "Gerard Reve"; bodies and single names stay as they are."""
    name = name.rstrip(" ,.")
    if name.count(",") == 1:
        family, given = (part.strip() for part in name.split(","))
        if given and family:
            return f"{given} {family}"
    return name


class SubjectKind(models.TextChoices):
    TOPIC = "topic", _("onderwerp")
    GENRE = "genre", _("genre")
    PLACE = "place", _("plaats")
    PERSON = "person", _("persoon")


class Subject(models.Model):
    label = models.CharField(_("omschrijving"), max_length=255)
    key = models.CharField(_("sleutel"), max_length=255, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    kind = models.CharField(
        _("soort"), max_length=10, choices=SubjectKind.choices, default=SubjectKind.TOPIC
    )

    class Meta:
        verbose_name = _("onderwerp")
        verbose_name_plural = _("onderwerpen")
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SubjectKind.values), name="catalog_subject_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Work(TimeStampedModel):
    """The abstract work; ``key`` (normalised title + first author) groups its editions."""

    title = models.CharField(_("titel"), max_length=500)
    author_name = models.CharField(_("auteur"), max_length=255, blank=True)
    key = models.CharField(_("sleutel"), max_length=255, unique=True)

    class Meta:
        verbose_name = _("werk")
        verbose_name_plural = _("werken")

    def __str__(self) -> str:
        return self.title


class Edition(TimeStampedModel):
    """A manifestation: one book, e-book, audiobook, film... as published."""

    work = models.ForeignKey(
        Work, verbose_name=_("werk"), on_delete=models.PROTECT, related_name="editions"
    )
    title = models.CharField(_("titel"), max_length=500)
    subtitle = models.CharField(_("ondertitel"), max_length=500, blank=True)
    #: contributors in display order ("Gerard Reve; Ill. Peter Vos"), kept by the services for
    #: result lists and the search index
    contributors_text = models.CharField(_("makers"), max_length=1000, blank=True)
    contributors = models.ManyToManyField(
        Contributor,
        through="EditionContributor",
        related_name="editions",
        verbose_name=_("makers"),
    )
    #: the first valid ISBN, normalised to 13 digits; empty when the edition has none
    isbn = models.CharField(_("ISBN"), max_length=13, blank=True, db_index=True)
    publisher = models.CharField(_("uitgever"), max_length=255, blank=True)
    place_of_publication = models.CharField(_("plaats van uitgave"), max_length=255, blank=True)
    year = models.PositiveSmallIntegerField(_("jaar"), null=True, blank=True, db_index=True)
    #: MARC / ISO 639-2 bibliographic code: "dut", "eng", "ger", "fre", "ara", ...
    language = models.CharField(_("taal"), max_length=3, blank=True, db_index=True)
    format = models.CharField(
        _("vorm"), max_length=12, choices=Format.choices, default=Format.BOOK, db_index=True
    )
    pages = models.PositiveIntegerField(_("pagina's"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("speelduur (minuten)"), null=True, blank=True)
    extent = models.CharField(_("omvang zoals vermeld"), max_length=255, blank=True)
    series = models.CharField(_("reeks"), max_length=255, blank=True)
    series_number = models.CharField(_("deel in reeks"), max_length=20, blank=True)
    subjects = models.ManyToManyField(
        Subject, related_name="editions", blank=True, verbose_name=_("onderwerpen")
    )
    audience = models.CharField(
        _("doelgroep"), max_length=10, choices=Audience.choices, blank=True, db_index=True
    )
    age_min = models.PositiveSmallIntegerField(_("leeftijd vanaf"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("leeftijd tot"), null=True, blank=True)
    avi_level = models.CharField(
        _("AVI-niveau"), max_length=5, choices=AviLevel.choices, blank=True
    )
    description = models.TextField(_("omschrijving"), blank=True)
    #: where the record came from ("loc", "demo", an organisation code) and its id there (the
    #: MARC 001 control number); together the upsert key of the import
    source = models.CharField(_("bron"), max_length=40)
    source_id = models.CharField(_("bron-id"), max_length=64, blank=True)
    #: the cover image URL where a source supplies one; the site shows a typographic cover else
    cover_url = models.URLField(_("omslag"), blank=True)
    #: denormalised availability for the "available now" facet and result lists, kept by
    #: ``services.item_set_status`` and ``services.licence_*``: physical copies on the shelf,
    #: or a digital licence with room now
    available_now = models.BooleanField(_("nu beschikbaar"), default=False, db_index=True)

    class Meta:
        verbose_name = _("editie")
        verbose_name_plural = _("edities")
        indexes = [
            models.Index(fields=["created_at"], name="catalog_edition_created"),
            models.Index(fields=["updated_at", "id"], name="catalog_edition_updated"),
            # OAI-PMH format sets page through one format in datestamp order
            models.Index(
                fields=["format", "updated_at", "id"], name="catalog_edition_format_updated"
            ),
            # the import's upsert looks editions up by source id; SQLite does not use the
            # partial unique index unless the query repeats its condition
            models.Index(fields=["source", "source_id"], name="catalog_edition_source"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~Q(source_id=""),
                name="catalog_edition_source_unique",
            ),
            models.CheckConstraint(
                condition=Q(format__in=Format.values), name="catalog_edition_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(audience__in=[*Audience.values, ""]),
                name="catalog_edition_audience_valid",
            ),
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=F("age_max")),
                name="catalog_edition_age_range",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="catalog_edition_title_set"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_digital(self) -> bool:
        return self.format in DIGITAL_FORMATS

    @property
    def full_title(self) -> str:
        return f"{self.title}: {self.subtitle}" if self.subtitle else self.title


class EditionContributor(models.Model):
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="credits")
    contributor = models.ForeignKey(Contributor, on_delete=models.PROTECT, related_name="credits")
    role = models.CharField(
        _("rol"), max_length=12, choices=ContributorRole.choices, default=ContributorRole.AUTHOR
    )
    position = models.PositiveSmallIntegerField(_("volgorde"), default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "contributor", "role"], name="catalog_credit_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contributor} ({self.role})"


class Identifier(models.Model):
    """Every ISBN (and ISSN) printed in the edition, valid or not.

    ``value`` is the normalised ISBN-13 when the number validates, else the text as printed;
    ``is_valid`` flags the ones that did not validate so staff can correct them.
    """

    class Kind(models.TextChoices):
        ISBN = "isbn", "ISBN"
        ISSN = "issn", "ISSN"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.ISBN)
    value = models.CharField(max_length=40, db_index=True)
    as_printed = models.CharField(_("zoals gedrukt"), max_length=80, blank=True)
    qualifier = models.CharField(max_length=80, blank=True)
    is_valid = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "kind", "value"], name="catalog_identifier_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class ItemStatus(models.TextChoices):
    AVAILABLE = "available", _("aanwezig")
    ON_LOAN = "on_loan", _("uitgeleend")
    IN_TRANSIT = "in_transit", _("onderweg")
    ON_HOLD_SHELF = "on_hold_shelf", _("klaargezet voor reservering")
    REPAIR = "repair", _("in reparatie")
    MISSING = "missing", _("vermist")
    WITHDRAWN = "withdrawn", _("afgevoerd")


class Item(TimeStampedModel):
    """One physical copy. ``home_location`` is where it belongs, ``location`` where it is now
    (or is going to, while in transit). Circulation changes status through
    ``services.item_set_status``."""

    Status = ItemStatus

    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="items")
    organisation = models.ForeignKey(
        "network.Organisation", on_delete=models.PROTECT, related_name="items"
    )
    home_location = models.ForeignKey(
        "network.Location", on_delete=models.PROTECT, related_name="home_items"
    )
    location = models.ForeignKey("network.Location", on_delete=models.PROTECT, related_name="items")
    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    shelf_mark = models.CharField(_("plaatsing"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=14, choices=ItemStatus.choices, default=ItemStatus.AVAILABLE
    )
    due_date = models.DateField(_("terug op"), null=True, blank=True)
    replacement_cost_cents = models.PositiveIntegerField(_("vervangingswaarde (cent)"), default=0)
    condition_note = models.CharField(_("staat"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("exemplaar")
        verbose_name_plural = _("exemplaren")
        indexes = [
            models.Index(fields=["edition", "status"], name="catalog_item_edition_status"),
            models.Index(fields=["location", "status"], name="catalog_item_location_status"),
            models.Index(fields=["organisation", "edition"], name="catalog_item_org_edition"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ItemStatus.values), name="catalog_item_status_valid"
            ),
            models.CheckConstraint(condition=~Q(barcode=""), name="catalog_item_barcode_set"),
        ]

    def __str__(self) -> str:
        return self.barcode


class LicenceModel(models.TextChoices):
    ONE_COPY_ONE_USER = "one_copy", _("één exemplaar, één lener")
    CONCURRENT = "concurrent", _("meerdere lezers tegelijk")
    METERED_LOANS = "metered_loans", _("beperkt aantal uitleningen")
    METERED_TIME = "metered_time", _("beperkte looptijd")
    ALWAYS = "always", _("altijd beschikbaar")


class DigitalLicence(TimeStampedModel):
    """A licence for a digital edition, of one organisation or (``organisation`` empty) of the
    whole network, as the national digital library buys them.

    ``concurrent_users`` is how many may have it at once (1 for one-copy-one-user; ignored for
    "always"); ``loans_total`` caps metered-by-loans licences; ``valid_until`` ends
    metered-by-time ones. ``active_loans`` and ``loans_used`` are counted by the services with
    conditional updates, and the database refuses counts past the limits.
    """

    Model = LicenceModel

    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="licences")
    organisation = models.ForeignKey(
        "network.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licences",
    )
    model = models.CharField(_("licentievorm"), max_length=14, choices=LicenceModel.choices)
    provider = models.CharField(_("leverancier"), max_length=120, blank=True)
    concurrent_users = models.PositiveIntegerField(_("gelijktijdige lezers"), default=1)
    loans_total = models.PositiveIntegerField(_("uitleningen in licentie"), null=True, blank=True)
    loans_used = models.PositiveIntegerField(_("uitleningen gebruikt"), default=0)
    active_loans = models.PositiveIntegerField(_("nu uitgeleend"), default=0)
    holds_waiting = models.PositiveIntegerField(_("wachtenden"), default=0)
    valid_from = models.DateField(_("geldig vanaf"), null=True, blank=True)
    valid_until = models.DateField(_("geldig tot"), null=True, blank=True)
    loan_days = models.PositiveSmallIntegerField(_("uitleentermijn (dagen)"), default=21)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("digitale licentie")
        verbose_name_plural = _("digitale licenties")
        constraints = [
            models.CheckConstraint(
                condition=Q(model__in=LicenceModel.values), name="catalog_licence_model_valid"
            ),
            models.CheckConstraint(
                condition=Q(model=LicenceModel.ALWAYS) | Q(active_loans__lte=F("concurrent_users")),
                name="catalog_licence_concurrency",
            ),
            models.CheckConstraint(
                condition=Q(loans_total__isnull=True) | Q(loans_used__lte=F("loans_total")),
                name="catalog_licence_loans_total",
            ),
            models.CheckConstraint(
                condition=~Q(model=LicenceModel.ONE_COPY_ONE_USER) | Q(concurrent_users=1),
                name="catalog_licence_one_copy",
            ),
            models.CheckConstraint(
                condition=~Q(model=LicenceModel.METERED_LOANS) | Q(loans_total__isnull=False),
                name="catalog_licence_metered_loans_total",
            ),
            models.CheckConstraint(
                condition=~Q(model=LicenceModel.METERED_TIME) | Q(valid_until__isnull=False),
                name="catalog_licence_metered_time_until",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.edition} ({self.get_model_display()})"
