from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from iap_portal.charts import stylesheet

TARGET = Path(settings.BASE_DIR) / "static" / "css" / "charts.css"


class Command(BaseCommand):
    help = "Write static/css/charts.css: the charts' colours and fonts, from pygal's styles."

    def handle(self, *args, **options):
        TARGET.write_text(stylesheet(), encoding="utf-8")
        self.stdout.write(f"Wrote {TARGET}")
