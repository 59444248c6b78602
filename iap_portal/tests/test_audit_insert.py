"""A list's audit row costs one INSERT: the database moves its pupils into the join table
(migration 0013's trigger, on PostgreSQL and SQLite)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from iap_portal import audit
from iap_portal.models import AuditEvent, AuditEventStudent


def test_a_list_row_and_its_pupils_are_one_insert(cast, rf):
    request = rf.get("/")
    request.user = cast.coordinator
    pupils = [cast.student.pk, cast.other_student.pk]
    with CaptureQueriesContext(connection) as queries:
        event = audit.record_list(request, "pupils", pupils, schools=[cast.school.pk])
    assert len(queries.captured_queries) == 1
    assert sorted(
        AuditEventStudent.objects.filter(event=event).values_list("student_id", flat=True)
    ) == sorted(pupils)
    # Empty at rest: the pupils live in the join table only.
    assert AuditEvent.objects.filter(pk=event.pk, listed_ids__isnull=True).exists()
    assert set(AuditEvent.objects.naming(cast.student)) == {event}
    # One pupil's page names them on the event itself, with no join rows.
    single = audit.record(request, AuditEvent.Action.VIEW_PUPIL, student=cast.student)
    assert not AuditEventStudent.objects.filter(event=single).exists()
    assert set(AuditEvent.objects.naming(cast.student)) == {event, single}
