from django.urls import reverse
from django.utils import timezone

from conftest import CAST_ROLES
from plans.models import PlanStatus
from plans.tests.factories import ready_plan
from students.access import visible_students, who_can_see


def test_who_can_see_agrees_with_the_access_policy(cast):
    ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    listed = {person.username for person, _role, _why in who_can_see(cast.student)}
    for role in CAST_ROLES:
        user = cast.users[role]
        sees = visible_students(user).filter(pk=cast.student.pk).exists()
        assert (role in listed) == sees, role
    assert listed == {"coordinator", "social_pedagogue", "class_teacher", "specialist"}


def test_the_pupil_page_shows_the_panel_to_school_staff_only(cast, login):
    url = reverse("student_detail", args=[cast.student.pk])
    assert (
        "Kas var redzēt šo izglītojamo un kāpēc"
        in login(cast.coordinator).get(url).content.decode()
    )
    assert login(cast.class_teacher).get(url).context["access_list"] is None


def test_a_specialist_loses_access_after_their_measure_ends(cast, settings):
    from datetime import timedelta

    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()
    sees = lambda: visible_students(cast.specialist).filter(pk=cast.student.pk).exists()  # noqa: E731
    assert sees()
    measure.end_date = timezone.localdate() - timedelta(days=settings.IAP_SPECIALIST_GRACE_DAYS - 1)
    measure.start_date = min(measure.start_date, measure.end_date)
    measure.save()
    assert sees()  # still within the grace period, to log the last consultations
    measure.end_date = timezone.localdate() - timedelta(days=settings.IAP_SPECIALIST_GRACE_DAYS + 1)
    measure.start_date = min(measure.start_date, measure.end_date)
    measure.save()
    assert not sees()
    names = {p.username for p, _r, _w in who_can_see(cast.student)}
    assert "specialist" not in names
