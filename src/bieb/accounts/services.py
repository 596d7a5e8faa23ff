"""Commands that change people, households, guardian links and staff roles.

Every service opens its own transaction (nested calls join the caller's), validates its input
with ``DomainError`` codes, writes an audit row for changes that matter and sends e-mail only
after commit. ``actor=None`` means the system itself (seeding, management commands).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import postcode as nl_postcode

from bieb.accounts import access, cards
from bieb.accounts.mail import mail_on_commit, site_url_or_default
from bieb.accounts.models import (
    CONSENT_AGE,
    HOUSEHOLD_MAX_MEMBERS,
    YOUTH_AGE,
    GuardianLink,
    Household,
    Language,
    PartnerMembership,
    StaffRole,
    User,
    UserManager,
    age_on,
)
from bieb.core import clock
from bieb.core.audit import audit_record, subject_of
from bieb.core.errors import DomainError, NotFound, PermissionDenied
from bieb.core.models import AuditEvent

MAX_AGE_YEARS = 120
VERIFY_EMAIL_SALT = "bieb.accounts.verify-email"
VERIFY_EMAIL_MAX_AGE = dt.timedelta(days=3)
GUARDIAN_CONSENT_SALT = "bieb.accounts.guardian-consent"
GUARDIAN_CONSENT_MAX_AGE = dt.timedelta(days=14)
ANONYMOUS_EMAIL_DOMAIN = "anoniem.invalid"
_UNCHANGED: Any = object()


# --- validation ----------------------------------------------------------------------------


def _field_error(code: str, message: str, field: str) -> DomainError:
    return DomainError(code, message, details={"field": field})


def email_normalise(email: str) -> str:
    """Lower-case, trimmed and syntactically valid, or ``DomainError("invalid_email")``."""
    normalised = UserManager.normalize_email(email)
    try:
        validate_email(normalised)
    except ValidationError:
        raise _field_error(
            "invalid_email",
            _("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
            "email",
        ) from None
    return normalised


def postcode_normalise(postcode: str) -> str:
    """A Dutch postcode as ``1234 AB`` ("" stays ""), or ``DomainError("invalid_postcode")``."""
    postcode = (postcode or "").strip()
    if not postcode:
        return ""
    try:
        return nl_postcode.validate(postcode)
    except StdnumError:
        raise _field_error(
            "invalid_postcode",
            _("Vul een geldige Nederlandse postcode in, bijvoorbeeld 1234 AB."),
            "postcode",
        ) from None


def birth_date_check(birth_date: dt.date | None) -> dt.date:
    if birth_date is None:
        raise _field_error("birth_date_required", _("Vul je geboortedatum in."), "birth_date")
    today = clock.today()
    if birth_date > today:
        raise _field_error(
            "birth_date_in_future",
            _("Je geboortedatum kan niet in de toekomst liggen."),
            "birth_date",
        )
    if age_on(birth_date, today) > MAX_AGE_YEARS:
        raise _field_error(
            "birth_date_implausible",
            _("Controleer je geboortedatum: die ligt meer dan 120 jaar terug."),
            "birth_date",
        )
    return birth_date


def _name_check(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _field_error("name_required", _("Vul je naam in."), field)
    if len(value) > 150:
        raise _field_error("name_too_long", _("Gebruik hoogstens 150 tekens."), field)
    return value


def _language_check(language: str) -> str:
    if language not in Language.values:
        raise _field_error(
            "invalid_language", _("Kies Nederlands of Engels."), "preferred_language"
        )
    return language


def _municipality_for(postcode: str):
    """The municipality of a postcode's four digits, if the network knows it."""
    if not postcode:
        return None
    from bieb.network.models import PostcodeArea

    area = PostcodeArea.objects.filter(pc4=postcode[:4]).only("municipality_id").first()
    return area.municipality_id if area else None


def _card_number_unused() -> str:
    for _attempt in range(20):
        number = cards.card_number_random()
        if not User.objects.filter(card_number=number).exists():
            return number
    raise RuntimeError("could not find a free card number")  # 1 in 10**12 per attempt


