"""The written-out statements of ``core.rows`` store and read values exactly as the ORM does, on
SQLite and on PostgreSQL, and behave as Django's own cursors (errors, query log)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from bieb.accounts.models import User
from bieb.accounts.tests.factories import UserFactory
from bieb.core import clock, rows
from bieb.core.models import AuditEvent

pytestmark = pytest.mark.django_db

DATA = {"title": "Café Ötzi — “quotes”", "n": 3, "nested": {"list": [1, None, "twee"]}}


def test_an_insert_stores_what_the_orm_stores_and_reads_back():
    actor = UserFactory()
    moment = dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.UTC)  # the night clocks move
    by_rows = rows.insert(
        AuditEvent(action="test.rows", actor=actor, subject="x:1", data=DATA, occurred_at=moment)
    )
    by_orm = AuditEvent.objects.create(
        action="test.orm", actor=actor, subject="x:1", data=DATA, occurred_at=moment
    )

    assert by_rows.pk and by_rows.pk != by_orm.pk
    assert not by_rows._state.adding
    stored = AuditEvent.objects.get(pk=by_rows.pk)
    assert (stored.action, stored.actor_id, stored.data) == ("test.rows", actor.pk, DATA)
    assert stored.occurred_at == moment
    # the same stored form: an equality filter and the ordering find both rows alike
    assert set(AuditEvent.objects.filter(occurred_at=moment).values_list("pk", flat=True)) == {
        by_rows.pk,
        by_orm.pk,
    }


def test_a_default_from_the_model_applies():
    before = clock.now()
    event = rows.insert(AuditEvent(action="test.default"))
    assert event.data == {}
    assert AuditEvent.objects.get(pk=event.pk).occurred_at >= before.replace(microsecond=0)


def test_fetch_builds_instances_with_the_fields_converted():
    actor = UserFactory()
    event = AuditEvent.objects.create(action="test.fetch", actor=actor, data=DATA)

    found = rows.fetch(
        f"SELECT {rows.columns(AuditEvent, 'a')}, {rows.columns(User, 'u')}, 42"
        " FROM core_auditevent a JOIN accounts_user u ON u.id = a.actor_id WHERE a.id = %s",
        [event.pk],
        (AuditEvent, "a"),
        (User, "u"),
    )

    read, person, extra = found
    assert isinstance(read, AuditEvent) and isinstance(person, User)
    assert (read.pk, read.action, read.data, read.occurred_at) == (
        event.pk,
        "test.fetch",
        DATA,
        event.occurred_at,
    )
    assert read.occurred_at.tzinfo is not None
    assert (person.pk, person.email, person.birth_date) == (actor.pk, actor.email, actor.birth_date)
    assert extra == 42
    assert rows.fetch("SELECT 1 FROM core_auditevent WHERE id = %s", [-1]) is None


def test_a_constraint_refusal_is_djangos_integrity_error_and_the_query_is_logged():
    taken = UserFactory()
    with (
        CaptureQueriesContext(connection) as log,
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        rows.insert(User(email=taken.email, first_name="Twee", last_name="Keer"))
    assert any("INSERT INTO" in query["sql"] for query in log.captured_queries)
    assert User.objects.filter(email=taken.email).count() == 1


def test_writes_and_single_values():
    event = AuditEvent.objects.create(action="test.write")
    changed = rows.execute(
        "UPDATE core_auditevent SET subject = %s WHERE id = %s", ["y:2", event.pk]
    )
    assert changed == 1
    assert rows.value("SELECT subject FROM core_auditevent WHERE id = %s", [event.pk]) == "y:2"
    assert rows.column("SELECT id FROM core_auditevent WHERE subject = %s", ["y:2"]) == [event.pk]
    assert rows.value("SELECT subject FROM core_auditevent WHERE id = %s", [-1]) is None


def test_locks_are_asked_for_where_the_database_has_them():
    clause = rows.for_update("i", "e")
    if connection.vendor == "postgresql":
        assert clause == ' FOR UPDATE OF "i", "e"'
    else:
        assert clause == ""  # SQLite's writers queue on BEGIN IMMEDIATE instead


def test_postgresql_prepares_a_statement_run_often_and_sqlite_runs_it_as_written():
    sql = "SELECT COUNT(*) FROM core_auditevent WHERE action = %s"
    for _ in range(6):
        assert rows.value(sql, ["test.none"]) == 0
    if connection.vendor == "postgresql":
        prepared = rows.value(
            "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["SELECT COUNT(*) FROM core_auditevent WHERE action = $1%"],
        )
        assert prepared == 1
    else:
        with rows._cursor() as cursor:
            assert cursor.db.vendor == "sqlite"
            assert type(cursor.cursor).__module__.startswith("django.db.backends.sqlite3")
