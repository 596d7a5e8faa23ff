"""What a person may borrow now: the one question circulation asks before it lends.

Two answers, one after the other (decisions 0010 and 0015):

- **the account**: a patron category — youth (under 18), adult, or staff (anyone with a staff
  role) — and whether the account may borrow at all (active, a library card, a guardian's
  consent for online features under 16). Under-18s never pay a fee for borrowing (Wet stelsel
  openbare bibliotheekvoorzieningen, art. 13), so ``pays_fees`` is False for them whatever a
  policy says;
- **the subscription** (Abonnement 2.0): a person with one — their own, or the manager's as a
  member of a household — gets ``plan``, and the plan decides: switched off, no printed copies
  (the free account, Digitaal), how many at once, how many e-books a month. A person without a
  subscription has ``plan`` None and the patron category decides as it did before: the
  transition while libraries move their members over.

The subscription is read in the statement that reads the staff role (and, at a loan, locks the
person: ``services._lock_person``), so a checkout asks nothing more than it did before the
switch-over. Only a household member without a subscription of their own, and a subscription
with add-ons, are answered by ``subscriptions.selectors.entitlements_for``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bieb.circulation.models import PatronCategory
from bieb.core import clock, rows
from bieb.core.errors import DomainError


@dataclass(frozen=True)
class PlanRights:
    """What the person's subscription allows today (``subscriptions.selectors``'s answer, in
    circulation's terms)."""

    code: str
    #: on today; when off every limit is 0
    on: bool
    #: printed books, discs, films and things at once; 0: not in the plan
    physical_loans: int
    #: e-books and audiobooks per month; 0: not in the plan
    digital_loans_per_month: int
    #: the manager's plan, shared as a member of their household: the manager decides about it
    shared: bool = False


@dataclass(frozen=True)
class Entitlements:
    category: str
    #: may borrow printed books, audiobooks on disc, films and things (the account may; the
    #: plan may still refuse: ``refuse_physical``)
    physical: bool
    #: may borrow e-books and audiobooks (the account may; the plan: ``refuse_digital``)
    digital: bool
    #: may place holds
    holds: bool
    #: fees for borrowing (late returns) apply; never for youth
    pays_fees: bool
    #: at most this many holds at once
    max_holds: int = 20
    #: why something is not allowed (``no_card``, ``consent_required``, ``account_inactive``)
    refusal: str = ""
    #: the subscription's answer; None: no subscription, the patron category decides
    plan: PlanRights | None = None


class PersonState(NamedTuple):
    """What one statement says about a person: their staff role and their subscription."""

    is_staff: bool
    plan: PlanRights | None


# --- the subscription, read in one statement ------------------------------------------------


@cache
def _state_sql(lock: bool) -> str:
    # the selectors' rules written out (``subscriptions.selectors``): the active base
    # subscription that covers today, its plan by the latest plan switch up to today, and a
    # switch-off period covering today
    # (the CASEs: without a subscription, the questions about it are not asked at all; the
    # status is written in, not a parameter, so the partial index of active subscriptions per
    # person — ``subscriptions_one_active_per_person`` — serves a prepared statement's generic
    # plan)
    return (
        "SELECT EXISTS (SELECT 1 FROM accounts_staffrole r WHERE r.user_id = u.id),"  # noqa: S608
        " s.id, p.kind, p.code, p.physical_loans, p.digital_loans_per_month,"
        " CASE WHEN s.id IS NULL THEN FALSE ELSE"
        " EXISTS (SELECT 1 FROM subscriptions_switchoff o WHERE o.subscription_id = s.id"
        " AND o.off_from <= %s AND (o.on_from IS NULL OR o.on_from > %s)) END,"
        " CASE WHEN s.id IS NULL THEN FALSE ELSE"
        " EXISTS (SELECT 1 FROM subscriptions_subscription a WHERE a.parent_id = s.id"
        " AND a.status = 'active' AND (a.last_day IS NULL OR a.last_day >= %s)) END,"
        " CASE WHEN s.id IS NOT NULL OR u.household_id IS NULL THEN FALSE ELSE"
        " EXISTS (SELECT 1 FROM accounts_household h WHERE h.id = u.household_id"
        " AND h.manager_id <> u.id) END,"
        # a day pass paid for today (``selectors.day_pass_of``), asked only without a
        # subscription
        " CASE WHEN s.id IS NOT NULL THEN FALSE ELSE"
        " EXISTS (SELECT 1 FROM subscriptions_invoice inv JOIN subscriptions_invoiceline il"
        " ON il.invoice_id = inv.id WHERE inv.person_id = u.id AND inv.status = 'paid'"
        " AND il.kind = 'day_pass' AND il.first_day = %s) END"
        " FROM accounts_user u"
        " LEFT JOIN subscriptions_subscription s ON s.person_id = u.id AND s.status = 'active'"
        " AND s.parent_id IS NULL AND (s.last_day IS NULL OR s.last_day >= %s)"
        " LEFT JOIN subscriptions_plan p ON p.id = (SELECT ps.plan_id"
        " FROM subscriptions_planswitch ps WHERE ps.subscription_id = s.id"
        " AND ps.effective_on <= %s ORDER BY ps.effective_on DESC LIMIT 1)"
        " WHERE u.id = %s" + (rows.for_update("u") if lock else "")
    )


