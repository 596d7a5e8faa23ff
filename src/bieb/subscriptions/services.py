"""Subscription commands: subscribe, switch off and on, skip next month, upgrade, downgrade,
cancel, undo a scheduled change, and schedule a price.

Every command runs in one transaction, locks what it decides on first (the person for a
sign-up, the subscription otherwise: ``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite takes the
write lock at ``BEGIN IMMEDIATE``), brings the subscription up to date (due scheduled changes
applied, a subscription past its last day ended), writes an audit row, and refuses with a
``DomainError`` whose code is stable and whose message is translated.

Rules (``docs/subscriptions.md``):

- a day is billed when the subscription is on at the end of that day: switching off now frees
  today, switching on now bills today;
- an upgrade (a plan that costs more for the current period) takes effect today, billed per
  day for the rest of the period; a plan that costs the same or less takes effect at the end of
  the period (a downgrade);
- cancelling ends the subscription at the end of the first term, or later at the next monthly
  anchor day (Dutch consumer rule: after the first term cancellable per month);
- "skip next month" is refused from ``SKIP_CUTOFF_DAYS`` days before the next period starts,
  so the billing run that prepares that period's invoice sees a settled month.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Least
from django.utils import translation
from django.utils.translation import gettext as _

from bieb.accounts.models import YOUTH_AGE, User, age_on
from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError, NotFound
from bieb.subscriptions import billing, periods
from bieb.subscriptions.models import (
    FULL_RATE_BP,
    ChangeKind,
    Fee,
    Interval,
    Meter,
    MunicipalPass,
    Plan,
    PlanKind,
    PlanPrice,
    PlanSwitch,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
    SwitchOff,
    UsageMeter,
)

__all__ = [
    "SKIP_CUTOFF_DAYS",
    "Upgrade",
    "addon_add",
    "addon_remove",
    "cancel_quote",
    "changes_apply_due",
    "day_pass_buy",
    "day_passes_lapse",
    "fee_record",
    "fee_waive",
    "mark_for_settling",
    "municipal_passes_load",
    "normalise_municipal_pass_code",
    "plan_change_quote",
    "plan_price_schedule",
    "subscribe",
    "subscription_cancel",
    "subscription_change_undo",
    "subscription_downgrade",
    "subscription_skip_next_month",
    "subscription_switch_off",
    "subscription_switch_on",
    "subscription_upgrade",
    "usage_period",
    "usage_period_start",
    "usage_record",
    "youth_transitions",
]

#: "skip next month" is possible until this many days before the next period starts
SKIP_CUTOFF_DAYS = 3
ONE_DAY = dt.timedelta(days=1)
#: stadspas codes: 6 to 20 letters, digits and hyphens, at least 4 digits (format only)
_PASS_CODE = re.compile(r"^[A-Z0-9-]{6,20}$")


# --- helpers ---------------------------------------------------------------------------------


def _actor(actor: Any, person: Any) -> Any:
    return actor if actor is not None else person


def mark_for_settling(subscription: Subscription, today: dt.date | None = None) -> None:
    """Mark a changed subscription, and its add-ons (they are off when it is off and end with
    it), for the billing run to settle from the period containing ``today``: every change
    affects days from today on. Only what was invoiced already needs settling."""
    start = _period(subscription, today or clock.today()).start
    Subscription.objects.filter(
        Q(pk=subscription.pk) | Q(parent_id=subscription.pk), billed_until__isnull=False
    ).update(rebill_from=Least(Coalesce("rebill_from", Value(start)), Value(start)))


def _audit(action: str, subscription: Subscription, person: Any, actor: Any, **data) -> None:
    """Audit a change, and mark the subscription (and its add-ons) for the billing run to
    settle (``mark_for_settling``)."""
    mark_for_settling(subscription)
    audit_record(
        action=f"subscriptions.{action}",
        actor=_actor(actor, person),
        subject=subscription,
        organisation_id=getattr(person, "home_organisation_id", None),
        data=data,
    )


def _plan(code: str, *, kind: str = PlanKind.BASE) -> Plan:
    """The active plan ``code`` of ``kind``: a base plan to subscribe to, or an add-on."""
    plan = Plan.objects.filter(code=(code or "").strip(), is_active=True).first()
    if plan is None:
        raise NotFound(
            "plan_unknown",
            _("Deze abonnementsvorm bestaat niet (meer). Kies een andere abonnementsvorm."),
        )
    if plan.kind != kind and kind == PlanKind.ADDON:
        raise DomainError(
            "not_an_addon",
            _("Dit is geen uitbreiding. Kies een uitbreiding, zoals streaming."),
        )
    if plan.kind != kind:
        raise DomainError(
            "plan_not_subscribable",
            _("Deze abonnementsvorm kun je niet los afsluiten. Kies een abonnement."),
        )
    return plan


def _price(plan: Plan, interval: str, period_start: dt.date) -> int:
    try:
        return billing.price_book_for([plan.pk]).price(plan.pk, interval, period_start)
    except LookupError:
        raise DomainError(
            "plan_not_available",
            _("Deze abonnementsvorm heeft nog geen prijs en is nog niet te krijgen."),
        ) from None


def normalise_municipal_pass_code(code: str) -> str:
    """The code as stored: upper case, without spaces. Only the format is checked here; the
    municipality's verification is a later step (``docs/subscriptions.md``)."""
    return re.sub(r"\s+", "", code or "").upper()


