"""The benchmark: server-side page timings, PDF speed and memory (the load test is bench/load.py).

Run it through ``make bench`` (national size) or ``make bench-small``; see bench/README.md.
It expects ``DATABASE_URL`` to point at a PostgreSQL database that
``python -m bench.generate_national_data`` has filled, and writes bench/results.md.
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iap_portal.settings")
# Timings as in production: no template debugging, no query log.
os.environ.setdefault("DJANGO_DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

# Importing the WSGI module does what a production server does at start: load every view, then
# freeze the startup objects out of the garbage collector's way (iap_portal/wsgi.py).
import iap_portal.wsgi  # noqa: E402, F401
from bench import national_data  # noqa: E402
from plans.models import PlanStatus, SupportPlan  # noqa: E402
from reports.list_exports import build_export  # noqa: E402
from reports.models import ExportJob  # noqa: E402
from students.models import ApprovalLevel, Municipality, School, Semester  # noqa: E402

TARGET_PAGE_MS = 100
TARGET_REPORT_MS = 300
TARGET_PDF_MS = 150
TARGET_BUNDLE_PER_S = 6


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(client, url, repeats, before=lambda: None):
    """(median ms, p95 ms, queries, status, p99 ms) of GETting url: a warm-up, then repeats
    (with 30 repeats the p99 is the slowest request: read it as the tail, not a percentile)."""
    before()
    response = client.get(url)
    queries = []
    before()
    with connection.execute_wrapper(
        lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
    ):
        response = client.get(url)
    times = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
    return (
        statistics.median(times),
        percentile(times, 0.95),
        len(queries),
        response.status_code,
        percentile(times, 0.99),
    )


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def cast():
    """The users and rows the benchmark looks at: school 1 is the largest school."""
    User = get_user_model()
    names = national_data.usernames(1)
    school = School.objects.get(registration_number=f"{national_data.MARKER}00001")
    semester = Semester.objects.current()
    plan = (
        SupportPlan.objects.filter(school=school, semester=semester, status=PlanStatus.IN_PROGRESS)
        .order_by("pk")
        .first()
    )
    # The class teacher of the grade with the most pupils this year.
    teacher = (
        User.objects.filter(username__startswith=names["teacher"](1)[:-2])
        .order_by("username")
        .first()
    )
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    # The city's municipal coordinator, with its backlog of plans waiting for approval.
    municipality = User.objects.get(
        username=f"bench-pasvaldiba{national_data.BACKLOG_MUNICIPALITY:02d}"
    )
    return {
        "school": school,
        "plan": plan,
        "municipality": municipality,
        "teacher": User.objects.get(username=names["teacher"](7)) if teacher else None,
        "coordinator": User.objects.get(username=names["coordinator"]),
        "social_pedagogue": User.objects.get(username=names["social_pedagogue"]),
        "agency": User.objects.get(username="bench-ikvd"),
        "admin": admin,
    }


def waiting_at_municipality():
    """The plans waiting for the city's approval (the municipal queue's row)."""
    return SupportPlan.objects.filter(
        status=PlanStatus.SUBMITTED,
        approval_level=ApprovalLevel.MUNICIPALITY,
        school__municipality__name=(
            f"{national_data.MARKER} novads {national_data.BACKLOG_MUNICIPALITY:02d}"
        ),
    ).count()


AFTER_WARM = "Report, agency, first request after warm_reports"
WARMED = []  # (figures s, charts s, scopes × languages drawn) of each warm_reports() below


def warm_medians():
    """(figures s, charts s, scopes × languages) of the warm_reports() runs, as medians."""
    return tuple(statistics.median(column) for column in zip(*WARMED, strict=True))


def warm_reports():
    """``manage.py warm_reports`` from an empty report cache — the country's figures, then
    every aggregate scope's charts in every language — in a process of its own, as cron runs
    it (its garbage is not this process's to collect)."""
    caches["reports"].clear()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "warm_reports"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # "Aggregate figures computed in 1.5 s (…); charts of 82 scopes drawn in 8.5 s."
    numbers = re.findall(r"in ([0-9.]+) s|of ([0-9]+) scopes", done)
    figures, drawn, drawing = (float(a or b) for a, b in numbers)
    WARMED.append((figures, drawing, drawn))


def city_scope():
    """The report scope of the city (municipality 02): the most schools side by side."""
    city = Municipality.objects.get(
        name=f"{national_data.MARKER} novads {national_data.BACKLOG_MUNICIPALITY:02d}"
    )
    return f"municipality-{city.pk}", School.objects.filter(municipality=city).count()


def page_timings(people, repeats):
    clients = {role: client_for(people[role]) for role in people if role not in {"school", "plan"}}
    school, plan = people["school"], people["plan"]
    report = reverse("participation_report")
    city, city_schools = city_scope()
    rows = [
        # (label, role, url, admin url to compare with, target ms)
        ("Home (class teacher)", "teacher", reverse("home"), None, TARGET_PAGE_MS),
        ("Home (agency: every school)", "agency", reverse("home"), None, TARGET_PAGE_MS),
        (
            "Pupil list",
            "coordinator",
            reverse("student_list"),
            "/admin/students/student/",
            TARGET_PAGE_MS,
        ),
        (
            "Plan list",
            "coordinator",
            reverse("plan_list"),
            "/admin/plans/supportplan/",
            TARGET_PAGE_MS,
        ),
        (
            "Plan page",
            "coordinator",
            reverse("plan_detail", args=[plan.pk]),
            f"/admin/plans/supportplan/{plan.pk}/change/",
            TARGET_PAGE_MS,
        ),
        ("Plan list (class teacher)", "teacher", reverse("plan_list"), None, TARGET_PAGE_MS),
        ("Approval queue", "coordinator", reverse("plan_queue"), None, TARGET_PAGE_MS),
        (
            f"Approval queue, municipality ({waiting_at_municipality():,} waiting)",
            "municipality",
            reverse("approval_queue"),
            None,
            TARGET_PAGE_MS,
        ),
        (
            "Waiting per municipality (agency)",
            "agency",
            reverse("approval_overview"),
            None,
            TARGET_PAGE_MS,
        ),
        (
            "Claim queue",
            "social_pedagogue",
            reverse("claim_queue"),
            "/admin/compensations/compensationclaim/",
            TARGET_PAGE_MS,
        ),
        (
            "Report, one school",
            "coordinator",
            f"{report}?scope=school-{school.pk}",
            None,
            TARGET_REPORT_MS,
        ),
        ("Report, agency (all schools)", "agency", f"{report}?scope=all", None, TARGET_REPORT_MS),
        (
            "Report, agency, computed (cold cache)",
            "agency",
            f"{report}?scope=all",
            None,
            TARGET_REPORT_MS,
        ),
        # Every request here follows a fresh warm_reports (the figures, then every scope's
        # charts): the first user after a deploy, a quiet day or a background refresh.
        (AFTER_WARM, "agency", f"{report}?scope=all", None, TARGET_REPORT_MS),
        (
            f"Report, the city with charts ({city_schools} schools side by side)",
            "municipality",
            f"{report}?scope={city}",
            None,
            TARGET_REPORT_MS,
        ),
        # Exports of the largest school. Above IAP_INLINE_XLSX_ROWS / IAP_INLINE_EXPORT_ROWS
        # rows the request only queues the job (answer 302); the worker's time is measured
        # by export_job_timings().
        (
            "Pupils CSV",
            "coordinator",
            reverse("student_list") + "?format=csv",
            None,
            TARGET_PAGE_MS,
        ),
        (
            "Pupils XLSX",
            "coordinator",
            reverse("student_list") + "?format=xlsx",
            None,
            TARGET_PAGE_MS,
        ),
        ("Plans CSV", "coordinator", reverse("plan_list") + "?format=csv", None, TARGET_PAGE_MS),
        (
            "Plans XLSX",
            "coordinator",
            reverse("plan_list") + "?format=xlsx",
            None,
            TARGET_PAGE_MS,
        ),
        (
            "Report XLSX, agency",
            "agency",
            f"{report}?scope=all&format=xlsx",
            None,
            TARGET_PAGE_MS,
        ),
    ]
    # Start from an empty report cache: a report kept by an earlier run would be stale and
    # queue a refresh, which changes the query count of the cached row.
    caches["reports"].clear()
    results = []
    for label, role, url, admin_url, target in rows:
        # The aggregate report is kept in the shared report cache (reports/snapshots.py);
        # "computed" empties that cache before each request.
        before = caches["reports"].clear if "computed" in label else lambda: None
        times = repeats
        if label == AFTER_WARM:  # a warm_reports before each request: a few requests only
            before, times = warm_reports, max(3, repeats // 10)
        median, p95, queries, status, p99 = timed(clients[role], url, times, before)
        row = {
            "page": label,
            "url": url,
            "median": median,
            "p95": p95,
            "p99": p99,
            "queries": queries,
            "status": status,
            "target": target,
        }
        if admin_url:
            a_median, a_p95, a_queries, a_status, _p99 = timed(clients["admin"], admin_url, repeats)
            row.update(admin_median=a_median, admin_p95=a_p95, admin_queries=a_queries)
            row["admin_status"] = a_status
        results.append(row)
        print(f"  {label:32} {median:7.1f} ms  p95 {p95:7.1f}  {queries:3} queries  {status}")
    if WARMED:
        figures, drawing, drawn = warm_medians()
        print(f"  warm_reports: figures {figures:.1f} s, charts of {drawn:.0f} {drawing:.1f} s")
    return results


def export_job_timings(people, repeats):
    """The task worker building the largest school's exports (what a request above the inline
    limits queues): median ms per job, rows. Leaves no job or file behind."""
    results = []
    for kind, fmt in (("plans", "xlsx"), ("plans", "csv"), ("pupils", "xlsx")):
        times, rows = [], 0
        for _ in range(repeats):
            job = ExportJob.objects.create(
                requested_by=people["coordinator"], kind=kind, format=fmt, params=""
            )
            started = time.perf_counter()
            build_export.call(job_id=str(job.public_id))
            times.append((time.perf_counter() - started) * 1000)
            job.refresh_from_db()
            rows = job.rows
            assert job.status == ExportJob.Status.DONE, job.error
            job.file.delete(save=False)
            job.delete()
        row = {"export": f"{kind} {fmt.upper()}", "rows": rows}
        row.update(median=statistics.median(times), p95=percentile(times, 0.95))
        results.append(row)
        print(f"  worker: {row['export']:12} {rows:6} rows {row['median']:7.1f} ms")
    # The requests timed above queued jobs nobody will run: drop them and their tasks.
    ExportJob.objects.filter(requested_by=people["coordinator"]).delete()
    DBTaskResult.objects.filter(task_path__endswith="build_export").delete()
    return results


def pdf_timings(people, repeats):
    client = client_for(people["coordinator"])
    url = reverse("plan_pdf", args=[people["plan"].public_id])
    median, p95, queries, status, _p99 = timed(client, url, repeats)
    print(f"  plan PDF {median:.1f} ms p95 {p95:.1f} ({queries} queries, {status})")
    return {"median": median, "p95": p95, "queries": queries, "status": status}


def bundle_run(plans):
    """Build a bundle of this many plans in a fresh worker process; its JSON report."""
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bundle_worker.py"), str(plans)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
        timeout=1800,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


# --- Report -----------------------------------------------------------------------------------


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM; Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {postgres}"
    )


def verdict(ok):
    return "yes" if ok else "**NO**"


def answered(status):
    return "" if status == 200 else f" (answered {status})"


def write_results(path, *, size, counts, pages, export_jobs, pdf, bundle, memory, repeats):
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"# Benchmark results — {size} data set",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- Data: {counts}",
        f"- Pages: Django test client, logged in, warmed; median, p95 and p99 of {repeats} "
        "requests each, server side (no network). Admin = the Django admin changelist (or "
        "change page) of the same model as a superuser, over all schools.",
        "",
        "| page | median ms | p95 ms | p99 ms | queries | admin median ms | admin queries | "
        "ours/admin | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in pages:
        admin = row.get("admin_median")
        ratio = f"{row['median'] / admin:.2f}" if admin else ""
        target = row["target"]
        met = ""
        if target:
            met = verdict(row["p95"] < target and (not admin or row["median"] <= admin))
        out.append(
            f"| {row['page']}{answered(row['status'])} | {row['median']:.1f} | "
            f"{row['p95']:.1f} | {row['p99']:.1f} | {row['queries']} | "
            f"{f'{admin:.1f}' if admin else ''} | {row.get('admin_queries', '')} | {ratio} | "
            f"{f'p95 < {target} ms' if target else ''} | {met} |"
        )
    if WARMED:
        figures, drawing, drawn = warm_medians()
        out += [
            "",
            f"`warm_reports` from an empty report cache (median of {len(WARMED)} runs): the "
            f"country's figures in {figures:.1f} s, then the charts of {drawn:.0f} scopes × "
            f"languages in {drawing:.1f} s.",
        ]
    out += [
        "",
        "A page answered 302 only queued its export: lists larger than "
        f"{settings.IAP_INLINE_XLSX_ROWS:,} rows (XLSX) or {settings.IAP_INLINE_EXPORT_ROWS:,} "
        "rows (CSV) are built by a task worker, timed below.",
        "",
        "## Exports built by a task worker",
        "",
        "| export (largest school) | rows | median ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    out += [
        f"| {job['export']} | {job['rows']:,} | {job['median']:.1f} | {job['p95']:.1f} |"
        for job in export_jobs
    ]
    out += [
        "",
        "## PDF",
        "",
        "| measure | value | target | met |",
        "|---|---:|---|---|",
        f"| one plan PDF, warm, median (p95) | {pdf['median']:.1f} ms ({pdf['p95']:.1f}) | "
        f"< {TARGET_PDF_MS} ms | {verdict(pdf['median'] < TARGET_PDF_MS)} |",
        f"| bundle of {bundle['plans']} plans, one worker | {bundle['per_second']:.2f} plans/s "
        f"({bundle['seconds']:.1f} s) | ≥ {TARGET_BUNDLE_PER_S}/s | "
        f"{verdict(bundle['per_second'] >= TARGET_BUNDLE_PER_S)} |",
        f"| worker peak RSS, {bundle['plans']}-plan bundle | {bundle['peak_rss_mb']:.0f} MB | | |",
    ]
    if memory:
        rss = memory["rss_mb"]
        growth = rss[-1] - rss[1] if len(rss) > 2 else 0
        out.append(
            f"| worker RSS across a {memory['plans']}-plan bundle (every "
            f"{memory['every']} plans) | {' → '.join(f'{r:.0f}' for r in rss)} MB; "
            f"{memory['per_second']:.2f} plans/s | flat | {verdict(growth < 50)} |"
        )
    # The "Load" section is bench/load.py's (make bench-load): kept as it is.
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if "\n## Load" in old:
        out += ["", old[old.index("\n## Load") + 1 :].rstrip("\n")]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"Written to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="national", choices=["national", "small"])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--bundle", type=int, default=200)
    parser.add_argument("--memory-plans", type=int, default=1000)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL.")
    if not national_data.existing_size():
        sys.exit("No generated data: run python -m bench.generate_national_data first.")
    schools, pupils = national_data.existing_size()
    counts = (
        f"{schools} schools, {pupils:,} pupils, {SupportPlan.objects.count():,} plans, "
        f"{_count('plans.Consultation'):,} consultations, "
        f"{_count('compensations.CompensationClaim'):,} claims"
    )
    print(counts)
    people = cast()
    print("Pages:")
    pages = page_timings(people, args.repeats)
    print("Exports on the task queue:")
    export_jobs = export_job_timings(people, max(5, args.repeats // 6))
    print("PDF:")
    pdf = pdf_timings(people, max(10, args.repeats // 2))
    bundle = bundle_run(args.bundle)
    print(f"  bundle {bundle}")
    memory = bundle_run(args.memory_plans) if args.memory_plans else None
    if memory:
        print(f"  memory {memory}")
    write_results(
        Path(args.output),
        size=args.size,
        counts=counts,
        pages=pages,
        export_jobs=export_jobs,
        pdf=pdf,
        bundle=bundle,
        memory=memory,
        repeats=args.repeats,
    )
    print(
        f"Peak RSS of the runner: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
    )


def _count(label):
    return apps.get_model(label).objects.count()


if __name__ == "__main__":
    main()