# --- registration and profile --------------------------------------------------------------


def person_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    birth_date: dt.date | None,
    postcode: str = "",
    home_organisation: Any = None,
    guardian_email: str = "",
    preferred_language: str = Language.DUTCH,
    site_url: str = "",
) -> User | None:
    """Register a person and send the e-mail verification link.

    Guarantees: a new account gets a unique card number and is saved with everything or not at
    all. If the e-mail address already has an account, nothing is saved, the owner gets a
    notice, and ``None`` is returned: callers must show the same result as for a new account so
    nobody learns which addresses are registered. Members under 16 must name a guardian's
    e-mail address; the guardian gets a consent link.
    """
    email = email_normalise(email)
    first_name = _name_check(first_name, "first_name")
    last_name = _name_check(last_name, "last_name")
    birth_date = birth_date_check(birth_date)
    postcode = postcode_normalise(postcode)
    preferred_language = _language_check(preferred_language)
    needs_consent = age_on(birth_date, clock.today()) < CONSENT_AGE
    guardian_email = (guardian_email or "").strip()
    if needs_consent:
        if not guardian_email:
            raise _field_error(
                "guardian_email_required",
                _("Je bent jonger dan 16: vul het e-mailadres van je ouder of voogd in."),
                "guardian_email",
            )
        try:
            guardian_email = email_normalise(guardian_email)
        except DomainError as exc:
            raise _field_error("invalid_guardian_email", exc.message, "guardian_email") from None
        if guardian_email == email:
            raise _field_error(
                "guardian_email_is_own",
                _("Vul het e-mailadres van je ouder of voogd in, niet je eigen adres."),
                "guardian_email",
            )
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise _field_error("weak_password", " ".join(exc.messages), "password") from None

    site = site_url_or_default(site_url)
    with transaction.atomic():
        existing = User.objects.filter(email=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = User(
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        birth_date=birth_date,
                        birth_year=birth_date.year,
                        postcode=postcode,
                        municipality_id=_municipality_for(postcode),
                        home_organisation=home_organisation,
                        preferred_language=preferred_language,
                        card_number=_card_number_unused(),
                        date_joined=clock.now(),
                    )
                    user.set_password(password)
                    user.save()
            except IntegrityError:
                # Someone registered the same address a moment ago.
                existing = User.objects.filter(email=email).first()
                if existing is None:
                    raise
        if existing is not None:
            make_password(password)  # the same work as a new account: no timing difference
            if existing.is_active and not existing.is_anonymised:
                mail_on_commit(
                    to=existing.email,
                    template="registration_duplicate",
                    context={"person": existing, "site_url": site},
                    language=existing.preferred_language,
                )
            audit_record(action="person.register_duplicate", subject=existing)
            return None

        audit_record(
            action="person.registered",
            actor=None,
            subject=user,
            organisation_id=user.home_organisation_id,
            data={"youth": user.is_youth, "needs_consent": needs_consent},
        )
        _send_verification(user=user, site_url=site)
        if needs_consent:
            guardian_consent_request(child=user, guardian_email=guardian_email, site_url=site)
    return user


def _send_verification(*, user: User, site_url: str) -> None:
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_EMAIL_SALT, compress=True)
    mail_on_commit(
        to=user.email,
        template="verify_email",
        context={
            "person": user,
            "link": f"{site_url}/email-bevestigen/{token}",
            "days": VERIFY_EMAIL_MAX_AGE.days,
        },
        language=user.preferred_language,
    )


def person_send_verification(*, user: User, site_url: str = "") -> None:
    """Send a fresh verification link (no-op when the address is already verified)."""
    if user.email_verified_at is None:
        with transaction.atomic():
            _send_verification(user=user, site_url=site_url_or_default(site_url))


