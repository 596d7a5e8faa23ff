"""What the index holds for an edition, read from the catalogue in a few queries per batch.

Fields and their weight: title + subtitle and contributors (A), ISBNs (A, as 13 and 10 digit
tokens), series (B), subjects (C), description and publisher (D). The vocabulary for "did you
mean" takes the words of title, contributors, series and subjects. The autocomplete rows are
one per work (its title) and one per contributor, weighted by how many editions and copies
they have.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from bieb.catalog.models import Edition, display_name_of
from bieb.catalog.search.analysis import field_text, vocabulary_words, words_of
from bieb.catalog.search.facets import facet_key

#: titles are also suggested without their article: "avonden" finds "De avonden"
_NOT_ALNUM = re.compile(r"[\W_]+")
_LEADING_ARTICLE = re.compile(r"^(de|het|een|the|a|an|le|la|les|der|die|das|el) ")


@dataclass(frozen=True, slots=True)
class AnalysedText:
    """The text part of an index document: what ``analysis`` makes of an edition's fields.
    The importer computes it in its mapping processes, beside the writing one."""

    title: str
    authors: str
    series: str
    subjects: str
    body: str
    isbn: str
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class IndexDocument:
    edition_id: int
    text: AnalysedText
    format: str
    language: str
    audience: str
    year: int | None
    available: bool
    #: creation time in whole seconds since the epoch (the "newest" sort)
    created: int

    @property
    def facet_key(self) -> int:
        return facet_key(
            format=self.format,
            audience=self.audience,
            language=self.language,
            year=self.year,
            available=self.available,
        )


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    kind: str  # "title" | "author"
    ref_id: int  # work id or contributor id
    key: str  # folded text the prefix is matched against
    text: str
    edition_id: int | None
    slug: str | None
    weight: int


def _isbn10(isbn13: str) -> str | None:
    """The ISBN-10 form of a valid 978 ISBN-13 (the check digit recomputed, mod 11)."""
    if len(isbn13) != 13 or not isbn13.startswith("978") or not isbn13.isdigit():
        return None
    body = isbn13[3:12]
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    return body + ("x" if check == 10 else str(check))


def _isbn_tokens(values: list[tuple[str, str, bool]]) -> str:
    """Index tokens for ``(value, as printed, valid)``: the normalised ISBN-13, its ISBN-10,
    and the printed digits of numbers that did not validate."""
    tokens: list[str] = []
    for value, printed, valid in values:
        for raw in (value, printed):
            compact = _NOT_ALNUM.sub("", raw).lower()
            if compact:
                tokens.append(compact)
        if valid and (short := _isbn10(value)):
            tokens.append(short)
    return " ".join(dict.fromkeys(tokens))


def _subjects_table() -> str:
    return Edition.subjects.through._meta.db_table


def _grouped(sql: str, ids: Sequence[int]) -> dict[int, list]:
    """Rows of ``sql`` (first column an edition id, filled in for ``{ids}``) per edition."""
    found: dict[int, list] = defaultdict(list)
    if not ids:
        return found
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=placeholders), list(ids))
        for edition_id, *rest in cursor.fetchall():
            found[edition_id].append(rest[0] if len(rest) == 1 else tuple(rest))
    return found


def _by_id(sql: str, ids) -> dict[int, tuple]:
    """Rows of ``sql`` (``{ids}`` = the primary keys wanted) keyed by their first column."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), ids)
        return {row[0]: row[1:] for row in cursor.fetchall()}


# Index upkeep runs inside bulk imports, when the planner's statistics of the growing tables
# are stale (autovacuum has not caught up, or is off). Every query below is therefore a plain
# lookup by an indexed key with an IN list: no join a stale estimate could turn into a scan.


def build_documents(ids: Sequence[int]) -> list[IndexDocument]:
    """Index documents for the editions among ``ids`` that exist: four plain queries, no
    model instances (indexing runs inside the import, at thousands of editions a second)."""
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, title, subtitle, contributors_text, series, description, publisher,"  # noqa: S608
            " isbn, format, language, audience, year, available_now, created_at"
            f" FROM catalog_edition WHERE id IN ({placeholders})",
            list(ids),
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    found = [row[0] for row in rows]
    credits = _grouped(
        "SELECT edition_id, contributor_id FROM catalog_editioncontributor"
        " WHERE edition_id IN ({ids}) ORDER BY edition_id, position",
        found,
    )
    contributor_names = _by_id(
        "SELECT id, name FROM catalog_contributor WHERE id IN ({ids})",
        (pk for values in credits.values() for pk in values),
    )
    names = {
        pk: [contributor_names[c][0] for c in values if c in contributor_names]
        for pk, values in credits.items()
    }
    subject_links = _grouped(
        f"SELECT edition_id, subject_id FROM {_subjects_table()}"  # noqa: S608
        " WHERE edition_id IN ({ids})",
        found,
    )
    labels = _by_id(
        "SELECT id, label FROM catalog_subject WHERE id IN ({ids})",
        (pk for values in subject_links.values() for pk in values),
    )
    subjects = {
        pk: [labels[s][0] for s in values if s in labels] for pk, values in subject_links.items()
    }
    isbns = _grouped(
        "SELECT edition_id, value, as_printed, is_valid FROM catalog_identifier"
        " WHERE kind = 'isbn' AND edition_id IN ({ids})",
        found,
    )
    documents = []
    for (
        pk,
        title,
        subtitle,
        contributors_text,
        series,
        description,
        publisher,
        isbn,
        format_,
        language,
        audience,
        year,
        available,
        created_at,
    ) in rows:
        documents.append(
            document(
                pk,
                analyse(
                    title=f"{title} {subtitle}",
                    makers=names.get(pk) or [contributors_text],
                    series=series,
                    subjects=subjects.get(pk, ()),
                    body=f"{description} {publisher}",
                    isbns=[(isbn, "", True), *isbns.get(pk, ())],
                ),
                format=format_,
                language=language,
                audience=audience,
                year=year,
                available=bool(available),
                created_at=created_at,
            )
        )
    return documents


