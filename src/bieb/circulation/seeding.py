"""Demo circulation: real loans, returns, holds and transfers made through the services, so a
tester finds a lived-in library: copies on loan (some overdue), holds waiting, on the hold
shelf and in transit, transfers to send, and a resident with a bit of everything.

Idempotent: once any loan exists, nothing is added. The ``bench`` profile adds nothing
(``bieb bench circulation`` builds its own data).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from bieb.accounts.models import User
from bieb.accounts.seeding import FIXED_ACCOUNTS
from bieb.catalog.models import Format, Item, ItemStatus
from bieb.catalog.seeding import DEMO_SOURCE
from bieb.circulation import services
from bieb.circulation.models import HoldScope, Loan, LoanPolicy, PatronCategory
from bieb.core import clock
from bieb.core.errors import DomainError

#: share of the demo copies that are out on loan
ON_LOAN_SHARE = 0.25


def _policies() -> None:
    """The network defaults most Dutch libraries use: three weeks, twice renewable, no late
    fee for youth (the law) and a small one for adults, capped."""
    LoanPolicy.objects.get_or_create(
        organisation=None,
        format="",
        category="",
        defaults={
            "loan_days": 21,
            "max_renewals": 2,
            "max_loans": 20,
            "overdue_fee_cents_per_day": 20,
            "overdue_fee_max_cents": 500,
        },
    )
    LoanPolicy.objects.get_or_create(
        organisation=None,
        format="",
        category=PatronCategory.YOUTH,
        defaults={"loan_days": 21, "max_renewals": 2, "max_loans": 10},
    )
    LoanPolicy.objects.get_or_create(
        organisation=None,
        format="film",
        category="",
        defaults={
            "loan_days": 7,
            "max_renewals": 1,
            "max_loans": 5,
            "overdue_fee_cents_per_day": 50,
            "overdue_fee_max_cents": 500,
        },
    )


def seed_circulation(profile: str, seed: int) -> None:
    if profile not in {"demo", "bench"}:
        raise ValueError(f"unknown profile {profile!r}")
    _policies()
    if profile == "bench":
        return
    from bieb.circulation.digital_demo import ensure_demo_digital

    ensure_demo_digital()
    _digital_queue()
    if Loan.objects.exists():
        return
    rng = random.Random(f"circulation:{seed}")  # noqa: S311 - repeatable demo data
    copies = list(
        Item.objects.filter(edition__source=DEMO_SOURCE, status=ItemStatus.AVAILABLE)
        # things are lent for a booking (the community's library of things), not here
        .exclude(edition__format=Format.THING)
        .select_related("location", "edition")
        .order_by("pk")
    )
    fixed = {s["email"]: s for s in FIXED_ACCOUNTS}
    people = list(
        User.objects.filter(card_number__isnull=False, is_active=True)
        .exclude(email__in=[e for e, s in fixed.items() if s["role"] not in ("resident", "youth")])
        .order_by("pk")
    )
    if not copies or not people:
        return
    resident = User.objects.filter(email="lid@demo.bieb.nl").first()
    now = clock.now()
    with transaction.atomic():
        lent = _lend(copies, people, rng, now)
        if resident is not None:
            _resident_story(resident, copies, lent, now)
        _holds_and_returns(copies, people, lent, rng)


def _digital_queue() -> None:
    """The demo's one-copy-one-user e-book: lent to one reader, two more on the waiting list
    (real loans and holds, so the slot frees and passes on as it should)."""
    from bieb.catalog.models import DigitalLicence, LicenceModel
    from bieb.circulation import digital
    from bieb.circulation.models import DigitalLoan

    licence = (
        DigitalLicence.objects.filter(
            model=LicenceModel.ONE_COPY_ONE_USER, edition__source=DEMO_SOURCE
        )
        .select_related("edition")
        .order_by("pk")
        .first()
    )
    if licence is None or DigitalLoan.objects.filter(edition=licence.edition).exists():
        return
    readers = list(
        User.objects.filter(card_number__isnull=False, is_active=True)
        .exclude(email__endswith="@demo.bieb.nl")
        .order_by("pk")[:3]
    )
    if len(readers) < 3:
        return
    try:
        digital.digital_checkout(patron=readers[0], edition=licence.edition)
        for reader in readers[1:]:
            digital.digital_hold_place(patron=reader, edition=licence.edition)
    except DomainError:
        return


def _lend(copies: list[Item], people: list[User], rng: random.Random, now) -> set[int]:
    """About a quarter of the copies out on loan, lent between 30 and 1 days ago (so some
    are overdue) at the copy's own location."""
    lent: set[int] = set()
    for item in rng.sample(copies, k=int(len(copies) * ON_LOAN_SHARE)):
        patron = rng.choice(people)
        with clock.frozen(now - dt.timedelta(days=rng.randint(1, 30))):
            try:
                services.checkout(patron=patron, barcode=item.barcode, location=item.location)
            except DomainError:
                continue
        lent.add(item.pk)
    return lent


