from django.conf import settings
from django.core.management.base import BaseCommand

from privacy.retention import anonymise, due_for_anonymisation


class Command(BaseCommand):
    help = (
        "Anonymise pupils who left the school more than IAP_RETENTION_YEARS years ago "
        "(run from cron). Aggregate counts stay the same."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=settings.IAP_RETENTION_YEARS)
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing.")

    def handle(self, *args, years, dry_run, **options):
        due = due_for_anonymisation(years=years).select_related("school").order_by("left_on")
        for student in due:
            self.stdout.write(f"{student.school} · #{student.pk} · left {student.left_on:%d.%m.%Y}")
        if dry_run:
            self.stdout.write(f"{due.count()} pupil(s) would be anonymised (dry run).")
            return
        count = anonymise(due)
        self.stdout.write(self.style.SUCCESS(f"{count} pupil(s) anonymised."))