def email_verification_token(*, user: User) -> str:
    """The token the verification link carries (tests and the API use it)."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_EMAIL_SALT, compress=True)


def person_verify_email(*, token: str) -> User:
    """Mark the e-mail address in a valid, unexpired link as verified (idempotent).

    Errors: ``token_expired``, ``token_invalid`` (tampered, or for an address that changed).
    """
    try:
        payload = signing.loads(
            token, salt=VERIFY_EMAIL_SALT, max_age=VERIFY_EMAIL_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            "token_expired",
            _("Deze link is verlopen. Log in en vraag een nieuwe bevestigingslink aan."),
        ) from None
    except signing.BadSignature:
        raise DomainError(
            "token_invalid", _("Deze link is ongeldig. Kopieer de hele link uit de e-mail.")
        ) from None
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=payload.get("u"), email=payload.get("e"), anonymised_at__isnull=True)
            .first()
        )
        if user is None:
            raise DomainError(
                "token_invalid", _("Deze link is ongeldig. Kopieer de hele link uit de e-mail.")
            )
        if user.email_verified_at is None:
            user.email_verified_at = clock.now()
            user.save(update_fields=["email_verified_at"])
            audit_record(action="person.email_verified", actor=user, subject=user)
    return user


def person_update(
    *,
    user: User,
    actor: Any,
    first_name: str = _UNCHANGED,
    last_name: str = _UNCHANGED,
    postcode: str = _UNCHANGED,
    home_organisation: Any = _UNCHANGED,
    preferred_language: str = _UNCHANGED,
    keep_loan_history: bool = _UNCHANGED,
) -> User:
    """Change the given profile fields (others stay as they are); the person or desk staff of
    their home organisation may do this. The e-mail address and birth date are not changed
    here: they decide identity and youth rules."""
    access.access_member(actor, user.pk, need="write")
    changes: dict[str, Any] = {}
    if first_name is not _UNCHANGED:
        changes["first_name"] = _name_check(first_name, "first_name")
    if last_name is not _UNCHANGED:
        changes["last_name"] = _name_check(last_name, "last_name")
    if postcode is not _UNCHANGED:
        changes["postcode"] = postcode_normalise(postcode)
        changes["municipality_id"] = _municipality_for(changes["postcode"])
    if home_organisation is not _UNCHANGED:
        changes["home_organisation_id"] = home_organisation.pk if home_organisation else None
    if preferred_language is not _UNCHANGED:
        changes["preferred_language"] = _language_check(preferred_language)
    if keep_loan_history is not _UNCHANGED:
        changes["keep_loan_history"] = bool(keep_loan_history)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        for key, value in changed.items():
            setattr(locked, key, value)
            setattr(user, key, value)
        if changed:
            locked.save(update_fields=list(changed))
            if changed.get("keep_loan_history") is False:
                from bieb.accounts import privacy

                for provider in privacy.providers():
                    if provider.forget_history is not None:
                        provider.forget_history(locked)
            audit_record(
                action="person.updated",
                actor=actor,
                subject=locked,
                organisation_id=locked.home_organisation_id,
                data={"fields": sorted(changed)},
            )
    if "home_organisation_id" in changed:
        user.home_organisation = locked.home_organisation
    return user


# --- privacy -------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def person_export(*, user: User) -> dict:
    """Everything Bieb keeps about ``user`` (GDPR art. 15/20), and nothing about others:
    household members and linked children or guardians appear only as ids."""
    from bieb.accounts.selectors import person_profile

    profile = person_profile(user=user)
    household = None
    if user.household_id:
        hh = user.household
        household = {
            "id": hh.pk,
            "name": hh.name,
            "is_manager": hh.manager_id == user.pk,
            "member_count": hh.members.count(),
        }
    links = [
        {
            "relation": "guardian_of" if link.guardian_id == user.pk else "child_of",
            "other_person_id": link.child_id if link.guardian_id == user.pk else link.guardian_id,
            "consent_given_at": _iso(link.consent_given_at),
            "created_at": _iso(link.created_at),
        }
        for link in GuardianLink.objects.filter(guardian=user).union(
            GuardianLink.objects.filter(child=user)
        )
    ]
    events = [
        {
            "occurred_at": _iso(e.occurred_at),
            "action": e.action,
            "by_self": e.actor_id == user.pk,
            "organisation_id": e.organisation_id,
            "data": e.data,
        }
        for e in AuditEvent.objects.filter(subject=subject_of(user)).order_by("occurred_at", "pk")
    ]
    export = {
        "exported_at": _iso(clock.now()),
        "person": {
            **{k: _iso(v) for k, v in profile.items() if k not in {"household", "roles"}},
            "postcode": user.postcode,
            "municipality_id": user.municipality_id,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "email_verified_at": _iso(user.email_verified_at),
        },
        "household": household,
        "guardian_links": links,
        "staff_roles": profile["roles"],
        "partner_memberships": [
            {
                "organisation_id": p.organisation_id,
                "kind": p.kind,
                "partner_name": p.partner_name,
            }
            for p in user.partner_memberships.order_by("pk")
        ],
        "audit_events": events,
    }
    from bieb.accounts import privacy

    for provider in privacy.providers():
        if provider.export is not None:
            export[provider.name] = provider.export(user)
    with transaction.atomic():
        audit_record(action="person.exported", actor=user, subject=user)
    return export


def person_delete(*, user: User, actor: Any) -> None:
    """Delete the account of ``user``: personal data is removed, the statistic fields (birth
    year, the four postcode digits, municipality, home organisation) are kept on an
    anonymous, inactive row; household, guardian links, roles and sessions end; an audit row
    records it. Only the person or a network administrator may do this."""
    if not (
        getattr(actor, "pk", None) == user.pk and access._authenticated(actor)
    ) and not access.is_network_admin(actor):
        raise PermissionDenied("forbidden", _("Je mag dit account niet verwijderen."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_anonymised:
            raise NotFound("not_found", _("Dit account bestaat niet meer."))
        from bieb.accounts import privacy

        for provider in privacy.providers():
            if provider.before_delete is not None:
                provider.before_delete(locked)
        if locked.household_id:
            household_leave(user=locked)
        GuardianLink.objects.filter(guardian=locked).delete()
        GuardianLink.objects.filter(child=locked).delete()
        StaffRole.objects.filter(user=locked).delete()
        PartnerMembership.objects.filter(user=locked).delete()
        locked.groups.clear()
        locked.user_permissions.clear()
        if locked.birth_date is not None:
            locked.birth_year = locked.birth_date.year
        locked.postcode = locked.postcode[:4] if locked.postcode[:4].isdigit() else ""
        locked.email = f"verwijderd-{locked.pk}@{ANONYMOUS_EMAIL_DOMAIN}"
        locked.first_name = ""
        locked.last_name = ""
        locked.birth_date = None
        locked.card_number = None
        locked.email_verified_at = None
        locked.keep_loan_history = False
        locked.last_login = None
        locked.is_active = False
        locked.is_staff = False
        locked.is_superuser = False
        locked.anonymised_at = clock.now()
        # Sessions end everywhere: an inactive user is never loaded from a session, and the
        # new password hash no longer matches the hash every session carries. (No scan of the
        # session table: that does not scale; `clearsessions` purges the dead rows.)
        locked.set_unusable_password()
        locked.save()
        audit_record(
            action="person.deleted",
            actor=actor if getattr(actor, "pk", None) != user.pk else None,
            subject=locked,
            organisation_id=locked.home_organisation_id,
        )
    access.forget_roles(user)


# --- households ----------------------------------------------------------------------------


def household_create(*, user: User, name: str) -> Household:
    """Create a household with ``user`` as its manager and first member."""
    access.access_account_features(user)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise _field_error(
            "invalid_household_name",
            _("Geef het huishouden een naam (hoogstens 120 tekens)."),
            "name",
        )
    if user.is_youth:
        raise DomainError(
            "household_manager_adult", _("Alleen volwassenen kunnen een huishouden beheren.")
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.household_id:
            raise DomainError(
                "already_in_household",
                _("Je hoort al bij een huishouden. Verlaat dat eerst."),
            )
        household = Household.objects.create(name=name, manager=locked, created_at=clock.now())
        locked.household = household
        locked.save(update_fields=["household"])
        user.household = household
        audit_record(action="household.created", actor=user, subject=household)
        audit_record(
            action="household.member_added",
            actor=user,
            subject=locked,
            data={"household_id": household.pk},
        )
    return household


def household_add_member(
    *, household: Household, card_number: str, email: str, actor: Any, site_url: str = ""
) -> User:
    """Add the person with this card number and e-mail address to ``household``.

    Only the household's manager may add. Takes a row lock on the household first, then on
    the person, so two adds for the last seat queue and exactly one succeeds (the other gets
    ``household_full``). Knowing both the card number and the address is the proof that the
    manager knows the person; the person is told by e-mail.
    """
    card_number = "".join((card_number or "").split())
    email = UserManager.normalize_email(email)
    not_found = _field_error(
        "member_not_found",
        _("Er is geen lid met dit pasnummer en dit e-mailadres. Controleer beide."),
        "card_number",
    )
    if not cards.card_number_is_valid(card_number):
        raise not_found
    with transaction.atomic():
        locked_household = Household.objects.select_for_update().filter(pk=household.pk).first()
        if locked_household is None:
            raise NotFound("not_found", _("Dit huishouden bestaat niet meer."))
        if actor is None or locked_household.manager_id != actor.pk:
            raise PermissionDenied(
                "not_household_manager",
                _("Alleen de beheerder van het huishouden kan leden toevoegen."),
            )
        member = (
            User.objects.select_for_update()
            .filter(card_number=card_number, email=email, is_active=True)
            .first()
        )
        if member is None:
            raise not_found
        if member.household_id == locked_household.pk:
            raise DomainError("already_member", _("Deze persoon hoort al bij je huishouden."))
        if member.household_id is not None:
            raise DomainError(
                "already_in_household",
                _("Deze persoon hoort al bij een ander huishouden en moet dat eerst verlaten."),
            )
        if User.objects.filter(household=locked_household).count() >= HOUSEHOLD_MAX_MEMBERS:
            raise DomainError(
                "household_full",
                _("Een huishouden heeft hoogstens %(max)d leden.") % {"max": HOUSEHOLD_MAX_MEMBERS},
            )
        member.household = locked_household
        member.save(update_fields=["household"])
        audit_record(
            action="household.member_added",
            actor=actor,
            subject=member,
            data={"household_id": locked_household.pk},
        )
        mail_on_commit(
            to=member.email,
            template="household_added",
            context={
                "person": member,
                "household": locked_household,
                "site_url": site_url_or_default(site_url),
            },
            language=member.preferred_language,
        )
    return member


def household_leave(*, user: User) -> None:
    """Take ``user`` out of their household. A leaving manager hands over to the adult member
    who joined first; a household without adults (or members) left is dissolved."""
    with transaction.atomic():
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        if locked_user.household_id is None:
            raise DomainError("not_in_household", _("Je hoort niet bij een huishouden."))
        household = Household.objects.select_for_update().get(pk=locked_user.household_id)
        locked_user.household = None
        locked_user.save(update_fields=["household"])
        user.household = None
        audit_record(
            action="household.member_left",
            actor=user,
            subject=locked_user,
            data={"household_id": household.pk},
        )
        if household.manager_id != locked_user.pk:
            return
        remaining = list(User.objects.filter(household=household).order_by("pk"))
        adults = [m for m in remaining if not m.is_youth]
        if adults:
            household.manager = adults[0]
            household.save(update_fields=["manager"])
            audit_record(
                action="household.manager_changed",
                actor=user,
                subject=household,
                data={"manager_id": adults[0].pk},
            )
            return
        User.objects.filter(household=household).update(household=None)
        audit_record(
            action="household.dissolved",
            actor=user,
            subject=household,
            data={"member_ids": [m.pk for m in remaining]},
        )
        household.delete()


# --- guardians -----------------------------------------------------------------------------


def guardian_consent_token(*, child: User, guardian_email: str) -> str:
    return signing.dumps(
        {"c": child.pk, "g": UserManager.normalize_email(guardian_email)},
        salt=GUARDIAN_CONSENT_SALT,
        compress=True,
    )


def guardian_consent_request(*, child: User, guardian_email: str, site_url: str = "") -> None:
    """Ask a guardian for consent: a signed link by e-mail. If the address already has an
    account, a pending link also appears in the guardian's "mijn bibliotheek"."""
    guardian_email = email_normalise(guardian_email)
    with transaction.atomic():
        guardian = User.objects.filter(email=guardian_email, is_active=True).first()
        if guardian is not None and guardian.pk != child.pk:
            GuardianLink.objects.get_or_create(
                guardian=guardian, child=child, defaults={"created_at": clock.now()}
            )
        token = guardian_consent_token(child=child, guardian_email=guardian_email)
        mail_on_commit(
            to=guardian_email,
            template="guardian_consent",
            context={
                "child": child,
                "link": f"{site_url_or_default(site_url)}/toestemming/{token}",
                "days": GUARDIAN_CONSENT_MAX_AGE.days,
            },
            language=child.preferred_language,
        )
        audit_record(action="guardian.consent_requested", subject=child)