def _check_eligible(
    person: Any, plan: Plan, interval: str, pass_code: str, today: dt.date, period_start: dt.date
) -> str:
    """Refuse a plan the person may not take; return the normalised stadspas code."""
    age = age_on(person.birth_date, today)
    if not plan.admits_age(age):
        raise DomainError(
            "plan_not_for_age",
            _("Deze abonnementsvorm past niet bij je leeftijd. Kies een andere abonnementsvorm."),
        )
    price = _price(plan, interval, period_start)
    if age is not None and age < YOUTH_AGE and price > 0:
        # Wsob art. 13: under-18s pay nothing for borrowing
        raise DomainError(
            "youth_is_free",
            _("Tot je 18e betaal je niets voor lenen. Kies het gratis jeugdabonnement."),
        )
    code = normalise_municipal_pass_code(pass_code)
    if plan.requires_municipal_pass and (
        not _PASS_CODE.match(code) or sum(c.isdigit() for c in code) < 4
    ):
        raise DomainError(
            "municipal_pass_invalid",
            _(
                "Voor dit tarief heb je een geldige stadspascode nodig. Vul de code van je stadspas in."
            ),
            details={"field": "municipal_pass_code"},
        )
    if plan.requires_municipal_pass and code != _QUOTE_PASS_CODE:
        _check_municipal_pass(person, code, today)
    return code if plan.requires_municipal_pass else ""


def _pass_digest(code: str) -> str:
    """The SHA-256 of a code's letters and digits (upper case): ``sp 1234-5678`` and
    ``SP1234 5678`` are the same pass."""
    letters = re.sub(r"[^A-Z0-9]", "", normalise_municipal_pass_code(code))
    return hashlib.sha256(letters.encode()).hexdigest()


def _check_municipal_pass(person: Any, code: str, today: dt.date) -> None:
    """Where the person's municipality delivered its list of valid passes, the code must be on
    it and valid today. Where it did not, the format check stands and the desk checks the pass
    (``docs/subscriptions.md``)."""
    municipality_id = getattr(person, "municipality_id", None)
    if (
        municipality_id is None
        or not MunicipalPass.objects.filter(municipality_id=municipality_id).exists()
    ):
        return
    if not MunicipalPass.objects.filter(
        municipality_id=municipality_id, code_sha256=_pass_digest(code), valid_until__gte=today
    ).exists():
        raise DomainError(
            "municipal_pass_invalid",
            _(
                "We vinden deze stadspascode niet bij je gemeente, of de pas is verlopen. "
                "Controleer de code op je stadspas."
            ),
            details={"field": "municipal_pass_code"},
        )


def municipal_passes_load(
    *, municipality: Any, codes: Iterable[str], valid_until: dt.date, actor: Any = None
) -> int:
    """Replace a municipality's list of valid stadspas codes (only their SHA-256 is kept).
    Returns how many distinct codes are on it. Codes in the wrong form are refused, nothing
    half-loaded."""
    digests = set()
    for number, raw in enumerate(codes, start=1):
        code = normalise_municipal_pass_code(raw)
        if not code:
            continue
        if not _PASS_CODE.match(code) or sum(c.isdigit() for c in code) < 4:
            raise DomainError(
                "municipal_pass_list_invalid",
                _("Regel %(line)s is geen stadspascode. Er is niets ingelezen.") % {"line": number},
            )
        digests.add(_pass_digest(code))
    with transaction.atomic():
        MunicipalPass.objects.filter(municipality=municipality).delete()
        MunicipalPass.objects.bulk_create(
            MunicipalPass(municipality=municipality, code_sha256=d, valid_until=valid_until)
            for d in sorted(digests)
        )
        audit_record(
            action="subscriptions.municipal_passes_load",
            actor=actor,
            subject=f"network.municipality:{municipality.pk}",
            data={"codes": len(digests), "valid_until": valid_until.isoformat()},
        )
    return len(digests)


def _catch_up(subscription: Subscription, today: dt.date) -> None:
    """Apply what is due by ``today`` to a locked subscription: scheduled changes that took
    effect are marked applied, ``plan`` follows the plan switches, and a subscription past its
    last day ends."""
    now = clock.now()
    ScheduledChange.objects.filter(
        subscription=subscription,
        effective_on__lte=today,
        undone_at__isnull=True,
        applied_at__isnull=True,
    ).update(applied_at=now)
    current = (
        PlanSwitch.objects.filter(subscription=subscription, effective_on__lte=today)
        .order_by("-effective_on")
        .values_list("plan_id", flat=True)
        .first()
    )
    fields = []
    if current is not None and current != subscription.plan_id:
        subscription.plan_id = current
        fields.append("plan")
    if subscription.last_day is not None and subscription.last_day < today:
        subscription.status = SubscriptionStatus.ENDED
        subscription.ended_at = now
        fields += ["status", "ended_at"]
    if fields:
        subscription.save(update_fields=fields)
        if subscription.status == SubscriptionStatus.ENDED and subscription.parent_id is None:
            # its add-ons end with it
            for addon in Subscription.objects.select_for_update().filter(
                parent=subscription, status=SubscriptionStatus.ACTIVE
            ):
                addon.status = SubscriptionStatus.ENDED
                addon.ended_at = now
                if addon.last_day is None or addon.last_day > subscription.last_day:
                    addon.last_day = max(subscription.last_day, addon.started_on)
                addon.save(update_fields=["status", "ended_at", "last_day"])
        if subscription.status == SubscriptionStatus.ENDED:
            audit_record(
                action="subscriptions.ended",
                subject=subscription,
                data={"last_day": subscription.last_day.isoformat()},
            )


def no_subscription() -> NotFound:
    """The refusal for a person without an active subscription (also used by the API)."""
    return NotFound(
        "no_subscription", _("Je hebt geen actief abonnement. Sluit eerst een abonnement af.")
    )


def _lock_active(person: Any, today: dt.date) -> Subscription:
    """The person's active subscription, locked and brought up to date."""
    subscription = (
        Subscription.objects.select_for_update()
        .filter(person_id=person.pk, status=SubscriptionStatus.ACTIVE, parent__isnull=True)
        .first()
    )
    if subscription is None:
        raise no_subscription()
    _catch_up(subscription, today)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise no_subscription()
    return subscription


