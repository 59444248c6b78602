"""The aggregate report is kept for everyone and refreshed in the background when stale
(reports/snapshots.py); a school's own report is always live."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from reports import charts, snapshots
from reports.tests.test_reports import counted, pupils

DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "iap_report_cache",
}


def main_total(response):
    """The national total of the newest semester with plans, from the report's main table."""
    return [str(c) for row in response.context["main"].rows for c in row[1:]]


@pytest.fixture
def database_cache(settings):
    settings.CACHES = {**settings.CACHES, "reports": DATABASE_CACHE}
    caches["reports"].clear()
    return caches["reports"]


def test_the_report_is_kept_in_the_shared_database_cache(cast, login, database_cache):
    for student in pupils(cast, 4):
        counted(cast, student)
    client = login(cast.agency)
    first = client.get(reverse("participation_report"))
    assert "4" in main_total(first)
    # Kept in the database table, so every app server and worker reads the same figures.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM iap_report_cache")
        # every semester's pupils; this semester's breakdowns; the scope's charts in Latvian
        assert cursor.fetchone()[0] == 3
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = client.get(reverse("participation_report"))
    assert main_total(again) == main_total(first)
    assert not any("plans_supportplan" in q["sql"] for q in queries.captured_queries)


def test_a_stale_report_is_served_at_once_and_refreshed_in_the_background(cast, login):
    for student in pupils(cast, 4):
        counted(cast, student)
    client = login(cast.agency)
    client.get(reverse("participation_report"))  # computed and kept
    for student in pupils(cast, 3):
        counted(cast, student)
    # Fresh: the kept figures are shown and nothing is recomputed.
    with mock.patch("reports.snapshots.refresh_participation_report") as task:
        assert "4" in main_total(client.get(reverse("participation_report")))
        task.enqueue.assert_not_called()
    # Stale: still answered at once from what is kept, and one refresh is queued.
    later = timezone.now() + snapshots.FRESH_FOR + timedelta(seconds=1)
    with (
        mock.patch("reports.snapshots.timezone.now", return_value=later),
        mock.patch("reports.snapshots.refresh_participation_report") as task,
    ):
        assert "4" in main_total(client.get(reverse("participation_report")))
        client.get(reverse("participation_report"))
    assert task.enqueue.call_count == 1  # the second request found the refresh under way
    (call,) = task.enqueue.call_args_list
    # The worker computes the new figures; the next request shows them.
    from reports.snapshots import refresh_participation_report

    refresh_participation_report.call(**call.kwargs)
    assert "7" in main_total(client.get(reverse("participation_report")))


def test_a_schools_own_report_is_always_live(cast, login):
    counted(cast, cast.student)
    client = login(cast.coordinator)
    client.get(reverse("participation_report"))
    counted(cast, cast.other_student)
    assert "2" in main_total(client.get(reverse("participation_report")))


def test_only_aggregate_scopes_have_a_kept_report():
    assert snapshots.schools_for_scope("all") is None
    with pytest.raises(ValueError):
        snapshots.schools_for_scope("school-1")


def test_warming_computes_every_aggregate_report_nobody_has_opened_yet(cast, login, database_cache):
    """After ``warm_reports`` (deploy, daily cron) the agency's and a municipality's first
    request is served from the cache: no plan is counted in the request."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for student in pupils(cast, 3):
        counted(cast, student)
    out = StringIO()
    call_command("warm_reports", stdout=out)
    assert out.getvalue().startswith("Aggregate figures computed")
    # The country and both municipalities with a school, in Latvian and English.
    assert "charts of 6 scopes" in out.getvalue()
    client = login(cast.agency)
    # The charts were drawn by the command: the requests only read them.
    with mock.patch.object(charts, "participation_charts") as drawing:
        for scope in ("all", f"municipality-{cast.school.municipality_id}"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("participation_report"), {"scope": scope})
            assert response.status_code == 200
            assert "3" in main_total(response)
            assert 'id="chart-semesters"' in response.content.decode()
            assert not any("plans_supportplan" in q["sql"] for q in queries.captured_queries)
        # The English page is warm too.
        client.cookies.load({"django_language": "en"})
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("participation_report"), {"scope": "all"})
        assert response.wsgi_request.LANGUAGE_CODE == "en"
        assert not any("plans_supportplan" in q["sql"] for q in queries.captured_queries)
    assert drawing.call_count == 0
