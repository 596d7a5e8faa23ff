"""``bieb bench community``: the board near a postcode against the naive approach.

Builds the bench network's postcode areas (idempotent), then ``--size`` open posts (200,000)
by as many bench residents spread over the Dutch postcode areas (weighted by inhabitants, as
residents are), and for the same random postcodes measures:

- ``board``: ``selectors.board(near=pc4, radius_km=10)``: a bounding box on the indexed
  coordinates in SQL, exact distances for the newest posts in the box, the first page with
  authors and photos;
- ``naive``: load every open post's coordinates into Python, compute every distance, sort,
  then load the page.

Reports p50/p95/mean of both and checks that both give the same first page. Run it against a
scratch database (``DATABASE_URL``; ``bieb migrate`` first): it adds bench residents and
posts and refuses a database with posts of other people.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from django.core.management.base import CommandError

from bieb.accounts.models import User
from bieb.community import selectors
from bieb.community.models import Post, PostStatus
from bieb.core import clock
from bieb.network.geo import haversine_km
from bieb.network.models import PostcodeArea
from bieb.network.seeding import seed_network

EMAIL_DOMAIN = "bench-community.invalid"
RADIUS_KM = 10
QUERIES = 300
KINDS = [
    ("offer", "thing", "tools", "lend", "Boormachine te leen"),
    ("request", "skill", "digital", "help", "Hulp met mijn telefoon"),
    ("offer", "thing", "children", "give", "Kinderkleding maat 104"),
    ("offer", "knowledge", "forms", "help", "Hulp bij formulieren"),
    ("request", "thing", "garden", "lend", "Wie leent mij een heggenschaar?"),
]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def _build(size: int, rng: random.Random) -> None:
    if Post.objects.exclude(author__email__endswith=EMAIL_DOMAIN).exists():
        raise CommandError(
            "This database holds posts of real people. Run the community benchmark against a "
            "scratch database: create one, point DATABASE_URL at it, `bieb migrate`, start again."
        )
    have = Post.objects.count()
    if have >= size:
        return
    areas = list(
        PostcodeArea.objects.exclude(inhabitants__isnull=True).values_list(
            "pc4", "lat", "lon", "municipality_id", "inhabitants"
        )
    )
    weights = [max(a[4] or 0, 1) for a in areas]
    now = clock.now()
    batch = 5_000
    for start in range(have, size, batch):
        count = min(batch, size - start)
        people = User.objects.bulk_create(
            [
                User(
                    email=f"bench{n}@{EMAIL_DOMAIN}",
                    password="!",
                    first_name="Bench",
                    last_name=str(n),
                    email_verified_at=now,
                )
                for n in range(start, start + count)
            ]
        )
        chosen = rng.choices(areas, weights=weights, k=count)
        posts = []
        for index, (person, area) in enumerate(zip(people, chosen, strict=True)):
            type_, kind, category, terms, title = KINDS[(start + index) % len(KINDS)]
            posts.append(
                Post(
                    author=person,
                    type=type_,
                    kind=kind,
                    category=category,
                    terms=terms,
                    title=title,
                    body="Benchmark",
                    pc4=area[0],
                    lat=area[1],
                    lon=area[2],
                    municipality_id=area[3],
                    created_at=now,
                    updated_at=now,
                )
            )
        Post.objects.bulk_create(posts)


def _naive(lat: float, lon: float, limit: int) -> list[int]:
    everything = Post.objects.filter(status=PostStatus.OPEN).values_list(
        "pk", "lat", "lon", "created_at"
    )
    ranked = []
    for pk, plat, plon, created_at in everything:
        distance = haversine_km(lat, lon, plat, plon)
        if distance <= RADIUS_KM:
            ranked.append((round(distance, 1), -created_at.timestamp(), -pk))
    ranked.sort()
    page = [-row[2] for row in ranked[:limit]]
    list(Post.objects.filter(pk__in=page).select_related("author", "municipality"))
    return page


def bench_community(options: dict[str, Any]) -> dict[str, Any]:
    seed = options.get("seed") or 2026
    size = options.get("size") or 200_000
    rng = random.Random(seed)  # noqa: S311 (reproducible sample, not secrets)
    seed_network("bench", seed)
    started = time.perf_counter()
    _build(size, rng)
    build_seconds = time.perf_counter() - started
    postcodes = list(
        PostcodeArea.objects.exclude(inhabitants__isnull=True).values_list("pc4", "lat", "lon")
    )
    sample = [rng.choice(postcodes) for _ in range(QUERIES)]
    fast: list[float] = []
    naive: list[float] = []
    mismatches = 0
    found = 0
    for pc4, lat, lon in sample:
        began = time.perf_counter()
        board = selectors.board(near=pc4, radius_km=RADIUS_KM, limit=20)
        fast.append(time.perf_counter() - began)
        began = time.perf_counter()
        page = _naive(lat, lon, 20)
        naive.append(time.perf_counter() - began)
        found += board.total
        if [p.pk for p in board.posts] != page:
            mismatches += 1

    def summary(samples: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(_percentile(samples, 0.5) * 1000, 1),
            "p95_ms": round(_percentile(samples, 0.95) * 1000, 1),
            "mean_ms": round(statistics.fmean(samples) * 1000, 1),
        }

    return {
        "posts": Post.objects.count(),
        "build_seconds": round(build_seconds, 1),
        "queries": QUERIES,
        "radius_km": RADIUS_KM,
        "mean_posts_within_radius": round(found / QUERIES, 1),
        "board": summary(fast),
        "naive": summary(naive),
        "speedup_p50": round(_percentile(naive, 0.5) / _percentile(fast, 0.5), 1),
        "mismatches": mismatches,
    }


BENCHMARKS = {"community": bench_community}
