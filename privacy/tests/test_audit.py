import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import CAST_ROLES
from iap_portal.models import AuditEvent
from plans import services as plan_services
from plans.models import PlanStatus
from plans.tests.factories import ready_plan


def actions():
    return list(AuditEvent.objects.order_by("pk").values_list("action", "username"))


def test_sign_ins_and_failures_are_logged_with_the_address(cast, client):
    cast.class_teacher.set_password("a long demo password")
    cast.class_teacher.save()
    client.post(
        reverse("login"), {"username": "class_teacher", "password": "wrong"}, REMOTE_ADDR="10.1.2.3"
    )
    client.post(
        reverse("login"),
        {"username": "class_teacher", "password": "a long demo password"},
        REMOTE_ADDR="10.1.2.3",
    )
    client.post(reverse("logout"))
    assert actions() == [
        ("login_failed", "class_teacher"),
        ("login", "class_teacher"),
        ("logout", "class_teacher"),
    ]
    assert AuditEvent.objects.order_by("pk").first().ip == "10.1.2.3"


def test_viewing_exporting_and_downloading_personal_data_is_logged(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    client = login(cast.coordinator)
    client.get(reverse("student_detail", args=[cast.student.pk]))
    client.get(reverse("student_list"), {"format": "csv"})
    client.get(reverse("plan_pdf", args=[plan.public_id]))
    events = list(AuditEvent.objects.exclude(action="login").order_by("pk"))
    assert [e.action for e in events] == ["view_pupil", "export", "pdf"]
    assert events[0].object_id == str(cast.student.pk) and events[0].school == cast.school
    assert events[1].detail.startswith("pupils.csv")
    assert events[2].object_id == str(plan.pk)


def test_status_changes_are_logged_in_the_same_transaction(cast):
    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    plan_services.submit_plan(plan=plan, by=cast.class_teacher)
    event = AuditEvent.objects.get(action="status")
    assert event.user == cast.class_teacher and event.school == cast.school
    assert "draft → submitted" in event.detail


def test_the_log_is_append_only(cast):
    event = AuditEvent.objects.create(action="login", username="x")
    event.detail = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_coordinators_read_their_own_schools_log_only(cast, login):
    login(cast.coordinator).get(reverse("student_detail", args=[cast.student.pk]))
    AuditEvent.objects.create(action="view_pupil", username="someone", school=cast.other_school)
    page = login(cast.coordinator).get(reverse("audit_log"))
    schools = {e.school_id for e in page.context["page"].object_list if e.school_id}
    assert schools == {cast.school.pk}
    other = login(cast.other_coordinator).get(reverse("audit_log"))
    assert {e.school_id for e in other.context["page"].object_list if e.school_id} == {
        cast.other_school.pk
    }


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_an_event(cast):
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    event = AuditEvent.objects.create(username="x", action=AuditEvent.Action.LOGIN)
    for sql in (
        "UPDATE iap_portal_auditevent SET detail = 'forged' WHERE id = %s",
        "UPDATE iap_portal_auditevent SET user_id = NULL, detail = 'x' WHERE id = %s",
        "DELETE FROM iap_portal_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.detail == ""


@pytest.mark.django_db
def test_a_deleted_users_events_stay_unlinked_from_them(cast):
    from students.tests.factories import UserFactory

    leaver = UserFactory(username="leaver")
    event = AuditEvent.objects.create(
        user=leaver, username="leaver", action=AuditEvent.Action.LOGIN
    )
    leaver.delete()
    event.refresh_from_db()
    assert event.user_id is None and event.username == "leaver"


def test_the_audit_log_pages_keep_the_chosen_action(cast, login, settings):
    settings.IAP_AUDIT_PAGE_SIZE = 2
    for _ in range(3):
        AuditEvent.objects.create(
            user=cast.class_teacher,
            username=cast.class_teacher.username,
            action=AuditEvent.Action.VIEW_PUPIL,
            school=cast.school,
        )
    page = login(cast.coordinator).get(reverse("audit_log"), {"action": "view_pupil"})
    assert page.status_code == 200
    # The next page's link filters by the same action (it used to drop it).
    assert b'href="?action=view_pupil&amp;page=2"' in page.content


def test_a_coordinator_sees_a_persons_sign_ins_only_from_when_they_joined(cast, login):
    """/audit/ showed every sign-in (with addresses) of anybody who had a role in the
    school, from before the role existed too, and exports from their other schools."""
    from datetime import timedelta

    from students.models import Membership, Role

    person = cast.other_coordinator  # coordinates school B
    before = AuditEvent.objects.create(user=person, username=person.username, action="login")
    elsewhere = AuditEvent.objects.create(
        user=person, username=person.username, action="export", school=cast.other_school
    )
    joined = Membership.objects.create(user=person, school=cast.school, role=Role.SPECIALIST)
    # The log is append-only; the role's start is set just after the first event instead.
    Membership.objects.filter(pk=joined.pk).update(
        created_at=elsewhere.at + timedelta(microseconds=1)
    )
    after = AuditEvent.objects.create(user=person, username=person.username, action="login")
    page = login(cast.coordinator).get(reverse("audit_log"))
    shown = {e.pk for e in page.context["page"].object_list}
    assert after.pk in shown
    assert before.pk not in shown and elsewhere.pk not in shown


def test_an_export_names_the_school_it_came_from(cast, login):
    """Export events carried no school, so no school's log showed them."""
    login(cast.coordinator).get(reverse("student_list") + "?format=csv")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.school_id == cast.school.pk


# --- Who saw whom -----------------------------------------------------------------------------

# Every page that shows a pupil logs them now; a page may be exempted here only with a reason.
LISTS_NOT_YET_LOGGED = set()
# The levels above the school see aggregates and plans by code, never a child's name.
ABOVE_SCHOOL = {"municipality", "agency"}
AT_RISK = {"held": 100, "excused": 4, "unexcused": 12}  # 84 % attendance: flagged


def ids(event):
    """The pupils a list's event names, by id, in order."""
    return sorted(event.students.values_list("pk", flat=True))


def named_in(events):
    """The ids of the pupils the events (a queryset) name: one pupil's page, or a list's."""
    ids = set(events.exclude(student=None).values_list("student_id", flat=True))
    return ids | (set(events.values_list("students", flat=True)) - {None})


def the_cast_on_every_page(cast):
    """Something for every page to show: the pupil's plan and claim, and each school's pupils
    flagged by the early warning (the overview lists them, bob's home calls him to act)."""
    from early_warning.tests.helpers import give, make_period
    from iap_portal.tests.test_permissions import cast_claim

    cast_claim(cast)
    for school, pupils in [
        (cast.school, [cast.student, cast.other_student]),
        (cast.other_school, [cast.outsider_student]),
    ]:
        period = make_period(school)
        for pupil in pupils:
            give(pupil, period, by=cast.coordinator, **AT_RISK)
    return [cast.student, cast.other_student, cast.outsider_student]


@pytest.mark.parametrize("role", CAST_ROLES)
def test_every_page_that_shows_a_pupil_names_them_in_the_log(cast, client, role):
    """Each role opens every page it may, as a page and as htmx's partial; a page that shows
    one of the cast's pupils (their surname: the lists write "Bērziņa Elza", a pupil's page
    "Elza Bērziņa") must record an event naming that pupil, in the same request."""
    from iap_portal.tests.test_permissions import EXPECTED, OK, url_for

    pupils = the_cast_on_every_page(cast)
    client.force_login(cast.users[role])
    showing, unlogged = set(), []
    for url_name, table in sorted(EXPECTED.items()):
        if table["GET"].get(role) != OK or url_name in LISTS_NOT_YET_LOGGED:
            continue
        url = url_for(url_name, cast)
        for headers in ({}, {"HX-Request": "true"}):
            last = AuditEvent.objects.order_by("pk").values_list("pk", flat=True).last() or 0
            response = client.get(url, headers=headers)
            if response.status_code != 200 or response.streaming:
                continue
            if "html" not in response.get("Content-Type", ""):
                continue
            content = response.content.decode()
            named = named_in(AuditEvent.objects.filter(pk__gt=last))
            for pupil in pupils:
                if pupil.last_name in content:
                    showing.add(url_name)
                    if pupil.pk not in named:
                        unlogged.append((url_name, "htmx" if headers else "page", pupil.last_name))
    assert unlogged == [], unlogged
    # So that the walk cannot pass by finding nobody: school staff see pupils somewhere.
    assert bool(showing) == (role not in ABOVE_SCHOOL), showing


def test_files_of_one_pupil_name_them_too(cast, login):
    from iap_portal.tests.test_permissions import cast_claim

    claim = cast_claim(cast)
    client = login(cast.coordinator)
    client.get(reverse("plan_pdf", args=[claim.plan.public_id]))
    client.get(reverse("receipt_view", args=[claim.receipts.get().public_id]))
    client.get(reverse("student_data_export", args=[cast.student.public_id]))
    named = AuditEvent.objects.filter(student=cast.student).values_list("action", flat=True)
    assert {"pdf", "file", "export"} <= set(named)


def test_the_coordinator_sees_who_looked_at_a_pupil(cast, login):
    from students.tests.factories import StudentFactory

    other = StudentFactory(school=cast.school)
    login(cast.class_teacher).get(reverse("student_detail", args=[cast.student.pk]))
    AuditEvent.objects.create(action="view_pupil", school=cast.school, student=other)
    client = login(cast.coordinator)
    page = client.get(reverse("student_detail", args=[cast.student.pk]))
    assert f"?student={cast.student.pk}" in page.content.decode()
    response = client.get(reverse("audit_log"), {"student": cast.student.pk})
    events = list(response.context["page"].object_list)
    assert events and {e.student_id for e in events} == {cast.student.pk}
    assert cast.class_teacher.pk in {e.user_id for e in events}
    # Another school's coordinator finds nothing of this pupil, nor a tampered id.
    for user, wanted in [(cast.other_coordinator, cast.student.pk), (cast.coordinator, "x")]:
        response = login(user).get(reverse("audit_log"), {"student": wanted})
        if wanted == "x":
            assert response.context["student"] is None
        else:
            assert list(response.context["page"].object_list) == []


def test_a_list_names_the_pupils_it_showed_in_one_row(cast, login):
    the_cast_on_every_page(cast)
    client = login(cast.coordinator)
    for name in (
        "home",
        "student_list",
        "plan_list",
        "plan_queue",
        "claim_list",
        "claim_payments",
        "ew_overview",
    ):
        before = AuditEvent.objects.count()
        client.get(reverse(name))
        new = list(AuditEvent.objects.order_by("pk")[before:])
        lists = [e for e in new if e.action == AuditEvent.Action.VIEW_LIST]
        assert len(lists) <= 1, name
    listed = AuditEvent.objects.get(action="view_list", detail__startswith="pupils")
    assert cast.student.pk in ids(listed) and listed.school_id == cast.school.pk


def test_the_home_page_names_the_pupils_of_its_sections(cast, login):
    """The teacher's classes and calls to action, and the decisions on claims the user filed
    (the coordinator's page has no class: the decision is its only pupil)."""
    from compensations.services import reject_claim
    from compensations.tests.factories import submitted_claim
    from early_warning.tests.helpers import give, make_period
    from iap_portal.tests.test_permissions import cast_plan
    from students.tests.factories import StudentFactory, enrol

    flagged = StudentFactory(school=cast.school, first_name="Anna", last_name="Riska")
    enrol(flagged, cast.class_group)
    give(flagged, make_period(cast.school), by=cast.coordinator, **AT_RISK)
    response = login(cast.class_teacher).get(reverse("home"))
    assert [i.student for i in response.context["flagged_without_plan"]] == [flagged]
    event = AuditEvent.objects.get(action="view_list", user=cast.class_teacher)
    assert ids(event) == sorted([cast.student.pk, flagged.pk])
    assert event.school_id == cast.school.pk and event.detail == "home: 2"

    claim = submitted_claim(plan=cast_plan(cast), by=cast.coordinator)
    reject_claim(claim=claim, by=cast.social_pedagogue, reason="Nav čeka")
    response = login(cast.coordinator).get(reverse("home"))
    assert [c.pk for c in response.context["decisions"]] == [claim.pk]
    event = AuditEvent.objects.get(action="view_list", user=cast.coordinator)
    assert ids(event) == [cast.student.pk]
    # A page of counts names nobody and writes no row.
    login(cast.specialist).get(reverse("home"))
    login(cast.municipality).get(reverse("home"))
    assert not AuditEvent.objects.filter(
        action="view_list", user__in=[cast.specialist, cast.municipality]
    ).exists()


def test_the_early_warning_overview_names_the_pupils_of_the_page_shown(cast, login, settings):
    from early_warning.tests.helpers import give, make_period

    settings.IAP_PAGE_SIZE = 1
    period = make_period(cast.school)
    give(cast.student, period, by=cast.coordinator, **AT_RISK)
    give(cast.other_student, period, by=cast.coordinator, held=100, excused=6)  # watch
    client = login(cast.social_pedagogue)
    client.get(reverse("ew_overview"))
    client.get(reverse("ew_overview"), {"page": 2})
    client.get(reverse("ew_overview"), {"level": 3})  # "high" only: nobody
    events = AuditEvent.objects.filter(action="view_list").order_by("pk")
    assert [ids(e) for e in events] == [[cast.student.pk], [cast.other_student.pk]]
    assert {e.school_id for e in events} == {cast.school.pk}


def test_an_import_check_names_the_schools_pupils_it_found(cast, login):
    """The preview of an e-journal or pupil file tells which rows are the school's pupils;
    a name the school does not know is nobody's id."""
    from early_warning.tests.test_import import ABSENCES, upload
    from early_warning.tests.test_import import csv_file as ew_file
    from students.tests.test_import import csv_file
    from students.tests.test_import import upload as upload_pupils

    cast.student.personas_kods = "32867300679"
    cast.student.save()
    client = login(cast.coordinator)
    text = ABSENCES + "32867300679;;;;100;4;12\n;Nav;Tāda;7.a;100;2;0\n"
    assert upload(client, ew_file(text)).context["check"].pupil_count == 1
    rows = "Elza;Bērziņa;328673-00679;7.a;;S\nJānis;Jauns;;9.b;01.02.2011;V\n"
    check = upload_pupils(client, csv_file(rows)).context["check"]
    assert [r.action for r in check.rows] == ["update", "create"]
    events = AuditEvent.objects.filter(action="view_list").order_by("pk")
    assert [(e.detail, ids(e), e.school_id) for e in events] == [
        ("early-warning import check: 1", [cast.student.pk], cast.school.pk),
        ("pupil import check: 1", [cast.student.pk], cast.school.pk),
    ]


def test_a_form_shown_again_with_an_error_is_a_view_and_a_saved_one_is_not(cast, login):
    """A POST that draws the plan again (the comment is missing) shows the pupil's data; a
    POST that saves and redirects is logged by the service, not as a view."""
    from iap_portal.tests.test_permissions import cast_plan

    plan = cast_plan(cast)
    plan.status = "submitted"
    plan.save(update_fields=["status"])
    client = login(cast.coordinator)
    last = AuditEvent.objects.order_by("pk").values_list("pk", flat=True).last() or 0
    response = client.post(reverse("plan_return", args=[plan.pk]), {"comment": ""})
    assert response.status_code == 200
    views = AuditEvent.objects.filter(pk__gt=last, action=AuditEvent.Action.VIEW_PLAN)
    assert [(e.student_id, e.object_id) for e in views] == [(cast.student.pk, str(plan.pk))]
    last = AuditEvent.objects.order_by("pk").values_list("pk", flat=True).last()
    response = client.post(reverse("plan_return", args=[plan.pk]), {"comment": "Papildiniet"})
    assert response.status_code == 302
    new = AuditEvent.objects.filter(pk__gt=last)
    assert not new.filter(action=AuditEvent.Action.VIEW_PLAN).exists()
    assert new.filter(action=AuditEvent.Action.STATUS).exists()
