"""Circulation: loans, returns, renewals, holds and the hold shelf, transfers between locations,
charges, and the loan policies that govern them.

Invariants live in the database, so two desks (or a desk and a self-service machine) acting on
one copy at the same moment cannot break them:

- one open loan per item (``circulation_loan_one_open_per_item``);
- a copy is trapped for at most one hold (``circulation_hold_one_per_trapped_item``);
- one active hold per person and title (``circulation_hold_one_active_per_patron``);
- one open transfer per item (``circulation_transfer_one_open_per_item``);
- charges are positive whole cents.

Services (``services.py``) change these rows, always together with the item's status in the
catalogue (``catalog.services.item_set_status``) and an audit row, in one transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bieb.core import clock
from bieb.core.models import TimeStampedModel


class PatronCategory(models.TextChoices):
    YOUTH = "youth", _("jeugd (tot 18)")
    ADULT = "adult", _("volwassene")
    STAFF = "staff", pgettext_lazy("lenerscategorie", "medewerker")


class LoanPolicy(models.Model):
    """How long, how often and how much: for one organisation (or, ``organisation`` empty, the
    network default), a format (empty: every format) and a patron category (empty: every
    category). The most specific policy wins: organisation over network, then format, then
    category (``policies.policy_for``)."""

    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="loan_policies",
    )
    format = models.CharField(_("vorm"), max_length=20, blank=True)
    category = models.CharField(
        _("lenerscategorie"), max_length=10, choices=PatronCategory.choices, blank=True
    )
    loan_days = models.PositiveSmallIntegerField(_("uitleentermijn (dagen)"), default=21)
    max_renewals = models.PositiveSmallIntegerField(_("maximaal verlengen"), default=2)
    max_loans = models.PositiveSmallIntegerField(_("maximaal tegelijk geleend"), default=20)
    overdue_fee_cents_per_day = models.PositiveIntegerField(
        _("te-laatgeld per dag (cent)"), default=0
    )
    overdue_fee_max_cents = models.PositiveIntegerField(
        _("te-laatgeld ten hoogste (cent)"), default=0
    )

    class Meta:
        verbose_name = _("leenregel")
        verbose_name_plural = _("leenregels")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "format", "category"],
                name="circulation_policy_unique",
            ),
            models.UniqueConstraint(
                fields=["format", "category"],
                condition=Q(organisation__isnull=True),
                name="circulation_policy_network_unique",
            ),
            models.CheckConstraint(
                condition=Q(loan_days__gte=1) & Q(loan_days__lte=366),
                name="circulation_policy_loan_days",
            ),
            models.CheckConstraint(
                condition=Q(max_loans__gte=1), name="circulation_policy_max_loans"
            ),
        ]

    def __str__(self) -> str:
        scope = self.organisation or _("landelijk")
        return f"{scope} {self.format or '*'} {self.category or '*'}"


class OrganisationRules(models.Model):
    """An organisation's choices for circulation. Without a row the defaults apply: returned
    copies travel home, holds wait seven days on the shelf."""

    organisation = models.OneToOneField(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.CASCADE,
        related_name="circulation_rules",
    )
    floating = models.BooleanField(
        _("zwevende collectie"),
        default=False,
        help_text=_("Ingeleverde exemplaren blijven waar ze zijn ingeleverd."),
    )
    hold_shelf_days = models.PositiveSmallIntegerField(_("dagen op de afhaalplank"), default=7)
    lost_fee_cents = models.PositiveIntegerField(
        _("administratiekosten bij verlies (cent)"), default=0
    )

    class Meta:
        verbose_name = _("uitleenregels van een organisatie")
        verbose_name_plural = _("uitleenregels van organisaties")
        constraints = [
            models.CheckConstraint(
                condition=Q(hold_shelf_days__gte=1) & Q(hold_shelf_days__lte=60),
                name="circulation_rules_hold_shelf_days",
            ),
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Loan(TimeStampedModel):
    """One physical copy lent to one person. ``patron`` is cleared after the return unless the
    person keeps a loan history: the row then stays only as an anonymous statistic
    (organisation, locations, edition, category, dates)."""

    item = models.ForeignKey(
        "catalog.Item", verbose_name=_("exemplaar"), on_delete=models.PROTECT, related_name="loans"
    )
    edition = models.ForeignKey(
        "catalog.Edition", verbose_name=_("titel"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("De organisatie van het exemplaar."),
    )
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="loans",
    )
    category = models.CharField(_("lenerscategorie"), max_length=10, choices=PatronCategory.choices)
    checkout_location = models.ForeignKey(
        "network.Location",
        verbose_name=_("uitgeleend in"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_out_at = models.DateTimeField(_("uitgeleend op"), default=clock.now)
    due_date = models.DateField(_("terug op"))
    renewals = models.PositiveSmallIntegerField(_("keren verlengd"), default=0)
    returned_at = models.DateTimeField(_("ingeleverd op"), null=True, blank=True)
    return_location = models.ForeignKey(
        "network.Location",
        verbose_name=_("ingeleverd in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("kanaal"), max_length=10, default="desk")

    class Meta:
        verbose_name = _("uitlening")
        verbose_name_plural = _("uitleningen")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(returned_at__isnull=True),
                name="circulation_loan_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(return_location__isnull=False),
                name="circulation_loan_returned_somewhere",
            ),
        ]
        indexes = [
            models.Index(fields=["patron", "returned_at"], name="circulation_loan_patron_open"),
            models.Index(
                fields=["due_date"],
                name="circulation_loan_due",
                condition=Q(returned_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.due_date}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None


class HoldScope(models.TextChoices):
    LOCATION = "location", _("alleen mijn afhaallocatie")
    ORGANISATION = "organisation", _("mijn bibliotheekorganisatie")
    NATIONAL = "national", _("heel Nederland")


class HoldStatus(models.TextChoices):
    WAITING = "waiting", _("in de wachtrij")
    IN_TRANSIT = "in_transit", _("onderweg naar de afhaallocatie")
    READY = "ready", _("klaar om af te halen")
    COLLECTED = "collected", _("opgehaald")
    CANCELLED = "cancelled", _("geannuleerd")
    EXPIRED = "expired", _("verlopen")


ACTIVE_HOLD = (HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY)
TRAPPED_HOLD = (HoldStatus.IN_TRANSIT, HoldStatus.READY)


class Hold(TimeStampedModel):
    """A reservation of a title (any copy within ``scope``) or of one copy (``item``), picked
    up at ``pickup_location``. The queue is first come, first served on ``placed_at`` (then
    id). A trapped hold has its copy in ``trapped_item`` until it is collected, cancelled or
    expires."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        on_delete=models.CASCADE,
        related_name="holds",
    )
    edition = models.ForeignKey(
        "catalog.Edition", verbose_name=_("titel"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "catalog.Item",
        verbose_name=_("bepaald exemplaar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item_holds",
    )
    scope = models.CharField(
        _("bereik"), max_length=12, choices=HoldScope.choices, default=HoldScope.NATIONAL
    )
    pickup_location = models.ForeignKey(
        "network.Location", verbose_name=_("afhalen in"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.WAITING
    )
    placed_at = models.DateTimeField(_("geplaatst op"), default=clock.now)
    not_before = models.DateField(_("niet voor"), null=True, blank=True)
    trapped_item = models.ForeignKey(
        "catalog.Item",
        verbose_name=_("gereserveerd exemplaar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trapped_holds",
    )
    trapped_at = models.DateTimeField(_("toegewezen op"), null=True, blank=True)
    ready_until = models.DateField(_("af te halen tot"), null=True, blank=True)
    ended_at = models.DateTimeField(_("afgesloten op"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservering")
        verbose_name_plural = _("reserveringen")
        constraints = [
            models.UniqueConstraint(
                fields=["trapped_item"],
                condition=Q(status__in=TRAPPED_HOLD),
                name="circulation_hold_one_per_trapped_item",
            ),
            models.UniqueConstraint(
                fields=["patron", "edition"],
                condition=Q(status__in=ACTIVE_HOLD),
                name="circulation_hold_one_active_per_patron",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HoldStatus.values), name="circulation_hold_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=TRAPPED_HOLD) | Q(trapped_item__isnull=False),
                name="circulation_hold_trapped_has_item",
            ),
            models.CheckConstraint(
                condition=~Q(status=HoldStatus.READY) | Q(ready_until__isnull=False),
                name="circulation_hold_ready_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["edition", "status", "placed_at"], name="circulation_hold_queue"),
            models.Index(fields=["pickup_location", "status"], name="circulation_hold_pickup"),
        ]

    def __str__(self) -> str:
        return f"{self.edition_id} ← {self.patron_id} ({self.status})"


class TransferReason(models.TextChoices):
    HOLD = "hold", _("voor een reservering")
    HOME = "home", _("terug naar de eigen vestiging")


class TransferStatus(models.TextChoices):
    TO_SEND = "to_send", _("te versturen")
    IN_TRANSIT = "in_transit", _("onderweg")
    RECEIVED = "received", _("ontvangen")
    CANCELLED = "cancelled", _("vervallen")


OPEN_TRANSFER = (TransferStatus.TO_SEND, TransferStatus.IN_TRANSIT)


class Transfer(TimeStampedModel):
    """A copy on its way between locations (and perhaps organisations): to a hold's pick-up
    location or back home. Created when the copy is returned or trapped somewhere else;
    ``sent`` when it leaves, ``received`` when the other location scans it in."""

    item = models.ForeignKey(
        "catalog.Item",
        verbose_name=_("exemplaar"),
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    from_location = models.ForeignKey(
        "network.Location", verbose_name=_("van"), on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        "network.Location", verbose_name=_("naar"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reden"), max_length=8, choices=TransferReason.choices)
    hold = models.ForeignKey(
        Hold,
        verbose_name=_("reservering"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transfers",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.TO_SEND
    )
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    received_at = models.DateTimeField(_("ontvangen op"), null=True, blank=True)

    class Meta:
        verbose_name = _("transport")
        verbose_name_plural = _("transporten")
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=OPEN_TRANSFER),
                name="circulation_transfer_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=~Q(from_location=models.F("to_location")),
                name="circulation_transfer_moves",
            ),
        ]
        indexes = [
            models.Index(fields=["from_location", "status"], name="circulation_transfer_from"),
            models.Index(fields=["to_location", "status"], name="circulation_transfer_to"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.from_location_id} → {self.to_location_id}"


class ChargeKind(models.TextChoices):
    OVERDUE = "overdue", _("te laat ingeleverd")
    LOST = "lost", _("vervanging van een verloren exemplaar")
    LOST_ADMIN = "lost_admin", _("administratiekosten bij verlies")


class Charge(TimeStampedModel):
    """Money a person owes an organisation, in whole cents, for the subscriptions issue to
    bill (``billed_at``) or for staff to waive (``waived_at``)."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        on_delete=models.PROTECT,
        related_name="charges",
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    loan = models.ForeignKey(
        Loan,
        verbose_name=_("uitlening"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charges",
    )
    kind = models.CharField(_("soort"), max_length=10, choices=ChargeKind.choices)
    amount_cents = models.PositiveIntegerField(_("bedrag (cent)"))
    description = models.CharField(_("omschrijving"), max_length=200, blank=True)
    billed_at = models.DateTimeField(_("gefactureerd op"), null=True, blank=True)
    waived_at = models.DateTimeField(_("kwijtgescholden op"), null=True, blank=True)

    class Meta:
        verbose_name = _("kosten")
        verbose_name_plural = _("kosten")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="circulation_charge_positive"
            ),
            models.UniqueConstraint(
                fields=["loan", "kind"],
                condition=Q(loan__isnull=False),
                name="circulation_charge_once_per_loan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents}"


class DigitalLoan(TimeStampedModel):
    """An e-book or audiobook lent under a licence. It ends by itself at ``expires_at``
    (``services``' daily job returns it and frees the licence slot); ``patron`` is cleared
    on return unless the person keeps a loan history."""

    licence = models.ForeignKey(
        "catalog.DigitalLicence",
        verbose_name=_("licentie"),
        on_delete=models.PROTECT,
        related_name="loans",
    )
    edition = models.ForeignKey(
        "catalog.Edition", verbose_name=_("titel"), on_delete=models.PROTECT, related_name="+"
    )
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digital_loans",
    )
    category = models.CharField(_("lenerscategorie"), max_length=10, choices=PatronCategory.choices)
    started_at = models.DateTimeField(_("geleend op"), default=clock.now)
    expires_at = models.DateTimeField(_("loopt af op"))
    returned_at = models.DateTimeField(_("teruggegeven op"), null=True, blank=True)

    class Meta:
        verbose_name = _("digitale uitlening")
        verbose_name_plural = _("digitale uitleningen")
        constraints = [
            models.UniqueConstraint(
                fields=["patron", "edition"],
                condition=Q(returned_at__isnull=True),
                name="circulation_digital_loan_one_open",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("started_at")),
                name="circulation_digital_loan_period",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(returned_at__isnull=True),
                name="circulation_digital_open_exp",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.edition_id} → {self.patron_id}"


class DigitalHold(TimeStampedModel):
    """A place in the queue for a digital title whose licences are all lent. When a slot frees
    the first in line is offered it for ``ready_until`` (``status`` ready); borrowing it
    fulfils the hold."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        on_delete=models.CASCADE,
        related_name="digital_holds",
    )
    edition = models.ForeignKey(
        "catalog.Edition", verbose_name=_("titel"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.WAITING
    )
    placed_at = models.DateTimeField(_("geplaatst op"), default=clock.now)
    ready_until = models.DateTimeField(_("te lenen tot"), null=True, blank=True)
    ended_at = models.DateTimeField(_("afgesloten op"), null=True, blank=True)

    class Meta:
        verbose_name = _("digitale reservering")
        verbose_name_plural = _("digitale reserveringen")
        constraints = [
            models.UniqueConstraint(
                fields=["patron", "edition"],
                condition=Q(status__in=(HoldStatus.WAITING, HoldStatus.READY)),
                name="circulation_digital_hold_one_active",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=(
                        HoldStatus.WAITING,
                        HoldStatus.READY,
                        HoldStatus.COLLECTED,
                        HoldStatus.CANCELLED,
                        HoldStatus.EXPIRED,
                    )
                ),
                name="circulation_digital_hold_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["edition", "status", "placed_at"], name="circulation_dhold_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.edition_id} ← {self.patron_id} ({self.status})"


class Terminal(TimeStampedModel):
    """A self-service machine's SIP2 account: it logs in (message 93) with ``login`` and its
    password, and acts at ``location`` for ``location.organisation`` (the SIP2 institution id
    is the organisation's code). Managed by staff of that organisation."""

    location = models.ForeignKey(
        "network.Location",
        verbose_name=_("locatie"),
        on_delete=models.PROTECT,
        related_name="terminals",
    )
    name = models.CharField(_("naam"), max_length=80)
    login = models.CharField(_("gebruikersnaam"), max_length=40, unique=True)
    password_hash = models.CharField(_("wachtwoord (versleuteld)"), max_length=200)
    is_active = models.BooleanField(_("actief"), default=True)
    last_seen_at = models.DateTimeField(_("laatst gezien"), null=True, blank=True)

    class Meta:
        verbose_name = _("zelfbedieningsautomaat")
        verbose_name_plural = _("zelfbedieningsautomaten")
        constraints = [
            models.CheckConstraint(condition=~Q(login=""), name="circulation_terminal_login_set"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.login})"


class NoticeKind(models.TextChoices):
    DUE_SOON = "due_soon", _("binnenkort terugbrengen")
    OVERDUE = "overdue", _("te laat")
    HOLD_READY = "hold_ready", _("reservering ligt klaar")
    HOLD_EXPIRING = "hold_expiring", _("reservering verloopt bijna")


class Notice(models.Model):
    """A message to a person about a loan or a hold, shown in "mijn bibliotheek" and sent by
    e-mail by a background task. ``key`` makes each notice happen once (e.g. one "due soon"
    per loan and due date), whatever runs the job twice."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lener"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    kind = models.CharField(_("soort"), max_length=14, choices=NoticeKind.choices)
    key = models.CharField(_("sleutel"), max_length=80, unique=True)
    loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    subject = models.CharField(_("onderwerp"), max_length=200)
    body = models.TextField(_("tekst"))
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    read_at = models.DateTimeField(_("gelezen op"), null=True, blank=True)

    class Meta:
        verbose_name = _("bericht")
        verbose_name_plural = _("berichten")
        indexes = [models.Index(fields=["patron", "created_at"], name="circulation_notice_patron")]

    def __str__(self) -> str:
        return f"{self.kind} {self.patron_id}"
