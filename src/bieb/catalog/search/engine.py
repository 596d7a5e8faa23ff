"""The search itself, the same for both backends: the backend says how text matches (FTS5
``MATCH`` or ``@@``) and how to rank; this module adds the filters, counts, facets, "did you
mean", autocomplete and index upkeep in SQL both databases speak.

Costs: one count of the text matches on a fixed sample of the index (every 16th edition id)
decides whether the search is broad. Up to ``EXACT_MAX`` matches: one pass for the count and
the format/language/audience/decade/availability facets (``GROUP BY facet_key`` over the
compact ``catalog_search_doc`` table), one ranked pass for the page, one pass for the subject
facet. Above it the count and the facets come from the sample, marked approximate, and only
the ranked page reads all matches (decision 0011).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction

from bieb.catalog.models import Edition, Identifier, Subject
from bieb.catalog.search import spelling
from bieb.catalog.search.analysis import expansions
from bieb.catalog.search.documents import (
    IndexDocument,
    build_documents,
    build_suggestions,
    suggestion_rows,
)
from bieb.catalog.search.facets import FacetValue, KeyFilters, decade_values, key_facets
from bieb.catalog.search.query import (
    MAX_QUERY_LENGTH,
    ParsedText,
    SearchQuery,
    isbn_in,
    isbn_like,
    parse_text,
)

SUBJECT_LIMIT = 15
#: the fixed sample of the index that estimates are counted on: the editions whose id is a
#: multiple of this. PostgreSQL keeps these rows in a table of their own with its own GIN
#: index (``catalog_search_sample``, migration 0005), so a sampled pass reads 1/16 of the rows
#: instead of one heap page per match; SQLite filters the FTS rowids.
SAMPLE_MODULUS = 16
#: above this many text matches (counted on the sample: 16 times the sampled matches) the
#: result count and the format, language, audience, decade and availability facets are
#: estimated from the sample and marked approximate; the page of results stays exact
#: (decision 0011)
EXACT_MAX = 10_000
#: above this many matches the subject facet is estimated from a systematic sample of about
#: ``SUBJECT_SAMPLE`` matches (every k-th edition id, k a multiple of ``SAMPLE_MODULUS``) and
#: shown as approximate (decisions 0009 and 0011)
SUBJECT_EXACT_MAX = 10_000
SUBJECT_SAMPLE = 5_000
#: "did you mean" is offered when a query finds fewer than this
FEW_RESULTS = 3
INDEX_BATCH = 500
#: documents written per round by ``index_documents`` (the importer's batch)
IMPORT_BATCH = 2000
#: a short prefix would range over much of the catalogue: look at this many keys at most
SUGGEST_SCAN = 2000


@dataclass
class Match:
    """How the backend restricts and ranks: ``FROM {from_sql} WHERE {where_sql}``, with the
    index-document table available as ``d``."""

    from_sql: str
    where_sql: str
    params: list = field(default_factory=list)
    rank_sql: str | None = None
    rank_params: list = field(default_factory=list)
    #: the same match without the document table, for passes that need no filter or facet
    #: field (SQLite: the FTS table alone, ids as its rowid); rank_sql must work on both
    bare_from_sql: str | None = None
    bare_id_sql: str = "d.edition_id"
    #: optional strict tiers for ranking: conditions (same placeholders as ``where_sql``) for
    #: "found in title, makers or ISBN" and "found elsewhere only"; each tier ranks on its own
    tiers: tuple[tuple[str, list], tuple[str, list]] | None = None
    #: how the first tier ranks, when it differs from ``rank_sql`` (PostgreSQL: on the title
    #: vector its condition uses)
    first_rank_sql: str | None = None
    first_rank_params: list = field(default_factory=list)

    def source(self, *, bare: bool) -> tuple[str, str]:
        """(FROM clause, edition id expression), without the document table when allowed."""
        if bare and self.bare_from_sql:
            return self.bare_from_sql, self.bare_id_sql
        return self.from_sql, "d.edition_id"


@dataclass
class SearchResult:
    count: int
    edition_ids: list[int]
    page: int
    pages: int
    facets: dict[str, list[FacetValue]]
    did_you_mean: str | None = None
    isbn_match: bool = False
    #: ``count`` (and with it ``pages``) is an estimate from the sample: a very broad search
    #: (decision 0011); the edition ids of the page are exact all the same
    approximate: bool = False


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "title" | "author"
    edition_id: int | None
    slug: str | None


def backend():
    if connection.vendor == "postgresql":
        from bieb.catalog.search.postgres import PostgresBackend

        return PostgresBackend()
    from bieb.catalog.search.sqlite import SQLiteBackend

    return SQLiteBackend()


def _in(column: str, values: Sequence) -> tuple[str, list]:
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


class _Filters:
    """SQL conditions of a query's filters, by facet name, so a facet can leave its own out."""

    def __init__(self, q: SearchQuery) -> None:
        self.q = q = _without_nul(q)
        self.subject_ids: list[int] = []
        self.parts: dict[str, tuple[str, list]] = {}
        if q.formats:
            self.parts["format"] = _in("d.format", q.formats)
        if q.languages:
            self.parts["language"] = _in("d.language", q.languages)
        if q.audiences:
            self.parts["audience"] = _in("d.audience", q.audiences)
        if q.available:
            self.parts["available"] = ("d.available = %s", [True])
        years: list[str] = []
        params: list[int] = []
        if q.year_from is not None:
            years.append("d.year >= %s")
            params.append(q.year_from)
        if q.year_to is not None:
            years.append("d.year <= %s")
            params.append(q.year_to)
        if years:
            self.parts["year"] = (" AND ".join(years), params)
        if q.subjects:
            self.subject_ids = list(
                Subject.objects.filter(slug__in=q.subjects).values_list("pk", flat=True)
            )
            table = Edition.subjects.through._meta.db_table
            condition, ids = _in("es.subject_id", self.subject_ids)
            self.parts["subject"] = (
                f"EXISTS (SELECT 1 FROM {table} es WHERE es.edition_id = d.edition_id"  # noqa: S608
                f" AND {condition})",
                ids,
            )
        holding = _holding_condition(q.organisation_id, q.location_id)
        if holding:
            self.parts["holding"] = holding

    def sql(self, *, without: Sequence[str] = ()) -> tuple[str, list]:
        chosen = [part for name, part in self.parts.items() if name not in without]
        if not chosen:
            return "", []
        return " AND " + " AND ".join(sql for sql, _p in chosen), [
            p for _s, params in chosen for p in params
        ]

    def key_filters(self) -> KeyFilters:
        return KeyFilters(
            formats=frozenset(self.q.formats),
            languages=frozenset(self.q.languages),
            audiences=frozenset(self.q.audiences),
            available=self.q.available,
        )