def _period(subscription: Subscription, day: dt.date) -> periods.Period:
    return periods.period_containing(
        day,
        interval=subscription.interval,
        anchor_day=subscription.anchor_day,
        anchor_month=subscription.anchor_month,
    )


def _date_in_past() -> DomainError:
    return DomainError(
        "date_in_past", _("Deze datum ligt in het verleden. Kies vandaag of een latere datum.")
    )


def _ending() -> DomainError:
    return DomainError(
        "subscription_ending",
        _("Je abonnement stopt voor die datum. Maak de opzegging ongedaan als je wilt blijven."),
        status=409,
    )


def _change_pending() -> DomainError:
    return DomainError(
        "change_pending",
        _("Er staat al een wijziging gepland voor die periode. Maak die eerst ongedaan."),
        status=409,
    )


def _undo(change: ScheduledChange, subscription: Subscription) -> None:
    """Mark ``change`` undone and remove what it scheduled (caller holds the lock)."""
    change.undone_at = clock.now()
    change.save(update_fields=["undone_at"])
    SwitchOff.objects.filter(change=change).delete()
    PlanSwitch.objects.filter(change=change).delete()
    if change.kind == ChangeKind.CANCEL:
        subscription.last_day = None
        subscription.cancelled_at = None
        subscription.save(update_fields=["last_day", "cancelled_at"])


# --- sign-up ---------------------------------------------------------------------------------


def subscribe(
    *,
    person: Any,
    plan_code: str,
    interval: str = Interval.MONTH,
    municipal_pass_code: str = "",
    actor: Any = None,
) -> Subscription:
    """Start a subscription on ``plan_code`` today, anchored on today. Guarantees one active
    subscription per person: the person is locked, and the partial unique constraint refuses
    a second one that slipped past (``already_subscribed``). A first subscription on a plan with
    a trial is free until the trial ends."""
    if interval not in Interval.values:
        raise DomainError("interval_unknown", _("Kies per maand of per jaar betalen."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).first()
        today = clock.today()
        existing = (
            Subscription.objects.select_for_update()
            .filter(person_id=person.pk, status=SubscriptionStatus.ACTIVE, parent__isnull=True)
            .first()
        )
        if existing is not None:
            _catch_up(existing, today)
            if existing.status == SubscriptionStatus.ACTIVE:
                raise _already_subscribed()
        plan = _plan(plan_code)
        _check_consent(person)
        code = _check_eligible(person, plan, interval, municipal_pass_code, today, today)
        had_plan = Subscription.objects.filter(person_id=person.pk, plan=plan).exists()
        trial_ends_on = (
            today + dt.timedelta(days=plan.trial_days) if plan.trial_days and not had_plan else None
        )
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    person_id=person.pk,
                    plan=plan,
                    interval=interval,
                    anchor_day=today.day,
                    anchor_month=today.month,
                    started_on=today,
                    trial_ends_on=trial_ends_on,
                    municipal_pass_code=code,
                )
        except IntegrityError:
            raise _already_subscribed() from None
        PlanSwitch.objects.create(subscription=subscription, plan=plan, effective_on=today)
        _audit(
            "subscribe",
            subscription,
            person,
            actor,
            plan=plan.code,
            interval=interval,
            started_on=today.isoformat(),
            trial_ends_on=trial_ends_on.isoformat() if trial_ends_on else None,
        )
    return subscription


def _check_consent(person: Any) -> None:
    """Under 16, a parent or guardian consents before the account is used beyond browsing
    (``accounts``); the same holds for taking a subscription, on every channel."""
    from bieb.accounts.access import has_guardian_consent

    if not has_guardian_consent(person):
        raise DomainError(
            "consent_required",
            _(
                "Je ouder of voogd moet eerst toestemming geven. Vraag het via Mijn bibliotheek aan."
            ),
            status=403,
        )


def _already_subscribed() -> DomainError:
    return DomainError(
        "already_subscribed",
        _("Je hebt al een abonnement. Wil je iets anders? Kies dan 'Abonnement wijzigen'."),
        status=409,
    )


# --- on and off ------------------------------------------------------------------------------


def subscription_switch_off(
    *, person: Any, from_date: dt.date | None = None, actor: Any = None
) -> SwitchOff:
    """Switch off from ``from_date`` (default today; today's date frees today) until switched
    on again. A future date is a scheduled change the resident can undo until that day."""
    with transaction.atomic():
        today = clock.today()
        from_date = from_date or today
        if from_date < today:
            raise _date_in_past()
        subscription = _lock_active(person, today)
        if subscription.last_day is not None and from_date > subscription.last_day:
            raise _ending()
        overlapping = [
            off
            for off in SwitchOff.objects.filter(subscription=subscription)
            if off.on_from is None or off.on_from > from_date
        ]
        if any(off.off_from <= today for off in overlapping):
            raise DomainError("already_switched_off", _("Je abonnement staat al uit."), status=409)
        if overlapping:
            raise _change_pending()
        change = None
        if from_date > today:
            change = ScheduledChange.objects.create(
                subscription=subscription, kind=ChangeKind.OFF, effective_on=from_date
            )
        off = SwitchOff.objects.create(subscription=subscription, off_from=from_date, change=change)
        _audit("switch_off", subscription, person, actor, off_from=from_date.isoformat())
    return off


