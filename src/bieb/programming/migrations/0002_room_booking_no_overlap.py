"""Two approved bookings of one room never overlap.

PostgreSQL: an exclusion constraint over the room (as a one-value range, so no extension is
needed) and the booked time range. SQLite: triggers that refuse such a row on insert and on
update; SQLite runs one writer at a time (``transaction_mode`` IMMEDIATE), so the check and the
write cannot interleave. Both raise an integrity error, which ``services`` turn into
``room_taken``.
"""

from django.db import migrations

CONSTRAINT = "programming_booking_no_overlap"

PG_FORWARD = f"""
ALTER TABLE programming_roombooking ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (
    int8range(room_id, room_id, '[]') WITH &&,
    tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE (status = 'approved');
"""
PG_BACKWARD = f"ALTER TABLE programming_roombooking DROP CONSTRAINT {CONSTRAINT};"

_SQLITE_CHECK = """
WHEN NEW.status = 'approved' AND EXISTS (
    SELECT 1 FROM programming_roombooking AS other
    WHERE other.room_id = NEW.room_id
      AND other.status = 'approved'
      AND other.id IS NOT NEW.id
      AND other.starts_at < NEW.ends_at
      AND NEW.starts_at < other.ends_at
)
BEGIN
    SELECT RAISE(ABORT, '{name}: room already booked');
END;
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER {CONSTRAINT}_insert BEFORE INSERT ON programming_roombooking "
    + _SQLITE_CHECK.format(name=CONSTRAINT),
    f"CREATE TRIGGER {CONSTRAINT}_update BEFORE UPDATE OF room_id, starts_at, ends_at, status "
    "ON programming_roombooking " + _SQLITE_CHECK.format(name=CONSTRAINT),
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
    dependencies = [("programming", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
