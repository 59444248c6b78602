"""Crash recovery for the task queue: leases, a reaper and retries around django-tasks-db.

django-tasks-db's worker takes only READY rows (``DBTaskResult.objects.ready()``), marks one
RUNNING and runs it; nothing in it ever looks at a RUNNING row again. A worker killed in the
middle (SIGKILL, the OOM killer, a machine switched off) leaves its task RUNNING for ever, and
the user's page spins. So (``manage.py db_worker`` is this module's worker):

- A worker holds a lease on the task it runs (``TaskLease``); a keeper thread renews it every
  third of ``IAP_TASK_LEASE_SECONDS``.
- The same thread, in every worker, takes back the tasks whose lease ran out (and RUNNING tasks
  with no lease that started longer than a lease ago): READY again, so the next free worker
  runs them. A dead worker's task is taken over within one lease plus one poll interval.
- A task runs at most ``IAP_TASK_MAX_ATTEMPTS`` times: after a failure (an exception, or its
  worker died) it runs again after a growing pause (``IAP_TASK_RETRY_SECONDS``, doubled each
  time); after the last, it is failed and its give-up handler (``on_give_up``) tells the job.
- A worker outlives a database outage: it waits and carries on, rather than exiting.

Why not another queue: RQ needs Redis, procrastinate a second PostgreSQL layer and a new way
to write tasks; the queue we have is in the database the app already backs up, and what it
lacked is these hundred lines.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks.base import TaskContext
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, TaskResultStatus

from .models import TaskLease

logger = logging.getLogger(__name__)

# The task's module path → handler(kwargs of the task, reason): marks the task's job failed
# when the task is given up without having run to its end (its worker died the last time).
GIVE_UP_HANDLERS = {}


class WorkerLost(Exception):
    """The worker running the task stopped (its lease ran out) before the task ended."""


def on_give_up(task):
    def register(handler):
        GIVE_UP_HANDLERS[task.module_path] = handler
        return handler

    return register


def lease_length() -> timedelta:
    return timedelta(seconds=settings.IAP_TASK_LEASE_SECONDS)


def will_retry(context: TaskContext) -> bool:
    """Whether a failure of this attempt will be run again (the database queue retries; the
    immediate backend of tests and development does not)."""
    backend = context.task_result.task.get_backend()
    return isinstance(backend, DatabaseBackend) and context.attempt < settings.IAP_TASK_MAX_ATTEMPTS


def holds_lease(context: TaskContext) -> bool:
    """Whether this attempt still holds its task (a worker that stalled past its lease may
    wake after another took the task over: it must not finish the job as well). Call it in
    the transaction that finishes the job; it locks the lease until then."""
    if not isinstance(context.task_result.task.get_backend(), DatabaseBackend):
        return True
    return (
        TaskLease.objects.select_for_update()
        .filter(
            task_id=context.task_result.id,
            worker_id=context.task_result.worker_ids[-1],
            expires_at__gt=timezone.now(),
        )
        .exists()
    )


def take_lease(result: DBTaskResult, worker_id: str) -> None:
    TaskLease.objects.update_or_create(
        task_id=result.pk,
        defaults={"worker_id": worker_id, "expires_at": timezone.now() + lease_length()},
    )


def renew_lease(task_id, worker_id: str) -> bool:
    return bool(
        TaskLease.objects.filter(task_id=task_id, worker_id=worker_id).update(
            expires_at=timezone.now() + lease_length()
        )
    )


def _give_up(result: DBTaskResult, reason: str) -> None:
    try:
        handler = GIVE_UP_HANDLERS.get(result.task.module_path)
    except ImportError:
        handler = None
    if handler is not None:
        handler(result.args_kwargs["kwargs"], reason)


def reclaim_lost_tasks(now=None) -> tuple[int, int]:
    """Take back the running tasks whose worker died: READY again, or failed after their last
    attempt. Returns (requeued, failed)."""
    now = now or timezone.now()
    expired = TaskLease.objects.filter(expires_at__lt=now).values("task_id")
    unleased = ~Q(pk__in=TaskLease.objects.values("task_id")) & Q(
        started_at__lt=now - lease_length()
    )
    requeued = failed = 0
    with transaction.atomic():
        lost = (
            DBTaskResult.objects.running()
            .filter(Q(pk__in=expired) | unleased)
            .select_for_update(skip_locked=True)
        )
        for result in lost:
            TaskLease.objects.filter(task_id=result.pk).delete()
            attempts = len(result.worker_ids)
            if attempts >= settings.IAP_TASK_MAX_ATTEMPTS:
                reason = f"The worker running it stopped ({attempts} attempts)."
                result.set_failed(WorkerLost(reason))
                _give_up(result, reason)
                failed += 1
                logger.error(
                    "Task %s given up: its worker stopped, %s attempts", result.pk, attempts
                )
            else:
                result.status = TaskResultStatus.READY
                result.save(update_fields=["status"])
                requeued += 1
                logger.warning("Task %s taken back from a worker that stopped", result.pk)
    return requeued, failed


class Keeper(threading.Thread):
    """Renews the lease of the task in hand and takes back lost tasks, every third of a
    lease, beside the worker's main loop."""

    def __init__(self, worker_id: str):
        super().__init__(name="task-lease-keeper", daemon=True)
        self.worker_id = worker_id
        self.task_id = None
        self.stopped = threading.Event()

    def run(self):
        period = settings.IAP_TASK_LEASE_SECONDS / 3
        while not self.stopped.is_set():
            try:
                close_old_connections()
                if self.task_id is not None and not renew_lease(self.task_id, self.worker_id):
                    logger.warning("Task %s: the lease was lost", self.task_id)
                reclaim_lost_tasks()
            except DatabaseError:
                logger.warning("The task lease keeper could not reach the database", exc_info=True)
                connection.close()
            self.stopped.wait(period)
        connection.close()


class LeasingWorker(Worker):
    def run(self) -> None:
        keeper = Keeper(self.worker_id)
        keeper.start()
        self.keeper = keeper
        try:
            while True:
                try:
                    return super().run()
                except DatabaseError:
                    # PostgreSQL restarting, or the network between: wait, then carry on.
                    logger.warning("The task worker cannot reach the database", exc_info=True)
                    connection.close()
                    time.sleep(max(self.interval, 1))
        finally:
            keeper.stopped.set()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        take_lease(db_task_result, self.worker_id)
        self.keeper.task_id = db_task_result.pk
        try:
            super().run_task(db_task_result)
        finally:
            self.keeper.task_id = None
        attempts = len(db_task_result.worker_ids)
        if (
            db_task_result.status == TaskResultStatus.FAILED
            and attempts < settings.IAP_TASK_MAX_ATTEMPTS
        ):
            pause = settings.IAP_TASK_RETRY_SECONDS * 2 ** (attempts - 1)
            db_task_result.status = TaskResultStatus.READY
            db_task_result.run_after = timezone.now() + timedelta(seconds=pause)
            db_task_result.save(update_fields=["status", "run_after"])
            logger.warning(
                "Task %s failed (attempt %s); again in %ss", db_task_result.pk, attempts, pause
            )
        TaskLease.objects.filter(task_id=db_task_result.pk, worker_id=self.worker_id).delete()
