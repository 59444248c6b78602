"""The audit log's own retention (old events folded into monthly counts, then deleted) and
forgetting an anonymised pupil; the append-only guard lets exactly these two through."""

from datetime import date, datetime
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from conftest import overlapping
from iap_portal import audit
from iap_portal.models import AuditEvent, AuditEventStudent, AuditSummary, AuditSummaryPeriod
from iap_portal.tests.test_permissions import cast_claim
from privacy.audit_summary import summarise_audit, summarise_month, summary_cutoff
from privacy.retention import anonymise
from students.models import Student

A = AuditEvent.Action
NOW = timezone.make_aware(datetime(2026, 12, 1, 10, 0))  # 1826 days before: 1.12.2021


def at(moment, action=A.VIEW_PUPIL, **fields):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return audit.record(None, action, **fields)


def moment(y, m, d, hour=12):
    return timezone.make_aware(datetime(y, m, d, hour))


def counts():
    return {(s.month, s.school_id, s.action): s.count for s in AuditSummary.objects.all()}


def test_the_cutoff_is_the_start_of_the_month_the_retention_period_begins_in(settings):
    settings.IAP_AUDIT_RETENTION_DAYS = 1826
    assert summary_cutoff(NOW) == moment(2021, 12, 1, 0)
    settings.IAP_AUDIT_RETENTION_DAYS = 1827  # 30.11.2021: November is kept whole
    assert summary_cutoff(NOW) == moment(2021, 11, 1, 0)
    settings.IAP_AUDIT_RETENTION_DAYS = 30
    assert summary_cutoff(NOW) == moment(2026, 11, 1, 0)


def test_old_events_become_counts_per_month_school_and_action(cast):
    school, other = cast.school, cast.other_school
    alice = cast.class_teacher
    for hour in (1, 2):
        at(moment(2021, 9, 3, hour), user=alice, school=school, student=cast.student)
    at(
        moment(2021, 9, 30, 23),
        A.VIEW_LIST,
        user=alice,
        school=school,
        students=[cast.student.pk, cast.other_student.pk],
    )
    at(moment(2021, 10, 1, 0), A.PDF, user=alice, school=school, student=cast.student)
    at(moment(2021, 10, 2), school=other, student=cast.outsider_student)
    kept = at(moment(2021, 12, 1, 0), user=alice, school=school, student=cast.student)
    done = summarise_audit(now=NOW)
    assert done == [(date(2021, 9, 1), 3), (date(2021, 10, 1), 2)]
    assert counts() == {
        (date(2021, 9, 1), school.pk, A.VIEW_PUPIL): 2,
        (date(2021, 9, 1), school.pk, A.VIEW_LIST): 1,
        (date(2021, 10, 1), school.pk, A.PDF): 1,
        (date(2021, 10, 1), other.pk, A.VIEW_PUPIL): 1,
    }
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert AuditEventStudent.objects.count() == 0  # the list's pupils went with it
    assert set(AuditSummaryPeriod.objects.values_list("month", "events")) == {
        (date(2021, 9, 1), 3),
        (date(2021, 10, 1), 2),
    }


def test_summarising_twice_changes_nothing(cast):
    at(moment(2021, 9, 3), user=cast.class_teacher, school=cast.school)
    call_command("summarise_audit", stdout=mock.MagicMock())  # today: 2021 is long past
    before = counts()
    assert before and not AuditEvent.objects.filter(at__lt=moment(2021, 12, 1)).exists()
    call_command("summarise_audit", stdout=mock.MagicMock())
    assert summarise_audit() == []
    assert counts() == before


def test_an_event_found_later_in_a_summarised_month_adds_to_its_count(cast):
    at(moment(2021, 9, 3), user=cast.class_teacher, school=cast.school)
    summarise_audit(now=NOW)
    at(moment(2021, 9, 4), user=cast.class_teacher, school=cast.school)  # a restored backup
    summarise_audit(now=NOW)
    assert counts() == {(date(2021, 9, 1), cast.school.pk, A.VIEW_PUPIL): 2}