KEY_FACETS = ("format", "language", "audience", "available")


def _without_nul(q: SearchQuery) -> SearchQuery:
    """Facet values as bound parameters must not hold NUL (PostgreSQL text refuses it)."""
    fields = ("formats", "languages", "audiences", "subjects")
    if not any("\x00" in v for name in fields for v in getattr(q, name)):
        return q
    return dataclasses.replace(
        q, **{name: [v.replace("\x00", "") for v in getattr(q, name)] for name in fields}
    )


def _holding_condition(organisation_id: int | None, location_id: int | None):
    """Editions held at a location (copies there) or by an organisation (copies of it), or
    lendable there digitally (a licence of that organisation or a national one)."""
    if organisation_id is None and location_id is None:
        return None
    from bieb.network.models import Location, Organisation

    if organisation_id is not None and not Organisation.objects.filter(pk=organisation_id).exists():
        return "1 = 0", []
    if location_id is not None:
        owner = Location.objects.filter(pk=location_id).values_list("organisation_id", flat=True)
        organisation = owner.first()
        if organisation is None or (
            organisation_id is not None and organisation_id != organisation
        ):
            return "1 = 0", []
        copies = ("i.location_id = %s", location_id)
    else:
        organisation = organisation_id
        copies = ("i.organisation_id = %s", organisation_id)
    return (
        "(EXISTS (SELECT 1 FROM catalog_item i WHERE i.edition_id = d.edition_id"  # noqa: S608
        f" AND {copies[0]} AND i.status <> 'withdrawn')"
        " OR EXISTS (SELECT 1 FROM catalog_digitallicence l WHERE l.edition_id = d.edition_id"
        " AND l.is_active AND (l.organisation_id = %s OR l.organisation_id IS NULL)))",
        [copies[1], organisation],
    )


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _all_match() -> Match:
    return Match(from_sql="catalog_search_doc d", where_sql="1 = 1")


