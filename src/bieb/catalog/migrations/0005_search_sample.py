"""PostgreSQL: the fixed sample of the search index in a table of its own. Every 16th document
(edition id a multiple of ``engine.SAMPLE_MODULUS``) is kept again in ``catalog_search_sample``
with the document table's facet columns and its own GIN index. The estimates of a very broad
search (decisions 0009 and 0011) read only these densely packed rows: in the document table
the same rows lie one per heap page among ~800-byte neighbours, so even a sampled pass there
cost a page read per sampled match. The index code keeps it in step (``write``, ``delete``,
``refresh_availability``). SQLite needs nothing: its sample is a filter on FTS rowids."""

from django.db import migrations

FORWARD = [
    "CREATE TABLE catalog_search_sample ("
    " edition_id bigint PRIMARY KEY,"
    " format varchar(12) NOT NULL, language varchar(3) NOT NULL, audience varchar(10) NOT NULL,"
    " year integer, available boolean NOT NULL,"
    " facet_key bigint NOT NULL, document tsvector NOT NULL)",
    "INSERT INTO catalog_search_sample"
    " SELECT edition_id, format, language, audience, year, available, facet_key, document"
    " FROM catalog_search_doc WHERE edition_id % 16 = 0",
    "CREATE INDEX catalog_search_sample_document ON catalog_search_sample USING gin (document)",
    "ANALYZE catalog_search_sample",
]
BACKWARD = ["DROP TABLE IF EXISTS catalog_search_sample"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_search_title_vector")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