def test_a_month_within_the_retention_period_is_refused(cast):
    with pytest.raises(ValueError):
        summarise_month(date(2021, 12, 1), now=NOW)


def test_sign_ins_count_for_the_schools_their_person_belonged_to(cast):
    """As the audit page shows them: a sign-in for the schools where the person was a member
    at the time, a failed one by the name typed; what no school showed, without a school."""
    from students.models import Membership

    Membership.objects.filter(user=cast.class_teacher).update(created_at=moment(2021, 1, 1))
    Membership.objects.filter(user=cast.other_coordinator).update(created_at=moment(2021, 9, 15))
    at(moment(2021, 9, 3), A.LOGIN, user=cast.class_teacher)
    at(moment(2021, 9, 3), A.LOGIN, user=cast.other_coordinator)  # before joining
    at(moment(2021, 9, 20), A.LOGIN, user=cast.other_coordinator)
    audit.record_failed_sign_in(None, "class_teacher")  # today: not summarised
    with mock.patch("django.utils.timezone.now", return_value=moment(2021, 9, 4)):
        audit.record_failed_sign_in(None, "class_teacher")
        audit.record_failed_sign_in(None, "nobody")
    summarise_audit(now=NOW)
    month = date(2021, 9, 1)
    assert counts() == {
        (month, cast.school.pk, A.LOGIN): 1,
        (month, cast.school.pk, A.LOGIN_FAILED): 1,
        (month, cast.other_school.pk, A.LOGIN): 1,
        (month, None, A.LOGIN): 1,
        (month, None, A.LOGIN_FAILED): 1,
    }


def test_the_audit_page_shows_the_summarised_months(cast, login):
    at(moment(2021, 9, 3), user=cast.class_teacher, school=cast.school)
    at(moment(2021, 9, 4), A.PDF, user=cast.class_teacher, school=cast.school)
    at(moment(2021, 10, 4), A.PDF, school=cast.other_school)
    summarise_audit(now=NOW)
    client = login(cast.coordinator)
    response = client.get(reverse("audit_log"))
    summary = response.context["summary"]
    assert summary["until"] == moment(2021, 11, 1, 0)  # the last month summarised: October
    # This school's months only, by action.
    assert [(r["month"], r["count"]) for r in summary["rows"]] == [
        (date(2021, 9, 1), 1),
        (date(2021, 9, 1), 1),
    ]
    assert {str(r["action"]) for r in summary["rows"]} == {
        str(A.PDF.label),
        str(A.VIEW_PUPIL.label),
    }
    assert "Apkopotie mēneši" in response.content.decode()
    only_pdf = client.get(reverse("audit_log"), {"action": "pdf"}).context["summary"]
    assert [r["count"] for r in only_pdf["rows"]] == [1]
    later = client.get(reverse("audit_log"), {"date_from": "1.11.2021"}).context["summary"]
    assert later is None
    by_person = client.get(reverse("audit_log"), {"user": cast.class_teacher.pk})
    assert by_person.context["summary"]["by_person"]


def test_the_application_guard_still_refuses_other_changes(cast):
    event = at(
        moment(2021, 9, 3), user=cast.class_teacher, school=cast.school, students=[cast.student.pk]
    )
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEventStudent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEventStudent.objects.first().delete()
    with pytest.raises(PermissionError):
        event.students.clear()


# --- Forgetting a pupil -----------------------------------------------------------------------


def names_of(student):
    return [student.first_name, student.last_name]


