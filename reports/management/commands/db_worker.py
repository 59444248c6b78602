"""django-tasks-db's ``db_worker``, with leases, a reaper and retries (``reports.worker``).

The same command and options as the library's, so the deploy files and habits stay; this app
stands before ``django_tasks_db`` in INSTALLED_APPS, so its command is the one that runs."""

from django_tasks_db.management.commands import db_worker

from reports.worker import LeasingWorker


class Command(db_worker.Command):
    help = "Run a task worker (database queue) that takes over the tasks of workers that died"

    def handle(self, *args, **options):
        # The library's handle builds its Worker by name from its own module.
        original, db_worker.Worker = db_worker.Worker, LeasingWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
