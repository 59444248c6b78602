"""The aggregate participation report (municipality, agency), kept in a cache that every app
server and task worker shares (the ``reports`` cache: the database by default).

Above school level the figures are computed for the whole country at once — every
municipality and school — so that suppression hides the same figures in every scope and format
(reports/participation.py, iap_portal/suppression.py). That takes longer than a page should
(bench/README.md), and the figures change slowly and name nobody, so they are kept and served
to everyone, in every language (the labels are translated when a page is drawn):

- the pupil figures of every semester (one entry), and each semester's breakdowns (one entry
  per semester);
- once older than ``FRESH_FOR`` the next request still gets them at once while a task worker
  computes new ones (stale-while-revalidate), and the page offers "refresh now";
- only the first request after a quiet day waits for the queries, and ``manage.py
  warm_reports`` (deploy, cron) computes the default semester's ahead of it;
- each aggregate scope's charts are kept beside the snapshot (named by its time and the
  language); ``warm_reports`` and the background refresh draw them for every scope and
  language, so no request draws the country's small multiples.

A school's own report is always computed afresh, in the request, and exact.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone, translation
from django_tasks import task

from students.models import School, Semester

from . import charts, participation
from .participation import ALL

FRESH_FOR = timedelta(minutes=settings.IAP_REPORT_FRESH_MINUTES)
KEEP_FOR = 24 * 3600  # seconds; figures nobody opens for a day are computed afresh
REFRESH_LOCK_SECONDS = 120
PUPILS_KEY = "participation:v3:pupils"


def default_semester(semesters):
    """The semester a report shows unless another is asked for: the newest that has begun.
    ``semesters``: newest first."""
    today = timezone.localdate()
    return next((s for s in semesters if s.start_date <= today), None) or (
        semesters[0] if semesters else None
    )


@dataclass
class Snapshot:
    """The country's protected figures as of ``computed_at``."""

    computed_at: datetime
    directory: dict
    pupils: participation.Figures
    semester: participation.Figures | None

    @property
    def stale(self):
        return is_stale(self.computed_at)


def is_stale(computed_at):
    return timezone.now() - computed_at > FRESH_FOR


def _semester_key(semester_id):
    return f"participation:v3:semester:{semester_id or 0}"


def _refresh_lock_key(semester_id):
    """Held while the figures are recomputed, so only one worker or request does it."""
    return f"{_semester_key(semester_id)}:refreshing"


def _compute_pupils():
    directory = participation.school_directory()
    kept = (timezone.now(), directory, participation.national_pupil_figures(directory))
    caches["reports"].set(PUPILS_KEY, kept, KEEP_FOR)
    return kept


def _compute_semester(semester, directory):
    figures = participation.national_semester_figures(semester, directory) if semester else None
    kept = (timezone.now(), figures)
    caches["reports"].set(_semester_key(semester.pk if semester else None), kept, KEEP_FOR)
    return kept


def compute(semester):
    """Compute the country's figures (every semester's pupils, and ``semester``'s
    breakdowns) and keep them for everyone."""
    computed_at, directory, pupils = _compute_pupils()
    semester_at, figures = _compute_semester(semester, directory)
    return Snapshot(min(computed_at, semester_at), directory, pupils, figures)


def snapshot(semester, *, refresh_in_background=True):
    """The kept figures, computed here only the first time; when they are older than
    FRESH_FOR a task worker is asked to refresh them (once)."""
    cache = caches["reports"]
    kept = cache.get(PUPILS_KEY)
    if kept is None:
        kept = _compute_pupils()
    computed_at, directory, pupils = kept
    semester_id = semester.pk if semester else None
    kept_semester = cache.get(_semester_key(semester_id))
    if kept_semester is None:
        kept_semester = _compute_semester(semester, directory)
    semester_at, figures = kept_semester
    result = Snapshot(min(computed_at, semester_at), directory, pupils, figures)
    if (
        refresh_in_background
        and result.stale
        and cache.add(_refresh_lock_key(semester_id), True, REFRESH_LOCK_SECONDS)
    ):
        refresh_participation_report.enqueue(semester_id=semester_id)
    return result


def refresh_now(semester):
    """A user's "refresh": compute now, unless another user's refresh is under way (then the
    figures it computes are shown a moment later). Returns whether it computed."""
    # Its own lock: a refresh queued in the background may wait behind other tasks, and the
    # user asked for the figures now; two users asking at once compute them once.
    lock = f"{_refresh_lock_key(semester.pk if semester else None)}:now"
    cache = caches["reports"]
    if not cache.add(lock, True, REFRESH_LOCK_SECONDS):
        return False
    try:
        compute(semester)
    finally:
        cache.delete(lock)
    return True


