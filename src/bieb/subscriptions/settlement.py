"""Settlement between organisations: a month's subscription money shared between libraries.

Residents pay the network's collecting office (``Creditor``); once a month is over,
``settlement_make(month="YYYY-MM")`` decides who gets what (docs/settlement.md):

- **What came in** is cash: payments that were paid (``paid_at``) in the month, minus payments
  reversed in the month (a paid payment marked failed afterwards: a SEPA return, a
  chargeback), by the Europe/Amsterdam calendar. A payment paid in March and reversed in April
  counts in March and is taken off in April, whenever either month is settled, so a month's
  figure never depends on the day it is computed and nothing is counted twice.
- **Who gets it**, by ``rule``: ``municipality`` gives each payment's money to the
  organisations that issued the invoices it paid (``PaymentAllocation`` → ``Invoice.
  organisation``: the library serving the resident); ``usage`` shares the month's total in
  proportion to use (``UsageMeter.used`` per organisation, weighted by ``USAGE_WEIGHTS``, in
  usage periods starting in the month).
- Whole cents by the largest-remainder method (``largest_remainder``): the lines add up
  exactly to what was collected, every line is within one cent of its exact share, ties go to
  the lowest organisation id.

One settlement per month (``Settlement.month`` is unique): asking again answers the settlement
that exists (``created: false``); asking again with another rule is refused
(``settlement_exists``): statements already sent must not change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from bieb.core import clock
from bieb.core.audit import audit_record
from bieb.core.errors import DomainError
from bieb.subscriptions.models import (
    Meter,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Settlement,
    SettlementLine,
    SettlementRule,
    UsageMeter,
)

__all__ = [
    "DEFAULT_RULE",
    "USAGE_WEIGHTS",
    "Statement",
    "largest_remainder",
    "month_parse",
    "settlement_by_month",
    "settlement_lines",
    "settlement_make",
    "settlements_all",
    "statement_for",
    "statements_of",
]

#: the rule when none is given (the command's ``--rule`` left out)
DEFAULT_RULE = SettlementRule.MUNICIPALITY
#: what one unit of use weighs in the ``usage`` rule: whole numbers, so shares stay exact
#: fractions. A meter left out (or weighing 0) does not count. A network decision: change it
#: here, before a month is settled (a settled month keeps the shares it was given).
USAGE_WEIGHTS: dict[str, int] = {
    Meter.LOANS: 1,
    Meter.DIGITAL_LOANS: 1,
    Meter.ACTIVITY_CREDITS: 1,
}
#: statuses of a payment that was given up after being paid (``ledger.payment_mark_failed``)
REVERSED = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
K = TypeVar("K", bound=Hashable)


# --- months ----------------------------------------------------------------------------------


def _month_invalid(value: str) -> DomainError:
    return DomainError(
        "month_invalid",
        _("Geef de maand als JJJJ-MM, bijvoorbeeld 2025-03."),
        details={"field": "month", "value": value},
    )


def month_parse(value: str) -> dt.date:
    """The first day of the month ``YYYY-MM``; ``month_invalid`` otherwise."""
    match = _MONTH.fullmatch((value or "").strip())
    if match is None:
        raise _month_invalid(value)
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and year >= 1):
        raise _month_invalid(value)
    return dt.date(year, month, 1)


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month as moments: from midnight on the 1st in Amsterdam up to the next month's."""
    following = _next_month(first)
    return (
        dt.datetime(first.year, first.month, 1, tzinfo=clock.AMSTERDAM),
        dt.datetime(following.year, following.month, 1, tzinfo=clock.AMSTERDAM),
    )


# --- whole cents -----------------------------------------------------------------------------


def largest_remainder(total: int, weights: Mapping[K, int]) -> dict[K, int]:
    """Share ``total`` whole cents over the keys of ``weights`` (whole numbers, zero or more,
    not all zero) in proportion: each key first gets the floor of its exact share, the cents
    left go one each to the largest remainders, ties to the smallest key. The result adds up
    to ``total`` exactly and each amount differs less than one cent from its exact share. A
    negative ``total`` is shared as its opposite, negated."""
    if not isinstance(total, int) or any(not isinstance(w, int) or w < 0 for w in weights.values()):
        raise ValueError("whole cents and whole, non-negative weights")
    if total < 0:
        return {key: -amount for key, amount in largest_remainder(-total, weights).items()}
    whole = sum(weights.values())
    if whole == 0:
        if total:
            raise ValueError("nothing to share by")
        return dict.fromkeys(weights, 0)
    shares = {key: divmod(total * weight, whole) for key, weight in weights.items()}
    left = total - sum(floor for floor, _rest in shares.values())
    ranked = sorted(shares, key=lambda key: (-shares[key][1], key))
    lucky = set(ranked[:left])
    return {key: floor + (key in lucky) for key, (floor, _rest) in shares.items()}