def _ids_match(ids: Sequence[int]) -> Match:
    where, params = _in("d.edition_id", ids)
    return Match(from_sql="catalog_search_doc d", where_sql=where, params=params)


def _isbn_editions(isbn13: str) -> list[int]:
    direct = set(Edition.objects.filter(isbn=isbn13).values_list("pk", flat=True))
    direct.update(
        Identifier.objects.filter(kind=Identifier.Kind.ISBN, value=isbn13).values_list(
            "edition_id", flat=True
        )
    )
    return sorted(direct)


def _count(match: Match, filters: _Filters, without: Sequence[str] = ()) -> int:
    where, params = filters.sql(without=without)
    source, _id = match.source(bare=not where)
    sql = f"SELECT COUNT(*) FROM {source} WHERE {match.where_sql}{where}"  # noqa: S608
    return _rows(sql, match.params + params)[0][0]


def _page_ids(match: Match, filters: _Filters, q: SearchQuery, offset: int) -> list[int]:
    if q.sort == "relevance" and match.tiers is not None:
        return _tiered_page_ids(match, filters, q, offset)
    return _ranked_page(match, filters, q, offset, q.per_page)


def _tiered_page_ids(match: Match, filters: _Filters, q: SearchQuery, offset: int) -> list[int]:
    """Title and maker matches first, the rest after, each ranked within itself. Ranking the
    first tier alone is also cheaper: a broad word has far fewer title hits than hits."""
    assert match.tiers is not None
    (first_where, first_params), (rest_where, rest_params) = match.tiers
    first = dataclasses.replace(match, where_sql=first_where, params=first_params, tiers=None)
    if match.first_rank_sql is not None:
        first = dataclasses.replace(
            first, rank_sql=match.first_rank_sql, rank_params=match.first_rank_params
        )
    found = _ranked_page(first, filters, q, offset, q.per_page)
    if len(found) == q.per_page:
        return found
    first_count = offset + len(found) if found else _count(first, filters)
    rest = dataclasses.replace(match, where_sql=rest_where, params=rest_params, tiers=None)
    return found + _ranked_page(
        rest, filters, q, max(0, offset - first_count), q.per_page - len(found)
    )


def _ranked_page(
    match: Match, filters: _Filters, q: SearchQuery, offset: int, limit: int
) -> list[int]:
    where, params = filters.sql()
    join = ""
    order_params: list = []
    ranked = q.sort == "relevance" and match.rank_sql is not None
    source, edition_id = match.source(bare=ranked and not where)
    if q.sort == "title":
        join = " JOIN catalog_edition e ON e.id = d.edition_id"
        order = "e.title, d.edition_id"
    elif ranked:
        order = match.rank_sql
        order_params = match.rank_params
    else:
        order = "d.created DESC, d.edition_id DESC"
    sql = (
        f"SELECT {edition_id} FROM {source}{join} WHERE {match.where_sql}{where}"  # noqa: S608
        f" ORDER BY {order} LIMIT %s OFFSET %s"
    )
    return [row[0] for row in _rows(sql, [*match.params, *params, *order_params, limit, offset])]


def _sample_sql(edition_id: str, step: int) -> str:
    """The condition "in the sample of every ``step``-th edition id" (``step`` a multiple of
    ``SAMPLE_MODULUS``; ``%%``: the SQL has bound parameters)."""
    sql = f" AND {edition_id} %% {int(SAMPLE_MODULUS)} = 0"
    if step != SAMPLE_MODULUS:
        sql += f" AND {edition_id} %% {int(step)} = 0"
    return sql


def _sample_of(engine, match: Match) -> Match:
    """``match`` over the fixed sample of the index only (no tiers: never ranked). On
    PostgreSQL the sample rows have their own table with the document table's columns, so
    every filter reads the same; SQLite filters on the id."""
    if engine.sample_table:
        return Match(
            from_sql=match.from_sql.replace("catalog_search_doc d", f"{engine.sample_table} d"),
            where_sql=match.where_sql + _sample_sql("d.edition_id", SAMPLE_MODULUS),
            params=list(match.params),
        )
    edition_id = match.bare_id_sql if match.bare_from_sql else "d.edition_id"
    return dataclasses.replace(
        match,
        where_sql=match.where_sql + _sample_sql(edition_id, SAMPLE_MODULUS),
        tiers=None,
        rank_sql=None,
    )


