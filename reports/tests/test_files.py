"""Exports and bundles expire, follow current rights, and go with an anonymised pupil."""

import io
import os
from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from iap_portal.tests.test_permissions import cast_bundle, cast_export
from privacy.retention import anonymise
from reports.files import purge_files
from reports.models import ExportJob, PlanBundle
from students.models import Membership, Role, Student


def download(client, job):
    return client.get(reverse("export_download", args=[job.public_id]))


def test_a_queued_export_needs_the_roles_it_was_written_with(cast, login):
    """It was downloadable by its requester after they lost the role."""
    job = ExportJob.objects.get(pk=cast_export(cast).pk)
    assert job.status == ExportJob.Status.DONE
    client = login(cast.coordinator)
    assert download(client, job).status_code == 200
    # The coordinator becomes a class teacher.
    Membership.objects.filter(user=cast.coordinator).update(role=Role.CLASS_TEACHER)
    assert download(client, job).status_code == 404
    assert client.get(reverse("export_detail", args=[job.public_id])).status_code == 404


def test_exports_and_bundles_expire_after_the_days_set(cast, login, settings):
    settings.IAP_FILE_DAYS = 7
    job, bundle = cast_export(cast), cast_bundle(cast)
    client = login(cast.coordinator)
    bundle_url = reverse("bundle_download", args=[bundle.public_id, "pdf"])
    assert download(client, job).status_code == 200
    assert client.get(bundle_url).status_code == 200
    old = timezone.now() - timedelta(days=8)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=old)
    PlanBundle.objects.filter(pk=bundle.pk).update(finished_at=old)
    assert download(client, job).status_code == 404
    assert client.get(bundle_url).status_code == 404


def test_purge_files_deletes_expired_files_and_orphans(
    cast, settings, django_capture_on_commit_callbacks
):
    job, bundle = cast_export(cast), cast_bundle(cast)
    fresh = cast_export(cast)
    job, bundle, fresh = (
        ExportJob.objects.get(pk=job.pk),
        PlanBundle.objects.get(pk=bundle.pk),
        ExportJob.objects.get(pk=fresh.pk),
    )
    paths = [job.file.path, bundle.pdf.path, bundle.zip.path]
    orphan = os.path.join(settings.MEDIA_ROOT, "exports", "left-behind.csv")
    with open(orphan, "w") as handle:
        handle.write("Vārds\nElza\n")
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))
    old = timezone.now() - timedelta(days=settings.IAP_FILE_DAYS + 1)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=old)
    PlanBundle.objects.filter(pk=bundle.pk).update(finished_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_files() == (2, 1)
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not PlanBundle.objects.filter(pk=bundle.pk).exists()
    assert not any(os.path.exists(p) for p in paths + [orphan])
    assert os.path.exists(fresh.file.path)  # not expired: kept

    out = io.StringIO()
    call_command("purge_files", stdout=out)
    assert "Deleted 0 expired" in out.getvalue()


def test_anonymising_a_pupil_deletes_the_files_that_name_them(
    cast, django_capture_on_commit_callbacks
):
    job, bundle = cast_export(cast), cast_bundle(cast)
    job, bundle = ExportJob.objects.get(pk=job.pk), PlanBundle.objects.get(pk=bundle.pk)
    assert job.schools == [cast.school.pk]
    with django_capture_on_commit_callbacks(execute=True):
        anonymise(Student.objects.filter(pk=cast.student.pk))
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not PlanBundle.objects.filter(pk=bundle.pk).exists()
    assert not os.path.exists(job.file.path) and not os.path.exists(bundle.pdf.path)