def subscription_switch_on(*, person: Any, actor: Any = None) -> Subscription:
    """Switch on at once: today is billed again and the person may borrow again. Ends a
    switch-off or a skipped month that is in effect today."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        off = next(
            (
                o
                for o in SwitchOff.objects.select_for_update().filter(
                    subscription=subscription, off_from__lte=today
                )
                if o.on_from is None or o.on_from > today
            ),
            None,
        )
        if off is None:
            raise DomainError("not_switched_off", _("Je abonnement staat al aan."), status=409)
        if subscription.suspended_for_payment_at is not None:
            raise DomainError(
                "suspended_for_payment",
                _(
                    "Je abonnement staat uit omdat een factuur niet is betaald. Betaal de "
                    "factuur in Mijn abonnement; dan staat het meteen weer aan."
                ),
                status=409,
            )
        off_from = off.off_from
        if off.off_from == today:
            off.delete()
        else:
            off.on_from = today
            off.save(update_fields=["on_from"])
        _audit(
            "switch_on",
            subscription,
            person,
            actor,
            off_from=off_from.isoformat(),
            on_from=today.isoformat(),
        )
    return subscription


def subscription_skip_next_month(*, person: Any, actor: Any = None) -> ScheduledChange:
    """Switch off the whole next monthly period, scheduled (undoable until it starts).
    Refused from ``SKIP_CUTOFF_DAYS`` days before that period starts (``skip_too_late``)."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        if subscription.interval != Interval.MONTH:
            raise DomainError(
                "skip_monthly_only",
                _(
                    "Een maand overslaan kan alleen bij een maandabonnement. "
                    "Zet je abonnement uit als je het even niet gebruikt."
                ),
            )
        current = _period(subscription, today)
        following = _period(subscription, current.end)
        if today >= following.start - dt.timedelta(days=SKIP_CUTOFF_DAYS):
            raise DomainError(
                "skip_too_late",
                _(
                    "Het is te laat om de volgende maand over te slaan: dat kan tot "
                    "%(days)s dagen voor de nieuwe maand begint. Zet je abonnement uit "
                    "als je het niet gebruikt."
                )
                % {"days": SKIP_CUTOFF_DAYS},
                status=409,
            )
        if subscription.last_day is not None and subscription.last_day < following.end:
            raise _ending()
        for off in SwitchOff.objects.filter(subscription=subscription, off_from__lt=following.end):
            if off.on_from is None or off.on_from > following.start:
                if off.change_id and off.change.kind == ChangeKind.SKIP_NEXT_MONTH:
                    raise DomainError(
                        "already_skipped",
                        _("Je slaat de volgende maand al over."),
                        status=409,
                    )
                raise _change_pending()
        change = ScheduledChange.objects.create(
            subscription=subscription,
            kind=ChangeKind.SKIP_NEXT_MONTH,
            effective_on=following.start,
        )
        SwitchOff.objects.create(
            subscription=subscription,
            off_from=following.start,
            on_from=following.end,
            change=change,
        )
        _audit(
            "skip_next_month",
            subscription,
            person,
            actor,
            off_from=following.start.isoformat(),
            on_from=following.end.isoformat(),
        )
    return change


# --- changing plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Upgrade:
    subscription: Subscription
    #: what the rest of the current period costs more (cents, from today to its end)
    difference_cents: int


def subscription_upgrade(
    *, person: Any, plan_code: str, municipal_pass_code: str = "", actor: Any = None
) -> Upgrade:
    """Switch to a plan that costs more, today: the rest of the current period is billed per
    day at the new plan's daily amount. A pending downgrade is undone."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        plan = _plan(plan_code)
        if plan.pk == subscription.plan_id:
            raise DomainError("same_plan", _("Dit is al je abonnementsvorm."), status=409)
        period = _period(subscription, today)
        code = _check_eligible(
            person, plan, subscription.interval, municipal_pass_code, today, period.start
        )
        current_price = _price(subscription.plan, subscription.interval, period.start)
        if _price(plan, subscription.interval, period.start) <= current_price:
            raise DomainError(
                "not_an_upgrade",
                _(
                    "Deze abonnementsvorm is niet duurder dan je huidige. "
                    "Kies 'Overstappen aan het einde van de periode'."
                ),
            )
        before = billing.total_cents(billing.lines_for(subscription, today, period.end))
        for change in ScheduledChange.objects.filter(
            subscription=subscription,
            kind=ChangeKind.DOWNGRADE,
            undone_at__isnull=True,
            applied_at__isnull=True,
        ):
            _undo(change, subscription)
        PlanSwitch.objects.update_or_create(
            subscription=subscription, effective_on=today, defaults={"plan": plan}
        )
        previous = subscription.plan
        subscription.plan = plan
        fields = ["plan"]
        if plan.requires_municipal_pass:
            subscription.municipal_pass_code = code
            fields.append("municipal_pass_code")
        if subscription.trial_ends_on is not None and subscription.trial_ends_on > today:
            subscription.trial_ends_on = today  # an upgrade ends the trial
            fields.append("trial_ends_on")
        subscription.save(update_fields=fields)
        after = billing.total_cents(billing.lines_for(subscription, today, period.end))
        _audit(
            "upgrade",
            subscription,
            person,
            actor,
            from_plan=previous.code,
            to_plan=plan.code,
            effective_on=today.isoformat(),
            difference_cents=after - before,
        )
    return Upgrade(subscription, after - before)


def subscription_downgrade(
    *, person: Any, plan_code: str, municipal_pass_code: str = "", actor: Any = None
) -> ScheduledChange:
    """Switch to a plan that costs the same or less from the start of the next period;
    scheduled, undoable until then."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        plan = _plan(plan_code)
        if plan.pk == subscription.plan_id:
            raise DomainError("same_plan", _("Dit is al je abonnementsvorm."), status=409)
        effective_on = _period(subscription, today).end
        if subscription.last_day is not None and subscription.last_day < effective_on:
            raise _ending()
        code = _check_eligible(
            person, plan, subscription.interval, municipal_pass_code, effective_on, effective_on
        )
        if code:
            subscription.municipal_pass_code = code
            subscription.save(update_fields=["municipal_pass_code"])
        if _price(plan, subscription.interval, effective_on) > _price(
            subscription.plan, subscription.interval, effective_on
        ):
            raise DomainError(
                "not_a_downgrade",
                _("Deze abonnementsvorm is duurder dan je huidige. Kies 'Nu overstappen'."),
            )
        if ScheduledChange.objects.filter(
            subscription=subscription,
            kind=ChangeKind.DOWNGRADE,
            undone_at__isnull=True,
            applied_at__isnull=True,
        ).exists():
            raise _change_pending()
        change = ScheduledChange.objects.create(
            subscription=subscription,
            kind=ChangeKind.DOWNGRADE,
            effective_on=effective_on,
            to_plan=plan,
        )
        PlanSwitch.objects.create(
            subscription=subscription, plan=plan, effective_on=effective_on, change=change
        )
        _audit(
            "downgrade",
            subscription,
            person,
            actor,
            from_plan=subscription.plan.code,
            to_plan=plan.code,
            effective_on=effective_on.isoformat(),
        )
    return change