def _is_broad(sample: Match) -> bool:
    """More than ``EXACT_MAX`` text matches, counted on the sample (filters left out: they do
    not make an exact pass cheaper, it still visits every text match)."""
    source, _id = sample.source(bare=True)
    sampled = _rows(f"SELECT COUNT(*) FROM {source} WHERE {sample.where_sql}", sample.params)  # noqa: S608
    return sampled[0][0] * SAMPLE_MODULUS > EXACT_MAX


def _key_counts(match: Match, filters: _Filters, without: Sequence[str]) -> list[tuple[int, int]]:
    where, params = filters.sql(without=without)
    sql = (
        f"SELECT d.facet_key, COUNT(*) FROM {match.from_sql}"  # noqa: S608
        f" WHERE {match.where_sql}{where} GROUP BY d.facet_key"
    )
    return _rows(sql, match.params + params)


def _key_facets(
    match: Match, filters: _Filters, q: SearchQuery, *, scale: int = 1
) -> tuple[int, dict[str, list[FacetValue]]]:
    """The result count and the format, language, audience, availability and decade facets
    from one ``GROUP BY facet_key`` pass (two with a year range). With ``scale`` > 1 ``match``
    is the sample and every number is an estimate (decision 0011)."""
    key_filters = filters.key_filters()
    count_decades = "year" not in filters.parts
    count, facets, decades = key_facets(
        _key_counts(match, filters, KEY_FACETS),
        key_filters,
        count_decades=count_decades,
        scale=scale,
    )
    if not count_decades:
        _t, _f, decades = key_facets(
            _key_counts(match, filters, (*KEY_FACETS, "year")),
            key_filters,
            count_decades=True,
            scale=scale,
        )
    facets["year"] = decade_values(decades, q.year_from, q.year_to, approximate=scale > 1)
    return count, facets


def _subject_facet(
    match: Match, sample: Match, filters: _Filters, count: int, *, estimated: bool
) -> list[FacetValue]:
    """The most frequent subjects among the matches (each without the subject filter), plus
    the selected ones. Over ``SUBJECT_EXACT_MAX`` matches, counted on every k-th edition id
    of the sample and multiplied by k: one pass over all matches' subject links costs more
    than the rest of a search (184,000 matches of "history" in a million editions: 215 ms).
    ``count`` is the result count, itself an estimate when ``estimated``."""
    table = Edition.subjects.through._meta.db_table
    where, params = filters.sql(without=("subject",))
    if "subject" in filters.parts:
        if estimated:
            count = SAMPLE_MODULUS * _count(sample, filters, without=("subject",))
        else:
            count = _count(match, filters, without=("subject",))
    step = 1
    if count > SUBJECT_EXACT_MAX or estimated:
        # the sample, thinned to about SUBJECT_SAMPLE matches by a multiple of its modulus
        step = SAMPLE_MODULUS * max(1, round(count / (SAMPLE_MODULUS * SUBJECT_SAMPLE)))
        match = sample
    source, edition_id = match.source(bare=not where)
    if step > SAMPLE_MODULUS:
        where += f" AND {edition_id} %% {int(step)} = 0"
    base = (
        f"SELECT es.subject_id, COUNT(*) FROM {source}"  # noqa: S608
        f" JOIN {table} es ON es.edition_id = {edition_id} WHERE {match.where_sql}{where}"
    )
    counts = dict(
        _rows(
            f"{base} GROUP BY es.subject_id ORDER BY COUNT(*) DESC, es.subject_id LIMIT %s",
            [*match.params, *params, SUBJECT_LIMIT],
        )
    )
    missing = [pk for pk in filters.subject_ids if pk not in counts]
    if missing:
        condition, ids = _in("es.subject_id", missing)
        counts.update(
            _rows(f"{base} AND {condition} GROUP BY es.subject_id", [*match.params, *params, *ids])
        )
    if step > 1:
        counts = {pk: min(count, n * step) for pk, n in counts.items()}
    subjects = {
        pk: (slug, label)
        for pk, slug, label in Subject.objects.filter(pk__in=[*counts, *missing]).values_list(
            "pk", "slug", "label"
        )
    }
    chosen = set(filters.subject_ids)
    values = [
        FacetValue(subjects[pk][0], subjects[pk][1], counts.get(pk, 0), pk in chosen, step > 1)
        for pk in subjects
    ]
    values.sort(key=lambda v: (-v.count, v.label))
    # selected slugs that name no subject still show, with nothing found
    known = {v.value for v in values}
    values += [FacetValue(s, s, 0, True) for s in filters.q.subjects if s not in known]
    return values