def guardian_consent_give(*, guardian: User, child: User, actor: Any = None) -> GuardianLink:
    """Record that ``guardian`` (an adult) consents for ``child`` (a youth member). Idempotent:
    an existing pending link gets its consent, a consented link stays as it is."""
    if guardian.pk == child.pk:
        raise DomainError("guardian_is_child", _("Je kunt niet je eigen ouder of voogd zijn."))
    guardian_age = guardian.age
    if guardian_age is None or guardian_age < YOUTH_AGE:
        raise DomainError("guardian_not_adult", _("Alleen een volwassene kan toestemming geven."))
    if not child.is_youth:
        raise DomainError(
            "not_a_child", _("Toestemming van een ouder is alleen nodig voor jeugdleden.")
        )
    with transaction.atomic():
        link, _created = GuardianLink.objects.select_for_update().get_or_create(
            guardian=guardian, child=child, defaults={"created_at": clock.now()}
        )
        if link.consent_given_at is None:
            link.consent_given_at = clock.now()
            link.save(update_fields=["consent_given_at"])
            audit_record(
                action="guardian.consent_given",
                actor=actor or guardian,
                subject=child,
                data={"guardian_id": guardian.pk},
            )
    return link


def guardian_consent_by_token(*, token: str, guardian: User) -> GuardianLink:
    """Consent through the e-mailed link: the logged-in guardian's address must be the one the
    link was sent to. Errors: ``token_expired``, ``token_invalid``, ``consent_wrong_account``."""
    try:
        payload = signing.loads(
            token, salt=GUARDIAN_CONSENT_SALT, max_age=GUARDIAN_CONSENT_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        raise DomainError(
            "token_expired",
            _("Deze link is verlopen. Vraag je kind om opnieuw toestemming te vragen."),
        ) from None
    except signing.BadSignature:
        raise DomainError("token_invalid", _("Deze link is ongeldig.")) from None
    if payload.get("g") != guardian.email:
        raise PermissionDenied(
            "consent_wrong_account",
            _("Log in met het e-mailadres waarop je deze link hebt ontvangen."),
        )
    child = User.objects.filter(pk=payload.get("c"), anonymised_at__isnull=True).first()
    if child is None:
        raise DomainError("token_invalid", _("Deze link is ongeldig."))
    return guardian_consent_give(guardian=guardian, child=child, actor=guardian)


def guardian_child_add(*, guardian: User, card_number: str, email: str) -> GuardianLink:
    """A logged-in guardian links a child by card number and the child's e-mail address and
    consents in one step."""
    card_number = "".join((card_number or "").split())
    child = None
    if cards.card_number_is_valid(card_number):
        child = User.objects.filter(
            card_number=card_number, email=UserManager.normalize_email(email), is_active=True
        ).first()
    if child is None:
        raise _field_error(
            "member_not_found",
            _("Er is geen lid met dit pasnummer en dit e-mailadres. Controleer beide."),
            "card_number",
        )
    return guardian_consent_give(guardian=guardian, child=child, actor=guardian)


# --- staff roles and partners --------------------------------------------------------------


def _may_manage_organisation(actor: Any, organisation_id: int | None) -> bool:
    if actor is None:  # the system: seeding and commands
        return True
    if access.is_network_admin(actor):
        return True
    return organisation_id is not None and organisation_id in access.organisations_with_role(
        actor, StaffRole.Role.MANAGER
    )


def staff_role_grant(*, user: User, organisation: Any, role: str, actor: Any) -> StaffRole:
    """Give ``user`` a role in ``organisation`` (``None`` for network_admin). Network
    administrators grant anything; a manager grants roles in their own organisation. Idempotent."""
    if role not in StaffRole.Role.values:
        raise _field_error("invalid_role", _("Kies een bestaande rol."), "role")
    is_admin_role = role == StaffRole.Role.NETWORK_ADMIN
    if is_admin_role != (organisation is None):
        raise _field_error(
            "invalid_role_organisation",
            _("Een landelijk beheerder hoort bij geen organisatie; elke andere rol bij één."),
            "organisation",
        )
    organisation_id = organisation.pk if organisation is not None else None
    if is_admin_role and actor is not None and not access.is_network_admin(actor):
        raise PermissionDenied("forbidden", _("Alleen landelijk beheerders kunnen dit."))
    if not _may_manage_organisation(actor, organisation_id):
        raise PermissionDenied("forbidden", _("Alleen de directie van deze organisatie kan dit."))
    if user.is_anonymised or not user.is_active:
        raise NotFound("not_found", _("Dit account bestaat niet meer."))
    with transaction.atomic():
        staff_role, created = StaffRole.objects.get_or_create(
            user=user,
            organisation_id=organisation_id,
            role=role,
            defaults={"granted_at": clock.now()},
        )
        if created:
            audit_record(
                action="staff_role.granted",
                actor=actor,
                subject=user,
                organisation_id=organisation_id,
                data={"role": role},
            )
    access.forget_roles(user)
    return staff_role


def staff_role_revoke(*, staff_role: StaffRole, actor: Any) -> None:
    """Take a role away; same permission as granting it."""
    if staff_role.role == StaffRole.Role.NETWORK_ADMIN:
        if actor is not None and not access.is_network_admin(actor):
            raise PermissionDenied("forbidden", _("Alleen landelijk beheerders kunnen dit."))
    elif not _may_manage_organisation(actor, staff_role.organisation_id):
        raise PermissionDenied("forbidden", _("Alleen de directie van deze organisatie kan dit."))
    with transaction.atomic():
        deleted, _rows = StaffRole.objects.filter(pk=staff_role.pk).delete()
        if deleted:
            audit_record(
                action="staff_role.revoked",
                actor=actor,
                subject=f"accounts.user:{staff_role.user_id}",
                organisation_id=staff_role.organisation_id,
                data={"role": staff_role.role},
            )
    access.forget_roles(staff_role.user)


def partner_membership_create(
    *, user: User, organisation: Any, kind: str, partner_name: str, actor: Any
) -> PartnerMembership:
    """Link ``user`` to ``organisation`` as a partner (school, welfare, municipality)."""
    if kind not in PartnerMembership.Kind.values:
        raise _field_error("invalid_partner_kind", _("Kies school, welzijn of gemeente."), "kind")
    partner_name = (partner_name or "").strip()
    if not partner_name:
        raise _field_error(
            "partner_name_required", _("Vul de naam van de partner in."), "partner_name"
        )
    if not _may_manage_organisation(actor, organisation.pk):
        raise PermissionDenied("forbidden", _("Alleen de directie van deze organisatie kan dit."))
    with transaction.atomic():
        membership, created = PartnerMembership.objects.get_or_create(
            user=user,
            organisation=organisation,
            kind=kind,
            partner_name=partner_name,
            defaults={"created_at": clock.now()},
        )
        if created:
            audit_record(
                action="partner.added",
                actor=actor,
                subject=user,
                organisation_id=organisation.pk,
                data={"kind": kind},
            )
    return membership
