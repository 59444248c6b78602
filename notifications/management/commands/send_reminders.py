"""The daily run (a systemd timer, deploy/systemd/iap-send-reminders.timer): reminders of
deadlines passed, once per item, kind, recipient and day however often it runs and on however
many machines; then the daily digests, the e-mails due for another try, and old notifications
deleted."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.hooks import reminders


class Command(BaseCommand):
    help = "Send today's deadline reminders and the daily digests (idempotent: run daily)."

    def handle(self, *args, **options):
        today = timezone.localdate()
        made = 0
        for _name, source in reminders.items():
            for reminder in source(today):
                with transaction.atomic():
                    made += len(
                        services.notify(
                            recipients=reminder.recipients,
                            kind=reminder.kind,
                            url=reminder.url,
                            item=reminder.item,
                            params=reminder.params,
                            day=today,
                            pupil_id=reminder.pupil_id,
                        )
                    )
        retried = services.retry_due_mail()
        digests = services.send_digests()
        purged = services.purge_old()
        if options["verbosity"] > 0:
            self.stdout.write(
                f"{made} reminder(s), {digests} digest(s), {retried} e-mail(s) retried, "
                f"{purged} old notification(s) deleted."
            )
