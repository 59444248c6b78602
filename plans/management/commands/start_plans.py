from django.core.management.base import BaseCommand

from plans.services import start_plans


class Command(BaseCommand):
    help = 'Move approved plans whose semester has begun to "in progress" (run daily from cron).'

    def handle(self, *args, **options):
        started = start_plans()
        self.stdout.write(f"{started} plan(s) moved to in progress.")