@dataclass(frozen=True)
class PlanChange:
    """What ``subscription_change_plan`` did."""

    #: ``upgrade`` (today) or ``downgrade`` (from the next period)
    kind: str
    effective_on: dt.date
    #: the scheduled change of a downgrade (undoable until ``effective_on``); None for an upgrade
    change: ScheduledChange | None
    #: what the rest of the current period costs more (an upgrade; 0 for a downgrade)
    difference_cents: int
    #: the new plan's price for the period it starts in, minus the old plan's
    period_price_difference_cents: int


def subscription_change_plan(
    *, person: Any, plan_code: str, municipal_pass_code: str = "", actor: Any = None
) -> PlanChange:
    """Change to ``plan_code`` the way a resident means it: a plan that costs more for the
    current period is an upgrade today (``subscription_upgrade``), one that costs the same or
    less a downgrade from the next period (``subscription_downgrade``). One transaction."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        old_plan, interval = subscription.plan, subscription.interval
        try:
            upgrade = subscription_upgrade(
                person=person,
                plan_code=plan_code,
                municipal_pass_code=municipal_pass_code,
                actor=actor,
            )
        except DomainError as refusal:
            if refusal.code != "not_an_upgrade":
                raise
            change = subscription_downgrade(
                person=person,
                plan_code=plan_code,
                municipal_pass_code=municipal_pass_code,
                actor=actor,
            )
            start = change.effective_on
            return PlanChange(
                kind="downgrade",
                effective_on=start,
                change=change,
                difference_cents=0,
                period_price_difference_cents=_price(change.to_plan, interval, start)
                - _price(old_plan, interval, start),
            )
        start = _period(upgrade.subscription, today).start
        return PlanChange(
            kind="upgrade",
            effective_on=today,
            change=None,
            difference_cents=upgrade.difference_cents,
            period_price_difference_cents=_price(upgrade.subscription.plan, interval, start)
            - _price(old_plan, interval, start),
        )


#: a well-formed stadspas code for quoting a stadspas rate before the resident gives theirs
_QUOTE_PASS_CODE = "QUOTE-0000"


class _DryRun(Exception):
    """Raised to roll a quote's transaction back."""


def plan_change_quote(*, person: Any, plan_code: str, municipal_pass_code: str = "") -> PlanChange:
    """What ``subscription_change_plan`` would do now, without doing it: the service runs and
    its transaction is rolled back, so the screen shows exactly what confirming will do (the
    returned ``change`` was never saved). Refusals are the service's own."""
    quote: PlanChange | None = None
    plan = Plan.objects.filter(code=(plan_code or "").strip()).first()
    if plan is not None and plan.requires_municipal_pass and not municipal_pass_code:
        municipal_pass_code = _QUOTE_PASS_CODE  # the real code is checked on confirming
    try:
        with transaction.atomic():
            quote = subscription_change_plan(
                person=person, plan_code=plan_code, municipal_pass_code=municipal_pass_code
            )
            raise _DryRun
    except _DryRun:
        pass
    assert quote is not None
    return quote


def cancel_quote(*, person: Any) -> dt.date:
    """The last day the subscription would have if cancelled now (``subscription_cancel``,
    rolled back)."""
    last_day: dt.date | None = None
    try:
        with transaction.atomic():
            change = subscription_cancel(person=person)
            last_day = change.effective_on - ONE_DAY
            raise _DryRun
    except _DryRun:
        pass
    assert last_day is not None
    return last_day


def _cancel_end(subscription: Subscription, today: dt.date) -> dt.date:
    """The first day without the subscription after cancelling ``today``: the end of the first
    term (the first period), or later the next monthly anchor day."""
    first_term_end = _period(subscription, subscription.started_on).end
    return max(first_term_end, periods.next_monthly_boundary_after(today, subscription.anchor_day))


