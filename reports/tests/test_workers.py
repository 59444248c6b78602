"""Task workers on several machines share one queue in PostgreSQL and never take the same job
(the database backend claims work with SELECT … FOR UPDATE SKIP LOCKED)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils.module_loading import import_string
from django_tasks.base import Task

from reports.models import PlanBundle
from reports.tasks import build_bundle
from students.models import Semester

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_drain_one_queue_without_duplicates(cast_tx, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite has one writer anyway")
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    semester = Semester.objects.current()
    bundles = [
        PlanBundle.objects.create(
            school=cast_tx.school, semester=semester, requested_by=cast_tx.coordinator
        )
        for _ in range(12)
    ]
    for bundle in bundles:
        build_bundle.enqueue(bundle_id=str(bundle.public_id))
    assert DBTaskResult.objects.count() == 12

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IAP_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()[-2000:]

    results = list(DBTaskResult.objects.all())
    assert all(r.status == "SUCCESSFUL" for r in results)
    assert all(len(r.worker_ids) == 1 for r in results)  # each job ran exactly once
    assert PlanBundle.objects.filter(status=PlanBundle.Status.DONE).count() == 12


@pytest.mark.parametrize(
    ("old_path", "task_name"),
    [
        ("reports.tasks.build_export", "build_export"),
        ("reports.tasks.refresh_participation_report", "refresh_participation_report"),
    ],
)
def test_a_task_queued_under_its_old_path_still_runs(old_path, task_name):
    """A queue filled before the tasks moved names them by the old path (django-tasks-db
    imports the task by that path when a worker takes it)."""
    task = import_string(old_path)
    assert isinstance(task, Task) and task.name == task_name
