"""``bieb bench circulation``: checkouts and checkins through the services at national scale.

Builds (once; a second run reuses it) the bench network (140 organisations, ~800 locations),
``BIEB_BENCH_RESIDENTS`` residents (100,000) and ``--size`` copies (1,000,000: 100,000 titles
of ten copies spread over the locations), then measures:

- ``single``: checkout + checkin pairs in one process (each pair a random resident and a
  random copy on the shelf, at the copy's location), with p50/p95 per operation;
- ``parallel``: the same with ``BIEB_BENCH_PROCESSES`` (4) forked processes on separate
  copies and residents, started together;
- ``hold_trapping``: checkins that trap a waiting hold (and create the transfer to the pick-up
  location) against plain checkins;
- ``race``: every process trying to lend the same 50 copies at once: how many loans the
  services made (must be 50) against the peer approach, the naive read-check-save a first
  version would write (``Item.status`` read, compared in Python, then saved), which believes
  it lent copies another process had lent already — the database's one-open-loan constraint
  refuses those, and the count says how many double loans the naive code would have made;
- ``violations``: invariants checked afterwards over every copy, loan and hold (must be 0).

Run it against a scratch database (``DATABASE_URL``).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import time
from typing import Any

from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count, F

from bieb.accounts.models import User
from bieb.catalog.models import Edition, Format, Item, ItemStatus, Work
from bieb.circulation import services
from bieb.circulation.models import Hold, HoldStatus, Loan, LoanPolicy, Transfer
from bieb.core import clock
from bieb.core.errors import DomainError

SOURCE = "bench-circulation"
COPIES_PER_TITLE = 10
RACE_COPIES = 50


def _summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def pick(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000, 2)

    return {
        "n": len(samples),
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


def _check_scratch() -> None:
    if (
        Edition.objects.exclude(source=SOURCE).exists()
        or Loan.objects.exclude(item__edition__source=SOURCE).exists()
    ):
        raise CommandError(
            "This database holds a catalogue or loans of its own. Point DATABASE_URL at a"
            " scratch database, run `bieb migrate`, and start the benchmark again."
        )


def _build(items: int, residents: int, seed: int) -> dict[str, Any]:
    from bieb.accounts.seeding import seed_people
    from bieb.network.models import Location
    from bieb.network.seeding import seed_network

    started = time.perf_counter()
    seed_network(profile="bench", seed=seed)
    seed_people(profile="bench", seed=seed, size=residents)
    # bench residents have no usable password; circulation needs none
    titles = items // COPIES_PER_TITLE
    have = Edition.objects.filter(source=SOURCE).count()
    locations = list(
        Location.objects.filter(is_active=True).values_list("pk", "organisation_id").order_by("pk")
    )
    rng = random.Random(seed)  # noqa: S311 - reproducible data
    now = clock.now()
    batch = 5000
    for start in range(have, titles, batch):
        end = min(start + batch, titles)
        with transaction.atomic():
            works = Work.objects.bulk_create(
                [
                    Work(title=f"Benchtitel {n}", key=f"bench-circulation-{n}")
                    for n in range(start, end)
                ]
            )
            editions = Edition.objects.bulk_create(
                [
                    Edition(
                        work=work,
                        title=work.title,
                        format=Format.BOOK,
                        language="dut",
                        year=2000 + n % 26,
                        source=SOURCE,
                        source_id=f"C{n:08d}",
                    )
                    for n, work in zip(range(start, end), works, strict=True)
                ]
            )
            copies = []
            for edition in editions:
                for copy in range(COPIES_PER_TITLE):
                    location_id, organisation_id = locations[rng.randrange(len(locations))]
                    copies.append(
                        Item(
                            edition=edition,
                            organisation_id=organisation_id,
                            home_location_id=location_id,
                            location_id=location_id,
                            barcode=f"8{edition.pk:09d}{copy:02d}",
                            replacement_cost_cents=2495,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            Item.objects.bulk_create(copies, batch_size=batch)
            Edition.objects.filter(pk__in=[e.pk for e in editions]).update(available_now=True)
    LoanPolicy.objects.get_or_create(
        organisation=None, format="", category="", defaults={"max_loans": 1000}
    )
    return {
        "items": Item.objects.filter(edition__source=SOURCE).count(),
        "residents": User.objects.filter(card_number__isnull=False).count(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _reset() -> None:
    """Start every run from copies on their home shelves, with no loans, holds or transfers
    (the database is a scratch one: ``_check_scratch``)."""
    from bieb.circulation.models import Charge, Notice

    with transaction.atomic():
        for model in (Notice, Charge, Transfer, Hold, Loan):
            model.objects.all().delete()
        Item.objects.filter(edition__source=SOURCE).exclude(
            status=ItemStatus.AVAILABLE, location_id=F("home_location_id")
        ).update(status=ItemStatus.AVAILABLE, location_id=F("home_location_id"), due_date=None)


def _pairs(items: list[tuple[str, int]], people: list[int], count: int) -> dict[str, Any]:
    """``count`` checkout+checkin pairs in this process."""
    from bieb.network.models import Location

    places = {place.pk: place for place in Location.objects.all()}
    person = {u.pk: u for u in User.objects.filter(pk__in=people)}
    out, back = [], []
    failures = 0
    started = time.perf_counter()
    for n in range(count):
        barcode, location_id = items[n % len(items)]
        patron = person[people[n % len(people)]]
        location = places[location_id]
        t0 = time.perf_counter()
        try:
            services.checkout(patron=patron, barcode=barcode, location=location, channel="api")
        except DomainError:
            failures += 1
            continue
        t1 = time.perf_counter()
        services.checkin(barcode=barcode, location=location, channel="api")
        t2 = time.perf_counter()
        out.append(t1 - t0)
        back.append(t2 - t1)
    seconds = time.perf_counter() - started
    return {"pairs": len(out), "failures": failures, "seconds": seconds, "out": out, "back": back}


def _child(queue, barrier, items, people, count) -> None:
    connections.close_all()
    try:
        barrier.wait()
        result = _pairs(items, people, count)
        queue.put(result)
    except Exception as exc:  # reported to the parent, which fails the run
        queue.put({"error": repr(exc)})
    finally:
        connections.close_all()


def _parallel(items, people, processes: int, per_process: int) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    barrier = context.Barrier(processes + 1)
    chunk = len(items) // processes
    connections.close_all()
    children = [
        context.Process(
            target=_child,
            args=(
                queue,
                barrier,
                items[i * chunk : (i + 1) * chunk],
                people[i::processes],
                per_process,
            ),
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    results = [queue.get(timeout=3600) for _ in children]
    seconds = time.perf_counter() - started
    for child in children:
        child.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise CommandError(f"a bench process failed: {errors[0]}")
    pairs = sum(r["pairs"] for r in results)
    return {
        "processes": processes,
        "pairs": pairs,
        "seconds": round(seconds, 2),
        "pairs_per_second": round(pairs / seconds, 1),
        "checkout": _summary([s for r in results for s in r["out"]]),
        "checkin": _summary([s for r in results for s in r["back"]]),
    }


def _naive_checkout(item_id: int, patron_id: int, location_id: int) -> str:
    """What a first version would write: read the copy, check its status in Python, save."""
    item = Item.objects.get(pk=item_id)
    if item.status != ItemStatus.AVAILABLE:
        return "refused"
    time.sleep(0)  # let the other processes interleave as a busy server would
    item.status = ItemStatus.ON_LOAN
    item.due_date = clock.today()
    item.save()
    try:
        with transaction.atomic():
            Loan.objects.create(
                item_id=item_id,
                edition_id=item.edition_id,
                organisation_id=item.organisation_id,
                patron_id=patron_id,
                category="adult",
                checkout_location_id=location_id,
                due_date=clock.today(),
            )
    except IntegrityError:
        return "double"  # it believed the copy free; the constraint refused a second loan
    return "lent"


def _race_child(queue, barrier, targets, patron_id, naive) -> None:
    connections.close_all()
    outcome: dict[str, int] = {}
    try:
        from bieb.network.models import Location

        patron = User.objects.get(pk=patron_id)
        places = {
            place.pk: place for place in Location.objects.filter(pk__in={t[2] for t in targets})
        }
        barrier.wait()
        for item_id, barcode, location_id in targets:
            if naive:
                result = _naive_checkout(item_id, patron_id, location_id)
            else:
                try:
                    services.checkout(patron=patron, barcode=barcode, location=places[location_id])
                    result = "lent"
                except DomainError as exc:
                    result = exc.code
            outcome[result] = outcome.get(result, 0) + 1
        queue.put(outcome)
    except Exception as exc:
        queue.put({"error": repr(exc)})
    finally:
        connections.close_all()


def _race(targets, people, processes: int, *, naive: bool) -> dict[str, int]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    barrier = context.Barrier(processes)
    connections.close_all()
    children = [
        context.Process(target=_race_child, args=(queue, barrier, targets, people[i], naive))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    totals: dict[str, int] = {}
    for _ in children:
        result = queue.get(timeout=600)
        if "error" in result:
            raise CommandError(f"a race process failed: {result['error']}")
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + value
    for child in children:
        child.join()
    return totals


def _hold_trapping(items, people, count: int) -> dict[str, Any]:
    """Lend one copy of ``count`` titles, place a hold on each (picked up elsewhere), then time
    the checkins that trap them against plain checkins of other lent copies."""
    from bieb.network.models import Location

    locations = list(Location.objects.filter(is_active=True).order_by("pk")[:50])
    person = {u.pk: u for u in User.objects.filter(pk__in=people[: count * 6])}
    ids = list(person)
    lenders = ids[: len(ids) // 2]
    # holds online need a guardian's consent under 16: the bench's holders are 16 or older
    holders = [pk for pk in ids[len(ids) // 2 :] if not person[pk].needs_guardian_consent]
    lent = []
    for n, (barcode, location_id) in enumerate(items[: count * 2]):
        loc = Location.objects.get(pk=location_id)
        try:
            services.checkout(
                patron=person[lenders[n % len(lenders)]], barcode=barcode, location=loc
            )
        except DomainError:
            continue
        lent.append((barcode, loc))
    with_hold, plain = lent[:count], lent[count:]
    for n, (barcode, _loc) in enumerate(with_hold):
        item = Item.objects.select_related("edition").get(barcode=barcode)
        # everyone else's copies of this title are out of reach: the hold waits for this one
        Item.objects.filter(edition=item.edition).exclude(pk=item.pk).update(
            status=ItemStatus.REPAIR
        )
        pickup = locations[n % len(locations)]
        holder = person[holders[n % len(holders)]]
        try:
            services.hold_place(patron=holder, edition=item.edition, pickup_location=pickup)
        except DomainError:
            continue
    trapping, ordinary = [], []
    trapped = 0
    for barcode, loc in with_hold:
        t0 = time.perf_counter()
        result = services.checkin(barcode=barcode, location=loc)
        trapping.append(time.perf_counter() - t0)
        trapped += result.hold is not None
    for barcode, loc in plain:
        t0 = time.perf_counter()
        services.checkin(barcode=barcode, location=loc)
        ordinary.append(time.perf_counter() - t0)
    return {
        "trapped": trapped,
        "checkin_with_trap": _summary(trapping),
        "checkin_plain": _summary(ordinary),
    }


def violations() -> dict[str, int]:
    """Invariants over the whole database; every figure must be 0."""
    open_loans = Loan.objects.filter(returned_at__isnull=True)
    on_loan = Item.objects.filter(status=ItemStatus.ON_LOAN)
    return {
        "items_with_two_open_loans": open_loans.values("item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "on_loan_without_loan": on_loan.exclude(pk__in=open_loans.values("item_id")).count(),
        "open_loan_not_on_loan": open_loans.exclude(item__status=ItemStatus.ON_LOAN).count(),
        "copies_trapped_twice": Hold.objects.filter(
            status__in=(HoldStatus.IN_TRANSIT, HoldStatus.READY)
        )
        .values("trapped_item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "ready_hold_not_on_shelf": Hold.objects.filter(status=HoldStatus.READY)
        .exclude(trapped_item__status=ItemStatus.ON_HOLD_SHELF)
        .count(),
        "in_transit_without_transfer": Item.objects.filter(status=ItemStatus.IN_TRANSIT)
        .exclude(
            pk__in=Transfer.objects.filter(status__in=("to_send", "in_transit")).values("item_id")
        )
        .count(),
    }


def bench_circulation(options: dict[str, Any]) -> dict[str, Any]:
    seed = options.get("seed") or 2026
    size = int(options.get("size") or os.environ.get("BIEB_BENCH_ITEMS", 1_000_000))
    residents = int(os.environ.get("BIEB_BENCH_RESIDENTS", 100_000))
    pairs = int(os.environ.get("BIEB_BENCH_PAIRS", 2000))
    processes = int(os.environ.get("BIEB_BENCH_PROCESSES", 4))
    _check_scratch()
    report: dict[str, Any] = {"seed": seed, "database": connection.vendor}
    report["data"] = _build(size, residents, seed)
    _reset()
    rng = random.Random(seed)  # noqa: S311
    shelf = list(
        Item.objects.filter(edition__source=SOURCE, status=ItemStatus.AVAILABLE).values_list(
            "pk", "barcode", "location_id"
        )
    )
    rng.shuffle(shelf)
    people = list(
        User.objects.filter(card_number__isnull=False, is_active=True).values_list("pk", flat=True)
    )
    rng.shuffle(people)
    need = pairs * (processes + 1) + 4 * pairs
    if len(shelf) < need + RACE_COPIES:
        raise CommandError(f"need at least {need + RACE_COPIES} copies on the shelf")
    items = [(barcode, location) for _pk, barcode, location in shelf]

    single = _pairs(items[:pairs], people, pairs)
    report["single"] = {
        "pairs": single["pairs"],
        "seconds": round(single["seconds"], 2),
        "pairs_per_second": round(single["pairs"] / single["seconds"], 1),
        "checkout": _summary(single["out"]),
        "checkin": _summary(single["back"]),
    }
    offset = pairs
    report["parallel"] = _parallel(
        items[offset : offset + pairs * processes], people[1000:], processes, pairs
    )
    offset += pairs * processes
    race = [(pk, barcode, loc) for pk, barcode, loc in shelf[offset : offset + RACE_COPIES]]
    naive_race = [
        (pk, barcode, loc)
        for pk, barcode, loc in shelf[offset + RACE_COPIES : offset + 2 * RACE_COPIES]
    ]
    report["race"] = {
        "copies": RACE_COPIES,
        "processes": processes,
        "services": _race(race, people[9000:], processes, naive=False),
        "naive": _race(naive_race, people[9100:], processes, naive=True),
    }
    offset += 2 * RACE_COPIES
    report["hold_trapping"] = _hold_trapping(items[offset : offset + 2 * 300], people[5000:], 300)
    # the naive race left copies marked on loan without the loan it could not write: put them
    # back, so the invariant check below is about the services alone
    Item.objects.filter(pk__in=[pk for pk, _b, _l in naive_race]).exclude(
        pk__in=Loan.objects.filter(returned_at__isnull=True).values("item_id")
    ).update(status=ItemStatus.AVAILABLE, due_date=None)
    report["violations"] = violations()
    report["violations_total"] = sum(report["violations"].values())
    return report


BENCHMARKS = {"circulation": bench_circulation}