def _resident_story(resident: User, copies: list[Item], lent: set[int], now) -> None:
    """The demo resident: a loan due in three days, one overdue, one just borrowed."""
    free = [
        c for c in copies if c.pk not in lent and c.organisation_id == resident.home_organisation_id
    ]
    for days_ago, item in zip((18, 25, 0), free[:3], strict=False):
        with clock.frozen(now - dt.timedelta(days=days_ago)):
            try:
                services.checkout(patron=resident, barcode=item.barcode, location=item.location)
            except DomainError:
                continue
        lent.add(item.pk)


def _holds_and_returns(copies: list[Item], people: list[User], lent: set[int], rng) -> None:
    """Holds on titles that are out, then some of those copies come back: at the pick-up
    location (hold shelf), elsewhere (transfer to the pick-up location), or with nobody
    waiting at another library (transfer home). The demo desk (the first location of the demo
    library, where `balie@demo.bieb.nl` works and the demo self-service machine stands) gets
    its share, so its lists have something on them."""
    from bieb.circulation.sip2.demo import demo_location

    desk = demo_location()
    out = [c for c in copies if c.pk in lent]
    rng.shuffle(out)
    # the resident's second hold (index 1) keeps waiting: a copy of a title with no other
    # copy on the shelf at its home, held for pick-up there
    waiting = next(
        (
            i
            for i, c in enumerate(out)
            if i >= 1
            and not Item.objects.filter(
                edition_id=c.edition_id, home_location_id=c.home_location_id
            )
            .exclude(pk=c.pk)
            .exists()
        ),
        None,
    )
    if waiting is not None and len(out) > 1:
        out[1], out[waiting] = out[waiting], out[1]
    resident = User.objects.filter(email="lid@demo.bieb.nl").first()
    for index, item in enumerate(out[: max(6, len(out) // 5)]):
        patron = resident if index < 2 and resident is not None else rng.choice(people)
        if desk is not None and index % 3 == 2:
            pickup = desk
        else:
            pickup = item.home_location if index % 3 else item.location
        if index == 1 and waiting is not None:
            pickup = item.home_location  # only this copy can serve it: it waits
        try:
            services.hold_place(
                patron=patron,
                edition=item.edition,
                pickup_location=pickup,
                scope=HoldScope.LOCATION
                if index == 1 and waiting is not None
                else HoldScope.NATIONAL,
            )
        except DomainError:
            continue
    returned = out[: max(8, len(out) // 3)]
    locations = sorted({c.location for c in copies}, key=lambda loc: loc.pk)
    for index, item in enumerate(returned):
        if index == 1:
            continue  # the resident's second hold keeps waiting
        if desk is not None and index % 5 == 3:
            where = desk  # returned at the demo desk: on its hold shelf or to send on
        else:
            where = item.home_location if index % 4 else rng.choice(locations)
        try:
            services.checkin(barcode=item.barcode, location=where)
        except DomainError:
            continue