def analyse(
    *,
    title: str,
    makers: Sequence[str],
    series: str,
    subjects: Sequence[str],
    body: str,
    isbns: Sequence[tuple[str, str, bool]],
) -> AnalysedText:
    """``title`` with the subtitle, ``makers`` in credit order, ``isbns`` as ``(value, as
    printed, valid)``."""
    title_words, title_text = field_text(title)
    author_words, author_text = field_text(" ".join(makers))
    series_words, series_text = field_text(series)
    subject_words, subject_text = field_text(" ".join(subjects))
    _body_words, body_text = field_text(body)
    return AnalysedText(
        title=title_text,
        authors=author_text,
        series=series_text,
        subjects=subject_text,
        body=body_text,
        isbn=_isbn_tokens(list(isbns)),
        words=frozenset(
            vocabulary_words(title_words + author_words + series_words + subject_words)
        ),
    )


def document(
    edition_id: int,
    text: AnalysedText,
    *,
    format: str,
    language: str | None,
    audience: str | None,
    year: int | None,
    available: bool,
    created_at: dt.datetime,
) -> IndexDocument:
    """The index document of one edition from its analysed text and facet fields.
    ``build_documents`` reads these from the catalogue; the importer passes what it has just
    written."""
    if created_at.tzinfo is None:  # SQLite hands back naive UTC
        created_at = created_at.replace(tzinfo=dt.UTC)
    return IndexDocument(
        edition_id=edition_id,
        text=text,
        format=format,
        language=language or "",
        audience=audience or "",
        year=year,
        available=available,
        created=int(created_at.timestamp()),
    )


def _fold(value: str) -> str:
    return " ".join(words_of(value))


def build_suggestions(
    edition_ids: Sequence[int],
) -> tuple[list[int], list[int], list[SuggestionRow]]:
    """Autocomplete rows for the works and contributors of ``edition_ids``: returns the work
    ids and contributor ids concerned (their old rows are replaced) and the new rows."""
    work_of = _by_id("SELECT id, work_id FROM catalog_edition WHERE id IN ({ids})", edition_ids)
    work_ids = sorted({work for (work,) in work_of.values()})
    credited = _grouped(
        "SELECT edition_id, contributor_id FROM catalog_editioncontributor"
        " WHERE edition_id IN ({ids})",
        list(edition_ids),
    )
    contributor_ids = sorted({c for values in credited.values() for c in values})
    return work_ids, contributor_ids, suggestion_rows(work_ids, contributor_ids)


def suggestion_rows(work_ids: Sequence[int], contributor_ids: Sequence[int]) -> list[SuggestionRow]:
    """Autocomplete rows of these works and contributors. A work or maker weighs its editions
    plus its copies ("most held first")."""
    rows: list[SuggestionRow] = []
    titles = _by_id("SELECT id, title FROM catalog_work WHERE id IN ({ids})", work_ids)
    editions = _by_id(
        "SELECT work_id, COUNT(*), MIN(id) FROM catalog_edition WHERE work_id IN ({ids})"
        " GROUP BY work_id",
        work_ids,
    )
    work_items = _by_id(
        "SELECT e.work_id, COUNT(*) FROM catalog_edition e, catalog_item i"
        " WHERE e.work_id IN ({ids}) AND i.edition_id = e.id GROUP BY e.work_id",
        work_ids,
    )
    people = _by_id(
        "SELECT id, name, slug FROM catalog_contributor WHERE id IN ({ids})", contributor_ids
    )
    credits = _by_id(
        "SELECT contributor_id, COUNT(DISTINCT edition_id) FROM catalog_editioncontributor"
        " WHERE contributor_id IN ({ids}) GROUP BY contributor_id",
        contributor_ids,
    )
    people_items = _by_id(
        "SELECT ec.contributor_id, COUNT(*) FROM catalog_editioncontributor ec, catalog_item i"
        " WHERE ec.contributor_id IN ({ids}) AND i.edition_id = ec.edition_id"
        " GROUP BY ec.contributor_id",
        contributor_ids,
    )
    works = [
        (pk, titles[pk][0], editions[pk][0], editions[pk][1], work_items.get(pk, (0,))[0])
        for pk in work_ids
        if pk in titles and pk in editions
    ]
    contributors = [
        (pk, people[pk][0], people[pk][1], credits.get(pk, (0,))[0], people_items.get(pk, (0,))[0])
        for pk in contributor_ids
        if pk in people
    ]
    for work_id, title, editions, first, items in works:
        folded = _fold(title)
        keys = {folded[:200], _LEADING_ARTICLE.sub("", folded)[:200]}
        rows.extend(
            SuggestionRow("title", work_id, key, title, first, None, editions + items)
            for key in keys
            if key
        )
    for contributor_id, name, slug, editions, items in contributors:
        shown = display_name_of(name)
        keys = {_fold(name)[:200], _fold(shown)[:200]}
        rows.extend(
            SuggestionRow("author", contributor_id, key, shown, None, slug, editions + items)
            for key in keys
            if key
        )
    return rows