def subscription_cancel(*, person: Any, actor: Any = None) -> ScheduledChange:
    """Cancel: the subscription runs to the end of the first term, or after it to the next
    monthly anchor day, then ends. Undoable until then. Pending changes that would take effect
    only after the end are undone."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        if subscription.last_day is not None:
            raise DomainError(
                "already_cancelled",
                _("Je abonnement is al opgezegd. Je kunt de opzegging ongedaan maken."),
                status=409,
            )
        end = _cancel_end(subscription, today)
        for change in ScheduledChange.objects.filter(
            subscription=subscription,
            effective_on__gte=end,
            undone_at__isnull=True,
            applied_at__isnull=True,
        ):
            _undo(change, subscription)
        change = ScheduledChange.objects.create(
            subscription=subscription, kind=ChangeKind.CANCEL, effective_on=end
        )
        subscription.last_day = end - ONE_DAY
        subscription.cancelled_at = clock.now()
        subscription.save(update_fields=["last_day", "cancelled_at"])
        _audit("cancel", subscription, person, actor, last_day=subscription.last_day.isoformat())
    return change


def subscription_change_undo(*, person: Any, change_id: int, actor: Any = None) -> ScheduledChange:
    """Undo a scheduled change that has not taken effect yet, and what it scheduled."""
    with transaction.atomic():
        today = clock.today()
        subscription = _lock_active(person, today)
        change = (
            ScheduledChange.objects.select_for_update()
            .filter(pk=change_id, subscription=subscription)
            .first()
        )
        if change is None:
            raise NotFound("change_unknown", _("Deze geplande wijziging bestaat niet."))
        if change.undone_at is not None:
            raise DomainError(
                "already_undone", _("Deze wijziging is al ongedaan gemaakt."), status=409
            )
        if change.applied_at is not None or change.effective_on <= today:
            raise DomainError(
                "change_in_effect",
                _("Deze wijziging is al ingegaan en kan niet meer ongedaan worden gemaakt."),
                status=409,
            )
        _undo(change, subscription)
        _audit(
            "change_undo",
            subscription,
            person,
            actor,
            kind=change.kind,
            effective_on=change.effective_on.isoformat(),
        )
    return change


# --- jobs and network staff ------------------------------------------------------------------


def changes_apply_due(*, today: dt.date | None = None) -> int:
    """Bring every subscription with something due up to date (scheduled changes applied,
    subscriptions past their last day ended). Returns how many were looked at. Idempotent."""
    today = today or clock.today()
    due = set(
        ScheduledChange.objects.filter(
            effective_on__lte=today, undone_at__isnull=True, applied_at__isnull=True
        ).values_list("subscription_id", flat=True)
    ) | set(
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, last_day__lt=today
        ).values_list("pk", flat=True)
    )
    for pk in sorted(due):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().filter(pk=pk).first()
            if subscription is not None and subscription.status == SubscriptionStatus.ACTIVE:
                _catch_up(subscription, today)
    return len(due)


def plan_price_schedule(
    *,
    plan: Plan,
    monthly_cents: int,
    yearly_cents: int,
    effective_from: dt.date,
    one_off_cents: int = 0,
    vat_rate_bp: int | None = None,
    actor: Any = None,
) -> PlanPrice:
    """Set a plan's price (and, when given, its VAT rate in basis points) from
    ``effective_from`` (today or later). Periods that started before it keep their price and
    rate: a period is priced and taxed by the row in effect on its first day."""
    with transaction.atomic():
        if effective_from < clock.today():
            raise _date_in_past()
        amounts = (monthly_cents, yearly_cents, one_off_cents)
        if any(not isinstance(a, int) or a < 0 for a in amounts):
            raise DomainError(
                "price_invalid", _("Een prijs is een heel aantal centen, nul of meer.")
            )
        if vat_rate_bp is not None and (
            not isinstance(vat_rate_bp, int) or not 0 <= vat_rate_bp <= FULL_RATE_BP
        ):
            raise DomainError(
                "vat_rate_invalid",
                _("Het btw-tarief ligt tussen 0 en 100 %."),
                details={"field": "vat_rate"},
            )
        if plan.max_age is not None and plan.max_age < YOUTH_AGE and any(amounts):
            raise DomainError(
                "youth_is_free", _("Een jeugdabonnement is gratis (Wsob artikel 13).")
            )
        price, _created = PlanPrice.objects.update_or_create(
            plan=plan,
            effective_from=effective_from,
            defaults={
                "monthly_cents": monthly_cents,
                "yearly_cents": yearly_cents,
                "one_off_cents": one_off_cents,
                "vat_rate_bp": vat_rate_bp,
            },
        )
        audit_record(
            action="subscriptions.price_schedule",
            actor=actor,
            subject=plan,
            data={
                "effective_from": effective_from.isoformat(),
                "monthly_cents": monthly_cents,
                "yearly_cents": yearly_cents,
                "one_off_cents": one_off_cents,
                "vat_rate_bp": vat_rate_bp,
            },
        )
    return price


# --- fees and usage (reported by circulation and programming) -------------------------------


def fee_record(
    *,
    person: Any,
    organisation: Any,
    amount_cents: int,
    description: str,
    source: str,
    source_id: int,
    vat_rate_bp: int = 0,
    actor: Any = None,
) -> Fee:
    """Record money owed outside the plan (a lost book), to be billed on the person's next
    invoice from ``organisation``. Reported once per ``(source, source_id)``: a second report
    answers the first row. Under-18s are never charged for borrowing (Wsob art. 13): callers
    do not report borrowing fees for them."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise DomainError(
            "amount_invalid", _("Een bedrag is een heel aantal centen, meer dan nul.")
        )
    with transaction.atomic():
        fee, created = Fee.objects.get_or_create(
            source=source,
            source_id=source_id,
            defaults={
                "person_id": person.pk,
                "organisation_id": organisation.pk,
                "amount_cents": amount_cents,
                "description": description[:200],
                "vat_rate_bp": vat_rate_bp,
            },
        )
        if created:
            audit_record(
                action="subscriptions.fee_record",
                actor=actor,
                subject=fee,
                organisation_id=organisation.pk,
                data={"amount_cents": amount_cents, "source": f"{source}:{source_id}"},
            )
    return fee


