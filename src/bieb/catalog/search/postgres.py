"""PostgreSQL backend: a weighted ``tsvector`` per edition with a GIN index, ranked by
``ts_rank``; ``pg_trgm`` finds look-alike words for "did you mean".

The index text is built by ``analysis`` exactly as for SQLite (folded words plus their Dutch
and English Snowball stems) and read with the ``simple`` configuration, so both backends match
the same words; the ``dutch`` configuration would drop stop words like "de" and break the
phrase "de avonden". Query words go in as bound parameters of ``plainto_tsquery`` and
``phraseto_tsquery``, never as tsquery syntax.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from bieb.catalog.search.documents import IndexDocument
from bieb.catalog.search.engine import Match
from bieb.catalog.search.query import ParsedText

_DOCUMENT = (
    "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'A')"
    " || setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B')"
    " || setweight(to_tsvector('simple', %s), 'C') || setweight(to_tsvector('simple', %s), 'D')"
)


_TITLE_DOCUMENT = (
    "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'A')"
    " || setweight(to_tsvector('simple', %s), 'A')"
)


_SAMPLE_COLUMNS = "edition_id, format, language, audience, year, available, facet_key, document"


class PostgresBackend:
    vendor = "postgresql"
    doc_table = "catalog_search_doc"
    #: every SAMPLE_MODULUS-th document again, packed densely with its own GIN index: the
    #: estimates of a broad search read ~1/16 of the rows there, where the same ids in the
    #: document table would cost one heap page each (decision 0011)
    sample_table = "catalog_search_sample"
    doc_tables = (doc_table, sample_table)

    def prepare(self, *, mapped: bool = True) -> None:
        return None

    def match(self, parsed: ParsedText, expansions) -> Match:
        parts: list[str] = []
        params: list[str] = []
        for term in parsed.terms:
            words = expansions(term)
            parts.append("(" + " || ".join(["plainto_tsquery('simple', %s)"] * len(words)) + ")")
            params.extend(words)
        for phrase in parsed.phrases:
            parts.append("phraseto_tsquery('simple', %s)")
            params.append(" ".join(phrase))
        tsquery = "(" + " && ".join(parts) + ")"
        return Match(
            from_sql="catalog_search_doc d",
            where_sql=f"d.document @@ {tsquery}",
            params=params,
            rank_sql=f"ts_rank(d.document, {tsquery}) DESC, d.edition_id DESC",
            rank_params=list(params),
            # the first tier looks in the title vector (title, makers, ISBN) through its own
            # GIN index and ranks there; the rest is every other match
            tiers=(
                (f"d.title_document @@ {tsquery}", list(params)),
                (
                    f"d.document @@ {tsquery}"
                    f" AND NOT coalesce(d.title_document @@ {tsquery}, false)",
                    [*params, *params],
                ),
            ),
            first_rank_sql=f"ts_rank(d.title_document, {tsquery}) DESC, d.edition_id DESC",
            first_rank_params=list(params),
        )

    def write(self, documents: Sequence[IndexDocument]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO catalog_search_doc (edition_id, format, language, audience, year,"  # noqa: S608
                " available, facet_key, created, document, title_document)"
                f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {_DOCUMENT}, {_TITLE_DOCUMENT})"
                " ON CONFLICT (edition_id) DO UPDATE SET format = excluded.format,"
                " language = excluded.language, audience = excluded.audience,"
                " year = excluded.year, available = excluded.available,"
                " facet_key = excluded.facet_key, created = excluded.created,"
                " document = excluded.document, title_document = excluded.title_document",
                [
                    (
                        d.edition_id,
                        d.format,
                        d.language,
                        d.audience,
                        d.year,
                        d.available,
                        d.facet_key,
                        d.created,
                        d.text.title,
                        d.text.authors,
                        d.text.isbn,
                        d.text.series,
                        d.text.subjects,
                        d.text.body,
                        d.text.title,
                        d.text.authors,
                        d.text.isbn,
                    )
                    for d in documents
                ],
            )
            self._write_sample(cursor, [d.edition_id for d in documents])

    def _write_sample(self, cursor, ids: Sequence[int]) -> None:
        """Copy the sampled ones of these freshly written documents into the sample table
        (one statement, whether or not any id is sampled: a fixed cost per batch)."""
        from bieb.catalog.search import engine

        sampled = [pk for pk in ids if pk % engine.SAMPLE_MODULUS == 0]
        cursor.execute(
            f"INSERT INTO catalog_search_sample ({_SAMPLE_COLUMNS})"  # noqa: S608
            f" SELECT {_SAMPLE_COLUMNS} FROM catalog_search_doc WHERE edition_id = ANY(%s)"
            " ON CONFLICT (edition_id) DO UPDATE SET format = excluded.format,"
            " language = excluded.language, audience = excluded.audience,"
            " year = excluded.year, available = excluded.available,"
            " facet_key = excluded.facet_key, document = excluded.document",
            [sampled],
        )

    def delete(self, ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            for table in self.doc_tables:
                cursor.execute(
                    f"DELETE FROM {table} WHERE edition_id = ANY(%s)",  # noqa: S608
                    [list(ids)],
                )

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE catalog_search_doc, catalog_search_sample, catalog_search_word,"
                " catalog_search_suggestion"
            )

    def optimise(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_search_doc")
            cursor.execute("ANALYZE catalog_search_sample")
            cursor.execute("ANALYZE catalog_search_word")
            cursor.execute("ANALYZE catalog_search_suggestion")

    def prefix_condition(self, prefix: str) -> tuple[str, list[str]]:
        return "key LIKE %s", [prefix + "%"]

    def similar_words(self, word: str) -> list[tuple[str, int]]:
        """Vocabulary words that share most trigrams with ``word`` (``pg_trgm``, GIN)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, docs FROM catalog_search_word WHERE word %% %s"
                " ORDER BY similarity(word, %s) DESC, docs DESC LIMIT 20",
                [word, word],
            )
            return list(cursor.fetchall())