def _holding_facets(
    match: Match, filters: _Filters, q: SearchQuery, count: int, *, estimated: bool = False
) -> dict[str, list[FacetValue]]:
    """ "At my library": the named organisation (or the location's) with its count, and its
    locations, each counting what is there on the shelf or lendable digitally by it."""
    from bieb.network.models import Location, Organisation

    org_id = q.organisation_id
    if q.location_id is not None:
        owner = Location.objects.filter(pk=q.location_id).values_list("organisation_id", flat=True)
        org_id = owner.first() if org_id in (None, owner.first()) else None
    organisation = Organisation.objects.filter(pk=org_id).first() if org_id else None
    facets: dict[str, list[FacetValue]] = {}
    if q.organisation_id is not None:
        facets["organisation"] = []
        if organisation is not None:
            held, approximate = count, estimated
            if q.location_id is not None:
                scoped = _Filters(q)
                scoped.parts["holding"] = _holding_condition(organisation.pk, None)
                held, approximate = _count(match, scoped), False
            facets["organisation"] = [
                FacetValue(organisation.code, organisation.name, held, True, approximate)
            ]
    if organisation is None:
        if q.location_id is not None:
            facets["location"] = []
        return facets

    # per location: lendable digitally by the organisation, plus on the shelf there otherwise
    where, params = filters.sql(without=("holding",))
    licensed = (
        "EXISTS (SELECT 1 FROM catalog_digitallicence l WHERE l.edition_id = d.edition_id"
        " AND l.is_active AND (l.organisation_id = %s OR l.organisation_id IS NULL))"
    )
    digital = _rows(
        f"SELECT COUNT(*) FROM {match.from_sql} WHERE {match.where_sql}{where} AND {licensed}",  # noqa: S608
        [*match.params, *params, organisation.pk],
    )[0][0]
    locations = list(
        Location.objects.filter(organisation=organisation).values_list("pk", "slug", "name")
    )
    at, location_ids = _in("i.location_id", [pk for pk, _s, _n in locations])
    physical = dict(
        _rows(
            f"SELECT i.location_id, COUNT(DISTINCT d.edition_id) FROM {match.from_sql}"  # noqa: S608
            " JOIN catalog_item i ON i.edition_id = d.edition_id"
            f" WHERE {match.where_sql}{where} AND {at}"
            f" AND i.status <> 'withdrawn' AND NOT {licensed} GROUP BY i.location_id",
            [*match.params, *params, *location_ids, organisation.pk],
        )
    )
    values = []
    for pk, slug, name in locations:
        number = digital + physical.get(pk, 0)
        if number or pk == q.location_id:
            values.append(FacetValue(slug, name, number, pk == q.location_id))
    values.sort(key=lambda v: (-v.count, v.label))
    facets["location"] = values
    return facets


def search(q: SearchQuery) -> SearchResult:
    """Run ``q``: matching editions in rank order (this page), their count, the facets and,
    when little is found, a suggestion. Text longer than the limit is cut, never refused."""
    engine = backend()
    engine.prepare()
    raw = q.text[:MAX_QUERY_LENGTH]
    parsed = parse_text(raw)
    isbn = isbn_in(raw)
    isbn_match = False
    if isbn and (ids := _isbn_editions(isbn)):
        match, isbn_match = _ids_match(ids), True
    elif compact := isbn_like(raw):
        parsed = ParsedText(terms=(compact,))
        match = engine.match(parsed, lambda word: [word])
    elif parsed.is_empty:
        match = _all_match()
    else:
        match = engine.match(parsed, expansions)

    filters = _Filters(q)
    facets: dict[str, list[FacetValue]] = {}
    sample = _sample_of(engine, match)
    estimated = _is_broad(sample)
    if q.with_facets:
        if estimated:
            count, facets = _key_facets(sample, filters, q, scale=SAMPLE_MODULUS)
        else:
            count, facets = _key_facets(match, filters, q)
        facets["subject"] = _subject_facet(match, sample, filters, count, estimated=estimated)
        facets.update(_holding_facets(match, filters, q, count, estimated=estimated))
    elif estimated:
        count = SAMPLE_MODULUS * _count(sample, filters)
    else:
        count = _count(match, filters)

    offset = (q.page - 1) * q.per_page
    edition_ids = _page_ids(match, filters, q, offset) if offset < count else []
    did_you_mean = None
    if count < FEW_RESULTS and not isbn_match and not parsed.is_empty:
        did_you_mean = _did_you_mean(engine, parsed, filters, count)
    return SearchResult(
        count=count,
        edition_ids=edition_ids,
        page=q.page,
        pages=max(1, math.ceil(count / q.per_page)),
        facets=facets,
        did_you_mean=did_you_mean,
        isbn_match=isbn_match,
        approximate=estimated,
    )


