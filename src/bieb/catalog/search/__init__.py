"""Catalogue search: one interface, two backends chosen by the database in use (SQLite FTS5,
PostgreSQL full text with ``pg_trgm``).

    q = parse_query(request.GET)        # DomainError: query_too_long, invalid_page, ...
    result = search(q)                  # count, edition_ids (this page), facets, did_you_mean
    suggest("harry p")                  # autocomplete on titles and makers

The index is kept by whoever changes editions: ``index_editions(ids)`` after creating or
editing them (the importer indexes per batch from the values it wrote, ``index_documents``), ``refresh_availability(ids)`` after
``available_now`` changes, ``remove_editions(ids)`` when they go; ``rebuild_index()`` starts
over. See docs/decisions and docs/benchmarks.md for the design and its figures.
"""

from bieb.catalog.search.engine import (
    SearchResult,
    Suggestion,
    index_documents,
    index_editions,
    rebuild_index,
    refresh_availability,
    remove_editions,
    search,
    suggest,
    write_suggestions,
)
from bieb.catalog.search.facets import FacetValue
from bieb.catalog.search.query import SearchQuery, parse_query

__all__ = [
    "FacetValue",
    "SearchQuery",
    "SearchResult",
    "Suggestion",
    "index_documents",
    "index_editions",
    "parse_query",
    "rebuild_index",
    "refresh_availability",
    "remove_editions",
    "search",
    "suggest",
    "write_suggestions",
]
