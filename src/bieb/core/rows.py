"""Statements written out for the hot path: the few commands a desk or a self-service machine
runs thousands of times an hour (circulation's checkout and return).

The ORM compiles every query anew: on this project's 2-core machine a one-row ``filter(...)
.first()`` costs about 0.35 ms of CPU against 0.06 ms for the statement itself, and a checkout
plus return ran some twenty of them. These helpers keep what matters of the ORM — Django's own
conversion of every value on the way in (``get_db_prep_save``) and out (the backend's and the
field's converters, then ``Model.from_db``) — and skip only the compiling: the SQL of an insert
is built once per model and process, the rest is written by the caller in SQL both databases
speak. Use them only where a benchmark shows the need; everywhere else the ORM is clearer.

On PostgreSQL the statements go through a server-side binding cursor, so psycopg prepares each
after its fifth run (``prepare_threshold`` in settings): planning the copy's locking read took
0.3 ms against 0.05 ms to run it. Django's query log, execute wrappers and error translation
apply as to any cursor. ``BIEB_PG_PREPARE=0`` turns preparing off (a transaction-pooling
PgBouncer before 1.21 cannot keep prepared statements); the statements then run as any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)

__all__ = [
    "column",
    "columns",
    "date",
    "execute",
    "fetch",
    "for_update",
    "insert",
    "moment",
    "value",
]


@cache
def _insert_plan(model: type[models.Model]) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608 - names from _meta
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        quote(meta.pk.column),
    )
    return sql, fields


def _cursor(db=None):
    """A cursor for one written-out statement (see the module's notes)."""
    db = db or connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the per-access proxy
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = ServerBindingCursor(db.connection)
    if db.queries_logged:
        return db.make_debug_cursor(raw)
    return db.make_cursor(raw)


def insert(obj: M) -> M:
    """Insert ``obj`` (a new, unsaved instance) in one ``INSERT ... RETURNING``, as
    ``obj.save()`` would: each field's ``pre_save`` (``auto_now_add``) and
    ``get_db_prep_save`` (dates, JSON) apply. No signals are sent; models saved this way have
    none."""
    sql, fields = _insert_plan(type(obj))
    db = connections[DEFAULT_DB_ALIAS]
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    with _cursor(db) as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


@cache
def _read_plan(model: type[models.Model], alias: str):
    fields = tuple(model._meta.concrete_fields)
    cols = tuple(f.get_col(alias) for f in fields)
    converters = []
    for col in cols:
        chain = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        converters.append(tuple(chain))
    names = tuple(f.attname for f in fields)
    sql = ", ".join(
        f"{connection.ops.quote_name(alias)}.{connection.ops.quote_name(f.column)}" for f in fields
    )
    return sql, names, tuple(zip(cols, converters, strict=True))


def columns(model: type[models.Model], alias: str) -> str:
    """The select list of every concrete column of ``model`` under table alias ``alias``, in
    the order ``fetch`` reads them."""
    return _read_plan(model, alias)[0]


def _build(db, model: type[M], alias: str, values: Sequence[Any]) -> M:
    _sql, names, plan = _read_plan(model, alias)
    converted = []
    for value, (col, chain) in zip(values, plan, strict=True):
        for converter in chain:
            value = converter(value, col, db)
        converted.append(value)
    return model.from_db(db.alias, names, converted)


def fetch(
    sql: str, params: Sequence[Any], *models_at: tuple[type[models.Model], str]
) -> tuple[Any, ...] | None:
    """Run ``sql`` (one row or none) whose select list starts with ``columns(model, alias)``
    for each ``(model, alias)`` in ``models_at``, in that order, and may go on with more
    values. Returns the instances, then the further values as they came, or None."""
    db = connections[DEFAULT_DB_ALIAS]
    with _cursor(db) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    out: list[Any] = []
    start = 0
    for model, alias in models_at:
        width = len(_read_plan(model, alias)[1])
        out.append(_build(db, model, alias, row[start : start + width]))
        start += width
    out.extend(row[start:])
    return tuple(out)


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; the number of rows it changed."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def value(sql: str, params: Sequence[Any]) -> Any:
    """The first column of the first row, or None."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def column(sql: str, params: Sequence[Any]) -> list[Any]:
    """The first column of every row."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def for_update(*aliases: str) -> str:
    """`` FOR UPDATE OF ...`` where the database locks rows (PostgreSQL); SQLite takes its
    write lock at ``BEGIN IMMEDIATE`` and needs none."""
    if not connection.features.has_select_for_update:
        return ""
    if aliases and connection.features.has_select_for_update_of:
        return " FOR UPDATE OF " + ", ".join(connection.ops.quote_name(a) for a in aliases)
    return " FOR UPDATE"


def moment(value: dt.datetime | None) -> Any:
    """A datetime as the database stores it (UTC, naive on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def date(value: dt.date | None) -> Any:
    return connection.ops.adapt_datefield_value(value)
