from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserSession as Session
from students.models import (
    ClassGroup,
    Membership,
    Role,
    SpecialistType,
    StaffInvitation,
    Student,
)
from students.tests.factories import ClassGroupFactory, StudentFactory, UserFactory, enrol

User = get_user_model()


def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- Home -----------------------------------------------------------------------------------


def test_class_teacher_sees_the_pupils_of_their_class_only(cast, login):
    response = login(cast.class_teacher).get(reverse("home"))
    content = response.content.decode()
    assert "Mani izglītojamie" in content
    assert "Bērziņa Elza" in content
    assert "Ozols" not in content  # bob's pupil
    assert "Liepa" not in content  # another school's pupil


def test_a_teacher_whose_class_moved_on_no_longer_sees_it(cast, login):
    last_years_class = ClassGroupFactory(school=cast.school, school_year=cast.last_year, grade=6)
    last_years_class.class_teachers.add(cast.other_teacher)
    cast.other_class.class_teachers.remove(cast.other_teacher)
    pupil = StudentFactory(school=cast.school, last_name="Pagājušais")
    enrol(pupil, last_years_class)
    client = login(cast.other_teacher)
    assert "Pagājušais" not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("student_detail", args=[pupil.pk])).status_code == 404


def test_home_shows_aggregates_only_to_the_agency(cast, login):
    content = login(cast.agency).get(reverse("home")).content.decode()
    assert cast.school.name in content and cast.other_school.name in content
    assert "Bērziņa" not in content and "Elza" not in content


def test_municipality_sees_only_its_own_schools(cast, login):
    content = login(cast.municipality).get(reverse("home")).content.decode()
    assert cast.school.name in content
    assert cast.other_school.name not in content


def _add_pupils(cast, count):
    for i in range(count):
        enrol(StudentFactory(school=cast.school, last_name=f"Skolēns{i:03d}"), cast.class_group)


@pytest.mark.parametrize("extra", [0, 30])
def test_home_query_count_does_not_grow_with_pupils(cast, login, django_assert_num_queries, extra):
    _add_pupils(cast, extra)
    client = login(cast.class_teacher)
    # session, user, memberships, current school year, current semester, classes, their
    # enrollments with pupils, the pupils' plans of the semester, flagged pupils without a
    # plan, flagged pupils' plans without a consultation for 30 days, the guide's plans being
    # prepared, its consultation measures to log, its claims to file and its plans due for
    # evaluation, decisions on my claims, the audit row naming the pupils shown
    with django_assert_num_queries(16):
        response = client.get(reverse("home"))
    assert response.status_code == 200


# --- Pupil list -----------------------------------------------------------------------------


def test_pupil_list_searches_and_filters(cast, login):
    client = login(cast.coordinator)
    names = lambda r: [s.last_name for s in r.context["page"].object_list]  # noqa: E731
    assert names(client.get(reverse("student_list"), {"q": "bērz"})) == ["Bērziņa"]
    assert names(client.get(reverse("student_list"), {"q": "elza bērz"})) == ["Bērziņa"]
    assert names(client.get(reverse("student_list"), {"class_group": cast.other_class.pk})) == [
        "Ozols"
    ]
    assert names(client.get(reverse("student_list"), {"grade": "8"})) == ["Ozols"]
    assert names(client.get(reverse("student_list"))) == ["Bērziņa", "Ozols"]
    # A class of another school is not a valid choice: nothing is shown, nothing leaks.
    other = ClassGroup.objects.get(school=cast.other_school)
    response = client.get(reverse("student_list"), {"class_group": other.pk})
    assert response.status_code == 200 and names(response) == []
    assert client.get(reverse("student_list"), {"grade": "x"}).status_code == 200


def test_pupil_list_shows_masked_codes(cast, login):
    cast.student.personas_kods = "32867300679"
    cast.student.save()
    content = login(cast.class_teacher).get(reverse("student_list")).content.decode()
    assert "328673-*****" in content
    assert "32867300679" not in content


