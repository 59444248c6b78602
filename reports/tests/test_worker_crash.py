"""A task worker that dies in the middle of a job (issue 22, "Faults survived"): the job is
taken over by another worker, finishes once, and its page says what happens."""

import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from plans.models import PlanStatus
from plans.tests.factories import ready_plan
from reports.models import PlanBundle, TaskLease
from reports.tasks import build_bundle
from reports.worker import LeasingWorker, reclaim_lost_tasks
from students.models import Semester
from students.tests.factories import StudentFactory, enrol

ROOT = Path(__file__).resolve().parents[2]
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def worker(cls=LeasingWorker, **options):
    """A worker run in the test's thread: it runs what is ready, then stops."""
    defaults = {
        "queue_names": ["default"],
        "interval": 0,
        "batch": True,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": None,
        "worker_id": "test-worker",
        "excluded_queue_names": [],
    }
    return cls(**{**defaults, **options})


def plans(cast, n):
    semester = Semester.objects.current()
    for _ in range(n):
        student = StudentFactory(school=cast.school)
        enrol(student, cast.class_group)
        ready_plan(
            student=student,
            preparer=cast.class_teacher,
            responsible=cast.specialist,
            status=PlanStatus.IN_PROGRESS,
            first_approved_at=timezone.now(),
            semester=semester,
        )


def queued_bundle(cast):
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=Semester.objects.current(), requested_by=cast.coordinator
    )
    build_bundle.enqueue(bundle_id=str(bundle.public_id))
    return bundle


def die_after_claiming(worker_id="killed-worker"):
    """What a worker killed with SIGKILL right after taking a task leaves: the row RUNNING
    (django-tasks-db's own claim), and no one to end it."""
    result = DBTaskResult.objects.ready().get_locked()
    result.claim(worker_id)
    return result


@pytest.fixture
def database_queue(settings, monkeypatch):
    settings.TASKS = DATABASE_QUEUE
    # A worker run inside the test's transaction must not close its connection as it would
    # between tasks (on PostgreSQL, the connection in a transaction counts as obsolete).
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def test_db_worker_is_the_worker_with_leases():
    """`manage.py db_worker` (deploy/systemd/iap-worker@.service, make run) runs this app's
    command, not django-tasks-db's of the same name."""
    assert get_commands()["db_worker"] == "reports"


def test_it_shows_that_the_librarys_worker_never_takes_back_a_dead_workers_task(
    cast, database_queue
):
    """The defect: django-tasks-db's worker takes READY rows only, so the dead worker's
    RUNNING row (and the user's bundle) stays as it is, however long one waits."""
    plans(cast, 1)
    bundle = queued_bundle(cast)
    result = die_after_claiming()
    result.started_at = timezone.now() - timedelta(days=1)
    result.save(update_fields=["started_at"])
    worker(Worker).run()  # the library's worker, as `db_worker` was: it finds nothing to do
    result.refresh_from_db()
    bundle.refresh_from_db()
    assert result.status == "RUNNING" and bundle.status == PlanBundle.Status.PENDING
    worker().run()  # ours takes it back (no lease, started a day ago) and runs it
    # (the keeper thread reaps within a third of a lease; do it now rather than wait)
    reclaim_lost_tasks()
    worker().run()
    result.refresh_from_db()
    bundle.refresh_from_db()
    assert result.status == "SUCCESSFUL" and bundle.status == PlanBundle.Status.DONE
    assert result.worker_ids == ["killed-worker", "test-worker"]


def test_it_takes_back_a_task_whose_lease_ran_out_and_not_one_still_held(cast, database_queue):
    plans(cast, 1)
    queued_bundle(cast)
    result = die_after_claiming()
    TaskLease.objects.create(
        task=result, worker_id="killed-worker", expires_at=timezone.now() + timedelta(seconds=30)
    )
    assert reclaim_lost_tasks() == (0, 0)  # the lease is still good: the worker may be alive
    assert reclaim_lost_tasks(now=timezone.now() + timedelta(seconds=31)) == (1, 0)
    result.refresh_from_db()
    assert result.status == "READY" and not TaskLease.objects.exists()


def test_a_task_whose_worker_died_every_time_is_failed_and_the_page_says_so(
    cast, database_queue, settings, login
):
    settings.IAP_TASK_MAX_ATTEMPTS = 2
    plans(cast, 1)
    bundle = queued_bundle(cast)
    later = timezone.now() + timedelta(minutes=5)
    for attempt in (1, 2):
        die_after_claiming(f"killed-{attempt}")
        requeued_failed = reclaim_lost_tasks(now=later)
        later += timedelta(minutes=5)
    assert requeued_failed == (0, 1)
    result = DBTaskResult.objects.get()
    bundle.refresh_from_db()
    assert result.status == "FAILED" and "WorkerLost" in result.exception_class_path
    assert bundle.status == PlanBundle.Status.FAILED and bundle.finished_at
    page = login(cast.coordinator).get(reverse("bundle_detail", args=[bundle.public_id]))
    assert "Apkopojumu neizdevās sagatavot" in page.content.decode()


