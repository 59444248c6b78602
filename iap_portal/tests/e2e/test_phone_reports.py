"""The report pages fit a phone: at 375 px wide the page itself never scrolls sideways (a wide
table scrolls inside its own frame)."""

import pytest
from django.utils import timezone

from conftest import build_cast
from plans.models import PlanStatus
from plans.tests.factories import ready_plan

from .helpers import PASSWORD, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 375, "height": 812}
# Each role's report pages, with a table each.
REPORTS = {
    "coordinator": [
        "/reports/participation/",
        "/reports/esf-indicators/",
        "/budgets/school/",
        "/reports/bundles/",
    ],
    "municipality": [
        "/reports/participation/",
        "/reports/esf-indicators/",
        "/budgets/",
        "/budgets/allocations/",
        "/approvals/waiting/",
    ],
    "agency": ["/reports/participation/", "/reports/esf-indicators/", "/budgets/"],
}


@pytest.fixture
def people():
    cast = build_cast()
    for user in cast.users.values():
        user.set_password(PASSWORD)
        user.save()
    for student in (cast.student, cast.other_student):
        ready_plan(
            student=student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
        )
    return cast


@pytest.mark.parametrize("username", sorted(REPORTS))
def test_report_tables_fit_a_phone(live_server, page, shots, people, username):
    log_in(page, live_server.url, username)
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in REPORTS[username]:
        page.goto(live_server.url + path)
        shots(page, f"{username}-{path.strip('/').replace('/', '-')}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}, f"wider than a 375px phone: {too_wide}"
