import time

from django.conf import settings
from django.core.management.base import BaseCommand

from reports import snapshots


class Command(BaseCommand):
    help = (
        "Compute the aggregate participation reports (all schools and each municipality, the "
        "current semester, every language) into the shared report cache, so that no user waits "
        "for one. Run at deploy and daily from cron."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        count = snapshots.warm([code for code, _name in settings.LANGUAGES])
        self.stdout.write(
            f"{count} aggregate report(s) computed in {time.monotonic() - started:.1f} s."
        )
