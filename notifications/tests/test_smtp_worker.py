"""The mail server refusing, with the real queue (django-tasks-db) and real workers: the
e-mail goes back on the queue for later, the worker is not stuck on it, and a later worker
sends it once the server answers again. PostgreSQL, as in production."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.models import MailState, Notification

from .helpers import in_language

ROOT = Path(__file__).resolve().parents[2]


def worker(env, **extra):
    process = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--interval", "0.1"],
        cwd=ROOT,
        env={**env, **extra},
        capture_output=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr.decode()[-2000:]
    return process.stdout.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_refusing_smtp_server_is_retried_later_by_the_queue(cast_tx, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the workers share the queue through PostgreSQL")
    from django_tasks_db.models import DBTaskResult  # an installed app's models: after setup

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    cast = cast_tx
    in_language(cast.coordinator, "en")
    (row,) = services.notify(
        recipients=[cast.coordinator],
        kind="plan_submitted",
        url="/plans/1/",
        item="plan:1",
        params={"code": "IAP-1-2026/27-I-001"},
    )
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IAP_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    env.pop("EMAIL_HOST", None)
    # Nothing listens on port 1: the connection is refused.
    worker(env, EMAIL_HOST="127.0.0.1", EMAIL_PORT="1", EMAIL_USE_TLS="0")
    row.refresh_from_db()
    assert (row.mail_state, row.mail_attempts) == (MailState.PENDING, 1)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after > timezone.now()  # not before its delay: the worker moved on
    assert abs((retry.run_after - row.mail_next_at).total_seconds()) < 1

    # The delay passed; the mail server answers (the console backend prints the e-mail).
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - timedelta(1))
    Notification.objects.filter(pk=row.pk).update(mail_next_at=timezone.now() - timedelta(1))
    printed = worker(env)
    assert "IAP-1-2026/27-I-001 was submitted and waits for your approval" in printed
    row.refresh_from_db()
    assert row.mail_state == MailState.SENT
    assert DBTaskResult.objects.filter(status="READY").count() == 0