def test_after_anonymisation_no_audit_row_names_the_pupil(cast, login):
    claim = cast_claim(cast)  # status rows of the plan and the claim: "IAP-…: draft → …"
    pupil, other = cast.student, cast.other_student
    client = login(cast.coordinator)
    client.get(reverse("student_detail", args=[pupil.pk]))
    client.get(reverse("plan_detail", args=[claim.plan.pk]))
    client.get(reverse("claim_detail", args=[claim.pk]))
    client.get(reverse("student_list"))  # a list of both pupils
    client.get(reverse("student_list"), {"q": "Bērziņa", "format": "csv"})  # searched by name
    client.get(reverse("student_list"), {"q": "Ozols", "format": "csv"})
    by_action = dict(AuditEvent.objects.values_list("action").annotate(n=Count("pk")).order_by())
    status_rows = AuditEvent.objects.filter(action=A.STATUS).count()
    assert status_rows and AuditEvent.objects.naming(pupil).exists()

    anonymise(Student.objects.filter(pk=pupil.pk))

    assert not AuditEvent.objects.naming(pupil).exists()
    assert not AuditEventStudent.objects.filter(student=pupil).exists()
    for event in AuditEvent.objects.all():
        for name in names_of(cast.student):
            assert name not in event.detail and "B%C4%93rzi%C5%86a" not in event.detail
    for event in AuditEvent.objects.filter(object_id__in=[str(claim.pk), str(claim.plan.pk)]):
        assert event.detail == ""
    # The counts by action stay; the other pupil is still named.
    after = dict(AuditEvent.objects.values_list("action").annotate(n=Count("pk")).order_by())
    assert {k: v for k, v in after.items() if k != A.VIEW_LIST} == {
        k: v for k, v in by_action.items() if k != A.VIEW_LIST
    }
    assert AuditEvent.objects.naming(other).exists()
    assert AuditEvent.objects.filter(detail__contains="Ozols").exists()
    response = client.get(reverse("audit_log"), {"student": pupil.pk})
    assert list(response.context["page"].object_list) == []


def test_deleting_a_pupil_forgets_them_first(cast):
    from students.tests.factories import StudentFactory

    pupil = StudentFactory(school=cast.school)
    at(moment(2026, 3, 1), user=cast.class_teacher, school=cast.school, student=pupil)
    at(
        moment(2026, 3, 1),
        A.VIEW_LIST,
        user=cast.class_teacher,
        school=cast.school,
        students=[pupil.pk, cast.student.pk],
    )
    pupil_id = pupil.pk
    pupil.delete()
    assert AuditEvent.objects.count() == 2
    assert not AuditEvent.objects.filter(student_id=pupil_id).exists()
    assert list(AuditEventStudent.objects.values_list("student_id", flat=True)) == [cast.student.pk]


def test_a_search_for_the_name_is_forgotten_and_another_pupils_export_keeps_its_pupil(cast):
    school = cast.school
    searched = at(
        moment(2026, 3, 1),
        A.EXPORT,
        user=cast.coordinator,
        school=school,
        detail="pupils.csv q=b%C4%93rzi%C5%86a",
    )
    archive = at(
        moment(2026, 3, 1),
        A.EXPORT,
        user=cast.coordinator,
        school=school,
        student=cast.other_student,
        detail="pupil archive Bērziņa",
    )
    audit.forget_students([cast.student.pk])
    searched.refresh_from_db()
    archive.refresh_from_db()
    assert searched.detail == "" and archive.detail == ""
    assert archive.student_id == cast.other_student.pk


def test_many_pupils_are_forgotten_at_once(cast):
    """An anonymisation of a year's leavers: thousands of names to look for in the exports'
    details (SQLite refuses an expression deeper than 1,000)."""
    from students.tests.factories import StudentFactory

    pupils = Student.objects.bulk_create(
        [
            StudentFactory.build(school=cast.school, first_name=f"Vārds{n}", last_name=f"Uzv{n}")
            for n in range(700)
        ]
    )
    at(
        moment(2026, 3, 1),
        A.VIEW_LIST,
        user=cast.class_teacher,
        school=cast.school,
        students=[p.pk for p in pupils],
    )
    at(
        moment(2026, 3, 1),
        A.EXPORT,
        user=cast.class_teacher,
        school=cast.school,
        detail="pupils.csv q=Uzv699",
    )
    audit.forget_students([p.pk for p in pupils])
    assert not AuditEventStudent.objects.exists()
    assert not AuditEvent.objects.filter(detail__contains="Uzv").exists()


