import time

from django.core.management.base import BaseCommand

from reports import snapshots


class Command(BaseCommand):
    help = (
        "Compute the aggregate participation figures (the country, each municipality and "
        "school, every semester's pupils and the current semester's breakdowns, protected "
        "together) and every aggregate scope's charts in every language into the shared "
        "report cache, so that no user waits for them. Run at deploy and from cron."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        semester = snapshots.warm_semester()
        snap = snapshots.compute(semester)
        hidden = len(snap.pupils.hidden) + len(snap.semester.hidden if snap.semester else ())
        computed = time.monotonic()
        drawn = snapshots.warm_charts(snap, semester)
        self.stdout.write(
            f"Aggregate figures computed in {computed - started:.1f} s ({hidden} hidden); "
            f"charts of {drawn} scopes drawn in {time.monotonic() - computed:.1f} s."
        )
