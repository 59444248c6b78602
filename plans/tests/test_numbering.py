"""Plan codes under concurrency: the start of a semester, when a school's class teachers all
create plans at once. Each plan's number is the school's and semester's next one: unique, and
without a gap (bench/load.py's write journey checks the same through the whole stack)."""

import threading

import pytest
from django.db import connection, connections

from plans import services
from plans.models import SupportPlan
from students.models import Semester
from students.tests.factories import StudentFactory, enrol

WRITERS = 12


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_plans_created_at_the_same_moment_are_numbered_one_after_another(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    cast = cast_tx
    semester = Semester.objects.current()
    pupils = [StudentFactory(school=cast.school) for _ in range(WRITERS)]
    for pupil in pupils:
        enrol(pupil, cast.class_group)
    barrier = threading.Barrier(WRITERS)
    codes, refusals = [], []

    def create(pupil):
        try:
            barrier.wait(timeout=10)
            plan = services.create_plan(
                student=pupil, semester=semester, kind="regular", by=cast.coordinator
            )
            codes.append(plan.code)
        except services.PlanActionError as error:
            refusals.append(error.messages)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=create, args=(pupil,)) for pupil in pupils]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert refusals == []
    assert len(codes) == len(set(codes)) == WRITERS
    numbers = sorted(
        SupportPlan.objects.filter(school=cast.school, semester=semester).values_list(
            "sequence", flat=True
        )
    )
    assert numbers == list(range(1, WRITERS + 1))
    assert sorted(codes) == sorted(
        services.plan_code(cast.school, semester, number) for number in numbers
    )
