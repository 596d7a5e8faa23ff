"""``bieb bench nearest``: the nearest-location search against the naive approach.

Builds the bench network (idempotent), then for the same random postcodes measures
``locations_nearest`` + opening state of every result, and the naive way: load every location
into Python, sort by haversine, then fetch the hours of the winners. Reports p50/p95 of both
and the speed-up, and checks that both give the same answer.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bieb.core import clock
from bieb.network import selectors
from bieb.network.geo import haversine_km
from bieb.network.models import Location, PostcodeArea
from bieb.network.seeding import seed_network


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _naive(lat: float, lon: float, limit: int) -> list[tuple[Location, float]]:
    everything = list(
        Location.objects.filter(is_active=True).select_related("organisation", "municipality")
    )
    ranked = sorted(
        ((haversine_km(lat, lon, loc.lat, loc.lon), loc.name, loc.pk, loc) for loc in everything),
        key=lambda row: row[:3],
    )[:limit]
    return [(loc, distance) for distance, _name, _pk, loc in ranked]


def bench_nearest(options: dict[str, Any]) -> dict[str, Any]:
    seed = options.get("seed") or 2026
    queries = options.get("size") or 1000
    limit = 10
    seed_network("bench", seed)
    rng = random.Random(seed)  # noqa: S311 (reproducible sample, not secrets)
    postcodes = list(PostcodeArea.objects.order_by("pc4").values_list("pc4", flat=True))
    sample = [rng.choice(postcodes) for _ in range(queries)]
    now = clock.now()

    fast: list[float] = []
    naive: list[float] = []
    mismatches = 0
    for pc4 in sample:
        started = time.perf_counter()
        point = selectors.point_for_query(pc4)
        assert point is not None
        found = selectors.locations_nearest(lat=point.lat, lon=point.lon, limit=limit)
        for location, _distance in found:
            selectors.location_opening_state(location=location, at=now)
        fast.append(time.perf_counter() - started)

        started = time.perf_counter()
        point = selectors.point_for_query(pc4)
        assert point is not None
        slow = _naive(point.lat, point.lon, limit)
        for location, _distance in slow:
            selectors.location_opening_state(location=location, at=now)  # queries per location
        naive.append(time.perf_counter() - started)
        if [loc.pk for loc, _ in found] != [loc.pk for loc, _ in slow]:
            mismatches += 1

    def ms(value: float) -> float:
        return round(value * 1000, 3)

    return {
        "locations": Location.objects.filter(is_active=True).count(),
        "queries": queries,
        "limit": limit,
        "bounding_box": {
            "p50_ms": ms(_percentile(fast, 0.50)),
            "p95_ms": ms(_percentile(fast, 0.95)),
            "mean_ms": ms(statistics.fmean(fast)),
        },
        "naive": {
            "p50_ms": ms(_percentile(naive, 0.50)),
            "p95_ms": ms(_percentile(naive, 0.95)),
            "mean_ms": ms(statistics.fmean(naive)),
        },
        "speedup_p50": round(_percentile(naive, 0.5) / _percentile(fast, 0.5), 2),
        "speedup_p95": round(_percentile(naive, 0.95) / _percentile(fast, 0.95), 2),
        "same_answers": mismatches == 0,
        "mismatches": mismatches,
    }


BENCHMARKS = {"nearest": bench_nearest}
