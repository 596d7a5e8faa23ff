"""People and their relations: one national account, households, guardians, staff roles.

Invariants live in the database: e-mail unique case-insensitively, card numbers unique,
one guardian link per pair, a network administrator has no organisation and every other
role has one. The household size limit is a count, enforced by ``household_add_member``
under a row lock on the household.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from bieb.core import clock

HOUSEHOLD_MAX_MEMBERS = 6
YOUTH_AGE = 18
CONSENT_AGE = 16


def age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    """Whole years between ``birth_date`` and ``day`` (None when the birth date is unknown)."""
    if birth_date is None:
        return None
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """E-mail addresses are stored lower-case: one address is one account."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Language(models.TextChoices):
    DUTCH = "nl", _("Nederlands")
    ENGLISH = "en", _("Engels")


class User(AbstractBaseUser, PermissionsMixin):
    """A person with one national library account (resident, staff or partner)."""

    email = models.EmailField(_("e-mailadres"), max_length=254, unique=True)
    first_name = models.CharField(_("voornaam"), max_length=150, blank=True)
    last_name = models.CharField(_("achternaam"), max_length=150, blank=True)
    birth_date = models.DateField(_("geboortedatum"), null=True, blank=True)
    # Kept after anonymisation for statistics (reach per age group).
    birth_year = models.PositiveSmallIntegerField(_("geboortejaar"), null=True, blank=True)
    # "1234 AB" while the account exists; only the four digits after anonymisation.
    postcode = models.CharField(_("postcode"), max_length=7, blank=True)
    municipality = models.ForeignKey(
        "network.Municipality",
        verbose_name=_("gemeente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    home_organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("eigen bibliotheek"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    household = models.ForeignKey(
        "accounts.Household",
        verbose_name=_("huishouden"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    card_number = models.CharField(
        _("pasnummer"), max_length=14, unique=True, null=True, blank=True
    )
    email_verified_at = models.DateTimeField(_("e-mailadres bevestigd op"), null=True, blank=True)
    keep_loan_history = models.BooleanField(_("leengeschiedenis bewaren"), default=False)
    preferred_language = models.CharField(
        _("voorkeurstaal"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    is_active = models.BooleanField(_("actief"), default=True)
    is_staff = models.BooleanField(_("beheerder"), default=False)
    date_joined = models.DateTimeField(_("lid sinds"), default=clock.now)
    anonymised_at = models.DateTimeField(_("geanonimiseerd op"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("persoon")
        verbose_name_plural = _("personen")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(card_number__isnull=True)
                | models.Q(card_number__regex=r"^[0-9]{14}$"),
                name="accounts_user_card_number_14_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["home_organisation", "last_name"], name="accounts_user_org_name"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def age(self) -> int | None:
        return age_on(self.birth_date, clock.today())

    @property
    def is_youth(self) -> bool:
        age = self.age
        return age is not None and age < YOUTH_AGE

    @property
    def needs_guardian_consent(self) -> bool:
        age = self.age
        return age is not None and age < CONSENT_AGE

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class Household(models.Model):
    """People who share a subscription. At most ``HOUSEHOLD_MAX_MEMBERS`` members."""

    name = models.CharField(_("naam"), max_length=120)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("beheerder"),
        on_delete=models.PROTECT,
        related_name="managed_households",
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("huishouden")
        verbose_name_plural = _("huishoudens")

    def __str__(self) -> str:
        return self.name


class GuardianLink(models.Model):
    """A parent or guardian of a young member. Consent unlocks the child's account features."""

    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ouder of voogd"),
        on_delete=models.CASCADE,
        related_name="children_links",
    )
    child = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("kind"),
        on_delete=models.CASCADE,
        related_name="guardian_links",
    )
    consent_given_at = models.DateTimeField(_("toestemming gegeven op"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("ouder-kindkoppeling")
        verbose_name_plural = _("ouder-kindkoppelingen")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "child"], name="accounts_guardian_pair"),
            models.CheckConstraint(
                condition=~models.Q(guardian=models.F("child")),
                name="accounts_guardian_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_id} → {self.child_id}"


class StaffRole(models.Model):
    """What a person may do for one library organisation (or the whole network)."""

    class Role(models.TextChoices):
        DESK = "desk", _("baliemedewerker")
        PROGRAMMER = "programmer", _("programmeur")
        COLLECTION = "collection", _("collectiemedewerker")
        MANAGER = "manager", _("directie")
        FLEXPOOL_COORDINATOR = "flexpool_coordinator", _("flexpoolcoördinator")
        NETWORK_ADMIN = "network_admin", _("landelijk beheerder")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.CASCADE,
        related_name="staff_roles",
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_roles",
    )
    role = models.CharField(_("rol"), max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(_("toegekend op"), default=clock.now)

    class Meta:
        verbose_name = _("medewerkersrol")
        verbose_name_plural = _("medewerkersrollen")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="network_admin", organisation__isnull=True)
                    | (~models.Q(role="network_admin") & models.Q(organisation__isnull=False))
                ),
                name="accounts_staffrole_org_iff_not_network_admin",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    role__in=[
                        "desk",
                        "programmer",
                        "collection",
                        "manager",
                        "flexpool_coordinator",
                        "network_admin",
                    ]
                ),
                name="accounts_staffrole_known_role",
            ),
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=models.Q(organisation__isnull=False),
                name="accounts_staffrole_unique_per_org",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(role="network_admin"),
                name="accounts_staffrole_unique_network_admin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} {self.organisation_id or '-'}"


class PartnerMembership(models.Model):
    """A person acting for a partner (school, welfare, municipality) of a library organisation."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("school")
        WELFARE = "welfare", _("welzijn")
        MUNICIPALITY = "municipality", _("gemeente")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persoon"),
        on_delete=models.CASCADE,
        related_name="partner_memberships",
    )
    organisation = models.ForeignKey(
        "network.Organisation",
        verbose_name=_("organisatie"),
        on_delete=models.CASCADE,
        related_name="partner_memberships",
    )
    kind = models.CharField(_("soort partner"), max_length=16, choices=Kind.choices)
    partner_name = models.CharField(_("naam partner"), max_length=200)
    created_at = models.DateTimeField(_("aangemaakt op"), default=clock.now)

    class Meta:
        verbose_name = _("partneraccount")
        verbose_name_plural = _("partneraccounts")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "kind", "partner_name"],
                name="accounts_partner_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["school", "welfare", "municipality"]),
                name="accounts_partner_known_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_name} ({self.kind})"
