"""The aggregate participation report (municipality, agency), kept in a cache that every app
server and task worker shares (the ``reports`` cache: the database by default).

Above school level the report sums up to every school of the country, which takes longer than a
page should (bench/README.md). Those figures change slowly and name nobody, so a computed report
is kept and served to everyone; once it is older than ``FRESH_FOR`` the next request still gets
it at once while a task worker computes a new one (stale-while-revalidate). Only the first
request for a scope and semester ever waits for the queries, and ``manage.py warm_reports``
(deploy, daily cron) computes the default semester's ahead of it. A school's own report is
always computed afresh, in the request.
"""

from datetime import timedelta

from django.core.cache import caches
from django.utils import timezone, translation
from django_tasks import task

from students.models import Municipality, School, Semester

from . import participation

FRESH_FOR = timedelta(minutes=5)
KEEP_FOR = 24 * 3600  # seconds; a scope nobody opens for a day is computed afresh
REFRESH_LOCK_SECONDS = 120


def default_semester(semesters):
    """The semester a report shows unless another is asked for: the newest that has begun.
    ``semesters``: newest first."""
    today = timezone.localdate()
    return next((s for s in semesters if s.start_date <= today), None) or (
        semesters[0] if semesters else None
    )


def warm(languages):
    """Compute every aggregate report a user opens first — all schools and each municipality,
    for the default semester — so that nobody waits for one after a deploy or a quiet day
    (``manage.py warm_reports``). Returns the number computed."""
    semester = default_semester(
        list(Semester.objects.select_related("school_year").order_by("-start_date"))
    )
    keys = ["all"] + [
        f"municipality-{pk}"
        for pk in Municipality.objects.filter(schools__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    for key in keys:
        for language in languages:
            compute(key, semester.pk if semester else None, language, semester)
    return len(keys) * len(languages)


def report_tables(key, schools, semester, aggregate):
    main = participation.participation_by_semester(schools, suppress=aggregate)
    share = participation.flagged_plan_share(schools, suppress=aggregate)
    tables = []
    if semester is not None:
        if aggregate:
            per_school, per_municipality = participation.participation_by_school(
                schools, semester, suppress=True
            )
            if key == "all":
                tables.append(per_municipality)
            tables.append(per_school)
        tables += participation.semester_breakdowns(schools, semester, suppress=aggregate)
    return main, share, tables


def schools_for_scope(key):
    """The schools of an aggregate scope key ("all" or "municipality-<id>")."""
    if key == "all":
        return None
    prefix = "municipality-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return School.objects.filter(municipality_id=int(key[len(prefix) :]))
    raise ValueError(f"not an aggregate report scope: {key!r}")


def _cache_key(key, semester_id, language):
    return f"participation:{key}:{semester_id or 0}:{language}"


def _refresh_lock_key(key, semester_id, language):
    """Held while a task worker recomputes the report, so only one is asked to."""
    return f"{_cache_key(key, semester_id, language)}:refreshing"


def compute(key, semester_id, language, semester=None):
    """Compute one aggregate report and keep it for everyone."""
    with translation.override(language):
        if semester is None and semester_id:
            semester = Semester.objects.filter(pk=semester_id).first()
        tables = report_tables(key, schools_for_scope(key), semester, True)
        caches["reports"].set(
            _cache_key(key, semester_id, language), (timezone.now(), tables), KEEP_FOR
        )
    return tables


def aggregate_tables(key, semester):
    """The aggregate report's tables: kept ones when there are, refreshed in the background
    when they are older than FRESH_FOR; computed here only the first time."""
    language = translation.get_language()
    semester_id = semester.pk if semester else None
    cache_key = _cache_key(key, semester_id, language)
    cache = caches["reports"]
    kept = cache.get(cache_key)
    if kept is None:
        return compute(key, semester_id, language, semester)
    computed_at, tables = kept
    if timezone.now() - computed_at > FRESH_FOR and cache.add(
        _refresh_lock_key(key, semester_id, language), True, REFRESH_LOCK_SECONDS
    ):
        refresh_participation_report.enqueue(key=key, semester_id=semester_id, language=language)
    return tables


@task()
def refresh_participation_report(key: str, semester_id: int | None, language: str):
    """Recompute an aggregate report that has grown stale (``aggregate_tables`` asks)."""
    try:
        compute(key, semester_id, language)
    finally:
        caches["reports"].delete(_refresh_lock_key(key, semester_id, language))
