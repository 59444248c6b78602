import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.retention import ANONYMOUS, anonymise, due_for_anonymisation
from students.models import Student


class Command(BaseCommand):
    help = (
        "Anonymise pupils who left the school more than IAP_RETENTION_YEARS years ago "
        "(run from cron), or the pupils named with --pupil (an erasure request). Aggregate "
        "counts stay the same."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=settings.IAP_RETENTION_YEARS)
        parser.add_argument(
            "--pupil",
            action="append",
            default=[],
            metavar="PUBLIC_ID",
            help=(
                "Anonymise this pupil now, whenever they left (repeatable). The id is the one "
                "in the address of the pupil's data archive: /students/<id>/data/."
            ),
        )
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing.")

    def handle(self, *args, years, pupil, dry_run, **options):
        if pupil:
            try:
                ids = [uuid.UUID(value) for value in pupil]
            except ValueError as error:
                raise CommandError(f"Not a pupil's id: {error}") from error
            due = Student.objects.filter(public_id__in=ids).exclude(first_name=ANONYMOUS)
            unknown = len(set(ids)) - due.count()
            if unknown:
                self.stderr.write(f"{unknown} id(s) name no pupil, or one anonymised already.")
        else:
            due = due_for_anonymisation(years=years)
        due = due.select_related("school").order_by("left_on", "pk")
        for student in due:
            left = f"left {student.left_on:%d.%m.%Y}" if student.left_on else "still learning"
            self.stdout.write(f"{student.school} · #{student.pk} · {left}")
        if dry_run:
            self.stdout.write(f"{due.count()} pupil(s) would be anonymised (dry run).")
            return
        count = anonymise(due)
        self.stdout.write(self.style.SUCCESS(f"{count} pupil(s) anonymised."))