def person_state(person: Any, *, lock: bool = False, today: dt.date | None = None) -> PersonState:
    """The person's staff role and subscription on ``today`` in one written-out statement
    (``lock``: and lock the person's row, ``FOR UPDATE OF`` it alone: the caller's transaction
    decides their limits under it). A household member without a subscription of their own,
    and a subscription with add-ons, are asked of ``subscriptions.selectors`` after it. Only
    ``person.pk`` is read from ``person``."""
    today = today or clock.today()
    day = rows.date(today)
    found = rows.fetch(_state_sql(lock), [day, day, day, day, day, day, person.pk])
    if found is None:  # no such person (deleted meanwhile): nothing is allowed to them
        return PersonState(False, None)
    is_staff, sub_id, kind, code, physical, digital, off, addons, other_manager, day_pass = found
    if sub_id is None:
        plan = (
            _household_plan(person.pk, today)
            if other_manager
            else _plan_from_selector(person, today, shared=False)
            if day_pass
            else None
        )
    elif kind != "base":  # as the selector: a subscription without a base plan today is none
        plan = None
    elif addons:
        plan = _plan_from_selector(person, today, shared=False)
    elif off:
        plan = PlanRights(code, False, 0, 0)
    else:
        plan = PlanRights(code, True, physical, digital)
    return PersonState(bool(is_staff), plan)


def _plan_from_selector(person: Any, today: dt.date, *, shared: bool) -> PlanRights | None:
    from bieb.subscriptions import selectors

    answer = selectors.entitlements_for(person, today=today)
    if answer.refusal == "no_subscription":
        return None
    return PlanRights(
        code=answer.plan_code,
        on=answer.on,
        physical_loans=answer.physical_loans,
        digital_loans_per_month=answer.digital_loans_per_month,
        shared=shared,
    )


def _household_plan(person_id: int, today: dt.date) -> PlanRights | None:
    """A member of someone else's household: the manager's plan when it has a seat for them
    (the person read afresh: the selector asks for their household)."""
    from bieb.accounts.models import User
    from bieb.subscriptions import selectors

    person = User.objects.filter(pk=person_id).first()
    if person is None:
        return None
    # shared only when the answer is the household's plan (no seat: their own day pass, or
    # nothing)
    shared = selectors.household_subscription_of(person, today=today) is not None
    return _plan_from_selector(person, today, shared=shared)


# --- the answer -------------------------------------------------------------------------------


def category_of(person: Any, *, is_staff: bool) -> str:
    if is_staff:
        return PatronCategory.STAFF
    if person.is_youth:
        return PatronCategory.YOUTH
    return PatronCategory.ADULT


def pays_fees(person: Any) -> bool:
    """``entitlements_for(person).pays_fees`` without reading the subscription: only a youth
    member who is not staff pays nothing (Wsob art. 13). An adult costs no query."""
    if not person.is_youth:
        return True
    from bieb.accounts.models import StaffRole

    return StaffRole.objects.filter(user_id=person.pk).exists()


def entitlements_for(person: Any, *, state: PersonState | None = None) -> Entitlements:
    """What ``person`` may borrow now. An inactive or anonymised account may borrow nothing;
    an account without a library card may use digital services only. ``state``: the
    ``person_state`` the caller read already (checkout reads it with the person's lock);
    without it one statement reads it."""
    if state is None:
        state = person_state(person)
    category = category_of(person, is_staff=state.is_staff)
    youth = category == PatronCategory.YOUTH
    if not person.is_active or person.is_anonymised:
        return Entitlements(
            category, False, False, False, not youth, refusal="account_inactive", plan=state.plan
        )
    has_card = bool(person.card_number)
    # under 16, online features (holds, digital lending) wait for a guardian's consent; a
    # child with a card still borrows at the desk
    consent = not person.needs_guardian_consent or _has_consent(person)
    refusal = "" if has_card else "no_card"
    if has_card and not consent:
        refusal = "consent_required"
    return Entitlements(
        category=category,
        physical=has_card,
        digital=consent,
        holds=has_card and consent,
        pays_fees=not youth,
        refusal=refusal,
        plan=state.plan,
    )


