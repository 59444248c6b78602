from django.core.management.base import BaseCommand

from reports.files import purge_files


class Command(BaseCommand):
    help = (
        "Delete finished exports and plan bundles older than IAP_FILE_DAYS, and files in the "
        "private storage that no export or bundle names (run daily from cron)."
    )

    def handle(self, *args, **options):
        jobs, orphans = purge_files()
        self.stdout.write(f"Deleted {jobs} expired exports and bundles, {orphans} orphaned files.")
