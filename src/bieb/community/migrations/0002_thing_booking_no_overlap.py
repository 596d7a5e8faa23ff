"""Two live bookings of one thing never overlap, buffer days included.

PostgreSQL: an exclusion constraint over the item (as a one-value range, so no extension is
needed) and the days ``[first_day, blocked_until]``, for bookings that are booked or lent.
SQLite: triggers that refuse such a row on insert and on update; SQLite runs one writer at a
time (``transaction_mode`` IMMEDIATE), so the check and the write cannot interleave. Dates are
stored as ISO text there, so comparing them as text compares the days. Both raise an integrity
error, which ``things`` turns into ``thing_taken``. A later SQLite table rebuild of
``community_thingbooking`` drops the triggers: such a migration must create them again.
"""

from django.db import migrations

CONSTRAINT = "community_booking_no_overlap"

PG_FORWARD = f"""
ALTER TABLE community_thingbooking ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (
    int8range(item_id, item_id, '[]') WITH &&,
    daterange(first_day, blocked_until, '[]') WITH &&
) WHERE (status IN ('booked', 'lent'));
"""
PG_BACKWARD = f"ALTER TABLE community_thingbooking DROP CONSTRAINT {CONSTRAINT};"

_SQLITE_CHECK = """
WHEN NEW.status IN ('booked', 'lent') AND EXISTS (
    SELECT 1 FROM community_thingbooking AS other
    WHERE other.item_id = NEW.item_id
      AND other.status IN ('booked', 'lent')
      AND other.id IS NOT NEW.id
      AND other.first_day <= NEW.blocked_until
      AND NEW.first_day <= other.blocked_until
)
BEGIN
    SELECT RAISE(ABORT, '{name}: thing already booked');
END;
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER {CONSTRAINT}_insert BEFORE INSERT ON community_thingbooking "
    + _SQLITE_CHECK.format(name=CONSTRAINT),
    f"CREATE TRIGGER {CONSTRAINT}_update BEFORE UPDATE OF item_id, first_day, blocked_until, "
    "status ON community_thingbooking " + _SQLITE_CHECK.format(name=CONSTRAINT),
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {CONSTRAINT}_insert;",
    f"DROP TRIGGER IF EXISTS {CONSTRAINT}_update;",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
