"""On PostgreSQL the database itself refuses to change or delete audit events.

The application already refuses in code (AuditEvent.save/delete, the queryset); this trigger
also stops raw SQL, a shell session or a bug. The one update it lets through is the database
unlinking a deleted user or school (ON DELETE SET NULL), which changes nothing else. SQLite
(the first-run default) has no such guard: Django's flush there deletes rows one table at a time.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION iap_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND NEW.id = OLD.id
     AND NEW.at = OLD.at
     AND NEW.username = OLD.username
     AND NEW.action = OLD.action
     AND NEW.object_type = OLD.object_type
     AND NEW.object_id = OLD.object_id
     AND NEW.detail = OLD.detail
     AND NEW.ip IS NOT DISTINCT FROM OLD.ip
     AND (NEW.user_id IS NOT DISTINCT FROM OLD.user_id OR NEW.user_id IS NULL)
     AND (NEW.school_id IS NOT DISTINCT FROM OLD.school_id OR NEW.school_id IS NULL)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS iap_audit_append_only ON iap_portal_auditevent;
CREATE TRIGGER iap_audit_append_only
  BEFORE UPDATE OR DELETE ON iap_portal_auditevent
  FOR EACH ROW EXECUTE FUNCTION iap_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS iap_audit_append_only ON iap_portal_auditevent;
DROP FUNCTION IF EXISTS iap_audit_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("iap_portal", "0003_audit_two_factor_actions")]

    operations = [migrations.RunPython(create, drop)]