def _has_consent(person: Any) -> bool:
    from bieb.accounts.models import GuardianLink

    return GuardianLink.objects.filter(child_id=person.pk, consent_given_at__isnull=False).exists()


def may_be_trapped_for(plan: PlanRights | None) -> bool:
    """Whether a copy may be put aside for a hold of someone with ``plan``: not while their
    subscription is off, and not when their plan lends no printed copies."""
    return plan is None or (plan.on and plan.physical_loans > 0)


def may_be_offered_digital(plan: PlanRights | None, person: Any = None) -> bool:
    """Whether a free licence slot may be offered to a digital hold of someone with ``plan``:
    not while their subscription is off, not when their plan lends no e-books, and (given
    ``person``) not when this period's e-books of the plan are used up."""
    if plan is None:
        return True
    if not plan.on or plan.digital_loans_per_month <= 0:
        return False
    if person is None:
        return True
    from bieb.subscriptions import selectors as subscriptions

    usage = subscriptions.usage_of(person)
    used = next((m.used for m in usage.meters if m.meter == "digital_loans"), 0)
    return used < plan.digital_loans_per_month


# --- refusals by the plan ---------------------------------------------------------------------


def _switched_off(plan: PlanRights) -> DomainError:
    if plan.shared:
        message = _(
            "Het abonnement van je huishouden staat uit, dus lenen kan nu niet. Vraag de "
            "beheerder van je huishouden om het abonnement aan te zetten."
        )
    else:
        message = _(
            "Je abonnement staat uit, dus lenen kan nu niet. Zet je abonnement aan in Mijn "
            "abonnement."
        )
    return DomainError("subscription_switched_off", message, status=403)


def _bigger_plan(plan: PlanRights) -> str:
    if plan.shared:
        return _("Vraag de beheerder van je huishouden om een groter abonnement.")
    return _("Kies een groter abonnement in Mijn abonnement.")


def refuse_physical(plan: PlanRights | None, *, open_loans: int | None = None) -> None:
    """Raise when ``plan`` does not let its holder borrow a printed copy now: switched off
    (``subscription_switched_off``), not in the plan (``plan_excludes_physical``), or — given
    ``open_loans`` — the plan's number at once reached (``plan_limit_reached``). Without a
    subscription (``plan`` None) the plan refuses nothing. A refusal never costs anything."""
    if plan is None:
        return
    if not plan.on:
        raise _switched_off(plan)
    if plan.physical_loans <= 0:
        raise DomainError(
            "plan_excludes_physical",
            _("Boeken en andere exemplaren uit de bibliotheek lenen zit niet in je abonnement.")
            + " "
            + _bigger_plan(plan),
            status=403,
        )
    if open_loans is not None and open_loans >= plan.physical_loans:
        raise DomainError(
            "plan_limit_reached",
            ngettext(
                "Je hebt %(n)s exemplaar geleend, het maximum van je abonnement. Lever het "
                "eerst in.",
                "Je hebt %(n)s exemplaren geleend, het maximum van je abonnement. Lever er "
                "eerst een in.",
                open_loans,
            )
            % {"n": open_loans}
            + " "
            + _bigger_plan(plan),
            status=409,
        )


def refuse_digital(
    plan: PlanRights | None, *, used: int | None = None, next_period: dt.date | None = None
) -> None:
    """Raise when ``plan`` does not let its holder borrow an e-book or audiobook now: switched
    off, not in the plan (``plan_excludes_digital``), or — given ``used``, the digital loans of
    this period — the plan's number per month reached (``plan_limit_reached``; ``next_period``:
    the day it can again). Without a subscription the plan refuses nothing."""
    if plan is None:
        return
    if not plan.on:
        raise _switched_off(plan)
    if plan.digital_loans_per_month <= 0:
        raise DomainError(
            "plan_excludes_digital",
            _("E-books en luisterboeken lenen zit niet in je abonnement.")
            + " "
            + _bigger_plan(plan),
            status=403,
        )
    if used is not None and used >= plan.digital_loans_per_month:
        message = ngettext(
            "Je hebt deze maand al %(n)s e-book of luisterboek geleend, het maximum van je "
            "abonnement.",
            "Je hebt deze maand al %(n)s e-books en luisterboeken geleend, het maximum van je "
            "abonnement.",
            used,
        ) % {"n": used}
        if next_period is not None:
            message += " " + _("Vanaf %(day)s kan het weer.") % {
                "day": date_format(next_period, "j F Y")
            }
        raise DomainError("plan_limit_reached", message + " " + _bigger_plan(plan), status=409)