def test_pupil_list_is_paginated(cast, login, settings):
    _add_pupils(cast, 30)
    client = login(cast.coordinator)
    first = client.get(reverse("student_list"))
    assert len(first.context["page"].object_list) == settings.IAP_PAGE_SIZE
    second = client.get(reverse("student_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 32 - settings.IAP_PAGE_SIZE
    assert client.get(reverse("student_list"), {"page": "999"}).status_code == 200


@pytest.mark.parametrize("extra", [0, 40])
def test_pupil_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    _add_pupils(cast, extra)
    client = login(cast.coordinator)
    # session, user, memberships, current school year, count, classes for the filter,
    # page of pupils with schools, their enrollments this year with classes, the audit row
    # naming its pupils (one INSERT)
    with django_assert_num_queries(9):
        client.get(reverse("student_list"))


@pytest.mark.parametrize("extra", [0, 40])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_pupil_export_query_count_is_fixed(cast, login, django_assert_num_queries, extra, fmt):
    _add_pupils(cast, extra)
    client = login(cast.coordinator)
    # session, user, memberships, current school year, audit record, count (inline or
    # queued?), pupils with this year's class, the classes' names
    with django_assert_num_queries(8):
        response = client.get(reverse("student_list"), {"format": fmt})
    assert response.status_code == 200


def test_the_export_shows_each_pupils_class_as_the_list_does(cast, login):
    """The class is this school year's enrollment, wherever that class is: a pupil moved to
    another school in the admin keeps showing the class they are enrolled in."""
    import csv
    import io

    from students.tests.factories import ClassGroupFactory, enrol

    last_year_class = ClassGroupFactory(
        school=cast.school, school_year=cast.last_year, grade=6, letter="a"
    )
    enrol(cast.other_student, last_year_class)  # last year's class is not shown
    cast.student.school = cast.other_school
    cast.student.save()
    rows = {}
    for user in (cast.coordinator, cast.other_coordinator):
        response = login(user).get(reverse("student_list"), {"format": "csv"})
        text = response.content.decode("utf-8-sig")
        for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]:
            rows[row[0]] = row[2]
    assert (rows["Bērziņa"], rows["Ozols"], rows["Liepa"][:2]) == ("7.a", "8.b", "7.")
    # A filtered export finds it too.
    response = login(cast.other_coordinator).get(
        reverse("student_list"), {"format": "csv", "q": "Elza"}
    )
    assert ";7.a;" in response.content.decode("utf-8-sig")


def test_empty_pupil_list_says_what_to_do(cast, login):
    Student.objects.all().delete()
    content = login(cast.coordinator).get(reverse("student_list")).content.decode()
    assert "importējiet" in content.lower() or "import" in content.lower()


# --- Pupil create and edit ------------------------------------------------------------------


def student_data(cast, **overrides):
    data = {
        "first_name": "Laura",
        "last_name": "Kalniņa",
        "personas_kods": "",
        "birth_date": "",
        "gender": "F",
        "status": "active",
        "left_on": "",
        "class_group": cast.class_group.pk,
        "guardians-TOTAL_FORMS": "1",
        "guardians-INITIAL_FORMS": "0",
        "guardians-MIN_NUM_FORMS": "0",
        "guardians-MAX_NUM_FORMS": "4",
        "guardians-0-name": "Inga Kalniņa",
        "guardians-0-phone": "+371 20000000",
        "guardians-0-email": "",
    }
    data.update(overrides)
    return data


def test_coordinator_adds_a_pupil_with_a_guardian_and_a_class(cast, login):
    response = login(cast.coordinator).post(
        reverse("student_create"), student_data(cast, personas_kods="328673-00679")
    )
    laura = Student.objects.get(first_name="Laura")
    assert response.status_code == 302
    assert response["Location"] == reverse("student_detail", args=[laura.pk])
    assert laura.school == cast.school
    assert laura.personas_kods == "32867300679"
    assert laura.guardians.get().name == "Inga Kalniņa"
    assert laura.enrollments.get().class_group == cast.class_group
    assert laura.history.count() == 1


def test_a_bad_code_is_explained_in_latvian_and_nothing_is_saved(cast, login):
    before = Student.objects.count()
    response = login(cast.coordinator).post(
        reverse("student_create"), student_data(cast, personas_kods="328673-00677")
    )
    assert response.status_code == 200
    assert "kontrolcipars" in response.content.decode().lower()
    assert Student.objects.count() == before


def test_a_bad_code_is_explained_in_english_too(cast, login):
    client = english(login(cast.coordinator))
    response = client.post(
        reverse("student_create"), student_data(cast, personas_kods="328673-00677")
    )
    assert "check digit" in response.content.decode()


def test_birth_date_must_match_an_old_format_code(cast, login):
    client = english(login(cast.coordinator))
    response = client.post(
        reverse("student_create"),
        student_data(cast, personas_kods="161175-19997", birth_date="2012-01-01"),
    )
    assert "does not match" in response.content.decode()
    client.post(reverse("student_create"), student_data(cast, personas_kods="161175-19997"))
    assert Student.objects.get(first_name="Laura").birth_date.isoformat() == "1975-11-16"


def test_a_class_of_another_school_cannot_be_chosen(cast, login):
    other = ClassGroup.objects.get(school=cast.other_school)
    response = login(cast.coordinator).post(
        reverse("student_create"), student_data(cast, class_group=other.pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["class_group"]


def test_coordinator_edits_a_pupil_and_the_change_is_in_history(cast, login):
    client = login(cast.coordinator)
    url = reverse("student_update", args=[cast.student.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        student_data(
            cast,
            first_name="Elza",
            last_name="Ozola",
            class_group=cast.other_class.pk,
            status="left",
            left_on="2026-01-15",
            **{"guardians-0-name": "", "guardians-0-phone": ""},
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    cast.student.refresh_from_db()
    assert cast.student.last_name == "Ozola"
    assert cast.student.status == Student.Status.LEFT
    assert cast.student.enrollments.get(school_year=cast.year).class_group == cast.other_class
    assert cast.student.history.first().history_user == cast.coordinator


def test_leaving_needs_a_date(cast, login):
    response = english(login(cast.coordinator)).post(
        reverse("student_update", args=[cast.student.pk]),
        student_data(cast, first_name="Elza", last_name="Bērziņa", status="left"),
    )
    assert "Give the date the pupil left" in response.content.decode()


# --- Classes --------------------------------------------------------------------------------


def test_coordinator_adds_a_class_and_its_teacher_gets_the_role(cast, login):
    teacher = cast.specialist  # staff of the school, not yet a class teacher
    response = login(cast.coordinator).post(
        reverse("class_create"),
        {"school_year": cast.year.pk, "grade": 9, "letter": "C.", "class_teachers": [teacher.pk]},
    )
    assert response.status_code == 302
    group = ClassGroup.objects.get(school=cast.school, grade=9)
    assert group.letter == "c"
    assert Membership.objects.filter(
        user=teacher, school=cast.school, role=Role.CLASS_TEACHER
    ).exists()


def test_a_class_cannot_be_added_twice_or_with_a_bad_grade(cast, login):
    client = english(login(cast.coordinator))
    response = client.post(
        reverse("class_create"), {"school_year": cast.year.pk, "grade": 7, "letter": "a"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        reverse("class_create"), {"school_year": cast.year.pk, "grade": 13, "letter": "a"}
    )
    assert "1 to 12" in response.content.decode()


def test_staff_of_another_school_cannot_be_made_class_teachers(cast, login):
    response = login(cast.coordinator).post(
        reverse("class_update", args=[cast.class_group.pk]),
        {
            "school_year": cast.year.pk,
            "grade": 7,
            "letter": "a",
            "class_teachers": [cast.other_coordinator.pk],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["class_teachers"]


@pytest.mark.parametrize("extra", [0, 10])
def test_class_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for grade in range(1, extra + 1):
        ClassGroupFactory(school=cast.school, school_year=cast.year, grade=grade, letter="z")
    client = login(cast.coordinator)
    # session, user, memberships, school years, current year, classes with counts,
    # their teachers
    with django_assert_num_queries(7):
        client.get(reverse("class_list"))


# --- Staff ----------------------------------------------------------------------------------


def test_coordinator_invites_a_new_person_who_sets_a_password_and_accepts(
    cast, login, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(cast.coordinator).post(
            reverse("staff_create"),
            {
                "email": "Logopede@Skola.LV",
                "first_name": "Rūta",
                "last_name": "Lapiņa",
                "role": Role.SPECIALIST,
                "specialist_type": SpecialistType.objects.get(name="psihologs").pk,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="logopede@skola.lv")
    assert not user.has_usable_password()
    assert not user.memberships.exists()  # the role begins once accepted
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "/accounts/reset/" in body
    invitation = StaffInvitation.objects.get(email="logopede@skola.lv")
    assert f"/invitations/{invitation.token}/" in body
    # Signed in, the person accepts.
    client.force_login(user)
    assert invitation.token in client.get(reverse("home")).content.decode()
    assert client.get(reverse("invitation", args=[invitation.token])).status_code == 200
    client.post(reverse("invitation", args=[invitation.token]), {"answer": "accept"})
    assert user.memberships.get().role == Role.SPECIALIST
    assert user.memberships.get().specialist_type.name == "psihologs"
    # Once answered the link is closed.
    assert client.get(reverse("invitation", args=[invitation.token])).status_code == 404


def invite(client, email, role=Role.SOCIAL_PEDAGOGUE):
    data = {"email": email, "first_name": "A", "last_name": "B", "role": role}
    return client.post(reverse("staff_create"), data, follow=True)


def test_an_existing_account_is_never_attached_by_someone_else(
    cast, login, client, django_capture_on_commit_callbacks
):
    """POST /staff/new/ with the e-mail of another school's coordinator attached their
    account to the attacker's school, and the reply named its owner."""
    victim = cast.other_coordinator
    attacker = login(cast.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(attacker, victim.email)
    assert not victim.memberships.filter(school=cast.school).exists()
    assert victim.get_full_name() not in response.content.decode()
    # The same answer as for an address without an account.
    with django_capture_on_commit_callbacks(execute=True):
        other = invite(attacker, "nobody-yet@example.lv")

    def reply(response, email):
        return [str(m).replace(email, "EMAIL") for m in response.context["messages"]]

    assert reply(response, victim.email) == reply(other, "nobody-yet@example.lv")
    assert len(reply(response, victim.email)) == 1
    # The staff list shows what the inviter typed, not the account's names.
    staff = attacker.get(reverse("staff_list")).content.decode()
    assert victim.email in staff and victim.get_full_name() not in staff
    # The victim decides.
    invitation = StaffInvitation.objects.get(email=victim.email)
    assert any(invitation.token in m.body for m in mail.outbox)
    client.force_login(victim)
    client.post(reverse("invitation", args=[invitation.token]), {"answer": "decline"})
    assert not victim.memberships.filter(school=cast.school).exists()


def test_an_invitation_opens_only_for_its_address(cast, login, client):
    login(cast.coordinator)
    invite(client, cast.class_teacher.email)
    invitation = StaffInvitation.objects.get()
    for user in (cast.other_teacher, cast.coordinator, cast.agency):
        client.force_login(user)
        assert client.get(reverse("invitation", args=[invitation.token])).status_code == 404
        client.post(reverse("invitation", args=[invitation.token]), {"answer": "accept"})
    assert (
        not Membership.objects.filter(role=Role.SOCIAL_PEDAGOGUE, school=cast.school)
        .exclude(user=cast.social_pedagogue)
        .exists()
    )
    # Withdrawn, it is closed for its person too.
    client.force_login(cast.coordinator)
    client.post(reverse("staff_invitation_withdraw", args=[invitation.pk]))
    client.force_login(cast.class_teacher)
    assert client.get(reverse("invitation", args=[invitation.token])).status_code == 404


def test_an_existing_person_accepts_another_role(cast, login, client):
    invite(login(cast.coordinator), cast.class_teacher.email)
    assert cast.class_teacher.memberships.count() == 1
    # The same invitation twice is refused while the first waits.
    response = invite(client, cast.class_teacher.email)
    assert response.context["form"].non_field_errors()
    invitation = StaffInvitation.objects.get()
    client.force_login(cast.class_teacher)
    client.post(reverse("invitation", args=[invitation.token]), {"answer": "accept"})
    assert cast.class_teacher.memberships.count() == 2
    # The same role twice is refused.
    client.force_login(cast.coordinator)
    response = invite(client, cast.class_teacher.email)
    assert response.context["form"].non_field_errors()


def test_two_factor_is_reset_only_for_accounts_wholly_in_the_coordinators_schools(cast, login):
    """A coordinator reset another school's coordinator's authenticators (and ended their
    sessions) once that account had any role in their school."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = login(cast.coordinator)
    # A role in school B too; IKVD; an administrator.
    for user in [cast.other_coordinator, cast.agency, UserFactory(is_superuser=True)]:
        membership = Membership.objects.create(
            user=user, school=cast.school, role=Role.SOCIAL_PEDAGOGUE
        )
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        url = reverse("two_factor_reset", args=[membership.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
        assert TOTPDevice.objects.filter(user=user).exists()
        assert f'href="{url}"' not in client.get(reverse("staff_list")).content.decode()
    # A colleague of this school alone: allowed.
    TOTPDevice.objects.create(user=cast.class_teacher, name="phone", confirmed=True)
    url = reverse("two_factor_reset", args=[cast.class_teacher.memberships.get().pk])
    assert f'href="{url}"' in client.get(reverse("staff_list")).content.decode()
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.class_teacher).exists()


def test_a_specialist_needs_a_type(cast, login):
    response = login(cast.coordinator).post(
        reverse("staff_create"),
        {"email": "x@y.lv", "first_name": "X", "last_name": "Y", "role": Role.SPECIALIST},
    )
    assert response.context["form"].errors["specialist_type"]


def test_removing_a_role_asks_first_then_removes(cast, login):
    client = login(cast.coordinator)
    membership = cast.class_teacher.memberships.get()
    url = reverse("staff_remove", args=[membership.pk])
    assert client.get(url).status_code == 200
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert cast.class_teacher not in cast.class_group.class_teachers.all()
    # Without the role the teacher no longer sees the pupil.
    client.force_login(cast.class_teacher)
    assert client.get(reverse("student_detail", args=[cast.student.pk])).status_code == 404


def test_a_coordinator_cannot_remove_their_own_coordinator_role(cast, login):
    own = cast.coordinator.memberships.get()
    login(cast.coordinator).post(reverse("staff_remove", args=[own.pk]))
    assert Membership.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("extra", [0, 15])
def test_staff_list_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    for i in range(extra):
        Membership.objects.create(
            user=User.objects.create(username=f"t{i}"), school=cast.school, role=Role.CLASS_TEACHER
        )
    client = login(cast.coordinator)
    # session, user, memberships, count, page of memberships with users, the roles of the
    # page's people (whose two-factor the coordinator may reset), pending invitations
    with django_assert_num_queries(7):
        client.get(reverse("staff_list"))


# --- Sign-in, sessions, language ------------------------------------------------------------


def test_login_page_is_latvian_by_default_and_english_on_request(client):
    assert "Pieslēgties" in client.get(reverse("login")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_logging_out_everywhere_ends_every_session_of_the_user(cast, client):
    from django.test import Client

    cast.class_teacher.set_password("a long demo password")
    cast.class_teacher.save()
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        device.post(
            reverse("login"), {"username": "class_teacher", "password": "a long demo password"}
        )
        assert device.get(reverse("home")).status_code == 200
    other = Client()
    other.force_login(cast.coordinator)
    assert laptop.get(reverse("logout_everywhere")).status_code == 200
    laptop.post(reverse("logout_everywhere"))
    assert phone.get(reverse("home")).status_code == 302
    assert laptop.get(reverse("home")).status_code == 302
    assert other.get(reverse("home")).status_code == 200  # other users stay logged in


def test_an_english_browser_still_gets_latvian_until_the_user_switches(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Pieslēgties" in response.content.decode()


def test_a_user_logs_in_and_out(cast, client):
    cast.class_teacher.set_password("a long demo password")
    cast.class_teacher.save()
    response = client.post(
        reverse("login"), {"username": "class_teacher", "password": "a long demo password"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_five_failures_lock_the_username_from_that_address_only(cast, client):
    cast.class_teacher.set_password("a long demo password")
    cast.class_teacher.save()
    for _ in range(5):
        client.post(reverse("login"), {"username": "class_teacher", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "class_teacher", "password": "a long demo password"}
    )
    assert response.status_code == 429
    # From another address the user can still log in.
    response = client.post(
        reverse("login"),
        {"username": "class_teacher", "password": "a long demo password"},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 302


def test_the_session_ends_after_30_idle_minutes(cast, login):
    client = login(cast.class_teacher)
    assert client.get(reverse("home")).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    # 30 minutes, plus the minute within which a request does not write the session again.
    assert session.expire_date - timezone.now() > timedelta(minutes=30)
    assert session.expire_date - timezone.now() <= timedelta(minutes=31)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("home")).status_code == 302


def test_a_request_writes_the_session_at_most_once_a_minute(cast, login, django_assert_num_queries):
    client = login(cast.class_teacher)
    key = client.session.session_key
    client.get(reverse("home"))
    stored = Session.objects.get(session_key=key).expire_date
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    # The session is read, not written.
    session_queries = [q["sql"] for q in queries if "iap_portal_usersession" in q["sql"]]
    assert len(session_queries) == 1
    assert session_queries[0].startswith("SELECT")
    assert Session.objects.get(session_key=key).expire_date == stored

    # Two minutes later the next request pushes the expiry forward again.
    Session.objects.filter(session_key=key).update(expire_date=stored - timedelta(minutes=2))
    assert client.get(reverse("home")).status_code == 200
    refreshed = Session.objects.get(session_key=key).expire_date
    assert refreshed - timezone.now() > timedelta(minutes=30)


def test_an_active_user_stays_logged_in_past_30_minutes(cast, login):
    client = login(cast.class_teacher)
    key = client.session.session_key
    # The last write was 29.5 minutes ago, the last request half a minute ago: not idle.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(seconds=90)
    )
    assert client.get(reverse("home")).status_code == 200
    assert Session.objects.get(session_key=key).expire_date - timezone.now() > timedelta(minutes=30)


def test_password_reset_sends_an_email(cast, client):
    client.post(reverse("password_reset"), {"email": cast.class_teacher.email})
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