def _word_docs(words: Sequence[str]) -> dict[str, int]:
    if not words:
        return {}
    condition, params = _in("word", sorted(set(words)))
    return dict(_rows(f"SELECT word, docs FROM catalog_search_word WHERE {condition}", params))  # noqa: S608


def _did_you_mean(engine, parsed: ParsedText, filters: _Filters, found: int) -> str | None:
    best, best_count = None, found
    for corrected in spelling.corrections(
        parsed.words(), lookup=_word_docs, similar=engine.similar_words
    ):
        count = _count(engine.match(parse_text(corrected), expansions), filters)
        if count > best_count:
            best, best_count = corrected, count
    return best


def suggest(prefix: str, limit: int = 8) -> list[Suggestion]:
    """Titles and makers that start with ``prefix`` (accents and case do not matter), the
    most held first. Fewer than two letters suggest nothing."""
    from bieb.catalog import text

    folded = text.fold(prefix[:MAX_QUERY_LENGTH])[:200]
    limit = max(0, min(limit, 20))
    if len(folded) < 2 or not limit:
        return []
    engine = backend()
    engine.prepare()
    condition, params = engine.prefix_condition(folded)
    rows = _rows(
        "SELECT kind, ref_id, text, edition_id, slug, weight FROM ("  # noqa: S608
        " SELECT kind, ref_id, text, edition_id, slug, weight, key"
        f" FROM catalog_search_suggestion WHERE {condition} ORDER BY key LIMIT %s) s"
        " ORDER BY weight DESC, key, kind, ref_id",
        [*params, SUGGEST_SCAN],
    )
    seen: set[tuple[str, int]] = set()
    found: list[Suggestion] = []
    for kind, ref_id, shown, edition_id, slug, _weight in rows:
        if (kind, ref_id) in seen:
            continue
        seen.add((kind, ref_id))
        found.append(Suggestion(text=shown, kind=kind, edition_id=edition_id, slug=slug or None))
        if len(found) == limit:
            break
    return found


# --- index upkeep ----------------------------------------------------------------------------


def _batches(ids: Sequence[int], size: int = INDEX_BATCH):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _add_words(documents) -> None:
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(document.text.words)
    if not counts:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO catalog_search_word (word, docs) VALUES (%s, %s)"
            " ON CONFLICT (word) DO UPDATE SET docs = catalog_search_word.docs + excluded.docs",
            sorted(counts.items()),
        )


def _write_suggestions(edition_ids: Sequence[int]) -> None:
    work_ids, contributor_ids, rows = build_suggestions(edition_ids)
    _replace_suggestions(work_ids, contributor_ids, rows)


def write_suggestions(work_ids: Sequence[int], contributor_ids: Sequence[int]) -> None:
    """Rewrite the autocomplete rows of these works and makers (the importer, which gathers
    the makers of many batches so a prolific one is written once, not once per batch)."""
    for start in range(0, max(len(work_ids), len(contributor_ids)), INDEX_BATCH):
        works = work_ids[start : start + INDEX_BATCH]
        people = contributor_ids[start : start + INDEX_BATCH]
        _replace_suggestions(works, people, suggestion_rows(works, people))


