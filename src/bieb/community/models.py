"""The community library: residents bring and fetch things, skills, knowledge, time and ideas
(``docs/community.md``), and the library lends its own things.

Invariants in the database:
- a post is an offer or a request of a known kind, in a four-digit postcode area (never an
  address); a hidden post has a moderation reason;
- one conversation per post and responder; one block per pair; one thanks per exchange and side;
- a handover's pickup code is stored as a hash, with a count of wrong tries; one open
  handover per exchange;
- two bookings of one thing never overlap, buffer days included (an exclusion constraint on
  PostgreSQL, triggers on SQLite: migration ``0002``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bieb.core import clock
from bieb.core.models import TimeStampedModel


class PostType(models.TextChoices):
    OFFER = "offer", _("aanbod")
    REQUEST = "request", _("vraag")


class PostKind(models.TextChoices):
    THING = "thing", _("spullen")
    SKILL = "skill", _("vaardigheid")
    KNOWLEDGE = "knowledge", _("kennis")
    TIME = "time", _("tijd (vrijwilligerswerk)")
    IDEA = "idea", _("idee voor een activiteit")


class Category(models.TextChoices):
    TOOLS = "tools", _("gereedschap en klussen")
    GAMES = "games", _("spellen en speelgoed")
    CHILDREN = "children", _("kinderspullen en kleding")
    BOOKS = "books", _("boeken en media")
    KITCHEN = "kitchen", _("keuken en huishouden")
    GARDEN = "garden", _("tuin en buiten")
    DIGITAL = "digital", _("computer, telefoon en internet")
    FORMS = "forms", _("formulieren en geldzaken")
    LANGUAGE = "language", _("taal en voorlezen")
    REPAIR = "repair", _("repareren")
    COMPANY = "company", _("gezelschap en wandelen")
    LIBRARY = "library", _("vrijwilligerswerk in de bibliotheek")
    OTHER = "other", _("overig")


class Terms(models.TextChoices):
    LEND = "lend", _("lenen")
    GIVE = "give", _("geven")
    SWAP = "swap", _("ruilen")
    HELP = "help", _("helpen")


class PostStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("afgesloten")
    #: hidden by a moderator (``hidden_reason`` says why)
    HIDDEN = "hidden", _("verborgen")


class Post(TimeStampedModel):
    """An offer or a request of a resident. The place is a four-digit postcode area (``pc4``)
    with its municipality; distances are counted from the area's point, never an address."""

    Type = PostType
    Kind = PostKind
    Status = PostStatus

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("door"),
        on_delete=models.CASCADE,
        related_name="community_posts",
    )
    type = models.CharField(_("aanbod of vraag"), max_length=8, choices=PostType.choices)
    kind = models.CharField(_("soort"), max_length=10, choices=PostKind.choices)
    category = models.CharField(_("categorie"), max_length=10, choices=Category.choices)
    title = models.CharField(_("titel"), max_length=120)
    body = models.TextField(_("omschrijving"), max_length=4000)
    terms = models.CharField(_("voorwaarden"), max_length=6, choices=Terms.choices)
    availability = models.CharField(_("wanneer"), max_length=200, blank=True)
    pc4 = models.CharField(_("postcodegebied"), max_length=4)
    municipality = models.ForeignKey(
        "network.Municipality",
        verbose_name=_("gemeente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lat = models.FloatField()
    lon = models.FloatField()
    status = models.CharField(
        _("status"), max_length=8, choices=PostStatus.choices, default=PostStatus.OPEN
    )
    hidden_reason = models.CharField(_("reden verborgen"), max_length=300, blank=True)
    #: the body mentioned what looks like an address or phone number (the author was warned)
    flagged_personal = models.BooleanField(default=False)
    #: an idea that became an activity of the programme
    activity = models.ForeignKey(
        "programming.Activity",
        verbose_name=_("activiteit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    idea_status = models.CharField(_("beoordeling idee"), max_length=10, blank=True)
    idea_note = models.CharField(_("toelichting beoordeling"), max_length=1000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bericht")
        verbose_name_plural = _("berichten")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "lat", "lon"], name="community_post_near"),
            models.Index(
                fields=["municipality", "status", "created_at"], name="community_post_board"
            ),
            models.Index(fields=["author", "created_at"], name="community_post_author"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=PostType.values), name="community_post_type"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PostKind.values), name="community_post_kind"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="community_post_category"
            ),
            models.CheckConstraint(
                condition=Q(terms__in=Terms.values), name="community_post_terms"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PostStatus.values), name="community_post_status"
            ),
            models.CheckConstraint(
                condition=Q(pc4__gte="1000") & Q(pc4__lte="9999"), name="community_post_pc4"
            ),
            models.CheckConstraint(
                condition=~Q(status="hidden") | ~Q(hidden_reason=""),
                name="community_post_hidden_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Photo(models.Model):
    """A photo of a post: re-encoded as JPEG (at most 1600 px, no metadata), with a
    thumbnail. Stored in the database: small, and backed up with everything else."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="photos")
    image = models.BinaryField()
    thumbnail = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt = models.CharField(_("beschrijving"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"photo {self.pk} of post {self.post_id}"


class SavedSearch(models.Model):
    """ "Notify me": a resident is told of new posts that match (type, kind, category, words,
    within a distance of their own area)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_searches"
    )
    type = models.CharField(max_length=8, choices=PostType.choices, blank=True)
    kind = models.CharField(max_length=10, choices=PostKind.choices, blank=True)
    category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    words = models.CharField(max_length=100, blank=True)
    pc4 = models.CharField(max_length=4)
    lat = models.FloatField()
    lon = models.FloatField()
    radius_km = models.PositiveSmallIntegerField(default=5)
    created_at = models.DateTimeField(default=clock.now)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_km__gte=1) & Q(radius_km__lte=50), name="community_search_radius"
            )
        ]

    def __str__(self) -> str:
        return f"search {self.pk} of {self.person_id}"


