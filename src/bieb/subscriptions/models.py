"""Abonnement 2.0: plans and their prices, subscriptions, switch-off periods, plan switches and
the scheduled changes a resident can see and undo.

Invariants live in the database:

- one active subscription per person (``subscriptions_one_active_per_person``, partial unique);
- prices are whole, non-negative cents; a plan has one price per effective date;
- the anchor day is 1..31 and the anchor month 1..12; VAT is 0..100 % in basis points;
- a switch-off period ends after it starts, and a subscription has at most one open one;
- a subscription has one plan switch per day.

What billing reads (``billing.timeline_of``) is the subscription's dates, its ``PlanSwitch``
rows and its ``SwitchOff`` rows; a ``ScheduledChange`` is the handle the resident sees and
undoes, and owns (cascades to) the future ``PlanSwitch`` or ``SwitchOff`` row it created.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bieb.core import clock

#: 100 % in basis points (Dutch VAT: 0, 900 or 2100)
FULL_RATE_BP = 10_000


class PlanKind(models.TextChoices):
    BASE = "base", _("abonnement")
    ADDON = "addon", _("uitbreiding")
    DAY_PASS = "day_pass", _("dagpas")


class Interval(models.TextChoices):
    MONTH = "month", _("per maand")
    YEAR = "year", _("per jaar")


class Plan(models.Model):
    """A bundle of entitlements. Limits are counts; 0 means "not included"."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("naam"), max_length=120)
    description = models.TextField(_("omschrijving"), blank=True)
    kind = models.CharField(_("soort"), max_length=10, choices=PlanKind.choices)
    physical_loans = models.PositiveSmallIntegerField(_("fysieke leningen tegelijk"), default=0)
    digital_loans_per_month = models.PositiveSmallIntegerField(
        _("e-books en luisterboeken per maand"), default=0
    )
    streaming = models.BooleanField(_("streaming"), default=False)
    activity_credits_per_month = models.PositiveSmallIntegerField(
        _("activiteitentegoed per maand"), default=0
    )
    things_at_once = models.PositiveSmallIntegerField(_("spullen tegelijk"), default=0)
    household_seats = models.PositiveSmallIntegerField(_("personen in het huishouden"), default=1)
    #: inclusive age range; empty means no bound (youth plan: 0..17)
    min_age = models.PositiveSmallIntegerField(_("minimumleeftijd"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximumleeftijd"), null=True, blank=True)
    trial_days = models.PositiveSmallIntegerField(_("proefperiode (dagen)"), default=0)
    vat_rate_bp = models.PositiveSmallIntegerField(_("btw-tarief (basispunten)"), default=900)
    requires_municipal_pass = models.BooleanField(_("stadspas nodig"), default=False)
    is_active = models.BooleanField(_("actief"), default=True)
    is_public = models.BooleanField(_("openbaar"), default=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("abonnementsvorm")
        verbose_name_plural = _("abonnementsvormen")
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate_bp__lte=FULL_RATE_BP), name="subscriptions_plan_vat_sane"
            ),
            models.CheckConstraint(
                condition=Q(household_seats__gte=1) & Q(household_seats__lte=12),
                name="subscriptions_plan_seats",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=F("max_age")),
                name="subscriptions_plan_age_range",
            ),
            models.CheckConstraint(
                condition=Q(trial_days__lte=90), name="subscriptions_plan_trial_days"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def admits_age(self, age: int | None) -> bool:
        """Whether a person of ``age`` may take this plan (unknown age: only unbounded plans)."""
        if self.min_age is None and self.max_age is None:
            return True
        if age is None:
            return False
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )


