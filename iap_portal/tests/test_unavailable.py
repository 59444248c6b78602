from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import reverse

from iap_portal.views import server_error


def test_an_unreachable_database_gives_a_friendly_503(cast, client, monkeypatch):
    client.force_login(cast.coordinator)
    client.raise_request_exception = False

    def refuse(self):
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as patch:
        # Every query fails, from the session lookup on: as when PostgreSQL is down.
        patch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
        patch.setattr(BaseDatabaseWrapper, "cursor", lambda self: refuse(self))
        response = client.get(reverse("student_list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Pakalpojums īslaicīgi nav pieejams" in response.content.decode()
    # When the database is back, work resumes.
    assert client.get(reverse("student_list")).status_code == 200


def test_the_503_page_needs_no_database(monkeypatch):
    from iap_portal.views import unavailable_response

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", lambda self: 1 / 0)
    response = unavailable_response()
    assert response.status_code == 503


def test_the_drivers_own_error_gives_the_503_page_too(rf):
    """Django lets psycopg2's OperationalError through unwrapped when PostgreSQL goes away while
    rows are fetched in chunks (a form's choices): seen in the restart test
    (test_database_restart.py) as one 500 in a few hundred answers."""
    try:
        raise connection.Database.OperationalError("server closed the connection unexpectedly")
    except connection.Database.OperationalError:
        response = server_error(rf.get("/plans/"))
    assert response.status_code == 503


def test_other_errors_stay_500(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/plans/"))
    assert response.status_code == 500