def _replace_suggestions(work_ids, contributor_ids, rows) -> None:
    with connection.cursor() as cursor:
        for kind, ids in (("title", work_ids), ("author", contributor_ids)):
            if ids:
                condition, params = _in("ref_id", ids)
                cursor.execute(
                    f"DELETE FROM catalog_search_suggestion WHERE kind = %s AND {condition}",  # noqa: S608
                    [kind, *params],
                )
        cursor.executemany(
            "INSERT INTO catalog_search_suggestion (kind, ref_id, key, text, edition_id, slug,"
            " weight) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(r.kind, r.ref_id, r.key, r.text, r.edition_id, r.slug, r.weight) for r in rows],
        )


def index_editions(ids) -> int:
    """(Re)index the editions ``ids``: their text, facet fields, vocabulary and the
    autocomplete rows of their works and makers. Ids of editions that no longer exist are
    removed from the index. Runs in the caller's transaction (or its own)."""
    ids = sorted({int(pk) for pk in ids})
    engine = backend()
    indexed = 0
    with transaction.atomic():
        for batch in _batches(ids):
            documents = build_documents(batch)
            present = {d.edition_id for d in documents}
            gone = [pk for pk in batch if pk not in present]
            if gone:
                engine.delete(gone)
            _write_documents(engine, documents)
            indexed += len(documents)
    return indexed


def index_documents(documents: Sequence[IndexDocument], *, suggestions: bool = True) -> None:
    """Index editions from documents the caller built (``documents.document``) rather than
    read back from the catalogue: the importer, which has every value in hand. With
    ``suggestions=False`` the caller writes the autocomplete rows itself
    (``write_suggestions``)."""
    engine = backend()
    with transaction.atomic():
        for start in range(0, len(documents), IMPORT_BATCH):
            _write_documents(
                engine, documents[start : start + IMPORT_BATCH], suggestions=suggestions
            )


def _write_documents(
    engine, documents: Sequence[IndexDocument], *, suggestions: bool = True
) -> None:
    if documents:
        engine.write(documents)
        _add_words(documents)
        if suggestions:
            _write_suggestions([d.edition_id for d in documents])


def remove_editions(ids) -> None:
    """Take editions out of the index (before or after they are deleted)."""
    ids = sorted({int(pk) for pk in ids})
    engine = backend()
    with transaction.atomic():
        for batch in _batches(ids):
            engine.delete(batch)
            condition, params = _in("edition_id", batch)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM catalog_search_suggestion WHERE {condition}",  # noqa: S608
                    params,
                )


def refresh_availability(ids) -> None:
    """Copy ``Edition.available_now`` of ``ids`` into the index (the "available now" filter
    and facet): call after the flag changes. Cheap: no text is re-read."""
    from bieb.catalog.search.facets import with_availability

    ids = sorted({int(pk) for pk in ids})
    for batch in _batches(ids):
        condition, params = _in("d.edition_id", batch)
        rows = _rows(
            "SELECT d.edition_id, d.facet_key, e.available_now FROM catalog_search_doc d"  # noqa: S608
            f" JOIN catalog_edition e ON e.id = d.edition_id WHERE {condition}",
            params,
        )
        changes = [
            (bool(now), with_availability(key, bool(now)), pk)
            for pk, key, now in rows
            if with_availability(key, bool(now)) != key
        ]
        if not changes:
            continue
        sampled = [change for change in changes if change[2] % SAMPLE_MODULUS == 0]
        with connection.cursor() as cursor:
            # the sample table (PostgreSQL) only when a sampled edition changed: circulation
            # calls this on checkouts and returns, where one statement more costs
            for table, updates in zip(backend().doc_tables, (changes, sampled), strict=False):
                if updates:
                    cursor.executemany(
                        f"UPDATE {table} SET available = %s, facet_key = %s"  # noqa: S608
                        " WHERE edition_id = %s",
                        updates,
                    )


def rebuild_index(*, batch_size: int = 2000, progress: Callable[[int], None] | None = None) -> int:
    """Empty the index and index every edition again (exact vocabulary counts included)."""
    engine = backend()
    engine.clear()
    done = 0
    last = 0
    while True:
        batch = list(
            Edition.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        done += index_editions(batch)
        last = batch[-1]
        if progress:
            progress(done)
    engine.optimise()
    return done


__all__ = [
    "Match",
    "SearchResult",
    "Suggestion",
    "index_documents",
    "index_editions",
    "rebuild_index",
    "refresh_availability",
    "remove_editions",
    "search",
    "suggest",
    "write_suggestions",
]
