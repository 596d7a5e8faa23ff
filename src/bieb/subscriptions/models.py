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
    #: the VAT rate from this date (basis points); empty: the plan's ``vat_rate_bp``. Like the
    #: price, a period is taxed at the rate in effect on its first day
    vat_rate_bp = models.PositiveSmallIntegerField(
        _("btw-tarief (basispunten)"), null=True, blank=True
    )
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
            models.CheckConstraint(
                condition=Q(vat_rate_bp__isnull=True) | Q(vat_rate_bp__lte=FULL_RATE_BP),
                name="subscriptions_price_vat_sane",
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
    #: an add-on hangs on the base subscription it extends (same anchor; billed on its invoice)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("hoort bij abonnement"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="addons",
    )
    #: days before this date are invoiced (exclusive); empty: nothing invoiced yet
    billed_until = models.DateField(_("gefactureerd tot"), null=True, blank=True)
    #: the first day whose billing facts changed after invoicing; the billing run settles from
    #: the period containing it (``invoicing``); empty: nothing to settle
    rebill_from = models.DateField(_("opnieuw afrekenen vanaf"), null=True, blank=True)
    #: dunning switched it off for an unpaid invoice; paying it switches it on again
    suspended_for_payment_at = models.DateTimeField(
        _("uitgezet wegens betaalachterstand op"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("abonnement")
        verbose_name_plural = _("abonnementen")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active", parent__isnull=True),
                name="subscriptions_one_active_per_person",
            ),
            models.UniqueConstraint(
                fields=["parent", "plan"],
                condition=Q(status="active", parent__isnull=False),
                name="subscriptions_addon_once",
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
        indexes = [
            models.Index(
                fields=["billed_until"],
                condition=Q(status="active"),
                name="subscriptions_sub_billing_due",
            ),
            models.Index(
                fields=["rebill_from"],
                condition=Q(rebill_from__isnull=False),
                name="subscriptions_sub_rebill",
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


# --- usage ------------------------------------------------------------------------------------


class Meter(models.TextChoices):
    LOANS = "loans", _("leningen")
    DIGITAL_LOANS = "digital_loans", _("e-books en luisterboeken")
    ACTIVITY_CREDITS = "activity_credits", _("activiteitentegoed")


class UsageMeter(models.Model):
    """What a person used in one billing period (``period_start`` of the subscription's
    period, or the first of the month without one) at one organisation. Reported by circulation and programming
    through ``services.usage_record``; never a charge."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.CASCADE,
        related_name="usage_meters",
    )
    meter = models.CharField(_("meter"), max_length=20, choices=Meter.choices)
    #: where it was used (the lending organisation; for digital loans the home organisation):
    #: settlement by share of use reads it
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    period_start = models.DateField(_("periode vanaf"))
    used = models.PositiveIntegerField(_("gebruikt"), default=0)

    class Meta:
        verbose_name = _("verbruiksmeter")
        verbose_name_plural = _("verbruiksmeters")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "meter", "period_start", "organisation"],
                name="subscriptions_meter_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.meter} {self.period_start}: {self.used}"


# --- fees (reported by circulation) -----------------------------------------------------------


class Fee(models.Model):
    """Money a person owes outside the plan (a lost book), reported by circulation
    (``services.fee_record``) and billed on the next invoice (``invoice_line``)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.PROTECT,
        related_name="fees",
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: where it comes from, e.g. "circulation.charge", and that row's id: reported once
    source = models.CharField(_("bron"), max_length=40)
    source_id = models.BigIntegerField(_("bron-id"))
    description = models.CharField(_("omschrijving"), max_length=200)
    amount_cents = models.PositiveIntegerField(_("bedrag (cent)"))
    vat_rate_bp = models.PositiveSmallIntegerField(_("btw-tarief (basispunten)"), default=0)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    waived_at = models.DateTimeField(_("kwijtgescholden op"), null=True, blank=True)
    invoice_line = models.OneToOneField(
        "InvoiceLine",
        verbose_name=_("factuurregel"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fee",
    )

    class Meta:
        verbose_name = _("bijkomende kosten")
        verbose_name_plural = _("bijkomende kosten")
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="subscriptions_fee_once"),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="subscriptions_fee_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["person"],
                condition=Q(invoice_line__isnull=True, waived_at__isnull=True),
                name="subscriptions_fee_unbilled",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id} {self.amount_cents}"


# --- invoices ---------------------------------------------------------------------------------


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("factuur")
    CREDIT_NOTE = "credit_note", _("creditnota")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("concept")
    OPEN = "open", _("openstaand")
    PAID = "paid", _("betaald")
    VOID = "void", _("vervallen")
    UNCOLLECTIBLE = "uncollectible", _("oninbaar")


class InvoiceCounter(models.Model):
    """The last invoice number an organisation issued in a year: numbers are taken under a
    row lock in the transaction that finalises the invoice, so they have no gaps."""

    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("jaar"))
    last_number = models.PositiveIntegerField(_("laatste nummer"), default=0)

    class Meta:
        verbose_name = _("factuurnummering")
        verbose_name_plural = _("factuurnummeringen")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year"], name="subscriptions_counter_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.year}: {self.last_number}"


class Invoice(models.Model):
    """An invoice or a credit note, issued by the person's library organisation.

    A draft has no number; finalising gives it the next number of its organisation and year
    and makes it immutable: corrections are credit notes (``corrects``). Amounts are whole
    cents including VAT; ``total_cents`` is the sum of the lines and ``vat_cents`` the sum of
    their VAT. A credit note's amounts are positive too: it takes its total off what is owed."""

    kind = models.CharField(
        _("soort"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.INVOICE
    )
    status = models.CharField(
        _("status"), max_length=14, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("uitgegeven door"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("abonnement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    #: the invoice a credit note corrects
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrigeert"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
    )
    year = models.PositiveSmallIntegerField(_("jaar"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("volgnummer"), null=True, blank=True)
    number = models.CharField(_("nummer"), max_length=32, blank=True)
    issued_on = models.DateField(_("factuurdatum"), null=True, blank=True)
    due_on = models.DateField(_("te betalen voor"), null=True, blank=True)
    total_cents = models.IntegerField(_("totaal (cent)"), default=0)
    vat_cents = models.IntegerField(_("btw (cent)"), default=0)
    #: what has been paid or settled by credit notes (``payments``)
    settled_cents = models.IntegerField(_("voldaan (cent)"), default=0)
    #: the billing run that made it: ``sub:<id>:<billed_until>:<rebill_from>``; unique, so a
    #: second run, or two at once, cannot create it twice
    source_key = models.CharField(_("bronsleutel"), max_length=80, blank=True)
    #: dunning: how many reminders went out, and when the next step is due
    dunning_level = models.PositiveSmallIntegerField(_("aanmaningen"), default=0)
    next_dunning_on = models.DateField(_("volgende aanmaning op"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    finalised_at = models.DateTimeField(_("definitief op"), null=True, blank=True)
    paid_at = models.DateTimeField(_("betaald op"), null=True, blank=True)
    closed_at = models.DateTimeField(_("vervallen of oninbaar op"), null=True, blank=True)

    class Meta:
        verbose_name = _("factuur")
        verbose_name_plural = _("facturen")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="subscriptions_invoice_number_once",
            ),
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="subscriptions_invoice_source_once",
            ),
            models.CheckConstraint(
                condition=Q(total_cents__gte=0)
                & Q(vat_cents__gte=0)
                & Q(vat_cents__lte=F("total_cents")),
                name="subscriptions_invoice_amounts",
            ),
            models.CheckConstraint(
                condition=Q(settled_cents__gte=0) & Q(settled_cents__lte=F("total_cents")),
                name="subscriptions_invoice_settled_range",
            ),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(sequence__isnull=True) & Q(number=""))
                | (~Q(status="draft") & Q(sequence__isnull=False) & ~Q(number="")),
                name="subscriptions_invoice_number_when_final",
            ),
            models.CheckConstraint(
                condition=Q(kind="credit_note") | Q(corrects__isnull=True),
                name="subscriptions_invoice_corrects_only_credit",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="subscriptions_invoice_person"),
            models.Index(
                fields=["status", "due_on"],
                condition=Q(status="open"),
                name="subscriptions_invoice_open",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"concept {self.pk}"

    @property
    def outstanding_cents(self) -> int:
        return self.total_cents - self.settled_cents if self.kind == DocumentKind.INVOICE else 0


class LineKind(models.TextChoices):
    SUBSCRIPTION = "subscription", _("abonnement")
    FEE = "fee", _("bijkomende kosten")
    DAY_PASS = "day_pass", _("dagpas")
    #: a place at a paid activity (``programming``)
    ACTIVITY = "activity", _("activiteit")
    #: a credit or charge staff made by hand (not tied to billed days)
    CORRECTION = "correction", _("correctie")


class InvoiceLine(models.Model):
    """One line: days of one plan in one billing period, or a fee. ``amount_cents`` includes
    VAT; ``vat_cents`` is the VAT in it at ``vat_rate_bp`` (rounded half up per line)."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("factuur"), on_delete=models.CASCADE, related_name="lines"
    )
    kind = models.CharField(_("soort"), max_length=12, choices=LineKind.choices)
    description = models.CharField(_("omschrijving"), max_length=200)
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("abonnement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("abonnementsvorm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    period_start = models.DateField(_("periode vanaf"), null=True, blank=True)
    period_end = models.DateField(_("periode tot"), null=True, blank=True)
    first_day = models.DateField(_("eerste dag"), null=True, blank=True)
    last_day = models.DateField(_("laatste dag"), null=True, blank=True)
    days = models.PositiveSmallIntegerField(_("dagen"), default=0)
    amount_cents = models.IntegerField(_("bedrag (cent)"))
    vat_rate_bp = models.PositiveSmallIntegerField(_("btw-tarief (basispunten)"))
    vat_cents = models.IntegerField(_("btw (cent)"))

    class Meta:
        verbose_name = _("factuurregel")
        verbose_name_plural = _("factuurregels")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0)
                & Q(vat_cents__gte=0)
                & Q(vat_cents__lte=F("amount_cents")),
                name="subscriptions_line_amounts",
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "period_start"],
                condition=Q(subscription__isnull=False),
                name="subscriptions_line_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount_cents}"


# --- payments ---------------------------------------------------------------------------------


class SequenceType(models.TextChoices):
    FIRST = "FRST", _("eerste incasso")
    RECURRING = "RCUR", _("doorlopende incasso")


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("actief")
    REVOKED = "revoked", _("ingetrokken")


class Mandate(models.Model):
    """A SEPA direct-debit mandate (machtiging): the resident's IBAN, a unique reference and
    the signature date. The first collection under it is FRST, later ones RCUR."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.PROTECT,
        related_name="mandates",
    )
    reference = models.CharField(_("machtigingskenmerk"), max_length=35, unique=True)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("naam rekeninghouder"), max_length=70)
    signed_on = models.DateField(_("getekend op"))
    status = models.CharField(
        _("status"), max_length=8, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    #: set when a first (FRST) collection under it was sent; later collections are RCUR
    first_collected_on = models.DateField(_("eerste incasso op"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)

    class Meta:
        verbose_name = _("machtiging")
        verbose_name_plural = _("machtigingen")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="subscriptions_mandate_one_active",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def sequence_type(self) -> str:
        return SequenceType.RECURRING if self.first_collected_on else SequenceType.FIRST


class PaymentMethod(models.TextChoices):
    DIRECT_DEBIT = "directdebit", _("automatische incasso")
    IDEAL = "ideal", _("iDEAL | Wero")
    CARD = "creditcard", _("creditcard")


class PaymentStatus(models.TextChoices):
    OPEN = "open", _("open")
    PENDING = "pending", _("in behandeling")
    PAID = "paid", _("betaald")
    FAILED = "failed", _("mislukt")
    CANCELED = "canceled", _("geannuleerd")
    EXPIRED = "expired", _("verlopen")


class SepaBatch(models.Model):
    """One pain.008 collection file: its message id, collection date and what it holds."""

    message_id = models.CharField(_("berichtkenmerk"), max_length=35, unique=True)
    collection_date = models.DateField(_("incassodatum"))
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    payment_count = models.PositiveIntegerField(_("aantal"), default=0)
    total_cents = models.BigIntegerField(_("totaal (cent)"), default=0)
    sha256 = models.CharField(_("controlegetal"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("incassobestand")
        verbose_name_plural = _("incassobestanden")

    def __str__(self) -> str:
        return self.message_id


class Payment(models.Model):
    """Money coming in for one or more invoices (``allocations``): a direct debit in a SEPA
    file, or an online payment at a provider (``provider_id``, Mollie's ``tr_...``)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    method = models.CharField(_("betaalwijze"), max_length=12, choices=PaymentMethod.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    amount_cents = models.PositiveIntegerField(_("bedrag (cent)"))
    provider_id = models.CharField(_("kenmerk bij de betaaldienst"), max_length=64, blank=True)
    checkout_url = models.URLField(_("betaalpagina"), max_length=500, blank=True)
    mandate = models.ForeignKey(
        Mandate,
        verbose_name=_("machtiging"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    sepa_batch = models.ForeignKey(
        SepaBatch,
        verbose_name=_("incassobestand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    #: SEPA end-to-end id: how a return file names this payment
    end_to_end_id = models.CharField(_("end-to-end-kenmerk"), max_length=35, blank=True)
    sequence_type = models.CharField(
        _("soort incasso"), max_length=4, choices=SequenceType.choices, blank=True
    )
    collection_date = models.DateField(_("incassodatum"), null=True, blank=True)
    failure_code = models.CharField(_("redencode"), max_length=8, blank=True)
    failure_reason = models.CharField(_("reden"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)
    paid_at = models.DateTimeField(_("betaald op"), null=True, blank=True)
    failed_at = models.DateTimeField(_("mislukt op"), null=True, blank=True)

    class Meta:
        verbose_name = _("betaling")
        verbose_name_plural = _("betalingen")
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id"],
                condition=~Q(provider_id=""),
                name="subscriptions_payment_provider_once",
            ),
            models.UniqueConstraint(
                fields=["end_to_end_id"],
                condition=~Q(end_to_end_id=""),
                name="subscriptions_payment_e2e_once",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="subscriptions_payment_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount_cents} {self.status}"


class PaymentAllocation(models.Model):
    """How much of a payment (or of a credit note) settles an invoice."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("factuur"), on_delete=models.PROTECT, related_name="allocations"
    )
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("betaling"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    credit_note = models.ForeignKey(
        Invoice,
        verbose_name=_("creditnota"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_allocations",
    )
    amount_cents = models.PositiveIntegerField(_("bedrag (cent)"))
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("toewijzing")
        verbose_name_plural = _("toewijzingen")
        constraints = [
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="subscriptions_allocation_one_source",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="subscriptions_allocation_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} ← {self.payment_id or self.credit_note_id}: {self.amount_cents}"


class WebhookEvent(models.Model):
    """A provider webhook that was handled, stored in the same transaction as its effect, so a
    replay changes nothing (``provider``, ``event_id`` unique)."""

    provider = models.CharField(_("betaaldienst"), max_length=20)
    event_id = models.CharField(_("kenmerk"), max_length=100)
    received_at = models.DateTimeField(_("ontvangen op"), default=clock.now)
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("betaling"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("uitkomst"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("webhookbericht")
        verbose_name_plural = _("webhookberichten")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="subscriptions_webhook_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class Creditor(models.Model):
    """Who collects the direct debits: the network's collecting office (decision 0014). One
    row; its SEPA creditor identifier and account go into every pain.008 file."""

    name = models.CharField(_("naam"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    creditor_identifier = models.CharField(_("incassant-ID"), max_length=35)

    class Meta:
        verbose_name = _("incassant")
        verbose_name_plural = _("incassanten")

    # --- settlement between organisations ---------------------------------------------------------

    def __str__(self) -> str:
        return self.name


class SettlementRule(models.TextChoices):
    MUNICIPALITY = "municipality", _("de organisatie van de woongemeente")
    USAGE = "usage", _("naar aandeel in het gebruik")


class Settlement(models.Model):
    """A month's money shared between organisations: ``collected_cents`` (payments received in
    the month) allocated by ``rule``; the statement lines add up to it exactly."""

    month = models.DateField(_("maand"), unique=True)  # the first day of the month
    rule = models.CharField(_("verdeelregel"), max_length=12, choices=SettlementRule.choices)
    collected_cents = models.BigIntegerField(_("ontvangen (cent)"))
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("verrekening")
        verbose_name_plural = _("verrekeningen")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.rule})"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(
        Settlement, verbose_name=_("verrekening"), on_delete=models.CASCADE, related_name="lines"
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: what the share is based on (cents collected from its residents, or units of use)
    basis = models.BigIntegerField(_("grondslag"))
    amount_cents = models.BigIntegerField(_("toegewezen (cent)"))
    #: what its own residents paid (for the statement)
    collected_cents = models.BigIntegerField(_("ontvangen van eigen inwoners (cent)"))

    class Meta:
        verbose_name = _("verrekenregel")
        verbose_name_plural = _("verrekenregels")
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "organisation"], name="subscriptions_settlement_line_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id} {self.organisation_id}: {self.amount_cents}"


class MunicipalPass(models.Model):
    """A valid stadspas (municipal pass for residents on a low income) as the municipality
    delivered it: the code's SHA-256 only, and until when it is valid. Where a municipality
    delivered a list, the reduced rate needs a code on it (``services``)."""

    municipality = models.ForeignKey(
        "network.Municipality",
        verbose_name=_("gemeente"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    code_sha256 = models.CharField(_("controlegetal van de code"), max_length=64)
    valid_until = models.DateField(_("geldig tot en met"))
    loaded_at = models.DateTimeField(_("ingelezen op"), default=clock.now)

    class Meta:
        verbose_name = _("stadspas")
        verbose_name_plural = _("stadspassen")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "code_sha256"], name="subscriptions_pass_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id}:{self.code_sha256[:8]}"