class Conversation(models.Model):
    """Messages between the author of a post and one resident who responded."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="conversations")
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    last_message_at = models.DateTimeField(default=clock.now)
    #: each side may share their e-mail address or phone number by choice
    author_shares_contact = models.BooleanField(default=False)
    responder_shares_contact = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "responder"], name="community_conversation_once"
            )
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk} on {self.post_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=2000)
    sent_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["conversation", "sent_at"], name="community_message_conv")]

    def __str__(self) -> str:
        return f"message {self.pk}"


class Block(models.Model):
    """``blocker`` does not want messages from ``blocked``."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="community_block_once"),
            models.CheckConstraint(
                condition=~Q(blocker=F("blocked")), name="community_block_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class ExchangeStatus(models.TextChoices):
    AGREED = "agreed", _("afgesproken")
    DONE = "done", _("gelukt")
    CANCELLED = "cancelled", _("niet doorgegaan")


class Exchange(models.Model):
    """Two residents agreed on a post: ``giver`` brings (lends, gives, helps), ``receiver``
    fetches. Done exchanges are counted on profiles; both may thank."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="exchanges")
    conversation = models.OneToOneField(
        Conversation, null=True, on_delete=models.SET_NULL, related_name="exchange"
    )
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ExchangeStatus.choices, default=ExchangeStatus.AGREED
    )
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)
    #: kept for figures after the people are forgotten
    giver_birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    receiver_birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    municipality = models.ForeignKey(
        "network.Municipality", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExchangeStatus.values), name="community_exchange_status"
            ),
            models.CheckConstraint(
                condition=~Q(giver=F("receiver")), name="community_exchange_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"exchange {self.pk}"


class Thanks(models.Model):
    """Short feedback after an exchange: a thank-you and a sentence, no stars."""

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="thanks")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=280, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "author"], name="community_thanks_once")
        ]

    def __str__(self) -> str:
        return f"thanks {self.pk}"


class HandoverStatus(models.TextChoices):
    #: the lender will bring it to the location
    ANNOUNCED = "announced", _("aangekondigd")
    #: at the desk or in the locker, waiting for the borrower
    WAITING = "waiting", _("ligt klaar")
    PICKED_UP = "picked_up", _("opgehaald")
    #: not picked up in time (reported to the desk, and the lender told)
    OVERDUE = "overdue", _("niet opgehaald")
    CANCELLED = "cancelled", _("geannuleerd")
    #: too many wrong codes: the desk must help
    LOCKED = "locked", _("geblokkeerd")


class Handover(models.Model):
    """A thing passed through the library: dropped at ``location`` and picked up with a code."""

    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="handovers")
    location = models.ForeignKey(
        "network.Location", on_delete=models.PROTECT, related_name="community_handovers"
    )
    status = models.CharField(
        max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.ANNOUNCED
    )
    #: what the desk sees on the shelf (no names of residents beyond first name and initial)
    label = models.CharField(max_length=120)
    code_hash = models.CharField(max_length=128)
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    dropped_at = models.DateTimeField(null=True, blank=True)
    pick_up_by = models.DateField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["location", "status"], name="community_handover_desk")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HandoverStatus.values), name="community_handover_status"
            ),
            models.UniqueConstraint(
                fields=["exchange"],
                condition=Q(status__in=["announced", "waiting", "overdue", "locked"]),
                name="community_handover_one_open",
            ),
            # a code names one thing waiting at a location
            models.UniqueConstraint(
                fields=["location", "code_hash"],
                condition=Q(status__in=["announced", "waiting", "overdue", "locked"]),
                name="community_handover_code_once",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ReportReason(models.TextChoices):
    SPAM = "spam", _("spam of reclame")
    RUDE = "rude", _("grof, kwetsend of discriminerend")
    UNSAFE = "unsafe", _("onveilig of illegaal")
    PRIVACY = "privacy", _("deelt persoonsgegevens")
    OTHER = "other", _("iets anders")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("open")
    HANDLED = "handled", _("afgehandeld")


class Report(models.Model):
    """A report of a post, a message or a resident, for the moderators of the reported
    resident's library organisation."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    #: the resident the report is about (the author of the post or message, or named)
    subject_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        "network.Organisation", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=8, choices=ReportReason.choices)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(default=clock.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organisation", "status"], name="community_report_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=ReportReason.values), name="community_report_reason"
            ),
            models.CheckConstraint(
                condition=Q(post__isnull=False)
                | Q(message__isnull=False)
                | Q(subject_person__isnull=False),
                name="community_report_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.pk}"


class ModerationKind(models.TextChoices):
    HIDE = "hide", _("verbergen")
    WARN = "warn", _("waarschuwen")
    SUSPEND = "suspend", _("schorsen")
    RESTORE = "restore", _("herstellen")


class ModerationAction(models.Model):
    """What a moderator did, and the explanation the resident received."""

    kind = models.CharField(max_length=8, choices=ModerationKind.choices)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    explanation = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class Suspension(models.Model):
    """A resident may not post or message until ``until`` (None: until restored)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_suspensions"
    )
    reason = models.CharField(max_length=500)
    starts_at = models.DateTimeField(default=clock.now)
    until = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"suspension of {self.person_id}"


class WordFilter(models.Model):
    """A word or phrase the organisation's moderators keep off the board (posts with it are
    refused with a message; the list is theirs to maintain)."""

    organisation = models.ForeignKey(
        "network.Organisation", on_delete=models.CASCADE, related_name="community_word_filters"
    )
    phrase = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "phrase"], name="community_word_once")
        ]

    def __str__(self) -> str:
        return self.phrase


# --- the library of things ---------------------------------------------------------------------


class ThingSettings(models.Model):
    """How the library lends one thing (a catalogue item of format "thing")."""

    item = models.OneToOneField("catalog.Item", on_delete=models.CASCADE, related_name="thing")
    #: days kept free after each booking for checking and cleaning
    buffer_days = models.PositiveSmallIntegerField(default=1)
    deposit_cents = models.PositiveIntegerField(default=0)
    max_days = models.PositiveSmallIntegerField(default=7)
    instructions = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_days__gte=1), name="community_thing_max_days"),
            models.CheckConstraint(condition=Q(buffer_days__lte=14), name="community_thing_buffer"),
        ]

    def __str__(self) -> str:
        return f"thing {self.item_id}"


class ThingBookingStatus(models.TextChoices):
    BOOKED = "booked", _("gereserveerd")
    LENT = "lent", _("uitgeleend")
    RETURNED = "returned", _("teruggebracht")
    CANCELLED = "cancelled", _("geannuleerd")


class ThingBooking(models.Model):
    """A resident books a thing from ``first_day`` to ``last_day``; the thing is blocked until
    ``blocked_until`` (the last day plus the buffer days). Live bookings of one thing never
    overlap (migration 0002)."""

    item = models.ForeignKey(
        "catalog.Item", on_delete=models.PROTECT, related_name="thing_bookings"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="thing_bookings",
    )
    first_day = models.DateField()
    last_day = models.DateField()
    blocked_until = models.DateField()
    status = models.CharField(
        max_length=10, choices=ThingBookingStatus.choices, default=ThingBookingStatus.BOOKED
    )
    deposit_cents = models.PositiveIntegerField(default=0)
    #: the circulation loan while it is lent
    loan = models.ForeignKey(
        "circulation.Loan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    condition_out = models.CharField(max_length=500, blank=True)
    condition_back = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_day", "pk"]
        indexes = [models.Index(fields=["item", "first_day"], name="community_booking_item")]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="community_booking_days"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("last_day")), name="community_booking_blocked"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ThingBookingStatus.values), name="community_booking_status"
            ),
        ]

    def __str__(self) -> str:
        return f"booking {self.pk} of {self.item_id}"