class PlanPrice(models.Model):
    """The price of a plan from ``effective_from`` on. A period is priced by the row in effect
    on its first day, so a new price applies from the next period, never to one under way."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("abonnementsvorm"), on_delete=models.CASCADE, related_name="prices"
    )
    monthly_cents = models.IntegerField(_("prijs per maand (cent)"))
    yearly_cents = models.IntegerField(_("prijs per jaar (cent)"))
    #: the price of one pass (day pass); 0 for subscription plans
    one_off_cents = models.IntegerField(_("prijs per keer (cent)"), default=0)
    effective_from = models.DateField(_("geldig vanaf"))
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("prijs")
        verbose_name_plural = _("prijzen")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "effective_from"], name="subscriptions_price_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(monthly_cents__gte=0)
                & Q(yearly_cents__gte=0)
                & Q(one_off_cents__gte=0),
                name="subscriptions_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.effective_from}: {self.monthly_cents}/{self.yearly_cents}"

    def for_interval(self, interval: str) -> int:
        return self.yearly_cents if interval == Interval.YEAR else self.monthly_cents


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("actief")
    ENDED = "ended", _("beëindigd")


class Subscription(models.Model):
    """A person's subscription. ``plan`` is the plan in effect now (due scheduled changes are
    applied before any decision, ``services``); billing reads the ``PlanSwitch`` history.

    Periods run from the anchor: monthly on ``anchor_day`` (the last day of a shorter month),
    yearly on ``anchor_month``/``anchor_day`` (``periods``). Both come from ``started_on``."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("abonnementsvorm"), on_delete=models.PROTECT, related_name="+"
    )
    interval = models.CharField(_("betaaltermijn"), max_length=5, choices=Interval.choices)
    anchor_day = models.PositiveSmallIntegerField(_("ankerdag"))
    anchor_month = models.PositiveSmallIntegerField(_("ankermaand"))
    started_on = models.DateField(_("gestart op"))
    #: the first day that is billed (a trial's days before it are free); empty: no trial
    trial_ends_on = models.DateField(_("proefperiode tot"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    #: the last day covered (inclusive) once cancelled; empty: runs on
    last_day = models.DateField(_("laatste dag"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("opgezegd op"), null=True, blank=True)
    ended_at = models.DateTimeField(_("beëindigd op"), null=True, blank=True)
    #: the stadspas code given at sign-up (format checked only, ``services``)
    municipal_pass_code = models.CharField(_("stadspascode"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("abonnement")
        verbose_name_plural = _("abonnementen")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="subscriptions_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=Q(anchor_day__gte=1) & Q(anchor_day__lte=31),
                name="subscriptions_anchor_day_1_31",
            ),
            models.CheckConstraint(
                condition=Q(anchor_month__gte=1) & Q(anchor_month__lte=12),
                name="subscriptions_anchor_month_1_12",
            ),
            models.CheckConstraint(
                condition=Q(last_day__isnull=True) | Q(last_day__gte=F("started_on")),
                name="subscriptions_last_day_after_start",
            ),
            models.CheckConstraint(
                condition=Q(interval__in=["month", "year"]), name="subscriptions_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.plan_id} ({self.status})"


class ChangeKind(models.TextChoices):
    OFF = "off", _("uitzetten")
    SKIP_NEXT_MONTH = "skip_next_month", _("volgende maand overslaan")
    DOWNGRADE = "downgrade", _("overstappen naar een kleiner abonnement")
    CANCEL = "cancel", _("opzeggen")


class ScheduledChange(models.Model):
    """A change that takes effect on ``effective_on`` (a future day when made). The resident
    sees it and may undo it until that day; undoing removes what it scheduled."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("abonnement"),
        on_delete=models.CASCADE,
        related_name="scheduled_changes",
    )
    kind = models.CharField(_("soort"), max_length=16, choices=ChangeKind.choices)
    effective_on = models.DateField(_("gaat in op"))
    to_plan = models.ForeignKey(
        Plan,
        verbose_name=_("nieuwe abonnementsvorm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    undone_at = models.DateTimeField(_("ongedaan gemaakt op"), null=True, blank=True)
    applied_at = models.DateTimeField(_("doorgevoerd op"), null=True, blank=True)

    class Meta:
        verbose_name = _("geplande wijziging")
        verbose_name_plural = _("geplande wijzigingen")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="downgrade", to_plan__isnull=False)
                | (~Q(kind="downgrade") & Q(to_plan__isnull=True)),
                name="subscriptions_change_plan_for_downgrade",
            ),
            # at most one pending change of each kind per subscription
            models.UniqueConstraint(
                fields=["subscription", "kind"],
                condition=Q(undone_at__isnull=True, applied_at__isnull=True),
                name="subscriptions_change_one_pending_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["effective_on"], name="subscriptions_change_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.effective_on}"


class SwitchOff(models.Model):
    """Days the subscription is off: from ``off_from`` up to (not including) ``on_from``;
    ``on_from`` empty means off until switched on again. Off days are not billed."""

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("abonnement"), on_delete=models.CASCADE, related_name="offs"
    )
    off_from = models.DateField(_("uit vanaf"))
    on_from = models.DateField(_("weer aan vanaf"), null=True, blank=True)
    change = models.OneToOneField(
        ScheduledChange,
        verbose_name=_("geplande wijziging"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="switch_off",
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("uitgezette periode")
        verbose_name_plural = _("uitgezette periodes")
        constraints = [
            models.CheckConstraint(
                condition=Q(on_from__isnull=True) | Q(on_from__gt=F("off_from")),
                name="subscriptions_off_on_after_off",
            ),
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(on_from__isnull=True),
                name="subscriptions_off_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"off {self.off_from} - {self.on_from or '…'}"


class PlanSwitch(models.Model):
    """From ``effective_on`` the subscription is on ``plan`` (until the next switch). The first
    switch is the sign-up; an upgrade switches today; a downgrade at the next period."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("abonnement"),
        on_delete=models.CASCADE,
        related_name="plan_switches",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("abonnementsvorm"), on_delete=models.PROTECT, related_name="+"
    )
    effective_on = models.DateField(_("gaat in op"))
    change = models.OneToOneField(
        ScheduledChange,
        verbose_name=_("geplande wijziging"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="plan_switch",
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("wissel van abonnementsvorm")
        verbose_name_plural = _("wissels van abonnementsvorm")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "effective_on"], name="subscriptions_switch_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} from {self.effective_on}"