# --- the money of a month --------------------------------------------------------------------


@dataclass
class _Month:
    """What came in, per organisation that issued the invoices paid (net of reversals)."""

    per_organisation: dict[int, int]
    received_cents: int = 0
    reversed_cents: int = 0
    payments: int = 0
    reversals: int = 0

    @property
    def collected_cents(self) -> int:
        return self.received_cents - self.reversed_cents


def _unassigned(payment_ids: Iterable[int]) -> DomainError:
    return DomainError(
        "settlement_unassigned",
        _(
            "Niet alle betalingen horen bij een organisatie: ze betalen geen factuur en de "
            "betaler heeft geen eigen bibliotheek. Koppel ze eerst aan een factuur."
        ),
        status=409,
        details={"payments": sorted(payment_ids)},
    )


def _per_organisation(payments: QuerySet[Payment]) -> dict[int, int]:
    """The cents of ``payments`` per organisation that issued the invoices they paid.

    Summed in the database over the allocations (``ledger.payment_create`` allocates a payment
    exactly, so this is exact and needs no rows in memory however many payments a month has).
    A payment whose allocations do not add up to it is split on its own: over its allocations
    by ``largest_remainder``, or, without any, to the payer's own library."""
    odd = list(
        payments.annotate(allocated=Coalesce(Sum("allocations__amount_cents"), 0))
        .exclude(allocated=F("amount_cents"))
        .order_by("pk")
        .values_list("pk", "amount_cents", "person__home_organisation_id")
    )
    odd_ids = [pk for pk, _amount, _home in odd]
    cents: dict[int, int] = defaultdict(int)
    for organisation_id, total in (
        PaymentAllocation.objects.filter(payment__in=payments.exclude(pk__in=odd_ids))
        .values("invoice__organisation_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("invoice__organisation_id", "total")
    ):
        cents[organisation_id] += total
    if not odd:
        return cents
    allocated: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for payment_id, organisation_id, amount in PaymentAllocation.objects.filter(
        payment_id__in=odd_ids
    ).values_list("payment_id", "invoice__organisation_id", "amount_cents"):
        allocated[payment_id][organisation_id] += amount
    missing = [pk for pk, _amount, home in odd if pk not in allocated and home is None]
    if missing:
        raise _unassigned(missing)
    for pk, amount, home in odd:
        split = largest_remainder(amount, allocated[pk]) if pk in allocated else {home: amount}
        for organisation_id, share in split.items():
            cents[organisation_id] += share
    return cents


def _money_of(first: dt.date) -> _Month:
    start, end = _bounds(first)
    received = Payment.objects.filter(paid_at__gte=start, paid_at__lt=end)
    # reversed in the month after having been paid (``paid_at`` stays when a payment fails)
    reversed_ = Payment.objects.filter(
        status__in=REVERSED, paid_at__isnull=False, failed_at__gte=start, failed_at__lt=end
    ).filter(failed_at__gte=F("paid_at"))
    month = _Month(per_organisation=defaultdict(int))
    totals = received.aggregate(n=Count("pk"), cents=Coalesce(Sum("amount_cents"), 0))
    month.payments, month.received_cents = totals["n"], totals["cents"]
    totals = reversed_.aggregate(n=Count("pk"), cents=Coalesce(Sum("amount_cents"), 0))
    month.reversals, month.reversed_cents = totals["n"], totals["cents"]
    for organisation_id, cents in _per_organisation(received).items():
        month.per_organisation[organisation_id] += cents
    for organisation_id, cents in _per_organisation(reversed_).items():
        month.per_organisation[organisation_id] -= cents
    return month


def _usage_of(first: dt.date) -> dict[int, int]:
    """Weighted units of use per organisation in usage periods starting in the month."""
    weights = {meter: weight for meter, weight in USAGE_WEIGHTS.items() if weight}
    if any(
        meter not in Meter.values or not isinstance(w, int) or w < 0 for meter, w in weights.items()
    ):
        raise ValueError(f"USAGE_WEIGHTS: whole, non-negative weights of known meters: {weights}")
    basis: dict[int, int] = defaultdict(int)
    for organisation_id, meter, used in (
        UsageMeter.objects.filter(
            period_start__gte=first, period_start__lt=_next_month(first), meter__in=list(weights)
        )
        .values("organisation_id", "meter")
        .annotate(used=Sum("used"))
        .values_list("organisation_id", "meter", "used")
    ):
        basis[organisation_id] += weights[meter] * used
    return {organisation_id: units for organisation_id, units in basis.items() if units}


# --- making a settlement ---------------------------------------------------------------------


def _rule_unknown(rule: str) -> DomainError:
    return DomainError(
        "rule_unknown",
        _("Kies als verdeelregel municipality (naar woongemeente) of usage (naar gebruik)."),
        details={"field": "rule", "value": rule},
    )


def _answer(settlement: Settlement, lines: list[SettlementLine], *, created: bool) -> dict:
    lines = sorted(lines, key=lambda line: (line.organisation.code, line.organisation_id))
    return {
        "month": f"{settlement.month:%Y-%m}",
        "rule": settlement.rule,
        "created": created,
        "collected_cents": settlement.collected_cents,
        "lines_total_cents": sum(line.amount_cents for line in lines),
        "lines": [
            {
                "organisation": line.organisation.code,
                "organisation_id": line.organisation_id,
                "basis": line.basis,
                "amount_cents": line.amount_cents,
                "collected_cents": line.collected_cents,
            }
            for line in lines
        ],
    }


def _existing(settlement: Settlement, rule: str | None) -> dict:
    if rule is not None and rule != settlement.rule:
        raise DomainError(
            "settlement_exists",
            _(
                "De verrekening van %(month)s is al gemaakt met de regel %(rule)s. Een "
                "verrekende maand verandert niet meer."
            )
            % {"month": f"{settlement.month:%Y-%m}", "rule": settlement.rule},
            status=409,
            details={"rule": settlement.rule},
        )
    lines = list(settlement.lines.select_related("organisation"))
    return _answer(settlement, lines, created=False)


def settlement_make(*, month: str, rule: str | None = None, actor: Any = None) -> dict[str, Any]:
    """Settle ``month`` (``YYYY-MM``) by ``rule`` (``DEFAULT_RULE`` when None) and answer what
    was settled, as a dict (``created`` false when it had been settled already).

    Guarantees: the lines add up exactly to ``collected_cents`` (what came in in the month,
    minus what was reversed in it); each line is within one cent of its exact share; a month
    is settled once, also when asked twice at once (the unique month; the loser answers the
    winner's settlement). Refuses ``month_invalid``, ``rule_unknown``, ``month_not_over`` (the
    month has not ended in Amsterdam), ``usage_not_final`` (by use: the usage periods that
    started in the month run up to a month longer, so wait until the month after it is over),
    ``no_usage`` (by use, money came in but nothing was used), ``settlement_exists`` (settled
    with another rule) and ``settlement_unassigned``. Writes the audit row
    ``subscriptions.settlement_make`` in the transaction that stores it."""
    if rule is not None and rule not in SettlementRule.values:
        raise _rule_unknown(rule)
    first = month_parse(month)
    existing = Settlement.objects.filter(month=first).first()
    if existing is not None:
        return _existing(existing, rule)
    today = clock.today()
    following = _next_month(first)
    if today < following:
        raise DomainError(
            "month_not_over",
            _("Een maand wordt verrekend als hij voorbij is: %(month)s kan vanaf %(day)s.")
            % {"month": f"{first:%Y-%m}", "day": following.isoformat()},
            status=409,
        )
    rule = rule or DEFAULT_RULE
    if rule == SettlementRule.USAGE and today < _next_month(following):
        raise DomainError(
            "usage_not_final",
            _(
                "Het gebruik van %(month)s is nog niet compleet: gebruiksperiodes die in die "
                "maand begonnen, lopen door tot in de maand erna. Verreken naar gebruik vanaf "
                "%(day)s."
            )
            % {"month": f"{first:%Y-%m}", "day": _next_month(following).isoformat()},
            status=409,
        )

    money = _money_of(first)
    collected = {org: cents for org, cents in money.per_organisation.items() if cents}
    if rule == SettlementRule.MUNICIPALITY:
        basis, amounts = dict(collected), dict(collected)
    else:
        basis = _usage_of(first)
        if not basis and money.collected_cents:
            raise DomainError(
                "no_usage",
                _(
                    "In %(month)s is niets gebruikt, dus er is niets om naar gebruik te "
                    "verdelen. Verreken deze maand naar woongemeente (municipality)."
                )
                % {"month": f"{first:%Y-%m}"},
                status=409,
            )
        amounts = largest_remainder(money.collected_cents, basis) if basis else {}
    organisations = sorted(set(collected) | set(basis) | {o for o, c in amounts.items() if c})
    lines = [
        SettlementLine(
            organisation_id=organisation_id,
            basis=basis.get(organisation_id, 0),
            amount_cents=amounts.get(organisation_id, 0),
            collected_cents=collected.get(organisation_id, 0),
        )
        for organisation_id in organisations
    ]
    if sum(line.amount_cents for line in lines) != money.collected_cents:  # pragma: no cover
        raise AssertionError("settlement lines do not add up to what was collected")

    try:
        with transaction.atomic():
            settlement = Settlement.objects.create(
                month=first, rule=rule, collected_cents=money.collected_cents
            )
            for line in lines:
                line.settlement = settlement
            SettlementLine.objects.bulk_create(lines)
            audit_record(
                action="subscriptions.settlement_make",
                actor=actor,
                subject=settlement,
                data={
                    "month": f"{first:%Y-%m}",
                    "rule": rule,
                    "collected_cents": money.collected_cents,
                    "received_cents": money.received_cents,
                    "reversed_cents": money.reversed_cents,
                    "payments": money.payments,
                    "reversals": money.reversals,
                    "lines": len(lines),
                    **(
                        {"usage_weights": dict(USAGE_WEIGHTS)}
                        if rule == SettlementRule.USAGE
                        else {}
                    ),
                },
            )
    except IntegrityError:
        # settled at the same moment by someone else: answer theirs
        existing = Settlement.objects.filter(month=first).first()
        if existing is None:
            raise
        return _existing(existing, rule)
    return _existing(settlement, None) | {"created": True}


# --- reading settlements (the staff screens) ---------------------------------------------------


def settlements_all():
    """Every settlement, newest month first, with its number of lines and their sum."""
    return Settlement.objects.annotate(
        line_count=Count("lines"), lines_total=Sum("lines__amount_cents")
    ).order_by("-month")


def settlement_by_month(value: str) -> Settlement | None:
    """The settlement of ``YYYY-MM``; None for a bad or unsettled month."""
    try:
        first = month_parse(value)
    except DomainError:
        return None
    return Settlement.objects.filter(month=first).first()


def settlement_lines(settlement: Settlement) -> list[SettlementLine]:
    """All lines of a settlement (network administrators), by organisation name."""
    return list(
        settlement.lines.select_related("organisation").order_by(
            "organisation__name", "organisation_id"
        )
    )


def statements_of(organisation_ids: Iterable[int]) -> list[tuple[Settlement, Any, Any]]:
    """For every settlement (newest first) and each of these organisations (by name): its
    line, or None when it had none that month. Three queries."""
    from bieb.network.models import Organisation

    organisations = list(
        Organisation.objects.filter(pk__in=set(organisation_ids)).order_by("name", "pk")
    )
    lines = {
        (line.settlement_id, line.organisation_id): line
        for line in SettlementLine.objects.filter(organisation_id__in=[o.pk for o in organisations])
    }
    return [
        (month, organisation, lines.get((month.pk, organisation.pk)))
        for month in Settlement.objects.order_by("-month")
        for organisation in organisations
    ]


@dataclass(frozen=True)
class Statement:
    """One organisation's part of one month's settlement, with the totals it is a share of.
    ``difference_cents`` is what it gets beyond (positive) or short of (negative) what its own
    residents paid: what moves between organisations."""

    settlement: Settlement
    organisation: Any
    basis: int
    amount_cents: int
    collected_cents: int
    total_basis: int
    lines_total_cents: int

    @property
    def difference_cents(self) -> int:
        return self.amount_cents - self.collected_cents

    @property
    def adds_up(self) -> bool:
        return self.lines_total_cents == self.settlement.collected_cents


def statement_for(settlement: Settlement, organisation: Any) -> Statement:
    """``organisation``'s statement for ``settlement`` (zeros when it has no line that month:
    nothing came in from its residents and nothing was used there)."""
    line = settlement.lines.filter(organisation_id=organisation.pk).first()
    totals = settlement.lines.aggregate(basis=Sum("basis"), amount=Sum("amount_cents"))
    return Statement(
        settlement=settlement,
        organisation=organisation,
        basis=line.basis if line else 0,
        amount_cents=line.amount_cents if line else 0,
        collected_cents=line.collected_cents if line else 0,
        total_basis=totals["basis"] or 0,
        lines_total_cents=totals["amount"] or 0,
    )
