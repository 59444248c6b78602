import time

from django.core.management.base import BaseCommand

from reports import snapshots


class Command(BaseCommand):
    help = (
        "Compute the aggregate participation figures (the country, each municipality and "
        "school, every semester's pupils and the current semester's breakdowns, protected "
        "together) into the shared report cache, so that no user waits for them. Run at "
        "deploy and from cron."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        snap = snapshots.warm()
        hidden = len(snap.pupils.hidden) + len(snap.semester.hidden if snap.semester else ())
        self.stdout.write(
            f"Aggregate figures computed in {time.monotonic() - started:.1f} s ({hidden} hidden)."
        )
