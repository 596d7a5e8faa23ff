"""``bieb bench search``: catalogue search at 250,000 and 1,000,000 editions against the naive
``icontains`` search, with the import rate of the real Library of Congress records.

Run it against a scratch database (``DATABASE_URL``): it imports the LoC file with
``import_marc`` (source ``bench-loc``), adds generated variants of those records (other
formats, languages, years, shuffled titles; source ``bench-variant``) up to each size, indexes
them, and times a fixed query mix: a common word, two words, an author, a quoted title phrase,
an ISBN and a misspelling, each plain, with facets, and with facets and filters. The same mix,
fewer times, goes through the naive ORM search (``icontains`` on title, makers and description;
count, first page and facets by ``values().annotate(Count)``).

Options come from ``bieb bench search [--size N]`` (one size instead of the default two) or the
environment: ``BIEB_BENCH_SIZES`` ("250000,1000000"), ``BIEB_BENCH_MARC`` (the MARC file;
default ``var/data/BooksAll.2016.part01.utf8``), ``BIEB_BENCH_REPEAT`` (rounds of the mix,
default 3), ``BIEB_BENCH_NAIVE`` (naive queries per kind and mode, default 4) and
``BIEB_BENCH_REUSE=1`` (keep bench data of an earlier run when it has the right size).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, Q
from stdnum import isbn as isbn_lib

from bieb.catalog import search as catalog_search
from bieb.catalog import text
from bieb.catalog.models import Edition, EditionContributor, Format, Identifier
from bieb.catalog.search.engine import backend
from bieb.core import clock

LOC_SOURCE = "bench-loc"
VARIANT_SOURCE = "bench-variant"
DEFAULT_SIZES = (250_000, 1_000_000)
MARC_NAME = "BooksAll.2016.part01.utf8"
COMMON_WORDS = ("history", "war", "women", "law", "art", "life", "children", "language")
TWO_WORDS = (
    "world war",
    "united states",
    "civil war",
    "new york",
    "human rights",
    "foreign relations",
    "social conditions",
    "english literature",
)
KINDS = ("common_word", "two_words", "author", "title_phrase", "isbn", "misspelling")
MODES = ("plain", "facets", "facets_filters")
VARIANT_FORMATS = [Format.BOOK] * 4 + [
    Format.EBOOK,
    Format.EBOOK,
    Format.AUDIOBOOK,
    Format.LARGE_PRINT,
    Format.AUDIO_CD,
]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _ms(value: float) -> float:
    return round(value * 1000, 2)


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": _ms(_percentile(samples, 0.50)),
        "p95_ms": _ms(_percentile(samples, 0.95)),
        "p99_ms": _ms(_percentile(samples, 0.99)),
        "mean_ms": _ms(statistics.fmean(samples)),
    }


def _marc_path(options: dict[str, Any]) -> Path:
    configured = options.get("marc") or os.environ.get("BIEB_BENCH_MARC")
    if configured:
        path = Path(configured)
    else:
        candidates = [Path(settings.VAR_DIR) / "data" / MARC_NAME]
        candidates.append(Path(settings.BASE_DIR) / "var" / "data" / MARC_NAME)
        path = next((p for p in candidates if p.exists()), candidates[0])
    if not path.exists():
        raise CommandError(
            f"{path} is missing: run `bieb catalog fetch-sample` first (or set BIEB_BENCH_MARC"
            " to a MARC21 file).",
        )
    return path


def _marc_slice(path: Path, records: int) -> Path:
    """The first ``records`` records of an ISO 2709 file, copied by their leader lengths."""
    target = Path(settings.VAR_DIR) / "bench" / f"{path.name}.first{records}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as source, target.open("wb") as out:
        for _ in range(records):
            leader = source.read(5)
            if len(leader) < 5 or not leader.isdigit():
                break
            out.write(leader + source.read(int(leader) - 5))
    return target


def _check_scratch() -> None:
    if Edition.objects.exclude(source__in=(LOC_SOURCE, VARIANT_SOURCE)).exists():
        raise CommandError(
            "This database holds catalogue data of its own. Point DATABASE_URL at a scratch"
            " database, run `bieb migrate`, and start the benchmark again.",
        )


def _delete_bench_data() -> None:
    """Empty the catalogue tables the benchmark fills (a scratch database only)."""
    through = Edition.subjects.through._meta.db_table
    with connection.cursor() as cursor:
        for table in (
            "catalog_identifier",
            "catalog_editioncontributor",
            through,
            "catalog_item",
            "catalog_digitallicence",
            "catalog_edition",
            "catalog_work",
            "catalog_contributor",
            "catalog_subject",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (constant names)
    catalog_search.rebuild_index()


def _import(path: Path, records: int) -> dict[str, Any]:
    from bieb.catalog.importer import import_marc

    source = path if records >= 250_000 else _marc_slice(path, records)
    summary = import_marc(str(source), source=LOC_SOURCE)
    return {
        "file": path.name,
        "records": records,
        "added": summary.added,
        "updated": summary.updated,
        "skipped": summary.skipped,
        "errors": len(summary.errors),
        "seconds": round(summary.seconds, 2),
        "records_per_second": round(summary.records_per_second, 1),
    }


def _add_variants(target: int, rng: random.Random) -> dict[str, Any]:
    """Generated editions of the imported works up to ``target`` editions in all: other
    formats, languages and years, every other one with its title words shuffled. Bulk
    inserts with explicit ids; credits and subjects copied in SQL."""
    started = time.perf_counter()
    base = list(
        Edition.objects.filter(source=LOC_SOURCE)
        .order_by("pk")
        .values_list(
            "pk",
            "work_id",
            "title",
            "subtitle",
            "contributors_text",
            "publisher",
            "year",
            "language",
            "series",
            "description",
        )
    )
    have = Edition.objects.count()
    if not base or have >= target:
        return {"added": 0, "seconds": 0.0}
    max_id = Edition.objects.order_by("-pk").values_list("pk", flat=True).first()
    base_max = max(row[0] for row in base)
    now = clock.now()
    added = 0
    round_no = (max_id - 1) // base_max  # rounds of variants already present
    through = Edition.subjects.through._meta.db_table
    while have + added < target:
        round_no += 1
        offset = round_no * base_max
        batch: list[Edition] = []
        for pk, work_id, title, subtitle, contributors, publisher, year, lang, series, desc in base:
            if have + added + len(batch) >= target:
                break
            words = title.split()
            if len(words) > 1 and rng.random() < 0.5:
                rng.shuffle(words)
            batch.append(
                Edition(
                    pk=pk + offset,
                    work_id=work_id,
                    title=" ".join(words) or title,
                    subtitle=subtitle,
                    contributors_text=contributors,
                    publisher=publisher,
                    year=(year + rng.randint(-5, 5)) if year else None,
                    language=rng.choice([lang, lang, "dut", "eng"]),
                    format=rng.choice(VARIANT_FORMATS),
                    audience=rng.choice(["", "", "adult", "child", "teen"]),
                    series=series,
                    description=desc,
                    source=VARIANT_SOURCE,
                    source_id=f"{pk}-{round_no}",
                    available_now=rng.random() < 0.4,
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            Edition.objects.bulk_create(batch, batch_size=2000)
            last = batch[-1].pk - offset
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO catalog_editioncontributor (edition_id, contributor_id, role,"
                    " position) SELECT edition_id + %s, contributor_id, role, position"
                    " FROM catalog_editioncontributor WHERE edition_id <= %s"
                    " AND edition_id IN (SELECT id FROM catalog_edition WHERE source = %s)",
                    [offset, last, LOC_SOURCE],
                )
                cursor.execute(
                    f"INSERT INTO {through} (edition_id, subject_id)"  # noqa: S608 (model table)
                    f" SELECT edition_id + %s, subject_id FROM {through} WHERE edition_id <= %s"
                    " AND edition_id IN (SELECT id FROM catalog_edition WHERE source = %s)",
                    [offset, last, LOC_SOURCE],
                )
        added += len(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('catalog_edition', 'id'),"
                " (SELECT MAX(id) FROM catalog_edition))"
            )
    return {"added": added, "seconds": round(time.perf_counter() - started, 2)}


def _analyze() -> None:
    """Fresh planner statistics after bulk loading (PostgreSQL's autovacuum may lag or be
    off; SQLite's ANALYZE is cheap too)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _indexed() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM catalog_search_doc")
        return cursor.fetchone()[0]


def _query_pool(rng: random.Random, per_kind: int) -> dict[str, list[str]]:
    """The fixed mix: common words and word pairs from a list; authors, title phrases, ISBNs
    and misspellings drawn (with the seed) from the imported records."""
    loc = Edition.objects.filter(source=LOC_SOURCE)
    sample_ids = list(
        loc.order_by("pk").values_list("pk", flat=True)[:: max(1, loc.count() // 2000)]
    )
    rng.shuffle(sample_ids)
    authors: list[str] = []
    for name in (
        EditionContributor.objects.filter(edition_id__in=sample_ids)
        .values_list("contributor__name", flat=True)
        .order_by("contributor__name")
        .distinct()
    ):
        family = text.words(name.split(",")[0])
        if family and len(family[0]) >= 4 and family[0].isalpha():
            authors.append(family[0])
    rng.shuffle(authors)
    titles = list(Edition.objects.filter(pk__in=sample_ids).values_list("title", flat=True))
    rng.shuffle(titles)
    phrases: list[str] = []
    misspelt: list[str] = []
    for title in titles:
        words = [w for w in text.words(title) if w.isalpha()]
        if len(words) >= 3 and len(phrases) < per_kind:
            start = rng.randrange(0, len(words) - 2)
            phrases.append('"' + " ".join(words[start : start + 3]) + '"')
        long_words = [i for i, w in enumerate(words) if len(w) >= 6]
        if long_words and len(misspelt) < per_kind:
            at = rng.choice(long_words)  # one letter left out, with the next word for context
            cut = rng.randrange(1, len(words[at]) - 1)
            typo = words[at][:cut] + words[at][cut + 1 :]
            misspelt.append(" ".join([typo, *words[at + 1 : at + 2]]))
    isbns = list(
        Identifier.objects.filter(
            edition__source=LOC_SOURCE, is_valid=True, kind=Identifier.Kind.ISBN
        )
        .order_by("pk")
        .values_list("value", flat=True)[: per_kind * 20]
    )
    rng.shuffle(isbns)
    isbn_queries = [
        isbn_lib.format(v) if i % 2 else isbn_lib.to_isbn10(v) if v.startswith("978") else v
        for i, v in enumerate(isbns[:per_kind])
    ]
    return {
        "common_word": list(COMMON_WORDS[:per_kind]),
        "two_words": list(TWO_WORDS[:per_kind]),
        "author": authors[:per_kind],
        "title_phrase": phrases,
        "isbn": isbn_queries,
        "misspelling": misspelt,
    }


def _query(text_: str, mode: str) -> catalog_search.SearchQuery:
    params: dict[str, Any] = {"q": text_}
    if mode == "facets_filters":
        params.update({"format": "book", "language": ["eng", "dut"], "available": "1"})
    query = catalog_search.parse_query(params)
    query.with_facets = mode != "plain"
    return query


def _naive(query: catalog_search.SearchQuery) -> int:
    """The search a first version would write: ``icontains`` per word on three columns, then
    count, first page and facets through the ORM."""
    editions = Edition.objects.all()
    for word in query.text.replace('"', " ").split():
        editions = editions.filter(
            Q(title__icontains=word)
            | Q(contributors_text__icontains=word)
            | Q(description__icontains=word)
        )
    if query.formats:
        editions = editions.filter(format__in=query.formats)
    if query.languages:
        editions = editions.filter(language__in=query.languages)
    if query.available:
        editions = editions.filter(available_now=True)
    count = editions.count()
    list(editions.order_by("-created_at").values_list("pk", flat=True)[: query.per_page])
    if query.with_facets:
        for field in ("format", "language", "audience", "year", "available_now"):
            list(editions.values(field).annotate(n=Count("pk")).order_by())
        list(editions.values("subjects__label").annotate(n=Count("pk")).order_by("-n")[:15])
    return count


def _time(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _measure(pool: dict[str, list[str]], repeat: int, naive_per: int) -> dict[str, Any]:
    fast: dict[tuple[str, str], list[float]] = {}
    matches: dict[str, list[int]] = {}
    found_first: dict[str, int] = {}
    corrected: dict[str, str | None] = {}
    for kind, texts in pool.items():  # warm-up round, also records what each query finds
        for text_ in texts:
            result = catalog_search.search(_query(text_, "facets"))
            matches.setdefault(kind, []).append(result.count)
            if kind == "isbn":
                found_first[text_] = int(result.isbn_match)
            if kind == "misspelling":
                corrected[text_] = result.did_you_mean
    for _round in range(repeat):
        for kind, texts in pool.items():
            for mode in MODES:
                for text_ in texts:
                    query = _query(text_, mode)
                    fast.setdefault((kind, mode), []).append(
                        _time(lambda q=query: catalog_search.search(q))
                    )
    naive: dict[tuple[str, str], list[float]] = {}
    for kind, texts in pool.items():
        for mode in MODES:
            for text_ in texts[:naive_per]:
                query = _query(text_, mode)
                naive.setdefault((kind, mode), []).append(_time(lambda q=query: _naive(q)))

    def flat(samples: dict[tuple[str, str], list[float]], **only: str) -> list[float]:
        return [
            s
            for (kind, mode), values in samples.items()
            if all({"kind": kind, "mode": mode}[k] == v for k, v in only.items())
            for s in values
        ]

    every = flat(fast)
    every_naive = flat(naive)
    # the same queries both ways, for a fair ratio
    paired = flat({k: v for k, v in fast.items() if k in naive})
    return {
        "search": {
            "all": _summary(every),
            "with_facets": _summary(flat(fast, mode="facets") + flat(fast, mode="facets_filters")),
            "by_kind": {kind: _summary(flat(fast, kind=kind)) for kind in pool if pool[kind]},
            "by_mode": {mode: _summary(flat(fast, mode=mode)) for mode in MODES},
        },
        "matches_median": {
            kind: int(statistics.median(counts)) for kind, counts in matches.items() if counts
        },
        "isbn_found_first": sum(found_first.values()),
        "did_you_mean": corrected,
        "naive": {
            "all": _summary(every_naive),
            "by_kind": {kind: _summary(flat(naive, kind=kind)) for kind in pool if pool[kind]},
        },
        "speedup_p50": round(_percentile(every_naive, 0.5) / _percentile(paired, 0.5), 1),
        "speedup_p95": round(_percentile(every_naive, 0.95) / _percentile(paired, 0.95), 1),
    }


def bench_search(options: dict[str, Any]) -> dict[str, Any]:
    seed = options.get("seed") or 2026
    if options.get("size"):
        sizes = [int(options["size"])]
    else:
        raw = options.get("sizes") or os.environ.get("BIEB_BENCH_SIZES", "")
        sizes = [int(s) for s in str(raw).split(",") if s.strip()] or list(DEFAULT_SIZES)
    sizes.sort()
    repeat = int(options.get("repeat") or os.environ.get("BIEB_BENCH_REPEAT", 3))
    naive_per = int(options.get("naive") or os.environ.get("BIEB_BENCH_NAIVE", 4))
    reuse = bool(options.get("reuse") or os.environ.get("BIEB_BENCH_REUSE") == "1")
    per_kind = int(options.get("queries_per_kind") or 8)
    rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)

    _check_scratch()
    path = _marc_path(options)
    records = min(sizes[0], 250_000)
    report: dict[str, Any] = {"seed": seed, "sizes": {}}
    have_loc = Edition.objects.filter(source=LOC_SOURCE).count()
    if reuse and have_loc and Edition.objects.count() <= sizes[0]:
        report["import"] = {"reused": have_loc}
    else:
        _delete_bench_data()
        report["import"] = _import(path, records)
        _analyze()

    for size in sizes:
        variants = _add_variants(size, rng)
        if variants["added"]:
            _analyze()
        if variants["added"] or _indexed() != Edition.objects.count():
            started = time.perf_counter()
            indexed = catalog_search.rebuild_index()
            seconds = time.perf_counter() - started
            variants["rebuild_index"] = {
                "editions": indexed,
                "seconds": round(seconds, 1),
                "editions_per_second": round(indexed / seconds, 1),
            }
        else:
            backend().optimise()
        pool = _query_pool(random.Random(seed), per_kind)  # noqa: S311
        figures = _measure(pool, repeat, naive_per)
        report["sizes"][str(size)] = {
            "editions": Edition.objects.count(),
            "variants": variants,
            "queries": pool,
            **figures,
        }
    return report


BENCHMARKS = {"search": bench_search}
