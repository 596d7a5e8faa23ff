"""The search index: tables outside Django's models, different per database.

SQLite: an FTS5 virtual table plus plain tables for facet keys, vocabulary and autocomplete.
PostgreSQL: the ``pg_trgm`` extension, a tsvector table with a GIN index, the same plain
tables, and a trigram index on the vocabulary. Nothing here is a model, so
``makemigrations`` never sees it. Reversing drops the tables (the extension stays).
"""

from django.db import migrations

SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE catalog_search_fts USING fts5("
    "title, authors, series, subjects, body, isbn, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TABLE catalog_search_doc ("
    " edition_id INTEGER PRIMARY KEY,"
    " format TEXT NOT NULL, language TEXT NOT NULL, audience TEXT NOT NULL,"
    " year INTEGER, available INTEGER NOT NULL,"
    " facet_key INTEGER NOT NULL, created INTEGER NOT NULL)",
    "CREATE INDEX catalog_search_doc_created ON catalog_search_doc (created)",
    "CREATE TABLE catalog_search_word (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE catalog_search_suggestion ("
    " kind TEXT NOT NULL, ref_id INTEGER NOT NULL, key TEXT NOT NULL, text TEXT NOT NULL,"
    " edition_id INTEGER, slug TEXT, weight INTEGER NOT NULL,"
    " PRIMARY KEY (kind, ref_id, key))",
    "CREATE INDEX catalog_search_suggestion_key ON catalog_search_suggestion (key)",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS catalog_search_suggestion",
    "DROP TABLE IF EXISTS catalog_search_word",
    "DROP TABLE IF EXISTS catalog_search_doc",
    "DROP TABLE IF EXISTS catalog_search_fts",
]

POSTGRES_SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE catalog_search_doc ("
    " edition_id bigint PRIMARY KEY,"
    " format varchar(12) NOT NULL, language varchar(3) NOT NULL, audience varchar(10) NOT NULL,"
    " year integer, available boolean NOT NULL,"
    " facet_key bigint NOT NULL, created bigint NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX catalog_search_doc_document ON catalog_search_doc USING gin (document)",
    "CREATE INDEX catalog_search_doc_created ON catalog_search_doc (created)",
    "CREATE TABLE catalog_search_word (word text PRIMARY KEY, docs integer NOT NULL)",
    "CREATE INDEX catalog_search_word_trgm ON catalog_search_word USING gin (word gin_trgm_ops)",
    "CREATE TABLE catalog_search_suggestion ("
    " kind varchar(6) NOT NULL, ref_id bigint NOT NULL, key text NOT NULL, text text NOT NULL,"
    " edition_id bigint, slug text, weight integer NOT NULL,"
    " PRIMARY KEY (kind, ref_id, key))",
    "CREATE INDEX catalog_search_suggestion_key"
    " ON catalog_search_suggestion (key text_pattern_ops)",
]
# The extension stays: other schemas may use it, and dropping it needs more rights.
POSTGRES_DROP = [
    "DROP TABLE IF EXISTS catalog_search_suggestion",
    "DROP TABLE IF EXISTS catalog_search_word",
    "DROP TABLE IF EXISTS catalog_search_doc",
]


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_SCHEMA if postgres else SQLITE_SCHEMA:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
