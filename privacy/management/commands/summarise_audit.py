from django.conf import settings
from django.core.management.base import BaseCommand

from iap_portal.models import AuditEvent
from privacy.audit_summary import month_start, months_due, next_month, summarise_audit


class Command(BaseCommand):
    help = (
        "Fold the audit log's events older than IAP_AUDIT_RETENTION_DAYS days into counts per "
        "month, school and action, then delete them (run from cron; safe to run again or on "
        "two machines at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args, dry_run, **options):
        days = settings.IAP_AUDIT_RETENTION_DAYS
        if dry_run:
            for month in months_due():
                events = AuditEvent.objects.filter(
                    at__gte=month_start(month), at__lt=month_start(next_month(month))
                ).count()
                self.stdout.write(f"{month:%Y-%m}: {events} event(s) would be summarised")
            return
        done = summarise_audit()
        for month, events in done:
            self.stdout.write(f"{month:%Y-%m}: {events} event(s) summarised")
        total = sum(events for _month, events in done)
        self.stdout.write(
            self.style.SUCCESS(f"{total} event(s) older than {days} days summarised.")
        )