def test_forgetting_nobody_changes_nothing(cast):
    at(moment(2026, 3, 1), user=cast.class_teacher, school=cast.school, student=cast.student)
    assert audit.forget_students([]) == 0
    assert AuditEvent.objects.naming(cast.student).exists()


# --- PostgreSQL: the database's own guard -------------------------------------------------------

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database-level guard is PostgreSQL's"
)


def refused(sql, params):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@postgresql
def test_the_database_refuses_anything_but_the_two_changes(cast):
    event = at(
        moment(2021, 9, 3),
        A.VIEW_LIST,
        user=cast.class_teacher,
        school=cast.school,
        student=cast.student,
        students=[cast.other_student.pk],
        detail="x",
    )
    # 0004's guard let the pupil be changed: it is not compared any more.
    refused(
        "UPDATE iap_portal_auditevent SET student_id = %s WHERE id = %s",
        [cast.other_student.pk, event.pk],
    )
    refused("UPDATE iap_portal_auditevent SET student_id = NULL WHERE id = %s", [event.pk])
    refused("UPDATE iap_portal_auditevent SET detail = '' WHERE id = %s", [event.pk])
    refused("DELETE FROM iap_portal_auditevent WHERE id = %s", [event.pk])
    refused("DELETE FROM iap_portal_auditeventstudent WHERE event_id = %s", [event.pk])
    refused(
        "UPDATE iap_portal_auditeventstudent SET student_id = %s WHERE event_id = %s",
        [cast.student.pk, event.pk],
    )
    # Saying "forget" lets only the pupil and the details go, nothing else change.
    for sql in (
        "UPDATE iap_portal_auditevent SET detail = 'forged' WHERE id = %s",
        "UPDATE iap_portal_auditevent SET action = 'login' WHERE id = %s",
        "UPDATE iap_portal_auditevent SET student_id = student_id + 1 WHERE id = %s",
        "DELETE FROM iap_portal_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT set_config('iap.audit_maintenance', 'forget', true)")
            cursor.execute(sql, [event.pk])
    # Saying "summarise" deletes nothing of a month that has no summary.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('iap.audit_maintenance', 'summarise', true)")
        cursor.execute("DELETE FROM iap_portal_auditeventstudent WHERE event_id = %s", [event.pk])
    event.refresh_from_db()
    assert event.student_id == cast.student.pk and event.detail == "x"
    # The two changes themselves go through.
    audit.forget_students([cast.student.pk, cast.other_student.pk])
    event.refresh_from_db()
    assert event.student_id is None and event.detail == "" and not event.students.exists()
    assert summarise_audit(now=NOW) == [(date(2021, 9, 1), 1)]
    assert not AuditEvent.objects.filter(pk=event.pk).exists()


@postgresql
def test_the_permission_ends_with_the_change(cast):
    audit.forget_students([cast.student.pk])
    event = at(
        moment(2026, 3, 1), user=cast.class_teacher, school=cast.school, student=cast.student
    )
    refused("UPDATE iap_portal_auditevent SET student_id = NULL WHERE id = %s", [event.pk])


@postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_count_each_event_once(cast_tx):
    cast = cast_tx
    for day in (3, 4, 5):
        at(moment(2021, 9, day), user=cast.class_teacher, school=cast.school)

    def run():
        return summarise_month(date(2021, 9, 1), now=NOW)

    first, second = overlapping(run, run, refused=DatabaseError)
    assert sorted([first, second]) == [0, 3]
    assert counts() == {(date(2021, 9, 1), cast.school.pk, A.VIEW_PUPIL): 3}
