"""Programming: activities and courses with partners, registrations, waitlists, attendance,
rooms and stage bookings (``docs/programming.md``).

Invariants in the database:
- an activity ends after it starts; its ``seats_taken`` never exceeds its ``capacity`` (a
  check constraint; seats are taken by one conditional ``UPDATE``, so two registrations at
  once cannot both get the last seat);
- one live registration per person (or visitor e-mail address) per activity;
- a registration takes at least one seat; an attendance is recorded once per session;
- two approved bookings of one room never overlap (an exclusion constraint on PostgreSQL, a
  trigger on SQLite: migration ``0002``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from bieb.core import clock
from bieb.core.models import TimeStampedModel


class PartnerKind(models.TextChoices):
    SCHOOL = "school", _("school")
    CHILDCARE = "childcare", _("kinderopvang")
    WELFARE = "welfare", _("welzijnsorganisatie")
    MUNICIPALITY = "municipality", _("gemeente")
    RESIDENTS = "residents", _("bewonersinitiatief")
    CULTURE = "culture", _("culturele instelling")
    HEALTH = "health", _("zorg")
    OTHER = "other", _("anders")


class Partner(TimeStampedModel):
    """An organisation a library works with locally: a school, a welfare organisation..."""

    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("bibliotheekorganisatie"),
        on_delete=models.PROTECT,
        related_name="partners",
    )
    name = models.CharField(_("naam"), max_length=150)
    kind = models.CharField(_("soort"), max_length=20, choices=PartnerKind.choices)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mailadres"), blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="programming_partner_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PartnerKind.values), name="programming_partner_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Room(TimeStampedModel):
    """A room or stage at a location that can be booked."""

    location = models.ForeignKey(
        "network.Location",
        verbose_name=_("locatie"),
        on_delete=models.PROTECT,
        related_name="rooms",
    )
    name = models.CharField(_("naam"), max_length=100)
    capacity = models.PositiveIntegerField(_("capaciteit"))
    is_stage = models.BooleanField(_("podium"), default=False)
    facilities = models.CharField(
        _("voorzieningen"),
        max_length=300,
        blank=True,
        help_text=_("Bijvoorbeeld: beamer, geluid, ringleiding, keuken."),
    )
    #: residents and partners may ask to book it (staff always may)
    bookable_by_public = models.BooleanField(_("te reserveren door inwoners"), default=True)
    is_active = models.BooleanField(_("in gebruik"), default=True)

    class Meta:
        verbose_name = _("zaal")
        verbose_name_plural = _("zalen")
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="programming_room_unique"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="programming_room_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class ActivityKind(models.TextChoices):
    EVENT = "event", _("eenmalige activiteit")
    SERIES = "series", _("reeks")
    COURSE = "course", _("cursus")
    CONSULTATION = "consultation", _("spreekuur")
    SCHOOL = "school", _("schoolprogramma")


class Audience(models.TextChoices):
    TODDLERS = "toddlers", _("peuters en dreumesen (0-4)")
    PRIMARY = "primary", _("basisschoolkinderen (4-12)")
    TEENS = "teens", _("jongeren (12-18)")
    ADULTS = "adults", _("volwassenen")
    SENIORS = "seniors", _("senioren")
    FAMILIES = "families", _("gezinnen")
    EVERYONE = "everyone", _("iedereen")


class Challenge(models.TextChoices):
    """The three societal challenges of the network agenda."""

    LITERATE = "literate", _("geletterde samenleving")
    INFORMATION_SOCIETY = "information_society", _("participatie in de informatiesamenleving")
    LIFELONG = "lifelong", _("leven lang ontwikkelen")


class Programme(models.TextChoices):
    """National programmes an activity can belong to."""

    NONE = "", _("geen landelijk programma")
    BOEKSTART = "boekstart", _("BoekStart")
    BIBLIOTHEEK_OP_SCHOOL = "dbos", _("de Bibliotheek op school")
    DIGISTERKER = "digisterker", _("Digisterker")
    KLIK_EN_TIK = "klik_en_tik", _("Klik & Tik")
    TAALHUIS = "taalhuis", _("Taalhuis")
    IDO = "ido", _("Informatiepunt Digitale Overheid")
    LEESBEVORDERING = "leesbevordering", _("leesbevordering")
    DEBAT = "debat", _("debat en dialoog")


class LanguageLevel(models.TextChoices):
    NONE = "", _("niet van toepassing")
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"


class PriceKind(models.TextChoices):
    FREE = "free", _("gratis")
    #: included in the plan's activity credits; ``price_cents`` (when above 0) is what
    #: someone without credits left pays
    CREDITS = "credits", _("met activiteitentegoed")
    PAID = "paid", _("betaald")


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("concept")
    PUBLISHED = "published", _("gepubliceerd")
    CANCELLED = "cancelled", _("geannuleerd")


class Activity(TimeStampedModel):
    """An activity, series or course of a library organisation. A series or course is one
    activity with a recurrence (RFC 5545 RRULE and exception dates); one registration covers
    every session. Times are aware, stored in UTC; recurrence is expanded in Europe/Amsterdam."""

    Kind = ActivityKind
    Status = ActivityStatus

    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    kind = models.CharField(_("soort"), max_length=20, choices=ActivityKind.choices)
    title = models.CharField(_("titel"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=180, unique=True)
    summary = models.CharField(_("korte omschrijving"), max_length=300)
    description = models.TextField(_("omschrijving"), blank=True)
    audience = models.CharField(_("doelgroep"), max_length=20, choices=Audience.choices)
    age_min = models.PositiveSmallIntegerField(_("leeftijd vanaf"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("leeftijd tot en met"), null=True, blank=True)
    language_level = models.CharField(
        _("taalniveau"), max_length=2, choices=LanguageLevel.choices, blank=True, default=""
    )
    theme = models.CharField(_("thema"), max_length=60, blank=True)
    challenge = models.CharField(
        _("maatschappelijke opgave"), max_length=20, choices=Challenge.choices
    )
    programme = models.CharField(
        _("programma"), max_length=20, choices=Programme.choices, blank=True, default=""
    )
    location = models.ForeignKey(
        "network.Location",
        verbose_name=_("locatie"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    room = models.ForeignKey(
        Room,
        verbose_name=_("zaal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    partners = models.ManyToManyField(
        Partner, verbose_name=_("partners"), blank=True, related_name="activities"
    )
    works = models.ManyToManyField(
        "catalog.Work", verbose_name=_("titels uit de catalogus"), blank=True, related_name="+"
    )
    #: the first session
    starts_at = models.DateTimeField(_("begint"))
    ends_at = models.DateTimeField(_("eindigt"))
    #: RFC 5545 RRULE without "RRULE:" (``FREQ=WEEKLY;COUNT=6``); must end (COUNT or UNTIL)
    rrule = models.CharField(_("herhaling (RRULE)"), max_length=300, blank=True)
    #: session start dates (Europe/Amsterdam) left out of the recurrence
    exdates = models.JSONField(_("uitgezonderde data"), default=list, blank=True)
    #: 0 = no registration (walk in)
    capacity = models.PositiveIntegerField(_("plaatsen"), default=0)
    seats_taken = models.PositiveIntegerField(_("plaatsen bezet"), default=0)
    #: the most seats one registration may take (a family, a class)
    max_group_size = models.PositiveSmallIntegerField(_("maximaal per aanmelding"), default=1)
    price_kind = models.CharField(
        _("prijs"), max_length=10, choices=PriceKind.choices, default=PriceKind.FREE
    )
    price_cents = models.PositiveIntegerField(_("prijs (cent)"), default=0)
    vat_rate_bp = models.PositiveSmallIntegerField(_("btw-tarief (basispunten)"), default=900)
    credits = models.PositiveSmallIntegerField(_("tegoed per plaats"), default=0)
    #: paying at the door is allowed (no online payment needed)
    pay_at_door = models.BooleanField(_("betalen aan de deur"), default=False)
    accessibility = models.TextField(_("toegankelijkheid"), blank=True)
    #: hours a promoted person on the waitlist has to confirm
    offer_hours = models.PositiveSmallIntegerField(_("bedenktijd wachtlijst (uren)"), default=24)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT
    )
    published_at = models.DateTimeField(_("gepubliceerd op"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("geannuleerd op"), null=True, blank=True)
    cancel_reason = models.CharField(_("reden annulering"), max_length=300, blank=True)
    #: the last session's end (derived from the recurrence; for listings and feeds)
    last_ends_at = models.DateTimeField(_("laatste sessie eindigt"))
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the resident who proposed it (community ideas), shown as co-organiser
    co_organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mede-organisator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("activiteit")
        verbose_name_plural = _("activiteiten")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["status", "last_ends_at"], name="programming_act_listing"),
            models.Index(fields=["organisation", "starts_at"], name="programming_act_org"),
            models.Index(fields=["location", "starts_at"], name="programming_act_location"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="programming_act_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(last_ends_at__gte=F("ends_at")), name="programming_act_last_end"
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")), name="programming_act_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(max_group_size__gte=1), name="programming_act_group_size"
            ),
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_min__lte=F("age_max")),
                name="programming_act_age_range",
            ),
            models.CheckConstraint(
                condition=Q(price_kind="free", price_cents=0, credits=0)
                | Q(price_kind="paid", price_cents__gt=0, credits=0)
                | Q(price_kind="credits", credits__gt=0),
                name="programming_act_price_consistent",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="programming_act_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ActivityStatus.values), name="programming_act_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(challenge__in=Challenge.values),
                name="programming_act_challenge_valid",
            ),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="programming_act_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def needs_registration(self) -> bool:
        return self.capacity > 0

    @property
    def is_free(self) -> bool:
        return self.price_kind == PriceKind.FREE


class RegistrationStatus(models.TextChoices):
    #: a visitor registered with an e-mail address that is not confirmed yet (no seat)
    UNCONFIRMED = "unconfirmed", _("e-mailadres nog niet bevestigd")
    CONFIRMED = "confirmed", _("aangemeld")
    WAITLISTED = "waitlisted", _("op de wachtlijst")
    #: a seat came free and is held for this person until ``offer_expires_at``
    OFFERED = "offered", _("plaats aangeboden")
    CANCELLED = "cancelled", _("afgemeld")
    #: the offer or the e-mail confirmation was not taken in time, or an online payment
    #: was not made in time
    EXPIRED = "expired", _("verlopen")


#: registrations that count: they hold a seat, wait for one or wait for an e-mail confirmation
LIVE_STATUSES = (
    RegistrationStatus.UNCONFIRMED,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
)
#: registrations that hold seats (``Activity.seats_taken`` is their sum)
SEATED_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED)


class PaymentState(models.TextChoices):
    NONE = "", _("niets te betalen")
    CREDITS = "credits", _("met tegoed")
    ONLINE = "online", _("online betalen")
    AT_DOOR = "at_door", _("betalen aan de deur")


class Registration(models.Model):
    """A person's (or a visitor's) registration for an activity, taking ``seats`` seats."""

    Status = RegistrationStatus

    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activiteit"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity_registrations",
    )
    #: a visitor without an account (lower-case); empty for a resident
    email = models.EmailField(_("e-mailadres"), blank=True)
    name = models.CharField(_("naam"), max_length=150, blank=True)
    seats = models.PositiveSmallIntegerField(_("plaatsen"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices)
    #: secret of the QR code, the confirmation link and the visitor's own page
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(_("aangemeld op"), default=clock.now)
    confirmed_at = models.DateTimeField(_("bevestigd op"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("aanbod geldig tot"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("afgemeld op"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("herinnering gestuurd op"), null=True, blank=True)
    payment = models.CharField(
        _("betaling"), max_length=10, choices=PaymentState.choices, blank=True, default=""
    )
    credits_used = models.PositiveSmallIntegerField(_("tegoed gebruikt"), default=0)
    #: the invoice of an online payment (``subscriptions``)
    invoice = models.ForeignKey(
        "subscriptions.Invoice",
        verbose_name=_("factuur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: the birth year at registration, kept for figures by age group after anonymisation
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("aanmelding")
        verbose_name_plural = _("aanmeldingen")
        ordering = ["activity", "pk"]
        indexes = [
            models.Index(fields=["activity", "status", "id"], name="programming_reg_queue"),
            models.Index(fields=["person", "status"], name="programming_reg_person"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="programming_reg_seats"),
            models.CheckConstraint(
                condition=Q(status__in=RegistrationStatus.values),
                name="programming_reg_status_valid",
            ),
            models.UniqueConstraint(
                fields=["activity", "person"],
                condition=Q(person__isnull=False, status__in=LIVE_STATUSES),
                name="programming_reg_one_live_per_person",
            ),
            models.UniqueConstraint(
                F("activity"),
                Lower("email"),
                condition=Q(person__isnull=True, status__in=LIVE_STATUSES) & ~Q(email=""),
                name="programming_reg_one_live_per_email",
            ),
            models.CheckConstraint(
                condition=Q(status="offered", offer_expires_at__isnull=False)
                | ~Q(status="offered"),
                name="programming_reg_offer_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} - {self.name or self.email or self.person_id}"

    @property
    def holds_seats(self) -> bool:
        return self.status in SEATED_STATUSES


class AttendanceMethod(models.TextChoices):
    SCAN = "scan", _("QR-code gescand")
    LIST = "list", _("afgevinkt op de lijst")


class Attendance(models.Model):
    """A registration present at one session (``session_start``), checked in at the door."""

    registration = models.ForeignKey(
        Registration,
        verbose_name=_("aanmelding"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    session_start = models.DateTimeField(_("sessie"))
    checked_in_at = models.DateTimeField(_("binnengekomen om"), default=clock.now)
    method = models.CharField(_("manier"), max_length=6, choices=AttendanceMethod.choices)
    #: how many of the registration's seats came (a class may come with fewer)
    present = models.PositiveSmallIntegerField(_("aantal aanwezig"), default=1)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("aanwezigheid")
        verbose_name_plural = _("aanwezigheid")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "session_start"], name="programming_attendance_once"
            ),
            models.CheckConstraint(
                condition=Q(present__gte=1), name="programming_attendance_present"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} @ {self.session_start:%Y-%m-%d %H:%M}"


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("aangevraagd")
    APPROVED = "approved", _("goedgekeurd")
    REJECTED = "rejected", _("afgewezen")
    CANCELLED = "cancelled", _("geannuleerd")


class RoomBooking(TimeStampedModel):
    """A request to use a room from ``starts_at`` to ``ends_at``: for a resident's, a
    partner's or the library's own event, or a session of an activity. Approved bookings of
    one room never overlap (the database refuses)."""

    Status = BookingStatus

    room = models.ForeignKey(
        Room, verbose_name=_("zaal"), on_delete=models.PROTECT, related_name="bookings"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("aangevraagd door"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="room_bookings",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="room_bookings",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activiteit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="room_bookings",
    )
    title = models.CharField(_("titel"), max_length=150)
    description = models.TextField(_("omschrijving"), blank=True)
    #: an approved public event appears in the programme
    is_public = models.BooleanField(_("openbaar"), default=False)
    expected_people = models.PositiveIntegerField(_("verwacht aantal mensen"), default=1)
    starts_at = models.DateTimeField(_("begint"))
    ends_at = models.DateTimeField(_("eindigt"))
    status = models.CharField(
        _("status"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)
    decision_note = models.CharField(_("toelichting"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("zaalreservering")
        verbose_name_plural = _("zaalreserveringen")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["room", "starts_at"], name="programming_booking_room")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="programming_booking_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values),
                name="programming_booking_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(expected_people__gte=1), name="programming_booking_people"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room}: {self.title}"


class CalendarFeed(models.Model):
    """The secret address of a person's own iCalendar feed of their registrations."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"feed of {self.person_id}"