def test_a_task_that_raises_is_tried_again_then_failed_with_a_message(
    cast, database_queue, settings, login, monkeypatch
):
    settings.IAP_TASK_MAX_ATTEMPTS = 3
    settings.IAP_TASK_RETRY_SECONDS = 0
    plans(cast, 1)
    bundle = queued_bundle(cast)

    def broken(*args, **kwargs):
        raise RuntimeError("WeasyPrint ran out of fonts")

    monkeypatch.setattr("reports.tasks.render_plan_pdf", broken)
    client = login(cast.coordinator)
    url = reverse("bundle_detail", args=[bundle.public_id])
    worker(max_tasks=1).run()  # one attempt
    bundle.refresh_from_db()
    assert (bundle.status, bundle.attempts) == (PlanBundle.Status.RUNNING, 1)
    assert "Mēģinājums nr. 1 neizdevās" in client.get(url).content.decode()
    assert DBTaskResult.objects.get().status == "READY"  # again, after the pause
    worker().run()  # the two attempts left
    bundle.refresh_from_db()
    result = DBTaskResult.objects.get()
    assert (result.status, len(result.worker_ids)) == ("FAILED", 3)
    assert bundle.status == PlanBundle.Status.FAILED
    assert bundle.error == "RuntimeError: WeasyPrint ran out of fonts"
    page = client.get(url).content.decode()
    assert "Apkopojumu neizdevās sagatavot" in page and "Mēģināts 3 reizes" in page


def test_a_worker_that_lost_its_lease_does_not_finish_the_bundle_too(
    cast, database_queue, monkeypatch
):
    """A worker that stalled past its lease (another took the task over) wakes and finishes:
    it must not mark the bundle done as well, nor leave its copy of the files."""
    plans(cast, 1)
    bundle = queued_bundle(cast)
    monkeypatch.setattr("reports.tasks.holds_lease", lambda context: False)
    worker().run()
    bundle.refresh_from_db()
    assert bundle.status == PlanBundle.Status.RUNNING and not bundle.zip and not bundle.pdf
    assert not list((Path(bundle.zip.storage.location) / "bundles").iterdir())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bundle_whose_worker_is_killed_is_finished_by_another_worker(
    cast_tx, private_media, login, database_queue
):
    """The real thing: a `manage.py db_worker` process killed with SIGKILL while it writes a
    bundle; a second worker takes the bundle over within a lease, finishes it once, and the
    coordinator downloads whole files."""
    if connection.vendor != "postgresql":
        pytest.skip("worker processes share the queue through PostgreSQL (SQLite: one file)")
    plans(cast_tx, 12)
    bundle = PlanBundle.objects.create(
        school=cast_tx.school, semester=Semester.objects.current(), requested_by=cast_tx.coordinator
    )
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    lease = 3
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IAP_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "IAP_PRIVATE_MEDIA_ROOT": str(private_media),
        "IAP_TASK_LEASE_SECONDS": str(lease),
        "DJANGO_DEBUG": "0",
    }

    def start(worker_id):
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"]
            + ["--worker-id", worker_id, "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    build_bundle.enqueue(bundle_id=str(bundle.public_id))
    first = start("first")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            bundle.refresh_from_db()
            if bundle.done >= 1:
                break
            time.sleep(0.02)
        assert 1 <= bundle.done < bundle.total, "the first worker should be in the middle"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        result = DBTaskResult.objects.get()
        assert result.status == "RUNNING"
        second = start("second")
        try:
            taken_over = None
            while time.monotonic() < killed_at + 60:
                result.refresh_from_db()
                if taken_over is None and len(result.worker_ids) == 2:
                    taken_over = time.monotonic() - killed_at
                if result.status in {"SUCCESSFUL", "FAILED"}:
                    break
                time.sleep(0.05)
            finished = time.monotonic() - killed_at
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    print(f"taken over {taken_over:.1f} s after the kill, done after {finished:.1f} s")
    assert result.status == "SUCCESSFUL" and result.worker_ids == ["first", "second"]
    # Within a lease, a third of a lease (the keeper's period) and the poll interval, and some
    # start-up of the second worker (Django, WeasyPrint).
    assert taken_over < lease + lease / 3 + 0.2 + 5
    bundle.refresh_from_db()
    assert (bundle.status, bundle.done, bundle.attempts) == (PlanBundle.Status.DONE, 12, 2)
    assert not TaskLease.objects.exists()
    stored = sorted(p.name for p in (private_media / "bundles").iterdir())
    assert stored == sorted([f"{bundle.public_id}.pdf", f"{bundle.public_id}.zip"])
    with zipfile.ZipFile(private_media / bundle.zip.name) as archive:
        assert archive.testzip() is None and len(archive.namelist()) == 12
    assert len(PdfReader(private_media / bundle.pdf.name, strict=True).outline) == 12
    client = login(cast_tx.coordinator)
    page = client.get(reverse("bundle_detail", args=[bundle.public_id])).content.decode()
    assert "Lejupielādēt PDF" in page and "Mēģinājums nr. 2" not in page
