"""Fill the database with a national-size data set for the benchmark (see bench/README.md):
``python -m bench.generate_national_data [--small | --tiny] [--seed N]``.

A management command that no app installs (the benchmark stays outside the app layers); it
runs as a module, or through ``call_command(Command(), …)``."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import BaseCommand, CommandError  # noqa: E402
from django.db import connection  # noqa: E402

from . import national_data  # noqa: E402


class Command(BaseCommand):
    help = (
        "Generate municipalities, schools, pupils, plans, consultations and claims for the "
        "benchmark (bulk inserts). Does nothing when the same size is already there."
    )

    def add_arguments(self, parser):
        sizes = parser.add_mutually_exclusive_group()
        sizes.add_argument("--small", action="store_const", const="small", dest="size")
        sizes.add_argument("--tiny", action="store_const", const="tiny", dest="size")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, size=None, seed=1, **options):
        if settings.PRODUCTION:
            raise CommandError("generate_national_data refuses to run with IAP_ENV=production.")
        name = size or "national"
        wanted = national_data.SIZES[name]
        existing = national_data.existing_size()
        if existing == (wanted.schools, wanted.pupils):
            self.stdout.write(f"The {name} data set is already there; nothing to do.")
            return
        if existing:
            raise CommandError(
                f"This database already holds a generated data set of {existing[0]} schools and "
                f"{existing[1]} pupils; use a fresh database for the {name} size."
            )
        started = time.monotonic()
        counts = national_data.generate(
            wanted, seed=seed, log=lambda message: self.stdout.write(message)
        )
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility maps, so the planner knows the tables are large and
            # index-only scans work from the first page (VACUUM cannot run in a transaction,
            # as in a test).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        elapsed = time.monotonic() - started
        for model, count in counts.items():
            self.stdout.write(f"{model:>20}: {count:>9,}")
        self.stdout.write(self.style.SUCCESS(f"The {name} data set was built in {elapsed:.0f} s."))


if __name__ == "__main__":
    call_command(Command(), *sys.argv[1:])
