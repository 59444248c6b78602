"""The coordinator's audit page: filters, what each row names, paging, the export, and the
page's own entry in the log."""

import csv
import io
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from iap_portal import audit
from iap_portal.models import AuditEvent
from iap_portal.tests.test_permissions import cast_claim
from students.tests.factories import StudentFactory

VIEW_LIST = AuditEvent.Action.VIEW_LIST


def at(moment, **fields):
    """An event recorded at ``moment`` (``at`` is set on insert)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return audit.record(None, fields.pop("action", AuditEvent.Action.VIEW_PUPIL), **fields)


def day(y, m, d, hour=12):
    return timezone.make_aware(datetime(y, m, d, hour))


def shown(response):
    return [e.pk for e in response.context["page"].object_list]


def test_it_filters_by_person_pupil_action_and_dates(cast, login):
    alice, bob = cast.class_teacher, cast.other_teacher
    elza, karlis = cast.student, cast.other_student
    school = cast.school
    a = at(day(2026, 3, 2), user=alice, school=school, student=elza)
    b = at(day(2026, 3, 9), user=bob, school=school, student=karlis)
    c = at(day(2026, 4, 1), user=bob, school=school, action=VIEW_LIST, students=[elza.pk])
    d = at(day(2026, 4, 30, 23), user=alice, school=school, action=AuditEvent.Action.PDF)
    client = login(cast.coordinator)
    page = reverse("audit_log")

    def filtered(**params):
        response = client.get(page, params)
        assert response.status_code == 200
        return set(shown(response)) & {a.pk, b.pk, c.pk, d.pk}

    assert filtered(user=bob.pk) == {b.pk, c.pk}
    # A pupil by name finds their own pages and the lists that showed them.
    assert filtered(pupil="bērz") == {a.pk, c.pk}
    assert filtered(pupil="Elza Bērziņa") == {a.pk, c.pk}
    assert filtered(action=VIEW_LIST) == {c.pk}
    # Dates as people here write them, both ends included (the whole last day).
    assert filtered(date_from="1.04.2026", date_to="30.04.2026") == {c.pk, d.pk}
    assert filtered(date_from="2026-03-05", date_to="2026-04-01") == {b.pk, c.pk}
    assert filtered(user=bob.pk, pupil="Bērziņa", date_from="1.4.2026") == {c.pk}


def test_who_looked_at_a_pupil_finds_the_lists_that_showed_them(cast, login):
    """?student= (from the pupil's page) found only one-pupil events: a list kept the ids in a
    JSON list no SQLite query could search."""
    viewed = at(day(2026, 3, 2), user=cast.class_teacher, school=cast.school, student=cast.student)
    listed = at(
        day(2026, 3, 3),
        user=cast.social_pedagogue,
        school=cast.school,
        action=VIEW_LIST,
        students=[cast.other_student.pk, cast.student.pk],
        detail="pupils: 2",
    )
    other = at(
        day(2026, 3, 4),
        user=cast.social_pedagogue,
        school=cast.school,
        action=VIEW_LIST,
        students=[cast.other_student.pk],
    )
    response = login(cast.coordinator).get(reverse("audit_log"), {"student": cast.student.pk})
    assert set(shown(response)) >= {viewed.pk, listed.pk}
    assert other.pk not in shown(response)
    assert "Kas skatīja šo izglītojamo" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "31.02.2026"}, "date_from"),
        ({"date_from": "vakar"}, "date_from"),
        ({"date_to": "1.1.0001"}, "date_to"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "2.4.2026", "date_to": "1.4.2026"}, "date_to"),
        ({"user": "99999999999999999999"}, "user"),
        ({"user": "x"}, "user"),
        ({"action": "forged"}, "action"),
    ],
)
def test_bad_filters_are_form_errors_never_a_500(cast, login, params, field):
    at(day(2026, 4, 1), user=cast.class_teacher, school=cast.school, student=cast.student)
    client = login(cast.coordinator)
    for extra in ({}, {"format": "csv"}):
        response = client.get(reverse("audit_log"), {**params, **extra})
        assert response.status_code == 200
        assert "text/html" in response["Content-Type"]  # not an export of everything
        assert field in response.context["form"].errors
        assert list(response.context["page"].object_list) == []


def test_dates_are_read_in_the_users_language(cast, login):
    event = at(day(2026, 12, 1), user=cast.class_teacher, school=cast.school)
    before = at(day(2026, 11, 30), user=cast.class_teacher, school=cast.school)
    client = login(cast.coordinator)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("audit_log"), {"date_from": "12/01/2026"})
    assert not response.context["form"].errors
    assert event.pk in shown(response) and before.pk not in shown(response)


def test_the_person_filter_offers_the_schools_people_only(cast, login):
    response = login(cast.coordinator).get(reverse("audit_log"))
    offered = set(response.context["form"].fields["user"].queryset)
    assert {cast.class_teacher, cast.specialist, cast.coordinator} <= offered
    assert cast.other_coordinator not in offered and cast.agency not in offered
    # Nor can another school's person be chosen by id.
    response = login(cast.coordinator).get(
        reverse("audit_log"), {"user": cast.other_coordinator.pk}
    )
    assert "user" in response.context["form"].errors


def test_each_row_names_the_pupil_and_the_object_with_a_link(cast, login):
    claim = cast_claim(cast)
    plan = claim.plan
    school = cast.school
    at(
        day(2026, 3, 2),
        user=cast.class_teacher,
        school=school,
        student=cast.student,
        obj=plan,
        action=AuditEvent.Action.VIEW_PLAN,
    )
    at(
        day(2026, 3, 3),
        user=cast.class_teacher,
        school=school,
        student=cast.student,
        obj=claim,
        action=AuditEvent.Action.VIEW_CLAIM,
    )
    at(
        day(2026, 3, 4),
        user=cast.class_teacher,
        school=school,
        action=VIEW_LIST,
        students=[cast.student.pk, cast.other_student.pk],
    )
    # A pupil of another school in this school's log (moved since): named, not linked.
    moved = StudentFactory(school=cast.other_school, first_name="Anna", last_name="Kalna")
    at(day(2026, 3, 5), user=cast.class_teacher, school=school, student=moved)
    html = login(cast.coordinator).get(reverse("audit_log")).content.decode()
    assert f'href="{reverse("plan_detail", args=[plan.pk])}">plāns {plan.code}' in html
    assert f'href="{reverse("claim_detail", args=[claim.pk])}">pieteikums {claim.code}' in html
    pupil_link = f'<a href="{reverse("student_detail", args=[cast.student.pk])}">Elza Bērziņa</a>'
    assert pupil_link in html
    assert "Kārlis Ozols" in html  # in the list's pupils
    assert "Anna Kalna" in html
    assert reverse("student_detail", args=[moved.pk]) not in html


def test_it_shows_fifty_events_a_page(cast, login):
    for n in range(51):
        at(day(2026, 3, 1) + timedelta(minutes=n), user=cast.class_teacher, school=cast.school)
    client = login(cast.coordinator)
    first = client.get(reverse("audit_log"), {"action": "view_pupil"})
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("audit_log"), {"action": "view_pupil", "page": 2})
    assert len(second.context["page"].object_list) == 1


def test_the_page_records_the_pupils_it_showed(cast, login):
    at(day(2026, 3, 2), user=cast.class_teacher, school=cast.school, student=cast.student)
    at(
        day(2026, 3, 3),
        user=cast.class_teacher,
        school=cast.school,
        action=VIEW_LIST,
        students=[cast.other_student.pk],
    )
    login(cast.coordinator).get(reverse("audit_log"))
    own = AuditEvent.objects.filter(user=cast.coordinator, action=VIEW_LIST).get()
    assert own.detail == "audit log: 2" and own.school_id == cast.school.pk
    assert set(own.students.all()) == {cast.student, cast.other_student}


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_the_export_is_what_the_filters_show_and_is_itself_logged(cast, login):
    school = cast.school
    at(day(2026, 3, 2), user=cast.class_teacher, school=school, student=cast.student)
    at(day(2026, 3, 3), user=cast.other_teacher, school=school, student=cast.other_student)
    at(
        day(2026, 3, 4),
        user=cast.class_teacher,
        school=school,
        action=VIEW_LIST,
        students=[cast.student.pk, cast.other_student.pk],
        detail="pupils: 2",
    )
    at(day(2026, 3, 5), school=cast.other_school, student=cast.outsider_student)
    client = login(cast.coordinator)
    params = {"user": cast.class_teacher.pk, "date_to": "31.03.2026"}
    response = client.get(reverse("audit_log"), {**params, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:4] == ["Kad", "Lietotājs", "Darbība", "Izglītojamais"]
    assert [r[3] for r in rows[1:]] == ["Elza Bērziņa; Kārlis Ozols", "Elza Bērziņa"]
    assert rows[2][0] == "2.03.2026 12:00:00"
    page = client.get(reverse("audit_log"), params)
    assert len(rows) - 1 == page.context["page"].paginator.count
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, user=cast.coordinator)
    assert export.school_id == school.pk and export.detail.startswith("audit.csv ")
    assert "Marta" not in response.content.decode()


def test_a_large_export_goes_to_the_task_queue(cast, login, settings):
    settings.IAP_INLINE_EXPORT_ROWS = 2
    for n in range(3):
        at(day(2026, 3, 2 + n), user=cast.class_teacher, school=cast.school)
    response = login(cast.coordinator).get(reverse("audit_log"), {"format": "csv"})
    assert response.status_code == 302 and "/exports/" in response["Location"]


def mixed_events(cast, copies):
    """Events of every kind the page names: a plan, a claim, a pupil, a list, a status."""
    claim = cast_claim(cast)
    school = cast.school
    for n in range(copies):
        pupil = StudentFactory(school=school)
        moment = day(2026, 3, 1) + timedelta(hours=n)
        at(
            moment,
            user=cast.class_teacher,
            school=school,
            student=pupil,
            obj=claim.plan,
            action=AuditEvent.Action.VIEW_PLAN,
        )
        at(
            moment,
            user=cast.class_teacher,
            school=school,
            student=pupil,
            obj=claim,
            action=AuditEvent.Action.VIEW_CLAIM,
        )
        at(moment, user=cast.class_teacher, school=school, student=pupil, obj=pupil)
        at(
            moment,
            user=cast.class_teacher,
            school=school,
            action=VIEW_LIST,
            students=[pupil.pk, cast.student.pk],
        )
        at(
            moment,
            user=cast.class_teacher,
            school=school,
            obj=claim,
            action=AuditEvent.Action.STATUS,
            detail=f"{claim.code}: a → b",
        )


@pytest.mark.parametrize("copies", [1, 4])
def test_the_page_query_count_is_fixed(cast, login, django_assert_num_queries, copies):
    mixed_events(cast, copies)
    client = login(cast.coordinator)
    client.get(reverse("audit_log"))  # the session is written once a minute at most
    # session, user, memberships; the people of the person filter; count, the page of events
    # (with users and pupils), the lists' pupils; the pupils the user may open; the plans, the
    # claims and the pupils named as objects; the summarised months; the page's own row
    # naming its pupils (one INSERT)
    with django_assert_num_queries(13):
        response = client.get(reverse("audit_log"))
    assert response.status_code == 200


@pytest.mark.parametrize("copies", [1, 4])
def test_the_export_query_count_is_fixed(cast, login, django_assert_num_queries, copies):
    mixed_events(cast, copies)
    client = login(cast.coordinator)
    client.get(reverse("audit_log"))
    # session, user, memberships; the export's row; count (inline or queued); the events
    # (with users and pupils), the lists' pupils; the pupils the user may open; the plans, the
    # claims and the pupils named as objects
    with django_assert_num_queries(11):
        response = client.get(reverse("audit_log"), {"format": "csv"})
    assert response.status_code == 200


def test_an_object_the_viewer_may_not_open_is_named_without_a_link(cast, login):
    from reports.models import ExportJob

    mine = ExportJob.objects.create(requested_by=cast.coordinator, kind="pupils", format="csv")
    theirs = ExportJob.objects.create(requested_by=cast.class_teacher, kind="pupils", format="csv")
    for job in (mine, theirs):
        at(
            day(2026, 3, 2),
            user=job.requested_by,
            school=cast.school,
            obj=job,
            action=AuditEvent.Action.FILE,
        )
    html = login(cast.coordinator).get(reverse("audit_log")).content.decode()
    assert f'href="{reverse("export_detail", args=[mine.public_id])}"' in html
    assert str(theirs.public_id) not in html


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from(["user", "pupil", "action", "date_from", "date_to", "student", "page"]),
        st.one_of(
            st.text(max_size=40),
            st.integers().map(str),
            st.dates(min_value=date(1, 1, 1)).map(lambda d: d.strftime("%d.%m.%Y")),
        ),
    ),
    fmt=st.sampled_from([None, "csv", "xlsx", "pdf"]),
)
def test_whatever_the_filters_say_the_page_answers(cast, client, values, fmt):
    client.force_login(cast.coordinator)
    params = {k: v.replace("\x00", "") for k, v in values.items()}
    if fmt:
        params["format"] = fmt
    response = client.get(reverse("audit_log"), params)
    assert response.status_code in (200, 302)