def fee_waive(*, source: str, source_id: int, actor: Any = None) -> bool:
    """Waive a fee not yet billed; returns whether one was waived."""
    with transaction.atomic():
        fee = (
            Fee.objects.select_for_update()
            .filter(source=source, source_id=source_id, waived_at__isnull=True)
            .first()
        )
        if fee is None or fee.invoice_line_id is not None:
            return False
        fee.waived_at = clock.now()
        fee.save(update_fields=["waived_at"])
        audit_record(
            action="subscriptions.fee_waive",
            actor=actor,
            subject=fee,
            organisation_id=fee.organisation_id,
            data={"amount_cents": fee.amount_cents},
        )
    return True


def usage_period_start(person: Any, day: dt.date) -> dt.date:
    """The start of the period a person's use on ``day`` counts in (``usage_period``)."""
    return usage_period(person, day).start


def usage_period(person: Any, day: dt.date) -> periods.Period:
    """The period a person's use on ``day`` counts in: their subscription's monthly rhythm
    (yearly subscriptions too: limits are per month), else the calendar month."""
    subscription = (
        Subscription.objects.filter(
            person_id=person.pk, status=SubscriptionStatus.ACTIVE, parent__isnull=True
        )
        .only("anchor_day")
        .first()
    )
    anchor = subscription.anchor_day if subscription is not None else 1
    return periods.period_containing(day, interval=periods.MONTH, anchor_day=anchor)


def usage_record(
    *, person: Any, meter: str, organisation_id: int, amount: int = 1, day: dt.date | None = None
) -> None:
    """Count ``amount`` of use on ``meter`` at an organisation (a loan, an e-book, a credit).
    One conditional upsert; a negative amount takes use back (a cancelled registration)."""
    if meter not in Meter.values:
        raise ValueError(meter)
    day = day or clock.today()
    start = usage_period_start(person, day)
    table = connection.ops.quote_name(UsageMeter._meta.db_table)
    # one statement, both databases: a first use inserts the row, a later one adds to it
    # (never below zero); the unique constraint makes two at once add up, not collide
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (person_id, meter, period_start, organisation_id, used) "  # noqa: S608 - names from _meta
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (person_id, meter, period_start, organisation_id) DO UPDATE SET "
            f"used = CASE WHEN {table}.used + %s < 0 THEN 0 ELSE {table}.used + %s END",
            [person.pk, meter, start, organisation_id, max(amount, 0), amount, amount],
        )


# --- add-ons ------------------------------------------------------------------------------------


def addon_add(*, person: Any, plan_code: str, actor: Any = None) -> Subscription:
    """Add an add-on (streaming, a course bundle) to the person's subscription from today. It
    follows the base subscription: the same periods, off when it is off, billed on its invoice,
    and it ends with it."""
    with transaction.atomic():
        today = clock.today()
        base = _lock_active(person, today)
        if base.last_day is not None:
            raise _ending()
        plan = _plan(plan_code, kind=PlanKind.ADDON)
        _check_eligible(person, plan, base.interval, "", today, _period(base, today).start)
        try:
            with transaction.atomic():
                addon = Subscription.objects.create(
                    person_id=person.pk,
                    plan=plan,
                    parent=base,
                    interval=base.interval,
                    anchor_day=base.anchor_day,
                    anchor_month=base.anchor_month,
                    started_on=today,
                )
        except IntegrityError:
            raise DomainError(
                "addon_already_added",
                _("Deze uitbreiding heb je al."),
                status=409,
            ) from None
        PlanSwitch.objects.create(subscription=addon, plan=plan, effective_on=today)
        _audit("addon_add", base, person, actor, addon=plan.code, started_on=today.isoformat())
    return addon


def addon_remove(*, person: Any, plan_code: str, actor: Any = None) -> Subscription:
    """End an add-on at the end of the current period (its last day is the day before)."""
    with transaction.atomic():
        today = clock.today()
        base = _lock_active(person, today)
        addon = (
            Subscription.objects.select_for_update()
            .filter(parent=base, plan__code=plan_code, status=SubscriptionStatus.ACTIVE)
            .first()
        )
        if addon is None:
            raise NotFound("addon_unknown", _("Deze uitbreiding heb je niet."))
        if addon.last_day is not None:
            raise DomainError("already_cancelled", _("Deze uitbreiding stopt al."), status=409)
        addon.last_day = max(_period(base, today).end - ONE_DAY, addon.started_on)
        addon.cancelled_at = clock.now()
        addon.save(update_fields=["last_day", "cancelled_at"])
        _audit(
            "addon_remove", addon, person, actor, addon=plan_code,
            last_day=addon.last_day.isoformat(),
        )  # fmt: skip
    return addon


# --- turning 18 ---------------------------------------------------------------------------------

#: residents on the youth plan are told this many days before they turn 18
YOUTH_NOTICE_DAYS = 30
#: the plan a youth subscription falls back to at 18 unless the resident chose another
FREE_PLAN_CODE = "account"


