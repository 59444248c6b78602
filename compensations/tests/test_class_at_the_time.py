"""A claim shows the pupil's class in the claim's school year, not the class they are in today."""

import csv
import io

from django.urls import reverse

from compensations.models import CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from plans.models import SupportPlan
from plans.services import plan_code
from students.models import Semester
from students.tests.factories import ClassGroupFactory, enrol


def last_years_claim(cast):
    """A claim on a plan of last school year's second semester, when Elza was in 6.a (she is
    in 7.a now)."""
    sixth = ClassGroupFactory(school=cast.school, school_year=cast.last_year, grade=6, letter="a")
    enrol(cast.student, sixth)
    old = claimable_plan(cast)
    claim = submitted_claim(plan=old, by=cast.class_teacher)
    semester = Semester.objects.get(school_year=cast.last_year, number=2)
    # Moved back a year by hand: the services file claims only in the current period.
    SupportPlan.objects.filter(pk=old.pk).update(
        semester=semester, code=plan_code(cast.school, semester, 1)
    )
    CompensationClaim.objects.filter(pk=claim.pk).update(month=semester.start_date)
    return claim


def class_cells(page, claim):
    row = page.split(f">{claim.code}</a>")[1].split("</tr>")[0]
    return [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]


def test_an_old_claim_shows_the_class_of_its_year(cast, login):
    old = last_years_claim(cast)
    new = submitted_claim(plan=claimable_plan(cast), by=cast.class_teacher)
    page = login(cast.coordinator).get(reverse("claim_list")).content.decode()
    assert class_cells(page, old)[1] == "6.a"
    assert class_cells(page, new)[1] == "7.a"  # this year's claim: this year's class


def test_the_export_gives_the_class_of_the_claims_year(cast, login):
    old = last_years_claim(cast)
    response = login(cast.coordinator).get(reverse("claim_list"), {"format": "csv"})
    text = response.content.decode("utf-8").lstrip("\ufeff")
    rows = {row[5]: row for row in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows[old.code][1] == "6.a"


def test_a_claim_of_a_year_without_a_class_shows_none(cast, login):
    old = last_years_claim(cast)
    cast.student.enrollments.filter(school_year=cast.last_year).delete()
    page = login(cast.coordinator).get(reverse("claim_list")).content.decode()
    assert class_cells(page, old)[1] == "—"
