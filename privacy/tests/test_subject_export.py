import io
import json
import zipfile

from django.urls import reverse
from django.utils import timezone

from compensations.tests.factories import submitted_claim, transport_measure
from plans.models import PlanStatus
from plans.tests.factories import ready_plan


def test_the_archive_holds_everything_about_the_pupil(cast, login):
    cast.student.personas_kods = "32867300679"
    cast.student.save()
    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    transport_measure(plan)
    claim = submitted_claim(plan=plan, by=cast.class_teacher)
    response = login(cast.coordinator).get(
        reverse("student_data_export", args=[cast.student.public_id])
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    record = json.loads(archive.read("pupil.json"))
    assert record["pupil"]["personas_kods"] == "32867300679"  # the subject gets it unmasked
    assert [p["code"] for p in record["plans"]] == [plan.code]
    assert record["plans"][0]["risks"][0]["justification"]
    assert [c["code"] for c in record["claims"]] == [claim.code]
    receipt = claim.receipts.get()
    assert f"receipts/{receipt.public_id}" in names
    assert f"plans/{plan.code.replace('/', '-')}.pdf" in names
    # Another pupil's plan is not in it.
    assert cast.other_student.last_name not in archive.read("pupil.json").decode()