def youth_transitions(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily step for residents on a youth plan (maximum age under 18): told
    ``YOUTH_NOTICE_DAYS`` days before their 18th birthday (once), and on the birthday switched
    to the free account (``FREE_PLAN_CODE``), never to a paid plan without their choice. A
    resident who chose a plan meanwhile has left the youth plan and is not touched."""
    from django.core.mail import send_mail

    from bieb.core.models import AuditEvent

    today = today or clock.today()
    told = switched = 0
    free = Plan.objects.filter(code=FREE_PLAN_CODE, is_active=True).first()
    youth_subs = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE,
        parent__isnull=True,
        plan__max_age__lt=YOUTH_AGE,
        person__birth_date__isnull=False,
    ).select_related("person", "plan")
    for subscription in youth_subs:
        person = subscription.person
        birthday = _eighteenth(person.birth_date)
        if today >= birthday and free is not None:
            with transaction.atomic():
                locked = _lock_active(person, today)
                if locked.plan_id != subscription.plan_id:
                    continue
                PlanSwitch.objects.update_or_create(
                    subscription=locked, effective_on=today, defaults={"plan": free}
                )
                locked.plan = free
                locked.save(update_fields=["plan"])
                _audit("youth_to_free", locked, person, None, plan=free.code)
                switched += 1
        elif today >= birthday - dt.timedelta(days=YOUTH_NOTICE_DAYS):
            subject = f"subscriptions.subscription:{subscription.pk}"
            if AuditEvent.objects.filter(
                action="subscriptions.youth_notice", subject=subject
            ).exists():
                continue
            with transaction.atomic():
                send_mail(
                    _("Je wordt bijna 18: wat verandert er aan je abonnement"),
                    _(
                        "Op %(day)s word je 18. Je jeugdabonnement stopt dan en je houdt een "
                        "gratis account: activiteiten en community blijven, lenen niet. Wil je "
                        "blijven lenen? Kies dan een abonnement in Mijn abonnement. Je betaalt "
                        "pas als je zelf een abonnement kiest."
                    )
                    % {"day": birthday.strftime("%d-%m-%Y")},
                    None,
                    [person.email],
                )
                audit_record(
                    action="subscriptions.youth_notice",
                    subject=subject,
                    organisation_id=person.home_organisation_id,
                    data={"birthday": birthday.isoformat()},
                )
                told += 1
    return {"told": told, "switched_to_free": switched}


def _eighteenth(birth_date: dt.date) -> dt.date:
    try:
        return birth_date.replace(year=birth_date.year + YOUTH_AGE)
    except ValueError:  # born on 29 February
        return dt.date(birth_date.year + YOUTH_AGE, 3, 1)


# --- day pass ---------------------------------------------------------------------------------


def day_pass_buy(*, person: Any, actor: Any = None) -> Any:
    """An invoice for a day pass for today (the ``day_pass`` plan's one-off price), issued by
    the person's library; paid online, it gives the pass's entitlements for the rest of the
    day (``selectors.entitlements_for``). A second request the same day answers the same
    invoice. Refused with a subscription of one's own (it already includes more)."""
    from bieb.subscriptions import invoicing
    from bieb.subscriptions.models import Invoice, InvoiceStatus, LineKind

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).first()
        today = clock.today()
        plan = Plan.objects.filter(kind=PlanKind.DAY_PASS, is_active=True).order_by("pk").first()
        if plan is None:
            raise NotFound("plan_unknown", _("Er is nu geen dagpas te koop."))
        if Subscription.objects.filter(
            person_id=person.pk, status=SubscriptionStatus.ACTIVE, parent__isnull=True
        ).exists():
            raise DomainError(
                "day_pass_not_needed",
                _("Je hebt een abonnement; een dagpas heb je daarnaast niet nodig."),
                status=409,
            )
        existing = (
            Invoice.objects.filter(
                person_id=person.pk,
                lines__kind=LineKind.DAY_PASS,
                lines__first_day=today,
                status__in=(InvoiceStatus.OPEN, InvoiceStatus.PAID),
            )
            .order_by("pk")
            .first()
        )
        if existing is not None:
            return existing
        price = (
            PlanPrice.objects.filter(plan=plan, effective_from__lte=today)
            .order_by("-effective_from")
            .first()
        )
        if price is None or price.one_off_cents <= 0:
            raise DomainError(
                "plan_not_available",
                _("Deze abonnementsvorm heeft nog geen prijs en is nog niet te krijgen."),
            )
        _check_eligible(person, plan, Interval.MONTH, "", today, today)
        age = age_on(person.birth_date, today)
        if age is not None and age < YOUTH_AGE:  # Wsob art. 13
            raise DomainError(
                "youth_is_free",
                _("Tot je 18e betaal je niets voor lenen. Kies het gratis jeugdabonnement."),
            )
        issuer = invoicing.issuer_of(person)
        if issuer is None:
            raise DomainError(
                "no_library",
                _("Kies eerst je eigen bibliotheek in Mijn gegevens."),
            )
        with translation.override("nl"):
            description = _("%(plan)s voor %(day)s") % {
                "plan": plan.name,
                "day": today.strftime("%d-%m-%Y"),
            }
        invoice = invoicing.invoice_create(
            person=person,
            organisation_id=issuer,
            lines=[
                invoicing.NewLine(
                    LineKind.DAY_PASS,
                    description,
                    price.one_off_cents,
                    plan.vat_rate_bp,
                    plan_id=plan.pk,
                    first_day=today,
                    last_day=today,
                    days=1,
                )
            ],
            actor=_actor(actor, person),
        )
    return invoice


def day_passes_lapse(*, today: dt.date | None = None) -> int:
    """Void the day passes nobody paid on their day (the nightly round): a pass is for one
    day, so it is never owed afterwards, never reminded and never collected. One under way
    at the payment provider waits for the provider's answer. Returns how many lapsed."""
    from bieb.subscriptions import invoicing
    from bieb.subscriptions.models import Invoice, InvoiceStatus, LineKind, PaymentStatus

    today = today or clock.today()
    lapsed = 0
    candidates = (
        Invoice.objects.filter(
            status=InvoiceStatus.OPEN,
            settled_cents=0,
            lines__kind=LineKind.DAY_PASS,
            lines__first_day__lt=today,
        )
        .exclude(allocations__payment__status__in=(PaymentStatus.OPEN, PaymentStatus.PENDING))
        .distinct()
    )
    with translation.override("nl"):
        reason = _("Dagpas niet betaald op de dag zelf")
    for invoice in candidates:
        try:
            invoicing.invoice_void(invoice, reason=reason, actor=None)
        except DomainError:  # paid or under way meanwhile: leave it
            continue
        lapsed += 1
    return lapsed
