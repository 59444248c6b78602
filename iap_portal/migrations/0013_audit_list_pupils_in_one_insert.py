"""A list's audit row and its pupils in one INSERT.

The application writes the pupils a list showed into the event's ``listed_ids``; a trigger
moves them into ``iap_portal_auditeventstudent`` (which "who looked at this pupil" reads) as the
row goes in and empties the column, so a list page costs one query for its audit row, not two.

- PostgreSQL: BEFORE INSERT — the event's id is already drawn, the pupils' rows are inserted
  (their foreign key to the event is checked at commit), and ``listed_ids`` becomes NULL before
  the row is written; a CHECK keeps it NULL for good (the append-only guard of 0004/0012 covers
  the other columns).
- SQLite: AFTER INSERT — the rows are inserted from ``json_each`` and the column emptied. A later
  migration that rebuilds the table on SQLite drops the trigger: ``iap_portal/tests/
  test_audit_insert.py`` fails then, and the migration must create it again.
"""

from django.db import migrations, models

POSTGRESQL = """
CREATE OR REPLACE FUNCTION iap_audit_list_pupils() RETURNS trigger AS $$
BEGIN
  IF NEW.listed_ids IS NOT NULL THEN
    INSERT INTO iap_portal_auditeventstudent (event_id, student_id)
      SELECT DISTINCT NEW.id, value::bigint FROM jsonb_array_elements_text(NEW.listed_ids);
    NEW.listed_ids := NULL;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS iap_audit_list_pupils ON iap_portal_auditevent;
CREATE TRIGGER iap_audit_list_pupils
  BEFORE INSERT ON iap_portal_auditevent
  FOR EACH ROW EXECUTE FUNCTION iap_audit_list_pupils();
ALTER TABLE iap_portal_auditevent
  ADD CONSTRAINT auditevent_listed_ids_moved CHECK (listed_ids IS NULL);
"""
POSTGRESQL_REVERSE = """
ALTER TABLE iap_portal_auditevent DROP CONSTRAINT IF EXISTS auditevent_listed_ids_moved;
DROP TRIGGER IF EXISTS iap_audit_list_pupils ON iap_portal_auditevent;
DROP FUNCTION IF EXISTS iap_audit_list_pupils();
"""
SQLITE = """
CREATE TRIGGER IF NOT EXISTS iap_audit_list_pupils
AFTER INSERT ON iap_portal_auditevent
WHEN NEW.listed_ids IS NOT NULL
BEGIN
  INSERT INTO iap_portal_auditeventstudent (event_id, student_id)
    SELECT DISTINCT NEW.id, value FROM json_each(NEW.listed_ids);
  UPDATE iap_portal_auditevent SET listed_ids = NULL WHERE id = NEW.id;
END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS iap_audit_list_pupils;"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("iap_portal", "0012_audit_guard_forget_and_summarise"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="listed_ids",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create, drop),
    ]
