"""Files that expire and follow current rights: queued exports and plan bundles.

- A finished export or bundle is downloadable for ``IAP_FILE_DAYS`` days (7), then
  ``manage.py purge_files`` (daily, from cron) deletes it, and any file in the private
  storage's ``exports/`` and ``bundles/`` folders that no row names any more.
- An export is downloadable only while its requester still holds every role they held when
  it was written (``ExportJob.rights``): a coordinator who became a class teacher gets 404.
  A bundle is the school's coordinators' (``views._bundles``), so it follows the role anyway.
- Anonymising a pupil deletes the bundles and exports that may name them
  (``delete_files_naming``, called by ``privacy.retention``).
"""

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from students.models import Membership

from .models import ExportJob, PlanBundle

logger = logging.getLogger(__name__)
FOLDERS = ("exports", "bundles")


def current_rights(user) -> list:
    return sorted(
        [role, school, municipality]
        for role, school, municipality in Membership.objects.filter(user=user).values_list(
            "role", "school_id", "municipality_id"
        )
    )


def still_entitled(job: ExportJob, user) -> bool:
    held = {tuple(r) for r in current_rights(user)}
    return all(tuple(r) in held for r in job.rights)


def expiry_cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=settings.IAP_FILE_DAYS)


def has_expired(job, now=None) -> bool:
    return job.finished_at is not None and job.finished_at < expiry_cutoff(now)


def _delete_stored(names):
    storage = ExportJob._meta.get_field("file").storage
    for name in names:
        if name:
            transaction.on_commit(lambda name=name: storage.delete(name))


def _delete_jobs(exports, bundles) -> int:
    exports, bundles = list(exports), list(bundles)
    _delete_stored([e.file.name for e in exports])
    _delete_stored([n for b in bundles for n in (b.pdf.name, b.zip.name)])
    ExportJob.objects.filter(pk__in=[e.pk for e in exports]).delete()
    PlanBundle.objects.filter(pk__in=[b.pk for b in bundles]).delete()
    return len(exports) + len(bundles)


@transaction.atomic
def purge_files(now=None) -> tuple[int, int]:
    """Delete finished exports and bundles past their days, and orphaned files. Returns
    (jobs deleted, orphaned files deleted)."""
    cutoff = expiry_cutoff(now)
    jobs = _delete_jobs(
        ExportJob.objects.filter(finished_at__lt=cutoff),
        PlanBundle.objects.filter(finished_at__lt=cutoff),
    )
    named = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    for pdf, zipped in PlanBundle.objects.values_list("pdf", "zip"):
        named.update(n for n in (pdf, zipped) if n)
    storage = ExportJob._meta.get_field("file").storage
    settled = (now or timezone.now()) - timedelta(days=1)
    orphans = 0
    for folder in FOLDERS:
        if not storage.exists(folder):
            continue
        for name in storage.listdir(folder)[1]:
            path = os.path.join(folder, name)
            # A file younger than a day may belong to a job being written right now.
            if path not in named and storage.get_modified_time(path) < settled:
                storage.delete(path)
                orphans += 1
    return jobs, orphans


def delete_files_naming(students) -> int:
    """Delete the bundles and exports that may name these pupils: the bundles of their plans'
    schools and semesters, and the exports that hold rows of their schools."""
    plans = list(
        students.model.objects.filter(pk__in=students.values("pk"))
        .values_list("plans__school_id", "plans__semester_id", "school_id")
        .distinct()
    )
    bundles = PlanBundle.objects.none()
    for school, semester, _own in plans:
        if school and semester:
            bundles = bundles | PlanBundle.objects.filter(school_id=school, semester_id=semester)
    schools = {school for _s, _sem, school in plans} | {s for s, _sem, _o in plans if s}
    exports = [
        job
        for job in ExportJob.objects.exclude(file="")
        if not job.schools or set(job.schools) & schools
    ]
    return _delete_jobs(exports, bundles)
