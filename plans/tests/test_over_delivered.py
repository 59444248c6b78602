"""Consultations delivered beyond the planned hours are highlighted where hours are shown."""

from django.urls import reverse
from django.utils import timezone

from plans.models import Consultation, PlanStatus
from plans.tests.factories import ready_plan


def test_over_delivered_hours_are_highlighted(cast, login):
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    measure = plan.measures.get()  # 6 hours planned
    pages = [
        (cast.class_teacher, reverse("plan_detail", args=[plan.pk])),
        (cast.specialist, reverse("consultation_list")),
    ]

    def give(minutes):
        Consultation.objects.create(
            measure=measure,
            date=timezone.localdate(),
            minutes=minutes,
            topic="Saruna",
            provider=cast.specialist,
        )

    for minutes in (180, 180):  # up to exactly the planned 6 hours: not highlighted
        give(minutes)
        for user, url in pages:
            assert "data-over-delivered" not in login(user).get(url).content.decode()
    give(45)
    for user, url in pages:
        content = login(user).get(url).content.decode()
        assert "data-over-delivered" in content
        assert "6,8" in content or "6.8" in content  # 6 hours 45 minutes
