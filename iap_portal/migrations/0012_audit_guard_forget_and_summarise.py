"""On PostgreSQL the audit log's guard (0004) lets through exactly two more changes, and now
also guards a list's pupils (AuditEventStudent) and the pupil an event names.

Both changes come from ``iap_portal.audit`` inside one transaction that says which it is
(``set_config('iap.audit_maintenance', …, true)``, gone when the transaction ends):

- 'forget' (``forget_students``, called by anonymisation): an event may lose its pupil
  (``student_id`` to NULL) and its details (to ''), nothing else; a list's pupil rows may go.
- 'summarise' (``manage.py summarise_audit``): an event, and a list's pupil rows of it, may be
  deleted only when its month is summarised (its row in iap_portal_auditsummaryperiod).

Anything else is refused, as before: an UPDATE may only unlink a deleted user or school (ON
DELETE SET NULL). 0004's guard checked neither the pupil nor the JSON list; now the pupil can
change only to NULL, and only when forgetting. SQLite (the first-run default) has no such
guard, as in 0004: the application's (``AppendOnlyQuerySet``, the models' save and delete)
holds there.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION iap_audit_append_only() RETURNS trigger AS $$
DECLARE
  maintenance text := coalesce(current_setting('iap.audit_maintenance', true), '');
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF maintenance = 'summarise' AND EXISTS (
      SELECT 1 FROM iap_portal_auditsummaryperiod p WHERE OLD.at >= p.since AND OLD.at < p.until
    ) THEN
      RETURN OLD;
    END IF;
  ELSIF NEW.id = OLD.id
     AND NEW.at = OLD.at
     AND NEW.username = OLD.username
     AND NEW.action = OLD.action
     AND NEW.object_type = OLD.object_type
     AND NEW.object_id = OLD.object_id
     AND NEW.ip IS NOT DISTINCT FROM OLD.ip
     AND (NEW.user_id IS NOT DISTINCT FROM OLD.user_id OR NEW.user_id IS NULL)
     AND (NEW.school_id IS NOT DISTINCT FROM OLD.school_id OR NEW.school_id IS NULL)
     AND (
       (NEW.student_id IS NOT DISTINCT FROM OLD.student_id AND NEW.detail = OLD.detail)
       OR (
         maintenance = 'forget'
         AND (NEW.student_id IS NULL OR NEW.student_id = OLD.student_id)
         AND NEW.detail IN (OLD.detail, '')
       )
     )
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION iap_audit_student_append_only() RETURNS trigger AS $$
DECLARE
  maintenance text := coalesce(current_setting('iap.audit_maintenance', true), '');
BEGIN
  IF TG_OP = 'DELETE' AND (
    maintenance = 'forget'
    OR maintenance = 'summarise' AND EXISTS (
      SELECT 1 FROM iap_portal_auditevent e
      JOIN iap_portal_auditsummaryperiod p ON e.at >= p.since AND e.at < p.until
      WHERE e.id = OLD.event_id
    )
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS iap_audit_student_append_only ON iap_portal_auditeventstudent;
CREATE TRIGGER iap_audit_student_append_only
  BEFORE UPDATE OR DELETE ON iap_portal_auditeventstudent
  FOR EACH ROW EXECUTE FUNCTION iap_audit_student_append_only();
"""

# Back to 0004's guard.
DROP = """
DROP TRIGGER IF EXISTS iap_audit_student_append_only ON iap_portal_auditeventstudent;
DROP FUNCTION IF EXISTS iap_audit_student_append_only();

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
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("iap_portal", "0011_audit_list_pupils_and_summaries")]

    operations = [migrations.RunPython(create, drop)]