def warm_semester():
    """The semester whose breakdowns a user opens first: the default one."""
    return default_semester(
        list(Semester.objects.select_related("school_year").order_by("-start_date"))
    )


def scope_charts(snap, scope_key, semester, main, tables):
    """An aggregate scope's charts, kept in the shared report cache beside the snapshot, so
    that every app server, and ``warm_charts`` ahead of them, draws them once."""
    return charts.cached_charts(
        charts.snapshot_key(scope_key, semester, snap.computed_at),
        main,
        tables,
        lambda: scope_parts(snap, scope_key),
        store=caches["reports"],
    )


def aggregate_scope_keys(snap):
    """The aggregate scopes of a snapshot: the country, then each municipality with a
    school."""
    municipalities = sorted({m_id for m_id, _m, _n in snap.directory.values()})
    return ["all", *(f"municipality-{m_id}" for m_id in municipalities)]


def warm_charts(snap, semester):
    """Draw every aggregate scope's charts of the snapshot in every language into the shared
    report cache (``manage.py warm_reports``, the background refresh): the first request
    after a deploy, a quiet day or a refresh finds them drawn. Returns how many scopes ×
    languages it drew."""
    drawn = 0
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for scope_key in aggregate_scope_keys(snap):
                main, _share, risks, tables = scope_tables(snap, scope_key, semester)
                scope_charts(snap, scope_key, semester, main, [risks, *tables])
                drawn += 1
    return drawn


def schools_for_scope(key):
    """The schools of an aggregate scope key ("all" or "municipality-<id>")."""
    if key == "all":
        return None
    return School.objects.filter(municipality_id=municipality_of_scope(key))


def municipality_of_scope(key):
    prefix = "municipality-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return int(key[len(prefix) :])
    raise ValueError(f"not an aggregate report scope: {key!r}")


def scope_tables(snap, key, semester):
    """The tables of one aggregate scope ("all" or "municipality-<id>"), read from the
    country's protected figures: (main, share, risk types per semester, tables)."""
    municipality_id = None if key == "all" else municipality_of_scope(key)
    unit = ALL if municipality_id is None else ("m", municipality_id)
    main = participation.semester_table(snap.pupils, unit)
    share = participation.share_table(snap.pupils, unit)
    risks = participation.risk_semester_table(snap.pupils, unit)
    tables = []
    if semester is not None and snap.semester is not None:
        per_school, per_municipality = participation.school_tables(
            snap.pupils, semester, snap.directory, municipality_id
        )
        if municipality_id is None:
            tables.append(per_municipality)
        tables.append(per_school)
        tables += participation.breakdown_tables(snap.pupils, snap.semester, semester, unit)
        tables.append(
            participation.fidelity_table(snap.semester, semester, snap.directory, municipality_id)
        )
    return main, share, risks, tables


def scope_parts(snap, key):
    """The small multiples of an aggregate scope: each municipality of the country, or each
    school of a municipality, with its pupils per semester (read from the protected figures,
    so a hidden count stays hidden): [(name, table)]."""
    directory = snap.directory
    if key == "all":
        names = {m_id: m_name for m_id, m_name, _n in directory.values()}
        units = [(("m", m_id), name) for m_id, name in names.items()]
    else:
        municipality_id = municipality_of_scope(key)
        units = [
            (("s", pk), name)
            for pk, (m_id, _m, name) in directory.items()
            if m_id == municipality_id
        ]
    return [
        (name, participation.semester_table(snap.pupils, unit))
        for unit, name in sorted(units, key=lambda pair: pair[1])
    ]


def school_tables(schools, semester):
    """A school's own report, exact: (main, share, risk types per semester, tables)."""
    pupils = participation.pupil_figures(schools)
    main = participation.semester_table(pupils)
    share = participation.share_table(pupils)
    risks = participation.risk_semester_table(pupils)
    tables = []
    if semester is not None:
        tables = participation.breakdown_tables(
            pupils, participation.semester_figures(schools, semester), semester
        )
    return main, share, risks, tables


@task()
def refresh_participation_report(semester_id: int | None = None, key: str = "", language: str = ""):
    """Recompute the figures that have grown stale (``snapshot`` asks). ``key`` and
    ``language`` are what tasks queued before the figures became national carried; they no
    longer matter."""
    try:
        semester = Semester.objects.filter(pk=semester_id).first() if semester_id else None
        warm_charts(compute(semester), semester)
    finally:
        caches["reports"].delete(_refresh_lock_key(semester_id))
