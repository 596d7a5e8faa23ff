"""SQLite backend: an FTS5 table keyed by edition id, ranked with bm25 and column weights.

FTS5 only ships the English porter stemmer, so stems come from ``analysis`` (both languages)
and the table uses the plain ``unicode61`` tokenizer over already folded text. Every query word
is written as a quoted FTS5 string, so no user text is ever read as FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from bieb.catalog.search.documents import IndexDocument
from bieb.catalog.search.engine import Match
from bieb.catalog.search.query import ParsedText

FTS = "catalog_search_fts"
#: bm25 weights of title, authors, series, subjects, body, isbn (A=10 ... D=1)
WEIGHTS = "10.0, 10.0, 4.0, 2.0, 1.0, 10.0"
#: the columns whose matches rank first, whatever bm25 says about the rest
FIRST_TIER = "title authors isbn"


#: page cache (negative = KiB) and memory map for search connections
CACHE_KIB = -65536
MMAP_BYTES = 1 << 30


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


class SQLiteBackend:
    vendor = "sqlite"
    doc_table = "catalog_search_doc"
    #: no sample table: the sample is a filter on FTS rowids (decision 0011)
    sample_table = None
    doc_tables = (doc_table,)

    def prepare(self, *, mapped: bool = True) -> None:
        """A larger page cache and memory-mapped reads for this connection: a broad query
        touches tens of thousands of index pages, and SQLite's default 2 MB cache makes every
        pass read them again. Asking costs one tiny statement; setting happens once. A bulk
        writer (the importer) asks for the cache without the mapping, which would count the
        growing database file in its memory."""
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            if cursor.fetchone()[0] != CACHE_KIB or not mapped:
                cursor.execute(f"PRAGMA cache_size = {CACHE_KIB}")
                cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES if mapped else 0}")

    def match(self, parsed: ParsedText, expansions) -> Match:
        parts = [
            "(" + " OR ".join(_quote(w) for w in expansions(term)) + ")" for term in parsed.terms
        ]
        parts += [_quote(" ".join(phrase)) for phrase in parsed.phrases]
        expression = " AND ".join(parts)
        in_title = f"{{{FIRST_TIER}}}: ({expression})"
        return Match(
            from_sql=f"{FTS} JOIN catalog_search_doc d ON d.edition_id = {FTS}.rowid",
            where_sql=f"{FTS} MATCH %s",
            params=[expression],
            tiers=(
                (f"{FTS} MATCH %s", [in_title]),
                (f"{FTS} MATCH %s", [f"({expression}) NOT {in_title}"]),
            ),
            rank_sql=f"bm25({FTS}, {WEIGHTS}), {FTS}.rowid DESC",
            rank_params=[],
            bare_from_sql=FTS,
            bare_id_sql=f"{FTS}.rowid",
        )

    def write(self, documents: Sequence[IndexDocument]) -> None:
        ids = [(doc.edition_id,) for doc in documents]
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM catalog_search_fts WHERE rowid = %s", ids)
            cursor.executemany(
                "INSERT INTO catalog_search_fts (rowid, title, authors, series, subjects, body, isbn) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        d.edition_id,
                        d.text.title,
                        d.text.authors,
                        d.text.series,
                        d.text.subjects,
                        d.text.body,
                        d.text.isbn,
                    )
                    for d in documents
                ],
            )
            cursor.executemany(
                "INSERT OR REPLACE INTO catalog_search_doc (edition_id, format, language,"
                " audience, year, available, facet_key, created)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
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
                    )
                    for d in documents
                ],
            )

    def delete(self, ids: Sequence[int]) -> None:
        rows = [(pk,) for pk in ids]
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM catalog_search_fts WHERE rowid = %s", rows)
            cursor.executemany("DELETE FROM catalog_search_doc WHERE edition_id = %s", rows)

    def clear(self) -> None:
        with connection.cursor() as cursor:
            for table in (FTS, "catalog_search_doc", "catalog_search_word"):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (constant names)
            cursor.execute("DELETE FROM catalog_search_suggestion")

    def optimise(self) -> None:
        """Merge the FTS5 segments into one after a rebuild and refresh planner statistics."""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO catalog_search_fts (catalog_search_fts) VALUES ('optimize')"
            )
            cursor.execute("ANALYZE")

    def prefix_condition(self, prefix: str) -> tuple[str, list[str]]:
        return "key >= %s AND key < %s", [prefix, prefix + "\U0010ffff"]

    def similar_words(self, word: str) -> list[tuple[str, int]]:
        """SQLite has no trigram similarity; edit-distance candidates do the work."""
        return []
