"""One worker process building a plan bundle of N plans (run by bench/run.py).

The same code path as the task (``reports.tasks.write_bundle``), on the first N counted plans
of the generated data (across schools when one school has fewer). Prints one JSON line: time,
plans per second, peak RSS and the RSS every N/10 plans (to see whether memory stays flat).
"""

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402

from iap_portal.pdf import render_pdf  # noqa: E402
from plans.models import SupportPlan  # noqa: E402
from reports import participation  # noqa: E402
from reports.models import PlanBundle  # noqa: E402
from reports.tasks import write_bundle  # noqa: E402
from students.models import School  # noqa: E402


def rss_mb():
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    plans = int(sys.argv[1])
    schools = School.objects.filter(registration_number__startswith="BENCH")
    ids = list(
        participation.counted_plans(schools)
        .order_by("school_id", "-semester__start_date", "pk")
        .values_list("pk", flat=True)[:plans]
    )
    first = SupportPlan.objects.select_related("school", "semester").get(pk=ids[0])
    user = get_user_model().objects.get(username="bench-ikvd")
    # A warm worker: the stylesheet and fonts are parsed once per process, before the clock.
    render_pdf(
        "reports/plans_pdf.html",
        {"plans": [], "generated_by": "", "generated_at": timezone.localtime()},
    )
    samples = [rss_mb()]
    every = max(1, len(ids) // 10)

    def progress(number):
        if number % every == 0:
            samples.append(rss_mb())

    with tempfile.TemporaryDirectory() as media:
        settings.MEDIA_ROOT = media
        bundle = PlanBundle.objects.create(
            school=first.school, semester=first.semester, requested_by=user, total=len(ids)
        )
        try:
            started = time.perf_counter()
            write_bundle(bundle, ids, progress=progress)
            seconds = time.perf_counter() - started
        finally:
            bundle.delete()
    print(
        json.dumps(
            {
                "plans": len(ids),
                "seconds": seconds,
                "per_second": len(ids) / seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_mb": samples,
                "every": every,
            }
        )
    )


if __name__ == "__main__":
    main()
