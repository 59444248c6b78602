"""On PostgreSQL the database itself refuses to change or delete a content change.

The four-eyes rule reads these rows (who changed a plan's or a claim's content may not decide
on it); the application already refuses in code (ContentChange.save, the queryset), and this
trigger also stops raw SQL, a shell session or a bug — as 0004 does for the audit log. No
update is let through: the rows' foreign keys never set NULL. SQLite (the first-run default)
has no such guard, as in 0004: Django's flush there deletes rows one table at a time.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION iap_content_change_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'content changes are append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS iap_content_change_append_only ON iap_portal_contentchange;
CREATE TRIGGER iap_content_change_append_only
  BEFORE UPDATE OR DELETE ON iap_portal_contentchange
  FOR EACH ROW EXECUTE FUNCTION iap_content_change_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS iap_content_change_append_only ON iap_portal_contentchange;
DROP FUNCTION IF EXISTS iap_content_change_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("iap_portal", "0007_audit_staff_actions")]

    operations = [migrations.RunPython(create, drop)]
