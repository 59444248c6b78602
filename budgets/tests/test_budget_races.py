"""Two social pedagogues approve, at the same moment, claims on two different pupils' plans of
one school: each claim fits the allocation alone, both together do not. The measures' locks
do not meet (two measures); the allocation's lock makes the second approval wait for the
first and then count it, so only one is approved. PostgreSQL only (``conftest.overlapping``)."""

from decimal import Decimal

import pytest
from django.db import connection

from budgets.tests.helpers import allocate, approved_plan
from compensations import services
from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import submitted_claim
from conftest import overlapping
from plans.models import CompensationCategory
from students.models import Role
from students.tests.factories import MembershipFactory, StudentFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def cast(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    return cast_tx


def copy(claim):
    return CompensationClaim.objects.select_related("measure", "plan__student", "school").get(
        pk=claim.pk
    )


def test_two_claim_approvals_at_once_never_pass_the_allocation(cast):
    semester = cast.year.semesters.get(number=1)
    allocate(cast.school, cast.year, "100.00", by=cast.agency)
    classmate = StudentFactory(school=cast.school)
    enrol(classmate, cast.class_group)
    plans = [
        approved_plan(
            cast,
            semester=semester,
            compensations=[(CompensationCategory.TRANSPORT_TICKETS, "100.00")],
            student=student,
        )
        for student in (cast.student, classmate)
    ]
    first, second = (
        submitted_claim(plan=plan, by=cast.class_teacher, amount="60.00") for plan in plans
    )
    colleague = UserFactory(username="second_social_pedagogue")
    MembershipFactory(user=colleague, school=cast.school, role=Role.SOCIAL_PEDAGOGUE)
    one, other = copy(first), copy(second)
    results = overlapping(
        lambda: services.approve_claim(claim=one, by=cast.social_pedagogue),
        lambda: services.approve_claim(claim=other, by=colleague),
        refused=services.ClaimError,
    )
    granted = CompensationClaim.objects.filter(status__in=ClaimStatus.GRANTED)
    assert list(granted.values_list("pk", flat=True)) == [first.pk]
    assert isinstance(results[1], services.ClaimError)
    assert "100,00 €" in results[1].messages[0] and "20,00 €" in results[1].messages[0]
    assert sum(granted.values_list("total", flat=True)) <= Decimal("100.00")
