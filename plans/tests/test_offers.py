"""The plan and pupil pages offer only the actions that will succeed: "Delete" on a plan
nothing was delivered or paid on, "Create a plan" for a semester and kind still free."""

from django.urls import reverse
from django.utils import timezone

from compensations.models import ClaimStatus
from compensations.tests.factories import at_status, submitted_claim, transport_measure
from plans.models import PlanStatus, SupportPlan
from plans.tests.factories import make_plan, ready_plan
from students.models import Semester


def test_delete_is_not_offered_once_compensation_was_approved(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan)
    client = login(cast.class_teacher)
    delete_url = reverse("plan_delete", args=[plan.pk])
    assert delete_url in client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    assert delete_url in client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    at_status(claim, ClaimStatus.APPROVED)
    assert delete_url not in client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    # The service refuses it for the same reason.
    client.cookies["django_language"] = "en"
    response = client.post(delete_url, follow=True)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS
    assert "it cannot be deleted" in response.content.decode()


def _offers(client, cast):
    response = client.get(reverse("student_detail", args=[cast.student.pk]))
    return response.context["plan_offers"]


def _no_later_semester():
    current = Semester.objects.current()
    Semester.objects.filter(start_date__gt=current.start_date).delete()
    return current


def test_create_a_plan_is_offered_only_for_a_free_semester_and_kind(cast, login):
    client = login(cast.class_teacher)
    client.cookies["django_language"] = "en"
    _no_later_semester()
    create = reverse("plan_create", args=[cast.student.pk])
    assert [(label, url) for label, url, _ in _offers(client, cast)] == [("Create a plan", create)]
    make_plan(student=cast.student, preparer=cast.class_teacher)  # this semester's plan
    offers = _offers(client, cast)
    assert [url for _, url, _ in offers] == [f"{create}?kind=holiday"]
    content = client.get(reverse("student_detail", args=[cast.student.pk])).content.decode()
    assert f'href="{create}"' not in content
    make_plan(student=cast.student, preparer=cast.class_teacher, kind="holiday")
    assert _offers(client, cast) == []
    # A deleted plan frees its place again.
    SupportPlan.objects.filter(kind="holiday").update(status=PlanStatus.INACTIVE)
    assert [url for _, url, _ in _offers(client, cast)] == [f"{create}?kind=holiday"]


def test_the_form_refuses_a_taken_semester_and_kind_with_a_message(cast, login):
    client = login(cast.class_teacher)
    client.cookies["django_language"] = "en"
    semester = _no_later_semester()
    make_plan(student=cast.student, preparer=cast.class_teacher)
    create = reverse("plan_create", args=[cast.student.pk])
    response = client.get(create)
    assert response.context["form"].fields["kind"].choices == [
        ("holiday", "holiday (extended school year)")
    ]
    response = client.post(create, {"semester": semester.pk, "kind": "regular"})
    assert response.status_code == 200 and response.context["form"].errors
    assert SupportPlan.objects.filter(student=cast.student).count() == 1
    make_plan(student=cast.student, preparer=cast.class_teacher, kind="holiday")
    content = client.get(create).content.decode()
    assert "already has a plan of every kind" in content
